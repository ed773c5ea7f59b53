/* SPDX-License-Identifier: BSD-3-Clause */
/* linecap-verify's checks (the repairs are in verify_repair.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linecap/index.h"
#include "linecap/manifest.h"
#include "manifest_record.h"
#include "linecap/outpath.h"
#include "linecap/reader.h"
#include "shard.h"
#include "verify_priv.h"

void
verify_finding(struct verify_ctx *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (c->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->say(c->arg, line);
	c->sum->findings++;
}

void
verify_note(struct verify_ctx *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->say(c->arg, line);
}

struct verify_entry *
verify_find(struct verify_ctx *c, const char *name)
{
	long i = c->index != NULL ? lc_name_index_get(c->index, name) : -1;

	return i >= 0 ? &c->e[i] : NULL;
}

struct verify_entry *
verify_add(struct verify_ctx *c, const char *name)
{
	if (c->index == NULL && (c->index = lc_name_index_new()) == NULL)
		return NULL;
	if (lc_name_index_put(c->index, name, c->n) < 0)
		return NULL;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct verify_entry *t = realloc(c->e, cap * sizeof(*t));

		if (t == NULL)
			return NULL;
		c->e = t;
		c->cap = cap;
	}
	memset(&c->e[c->n], 0, sizeof(c->e[0]));
	snprintf(c->e[c->n].name, sizeof(c->e[0].name), "%s", name);
	return &c->e[c->n++];
}

void
verify_clear(struct verify_ctx *c)
{
	free(c->e);
	c->e = NULL;
	c->n = c->cap = 0;
	lc_name_index_free(c->index);
	c->index = NULL;
}

int
verify_file_sha(int fd, char hex[65], uint64_t *bytes)
{
	uint8_t md[LC_SHA256_LEN];
	int rc = lc_shard_fd_digest(fd, md, bytes);

	if (rc < 0) {
		errno = -rc;
		return rc;
	}
	lc_sha256_hex(md, hex);
	return 0;
}

int
verify_is_part(const char *n)
{
	size_t l = strlen(n);

	return l > 5 && strcmp(n + l - 5, ".part") == 0;
}

int
verify_is_index(const char *n, char file[NAME_MAX + 1])
{
	size_t l = strlen(n), e = strlen(LC_INDEX_EXT);

	if (l <= e || l - e > NAME_MAX || strcmp(n + l - e, LC_INDEX_EXT) != 0)
		return 0;
	snprintf(file, NAME_MAX + 1, "%.*s", (int)(l - e), n);
	return lc_reader_is_capture_name(file);
}

/* Walk a file's records: structure, snaplen, link type, order. Returns records read, or -1
 * after a finding. */
static long
check_structure(struct verify_ctx *c, int fd, const char *path, const char *name, int as_read,
		uint64_t *first, uint64_t *last)
{
	char err[600];
	struct lc_reader *r = lc_reader_fdopen(fd, path, err, sizeof(err));
	struct lc_record rec;
	long n = 0;
	int rc, bad = 0;

	if (r == NULL) {
		verify_finding(c, "corrupt: %s", err);
		return -1;
	}
	*first = *last = 0;
	while ((rc = lc_reader_next(r, &rec, err, sizeof(err))) == 1) {
		if (rec.linktype != 1 && !bad) {
			verify_finding(c, "corrupt: %s: byte %llu: link type %u is not Ethernet", name,
				(unsigned long long)rec.offset, rec.linktype);
			bad = 1;
		}
		if (rec.snaplen && rec.stored > rec.snaplen && !bad && !as_read) {
			verify_finding(c, "corrupt: %s: byte %llu: record of %u bytes over the snaplen %u",
				name, (unsigned long long)rec.offset, rec.stored, rec.snaplen);
			bad = 1;
		}
		if (n > 0 && rec.ts_ns < *last && !bad && !as_read) {
			verify_finding(c, "out of order: %s: byte %llu: timestamp goes backwards", name,
				(unsigned long long)rec.offset);
			bad = 1;
		}
		if (n == 0)
			*first = rec.ts_ns;
		*last = rec.ts_ns;
		n++;
	}
	lc_reader_close(r);
	if (rc < 0) {
		verify_finding(c, "corrupt: %s", err);
		return -1;
	}
	return bad ? -1 : n;
}

static void
check_recorded(struct verify_ctx *c, struct verify_entry *e)
{
	char path[PATH_MAX + NAME_MAX + 2], hex[65];
	uint64_t bytes;
	long n;

	char err[600];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", c->dir, e->name);
	/* Only a regular file in the directory is read: never a link, a FIFO or a device. */
	fd = lc_manifest_open_file(c->dirfd, e->name, O_RDONLY, err, sizeof(err));
	if (fd == -ENOENT) {
		char part[NAME_MAX + 8];

		snprintf(part, sizeof(part), "%s.part", e->name);
		if (fstatat(c->dirfd, part, &st, AT_SYMLINK_NOFOLLOW) != 0)
			/* else reported as unfinished below */
			verify_finding(c, "missing: %s (manifest line %u; not retired)", e->name, e->line);
		return;
	}
	if (fd < 0) {
		verify_finding(c, "unreadable: %s (manifest line %u)", err, e->line);
		return;
	}
	e->present = 1;
	if (verify_file_sha(fd, hex, &bytes) < 0) {
		verify_finding(c, "unreadable: %s: %s", e->name, strerror(errno));
		close(fd);
		return;
	}
	if (strcmp(hex, e->sha) != 0) {
		verify_finding(c, "modified: %s: SHA-256 %.16s... differs from manifest line %u "
			"(%.16s...)", e->name, hex, e->line, e->sha);
		close(fd);
		return;
	}
	if (bytes != e->bytes) {
		verify_finding(c, "modified: %s: %llu bytes, manifest line %u says %llu", e->name,
			(unsigned long long)bytes, e->line, (unsigned long long)e->bytes);
		close(fd);
		return;
	}
	n = check_structure(c, fd, path, e->name, e->as_read, &e->seen_first, &e->seen_last);
	if (n < 0)
		return;
	if ((uint64_t)n != e->packets) {
		verify_finding(c, "modified: %s: %ld packets, manifest line %u says %llu", e->name, n,
			e->line, (unsigned long long)e->packets);
		return;
	}
	e->checked_ok = 1;
	c->sum->verified++;
}

/*
 * The index of a recorded file whose record names one: NAME.idx there (never read through
 * a link, only a regular file with one link), with the SHA-256 and size of the record, and
 * the index of its file: built again from the file (when the file is intact), the same
 * bytes (the index is deterministic).
 */
static void
check_index(struct verify_ctx *c, const struct verify_entry *e)
{
	char iname[NAME_MAX + 8], err[600], hex[65], bhex[65];
	uint8_t sha[LC_INDEX_SHA256_LEN];
	uint64_t bytes, blen;
	int fd, cfd, mfd, rc;

	if (e->index != LC_INDEX_WRITTEN || !e->present)
		return;		/* none recorded (an index there is an extra), or no file */
	snprintf(iname, sizeof(iname), "%s" LC_INDEX_EXT, e->name);
	fd = lc_manifest_open_file(c->dirfd, iname, O_RDONLY, err, sizeof(err));
	if (fd == -ENOENT) {
		verify_finding(c, "index: %s: missing (manifest line %u records it; a crash before "
			       "it was named? --repair builds it again)", iname, e->line);
		return;
	}
	if (fd == -EINVAL) {	/* a link, a FIFO, a hard link */
		verify_finding(c, "index: %s: never read (manifest line %u)", err, e->line);
		return;
	}
	if (fd < 0) {
		verify_finding(c, "index: unreadable: %s (manifest line %u)", err, e->line);
		return;
	}
	rc = verify_file_sha(fd, hex, &bytes);
	close(fd);
	if (rc < 0) {
		verify_finding(c, "index: %s: unreadable: %s", iname, strerror(-rc));
		return;
	}
	if (strcmp(hex, e->index_sha) != 0) {
		verify_finding(c, "index: %s: SHA-256 %.16s... differs from manifest line %u "
			       "(%.16s...)", iname, hex, e->line, e->index_sha);
		return;
	}
	if (bytes != e->index_bytes) {
		verify_finding(c, "index: %s: %llu bytes, manifest line %u says %llu", iname,
			       (unsigned long long)bytes, e->line,
			       (unsigned long long)e->index_bytes);
		return;
	}
	if (!e->checked_ok)
		return;		/* the file is not what was recorded: said already */
	cfd = lc_manifest_open_file(c->dirfd, e->name, O_RDONLY, err, sizeof(err));
	mfd = memfd_create("linecap-verify-index", MFD_CLOEXEC);
	if (cfd < 0 || mfd < 0) {
		verify_finding(c, "index: %s: cannot build it again from %s: %s", iname, e->name,
			       cfd < 0 ? err : strerror(errno));
		goto out;
	}
	rc = lc_index_rebuild(cfd, e->name, mfd, sha, &blen, err, sizeof(err));
	if (rc < 0) {
		verify_finding(c, "index: %s: cannot build it again: %s", iname, err);
		goto out;
	}
	lc_sha256_hex(sha, bhex);
	if (strcmp(bhex, hex) != 0 || blen != bytes)
		verify_finding(c, "index: %s: not the index of %s (built again from it: SHA-256 "
			       "%.16s..., %llu bytes; the index and manifest line %u: %.16s..., %llu "
			       "bytes)", iname, e->name, bhex, (unsigned long long)blen, e->line, hex,
			       (unsigned long long)bytes);
out:
	if (cfd >= 0)
		close(cfd);
	if (mfd >= 0)
		close(mfd);
}

static int
by_queue_seq(const void *a, const void *b)
{
	const struct verify_entry *x = *(const struct verify_entry *const *)a, *y = *(const struct verify_entry *const *)b;

	if (x->queue != y->queue)
		return x->queue < y->queue ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Per queue, files follow each other in time. */
static void
check_order(struct verify_ctx *c)
{
	struct verify_entry **v = calloc(c->n ? c->n : 1, sizeof(*v));
	size_t m = 0;

	for (size_t i = 0; v && i < c->n; i++)
		if (!c->e[i].retired && c->e[i].checked_ok && c->e[i].packets > 0)
			v[m++] = &c->e[i];
	if (v == NULL)
		return;
	qsort(v, m, sizeof(*v), by_queue_seq);
	for (size_t i = 1; i < m; i++)
		if (v[i]->queue == v[i - 1]->queue && v[i]->seen_first < v[i - 1]->seen_last &&
		    !v[i]->as_read)
			verify_finding(c, "out of order: %s starts before %s ends (queue %d)", v[i]->name,
				v[i - 1]->name, v[i]->queue);
	free(v);
}

/* A name from the manifest as a finding shows it: printable ASCII, at most 64 bytes. */
static const char *
shown(const char *name, char out[80])
{
	size_t i, n = 0;

	for (i = 0; name[i] != '\0' && n < 64; i++)
		out[n++] = name[i] > 0x20 && name[i] < 0x7f ? name[i] : '?';
	snprintf(out + n, 80 - n, "%s", name[i] != '\0' ? "..." : "");
	return out;
}


/* A file's record: an entry for it. */
static int
load_file(struct verify_ctx *c, const struct lc_manifest_line *line)
{
	const struct lc_manifest_fields *r = &line->f;
	struct verify_entry *e;
	char show[80];

	if (!lc_manifest_name_ok(r->file)) {
		/* ../../etc/shadow, a/b, a 1 MB name: never opened. */
		verify_finding(c, "manifest: line %u records '%s', not a file name in the "
			       "directory: not read", line->lineno, shown(r->file, show));
		return 0;
	}
	if (verify_find(c, r->file) != NULL) {
		verify_finding(c, "manifest: line %u records %s a second time", line->lineno,
			       r->file);
		return 0;
	}
	e = verify_add(c, r->file);
	if (e == NULL)
		return -ENOMEM;
	snprintf(e->sha, sizeof(e->sha), "%s", r->sha256 ?: "");
	e->bytes = (uint64_t)r->bytes;
	e->packets = (uint64_t)r->packets;
	e->queue = (int)r->queue;
	e->seq = (int)r->seq;
	e->line = line->lineno;
	e->as_read = r->clock != NULL && strcmp(r->clock, "file") == 0;
	if (r->index)
		e->index = r->index_missing ? LC_INDEX_MISSING : LC_INDEX_WRITTEN;
	snprintf(e->index_sha, sizeof(e->index_sha), "%s", r->index_sha256 ?: "");
	e->index_bytes = r->index_bytes > 0 ? (uint64_t)r->index_bytes : 0;
	return 0;
}

/* One manifest line into c. */
static int
load_line(void *arg, const struct lc_manifest_line *line)
{
	struct verify_ctx *c = arg;
	const char *retired = line->f.retired;
	struct verify_entry *e;
	char err[600], show[80];

	if (line->cut) {
		/* Not a record: a crash came in the middle of its append. */
		verify_finding(c, "manifest: line %u is cut (no newline at its end: a crash while "
			       "it was written?); --repair moves it aside", line->lineno);
		return 0;
	}
	if (!c->quiet && !c->chain_told && lc_manifest_line_chained(line, err, sizeof(err)) != 0) {
		verify_finding(c, "manifest: %s", err);
		c->chain_told = 1;
	}
	switch (lc_manifest_record_kind(&line->f)) {
	case LC_RECORD_FILE:
		return load_file(c, line);
	case LC_RECORD_RETIRED:
		e = lc_manifest_name_ok(retired) ? verify_find(c, retired) : NULL;
		if (e == NULL) {
			verify_finding(c, "manifest: line %u retires %s, which it never recorded",
				       line->lineno, shown(retired, show));
			return 0;
		}
		e->retired = 1;
		if (line->f.index && !line->f.index_missing) {	/* the index retired with it */
			e->index = LC_INDEX_WRITTEN;
			snprintf(e->index_sha, sizeof(e->index_sha), "%s",
				 line->f.index_sha256 ?: "");
			e->index_bytes = line->f.index_bytes > 0 ? (uint64_t)line->f.index_bytes : 0;
		}
		return 0;
	default:
		return 0;
	}
}

int
verify_load(struct verify_ctx *c, const char *mpath, int quiet)
{
	char err[600];
	int fd = lc_manifest_open_read(c->dirfd, LC_MANIFEST_NAME, err, sizeof(err)), n;

	c->quiet = quiet;
	if (fd < 0) {
		verify_finding(c, "no manifest: %s/%s", c->dir, err);
		c->quiet = 0;
		return fd;
	}
	/* The chain is checked when findings are told (not in the quiet look before repairs). */
	n = lc_manifest_scan(fd, mpath, quiet ? 0 : LC_MANIFEST_SCAN_HASH, load_line, c, err,
			     sizeof(err));
	close(fd);
	if (n < 0)
		verify_finding(c, "manifest: %s", n == -ENOMEM ? "out of memory" : err);
	c->quiet = 0;
	return n < 0 ? n : 0;
}

/* The index of a retired file still there (found by the listing: a long manifest's
 * retired files cost no look-up each): retention deletes it after the file. */
static void
check_retired_index(struct verify_ctx *c, const struct verify_entry *e, const char *iname)
{
	char err[600];
	int fd;

	fd = lc_manifest_open_file(c->dirfd, iname, O_RDONLY, err, sizeof(err));
	if (fd >= 0)
		close(fd);
	if (fd == -ENOENT)
		return;
	if (fd == -EINVAL)	/* a link, a FIFO, a hard link: never deleted */
		verify_finding(c, "retirement pending: %s: left in place (a repair never deletes "
			       "it; look at it, remove it by hand)", err);
	else if (e->index != LC_INDEX_WRITTEN)
		verify_finding(c, "extra: %s (the index of %s, which is retired; no record names "
			       "this index)", iname, e->name);
	else
		verify_finding(c, "retirement pending: %s (retired with %s, not yet deleted: a "
			       "crash came between; --repair completes it)", iname, e->name);
}

/* A retired file still there: a retirement a crash cut short (or one never to complete). */
static void
check_retired(struct verify_ctx *c, struct verify_entry *e)
{
	char err[600];
	struct stat st;
	int fd;

	c->sum->retired++;
	if (fstatat(c->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	fd = lc_manifest_open_file(c->dirfd, e->name, O_RDONLY, err, sizeof(err));
	if (fd >= 0)
		close(fd);
	if (fd == -EINVAL)	/* a link, a FIFO, a hard link: never deleted */
		verify_finding(c, "retirement pending: %s: left in place (a repair never deletes "
			       "it; look at it, remove it by hand)", err);
	else
		verify_finding(c, "retirement pending: %s (retired, not yet deleted: a crash came "
			       "between; --repair completes it)", e->name);
}

/* A name in the directory that is an index (NAME.idx): the one a record names is checked
 * with its file (check_index); the rest is told here. */
static void
check_listed_index(struct verify_ctx *c, const char *name, const char *file)
{
	const struct verify_entry *e = verify_find(c, file);
	char part[NAME_MAX + 8];
	struct stat st;

	if (e != NULL && e->retired) {
		check_retired_index(c, e, name);
		return;
	}
	if (e != NULL && e->index == LC_INDEX_WRITTEN)
		return;
	snprintf(part, sizeof(part), "%s.part", file);
	if (e != NULL)
		verify_finding(c, "extra: %s (manifest line %u records no index for %s)", name,
			       e->line, file);
	else if (fstatat(c->dirfd, part, &st, AT_SYMLINK_NOFOLLOW) == 0)
		verify_finding(c, "unfinished: %s (the index of %s, which a crash left open; "
			       "--repair keeps it only if it is the index of the repaired file)",
			       name, part);
	else
		verify_finding(c, "extra: %s (not in the manifest)", name);
}

/* A name in the directory: a .part left by a crash, or a capture file the manifest lacks. */
static void
check_listed(struct verify_ctx *c, const char *name)
{
	char fin[NAME_MAX + 1], err[600];
	int fd;

	if (verify_is_index(name, fin)) {
		check_listed_index(c, name, fin);
		return;
	}
	if (!verify_is_part(name)) {
		if (lc_reader_is_capture_name(name) && verify_find(c, name) == NULL)
			verify_finding(c, "extra: %s (not in the manifest)", name);
		return;
	}
	snprintf(fin, sizeof(fin), "%.*s", (int)(strlen(name) - 5), name);
	fd = lc_manifest_open_file(c->dirfd, name, O_RDONLY, err, sizeof(err));
	if (fd >= 0)
		close(fd);
	if (fd == -EINVAL)	/* a link, a FIFO, a hard link: never repaired */
		verify_finding(c, "unfinished: %s: a repair never touches it (look at it, move it "
			       "away by hand)", err);
	else if (verify_find(c, fin) != NULL)
		verify_finding(c, "unfinished: %s (closed and recorded, not yet renamed: --repair "
			       "completes it)", name);
	else
		verify_finding(c, "unfinished: %s (cut short by a crash; --repair closes it)",
			       name);
}

/* --repair: under the directory's lock, never under a running capture. */
static void
repair_locked(struct verify_ctx *c, DIR *d, const char *mpath)
{
	char err[600];
	int lock;

	if (lc_outpath_lock(c->dir, &lock, err, sizeof(err)) < 0) {
		verify_finding(c, "not repairing: %s", err);
		return;
	}
	c->listing = 1;
	verify_repair_all(c, d, mpath);
	close(lock);
	rewinddir(d);
}

int
lc_verify_dir(const char *dir, int repair, lc_verify_say say, void *arg,
	      struct lc_verify_summary *sum)
{
	struct verify_ctx c = { .dir = dir, .say = say, .arg = arg, .sum = sum };
	char mpath[PATH_MAX + 32], err[600];
	struct dirent *de;
	DIR *d;

	memset(sum, 0, sizeof(*sum));
	d = opendir(dir);
	if (d == NULL) {
		int e = errno;

		snprintf(err, sizeof(err), "%s: %s", dir, strerror(e));
		say(arg, err);
		return -e;
	}
	c.dirfd = dirfd(d);
	snprintf(mpath, sizeof(mpath), "%s/" LC_MANIFEST_NAME, dir);
	if (repair) {
		repair_locked(&c, d, mpath);
		if (!c.listing) {	/* the lock was refused */
			closedir(d);
			return (int)sum->findings;
		}
	}
	if (verify_load(&c, mpath, 0) == 0) {
		for (size_t i = 0; i < c.n; i++) {
			if (c.e[i].retired) {
				check_retired(&c, &c.e[i]);
				continue;
			}
			sum->recorded++;
			check_recorded(&c, &c.e[i]);
			check_index(&c, &c.e[i]);
		}
		check_order(&c);
		while ((de = readdir(d)) != NULL)
			check_listed(&c, de->d_name);
	}
	closedir(d);
	verify_clear(&c);
	return (int)sum->findings;
}
