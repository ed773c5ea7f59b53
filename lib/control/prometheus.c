/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "linecap/control.h"
#include "linecap/log.h"
#include "linecap/prometheus.h"
#include "linecap/stats.h"

#define POLL_MS 200
#define REQUEST_MAX 2048

struct lc_prometheus {
	int fd;
	int stop;
	int started;
	pthread_t thread;
	struct lc_live live;	/* the copy being served */
};

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
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(p->fd, 8) != 0) {
		snprintf(err, errlen, "--prometheus %s: %s", spec, strerror(errno));
		if (p->fd >= 0)
			close(p->fd);
		free(p);
		return NULL;
	}
	return p;
}

static void
metric(FILE *f, const char *name, const char *help, const char *type)
{
	fprintf(f, "# HELP linecap_%s %s\n# TYPE linecap_%s %s\n", name, help, name, type);
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
		Q("ring_drops_total", "Packets dropped because the queue's ring was full.",
		  ring_drops),
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
	metric(f, "ring_used", "Packets waiting in the queue's ring.", "gauge");
	for (unsigned int q = 0; q < s->nq; q++)
		fprintf(f, "linecap_ring_used{queue=\"%u\"} %u\n", q, l->ring_used[q]);
	metric(f, "ring_size", "Packets each ring holds.", "gauge");
	fprintf(f, "linecap_ring_size %u\n", l->ring_size);
	metric(f, "port_drops_total", "Packets the port lost, by reason.", "counter");
	fprintf(f, "linecap_port_drops_total{reason=\"imissed\"} %" PRIu64 "\n", s->imissed);
	fprintf(f, "linecap_port_drops_total{reason=\"rx_nombuf\"} %" PRIu64 "\n", s->rx_nombuf);
	fprintf(f, "linecap_port_drops_total{reason=\"ierrors\"} %" PRIu64 "\n", s->ierrors);
	metric(f, "bytes_on_disk", "Bytes of the capture's files and manifest now.", "gauge");
	fprintf(f, "linecap_bytes_on_disk %" PRIu64 "\n", l->bytes_on_disk);
	metric(f, "uptime_seconds", "Seconds since the capture started.", "gauge");
	fprintf(f, "linecap_uptime_seconds %.3f\n", s->seconds);
}

/* One request: read its first line, answer, close. */
static void
serve(struct lc_prometheus *p, int c)
{
	char req[REQUEST_MAX], *body = NULL;
	size_t len = 0, blen = 0;
	struct pollfd pf = { .fd = c, .events = POLLIN };
	const char *status = "404 Not Found";
	FILE *f;

	while (len < sizeof(req) - 1 && memchr(req, '\n', len) == NULL &&
	       poll(&pf, 1, 2000) == 1) {
		ssize_t n = read(c, req + len, sizeof(req) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	req[len] = '\0';
	f = open_memstream(&body, &blen);
	if (f == NULL)
		return;
	if (strncmp(req, "GET /metrics ", 13) == 0 || strncmp(req, "GET /metrics?", 13) == 0) {
		status = "200 OK";
		if (lc_control_snapshot(&p->live))
			lc_prometheus_format(f, &p->live);
	} else {
		fputs("linecap serves /metrics only\n", f);
	}
	fclose(f);
	dprintf(c, "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
		"Content-Length: %zu\r\nConnection: close\r\n\r\n", status, blen);
	for (size_t off = 0; off < blen;) {
		ssize_t n = write(c, body + off, blen - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(body);
}

static void *
serve_main(void *arg)
{
	struct lc_prometheus *p = arg;
	struct pollfd pf = { .fd = p->fd, .events = POLLIN };

	while (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
		if (poll(&pf, 1, POLL_MS) != 1)
			continue;
		int c = accept4(p->fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		serve(p, c);
		close(c);
	}
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
		__atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
		pthread_join(p->thread, NULL);
	}
	close(p->fd);
	free(p);
}
