/* SPDX-License-Identifier: BSD-3-Clause */
#include <sched.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "rx.h"

/*
 * -c N: take at most *budget passing packets from this burst. The capture window closes at
 * the packet that exhausts the budget: later packets of the burst are let go without being
 * counted, exactly like packets that arrive after the capture stopped. Returns the number
 * of packets of the burst inside the window; *npass is trimmed to match.
 */
static uint16_t
count_window(struct lc_rx_queue *rx, const uint8_t *keep, uint16_t n, uint16_t *npass)
{
	int64_t avail = __atomic_load_n(rx->budget, __ATOMIC_RELAXED);
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
		if (taken == 0 || __atomic_compare_exchange_n(rx->budget, &avail, avail - taken,
							     0, __ATOMIC_RELAXED,
							     __ATOMIC_RELAXED))
			break;
	}
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

/* An empty chunk into hand, its clock started at tsc. 0 when the buffer is full (with
 * wait_for_room, -r: once it stays full until the capture stops). */
static inline int
take_chunk(struct lc_rx_queue *rx, uint64_t tsc)
{
	struct lc_chunk *c;

	while (unlikely(rte_stack_pop(rx->q->empty, (void **)&c, 1) == 0)) {
		if (!rx->wait_for_room || __atomic_load_n(rx->stop, __ATOMIC_RELAXED))
			return 0;
		rte_pause();
	}
	c->len = 0;
	c->nrec = 0;
	rx->chunk = c;
	rx->chunk_tsc = tsc;
	return 1;
}

void
lc_rx_flush(struct lc_rx_queue *rx)
{
	if (rx->chunk == NULL || rx->chunk->nrec == 0)
		return;
	/* Never fails: the ring has a slot for every chunk. */
	rte_ring_sp_enqueue(rx->q->full, rx->chunk);
	rx->chunk = NULL;
}

/* Is the chunk in hand due to go although not full: records in it for the flush time, and
 * the writer has taken everything sent before (were it still busy, say with a stalled disk,
 * a chunk sent now would hold only these few records: keep filling it instead, so the
 * buffer holds its size in records however slow the link). */
static inline int
flush_due(const struct lc_rx_queue *rx, uint64_t tsc)
{
	return rx->chunk != NULL && tsc - rx->chunk_tsc > rx->flush_tsc &&
	       rte_ring_empty(rx->q->full);
}

/* A packet's time: the device's own stamp where it gave one (in its clock's ticks; -r: the
 * record's own time, in ns, with no clock), else the burst's. */
static inline uint64_t
stamp(const struct lc_rx_queue *rx, const struct rte_mbuf *m, uint64_t burst_ns)
{
	uint64_t t;

	if (!(m->ol_flags & rx->hw_ts_flag))
		return burst_ns;
	t = *RTE_MBUF_DYNFIELD(m, rx->hw_ts_offset, const uint64_t *);
	return rx->hwclock != NULL ? lc_clock_ns(rx->hwclock, t) : t;
}

/* Format the npass packets of pkts[0..n) that keep marks (all: keep NULL) as records into
 * chunks. Returns how many went in: the rest found no empty chunk. */
static uint16_t
format_kept(struct lc_rx_queue *rx, struct rte_mbuf **pkts, const uint8_t *keep, uint16_t n,
	    uint16_t npass, uint64_t tsc)
{
	const struct lc_format *fmt = rx->fmt;
	uint64_t ns = lc_clock_ns_monotonic(rx->clock, tsc, &rx->last_ns);
	uint16_t done = 0;

	for (uint16_t i = 0; i < n && done < npass; i++) {
		struct lc_chunk *c = rx->chunk;
		uint64_t ts;
		size_t len;

		if (keep != NULL && !keep[i])
			continue;
		ts = stamp(rx, pkts[i], ns);
		if (unlikely(c == NULL)) {
			if (!take_chunk(rx, tsc))
				break;
			c = rx->chunk;
		}
		len = fmt->record(c->data + c->len, LC_CHUNK_SIZE - c->len, pkts[i], ts,
				  rx->snaplen);
		if (unlikely(len == 0)) {	/* full: on to the writer, go on in the next */
			lc_rx_flush(rx);
			if (!take_chunk(rx, tsc))
				break;
			c = rx->chunk;
			len = fmt->record(c->data, LC_CHUNK_SIZE, pkts[i], ts, rx->snaplen);
		}
		c->len += (uint32_t)len;
		c->nrec++;
		done++;
	}
	return done;
}

uint16_t
lc_rx_process(struct lc_rx_queue *rx, struct rte_mbuf **pkts, uint16_t n)
{
	uint8_t keep[LC_RX_BURST];
	uint16_t npass = n, window = n, done = 0;
	uint64_t tsc = rte_rdtsc();	/* as close to the receive as we can */
	/* One filter for the whole burst. Pairs with the release exchange of a live change. */
	const struct lc_filter *f = __atomic_load_n(&rx->filter, __ATOMIC_ACQUIRE);
	struct lc_queue_counters *c = &rx->q->c;

	if (f != NULL) {
		lc_filter_burst(f, pkts, n, keep);
		npass = count_kept(keep, n);
	}
	if (unlikely(rx->budget != NULL))
		window = count_window(rx, f ? keep : NULL, n, &npass);
	if (npass != 0)
		done = format_kept(rx, pkts, f ? keep : NULL, window, npass, tsc);
	if (unlikely(done < npass) && rx->budget != NULL)	/* dropped: not handed over */
		__atomic_fetch_add(rx->budget, (int64_t)(npass - done), __ATOMIC_RELAXED);
	/* Every packet of the burst is done with: back to this lcore's pool cache at once. */
	rte_pktmbuf_free_bulk(pkts, n);
	if (flush_due(rx, tsc))
		lc_rx_flush(rx);

	/* One owner: plain read-modify-write, relaxed store so readers see whole values. */
	__atomic_store_n(&c->received, c->received + window, __ATOMIC_RELAXED);
	__atomic_store_n(&c->passed, c->passed + npass, __ATOMIC_RELAXED);
	__atomic_store_n(&c->buffer_full, c->buffer_full + (npass - done), __ATOMIC_RELAXED);
	/* The stage's own cost: from the TSC read after the receive to here. */
	__atomic_store_n(&c->cycles, c->cycles + (rte_rdtsc() - tsc), __ATOMIC_RELAXED);
	return done;
}

int
lc_rx_main(void *arg)
{
	struct lc_rx_queue *rx = arg;
	struct rte_mbuf *pkts[LC_RX_BURST];

	if (rx->rcu != NULL)
		rte_rcu_qsbr_thread_online(rx->rcu, rx->queue_id);
	while (!__atomic_load_n(rx->stop, __ATOMIC_RELAXED)) {
		uint16_t n;

		if (unlikely(rx->budget != NULL) &&
		    __atomic_load_n(rx->budget, __ATOMIC_RELAXED) <= 0)
			break;
		n = rte_eth_rx_burst(rx->port_id, rx->queue_id, pkts, LC_RX_BURST);
		if (n != 0)
			lc_rx_process(rx, pkts, n);
		else if (flush_due(rx, rte_rdtsc()))
			lc_rx_flush(rx);	/* a quiet link still reaches the disk */
		else if (unlikely(rx->wait_for_room))
			sched_yield();	/* -r: the files' reader may want this CPU */
		/* No filter pointer is held here: an old filter may go. */
		if (rx->rcu != NULL)
			rte_rcu_qsbr_quiescent(rx->rcu, rx->queue_id);
	}
	if (rx->rcu != NULL)
		rte_rcu_qsbr_thread_offline(rx->rcu, rx->queue_id);
	lc_rx_flush(rx);	/* the main lcore sets the queue's done flag once we return */
	return 0;
}
