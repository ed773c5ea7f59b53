/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_stack.h>

#include "queue.h"

#define DIRECT_ALIGN 4096u

static struct rte_ring *
ring(const char *what, unsigned int id, unsigned int n, int socket)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "lc_%s_q%u", what, id);
	/* Exactly n slots: every chunk fits, so no enqueue ever fails. */
	return rte_ring_create(name, n, socket, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
}

static struct rte_stack *
stack(unsigned int id, unsigned int n, int socket)
{
	char name[RTE_STACK_NAMESIZE];

	snprintf(name, sizeof(name), "lc_empty_q%u", id);
	/* Lock-free: neither side ever waits for the other. */
	return rte_stack_create(name, n, socket, RTE_STACK_F_LF);
}

struct lc_queue *
lc_queue_create(unsigned int id, uint64_t bytes, int socket, char *err, size_t errlen)
{
	struct lc_queue *q;
	uint64_t n;

	if (bytes < LC_QUEUE_MIN_BYTES)
		bytes = LC_QUEUE_MIN_BYTES;
	n = (bytes + LC_CHUNK_SIZE - 1) / LC_CHUNK_SIZE;
	if (n > (1u << 24)) {
		snprintf(err, errlen, "buffer of queue %u: %" PRIu64 " bytes is too large", id,
			 bytes);
		return NULL;
	}
	q = rte_zmalloc_socket("lc_queue", sizeof(*q), RTE_CACHE_LINE_SIZE, socket);
	if (q == NULL) {
		snprintf(err, errlen, "out of memory for queue %u", id);
		return NULL;
	}
	q->id = id;
	q->nchunks = (unsigned int)n;
	q->chunks = rte_zmalloc_socket("lc_chunks", n * sizeof(*q->chunks), RTE_CACHE_LINE_SIZE,
				       socket);
	q->mem = rte_malloc_socket("lc_buffer", n * LC_CHUNK_SIZE, DIRECT_ALIGN, socket);
	if (q->chunks == NULL || q->mem == NULL) {
		snprintf(err, errlen, "cannot allocate the %" PRIu64 " MiB buffer of queue %u on "
			 "socket %d (give a smaller -B, or reserve more hugepages)",
			 n * LC_CHUNK_SIZE >> 20, id, socket);
		lc_queue_free(q);
		return NULL;
	}
	q->full = ring("full", id, q->nchunks, socket);
	q->empty = stack(id, q->nchunks, socket);
	if (q->full == NULL || q->empty == NULL) {
		snprintf(err, errlen, "cannot create the chunk ring and stack of queue %u: %s", id,
			 rte_strerror(rte_errno));
		lc_queue_free(q);
		return NULL;
	}
	for (unsigned int i = 0; i < q->nchunks; i++) {
		struct lc_chunk *c = &q->chunks[i];

		c->data = q->mem + (size_t)i * LC_CHUNK_SIZE;
		rte_stack_push(q->empty, (void *const *)&c, 1);
	}
	return q;
}

void
lc_queue_free(struct lc_queue *q)
{
	if (q == NULL)
		return;
	rte_ring_free(q->full);
	rte_stack_free(q->empty);
	rte_free(q->mem);
	rte_free(q->chunks);
	rte_free(q);
}
