/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_SHARD_H
#define LINECAP_SHARD_H

/*
 * One open file of a shard (the stream of files of one RX queue). It is created as
 * NAME.part with O_EXCL|O_NOFOLLOW and mode 0640, written with whole-buffer writes that also
 * feed its SHA-256 (no second read), and on close: trailer, fsync, rename to NAME without
 * replacing anything, fsync of the directory. A file that exists is never opened for
 * writing. At any moment the .part file is a valid capture up to its last whole record.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "linecap/format.h"
#include "linecap/outpath.h"

#define LC_SHA256_LEN 32

struct lc_shard_file {
	int fd;			/* -1 when closed */
	unsigned int queue;
	uint32_t seq;
	uint64_t bytes;		/* written so far, header included */
	uint64_t packets;	/* records written so far */
	uint64_t first_ns, last_ns;	/* timestamps of the first and last record */
	uint64_t opened_ns;
	time_t period;		/* start of the period it belongs to (names, -G) */
	const struct lc_format *fmt;
	void *sha;		/* OpenSSL digest context */
	char path[PATH_MAX];
	char part[PATH_MAX];
};

/*
 * Create file seq of queue for the period starting at when, and write the format's header.
 * Returns 0, or -errno with "PATH: reason" in err (nothing is left behind on failure;
 * -EEXIST when the name is taken).
 */
int lc_shard_file_open(struct lc_shard_file *f, const struct lc_outpath *op,
		       const struct lc_format *fmt, const struct lc_file_info *info,
		       unsigned int queue, uint32_t seq, time_t when, char *err, size_t errlen);

/* Write all len bytes (retrying short writes and EINTR) and hash them. 0 or -errno. */
int lc_shard_file_write(struct lc_shard_file *f, const void *buf, size_t len);

/* fdatasync the open file (--fsync-interval). 0 or -errno. */
int lc_shard_file_sync(struct lc_shard_file *f);

/*
 * Write the format's trailer (st may be NULL: none), fsync, close, rename .part to the final
 * name, fsync the directory; sha256 receives the file's hash. Returns 0 or -errno.
 */
int lc_shard_file_close(struct lc_shard_file *f, const struct lc_outpath *op,
			const struct lc_file_stats *st, uint8_t sha256[LC_SHA256_LEN]);

/* Close and remove a file that never held a packet (a capture that failed to start). */
void lc_shard_file_discard(struct lc_shard_file *f);

/* Lower-case hex of a SHA-256 (65 bytes with the NUL). */
void lc_sha256_hex(const uint8_t sha256[LC_SHA256_LEN], char hex[2 * LC_SHA256_LEN + 1]);

#endif
