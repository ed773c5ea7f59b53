/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pwd.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "command.h"
#include "log.h"
#include "postcmd.h"

#define POLL_MS 50u		/* how often running commands are looked at without pidfds */
#define DRAIN_SAY_S 10u		/* lc_postcmd_drain says how many are left this often */
#define BACKLOG_SAY 64u		/* a queue this long is logged, and again at each doubling */

extern char **environ;

/* A file waiting for its command. */
struct job {
	struct job *next;
	uint64_t token;		/* held: the writer thread that holds it */
	dev_t dev;		/* held: its .part's device and inode (0 0: unknown) */
	ino_t ino;
	bool seen;		/* the file was there when it was queued */
	char path[];
};

/* A command running (the runner thread's alone). */
struct slot {
	pid_t pid;		/* 0: free */
	int pidfd;		/* readable once it has ended; -1: none (polled) */
	struct job *job;
	uint64_t start_ms, term_ms;
	bool termed, killed;	/* SIGTERM sent (timed out), then SIGKILL */
};

struct lc_postcmd {
	char *command;		/* as given, for the log */
	char **argv;		/* its words (one allocation) */
	int argc;
	char prog[PATH_MAX];	/* argv[0] resolved */
	char *cwd;		/* for relative paths: the command gets the full path */
	uid_t uid;		/* at create: as root, before -Z */
	char **env;		/* the commands' environment when -Z changed the user; NULL:
				 * linecap's own */
	unsigned int jobs;
	uint64_t timeout_ms, grace_ms;
	struct slot *slots;	/* jobs of them */
	int wakefd;		/* eventfd: the runner has something to do */

	pthread_mutex_t lock;	/* everything below */
	pthread_cond_t idle;	/* lc_postcmd_drain: a command ended */
	struct job *head, *tail;
	struct job *held;	/* closed files waiting for their name (lc_postcmd_hold) */
	struct lc_postcmd_counts c;
	unsigned int backlog_say;	/* a queue this long is logged next */
	bool started, stop;
	pthread_t thread;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The calling thread, as the token a held file waits under. */
static uint64_t
self_token(void)
{
	return (uint64_t)pthread_self() | 1;
}

struct lc_postcmd *
lc_postcmd_create(const struct lc_postcmd_params *p, char *err, size_t errlen)
{
	struct lc_postcmd *pc = calloc(1, sizeof(*pc));
	int rc;

	if (pc == NULL || (pc->command = strdup(p->command)) == NULL ||
	    (pc->slots = calloc(p->jobs ? p->jobs : 1, sizeof(*pc->slots))) == NULL) {
		snprintf(err, errlen, "-z: out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = lc_command_split(p->command, "-z", &pc->argv, err, errlen);
	if (rc < 0)
		goto fail;
	pc->argc = rc;
	rc = lc_command_resolve(pc->argv[0], pc->prog, sizeof(pc->prog));
	if (rc < 0) {
		snprintf(err, errlen, "-z '%s': %s: %s", p->command, pc->argv[0],
			 rc == -ENOENT ? "not found" : rc == -EACCES ? "not an executable file" :
			 strerror(-rc));
		rc = -EINVAL;
		goto fail;
	}
	pc->jobs = p->jobs ? p->jobs : 1;
	pc->backlog_say = BACKLOG_SAY;
	/* A relative -w gives relative paths: the command gets them whole (it may cd). */
	pc->cwd = getcwd(NULL, 0);
	pc->uid = geteuid();
	pc->timeout_ms = p->timeout_ms;
	pc->grace_ms = p->grace_ms ? p->grace_ms : LC_POSTCMD_GRACE_MS;
	pc->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pc->wakefd < 0) {
		rc = -errno;
		snprintf(err, errlen, "-z: eventfd: %s", strerror(-rc));
		goto fail;
	}
	pthread_mutex_init(&pc->lock, NULL);
	pthread_cond_init(&pc->idle, NULL);
	return pc;
fail:
	if (pc != NULL) {
		free(pc->cwd);
		free(pc->argv);
		free(pc->slots);
		free(pc->command);
		free(pc);
	}
	errno = -rc;
	return NULL;
}

/* A job for path, made a full path when it is relative. */
static struct job *
new_job(const struct lc_postcmd *pc, const char *path)
{
	const char *dir = path[0] != '/' && pc->cwd != NULL ? pc->cwd : NULL;
	size_t d = dir != NULL ? strlen(dir) + 1 : 0, n = strlen(path) + 1;
	struct job *j = malloc(sizeof(*j) + d + n);

	if (j == NULL) {
		LC_LOG(ERR, "-z: out of memory: no command for %s", path);
		return NULL;
	}
	memset(j, 0, sizeof(*j));
	if (dir != NULL) {
		memcpy(j->path, dir, d - 1);
		j->path[d - 1] = '/';
	}
	memcpy(j->path + d, path, n);
	return j;
}

/* The runner looks at its queue and commands now (an eventfd write never waits). */
static void
wake(struct lc_postcmd *pc)
{
	uint64_t one = 1;

	if (write(pc->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		LC_LOG_RL(WARNING, "-z: waking its thread: %s", strerror(errno));
}

/* Append j to the queue and wake the runner. */
static void
push(struct lc_postcmd *pc, struct job *j)
{
	unsigned int say = 0, running;

	j->next = NULL;
	pthread_mutex_lock(&pc->lock);
	if (pc->tail != NULL)
		pc->tail->next = j;
	else
		pc->head = j;
	pc->tail = j;
	pc->c.queued++;
	if (pc->c.queued >= pc->backlog_say) {	/* said while it grows, not only at the end */
		say = pc->c.queued;
		pc->backlog_say = pc->backlog_say > UINT_MAX / 2 ? UINT_MAX : pc->backlog_say * 2;
	}
	running = pc->c.running;
	pthread_mutex_unlock(&pc->lock);
	wake(pc);
	if (say)
		LC_LOG(WARNING, "-z: %u files wait for their command (%u running, "
		       "--postrotate-jobs %u): the commands are slower than the files come; "
		       "the queue is in memory (a file retired before its turn gets no command)",
		       say, running, pc->jobs);
}

int
lc_postcmd_enqueue(struct lc_postcmd *pc, const char *path)
{
	struct job *j = new_job(pc, path);
	struct stat st;

	if (j == NULL)
		return -ENOMEM;
	j->seen = lstat(j->path, &st) == 0;
	push(pc, j);
	return 0;
}

void
lc_postcmd_hold(struct lc_postcmd *pc, const char *path)
{
	struct job *j = new_job(pc, path), **pp;
	char part[PATH_MAX + 8];
	struct stat st;

	if (j == NULL)
		return;
	j->token = self_token();
	snprintf(part, sizeof(part), "%s.part", j->path);
	if (lstat(part, &st) == 0) {
		j->dev = st.st_dev;
		j->ino = st.st_ino;
	}
	pthread_mutex_lock(&pc->lock);
	/* One held file per writer thread: one it never published is dropped. */
	for (pp = &pc->held; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->token == j->token) {
			struct job *old = *pp;

			*pp = old->next;
			free(old);
			break;
		}
	j->next = pc->held;
	pc->held = j;
	pthread_mutex_unlock(&pc->lock);
}

void
lc_postcmd_publish(struct lc_postcmd *pc)
{
	uint64_t token = self_token();
	struct job *j = NULL, **pp;
	struct stat st;

	pthread_mutex_lock(&pc->lock);
	for (pp = &pc->held; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->token == token) {
			j = *pp;
			*pp = j->next;
			break;
		}
	pthread_mutex_unlock(&pc->lock);
	if (j == NULL)
		return;
	/* Only the file that was closed, under its final name: a rename that failed leaves the
	 * .part (and maybe something else under the name), nothing to run on. */
	if (lstat(j->path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (j->ino != 0 && (st.st_dev != j->dev || st.st_ino != j->ino))) {
		LC_LOG(WARNING, "-z: %s: not there under its final name: no command for it",
		       j->path);
		free(j);
		return;
	}
	j->seen = true;
	push(pc, j);
}

void
lc_postcmd_counts(struct lc_postcmd *pc, struct lc_postcmd_counts *c)
{
	pthread_mutex_lock(&pc->lock);
	*c = pc->c;
	pthread_mutex_unlock(&pc->lock);
}

/* A command ended (or never started): count it, wake a drain. Under lock. */
static void
ended_locked(struct lc_postcmd *pc, bool failed, bool timed_out)
{
	pc->c.running--;
	pc->c.run++;
	if (timed_out)
		pc->c.timed_out++;
	else if (failed)
		pc->c.failed++;
	pthread_cond_broadcast(&pc->idle);
}

/* Run COMMAND... PATH in slot s: its own process group, stdin /dev/null, stdout and stderr
 * inherited, nothing else open, signals as a fresh process has them. 0 or the error. */
static int
spawn(struct lc_postcmd *pc, struct slot *s, struct job *j)
{
	char *argv[LC_COMMAND_WORDS + 2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	pid_t pid;
	int rc;

	for (int i = 0; i < pc->argc; i++)
		argv[i] = pc->argv[i];
	argv[pc->argc] = j->path;
	argv[pc->argc + 1] = NULL;
	sigemptyset(&none);
	sigfillset(&all);	/* linecap ignores SIGPIPE: a command must not inherit that */
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	rc = posix_spawn_file_actions_init(&fa);
	if (rc != 0)
		return rc;
	rc = posix_spawnattr_init(&at);
	if (rc != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	if ((rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
	    (rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) == 0 &&
	    (rc = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (rc = posix_spawnattr_setsigdefault(&at, &all)) == 0 &&
	    (rc = posix_spawnattr_setpgroup(&at, 0)) == 0 &&
	    (rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					   POSIX_SPAWN_SETPGROUP)) == 0)
		rc = posix_spawn(&pid, pc->prog, &fa, &at, argv, pc->env ? pc->env : environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return rc;
	*s = (struct slot){ .pid = pid, .job = j, .start_ms = mono_ms(),
			    .pidfd = pidfd_open(pid, 0) };
	return 0;
}

/* Start job j (taken from the queue, counted running). */
static void
start_job(struct lc_postcmd *pc, struct job *j)
{
	struct slot *s = NULL;
	struct stat st;
	int rc;

	/* Retired (-W, --retain-bytes, a full disk) while it waited: nothing to run on. */
	if (j->seen && lstat(j->path, &st) != 0 && errno == ENOENT) {
		LC_LOG(WARNING, "-z: %s: deleted before its command could run (retired by -W, "
		       "--retain-bytes or a full disk?): no command", j->path);
		free(j);
		pthread_mutex_lock(&pc->lock);
		ended_locked(pc, true, false);
		pthread_mutex_unlock(&pc->lock);
		return;
	}
	for (unsigned int i = 0; i < pc->jobs && s == NULL; i++)
		if (pc->slots[i].pid == 0)
			s = &pc->slots[i];
	rc = s != NULL ? spawn(pc, s, j) : EAGAIN;
	if (rc == 0)
		return;
	LC_LOG(WARNING, "-z: %s %s: cannot run: %s", pc->command, j->path, strerror(rc));
	free(j);
	pthread_mutex_lock(&pc->lock);
	ended_locked(pc, true, false);
	pthread_mutex_unlock(&pc->lock);
}

/* Slot s's command has ended with status: log it, free the slot. */
static void
finish(struct lc_postcmd *pc, struct slot *s, int status)
{
	double secs = (double)(mono_ms() - s->start_ms) / 1000.0;
	bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	if (s->termed)
		LC_LOG(WARNING, "-z: %s %s: timed out after %g s, killed (%s)", pc->command,
		       s->job->path, (double)pc->timeout_ms / 1000.0,
		       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "it exited then");
	else if (!failed)
		LC_LOG(NOTICE, "-z: %s %s: exit 0 in %.1f s", pc->command, s->job->path, secs);
	else if (WIFEXITED(status))
		LC_LOG(WARNING, "-z: %s %s: exited %d after %.1f s", pc->command, s->job->path,
		       WEXITSTATUS(status), secs);
	else
		LC_LOG(WARNING, "-z: %s %s: killed by signal %d (%s) after %.1f s", pc->command,
		       s->job->path, WTERMSIG(status), strsignal(WTERMSIG(status)), secs);
	free(s->job);
	if (s->pidfd >= 0)
		close(s->pidfd);
	pthread_mutex_lock(&pc->lock);
	ended_locked(pc, failed, s->termed);
	pthread_mutex_unlock(&pc->lock);
	*s = (struct slot){ 0 };
}

/* Look at every running command: reap those that ended, signal those past their time. */
static void
watch(struct lc_postcmd *pc)
{
	for (unsigned int i = 0; i < pc->jobs; i++) {
		struct slot *s = &pc->slots[i];
		siginfo_t si;
		uint64_t now;
		int status;

		if (s->pid == 0)
			continue;
		si.si_pid = 0;
		/* Ended? Looked at without reaping: its process group is still ours to signal. */
		if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid == s->pid) {
			if (s->termed)	/* what it left behind in its group goes with it */
				kill(-s->pid, SIGKILL);
			while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
				;
			finish(pc, s, status);
			continue;
		}
		now = mono_ms();
		if (pc->timeout_ms && !s->termed && now - s->start_ms >= pc->timeout_ms) {
			kill(-s->pid, SIGTERM);
			s->termed = true;
			s->term_ms = now;
		} else if (s->termed && !s->killed && now - s->term_ms >= pc->grace_ms) {
			kill(-s->pid, SIGKILL);
			s->killed = true;
		}
	}
}

static void
deadline_in(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000u;
	ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Sleep until a command ends (its pidfd), one is due a signal, or wake() is called. */
static void
sleep_until_due(struct lc_postcmd *pc)
{
	struct pollfd fds[1 + 64];
	unsigned int n = 1;
	int64_t due = 1000;	/* at least once a second */
	uint64_t now = mono_ms(), junk;

	fds[0] = (struct pollfd){ .fd = pc->wakefd, .events = POLLIN };
	for (unsigned int i = 0; i < pc->jobs; i++) {
		const struct slot *s = &pc->slots[i];
		int64_t at = INT64_MAX;

		if (s->pid == 0)
			continue;
		if (s->pidfd >= 0 && n < RTE_DIM(fds))
			fds[n++] = (struct pollfd){ .fd = s->pidfd, .events = POLLIN };
		else
			at = POLL_MS;
		if (pc->timeout_ms && !s->termed)
			at = RTE_MIN(at, (int64_t)(s->start_ms + pc->timeout_ms) - (int64_t)now);
		else if (s->termed && !s->killed)
			at = RTE_MIN(at, (int64_t)(s->term_ms + pc->grace_ms) - (int64_t)now);
		due = RTE_MIN(due, at);
	}
	if (due > 0 && poll(fds, n, (int)due) > 0 && (fds[0].revents & POLLIN))
		while (read(pc->wakefd, &junk, sizeof(junk)) > 0)
			;
}

static void *
runner(void *arg)
{
	struct lc_postcmd *pc = arg;

	pthread_mutex_lock(&pc->lock);
	for (;;) {
		while (pc->c.running < pc->jobs && pc->head != NULL) {
			struct job *j = pc->head;

			pc->head = j->next;
			if (pc->head == NULL) {
				pc->tail = NULL;
				pc->backlog_say = BACKLOG_SAY;	/* caught up: say it anew */
			}
			pc->c.queued--;
			pc->c.running++;
			pthread_mutex_unlock(&pc->lock);
			start_job(pc, j);
			pthread_mutex_lock(&pc->lock);
		}
		if (pc->stop && pc->head == NULL && pc->c.running == 0)
			break;
		pthread_mutex_unlock(&pc->lock);
		watch(pc);
		pthread_mutex_lock(&pc->lock);
		if (pc->c.running < pc->jobs && pc->head != NULL)
			continue;	/* a slot came free for a waiting job */
		if (pc->stop && pc->head == NULL && pc->c.running == 0)
			break;
		pthread_mutex_unlock(&pc->lock);
		sleep_until_due(pc);
		pthread_mutex_lock(&pc->lock);
	}
	pthread_mutex_unlock(&pc->lock);
	return NULL;
}

/* -Z made linecap another user since create: its commands get that user's HOME, USER and
 * LOGNAME (not root's), the rest of the environment as it is. NULL: nothing to change or no
 * memory (then linecap's own). */
static char **
user_environment(uid_t was)
{
	static const char *const mine[] = { "HOME=", "USER=", "LOGNAME=" };
	const struct passwd *pw = geteuid() != was ? getpwuid(geteuid()) : NULL;
	size_t n = 0, k = 0, len;
	char **env, *text;

	if (pw == NULL)
		return NULL;
	while (environ[n] != NULL)
		n++;
	len = 3 * strlen(pw->pw_name) + strlen(pw->pw_dir) + 32;
	env = calloc(n + 4, sizeof(*env));
	text = malloc(len);
	if (env == NULL || text == NULL) {
		free(env);
		free(text);
		return NULL;
	}
	env[k++] = text;	/* the three in one allocation: env[0] frees them */
	text += sprintf(text, "HOME=%s", pw->pw_dir) + 1;
	env[k++] = text;
	text += sprintf(text, "USER=%s", pw->pw_name) + 1;
	env[k++] = text;
	sprintf(text, "LOGNAME=%s", pw->pw_name);
	for (size_t i = 0; i < n; i++) {
		bool replaced = false;

		for (size_t m = 0; m < RTE_DIM(mine); m++)
			replaced |= strncmp(environ[i], mine[m], strlen(mine[m])) == 0;
		if (!replaced)
			env[k++] = environ[i];
	}
	return env;
}

int
lc_postcmd_start(struct lc_postcmd *pc, char *err, size_t errlen)
{
	/* A control thread: on the CPUs no lcore uses (else the main lcore's), and so are the
	 * commands it starts; never an RX or writer core. */
	int rc;

	pc->env = user_environment(pc->uid);	/* before the thread that reads it */
	rc = rte_ctrl_thread_create(&pc->thread, "lc-postcmd", NULL, runner, pc);

	if (rc != 0) {
		snprintf(err, errlen, "-z: cannot start its thread: %s", strerror(rc));
		return -rc;
	}
	pc->started = true;
	/* -Z has dropped root by now: say so where the command cannot run as this user. */
	if (access(pc->prog, X_OK) != 0)
		LC_LOG(WARNING, "-z: %s: not executable as uid %u: every file's command will fail",
		       pc->prog, (unsigned int)geteuid());
	return 0;
}

void
lc_postcmd_drain(struct lc_postcmd *pc)
{
	uint64_t said = 0;
	struct timespec ts;

	pthread_mutex_lock(&pc->lock);
	while (pc->started && pc->c.queued + pc->c.running > 0) {
		uint64_t now = mono_ms();

		if (said == 0 || now - said >= DRAIN_SAY_S * 1000u) {
			unsigned int n = pc->c.queued + pc->c.running;

			LC_LOG(NOTICE, "waiting for %u -z command%s (%u running, %u queued)%s", n,
			       n == 1 ? "" : "s", pc->c.running, pc->c.queued,
			       pc->timeout_ms ? "" : "; no --postrotate-timeout: as long as they take");
			said = now;
		}
		deadline_in(&ts, 1000u);
		pthread_cond_timedwait(&pc->idle, &pc->lock, &ts);
	}
	pthread_mutex_unlock(&pc->lock);
}

void
lc_postcmd_free(struct lc_postcmd *pc)
{
	struct job *j;

	if (pc == NULL)
		return;
	if (pc->started) {
		lc_postcmd_drain(pc);
		pthread_mutex_lock(&pc->lock);
		pc->stop = true;
		pthread_mutex_unlock(&pc->lock);
		wake(pc);
		pthread_join(pc->thread, NULL);
	}
	while ((j = pc->head) != NULL) {	/* never started: nothing ran */
		pc->head = j->next;
		free(j);
	}
	while ((j = pc->held) != NULL) {
		pc->held = j->next;
		free(j);
	}
	pthread_cond_destroy(&pc->idle);
	close(pc->wakefd);
	pthread_mutex_destroy(&pc->lock);
	free(pc->cwd);
	if (pc->env != NULL)
		free(pc->env[0]);
	free(pc->env);
	free(pc->argv);
	free(pc->slots);
	free(pc->command);
	free(pc);
}
