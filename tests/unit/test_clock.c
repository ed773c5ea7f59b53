/* SPDX-License-Identifier: BSD-3-Clause */
/* TSC to realtime conversion: accuracy, slewing without jumps, steps, per-queue monotony. */
#include "lc_test.h"

#include "clock.h"

#define HZ 2000000000ull	/* a 2 GHz TSC: 2 cycles per ns */
#define NS 1000000000ull

static void
test_conversion(void)
{
	struct lc_clock c;
	uint64_t t0 = 1000000, n0 = 1767225600ull * NS;

	lc_clock_init_at(&c, HZ, t0, n0);
	CHECK_EQ_U64(lc_clock_ns(&c, t0), n0);
	CHECK_EQ_U64(lc_clock_ns(&c, t0 + HZ), n0 + NS);
	CHECK_EQ_U64(lc_clock_ns(&c, t0 + 2000), n0 + 1000);
	/* Ten minutes later the fixed-point rate is still exact to the ns for this rate. */
	CHECK_EQ_U64(lc_clock_ns(&c, t0 + 600 * HZ), n0 + 600 * NS);
	/* A TSC just before the anchor (a burst stamped before a refresh published). */
	CHECK_EQ_U64(lc_clock_ns(&c, t0 - 2000), n0 - 1000);
}

static void
test_slew_is_continuous(void)
{
	struct lc_clock c;
	uint64_t t0 = 0, n0 = 1767225600ull * NS, t1, before, after;

	lc_clock_init_at(&c, HZ, t0, n0);
	/* One second later real time is 300 us ahead of the TSC's idea of it. */
	t1 = t0 + HZ;
	before = lc_clock_ns(&c, t1);
	lc_clock_refresh_at(&c, t1, n0 + NS + 300000);
	after = lc_clock_ns(&c, t1);
	CHECK_EQ_U64(before, after);		/* no jump at the refresh */
	CHECK_EQ_U64(c.steps, 0);
	/* ...and one period later the conversion has caught up with real time (within 2 ns). */
	uint64_t later = lc_clock_ns(&c, t1 + HZ);
	uint64_t want = n0 + 2 * NS + 300000;
	CHECK(later + 2 >= want && later <= want + 2);

	/* Slowing down works the same way (real time 200 us behind). */
	lc_clock_refresh_at(&c, t1 + HZ, lc_clock_ns(&c, t1 + HZ) - 200000);
	CHECK_EQ_U64(c.steps, 0);
	later = lc_clock_ns(&c, t1 + 2 * HZ);
	want = n0 + 3 * NS + 100000;
	CHECK(later + 2 >= want && later <= want + 2);
}

static void
test_step_and_monotonic(void)
{
	struct lc_clock c;
	uint64_t n0 = 1767225600ull * NS, last = 0, a, b;

	lc_clock_init_at(&c, HZ, 0, n0);
	a = lc_clock_ns_monotonic(&c, HZ, &last);
	/* Real time was set back by 5 s (beyond the slew limit): the clock steps... */
	lc_clock_refresh_at(&c, HZ, n0 + NS - 5 * NS);
	CHECK_EQ_U64(c.steps, 1);
	CHECK_EQ_U64(lc_clock_ns(&c, HZ + HZ), n0 + NS - 4 * NS);
	/* ...but a queue's timestamps never go backwards. */
	b = lc_clock_ns_monotonic(&c, HZ + 10, &last);
	CHECK(b >= a);
	CHECK_EQ_U64(last, b);
	/* A forward step is taken as is. */
	lc_clock_refresh_at(&c, 2 * HZ, n0 + 100 * NS);
	CHECK_EQ_U64(lc_clock_ns_monotonic(&c, 2 * HZ, &last), n0 + 100 * NS);
}

/* A device clock (hardware timestamps) goes through the same conversion: a 312.5 MHz NIC
 * clock running 50 ppm faster than rated, re-anchored each second for a minute, never jumps
 * at a refresh, stays within what it drifts in one period (50 us) of real time while its
 * rate is being learned, and within a microsecond once it is; refreshes and the largest
 * offset met are counted. */
static void
test_device_clock(void)
{
	const uint64_t hz = 312500000ull, fast = hz + hz / 20000;	/* +50 ppm */
	struct lc_clock c;
	uint64_t n0 = 1767225600ull * NS, ticks = 123456789;

	lc_clock_init_at(&c, hz, ticks, n0);
	uint64_t ms = lc_clock_ns(&c, ticks + hz / 1000);	/* 1 ms, to the ns */
	CHECK(ms + 1 >= n0 + 1000000 && ms <= n0 + 1000001);
	for (uint64_t s = 1; s <= 60; s++) {
		uint64_t t = ticks + s * fast, before = lc_clock_ns(&c, t), want = n0 + s * NS;

		uint64_t tol = s > LC_CLOCK_BASELINE_PERIODS + 1 ? 1000 : 60000;

		CHECK(before + tol >= want && before <= want + tol);
		lc_clock_refresh_at(&c, t, want);
		CHECK_EQ_U64(lc_clock_ns(&c, t), before);	/* continuous */
	}
	CHECK_EQ_U64(c.refreshes, 60);
	CHECK_EQ_U64(c.steps, 0);
	CHECK(c.max_offset_ns >= 49000 && c.max_offset_ns < 60000);
}

static void
test_real_clock(void)
{
	struct lc_clock c;
	struct timespec ts;
	uint64_t now, conv, diff;

	lc_test_eal();
	lc_clock_init(&c);
	for (int i = 0; i < 5; i++) {
		struct timespec nap = { 0, 20 * 1000 * 1000 };

		nanosleep(&nap, NULL);
		lc_clock_refresh(&c);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	conv = lc_clock_ns(&c, rte_rdtsc());
	now = (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
	diff = conv > now ? conv - now : now - conv;
	CHECK(diff < 1000000);	/* within 1 ms of CLOCK_REALTIME */
}

int
main(void)
{
	test_conversion();
	test_slew_is_continuous();
	test_step_and_monotonic();
	test_device_clock();
	test_real_clock();
	return lc_test_done("test_clock");
}
