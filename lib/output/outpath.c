/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
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

/* What follows the prefix in a file name of ours: -qNN-NNNNNN.EXT, or its .part. */
static int
owned_tail(const struct lc_outpath *op, const char *s, unsigned int *queue)
{
	size_t elen = strlen(op->ext);

	if (s[0] != '-' || s[1] != 'q' || !isdigit((unsigned char)s[2]) ||
	    !isdigit((unsigned char)s[3]) || s[4] != '-')
		return 0;
	for (int i = 5; i < 11; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	if (strncmp(s + 11, op->ext, elen) != 0 ||
	    (s[11 + elen] != '\0' && strcmp(s + 11 + elen, LC_PART_SUFFIX) != 0))
		return 0;
	if (queue != NULL)
		*queue = (unsigned int)(s[2] - '0') * 10 + (unsigned int)(s[3] - '0');
	return 1;
}

/* Does s match strftime pattern p (any expansion of it) followed by an owned tail? Each
 * conversion takes one character or more, tried shortest first; *budget bounds the
 * backtracking a pattern full of conversions could cost (spent: no match). */
static int
owned_match(const struct lc_outpath *op, const char *p, const char *s, unsigned int *queue,
	    unsigned long *budget)
{
	while (*p != '\0') {
		const char *c = p + 1;
		int digits;

		if (*p != '%' || *c == '\0') {
			if (*p++ != *s++)
				return 0;
			continue;
		}
		if (*c == '%') {	/* a literal '%' */
			if (*s++ != '%')
				return 0;
			p += 2;
			continue;
		}
		if ((*c == 'E' || *c == 'O') && c[1] != '\0')
			c++;
		/* Numbers (blank-padded for %e %k %l); names and compounds: anything but '/'. */
		digits = strchr("CdeGgHIjklmMsSuUVwWyY", *c) != NULL;
		p = c + 1;
		for (const char *e = s; *e != '\0'; e++) {
			if (digits ? !isdigit((unsigned char)*e) && *e != ' ' : *e == '/')
				return 0;
			if (*budget == 0)
				return 0;
			(*budget)--;
			if (owned_match(op, p, e + 1, queue, budget))
				return 1;
		}
		return 0;
	}
	return owned_tail(op, s, queue);
}

int
lc_outpath_owns(const struct lc_outpath *op, const char *name, unsigned int *queue)
{
	size_t plen = strlen(op->prefix);
	unsigned long budget = 100000;

	if (op->timed)
		return owned_match(op, op->prefix, name, queue, &budget);
	return strncmp(name, op->prefix, plen) == 0 && owned_tail(op, name + plen, queue);
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
lc_outpath_prepare(const struct lc_outpath *op, struct lc_outpath_made *made, char *err,
		   size_t errlen)
{
	char tmp[PATH_MAX];
	struct stat st;
	char *name, *next;
	int dfd, fd, rc, created = 0;

	if (made != NULL)
		memset(made, 0, sizeof(*made));
	if (!op->create_dir)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s", op->dir);
	dfd = open(tmp[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		goto fail;
	/* One component at a time under the descriptor of the one before: a directory made
	 * here is opened with O_NOFOLLOW (a link put at its place is refused, never followed)
	 * and what comes below it is made in it, whatever its name points at by then. */
	for (name = tmp; *name == '/'; name++)
		;
	while (*name != '\0') {
		next = strchr(name, '/');
		if (next != NULL)
			*next = '\0';	/* tmp is now the path up to this component */
		created = mkdirat(dfd, name, 0750) == 0;
		if (!created && errno != EEXIST)
			goto fail;
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
			    (created ? O_NOFOLLOW : 0));
		if (fd < 0) {
			if (created && (errno == ELOOP || errno == ENOTDIR)) {
				snprintf(err, errlen, "%s: replaced by something else while being "
					 "created (refusing to follow it)", tmp);
				close(dfd);
				return -ELOOP;
			}
			goto fail;
		}
		close(dfd);
		dfd = fd;
		if (created && fchmod(dfd, 0750) != 0)	/* whatever the umask says */
			goto fail;
		if (next == NULL)
			break;
		*next = '/';
		for (name = next + 1; *name == '/'; name++)
			;
	}
	if (created && made != NULL) {
		if (fstat(dfd, &st) != 0)
			goto fail;
		made->dir = 1;
		made->dev = st.st_dev;
		made->ino = st.st_ino;
	}
	close(dfd);
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	return rc;
}

int
lc_outpath_made_is(const struct lc_outpath_made *made, int fd)
{
	struct stat st;

	return made != NULL && made->dir && fd >= 0 && fstat(fd, &st) == 0 &&
	       S_ISDIR(st.st_mode) && st.st_dev == made->dev && st.st_ino == made->ino;
}

/* The directory part of path ("." for a bare name) into dir, the name into *base. */
static int
split_path(const char *path, char *dir, size_t len, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		snprintf(dir, len, ".");
		*base = path;
	} else {
		snprintf(dir, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
		*base = slash + 1;
	}
	if (**base == '\0')
		return -EISDIR;
	return strlen(*base) > NAME_MAX - 8 || strlen(path) >= len - 16 ? -ENAMETOOLONG : 0;
}

int
lc_outpath_file_check(const char *opt, const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *base;
	struct stat st;
	int rc;

	rc = split_path(path, dir, sizeof(dir), &base);
	if (rc < 0) {
		snprintf(err, errlen, "%s %s: %s", opt, path, strerror(-rc));
		return rc;
	}
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			snprintf(err, errlen, "%s %s: a symbolic link: linecap does not write "
				 "through links (name the file itself)", opt, path);
			return -ELOOP;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s %s: not a regular file", opt, path);
			return -EINVAL;
		}
	} else if (errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "%s %s: %s", opt, path, strerror(errno));
		return rc;
	}
	/* It is written as a new file renamed into place: the directory must take one. */
	if (access(dir, W_OK | X_OK) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s %s: %s", opt, path, strerror(errno));
		return rc;
	}
	return 0;
}

int
lc_outpath_file_replace(const char *path, const void *data, size_t len, char *err,
			size_t errlen)
{
	static unsigned int counter;
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *base, *p = data;
	int fd = -1, rc, dfd;

	rc = split_path(path, dir, sizeof(dir), &base);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		snprintf(tmp, sizeof(tmp), "%s/.%s.%06x", dir, base,
			 ((unsigned int)getpid() * 2654435761u + ++counter * 40503u +
			  (unsigned int)time(NULL)) & 0xffffff);
		/* O_EXCL: a name that exists, a link included, is never opened. */
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		rc = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {	/* replaces a link at path; never follows it */
		rc = -errno;
		goto fail;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}
