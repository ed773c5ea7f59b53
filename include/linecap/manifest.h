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
 * its last line. A symbolic link, a FIFO or anything else but a regular file at path is
 * refused, without blocking: NULL with errno EINVAL; so is a file with more than one link,
 * and a manifest whose last line is cut (no newline at its end: a crash while it was
 * appended) or is not a JSON object (nothing is ever appended after such a line). Returns
 * NULL with errno set and "PATH: reason" in err.
 */
struct lc_manifest *lc_manifest_open(const char *path, char *err, size_t errlen);

/* Append rec (its "prev" is set here). Returns 0 or -errno with a reason in err. */
int lc_manifest_append(struct lc_manifest *m, json_t *rec, char *err, size_t errlen);
/* (A line that cannot be written whole, a full disk, leaves nothing: -errno, and the record
 * can be appended again later.) */

/* fsync what was appended (once per batch of records). 0 or -errno. */
int lc_manifest_sync(struct lc_manifest *m);

/*
 * Keep bytes of disk allocated past the manifest's end (its size does not change), so that
 * records still fit when the disk is full: a file is retired only once its record is in the
 * manifest, and on a full disk that record must go in before the file makes room. 0, or
 * -errno (-EOPNOTSUPP where the filesystem cannot, -ENOSPC).
 */
int lc_manifest_reserve(struct lc_manifest *m, size_t bytes);

/* Bytes in the manifest file now. */
size_t lc_manifest_size(const struct lc_manifest *m);

/* Close. Accepts NULL. */
void lc_manifest_close(struct lc_manifest *m);

/* Give the manifest file to uid:gid (-Z), only if lc_manifest_open created it: one that was
 * there already keeps its owner (USER must be able to append to it: checked at start). 0 or
 * -errno. */
int lc_manifest_chown(struct lc_manifest *m, uid_t uid, gid_t gid);

/*
 * The longest line parsed as a record (a file's record lists every filter in force while it
 * was open, each up to 64 KiB). A longer line is still hashed, so the chain goes on through
 * it, but it is not parsed: its record is NULL and too_long is set. Reading a manifest takes
 * memory bounded by this, whatever the file holds.
 */
#define LC_MANIFEST_LINE_MAX (16u << 20)

/*
 * The members of a record its readers use, read straight from the line by a strict JSON
 * reader (the whole line is checked as jansson would: syntax, UTF-8, no NUL, integers in
 * range, at most 2048 levels deep) several times faster than building it with jansson.
 */
struct lc_manifest_fields {
	int object;		/* the line is a JSON object; nothing below is set otherwise */
	/* Top-level string members (decoded, NUL-terminated), NULL when absent or not a
	 * string; where a key appears twice, the last one counts (as in jansson). */
	const char *file, *retired, *sha256, *prev;
	const char *clock;	/* "tsc", "hw", or "file" (written from files read, -r) */
	int error;		/* a top-level "error" member is there (of any type) */
	/* Top-level integer members, 0 when absent or not an integer. */
	long long bytes, packets, queue, seq, first_ns, last_ns;
	/* The top-level "index" member (a file's index, or the one a retirement deleted):
	 * index is set when it is an object; then index_sha256 is its "sha256" string (NULL
	 * when absent or not a string), index_bytes its "bytes" integer (0 likewise), and
	 * index_missing says it has a "missing" member (no index was written). */
	int index, index_missing;
	const char *index_sha256;
	const char *index_table_sha256;	/* its "table_sha256" (NULL when absent) */
	long long index_bytes;
};

/* One line read back. */
struct lc_manifest_line {
	struct lc_manifest_fields f;
	unsigned int lineno;
	char sha[65];		/* with LC_MANIFEST_SCAN_HASH: SHA-256 of the line's bytes */
	char prev_sha[65];	/* with LC_MANIFEST_SCAN_HASH: that of the line before (64 zeros
				 * for the first) */
	int too_long;		/* over LC_MANIFEST_LINE_MAX: hashed, not parsed */
	int cut;		/* the last line, with no newline at its end: a crash cut it
				 * while it was appended (a capture start refuses to append after
				 * it; linecap-verify --repair moves it aside) */
};

/* What lc_manifest_scan computes besides the fields. */
#define LC_MANIFEST_SCAN_HASH 1u	/* each line's SHA-256, for the chain */

/*
 * Open a manifest to read it: name relative to the directory dirfd (or AT_FDCWD), never
 * following a symbolic link, never blocking (a FIFO planted as the manifest), and only a
 * regular file with one link. Returns the descriptor, or -errno with "NAME: reason" in err:
 * -ENOENT when there is none, -EINVAL when it is not a regular file (a symbolic link, a FIFO,
 * a device) or has more than one link (a hard link: "has N links").
 */
int lc_manifest_open_read(int dirfd, const char *name, char *err, size_t errlen);

/*
 * Is name a plain file name in the manifest's directory: not empty, at most NAME_MAX bytes,
 * no '/', not "." or "..", no control character? Only such a name may be opened, renamed or
 * deleted on a manifest's word (the manifest may have been written by anyone).
 */
int lc_manifest_name_ok(const char *name);

/*
 * Open a file a manifest names, name relative to the directory dirfd, with flags (O_RDONLY,
 * O_RDWR): as lc_manifest_open_read, never through a link, never blocking, only a regular
 * file with one link (a second link is the same file elsewhere). Also for any file found by
 * reading a directory that may be another user's (merge, seqcheck). Check the name with lc_manifest_name_ok first. The descriptor, or -errno with
 * "NAME: reason" in err (-EINVAL: not a regular file).
 */
int lc_manifest_open_file(int dirfd, const char *name, int flags, char *err, size_t errlen);

/*
 * File names to numbers (a manifest's records by name), in constant time per name whatever
 * the names: the hash is keyed at random (SipHash), so no manifest can be written to make
 * them collide. Names are copied.
 */
struct lc_name_index;

/* NULL with errno ENOMEM. */
struct lc_name_index *lc_name_index_new(void);
/* Map name to value (replacing what it mapped to). 0 or -ENOMEM. */
int lc_name_index_put(struct lc_name_index *x, const char *name, size_t value);
/* What name maps to, or -1. */
long lc_name_index_get(const struct lc_name_index *x, const char *name);
/* Accepts NULL. */
void lc_name_index_free(struct lc_name_index *x);

/* Called for each line, in order; line (its strings) is borrowed: valid during the call.
 * Return 0 to go on, anything else to stop (lc_manifest_scan returns it). */
typedef int (*lc_manifest_line_fn)(void *arg, const struct lc_manifest_line *line);

/*
 * Read the manifest open at fd (from lc_manifest_open_read) from its start, line by line,
 * in memory bounded by LC_MANIFEST_LINE_MAX and time linear in its size, calling fn for
 * each; flags: LC_MANIFEST_SCAN_*. Does not move fd's offset. Returns the number of lines,
 * what fn returned when it stopped the scan, or -errno with "what: reason" in err.
 */
int lc_manifest_scan(int fd, const char *what, unsigned int flags, lc_manifest_line_fn fn,
		     void *arg, char *err, size_t errlen);

/* The same, over the manifest m was opened on (a capture's own, before it appends). */
int lc_manifest_scan_open(struct lc_manifest *m, unsigned int flags, lc_manifest_line_fn fn,
			  void *arg, char *err, size_t errlen);

/* Parse one line (len bytes, no newline) into f; its strings point into scratch, which
 * must hold len + 1 bytes. Returns f->object. */
int lc_manifest_parse_line(const char *line, size_t len, char *scratch,
			   struct lc_manifest_fields *f);

/* Does line (scanned with LC_MANIFEST_SCAN_HASH) carry the hash of the line before it? 0,
 * or the line number with the reason in err. */
unsigned int lc_manifest_line_chained(const struct lc_manifest_line *line, char *err,
				      size_t errlen);

#endif
