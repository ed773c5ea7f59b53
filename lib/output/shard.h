/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_SHARD_H
#define LINECAP_SHARD_H

/*
 * One open file of a shard (the stream of files of one RX queue). It is created as
 * NAME.part with O_EXCL|O_NOFOLLOW and mode 0640, written with whole-buffer writes whose
 * buffers then feed its SHA-256 (no second read), and on close: trailer, fsync, rename to NAME without
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
	int direct;		/* opened with O_DIRECT: writes must be 4 KiB-aligned blocks */
	int named;		/* the .part name exists (an O_TMPFILE file gets it at the stub) */
	int error;		/* the first failed write's -errno: nothing more is written */
	size_t stub_len;	/* the header lc_shard_file_stub put at the start */
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

#define LC_DIRECT_ALIGN 4096u

/*
 * Create file seq of queue for the period starting at when. With direct, bypass the page
 * cache (O_DIRECT) where the filesystem allows it (f->direct says whether it did): then every
 * write but the last must be whole 4 KiB blocks from a 4 KiB-aligned buffer, starting with
 * the header (lc_shard_file_header puts it in the caller's buffer; nothing is written here).
 * Returns 0, or -errno with "PATH: reason" in err (nothing is left behind on failure;
 * -EEXIST when the name is taken).
 */
int lc_shard_file_open(struct lc_shard_file *f, const struct lc_outpath *op,
		       const struct lc_format *fmt, unsigned int queue, uint32_t seq,
		       time_t when, int direct, char *err, size_t errlen);

/* The format's header for this file into dst (room bytes). Returns its length, 0 if no room. */
size_t lc_shard_file_header(const struct lc_shard_file *f, const struct lc_file_info *info,
			    uint8_t *dst, size_t room);

/*
 * Put the header at the start of the file at once, outside the stream (not hashed, not
 * counted): the first real write rewrites the same bytes at offset 0. Where the filesystem
 * allows, the file was opened nameless (O_TMPFILE) and takes its .part name only here, once
 * the header is in it: at no moment is there an empty file to find after a crash.
 * 0, -EEXIST when the name was taken meanwhile, or -errno.
 */
int lc_shard_file_stub(struct lc_shard_file *f, const void *hdr, size_t len);

/* Write all len bytes (retrying short writes and EINTR); done receives how many reached the
 * file. With direct, len must be whole blocks unless it is the last write (then O_DIRECT is
 * turned off first). 0 or -errno. A failed write takes back what part of it got through
 * (done = 0) and marks the file: later writes are refused with the same error, so the file
 * stays what the successful writes made it, for lc_shard_file_salvage. */
int lc_shard_file_write(struct lc_shard_file *f, const void *buf, size_t len, size_t *done);

/* Feed the file's SHA-256 with the next bytes that reached it, in file order. */
void lc_shard_file_hash(struct lc_shard_file *f, const void *buf, size_t len);

/*
 * Close a file whose writing failed (disk full, I/O error) as a valid capture: cut back to
 * its last whole record, synced, its SHA-256 computed from what it holds now (sha256), its
 * packets counted (*packets). Then publish as usual. 0 or -errno (the file stays .part).
 */
int lc_shard_file_salvage(struct lc_shard_file *f, uint8_t sha256[LC_SHA256_LEN],
			  uint64_t *packets);

/* fdatasync the open file (--fsync-interval). 0 or -errno. */
int lc_shard_file_sync(struct lc_shard_file *f);

/*
 * Put len bytes (a partial block of whole records) at the end of what was written (offset
 * f->bytes) through the page cache, outside the stream like the stub: not hashed, not
 * counted; the write that later covers that offset replaces them. With O_DIRECT a file
 * takes only whole blocks, so a quiet link's last records would otherwise wait in memory
 * until the block fills. Only between writes (the I/O threads drained). 0 or -errno.
 */
int lc_shard_file_peek(struct lc_shard_file *f, const void *buf, size_t len);

/*
 * Closing is two steps, so the chain of custody can record a file before it takes its final
 * name (a crash in between leaves NAME.part whose record exists: verify --repair completes
 * the rename):
 *   lc_shard_file_finish   fsync, close (the caller has written the format's trailer with
 *                          the rest); sha256 receives the file's hash;
 *   lc_shard_file_publish  rename .part to the final name without replacing anything, fsync
 *                          the directory.
 * Each returns 0 or -errno.
 */
int lc_shard_file_finish(struct lc_shard_file *f, uint8_t sha256[LC_SHA256_LEN]);
int lc_shard_file_publish(struct lc_shard_file *f, const struct lc_outpath *op);

/*
 * The index beside the file (NAME.idx, linecap/index.h), written once the file is finished:
 *   lc_shard_index_create   a descriptor to write it to: nameless where the filesystem allows
 *                           (O_TMPFILE in the file's directory, *named = 0), else NAME.idx
 *                           created at once (O_EXCL, never through a link; *named = 1);
 *                           returns it, or -errno;
 *   lc_shard_index_publish  once the file is recorded, before it takes its name: name the
 *                           index NAME.idx (never replacing anything) and close fd; the
 *                           file's publish then fsyncs the directory for both; 0 or -errno;
 *   lc_shard_index_discard  close fd and remove the name create gave it, if any.
 * A crash before the index has its name leaves NAME.part without one (its repair builds
 * it); one between the two names leaves the recorded NAME.part beside its index (the
 * repair renames the file).
 */
int lc_shard_index_create(const struct lc_shard_file *f, const struct lc_outpath *op,
			  int *named);
int lc_shard_index_publish(const struct lc_shard_file *f, int fd, int named);
void lc_shard_index_discard(const struct lc_shard_file *f, int fd, int named);

/* Close and remove a file that never held a packet (a capture that failed to start). */
void lc_shard_file_discard(struct lc_shard_file *f);

/*
 * The same unit for files that are not a capture's stream: a .part a crash left
 * (linecap-verify --repair) and a whole output file (linecap-merge -w). Their steps are the
 * ones above: cut to the last whole record, hash, fsync, rename without replacing, fsync the
 * directory.
 */

/* What a capture file holds up to its last whole record (lc_shard_file_cut). */
struct lc_shard_cut {
	uint64_t size;		/* bytes before the cut */
	uint64_t good;		/* bytes kept: up to the end of the last whole record */
	uint64_t packets, first_ns, last_ns;
};

/*
 * Take over fd, open (O_RDWR, or O_RDONLY to read and rename only) on name in the directory
 * dirfd, which dir names: NAME.part a crash left, or a finished NAME. lc_shard_file_scan,
 * lc_shard_file_cut, lc_shard_file_finish and lc_shard_file_publish_at then close it as a
 * capture would (lc_shard_file_discard never removes an adopted file). fd is the unit's
 * even on error (then closed). 0, or -ENAMETOOLONG / -ENOMEM.
 */
int lc_shard_file_adopt(struct lc_shard_file *f, int fd, const char *dir, const char *name);

/*
 * Read the file from its start to its last whole record: cut says where that ends, how many
 * records it holds and their first and last timestamps (the unit's bytes, packets, first_ns
 * and last_ns too). -EINVAL (or -errno) with the reason in err when it does not hold a whole
 * file header.
 */
int lc_shard_file_scan(struct lc_shard_file *f, struct lc_shard_cut *cut, char *err,
		       size_t errlen);

/* lc_shard_file_scan, then cut the file back to the end of its last whole record and fsync
 * it. 0, or < 0 with the reason in err (nothing is cut when it holds no whole header). */
int lc_shard_file_cut(struct lc_shard_file *f, struct lc_shard_cut *cut, char *err,
		      size_t errlen);

/* SHA-256 and size of what the file open (readable) at fd holds, read from its start; fd's
 * offset is not moved. 0 or -errno. */
int lc_shard_fd_digest(int fd, uint8_t sha256[LC_SHA256_LEN], uint64_t *bytes);

/* Rename a file lc_shard_file_adopt took (closed by lc_shard_file_finish, or not) from
 * NAME.part to NAME in dirfd without replacing anything, then fsync dirfd. 0 or -errno
 * (-EEXIST: the name is taken). */
int lc_shard_file_publish_at(struct lc_shard_file *f, int dirfd);

/*
 * Create path.part (O_EXCL|O_NOFOLLOW, mode 0640) for a whole output file that takes the name
 * path once complete (lc_shard_file_write, lc_shard_file_finish, lc_shard_file_publish_path;
 * lc_shard_file_discard on failure). -EEXIST when something (a link too) is at path. 0 or
 * -errno with "PATH: reason" in err.
 */
int lc_shard_file_create(struct lc_shard_file *f, const char *path, char *err, size_t errlen);

/* Rename path.part to path without replacing anything, fsync path's directory. 0 or -errno
 * (the .part is left: the caller removes it or keeps it). */
int lc_shard_file_publish_path(struct lc_shard_file *f);

/* Lower-case hex of a SHA-256 (65 bytes with the NUL). */
void lc_sha256_hex(const uint8_t sha256[LC_SHA256_LEN], char hex[2 * LC_SHA256_LEN + 1]);

#endif
