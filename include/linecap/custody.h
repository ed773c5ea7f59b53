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
 * at every moment. The main lcore calls lc_custody_retain each tick (and fsyncs the
 * manifest once for what was appended since). One mutex orders everything: the manifest's
 * lines, the retention list, the copy of the filter history.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "linecap/config.h"
#include "linecap/outpath.h"
#include "linecap/writer.h"

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
 * manifest line saying "disk full". Without retention nothing is deleted. */
unsigned int lc_custody_disk_full(void *custody);

/* Apply retention now (any lcore): the writer policy's on_published, so room is made
 * before the next file opens. */
void lc_custody_make_room(void *custody);

/* Apply retention and fsync the manifest (main lcore, each tick). */
void lc_custody_retain(struct lc_custody *c);

/* Where timestamps come from, for the records: "tsc" (default) or "hw". */
void lc_custody_set_clock(struct lc_custody *c, const char *source);

/* Bytes of the closed files still kept and of the manifest (any lcore). */
uint64_t lc_custody_bytes(struct lc_custody *c);

/* Give the manifest to uid:gid (-Z). 0 or -errno. */
int lc_custody_chown(struct lc_custody *c, uid_t uid, gid_t gid);

void lc_custody_close(struct lc_custody *c);

#endif
