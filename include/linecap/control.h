/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_CONTROL_H
#define LINECAP_CONTROL_H

/*
 * Control of a running capture over DPDK telemetry (usable from dpdk-telemetry.py, or any
 * client of the socket /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2):
 *
 *   /linecap/filter               the filter in force and its engine
 *   /linecap/filter,EXPRESSION    put EXPRESSION in force (compiled and self-checked first;
 *                                 a bad one is refused and the old one stays)
 *   /linecap/stats                totals, rates, drops by reason, bytes on disk
 *   /linecap/queues               per RX queue: counters, ring use, rates
 *   /linecap/writers              per writer: counters, the files open now
 *   /linecap/port                 link and the port's loss xstats
 *   /linecap/config               the configuration in effect
 *
 * The read-only commands answer from a snapshot the main lcore publishes each second
 * (lc_control_publish), so they never touch the capture from the telemetry thread.
 *
 * Telemetry calls come on DPDK's telemetry thread; the change itself is made by the main
 * lcore (lc_control_poll, called from its loop), and the caller waits for its outcome.
 * Telemetry callbacks carry no context, so one capture per process is served.
 */
struct lc_capture;

/* Serve cap over telemetry from now on. Returns 0 or -errno. */
int lc_control_start(struct lc_capture *cap);

/* Main lcore: carry out a pending request, refresh what telemetry reports. */
void lc_control_poll(struct lc_capture *cap);

/* Main lcore: the numbers the read-only commands show from now on (copied). */
struct lc_live;
void lc_control_publish(const struct lc_live *live);

/* Copy the last published snapshot into out (any thread): 1, or 0 when there is none. */
int lc_control_snapshot(struct lc_live *out);

/* Stop serving (requests are answered "not capturing"). */
void lc_control_stop(void);

#endif
