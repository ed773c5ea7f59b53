/* SPDX-License-Identifier: BSD-3-Clause */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "linecap/manifest.h"
#include "shard.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

struct lc_manifest {
	int fd;
	size_t size;
	char last[65];		/* hash of the last line */
	int created;		/* by lc_manifest_open (O_EXCL): ours to give away (-Z) */
};

static void
sha_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	lc_sha256_hex(md, out);
}

static const char *
kind_of(mode_t mode)
{
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISDIR(mode))
		return "a directory";
	return "an unknown kind of file";
}

/* A file with more than one name is also a file elsewhere (a hard link planted in the
 * directory): what is done to it (cut, renamed, deleted) or read from it (its hash) would be
 * done to or said of that other file. 0, or -EINVAL with "name: has N links" in err. */
static int
check_links(const struct stat *st, const char *name, char *err, size_t errlen)
{
	if (st->st_nlink > 1) {
		snprintf(err, errlen, "%s: has %llu links (the same file is elsewhere too), not "
			 "used", name, (unsigned long long)st->st_nlink);
		return -EINVAL;
	}
	return 0;
}

/* Is fd a regular file with one name? 0, or -EINVAL / -errno with "name: reason" in err. */
static int
check_regular(int fd, const char *name, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", name, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s, not a regular file", name,
			 kind_of(st.st_mode));
		return -EINVAL;
	}
	return check_links(&st, name, err, errlen);
}

/*
 * Open name (relative to dirfd) with flags, only if it is a regular file: what is there is
 * looked at first (without following a link), so that a device or a FIFO is never even
 * opened, and the descriptor is checked again (it could have been swapped in between).
 * Returns the descriptor or -errno (-EINVAL: not a regular file), "name: reason" in err.
 */
static int
open_regular(int dirfd, const char *name, int flags, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: %s, not a regular file", name,
				 kind_of(st.st_mode));
			return -EINVAL;
		}
		if (check_links(&st, name, err, errlen) < 0)
			return -EINVAL;
	} else if (errno == ENOENT && !(flags & O_CREAT)) {
		snprintf(err, errlen, "%s: %s", name, strerror(ENOENT));
		return -ENOENT;	/* one call, not two, for each file retired long ago */
	}
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ELOOP) {
			snprintf(err, errlen, "%s: a symbolic link, not a regular file",
				 name);
			return -EINVAL;
		}
		snprintf(err, errlen, "%s: %s", name, strerror(-rc));
		return rc;
	}
	rc = check_regular(fd, name, err, errlen);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int
lc_manifest_open_read(int dirfd, const char *name, char *err, size_t errlen)
{
	return open_regular(dirfd, name, O_RDONLY, err, errlen);
}

int
lc_manifest_open_file(int dirfd, const char *name, int flags, char *err, size_t errlen)
{
	return open_regular(dirfd, name, flags & ~O_CREAT, err, errlen);
}

struct name_slot {
	uint64_t hash;
	char *name;		/* NULL: free */
	size_t value;
};

struct lc_name_index {
	struct name_slot *slot;
	size_t n, mask;
	uint64_t k0, k1;
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

/* SipHash-2-4 of a name under the index's key. */
static uint64_t
name_hash(const struct lc_name_index *x, const char *name)
{
	const uint8_t *in = (const uint8_t *)name;
	size_t len = strlen(name), i;
	uint64_t v0 = 0x736f6d6570736575ull ^ x->k0, v1 = 0x646f72616e646f6dull ^ x->k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ x->k0, v3 = 0x7465646279746573ull ^ x->k1;
	uint64_t b = (uint64_t)len << 56, m;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, in + i, 8);
		m = le64toh(m);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

struct lc_name_index *
lc_name_index_new(void)
{
	struct lc_name_index *x = calloc(1, sizeof(*x));
	uint64_t key[2];

	if (x == NULL || (x->slot = calloc(64, sizeof(*x->slot))) == NULL) {
		free(x);
		errno = ENOMEM;
		return NULL;
	}
	x->mask = 63;
	if (getrandom(key, sizeof(key), GRND_NONBLOCK) != (ssize_t)sizeof(key)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
		key[1] = (uint64_t)(uintptr_t)x * 0xc2b2ae3d27d4eb4full ^ (uint64_t)ts.tv_sec;
	}
	x->k0 = key[0];
	x->k1 = key[1];
	return x;
}

/* The slot of name (hash h): where it is, or the free one where it would go. */
static struct name_slot *
name_slot(const struct lc_name_index *x, uint64_t h, const char *name)
{
	for (size_t i = h & x->mask;; i = (i + 1) & x->mask) {
		struct name_slot *s = &x->slot[i];

		if (s->name == NULL || (s->hash == h && strcmp(s->name, name) == 0))
			return s;
	}
}

int
lc_name_index_put(struct lc_name_index *x, const char *name, size_t value)
{
	uint64_t h = name_hash(x, name);
	struct name_slot *s;

	if (2 * (x->n + 1) > x->mask + 1) {	/* at most half full */
		size_t cap = 2 * (x->mask + 1);
		struct name_slot *old = x->slot, *t = calloc(cap, sizeof(*t));
		size_t oldcap = x->mask + 1;

		if (t == NULL)
			return -ENOMEM;
		x->slot = t;
		x->mask = cap - 1;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].name != NULL)
				*name_slot(x, old[i].hash, old[i].name) = old[i];
		free(old);
	}
	s = name_slot(x, h, name);
	if (s->name == NULL) {
		s->name = strdup(name);
		if (s->name == NULL)
			return -ENOMEM;
		s->hash = h;
		x->n++;
	}
	s->value = value;
	return 0;
}

long
lc_name_index_get(const struct lc_name_index *x, const char *name)
{
	const struct name_slot *s = name_slot(x, name_hash(x, name), name);

	return s->name != NULL ? (long)s->value : -1;
}

void
lc_name_index_free(struct lc_name_index *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i <= x->mask; i++)
		free(x->slot[i].name);
	free(x->slot);
	free(x);
}

int
lc_manifest_name_ok(const char *name)
{
	size_t n = 0;

	if (name == NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++, n++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f || n >= NAME_MAX)
			return 0;
	return n > 0;
}

/* The hash of the last line of the file at fd (size bytes) into last, reading backwards
 * from its end, so a long manifest is not read whole. 0 or -errno. */
static int
hash_last_line(int fd, uint64_t size, char last[65], uint64_t *from, uint64_t *to)
{
	uint8_t buf[64 << 10], md[EVP_MAX_MD_SIZE];
	uint64_t end = size, start;
	unsigned int n = 0;
	EVP_MD_CTX *ctx;
	int found = 0;
	ssize_t r;

	/* Past the trailing newlines. */
	while (end > 0) {
		if (pread(fd, buf, 1, (off_t)(end - 1)) != 1)
			return -EIO;
		if (buf[0] != '\n')
			break;
		end--;
	}
	*from = *to = end;
	if (end == 0)
		return 0;
	/* Back to the newline before the last line. */
	start = end;
	while (start > 0 && !found) {
		size_t chunk = start < sizeof(buf) ? (size_t)start : sizeof(buf);

		if (pread(fd, buf, chunk, (off_t)(start - chunk)) != (ssize_t)chunk)
			return -EIO;
		for (size_t i = chunk; i > 0; i--) {
			if (buf[i - 1] == '\n') {
				start -= chunk - i;
				found = 1;
				break;
			}
		}
		if (!found)
			start -= chunk;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return -ENOMEM;
	}
	for (uint64_t at = start; at < end; at += (uint64_t)r) {
		size_t want = end - at < sizeof(buf) ? (size_t)(end - at) : sizeof(buf);

		r = pread(fd, buf, want, (off_t)at);
		if (r <= 0) {
			EVP_MD_CTX_free(ctx);
			return -EIO;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	}
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	lc_sha256_hex(md, last);
	*from = start;
	return 0;
}

/*
 * Is what the manifest open at fd (size bytes) ends with something to append after: nothing,
 * or a whole line (newline-ended) that is a JSON object (bytes from..to)? 0, or -EINVAL with
 * the reason in err. A line with no newline is what a crash leaves in the middle of an append
 * (ours are whole lines, fsync-ed): a record appended after it would be glued to it, and both
 * lost to the readers. A last line over 1 MiB is not parsed here (linecap-verify reads it).
 */
static int
check_end(int fd, uint64_t size, uint64_t from, uint64_t to, const char *path, char *err,
	  size_t errlen)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash == NULL ? 1 : slash == path ? 1 : (int)(slash - path);
	const char *dir = slash == NULL ? "." : path;
	struct lc_manifest_fields f;
	char c = '\n', *line, *scratch;
	int ok;

	if (size == 0)
		return 0;
	if (pread(fd, &c, 1, (off_t)(size - 1)) != 1)
		return 0;	/* hash_last_line read it: cannot be */
	if (c != '\n') {
		snprintf(err, errlen, "%s: its last line is cut (a crash while it was written?): "
			 "run linecap-verify --repair %.*s", path, dirlen, dir);
		return -EINVAL;
	}
	if (to - from > (1u << 20) || to == from)
		return 0;
	line = malloc(to - from + 1);
	scratch = malloc(to - from + 17);
	ok = line != NULL && scratch != NULL &&
	     pread(fd, line, to - from, (off_t)from) == (ssize_t)(to - from) &&
	     lc_manifest_parse_line(line, to - from, scratch, &f);
	if (line == NULL || scratch == NULL)
		ok = 1;	/* not checked: linecap-verify reads it */
	free(line);
	free(scratch);
	if (!ok) {
		snprintf(err, errlen, "%s: its last line is not a JSON object: not a linecap "
			 "manifest? (linecap-verify %.*s says more)", path, dirlen, dir);
		return -EINVAL;
	}
	return 0;
}

struct lc_manifest *
lc_manifest_open(const char *path, char *err, size_t errlen)
{
	struct lc_manifest *m = calloc(1, sizeof(*m));
	uint64_t from = 0, to = 0;
	struct stat st;
	int rc;

	if (m == NULL) {
		errno = ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	snprintf(m->last, sizeof(m->last), "%s", ZERO_HASH);
	/* Read and append through one descriptor: what was checked is what is written. Made
	 * here (O_EXCL) or there already: only the one made here is ever given away. */
	m->fd = open_regular(AT_FDCWD, path, O_RDWR | O_APPEND | O_CREAT | O_EXCL, err, errlen);
	m->created = m->fd >= 0;
	if (m->fd == -EEXIST)
		m->fd = open_regular(AT_FDCWD, path, O_RDWR | O_APPEND, err, errlen);
	if (m->fd < 0) {
		rc = m->fd;
		goto fail;
	}
	if (fstat(m->fd, &st) != 0 ||
	    fcntl(m->fd, F_SETFL, fcntl(m->fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	/* The chain goes on from the last whole line. */
	rc = hash_last_line(m->fd, (uint64_t)st.st_size, m->last, &from, &to);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	rc = check_end(m->fd, (uint64_t)st.st_size, from, to, path, err, errlen);
	if (rc < 0)
		goto fail;
	m->size = (size_t)st.st_size;
	return m;
fail:
	if (m->fd >= 0)
		close(m->fd);
	free(m);
	errno = -rc;
	return NULL;
}

int
lc_manifest_append(struct lc_manifest *m, json_t *rec, char *err, size_t errlen)
{
	char *line;
	size_t n;
	int rc = 0;

	json_object_set_new(rec, "prev", json_string(m->last));
	line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line == NULL) {
		snprintf(err, errlen, "manifest: cannot encode a record");
		return -ENOMEM;
	}
	n = strlen(line);
	line[n] = '\n';		/* json_dumps leaves room for the NUL we overwrite */
	ssize_t w = write(m->fd, line, n + 1);

	if (w != (ssize_t)(n + 1)) {
		rc = w < 0 ? -errno : -ENOSPC;
		snprintf(err, errlen, "manifest: %s", strerror(-rc));
		/* Never half a line: what got through is taken back (a full disk). */
		if (w > 0 && ftruncate(m->fd, (off_t)m->size) != 0)
			snprintf(err, errlen, "manifest: %s, and a part of a line is left: %s",
				 strerror(-rc), strerror(errno));
	} else {
		sha_hex(line, n, m->last);
		m->size += n + 1;
	}
	free(line);
	return rc;
}

int
lc_manifest_sync(struct lc_manifest *m)
{
	return fsync(m->fd) == 0 ? 0 : -errno;
}

int
lc_manifest_reserve(struct lc_manifest *m, size_t bytes)
{
	/* KEEP_SIZE: the blocks past the end are the file's, its size stays what was written. */
	return fallocate(m->fd, FALLOC_FL_KEEP_SIZE, (off_t)m->size, (off_t)bytes) == 0 ? 0 :
	       -errno;
}

size_t
lc_manifest_size(const struct lc_manifest *m)
{
	return m->size;
}

int
lc_manifest_chown(struct lc_manifest *m, uid_t uid, gid_t gid)
{
	if (!m->created)	/* an earlier capture's keeps its owner */
		return 0;
	return fchown(m->fd, uid, gid) != 0 ? -errno : 0;
}

void
lc_manifest_close(struct lc_manifest *m)
{
	if (m == NULL)
		return;
	fsync(m->fd);
	close(m->fd);
	free(m);
}

int
lc_manifest_scan(int fd, const char *what, unsigned int flags, lc_manifest_line_fn fn,
		 void *arg, char *err, size_t errlen)
{
	const size_t chunk = 1 << 20;
	const int hash = (flags & LC_MANIFEST_SCAN_HASH) != 0;
	struct lc_manifest_line cur = { .lineno = 1 };
	uint8_t md[EVP_MAX_MD_SIZE];
	uint64_t at = 0, in_line = 0;	/* bytes of the line so far */
	char *buf = malloc(chunk), *line = NULL, *scratch = NULL;
	size_t len = 0, cap = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = 0, n = 0, eof = 0;
	unsigned int mdlen;

	snprintf(cur.prev_sha, sizeof(cur.prev_sha), "%s", ZERO_HASH);
	if (buf == NULL || ctx == NULL || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", what);
		goto out;
	}
	while (!eof) {
		ssize_t r = pread(fd, buf, chunk, (off_t)at);
		char *p = buf, *end;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", what, strerror(-rc));
			goto out;
		}
		at += (uint64_t)r;
		end = buf + r;
		eof = r == 0;
		while (p < end || (eof && in_line > 0)) {
			char *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
			size_t seg = (size_t)((nl ? nl : end) - p);

			if (hash)
				EVP_DigestUpdate(ctx, p, seg);
			in_line += seg;
			if (!cur.too_long && len + seg > LC_MANIFEST_LINE_MAX) {
				cur.too_long = 1;
				free(line);	/* a line that long is not parsed: no need to keep it */
				free(scratch);
				line = scratch = NULL;
				len = cap = 0;
			}
			if (!cur.too_long && seg > 0) {
				if (len + seg > cap) {
					size_t ncap = cap ? cap : 4096;
					char *t;

					while (ncap < len + seg)
						ncap *= 2;
					t = realloc(line, ncap);
					if (t != NULL)
						line = t;
					/* Decoded strings (lc_manifest_parse_line): no longer. */
					t = t ? realloc(scratch, ncap + 16) : NULL;
					if (t == NULL) {
						rc = -ENOMEM;
						snprintf(err, errlen, "%s: out of memory", what);
						goto out;
					}
					scratch = t;
					cap = ncap;
				}
				memcpy(line + len, p, seg);
				len += seg;
			}
			p += seg;
			if (nl == NULL && !eof)
				break;	/* the line goes on in the next chunk */
			if (nl != NULL)
				p++;
			/* A whole line (or the last, without its newline). */
			cur.cut = nl == NULL;
			if (hash) {
				EVP_DigestFinal_ex(ctx, md, &mdlen);
				lc_sha256_hex(md, cur.sha);
			}
			memset(&cur.f, 0, sizeof(cur.f));
			if (!cur.too_long && len > 0)
				lc_manifest_parse_line(line, len, scratch, &cur.f);
			rc = fn(arg, &cur);
			n++;
			if (rc != 0)
				goto out;
			memcpy(cur.prev_sha, cur.sha, sizeof(cur.sha));
			cur.lineno++;
			cur.too_long = 0;
			len = 0;
			in_line = 0;
			if (hash)
				EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
			if (nl == NULL)
				break;
		}
	}
	rc = n;
out:
	free(line);
	free(scratch);
	free(buf);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int
lc_manifest_scan_open(struct lc_manifest *m, unsigned int flags, lc_manifest_line_fn fn,
		      void *arg, char *err, size_t errlen)
{
	return lc_manifest_scan(m->fd, LC_MANIFEST_NAME, flags, fn, arg, err, errlen);
}

unsigned int
lc_manifest_line_chained(const struct lc_manifest_line *line, char *err, size_t errlen)
{
	const char *prev = line->f.prev;

	if (!line->f.object) {
		snprintf(err, errlen, line->too_long ? "line %u is longer than %u MiB: not read" :
			 "line %u is not a JSON object", line->lineno, LC_MANIFEST_LINE_MAX >> 20);
		return line->lineno;
	}
	if (prev == NULL || strcmp(prev, line->prev_sha) != 0) {
		snprintf(err, errlen, "line %u: chain broken (prev %.12s..., the line before "
			 "hashes to %.12s...): a line was removed, changed or reordered",
			 line->lineno, prev ? prev : "missing", line->prev_sha);
		return line->lineno;
	}
	return 0;
}
