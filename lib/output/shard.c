/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linecap/pcap_format.h"
#include "linecap/shard.h"

int
lc_shard_file_open(struct lc_shard_file *f, const struct lc_outpath *op, unsigned int queue,
		   uint32_t seq, uint32_t snaplen, char *err, size_t errlen)
{
	uint8_t hdr[LC_PCAP_FILE_HDR_LEN];
	struct stat st;
	int rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->queue = queue;
	f->seq = seq;
	if (lc_outpath_name(op, queue, seq, 0, f->path, sizeof(f->path)) != 0 ||
	    lc_outpath_name(op, queue, seq, 1, f->part, sizeof(f->part)) != 0) {
		snprintf(err, errlen, "%s: path too long", op->dir);
		return -ENAMETOOLONG;
	}
	if (lstat(f->path, &st) == 0) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(EEXIST));
		return -EEXIST;
	}
	f->fd = open(f->part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (f->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", f->part, strerror(errno));
		return rc;
	}
	lc_pcap_file_header(hdr, snaplen);
	rc = lc_shard_file_write(f, hdr, sizeof(hdr));
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", f->part, strerror(-rc));
		close(f->fd);
		unlink(f->part);
		f->fd = -1;
		return rc;
	}
	return 0;
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
		p += n;
		len -= (size_t)n;
		f->bytes += (uint64_t)n;
	}
	return 0;
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
lc_shard_file_close(struct lc_shard_file *f, const struct lc_outpath *op)
{
	int rc = 0;

	if (f->fd < 0)
		return 0;
	if (fsync(f->fd) != 0)
		rc = -errno;
	if (close(f->fd) != 0 && rc == 0)
		rc = -errno;
	f->fd = -1;
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
}
