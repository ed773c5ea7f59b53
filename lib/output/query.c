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
#include "linecap/reader.h"
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
	uint64_t h = 0x9e3779b97f4a7c15ull, w;
	size_t i;

	for (i = 0; i + 8 <= sizeof(*s); i += 8) {	/* a word at a time */
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	for (; i < sizeof(*s); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
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
	char table_sha[65];	/* of its header and table; "" when not recorded */
	uint64_t bytes;
	uint64_t first_ns, last_ns;	/* of the file's records, as recorded */
	uint64_t packets;
	uint64_t file_bytes;	/* the capture file's size, as recorded */
	int twice;		/* recorded more than once: its records are not used */
};

/* Each manifest line in its chain (a line changed, removed or reordered stops the scan:
 * none of the directory's records is used), and one record a file: a file recorded twice
 * is read whole. */
static int
record_line(void *arg, const struct lc_manifest_line *line)
{
	struct lc_query_dirs *d = arg;
	const struct lc_manifest_fields *f = &line->f;
	struct dir_record *v;
	long i;

	if (lc_manifest_line_chained(line, d->why, sizeof(d->why)) != 0)
		return -EBADMSG;
	if (f->file == NULL || f->error)
		return 0;
	i = lc_name_index_get(d->names, f->file);
	if (i >= 0) {
		((struct dir_record *)d->v)[i].twice = 1;
		return 0;
	}
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
	v = &((struct dir_record *)d->v)[d->n++];
	memset(v, 0, sizeof(*v));
	if (!f->index || f->index_missing || f->index_sha256 == NULL ||
	    strlen(f->index_sha256) != 64 || f->index_bytes < 0)
		return 0;	/* no index: sha "" */
	memcpy(v->sha, f->index_sha256, 65);
	snprintf(v->table_sha, sizeof(v->table_sha), "%s",
		 f->index_table_sha256 != NULL && strlen(f->index_table_sha256) == 64 ?
		 f->index_table_sha256 : "");
	v->bytes = (uint64_t)f->index_bytes;
	v->first_ns = f->first_ns > 0 ? (uint64_t)f->first_ns : 0;
	v->last_ns = f->last_ns > 0 ? (uint64_t)f->last_ns : UINT64_MAX;
	v->packets = f->packets > 0 ? (uint64_t)f->packets : 0;
	v->file_bytes = f->bytes > 0 ? (uint64_t)f->bytes : 0;
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
	rc = fd < 0 || d->names == NULL ? fd :
	     lc_manifest_scan(fd, "manifest.jsonl", LC_MANIFEST_SCAN_HASH, record_line, d, err,
			      sizeof(err));
	if (fd >= 0)
		close(fd);
	if (rc == -EBADMSG)
		snprintf(err, sizeof(err), "manifest.jsonl: %s", d->why);
	if (rc < 0 && warn != NULL) {
		char line[PATH_MAX + 800];

		if (fd == -ENOENT)
			snprintf(err, sizeof(err), "no manifest.jsonl");
		snprintf(line, sizeof(line), "%s: %s: its indexes are not used, its files are "
			 "read whole", dir, err);
		warn(arg, line);
	}
	if (rc < 0) {
		lc_name_index_free(d->names);
		d->names = lc_name_index_new();
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

/* Does a SHA-256 equal the lower-case hex one? */
static int
same_sha(const uint8_t *md, const char *hex)
{
	static const char hexd[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++)
		if (hex[2 * i] != hexd[md[i] >> 4] || hex[2 * i + 1] != hexd[md[i] & 15])
			return 0;
	return 1;
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

/* path's directory and file name; 0, or -1 when the name is too long. */
static int
split_path(const char *path, char dir[PATH_MAX], char base[NAME_MAX + 1])
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, PATH_MAX, ".");
	else
		snprintf(dir, PATH_MAX, "%.*s", (int)(slash - path ? slash - path : 1), path);
	return snprintf(base, NAME_MAX + 1, "%s", slash ? slash + 1 : path) > NAME_MAX ? -1 : 0;
}

/* The manifest's record of path's index, or NULL (dir: path's directory). */
static const struct dir_record *
recorded(struct lc_query_dirs *d, const char *path, char dir[PATH_MAX],
	 char base[NAME_MAX + 1], lc_query_warn_fn warn, void *arg)
{
	long i;

	if (split_path(path, dir, base) != 0)
		return NULL;
	dirs_load(d, dir, warn, arg);
	i = d->names != NULL ? lc_name_index_get(d->names, base) : -1;
	if (i < 0 || (size_t)i >= d->n || ((const struct dir_record *)d->v)[i].twice ||
	    ((const struct dir_record *)d->v)[i].sha[0] == '\0')
		return NULL;
	return &((const struct dir_record *)d->v)[i];
}

int
lc_query_recorded_outside(struct lc_query_dirs *d, const struct lc_query_opts *o,
			  const char *path, int fd, lc_query_warn_fn warn, void *arg)
{
	char dir[PATH_MAX], base[NAME_MAX + 1];
	const struct dir_record *rec = recorded(d, path, dir, base, warn, arg);
	struct stat st;

	/* The file there must be the size recorded (another file under its name is read). */
	return rec != NULL && (fd >= 0 ? fstat(fd, &st) : stat(path, &st)) == 0 &&
	       (uint64_t)st.st_size == rec->file_bytes &&
	       (rec->packets == 0 || !lc_query_in_window(o, rec->first_ns, rec->last_ns));
}

struct lc_index *
lc_query_open_index(struct lc_query_dirs *d, const char *path, int fd, lc_query_warn_fn warn,
		    void *arg)
{
	char dir[PATH_MAX], base[NAME_MAX + 1], name[NAME_MAX + 8], err[PATH_MAX + 600];
	char why[300];
	const char *bad;
	const struct dir_record *rec;
	struct lc_index *ix;
	struct stat st;
	int dfd, ifd;

	/* Only an index the manifest records, by its SHA-256: the chain of custody vouches for
	 * it; anything else beside the file could be anyone's. */
	rec = recorded(d, path, dir, base, warn, arg);
	if (rec == NULL ||
	    snprintf(name, sizeof(name), "%s" LC_INDEX_EXT, base) >= (int)sizeof(name))
		return NULL;
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
	/* With the SHA-256 of its header and table recorded, those are checked (the positions
	 * read are checked record by record); else the whole index is. */
	if (rec->table_sha[0] != '\0')
		bad = fstat(ifd, &st) != 0 || (uint64_t)st.st_size != rec->bytes ?
		      "not the index the manifest records (another size)" : NULL;
	else
		bad = index_matches(ifd, rec, why, sizeof(why));
	if (bad != NULL) {
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
	if (rec->table_sha[0] != '\0' && !same_sha(lc_index_table_sha256(ix), rec->table_sha)) {
		snprintf(err, sizeof(err), "%s: not the index the manifest records (its header "
			 "and flow table differ)", name);
		told(warn, arg, dir, err);
		lc_index_close(ix);
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

/* What the plan chose of one file: the records' offsets, and for the check of each record
 * read (check_pick), the flow it must belong to. */
struct pick {
	uint64_t off;
	uint32_t flow;		/* in flows[] */
};

struct pick_check {
	uint32_t linktype;
	struct lc_index_flow *flows;	/* the chosen flows (copies) */
	uint32_t nflows;
	uint32_t *flow_of;		/* per record chosen, in offset order */
};

struct picks {
	struct pick *v;
	uint64_t n, cap;
	struct pick_check c;
	uint32_t fcap;
};

static int
picks_room(struct picks *a, uint64_t more)
{
	uint64_t cap = a->cap ? a->cap : 1024;
	struct pick *v;

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
picks_flow(struct picks *a, const struct lc_index_flow *f)
{
	if (a->c.nflows == a->fcap) {
		uint32_t cap = a->fcap ? 2 * a->fcap : 64;
		struct lc_index_flow *v = realloc(a->c.flows, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		a->c.flows = v;
		a->fcap = cap;
	}
	a->c.flows[a->c.nflows++] = *f;
	return 0;
}

static int
by_offset(const void *a, const void *b)
{
	uint64_t x = ((const struct pick *)a)->off, y = ((const struct pick *)b)->off;

	return x < y ? -1 : x > y;
}

/* Is the record read at the k-th offset one of the flow the index put it in (its key, a
 * time within the flow's)? The index's table is vouched for by the manifest; its positions
 * are checked here, record by record: together, no packet of a chosen flow is missed or
 * taken from elsewhere. */
static int
check_pick(const void *arg, uint64_t k, const struct lc_record *rec)
{
	const struct pick_check *c = arg;
	const struct lc_index_flow *f = &c->flows[c->flow_of[k]];
	struct lc_flow_key key;

	lc_index_record_key(c->linktype, rec->data, rec->caplen, &key);
	return memcmp(&key, &f->key, sizeof(key)) != 0 || rec->ts_ns < f->first_ns ||
	       rec->ts_ns > f->last_ns;
}

/* A file whose chosen records are more than this share of its records is read whole
 * (sorting and seeking to most of them costs more than reading past the others). */
#define DENSE_SHARE 8u

/* The records to read of one indexed file into a (sorted). 0, 1 when most of its records
 * are chosen (read it whole), -ENOMEM, or -EINVAL with the reason in err (a flow's
 * positions are not valid). */
static int
plan_file(const struct lc_query_opts *o, struct lc_query_judge *j, struct lc_index *ix,
	  struct picks *a, struct lc_query_stats *st, char *err, size_t errlen)
{
	uint32_t nf;
	const struct lc_index_flow *fl = lc_index_flows(ix, &nf);
	uint64_t *pos = NULL, chosen = 0;
	uint8_t *take = calloc(nf ? nf : 1, 1);
	int rc = 0;

	if (take == NULL)
		return -ENOMEM;
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
		take[i] = 1;
		chosen += f->packets;
	}
	if (chosen * DENSE_SHARE > lc_index_info(ix)->packets) {
		free(take);
		return 1;
	}
	a->c.linktype = lc_index_info(ix)->linktype;
	for (uint32_t i = 0; i < nf && rc == 0; i++) {
		const struct lc_index_flow *f = &fl[i];
		uint64_t *p;

		if (!take[i])
			continue;
		if ((rc = picks_room(a, f->packets)) < 0 || (rc = picks_flow(a, f)) < 0)
			break;
		p = realloc(pos, f->packets * sizeof(*pos));
		if (p == NULL) {
			rc = -ENOMEM;
			break;
		}
		pos = p;
		rc = lc_index_positions(ix, f, pos, err, errlen);
		for (uint64_t k = 0; rc == 0 && k < f->packets; k++)
			a->v[a->n++] = (struct pick){ pos[k], a->c.nflows - 1 };
	}
	free(pos);
	free(take);
	if (rc < 0)
		return rc;
	if (a->n > 1)
		qsort(a->v, a->n, sizeof(*a->v), by_offset);
	for (uint64_t k = 1; k < a->n; k++)
		if (a->v[k].off == a->v[k - 1].off) {
			snprintf(err, errlen, "byte %llu of its file in two flows of its index",
				 (unsigned long long)a->v[k].off);
			return -EINVAL;
		}
	return 0;
}

/* The picks as lc_merge takes them: offsets (in place of the pairs) and the check. */
static int
picks_select(struct picks *a, struct lc_merge_select *sel)
{
	uint64_t *off = (uint64_t *)a->v;	/* 8 bytes of each 16: in place, in order */
	struct pick_check *c = malloc(sizeof(*c));

	a->c.flow_of = malloc((a->n ? a->n : 1) * sizeof(*a->c.flow_of));
	if (c == NULL || a->c.flow_of == NULL) {
		free(c);
		return -ENOMEM;		/* a keeps what it has: picks_free */
	}
	for (uint64_t k = 0; k < a->n; k++) {
		uint64_t o = a->v[k].off;

		a->c.flow_of[k] = a->v[k].flow;
		off[k] = o;
	}
	*c = a->c;
	*sel = (struct lc_merge_select){ .offsets = off, .n = a->n, .check = check_pick,
					 .check_arg = c };
	memset(a, 0, sizeof(*a));	/* all of it is sel's now */
	return 0;
}

static void
picks_free(struct picks *a)
{
	free(a->v);
	free(a->c.flows);
	free(a->c.flow_of);
	memset(a, 0, sizeof(*a));
}

static const uint64_t nothing[1];

/* What to read of the indexed file path (its index ix) into sel. 0 or -ENOMEM. */
static int
plan_indexed(const struct lc_query_opts *o, struct lc_query_judge *j, struct lc_index *ix,
	     const char *path, struct lc_merge_select *sel, struct lc_query_stats *st,
	     lc_query_warn_fn warn, void *arg)
{
	const struct lc_index_info *info = lc_index_info(ix);
	char err[PATH_MAX + 600], line[2 * PATH_MAX + 700];
	struct picks a = { 0 };
	int rc;

	if (info->packets == 0 || !lc_query_in_window(o, info->first_ns, info->last_ns)) {
		sel->offsets = nothing;		/* nothing of it is wanted */
		st->skipped++;
		return 0;
	}
	rc = plan_file(o, j, ix, &a, st, err, sizeof(err));
	if (rc == 0 && a.n == 0) {
		sel->offsets = nothing;
		st->skipped++;
	} else if (rc == 0) {
		rc = picks_select(&a, sel);
		st->records += sel->n;
	} else if (rc == 1) {		/* most of it: read whole, the filter decides */
		st->dense++;
		rc = 0;
	} else if (rc == -EINVAL) {	/* a bad index: the file is read whole */
		snprintf(line, sizeof(line), "%s" LC_INDEX_EXT ": %s", path, err);
		told(warn, arg, NULL, line);
		st->indexed--;
		st->whole++;
		rc = 0;
	}
	picks_free(&a);
	return rc;
}

int
lc_query_plan(const struct lc_query_opts *o, const char *const *paths, const int *fds,
	      unsigned int n, struct lc_merge_select *sel, struct lc_query_stats *st,
	      lc_query_warn_fn warn, void *arg)
{
	struct lc_query_judge j = { .insns = o->insns, .ninsns = o->ninsns };
	struct lc_query_dirs dirs = { 0 };
	int rc = 0;

	memset(st, 0, sizeof(*st));
	memset(sel, 0, n * sizeof(*sel));
	st->files = n;
	for (unsigned int i = 0; i < n && rc == 0; i++) {
		struct lc_index *ix;

		if (!o->no_index && lc_query_recorded_outside(&dirs, o, paths[i],
							      fds ? fds[i] : -1, warn, arg)) {
			sel[i].offsets = nothing;	/* its records, as recorded, miss the window */
			st->indexed++;
			st->skipped++;
			continue;
		}
		ix = o->no_index ? NULL :
			lc_query_open_index(&dirs, paths[i], fds ? fds[i] : -1, warn, arg);
		if (ix == NULL) {
			st->whole++;
			continue;
		}
		st->indexed++;
		rc = plan_indexed(o, &j, ix, paths[i], &sel[i], st, warn, arg);
		lc_index_close(ix);
	}
	st->flows_judged = j.judged;
	lc_query_judge_free(&j);
	lc_query_dirs_free(&dirs);
	return rc;
}

void
lc_query_plan_free(struct lc_merge_select *sel, unsigned int n)
{
	for (unsigned int i = 0; sel != NULL && i < n; i++) {
		const struct pick_check *c = sel[i].check_arg;

		if (sel[i].offsets != nothing)
			free((void *)sel[i].offsets);
		if (c != NULL) {
			free(c->flows);
			free(c->flow_of);
			free((void *)c);
		}
	}
}
