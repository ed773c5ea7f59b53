/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_STATS_H
#define LINECAP_STATS_H

/*
 * A snapshot of a capture's counters, per queue and in total, and the ways it is shown: a
 * status line while running, a tcpdump-like summary at the end, JSON for scripts. The
 * totals add up by construction of the pipeline:
 *   received = passed_filter + filtered_out
 *   passed_filter = written + ring_drops + write_errors   (once every ring is drained)
 */
#include <stdint.h>
#include <stdio.h>

#include "linecap/config.h"
#include "linecap/filter_set.h"

struct lc_queue_stats {
	unsigned int queue;
	uint64_t received, passed, filtered, ring_drops;
	uint64_t written, written_bytes, write_errors, files;
	uint64_t rx_cycles, writer_cycles, writer_wait_cycles;	/* TSC, on the lcores */
	uint64_t io_hash_cycles, io_write_cycles;		/* TSC, on the I/O threads */
};

struct lc_stats {
	uint64_t received, passed, filtered, ring_drops;
	uint64_t written, written_bytes, write_errors, files;
	uint64_t imissed, rx_nombuf, ierrors;
	uint64_t rx_cycles, writer_cycles, writer_wait_cycles;	/* TSC, on the lcores */
	uint64_t io_hash_cycles, io_write_cycles;		/* TSC, on the I/O threads */
	double seconds;
	unsigned int nq;
	struct lc_queue_stats q[LC_QUEUES_MAX];
	const struct lc_filter_era *filters;	/* which filter was in force when */
	unsigned int nfilters;
};

/* Fill the totals from the per-queue rows. */
void lc_stats_sum(struct lc_stats *s);

/* One status line (no newline): totals and rates since prev, dt seconds ago. */
void lc_stats_format_status(char *buf, size_t len, const struct lc_stats *now,
			    const struct lc_stats *prev, double dt);

/* The end-of-run summary, per queue and in total. */
void lc_stats_print_summary(FILE *f, const struct lc_stats *s);

/*
 * Write s as JSON to path (keys: received, passed_filter, filtered_out, ring_drops,
 * written, written_bytes, write_errors, imissed, rx_nombuf, ierrors, seconds, queues[],
 * filters[] with expression, engine, since_ns and since (UTC, ISO 8601)).
 * Returns 0 or -errno with a reason in err.
 */
int lc_stats_write_json(const char *path, const struct lc_stats *s, char *err,
			size_t errlen);

#endif
