/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap's signals: SIGINT/SIGTERM ask the capture to stop (once; a copy of the request,
 * as coreutils timeout delivers, is ignored; a second request ends it at once), SIGHUP asks
 * it to re-read its -F file. The handlers only store flags and write constant notices.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "signals.h"

static volatile sig_atomic_t interrupted, reload;
static uint64_t stop_first_ns;	/* CLOCK_MONOTONIC of the first stop request; 0: none yet */
static bool stop_tty;		/* stderr is a terminal: the notices start a fresh line */

/* A signal this long after the first is a second request; sooner, a copy of the first. */
#define FORCE_AFTER_NS 1000000000ull

#define STOPPING "linecap: stopping: draining the buffers and closing files; " \
	"send the signal again after 1 s to end at once\n"
#define FORCED "linecap: second stop request: ending at once, without the summary; files " \
	"still open stay .part (linecap-verify --repair); -z commands still queued are not run " \
	"and those running are left to run\n"

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
void
lc_app_catch_signals(void)
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

struct lc_capture_signals
lc_app_signals(void)
{
	return (struct lc_capture_signals){ .stop = &interrupted, .reload = &reload };
}
