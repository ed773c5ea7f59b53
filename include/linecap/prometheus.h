/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_PROMETHEUS_H
#define LINECAP_PROMETHEUS_H

/*
 * --prometheus [ADDR:]PORT: the numbers of /linecap/stats, /linecap/queues and /linecap/port
 * as Prometheus text (GET /metrics), from the snapshot the main lcore publishes each second.
 * One small thread (started off the capture's lcores: it inherits the caller's CPUs), bound
 * to 127.0.0.1 unless ADDR says otherwise; anything but GET /metrics is answered 404.
 * No client can stop or stall it: up to 512 connections are served at once by one poll loop
 * (a new one beyond that takes the place of an idle one), each request has 3 s from accept
 * to the last byte of its reply, sends never raise SIGPIPE, and what clients did wrong is
 * logged at most once a minute.
 */
#include <stddef.h>
#include <stdio.h>

struct lc_live;

struct lc_prometheus;

/* Bind to spec ("9477", "127.0.0.1:9477", "0.0.0.0:9477"); the thread starts with
 * lc_prometheus_start. Raises the process's soft RLIMIT_NOFILE toward 4096 (never past the
 * hard limit) and serves at most a quarter of it at once, so clients cannot take the
 * descriptors the capture needs. NULL with "--prometheus SPEC: reason" in err. */
struct lc_prometheus *lc_prometheus_bind(const char *spec, char *err, size_t errlen);

/* Serve from now on. 0 or -errno. */
int lc_prometheus_start(struct lc_prometheus *p);

/* Stop serving (at once: no client delays it), close every connection, free. Accepts NULL. */
void lc_prometheus_free(struct lc_prometheus *p);

/* The text exposition of live (exposed for tests). */
void lc_prometheus_format(FILE *f, const struct lc_live *live);

#endif
