/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_CAPTURE_PRIV_H
#define LINECAP_CAPTURE_PRIV_H

/*
 * The capture's insides, shared by the files that make it up: capture.c (build, run, stop),
 * capture_plan.c (sizes before EAL), capture_describe.c (start-up lines, -Z ownership),
 * capture_clock.c (timestamp source), capture_watch.c
 * (the per-second work: status, warnings, telemetry snapshot). Nothing outside lib/pipeline
 * includes this.
 */
#include <stdint.h>

#include "linecap/capture.h"
#include "clock.h"
#include "filter_set.h"
#include "port.h"
#include "queue.h"
#include "rx.h"
#include "linecap/stats.h"
#include "writer.h"

#define TICK_US 20000u			/* main lcore wakes every 20 ms */
#define BALANCE_S 10u			/* RSS balance judged over this many seconds */
#define BALANCE_MIN_PACKETS 10000u	/* ... when they saw at least this many packets */
/* Memory a queue's index may take for its open file (flow table and positions, grown as
 * needed): ~3 bytes a packet, so a file of 60 million packets; past it the file is not
 * indexed (queryable by scan). */
#define LC_CAPTURE_INDEX_MEM (192ull << 20)

struct lc_capture {
	const struct lc_config *cfg;
	const struct lc_capture_plan *plan;
	const struct lc_outpath *out;
	struct lc_filter_set *filters;
	char *filter_now;		/* the expression in force, for writers' file headers */
	struct lc_custody *custody;	/* manifest and retention */
	struct lc_postcmd *postcmd;	/* -z: commands on closed files; NULL: none */
	struct lc_writer_policy policy;
	uint64_t period;		/* -G: start of the current period (s) */
	struct lc_port port;
	struct lc_clock clock;		/* TSC -> ns */
	struct lc_clock hwclock;	/* device clock -> ns, with hardware timestamps */
	int hw_ts;			/* hardware timestamps in use */
	unsigned int nq, nw;
	unsigned int rx_lcore[LC_QUEUES_MAX];
	unsigned int wr_lcore[LC_WRITERS_MAX];
	struct lc_rx_queue *rxq[LC_QUEUES_MAX];
	struct lc_queue *queue[LC_QUEUES_MAX];	/* between rxq[q] and shard[q] */
	struct lc_port_drops port_drops;	/* published for the writers each tick */
	struct lc_writer_shard *shard[LC_QUEUES_MAX];
	struct lc_writer *writer[LC_WRITERS_MAX];
	struct lc_feeds *feeds;		/* --feed; NULL: none (owned by the caller) */
	struct lc_readsrc *read;	/* -r: the files' reader; NULL: a port */
	int read_ts_offset;		/* -r: where each mbuf carries its record's time */
	uint64_t read_ts_flag;
	int stop;			/* read by RX lcores */
	int64_t budget;			/* -c */
	uint64_t start_tsc, end_tsc;
	int running;
	/* watch_load(): seconds each buffer has been over half full; queue counts at the start
	 * of the balance window, and its age in seconds. */
	unsigned int busy_s[LC_QUEUES_MAX];
	uint64_t balance_at[LC_QUEUES_MAX];
	unsigned int balance_s;
	int dir_lock;			/* fd holding the directory's lock; -1 none */
	struct lc_outpath_made made;	/* the directory, when the capture created it */
	struct lc_live live;		/* published to telemetry each second */
	struct lc_stats status_prev;	/* counters at the last status line */
	double status_dt;		/* seconds since then */
};

/* err = the formatted reason; returns rc. */
int lc_capture_fail(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* After the port is configured: hardware timestamps if asked for (or auto) and offered. */
int lc_capture_choose_timestamps(struct lc_capture *cap, char *err, size_t errlen);
/* The port started: measure its clock and anchor it (with hardware timestamps). */
int lc_capture_start_hw_clock(struct lc_capture *cap, char *err, size_t errlen);
/* Once a second: re-anchor the port's clock. */
void lc_capture_refresh_hw_clock(struct lc_capture *cap);
/* -r: each packet keeps its record's own time (after the port is set up). 0 or -errno. */
int lc_capture_file_timestamps(struct lc_capture *cap, char *err, size_t errlen);
/* What the manifest and pcapng headers call the source: a kernel interface's name (not
 * DPDK's port over it), "file" for -r (its files are in the manifest's source records), else
 * the port's name. */
const char *lc_capture_source_name(const struct lc_capture *cap);
/* The snapshot length file headers give: -s, or with -r and no -s the files' largest. */
uint32_t lc_capture_header_snaplen(const struct lc_capture *cap);
/* The timestamp source in words, for file headers. */
const char *lc_capture_clock_words(const struct lc_capture *cap);

/* Once a second on the main lcore: status (every --status-interval), warnings, snapshot,
 * through the hooks. */
void lc_capture_each_second(struct lc_capture *cap, const struct lc_stats *now,
			    const struct lc_stats *prev, double dt,
			    const struct lc_capture_hooks *hooks);

#endif
