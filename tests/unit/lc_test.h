/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LC_TEST_H
#define LC_TEST_H

/* A very small test harness: CHECK records a failure and goes on; main returns the tally. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>

static int lc_test_failures;
static int lc_test_checks;

#define CHECK(cond) do { \
	lc_test_checks++; \
	if (!(cond)) { \
		lc_test_failures++; \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_EQ_U64(a, b) do { \
	uint64_t lc_a_ = (uint64_t)(a), lc_b_ = (uint64_t)(b); \
	lc_test_checks++; \
	if (lc_a_ != lc_b_) { \
		lc_test_failures++; \
		fprintf(stderr, "%s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n", \
			__FILE__, __LINE__, #a, #b, lc_a_, lc_b_); \
	} \
} while (0)

#define CHECK_STR_HAS(s, sub) do { \
	lc_test_checks++; \
	if (strstr((s), (sub)) == NULL) { \
		lc_test_failures++; \
		fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, \
			(s), (sub)); \
	} \
} while (0)

/* EAL for unit tests: no hugepages, no shared config files, no devices, one lcore. */
static inline void
lc_test_eal(void)
{
	char *argv[] = { "test", "--no-huge", "-m", "512", "--no-shconf", "--no-pci",
			 "-l", "0", "--log-level=*:error", NULL };

	if (rte_eal_init(9, argv) < 0) {
		fprintf(stderr, "cannot start EAL\n");
		exit(1);
	}
}

static inline int
lc_test_done(const char *name)
{
	fprintf(stderr, "%s: %d checks, %d failed\n", name, lc_test_checks, lc_test_failures);
	if (lc_test_checks == 0)
		return 1;
	return lc_test_failures ? 1 : 0;
}

#endif
