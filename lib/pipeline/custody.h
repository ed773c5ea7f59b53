/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_CUSTODY_H
#define LINECAP_CUSTODY_H

/*
 * Chain of custody: every closed file becomes a manifest line (name, SHA-256 computed while
 * writing, size, packets, first and last timestamp, queue, host, port, the filters in force
 * while it was open, snaplen, linecap version, clock source, the drops that happened while it
 * was open), and retention (-W, --retain-bytes) deletes the oldest closed files with a
 * manifest line saying which file went and why.
 *
 * Writers call lc_custody_file_closed on their own lcore, at rotation (never per packet):
 * the record is appended and retention applied before the next file opens, so a bound holds
 * at every moment. The main lcore calls lc_custody_retain each tick. One mutex orders
 * everything: the manifest's lines, the retention list, the copy of the filter history.
 *
 * Crash consistency (a kill or a power loss at any instant leaves a directory that
 * linecap-verify --repair explains whole):
 *  - a closed file's record is appended and fsync-ed before the writer renames the file
 *    from .part (a crash between: --repair finds the .part by its record and renames it);
 *  - retirement is write-ahead: the retire record is appended and fsync-ed, then the file is
 *    deleted (a crash between: the file is there with its retire record, "retirement
 *    pending", and --repair, or the next capture into the directory, deletes it);
 *  - a file is retired only once its writer has renamed it (it is held until then), and
 *    never while its record cannot be written: on a full disk the record goes first into a
 *    reserve kept allocated past the manifest's end (LC_CUSTODY_RESERVE), then the file
 *    makes room. Where the filesystem keeps no reserve (no fallocate) and the disk is full,
 *    nothing is retired until there is room for the record.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "linecap/config.h"
#include "linecap/outpath.h"
#include "writer.h"

struct lc_custody;

/*
 * How much the files being written hold (or may reach), and which queues have one:
 * open[q] = 1. Must be safe from any lcore.
 */
typedef uint64_t (*lc_custody_open_fn)(void *arg, unsigned int *open);

/* Open the manifest of out's directory. NULL with errno set and a reason in err. */
struct lc_custody *lc_custody_open(const struct lc_config *cfg, const struct lc_outpath *out,
				   const char *port, lc_custody_open_fn open_bytes,
				   void *open_arg, char *err, size_t errlen);

/* How many files of earlier captures into the same directory the manifest recorded and are
 * still there (they count towards retention, oldest first). */
unsigned int lc_custody_earlier(const struct lc_custody *c);

/* A filter took effect (main lcore, on every change). */
void lc_custody_filter(struct lc_custody *c, const char *expr, const char *engine,
		       uint64_t since_ns);

/* Record a closed file (any lcore; takes ownership of cf): the writer policy's on_closed. */
void lc_custody_file_closed(void *custody, struct lc_closed_file *cf);

/* A write failed for want of space (any lcore, a writer's): when retention is on (-W or
 * --retain-bytes), retire the oldest kept files until a few files fit again, each with a
 * manifest line saying "disk full", written before the file goes. Without retention nothing
 * is deleted. Returns how many were retired. */
unsigned int lc_custody_disk_full(void *custody);

/* The calling writer has renamed the file it closed last (or failed to): that file may be
 * retired from now on; then apply retention (any lcore): the writer policy's on_published,
 * so room is made before the next file opens. */
void lc_custody_make_room(void *custody);

/* Append the records a full disk refused, apply retention, renew the manifest's reserve
 * (main lcore, each tick). */
void lc_custody_retain(struct lc_custody *c);

/* Where timestamps come from, for the records: "tsc" (default) or "hw". */
void lc_custody_set_clock(struct lc_custody *c, const char *source);

/* Bytes of the closed files still kept and of the manifest (any lcore). */
uint64_t lc_custody_bytes(struct lc_custody *c);

/* Give the manifest to uid:gid (-Z). 0 or -errno. */
int lc_custody_chown(struct lc_custody *c, uid_t uid, gid_t gid);

/* With retention on (-W, --retain-bytes): the first file under retention that uid could not
 * delete (its directory not writable by uid, or sticky with the file and directory owned by
 * others), and in *n how many there are; NULL when none (or retention is off). -Z refuses
 * those at start; while capturing such a file is left out of retention (warned once). */
const char *lc_custody_undeletable(const struct lc_custody *c, uid_t uid, unsigned int *n);

void lc_custody_close(struct lc_custody *c);

/* -r: a file read, recorded once the reading is over: {"source": path, "sha256" of its
 * bytes as read, "bytes", "records" handed to the capture, "read": "whole" | "broken" (a
 * record that could not be read ended it) | "stopped" (the capture stopped first), "host",
 * "at_ns"}. */
void lc_custody_source(struct lc_custody *c, const char *path, const char *sha256_hex,
		       uint64_t bytes, uint64_t records, const char *how);

#endif
