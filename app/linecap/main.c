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
#include "linecap/eal_args.h"
#include "linecap/filter.h"
#include "linecap/format.h"
#include "linecap/outpath.h"
#include "linecap/privs.h"
#include "linecap/prometheus.h"
#include "linecap/stats.h"
#include "steps.h"

#define EXIT_USAGE 2

static volatile sig_atomic_t interrupted, reload;
static uint64_t stop_first_ns;	/* CLOCK_MONOTONIC of the first stop request; 0: none yet */
static bool stop_tty;		/* stderr is a terminal: the notices start a fresh line */

/* A signal this long after the first is a second request; sooner, a copy of the first. */
#define FORCE_AFTER_NS 1000000000ull

#define STOPPING "linecap: stopping: draining rings and closing files; " \
	"send the signal again after 1 s to end at once\n"
#define FORCED "linecap: second stop request: ending at once; open files stay .part " \
	"(linecap-verify --repair)\n"

/* write(2) a constant notice: async-signal-safe, unlike stdio. */
static void
notice(const char *msg, size_t len)
{
	if (stop_tty && write(STDERR_FILENO, "\n", 1) < 0)
		return;
	if (write(STDERR_FILENO, msg, len) < 0)
		return;
}

/*
 * SIGINT/SIGTERM. The first request stops cleanly (drain, close, summary). The same signal
 * often arrives twice within microseconds (coreutils timeout signals linecap, then its
 * process group): one less than FORCE_AFTER_NS after the first is that copy and is ignored.
 * One later is a second request: end at once, killed by the signal (status 128 + signal),
 * the open files left as .part. Handlers may run at once on several threads, hence the
 * atomic; all they call is async-signal-safe (clock_gettime, write, sigaction, raise).
 */
static void
on_stop(int sig)
{
	int saved = errno;
	struct timespec ts;
	uint64_t now, first = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) | 1;	/* never 0 */
	if (__atomic_compare_exchange_n(&stop_first_ns, &first, now, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST)) {
		interrupted = 1;
		notice(STOPPING, sizeof(STOPPING) - 1);
	} else if ((int64_t)(now - first) >= (int64_t)FORCE_AFTER_NS) {
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		notice(FORCED, sizeof(FORCED) - 1);
		sigaction(sig, &dfl, NULL);
		raise(sig);	/* blocked in here: delivered, and fatal, as the handler returns */
	}
	errno = saved;
}

/* SIGHUP: re-read the -F file (the main lcore does it between ticks). */
static void
on_hangup(int sig)
{
	(void)sig;
	reload = 1;
}

/* SIGINT and SIGTERM to on_stop, SIGHUP to on_hangup; what they interrupt is restarted. */
static void
catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop, .sa_flags = SA_RESTART };

	stop_tty = isatty(STDERR_FILENO);
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hangup;
	sigaction(SIGHUP, &sa, NULL);
}

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

static struct lc_prometheus *metrics;	/* --prometheus, served while capturing */

static int
run(struct lc_config *cfgp, int argc, char **argv)
{
#define cfg (*cfgp)
	struct lc_capture_plan plan;
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
	    lc_app_check_stats_file(cfg.stats_file, err, sizeof(err)) < 0)
		return die(EXIT_USAGE, err);

	struct lc_user user;

	if (cfg.user != NULL &&
	    (lc_privs_lookup(cfg.user, &user, err, sizeof(err)) < 0 ||
	     lc_app_check_user(&user, &out, cfg.stats_file, err, sizeof(err)) < 0))
		return die(EXIT_USAGE, err);
	if (cfg.prometheus != NULL &&
	    (metrics = lc_prometheus_bind(cfg.prometheus, err, sizeof(err))) == NULL)
		return die(EXIT_USAGE, err);
	if (!cfg.check_disk)
		catch_signals();	/* a stop asked while starting stops cleanly once running */
	rc = lc_app_start_eal(&cfg, &plan, err, sizeof(err));
	if (rc < 0) {
		char msg[LC_ERRLEN + 128];

		snprintf(msg, sizeof(msg), rc == -ENODEV ? "-i %s: %s" :
			 "cannot start DPDK (device %s): %s", cfg.interface, err);
		return die(rc == -ENODEV ? EXIT_USAGE : 1, msg);
	}
	cap = lc_capture_create(&cfg, &plan, &out, err, sizeof(err));
	if (cap == NULL) {
		rc = status_for(errno);
		lc_eal_stop();
		return die(rc, err);
	}
	if (cfg.user != NULL && lc_app_check_retention(cap, &user, err, sizeof(err)) < 0) {
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
		lc_capture_free(cap);
		lc_eal_stop();
		return rc;
	}
	if (metrics != NULL && lc_prometheus_start(metrics) == 0)
		fprintf(stderr, "linecap: Prometheus metrics at http://%s%s/metrics\n",
			strchr(cfg.prometheus, ':') ? "" : "127.0.0.1:", cfg.prometheus);

	struct lc_capture_signals sig = { .stop = &interrupted, .reload = &reload };

	rc = lc_capture_run(cap, &sig, print_status, &tty, err, sizeof(err));
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
	lc_config_release(&cfg);
	return rc;
}
