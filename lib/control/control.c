/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include "linecap/capture.h"
#include "linecap/config.h"
#include "linecap/control.h"
#include "log.h"
#include "linecap/stats.h"

#define EXPR_MAX 1024
#define WAIT_S 10

/* The one capture this process serves, and the request slot between the telemetry thread
 * and the main lcore. Everything here is under lock. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct lc_capture *cap;
	int registered;
	int pending;		/* a request is in the slot */
	int taken;		/* the main lcore is carrying it out */
	int done;		/* its outcome is in rc/err */
	int abandoned;		/* its caller stopped waiting: the main lcore clears the slot */
	int rc;
	char expr[EXPR_MAX];
	char err[LC_ERRLEN];
	char current[EXPR_MAX];
	char engine[16];
} ctl = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* What the main lcore publishes each second, and the configuration, for the read-only
 * commands; under their own lock so reading never waits for a filter change. */
static struct {
	pthread_mutex_t lock;
	struct lc_live live;
	int have;		/* a snapshot was published since the capture started */
	unsigned int nitems;
	char key[LC_CONFIG_OPTS][32];
	char value[LC_CONFIG_OPTS][RTE_TEL_MAX_STRING_LEN];
} pub = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* One change request in flight at a time, from submission to reading its outcome. */
static pthread_mutex_t one_at_a_time = PTHREAD_MUTEX_INITIALIZER;

static void
describe(struct rte_tel_data *d)
{
	rte_tel_data_add_dict_string(d, "filter", ctl.current);
	rte_tel_data_add_dict_string(d, "engine", ctl.current[0] ? ctl.engine : "none");
}

static int
filter_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct timespec until;
	int rc = 0;

	(void)cmd;
	rte_tel_data_start_dict(d);
	if (params != NULL && strlen(params) >= EXPR_MAX) {
		rte_tel_data_add_dict_string(d, "error", "expression too long");
		return 0;
	}
	pthread_mutex_lock(&one_at_a_time);
	pthread_mutex_lock(&ctl.lock);
	if (ctl.cap == NULL) {
		rte_tel_data_add_dict_string(d, "error", "not capturing");
		goto out;
	}
	if (params == NULL || params[0] == '\0') {
		describe(d);
		goto out;
	}
	while (ctl.pending && ctl.cap != NULL)	/* an abandoned request still running */
		pthread_cond_wait(&ctl.cond, &ctl.lock);
	snprintf(ctl.expr, sizeof(ctl.expr), "%s", params);
	ctl.pending = 1;
	ctl.taken = ctl.done = ctl.abandoned = 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_S;
	while (!ctl.done && rc == 0 && ctl.cap != NULL)
		rc = pthread_cond_timedwait(&ctl.cond, &ctl.lock, &until);
	if (!ctl.done) {
		rte_tel_data_add_dict_string(d, "error", "the capture did not answer in time");
		if (ctl.taken)
			ctl.abandoned = 1;	/* the main lcore frees the slot when done */
		else
			ctl.pending = 0;	/* withdrawn before the main lcore saw it */
	} else {
		rte_tel_data_add_dict_int(d, "applied", ctl.rc == 0);
		if (ctl.rc != 0)
			rte_tel_data_add_dict_string(d, "error", ctl.err);
		describe(d);
		ctl.pending = 0;
	}
out:
	pthread_mutex_unlock(&ctl.lock);
	pthread_mutex_unlock(&one_at_a_time);
	return 0;
}

static void
refresh(struct lc_capture *cap)
{
	unsigned int n;
	const struct lc_filter_era *h = lc_capture_filter_history(cap, &n);

	snprintf(ctl.current, sizeof(ctl.current), "%s", n && h[n - 1].expr ? h[n - 1].expr : "");
	snprintf(ctl.engine, sizeof(ctl.engine), "%s", n && h[n - 1].engine ? h[n - 1].engine : "");
}

static void
add_u64(struct rte_tel_data *d, const char *name, uint64_t v)
{
	rte_tel_data_add_dict_u64(d, name, v);
}

/* Start a reply from the last snapshot; 0 when there is none yet (the reply says so). */
static int
begin(struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&pub.lock);
	if (!pub.have) {
		pthread_mutex_unlock(&pub.lock);
		rte_tel_data_add_dict_string(d, "error", "no statistics yet (the first come a "
					     "second after the start)");
		return 0;
	}
	return 1;
}

static int
stats_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct lc_live *l = &pub.live;
	const struct lc_stats *s = &l->now;
	struct rte_tel_data *drops;

	(void)cmd;
	(void)params;
	if (!begin(d))
		return 0;
	add_u64(d, "seconds", (uint64_t)s->seconds);
	add_u64(d, "received", s->received);
	add_u64(d, "passed_filter", s->passed);
	add_u64(d, "filtered_out", s->filtered);
	add_u64(d, "written", s->written);
	add_u64(d, "written_bytes", s->written_bytes);
	add_u64(d, "files_closed", s->files);
	add_u64(d, "bytes_on_disk", l->bytes_on_disk);
	add_u64(d, "received_pps", (uint64_t)l->rx_pps);
	add_u64(d, "written_pps", (uint64_t)l->written_pps);
	add_u64(d, "written_bytes_per_s", (uint64_t)l->written_Bps);
	drops = rte_tel_data_alloc();
	if (drops != NULL) {
		rte_tel_data_start_dict(drops);
		add_u64(drops, "buffer_full", s->buffer_full);
		add_u64(drops, "write_errors", s->write_errors);
		add_u64(drops, "port_imissed", s->imissed);
		add_u64(drops, "port_rx_nombuf", s->rx_nombuf);
		add_u64(drops, "port_ierrors", s->ierrors);
		rte_tel_data_add_dict_container(d, "drops", drops, 0);
	}
	pthread_mutex_unlock(&pub.lock);
	return 0;
}

static int
queues_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct lc_live *l = &pub.live;

	(void)cmd;
	(void)params;
	if (!begin(d))
		return 0;
	for (unsigned int q = 0; q < l->now.nq; q++) {
		const struct lc_queue_stats *s = &l->now.q[q];
		struct rte_tel_data *c = rte_tel_data_alloc();
		char name[16];

		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		add_u64(c, "received", s->received);
		add_u64(c, "passed_filter", s->passed);
		add_u64(c, "filtered_out", s->filtered);
		add_u64(c, "buffer_full", s->buffer_full);
		add_u64(c, "buffer_used", l->buffer_used[q]);
		add_u64(c, "buffer_size", l->buffer_size);
		add_u64(c, "written", s->written);
		add_u64(c, "written_bytes", s->written_bytes);
		add_u64(c, "write_errors", s->write_errors);
		add_u64(c, "received_pps", (uint64_t)l->q_rx_pps[q]);
		add_u64(c, "written_pps", (uint64_t)l->q_written_pps[q]);
		add_u64(c, "writer", l->writer_of[q]);
		snprintf(name, sizeof(name), "q%u", q);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	pthread_mutex_unlock(&pub.lock);
	return 0;
}

static int
writers_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct lc_live *l = &pub.live;

	(void)cmd;
	(void)params;
	if (!begin(d))
		return 0;
	for (unsigned int w = 0; w < l->nw; w++) {
		struct rte_tel_data *c = rte_tel_data_alloc();
		uint64_t written = 0, bytes = 0, errors = 0, files = 0, open = 0;
		char name[16];

		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		for (unsigned int q = 0; q < l->now.nq; q++) {
			const struct lc_queue_stats *s = &l->now.q[q];

			if (l->writer_of[q] != w)
				continue;
			written += s->written;
			bytes += s->written_bytes;
			errors += s->write_errors;
			files += s->files;
			open += l->open_bytes[q];
			snprintf(name, sizeof(name), "file_q%u", q);
			rte_tel_data_add_dict_string(c, name, l->current[q]);
		}
		add_u64(c, "written", written);
		add_u64(c, "written_bytes", bytes);
		add_u64(c, "write_errors", errors);
		add_u64(c, "files_closed", files);
		add_u64(c, "open_bytes", open);
		snprintf(name, sizeof(name), "w%u", w);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	pthread_mutex_unlock(&pub.lock);
	return 0;
}

static int
port_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct lc_live *l = &pub.live;

	(void)cmd;
	(void)params;
	if (!begin(d))
		return 0;
	rte_tel_data_add_dict_string(d, "link", l->link);
	add_u64(d, "imissed", l->now.imissed);
	add_u64(d, "rx_nombuf", l->now.rx_nombuf);
	add_u64(d, "ierrors", l->now.ierrors);
	for (unsigned int i = 0; i < l->nxstats; i++)
		add_u64(d, l->xstat_name[i], l->xstat[i]);
	pthread_mutex_unlock(&pub.lock);
	return 0;
}

/* /linecap/feeds: per feed its counters and its clients (connected first). */
static int
feeds_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct lc_stats *s = &pub.live.now;

	(void)cmd;
	(void)params;
	if (!begin(d))
		return 0;
	for (unsigned int i = 0; i < s->nfeeds; i++) {
		const struct lc_feed_stats *f = &s->feeds[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		char name[16];

		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "feed", f->name);
		rte_tel_data_add_dict_string(c, "filter", f->filter);
		add_u64(c, "sent", f->sent);
		add_u64(c, "sent_bytes", f->sent_bytes);
		add_u64(c, "feed_drops", f->drops);
		add_u64(c, "ring_drops", f->ring_drops);
		add_u64(c, "unsent_at_close", f->unsent);
		add_u64(c, "clients_now", f->clients_now);
		add_u64(c, "clients", f->clients);
		add_u64(c, "refused", f->refused);
		for (unsigned int k = 0; k < f->nshown; k++) {
			struct rte_tel_data *cl = rte_tel_data_alloc();

			if (cl == NULL)
				break;
			rte_tel_data_start_dict(cl);
			rte_tel_data_add_dict_string(cl, "peer", f->shown[k].peer);
			add_u64(cl, "sent", f->shown[k].sent);
			add_u64(cl, "feed_drops", f->shown[k].drops);
			rte_tel_data_add_dict_string(cl, "state", f->shown[k].connected ?
						     "connected" : f->shown[k].ended);
			snprintf(name, sizeof(name), "client%u", k);
			rte_tel_data_add_dict_container(c, name, cl, 0);
		}
		snprintf(name, sizeof(name), "feed%u", i);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	pthread_mutex_unlock(&pub.lock);
	return 0;
}

static int
config_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&pub.lock);
	for (unsigned int i = 0; i < pub.nitems; i++)
		rte_tel_data_add_dict_string(d, pub.key[i], pub.value[i]);
	pthread_mutex_unlock(&pub.lock);
	return 0;
}

static const struct {
	const char *name;
	telemetry_cb fn;
	const char *help;
} commands[] = {
	{ "/linecap/filter", filter_cmd, "Shows the capture filter; with a parameter, puts that "
	  "tcpdump expression in force" },
	{ "/linecap/stats", stats_cmd, "Totals, rates over the last second, drops by reason, "
	  "bytes on disk" },
	{ "/linecap/queues", queues_cmd, "Per RX queue: counters, buffer use, rates" },
	{ "/linecap/writers", writers_cmd, "Per writer: counters and the files open now" },
	{ "/linecap/port", port_cmd, "Link and the port's loss counters (xstats)" },
	{ "/linecap/feeds", feeds_cmd, "Live feeds (--feed): counters, clients and their drops" },
	{ "/linecap/config", config_cmd, "The configuration in effect" },
};

int
lc_control_snapshot(struct lc_live *out)
{
	int have;

	pthread_mutex_lock(&pub.lock);
	have = pub.have;
	if (have)
		*out = pub.live;
	pthread_mutex_unlock(&pub.lock);
	return have;
}

void
lc_control_publish(const struct lc_live *live)
{
	pthread_mutex_lock(&pub.lock);
	pub.live = *live;
	pub.have = 1;
	pthread_mutex_unlock(&pub.lock);
}

int
lc_control_start(struct lc_capture *cap)
{
	const struct lc_config *cfg = lc_capture_config(cap);
	struct lc_config_item it;
	int rc = 0;

	pthread_mutex_lock(&pub.lock);
	pub.have = 0;
	pub.nitems = 0;
	for (unsigned int i = 0; lc_config_item(cfg, i, &it) && pub.nitems < LC_CONFIG_OPTS;
	     i++) {
		if (it.section[0] == '\0' || it.value == NULL)
			continue;
		/* Telemetry names take no '-': file-size is shown as file_size. */
		snprintf(pub.key[pub.nitems], sizeof(pub.key[0]), "%s", it.key);
		for (char *c = pub.key[pub.nitems]; *c; c++)
			*c = *c == '-' ? '_' : *c;
		snprintf(pub.value[pub.nitems], sizeof(pub.value[0]), "%s", it.value);
		pub.nitems++;
	}
	pthread_mutex_unlock(&pub.lock);

	pthread_mutex_lock(&ctl.lock);
	if (!ctl.registered) {
		for (size_t i = 0; i < RTE_DIM(commands) && rc == 0; i++)
			rc = rte_telemetry_register_cmd(commands[i].name, commands[i].fn,
							commands[i].help);
		ctl.registered = rc == 0;
	}
	ctl.cap = cap;
	ctl.pending = ctl.taken = ctl.done = 0;
	refresh(cap);
	pthread_mutex_unlock(&ctl.lock);
	if (rc != 0)
		LC_LOG(WARNING, "telemetry commands /linecap/* unavailable: %s", strerror(-rc));
	return rc;
}

void
lc_control_poll(struct lc_capture *cap)
{
	char expr[EXPR_MAX], err[LC_ERRLEN] = "";
	int rc;

	pthread_mutex_lock(&ctl.lock);
	refresh(cap);
	if (!ctl.pending || ctl.taken || ctl.cap != cap) {
		pthread_mutex_unlock(&ctl.lock);
		return;
	}
	ctl.taken = 1;
	snprintf(expr, sizeof(expr), "%s", ctl.expr);
	pthread_mutex_unlock(&ctl.lock);

	LC_LOG(INFO, "telemetry asks for filter '%s'", expr);
	rc = lc_capture_set_filter(cap, expr, err, sizeof(err));

	pthread_mutex_lock(&ctl.lock);
	ctl.rc = rc;
	snprintf(ctl.err, sizeof(ctl.err), "%s", err);
	refresh(cap);
	ctl.done = 1;
	if (ctl.abandoned)
		ctl.pending = 0;
	pthread_cond_broadcast(&ctl.cond);
	pthread_mutex_unlock(&ctl.lock);
}

void
lc_control_stop(void)
{
	pthread_mutex_lock(&ctl.lock);
	ctl.cap = NULL;
	pthread_cond_broadcast(&ctl.cond);
	pthread_mutex_unlock(&ctl.lock);
	pthread_mutex_lock(&pub.lock);
	pub.have = 0;
	pthread_mutex_unlock(&pub.lock);
}
