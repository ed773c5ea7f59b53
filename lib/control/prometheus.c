/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus endpoint: one thread, one poll loop over the listening socket, a wake-up
 * eventfd and up to conn_max non-blocking connections. No client can hold it: each has one
 * deadline for its whole request (accept to last byte sent), a new connection beyond the cap
 * takes the place of an idle one, and a stop wakes the loop at once. Every send is
 * MSG_NOSIGNAL, so a client that resets never raises SIGPIPE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "linecap/control.h"
#include "log.h"
#include "linecap/prometheus.h"
#include "linecap/stats.h"

#define REQUEST_MS 3000		/* a whole request, from accept to the reply's last byte */
#define LINE_MAX_BYTES 8192	/* a request line longer than this is answered 400 */
#define CONN_MAX 512		/* connections at once (fewer when RLIMIT_NOFILE is low) */
#define NOFILE_WANT 4096	/* soft RLIMIT_NOFILE asked for, up to the hard limit */
#define BACKLOG 1024
#define ACCEPT_PAUSE_MS 100	/* out of descriptors with nothing to evict: wait this long */
#define REPORT_MS 60000		/* client failures are logged at most once a minute */

enum conn_state { CONN_FREE, CONN_READ, CONN_WRITE, CONN_DRAIN };

struct conn {
	int fd;
	enum conn_state state;
	uint64_t since_ms;	/* accepted; the oldest makes room first */
	uint64_t deadline_ms;
	size_t seen;		/* bytes of the request line read so far */
	char head[16];		/* its first bytes: enough to tell GET /metrics */
	char *out;		/* the reply, header and body */
	size_t outlen, outoff;
};

struct lc_prometheus {
	int fd;
	int wake;		/* eventfd: lc_prometheus_free wakes the loop with it */
	int stop;
	int started;
	unsigned int conn_max;
	pthread_t thread;
	struct conn *conn;	/* conn_max slots */
	struct pollfd *pfd;	/* 2 + conn_max */
	unsigned int *pslot;	/* pfd[2 + i] is conn[pslot[i]] */
	struct {		/* client failures since the last report */
		uint64_t reset, timeout, evicted, refused;
	} fail;
	uint64_t reported_ms;
	struct lc_live live;	/* the copy being served */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A thousand idle clients must not starve the capture of descriptors: raise the soft limit
 * toward the hard one, and serve at most a quarter of what is allowed. */
static unsigned int
conn_budget(void)
{
	struct rlimit rl;
	rlim_t want = NOFILE_WANT;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 64;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		struct rlimit up = { .rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ?
				     want : rl.rlim_max, .rlim_max = rl.rlim_max };

		if (up.rlim_cur > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl.rlim_cur = up.rlim_cur;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur / 4 >= CONN_MAX)
		return CONN_MAX;
	return rl.rlim_cur / 4 < 8 ? 8 : (unsigned int)(rl.rlim_cur / 4);
}

static void
prometheus_release(struct lc_prometheus *p)
{
	if (p->fd >= 0)
		close(p->fd);
	if (p->wake >= 0)
		close(p->wake);
	free(p->conn);
	free(p->pfd);
	free(p->pslot);
	free(p);
}

struct lc_prometheus *
lc_prometheus_bind(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *colon = strrchr(spec, ':');
	char host[64] = "127.0.0.1", *end;
	unsigned long port;
	struct lc_prometheus *p;
	int one = 1;

	if (colon != NULL) {
		if ((size_t)(colon - spec) >= sizeof(host) || colon == spec) {
			snprintf(err, errlen, "--prometheus %s: expected [ADDR:]PORT", spec);
			return NULL;
		}
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
	}
	errno = 0;
	port = strtoul(colon ? colon + 1 : spec, &end, 10);
	if (errno != 0 || *end != '\0' || end == (colon ? colon + 1 : spec) || port == 0 ||
	    port > 65535) {
		snprintf(err, errlen, "--prometheus %s: the port must be 1..65535", spec);
		return NULL;
	}
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "--prometheus %s: '%s' is not an IPv4 address", spec, host);
		return NULL;
	}
	sa.sin_port = htons((uint16_t)port);
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "--prometheus %s: out of memory", spec);
		return NULL;
	}
	p->wake = -1;
	p->conn_max = conn_budget();
	p->conn = calloc(p->conn_max, sizeof(*p->conn));
	p->pfd = calloc(2 + p->conn_max, sizeof(*p->pfd));
	p->pslot = calloc(p->conn_max, sizeof(*p->pslot));
	if (p->conn == NULL || p->pfd == NULL || p->pslot == NULL) {
		p->fd = -1;
		prometheus_release(p);
		snprintf(err, errlen, "--prometheus %s: out of memory", spec);
		return NULL;
	}
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(p->fd, BACKLOG) != 0 ||
	    (p->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "--prometheus %s: %s", spec, strerror(errno));
		prometheus_release(p);
		return NULL;
	}
	return p;
}

static void
metric(FILE *f, const char *name, const char *help, const char *type)
{
	fprintf(f, "# HELP linecap_%s %s\n# TYPE linecap_%s %s\n", name, help, name, type);
}

/* --feed: per feed, and per client connected now (labels are ADDR:PORT, nothing to
 * escape). */
static void
format_feeds(FILE *f, const struct lc_stats *s)
{
	if (s->nfeeds == 0)
		return;
	metric(f, "feed_sent_packets_total", "Packets a live feed sent, all clients.", "counter");
	for (unsigned int i = 0; i < s->nfeeds; i++)
		fprintf(f, "linecap_feed_sent_packets_total{feed=\"%s\"} %" PRIu64 "\n",
			s->feeds[i].name, s->feeds[i].sent);
	metric(f, "feed_drops_total", "Packets a live feed lost (its buffer or its clients' "
	       "full), all clients; never the capture's.", "counter");
	for (unsigned int i = 0; i < s->nfeeds; i++)
		fprintf(f, "linecap_feed_drops_total{feed=\"%s\"} %" PRIu64 "\n",
			s->feeds[i].name, s->feeds[i].drops);
	metric(f, "feed_clients", "Clients connected to a live feed now.", "gauge");
	for (unsigned int i = 0; i < s->nfeeds; i++)
		fprintf(f, "linecap_feed_clients{feed=\"%s\"} %" PRIu64 "\n", s->feeds[i].name,
			s->feeds[i].clients_now);
	metric(f, "feed_client_drops_total", "Packets a connected client of a live feed lost.",
	       "counter");
	for (unsigned int i = 0; i < s->nfeeds; i++)
		for (unsigned int k = 0; k < s->feeds[i].nshown; k++)
			if (s->feeds[i].shown[k].connected)
				fprintf(f, "linecap_feed_client_drops_total{feed=\"%s\",client="
					"\"%s\"} %" PRIu64 "\n", s->feeds[i].name,
					s->feeds[i].shown[k].peer, s->feeds[i].shown[k].drops);
}

void
lc_prometheus_format(FILE *f, const struct lc_live *l)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} per_queue[] = {
#define Q(n, h, field) { n, h, offsetof(struct lc_queue_stats, field) }
		Q("received_packets_total", "Packets received on the RX queue.", received),
		Q("passed_filter_packets_total", "Packets the filter kept.", passed),
		Q("buffer_full_total", "Packets dropped because the queue's buffer was full.",
		  buffer_full),
		Q("written_packets_total", "Packets written to files.", written),
		Q("written_bytes_total", "Bytes written to files, headers included.",
		  written_bytes),
		Q("write_errors_total", "Packets lost to failed writes.", write_errors),
		Q("files_closed_total", "Files closed.", files),
#undef Q
	};
	const struct lc_stats *s = &l->now;

	for (size_t m = 0; m < RTE_DIM(per_queue); m++) {
		metric(f, per_queue[m].name, per_queue[m].help, "counter");
		for (unsigned int q = 0; q < s->nq; q++)
			fprintf(f, "linecap_%s{queue=\"%u\"} %" PRIu64 "\n", per_queue[m].name, q,
				*(const uint64_t *)((const char *)&s->q[q] + per_queue[m].off));
	}
	metric(f, "buffer_used_bytes", "Bytes of the queue's buffer in use (whole chunks: being "
	       "filled, or holding records on their way to the disk).", "gauge");
	for (unsigned int q = 0; q < s->nq; q++)
		fprintf(f, "linecap_buffer_used_bytes{queue=\"%u\"} %" PRIu64 "\n", q,
			l->buffer_used[q]);
	metric(f, "buffer_size_bytes", "Bytes of each queue's buffer (-B).", "gauge");
	fprintf(f, "linecap_buffer_size_bytes %" PRIu64 "\n", l->buffer_size);
	metric(f, "port_drops_total", "Packets the port lost, by reason.", "counter");
	fprintf(f, "linecap_port_drops_total{reason=\"imissed\"} %" PRIu64 "\n", s->imissed);
	fprintf(f, "linecap_port_drops_total{reason=\"rx_nombuf\"} %" PRIu64 "\n", s->rx_nombuf);
	fprintf(f, "linecap_port_drops_total{reason=\"ierrors\"} %" PRIu64 "\n", s->ierrors);
	metric(f, "bytes_on_disk", "Bytes of the capture's files and manifest now.", "gauge");
	fprintf(f, "linecap_bytes_on_disk %" PRIu64 "\n", l->bytes_on_disk);
	metric(f, "uptime_seconds", "Seconds since the capture started.", "gauge");
	fprintf(f, "linecap_uptime_seconds %.3f\n", s->seconds);
	format_feeds(f, s);
}

static void
conn_close(struct conn *c)
{
	close(c->fd);
	free(c->out);
	*c = (struct conn){ .fd = -1, .state = CONN_FREE };
}

/* Log what clients did wrong, at most once a minute (the first at once). */
static void
report(struct lc_prometheus *p, uint64_t now)
{
	uint64_t n = p->fail.reset + p->fail.timeout + p->fail.evicted + p->fail.refused;

	if (n == 0 || (p->reported_ms != 0 && now - p->reported_ms < REPORT_MS))
		return;
	LC_LOG(WARNING, "Prometheus endpoint: %" PRIu64 " client%s reset or left before their "
	       "reply, %" PRIu64 " timed out, %" PRIu64 " dropped to make room, %" PRIu64
	       " refused for want of descriptors (at most one such line a minute)",
	       p->fail.reset, p->fail.reset == 1 ? "" : "s", p->fail.timeout, p->fail.evicted,
	       p->fail.refused);
	memset(&p->fail, 0, sizeof(p->fail));
	p->reported_ms = now;
}

/* Is the request line (its first bytes in c->head, c->seen long) GET or HEAD /metrics,
 * the path ending at a space, a query, a carriage return or the end of the line? */
static int
asks_metrics(const struct conn *c)
{
	size_t skip = strncmp(c->head, "GET ", 4) == 0 ? 4 :
		      strncmp(c->head, "HEAD ", 5) == 0 ? 5 : 0;
	const char *path = c->head + skip;

	if (skip == 0 || strncmp(path, "/metrics", 8) != 0)
		return 0;
	return c->seen == skip + 8 || path[8] == ' ' || path[8] == '?' || path[8] == '\r';
}

/* The request line is whole (or too long, or cut by the client's EOF): build the reply
 * (headers only for HEAD) and start sending it. */
static void
answer(struct lc_prometheus *p, struct conn *c, int too_long)
{
	const char *status = "404 Not Found";
	char *body = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&body, &blen);
	int hlen;

	if (f == NULL) {
		conn_close(c);
		return;
	}
	if (too_long) {
		status = "400 Bad Request";
		fputs("request line too long\n", f);
	} else if (asks_metrics(c)) {
		status = "200 OK";
		if (lc_control_snapshot(&p->live))
			lc_prometheus_format(f, &p->live);
	} else {
		fputs("linecap serves /metrics only\n", f);
	}
	if (fclose(f) != 0 || body == NULL) {
		free(body);
		conn_close(c);
		return;
	}
	hlen = snprintf(NULL, 0, "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n", status, blen);
	c->out = malloc((size_t)hlen + blen + 1);
	if (c->out == NULL) {
		free(body);
		conn_close(c);
		return;
	}
	snprintf(c->out, (size_t)hlen + 1, "HTTP/1.0 %s\r\nContent-Type: text/plain; "
		 "version=0.0.4\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status, blen);
	if (!too_long && strncmp(c->head, "HEAD ", 5) == 0)
		blen = 0;	/* HEAD: the headers of the GET, without its body */
	memcpy(c->out + hlen, body, blen);
	free(body);
	c->outlen = (size_t)hlen + blen;
	c->outoff = 0;
	c->state = CONN_WRITE;
}

/* Read what is there: the request line until its newline; after the reply, whatever the
 * client still sends (closing with unread bytes would reset the reply away), until EOF. */
static void
conn_read(struct lc_prometheus *p, struct conn *c)
{
	char buf[2048];

	/* A few reads a turn: a client that streams cannot keep the loop to itself. */
	for (int turn = 0; turn < 8; turn++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);

		if (n == 0) {
			if (c->state == CONN_READ && c->seen > 0) {
				answer(p, c, 0);	/* a line without its newline: asked */
				return;
			}
			if (c->state == CONN_READ)
				p->fail.reset++;	/* left before asking */
			conn_close(c);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			if (c->state == CONN_READ)
				p->fail.reset++;
			conn_close(c);
			return;
		}
		if (c->state != CONN_READ)
			continue;	/* draining, or a request sent on after its line */
		const char *nl = memchr(buf, '\n', (size_t)n);
		size_t take = nl ? (size_t)(nl - buf) : (size_t)n;

		if (c->seen < sizeof(c->head) - 1) {
			size_t room = sizeof(c->head) - 1 - c->seen;

			memcpy(c->head + c->seen, buf, take < room ? take : room);
		}
		c->seen += take;
		if (nl != NULL || c->seen > LINE_MAX_BYTES) {
			answer(p, c, nl == NULL);
			return;		/* the caller sends */
		}
	}
}

/* Send what is left of the reply; once sent, say so (FIN) and drain until the client
 * closes. */
static void
conn_write(struct lc_prometheus *p, struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			p->fail.reset++;	/* EPIPE, ECONNRESET: it left first */
			conn_close(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->state = CONN_DRAIN;
	shutdown(c->fd, SHUT_WR);
	conn_read(p, c);
}

/* Close the connection least likely to be a real scrape still waiting (answered and
 * draining, then the oldest that sent nothing, then the oldest); its slot, or NULL if none
 * is open. */
static struct conn *
evict(struct lc_prometheus *p)
{
	struct conn *best = NULL;
	int best_rank = 3;

	for (unsigned int i = 0; i < p->conn_max; i++) {
		struct conn *c = &p->conn[i];
		int rank;

		if (c->state == CONN_FREE)
			continue;
		rank = c->state == CONN_DRAIN ? 0 : c->state == CONN_READ && c->seen == 0 ? 1 : 2;
		if (rank < best_rank || (rank == best_rank && c->since_ms < best->since_ms)) {
			best = c;
			best_rank = rank;
		}
	}
	if (best == NULL)
		return NULL;
	if (best->state != CONN_DRAIN)
		p->fail.evicted++;
	conn_close(best);
	return best;
}

/* Take the pending connections (at most conn_max a turn, so a flood cannot starve the
 * ones already open). 0, or -1 when out of descriptors with none to give back (the
 * listener then rests a moment rather than spin). */
static int
accept_all(struct lc_prometheus *p, uint64_t now)
{
	for (unsigned int taken = 0; taken < p->conn_max;) {
		int fd = accept4(p->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c = NULL;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS &&
			    errno != ENOMEM)
				return 0;	/* EAGAIN: none left */
			if (evict(p) != NULL)
				continue;	/* one descriptor given back: try again */
			p->fail.refused++;
			return -1;
		}
		for (unsigned int i = 0; i < p->conn_max && c == NULL; i++)
			if (p->conn[i].state == CONN_FREE)
				c = &p->conn[i];
		if (c == NULL)
			c = evict(p);
		*c = (struct conn){ .fd = fd, .state = CONN_READ, .since_ms = now,
				    .deadline_ms = now + REQUEST_MS };
		taken++;
	}
	return 0;
}

static void *
serve_main(void *arg)
{
	struct lc_prometheus *p = arg;
	uint64_t listen_after = 0;

	for (unsigned int i = 0; i < p->conn_max; i++)
		p->conn[i] = (struct conn){ .fd = -1, .state = CONN_FREE };
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = now_ms(), next = now + REPORT_MS;
		unsigned int n = 0;
		int rc;

		p->pfd[0] = (struct pollfd){ .fd = p->wake, .events = POLLIN };
		p->pfd[1] = (struct pollfd){ .fd = now >= listen_after ? p->fd : -1,
					     .events = POLLIN };
		if (now < listen_after && listen_after < next)
			next = listen_after;
		for (unsigned int i = 0; i < p->conn_max; i++) {
			struct conn *c = &p->conn[i];

			if (c->state == CONN_FREE)
				continue;
			if (now >= c->deadline_ms) {
				if (c->state != CONN_DRAIN)
					p->fail.timeout++;
				conn_close(c);
				continue;
			}
			if (c->deadline_ms < next)
				next = c->deadline_ms;
			p->pfd[2 + n] = (struct pollfd){ .fd = c->fd,
				.events = c->state == CONN_WRITE ? POLLOUT : POLLIN };
			p->pslot[n++] = i;
		}
		report(p, now);
		rc = poll(p->pfd, 2 + n, (int)(next - now));
		if (rc <= 0)
			continue;
		now = now_ms();
		for (unsigned int k = 0; k < n; k++) {
			struct conn *c = &p->conn[p->pslot[k]];

			if (p->pfd[2 + k].revents == 0 || c->state == CONN_FREE)
				continue;
			if (c->state != CONN_WRITE)
				conn_read(p, c);
			if (c->state == CONN_WRITE)
				conn_write(p, c);	/* the reply may be ready now */
		}
		if (p->pfd[1].revents != 0 && accept_all(p, now) < 0)
			listen_after = now + ACCEPT_PAUSE_MS;
	}
	for (unsigned int i = 0; i < p->conn_max; i++)
		if (p->conn[i].state != CONN_FREE)
			conn_close(&p->conn[i]);
	return NULL;
}

int
lc_prometheus_start(struct lc_prometheus *p)
{
	int rc = pthread_create(&p->thread, NULL, serve_main, p);

	if (rc != 0)
		return -rc;
	pthread_setname_np(p->thread, "lc-prometheus");
	p->started = 1;
	return 0;
}

void
lc_prometheus_free(struct lc_prometheus *p)
{
	if (p == NULL)
		return;
	if (p->started) {
		uint64_t one = 1;

		__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
		if (write(p->wake, &one, sizeof(one)) != sizeof(one))
			LC_LOG(WARNING, "Prometheus endpoint: cannot wake its thread: %s",
			       strerror(errno));
		pthread_join(p->thread, NULL);
	}
	prometheus_release(p);
}
