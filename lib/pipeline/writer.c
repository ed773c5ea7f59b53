/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "lc_version.h"
#include "clock.h"
#include "feed_tap.h"
#include "linecap/config.h"
#include "log.h"
#include "writer.h"

#define IDLE_FLUSH_MS 200u	/* buffered records reach the file within this when idle */
#define IDLE_SPINS 256u		/* empty polls before the writer starts napping */
#define IDLE_NAP_US 50u
#define NAME_TRIES 1000u	/* names left taken by an earlier capture are skipped */
#define INDEX_LOOK_MS 100u	/* a filling queue: how often the index's cost is judged */


/* Remember the first failure of this writer for the end-of-run message. */
static void
note_error(struct lc_writer *w, const char *what, int rc)
{
	if (w->rc != 0)
		return;
	w->rc = rc;
	snprintf(w->err, sizeof(w->err), "%s: %s", what, strerror(-rc));
}

/* Open file seq (or the next free one) of shard s for period when. */
static int
open_file(struct lc_writer *w, struct lc_writer_shard *s, uint32_t seq, time_t when,
	  char *err, size_t errlen)
{
	const struct lc_writer_policy *p = w->policy;
	struct lc_file_info info = {
		.snaplen = w->snaplen,
		.port = p->port_name,
		.filter = p->filter_now ? __atomic_load_n(p->filter_now, __ATOMIC_ACQUIRE) : NULL,
		.os = "Linux",
		.hardware = "DPDK port",
		.application = "linecap " LC_VERSION,
		.clock = p->clock,
	};
	int rc = -EEXIST;

	/* The header starts the buffer: with O_DIRECT every write is whole blocks from 0. It
	 * also goes to the file at once, with the file's name (lc_shard_file_stub), so a crash
	 * at any moment leaves a valid capture. Names taken by earlier captures are skipped. */
	for (unsigned int t = 0; t < NAME_TRIES && rc == -EEXIST; t++) {
		rc = lc_shard_file_open(&s->file, w->out, p->fmt, s->q->id, seq + t,
					when, p->direct, err, errlen);
		if (rc < 0)
			continue;
		s->used = lc_shard_file_header(&s->file, &info, s->buf, LC_WRITER_BUF);
		s->nrec = 0;
		s->file_bytes = 0;
		s->direct = s->file.direct;
		s->fresh = 1;
		s->peeked = 0;
		if (s->ix != NULL)
			lc_index_builder_reset(s->ix, 1);	/* Ethernet */
		rc = lc_shard_file_stub(&s->file, s->buf, s->used);
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", s->file.part, strerror(-rc));
			lc_shard_file_discard(&s->file);
		}
	}
	if (rc < 0)
		return rc;
	lc_queue_read(s->q, &s->rx_at_open);
	lc_queue_port_drops(s->q, &s->imissed_at_open, &s->nombuf_at_open);
	s->last_sync_tsc = rte_rdtsc();
	__atomic_store_n(&s->c.open_bytes, s->used, __ATOMIC_RELAXED);
	return 0;
}

int
lc_writer_shard_init(struct lc_writer *w, struct lc_writer_shard *s, struct lc_queue *q,
		     uint32_t seq, time_t when, int socket, const cpu_set_t *cpus, char *err,
		     size_t errlen)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->file.fd = -1;
	s->q = q;
	s->rec_end = rte_malloc_socket("lc_writer_recs", (LC_WRITER_BUF / 16 + 1) *
				       sizeof(uint32_t), RTE_CACHE_LINE_SIZE, socket);
	if (s->rec_end == NULL) {
		snprintf(err, errlen, "cannot allocate a %u-byte writer buffer", LC_WRITER_BUF);
		return -ENOMEM;
	}
	rc = lc_io_init(&s->io, LC_WRITER_BUF, socket, cpus);
	if (rc < 0) {
		snprintf(err, errlen, "cannot set up the I/O of writer buffers: %s", strerror(-rc));
		return rc;
	}
	s->buf = lc_io_buffer(&s->io);
	s->last_flush_tsc = rte_rdtsc();
	if (w->policy->index_mem != 0 &&
	    (s->ix = lc_index_builder_create(w->policy->index_mem)) == NULL) {
		snprintf(err, errlen, "cannot set up the index of queue %u: %s", q->id,
			 strerror(errno));
		return -ENOMEM;
	}
	rc = open_file(w, s, seq ? seq : 1, when, err, errlen);
	s->next_seq = s->file.seq + 1;
	return rc;
}

void
lc_writer_shard_release(struct lc_writer_shard *s)
{
	lc_io_fini(&s->io);
	lc_index_builder_free(s->ix);
	s->ix = NULL;
	rte_free(s->rec_end);
	s->buf = NULL;
	s->rec_end = NULL;
}

/* The lcore's work on s since c0 (lc_thread_cycles: CPU time, not what its I/O threads did
 * meanwhile on the same CPU), and its waits for a free buffer since w0 (wait_cycles). */
static inline void
add_cycles(struct lc_writer_shard *s, uint64_t c0, uint64_t w0)
{
	uint64_t work = lc_thread_cycles() - c0 + (s->c.wait_cycles - w0);

	__atomic_store_n(&s->c.cycles, s->c.cycles + work, __ATOMIC_RELAXED);
}

/* Account for the buffers the I/O thread has finished, in order. */
static void
reap(struct lc_writer *w, struct lc_writer_shard *s)
{
	const struct lc_io_slot *io;

	while ((io = lc_io_reap(&s->io)) != NULL) {
		__atomic_store_n(&s->c.hash_cycles, s->c.hash_cycles + io->hash_cycles,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&s->c.write_cycles, s->c.write_cycles + io->write_cycles,
				 __ATOMIC_RELAXED);
		if (likely(io->rc == 0)) {
			s->file.packets += io->nrec;
			__atomic_store_n(&s->c.written, s->c.written + io->nrec, __ATOMIC_RELAXED);
			__atomic_store_n(&s->c.written_bytes, s->c.written_bytes + io->len,
					 __ATOMIC_RELAXED);
		} else {
			__atomic_store_n(&s->c.write_errors, s->c.write_errors + io->nrec,
					 __ATOMIC_RELAXED);
			if (!s->cut_pending)
				LC_LOG(ERR, "writer %u: %s: %s: closing it at its last whole record, "
				       "going on in a new file once it can", w->id, io->file->part,
				       strerror(-io->rc));
			note_error(w, io->file->part, io->rc);
			s->cut_pending = 1;
			s->disk_full |= io->rc == -ENOSPC || io->rc == -EDQUOT;
		}
	}
}

/*
 * Hand what the buffer holds to the I/O thread: with O_DIRECT only whole blocks unless final
 * (the partial block moves to the start of the next buffer). Final also waits until all of
 * the file is written. Records whose last byte is handed over count as written once the
 * write succeeded (reap).
 */
static void
flush(struct lc_writer *w, struct lc_writer_shard *s, int final)
{
	size_t n = s->used;
	uint32_t done = 0;
	uint64_t t0 = rte_rdtsc();

	s->last_flush_tsc = t0;
	if (s->direct && !final)
		n &= ~(size_t)(LC_DIRECT_ALIGN - 1);
	while (done < s->nrec && s->rec_end[done] <= n)
		done++;
	if (n != 0)
		s->peeked = 0;	/* what the file holds past its whole blocks is stale now */
	if (n != 0 && s->file.fd >= 0) {
		const uint8_t *old = s->buf;

		s->buf = lc_io_submit(&s->io, &s->file, n, done);
		memcpy(s->buf, old + n, s->used - n);
		s->file_bytes += n;
	} else if (n != 0) {	/* no file: the records are lost, and counted */
		__atomic_store_n(&s->c.write_errors, s->c.write_errors + done, __ATOMIC_RELAXED);
		memmove(s->buf, s->buf + n, s->used - n);
	}
	for (uint32_t i = done; i < s->nrec; i++)
		s->rec_end[i - done] = s->rec_end[i] - (uint32_t)n;
	s->nrec -= done;
	s->used -= n;
	if (final)
		lc_io_drain(&s->io);
	reap(w, s);
	__atomic_store_n(&s->c.open_bytes, s->file_bytes + s->used, __ATOMIC_RELAXED);
	__atomic_store_n(&s->c.wait_cycles, s->c.wait_cycles + (rte_rdtsc() - t0),
			 __ATOMIC_RELAXED);
}

/*
 * Flush, and with O_DIRECT also put the buffer's partial last block in the file, through the
 * page cache (the next whole write replaces it): an idle link's last records are in the file
 * (and durable at the next sync) instead of waiting in memory for their block to fill.
 */
static void
flush_idle(struct lc_writer *w, struct lc_writer_shard *s)
{
	flush(w, s, 0);
	if (!s->direct || s->used == 0 || s->used == s->peeked || s->file.fd < 0)
		return;
	lc_io_drain(&s->io);	/* the file ends where the partial block goes */
	reap(w, s);
	if (lc_shard_file_peek(&s->file, s->buf, s->used) == 0)
		s->peeked = s->used;
}

/* What happened on the queue and the port while the file of s was open, until now. */
static void
file_stats(const struct lc_writer_shard *s, struct lc_file_stats *st, uint64_t *buffer_full,
	   uint64_t *imissed, uint64_t *nombuf)
{
	struct lc_queue_counters now;
	uint64_t im, nb;

	lc_queue_read(s->q, &now);
	lc_queue_port_drops(s->q, &im, &nb);
	*buffer_full = now.buffer_full - s->rx_at_open.buffer_full;
	*imissed = im - s->imissed_at_open;
	*nombuf = nb - s->nombuf_at_open;
	*st = (struct lc_file_stats){
		.start_ns = s->file.opened_ns,
		.end_ns = lc_realtime_ns(),
		.received = now.received - s->rx_at_open.received,
		.dropped = *buffer_full + *imissed + *nombuf,
		.accepted = now.passed - s->rx_at_open.passed,
	};
}

/* Write the trailer and the rest, and close the file: finished, or cut back to its last
 * whole record after a failed write. 1 when it held nothing worth keeping (discarded), else
 * 0 or -errno of the closing (sha receives the file's hash). */
static int
finish_file(struct lc_writer *w, struct lc_writer_shard *s, const struct lc_file_stats *st,
	    uint8_t sha[LC_SHA256_LEN])
{
	const struct lc_format *fmt = w->policy->fmt;
	uint64_t kept;
	int rc;

	/* The trailer (pcapng statistics) joins the buffer, flushed first when too full for it
	 * (a file always gets its trailer, whole); then everything goes out. */
	if (LC_WRITER_BUF - s->used < fmt->trailer_room)
		flush(w, s, 0);
	s->used += fmt->trailer(s->buf + s->used, LC_WRITER_BUF - s->used, st);
	flush(w, s, 1);
	s->cut_pending = 0;
	__atomic_store_n(&s->c.open_bytes, 0, __ATOMIC_RELAXED);
	if (!s->file.error)
		return lc_shard_file_finish(&s->file, sha);
	if (s->file.packets == 0) {
		/* Nothing of it reached the disk but its header: not a file worth keeping. */
		lc_shard_file_discard(&s->file);
		return 1;
	}
	/* A write failed: the file is what the writes before made it, cut back to its last
	 * whole record; still a valid capture, recorded with its losses. */
	rc = lc_shard_file_salvage(&s->file, sha, &kept);
	if (rc == 0 && kept > s->file.packets &&
	    kept - s->file.packets <= s->c.write_errors - s->write_errors_at_open) {
		/* Records of a partial block put there while idle (flush_idle) were kept, but
		 * their write failed: they are in the file, so written, not lost. */
		uint64_t more = kept - s->file.packets;

		__atomic_store_n(&s->c.written, s->c.written + more, __ATOMIC_RELAXED);
		__atomic_store_n(&s->c.write_errors, s->c.write_errors - more, __ATOMIC_RELAXED);
	} else if (rc == 0 && kept != s->file.packets) {
		LC_LOG(WARNING, "writer %u: %s holds %" PRIu64 " packets, %" PRIu64 " counted",
		       w->id, s->file.part, kept, s->file.packets);
	}
	s->file.packets = kept;
	return rc;
}

/* Write the index of the file just finished (its descriptor in *fd, -1 when none: the
 * reason in cf->index_rc). */
static void
write_index(struct lc_writer *w, struct lc_writer_shard *s, struct lc_closed_file *cf,
	    int *fd, int *named)
{
	int rc;

	*fd = -1;
	if (s->ix == NULL) {
		cf->index_rc = -ENODATA;
		return;
	}
	if (lc_index_builder_abandoned(s->ix) || s->file.error) {
		cf->index_rc = -ECANCELED;	/* a salvaged file: its index would be wrong */
		return;
	}
	*fd = lc_shard_index_create(&s->file, w->out, named);
	rc = *fd < 0 ? *fd : lc_index_builder_write(s->ix, *fd, s->file.bytes,
						      cf->index_sha256, &cf->index_bytes);
	if (rc < 0 && *fd >= 0) {
		lc_shard_index_discard(&s->file, *fd, *named);
		*fd = -1;
	}
	if (rc < 0)
		LC_LOG(WARNING, "writer %u: %s: its index: %s (the file is whole, queryable by "
		       "scan)", w->id, s->file.path, strerror(-rc));
	else
		lc_index_builder_table_sha256(s->ix, cf->index_table_sha256);
	cf->index_rc = rc;
}

/* The closed file of s, for the manifest (NULL: out of memory). */
static struct lc_closed_file *
describe(struct lc_writer_shard *s, const struct lc_file_stats *st, uint64_t buffer_full,
	 uint64_t imissed, uint64_t nombuf, const uint8_t sha[LC_SHA256_LEN], int rc)
{
	struct lc_closed_file *cf = calloc(1, sizeof(*cf));

	if (cf == NULL)
		return NULL;
	snprintf(cf->path, sizeof(cf->path), "%s", s->file.path);
	cf->queue = s->file.queue;
	cf->seq = s->file.seq;
	cf->rc = rc;
	cf->bytes = s->file.bytes;
	cf->packets = s->file.packets;
	cf->first_ns = s->file.first_ns;
	cf->last_ns = s->file.last_ns;
	cf->opened_ns = s->file.opened_ns;
	cf->closed_ns = st->end_ns;
	memcpy(cf->sha256, sha, LC_SHA256_LEN);
	cf->received = st->received;
	cf->passed = st->accepted;
	cf->buffer_full = buffer_full;
	cf->imissed = imissed;
	cf->rx_nombuf = nombuf;
	/* Since the last file was recorded: losses while no file could be open (a full disk)
	 * go into the next record. */
	cf->write_errors = s->c.write_errors - s->write_errors_at_open;
	s->write_errors_at_open = s->c.write_errors;
	return cf;
}

/* Close the open file of s: finish it, record it (before it takes its name: a crash between
 * the two leaves a .part file that verify --repair recognises and finishes), publish it. */
static int
close_file(struct lc_writer *w, struct lc_writer_shard *s)
{
	const struct lc_writer_policy *p = w->policy;
	uint64_t buffer_full, imissed, nombuf;
	uint8_t sha[LC_SHA256_LEN];
	struct lc_closed_file *cf;
	struct lc_file_stats st;
	int rc, irc, ifd = -1, inamed = 0;

	if (s->file.fd < 0)
		return 0;
	file_stats(s, &st, &buffer_full, &imissed, &nombuf);
	rc = finish_file(w, s, &st, sha);
	if (rc == 1)
		return 0;
	cf = describe(s, &st, buffer_full, imissed, nombuf, sha, rc);
	if (cf == NULL)
		LC_LOG(ERR, "writer %u: out of memory describing %s", w->id, s->file.path);
	else if (rc == 0)
		write_index(w, s, cf, &ifd, &inamed);
	if (cf != NULL && p->on_closed != NULL)
		p->on_closed(p->on_closed_arg, cf);
	else
		free(cf);
	/* The index takes its name before the file does: a crash between the two leaves the
	 * recorded NAME.part beside its index, and the repair only renames the file. */
	if (ifd >= 0 && rc == 0 && (irc = lc_shard_index_publish(&s->file, ifd, inamed)) < 0)
		LC_LOG(WARNING, "writer %u: %s: naming its index: %s (linecap-verify --repair "
		       "builds it again)", w->id, s->file.path, strerror(-irc));
	else if (ifd >= 0 && rc != 0)
		lc_shard_index_discard(&s->file, ifd, inamed);
	if (rc == 0)
		rc = lc_shard_file_publish(&s->file, w->out);	/* and fsyncs the directory */
	if (p->on_published != NULL)
		p->on_published(p->on_closed_arg);
	if (rc < 0) {
		LC_LOG(ERR, "writer %u: closing %s: %s", w->id, s->file.part, strerror(-rc));
		note_error(w, s->file.part, rc);
	} else {
		__atomic_store_n(&s->c.files, s->c.files + 1, __ATOMIC_RELAXED);
	}
	return rc;
}

static void try_open(struct lc_writer *w, struct lc_writer_shard *s, time_t when);

/* Cut the file of s: close it, open the next of its shard for period when. */
static void
rotate(struct lc_writer *w, struct lc_writer_shard *s, time_t when)
{
	const struct lc_writer_policy *p = w->policy;
	int broken;

	s->next_seq = s->file.seq + 1;
	close_file(w, s);
	/* A write may fail while the file is being closed (the last ones drain then); the
	 * closed file keeps its error until the next one is opened. */
	broken = s->file.error != 0;
	/* The disk failed: go on at once only where retention just made room, else try again
	 * in a second (not at every burst). */
	if (broken && !(s->disk_full && p->on_disk_full != NULL &&
			p->on_disk_full(p->on_closed_arg) > 0)) {
		s->failed = 1;
		s->retry_tsc = rte_rdtsc();
		return;
	}
	s->disk_full = 0;
	try_open(w, s, when);
}

/* Open the shard's next file; on failure packets count as write errors until a retry (once
 * a second) succeeds: a disk that fills up and empties again loses only what came between. */
static void
try_open(struct lc_writer *w, struct lc_writer_shard *s, time_t when)
{
	const struct lc_writer_policy *p = w->policy;
	char err[LC_ERRLEN];
	int rc;

	if (s->disk_full && p->on_disk_full != NULL)
		p->on_disk_full(p->on_closed_arg);
	s->retry_tsc = rte_rdtsc();
	rc = open_file(w, s, s->next_seq, when, err, sizeof(err));
	if (rc < 0) {
		if (!s->failed)
			LC_LOG(ERR, "writer %u: %s: counting packets as write errors, trying "
			       "again each second", w->id, err);
		note_error(w, "opening the next file", rc);
		s->failed = 1;
		s->disk_full = rc == -ENOSPC || rc == -EDQUOT;
		return;
	}
	if (s->failed)
		LC_LOG(NOTICE, "writer %u: writing again, into %s", w->id, s->file.part);
	s->failed = 0;
	s->disk_full = 0;
	s->next_seq = s->file.seq + 1;
}

#define PERIOD_GRACE_NS 1000000000ull	/* -G: a period with no record ends this long after */

/* -G: the first nanosecond past the open file's period; UINT64_MAX without -G. */
static inline uint64_t
period_end_ns(const struct lc_writer *w, const struct lc_writer_shard *s)
{
	uint64_t g = w->policy->rotate_secs;

	return g ? ((uint64_t)s->file.period + g) * 1000000000ull : UINT64_MAX;
}

/* -G: the period (its start, s) the record stamped ts_ns belongs to. */
static inline time_t
period_of(const struct lc_writer *w, uint64_t ts_ns)
{
	uint64_t sec = ts_ns / 1000000000ull;

	return (time_t)(sec - sec % w->policy->rotate_secs);
}

/* The period a file opened now belongs to. */
static inline time_t
period_now(const struct lc_writer *w, const struct lc_writer_shard *s)
{
	const struct lc_writer_policy *p = w->policy;

	return p->period ? (time_t)__atomic_load_n(p->period, __ATOMIC_RELAXED) : s->file.period;
}

/* -G, the main lcore says another period began: is the file's over, though no record said
 * so? A second past its end with nothing waiting in the queue (records stamped before the
 * end may still be on their way until then), or the clock went back before its start. */
static int
period_idle_over(const struct lc_writer *w, const struct lc_writer_shard *s)
{
	uint64_t now = lc_realtime_ns();

	return (now >= period_end_ns(w, s) + PERIOD_GRACE_NS && lc_queue_waiting(s->q) == 0) ||
	       now < (uint64_t)s->file.period * 1000000000ull;
}

/* Once per burst or idle round: is a cut due (-C with what is buffered, or -G)? */
static inline void
maybe_rotate(struct lc_writer *w, struct lc_writer_shard *s)
{
	const struct lc_writer_policy *p = w->policy;
	uint64_t period = p->period ? __atomic_load_n(p->period, __ATOMIC_RELAXED) : 0;

	if (unlikely(s->file.fd < 0)) {
		if (rte_rdtsc() - s->retry_tsc > rte_get_tsc_hz())
			try_open(w, s, p->period ? (time_t)period : s->file.period);
		return;
	}
	reap(w, s);
	if (unlikely(s->cut_pending) ||
	    (p->max_bytes && s->file_bytes + s->used > p->max_bytes) ||
	    (p->period && (time_t)period != s->file.period && period_idle_over(w, s)))
		rotate(w, s, p->period ? (time_t)period : s->file.period);
	else if (p->fsync_tsc && rte_rdtsc() - s->last_sync_tsc > p->fsync_tsc) {
		flush_idle(w, s);	/* all of it, once written, made durable */
		lc_io_drain(&s->io);
		reap(w, s);
		lc_shard_file_sync(&s->file);
		s->last_sync_tsc = rte_rdtsc();
	}
}

/* Add the record at rec, at file offset at, to the open file's index. */
static inline void
index_record(struct lc_index_builder *ix, const struct lc_format *fmt, const uint8_t *rec,
	     uint64_t at)
{
	uint32_t caplen, wirelen;
	const uint8_t *pkt = lc_format_record_packet(fmt, rec, &caplen, &wirelen);

	lc_index_add(ix, at, fmt->record_ts(rec), wirelen, pkt, caplen);
}

/*
 * Of the records at rec..end, the longest run that fits the buffer and does not need a cut
 * first (-C: a record never goes into a file already larger than max, as tcpdump's -C; -G:
 * nor into a file of an earlier period than its timestamp's): its length in bytes, its
 * record count in *k, where it ends in the buffer in rec_end, the start of its last record
 * in *last. Each record of the run goes into the file's index here.
 */
static size_t
fitting_run(const struct lc_writer *w, struct lc_writer_shard *s, const uint8_t *rec,
	    const uint8_t *end, uint32_t *k, const uint8_t **last)
{
	const struct lc_format *fmt = w->policy->fmt;
	const uint64_t max = w->policy->max_bytes ? w->policy->max_bytes : UINT64_MAX;
	const uint64_t at = s->file_bytes + s->used;
	const size_t room = LC_WRITER_BUF - s->used;
	const uint64_t until = period_end_ns(w, s);
	uint32_t *re = s->rec_end + s->nrec;
	size_t off = 0;
	uint32_t n = 0;

	while (rec + off < end && at + off <= max) {
		size_t len = lc_format_record_len(fmt, rec + off);

		if (off + len > room ||
		    (until != UINT64_MAX && fmt->record_ts(rec + off) >= until))
			break;
		if (s->ix != NULL)	/* while its bytes are in the cache */
			index_record(s->ix, fmt, rec + off, at + off);
		*last = rec + off;
		off += len;
		re[n++] = (uint32_t)(s->used + off);
	}
	*k = n;
	return off;
}

/*
 * -r: the records of rec..rec+len (just taken into the open file) keep the order of the files
 * read, whose times may go back. The file's bounds become its earliest and latest times (what
 * linecap-query picks files by), and a file whose times go back is not indexed: the index
 * is built for time order (linecap-query reads such a file whole, record by record).
 */
static void
note_unordered(struct lc_writer *w, struct lc_writer_shard *s, const uint8_t *rec, size_t len,
	       int first)
{
	const struct lc_format *fmt = w->policy->fmt;

	for (size_t off = 0; off < len; off += lc_format_record_len(fmt, rec + off)) {
		uint64_t ts = fmt->record_ts(rec + off);

		if (first) {
			s->file.first_ns = s->file.last_ns = s->prev_ns = ts;
			first = 0;
		}
		if (ts < s->prev_ns && s->ix != NULL && !lc_index_builder_abandoned(s->ix)) {
			lc_index_builder_abandon(s->ix);
			LC_LOG(NOTICE, "writer %u: %s: the records read go back in time here: this "
			       "file is not indexed (linecap-query reads it whole)", w->id,
			       s->file.part);
		}
		s->prev_ns = ts;
		if (ts < s->file.first_ns)
			s->file.first_ns = ts;
		if (ts > s->file.last_ns)
			s->file.last_ns = ts;
	}
}

/* Move the nrec records at rec (len bytes, whole records) into the shard's buffer, cutting
 * the file between records where -C says, flushing the buffer when it is full. */
static void
take_records(struct lc_writer *w, struct lc_writer_shard *s, const uint8_t *rec, uint32_t len,
	     uint32_t nrec)
{
	const struct lc_format *fmt = w->policy->fmt;
	const uint8_t *end = rec + len;

	while (rec < end) {
		const uint8_t *last = rec;
		uint32_t k;
		size_t run;

		if (unlikely(s->file.fd < 0)) {		/* no file: count and let go */
			__atomic_store_n(&s->c.write_errors, s->c.write_errors + nrec,
					 __ATOMIC_RELAXED);
			return;
		}
		run = fitting_run(w, s, rec, end, &k, &last);
		if (k == 0) {
			uint64_t ts = fmt->record_ts(rec);

			if (w->policy->rotate_secs && ts >= period_end_ns(w, s))
				rotate(w, s, period_of(w, ts));	/* its period is over */
			else if (s->used + lc_format_record_len(fmt, rec) > LC_WRITER_BUF)
				flush(w, s, 0);		/* the buffer is full */
			else if (!s->fresh)
				rotate(w, s, period_now(w, s));	/* the file is (-C) */
			else {	/* a header alone past -C: the record goes in all the same */
				if (s->ix != NULL)
					index_record(s->ix, fmt, rec, s->file_bytes + s->used);
				run = lc_format_record_len(fmt, rec);
				last = rec;
				k = 1;
				s->rec_end[s->nrec] = (uint32_t)(s->used + run);
			}
			if (k == 0)
				continue;
		}
		memcpy(s->buf + s->used, rec, run);
		if (unlikely(w->policy->unordered)) {
			note_unordered(w, s, rec, run, s->fresh);
		} else {
			if (unlikely(s->fresh))
				s->file.first_ns = fmt->record_ts(rec);
			s->file.last_ns = fmt->record_ts(last);
		}
		s->fresh = 0;
		s->used += run;
		s->nrec += k;
		nrec -= k;
		rec += run;
	}
}

/* The queue is over half full. Where the writer waited for the disk since the last look
 * (every INDEX_LOOK_MS), the disk is the limit and the index costs nothing; where it did not,
 * the writer's CPU is, the index's part of it included: the index of the open file yields
 * (that file is queryable by scan) so that indexing never costs a packet. */
static void
index_check(struct lc_writer *w, struct lc_writer_shard *s)
{
	uint64_t now = rte_rdtsc();

	if (lc_index_builder_abandoned(s->ix) ||
	    now - s->ix_look_tsc < rte_get_tsc_hz() / 1000 * INDEX_LOOK_MS)
		return;
	s->ix_look_tsc = now;
	if (s->io.full_waits != s->ix_full_waits) {
		s->ix_full_waits = s->io.full_waits;
		return;
	}
	lc_index_builder_abandon(s->ix);
	LC_LOG(WARNING, "writer %u: %s: the buffer is over half full and the writer is not "
	       "waiting for the disk: this file is not indexed (linecap-query reads it whole)",
	       w->id, s->file.part);
}

unsigned int
lc_writer_poll_shard(struct lc_writer *w, struct lc_writer_shard *s)
{
	struct lc_chunk *chunks[LC_WRITER_CHUNKS];
	unsigned int n, pkts = 0;
	uint64_t c0, w0;

	n = rte_ring_sc_dequeue_burst(s->q->full, (void **)chunks, LC_WRITER_CHUNKS, NULL);
	if (n == 0)
		return 0;
	c0 = lc_thread_cycles();
	w0 = s->c.wait_cycles;
	if (s->ix != NULL && unlikely(lc_queue_in_use(s->q) > s->q->nchunks / 2))
		index_check(w, s);
	for (unsigned int i = 0; i < n; i++) {
		if (w->feeds != NULL)	/* never waits: a full feed is the feed's loss */
			lc_feeds_offer(w->feeds, w->id, w->policy->fmt, chunks[i]->data,
				       chunks[i]->len);
		take_records(w, s, chunks[i]->data, chunks[i]->len, chunks[i]->nrec);
		pkts += chunks[i]->nrec;
	}
	/* Never fails: the stack has room for every chunk. */
	rte_stack_push(s->q->empty, (void *const *)chunks, n);
	maybe_rotate(w, s);
	add_cycles(s, c0, w0);
	return pkts;
}

int
lc_writer_close_shard(struct lc_writer *w, struct lc_writer_shard *s)
{
	uint64_t c0 = lc_thread_cycles(), w0 = s->c.wait_cycles;
	int rc = close_file(w, s);

	add_cycles(s, c0, w0);
	return rc;
}

/* True when every producer is done and every queue is empty. */
static int
all_drained(const struct lc_writer *w)
{
	for (unsigned int i = 0; i < w->nshards; i++)
		if (!lc_queue_drained(w->shards[i]->q))
			return 0;
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
		/* Idle: push buffered records out so files grow during quiet periods, cut files
		 * whose period ended, then nap so a writer sharing a CPU leaves it to others. */
		for (unsigned int i = 0; i < w->nshards; i++) {
			struct lc_writer_shard *s = w->shards[i];
			uint64_t c0 = lc_thread_cycles(), w0 = s->c.wait_cycles;

			if (s->used != 0 && rte_rdtsc() - s->last_flush_tsc > idle_flush)
				flush_idle(w, s);
			maybe_rotate(w, s);
			add_cycles(s, c0, w0);
		}
		usleep(IDLE_NAP_US);
	}
	for (unsigned int i = 0; i < w->nshards; i++) {
		/* Retention, run as this file is published, keeps no room for a next one. */
		__atomic_store_n(&w->shards[i]->c.last_file, 1, __ATOMIC_RELEASE);
		lc_writer_close_shard(w, w->shards[i]);
	}
	return 0;
}
