/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_telemetry.h>

#include "linecap/capture.h"
#include "linecap/config.h"
#include "linecap/control.h"
#include "linecap/log.h"

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

int
lc_control_start(struct lc_capture *cap)
{
	int rc = 0;

	pthread_mutex_lock(&ctl.lock);
	if (!ctl.registered) {
		rc = rte_telemetry_register_cmd("/linecap/filter", filter_cmd,
						"Shows the capture filter; with a parameter, puts "
						"that tcpdump expression in force");
		ctl.registered = rc == 0;
	}
	ctl.cap = cap;
	ctl.pending = ctl.taken = ctl.done = 0;
	refresh(cap);
	pthread_mutex_unlock(&ctl.lock);
	if (rc != 0)
		LC_LOG(WARNING, "telemetry command /linecap/filter unavailable: %s", strerror(-rc));
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
}
