/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_malloc.h>

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

struct lc_filter_prog *
lc_filter_compile(const char *expr, uint32_t snaplen, char *err, size_t errlen)
{
	struct lc_filter_prog *prog;
	pcap_t *dead;

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

struct lc_filter *
lc_filter_create(const struct lc_filter_prog *prog, const struct lc_filter_ops *engine,
		 int socket)
{
	struct lc_filter *f;

	f = rte_zmalloc_socket("lc_filter", sizeof(*f), RTE_CACHE_LINE_SIZE, socket);
	if (f == NULL)
		goto nomem;
	f->scratch = rte_malloc_socket("lc_filter_scratch", LC_FILTER_MAX_FRAME,
				       RTE_CACHE_LINE_SIZE, socket);
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
	rte_free(f->scratch);
	rte_free(f);
}
