/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "linecap/capture.h"
#include "clock.h"
#include "custody.h"
#include "feed_tap.h"
#include "linecap/verify.h"
#include "filter_set.h"
#include "log.h"
#include "postcmd.h"
#include "readsrc.h"
#include "rx.h"
#include "writer.h"
#include "capture_priv.h"

#define REPLAY_IDLE_S 2.0		/* a finite replay that makes no progress this long is over */

int
lc_capture_fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static int
assign_lcores(struct lc_capture *cap, char *err, size_t errlen)
{
	unsigned int ids[RTE_MAX_LCORE], n = 0, lcore;

	RTE_LCORE_FOREACH_WORKER(lcore)
		ids[n++] = lcore;
	if (n < cap->nq + cap->nw)
		return lc_capture_fail(-EINVAL, err, errlen, "%u queue%s and %u writer%s need %u worker "
			    "lcores, EAL has %u (check --eal)", cap->nq, cap->nq == 1 ? "" : "s",
			    cap->nw, cap->nw == 1 ? "" : "s", cap->nq + cap->nw, n);
	for (unsigned int q = 0; q < cap->nq; q++)
		cap->rx_lcore[q] = ids[q];
	for (unsigned int w = 0; w < cap->nw; w++)
		cap->wr_lcore[w] = ids[cap->nq + w];
	return 0;
}

/* RX queue q: its queue object (buffer and chunk rings, on the port's node) and the RX
 * lcore's state around it. */
static int
build_rx(struct lc_capture *cap, unsigned int q, char *err, size_t errlen)
{
	struct lc_rx_queue *rxq;
	int socket = cap->port.socket;

	cap->queue[q] = lc_queue_create(q, cap->plan->buffer_bytes, socket, err, errlen);
	if (cap->queue[q] == NULL)
		return -ENOMEM;
	cap->queue[q]->port = &cap->port_drops;
	rxq = rte_zmalloc_socket("lc_rxq", sizeof(*rxq), RTE_CACHE_LINE_SIZE, socket);
	if (rxq == NULL)
		return lc_capture_fail(-ENOMEM, err, errlen, "out of memory for RX queue %u", q);
	cap->rxq[q] = rxq;
	rxq->port_id = cap->port.port_id;
	rxq->queue_id = (uint16_t)q;
	rxq->q = cap->queue[q];
	rxq->fmt = lc_format_find(cap->cfg->format ? cap->cfg->format : "pcap");
	rxq->snaplen = cap->cfg->snaplen;
	rxq->flush_tsc = rte_get_tsc_hz() / 1000 * LC_RX_FLUSH_MS;
	rxq->clock = &cap->clock;
	rxq->stop = &cap->stop;
	rxq->budget = cap->cfg->count ? &cap->budget : NULL;
	return 0;
}

/* The port's drops, for the writers' file records (main lcore, each tick). */
static void
publish_port_drops(struct lc_capture *cap)
{
	struct lc_port_counters pc;

	lc_port_counters(&cap->port, &pc);
	__atomic_store_n(&cap->port_drops.imissed, pc.imissed, __ATOMIC_RELAXED);
	__atomic_store_n(&cap->port_drops.rx_nombuf, pc.rx_nombuf, __ATOMIC_RELAXED);
}

static void
say_repair(void *arg, const char *line)
{
	(void)arg;
	LC_LOG(NOTICE, "%s", line);
}

/* Files an earlier capture left cut (.part: killed, power lost) are finished before this one
 * starts, as linecap-verify --repair would: we hold the directory's lock, so no capture is
 * writing them. */
static void
finish_cut_files(struct lc_capture *cap)
{
	struct lc_verify_summary sum;
	int n = lc_verify_repair(cap->out->dir, say_repair, NULL, &sum);

	if (sum.repaired)
		LC_LOG(NOTICE, "%u file%s cut by an earlier capture finished and recorded",
		       sum.repaired, sum.repaired == 1 ? "" : "s");
	if (n > 0)
		LC_LOG(WARNING, "%d cut file%s could not be repaired (linecap-verify %s says why)",
		       n, n == 1 ? "" : "s", cap->out->dir);
}

static void
publish_filter(struct lc_capture *cap)
{
	unsigned int n;
	const struct lc_filter_era *h = lc_filter_set_history(cap->filters, &n);

	/* Pairs with the acquire load in the writers' open_file(). */
	__atomic_store_n(&cap->filter_now, n ? h[n - 1].expr : NULL, __ATOMIC_RELEASE);
	if (cap->custody != NULL && n > 0)
		lc_custody_filter(cap->custody, h[n - 1].expr, h[n - 1].engine,
				  h[n - 1].since_ns);
}

/* -z: a closed file is held (it is still .part) and queued for its command once its writer
 * has named it; custody first each time, as without -z. */
static void
closed_for_postcmd(void *arg, struct lc_closed_file *cf)
{
	struct lc_capture *cap = arg;

	if (cf->rc == 0)
		lc_postcmd_hold(cap->postcmd, cf->path);
	lc_custody_file_closed(cap->custody, cf);
}

static void
published_for_postcmd(void *arg)
{
	struct lc_capture *cap = arg;

	lc_postcmd_publish(cap->postcmd);	/* queued while it is surely there */
	lc_custody_make_room(cap->custody);
}

static unsigned int
disk_full_for_postcmd(void *arg)
{
	return lc_custody_disk_full(((struct lc_capture *)arg)->custody);
}

static int
build_writers(struct lc_capture *cap, char *err, size_t errlen)
{
	const struct lc_config *cfg = cap->cfg;
	int socket = cap->port.socket;
	int rc;

	cap->period = lc_capture_period(cfg);
	cap->policy = (struct lc_writer_policy){
		.fmt = lc_format_find(cfg->format ? cfg->format : "pcap"),
		.unordered = cap->read != NULL,
		.max_bytes = cfg->file_bytes,
		.period = cfg->rotate_secs ? &cap->period : NULL,
		.rotate_secs = cfg->rotate_secs,
		.fsync_tsc = cfg->fsync_ms * (rte_get_tsc_hz() / 1000),
		.direct = 1,
		.index_mem = cfg->no_index ? 0 : LC_CAPTURE_INDEX_MEM,
		.port_name = lc_capture_source_name(cap),
		.clock = lc_capture_clock_words(cap),
		.filter_now = &cap->filter_now,
		.on_closed = lc_custody_file_closed,
		.on_published = lc_custody_make_room,
		.on_disk_full = lc_custody_disk_full,
		.on_closed_arg = cap->custody,
	};
	if (cap->postcmd != NULL) {
		cap->policy.on_closed = closed_for_postcmd;
		cap->policy.on_published = published_for_postcmd;
		cap->policy.on_disk_full = disk_full_for_postcmd;
		cap->policy.on_closed_arg = cap;
	}
	for (unsigned int w = 0; w < cap->nw; w++) {
		cap->writer[w] = rte_zmalloc_socket("lc_writer", sizeof(struct lc_writer),
						    RTE_CACHE_LINE_SIZE, socket);
		if (cap->writer[w] == NULL)
			return lc_capture_fail(-ENOMEM, err, errlen, "out of memory for writer %u", w);
		cap->writer[w]->id = w;
		cap->writer[w]->out = cap->out;
		cap->writer[w]->policy = &cap->policy;
		cap->writer[w]->snaplen = lc_capture_header_snaplen(cap);
	}
	for (unsigned int q = 0; q < cap->nq; q++) {
		struct lc_writer *w = cap->writer[q % cap->nw];

		cap->shard[q] = rte_zmalloc_socket("lc_shard", sizeof(struct lc_writer_shard),
						   RTE_CACHE_LINE_SIZE, socket);
		if (cap->shard[q] == NULL)
			return lc_capture_fail(-ENOMEM, err, errlen, "out of memory for shard %u", q);
		rte_cpuset_t cpus = rte_lcore_cpuset(cap->wr_lcore[q % cap->nw]);

		rc = lc_writer_shard_init(w, cap->shard[q], cap->queue[q], cap->plan->first_seq[q],
					  (time_t)cap->period, socket, &cpus, err, errlen);
		if (rc < 0)
			return rc;
		w->shards[w->nshards++] = cap->shard[q];
	}
	return 0;
}

/*
 * For retention, from any lcore: bytes in files being written. With -C an open file is
 * counted at the most it can reach (the limit plus the burst that crosses it), every queue
 * as if it had one, so a bound also holds while a writer is between two files.
 */
static uint64_t
open_bytes(void *arg, unsigned int *open)
{
	const struct lc_capture *cap = arg;
	uint64_t total = 0;
	uint64_t most = cap->cfg->file_bytes ?
		cap->cfg->file_bytes + lc_capture_file_margin(cap->cfg) : 0;

	/* Once the writers are done every file is closed: the retention pass at the end must
	 * not keep room for files that will not be written (-W N would end with N - 1). */
	if (!__atomic_load_n(&cap->running, __ATOMIC_ACQUIRE))
		return 0;
	for (unsigned int q = 0; q < cap->nq; q++) {
		struct lc_writer_counters c;

		lc_writer_read(cap->shard[q], &c);
		if (c.last_file) {	/* its last file: counted as it is, none after it */
			total += c.open_bytes;
			open[q] = c.open_bytes != 0;	/* 0 once closed: -W N ends with N */
			continue;
		}
		total += most > c.open_bytes ? most : c.open_bytes;
		open[q] = 1;
	}
	return total;
}

/* The port to capture from: -r's net_ring port over its files, or the one EAL probed for -i.
 * 0 or -errno with err. */
static int
find_source(struct lc_capture *cap, uint16_t *port_id, char *err, size_t errlen)
{
	if (cap->plan->read == NULL)
		return lc_port_find(&cap->plan->port, port_id, err, errlen);
	cap->read = lc_readsrc_create(cap->plan->read, (int)rte_socket_id(), port_id, err, errlen);
	return cap->read != NULL ? 0 : -errno;
}

struct lc_capture *
lc_capture_create(const struct lc_config *cfg, const struct lc_capture_plan *plan,
		  const struct lc_outpath *out, char *err, size_t errlen)
{
	struct lc_capture *cap;
	uint16_t port_id;
	int rc;

	cap = calloc(1, sizeof(*cap));
	if (cap == NULL) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	cap->cfg = cfg;
	cap->dir_lock = -1;
	cap->plan = plan;
	cap->out = out;
	cap->nq = plan->queues;
	cap->nw = plan->writers;
	cap->budget = (int64_t)cfg->count;
	lc_clock_init(&cap->clock);

	rc = assign_lcores(cap, err, errlen);
	if (rc < 0)
		goto fail;
	rc = find_source(cap, &port_id, err, errlen);
	if (rc < 0)
		goto fail;
	rc = lc_port_setup(&cap->port, port_id, cap->nq, plan->mbufs, cap->read == NULL &&
			   (!cfg->timestamps || strcmp(cfg->timestamps, "tsc") != 0), err, errlen);
	rc = lc_port_after_setup(&cap->port, &plan->port, cfg, plan->mbufs, rc, err, errlen);
	if (rc == 0)
		rc = lc_capture_choose_timestamps(cap, err, errlen);
	if (rc < 0)
		goto fail;
	for (unsigned int q = 0; q < cap->nq; q++) {
		rc = build_rx(cap, q, err, errlen);
		if (rc < 0)
			goto fail;
	}
	if (cap->read != NULL && (rc = lc_capture_file_timestamps(cap, err, errlen)) < 0)
		goto fail;
	cap->filters = lc_filter_set_create(cap->rxq, cap->nq, cap->port.socket,
					    cfg->filter_engine, cfg->snaplen);
	if (cap->filters == NULL) {
		rc = lc_capture_fail(-errno, err, errlen, "cannot set up the filters: %s", strerror(errno));
		goto fail;
	}
	rc = lc_filter_set_change(cap->filters, cfg->filter, err, errlen);
	if (rc < 0)
		goto fail;
	publish_filter(cap);
	rc = lc_outpath_prepare(out, &cap->made, err, errlen);
	if (rc == 0)
		rc = lc_outpath_lock(out->dir, &cap->dir_lock, err, errlen);
	if (rc == 0 && cap->made.dir && !lc_outpath_made_is(&cap->made, cap->dir_lock))
		rc = lc_capture_fail(-ELOOP, err, errlen, "%s: replaced by something else just "
				     "after being created (refusing to write there)", out->dir);
	if (rc < 0)
		goto fail;
	finish_cut_files(cap);
	cap->custody = lc_custody_open(cfg, out, lc_capture_source_name(cap), open_bytes, cap, err,
				       errlen);
	if (cap->custody == NULL) {
		rc = -errno;
		goto fail;
	}
	publish_filter(cap);	/* now that custody keeps the history too */
	lc_custody_set_clock(cap->custody, cap->read ? "file" : cap->hw_ts ? "hw" : "tsc");
	if (cfg->postrotate_cmd != NULL) {
		struct lc_postcmd_params pp = {
			.command = cfg->postrotate_cmd, .jobs = cfg->postrotate_jobs,
			.timeout_ms = (uint64_t)cfg->postrotate_timeout * 1000u,
		};

		cap->postcmd = lc_postcmd_create(&pp, err, errlen);
		if (cap->postcmd == NULL) {
			rc = -errno;
			goto fail;
		}
	}
	rc = build_writers(cap, err, errlen);
	if (rc < 0)
		goto fail;
	rc = lc_port_start(&cap->port, err, errlen);
	if (rc < 0)
		goto fail;
	if (cap->hw_ts) {
		rc = lc_capture_start_hw_clock(cap, err, errlen);
		if (rc < 0)
			goto fail;
	}
	return cap;
fail:
	lc_capture_free(cap);
	errno = -rc;
	return NULL;
}

void
lc_capture_stats(const struct lc_capture *cap, struct lc_stats *s)
{
	struct lc_port_counters pc;
	uint64_t end = cap->end_tsc ? cap->end_tsc : rte_rdtsc();

	memset(s, 0, sizeof(*s));
	s->nq = cap->nq;
	for (unsigned int q = 0; q < cap->nq; q++) {
		struct lc_queue_counters rc;
		struct lc_writer_counters wc;

		lc_queue_read(cap->queue[q], &rc);
		lc_writer_read(cap->shard[q], &wc);
		s->q[q] = (struct lc_queue_stats){
			.queue = q,
			.received = rc.received,
			.passed = rc.passed,
			.filtered = rc.received - rc.passed,
			.buffer_full = rc.buffer_full,
			.written = wc.written,
			.written_bytes = wc.written_bytes,
			.write_errors = wc.write_errors,
			.files = wc.files,
			.rx_cycles = rc.cycles,
			.writer_cycles = wc.cycles,
			.writer_wait_cycles = wc.wait_cycles,
			.io_hash_cycles = wc.hash_cycles,
			.io_write_cycles = wc.write_cycles,
		};
	}
	lc_stats_sum(s);
	s->nfeeds = lc_feeds_stats(cap->feeds, s->feeds);
	s->filters = cap->filters ? lc_filter_set_history(cap->filters, &s->nfilters) : NULL;
	lc_port_counters(&cap->port, &pc);
	s->imissed = pc.imissed;
	s->rx_nombuf = pc.rx_nombuf;
	s->ierrors = pc.ierrors;
	s->seconds = cap->start_tsc ? (double)(end - cap->start_tsc) / rte_get_tsc_hz() : 0;
	const struct lc_clock *clk = cap->hw_ts ? &cap->hwclock : &cap->clock;

	s->ts_source = cap->read ? "file" : cap->hw_ts ? "hw" : "tsc";
	if (cap->read != NULL) {
		s->read_total = cap->plan->read->bytes;
		s->read_bytes = lc_readsrc_bytes(cap->read);
	}
	if (cap->postcmd != NULL) {
		struct lc_postcmd_counts pc;

		lc_postcmd_counts(cap->postcmd, &pc);
		s->postrotate = 1;
		s->postrotate_run = pc.run;
		s->postrotate_failed = pc.failed;
		s->postrotate_timed_out = pc.timed_out;
	}
	s->clock_refreshes = __atomic_load_n(&clk->refreshes, __ATOMIC_RELAXED);
	s->clock_steps = __atomic_load_n(&clk->steps, __ATOMIC_RELAXED);
	s->clock_max_offset_ns = __atomic_load_n(&clk->max_offset_ns, __ATOMIC_RELAXED);
}

size_t
lc_capture_write_bytes(void)
{
	return LC_WRITER_BUF;
}

uint32_t
lc_capture_link_mbps(const struct lc_capture *cap)
{
	return lc_port_link_mbps(&cap->port);
}

const struct lc_config *
lc_capture_config(const struct lc_capture *cap)
{
	return cap->cfg;
}

/* A finite replay (net_pcap without infinite_rx) is over when every packet of its files
 * was received or lost, or nothing has moved for a while; -r when every record its reader
 * read was received. */
static bool
finite_replay(const struct lc_capture *cap, uint64_t *expected)
{
	*expected = 0;
	if (cap->read != NULL)
		return true;	/* known once the reader is done */
	if (!cap->plan->port.is_pcap_replay || cap->plan->port.infinite)
		return false;
	for (unsigned int q = 0; q < cap->nq; q++)
		*expected += cap->plan->port.file_packets[q];
	return true;
}

static void
stop_and_drain(struct lc_capture *cap)
{
	__atomic_store_n(&cap->stop, 1, __ATOMIC_RELAXED);
	for (unsigned int q = 0; q < cap->nq; q++)
		rte_eal_wait_lcore(cap->rx_lcore[q]);
	cap->end_tsc = rte_rdtsc();
	/* The port's final drops first, for the last files' records; then the writers may
	 * finish (pairs with the acquire in lc_queue_drained: every chunk is visible). */
	publish_port_drops(cap);
	lc_readsrc_stop(cap->read);	/* what RX left in its ring goes back to the pool */
	for (unsigned int q = 0; q < cap->nq; q++)
		__atomic_store_n(&cap->queue[q]->done, 1, __ATOMIC_RELEASE);
	for (unsigned int w = 0; w < cap->nw; w++)
		rte_eal_wait_lcore(cap->wr_lcore[w]);
	__atomic_store_n(&cap->running, 0, __ATOMIC_RELEASE);
}

int
lc_capture_set_filter(struct lc_capture *cap, const char *expr, char *err, size_t errlen)
{
	int rc = lc_filter_set_change(cap->filters, expr, err, errlen);
	const char *now = lc_filter_set_expr(cap->filters);

	/* Only a change that took effect is a new era: a refused one changes nothing that the
	 * writers or custody know (custody would record the filter in force a second time). */
	if (rc == 0)
		publish_filter(cap);
	if (rc < 0)
		LC_LOG(WARNING, "filter change refused, '%s' stays: %s", now, err);
	else if (*now != '\0')
		LC_LOG(NOTICE, "filter now '%s' (engine %s, self-checked)", now,
		       lc_filter_set_engine(cap->filters));
	else
		LC_LOG(NOTICE, "filter removed: every packet is kept");
	return rc;
}

/* SIGHUP: the -F file again. */
static void
reload_filter_file(struct lc_capture *cap)
{
	char err[LC_ERRLEN];
	char *expr;

	if (cap->cfg->filter_file == NULL) {
		LC_LOG(WARNING, "SIGHUP: no filter file (-F) to re-read; filter unchanged");
		return;
	}
	if (lc_filter_read_file(cap->cfg->filter_file, &expr, err, sizeof(err)) < 0) {
		LC_LOG(WARNING, "SIGHUP: %s; filter unchanged", err);
		return;
	}
	lc_capture_set_filter(cap, expr, err, sizeof(err));
	free(expr);
}

/* Launch the writers, then the RX lcores. -errno with err when a writer cannot start
 * (nothing runs then); an RX queue that cannot start is logged and stops the capture. */
static int
launch(struct lc_capture *cap, char *err, size_t errlen)
{
	for (unsigned int w = 0; w < cap->nw; w++) {
		int rc = rte_eal_remote_launch(lc_writer_main, cap->writer[w], cap->wr_lcore[w]);

		if (rc != 0) {
			/* Writers already running drain what RX never sends: nothing. */
			for (unsigned int q = 0; q < cap->nq; q++)
				__atomic_store_n(&cap->queue[q]->done, 1, __ATOMIC_RELEASE);
			for (unsigned int v = 0; v < w; v++)
				rte_eal_wait_lcore(cap->wr_lcore[v]);
			cap->running = 0;
			return lc_capture_fail(rc, err, errlen, "cannot launch writer %u on lcore %u: "
					       "%s", w, cap->wr_lcore[w], strerror(-rc));
		}
	}
	for (unsigned int q = 0; q < cap->nq; q++) {
		int rc = rte_eal_remote_launch(lc_rx_main, cap->rxq[q], cap->rx_lcore[q]);

		if (rc != 0) {
			/* This queue never runs: its writer must not wait for it. */
			__atomic_store_n(&cap->queue[q]->done, 1, __ATOMIC_RELEASE);
			__atomic_store_n(&cap->stop, 1, __ATOMIC_RELAXED);
			LC_LOG(ERR, "cannot launch RX queue %u on lcore %u: %s", q,
			       cap->rx_lcore[q], strerror(-rc));
		}
	}
	if (cap->read != NULL) {
		int rc = lc_readsrc_start(cap->read, cap->port.pool, cap->read_ts_offset,
					  cap->read_ts_flag);

		if (rc < 0) {
			__atomic_store_n(&cap->stop, 1, __ATOMIC_RELAXED);
			LC_LOG(ERR, "-r: cannot start the reader: %s", strerror(-rc));
		}
	}
	return 0;
}

/* Where the main lcore stands in its watch: when it last saw progress and spoke. */
struct watch {
	bool finite;			/* a finite replay, of expected packets */
	uint64_t expected;
	uint64_t last_status, last_progress, last_received;
	struct lc_stats prev;
};

/* Is a finite replay over: every packet received or lost, or no progress for a while? */
static bool
replay_over(struct lc_capture *cap, struct watch *wt, uint64_t t)
{
	struct lc_stats now;

	/* -r: over once the reader read its last record and RX took it (no idle limit: a
	 * reader may wait for a slow disk as long as it takes). */
	if (cap->read != NULL && !lc_readsrc_done(cap->read, &wt->expected))
		return false;
	lc_capture_stats(cap, &now);
	if (now.received + now.rx_nombuf + now.ierrors >= wt->expected)
		return true;
	if (cap->read != NULL)
		return false;
	if (now.received != wt->last_received) {
		wt->last_received = now.received;
		wt->last_progress = t;
		return false;
	}
	return (double)(t - wt->last_progress) / rte_get_tsc_hz() > REPLAY_IDLE_S;
}

/* One tick of the main lcore at TSC t: signals, hooks, clocks, limits. True: stop now. */
static bool
tick(struct lc_capture *cap, const struct lc_capture_signals *sig,
     const struct lc_capture_hooks *hooks, struct watch *wt, uint64_t t)
{
	const uint64_t hz = rte_get_tsc_hz();

	if (*sig->stop)
		return true;
	if (sig->reload != NULL && *sig->reload) {
		*sig->reload = 0;
		reload_filter_file(cap);
	}
	if (hooks->tick != NULL)
		hooks->tick(cap, hooks->arg);
	publish_port_drops(cap);
	if (cap->cfg->rotate_secs)
		__atomic_store_n(&cap->period, lc_capture_period(cap->cfg), __ATOMIC_RELAXED);
	lc_custody_retain(cap->custody);
	if ((cap->cfg->duration_ms && (t - cap->start_tsc) * 1000 / hz >= cap->cfg->duration_ms) ||
	    (cap->cfg->count && __atomic_load_n(&cap->budget, __ATOMIC_RELAXED) <= 0) ||
	    (wt->finite && replay_over(cap, wt, t)))
		return true;
	if (t - wt->last_status >= hz) {
		double dt = (double)(t - wt->last_status) / hz;
		struct lc_stats now;

		lc_clock_refresh(&cap->clock);
		if (cap->hw_ts)
			lc_capture_refresh_hw_clock(cap);
		lc_capture_stats(cap, &now);
		lc_capture_each_second(cap, &now, &wt->prev, dt, hooks);
		wt->prev = now;
		wt->last_status = t;
	}
	return false;
}

/* -r, the reader stopped: each file read, its hash, size and records, into the manifest and
 * (up to a few) the log. */
static void
record_sources(struct lc_capture *cap)
{
	const struct lc_read_plan *rp = cap->plan->read;
	uint64_t bytes = 0, records = 0;
	unsigned int n = 0;

	for (unsigned int i = 0; i < rp->n; i++) {
		const struct lc_read_result *r = lc_readsrc_result(cap->read, i);

		if (r->how == NULL)
			continue;	/* never reached */
		lc_custody_source(cap->custody, rp->paths[i], r->sha256, r->bytes, r->records,
				  r->how);
		if (rp->n <= 4)
			LC_LOG(NOTICE, "read %s: %" PRIu64 " records, %" PRIu64 " bytes (%s), "
			       "SHA-256 %s", lc_read_shown(rp->paths[i]), r->records, r->bytes,
			       r->how, r->sha256);
		bytes += r->bytes;
		records += r->records;
		n++;
	}
	if (rp->n > 4)
		LC_LOG(NOTICE, "read %u of %u files: %" PRIu64 " records, %" PRIu64 " bytes; each "
		       "file's SHA-256 in the manifest", n, rp->n, records, bytes);
}

int
lc_capture_run(struct lc_capture *cap, const struct lc_capture_signals *sig,
	       const struct lc_capture_hooks *hooks, char *err, size_t errlen)
{
	static const struct lc_capture_hooks none;
	struct watch wt = { .last_received = UINT64_MAX };
	int rc;

	if (hooks == NULL)
		hooks = &none;
	wt.finite = finite_replay(cap, &wt.expected);
	/* -z: its thread starts now, after -Z dropped root (commands run as the user). */
	if (cap->postcmd != NULL && (rc = lc_postcmd_start(cap->postcmd, err, errlen)) < 0)
		return rc;
	cap->start_tsc = rte_rdtsc();
	cap->running = 1;
	rc = launch(cap, err, errlen);
	if (rc < 0)
		return rc;
	wt.last_status = wt.last_progress = cap->start_tsc;
	lc_capture_stats(cap, &wt.prev);
	cap->status_prev = wt.prev;
	do {
		usleep(TICK_US);
	} while (!tick(cap, sig, hooks, &wt, rte_rdtsc()));
	stop_and_drain(cap);
	if (cap->read != NULL)
		record_sources(cap);
	lc_custody_retain(cap->custody);
	if (cap->postcmd != NULL)	/* every file closed: wait for their commands */
		lc_postcmd_drain(cap->postcmd);
	for (unsigned int w = 0; w < cap->nw; w++) {
		if (cap->writer[w]->rc != 0) {
			snprintf(err, errlen, "%s", cap->writer[w]->err);
			return cap->writer[w]->rc;
		}
	}
	if (cap->read != NULL && lc_readsrc_error(cap->read) != NULL)	/* what came before is written */
		return lc_capture_fail(-EIO, err, errlen, "%s", lc_readsrc_error(cap->read));
	return 0;
}

int
lc_capture_attach_feeds(struct lc_capture *cap, struct lc_feeds *feeds, char *err,
			size_t errlen)
{
	int rc = lc_feeds_attach(feeds, cap->nw, err, errlen);

	if (rc < 0)
		return rc;
	cap->feeds = feeds;
	for (unsigned int w = 0; w < cap->nw; w++)
		cap->writer[w]->feeds = feeds;
	return 0;
}

void
lc_capture_free(struct lc_capture *cap)
{
	if (cap == NULL)
		return;
	if (cap->running)
		stop_and_drain(cap);
	lc_postcmd_free(cap->postcmd);
	/* A capture that never ran leaves nothing behind: its first files are removed. */
	for (unsigned int q = 0; q < cap->nq; q++)
		if (cap->shard[q] != NULL && cap->start_tsc == 0)
			lc_shard_file_discard(&cap->shard[q]->file);
	lc_readsrc_stop(cap->read);	/* its ring holds mbufs of the pool */
	unsigned int total = cap->port.pool ? cap->port.pool->size : 0;
	unsigned int missing = lc_port_close(&cap->port);

	if (cap->start_tsc != 0 && missing == 0)
		LC_LOG(NOTICE, "all %u mbufs back in the pool", total);
	else if (cap->start_tsc != 0)
		LC_LOG(WARNING, "%u of %u mbufs never came back to the pool", missing, total);
	for (unsigned int q = 0; q < cap->nq; q++) {
		if (cap->shard[q] != NULL) {
			lc_writer_shard_release(cap->shard[q]);
			rte_free(cap->shard[q]);
		}
		lc_queue_free(cap->queue[q]);
	}
	lc_readsrc_free(cap->read);
	lc_filter_set_free(cap->filters);
	lc_custody_close(cap->custody);
	if (cap->dir_lock >= 0)
		close(cap->dir_lock);
	for (unsigned int q = 0; q < cap->nq; q++) {
		if (cap->rxq[q] != NULL) {
			rte_free(cap->rxq[q]);
		}
	}
	for (unsigned int w = 0; w < cap->nw; w++)
		rte_free(cap->writer[w]);
	free(cap);
}

const struct lc_filter_era *
lc_capture_filter_history(const struct lc_capture *cap, unsigned int *n)
{
	return lc_filter_set_history(cap->filters, n);
}
