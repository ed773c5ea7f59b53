/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "linecap/shard.h"

static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
lc_shard_file_open(struct lc_shard_file *f, const struct lc_outpath *op,
		   const struct lc_format *fmt, const struct lc_file_info *info,
		   unsigned int queue, uint32_t seq, time_t when, char *err, size_t errlen)
{
	size_t room = lc_format_max_meta(info), n;
	uint8_t *hdr;
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
	hdr = malloc(room);
	f->sha = EVP_MD_CTX_new();
	if (hdr == NULL || f->sha == NULL || EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL) != 1) {
		free(hdr);
		EVP_MD_CTX_free(f->sha);
		f->sha = NULL;
		snprintf(err, errlen, "%s: out of memory", f->part);
		return -ENOMEM;
	}
	f->fd = open(f->part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (f->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", f->part, strerror(errno));
		goto fail;
	}
	f->opened_ns = realtime_ns();
	n = fmt->header(hdr, room, info);
	rc = n == 0 ? -EOVERFLOW : lc_shard_file_write(f, hdr, n);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", f->part, strerror(-rc));
		close(f->fd);
		unlink(f->part);
		f->fd = -1;
		goto fail;
	}
	free(hdr);
	return 0;
fail:
	free(hdr);
	EVP_MD_CTX_free(f->sha);
	f->sha = NULL;
	return rc;
}

int
lc_shard_file_write(struct lc_shard_file *f, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(f->fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		EVP_DigestUpdate(f->sha, p, (size_t)n);
		p += n;
		len -= (size_t)n;
		f->bytes += (uint64_t)n;
	}
	return 0;
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
lc_shard_file_close(struct lc_shard_file *f, const struct lc_outpath *op,
		    const struct lc_file_stats *st, uint8_t sha256[LC_SHA256_LEN])
{
	uint8_t trailer[256];
	unsigned int hlen = 0;
	size_t n;
	int rc = 0;

	if (f->fd < 0)
		return 0;
	n = st != NULL ? f->fmt->trailer(trailer, sizeof(trailer), st) : 0;
	if (n != 0)
		rc = lc_shard_file_write(f, trailer, n);
	if (fsync(f->fd) != 0 && rc == 0)
		rc = -errno;
	if (close(f->fd) != 0 && rc == 0)
		rc = -errno;
	f->fd = -1;
	memset(sha256, 0, LC_SHA256_LEN);
	EVP_DigestFinal_ex(f->sha, sha256, &hlen);
	EVP_MD_CTX_free(f->sha);
	f->sha = NULL;
	/* RENAME_NOREPLACE: a file that appeared under the final name is never replaced. */
	if (renameat2(AT_FDCWD, f->part, AT_FDCWD, f->path, RENAME_NOREPLACE) != 0) {
		if (rc == 0)
			rc = -errno;
		return rc;
	}
	if (rc == 0)
		rc = fsync_dir(op->dir);
	return rc;
}

void
lc_shard_file_discard(struct lc_shard_file *f)
{
	if (f->fd < 0)
		return;
	close(f->fd);
	f->fd = -1;
	unlink(f->part);
	EVP_MD_CTX_free(f->sha);
	f->sha = NULL;
}

void
lc_sha256_hex(const uint8_t sha256[LC_SHA256_LEN], char hex[2 * LC_SHA256_LEN + 1])
{
	for (int i = 0; i < LC_SHA256_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha256[i]);
}
