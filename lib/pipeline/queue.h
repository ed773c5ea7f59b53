/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_QUEUE_H
#define LINECAP_QUEUE_H

/*
 * The queue between one RX lcore and its writer: the capture buffer of that RX queue (-B),
 * cut into chunks of LC_CHUNK_SIZE bytes; full chunks go to the writer on a single-producer/
 * single-consumer ring (in order), empty ones come back on a lock-free stack (rte_stack, LIFO:
 * the chunk RX takes next is the one the writer gave back last, still in the caches, where a
 * ring would hand out the one given back longest ago: with a 256 MiB buffer, memory the
 * caches lost long since). A chunk holds finished records (pcap or pcapng, formatted by the
 * RX lcore) back to back, never a partial one.
 *
 * Built in one function and handed to both sides. The RX lcore owns the counters (plain
 * read-modify-write by the one owner, stored relaxed so other lcores read whole values); the
 * main lcore sets the done flag once the RX lcore has returned; the writer owns the chunks it has dequeued until it gives them back. The
 * main lcore publishes the port's drop counters here once per tick, so a writer describing
 * a file never calls into the driver.
 *
 * Every chunk is always in exactly one place: the empty stack, the RX lcore's hand, the full
 * ring, or the writer's hand. Ring and stack hold every chunk, so a push never fails: the
 * only way to lose a packet here is to find the empty stack empty (buffer_full).
 */
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ring.h>
#include <rte_stack.h>

#define LC_CHUNK_SIZE (1u << 20)	/* bytes of records per chunk */
#define LC_QUEUE_MIN_BYTES (4ull << 20)	/* the smallest buffer: four chunks */

struct lc_chunk {
	uint8_t *data;		/* LC_CHUNK_SIZE bytes, 4 KiB-aligned */
	uint32_t len;		/* bytes of whole records in data */
	uint32_t nrec;		/* how many records */
};

struct lc_queue_counters {
	uint64_t received;	/* packets taken from the port queue */
	uint64_t passed;	/* of those, kept by the filter (all of them without one) */
	uint64_t buffer_full;	/* of those, dropped: no empty chunk to format them into */
	uint64_t cycles;	/* TSC cycles in the RX stage (after the driver's receive) */
};

/* The port's own drop counters, published by the main lcore (relaxed stores). */
struct lc_port_drops {
	uint64_t imissed, rx_nombuf;
};

struct lc_queue {
	/* Set up by lc_queue_create, read-only afterwards. */
	unsigned int id;
	struct rte_ring *full;		/* RX -> writer */
	struct rte_stack *empty;	/* writer -> RX, last in first out */
	struct lc_chunk *chunks;
	unsigned int nchunks;
	uint8_t *mem;			/* nchunks * LC_CHUNK_SIZE */
	const struct lc_port_drops *port;	/* NULL: none known */

	/* Owned by the RX lcore. */
	struct lc_queue_counters c __rte_cache_aligned;
	int done;			/* set (release) once the RX lcore sent its last chunk */
} __rte_cache_aligned;

/*
 * The queue of RX queue id: a buffer of bytes (rounded up to whole chunks, at least
 * LC_QUEUE_MIN_BYTES) on socket, every chunk on the empty ring. Returns it, or NULL with
 * the reason in err.
 */
struct lc_queue *lc_queue_create(unsigned int id, uint64_t bytes, int socket, char *err,
				 size_t errlen);

/* Free the buffer and the rings. Accepts NULL. */
void lc_queue_free(struct lc_queue *q);

/* Snapshot of the counters, safe from any lcore. */
static inline void
lc_queue_read(const struct lc_queue *q, struct lc_queue_counters *out)
{
	out->received = __atomic_load_n(&q->c.received, __ATOMIC_RELAXED);
	out->passed = __atomic_load_n(&q->c.passed, __ATOMIC_RELAXED);
	out->buffer_full = __atomic_load_n(&q->c.buffer_full, __ATOMIC_RELAXED);
	out->cycles = __atomic_load_n(&q->c.cycles, __ATOMIC_RELAXED);
}

/* Chunks in use now: holding records on their way to the disk, or being filled (any
 * lcore; a moment's view). */
static inline unsigned int
lc_queue_in_use(const struct lc_queue *q)
{
	return q->nchunks - rte_stack_count(q->empty);
}

/* Of those, full and waiting for the writer to take them. */
static inline unsigned int
lc_queue_waiting(const struct lc_queue *q)
{
	return rte_ring_count(q->full);
}

/* True once the RX lcore is done and the writer has taken every chunk it sent. */
static inline int
lc_queue_drained(const struct lc_queue *q)
{
	/* Pairs with the release store of done in the RX lcore. */
	return __atomic_load_n(&q->done, __ATOMIC_ACQUIRE) && rte_ring_empty(q->full);
}

/* The port's drops as last published (0s when unknown). */
static inline void
lc_queue_port_drops(const struct lc_queue *q, uint64_t *imissed, uint64_t *rx_nombuf)
{
	*imissed = q->port ? __atomic_load_n(&q->port->imissed, __ATOMIC_RELAXED) : 0;
	*rx_nombuf = q->port ? __atomic_load_n(&q->port->rx_nombuf, __ATOMIC_RELAXED) : 0;
}

#endif
