/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_RX_H
#define LINECAP_RX_H

/*
 * The RX stage: one lcore per port queue. Receive a burst, run the filter, stamp what it
 * keeps (one TSC reading per burst, converted to ns since the epoch, never decreasing within
 * the queue; or the device's own stamp), format each kept packet as a finished record (cut
 * at the snaplen) into the queue's current chunk, and free the whole burst at once: the
 * mbufs go straight back to this lcore's mempool cache, hot. A full chunk (or one holding
 * records for LC_RX_FLUSH_MS, once the writer has taken the chunks before) goes to the
 * writer (queue.h). RX never waits: with no empty
 * chunk the kept packets of the burst are dropped and counted as buffer_full.
 *
 * The copy belongs here: the packet is in this core's cache now; on the writer's core it
 * would be a cold mbuf pulled across cores, held (2 KiB each) until written.
 *
 * The filter may be replaced while RX runs: each burst is judged entirely by the filter it
 * loaded at its start, and the RX lcore reports a quiescent state (DPDK RCU) between bursts,
 * after which an old filter can be freed.
 */
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "clock.h"
#include "linecap/filter.h"
#include "linecap/format.h"
#include "queue.h"

#define LC_RX_BURST 32u
#define LC_RX_FLUSH_MS 100u	/* a chunk holding records goes to the writer within this */

struct lc_rx_queue {
	/* Set up before launch, read-only afterwards. */
	uint16_t port_id;
	uint16_t queue_id;
	struct lc_queue *q;		/* chunks to and from this queue's writer; counters */
	const struct lc_format *fmt;
	uint32_t snaplen;
	uint64_t flush_tsc;		/* LC_RX_FLUSH_MS in TSC cycles */
	struct lc_filter *filter;	/* NULL: no filter stage. Swapped live by the main
					 * lcore; read once per burst (acquire). */
	struct rte_rcu_qsbr *rcu;	/* quiescent reports after each burst; NULL: none */
	const struct lc_clock *clock;
	const struct lc_clock *hwclock;	/* device ticks -> ns; NULL: stamps are ns (-r) */
	int hw_ts_offset;		/* where the driver puts its timestamp ... */
	uint64_t hw_ts_flag;		/* ... when this flag says it did; 0: the TSC's */
	int wait_for_room;		/* -r: wait for an empty chunk, never drop */
	const int *stop;		/* set by the main lcore */
	int64_t *budget;		/* -c: packets still to hand over; NULL = unlimited */

	/* Owned by the RX lcore. */
	struct lc_chunk *chunk __rte_cache_aligned;	/* being filled; NULL: none in hand */
	uint64_t chunk_tsc;		/* when its first record went in */
	uint64_t last_ns;
} __rte_cache_aligned;

/* lcore entry point; arg is a struct lc_rx_queue. Returns 0. */
int lc_rx_main(void *arg);

/*
 * Process one received burst (exposed for tests): filter, stamp, format into chunks, free
 * the mbufs, count. Returns the number of packets formatted.
 */
uint16_t lc_rx_process(struct lc_rx_queue *rx, struct rte_mbuf **pkts, uint16_t n);

/* Hand the chunk in hand to the writer if it holds records (tests; the end of a run). */
void lc_rx_flush(struct lc_rx_queue *rx);

#endif
