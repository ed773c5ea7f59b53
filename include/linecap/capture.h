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

#include "linecap/config.h"
#include "linecap/filter.h"
#include "linecap/outpath.h"
#include "linecap/port.h"
#include "linecap/stats.h"

struct lc_capture;

struct lc_capture_plan {
	struct lc_port_plan port;
	unsigned int queues;
	unsigned int writers;
	unsigned int mbufs;
	uint64_t mem_bytes;	/* what EAL must provide */
};

/*
 * Decide queues, writers, pool size and memory from cfg and the device string, before EAL.
 * Returns 0, or -errno with a reason in err (a replay file that cannot be read, say).
 */
int lc_capture_plan(const struct lc_config *cfg, struct lc_capture_plan *plan, char *err,
		    size_t errlen);

/*
 * Build the pipeline after EAL: port, pool, rings, one filter instance per RX queue on the
 * port's node, each self-checked (prog may be NULL: no filter stage; engine runs it),
 * writers and their first files; then start the port.
 * The capture keeps pointers to cfg, plan, out and prog: they must outlive it.
 * Returns the capture, or NULL with errno set (EINVAL/ENODEV/EEXIST/EACCES for bad input,
 * others for runtime failures) and a reason in err.
 */
struct lc_capture *lc_capture_create(const struct lc_config *cfg,
				     const struct lc_capture_plan *plan,
				     const struct lc_outpath *out,
				     const struct lc_filter_prog *prog,
				     const struct lc_filter_ops *engine, char *err, size_t errlen);

/* Called about once a second while running. */
typedef void (*lc_status_fn)(const struct lc_stats *now, const struct lc_stats *prev,
			     double dt, void *arg);

/*
 * Run until *interrupted, -c, --duration or the end of a finite replay; then stop RX, drain
 * every ring and close every file. Returns 0, or -errno if a writer failed (reason in err;
 * the counters still tell what was written).
 */
int lc_capture_run(struct lc_capture *cap, const volatile sig_atomic_t *interrupted,
		   lc_status_fn status, void *arg, char *err, size_t errlen);

/* Current counters (final ones after lc_capture_run). */
void lc_capture_stats(const struct lc_capture *cap, struct lc_stats *s);

/* A few lines on what runs where (port, link, queues, RSS, filter engine, memory). */
void lc_capture_describe(const struct lc_capture *cap, FILE *f);

/* Stop the port, free everything. Accepts NULL. */
void lc_capture_free(struct lc_capture *cap);

#endif
