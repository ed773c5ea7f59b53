/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "linecap/diskcheck.h"
#include "shard.h"

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A nameless file in dir, direct if the filesystem allows. */
static int
open_test_file(const char *dir, int *direct)
{
	char path[4096];
	int fd;

	*direct = 1;
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC | O_DIRECT, 0600);
	if (fd < 0 && errno == EINVAL) {
		*direct = 0;
		fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	}
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	/* No O_TMPFILE here: a named file, unlinked at once. */
	snprintf(path, sizeof(path), "%s/.linecap-diskcheck-%d", dir, (int)getpid());
	*direct = 1;
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_DIRECT, 0600);
	if (fd < 0 && errno == EINVAL) {
		*direct = 0;
		fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (fd >= 0)
		unlink(path);
	return fd;
}

int
lc_disk_check(const char *dir, size_t block, double seconds, uint64_t max_bytes,
	      struct lc_disk_result *r, char *err, size_t errlen)
{
	struct statvfs vfs;
	uint64_t limit = max_bytes;
	uint8_t *buf = NULL;
	double t0, t1;
	int fd, rc = 0;

	memset(r, 0, sizeof(*r));
	if (statvfs(dir, &vfs) == 0) {
		uint64_t quarter = (uint64_t)vfs.f_bavail * vfs.f_frsize / 4;

		limit = quarter < limit ? quarter : limit;
	}
	limit -= limit % block;
	if (limit < block) {
		snprintf(err, errlen, "%s: not enough free space to test", dir);
		return -ENOSPC;
	}
	if (posix_memalign((void **)&buf, LC_DIRECT_ALIGN, block) != 0) {
		snprintf(err, errlen, "%s: out of memory", dir);
		return -ENOMEM;
	}
	/* Data no disk or filesystem can compress or deduplicate. */
	uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();

	for (size_t i = 0; i + 8 <= block; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + i, &x, 8);
	}
	fd = open_test_file(dir, &r->direct);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(buf);
		return rc;
	}
	t0 = now_s();
	while (r->bytes < limit && now_s() - t0 < seconds) {
		ssize_t n = write(fd, buf, block);

		if (n != (ssize_t)block) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		buf[0]++;	/* no two blocks alike */
		r->bytes += block;
	}
	if (rc == 0 && fdatasync(fd) != 0)
		rc = -errno;
	t1 = now_s();
	close(fd);
	free(buf);
	if (rc < 0) {
		snprintf(err, errlen, "%s: writing a test file: %s", dir, strerror(-rc));
		return rc;
	}
	r->seconds = t1 - t0;
	r->bytes_per_s = r->seconds > 0 ? (double)r->bytes / r->seconds : 0;
	return 0;
}
