/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "writer_io.h"

static void
stage_write(struct lc_io_slot *s)
{
	uint64_t t0 = rte_rdtsc();

	s->rc = lc_shard_file_write(s->file, s->buf, s->len, &s->written);
	s->write_cycles = rte_rdtsc() - t0;
}

static void
stage_hash(struct lc_io_slot *s)
{
	uint64_t t0 = lc_thread_cycles();

	/* What reached the file, so the hash always describes the file as it is. */
	lc_shard_file_hash(s->file, s->buf, s->written);
	s->hash_cycles = lc_thread_cycles() - t0;
}

/* One stage's thread: takes the slots the stage before has finished, in order. */
static void *
stage_main(void *arg)
{
	const struct lc_io_stage *st = arg;
	struct lc_io *io = st->io;

	pthread_mutex_lock(&io->mu);
	for (;;) {
		uint64_t k = *st->out;

		if (k == *st->in) {
			if (io->stop)
				break;
			pthread_cond_wait(&io->cv, &io->mu);
			continue;
		}
		pthread_mutex_unlock(&io->mu);
		st->work(&io->slot[k % LC_IO_SLOTS]);
		pthread_mutex_lock(&io->mu);
		__atomic_store_n(st->out, k + 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&io->cv);
	}
	pthread_mutex_unlock(&io->mu);
	return NULL;
}

int
lc_io_init(struct lc_io *io, size_t bufsize, int socket, const cpu_set_t *cpus)
{
	static const char *const names[LC_IO_STAGES] = { "lc-write", "lc-hash" };
	int rc = 0;

	memset(io, 0, sizeof(*io));
	for (unsigned int i = 0; i < LC_IO_SLOTS; i++) {
		io->slot[i].buf = rte_malloc_socket("lc_io_buf", bufsize, LC_DIRECT_ALIGN, socket);
		if (io->slot[i].buf == NULL) {
			lc_io_fini(io);
			return -ENOMEM;
		}
	}
	pthread_mutex_init(&io->mu, NULL);
	pthread_cond_init(&io->cv, NULL);
	io->ready = 1;
	io->stage[0] = (struct lc_io_stage){ io, &io->submitted, &io->written, stage_write };
	io->stage[1] = (struct lc_io_stage){ io, &io->written, &io->completed, stage_hash };
	for (unsigned int i = 0; i < LC_IO_STAGES; i++) {
		rc = pthread_create(&io->thread[i], NULL, stage_main, &io->stage[i]);
		if (rc != 0) {
			lc_io_fini(io);
			return -rc;
		}
		io->started++;
		pthread_setname_np(io->thread[i], names[i]);
		/* On the writer's CPUs: the RX cores stay undisturbed. */
		if (cpus != NULL)
			pthread_setaffinity_np(io->thread[i], sizeof(*cpus), cpus);
	}
	return 0;
}

void
lc_io_fini(struct lc_io *io)
{
	if (io->ready) {
		pthread_mutex_lock(&io->mu);
		io->stop = 1;	/* each stage finishes what it was handed, then leaves */
		pthread_cond_broadcast(&io->cv);
		pthread_mutex_unlock(&io->mu);
		for (unsigned int i = 0; i < io->started; i++)
			pthread_join(io->thread[i], NULL);
		pthread_mutex_destroy(&io->mu);
		pthread_cond_destroy(&io->cv);
		io->started = 0;
		io->ready = 0;
	}
	for (unsigned int i = 0; i < LC_IO_SLOTS; i++) {
		rte_free(io->slot[i].buf);
		io->slot[i].buf = NULL;
	}
}

uint8_t *
lc_io_submit(struct lc_io *io, struct lc_shard_file *f, size_t len, uint32_t nrec)
{
	struct lc_io_slot *s = &io->slot[io->submitted % LC_IO_SLOTS];

	s->file = f;
	s->len = len;
	s->nrec = nrec;
	s->written = 0;
	pthread_mutex_lock(&io->mu);
	io->submitted++;
	pthread_cond_broadcast(&io->cv);
	/* The next slot is free once its last use went through both stages. */
	if (io->submitted - io->completed >= LC_IO_SLOTS)
		io->full_waits++;
	while (io->submitted - io->completed >= LC_IO_SLOTS)
		pthread_cond_wait(&io->cv, &io->mu);
	pthread_mutex_unlock(&io->mu);
	return lc_io_buffer(io);
}

void
lc_io_drain(struct lc_io *io)
{
	pthread_mutex_lock(&io->mu);
	while (io->completed != io->submitted)
		pthread_cond_wait(&io->cv, &io->mu);
	pthread_mutex_unlock(&io->mu);
}
