/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_RX_H
#define LINECAP_RX_H

/*
 * The RX stage: one lcore per port queue. Receive a burst, stamp it (one TSC reading per
 * burst, converted to ns since the epoch, never decreasing within the queue), run the
 * filter, hand the matches to the queue's single-producer/single-consumer ring. RX never
 * waits: when the ring is full the rest of the burst is freed and counted as ring drops.
 *
 * Counters are owned by the RX lcore and published with relaxed stores once per burst; the
 * main lcore reads them for status lines. The filter may be replaced while RX runs: each
 * burst is judged entirely by the filter it loaded at its start, and the RX lcore reports a
 * quiescent state (DPDK RCU) between bursts, after which an old filter can be freed.
 */
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "linecap/clock.h"
#include "linecap/filter.h"

#define LC_RX_BURST 32u

struct lc_rx_counters {
	uint64_t received;	/* packets taken from the port queue */
	uint64_t passed;	/* of those, kept by the filter (all of them without one) */
	uint64_t ring_drops;	/* of those, freed because the ring was full */
	uint64_t cycles;	/* TSC cycles in the RX stage (after the driver's receive) */
};

struct lc_rx_queue {
	/* Set up before launch, read-only afterwards. */
	uint16_t port_id;
	uint16_t queue_id;
	int ts_offset;			/* mbuf dynfield holding the ns timestamp */
	struct rte_ring *ring;		/* SP/SC, to this queue's writer */
	struct lc_filter *filter;	/* NULL: no filter stage. Swapped live by the main
					 * lcore; read once per burst (acquire). */
	struct rte_rcu_qsbr *rcu;	/* quiescent reports after each burst; NULL: none */
	const struct lc_clock *clock;
	const struct lc_clock *hwclock;	/* device ticks -> ns; NULL: timestamps from the TSC */
	int hw_ts_offset;		/* where the driver puts its timestamp ... */
	uint64_t hw_ts_flag;		/* ... when this flag says it did */
	const int *stop;		/* set by the main lcore */
	int64_t *budget;		/* -c: packets still to hand over; NULL = unlimited */

	/* Owned by the RX lcore. */
	struct lc_rx_counters c __rte_cache_aligned;
	uint64_t last_ns;
	int done;			/* set (release) after the last enqueue */
} __rte_cache_aligned;

/* Name of the mbuf dynamic field linecap stores its timestamps in. */
#define LC_TS_DYNFIELD_NAME "linecap_ts_ns"

/* Register (or look up) the timestamp dynfield. Returns its offset or -rte_errno. */
int lc_rx_ts_dynfield(void);

static inline uint64_t *
lc_rx_ts(struct rte_mbuf *m, int offset)
{
	return RTE_MBUF_DYNFIELD(m, offset, uint64_t *);
}

/* lcore entry point; arg is a struct lc_rx_queue. Returns 0. */
int lc_rx_main(void *arg);

/*
 * Process one received burst (exposed for tests): stamp, filter, enqueue, count. Returns the
 * number of packets handed to the ring.
 */
uint16_t lc_rx_process(struct lc_rx_queue *q, struct rte_mbuf **pkts, uint16_t n);

/* Snapshot of a queue's counters, safe from any lcore. */
static inline void
lc_rx_read(const struct lc_rx_queue *q, struct lc_rx_counters *out)
{
	out->received = __atomic_load_n(&q->c.received, __ATOMIC_RELAXED);
	out->passed = __atomic_load_n(&q->c.passed, __ATOMIC_RELAXED);
	out->ring_drops = __atomic_load_n(&q->c.ring_drops, __ATOMIC_RELAXED);
	out->cycles = __atomic_load_n(&q->c.cycles, __ATOMIC_RELAXED);
}

#endif
