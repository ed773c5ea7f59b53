/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_WRITER_H
#define LINECAP_WRITER_H

/*
 * The writer stage: an I/O lcore owning whole shards (one shard = the queue and the files of
 * one RX queue). It takes full chunks of finished records from the queue (queue.h), moves
 * their bytes into a large per-shard buffer with one copy per run of records, gives the
 * chunks back, and has the buffer written and hashed by the shard's I/O threads
 * (writer_io.h). It never touches a packet: the RX lcore formatted it.
 *
 * Files are cut between records: a file is closed and the next one opened before the first
 * record that finds it larger than -C bytes (as tcpdump's -C), and before the first record
 * stamped in a later -G period (a period with no record ends a second after its end, once
 * nothing waits in the queue). Each closed file is described in a struct
 * lc_closed_file handed to the policy's on_closed callback (the chain of custody: manifest
 * and retention) before the next file is opened. The writer stops once every producer of
 * its queues is done and the queues are empty, then closes its files: nothing that reached a
 * chunk is left behind.
 *
 * Files are written with O_DIRECT where the filesystem allows (the page cache costs more
 * than the disk on the machines we measured): whole 4 KiB blocks from an aligned buffer, the
 * partial block carried to the next buffer, the last one written through the page cache at
 * close. Each file's index (linecap/index.h) is built here as records are taken: off the RX
 * cores, on records already formatted; it yields (that file is not indexed) when the queue
 * fills while the writer is not waiting for the disk, so that indexing never costs a packet.
 * (The records are copied once more for this: a file's header shifts them off the
 * 4 KiB grid the chunks sit on; a copy costs ~0.1 cycle a byte, far below the hash.) A packet
 * counts as written when the last byte of its record reached the file; a failed write counts
 * the records it held as write errors instead.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ring.h>

#include "linecap/format.h"
#include "linecap/index.h"
#include "linecap/outpath.h"
#include "queue.h"
#include "shard.h"
#include "writer_io.h"

#define LC_WRITER_BUF (2u << 20)
#define LC_WRITER_CHUNKS 4u	/* chunks taken per poll */

struct lc_writer_counters {
	uint64_t written;	/* packets in files */
	uint64_t written_bytes;	/* bytes in files, headers included */
	uint64_t write_errors;	/* packets lost to failed writes */
	uint64_t files;		/* files closed */
	uint64_t open_bytes;	/* bytes in the file now open */
	uint64_t cycles;	/* the lcore on this shard's packets: its CPU time, plus ... */
	uint64_t wait_cycles;	/* ... its waits for a free buffer from the I/O threads (wall) */
	uint64_t hash_cycles;	/* the I/O threads': CPU time hashing (SHA-256) */
	uint64_t write_cycles;	/* the I/O threads': time in write calls (wall) */
	uint64_t last_file;	/* 1 once the shard's last file is being closed: no other opens */
};

/* A closed file, for the manifest (allocated by the writer, owned by on_closed). */
struct lc_closed_file {
	char path[PATH_MAX];
	unsigned int queue;
	uint32_t seq;
	int rc;			/* 0, or the -errno its closing met */
	uint64_t bytes, packets, first_ns, last_ns, opened_ns, closed_ns;
	uint8_t sha256[LC_SHA256_LEN];
	uint64_t received, passed, buffer_full;	/* on its queue while it was open */
	uint64_t imissed, rx_nombuf;		/* on the port while it was open */
	uint64_t write_errors;
	/* Its index (NAME.idx): index_rc 0 written (sha and size below), -ECANCELED abandoned
	 * (memory spent or the writer behind), -ENODATA none asked for, else -errno of writing
	 * it. Either way the file is whole; without an index it is queryable by scan. */
	int index_rc;
	uint8_t index_sha256[LC_SHA256_LEN];
	uint8_t index_table_sha256[LC_SHA256_LEN];	/* of its header and flow table */
	uint64_t index_bytes;
};

/* How files are cut and kept durable; shared by all writers, set before launch. */
struct lc_writer_policy {
	const struct lc_format *fmt;
	uint64_t max_bytes;		/* -C: 0 = no size limit */
	const uint64_t *period;		/* -G: start of the current period (s), main lcore's */
	uint64_t rotate_secs;		/* -G: its length; 0 = no -G */
	uint64_t fsync_tsc;		/* --fsync-interval in TSC cycles; 0 = at close only */
	int direct;			/* write with O_DIRECT where the filesystem allows */
	int unordered;			/* -r: records keep their files' order, whose times
					 * may go back (see note_unordered) */
	size_t index_mem;		/* per shard for its file's index; 0: no index */
	uint16_t port_id;
	const char *port_name;
	const char *clock;		/* where timestamps come from, in words (pcapng) */
	char *const *filter_now;	/* the filter in force, published by the main lcore */
	/* Called on the writer lcore for each closed file, taking ownership of it; NULL: the
	 * description is dropped. Must be safe from several writers at once. */
	void (*on_closed)(void *arg, struct lc_closed_file *cf);
	/* Called once the closed file has its final name, before the next one opens (room is
	 * made there: retention). NULL: nothing. Same argument. */
	void (*on_published)(void *arg);
	/* Called (writer lcore) when a write or a new file failed for want of space, before
	 * trying again: retention may make room. Returns how many files it deleted. NULL:
	 * nothing. Same argument. */
	unsigned int (*on_disk_full)(void *arg);
	void *on_closed_arg;
};

struct lc_writer_shard {
	struct lc_queue *q;		/* chunks from the RX lcore, its counters */
	struct lc_shard_file file;
	struct lc_io io;		/* buffers and the thread that writes them */
	uint8_t *buf;			/* the one being filled, 4 KiB-aligned (O_DIRECT) */
	size_t used;
	uint64_t file_bytes;		/* of the open file, handed to the I/O thread */
	int direct;			/* the open file takes only whole blocks but the last */
	int fresh;			/* no record in the open file yet */
	uint64_t prev_ns;		/* -r: the time of the open file's last record */
	size_t peeked;			/* the partial block lc_shard_file_peek put in the file */
	uint32_t *rec_end;		/* where each buffered record ends in buf */
	uint32_t nrec;			/* records (wholly or partly) in buf */
	uint64_t last_flush_tsc, last_sync_tsc;
	uint64_t write_errors_at_open;	/* at the last record (not the last open) */
	struct lc_queue_counters rx_at_open;
	uint64_t imissed_at_open, nombuf_at_open;
	int failed;			/* no file could be opened: packets count as errors */
	int cut_pending;		/* a write failed: close (salvaged) and go on in a new file */
	int disk_full;			/* ... for want of space */
	uint32_t next_seq;		/* the number the next file tries first */
	struct lc_index_builder *ix;	/* the open file's index; NULL: none */
	uint64_t ix_look_tsc;		/* when the index's cost was last looked at ... */
	uint64_t ix_full_waits;		/* ... and the I/O's full waits then */
	uint64_t retry_tsc;		/* when opening a file was last tried, while there is none */
	struct lc_writer_counters c __rte_cache_aligned;
} __rte_cache_aligned;

struct lc_writer {
	unsigned int id;
	const struct lc_outpath *out;
	const struct lc_writer_policy *policy;
	uint32_t snaplen;		/* for file headers */
	unsigned int nshards;
	struct lc_writer_shard *shards[64];
	struct lc_feeds *feeds;		/* live feeds offered its records; NULL: none */
	int rc;				/* first fatal error (-errno), 0 if none */
	char err[256];
} __rte_cache_aligned;

/*
 * Allocate the buffers of a shard, start its I/O thread (on cpus when given: the writer
 * lcore's) and open its first file, number seq or the next free one (period when). Returns 0 or -errno with a reason in err.
 */
int lc_writer_shard_init(struct lc_writer *w, struct lc_writer_shard *s,
			 struct lc_queue *q, uint32_t seq, time_t when, int socket,
			 const cpu_set_t *cpus, char *err, size_t errlen);

/* Stop a shard's I/O thread and free its buffers (files must be closed). Accepts a zeroed
 * shard. */
void lc_writer_shard_release(struct lc_writer_shard *s);

/* lcore entry point; arg is a struct lc_writer. Returns 0 (errors in w->rc). */
int lc_writer_main(void *arg);

/* Write what one shard's queue holds now and rotate if due (tests). Returns packets taken. */
unsigned int lc_writer_poll_shard(struct lc_writer *w, struct lc_writer_shard *s);

/* Flush and close a shard's file, handing its description to the main lcore. 0 or -errno. */
int lc_writer_close_shard(struct lc_writer *w, struct lc_writer_shard *s);

static inline void
lc_writer_read(const struct lc_writer_shard *s, struct lc_writer_counters *out)
{
	out->written = __atomic_load_n(&s->c.written, __ATOMIC_RELAXED);
	out->written_bytes = __atomic_load_n(&s->c.written_bytes, __ATOMIC_RELAXED);
	out->write_errors = __atomic_load_n(&s->c.write_errors, __ATOMIC_RELAXED);
	out->files = __atomic_load_n(&s->c.files, __ATOMIC_RELAXED);
	out->open_bytes = __atomic_load_n(&s->c.open_bytes, __ATOMIC_RELAXED);
	out->cycles = __atomic_load_n(&s->c.cycles, __ATOMIC_RELAXED);
	out->wait_cycles = __atomic_load_n(&s->c.wait_cycles, __ATOMIC_RELAXED);
	out->hash_cycles = __atomic_load_n(&s->c.hash_cycles, __ATOMIC_RELAXED);
	out->write_cycles = __atomic_load_n(&s->c.write_cycles, __ATOMIC_RELAXED);
	out->last_file = __atomic_load_n(&s->c.last_file, __ATOMIC_ACQUIRE);
}

#endif
