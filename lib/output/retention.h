/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_RETENTION_H
#define LINECAP_RETENTION_H

/*
 * Which closed file to delete, and why: the ring-buffer rules, as plain logic (the main
 * lcore applies them; tests drive them directly).
 *   -W N             at most N files per queue, counting the one being written: the
 *                    oldest closed file of that queue goes first.
 *   --retain-bytes B the capture's files (closed and open, each with its index NAME.idx)
 *                    and its manifest stay within B bytes: the oldest closed file of any
 *                    queue goes first, its index with it. An open file is never deleted.
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
	/* Its index (NAME.idx), deleted with it (lc_retention_unlink_index): index_bytes
	 * count towards the bound; index_sha256 "" when it has none. */
	uint64_t index_bytes;
	char index_sha256[65];
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

/* The file added last has an index (NAME.idx) of bytes bytes, SHA-256 sha256_hex: it
 * counts towards --retain-bytes with its file. */
void lc_retention_index(struct lc_retention *r, uint64_t bytes, const char *sha256_hex);

/*
 * Delete the index of the capture file at path (path + ".idx"), never through a link:
 * only a regular file with one link is deleted (unlinkat in the file's directory). 1
 * deleted, 0 none there, or -errno: -EINVAL when it is not that (a symbolic link, a
 * FIFO, a hard link: left in place).
 */
int lc_retention_unlink_index(const char *path);

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
