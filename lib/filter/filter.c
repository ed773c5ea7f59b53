/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <strings.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numa.h>
#include <pcap/pcap.h>

#include "linecap/filter.h"
#include "filter_engines.h"

struct lc_filter_prog {
	char *expr;
	struct bpf_program bpf;
};

static const struct lc_filter_ops *const engines[] = {
#if defined(__x86_64__)
	&lc_filter_jit_ops,
#endif
	&lc_filter_interp_ops,
};

unsigned int
lc_filter_count_ops(const char *expr)
{
	unsigned int n = 0;

	for (const char *p = expr; *p; p++) {
		int start = p == expr || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');

		if ((p[0] == '&' && p[1] == '&') || (p[0] == '|' && p[1] == '|')) {
			n++;
			p++;
		} else if (start && (strncasecmp(p, "and", 3) == 0 || strncasecmp(p, "or", 2) == 0)) {
			size_t len = (p[0] == 'a' || p[0] == 'A') ? 3 : 2;

			if (!isalnum((unsigned char)p[len]) && p[len] != '_') {
				n++;
				p += len - 1;
			}
		}
	}
	return n;
}

struct lc_filter_prog *
lc_filter_compile(const char *expr, uint32_t snaplen, char *err, size_t errlen)
{
	struct lc_filter_prog *prog;
	unsigned int ops = lc_filter_count_ops(expr);
	pcap_t *dead;

	/* libpcap's optimizer grows much faster than the expression (600 or-ed hosts take 11 s
	 * here, 3000 several minutes): a filter that would hang the start is refused. */
	if (ops > LC_FILTER_MAX_OPS || strlen(expr) > LC_FILTER_MAX_LEN) {
		snprintf(err, errlen, "filter: %u and/or operators and %zu characters: at most %u "
			 "and %u (libpcap's optimizer takes minutes on more; use net ranges, or "
			 "fewer hosts)", ops, strlen(expr), LC_FILTER_MAX_OPS, LC_FILTER_MAX_LEN);
		errno = E2BIG;
		return NULL;
	}

	prog = calloc(1, sizeof(*prog));
	if (prog == NULL || (prog->expr = strdup(expr)) == NULL) {
		free(prog);
		snprintf(err, errlen, "filter '%s': out of memory", expr);
		errno = ENOMEM;
		return NULL;
	}
	dead = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (dead == NULL) {
		snprintf(err, errlen, "filter '%s': cannot create a libpcap handle", expr);
		lc_filter_prog_free(prog);
		errno = ENOMEM;
		return NULL;
	}
	/* Netmask 0, as tcpdump uses offline, so "ip broadcast" means the same thing. */
	if (pcap_compile(dead, &prog->bpf, expr, 1, 0) != 0) {
		snprintf(err, errlen, "filter '%s': %s", expr, pcap_geterr(dead));
		pcap_close(dead);
		free(prog->expr);
		free(prog);
		errno = EINVAL;
		return NULL;
	}
	pcap_close(dead);
	return prog;
}

void
lc_filter_prog_free(struct lc_filter_prog *prog)
{
	if (prog == NULL)
		return;
	pcap_freecode(&prog->bpf);
	free(prog->expr);
	free(prog);
}

const char *
lc_filter_prog_expr(const struct lc_filter_prog *prog)
{
	return prog->expr;
}

const struct bpf_insn *
lc_filter_prog_insns(const struct lc_filter_prog *prog, unsigned int *len)
{
	*len = prog->bpf.bf_len;
	return prog->bpf.bf_insns;
}

int
lc_filter_prog_live_only(const struct lc_filter_prog *prog)
{
	const struct bpf_insn *p = prog->bpf.bf_insns;

	for (unsigned int i = 0; i < prog->bpf.bf_len; i++)
		if ((BPF_CLASS(p[i].code) == BPF_LD || BPF_CLASS(p[i].code) == BPF_LDX) &&
		    (BPF_MODE(p[i].code) == BPF_ABS || BPF_MODE(p[i].code) == BPF_IND) &&
		    p[i].k >= 0xfffff000u)	/* Linux's ancillary offsets (SKF_AD_OFF) */
			return 1;
	return 0;
}

const struct lc_filter_ops *
lc_filter_engine(const char *name)
{
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		if (strcmp(engines[i]->name, name) == 0)
			return engines[i];
	return NULL;
}

const char *
lc_filter_default_engine(void)
{
	return engines[0]->name;
}

/*
 * Memory for an instance, on its RX core's node when there is one. Plain process memory,
 * not DPDK's: a filter can be built and checked before EAL starts (and without it, -d).
 */
static void *
node_alloc(size_t size, int socket)
{
	void *p;

	if (socket >= 0 && numa_available() >= 0)
		p = numa_alloc_onnode(size, socket);
	else
		p = numa_available() >= 0 ? numa_alloc(size) : NULL;
	if (p == NULL && posix_memalign(&p, 4096, size) != 0)
		p = NULL;
	if (p != NULL)
		memset(p, 0, size);
	return p;
}

static void
node_free(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (numa_available() >= 0)
		numa_free(p, size);
	else
		free(p);
}

struct lc_filter *
lc_filter_create(const struct lc_filter_prog *prog, const struct lc_filter_ops *engine,
		 int socket)
{
	struct lc_filter *f;

	f = node_alloc(sizeof(*f), socket);
	if (f == NULL)
		goto nomem;
	f->scratch = node_alloc(LC_FILTER_MAX_FRAME, socket);
	if (f->scratch == NULL)
		goto nomem;
	f->ops = engine;
	f->state = engine->create(prog->bpf.bf_insns, prog->bpf.bf_len, socket);
	if (f->state == NULL) {
		int e = errno;

		lc_filter_free(f);
		errno = e;
		return NULL;
	}
	f->run = engine->entry != NULL ? engine->entry(f->state) : engine->run;
	f->burst = engine->burst_entry != NULL ? engine->burst_entry(f->state) : NULL;
	return f;
nomem:
	lc_filter_free(f);
	errno = ENOMEM;
	return NULL;
}

void
lc_filter_free(struct lc_filter *f)
{
	if (f == NULL)
		return;
	if (f->state != NULL)
		f->ops->destroy((void *)(uintptr_t)f->state);
	node_free(f->scratch, LC_FILTER_MAX_FRAME);
	node_free(f, sizeof(*f));
}

const char *
lc_filter_engine_name(const struct lc_filter *f)
{
	return f->ops->name;
}

size_t
lc_filter_code(const struct lc_filter *f, const uint8_t **code)
{
	*code = NULL;
	return f->ops->code != NULL ? f->ops->code(f->state, code) : 0;
}

int
lc_filter_prepare(const char *expr, uint32_t snaplen, const char *engine_name,
		  struct lc_filter_prog **prog, const struct lc_filter_ops **engine, char *err,
		  size_t errlen)
{
	struct lc_filter *check;
	int rc;

	*prog = NULL;
	*engine = lc_filter_engine(engine_name ? engine_name : lc_filter_default_engine());
	if (*engine == NULL) {
		snprintf(err, errlen, "--filter-engine %s: unknown engine (one of:%s interp)",
			 engine_name, engines[0] != &lc_filter_interp_ops ? " jit," : "");
		return -EINVAL;
	}
	*prog = lc_filter_compile(expr, snaplen, err, errlen);
	if (*prog == NULL)
		return -errno;
	check = lc_filter_create(*prog, *engine, -1);
	if (check == NULL) {
		rc = -errno;
		snprintf(err, errlen, "filter '%s': engine %s cannot run it: %s", expr,
			 (*engine)->name, strerror(errno));
		goto fail;
	}
	rc = lc_filter_selfcheck(*prog, check, err, errlen);
	lc_filter_free(check);
	if (rc == 0)
		return 0;
fail:
	lc_filter_prog_free(*prog);
	*prog = NULL;
	return rc;
}

int
lc_filter_read_file(const char *path, char **expr, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	size_t cap = 4096, len = 0;
	int c, in_comment = 0, rc = 0;
	char *s;

	*expr = NULL;
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "-F %s: %s", path, strerror(errno));
		return rc;
	}
	s = malloc(cap);
	while (s != NULL && (c = fgetc(f)) != EOF) {
		if (c == '#')
			in_comment = 1;
		if (c == '\n' || c == '\r') {
			in_comment = 0;
			c = ' ';
		}
		if (in_comment)
			continue;
		if (len + 2 > cap) {
			char *t = len + 2 > (1u << 20) ? NULL : realloc(s, cap *= 2);

			if (t == NULL) {
				free(s);
				s = NULL;
				rc = -EFBIG;
				break;
			}
			s = t;
		}
		s[len++] = (char)c;
	}
	if (rc == 0 && ferror(f))
		rc = -EIO;
	fclose(f);
	if (s == NULL || rc < 0) {
		free(s);
		snprintf(err, errlen, "-F %s: %s", path, rc == -EFBIG ? "larger than 1 MiB" :
			 rc ? strerror(-rc) : "out of memory");
		return rc ? rc : -ENOMEM;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	s[len] = '\0';
	size_t lead = strspn(s, " \t");
	memmove(s, s + lead, len - lead + 1);
	*expr = s;
	return 0;
}

void
lc_filter_dump(FILE *out, const struct lc_filter_prog *prog, const struct lc_filter *f,
	       int level)
{
	const uint8_t *code;
	size_t n = lc_filter_code(f, &code);

	for (unsigned int i = 0; i < prog->bpf.bf_len; i++)
		fprintf(out, "%s\n", bpf_image(&prog->bpf.bf_insns[i], (int)i));
	if (n == 0) {
		fprintf(out, "; engine %s: %u instructions, no machine code\n", f->ops->name,
			prog->bpf.bf_len);
		return;
	}
	fprintf(out, "; engine %s: %zu bytes of x86-64 machine code for %u instructions\n",
		f->ops->name, n, prog->bpf.bf_len);
	for (size_t i = 0; level >= 2 && i < n; i++)
		fprintf(out, "%02x%s", code[i], (i % 16 == 15 || i + 1 == n) ? "\n" : " ");
}
