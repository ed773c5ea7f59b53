/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_CAPTURE_H
#define LINECAP_CAPTURE_H

/*
 * A capture from start to end: the plan made before EAL (queues, writers, memory), the
 * pipeline built after it (port, rings, filters, writers, first files), the run (RX and
 * writer lcores launched, the main lcore watching signals, limits and the clock), and the
 * drain (RX stops, rings empty, files closed). All runtime state lives in struct lc_capture.
 */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "linecap/config.h"
#include "linecap/filter.h"
#include "filter_set.h"
#include "linecap/outpath.h"
#include "port.h"
#include "linecap/stats.h"

struct lc_capture;

struct lc_read_plan;

struct lc_capture_plan {
	struct lc_port_plan port;
	struct lc_read_plan *read;	/* -r: the files; NULL: a port (-i) */
	unsigned int queues;
	unsigned int writers;
	unsigned int mbufs;
	uint64_t buffer_bytes;	/* -B: each queue's capture buffer, whole chunks */
	uint64_t mem_bytes;	/* what EAL must provide */
	/* Filled by lc_outpath_check: where each queue's numbering starts (after the files of
	 * earlier captures in the directory), and how many such files there are. */
	uint32_t first_seq[LC_QUEUES_MAX];
	unsigned int earlier_files;
};

/*
 * Decide queues, writers, pool size and memory from cfg and the device string, before EAL.
 * Returns 0, or -errno with a reason in err (a replay file that cannot be read, say).
 */
int lc_capture_plan(const struct lc_config *cfg, struct lc_capture_plan *plan, char *err,
		    size_t errlen);

struct lc_user;
/* -Z with -r: can u read every file of the plan (they are read once root is dropped)? 0, or
 * -errno with one line in err. */
int lc_capture_plan_check_read(const struct lc_capture_plan *plan, const struct lc_user *u,
			       char *err, size_t errlen);

/* Free what lc_capture_plan allocated (-r's file list). Accepts a zeroed plan. */
void lc_capture_plan_release(struct lc_capture_plan *plan);

/*
 * Build the pipeline after EAL: port, pool, rings, cfg->filter on every RX queue (one
 * self-checked instance per queue on the port's node, engine cfg->filter_engine; no filter
 * stage without one), writers and their first files; then start the port.
 * The capture keeps pointers to cfg, plan and out: they must outlive it.
 * Returns the capture, or NULL with errno set (EINVAL/ENODEV/EEXIST/EACCES for bad input,
 * others for runtime failures) and a reason in err.
 */
struct lc_capture *lc_capture_create(const struct lc_config *cfg,
				     const struct lc_capture_plan *plan,
				     const struct lc_outpath *out, char *err, size_t errlen);

struct lc_feeds;
/* Offer the writers' records to feeds (linecap/feed.h), before the run; feeds must outlive
 * the capture. 0, or -errno with a reason in err. */
int lc_capture_attach_feeds(struct lc_capture *cap, struct lc_feeds *feeds, char *err,
			    size_t errlen);

/* The most a file (and the manifest records it brings) can go past -C: one record, its
 * trailer and its records (the margin of every size bound). */
uint64_t lc_capture_file_margin(const struct lc_config *cfg);

/* -B by default: 256 MiB a queue where huge_free (free hugepage bytes) less other (what the
 * rest of the capture needs) has room for it, else half of that room shared by the queues
 * (whole MiB); under 16 MiB each that way, a quarter of mem_avail (available memory) shared
 * by the queues, up to 256 MiB, at least 4 MiB. */
uint64_t lc_capture_default_buffer(uint64_t huge_free, uint64_t mem_avail, uint64_t other,
				   unsigned int queues);

/* The period files start in now: the current -G boundary (s since the epoch), else now. */
uint64_t lc_capture_period(const struct lc_config *cfg);

/* What the application runs beside the capture, on the main lcore (any may be NULL): the
 * capture itself knows nothing of telemetry or Prometheus. */
struct lc_capture_hooks {
	/* Every tick (20 ms): serve what was asked meanwhile (a filter change over
	 * telemetry: lc_capture_set_filter may be called from here). */
	void (*tick)(struct lc_capture *cap, void *arg);
	/* Once a second: every counter, for whoever shows them (a copy to keep). */
	void (*second)(const struct lc_live *live, void *arg);
	/* Every --status-interval: the totals now and at the last call, dt seconds ago. */
	void (*status)(const struct lc_stats *now, const struct lc_stats *prev, double dt,
		       void *arg);
	void *arg;
};

/* Flags the application's signal handlers set. */
struct lc_capture_signals {
	const volatile sig_atomic_t *stop;	/* SIGINT/SIGTERM: stop, drain, close */
	volatile sig_atomic_t *reload;		/* SIGHUP: re-read -F; cleared when done */
};

/*
 * Run until *sig->stop, -c, --duration or the end of a finite replay; then stop RX, drain
 * every queue and close every file. While running, the main lcore also re-reads the filter
 * file on *sig->reload and calls the hooks (NULL: none). Returns 0, or -errno if a writer
 * failed (reason in err; the counters still tell what was written).
 */
int lc_capture_run(struct lc_capture *cap, const struct lc_capture_signals *sig,
		   const struct lc_capture_hooks *hooks, char *err, size_t errlen);

/*
 * Change the filter of a running (or ready) capture: compile, self-check, swap on every RX
 * queue without stopping capture, free the old one when no RX lcore can run it. expr NULL
 * or blank: no filter. Main lcore only. Returns 0, or -errno with one line in err (the old
 * filter stays).
 */
int lc_capture_set_filter(struct lc_capture *cap, const char *expr, char *err, size_t errlen);

/* Every filter that was in force and since when, oldest first. */
const struct lc_filter_era *lc_capture_filter_history(const struct lc_capture *cap,
						      unsigned int *n);

/* Current counters (final ones after lc_capture_run). */
void lc_capture_stats(const struct lc_capture *cap, struct lc_stats *s);

/* The size of the writers' writes (--check-disk measures the disk with it). */
size_t lc_capture_write_bytes(void);

/* The port's link speed in Mbit/s, 0 when unknown (--check-disk). */
uint32_t lc_capture_link_mbps(const struct lc_capture *cap);

/* The options the capture runs with. */
const struct lc_config *lc_capture_config(const struct lc_capture *cap);

/* What telemetry shows, from now and the snapshot dt seconds before (main lcore). */
void lc_capture_live(struct lc_capture *cap, const struct lc_stats *now,
		     const struct lc_stats *prev, double dt, struct lc_live *live);

/* A few lines on what runs where (port, link, queues, RSS, filter engine, memory). */
void lc_capture_describe(const struct lc_capture *cap, FILE *f);

/* Give what the capture made as root to uid:gid before -Z drops root: the output directory
 * if the capture created it (one that was there keeps its owner), the manifest, the files
 * open now; all through open descriptors, never by name. 0, or -errno with "PATH: reason"
 * in err. */
int lc_capture_chown(struct lc_capture *cap, uid_t uid, gid_t gid, char *err, size_t errlen);

/* With retention on: is every earlier file that counts towards it one uid (named user) could
 * delete (lc_custody_undeletable)? 0, or -EPERM with "-Z USER: FILE (N like it) ...: REMEDY"
 * in err. */
int lc_capture_check_unlink(const struct lc_capture *cap, uid_t uid, const char *user,
			    const char *remedy, char *err, size_t errlen);

/* Stop the port, free everything. Accepts NULL. */
void lc_capture_free(struct lc_capture *cap);

#endif
