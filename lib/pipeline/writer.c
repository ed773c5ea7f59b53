/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "linecap/log.h"
#include "linecap/pcap_format.h"
#include "linecap/writer.h"

#define IDLE_FLUSH_MS 200u	/* buffered records reach the file within this when idle */
#define IDLE_SPINS 256u		/* empty polls before the writer starts napping */
#define IDLE_NAP_US 50u

int
lc_writer_shard_init(struct lc_writer_shard *s, struct lc_rx_queue *rxq,
		     const struct lc_outpath *out, uint32_t snaplen, int socket, char *err,
		     size_t errlen)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->file.fd = -1;
	s->rxq = rxq;
	s->buf = rte_malloc_socket("lc_writer_buf", LC_WRITER_BUF, 4096, socket);
	if (s->buf == NULL) {
		snprintf(err, errlen, "cannot allocate a %u-byte writer buffer", LC_WRITER_BUF);
		return -ENOMEM;
	}
	rc = lc_shard_file_open(&s->file, out, rxq->queue_id, 1, snaplen, err, errlen);
	if (rc < 0)
		return rc;
	s->c.written_bytes = s->file.bytes;
	s->last_flush_tsc = rte_rdtsc();
	return 0;
}

void
lc_writer_shard_release(struct lc_writer_shard *s)
{
	rte_free(s->buf);
	s->buf = NULL;
}

/* Remember the first failure of this writer for the end-of-run message. */
static void
note_error(struct lc_writer *w, const struct lc_writer_shard *s, int rc)
{
	if (w->rc != 0)
		return;
	w->rc = rc;
	snprintf(w->err, sizeof(w->err), "%s: %s", s->file.part, strerror(-rc));
}

static void
flush(struct lc_writer *w, struct lc_writer_shard *s)
{
	int rc;

	s->last_flush_tsc = rte_rdtsc();
	if (s->used == 0)
		return;
	rc = lc_shard_file_write(&s->file, s->buf, s->used);
	if (likely(rc == 0)) {
		__atomic_store_n(&s->c.written, s->c.written + s->buf_pkts, __ATOMIC_RELAXED);
		__atomic_store_n(&s->c.written_bytes, s->file.bytes, __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&s->c.write_errors, s->c.write_errors + s->buf_pkts,
				 __ATOMIC_RELAXED);
		LC_LOG_RL(ERR, "writer %u: %s: %s", w->id, s->file.part, strerror(-rc));
		note_error(w, s, rc);
	}
	s->used = 0;
	s->buf_pkts = 0;
}

unsigned int
lc_writer_poll_shard(struct lc_writer *w, struct lc_writer_shard *s)
{
	struct rte_mbuf *pkts[LC_WRITER_BURST];
	unsigned int n;

	n = rte_ring_sc_dequeue_burst(s->rxq->ring, (void **)pkts, LC_WRITER_BURST, NULL);
	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint64_t ts = *lc_rx_ts(m, w->ts_offset);
		size_t len;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		len = lc_pcap_put_record(s->buf + s->used, LC_WRITER_BUF - s->used, m, ts,
					 w->snaplen);
		if (unlikely(len == 0)) {
			flush(w, s);
			len = lc_pcap_put_record(s->buf, LC_WRITER_BUF, m, ts, w->snaplen);
		}
		s->used += len;
		s->buf_pkts++;
	}
	if (n > 0)
		rte_pktmbuf_free_bulk(pkts, n);
	return n;
}

int
lc_writer_close_shard(struct lc_writer *w, struct lc_writer_shard *s)
{
	int rc;

	if (s->file.fd < 0)
		return 0;
	flush(w, s);
	rc = lc_shard_file_close(&s->file, w->out);
	if (rc < 0) {
		LC_LOG(ERR, "writer %u: closing %s: %s", w->id, s->file.part, strerror(-rc));
		note_error(w, s, rc);
		return rc;
	}
	__atomic_store_n(&s->c.files, s->c.files + 1, __ATOMIC_RELAXED);
	return 0;
}

/* True when every producer is done and every ring is empty. */
static int
all_drained(const struct lc_writer *w)
{
	for (unsigned int i = 0; i < w->nshards; i++) {
		const struct lc_writer_shard *s = w->shards[i];

		/* Pairs with the release store of done in lc_rx_main(). */
		if (!__atomic_load_n(&s->rxq->done, __ATOMIC_ACQUIRE) ||
		    rte_ring_count(s->rxq->ring) != 0)
			return 0;
	}
	return 1;
}

int
lc_writer_main(void *arg)
{
	struct lc_writer *w = arg;
	const uint64_t idle_flush = rte_get_tsc_hz() / 1000 * IDLE_FLUSH_MS;
	unsigned int idle = 0;

	for (;;) {
		unsigned int got = 0;

		for (unsigned int i = 0; i < w->nshards; i++)
			got += lc_writer_poll_shard(w, w->shards[i]);
		if (got != 0) {
			idle = 0;
			continue;
		}
		if (all_drained(w))
			break;
		if (++idle < IDLE_SPINS) {
			rte_pause();
			continue;
		}
		/* Idle: push buffered records out so files grow during quiet periods, then nap
		 * so a writer sharing a CPU (small machines) leaves it to others. */
		for (unsigned int i = 0; i < w->nshards; i++) {
			struct lc_writer_shard *s = w->shards[i];

			if (s->used != 0 && rte_rdtsc() - s->last_flush_tsc > idle_flush)
				flush(w, s);
		}
		usleep(IDLE_NAP_US);
	}
	for (unsigned int i = 0; i < w->nshards; i++)
		lc_writer_close_shard(w, w->shards[i]);
	return 0;
}
