/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linecap/outpath.h"

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int
lc_outpath_init(struct lc_outpath *op, const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	char *slash, *base;
	size_t n;

	memset(op, 0, sizeof(*op));
	if (strlen(path) >= sizeof(tmp) - 32) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(tmp, sizeof(tmp), "%s", path);
	n = strlen(tmp);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = '\0';

	if (ends_with(tmp, ".pcap") && path[strlen(path) - 1] != '/') {
		tmp[n - 5] = '\0';
		slash = strrchr(tmp, '/');
		if (slash == NULL) {
			snprintf(op->dir, sizeof(op->dir), ".");
			base = tmp;
		} else {
			*slash = '\0';
			snprintf(op->dir, sizeof(op->dir), "%s", slash == tmp ? "/" : tmp);
			base = slash + 1;
		}
		if (base[0] == '\0') {
			snprintf(err, errlen, "%s: no file name before .pcap", path);
			return -EINVAL;
		}
		snprintf(op->prefix, sizeof(op->prefix), "%s", base);
		return 0;
	}
	snprintf(op->dir, sizeof(op->dir), "%s", tmp);
	op->create_dir = 1;
	slash = strrchr(tmp, '/');
	base = slash ? slash + 1 : tmp;
	if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		base = "linecap";
	if (strlen(base) > NAME_MAX - 32) {
		snprintf(err, errlen, "%s: directory name too long to name files after", path);
		return -ENAMETOOLONG;
	}
	snprintf(op->prefix, sizeof(op->prefix), "%s", base);
	return 0;
}

int
lc_outpath_name(const struct lc_outpath *op, unsigned int queue, uint32_t seq, int part,
		char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s-q%02u-%06u.pcap%s", op->dir, op->prefix, queue, seq,
			 part ? LC_PART_SUFFIX : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The directory that exists and would hold what we create: dir itself or an ancestor. */
static int
existing_ancestor(const char *dir, char *out, size_t len)
{
	struct stat st;
	char *slash;

	snprintf(out, len, "%s", dir);
	for (;;) {
		if (stat(out, &st) == 0)
			return 0;
		if (errno != ENOENT)
			return -errno;
		slash = strrchr(out, '/');
		if (slash == NULL) {
			snprintf(out, len, ".");
			return 0;
		}
		if (slash == out) {
			out[1] = '\0';
			return 0;
		}
		*slash = '\0';
	}
}

int
lc_outpath_check(const struct lc_outpath *op, unsigned int queues, char *err, size_t errlen)
{
	char where[PATH_MAX], name[PATH_MAX];
	struct stat st;
	int rc;

	if (stat(op->dir, &st) != 0) {
		if (errno != ENOENT || !op->create_dir) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", op->dir, strerror(errno));
			return rc;
		}
		rc = existing_ancestor(op->dir, where, sizeof(where));
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", op->dir, strerror(-rc));
			return rc;
		}
		if (stat(where, &st) != 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", where, strerror(errno));
			return rc;
		}
	} else {
		snprintf(where, sizeof(where), "%s", op->dir);
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", where, strerror(ENOTDIR));
		return -ENOTDIR;
	}
	if (access(where, W_OK | X_OK) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", where, strerror(errno));
		return rc;
	}
	for (unsigned int q = 0; q < queues; q++) {
		for (int part = 0; part <= 1; part++) {
			if (lc_outpath_name(op, q, 1, part, name, sizeof(name)) != 0) {
				snprintf(err, errlen, "%s: path too long", op->dir);
				return -ENAMETOOLONG;
			}
			if (lstat(name, &st) == 0) {
				snprintf(err, errlen, "%s: %s (linecap never overwrites a file)",
					 name, strerror(EEXIST));
				return -EEXIST;
			}
		}
	}
	return 0;
}

int
lc_outpath_prepare(const struct lc_outpath *op, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	size_t n;

	if (!op->create_dir)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s", op->dir);
	n = strlen(tmp);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0750) == 0) {
			chmod(tmp, 0750);	/* whatever the umask says */
		} else if (errno != EEXIST) {
			int rc = -errno;

			snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
			return rc;
		}
		if (i < n)
			tmp[i] = '/';
	}
	return 0;
}
