/* SPDX-License-Identifier: BSD-3-Clause */
/* What the main lcore does once a second besides the clocks: the status line, load
 * warnings, and the snapshot telemetry answers from (capture_priv.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <rte_ring.h>

#include "custody.h"
#include "log.h"
#include "port.h"
#include "capture_priv.h"

void
lc_capture_live(struct lc_capture *cap, const struct lc_stats *now, const struct lc_stats *prev,
		 double dt, struct lc_live *live)
{
	memset(live, 0, sizeof(*live));
	live->now = *now;
	live->now.filters = NULL;	/* the history is the main lcore's; not copied */
	live->now.nfilters = 0;
	live->dt = dt;
	if (dt > 0) {
		live->rx_pps = (double)(now->received - prev->received) / dt;
		live->written_pps = (double)(now->written - prev->written) / dt;
		live->written_Bps = (double)(now->written_bytes - prev->written_bytes) / dt;
	}
	live->buffer_size = (uint64_t)cap->queue[0]->nchunks * LC_CHUNK_SIZE;
	live->nw = cap->nw;
	live->bytes_on_disk = lc_custody_bytes(cap->custody);
	for (unsigned int q = 0; q < cap->nq; q++) {
		const struct lc_writer_shard *s = cap->shard[q];
		uint32_t seq = __atomic_load_n(&s->file.seq, __ATOMIC_RELAXED);
		time_t when = __atomic_load_n(&s->file.period, __ATOMIC_RELAXED);
		char path[PATH_MAX];

		if (dt > 0) {
			live->q_rx_pps[q] = (double)(now->q[q].received - prev->q[q].received) / dt;
			live->q_written_pps[q] = (double)(now->q[q].written - prev->q[q].written) /
						 dt;
		}
		live->buffer_used[q] = (uint64_t)lc_queue_in_use(cap->queue[q]) * LC_CHUNK_SIZE;
		live->writer_of[q] = q % cap->nw;
		live->open_bytes[q] = __atomic_load_n(&s->c.open_bytes, __ATOMIC_RELAXED);
		live->bytes_on_disk += live->open_bytes[q];
		if (__atomic_load_n(&s->file.fd, __ATOMIC_RELAXED) >= 0 &&
		    lc_outpath_name(cap->out, q, seq, when, 1, path, sizeof(path)) == 0)
			snprintf(live->current[q], LC_LIVE_NAME, "%s", path);
	}
	lc_port_link_describe(&cap->port, live->link, sizeof(live->link));
	live->nxstats = lc_port_loss_xstats(&cap->port, live->xstat_name, live->xstat,
					    LC_LIVE_XSTATS);
}

/* Once a second: warn (at most once a minute each) about a buffer that stays over half full
 * and about RSS spreading load unevenly over the last BALANCE_S seconds. */
static void
watch_load(struct lc_capture *cap, const struct lc_stats *now)
{
	static const unsigned int full_s = 3;
	uint64_t delta[LC_QUEUES_MAX];
	unsigned int worst;
	double share;

	for (unsigned int q = 0; q < cap->nq; q++) {
		unsigned int used = lc_queue_in_use(cap->queue[q]);
		unsigned int all = cap->queue[q]->nchunks;

		cap->busy_s[q] = used * 2 > all ? cap->busy_s[q] + 1 : 0;
		if (cap->busy_s[q] >= full_s)
			LC_LOG_EVERY(60, WARNING, "queue %u: its buffer has been over half full for "
				     "%u s (%u of %u MiB): writer %u is not keeping up (a faster disk, "
				     "or more writers: --writers)", q, cap->busy_s[q],
				     used * (LC_CHUNK_SIZE >> 20), all * (LC_CHUNK_SIZE >> 20),
				     q % cap->nw);
	}
	for (unsigned int q = 0; q < cap->nq; q++) {
		delta[q] = now->q[q].received - cap->balance_at[q];
	}
	if (++cap->balance_s < BALANCE_S)
		return;
	if (lc_stats_uneven(delta, cap->nq, BALANCE_MIN_PACKETS, &worst, &share))
		LC_LOG_EVERY(60, WARNING, "RSS spreads load unevenly: queue %u received %.0f%% "
			     "of the packets of the last %u s (fair share %.0f%%)", worst,
			     share * 100, BALANCE_S, 100.0 / cap->nq);
	for (unsigned int q = 0; q < cap->nq; q++)
		cap->balance_at[q] = now->q[q].received;
	cap->balance_s = 0;
}

/* Once a second: a link that goes down or comes back, said (a kernel interface set down,
 * a cable pulled: the status lines alone showed 0 pps and nothing else). */
static void
watch_link(struct lc_capture *cap, double dt)
{
	char msg[192];

	if (lc_port_link_watch(&cap->port, dt, msg, sizeof(msg)))
		LC_LOG(NOTICE, "%s", msg);
}

/* Once a second on the main lcore, with the counters now and a second ago: the status line
 * (every --status-interval seconds, with rates over that interval), load warnings, and the
 * snapshot telemetry answers from. */
void
lc_capture_each_second(struct lc_capture *cap, const struct lc_stats *now,
		       const struct lc_stats *prev, double dt, const struct lc_capture_hooks *hooks)
{
	cap->status_dt += dt;
	if (hooks->status != NULL && cap->cfg->status_secs != 0 &&
	    cap->status_dt + 0.5 >= cap->cfg->status_secs) {
		hooks->status(now, &cap->status_prev, cap->status_dt, hooks->arg);
		cap->status_prev = *now;
		cap->status_dt = 0;
	}
	watch_load(cap, now);
	watch_link(cap, dt);
	lc_capture_live(cap, now, prev, dt, &cap->live);
	if (hooks->second != NULL)
		hooks->second(&cap->live, hooks->arg);
}

