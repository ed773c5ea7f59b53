/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

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
	memset(s, 0, sizeof(*s));	/* the padding too: signatures are compared as bytes */
	memcpy(&s->key, &f->key, sizeof(s->key));	/* the reader zeroes what a key lacks */
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

/* --- a file's index, checked against its manifest record --- */

struct dir_record {
	char sha[65];
	uint64_t bytes;
};

/* The manifest line of a file that names its index: the last one counts (a repair's). */
static int
record_line(void *arg, const struct lc_manifest_line *line)
{
	struct lc_query_dirs *d = arg;
	const struct lc_manifest_fields *f = &line->f;
	struct dir_record *v;
	long i;

	if (!f->object || f->file == NULL || f->error || !f->index || f->index_missing ||
	    f->index_sha256 == NULL || strlen(f->index_sha256) != 64 || f->index_bytes < 0)
		return 0;
	i = lc_name_index_get(d->names, f->file);
	if (i < 0) {
		if (d->n == d->cap) {
			size_t cap = d->cap ? 2 * d->cap : 256;

			v = realloc(d->v, cap * sizeof(*v));
			if (v == NULL)
				return -ENOMEM;
			d->v = v;
			d->cap = cap;
		}
		if (lc_name_index_put(d->names, f->file, d->n) < 0)
			return -ENOMEM;
		i = (long)d->n++;
	}
	v = &((struct dir_record *)d->v)[i];
	memcpy(v->sha, f->index_sha256, 65);
	v->bytes = (uint64_t)f->index_bytes;
	return 0;
}

/* Load the records of dir's manifest (once a directory). No manifest, or one that cannot
 * be read: no record (its indexes are not used; told once). */
static void
dirs_load(struct lc_query_dirs *d, const char *dir, lc_query_warn_fn warn, void *arg)
{
	char err[PATH_MAX + 600];
	int dfd, fd, rc;

	if (d->names != NULL && strcmp(d->dir, dir) == 0)
		return;
	lc_name_index_free(d->names);
	d->names = lc_name_index_new();
	d->n = 0;
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = dfd < 0 ? -errno : lc_manifest_open_read(dfd, "manifest.jsonl", err, sizeof(err));
	if (dfd >= 0)
		close(dfd);
	rc = fd < 0 || d->names == NULL ? fd : lc_manifest_scan(fd, "manifest.jsonl", 0,
								 record_line, d, err,
								 sizeof(err));
	if (fd >= 0)
		close(fd);
	if (rc < 0 && warn != NULL) {
		char line[PATH_MAX + 800];

		if (fd == -ENOENT)
			snprintf(err, sizeof(err), "no manifest.jsonl");
		snprintf(line, sizeof(line), "%s: %s to check its indexes against: its files are "
			 "read whole", dir, err);
		warn(arg, line);
		d->n = 0;
	}
}

void
lc_query_dirs_free(struct lc_query_dirs *d)
{
	lc_name_index_free(d->names);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* Is the index open on fd the one the record names (size and SHA-256)? 0, or the reason. */
static const char *
index_matches(int fd, const struct dir_record *r, char *why, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	uint8_t buf[1 << 16], md[32];
	char hex[65];
	unsigned int mdlen = 0;
	uint64_t total = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ssize_t n;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return "out of memory";
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += (uint64_t)n;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (n < 0)
		return strerror(errno);
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = hexd[md[i] >> 4];
		hex[2 * i + 1] = hexd[md[i] & 15];
	}
	hex[64] = '\0';
	if (total != r->bytes || strcmp(hex, r->sha) != 0) {
		snprintf(why, len, "not the index the manifest records (%llu bytes, SHA-256 "
			 "%.16s...; recorded %llu, %.16s...)", (unsigned long long)total, hex,
			 (unsigned long long)r->bytes, r->sha);
		return why;
	}
	return lseek(fd, 0, SEEK_SET) == 0 ? NULL : strerror(errno);
}

/* Tell why an index in dir is not used ("NAME.idx: reason"). */
static void
told(lc_query_warn_fn warn, void *arg, const char *dir, const char *why)
{
	char line[PATH_MAX + 1400];

	if (warn == NULL)
		return;
	snprintf(line, sizeof(line), "%s%s%s; its file is read whole", dir ? dir : "",
		 dir ? "/" : "", why);
	warn(arg, line);
}

struct lc_index *
lc_query_open_index(struct lc_query_dirs *d, const char *path, int fd, lc_query_warn_fn warn,
		    void *arg)
{
	char dir[PATH_MAX], base[NAME_MAX + 1], name[NAME_MAX + 8], err[PATH_MAX + 600];
	char why[300];
	const char *slash = strrchr(path, '/'), *bad;
	const struct dir_record *rec;
	struct lc_index *ix;
	struct stat st;
	long i;
	int dfd, ifd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path ? slash - path : 1), path);
	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : path);
	if (snprintf(name, sizeof(name), "%s" LC_INDEX_EXT, base) >= (int)sizeof(name))
		return NULL;
	/* Only an index the manifest records, by its SHA-256: the chain of custody vouches for
	 * it; anything else beside the file could be anyone's. */
	dirs_load(d, dir, warn, arg);
	i = d->names != NULL ? lc_name_index_get(d->names, base) : -1;
	if (i < 0)
		return NULL;
	rec = &((const struct dir_record *)d->v)[i];
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	/* Never through a link, only a regular file with one link: the directory may be
	 * someone else's. */
	ifd = lc_manifest_open_file(dfd, name, O_RDONLY, err, sizeof(err));
	close(dfd);
	if (ifd < 0) {
		told(warn, arg, dir, err);
		return NULL;
	}
	if ((bad = index_matches(ifd, rec, why, sizeof(why))) != NULL) {
		close(ifd);
		snprintf(err, sizeof(err), "%s: %s", name, bad);
		told(warn, arg, dir, err);
		return NULL;
	}
	ix = lc_index_open_fd(ifd, name, err, sizeof(err));
	if (ix == NULL) {
		told(warn, arg, dir, err);
		return NULL;
	}
	/* The index describes a file of its size: one that grew or was cut is read whole. */
	if ((fd >= 0 ? fstat(fd, &st) : stat(path, &st)) != 0 ||
	    (uint64_t)st.st_size != lc_index_info(ix)->file_bytes) {
		snprintf(err, sizeof(err), "%s: describes a file of %llu bytes, not this one", name,
			 (unsigned long long)lc_index_info(ix)->file_bytes);
		told(warn, arg, dir, err);
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
	struct lc_query_dirs dirs = { 0 };
	char err[PATH_MAX + 600];
	int rc = 0;

	memset(st, 0, sizeof(*st));
	memset(sel, 0, n * sizeof(*sel));
	st->files = n;
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		struct lc_index *ix = o->no_index ? NULL :
			lc_query_open_index(&dirs, paths[i], fds ? fds[i] : -1, warn, arg);
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
			told(warn, arg, NULL, err);
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
	lc_query_dirs_free(&dirs);
	return rc;
}

void
lc_query_plan_free(struct lc_merge_select *sel, unsigned int n)
{
	for (unsigned int i = 0; sel != NULL && i < n; i++)
		if (sel[i].offsets != nothing)
			free((void *)sel[i].offsets);
}
