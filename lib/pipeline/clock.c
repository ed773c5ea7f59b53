/* SPDX-License-Identifier: BSD-3-Clause */
#include <time.h>

#include <rte_cycles.h>

#include "linecap/clock.h"

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

void
lc_clock_init_at(struct lc_clock *c, uint64_t hz, uint64_t tsc, uint64_t ns)
{
	c->seq = 0;
	c->nominal_mult = (uint64_t)(((unsigned __int128)1000000000ull << 32) / hz);
	c->period_tsc = hz;
	c->steps = 0;
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
	uint64_t tsc, ns;

	read_pair(&tsc, &ns);
	lc_clock_init_at(c, rte_get_tsc_hz(), tsc, ns);
}

void
lc_clock_refresh_at(struct lc_clock *c, uint64_t tsc, uint64_t real_ns)
{
	uint64_t pred = lc_clock_ns(c, tsc);
	int64_t err = (int64_t)(real_ns - pred);
	uint64_t period_ns, mult;

	if (err > (int64_t)LC_CLOCK_STEP_NS || err < -(int64_t)LC_CLOCK_STEP_NS) {
		c->steps++;
		publish(c, tsc, real_ns, c->nominal_mult);
		return;
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
