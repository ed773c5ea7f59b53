/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lc_version.h"
#include "clock.h"
#include "custody.h"
#include "log.h"
#include "linecap/index.h"
#include "linecap/manifest.h"
#include "manifest_record.h"
#include "linecap/privs.h"
#include "retention.h"

struct era {
	char *expr;
	const char *engine;
	uint64_t since_ns;
};

struct lc_custody {
	pthread_mutex_t lock;
	struct lc_manifest *manifest;
	struct lc_retention retention;
	lc_custody_open_fn open_bytes;
	void *open_arg;
	struct era *eras;
	size_t neras, caperas;
	char host[256];
	char port[128];
	char clock[8];		/* where timestamps come from: "tsc" or "hw" */
	unsigned int earlier;	/* files of earlier captures kept under retention */
	json_t *pending;	/* records the manifest could not take yet (full disk) */
	int retain;		/* -W or --retain-bytes: linecap may delete old files */
	uint64_t room_wanted;	/* free bytes a full disk is cleared to (lc_custody_disk_full) */
	char dir[PATH_MAX];
	uint32_t snaplen;
	const char *format;
	uint64_t recorded, retired;
	int unsynced;		/* records appended since the last fsync */
	int reserve_ok;		/* the filesystem keeps a reserve for the manifest */
	int undeletable;	/* kept files left out of retention: this process cannot delete */
};

/* Bytes kept allocated past the manifest's end for the records of a full disk: its retire
 * records above all, which must be in before a file makes room. */
#define LC_CUSTODY_RESERVE (256u << 10)

static void reserve_locked(struct lc_custody *c);


static const char *
base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The files an earlier capture's manifest records, in its order, by name (keep_earlier). */
struct earlier {
	struct lc_name_index *index;	/* name -> position in v */
	struct earlier_file {
		char *name;
		unsigned int queue;
		char sha256[65];
		char index_sha256[65];	/* its index's, "" when its record names none */
		int gone;	/* retired since */
	} *v;
	size_t n, cap;
};

static int
earlier_line(void *arg, const struct lc_manifest_line *line)
{
	struct earlier *a = arg;
	const char *file = line->f.file, *gone = line->f.retired;
	enum lc_record_kind kind = lc_manifest_record_kind(&line->f);
	struct earlier_file *f;
	long i;

	if (kind == LC_RECORD_FILE) {
		if (!lc_manifest_name_ok(file))	/* never a path outside the directory */
			return 0;
		if (a->n == a->cap) {
			size_t cap = a->cap ? 2 * a->cap : 64;
			struct earlier_file *t = realloc(a->v, cap * sizeof(*t));

			if (t == NULL)
				return -ENOMEM;
			a->v = t;
			a->cap = cap;
		}
		f = &a->v[a->n];
		f->name = strdup(file);
		if (f->name == NULL || lc_name_index_put(a->index, file, a->n) < 0) {
			free(f->name);
			return -ENOMEM;
		}
		f->queue = (unsigned int)line->f.queue % LC_QUEUES_MAX;
		snprintf(f->sha256, sizeof(f->sha256), "%s", line->f.sha256 ?: "");
		snprintf(f->index_sha256, sizeof(f->index_sha256), "%s",
			 line->f.index && !line->f.index_missing ? line->f.index_sha256 ?: "" : "");
		f->gone = 0;
		a->n++;
	} else if (kind == LC_RECORD_RETIRED && (i = lc_name_index_get(a->index, gone)) >= 0) {
		a->v[i].gone = 1;
	}
	return 0;
}

/*
 * A capture into a directory that holds earlier ones: the files its manifest records (and
 * has not retired) that are still there and are the capture's own (its prefix, of any number
 * or period: lc_outpath_owns) count towards retention like those it writes now, oldest
 * first. Files of other prefixes sharing the directory (other cases' evidence) are never
 * counted, so never retired: -W bounds the prefix's files per queue, --retain-bytes its
 * files and the manifest. Returns how many there are.
 * One pass over the manifest, names looked up in constant time: a manifest of 200,000 lines
 * costs a fraction of a second, not minutes.
 */
static unsigned int
keep_earlier(struct lc_retention *r, const struct lc_outpath *out, struct lc_manifest *m)
{
	struct earlier a = { .index = lc_name_index_new() };
	char err[256], path[PATH_MAX];
	int dirfd = open(out->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (a.index != NULL && dirfd >= 0 &&
	    lc_manifest_scan_open(m, 0, earlier_line, &a, err, sizeof(err)) >= 0) {
		for (size_t i = 0; i < a.n; i++) {
			struct stat st;

			/* Only a regular file of the directory, never what a link points to. */
			if (a.v[i].gone || !lc_outpath_owns(out, a.v[i].name, NULL) ||
			    fstatat(dirfd, a.v[i].name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			snprintf(path, sizeof(path), "%s/%s", out->dir, a.v[i].name);
			lc_retention_add(r, path, a.v[i].queue, (uint64_t)st.st_size,
					 a.v[i].sha256);
			/* Its index, where its record names one: counted, deleted with it. */
			snprintf(path, sizeof(path), "%s" LC_INDEX_EXT, a.v[i].name);
			if (a.v[i].index_sha256[0] != '\0' &&
			    fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
				lc_retention_index(r, (uint64_t)st.st_size, a.v[i].index_sha256);
		}
	}
	if (dirfd >= 0)
		close(dirfd);
	for (size_t i = 0; i < a.n; i++)
		free(a.v[i].name);
	free(a.v);
	lc_name_index_free(a.index);
	return (unsigned int)r->n;
}

unsigned int
lc_custody_earlier(const struct lc_custody *c)
{
	return c->earlier;
}

struct lc_custody *
lc_custody_open(const struct lc_config *cfg, const struct lc_outpath *out, const char *port,
		lc_custody_open_fn open_bytes, void *open_arg, char *err, size_t errlen)
{
	struct lc_custody *c = calloc(1, sizeof(*c));
	char path[PATH_MAX];

	if (c == NULL) {
		errno = ENOMEM;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	lc_outpath_manifest(out, path, sizeof(path));
	c->manifest = lc_manifest_open(path, err, errlen);
	if (c->manifest == NULL) {
		free(c);
		return NULL;
	}
	snprintf(c->clock, sizeof(c->clock), "tsc");
	lc_retention_init(&c->retention, cfg->max_files, cfg->retain_bytes);
	c->earlier = keep_earlier(&c->retention, out, c->manifest);
	c->pending = json_array();
	c->retain = cfg->max_files || cfg->retain_bytes;
	/* Room for two files and some (or 64 MiB without -C). */
	c->room_wanted = cfg->file_bytes ? 2 * cfg->file_bytes + (4ull << 20) : 64ull << 20;
	c->reserve_ok = 1;
	reserve_locked(c);
	snprintf(c->dir, sizeof(c->dir), "%s", out->dir);
	pthread_mutex_init(&c->lock, NULL);
	c->open_bytes = open_bytes;
	c->open_arg = open_arg;
	if (gethostname(c->host, sizeof(c->host) - 1) != 0)
		snprintf(c->host, sizeof(c->host), "unknown");
	snprintf(c->port, sizeof(c->port), "%s", port);
	c->snaplen = cfg->snaplen;
	c->format = cfg->format;
	return c;
}

void
lc_custody_filter(struct lc_custody *c, const char *expr, const char *engine, uint64_t since_ns)
{
	pthread_mutex_lock(&c->lock);
	if (c->neras == c->caperas) {
		size_t cap = c->caperas ? 2 * c->caperas : 16;
		struct era *t = realloc(c->eras, cap * sizeof(*t));

		if (t == NULL) {
			pthread_mutex_unlock(&c->lock);
			return;
		}
		c->eras = t;
		c->caperas = cap;
	}
	c->eras[c->neras++] = (struct era){ expr ? strdup(expr) : NULL, engine, since_ns };
	pthread_mutex_unlock(&c->lock);
}

/* The filters in force at some time in [from, to], into v (room for every era); returns
 * how many. Under lock. */
static size_t
filters_between(const struct lc_custody *c, uint64_t from, uint64_t to,
		struct lc_record_filter *v)
{
	size_t n = c->neras, k = 0;
	const struct era *h = c->eras;

	for (size_t i = 0; i < n; i++) {
		uint64_t until = i + 1 < n ? h[i + 1].since_ns : UINT64_MAX;

		if (h[i].since_ns <= to && until > from)
			v[k++] = (struct lc_record_filter){ h[i].expr, h[i].engine, h[i].since_ns };
	}
	return k;
}

/* Append the records waiting (a full disk refused them), in order; stop at a refusal. */
static void
append_pending(struct lc_custody *c)
{
	char err[LC_ERRLEN];

	while (json_array_size(c->pending) > 0) {
		if (lc_manifest_append(c->manifest, json_array_get(c->pending, 0), err,
				       sizeof(err)) < 0) {
			LC_LOG_RL(ERR, "%s (%zu record%s waiting)", err,
				  json_array_size(c->pending),
				  json_array_size(c->pending) == 1 ? "" : "s");
			return;
		}
		json_array_remove(c->pending, 0);
		c->unsynced = 1;
	}
}

/* fsync what was appended. 0, or -1 (logged) when the disk would not. */
static int
sync_locked(struct lc_custody *c)
{
	int rc;

	if (!c->unsynced)
		return 0;
	rc = lc_manifest_sync(c->manifest);
	if (rc < 0) {
		LC_LOG_RL(ERR, "manifest: fsync: %s", strerror(-rc));
		return -1;
	}
	c->unsynced = 0;
	return 0;
}

/* Keep the manifest's reserve whole (it shrinks as records fill it on a full disk). */
static void
reserve_locked(struct lc_custody *c)
{
	if (c->reserve_ok)
		c->reserve_ok = lc_manifest_reserve(c->manifest, LC_CUSTODY_RESERVE) != -EOPNOTSUPP;
}

/* Every record reaches the manifest, in order: one the disk refuses waits for room. What
 * went in is fsync-ed before this returns (so before the file it records takes its name). */
static void
append(struct lc_custody *c, json_t *rec)
{
	json_array_append_new(c->pending, rec);
	append_pending(c);
	sync_locked(c);
}

static void retain_locked(struct lc_custody *c);

void
lc_custody_source(struct lc_custody *c, const char *path, const char *sha256_hex,
		  uint64_t bytes, uint64_t records, const char *how)
{
	json_t *rec = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:I}", "source", path,
				"sha256", sha256_hex, "bytes", (json_int_t)bytes, "records",
				(json_int_t)records, "read", how, "host", c->host, "at_ns",
				(json_int_t)lc_realtime_ns());

	if (rec == NULL) {
		LC_LOG(ERR, "manifest: cannot record the source %s", path);
		return;
	}
	pthread_mutex_lock(&c->lock);
	append(c, rec);
	pthread_mutex_unlock(&c->lock);
}

/* The token a writer holds its just-closed file under until it is renamed (make_room). */
static uint64_t
self_token(void)
{
	return (uint64_t)pthread_self() | 1;
}

/* The record of a closed file (lc_manifest_record_build). Under lock. */
static json_t *
closed_record(const struct lc_custody *c, const struct lc_closed_file *cf, const char *hex)
{
	struct lc_record_filter *filters = calloc(c->neras + 1, sizeof(*filters));
	struct lc_manifest_record r = {
		.kind = cf->rc != 0 ? LC_RECORD_FAILED : LC_RECORD_FILE, .file = base(cf->path),
		.bytes = cf->bytes, .packets = cf->packets, .first_ns = cf->first_ns,
		.last_ns = cf->last_ns, .queue = (int)cf->queue, .seq = (int)cf->seq,
		.format = c->format, .opened_ns = cf->opened_ns, .closed_ns = cf->closed_ns,
		.host = c->host, .port = c->port, .filters = filters, .snaplen = c->snaplen,
		.linecap = LC_VERSION, .clock = c->clock,
		.drops = { .buffer_full = cf->buffer_full, .imissed = cf->imissed,
			   .rx_nombuf = cf->rx_nombuf, .write_errors = cf->write_errors },
		.received = cf->received, .passed_filter = cf->passed,
		.error = cf->rc != 0 ? strerror(-cf->rc) : NULL,
	};
	json_t *rec;

	if (filters == NULL)
		return NULL;
	r.nfilters = filters_between(c, cf->opened_ns, cf->closed_ns, filters);
	if (cf->rc == 0 && cf->index_rc == 0) {
		r.index = LC_INDEX_WRITTEN;
		r.index_bytes = cf->index_bytes;
		lc_sha256_hex(cf->index_sha256, r.index_sha256);
		lc_sha256_hex(cf->index_table_sha256, r.index_table_sha256);
	} else if (cf->rc == 0) {
		r.index = LC_INDEX_MISSING;
		r.index_missing = cf->index_rc == -ENODATA ? "not asked for (--no-index)" :
				  cf->index_rc == -ECANCELED ? "given up while capturing (memory "
				  "spent, writer behind, or a salvaged file): read whole" :
				  strerror(-cf->index_rc);
	}
	snprintf(r.sha256, sizeof(r.sha256), "%s", hex);
	rec = lc_manifest_record_build(&r);
	free(filters);
	return rec;
}

void
lc_custody_file_closed(void *custody, struct lc_closed_file *cf)
{
	struct lc_custody *c = custody;
	char hex[2 * LC_SHA256_LEN + 1];
	json_t *rec;

	lc_sha256_hex(cf->sha256, hex);
	pthread_mutex_lock(&c->lock);
	rec = closed_record(c, cf, hex);
	/* Written and fsync-ed before the writer renames the file: a crash between the two
	 * leaves a .part file that --repair recognises by its record and renames. */
	if (rec != NULL)
		append(c, rec);
	else
		LC_LOG(ERR, "manifest: out of memory: no record for %s", cf->path);
	c->recorded++;
	/* Held until its writer has renamed it (make_room): retiring a file that is still
	 * .part would delete nothing and leave the file, renamed, with a retire record. */
	if (cf->rc == 0 &&
	    lc_retention_add_held(&c->retention, cf->path, cf->queue, cf->bytes, hex,
				  self_token()) == 0 && cf->index_rc == 0) {
		lc_sha256_hex(cf->index_sha256, hex);	/* its index: counted, retired with it */
		lc_retention_index(&c->retention, cf->index_bytes, hex);
		/* Room for that index before it is named (an open file is counted at its most,
		 * its index not): older files go now, not after it has its name. */
		retain_locked(c);
	}
	pthread_mutex_unlock(&c->lock);
	free(cf);
}

/* Could uid delete path from the capture directory? (A file gone already: nothing to do.)
 * For this process also as the kernel sees it (the directory writable); for another uid the
 * directory was checked at start (lc_privs_check_write). */
static int
deletable(const struct lc_custody *c, const char *path, uid_t uid)
{
	struct stat d, f;

	if (lstat(path, &f) != 0)
		return errno == ENOENT;
	if (stat(c->dir, &d) != 0)
		return 0;
	if (uid == geteuid() && faccessat(AT_FDCWD, c->dir, W_OK | X_OK, AT_EACCESS) != 0)
		return 0;
	return lc_privs_may_unlink(uid, &d, &f);
}

/*
 * Retire kept file i for reason why, write-ahead: its record is appended and fsync-ed, and
 * only then is the file deleted, so that a crash at any instant leaves either the file
 * without a retire record (kept), or a retire record with the file gone or still there
 * (retirement pending: verify --repair completes it). Nothing is deleted while the record
 * cannot be written (a full disk refusing it, with earlier records still waiting) or
 * made durable. 0, or -1 when file i was not deleted.
 */
static int
retire_locked(struct lc_custody *c, size_t i, const char *why)
{
	struct lc_kept_file *f = &c->retention.files[i];
	struct lc_manifest_record r;
	char err[LC_ERRLEN];
	json_t *rec;
	int rc;

	/* No retire record for a file that could not be deleted after it (-Z): it is left
	 * out of retention instead, said once. */
	if (!deletable(c, f->path, geteuid())) {
		if (c->undeletable++ == 0)
			LC_LOG(WARNING, "retention: %s cannot be deleted by uid %u: it (and any "
			       "other such file) is left out of retention", f->path,
			       (unsigned int)geteuid());
		lc_retention_remove(&c->retention, i);
		return 0;
	}
	append_pending(c);
	if (json_array_size(c->pending) > 0)	/* its record would come after those */
		return -1;
	r = (struct lc_manifest_record){ .kind = LC_RECORD_RETIRED, .file = base(f->path),
		.bytes = f->bytes, .queue = (int)f->queue, .reason = why,
		.at_ns = lc_realtime_ns(), .host = c->host };
	snprintf(r.sha256, sizeof(r.sha256), "%s", f->sha256);
	if (f->index_sha256[0] != '\0') {	/* its index goes with it */
		r.index = LC_INDEX_WRITTEN;
		r.index_bytes = f->index_bytes;
		snprintf(r.index_sha256, sizeof(r.index_sha256), "%s", f->index_sha256);
	}
	rec = lc_manifest_record_build(&r);
	if (rec == NULL)
		return -1;
	rc = lc_manifest_append(c->manifest, rec, err, sizeof(err));
	json_decref(rec);
	if (rc < 0) {
		LC_LOG_RL(ERR, "retention: %s: %s is kept", err, f->path);
		return -1;
	}
	c->unsynced = 1;
	c->retired++;
	if (sync_locked(c) < 0) {
		/* The record is written but may not be durable: the file stays, its retirement
		 * pending, for --repair (or the next capture into the directory) to complete. */
		LC_LOG_RL(ERR, "retention: %s left in place (retirement pending)", f->path);
	} else if (unlink(f->path) != 0 && errno != ENOENT) {
		LC_LOG_RL(ERR, "retention: cannot delete %s: %s (retirement pending)", f->path,
			  strerror(errno));
	} else if (r.index == LC_INDEX_WRITTEN && (rc = lc_retention_unlink_index(f->path)) < 0) {
		LC_LOG_RL(ERR, "retention: %s" LC_INDEX_EXT ": %s: left in place (retirement "
			  "pending)", f->path, rc == -EINVAL ? "not a regular file with one link" :
			  strerror(-rc));
	}
	lc_retention_remove(&c->retention, i);
	reserve_locked(c);	/* room came back: the reserve is whole again */
	return 0;
}

/* Retire the oldest kept file (not held) for reason why. 0, or -1 when none could go. */
static int
retire_oldest_locked(struct lc_custody *c, const char *why)
{
	for (size_t i = 0; i < c->retention.n; i++)
		if (c->retention.files[i].held == 0)
			return retire_locked(c, i, why);
	return -1;
}

/* Is the capture's filesystem short of room for a few more files? */
static int
short_of_room(const struct lc_custody *c)
{
	struct statvfs vfs;

	return statvfs(c->dir, &vfs) == 0 &&
	       (uint64_t)vfs.f_bavail * vfs.f_frsize < c->room_wanted;
}

/*
 * Append the records waiting. Where the disk refused them for want of room and the user let
 * linecap delete files, the oldest make room, as they do for new data, so that no closed
 * file is left out of the manifest; one at a time, only while the disk is short of room (a
 * refusal for any other reason deletes nothing). A retirement's own record must go in
 * first: the manifest's reserve takes it where the disk has no room left.
 */
static void
settle_pending_locked(struct lc_custody *c)
{
	append_pending(c);
	sync_locked(c);
	while (json_array_size(c->pending) > 0 && c->retain && short_of_room(c) &&
	       retire_oldest_locked(c, "disk full") == 0)
		;
}

unsigned int
lc_custody_disk_full(void *custody)
{
	struct lc_custody *c = custody;
	unsigned int n = 0;

	if (!c->retain)		/* the user never let linecap delete files */
		return 0;
	pthread_mutex_lock(&c->lock);
	/* Oldest first, until there is room for a few files again. */
	while (short_of_room(c) && retire_oldest_locked(c, "disk full") == 0)
		n++;
	pthread_mutex_unlock(&c->lock);
	if (n)
		LC_LOG(WARNING, "disk full: %u oldest file%s retired to make room", n,
		       n == 1 ? "" : "s");
	return n;
}

void
lc_custody_make_room(void *custody)
{
	struct lc_custody *c = custody;

	pthread_mutex_lock(&c->lock);
	/* This writer has renamed the file it closed (or failed to): it may be retired now. */
	lc_retention_release(&c->retention, self_token());
	retain_locked(c);
	pthread_mutex_unlock(&c->lock);
}

static void
retain_locked(struct lc_custody *c)
{
	unsigned int open[LC_QUEUES_MAX] = { 0 };
	uint64_t open_bytes = c->open_bytes ? c->open_bytes(c->open_arg, open) : 0;
	const char *why;
	long i;

	while ((i = lc_retention_pick(&c->retention, open_bytes + lc_manifest_size(c->manifest),
				      open, &why)) >= 0)
		if (retire_locked(c, (size_t)i, why) < 0)
			return;
}

void
lc_custody_retain(struct lc_custody *c)
{
	pthread_mutex_lock(&c->lock);
	settle_pending_locked(c);
	retain_locked(c);
	sync_locked(c);
	reserve_locked(c);
	pthread_mutex_unlock(&c->lock);
}

void
lc_custody_set_clock(struct lc_custody *c, const char *source)
{
	pthread_mutex_lock(&c->lock);
	snprintf(c->clock, sizeof(c->clock), "%s", source);
	pthread_mutex_unlock(&c->lock);
}

uint64_t
lc_custody_bytes(struct lc_custody *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->lock);
	n = c->retention.closed_bytes + lc_manifest_size(c->manifest);
	pthread_mutex_unlock(&c->lock);
	return n;
}

const char *
lc_custody_undeletable(const struct lc_custody *c, uid_t uid, unsigned int *n)
{
	const char *first = NULL;

	*n = 0;
	for (size_t i = 0; c->retain && i < c->retention.n; i++)
		if (!deletable(c, c->retention.files[i].path, uid) && (*n)++ == 0)
			first = c->retention.files[i].path;
	return first;
}

int
lc_custody_chown(struct lc_custody *c, uid_t uid, gid_t gid)
{
	return lc_manifest_chown(c->manifest, uid, gid);
}

void
lc_custody_close(struct lc_custody *c)
{
	if (c == NULL)
		return;
	settle_pending_locked(c);
	if (c->retired)
		LC_LOG(NOTICE, "retention: %" PRIu64 " file%s retired this run (-W, "
		       "--retain-bytes, disk full: see the manifest's retire records)", c->retired,
		       c->retired == 1 ? "" : "s");
	/* Still no room (or no retention): the records go to the log, whole, so they are not lost. */
	for (size_t i = 0; i < json_array_size(c->pending); i++) {
		char *line = json_dumps(json_array_get(c->pending, i), JSON_COMPACT);

		LC_LOG(ERR, "manifest: no room for this record: %s", line ? line : "?");
		free(line);
	}
	json_decref(c->pending);
	lc_manifest_close(c->manifest);
	lc_retention_free(&c->retention);
	for (size_t i = 0; i < c->neras; i++)
		free(c->eras[i].expr);
	free(c->eras);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
