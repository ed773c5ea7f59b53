/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap: capture from a DPDK port into nanosecond pcap shards.
 * parse -> compile filter -> plan -> check output -> EAL -> pipeline -> run -> summary.
 * Everything that can be refused is refused before any port is touched (exit 2).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lc_version.h"

#include "linecap/capture.h"
#include "linecap/config.h"
#include "linecap/control.h"
#include "linecap/eal_args.h"
#include "linecap/feed.h"
#include "linecap/filter.h"
#include "linecap/format.h"
#include "linecap/iflist.h"
#include "linecap/outpath.h"
#include "linecap/privs.h"
#include "linecap/prometheus.h"
#include "linecap/stats.h"
#include "signals.h"
#include "steps.h"

#define EXIT_USAGE 2

static int
die(int status, const char *msg)
{
	fprintf(stderr, "linecap: %s\n", msg);
	return status;
}

/* Bad input (a device, a path, a value) is a usage error; anything else is runtime. */
static int
status_for(int err)
{
	switch (err) {
	case EINVAL: case ENODEV: case ENOENT: case EEXIST: case EACCES: case EPERM:
	case ENOTDIR: case EROFS: case ENAMETOOLONG: case EBUSY:
		return EXIT_USAGE;
	default:
		return 1;
	}
}

static void
print_status(const struct lc_stats *now, const struct lc_stats *prev, double dt, void *arg)
{
	char line[512];
	int tty = *(const int *)arg;

	lc_stats_format_status(line, sizeof(line), now, prev, dt);
	fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line);
}

/* The capture's hooks into telemetry (lib/control): served by the main lcore. */
static void
serve_control(struct lc_capture *cap, void *arg)
{
	(void)arg;
	lc_control_poll(cap);
}

static void
publish_live(const struct lc_live *live, void *arg)
{
	(void)arg;
	lc_control_publish(live);
}

static struct lc_prometheus *metrics;	/* --prometheus, served while capturing */
static struct lc_feeds *feeds;		/* --feed, served while capturing */
static struct lc_capture_plan plan;	/* released on every path out */

static int
run(struct lc_config *cfgp, int argc, char **argv)
{
#define cfg (*cfgp)
	struct lc_outpath out;
	struct lc_filter_prog *prog = NULL;
	const struct lc_filter_ops *engine = NULL;
	struct lc_capture *cap;
	struct lc_stats st;
	char err[LC_ERRLEN];
	int rc, tty = isatty(STDERR_FILENO);

	if (lc_config_parse(&cfg, argc, argv, err, sizeof(err)) < 0)
		return die(EXIT_USAGE, err);
	if (cfg.help) {
		fputs(lc_config_usage(), stdout);
		return 0;
	}
	if (cfg.version) {
		printf("linecap %s\n", LC_VERSION);
		return 0;
	}
	if (cfg.list_interfaces) {	/* from sysfs: before EAL, no port touched */
		struct lc_iflist_env env;

		lc_iflist_env_default(&env);
		return lc_iflist_print(stdout, &env) < 0 ? die(1, "-D: cannot write the list") : 0;
	}
	if (cfg.print_config)
		return lc_config_print(stdout, &cfg) == 0 ? 0 : die(1, "cannot print");
	if (cfg.filter_file != NULL &&
	    lc_filter_read_file(cfg.filter_file, &cfg.filter, err, sizeof(err)) < 0)
		return die(EXIT_USAGE, err);
	if (cfg.filter != NULL || cfg.dump) {
		if (lc_filter_prepare(cfg.filter ? cfg.filter : "", cfg.snaplen, cfg.filter_engine,
				      &prog, &engine, err, sizeof(err)) < 0)
			return die(EXIT_USAGE, err);
		if (cfg.dump)
			return lc_app_dump_filter(prog, engine, cfg.dump);
		lc_filter_prog_free(prog);	/* checked; the capture compiles its own per queue */
		prog = NULL;
	}
	if (lc_capture_plan(&cfg, &plan, err, sizeof(err)) < 0 ||
	    lc_outpath_init(&out, cfg.write_path, lc_format_find(cfg.format)->ext, err,
			    sizeof(err)) < 0 ||
	    lc_outpath_check(&out, plan.queues, (time_t)lc_capture_period(&cfg),
			     plan.first_seq, &plan.earlier_files, err, sizeof(err)) < 0 ||
	    lc_app_check_stats_file(cfg.stats_file, err, sizeof(err)) < 0 ||
	    lc_app_check_read_dirs(&cfg, &out, err, sizeof(err)) < 0)
		return die(EXIT_USAGE, err);

	struct lc_user user;

	if (cfg.user != NULL &&
	    (lc_privs_lookup(cfg.user, &user, err, sizeof(err)) < 0 ||
	     lc_app_check_user(&user, &out, cfg.stats_file, err, sizeof(err)) < 0 ||
	     lc_capture_plan_check_read(&plan, &user, err, sizeof(err)) < 0 ||
	     (cfg.postrotate_cmd != NULL &&
	      lc_privs_check_command(&user, cfg.postrotate_cmd, err, sizeof(err)) < 0)))
		return die(EXIT_USAGE, err);
	if (cfg.prometheus != NULL &&
	    (metrics = lc_prometheus_bind(cfg.prometheus, err, sizeof(err))) == NULL)
		return die(EXIT_USAGE, err);
	if (cfg.nfeeds != 0 && !cfg.check_disk &&
	    (feeds = lc_feeds_create(&cfg, err, sizeof(err))) == NULL)
		return die(EXIT_USAGE, err);
	if (!cfg.check_disk)
		lc_app_catch_signals();	/* a stop asked while starting stops cleanly once running */
	rc = lc_app_start_eal(&cfg, &plan, err, sizeof(err));
	if (rc < 0) {
		char msg[LC_ERRLEN + 128];

		snprintf(msg, sizeof(msg), rc == -ENODEV ? "-i %s: %s" :
			 "cannot start DPDK (device %s): %s",
			 cfg.interface ? cfg.interface : "none, -r", err);
		return die(rc == -ENODEV ? EXIT_USAGE : 1, msg);
	}
	cap = lc_capture_create(&cfg, &plan, &out, err, sizeof(err));
	if (cap == NULL) {
		rc = status_for(errno);
		lc_eal_stop();
		return die(rc, err);
	}
	if (lc_capture_attach_feeds(cap, feeds, err, sizeof(err)) < 0) {
		lc_capture_free(cap);
		lc_eal_stop();
		return die(1, err);
	}
	lc_control_start(cap);	/* telemetry: /linecap/stats, queues, filter... */
	if (cfg.user != NULL && lc_app_check_retention(cap, &user, err, sizeof(err)) < 0) {
		lc_control_stop();
		lc_capture_free(cap);
		lc_eal_stop();
		return die(EXIT_USAGE, err);
	}
	lc_capture_describe(cap, stderr);
	if (cfg.user != NULL) {
		if (lc_app_drop_root(cap, &user, err, sizeof(err)) < 0) {
			lc_capture_free(cap);
			lc_eal_stop();
			return die(1, err);
		}
		fprintf(stderr, "linecap: running as %s (uid %u)\n", user.name,
			(unsigned int)user.uid);
	}
	if (cfg.check_disk) {
		rc = lc_app_check_disk(cap, &out);
		lc_control_stop();
		lc_capture_free(cap);
		lc_eal_stop();
		return rc;
	}
	if (metrics != NULL && lc_prometheus_start(metrics) == 0)
		fprintf(stderr, "linecap: Prometheus metrics at http://%s%s/metrics\n",
			strchr(cfg.prometheus, ':') ? "" : "127.0.0.1:", cfg.prometheus);

	if (lc_feeds_start(feeds) < 0)
		fprintf(stderr, "linecap: cannot start the feed thread: no live feed\n");

	struct lc_capture_signals sig = lc_app_signals();

	struct lc_capture_hooks hooks = { .tick = serve_control, .second = publish_live,
					  .status = print_status, .arg = &tty };

	rc = lc_capture_run(cap, &sig, &hooks, err, sizeof(err));
	lc_feeds_stop(feeds);	/* the writers are done: the rest goes out, then clients go */
	lc_control_stop();
	if (tty)
		fputc('\n', stderr);
	lc_capture_stats(cap, &st);
	lc_stats_print_summary(stderr, &st);
	if (rc < 0)
		fprintf(stderr, "linecap: %s\n", err);
	if (cfg.stats_file != NULL && lc_stats_write_json(cfg.stats_file, &st, err,
							   sizeof(err)) < 0) {
		fprintf(stderr, "linecap: %s\n", err);
		rc = -EIO;
	}
	lc_prometheus_free(metrics);	/* its thread logs through EAL: stop it first */
	metrics = NULL;
	lc_capture_free(cap);
	lc_feeds_free(feeds);
	feeds = NULL;
	lc_eal_stop();
	return rc < 0 ? 1 : 0;
#undef cfg
}

int
main(int argc, char **argv)
{
	struct lc_config cfg = { 0 };
	int rc;

	signal(SIGPIPE, SIG_IGN);	/* a peer that leaves is EPIPE to count, never the end */
	rc = run(&cfg, argc, argv);
	lc_prometheus_free(metrics);	/* on every path out */
	lc_feeds_free(feeds);
	lc_capture_plan_release(&plan);
	lc_config_release(&cfg);
	return rc;
}
