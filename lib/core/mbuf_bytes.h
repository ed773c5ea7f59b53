/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_MBUF_BYTES_H
#define LINECAP_MBUF_BYTES_H

/*
 * Reading the bytes of a (possibly multi-segment) mbuf defensively. A driver may hand us a
 * chain whose segments hold fewer bytes than pkt_len claims (net_pcap does so for frames
 * over 65535 bytes); we never read past the last segment and report what was really there.
 */
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_memcpy.h>

/* Bytes actually present in the chain, capped at pkt_len. */
static inline uint32_t
lc_mbuf_present(const struct rte_mbuf *m)
{
	uint32_t n = 0;

	for (const struct rte_mbuf *s = m; s != NULL; s = s->next)
		n += s->data_len;
	return n < m->pkt_len ? n : m->pkt_len;
}

/* Copy up to max bytes of the frame into dst; returns the number copied. */
static inline uint32_t
lc_mbuf_copy(uint8_t *dst, const struct rte_mbuf *m, uint32_t max)
{
	uint32_t want = m->pkt_len < max ? m->pkt_len : max;
	uint32_t done = 0;

	for (const struct rte_mbuf *s = m; s != NULL && done < want; s = s->next) {
		uint32_t n = s->data_len;

		if (n > want - done)
			n = want - done;
		memcpy(dst + done, rte_pktmbuf_mtod(s, const uint8_t *), n);
		done += n;
	}
	return done;
}

/* Bytes a record keeps of m: what the chain holds, cut at snaplen. */
static inline uint32_t
lc_mbuf_caplen(const struct rte_mbuf *m, uint32_t snaplen)
{
	uint32_t have = m->nb_segs == 1 ?
		(m->data_len < m->pkt_len ? m->data_len : m->pkt_len) : lc_mbuf_present(m);

	return have < snaplen ? have : snaplen;
}

/* Copy the first n bytes of the frame (n <= lc_mbuf_caplen) into dst. */
static inline void
lc_mbuf_put(uint8_t *dst, const struct rte_mbuf *m, uint32_t n)
{
	if (m->nb_segs == 1)	/* the RX hot path: DPDK's inline copy, not a libc call */
		rte_memcpy(dst, rte_pktmbuf_mtod(m, const uint8_t *), n);
	else
		lc_mbuf_copy(dst, m, n);
}

#endif
