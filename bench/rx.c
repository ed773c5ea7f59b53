/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/rx: TSC cycles per packet of the RX stage alone (lc_rx_process: filter, stamp,
 * format the record into a chunk, free the burst), without a driver: bursts of 32 mbufs of
 * FRAME bytes are taken from a pool (as a driver would fill them), judged and formatted;
 * a stand-in writer hands every full chunk straight back. Median of several runs of
 * PACKETS packets each. Not a test.
 *   build/bench/rx [--runs N] [--packets N] [--size FRAME] [--format pcap|pcapng]
 *                  [--buffer MIB] [expression]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_stack.h>

#include "clock.h"
#include "linecap/filter.h"
#include "linecap/format.h"
#include "queue.h"
#include "rx.h"

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The writer's part, for the bench: every full chunk back to the empty stack. */
static void
give_back(struct lc_queue *q)
{
	struct lc_chunk *c = NULL;

	while (rte_ring_sc_dequeue(q->full, (void **)&c) == 0)
		rte_stack_push(q->empty, (void *const *)&c, 1);
}

int
main(int argc, char **argv)
{
	char *eal[] = { "bench-rx", "--no-huge", "-m", "1024", "--no-shconf", "--no-pci",
			"-l", "0", "--log-level=*:error", NULL };
	unsigned int runs = 7, size = 60, mib = 64;
	uint64_t packets = 4000000;
	const char *expr = NULL, *format = "pcap";
	char err[256];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = (unsigned int)atoi(argv[++i]);
		else if (strcmp(argv[i], "--packets") == 0 && i + 1 < argc)
			packets = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
			size = (unsigned int)atoi(argv[++i]);
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			format = argv[++i];
		else if (strcmp(argv[i], "--buffer") == 0 && i + 1 < argc)
			mib = (unsigned int)atoi(argv[++i]);
		else
			expr = argv[i];
	}
	if (runs == 0 || runs > 101 || size < 14 || size > 2000 || lc_format_find(format) == NULL) {
		fprintf(stderr, "bench/rx: bad arguments\n");
		return 2;
	}
	if (rte_eal_init(9, eal) < 0) {
		fprintf(stderr, "bench/rx: cannot start EAL\n");
		return 1;
	}

	struct rte_mempool *mp = rte_pktmbuf_pool_create("bench", 4096, 256, 0,
							 RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	struct lc_queue *q = lc_queue_create(0, (uint64_t)mib << 20, 0, err, sizeof(err));
	struct lc_clock clk;
	int stop = 0;
	struct lc_rx_queue rx = { 0 };
	struct lc_filter_prog *prog = NULL;
	uint64_t med[101];

	if (mp == NULL || q == NULL) {
		fprintf(stderr, "bench/rx: %s\n", q == NULL ? err : "no pool");
		return 1;
	}
	lc_clock_init(&clk);
	rx.q = q;
	rx.fmt = lc_format_find(format);
	rx.snaplen = 262144;
	rx.flush_tsc = UINT64_MAX;
	rx.clock = &clk;
	rx.stop = &stop;
	if (expr != NULL) {
		prog = lc_filter_compile(expr, 262144, err, sizeof(err));
		rx.filter = prog ? lc_filter_create(prog, lc_filter_engine("jit") ?
						    lc_filter_engine("jit") :
						    lc_filter_engine("interp"), 0) : NULL;
		if (rx.filter == NULL) {
			fprintf(stderr, "bench/rx: %s: %s\n", expr, err);
			return 2;
		}
	}
	for (unsigned int r = 0; r < runs; r++) {
		uint64_t cycles = 0, done = 0;

		while (done < packets) {
			struct rte_mbuf *pkts[LC_RX_BURST];
			uint64_t t0;

			if (rte_pktmbuf_alloc_bulk(mp, pkts, LC_RX_BURST) != 0)
				return 1;
			for (unsigned int i = 0; i < LC_RX_BURST; i++) {
				uint8_t *d = rte_pktmbuf_mtod(pkts[i], uint8_t *);

				pkts[i]->data_len = (uint16_t)size;
				pkts[i]->pkt_len = size;
				d[12] = 0x08;	/* IPv4, TCP, 192.168.1.x: the filters have work */
				d[13] = 0x00;
				d[14] = 0x45;
				d[23] = 6;
				d[26] = 192; d[27] = 168; d[28] = 1; d[29] = (uint8_t)i;
			}
			t0 = rte_rdtsc();
			lc_rx_process(&rx, pkts, LC_RX_BURST);
			cycles += rte_rdtsc() - t0;
			done += LC_RX_BURST;
			give_back(q);
		}
		med[r] = cycles * 100 / done;	/* centi-cycles per packet */
	}
	qsort(med, runs, sizeof(med[0]), cmp_u64);
	printf("rx stage, %u-byte frames, %s, %s: %.1f cycles/packet (median of %u; min %.1f, "
	       "max %.1f), buffer %u MiB, buffer_full %" PRIu64 "\n", size, format,
	       expr ? expr : "no filter", med[runs / 2] / 100.0, runs, med[0] / 100.0,
	       med[runs - 1] / 100.0, mib, q->c.buffer_full);
	return 0;
}
