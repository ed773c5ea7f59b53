/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linecap/index.h"
#include "retention.h"

void
lc_retention_init(struct lc_retention *r, unsigned int max_files, uint64_t max_bytes)
{
	memset(r, 0, sizeof(*r));
	r->max_files = max_files;
	r->max_bytes = max_bytes;
}

int
lc_retention_add(struct lc_retention *r, const char *path, unsigned int queue, uint64_t bytes,
		 const char *sha256_hex)
{
	return lc_retention_add_held(r, path, queue, bytes, sha256_hex, 0);
}

int
lc_retention_add_held(struct lc_retention *r, const char *path, unsigned int queue,
		      uint64_t bytes, const char *sha256_hex, uint64_t token)
{
	struct lc_kept_file *f;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct lc_kept_file *t = realloc(r->files, cap * sizeof(*t));

		if (t == NULL)
			return -ENOMEM;
		r->files = t;
		r->cap = cap;
	}
	f = &r->files[r->n++];
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->queue = queue < LC_QUEUES_MAX ? queue : LC_QUEUES_MAX - 1;
	f->bytes = bytes;
	snprintf(f->sha256, sizeof(f->sha256), "%s", sha256_hex ? sha256_hex : "");
	f->held = token;
	f->index_bytes = 0;
	f->index_sha256[0] = '\0';
	r->closed_bytes += bytes;
	r->per_queue[f->queue]++;
	return 0;
}

void
lc_retention_index(struct lc_retention *r, uint64_t bytes, const char *sha256_hex)
{
	struct lc_kept_file *f;

	if (r->n == 0)
		return;
	f = &r->files[r->n - 1];
	r->closed_bytes += bytes - f->index_bytes;
	f->index_bytes = bytes;
	snprintf(f->index_sha256, sizeof(f->index_sha256), "%s", sha256_hex ? sha256_hex : "");
}

int
lc_retention_unlink_index(const char *path)
{
	char dir[PATH_MAX], name[NAME_MAX + 1];
	const char *slash = strrchr(path, '/');
	struct stat st;
	int dfd, rc = 0;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if ((size_t)snprintf(name, sizeof(name), "%s" LC_INDEX_EXT, slash ? slash + 1 : path) >=
	    sizeof(name))
		return -ENAMETOOLONG;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	/* What the name is, not what it points to: unlinkat removes that name only. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		rc = errno == ENOENT ? 0 : -errno;
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		rc = -EINVAL;
	else if (unlinkat(dfd, name, 0) != 0)
		rc = errno == ENOENT ? 0 : -errno;
	else
		rc = 1;
	close(dfd);
	return rc;
}

void
lc_retention_release(struct lc_retention *r, uint64_t token)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->files[i].held == token)
			r->files[i].held = 0;
}

long
lc_retention_pick(const struct lc_retention *r, uint64_t other_bytes, const unsigned int *open,
		  const char **why)
{
	if (r->max_files != 0) {
		for (size_t i = 0; i < r->n; i++) {
			unsigned int q = r->files[i].queue;

			if (r->files[i].held == 0 &&
			    r->per_queue[q] + (open ? open[q] : 0) > r->max_files) {
				*why = "-W: at most that many files per queue";
				return (long)i;	/* the oldest closed file of that queue */
			}
		}
	}
	if (r->max_bytes != 0 && r->closed_bytes + other_bytes > r->max_bytes) {
		for (size_t i = 0; i < r->n; i++) {
			if (r->files[i].held != 0)
				continue;
			*why = "--retain-bytes: the capture directory stays within its bound";
			return (long)i;
		}
	}
	return -1;
}

void
lc_retention_remove(struct lc_retention *r, size_t i)
{
	if (i >= r->n)
		return;
	r->closed_bytes -= r->files[i].bytes + r->files[i].index_bytes;
	r->per_queue[r->files[i].queue]--;
	memmove(&r->files[i], &r->files[i + 1], (r->n - i - 1) * sizeof(r->files[0]));
	r->n--;
}

void
lc_retention_free(struct lc_retention *r)
{
	free(r->files);
	memset(r, 0, sizeof(*r));
}
