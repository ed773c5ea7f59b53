/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_LOG_H
#define LINECAP_LOG_H

/*
 * One log macro for the whole library, on a registered DPDK logtype ("linecap").
 * Library code never prints to stdout and never exits; it logs here and returns errors.
 */
#include <stdint.h>
#include <rte_cycles.h>
#include <rte_log.h>

extern int lc_logtype;

#define LC_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, lc_logtype, "linecap: " fmt "\n", ## __VA_ARGS__)

/* Rate-limited: at most one message every secs seconds per call site (the first at once). */
#define LC_LOG_EVERY(secs, level, fmt, ...) do { \
	static uint64_t lc_rl_last_; \
	uint64_t lc_rl_now_ = rte_get_timer_cycles(); \
	if (lc_rl_last_ == 0 || lc_rl_now_ - lc_rl_last_ > (secs) * rte_get_timer_hz()) { \
		lc_rl_last_ = lc_rl_now_; \
		LC_LOG(level, fmt, ## __VA_ARGS__); \
	} \
} while (0)

/* For the data path: at most one message per second per call site. */
#define LC_LOG_RL(level, fmt, ...) LC_LOG_EVERY(1, level, fmt, ## __VA_ARGS__)

#endif
