/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * -z's runner (lib/pipeline/postcmd.c): at most N commands at a time, failures and timeouts
 * counted, a hanging command killed (one that ignores SIGTERM too), enqueue never waiting
 * for a command, and what a command starts with (stdin /dev/null, no inherited descriptor,
 * no blocked or ignored signal, a process group of its own).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_test.h"

#include "linecap/config.h"
#include "log.h"
#include "postcmd.h"

static char dir[64];

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* An executable script in dir; its path (static buffer per name). */
static const char *
script(const char *name, const char *body)
{
	static char paths[8][128];
	static int n;
	char *path = paths[n++ % 8];
	FILE *f;

	snprintf(path, 128, "%s/%s", dir, name);
	f = fopen(path, "w");
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
	return path;
}

static struct lc_postcmd *
runner(const char *command, unsigned int jobs, uint64_t timeout_ms, uint64_t grace_ms)
{
	struct lc_postcmd_params p = { .command = command, .jobs = jobs,
				       .timeout_ms = timeout_ms, .grace_ms = grace_ms };
	char err[LC_ERRLEN];
	struct lc_postcmd *pc = lc_postcmd_create(&p, err, sizeof(err));

	if (pc == NULL) {
		fprintf(stderr, "lc_postcmd_create(%s): %s\n", command, err);
		exit(1);
	}
	CHECK(lc_postcmd_start(pc, err, sizeof(err)) == 0);
	return pc;
}

/* A file's text (static buffer). */
static const char *
slurp(const char *path)
{
	static char text[16384];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

	if (f)
		fclose(f);
	text[n] = '\0';
	return text;
}

/* Jobs limit: 8 commands of 0.3 s with --postrotate-jobs 2 never overlap more than 2 (and
 * do run 2 at a time); every file gets its command, with its path last. */
static void
test_jobs_limit(void)
{
	char log[128], cmd[256], path[128];
	const char *s;
	struct lc_postcmd_counts c;
	struct lc_postcmd *pc;
	int depth = 0, most = 0, starts = 0, ends = 0;

	snprintf(log, sizeof(log), "%s/jobs.log", dir);
	s = script("jobs.sh", "echo \"$(date +%s%N) 1 $2\" >> \"$1\"\nsleep 0.3\n"
		   "echo \"$(date +%s%N) -1 $2\" >> \"$1\"");
	snprintf(cmd, sizeof(cmd), "%s %s", s, log);	/* the log, then the file */
	pc = runner(cmd, 2, 60000, 0);
	for (int i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "%s/file%d.pcap", dir, i);
		CHECK(lc_postcmd_enqueue(pc, path) == 0);
	}
	lc_postcmd_drain(pc);
	lc_postcmd_counts(pc, &c);
	CHECK_EQ_U64(c.run, 8);
	CHECK_EQ_U64(c.failed, 0);
	CHECK_EQ_U64(c.timed_out, 0);
	CHECK_EQ_U64(c.queued + c.running, 0);
	lc_postcmd_free(pc);

	/* Events in time order (an end before a start at the same instant). */
	struct ev { unsigned long long t; int d; } ev[64];
	int n = 0;
	FILE *f = fopen(log, "r");
	char line[256], name[128];

	while (f && n < 64 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llu %d %127s", &ev[n].t, &ev[n].d, name) == 3) {
			starts += ev[n].d > 0;
			ends += ev[n].d < 0;
			n++;
		}
	}
	if (f)
		fclose(f);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && (ev[j].t < ev[j - 1].t ||
			 (ev[j].t == ev[j - 1].t && ev[j].d < ev[j - 1].d)); j--) {
			struct ev x = ev[j];

			ev[j] = ev[j - 1];
			ev[j - 1] = x;
		}
	for (int i = 0; i < n; i++) {
		depth += ev[i].d;
		most = depth > most ? depth : most;
	}
	CHECK_EQ_U64(starts, 8);
	CHECK_EQ_U64(ends, 8);
	CHECK(most <= 2);
	CHECK(most == 2);	/* the second job slot is used */
	if (most != 2)
		fprintf(stderr, "at most %d commands at once (want 2)\n", most);
	for (int i = 0; i < 8; i++) {	/* each file once, its path as the last argument */
		char want[160];

		snprintf(want, sizeof(want), " 1 %s/file%d.pcap\n", dir, i);
		CHECK_STR_HAS(slurp(log), want);
	}
}

/* A command that fails, one killed by a signal, one that cannot run: counted as failed. */
static void
test_failures(void)
{
	const char *s = script("fail.sh", "case \"$1\" in *ok*) exit 0;; *sig*) kill -9 $$;; "
			       "esac\nexit 3");
	struct lc_postcmd_counts c;
	struct lc_postcmd *pc = runner(s, 2, 60000, 0);

	CHECK(lc_postcmd_enqueue(pc, "/nonexistent/ok.pcap") == 0);
	CHECK(lc_postcmd_enqueue(pc, "/nonexistent/bad.pcap") == 0);
	CHECK(lc_postcmd_enqueue(pc, "/nonexistent/sig.pcap") == 0);
	lc_postcmd_drain(pc);
	lc_postcmd_counts(pc, &c);
	CHECK_EQ_U64(c.run, 3);
	CHECK_EQ_U64(c.failed, 2);
	CHECK_EQ_U64(c.timed_out, 0);
	/* The script removed after start: its commands cannot run, and say so (counted). */
	unlink(s);
	CHECK(lc_postcmd_enqueue(pc, "/nonexistent/ok2.pcap") == 0);
	lc_postcmd_drain(pc);
	lc_postcmd_counts(pc, &c);
	CHECK_EQ_U64(c.run, 4);
	CHECK_EQ_U64(c.failed, 3);
	lc_postcmd_free(pc);

	/* A program that is not there is refused at create. */
	struct lc_postcmd_params p = { .command = "no-such-program-here -x", .jobs = 1 };
	char err[LC_ERRLEN];

	CHECK(lc_postcmd_create(&p, err, sizeof(err)) == NULL);
	CHECK_STR_HAS(err, "no-such-program-here: not found");
}

/* A hanging command is killed after the timeout, SIGTERM first; one that ignores SIGTERM
 * gets SIGKILL after the grace period (its whole process group: the sleep under it too). */
static void
test_timeout(void)
{
	const char *s = script("hang.sh", "case \"$1\" in *deaf*) trap '' TERM;; esac\n"
			       "sleep 1000\nexit 0");
	struct lc_postcmd_counts c;
	struct lc_postcmd *pc = runner(s, 2, 300, 500);
	uint64_t t0 = now_ns();
	double secs;

	CHECK(lc_postcmd_enqueue(pc, "/nonexistent/hang.pcap") == 0);
	CHECK(lc_postcmd_enqueue(pc, "/nonexistent/deaf.pcap") == 0);
	lc_postcmd_drain(pc);
	secs = (double)(now_ns() - t0) / 1e9;
	lc_postcmd_counts(pc, &c);
	CHECK_EQ_U64(c.run, 2);
	CHECK_EQ_U64(c.timed_out, 2);
	CHECK_EQ_U64(c.failed, 0);
	/* 0.3 s, then 0.5 s for the deaf one: well under the sleep's 1000 s on any machine. */
	CHECK(secs >= 0.7 && secs < 20);
	if (!(secs >= 0.7 && secs < 20))
		fprintf(stderr, "timed-out commands took %.2f s to end\n", secs);
	lc_postcmd_free(pc);
	/* No sleep of theirs is left (killed with their group, not orphaned). */
	FILE *p = popen("pgrep -f '^sleep 1000$' | wc -l", "r");
	int left = -1;

	if (p != NULL && fscanf(p, "%d", &left) != 1)
		left = -1;
	if (p != NULL)
		pclose(p);
	CHECK(left == 0);
}

/* Enqueue never waits for a command: with the one job slot taken by a command that hangs
 * (until its 2 s timeout), 200 enqueues take far less than that; each then runs. */
static void
test_enqueue_never_waits(void)
{
	const char *s = script("maybe.sh", "case \"$1\" in *hang*) exec sleep 1000;; esac\n"
			       "exit 0");
	struct lc_postcmd_counts c;
	struct lc_postcmd *pc = runner(s, 1, 2000, 200);
	uint64_t worst = 0, t0;
	char path[64];

	CHECK(lc_postcmd_enqueue(pc, "/nonexistent/hang.pcap") == 0);
	usleep(200000);		/* it is running now */
	lc_postcmd_counts(pc, &c);
	CHECK_EQ_U64(c.running, 1);
	for (int i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/nonexistent/q%d.pcap", i);
		t0 = now_ns();
		CHECK(lc_postcmd_enqueue(pc, path) == 0);
		worst = RTE_MAX(worst, now_ns() - t0);
	}
	lc_postcmd_counts(pc, &c);
	CHECK_EQ_U64(c.queued, 200);	/* all waiting behind the one that hangs */
	CHECK_EQ_U64(c.run, 0);
	/* A wait for the command would be 2 s; a loaded machine's scheduling, milliseconds. */
	CHECK(worst < 500000000ull);
	fprintf(stderr, "slowest enqueue while a command hangs: %.3f ms\n", worst / 1e6);
	lc_postcmd_drain(pc);
	lc_postcmd_counts(pc, &c);
	CHECK_EQ_U64(c.run, 201);
	CHECK_EQ_U64(c.timed_out, 1);
	CHECK_EQ_U64(c.failed, 0);
	lc_postcmd_free(pc);
}

/* What a command starts with: stdin /dev/null, none of linecap's descriptors, no signal
 * blocked or ignored (linecap ignores SIGPIPE; its threads block signals), its own process
 * group. */
static void
test_child_environment(void)
{
	char status[128], fds[128], marker[128];
	const char *s;
	struct lc_postcmd *pc;
	sigset_t block;
	int leak;

	snprintf(marker, sizeof(marker), "%s/leak-marker", dir);
	leak = open(marker, O_RDWR | O_CREAT, 0600);	/* not close-on-exec */
	CHECK(leak >= 3);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, NULL);	/* the runner thread inherits it */
	s = script("probe.sh", "case \"$1\" in *status*) exec cat /proc/self/status > \"$1\";; esac\n"
		   "for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\"; done > \"$1\"");
	pc = runner(s, 1, 60000, 0);
	snprintf(status, sizeof(status), "%s/status", dir);
	snprintf(fds, sizeof(fds), "%s/fds", dir);
	CHECK(lc_postcmd_enqueue(pc, status) == 0);
	CHECK(lc_postcmd_enqueue(pc, fds) == 0);
	lc_postcmd_drain(pc);
	lc_postcmd_free(pc);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGPIPE, SIG_DFL);
	close(leak);

	const char *st = slurp(status);
	char want[64];
	unsigned int pgid = 0;
	const char *ns = strstr(st, "\nNSpgid:");

	CHECK_STR_HAS(st, "\nSigBlk:\t0000000000000000\n");
	/* Nothing ignored but glibc's own signals 32 and 33 (SIGCANCEL, SIGSETXID), which its
	 * posix_spawn leaves ignored in every child; no program uses them. SIGPIPE (13),
	 * which linecap ignores, must be back to its default. */
	const char *ign = strstr(st, "\nSigIgn:\t");
	unsigned long long ignored = ~0ull;

	CHECK(ign != NULL && sscanf(ign, "\nSigIgn:\t%llx", &ignored) == 1);
	CHECK_EQ_U64(ignored & ~0x180000000ull, 0);
	CHECK(ns != NULL && sscanf(ns, "\nNSpgid:\t%u", &pgid) == 1);
	CHECK(pgid != 0 && pgid != (unsigned int)getpgrp());
	snprintf(want, sizeof(want), "\nPid:\t%u\n", pgid);	/* the leader of its group */
	CHECK_STR_HAS(st, want);

	const char *fd = slurp(fds);

	CHECK_STR_HAS(fd, "0 /dev/null\n");
	CHECK(strstr(fd, "leak-marker") == NULL);
	if (strstr(fd, "leak-marker") != NULL || strstr(fd, "0 /dev/null\n") == NULL)
		fprintf(stderr, "the command's descriptors:\n%s", fd);
}

/* The log while fn runs, NOTICE and up (static buffer). */
static const char *
logged(void (*fn)(void *), void *arg)
{
	static char text[65536];
	FILE *f = tmpfile();
	uint32_t level = (uint32_t)rte_log_get_level(lc_logtype);
	size_t n;

	rte_log_set_level(lc_logtype, RTE_LOG_NOTICE);
	rte_openlog_stream(f);
	fn(arg);
	rte_openlog_stream(NULL);
	rte_log_set_level(lc_logtype, level);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* A relative -w makes relative paths: the command still gets the file's full path (it may
 * cd elsewhere, as docs/deploying.md's zeek script does), through hold/publish and enqueue. */
static void
test_full_path(void)
{
	char log[128], cmd[256], cwd[4096], want[4300];
	const char *s;
	struct lc_postcmd *pc;
	FILE *f;

	snprintf(log, sizeof(log), "%s/full.log", dir);
	s = script("full.sh", "cd / && echo \"$2\" >> \"$1\"");
	snprintf(cmd, sizeof(cmd), "%s %s", s, log);
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK(chdir(dir) == 0);
	pc = runner(cmd, 1, 60000, 0);
	f = fopen("rel.pcap.part", "w");	/* written, closed, held, named, published */
	CHECK(f != NULL);
	if (f != NULL)
		fclose(f);
	lc_postcmd_hold(pc, "rel.pcap");
	CHECK(rename("rel.pcap.part", "rel.pcap") == 0);
	lc_postcmd_publish(pc);
	CHECK(lc_postcmd_enqueue(pc, "./sub/../other.pcap") == 0);
	lc_postcmd_drain(pc);
	lc_postcmd_free(pc);
	CHECK(chdir(cwd) == 0);
	snprintf(want, sizeof(want), "%s/rel.pcap\n", dir);
	CHECK_STR_HAS(slurp(log), want);
	snprintf(want, sizeof(want), "%s/./sub/../other.pcap\n", dir);
	CHECK_STR_HAS(slurp(log), want);
}

struct gone_case {
	struct lc_postcmd *pc;
	char kept[128], gone[128];
};

static void
gone_run(void *arg)
{
	struct gone_case *g = arg;

	CHECK(lc_postcmd_enqueue(g->pc, "/nonexistent/first-hang.pcap") == 0);
	CHECK(lc_postcmd_enqueue(g->pc, g->kept) == 0);
	CHECK(lc_postcmd_enqueue(g->pc, g->gone) == 0);
	CHECK(unlink(g->gone) == 0);	/* retired (-W) while it waited for its turn */
	lc_postcmd_drain(g->pc);
}

/* A file deleted before its command's turn (-W, --retain-bytes or a full disk retired it):
 * no command on a path that is not there; the log says why, and it counts as failed. */
static void
test_gone_before_turn(void)
{
	struct gone_case g;
	struct lc_postcmd_counts c;
	char log[128], cmd[256];
	const char *s, *text;
	FILE *f;

	snprintf(log, sizeof(log), "%s/gone.log", dir);
	s = script("gone.sh", "case \"$2\" in *hang*) sleep 0.5;; esac\necho \"$2\" >> \"$1\"");
	snprintf(cmd, sizeof(cmd), "%s %s", s, log);
	snprintf(g.kept, sizeof(g.kept), "%s/kept.pcap", dir);
	snprintf(g.gone, sizeof(g.gone), "%s/gone.pcap", dir);
	for (int i = 0; i < 2; i++) {
		f = fopen(i ? g.gone : g.kept, "w");
		CHECK(f != NULL);
		if (f != NULL)
			fclose(f);
	}
	g.pc = runner(cmd, 1, 60000, 0);
	text = logged(gone_run, &g);
	lc_postcmd_counts(g.pc, &c);
	lc_postcmd_free(g.pc);
	CHECK_EQ_U64(c.run, 3);
	CHECK_EQ_U64(c.failed, 1);
	CHECK_STR_HAS(slurp(log), "kept.pcap\n");
	CHECK(strstr(slurp(log), "gone.pcap") == NULL);
	CHECK_STR_HAS(text, "gone.pcap: deleted before its command could run");
}

static void
backlog_run(void *arg)
{
	struct lc_postcmd *pc = arg;
	char path[64];

	CHECK(lc_postcmd_enqueue(pc, "/nonexistent/hang.pcap") == 0);
	for (int i = 0; i < 100; i++) {
		snprintf(path, sizeof(path), "/nonexistent/b%d.pcap", i);
		CHECK(lc_postcmd_enqueue(pc, path) == 0);
	}
	lc_postcmd_drain(pc);
}

/* Commands slower than the files come: the queue grows (in memory, nothing lost) and the
 * log says so while it grows, not only at the end. */
static void
test_backlog_said(void)
{
	const char *s = script("backlog.sh", "case \"$1\" in *hang*) sleep 0.3;; esac\nexit 0");
	struct lc_postcmd *pc = runner(s, 1, 60000, 0);
	const char *text = logged(backlog_run, pc);

	lc_postcmd_free(pc);
	CHECK_STR_HAS(text, "-z: 64 files wait for their command");
}

int
main(void)
{
	lc_test_eal();
	snprintf(dir, sizeof(dir), "/tmp/lc_postcmd_XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_jobs_limit();
	test_failures();
	test_timeout();
	test_enqueue_never_waits();
	test_child_environment();
	test_full_path();
	test_gone_before_turn();
	test_backlog_said();
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return lc_test_done("test_postcmd");
}
