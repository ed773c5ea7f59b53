/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_MANIFEST_H
#define LINECAP_MANIFEST_H

/*
 * The chain of custody of a capture directory: manifest.jsonl, one JSON object a line, one
 * line per closed file (and per file retired by retention, and per file repaired after a
 * crash). Every line carries "prev": the SHA-256 (hex) of the line before it (64 zeros for
 * the first), so removing, reordering or editing a line breaks the chain at the next one.
 * Lines are appended with O_APPEND and fsync-ed in batches (lc_manifest_sync; closing syncs
 * too); a later capture into the same directory continues the chain.
 */
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define LC_MANIFEST_NAME "manifest.jsonl"

struct lc_manifest;

/*
 * Open (creating, mode 0640) the manifest at path for appending; the chain continues from
 * its last line. Returns NULL with errno set and "PATH: reason" in err.
 */
struct lc_manifest *lc_manifest_open(const char *path, char *err, size_t errlen);

/* Append rec (its "prev" is set here). Returns 0 or -errno with a reason in err. */
int lc_manifest_append(struct lc_manifest *m, json_t *rec, char *err, size_t errlen);
/* (A line that cannot be written whole, a full disk, leaves nothing: -errno, and the record
 * can be appended again later.) */

/* fsync what was appended (once per batch of records). 0 or -errno. */
int lc_manifest_sync(struct lc_manifest *m);

/* Bytes in the manifest file now. */
size_t lc_manifest_size(const struct lc_manifest *m);

/* Close. Accepts NULL. */
void lc_manifest_close(struct lc_manifest *m);

/* Give the manifest file to uid:gid (-Z). 0 or -errno. */
int lc_manifest_chown(struct lc_manifest *m, uid_t uid, gid_t gid);

/* One line read back. */
struct lc_manifest_line {
	json_t *rec;		/* NULL if the line is not a JSON object */
	unsigned int lineno;
	char sha[65];		/* SHA-256 of the line's bytes */
};

/*
 * Read a manifest. *lines is malloc'ed (free with lc_manifest_lines_free). Returns the number
 * of lines, or -errno with a reason in err.
 */
int lc_manifest_read(const char *path, struct lc_manifest_line **lines, char *err,
		     size_t errlen);

/* Check the chain: returns 0, or the 1-based line number where it breaks (reason in err). */
unsigned int lc_manifest_check_chain(const struct lc_manifest_line *lines, int n, char *err,
				     size_t errlen);

void lc_manifest_lines_free(struct lc_manifest_line *lines, int n);

#endif
