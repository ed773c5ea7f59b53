/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap-merge's and linecap-query's --start/--end times: every form to the nanosecond (a
 * double is not exact there: 1767225600.173014122 came out a few hundred ns off), RFC 3339
 * offsets, and bad forms (a day that does not exist among them) refused.
 */
#include "lc_test.h"

#include "linecap/merge.h"

static void
good(const char *s, uint64_t want)
{
	uint64_t ns = 0;
	int rc = lc_merge_parse_time(s, &ns);

	CHECK(rc == 0);
	if (ns != want)
		fprintf(stderr, "%s: %" PRIu64 ", want %" PRIu64 "\n", s, ns, want);
	CHECK_EQ_U64(ns, want);
}

static void
bad(const char *s)
{
	uint64_t ns = 12345;

	if (lc_merge_parse_time(s, &ns) != -EINVAL)
		fprintf(stderr, "'%s' accepted\n", s);
	CHECK(ns == 12345);
}

int
main(void)
{
	good("1767225600.173014122", 1767225600173014122ull);
	good("1767225600.999999999", 1767225600999999999ull);
	good("1767225600.000000001", 1767225600000000001ull);
	good("1767225600", 1767225600000000000ull);
	good("1767225600.5", 1767225600500000000ull);
	good("1767225600.1234567891", 1767225600123456789ull);	/* below a ns: left out */
	good("0", 0);
	good("2026-01-01T00:00:00.173014122Z", 1767225600173014122ull);
	good("2026-01-01T00:00:00Z", 1767225600000000000ull);
	good("2026-01-01 00:00:00.5", 1767225600500000000ull);
	/* RFC 3339 offsets and its lower-case t and z (linecap-query) */
	good("2026-01-01T01:30:00+01:30", 1767225600000000000ull);
	good("2025-12-31T19:00:00.000000001-05:00", 1767225600000000001ull);
	good("2026-01-01t00:00:00z", 1767225600000000000ull);
	bad("");
	bad("-5");
	bad("1e9");
	bad("1767225600.");
	bad("1767225600.5x");
	bad("1767225600Z");
	bad("99999999999");
	bad("2026-01-01T00:00:00.Z");
	bad("2026-01-01T00:00:00Zjunk");
	bad("now");
	/* linecap-query's relative times, against a fixed now */
	{
		const uint64_t now = 1767225600000000000ull;
		uint64_t ns = 0;

		CHECK(lc_merge_parse_when("now", now, &ns) == 0 && ns == now);
		CHECK(lc_merge_parse_when("-15m", now, &ns) == 0 && ns == now - 900000000000ull);
		CHECK(lc_merge_parse_when("-2d", now, &ns) == 0 && ns == now - 172800000000000ull);
		CHECK(lc_merge_parse_when("2026-01-01T00:00:00Z", now, &ns) == 0 && ns == now);
		CHECK(lc_merge_parse_when("-5x", now, &ns) == -EINVAL);
		CHECK(lc_merge_parse_when("-m", now, &ns) == -EINVAL);
		CHECK(lc_merge_parse_when("-15m ", now, &ns) == -EINVAL);
	}
	bad("2026-02-30T10:00:00Z");		/* no such day: not rolled into March */
	bad("2026-01-01T00:00:00+25:00");
	bad("2026-01-01T00:00:00+0100");
	bad("2026-01-01T00:00:00+01:00junk");
	bad("1767225600+01:00");		/* an offset on seconds since the epoch */
	return lc_test_done("test_merge");
}
