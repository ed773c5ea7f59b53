/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_STATS_H
#define LINECAP_STATS_H

/*
 * A snapshot of a capture's counters, per queue and in total, and the ways it is shown: a
 * status line while running, a tcpdump-like summary at the end, JSON for scripts. The
 * totals add up by construction of the pipeline:
 *   received = passed_filter + filtered_out
 *   passed_filter = written + buffer_full + write_errors   (once every queue is drained)
 */
#include <stdint.h>
#include <stdio.h>

#include "linecap/config.h"
#include "linecap/feed.h"
#include "filter_set.h"

struct lc_queue_stats {
	unsigned int queue;
	uint64_t received, passed, filtered, buffer_full;
	uint64_t written, written_bytes, write_errors, files;
	uint64_t rx_cycles, writer_cycles, writer_wait_cycles;	/* TSC cycles (writer: CPU + waits) */
	uint64_t io_hash_cycles, io_write_cycles;		/* hash: CPU; write calls: wall */
};

struct lc_stats {
	uint64_t received, passed, filtered, buffer_full;
	uint64_t written, written_bytes, write_errors, files;
	uint64_t imissed, rx_nombuf, ierrors;
	uint64_t rx_cycles, writer_cycles, writer_wait_cycles;	/* TSC cycles (writer: CPU + waits) */
	uint64_t io_hash_cycles, io_write_cycles;		/* hash: CPU; write calls: wall */
	double seconds;
	const char *ts_source;		/* "tsc", "hw" or "file" (-r); NULL: not captured */
	uint64_t read_bytes, read_total;	/* -r: bytes of the files read so far, of all */
	uint64_t clock_refreshes, clock_steps, clock_max_offset_ns;	/* of that clock */
	unsigned int nq;
	struct lc_queue_stats q[LC_QUEUES_MAX];
	const struct lc_filter_era *filters;	/* which filter was in force when */
	unsigned int nfilters;
	unsigned int nfeeds;			/* --feed: live feeds and their clients */
	struct lc_feed_stats feeds[LC_FEEDS_MAX];
	/* -z: commands ended (or not started), of them failed, and killed for time. */
	int postrotate;			/* 1: a -z command was given */
	uint64_t postrotate_run, postrotate_failed, postrotate_timed_out;
};

#define LC_LIVE_XSTATS 32
#define LC_LIVE_NAME 256

/* What telemetry shows of a running capture: a snapshot the main lcore publishes each
 * second (a copy: the telemetry thread never touches the capture itself). */
struct lc_live {
	struct lc_stats now;		/* filters/nfilters are not copied */
	double dt;			/* seconds the rates are over */
	double rx_pps, written_pps, written_Bps;
	double q_rx_pps[LC_QUEUES_MAX], q_written_pps[LC_QUEUES_MAX];
	uint64_t buffer_size;			/* bytes of each queue's buffer (-B) */
	uint64_t buffer_used[LC_QUEUES_MAX];	/* bytes of it in use (whole chunks) */
	unsigned int nw;
	unsigned int writer_of[LC_QUEUES_MAX];	/* queue -> writer */
	uint64_t open_bytes[LC_QUEUES_MAX];
	char current[LC_QUEUES_MAX][LC_LIVE_NAME];	/* file open on each queue ("" none) */
	uint64_t bytes_on_disk;		/* the capture's files and manifest now */
	char link[128];
	unsigned int nxstats;
	char xstat_name[LC_LIVE_XSTATS][64];
	uint64_t xstat[LC_LIVE_XSTATS];
};

/*
 * Is RSS spreading packets unevenly? delta[q] is what each of n queues received over a
 * window; uneven when there are at least min_packets in all and one queue has more than
 * twice its fair share or less than a quarter of it. Returns 1 (worst queue and its share
 * of the packets, 0..1) or 0.
 */
int lc_stats_uneven(const uint64_t *delta, unsigned int n, uint64_t min_packets,
		    unsigned int *worst, double *share);

/* Fill the totals from the per-queue rows. */
void lc_stats_sum(struct lc_stats *s);

/* One status line (no newline): totals and rates since prev, dt seconds ago. */
void lc_stats_format_status(char *buf, size_t len, const struct lc_stats *now,
			    const struct lc_stats *prev, double dt);

/* The end-of-run summary, per queue and in total. */
void lc_stats_print_summary(FILE *f, const struct lc_stats *s);

/*
 * Write s as JSON to path (keys: received, passed_filter, filtered_out, buffer_full,
 * written, written_bytes, write_errors, imissed, rx_nombuf, ierrors, seconds, queues[],
 * filters[] with expression, engine, since_ns and since (UTC, ISO 8601)).
 * Returns 0 or -errno with a reason in err.
 */
int lc_stats_write_json(const char *path, const struct lc_stats *s, char *err,
			size_t errlen);

#endif
