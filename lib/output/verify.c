/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "linecap/clock.h"
#include "linecap/manifest.h"
#include "linecap/outpath.h"
#include "linecap/reader.h"
#include "linecap/verify.h"

struct entry {
	char name[NAME_MAX + 1];
	char sha[65];
	uint64_t bytes, packets, first_ns, last_ns;
	int queue, seq;
	unsigned int line;
	int retired;
	int present;
	int checked_ok;
	uint64_t seen_first, seen_last;	/* timestamps found in the file */
};

struct ctx {
	int quiet;		/* a first look (before repairs): findings not reported */
	const char *dir;
	lc_verify_say say;
	void *arg;
	struct lc_verify_summary *sum;
	struct entry *e;
	size_t n, cap;
	int dirfd;		/* the directory: every name is opened relative to it */
	struct lc_name_index *index;	/* e by name */
	int chain_told;		/* the first break of the chain is reported, once */
	int listing;		/* linecap-verify --repair: what cannot be repaired because of
				 * what it is (a link, a FIFO, a hard link) is left to the listing
				 * after the repairs, which reports it once */
};

static void
finding(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
finding(struct ctx *c, const char *fmt, ...)
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

static void
note(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(struct ctx *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->say(c->arg, line);
}

static struct entry *
find(struct ctx *c, const char *name)
{
	long i = c->index != NULL ? lc_name_index_get(c->index, name) : -1;

	return i >= 0 ? &c->e[i] : NULL;
}

/* name passed lc_manifest_name_ok (so it fits e->name whole). */
static struct entry *
add(struct ctx *c, const char *name)
{
	if (c->index == NULL && (c->index = lc_name_index_new()) == NULL)
		return NULL;
	if (lc_name_index_put(c->index, name, c->n) < 0)
		return NULL;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct entry *t = realloc(c->e, cap * sizeof(*t));

		if (t == NULL)
			return NULL;
		c->e = t;
		c->cap = cap;
	}
	memset(&c->e[c->n], 0, sizeof(c->e[0]));
	snprintf(c->e[c->n].name, sizeof(c->e[0].name), "%s", name);
	return &c->e[c->n++];
}

/* SHA-256 and size of the file open at fd, read from its start (fd's offset unmoved). */
static int
file_sha(int fd, char hex[65], uint64_t *bytes)
{
	static uint8_t buf[1 << 20];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx;
	ssize_t r;

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -ENOMEM;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	*bytes = 0;
	while ((r = pread(fd, buf, sizeof(buf), (off_t)*bytes)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			EVP_MD_CTX_free(ctx);
			errno = e;
			return -e;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		*bytes += (uint64_t)r;
	}
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Walk a file's records: structure, snaplen, link type, order. Returns records read, or -1
 * after a finding. */
static long
check_structure(struct ctx *c, int fd, const char *path, const char *name, uint64_t *first,
		uint64_t *last)
{
	char err[600];
	struct lc_reader *r = lc_reader_fdopen(fd, path, err, sizeof(err));
	struct lc_record rec;
	long n = 0;
	int rc, bad = 0;

	if (r == NULL) {
		finding(c, "corrupt: %s", err);
		return -1;
	}
	*first = *last = 0;
	while ((rc = lc_reader_next(r, &rec, err, sizeof(err))) == 1) {
		if (rec.linktype != 1 && !bad) {
			finding(c, "corrupt: %s: byte %llu: link type %u is not Ethernet", name,
				(unsigned long long)rec.offset, rec.linktype);
			bad = 1;
		}
		if (rec.snaplen && rec.stored > rec.snaplen && !bad) {
			finding(c, "corrupt: %s: byte %llu: record of %u bytes over the snaplen %u",
				name, (unsigned long long)rec.offset, rec.stored, rec.snaplen);
			bad = 1;
		}
		if (n > 0 && rec.ts_ns < *last && !bad) {
			finding(c, "out of order: %s: byte %llu: timestamp goes backwards", name,
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
		finding(c, "corrupt: %s", err);
		return -1;
	}
	return bad ? -1 : n;
}

static void
check_recorded(struct ctx *c, struct entry *e)
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
			finding(c, "missing: %s (manifest line %u; not retired)", e->name, e->line);
		return;
	}
	if (fd < 0) {
		finding(c, "unreadable: %s (manifest line %u)", err, e->line);
		return;
	}
	e->present = 1;
	if (file_sha(fd, hex, &bytes) < 0) {
		finding(c, "unreadable: %s: %s", e->name, strerror(errno));
		close(fd);
		return;
	}
	if (strcmp(hex, e->sha) != 0) {
		finding(c, "modified: %s: SHA-256 %.16s... differs from manifest line %u "
			"(%.16s...)", e->name, hex, e->line, e->sha);
		close(fd);
		return;
	}
	if (bytes != e->bytes) {
		finding(c, "modified: %s: %llu bytes, manifest line %u says %llu", e->name,
			(unsigned long long)bytes, e->line, (unsigned long long)e->bytes);
		close(fd);
		return;
	}
	n = check_structure(c, fd, path, e->name, &e->seen_first, &e->seen_last);
	if (n < 0)
		return;
	if ((uint64_t)n != e->packets) {
		finding(c, "modified: %s: %ld packets, manifest line %u says %llu", e->name, n,
			e->line, (unsigned long long)e->packets);
		return;
	}
	e->checked_ok = 1;
	c->sum->verified++;
}

static int
by_queue_seq(const void *a, const void *b)
{
	const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;

	if (x->queue != y->queue)
		return x->queue < y->queue ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Per queue, files follow each other in time. */
static void
check_order(struct ctx *c)
{
	struct entry **v = calloc(c->n ? c->n : 1, sizeof(*v));
	size_t m = 0;

	for (size_t i = 0; v && i < c->n; i++)
		if (!c->e[i].retired && c->e[i].checked_ok && c->e[i].packets > 0)
			v[m++] = &c->e[i];
	if (v == NULL)
		return;
	qsort(v, m, sizeof(*v), by_queue_seq);
	for (size_t i = 1; i < m; i++)
		if (v[i]->queue == v[i - 1]->queue && v[i]->seen_first < v[i - 1]->seen_last)
			finding(c, "out of order: %s starts before %s ends (queue %d)", v[i]->name,
				v[i - 1]->name, v[i]->queue);
	free(v);
}

static int
parse_queue_seq(const char *name, int *queue, int *seq)
{
	const char *q = strstr(name, "-q");
	const char *last = NULL;

	while (q != NULL) {	/* the last "-qNN-SSSSSS" in the name */
		last = q;
		q = strstr(q + 2, "-q");
	}
	return last == NULL || sscanf(last, "-q%d-%d", queue, seq) != 2 ? -1 : 0;
}

/* Append (and fsync) the record of a file a repair recorded: name, its SHA-256 and size, the
 * records in it; cut: bytes of a cut record removed; from: the cut manifest line it was
 * recovered from (NULL: none). 0 or -errno with the reason in err. */
static int
record_repaired(struct lc_manifest *m, const char *name, const char *hex, uint64_t bytes,
		uint64_t n, uint64_t first, uint64_t last, uint64_t cut, const char *from,
		char *err, size_t errlen)
{
	char host[256] = "unknown";
	int queue = -1, seq = -1, rc;

	parse_queue_seq(name, &queue, &seq);
	gethostname(host, sizeof(host) - 1);
	json_t *rec_j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:i, s:i, s:s, s:b, s:I, s:I, "
				  "s:s}", "file", name, "sha256", hex, "bytes", (json_int_t)bytes,
				  "packets", (json_int_t)n, "first_ns", (json_int_t)first,
				  "last_ns", (json_int_t)last, "queue", queue, "seq", seq,
				  "format", strstr(name, ".pcapng") ? "pcapng" : "pcap",
				  "repaired", 1, "cut_bytes", (json_int_t)cut,
				  "repaired_ns", (json_int_t)lc_realtime_ns(), "host", host);

	if (rec_j == NULL) {
		snprintf(err, errlen, "manifest: cannot encode a record");
		return -ENOMEM;
	}
	if (from != NULL)
		json_object_set_new(rec_j, "recovered_from", json_string(from));
	rc = lc_manifest_append(m, rec_j, err, errlen);
	if (rc == 0 && (rc = lc_manifest_sync(m)) < 0)
		snprintf(err, errlen, "manifest: fsync: %s", strerror(-rc));
	json_decref(rec_j);
	return rc;
}

/* Cut a .part file back to its last whole record, close it properly, record it. */
static void
repair(struct ctx *c, const char *part_name, struct lc_manifest *m)
{
	char part[PATH_MAX + NAME_MAX + 2], name[NAME_MAX + 1];
	char err[600], hex[65];
	struct lc_reader *r;
	struct lc_record rec;
	uint64_t good, size, first = 0, last = 0, n = 0, bytes;
	struct stat st;
	int fd;

	snprintf(part, sizeof(part), "%s/%s", c->dir, part_name);
	snprintf(name, sizeof(name), "%.*s", (int)(strlen(part_name) - 5), part_name);
	/* The .part itself, never what a link points to, never a FIFO or a device: every step
	 * below works on this descriptor or on names in the directory. */
	fd = lc_manifest_open_file(c->dirfd, part_name, O_RDWR, err, sizeof(err));
	if (fd == -EACCES)	/* enough to check and rename a recorded one */
		fd = lc_manifest_open_file(c->dirfd, part_name, O_RDONLY, err, sizeof(err));
	if (fd == -ENOENT || (fd == -EINVAL && c->listing))
		return;
	if (fd < 0 || fstat(fd, &st) != 0) {
		finding(c, "unrepairable: %s", fd < 0 ? err : strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	struct entry *known = find(c, name);
	if (known != NULL) {
		/* Closed and recorded, cut before its rename: finish the rename. */
		int same = file_sha(fd, hex, &bytes) == 0 && strcmp(hex, known->sha) == 0;

		close(fd);
		if (!same) {
			finding(c, "conflict: %s differs from the record of %s (line %u)", part_name,
				name, known->line);
			return;
		}
		if (renameat2(c->dirfd, part_name, c->dirfd, name, RENAME_NOREPLACE) != 0) {
			finding(c, "unrepairable: %s: cannot take the name %s: %s", part_name, name,
				strerror(errno));
			return;
		}
		note(c, "completed: %s (closed and recorded before a crash; renamed now)", name);
		c->sum->repaired++;
		return;
	}
	size = (uint64_t)st.st_size;
	r = lc_reader_fdopen(dup(fd), part, err, sizeof(err));
	if (r == NULL) {
		/* Not even a whole header: nothing a reader could use was written. */
		finding(c, "unrepairable: %s: %s", part_name, err);
		close(fd);
		return;
	}
	while (lc_reader_next(r, &rec, err, sizeof(err)) == 1) {
		if (n == 0)
			first = rec.ts_ns;
		last = rec.ts_ns;
		n++;
	}
	good = lc_reader_good_offset(r);
	lc_reader_close(r);
	if (ftruncate(fd, (off_t)good) != 0 || fsync(fd) != 0) {
		finding(c, "unrepairable: %s: %s", part_name, strerror(errno));
		close(fd);
		return;
	}
	/* Recorded (and fsync-ed) before the rename, as a capture does: a crash between the
	 * two leaves a .part its record explains, which the next repair renames. The name is
	 * checked first (no capture runs: we hold the directory's lock). */
	int taken = fstatat(c->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? EEXIST :
		    errno != ENOENT ? errno : 0;

	if (taken != 0) {
		finding(c, "unrepairable: %s: cannot take the name %s: %s", part_name, name,
			strerror(taken));
		close(fd);
		return;
	}
	if (file_sha(fd, hex, &bytes) < 0) {
		finding(c, "unreadable: %s after repair", part_name);
		close(fd);
		return;
	}
	int rc = record_repaired(m, name, hex, bytes, n, first, last, size - good, NULL, err,
				 sizeof(err));

	if (rc < 0) {
		finding(c, "%s: %s is left cut back, not renamed", err, part_name);
		close(fd);
		return;
	}
	if (renameat2(c->dirfd, part_name, c->dirfd, name, RENAME_NOREPLACE) != 0) {
		finding(c, "unrepairable: %s: cannot take the name %s: %s", part_name, name,
			strerror(errno));
		close(fd);
		return;
	}
	fsync(c->dirfd);
	close(fd);
	note(c, "repaired: %s: %llu packets kept, %llu bytes of a cut record removed", name,
	     (unsigned long long)n, (unsigned long long)(size - good));
	c->sum->repaired++;
}


static int
is_part(const char *n)
{
	size_t l = strlen(n);

	return l > 5 && strcmp(n + l - 5, ".part") == 0;
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

/* One manifest line into c. */
static int
load_line(void *arg, const struct lc_manifest_line *line)
{
	struct ctx *c = arg;
	const struct lc_manifest_fields *r = &line->f;
	const char *file = r->file, *retired = r->retired;
	struct entry *e;
	char err[600], show[80];

	if (line->cut) {
		/* Not a record: a crash came in the middle of its append. */
		finding(c, "manifest: line %u is cut (no newline at its end: a crash while it was "
			"written?); --repair moves it aside", line->lineno);
		return 0;
	}
	if (!c->quiet && !c->chain_told && lc_manifest_line_chained(line, err, sizeof(err)) != 0) {
		finding(c, "manifest: %s", err);
		c->chain_told = 1;
	}
	if (!r->object)
		return 0;
	if (file != NULL && !r->error) {
		if (!lc_manifest_name_ok(file)) {
			/* ../../etc/shadow, a/b, a 1 MB name: never opened. */
			finding(c, "manifest: line %u records '%s', not a file name in the "
				"directory: not read", line->lineno, shown(file, show));
			return 0;
		}
		if (find(c, file) != NULL) {
			finding(c, "manifest: line %u records %s a second time", line->lineno, file);
			return 0;
		}
		e = add(c, file);
		if (e == NULL)
			return -ENOMEM;
		snprintf(e->sha, sizeof(e->sha), "%s", r->sha256 ?: "");
		e->bytes = (uint64_t)r->bytes;
		e->packets = (uint64_t)r->packets;
		e->queue = (int)r->queue;
		e->seq = (int)r->seq;
		e->line = line->lineno;
	} else if (retired != NULL) {
		e = lc_manifest_name_ok(retired) ? find(c, retired) : NULL;
		if (e == NULL)
			finding(c, "manifest: line %u retires %s, which it never recorded",
				line->lineno, shown(retired, show));
		else
			e->retired = 1;
	}
	return 0;
}

/* Load the manifest's records into c. Returns 0, or -errno. */
static int
load(struct ctx *c, const char *mpath)
{
	char err[600];
	int fd = lc_manifest_open_read(c->dirfd, LC_MANIFEST_NAME, err, sizeof(err)), n;

	if (fd < 0) {
		finding(c, "no manifest: %s/%s", c->dir, err);
		return fd;
	}
	/* The chain is checked when findings are told (not in the quiet look before repairs). */
	n = lc_manifest_scan(fd, mpath, c->quiet ? 0 : LC_MANIFEST_SCAN_HASH, load_line, c, err,
			     sizeof(err));
	close(fd);
	if (n < 0) {
		finding(c, "manifest: %s", n == -ENOMEM ? "out of memory" : err);
		return n;
	}
	return 0;
}

/*
 * Retirements a crash cut short. Retention writes (and fsyncs) the record that retires a
 * file before it deletes the file, so a file can still be there with its retire record:
 * its deletion is completed here, when it is the very file the manifest recorded (same
 * SHA-256, same size). Anything else under that name is left in place, as a finding.
 */
static void
finish_retirements(struct ctx *c)
{
	int deleted = 0;
	struct stat ms;
	/* Whoever can write the manifest can write a retire record: a file is deleted on its
	 * word only where the manifest is root's or the file belongs to the manifest's owner
	 * (a -Z user's manifest never deletes root's files). */
	uid_t writer = fstatat(c->dirfd, LC_MANIFEST_NAME, &ms, AT_SYMLINK_NOFOLLOW) == 0 ?
		       ms.st_uid : 0;

	for (size_t i = 0; i < c->n; i++) {
		struct entry *e = &c->e[i];
		char err[600], hex[65];
		uint64_t bytes;
		int fd, same;

		if (!e->retired)
			continue;
		fd = lc_manifest_open_file(c->dirfd, e->name, O_RDONLY, err, sizeof(err));
		if (fd == -ENOENT || (fd == -EINVAL && c->listing))
			continue;	/* retired and gone, as it should be; or told later */
		if (fd < 0) {
			finding(c, "retirement pending: %s: left in place", err);
			continue;
		}
		struct stat fs;

		if (fstat(fd, &fs) == 0 && writer != 0 && fs.st_uid != writer) {
			close(fd);
			finding(c, "retirement pending: %s belongs to uid %u, the manifest to uid %u "
				"(who wrote that record could not delete it): left in place", e->name,
				(unsigned int)fs.st_uid, (unsigned int)writer);
			continue;
		}
		same = file_sha(fd, hex, &bytes) == 0 && strcmp(hex, e->sha) == 0 &&
		       bytes == e->bytes;
		close(fd);
		if (!same) {
			finding(c, "conflict: %s was retired but differs from its record: left in "
				"place", e->name);
			continue;
		}
		if (unlinkat(c->dirfd, e->name, 0) != 0) {
			finding(c, "retirement pending: %s: cannot delete it: %s", e->name,
				strerror(errno));
			continue;
		}
		deleted = 1;
		note(c, "retirement completed: %s (retired before a crash; deleted now)", e->name);
	}
	if (deleted)
		fsync(c->dirfd);
}

/*
 * The retire records at the end of the manifest (its last LC_VERIFY_TAIL bytes) into c, as
 * retired entries with the SHA-256 and size their records give: where a capture starts,
 * the retirement a crash cut short is the last one its manifest records (the retire record
 * is written, fsync-ed, the file deleted, and only then anything else), followed at most
 * by the records of the files the crash cut. The whole manifest is not read for it: a
 * capture start in a long directory stays quick (linecap-verify --repair reads it all).
 */
#define LC_VERIFY_TAIL (1u << 20)

static void
load_tail(struct ctx *c)
{
	char err[600], *buf, *p, *nl;
	int fd = lc_manifest_open_read(c->dirfd, LC_MANIFEST_NAME, err, sizeof(err));
	struct stat st;
	off_t from;
	ssize_t got;

	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || (buf = malloc(LC_VERIFY_TAIL + 1)) == NULL) {
		close(fd);
		return;
	}
	from = st.st_size > (off_t)LC_VERIFY_TAIL ? st.st_size - (off_t)LC_VERIFY_TAIL : 0;
	got = pread(fd, buf, LC_VERIFY_TAIL, from);
	close(fd);
	if (got <= 0) {
		free(buf);
		return;
	}
	buf[got] = '\0';
	p = buf;
	if (from > 0 && (p = strchr(buf, '\n')) != NULL)
		p++;	/* from the first whole line */
	for (; p != NULL && *p != '\0'; p = nl ? nl + 1 : NULL) {
		json_t *r;
		const char *name;
		struct entry *e;

		nl = strchr(p, '\n');
		r = json_loadb(p, nl ? (size_t)(nl - p) : strlen(p), 0, NULL);
		name = json_string_value(json_object_get(r, "retired"));
		if (name != NULL && lc_manifest_name_ok(name) &&
		    ((e = find(c, name)) != NULL || (e = add(c, name)) != NULL)) {
			e->retired = 1;
			snprintf(e->sha, sizeof(e->sha), "%s",
				 json_string_value(json_object_get(r, "sha256")) ?: "");
			e->bytes = (uint64_t)json_integer_value(json_object_get(r, "bytes"));
		}
		json_decref(r);
	}
	free(buf);
}

/* Record name, a whole capture file that a manifest line cut by a crash (now in aside) was
 * the record of, when the manifest does not record it already. */
static void
recover_file(struct ctx *c, const char *mpath, const char *name, const char *aside)
{
	char path[PATH_MAX + NAME_MAX + 2], err[600], hex[65];
	uint64_t first = 0, last = 0, n = 0, bytes, good;
	struct lc_manifest *m;
	struct lc_reader *r;
	struct lc_record rec;
	int fd, rc;

	c->quiet = 1;
	load(c, mpath);
	c->quiet = 0;
	fd = find(c, name) == NULL ?
	     lc_manifest_open_file(c->dirfd, name, O_RDONLY, err, sizeof(err)) : -EEXIST;
	free(c->e);
	c->e = NULL;
	c->n = c->cap = 0;
	lc_name_index_free(c->index);
	c->index = NULL;
	if (fd < 0)
		return;		/* recorded, gone, or not a file: the listing says so */
	snprintf(path, sizeof(path), "%s/%s", c->dir, name);
	r = lc_reader_fdopen(dup(fd), path, err, sizeof(err));
	while (r != NULL && (rc = lc_reader_next(r, &rec, err, sizeof(err))) == 1) {
		if (n == 0)
			first = rec.ts_ns;
		last = rec.ts_ns;
		n++;
	}
	good = r != NULL ? lc_reader_good_offset(r) : 0;
	lc_reader_close(r);
	if (r == NULL || file_sha(fd, hex, &bytes) < 0 || good != bytes) {
		close(fd);
		return;		/* not a whole capture file: left as an extra */
	}
	close(fd);
	m = lc_manifest_open(mpath, err, sizeof(err));
	rc = m != NULL ? record_repaired(m, name, hex, bytes, n, first, last, 0, aside, err,
					 sizeof(err)) : -1;
	lc_manifest_close(m);
	if (rc < 0) {
		finding(c, "unrepairable: %s: not recorded: %s", name, err);
		return;
	}
	note(c, "recorded: %s (%llu packets; its record was the cut line, now in %s)", name,
	     (unsigned long long)n, aside);
	c->sum->repaired++;
}

/* Repair every .part file of the directory d (c->dir), then complete the retirements a
 * crash cut short (finish_retirements): with full, every one the manifest records; else
 * (a capture's start) those at its end (load_tail). Leaves c without entries. */
static void
repair_parts(struct ctx *c, DIR *d, const char *mpath, int full)
{
	struct lc_manifest *m = NULL;
	struct dirent *de;
	char err[600];
	int loaded = 0;

	while ((de = readdir(d)) != NULL) {
		if (!is_part(de->d_name))
			continue;
		if (m == NULL) {
			/* What is recorded already, before repairing (read only when there is
			 * something to repair: a capture start in a long directory stays quick). */
			c->quiet = 1;
			load(c, mpath);
			c->quiet = 0;
			loaded = 1;
			if ((m = lc_manifest_open(mpath, err, sizeof(err))) == NULL) {
				finding(c, "manifest: %s", err);
				break;
			}
		}
		repair(c, de->d_name, m);
	}
	lc_manifest_close(m);
	if (!loaded && full) {	/* nothing was cut: what is recorded, for the retirements */
		c->quiet = 1;
		load(c, mpath);
		c->quiet = 0;
	} else if (!loaded) {
		load_tail(c);
	}
	finish_retirements(c);
	free(c->e);
	c->e = NULL;
	c->n = c->cap = 0;
	lc_name_index_free(c->index);
	c->index = NULL;
}

int
lc_verify_repair(const char *dir, lc_verify_say say, void *arg, struct lc_verify_summary *sum)
{
	struct ctx c = { .dir = dir, .say = say, .arg = arg, .sum = sum };
	char mpath[PATH_MAX + 32];
	DIR *d;

	memset(sum, 0, sizeof(*sum));
	d = opendir(dir);
	if (d == NULL)
		return -errno;
	c.dirfd = dirfd(d);
	snprintf(mpath, sizeof(mpath), "%s/" LC_MANIFEST_NAME, dir);
	repair_parts(&c, d, mpath, 0);
	closedir(d);
	return (int)sum->findings;
}

/*
 * A manifest whose last line is cut (no newline at its end): a crash in the middle of an
 * append, since every append is a whole line followed by fsync. The cut bytes are kept in
 * manifest.jsonl.cut-N (the first N free), the manifest truncated to its last whole line,
 * and the file the cut line named (its "file" member, when that much of it was written) is
 * recorded from what it holds, as a repaired file, when it is a whole capture file the
 * manifest does not record. Runs under the directory's lock.
 */
static void
repair_cut_line(struct ctx *c, const char *mpath)
{
	char err[600], buf[64 << 10], aside[sizeof(LC_MANIFEST_NAME) + 16], name[NAME_MAX + 1];
	char head[NAME_MAX + 64] = "";
	int fd, out = -1;
	uint64_t keep, at;
	struct stat st;
	ssize_t r;

	fd = lc_manifest_open_file(c->dirfd, LC_MANIFEST_NAME, O_RDWR, err, sizeof(err));
	if (fd < 0)
		return;		/* none, or not a file: the listing says so */
	if (fstat(fd, &st) != 0 || st.st_size == 0 || pread(fd, buf, 1, st.st_size - 1) != 1 ||
	    buf[0] == '\n') {
		close(fd);
		return;
	}
	/* Back to the last newline. */
	keep = (uint64_t)st.st_size;
	for (int found = 0; keep > 0 && !found;) {
		size_t n = keep < sizeof(buf) ? (size_t)keep : sizeof(buf);

		if (pread(fd, buf, n, (off_t)(keep - n)) != (ssize_t)n)
			goto io;
		for (; n > 0 && !(found = buf[n - 1] == '\n'); n--)
			keep--;
	}
	for (int i = 1; i < 1000 && out < 0; i++) {
		snprintf(aside, sizeof(aside), LC_MANIFEST_NAME ".cut-%d", i);
		out = openat(c->dirfd, aside, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0640);
		if (out < 0 && errno != EEXIST)
			goto io;
	}
	if (out < 0)
		goto io;
	for (at = keep; at < (uint64_t)st.st_size; at += (uint64_t)r) {
		r = pread(fd, buf, sizeof(buf), (off_t)at);
		if (r <= 0 || write(out, buf, (size_t)r) != r)
			goto io;
		if (at == keep)
			snprintf(head, sizeof(head), "%.*s", (int)r, buf);
	}
	if (fsync(out) != 0 || ftruncate(fd, (off_t)keep) != 0 || fsync(fd) != 0)
		goto io;
	fsync(c->dirfd);
	close(out);
	close(fd);
	note(c, "repaired: %s: its last line was cut (%llu bytes, a crash while it was written): "
	     "moved to %s, the manifest truncated to its last whole line", LC_MANIFEST_NAME,
	     (unsigned long long)((uint64_t)st.st_size - keep), aside);
	c->sum->repaired++;
	/* The file it named: {"file":"NAME", as lc_manifest_append writes a file's record. */
	int named = 0;	/* the name whole, its closing quote written too */

	if (sscanf(head, "{\"file\":\"%255[^\"\\]\"%n", name, &named) == 1 && named > 0 &&
	    lc_manifest_name_ok(name) && lc_reader_is_capture_name(name))
		recover_file(c, mpath, name, aside);
	return;
io:
	finding(c, "unrepairable: %s: its last line is cut, and moving it aside failed: %s",
		LC_MANIFEST_NAME, strerror(errno));
	if (out >= 0)
		close(out);
	close(fd);
}

int
lc_verify_dir(const char *dir, int repair_cut, lc_verify_say say, void *arg,
	      struct lc_verify_summary *sum)
{
	struct ctx c = { .dir = dir, .say = say, .arg = arg, .sum = sum };
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
	if (repair_cut) {
		int lock;

		/* Never under a running capture: its .part files are not cut. */
		if (lc_outpath_lock(dir, &lock, err, sizeof(err)) < 0) {
			finding(&c, "not repairing: %s", err);
			closedir(d);
			return (int)sum->findings;
		}
		c.listing = 1;
		repair_cut_line(&c, mpath);
		repair_parts(&c, d, mpath, 1);
		close(lock);
		rewinddir(d);
	}
	if (load(&c, mpath) < 0) {
		closedir(d);
		free(c.e);
		lc_name_index_free(c.index);
		return (int)sum->findings;
	}
	for (size_t i = 0; i < c.n; i++) {
		if (c.e[i].retired) {
			struct stat st;

			sum->retired++;
			if (fstatat(c.dirfd, c.e[i].name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
			int fd = lc_manifest_open_file(c.dirfd, c.e[i].name, O_RDONLY, err,
						       sizeof(err));

			if (fd >= 0)
				close(fd);
			if (fd == -EINVAL)	/* a link, a FIFO, a hard link: never deleted */
				finding(&c, "retirement pending: %s: left in place (a repair never "
					"deletes it; look at it, remove it by hand)", err);
			else
				finding(&c, "retirement pending: %s (retired, not yet deleted: a "
					"crash came between; --repair completes it)", c.e[i].name);
			continue;
		}
		sum->recorded++;
		check_recorded(&c, &c.e[i]);
	}
	check_order(&c);
	while ((de = readdir(d)) != NULL) {
		if (is_part(de->d_name)) {
			char fin[NAME_MAX + 1];

			snprintf(fin, sizeof(fin), "%.*s", (int)(strlen(de->d_name) - 5), de->d_name);
			int fd = lc_manifest_open_file(c.dirfd, de->d_name, O_RDONLY, err,
						       sizeof(err));

			if (fd >= 0)
				close(fd);
			if (fd == -EINVAL)	/* a link, a FIFO, a hard link: never repaired */
				finding(&c, "unfinished: %s: a repair never touches it (look at it, "
					"move it away by hand)", err);
			else if (find(&c, fin) != NULL)
				finding(&c, "unfinished: %s (closed and recorded, not yet renamed: "
					"--repair completes it)", de->d_name);
			else
				finding(&c, "unfinished: %s (cut short by a crash; --repair closes "
					"it)", de->d_name);
		}
		else if (lc_reader_is_capture_name(de->d_name) && find(&c, de->d_name) == NULL)
			finding(&c, "extra: %s (not in the manifest)", de->d_name);
	}
	closedir(d);
	free(c.e);
	lc_name_index_free(c.index);
	return (int)sum->findings;
}
