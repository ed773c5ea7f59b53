/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "linecap/rx.h"

int
lc_rx_ts_dynfield(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = LC_TS_DYNFIELD_NAME,
		.size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};
	int off = rte_mbuf_dynfield_register(&desc);

	return off < 0 ? -rte_errno : off;
}

/*
 * -c N: take at most *budget passing packets from this burst. The capture window closes at
 * the packet that exhausts the budget: later packets of the burst are freed without being
 * counted, exactly like packets that arrive after the capture stopped. Returns the number
 * of packets of the burst inside the window; *npass is trimmed to match.
 */
static uint16_t
count_window(struct lc_rx_queue *q, struct rte_mbuf **pkts, const uint8_t *keep,
	     uint16_t n, uint16_t *npass)
{
	int64_t avail = __atomic_load_n(q->budget, __ATOMIC_RELAXED);
	uint16_t window, taken;

	for (;;) {
		window = n;
		taken = *npass;
		if (avail <= 0) {
			window = 0;
			taken = 0;
		} else if ((int64_t)taken > avail) {
			uint16_t seen = 0;

			for (window = 0; window < n && (int64_t)seen < avail; window++)
				if (keep == NULL || keep[window])
					seen++;
			taken = (uint16_t)avail;
		}
		if (taken == 0 || __atomic_compare_exchange_n(q->budget, &avail, avail - taken,
							     0, __ATOMIC_RELAXED,
							     __ATOMIC_RELAXED))
			break;
	}
	if (window < n)
		rte_pktmbuf_free_bulk(pkts + window, n - window);
	*npass = taken;
	return window;
}

/* How many of keep[0..n) are 1 (the filter writes only 0 or 1): eight at a time. */
static inline uint16_t
count_kept(const uint8_t *keep, uint16_t n)
{
	uint16_t i = 0, c = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, keep + i, sizeof(w));
		c += (uint16_t)__builtin_popcountll(w);
	}
	for (; i < n; i++)
		c += keep[i];
	return c;
}

/* Stamp the n packets kept from a burst received at tsc and put them on the ring; what the
 * ring has no room for is freed (and its -c budget given back). Returns how many went. */
static uint16_t
hand_over(struct lc_rx_queue *q, struct rte_mbuf **pkts, uint16_t n, uint64_t tsc)
{
	uint64_t ns = lc_clock_ns_monotonic(q->clock, tsc, &q->last_ns);
	uint16_t sent;

	if (q->hwclock == NULL) {
		for (uint16_t i = 0; i < n; i++)
			*lc_rx_ts(pkts[i], q->ts_offset) = ns;
	} else {
		/* The device's own stamp where it gave one, the burst's TSC time otherwise. */
		for (uint16_t i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];

			*lc_rx_ts(m, q->ts_offset) = (m->ol_flags & q->hw_ts_flag) ?
				lc_clock_ns(q->hwclock, *RTE_MBUF_DYNFIELD(m, q->hw_ts_offset,
									   uint64_t *)) : ns;
		}
	}
	sent = (uint16_t)rte_ring_sp_enqueue_burst(q->ring, (void *const *)pkts, n, NULL);
	if (unlikely(sent < n)) {
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		if (q->budget != NULL)	/* a dropped packet was not handed over: give it back */
			__atomic_fetch_add(q->budget, (int64_t)(n - sent), __ATOMIC_RELAXED);
	}
	return sent;
}

uint16_t
lc_rx_process(struct lc_rx_queue *q, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mbuf *pass[LC_RX_BURST], *rej[LC_RX_BURST];
	uint8_t keep[LC_RX_BURST];
	uint16_t npass = n, nrej = 0, sent;
	uint64_t tsc = rte_rdtsc();	/* as close to the receive as we can */
	/* One filter for the whole burst. Pairs with the release exchange of a live change. */
	const struct lc_filter *f = __atomic_load_n(&q->filter, __ATOMIC_ACQUIRE);

	if (f != NULL) {
		lc_filter_burst(f, pkts, n, keep);
		npass = count_kept(keep, n);
	}
	if (unlikely(q->budget != NULL))
		n = count_window(q, pkts, f ? keep : NULL, n, &npass);

	/* Most bursts of a narrow filter keep nothing (and those of a wide one everything):
	 * then the burst goes as it is, without sorting it frame by frame. */
	if (f != NULL && npass == 0) {
		rte_pktmbuf_free_bulk(pkts, n);
	} else if (f != NULL && npass != n) {
		uint16_t np = 0;

		for (uint16_t i = 0; i < n; i++) {
			if (keep[i] && np < npass)
				pass[np++] = pkts[i];
			else
				rej[nrej++] = pkts[i];
		}
		pkts = pass;
		if (nrej)
			rte_pktmbuf_free_bulk(rej, nrej);
	}

	sent = npass != 0 ? hand_over(q, pkts, npass, tsc) : 0;

	/* One owner: plain read-modify-write, relaxed store so readers see whole values. */
	__atomic_store_n(&q->c.received, q->c.received + n, __ATOMIC_RELAXED);
	__atomic_store_n(&q->c.passed, q->c.passed + npass, __ATOMIC_RELAXED);
	__atomic_store_n(&q->c.ring_drops, q->c.ring_drops + (npass - sent), __ATOMIC_RELAXED);
	/* The stage's own cost: from the TSC read after the receive to here. */
	__atomic_store_n(&q->c.cycles, q->c.cycles + (rte_rdtsc() - tsc), __ATOMIC_RELAXED);
	return sent;
}

int
lc_rx_main(void *arg)
{
	struct lc_rx_queue *q = arg;
	struct rte_mbuf *pkts[LC_RX_BURST];

	if (q->rcu != NULL)
		rte_rcu_qsbr_thread_online(q->rcu, q->queue_id);
	while (!__atomic_load_n(q->stop, __ATOMIC_RELAXED)) {
		uint16_t n;

		if (unlikely(q->budget != NULL) &&
		    __atomic_load_n(q->budget, __ATOMIC_RELAXED) <= 0)
			break;
		n = rte_eth_rx_burst(q->port_id, q->queue_id, pkts, LC_RX_BURST);
		if (n != 0)
			lc_rx_process(q, pkts, n);
		/* No filter pointer is held here: an old filter may go. */
		if (q->rcu != NULL)
			rte_rcu_qsbr_quiescent(q->rcu, q->queue_id);
	}
	if (q->rcu != NULL)
		rte_rcu_qsbr_thread_offline(q->rcu, q->queue_id);
	/* Pairs with the acquire load in the writer: every enqueue above is visible first. */
	__atomic_store_n(&q->done, 1, __ATOMIC_RELEASE);
	return 0;
}
