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
lc_outpath_init(struct lc_outpath *op, const char *path, const char *ext, char *err,
		size_t errlen)
{
	char tmp[PATH_MAX];
	char *slash, *base;
	size_t n, cut = 0;

	memset(op, 0, sizeof(*op));
	op->ext = ext ? ext : ".pcap";
	if (strlen(path) >= sizeof(tmp) - 32) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(tmp, sizeof(tmp), "%s", path);
	n = strlen(tmp);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = '\0';

	if (path[strlen(path) - 1] != '/') {
		if (ends_with(tmp, ".pcapng"))
			cut = 7;
		else if (ends_with(tmp, ".pcap"))
			cut = 5;
	}
	if (cut) {
		tmp[n - cut] = '\0';
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
			snprintf(err, errlen, "%s: no file name before the extension", path);
			return -EINVAL;
		}
		if (strchr(op->dir, '%') != NULL) {
			snprintf(err, errlen, "%s: time patterns go in the file name, not the "
				 "directory", path);
			return -EINVAL;
		}
		snprintf(op->prefix, sizeof(op->prefix), "%s", base);
		op->timed = strchr(base, '%') != NULL;
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
lc_outpath_name(const struct lc_outpath *op, unsigned int queue, uint32_t seq, time_t when,
		int part, char *buf, size_t len)
{
	char prefix[NAME_MAX + 1];
	int n;

	if (op->timed) {
		struct tm tm;

		localtime_r(&when, &tm);
		if (strftime(prefix, sizeof(prefix), op->prefix, &tm) == 0)
			return -ENAMETOOLONG;
	} else {
		snprintf(prefix, sizeof(prefix), "%s", op->prefix);
	}
	n = snprintf(buf, len, "%s/%s-q%02u-%06u%s%s", op->dir, prefix, queue, seq, op->ext,
		     part ? LC_PART_SUFFIX : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
lc_outpath_manifest(const struct lc_outpath *op, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/manifest.jsonl", op->dir);

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
lc_outpath_check(const struct lc_outpath *op, unsigned int queues, time_t when, char *err,
		 size_t errlen)
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
			if (lc_outpath_name(op, q, 1, when, part, name, sizeof(name)) != 0) {
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
