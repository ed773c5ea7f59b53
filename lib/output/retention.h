/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_RETENTION_H
#define LINECAP_RETENTION_H

/*
 * Which closed file to delete, and why: the ring-buffer rules, as plain logic (the main
 * lcore applies them; tests drive them directly).
 *   -W N             at most N files per queue, counting the one being written: the
 *                    oldest closed file of that queue goes first.
 *   --retain-bytes B the capture's files (closed and open) and its manifest stay within B
 *                    bytes: the oldest closed file of any queue goes first. An open file is
 *                    never deleted.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "linecap/config.h"

struct lc_kept_file {
	char path[PATH_MAX];
	unsigned int queue;
	uint64_t bytes;
	char sha256[65];
	/* 0, or a token of the caller's: never picked while held (custody: the file is not yet
	 * renamed to its final name by its writer, the token's thread). */
	uint64_t held;
};

struct lc_retention {
	unsigned int max_files;		/* per queue, 0: no limit */
	uint64_t max_bytes;		/* 0: no limit */
	struct lc_kept_file *files;	/* closed files, oldest first */
	size_t n, cap;
	uint64_t closed_bytes;
	unsigned int per_queue[LC_QUEUES_MAX];
};

void lc_retention_init(struct lc_retention *r, unsigned int max_files, uint64_t max_bytes);

/* A file was closed. Returns 0 or -ENOMEM. */
int lc_retention_add(struct lc_retention *r, const char *path, unsigned int queue,
		     uint64_t bytes, const char *sha256_hex);

/* The same, held (token != 0): counted like any other, never picked until released. */
int lc_retention_add_held(struct lc_retention *r, const char *path, unsigned int queue,
			  uint64_t bytes, const char *sha256_hex, uint64_t token);

/* Release the files held with token: from now on they may be picked. */
void lc_retention_release(struct lc_retention *r, uint64_t token);

/*
 * The file to retire now, given the bytes in open files plus the manifest (other_bytes) and
 * whether queue q has an open file (open_queues bit q... as a count per queue: open[q]).
 * Returns an index into r->files, or -1; *why says which rule. A held file counts towards
 * the bounds but is never picked: the oldest file not held goes instead.
 */
long lc_retention_pick(const struct lc_retention *r, uint64_t other_bytes,
		       const unsigned int *open, const char **why);

/* Forget file i (after deleting it). */
void lc_retention_remove(struct lc_retention *r, size_t i);

void lc_retention_free(struct lc_retention *r);

#endif
