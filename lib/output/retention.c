/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	r->closed_bytes += bytes;
	r->per_queue[f->queue]++;
	return 0;
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
	r->closed_bytes -= r->files[i].bytes;
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
