/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_WRITER_IO_H
#define LINECAP_WRITER_IO_H

/*
 * The disk side of one shard: two threads that take filled buffers in order, one writing
 * them to the shard's open file, the next hashing what reached the file, so the writer
 * lcore formats the next buffer while the disk works and the hash of one buffer overlaps the
 * write of the next (a 2 MiB write with O_DIRECT spends ~90% of its time waiting for the
 * device, and ext4 completes extending direct writes synchronously even through AIO).
 *
 * LC_IO_SLOTS buffers go round: the writer fills one (lc_io_buffer), hands its first len
 * bytes over (lc_io_submit, which returns the next buffer once both stages are done with
 * it, sleeping meanwhile: never spinning, as the threads share the writer's CPU), and
 * accounts for finished slots in order (lc_io_reap). Only the threads touch the file between
 * a submit and the drain that must precede any other use of it (sync, close, a new file).
 *
 * Not the hot loop: one handover per buffer (~27,000 packets of 64 bytes), under a mutex.
 */
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <rte_cycles.h>

#include "shard.h"

#define LC_IO_SLOTS 4u
#define LC_IO_STAGES 2u

/* CPU time the calling thread has used, in TSC cycles (a system call: once per buffer or
 * burst of chunks, not per packet). A writer lcore shares its CPU with its I/O threads: the
 * TSC between two points of one would count the others' work too. */
static inline uint64_t
lc_thread_cycles(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)(((double)ts.tv_sec * 1e9 + (double)ts.tv_nsec) *
			  ((double)rte_get_tsc_hz() / 1e9));
}

struct lc_io_slot {
	uint8_t *buf;
	struct lc_shard_file *file;
	size_t len;
	size_t written;		/* of len, the bytes that reached the file */
	uint32_t nrec;		/* records that end in these len bytes (for the writer) */
	int rc;			/* 0 or -errno of the write */
	uint64_t write_cycles;	/* TSC cycles in write calls (wall: mostly the disk's time) */
	uint64_t hash_cycles;	/* CPU time hashing, in TSC cycles */
};

struct lc_io;

struct lc_io_stage {
	struct lc_io *io;
	const uint64_t *in;	/* slots handed to this stage */
	uint64_t *out;		/* slots it has finished */
	void (*work)(struct lc_io_slot *s);
};

struct lc_io {
	struct lc_io_slot slot[LC_IO_SLOTS];
	/* Slot counts that only grow: submitted >= written >= completed >= reaped. Each is
	 * stored by one thread, under mu (reaped: the writer's own, no lock). */
	uint64_t submitted, written, completed, reaped;
	uint64_t full_waits;	/* submits that waited for a free slot (the writer's) */
	int stop, ready;
	unsigned int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lc_io_stage stage[LC_IO_STAGES];
	pthread_t thread[LC_IO_STAGES];
};

/* Allocate the buffers (bufsize, 4 KiB-aligned, on socket) and start the threads, on cpus
 * when given (the writer lcore's), else where the caller runs. 0 or -errno. */
int lc_io_init(struct lc_io *io, size_t bufsize, int socket, const cpu_set_t *cpus);

/* Let the threads finish what they hold, stop them and free the buffers. Accepts a zeroed struct. */
void lc_io_fini(struct lc_io *io);

/* The buffer being filled. */
static inline uint8_t *
lc_io_buffer(const struct lc_io *io)
{
	return io->slot[io->submitted % LC_IO_SLOTS].buf;
}

/* Hand the first len bytes of the current buffer (nrec records) to be written to f; wait
 * until the next buffer is free and return it. Reap (lc_io_reap) before the next submit. */
uint8_t *lc_io_submit(struct lc_io *io, struct lc_shard_file *f, size_t len, uint32_t nrec);

/* Wait until everything submitted has been written (or failed). */
void lc_io_drain(struct lc_io *io);

/* The oldest finished slot not yet accounted for, or NULL. */
static inline const struct lc_io_slot *
lc_io_reap(struct lc_io *io)
{
	if (io->reaped == __atomic_load_n(&io->completed, __ATOMIC_ACQUIRE))
		return NULL;
	return &io->slot[io->reaped++ % LC_IO_SLOTS];
}

#endif
