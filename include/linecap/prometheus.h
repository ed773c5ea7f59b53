/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_PROMETHEUS_H
#define LINECAP_PROMETHEUS_H

/*
 * --prometheus [ADDR:]PORT: the numbers of /linecap/stats, /linecap/queues and /linecap/port
 * as Prometheus text (GET /metrics), from the snapshot the main lcore publishes each second.
 * One small thread, one connection at a time, bound to 127.0.0.1 unless ADDR says otherwise;
 * anything but GET /metrics is answered 404.
 */
#include <stddef.h>
#include <stdio.h>

struct lc_live;

struct lc_prometheus;

/* Bind to spec ("9477", "127.0.0.1:9477", "0.0.0.0:9477"); the thread starts with
 * lc_prometheus_start. NULL with "--prometheus SPEC: reason" in err. */
struct lc_prometheus *lc_prometheus_bind(const char *spec, char *err, size_t errlen);

/* Serve from now on. 0 or -errno. */
int lc_prometheus_start(struct lc_prometheus *p);

/* Stop serving, close, free. Accepts NULL. */
void lc_prometheus_free(struct lc_prometheus *p);

/* The text exposition of live (exposed for tests). */
void lc_prometheus_format(FILE *f, const struct lc_live *live);

#endif
