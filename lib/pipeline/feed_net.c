/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The feed thread: accepts clients (or connects out), moves records from the writers'
 * rings into each client's bounded buffer, sends without blocking, and lets go of clients
 * that stall, reset or overflow. Nothing here can make a writer wait: the rings are the
 * writers' and never block them; a client can only lose its own packets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "feed_priv.h"
#include "log.h"

#define ROUND_BYTES (4u << 20)		/* taken from a ring per round, between sends */
#define IDLE_WAIT_MS 1			/* rings are looked at this often when idle */
#define DRAIN_NS 2000000000ull		/* at the end: clients get this long to take the rest */
#define BACKOFF_MIN_MS 250u
#define BACKOFF_MAX_MS 30000u
#define STEADY_NS 10000000000ull	/* a connection this old resets the backoff */
#define ACCEPTS_PER_ROUND 64u
#define READ_PER_ROUND 65536u		/* what a client sends us is read and thrown away */
#define EMFILE_PAUSE_NS 100000000ull

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
peer_name(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(out, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(out, len, "%s:%u", a, ntohs(s4->sin_port));
	}
}

/* Clients that take packets (connected), for the writers. */
static void
publish_active(struct lc_feed *f)
{
	uint32_t n = 0;

	for (unsigned int i = 0; i < f->nclients; i++)
		n += !f->client[i]->connecting;
	__atomic_store_n(&f->active, n, __ATOMIC_RELAXED);
}

/* A new connection, its buffer holding the file header. NULL: out of memory (fd closed). */
static struct lc_feed_client *
client_new(struct lc_feed *f, struct lc_feeds *fs, int fd, const char *peer, int connecting)
{
	struct lc_feed_client *c = calloc(1, sizeof(*c));
	uint64_t size = 1;
	struct lc_feed_client **more;

	while (size < f->spec.buffer)
		size <<= 1;
	if (c == NULL || (c->buf = malloc(size)) == NULL) {
		free(c);
		close(fd);
		LC_LOG_RL(WARNING, "feed %s: out of memory for a client", f->name);
		return NULL;
	}
	c->fd = fd;
	c->connecting = connecting;
	c->mask = size - 1;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	memcpy(c->buf, f->file_hdr, LC_FEED_FILE_HDR);
	c->w = c->next_rec = LC_FEED_FILE_HDR;
	c->opened_ns = c->last_progress_ns = now_ns();
	pthread_mutex_lock(&fs->lock);
	more = realloc(f->client, (f->nclients + 1) * sizeof(*more));
	if (more != NULL) {
		f->client = more;
		f->client[f->nclients++] = c;
		f->clients += !connecting;
	}
	pthread_mutex_unlock(&fs->lock);
	if (more == NULL) {
		free(c->buf);
		free(c);
		close(fd);
		return NULL;
	}
	publish_active(f);
	return c;
}

/* Let client i go; what it had queued and not sent is counted apart (unsent when it left:
 * not a loss while it was reading). */
static void
client_close(struct lc_feed *f, struct lc_feeds *fs, unsigned int i, const char *why)
{
	struct lc_feed_client *c = f->client[i];
	const uint64_t unsent = c->queued - c->sent;

	pthread_mutex_lock(&fs->lock);
	__atomic_store_n(&c->unsent, unsent, __ATOMIC_RELAXED);
	if (!c->connecting)
		lc_feed_client_ended(f, c, why);
	f->client[i] = f->client[--f->nclients];
	pthread_mutex_unlock(&fs->lock);
	if (!c->connecting)	/* a connect-and-reset loop must not flood the log */
		LC_LOG_RL(NOTICE, "feed %s: client %s: %s; %" PRIu64 " packets sent, %" PRIu64
			  " dropped, %" PRIu64 " unsent as it left (at most one such line a second; "
			  "the summary lists clients)", f->name, c->peer, why, c->sent, c->drops,
			  unsent);
	if (f->spec.connect) {	/* try again: at once after a steady connection */
		uint64_t now = now_ns();

		if (!c->connecting && now - c->opened_ns > STEADY_NS)
			f->backoff_ms = 0;
		f->backoff_ms = f->backoff_ms ? RTE_MIN(f->backoff_ms * 2, BACKOFF_MAX_MS) :
				BACKOFF_MIN_MS;
		f->retry_ns = now + (uint64_t)f->backoff_ms * 1000000u;
	}
	close(c->fd);
	free(c->buf);
	free(c);
	publish_active(f);
}

static int client_send(struct lc_feed_client *c, uint64_t now);

/* One record (len bytes at tail of ring r) into every client with room; the rest drop. */
static void
fan_out(struct lc_feed *f, const struct lc_feed_ring *r, uint64_t tail, uint32_t len,
	uint64_t now)
{
	const size_t at = tail & r->mask, first = RTE_MIN((size_t)len, r->mask + 1 - at);

	for (unsigned int i = 0; i < f->nclients; i++) {
		struct lc_feed_client *c = f->client[i];

		if (c->connecting)
			continue;
		/* The record partly sent holds its place (and the file header, before the
		 * first send): its header is read once it is. A full buffer tries its socket
		 * once before the record is dropped. */
		if (c->w + len - RTE_MIN(c->r, c->next_rec) > c->mask + 1 && !c->blocked)
			client_send(c, now);	/* an error shows in poll */
		if (c->w + len - RTE_MIN(c->r, c->next_rec) > c->mask + 1) {
			__atomic_store_n(&c->drops, c->drops + 1, __ATOMIC_RELAXED);
			continue;
		}
		if (c->w == c->r)
			c->last_progress_ns = now;	/* the stall clock starts now */
		lc_feed_ring_put(c->buf, c->mask, c->w, r->buf + at, first);
		lc_feed_ring_put(c->buf, c->mask, c->w + first, r->buf, len - first);
		c->w += len;
		c->queued++;
	}
}

/* Records from the writers' rings to the clients: bytes taken. */
static uint64_t
take(struct lc_feed *f, uint64_t now, int *more)
{
	uint64_t moved = 0;

	for (unsigned int k = 0; k < f->nrings; k++) {
		struct lc_feed_ring *r = f->ring[k];
		const uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		uint64_t tail = r->tail, start = tail;

		while (tail != head && tail - start < ROUND_BYTES) {
			uint32_t h[4];

			lc_feed_ring_get(r->buf, r->mask, tail, h, sizeof(h));
			fan_out(f, r, tail, LC_FEED_REC_HDR + h[2], now);
			tail += LC_FEED_REC_HDR + h[2];
		}
		*more |= tail != head;
		moved += tail - start;
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	}
	return moved;
}

/* Send what client c has queued, as much as its socket takes. 0, or -errno. */
static int
client_send(struct lc_feed_client *c, uint64_t now)
{
	const uint64_t size = c->mask + 1;
	size_t at = c->r & c->mask, n = c->w - c->r;
	struct iovec iov[2] = {
		{ c->buf + at, RTE_MIN(n, size - at) },
		{ c->buf, n - RTE_MIN(n, size - at) },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = iov[1].iov_len ? 2 : 1 };
	uint64_t sent = c->sent;
	ssize_t k;

	if (n == 0)
		return 0;
	k = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	c->blocked = k < 0 && errno == EAGAIN;	/* until poll says it takes more */
	if (k < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	c->r += (uint64_t)k;
	c->last_progress_ns = now;
	/* Whole records sent (their headers are still in the buffer: nothing was queued
	 * since, and fan_out leaves the partly sent one its place). */
	while (c->next_rec < c->r) {
		uint32_t caplen;

		lc_feed_ring_get(c->buf, c->mask, c->next_rec + 8, &caplen, sizeof(caplen));
		if (c->next_rec + LC_FEED_REC_HDR + caplen > c->r)
			break;
		c->next_rec += LC_FEED_REC_HDR + caplen;
		sent++;
	}
	__atomic_store_n(&c->sent, sent, __ATOMIC_RELAXED);
	__atomic_store_n(&c->sent_bytes, c->sent_bytes + (uint64_t)k, __ATOMIC_RELAXED);
	return 0;
}

/* A client's socket: a bounded kernel buffer (what it holds is not the client's yet), and
 * keepalive, so that a peer gone without a word is found within ~25 s. */
static void
tune_socket(int fd)
{
	int sndbuf = LC_FEED_SNDBUF, on = 1, idle = 10, intvl = 5, cnt = 3;

	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* At max-clients: the oldest client that closed its side and has nothing waiting makes
 * room (a reader that half-closed still reads while there is room). 1 if one went. */
static int
make_room(struct lc_feed *f, struct lc_feeds *fs)
{
	unsigned int old = f->nclients;

	for (unsigned int i = 0; i < f->nclients; i++)
		if (f->client[i]->eof && f->client[i]->w == f->client[i]->r &&
		    (old == f->nclients || f->client[i]->opened_ns < f->client[old]->opened_ns))
			old = i;
	if (old == f->nclients)
		return 0;
	client_close(f, fs, old, "it closed its side; its place went to a new client");
	return 1;
}

/* New clients of a listening feed, up to its max-clients (and the descriptors the capture
 * keeps); the others are closed. */
static void
accept_clients(struct lc_feed *f, struct lc_feeds *fs, uint64_t now)
{
	for (unsigned int k = 0; k < ACCEPTS_PER_ROUND; k++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char peer[64];
		int fd = accept4(f->listen_fd, (struct sockaddr *)&ss, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			       errno == ENOMEM)) {
			LC_LOG_RL(WARNING, "feed %s: cannot accept a client: %s", f->name,
				  strerror(errno));
			f->listen_pause_ns = now + EMFILE_PAUSE_NS;
		}
		if (fd < 0)
			return;
		peer_name(&ss, peer, sizeof(peer));
		if ((unsigned long)fd + LC_FEED_FD_RESERVE >= fs->fd_limit ||
		    (f->nclients >= f->spec.max_clients && !make_room(f, fs))) {
			close(fd);
			pthread_mutex_lock(&fs->lock);
			f->refused++;
			pthread_mutex_unlock(&fs->lock);
			LC_LOG_RL(WARNING, "feed %s: refused %s: %s", f->name, peer,
				  f->nclients >= f->spec.max_clients ? "max-clients reached" :
				  "the open files left are the capture's");
			continue;
		}
		tune_socket(fd);
		if (client_new(f, fs, fd, peer, 0) != NULL)
			LC_LOG_RL(NOTICE, "feed %s: client %s connected (at most one such line a "
				  "second)", f->name, peer);
	}
}

/* Connect mode: start a connection when none is open and the backoff allows. */
static void
connect_out(struct lc_feed *f, struct lc_feeds *fs, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (f->nclients != 0 || now < f->retry_ns)
		return;
	len = lc_feed_sockaddr(&f->spec, &ss);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		f->retry_ns = now + BACKOFF_MAX_MS * 1000000ull;
		return;
	}
	tune_socket(fd);
	if (connect(fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS) {
		LC_LOG_EVERY(30, WARNING, "feed %s: connecting: %s (trying again)", f->name,
			     strerror(errno));
		close(fd);
		f->backoff_ms = f->backoff_ms ? RTE_MIN(f->backoff_ms * 2, BACKOFF_MAX_MS) :
				BACKOFF_MIN_MS;
		f->retry_ns = now + (uint64_t)f->backoff_ms * 1000000u;
		return;
	}
	client_new(f, fs, fd, f->name + 2, 1);
}

/* A connection out finished connecting (or failed). 0, or -errno. */
static int
connected(struct lc_feed *f, struct lc_feeds *fs, struct lc_feed_client *c, uint64_t now)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
		e = errno;
	if (e != 0) {
		LC_LOG_EVERY(30, WARNING, "feed %s: connecting: %s (trying again)", f->name,
			     strerror(e));
		return -e;
	}
	pthread_mutex_lock(&fs->lock);
	c->connecting = 0;
	f->clients++;
	pthread_mutex_unlock(&fs->lock);
	c->opened_ns = c->last_progress_ns = now;
	LC_LOG(NOTICE, "feed %s: connected", f->name);
	publish_active(f);
	return 0;
}

/* Read and throw away what the client sent; 0 at its end of stream, -errno, or 1. */
static int
client_read(struct lc_feed_client *c)
{
	static __thread uint8_t sink[READ_PER_ROUND];
	ssize_t k = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);

	if (k == 0)
		return 0;
	if (k < 0)
		return errno == EAGAIN || errno == EINTR ? 1 : -errno;
	return 1;
}

/* The events of client i: 0 kept, 1 closed. */
static int
client_events(struct lc_feed *f, struct lc_feeds *fs, unsigned int i, short ev, uint64_t now)
{
	struct lc_feed_client *c = f->client[i];
	char why[64] = "";
	int rc = 0;

	if (c->connecting && (ev & (POLLOUT | POLLERR | POLLHUP))) {
		rc = connected(f, fs, c, now);
		if (rc < 0) {
			client_close(f, fs, i, "connect failed");
			return 1;
		}
		return 0;
	}
	if ((ev & POLLIN) && !c->eof) {
		rc = client_read(c);
		if (rc == 0)
			c->eof = 1;	/* a half-close: it may still read */
	}
	if (rc >= 0 && (ev & POLLOUT))
		rc = client_send(c, now);
	if (rc >= 0 && (ev & (POLLERR | POLLHUP)))
		rc = -ECONNRESET;	/* reset, or both ways shut */
	if (rc >= 0)
		return 0;
	snprintf(why, sizeof(why), "%s", rc == -EPIPE || rc == -ECONNRESET ?
		 "disconnected" : strerror(-rc));
	client_close(f, fs, i, why);
	return 1;
}

/* Clients that took nothing for the stall time, and connections out that never made it. */
static void
stall_check(struct lc_feed *f, struct lc_feeds *fs, uint64_t now)
{
	const uint64_t stall = (uint64_t)f->spec.stall_ms * 1000000u;

	for (unsigned int i = f->nclients; i-- > 0;) {
		struct lc_feed_client *c = f->client[i];
		char why[64];

		if ((c->w == c->r && !c->connecting) || now - c->last_progress_ns <= stall)
			continue;
		snprintf(why, sizeof(why), "%s for %.1f s", c->connecting ? "no connection" :
			 "stalled", f->spec.stall_ms / 1000.0);
		client_close(f, fs, i, why);
	}
}

struct poll_set {
	struct pollfd *pfd;
	unsigned int n, cap;
};

static int
poll_add(struct poll_set *ps, int fd, short events)
{
	if (ps->n == ps->cap) {
		unsigned int cap = ps->cap ? ps->cap * 2 : 64;
		struct pollfd *p = realloc(ps->pfd, cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		ps->pfd = p;
		ps->cap = cap;
	}
	ps->pfd[ps->n++] = (struct pollfd){ .fd = fd, .events = events };
	return 0;
}

/* Every socket of every feed, in order: the listener (if listening), then the clients. */
static void
poll_build(struct lc_feeds *fs, struct poll_set *ps, uint64_t now, int stopping)
{
	ps->n = 0;
	for (unsigned int i = 0; i < fs->n; i++) {
		struct lc_feed *f = &fs->feed[i];

		if (f->listen_fd >= 0)
			poll_add(ps, stopping || now < f->listen_pause_ns ? -1 : f->listen_fd,
				 POLLIN);
		for (unsigned int k = 0; k < f->nclients; k++) {
			const struct lc_feed_client *c = f->client[k];
			short ev = c->connecting ? POLLOUT :
				   (short)((c->eof ? 0 : POLLIN) | (c->w != c->r ? POLLOUT : 0));

			poll_add(ps, c->fd, ev);
		}
	}
}

/* Act on what poll found (ps was built by poll_build for the same clients). */
static void
poll_handle(struct lc_feeds *fs, const struct poll_set *ps, uint64_t now)
{
	unsigned int at = 0;

	for (unsigned int i = 0; i < fs->n; i++) {
		struct lc_feed *f = &fs->feed[i];
		const unsigned int n = f->nclients;
		short lev = 0;

		if (f->listen_fd >= 0)
			lev = ps->pfd[at++].revents;
		/* Clients close by swapping the last into their place: walk down. */
		for (unsigned int j = n; j-- > 0;)
			if (ps->pfd[at + j].revents != 0)
				client_events(f, fs, j, ps->pfd[at + j].revents, now);
		at += n;
		if (lev & POLLIN)
			accept_clients(f, fs, now);
	}
}

void
lc_feeds_accept_waiting(struct lc_feeds *fs)
{
	uint64_t now = now_ns();

	for (unsigned int i = 0; i < fs->n; i++)
		if (fs->feed[i].listen_fd >= 0)
			accept_clients(&fs->feed[i], fs, now);
}

static int
all_sent(const struct lc_feeds *fs)
{
	for (unsigned int i = 0; i < fs->n; i++)
		for (unsigned int k = 0; k < fs->feed[i].nclients; k++)
			if (fs->feed[i].client[k]->w != fs->feed[i].client[k]->r &&
			    !fs->feed[i].client[k]->connecting)
				return 0;
	return 1;
}

void *
lc_feed_thread(void *arg)
{
	struct lc_feeds *fs = arg;
	struct poll_set ps = { 0 };
	uint64_t drain_from = 0, last_check = 0;

	for (;;) {
		const int stopping = __atomic_load_n(&fs->stop, __ATOMIC_ACQUIRE);
		uint64_t now = now_ns(), moved = 0;
		int more = 0;

		for (unsigned int i = 0; i < fs->n; i++)
			moved += take(&fs->feed[i], now, &more);
		if (stopping && !more) {
			if (drain_from == 0)
				drain_from = now;
			if (all_sent(fs) || now - drain_from > DRAIN_NS)
				break;
		}
		if (now - last_check > 100000000ull) {	/* 10 times a second */
			last_check = now;
			for (unsigned int i = 0; i < fs->n; i++) {
				stall_check(&fs->feed[i], fs, now);
				if (fs->feed[i].spec.connect && !stopping)
					connect_out(&fs->feed[i], fs, now);
			}
		}
		poll_build(fs, &ps, now, stopping);
		if (poll(ps.pfd, ps.n, moved || more ? 0 : IDLE_WAIT_MS) > 0)
			poll_handle(fs, &ps, now_ns());
	}
	for (unsigned int i = 0; i < fs->n; i++)
		while (fs->feed[i].nclients > 0)
			client_close(&fs->feed[i], fs, fs->feed[i].nclients - 1,
				     "the capture ended");
	free(ps.pfd);
	return NULL;
}
