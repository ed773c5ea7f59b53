/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_POSTCMD_H
#define LINECAP_POSTCMD_H

/*
 * -z COMMAND: run a command on every file the capture has closed, recorded and named, with
 * the file's full path as its last argument (tcpdump's -z; a relative path is made full with
 * the working directory at create). A file that was there when queued and is gone at its
 * turn (retired by -W, --retain-bytes or a full disk) gets no command: logged, counted as
 * failed. A queue of 64 files waiting is logged, and again at each doubling. One thread takes paths from a
 * queue and runs at most `jobs` commands at a time with posix_spawn (never a shell): stdin
 * from /dev/null, stdout and stderr inherited, no other descriptor, default signal
 * dispositions and an empty signal mask, each in a process group of its own (a ^C at the
 * terminal reaches linecap, which drains, not the commands). The children take the
 * credentials the process has when they are spawned: -Z drops root before any file closes
 * (the thread starts in lc_capture_run), so they run as the -Z user.
 *
 * Writers never wait for a command: lc_postcmd_hold, lc_postcmd_publish and
 * lc_postcmd_enqueue are a malloc and a short mutex-held append (plus, for publish, an
 * lstat of the file), whatever the commands are doing.
 *
 * Each command's end is logged: "-z: CMD FILE: exit 0 in 0.3 s" (NOTICE), "-z: CMD FILE:
 * exited 3", "killed by signal 9", "timed out after 600 s, killed", or the reason it could
 * not be started (WARNING). Every child is reaped (no zombies). A command running past the
 * timeout gets SIGTERM (its process group), then SIGKILL after the grace period.
 */
#include <stddef.h>
#include <stdint.h>

struct lc_postcmd;

struct lc_postcmd_params {
	const char *command;	/* the -z line: words split on blanks, program in PATH */
	unsigned int jobs;	/* at most this many at a time (at least 1) */
	uint64_t timeout_ms;	/* a command running longer is killed; 0 = no limit */
	uint64_t grace_ms;	/* from SIGTERM to SIGKILL (0: LC_POSTCMD_GRACE_MS) */
};

#define LC_POSTCMD_GRACE_MS 5000u

struct lc_postcmd_counts {
	uint64_t run;		/* commands that ended (or could not start) */
	uint64_t failed;	/* ... exited non-zero, killed by a signal, or not started */
	uint64_t timed_out;	/* ... killed for running past the timeout (not in failed) */
	unsigned int queued;	/* waiting for their turn now */
	unsigned int running;	/* running now */
};

/*
 * Split and resolve p->command (its program must resolve to an executable now), and set up
 * the queue; no thread yet, nothing runs. Returns the runner, or NULL with errno set
 * (EINVAL: a bad command, ENOMEM) and one line in err.
 */
struct lc_postcmd *lc_postcmd_create(const struct lc_postcmd_params *p, char *err,
				     size_t errlen);

/* Start the thread that runs the queue (commands queued before start run then). 0, or
 * -errno with err. Call it once, after -Z has dropped root. */
int lc_postcmd_start(struct lc_postcmd *pc, char *err, size_t errlen);

/* Queue path for a command (any thread; never waits for one). 0, or -ENOMEM (logged). */
int lc_postcmd_enqueue(struct lc_postcmd *pc, const char *path);

/*
 * For the writers: path (its final name; the file is still PATH.part) was closed whole and
 * recorded by the calling thread; hold it until that thread calls lc_postcmd_publish, which
 * queues it if the file now has its final name (the same file: inode of the .part seen at
 * hold), else drops it (the rename failed: nothing to run on). Any thread; never waits for a
 * command.
 */
void lc_postcmd_hold(struct lc_postcmd *pc, const char *path);
void lc_postcmd_publish(struct lc_postcmd *pc);

/* The counters now (any thread). */
void lc_postcmd_counts(struct lc_postcmd *pc, struct lc_postcmd_counts *c);

/*
 * Wait until every queued and running command has ended (each still bounded by the
 * timeout), saying how many are left at once and every 10 s ("waiting for 3 -z commands").
 * The thread keeps running: later enqueues run too. Main thread.
 */
void lc_postcmd_drain(struct lc_postcmd *pc);

/* Drain, stop the thread, free. Accepts NULL. */
void lc_postcmd_free(struct lc_postcmd *pc);

#endif
