/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "clock.h"
#include "linecap/reader.h"
#include "linecap/index.h"
#include "shard.h"


int
lc_shard_file_open(struct lc_shard_file *f, const struct lc_outpath *op,
		   const struct lc_format *fmt, unsigned int queue, uint32_t seq, time_t when,
		   int direct, char *err, size_t errlen)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;
	int rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->queue = queue;
	f->seq = seq;
	f->fmt = fmt;
	f->period = when;
	if (lc_outpath_name(op, queue, seq, when, 0, f->path, sizeof(f->path)) != 0 ||
	    lc_outpath_name(op, queue, seq, when, 1, f->part, sizeof(f->part)) != 0) {
		snprintf(err, errlen, "%s: path too long", op->dir);
		return -ENAMETOOLONG;
	}
	if (lstat(f->path, &st) == 0) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(EEXIST));
		return -EEXIST;
	}
	f->sha = EVP_MD_CTX_new();
	if (f->sha == NULL || EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(f->sha);
		f->sha = NULL;
		snprintf(err, errlen, "%s: out of memory", f->part);
		return -ENOMEM;
	}
	/* Nameless first (O_TMPFILE): the name comes with the header, in lc_shard_file_stub. */
	f->fd = open(op->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC | (direct ? O_DIRECT : 0), 0640);
	if (f->fd < 0 && direct && errno == EINVAL)	/* no O_DIRECT here (tmpfs...) */
		f->fd = open(op->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640);
	if (f->fd < 0) {	/* no O_TMPFILE: named at once, as before */
		f->fd = direct ? open(f->part, flags | O_DIRECT, 0640) : -1;
		if (f->fd < 0 && (!direct || errno == EINVAL))
			f->fd = open(f->part, flags, 0640);
		f->named = f->fd >= 0;
	}
	if (f->fd >= 0)
		f->direct = (fcntl(f->fd, F_GETFL) & O_DIRECT) != 0;
	if (f->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", f->part, strerror(errno));
		EVP_MD_CTX_free(f->sha);
		f->sha = NULL;
		return rc;
	}
	f->opened_ns = lc_realtime_ns();
	return 0;
}

size_t
lc_shard_file_header(const struct lc_shard_file *f, const struct lc_file_info *info,
		     uint8_t *dst, size_t room)
{
	return f->fmt->header(dst, room, info);
}

int
lc_shard_file_write(struct lc_shard_file *f, const void *buf, size_t len, size_t *done)
{
	const uint8_t *p = buf;
	int rc;

	*done = 0;
	if (f->error)
		return f->error;
	if (f->direct && len % LC_DIRECT_ALIGN != 0) {
		/* The last, partial block: through the page cache. */
		int fl = fcntl(f->fd, F_GETFL);

		if (fl < 0 || fcntl(f->fd, F_SETFL, fl & ~O_DIRECT) != 0) {
			f->error = -errno;
			return f->error;
		}
		f->direct = 0;
	}
	while (len > 0) {
		ssize_t n = write(f->fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			/* Take back the part that got through: the file ends where the last
			 * whole write did. */
			if (*done) {
				/* ... never below the header the stub put there */
				uint64_t keep = f->bytes - *done;

				if (keep < f->stub_len)
					keep = f->stub_len;
				if (ftruncate(f->fd, (off_t)keep) == 0)
					f->bytes = keep;
			}
			*done = 0;
			f->error = rc;
			return rc;
		}
		p += n;
		len -= (size_t)n;
		*done += (size_t)n;
		f->bytes += (uint64_t)n;
	}
	return 0;
}

/* A new descriptor reading the file open at fd from its start: fd's own (dup) when it
 * reads, else the file reopened through /proc (a writer's file is write-only). */
static int
read_fd(int fd)
{
	int fl = fcntl(fd, F_GETFL), r;
	char self[64];

	if (fl >= 0 && (fl & O_ACCMODE) != O_WRONLY) {
		r = dup(fd);
		if (r >= 0 && lseek(r, 0, SEEK_SET) != 0) {
			close(r);
			r = -1;
		}
		return r;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	return open(self, O_RDONLY | O_CLOEXEC);
}

/* Walk the records the file open (readable) at rfd holds: cut says where the last whole one
 * ends. Takes rfd. 0, or < 0 with the reason in err (not even a whole header). */
static int
scan_records(int rfd, const char *path, struct lc_shard_cut *cut, char *err, size_t errlen)
{
	struct lc_reader *r;
	struct lc_record rec;
	struct stat st;

	memset(cut, 0, sizeof(*cut));
	if (rfd < 0) {
		int rc = -errno;

		snprintf(err, errlen, "%s", strerror(-rc));
		return rc;
	}
	if (fstat(rfd, &st) == 0)
		cut->size = (uint64_t)st.st_size;
	r = lc_reader_fdopen(rfd, path, err, errlen);
	if (r == NULL)
		return errno ? -errno : -EINVAL;
	while (lc_reader_next(r, &rec, err, errlen) == 1) {
		if (cut->packets == 0)
			cut->first_ns = rec.ts_ns;
		cut->last_ns = rec.ts_ns;
		cut->packets++;
	}
	cut->good = lc_reader_good_offset(r);
	lc_reader_close(r);
	return 0;
}

int
lc_shard_fd_digest(int fd, uint8_t sha256[LC_SHA256_LEN], uint64_t *bytes)
{
	const size_t len = 1 << 20;
	uint8_t *buf = malloc(len);
	unsigned int hlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ssize_t got;
	int rc = 0;

	*bytes = 0;
	memset(sha256, 0, LC_SHA256_LEN);
	if (buf == NULL || ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		free(buf);
		return -ENOMEM;
	}
	while ((got = pread(fd, buf, len, (off_t)*bytes)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)got);
		*bytes += (uint64_t)got;
	}
	if (rc == 0)
		EVP_DigestFinal_ex(ctx, sha256, &hlen);
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}

int
lc_shard_file_salvage(struct lc_shard_file *f, uint8_t sha256[LC_SHA256_LEN],
		      uint64_t *packets)
{
	struct lc_shard_cut cut;
	char err[256];
	uint64_t bytes;
	int fd, got, rc = 0;

	memset(sha256, 0, LC_SHA256_LEN);
	*packets = 0;
	if (f->fd < 0)
		return -EBADF;
	if (scan_records(read_fd(f->fd), f->part, &cut, err, sizeof(err)) < 0)
		cut.good = cut.packets = 0;	/* not even the header: an empty file */
	if (ftruncate(f->fd, (off_t)cut.good) != 0 || fsync(f->fd) != 0)
		rc = -errno;
	f->bytes = cut.good;
	*packets = cut.packets;
	/* The hash of what the file holds now, read back (the error path only). */
	fd = read_fd(f->fd);
	if (fd < 0)
		rc = rc ? rc : -EIO;
	else if ((got = lc_shard_fd_digest(fd, sha256, &bytes)) < 0 && rc == 0)
		rc = got == -ENOMEM ? -EIO : got;
	if (fd >= 0)
		close(fd);
	if (close(f->fd) != 0 && rc == 0)
		rc = -errno;
	f->fd = -1;
	EVP_MD_CTX_free(f->sha);
	f->sha = NULL;
	return rc;
}

void
lc_shard_file_hash(struct lc_shard_file *f, const void *buf, size_t len)
{
	EVP_DigestUpdate(f->sha, buf, len);
}

/* pwrite through the page cache, O_DIRECT turned off for it where it is on. */
static int
cached_pwrite(int fd, const void *buf, size_t len, off_t at)
{
	int fl = fcntl(fd, F_GETFL), rc = 0;

	if (fl < 0)
		return -errno;
	if ((fl & O_DIRECT) && fcntl(fd, F_SETFL, fl & ~O_DIRECT) != 0)
		return -errno;
	if (pwrite(fd, buf, len, at) != (ssize_t)len)
		rc = errno ? -errno : -EIO;
	if ((fl & O_DIRECT) && fcntl(fd, F_SETFL, fl) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

int
lc_shard_file_stub(struct lc_shard_file *f, const void *hdr, size_t len)
{
	/* A short unaligned write needs the page cache, even on an O_DIRECT file; the kernel
	 * writes the cached page back before the first direct write replaces it. */
	int rc = cached_pwrite(f->fd, hdr, len, 0);

	if (rc == 0)
		f->stub_len = len;
	if (rc == 0 && !f->named) {
		char self[64];

		/* link never replaces: a name taken meanwhile gives EEXIST. */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", f->fd);
		if (linkat(AT_FDCWD, self, AT_FDCWD, f->part, AT_SYMLINK_FOLLOW) != 0)
			return -errno;
		f->named = 1;
	}
	return rc;
}

int
lc_shard_file_peek(struct lc_shard_file *f, const void *buf, size_t len)
{
	if (f->fd < 0 || f->error)
		return f->fd < 0 ? -EBADF : f->error;
	return len ? cached_pwrite(f->fd, buf, len, (off_t)f->bytes) : 0;
}

int
lc_shard_file_sync(struct lc_shard_file *f)
{
	return f->fd >= 0 && fdatasync(f->fd) != 0 ? -errno : 0;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int
lc_shard_file_finish(struct lc_shard_file *f, uint8_t sha256[LC_SHA256_LEN])
{
	unsigned int hlen = 0;
	int rc = 0;

	memset(sha256, 0, LC_SHA256_LEN);
	if (f->fd < 0)
		return 0;
	if (fsync(f->fd) != 0)
		rc = -errno;
	if (close(f->fd) != 0 && rc == 0)
		rc = -errno;
	f->fd = -1;
	EVP_DigestFinal_ex(f->sha, sha256, &hlen);
	EVP_MD_CTX_free(f->sha);
	f->sha = NULL;
	return rc;
}

/* NAME.idx of f into buf. */
static int
index_name(const struct lc_shard_file *f, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s" LC_INDEX_EXT, f->path);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
lc_shard_index_create(const struct lc_shard_file *f, const struct lc_outpath *op, int *named)
{
	char path[PATH_MAX + 8];
	int fd = open(op->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640);

	*named = 0;
	if (fd >= 0)
		return fd;
	if (index_name(f, path, sizeof(path)) != 0)
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	*named = 1;
	return fd;
}

int
lc_shard_index_publish(const struct lc_shard_file *f, int fd, int named)
{
	char path[PATH_MAX + 8], self[64];
	int rc = 0;

	if (!named) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		if (index_name(f, path, sizeof(path)) != 0)
			rc = -ENAMETOOLONG;
		else if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) != 0)
			rc = -errno;	/* link never replaces: EEXIST */
	}
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

void
lc_shard_index_discard(const struct lc_shard_file *f, int fd, int named)
{
	char path[PATH_MAX + 8];

	close(fd);
	if (named && index_name(f, path, sizeof(path)) == 0)
		unlink(path);
}

int
lc_shard_file_publish(struct lc_shard_file *f, const struct lc_outpath *op)
{
	/* RENAME_NOREPLACE: a file that appeared under the final name is never replaced. */
	if (renameat2(AT_FDCWD, f->part, AT_FDCWD, f->path, RENAME_NOREPLACE) != 0)
		return -errno;
	return fsync_dir(op->dir);
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* A unit with its digest context, fd taken over. 0 or -ENOMEM (fd closed). */
static int
unit_init(struct lc_shard_file *f, int fd)
{
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->sha = EVP_MD_CTX_new();
	if (f->sha == NULL || EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(f->sha);
		f->sha = NULL;
		if (fd >= 0)
			close(fd);
		f->fd = -1;
		return -ENOMEM;
	}
	f->opened_ns = lc_realtime_ns();
	return 0;
}

int
lc_shard_file_adopt(struct lc_shard_file *f, int fd, const char *dir, const char *name)
{
	size_t n = strlen(name);
	int part = n > 5 && strcmp(name + n - 5, ".part") == 0;
	int rc = unit_init(f, fd);

	if (rc < 0)
		return rc;
	if (snprintf(f->part, sizeof(f->part), "%s/%s", dir, name) >= (int)sizeof(f->part) ||
	    snprintf(f->path, sizeof(f->path), "%s/%.*s", dir, (int)(part ? n - 5 : n), name) >=
	    (int)sizeof(f->path)) {
		/* Closed, never removed: the .part is what a crash left (named stays 0). */
		close(f->fd);
		f->fd = -1;
		EVP_MD_CTX_free(f->sha);
		f->sha = NULL;
		return -ENAMETOOLONG;
	}
	return 0;
}

int
lc_shard_file_scan(struct lc_shard_file *f, struct lc_shard_cut *cut, char *err, size_t errlen)
{
	int rc = scan_records(read_fd(f->fd), f->part, cut, err, errlen);

	if (rc < 0)
		return rc;
	f->bytes = cut->good;
	f->packets = cut->packets;
	f->first_ns = cut->first_ns;
	f->last_ns = cut->last_ns;
	return 0;
}

int
lc_shard_file_cut(struct lc_shard_file *f, struct lc_shard_cut *cut, char *err, size_t errlen)
{
	int rc = lc_shard_file_scan(f, cut, err, errlen);

	if (rc < 0)
		return rc;
	if (ftruncate(f->fd, (off_t)cut->good) != 0 || fsync(f->fd) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s", strerror(-rc));
		return rc;
	}
	return 0;
}

int
lc_shard_file_publish_at(struct lc_shard_file *f, int dirfd)
{
	if (renameat2(dirfd, base_name(f->part), dirfd, base_name(f->path),
		      RENAME_NOREPLACE) != 0)
		return -errno;
	return fsync(dirfd) != 0 ? -errno : 0;
}

int
lc_shard_file_create(struct lc_shard_file *f, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (snprintf(f->path, sizeof(f->path), "%s", path) >= (int)sizeof(f->path) ||
	    snprintf(f->part, sizeof(f->part), "%s.part", path) >= (int)sizeof(f->part)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	/* lstat: a link at path, even a dangling one, is never written through. */
	if (lstat(path, &st) == 0) {
		snprintf(err, errlen, "%s: %s", path, S_ISLNK(st.st_mode) ? "a symbolic link" :
			 strerror(EEXIST));
		return -EEXIST;
	}
	fd = open(f->part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", f->part, strerror(-rc));
		return rc;
	}
	rc = unit_init(f, fd);
	if (rc < 0) {
		unlink(f->part);
		snprintf(err, errlen, "%s: out of memory", f->part);
		return rc;
	}
	snprintf(f->path, sizeof(f->path), "%s", path);
	snprintf(f->part, sizeof(f->part), "%s.part", path);
	f->named = 1;		/* ours: lc_shard_file_discard removes it */
	return 0;
}

int
lc_shard_file_publish_path(struct lc_shard_file *f)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(f->path, '/');

	if (renameat2(AT_FDCWD, f->part, AT_FDCWD, f->path, RENAME_NOREPLACE) != 0)
		return -errno;
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == f->path ? 1 : (int)(slash - f->path),
			 f->path);
	return fsync_dir(dir);
}

void
lc_shard_file_discard(struct lc_shard_file *f)
{
	if (f->fd < 0)
		return;
	close(f->fd);
	f->fd = -1;
	if (f->named)	/* never a name someone else holds */
		unlink(f->part);
	EVP_MD_CTX_free(f->sha);
	f->sha = NULL;
}

void
lc_sha256_hex(const uint8_t sha256[LC_SHA256_LEN], char hex[2 * LC_SHA256_LEN + 1])
{
	static const char digit[] = "0123456789abcdef";

	/* No snprintf: a manifest of 200,000 lines hashes each one. */
	for (int i = 0; i < LC_SHA256_LEN; i++) {
		hex[2 * i] = digit[sha256[i] >> 4];
		hex[2 * i + 1] = digit[sha256[i] & 15];
	}
	hex[2 * LC_SHA256_LEN] = '\0';
}
