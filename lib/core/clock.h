/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_CLOCK_H
#define LINECAP_CLOCK_H

/*
 * TSC to nanoseconds since the epoch. The main core re-anchors the conversion about once a
 * second against CLOCK_REALTIME (so capture time follows NTP/PTP); RX cores convert one
 * TSC reading per burst, lock-free, through a sequence lock.
 *
 * Small differences (up to LC_CLOCK_STEP_NS) are slewed: the new anchor continues the old
 * line at the refresh instant and the rate is adjusted to meet real time one period later,
 * so converted time is continuous. The counter's own rate is measured too: over 20 ms at
 * start (lc_clock_init), then over the whole run since the last step (at least
 * LC_CLOCK_BASELINE_PERIODS periods), so a rate error does not come back every period. Larger ones are stepped; a step backwards is absorbed by
 * each RX queue keeping its own timestamps non-decreasing (lc_clock_ns_monotonic()).
 */
#include <stdint.h>
#include <time.h>

#include <rte_common.h>

#define LC_CLOCK_STEP_NS 1000000ull	/* beyond 1 ms off, step instead of slewing */
#define LC_CLOCK_CALIBRATE_US 20000u	/* lc_clock_init measures the TSC rate this long */
#define LC_CLOCK_BASELINE_PERIODS 10u	/* the rate is learned over at least this many */

struct lc_clock {
	uint32_t seq;		/* odd while the main core rewrites the fields below */
	uint64_t tsc_base;
	uint64_t ns_base;
	uint64_t mult;		/* ns per TSC cycle, 32.32 fixed point */
	uint64_t nominal_mult;	/* the counter's rate as measured (starts as the rated one) */
	uint64_t rated_mult;	/* from the frequency given at init */
	uint64_t base_tsc, base_ns;	/* start of the rate measurement (init or last step) */
	uint64_t period_tsc;	/* the refresh period the slew aims at */
	uint64_t steps;		/* number of steps taken (for tests and stats) */
	uint64_t refreshes;	/* re-anchorings so far */
	uint64_t max_offset_ns;	/* the largest |prediction - CLOCK_REALTIME| a refresh met */
} __rte_cache_aligned;

/* CLOCK_REALTIME in nanoseconds since the epoch (control paths: file opening, records). */
static inline uint64_t
lc_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Set up from the TSC frequency hz and anchor at (tsc, ns). */
void lc_clock_init_at(struct lc_clock *c, uint64_t hz, uint64_t tsc, uint64_t ns);

/* Set up from rte_get_tsc_hz() and the current time. */
void lc_clock_init(struct lc_clock *c);

/* Re-anchor given a simultaneous reading (tsc, real time ns). Main core only. */
void lc_clock_refresh_at(struct lc_clock *c, uint64_t tsc, uint64_t real_ns);

/* Re-anchor now. Main core only. */
void lc_clock_refresh(struct lc_clock *c);

/* Nanoseconds since the epoch at tsc. Any core; never blocks. */
static inline uint64_t
lc_clock_ns(const struct lc_clock *c, uint64_t tsc)
{
	uint64_t tb, nb, mult, ns;
	uint32_t s1, s2;

	do {
		/* Pairs with the release store of seq at the end of a refresh. */
		s1 = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		tb = __atomic_load_n(&c->tsc_base, __ATOMIC_RELAXED);
		nb = __atomic_load_n(&c->ns_base, __ATOMIC_RELAXED);
		mult = __atomic_load_n(&c->mult, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);
	} while ((s1 & 1) || s1 != s2);

	if (tsc >= tb)
		ns = nb + (uint64_t)(((unsigned __int128)(tsc - tb) * mult) >> 32);
	else
		ns = nb - (uint64_t)(((unsigned __int128)(tb - tsc) * mult) >> 32);
	return ns;
}

/* As lc_clock_ns(), but never below *last; updates *last. One caller per last. */
static inline uint64_t
lc_clock_ns_monotonic(const struct lc_clock *c, uint64_t tsc, uint64_t *last)
{
	uint64_t ns = lc_clock_ns(c, tsc);

	if (ns < *last)
		ns = *last;
	*last = ns;
	return ns;
}

#endif
