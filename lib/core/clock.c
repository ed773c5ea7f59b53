/* SPDX-License-Identifier: BSD-3-Clause */
#include <time.h>

#include <rte_cycles.h>

#include "clock.h"

static void
publish(struct lc_clock *c, uint64_t tsc, uint64_t ns, uint64_t mult)
{
	uint32_t s = c->seq;

	__atomic_store_n(&c->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&c->tsc_base, tsc, __ATOMIC_RELAXED);
	__atomic_store_n(&c->ns_base, ns, __ATOMIC_RELAXED);
	__atomic_store_n(&c->mult, mult, __ATOMIC_RELAXED);
	/* Pairs with the acquire load of seq in lc_clock_ns(). */
	__atomic_store_n(&c->seq, s + 2, __ATOMIC_RELEASE);
}

static uint64_t
mult_of(uint64_t ns, uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ns << 32) / ticks);
}

void
lc_clock_init_at(struct lc_clock *c, uint64_t hz, uint64_t tsc, uint64_t ns)
{
	c->seq = 0;
	c->nominal_mult = mult_of(1000000000ull, hz);
	c->rated_mult = c->nominal_mult;
	c->base_tsc = tsc;
	c->base_ns = ns;
	c->period_tsc = hz;
	c->steps = 0;
	c->refreshes = 0;
	c->max_offset_ns = 0;
	publish(c, tsc, ns, c->nominal_mult);
}


/* A TSC reading and CLOCK_REALTIME taken as close together as we can. */
static void
read_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t t0 = rte_rdtsc();
	uint64_t r = lc_realtime_ns();
	uint64_t t1 = rte_rdtsc();

	*tsc = t0 + (t1 - t0) / 2;
	*ns = r;
}

void
lc_clock_init(struct lc_clock *c)
{
	uint64_t hz = rte_get_tsc_hz(), t0, n0, t1, n1;

	/* The TSC's rate against CLOCK_REALTIME over 20 ms: rte_get_tsc_hz() can be off by
	 * more than a thousand ppm (VMs), which is more than a millisecond a second. */
	read_pair(&t0, &n0);
	rte_delay_us_sleep(LC_CLOCK_CALIBRATE_US);
	read_pair(&t1, &n1);
	if (n1 > n0 && t1 > t0) {
		uint64_t m = (uint64_t)((unsigned __int128)(t1 - t0) * 1000000000ull / (n1 - n0));

		if (m > hz - hz / 20 && m < hz + hz / 20)	/* a sane reading: within 5% */
			hz = m;
	}
	lc_clock_init_at(c, hz, t1, n1);
}

void
lc_clock_refresh_at(struct lc_clock *c, uint64_t tsc, uint64_t real_ns)
{
	uint64_t pred = lc_clock_ns(c, tsc);
	int64_t err = (int64_t)(real_ns - pred);
	uint64_t period_ns, mult, off = (uint64_t)(err < 0 ? -err : err);

	__atomic_store_n(&c->refreshes, c->refreshes + 1, __ATOMIC_RELAXED);
	if (off > c->max_offset_ns)
		__atomic_store_n(&c->max_offset_ns, off, __ATOMIC_RELAXED);

	if (err > (int64_t)LC_CLOCK_STEP_NS || err < -(int64_t)LC_CLOCK_STEP_NS) {
		c->steps++;
		c->base_tsc = tsc;	/* real time jumped: measure the rate afresh */
		c->base_ns = real_ns;
		publish(c, tsc, real_ns, c->nominal_mult);
		return;
	}
	/* The counter's true rate, over the whole baseline once it is long enough that a
	 * momentary offset hardly matters; within 5% of the rated one, or it is no rate. */
	if (tsc - c->base_tsc >= LC_CLOCK_BASELINE_PERIODS * c->period_tsc &&
	    real_ns > c->base_ns) {
		uint64_t m = mult_of(real_ns - c->base_ns, tsc - c->base_tsc);

		if (m > c->rated_mult - c->rated_mult / 20 && m < c->rated_mult + c->rated_mult / 20)
			c->nominal_mult = m;
	}
	/* Continue from the predicted time; reach real time one period from now. */
	period_ns = (uint64_t)(((unsigned __int128)c->period_tsc * c->nominal_mult) >> 32);
	mult = (uint64_t)((((unsigned __int128)(period_ns + (uint64_t)err)) << 32) /
			  c->period_tsc);
	publish(c, tsc, pred, mult);
}

void
lc_clock_refresh(struct lc_clock *c)
{
	uint64_t tsc, ns;

	read_pair(&tsc, &ns);
	lc_clock_refresh_at(c, tsc, ns);
}
