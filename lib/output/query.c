/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linecap/manifest.h"
#include "linecap/query.h"
#include "query_priv.h"

/* --- verdicts, cached by what the program sees of a flow --- */

struct verdict_slot {
	struct lc_query_flow_sig sig;
	uint8_t used;
	uint8_t verdict;
};

static uint64_t
sig_hash(const struct lc_query_flow_sig *s)
{
	const uint8_t *p = (const uint8_t *)s;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(*s); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

void
lc_query_flow_sig(const struct lc_index_flow *f, struct lc_query_flow_sig *s)
{
	memset(s, 0, sizeof(*s));	/* padding too: signatures are compared as bytes */
	s->ethertype = f->key.ethertype;
	s->nvlan = f->key.nvlan;
	s->flags = f->key.flags;
	memcpy(s->tpid, f->key.tpid, sizeof(s->tpid));
	memcpy(s->vid, f->key.vid, sizeof(s->vid));
	s->proto = f->key.proto;
	s->ihl = f->key.ihl;
	s->sport = f->key.sport;
	s->dport = f->key.dport;
	memcpy(s->src, f->key.src, sizeof(s->src));
	memcpy(s->dst, f->key.dst, sizeof(s->dst));
	s->tcp_flags = f->key.flags & LC_FLOW_TCPFL ? f->tcp_flags : 0;
}

static int
cache_grow(struct lc_query_judge *j)
{
	size_t cap = j->cap ? 2 * j->cap : 1024;
	struct verdict_slot *t = calloc(cap, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < j->cap; i++) {
		const struct verdict_slot *o = &((struct verdict_slot *)j->slots)[i];
		size_t k;

		if (!o->used)
			continue;
		for (k = sig_hash(&o->sig) & (cap - 1); t[k].used; k = (k + 1) & (cap - 1))
			;
		t[k] = *o;
	}
	free(j->slots);
	j->slots = t;
	j->cap = cap;
	return 0;
}

enum lc_verdict
lc_query_judge(struct lc_query_judge *j, const struct lc_index_flow *f)
{
	struct lc_query_flow_sig sig;
	struct lc_partial p;
	struct verdict_slot *t;
	enum lc_verdict v;
	size_t k;

	if (j->insns == NULL)
		return LC_VERDICT_ALWAYS;
	lc_query_flow_sig(f, &sig);
	if ((j->n + 1) * 2 > j->cap && cache_grow(j) < 0) {
		lc_index_flow_bytes(f, &p);	/* no room to remember: judge it each time */
		return lc_filter_3v(j->insns, j->ninsns, &p);
	}
	t = j->slots;
	for (k = sig_hash(&sig) & (j->cap - 1); t[k].used; k = (k + 1) & (j->cap - 1))
		if (memcmp(&t[k].sig, &sig, sizeof(sig)) == 0)
			return (enum lc_verdict)t[k].verdict;
	lc_index_flow_bytes(f, &p);
	v = lc_filter_3v(j->insns, j->ninsns, &p);
	t[k].sig = sig;
	t[k].used = 1;
	t[k].verdict = (uint8_t)v;
	j->n++;
	j->judged++;
	return v;
}

void
lc_query_judge_free(struct lc_query_judge *j)
{
	free(j->slots);
	j->slots = NULL;
	j->cap = j->n = 0;
}

/* --- a file's index --- */

struct lc_index *
lc_query_open_index(const char *path, int fd, lc_query_warn_fn warn, void *arg)
{
	char dir[PATH_MAX], base[NAME_MAX + 1], name[NAME_MAX + 8], err[PATH_MAX + 600];
	const char *slash = strrchr(path, '/');
	struct lc_index *ix;
	struct stat st;
	int dfd, ifd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path ? slash - path : 1), path);
	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : path);
	if (snprintf(name, sizeof(name), "%s" LC_INDEX_EXT, base) >= (int)sizeof(name))
		return NULL;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	/* Never through a link, only a regular file with one link: the directory may be
	 * someone else's. */
	ifd = lc_manifest_open_file(dfd, name, O_RDONLY, err, sizeof(err));
	close(dfd);
	if (ifd < 0) {
		if (ifd != -ENOENT && warn != NULL)
			warn(arg, err);
		return NULL;
	}
	ix = lc_index_open_fd(ifd, name, err, sizeof(err));
	if (ix == NULL) {
		if (warn != NULL)
			warn(arg, err);
		return NULL;
	}
	/* The index describes a file of its size: one that grew or was cut is read whole. */
	if ((fd >= 0 ? fstat(fd, &st) : stat(path, &st)) != 0 ||
	    (uint64_t)st.st_size != lc_index_info(ix)->file_bytes) {
		if (warn != NULL) {
			snprintf(err, sizeof(err), "%s: describes a file of %llu bytes, not this one: "
				 "read whole", name,
				 (unsigned long long)lc_index_info(ix)->file_bytes);
			warn(arg, err);
		}
		lc_index_close(ix);
		return NULL;
	}
	return ix;
}

int
lc_query_in_window(const struct lc_query_opts *o, uint64_t first_ns, uint64_t last_ns)
{
	return !(o->start_ns && last_ns < o->start_ns) && !(o->end_ns && first_ns >= o->end_ns);
}

/* --- the plan --- */

struct offsets {
	uint64_t *v;
	uint64_t n, cap;
};

static int
offsets_room(struct offsets *a, uint64_t more)
{
	uint64_t cap = a->cap ? a->cap : 1024;
	uint64_t *v;

	if (a->n + more <= a->cap)
		return 0;
	while (cap < a->n + more)
		cap *= 2;
	v = realloc(a->v, cap * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	a->v = v;
	a->cap = cap;
	return 0;
}

static int
by_offset(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The records to read of one indexed file into a (sorted). 0, -ENOMEM, or -EINVAL with the
 * reason in err (a flow's positions are not valid). */
static int
plan_file(const struct lc_query_opts *o, struct lc_query_judge *j, struct lc_index *ix,
	  struct offsets *a, struct lc_query_stats *st, char *err, size_t errlen)
{
	uint32_t nf;
	const struct lc_index_flow *fl = lc_index_flows(ix, &nf);
	int rc;

	for (uint32_t i = 0; i < nf; i++) {
		const struct lc_index_flow *f = &fl[i];

		st->flows++;
		if (f->packets == 0)
			continue;
		if (!lc_query_in_window(o, f->first_ns, f->last_ns)) {
			st->flows_outside++;
			continue;
		}
		if (lc_query_judge(j, f) == LC_VERDICT_NEVER) {
			st->flows_never++;
			continue;
		}
		if ((rc = offsets_room(a, f->packets)) < 0)
			return rc;
		rc = lc_index_positions(ix, f, a->v + a->n, err, errlen);
		if (rc < 0)
			return rc;
		a->n += f->packets;
	}
	qsort(a->v, a->n, sizeof(*a->v), by_offset);
	/* A record is one flow's: the same offset twice is a bad index, read once. */
	if (a->n > 1) {
		uint64_t m = 1;

		for (uint64_t k = 1; k < a->n; k++)
			if (a->v[k] != a->v[m - 1])
				a->v[m++] = a->v[k];
		a->n = m;
	}
	return 0;
}

static const uint64_t nothing[1];

int
lc_query_plan(const struct lc_query_opts *o, const char *const *paths, const int *fds,
	      unsigned int n, struct lc_merge_select *sel, struct lc_query_stats *st,
	      lc_query_warn_fn warn, void *arg)
{
	struct lc_query_judge j = { .insns = o->insns, .ninsns = o->ninsns };
	char err[PATH_MAX + 600];
	int rc = 0;

	memset(st, 0, sizeof(*st));
	memset(sel, 0, n * sizeof(*sel));
	st->files = n;
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		struct lc_index *ix = o->no_index ? NULL :
			lc_query_open_index(paths[i], fds ? fds[i] : -1, warn, arg);
		const struct lc_index_info *info;
		struct offsets a = { 0 };

		if (ix == NULL) {
			st->whole++;
			continue;
		}
		st->indexed++;
		info = lc_index_info(ix);
		if (info->packets == 0 || !lc_query_in_window(o, info->first_ns, info->last_ns)) {
			sel[i].offsets = nothing;	/* nothing of it is wanted */
			st->skipped++;
			lc_index_close(ix);
			continue;
		}
		rc = plan_file(o, &j, ix, &a, st, err, sizeof(err));
		lc_index_close(ix);
		if (rc == -EINVAL) {	/* a bad index: the file is read whole */
			if (warn != NULL)
				warn(arg, err);
			free(a.v);
			st->indexed--;
			st->whole++;
			rc = 0;
			continue;
		}
		if (rc == 0 && a.n == 0) {
			free(a.v);
			sel[i].offsets = nothing;
			st->skipped++;
			continue;
		}
		sel[i].offsets = a.v;
		sel[i].n = a.n;
		st->records += a.n;
	}
	st->flows_judged = j.judged;
	lc_query_judge_free(&j);
	return rc;
}

void
lc_query_plan_free(struct lc_merge_select *sel, unsigned int n)
{
	for (unsigned int i = 0; sel != NULL && i < n; i++)
		if (sel[i].offsets != nothing)
			free((void *)sel[i].offsets);
}
