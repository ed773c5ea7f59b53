/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_WRITER_H
#define LINECAP_WRITER_H

/*
 * The writer stage: an I/O lcore owning whole shards (one shard = the ring and the files of
 * one RX queue). It dequeues bursts, formats pcap records (up to snaplen, every segment)
 * into a large per-shard buffer, writes the buffer with few large writes, and frees mbufs
 * in bulk. It stops once every producer of its rings is done and the rings are empty, then
 * flushes and closes its files: nothing that reached a ring is left behind.
 *
 * A packet counts as written when the buffer holding it reached the file; a failed write
 * counts the buffer's packets as write errors instead.
 */
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "linecap/outpath.h"
#include "linecap/rx.h"
#include "linecap/shard.h"

#define LC_WRITER_BUF (2u << 20)
#define LC_WRITER_BURST 64u

struct lc_writer_counters {
	uint64_t written;	/* packets in files */
	uint64_t written_bytes;	/* bytes in files, headers included */
	uint64_t write_errors;	/* packets lost to failed writes */
	uint64_t files;		/* files closed */
};

struct lc_writer_shard {
	struct lc_rx_queue *rxq;	/* ring and done flag of the producer */
	struct lc_shard_file file;
	uint8_t *buf;
	size_t used;
	uint64_t buf_pkts;		/* records in buf */
	uint64_t last_flush_tsc;
	struct lc_writer_counters c __rte_cache_aligned;
} __rte_cache_aligned;

struct lc_writer {
	unsigned int id;
	const struct lc_outpath *out;
	uint32_t snaplen;
	int ts_offset;
	unsigned int nshards;
	struct lc_writer_shard *shards[64];
	int rc;				/* first fatal error (-errno), 0 if none */
	char err[256];
} __rte_cache_aligned;

/*
 * Allocate the buffer of a shard and open its first file. Returns 0 or -errno with a
 * reason in err.
 */
int lc_writer_shard_init(struct lc_writer_shard *s, struct lc_rx_queue *rxq,
			 const struct lc_outpath *out, uint32_t snaplen, int socket, char *err,
			 size_t errlen);

/* Free a shard's buffer (files must be closed). Accepts a zeroed shard. */
void lc_writer_shard_release(struct lc_writer_shard *s);

/* lcore entry point; arg is a struct lc_writer. Returns 0 (errors in w->rc). */
int lc_writer_main(void *arg);

/* Write what one shard's ring holds now (tests). Returns packets taken from the ring. */
unsigned int lc_writer_poll_shard(struct lc_writer *w, struct lc_writer_shard *s);

/* Flush and close a shard's file. Returns 0 or -errno. */
int lc_writer_close_shard(struct lc_writer *w, struct lc_writer_shard *s);

static inline void
lc_writer_read(const struct lc_writer_shard *s, struct lc_writer_counters *out)
{
	out->written = __atomic_load_n(&s->c.written, __ATOMIC_RELAXED);
	out->written_bytes = __atomic_load_n(&s->c.written_bytes, __ATOMIC_RELAXED);
	out->write_errors = __atomic_load_n(&s->c.write_errors, __ATOMIC_RELAXED);
	out->files = __atomic_load_n(&s->c.files, __ATOMIC_RELAXED);
}

#endif
