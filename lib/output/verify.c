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
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].name, name) == 0)
			return &c->e[i];
	return NULL;
}

static struct entry *
add(struct ctx *c, const char *name)
{
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

static int
file_sha(const char *path, char hex[65], uint64_t *bytes)
{
	static uint8_t buf[1 << 20];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx;
	FILE *f = fopen(path, "rb");
	size_t r;

	if (f == NULL)
		return -errno;
	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	*bytes = 0;
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0) {
		EVP_DigestUpdate(ctx, buf, r);
		*bytes += r;
	}
	fclose(f);
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Walk a file's records: structure, snaplen, link type, order. Returns records read, or -1
 * after a finding. */
static long
check_structure(struct ctx *c, const char *path, const char *name, uint64_t *first,
		uint64_t *last)
{
	char err[600];
	struct lc_reader *r = lc_reader_open(path, err, sizeof(err));
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

	snprintf(path, sizeof(path), "%s/%s", c->dir, e->name);
	if (access(path, F_OK) != 0) {
		char part[sizeof(path) + 8];

		snprintf(part, sizeof(part), "%s.part", path);
		if (access(part, F_OK) != 0)	/* else reported as unfinished below */
			finding(c, "missing: %s (manifest line %u; not retired)", e->name, e->line);
		return;
	}
	e->present = 1;
	if (file_sha(path, hex, &bytes) < 0) {
		finding(c, "unreadable: %s: %s", e->name, strerror(errno));
		return;
	}
	if (strcmp(hex, e->sha) != 0) {
		finding(c, "modified: %s: SHA-256 %.16s... differs from manifest line %u "
			"(%.16s...)", e->name, hex, e->line, e->sha);
		return;
	}
	if (bytes != e->bytes) {
		finding(c, "modified: %s: %llu bytes, manifest line %u says %llu", e->name,
			(unsigned long long)bytes, e->line, (unsigned long long)e->bytes);
		return;
	}
	n = check_structure(c, path, e->name, &e->seen_first, &e->seen_last);
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


/* Cut a .part file back to its last whole record, close it properly, record it. */
static void
repair(struct ctx *c, const char *part_name, struct lc_manifest *m)
{
	char part[PATH_MAX + NAME_MAX + 2], final[PATH_MAX + NAME_MAX + 2], name[NAME_MAX + 1];
	char err[600], hex[65], host[256] = "unknown";
	struct lc_reader *r;
	struct lc_record rec;
	uint64_t good, size, first = 0, last = 0, n = 0, bytes;
	struct stat st;
	int fd, queue = -1, seq = -1;

	snprintf(part, sizeof(part), "%s/%s", c->dir, part_name);
	snprintf(name, sizeof(name), "%.*s", (int)(strlen(part_name) - 5), part_name);
	snprintf(final, sizeof(final), "%s/%s", c->dir, name);
	if (stat(part, &st) != 0)
		return;
	struct entry *known = find(c, name);
	if (known != NULL) {
		/* Closed and recorded, cut before its rename: finish the rename. */
		if (file_sha(part, hex, &bytes) < 0 || strcmp(hex, known->sha) != 0) {
			finding(c, "conflict: %s differs from the record of %s (line %u)", part_name,
				name, known->line);
			return;
		}
		if (renameat2(AT_FDCWD, part, AT_FDCWD, final, RENAME_NOREPLACE) != 0) {
			finding(c, "unrepairable: %s: cannot take the name %s: %s", part_name, name,
				strerror(errno));
			return;
		}
		note(c, "completed: %s (closed and recorded before a crash; renamed now)", name);
		c->sum->repaired++;
		return;
	}
	size = (uint64_t)st.st_size;
	r = lc_reader_open(part, err, sizeof(err));
	if (r == NULL) {
		/* Not even a whole header: nothing a reader could use was written. */
		finding(c, "unrepairable: %s: %s", part_name, err);
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
	fd = open(part, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)good) != 0 || fsync(fd) != 0) {
		finding(c, "unrepairable: %s: %s", part_name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	if (renameat2(AT_FDCWD, part, AT_FDCWD, final, RENAME_NOREPLACE) != 0) {
		finding(c, "unrepairable: %s: cannot take the name %s: %s", part_name, name,
			strerror(errno));
		return;
	}
	fd = open(c->dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	if (file_sha(final, hex, &bytes) < 0) {
		finding(c, "unreadable: %s after repair", name);
		return;
	}
	parse_queue_seq(name, &queue, &seq);
	gethostname(host, sizeof(host) - 1);
	json_t *rec_j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:i, s:i, s:s, s:b, s:I, s:I, "
				  "s:s}", "file", name, "sha256", hex, "bytes", (json_int_t)bytes,
				  "packets", (json_int_t)n, "first_ns", (json_int_t)first,
				  "last_ns", (json_int_t)last, "queue", queue, "seq", seq,
				  "format", strstr(name, ".pcapng") ? "pcapng" : "pcap",
				  "repaired", 1, "cut_bytes", (json_int_t)(size - good),
				  "repaired_ns", (json_int_t)lc_realtime_ns(), "host", host);
	if (lc_manifest_append(m, rec_j, err, sizeof(err)) < 0)
		finding(c, "manifest: %s", err);
	json_decref(rec_j);
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

/* Load the manifest's records into c. Returns 0, or -errno. */
static int
load(struct ctx *c, const char *mpath)
{
	struct lc_manifest_line *lines;
	char err[600];
	int n = lc_manifest_read(mpath, &lines, err, sizeof(err));

	if (n < 0) {
		finding(c, "no manifest: %s", err);
		return n;
	}
	if (lc_manifest_check_chain(lines, n, err, sizeof(err)) != 0)
		finding(c, "manifest: %s", err);
	for (int i = 0; i < n; i++) {
		json_t *r = lines[i].rec;
		const char *file, *retired;
		struct entry *e;

		if (r == NULL)
			continue;
		file = json_string_value(json_object_get(r, "file"));
		retired = json_string_value(json_object_get(r, "retired"));
		if (file != NULL && json_object_get(r, "error") == NULL) {
			if (find(c, file) != NULL) {
				finding(c, "manifest: line %u records %s a second time",
					lines[i].lineno, file);
				continue;
			}
			e = add(c, file);
			if (e == NULL)
				break;
			snprintf(e->sha, sizeof(e->sha), "%s",
				 json_string_value(json_object_get(r, "sha256")) ?: "");
			e->bytes = (uint64_t)json_integer_value(json_object_get(r, "bytes"));
			e->packets = (uint64_t)json_integer_value(json_object_get(r, "packets"));
			e->queue = (int)json_integer_value(json_object_get(r, "queue"));
			e->seq = (int)json_integer_value(json_object_get(r, "seq"));
			e->line = lines[i].lineno;
		} else if (retired != NULL) {
			e = find(c, retired);
			if (e == NULL)
				finding(c, "manifest: line %u retires %s, which it never recorded",
					lines[i].lineno, retired);
			else
				e->retired = 1;
		}
	}
	lc_manifest_lines_free(lines, n);
	return 0;
}

/* Repair every .part file of the directory d (c->dir). Leaves c without entries. */
static void
repair_parts(struct ctx *c, DIR *d, const char *mpath)
{
	struct lc_manifest *m = NULL;
	struct dirent *de;
	char err[600];

	c->quiet = 1;		/* what is recorded already, before repairing */
	if (access(mpath, F_OK) == 0)
		load(c, mpath);
	c->quiet = 0;
	while ((de = readdir(d)) != NULL) {
		if (!is_part(de->d_name))
			continue;
		if (m == NULL && (m = lc_manifest_open(mpath, err, sizeof(err))) == NULL) {
			finding(c, "manifest: %s", err);
			break;
		}
		repair(c, de->d_name, m);
	}
	lc_manifest_close(m);
	free(c->e);
	c->e = NULL;
	c->n = c->cap = 0;
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
	snprintf(mpath, sizeof(mpath), "%s/" LC_MANIFEST_NAME, dir);
	repair_parts(&c, d, mpath);
	closedir(d);
	return (int)sum->findings;
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
	snprintf(mpath, sizeof(mpath), "%s/" LC_MANIFEST_NAME, dir);
	if (repair_cut) {
		int lock;

		/* Never under a running capture: its .part files are not cut. */
		if (lc_outpath_lock(dir, &lock, err, sizeof(err)) < 0) {
			finding(&c, "not repairing: %s", err);
			closedir(d);
			return (int)sum->findings;
		}
		repair_parts(&c, d, mpath);
		close(lock);
		rewinddir(d);
	}
	if (load(&c, mpath) < 0) {
		closedir(d);
		free(c.e);
		return (int)sum->findings;
	}
	for (size_t i = 0; i < c.n; i++) {
		if (c.e[i].retired) {
			char p[PATH_MAX + NAME_MAX + 2];

			sum->retired++;
			snprintf(p, sizeof(p), "%s/%s", dir, c.e[i].name);
			if (access(p, F_OK) == 0)
				finding(&c, "retired but present: %s", c.e[i].name);
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
			if (find(&c, fin) != NULL)
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
	return (int)sum->findings;
}
