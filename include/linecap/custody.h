/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_CUSTODY_H
#define LINECAP_CUSTODY_H

/*
 * Chain of custody, kept by the main lcore: every closed file becomes a manifest line (name,
 * SHA-256 computed while writing, size, packets, first and last timestamp, queue, host, port,
 * the filters in force while it was open, snaplen, linecap version, clock source, the drops
 * that happened while it was open), and retention (-W, --retain-bytes) deletes the oldest
 * closed files with a manifest line saying which file went and why.
 */
#include <stddef.h>
#include <stdint.h>

#include "linecap/config.h"
#include "linecap/filter_set.h"
#include "linecap/outpath.h"
#include "linecap/writer.h"

struct lc_custody;

/* Open the manifest of out's directory. NULL with errno set and a reason in err. */
struct lc_custody *lc_custody_open(const struct lc_config *cfg, const struct lc_outpath *out,
				   const char *port, const struct lc_filter_set *filters,
				   char *err, size_t errlen);

/* Record a closed file (takes ownership of cf). */
void lc_custody_file_closed(struct lc_custody *c, struct lc_closed_file *cf);

/*
 * Apply retention: open_bytes in files still being written, open[q] = 1 for each queue with
 * an open file. Deletes and records what must go.
 */
void lc_custody_retain(struct lc_custody *c, uint64_t open_bytes, const unsigned int *open);

/* Files recorded, files retired so far. */
void lc_custody_counts(const struct lc_custody *c, uint64_t *recorded, uint64_t *retired);

/* Bytes of the manifest. */
size_t lc_custody_manifest_bytes(const struct lc_custody *c);

void lc_custody_close(struct lc_custody *c);

#endif
