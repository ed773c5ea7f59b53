/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_READER_H
#define LINECAP_READER_H

/*
 * A streaming reader of capture files an attacker may have shaped: classic pcap (micro- or
 * nanosecond, either byte order) and pcapng (any number of sections and interfaces,
 * if_tsresol honoured, unknown blocks skipped). One record in memory at a time. Every
 * problem is reported as "FILE: byte OFFSET: reason", and the offset just past the last
 * whole record is always known (what a repair truncates to).
 */
#include <stddef.h>
#include <stdint.h>

struct lc_reader;

enum lc_reader_format { LC_READER_PCAP, LC_READER_PCAPNG };

struct lc_record {
	uint64_t ts_ns;
	uint32_t caplen, len;	/* caplen cut at the snaplen, as libpcap reads it */
	uint32_t stored;	/* caplen as stored in the file (may exceed the snaplen) */
	const uint8_t *data;	/* valid until the next call */
	uint32_t linktype;	/* of the interface it was captured on */
	uint32_t snaplen;
	uint64_t offset;	/* where the record starts in the file */
};

/* Open path. NULL with errno set (EINVAL: not a capture file) and a reason in err. */
struct lc_reader *lc_reader_open(const char *path, char *err, size_t errlen);

/* The same over fd, open for reading at its start (the reader owns it, even on error: it
 * is closed); path only names it in messages. */
struct lc_reader *lc_reader_fdopen(int fd, const char *path, char *err, size_t errlen);

/* The same, reading bufsize bytes at a time (lc_reader_fdopen: 256 KiB): a reader that seeks
 * to records far apart (an index's positions) reads little around each. */
struct lc_reader *lc_reader_fdopen_sized(int fd, const char *path, size_t bufsize, char *err,
					 size_t errlen);

/* Next record: 1, 0 at a clean end, or -EINVAL (corrupt or cut) / -EIO with a reason. */
int lc_reader_next(struct lc_reader *r, struct lc_record *rec, char *err, size_t errlen);

/* Go to the record at file offset off (one lc_reader_next returned before, or an index
 * gave): the next lc_reader_next reads it. A pcapng file must have had a record read first
 * (its interfaces are known then). 0 or -EINVAL. */
int lc_reader_seek(struct lc_reader *r, uint64_t off);

/* File offset just past the last whole record (or header) read. */
uint64_t lc_reader_good_offset(const struct lc_reader *r);

/* Snaplen of the file (pcap) or of its first interface (pcapng; 0 before the first
 * interface block). */
uint32_t lc_reader_snaplen(const struct lc_reader *r);

void lc_reader_close(struct lc_reader *r);

/* Does a file name end in .pcap or .pcapng (a capture file, not a .part or a manifest)? */
int lc_reader_is_capture_name(const char *name);

#endif
