/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>
#include <dirent.h>
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

/* Names of earlier captures in the directory: queue q's numbering starts after the highest
 * number a file (or .part, or anything else) of its name pattern holds. */
static int
scan_taken(const struct lc_outpath *op, unsigned int queues, time_t when, uint32_t *first_seq,
	   unsigned int *earlier, char *err, size_t errlen)
{
	char one[PATH_MAX], prefix[NAME_MAX + 1];
	const char *base;
	struct dirent *de;
	size_t plen, elen = strlen(op->ext);
	DIR *d;

	if (lc_outpath_name(op, 0, 1, when, 0, one, sizeof(one)) != 0) {
		snprintf(err, errlen, "%s: path too long", op->dir);
		return -ENAMETOOLONG;
	}
	base = strrchr(one, '/') + 1;	/* PREFIX-q00-000001.EXT */
	plen = (size_t)(strstr(base, "-q00-000001") - base);
	snprintf(prefix, sizeof(prefix), "%.*s-q", (int)plen, base);
	plen += 2;
	d = opendir(op->dir);
	if (d == NULL)
		return 0;	/* not there yet (created later): nothing is taken */
	while ((de = readdir(d)) != NULL) {
		unsigned int q, seq;
		int used = 0;
		const char *rest;

		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		rest = de->d_name + plen;
		if (sscanf(rest, "%2u-%6u%n", &q, &seq, &used) != 2 || used != 9)
			continue;
		rest += used;
		if (strncmp(rest, op->ext, elen) != 0 ||
		    (rest[elen] != '\0' && strcmp(rest + elen, LC_PART_SUFFIX) != 0))
			continue;	/* another format's file, or not ours */
		(*earlier)++;
		if (q < queues && seq >= first_seq[q])
			first_seq[q] = seq + 1;
	}
	closedir(d);
	return 0;
}

int
lc_outpath_lock(const char *dir, int *fd, char *err, size_t errlen)
{
	int rc;

	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return rc;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, errlen, "%s: %s", dir, rc == -EBUSY ?
			 "another linecap is writing into it (one capture per directory)" :
			 strerror(-rc));
		close(*fd);
		*fd = -1;
		return rc;
	}
	return 0;
}

int
lc_outpath_check(const struct lc_outpath *op, unsigned int queues, time_t when,
		 uint32_t *first_seq, unsigned int *earlier, char *err, size_t errlen)
{
	char where[PATH_MAX];
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
	for (unsigned int q = 0; q < queues; q++)
		first_seq[q] = 1;
	*earlier = 0;
	return scan_taken(op, queues, when, first_seq, earlier, err, errlen);
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
