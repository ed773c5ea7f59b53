/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fault-injection shim for the end-to-end tests (LD_PRELOAD): writes to files whose path
 * contains LC_FAULT_PATH fail or crawl, as a failing or a slow disk would.
 *   LC_FAULT_PATH   substring of the file's path (as /proc/self/fd shows it)
 *   LC_FAULT_MODE   eio: every such write fails with EIO; slow: each sleeps first;
 *                   stall: the first one sleeps (a disk that stops for a while, then
 *                   recovers: scripts/burst.sh measures what a capture absorbs meanwhile)
 *   LC_FAULT_US     slow, stall: microseconds per write (default 50000)
 * Everything else goes to the real write(2). Test code only: never installed.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void *, size_t);

/* The file's name: what /proc/self/fd shows, or, for a file created nameless (O_TMPFILE)
 * and linked later, the directory entry with its inode. */
static int
name_of(int fd, char *path, size_t len)
{
	char self[64], dir[4096];
	struct stat st;
	struct dirent *de;
	ssize_t n;
	DIR *d;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	n = readlink(self, path, len - 1);
	if (n <= 0)
		return -1;
	path[n] = '\0';
	if (strstr(path, " (deleted)") == NULL || fstat(fd, &st) != 0)
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_ino == st.st_ino) {
			snprintf(path, len, "%s/%s", dir, de->d_name);
			break;
		}
	closedir(d);
	return 0;
}

static int
matches(int fd)
{
	const char *want = getenv("LC_FAULT_PATH");
	char path[4096];

	if (want == NULL || *want == '\0' || fd < 3 || name_of(fd, path, sizeof(path)) < 0)
		return 0;
	return strstr(path, want) != NULL;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	const char *mode = getenv("LC_FAULT_MODE");

	if (real_write == NULL)
		real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (mode != NULL && matches(fd)) {
		if (strcmp(mode, "eio") == 0) {
			errno = EIO;
			return -1;
		}
		static int stalled;
		int stall = strcmp(mode, "stall") == 0 &&
			    !__atomic_exchange_n(&stalled, 1, __ATOMIC_RELAXED);

		if (strcmp(mode, "slow") == 0 || stall) {
			const char *us = getenv("LC_FAULT_US");

			usleep(us ? (useconds_t)atoi(us) : 50000);
		}
	}
	return real_write(fd, buf, len);
}
