/* SPDX-License-Identifier: BSD-3-Clause */
/* Live feeds: set-up, the writers' side (rings), the counters. The sockets: feed_net.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_lcore.h>

#include "feed_priv.h"
#include "feed_tap.h"
#include "linecap/format.h"
#include "log.h"

#define BACKLOG 128

/* The sockaddr of host:port (numeric). Its length, 0 if host is not an address. */
socklen_t
lc_feed_sockaddr(const struct lc_feed_spec *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s->host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(s->port);
		return sizeof(*in4);
	}
	if (inet_pton(AF_INET6, s->host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(s->port);
		return sizeof(*in6);
	}
	return 0;
}

static int
listen_on(struct lc_feed *f, const char *given, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = lc_feed_sockaddr(&f->spec, &ss);
	int one = 1;

	f->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0 ||
	    setsockopt(f->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(f->listen_fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(f->listen_fd, BACKLOG) != 0) {
		snprintf(err, errlen, "--feed %s: cannot listen on %s: %s", given, f->name,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

/* The pcap file header every client gets first. */
static void
file_header(struct lc_feed *f)
{
	const uint32_t magic = f->spec.usec ? 0xa1b2c3d4u : 0xa1b23c4du;
	const uint16_t major = 2, minor = 4;
	const uint32_t zero = 0, linktype = 1;	/* Ethernet, as the files */

	memcpy(f->file_hdr, &magic, 4);
	memcpy(f->file_hdr + 4, &major, 2);
	memcpy(f->file_hdr + 6, &minor, 2);
	memcpy(f->file_hdr + 8, &zero, 4);
	memcpy(f->file_hdr + 12, &zero, 4);
	memcpy(f->file_hdr + 16, &f->snaplen, 4);
	memcpy(f->file_hdr + 20, &linktype, 4);
}

static int
feed_init(struct lc_feed *f, const struct lc_config *cfg, const char *given, char *err,
	  size_t errlen)
{
	char why[LC_ERRLEN];
	int rc;

	f->listen_fd = -1;
	rc = lc_feed_spec_parse(given, "--feed", &f->spec, err, errlen);
	if (rc < 0)
		return rc;
	snprintf(f->name, sizeof(f->name), strchr(f->spec.host, ':') ? "%s[%s]:%u" : "%s%s:%u",
		 f->spec.connect ? "->" : "", f->spec.host, f->spec.port);
	f->snaplen = f->spec.snaplen && f->spec.snaplen < cfg->snaplen ? f->spec.snaplen :
		     cfg->snaplen;
	file_header(f);
	if (f->spec.filter != NULL &&
	    lc_filter_prepare(f->spec.filter, cfg->snaplen, cfg->filter_engine, &f->prog,
			      &f->engine, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--feed %s: %s%s", given, why, strchr(f->spec.filter, ',') ?
			 " (filter= takes the rest of the spec: put it last)" : "");
		return -EINVAL;
	}
	return f->spec.connect ? 0 : listen_on(f, given, err, errlen);
}

/* Every client needs a descriptor: the soft limit is raised to the hard one, and the
 * feeds' max-clients together must leave LC_FEED_FD_RESERVE for the capture. */
static int
fit_descriptors(struct lc_feeds *fs, char *err, size_t errlen)
{
	struct rlimit rl;
	unsigned long clients = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	fs->fd_limit = rl.rlim_cur == RLIM_INFINITY ? ULONG_MAX : (unsigned long)rl.rlim_cur;
	for (unsigned int i = 0; i < fs->n; i++)
		clients += fs->feed[i].spec.connect ? 1 : fs->feed[i].spec.max_clients;
	if (clients + LC_FEED_FD_RESERVE > fs->fd_limit) {
		snprintf(err, errlen, "--feed: %lu clients in all (max-clients) need %lu open "
			 "files with the capture's, the limit is %lu (ulimit -n): lower max-clients "
			 "or raise the limit", clients, clients + LC_FEED_FD_RESERVE, fs->fd_limit);
		return -EINVAL;
	}
	return 0;
}

struct lc_feeds *
lc_feeds_create(const struct lc_config *cfg, char *err, size_t errlen)
{
	struct lc_feeds *fs;

	err[0] = '\0';
	if (cfg->nfeeds == 0)
		return NULL;
	fs = calloc(1, sizeof(*fs));
	if (fs == NULL) {
		snprintf(err, errlen, "--feed: out of memory");
		return NULL;
	}
	pthread_mutex_init(&fs->lock, NULL);
	for (unsigned int i = 0; i < cfg->nfeeds; i++) {
		fs->n++;
		if (feed_init(&fs->feed[i], cfg, cfg->feed[i], err, errlen) < 0) {
			lc_feeds_free(fs);
			return NULL;
		}
	}
	if (fit_descriptors(fs, err, errlen) < 0) {
		lc_feeds_free(fs);
		return NULL;
	}
	return fs;
}

int
lc_feeds_attach(struct lc_feeds *fs, unsigned int nwriters, char *err, size_t errlen)
{
	for (unsigned int i = 0; fs != NULL && i < fs->n; i++) {
		struct lc_feed *f = &fs->feed[i];

		for (; f->nrings < nwriters; f->nrings++) {
			struct lc_feed_ring *r = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*r));

			if (r == NULL || (memset(r, 0, sizeof(*r)),
					  (r->buf = malloc(LC_FEED_RING)) == NULL)) {
				free(r);
				snprintf(err, errlen, "--feed %s: out of memory", f->name);
				return -ENOMEM;
			}
			r->mask = LC_FEED_RING - 1;
			f->ring[f->nrings] = r;
			if (f->prog != NULL &&
			    (r->filter = lc_filter_create(f->prog, f->engine, -1)) == NULL) {
				snprintf(err, errlen, "--feed %s: its filter: %s", f->name,
					 strerror(errno));
				f->nrings++;
				return -errno;
			}
		}
	}
	return 0;
}

/* Feed f's part of a writer's records: the ones its filter keeps, into ring r. */
static void
offer_one(const struct lc_feed *f, struct lc_feed_ring *r, const struct lc_format *fmt,
	  const uint8_t *rec, const uint8_t *end)
{
	const uint64_t size = r->mask + 1;
	uint64_t head = r->head, offered = 0, drops = 0;

	for (; rec < end; rec += lc_format_record_len(fmt, rec)) {
		uint32_t caplen, wirelen, h[4];
		const uint8_t *pkt = lc_format_record_packet(fmt, rec, &caplen, &wirelen);
		uint64_t ts = fmt->record_ts(rec);

		if (r->filter != NULL && !lc_filter_match_bytes(r->filter, pkt, wirelen, caplen))
			continue;
		h[2] = RTE_MIN(caplen, f->snaplen);
		if (head + LC_FEED_REC_HDR + h[2] - r->tail_seen > size) {
			r->tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
			if (head + LC_FEED_REC_HDR + h[2] - r->tail_seen > size) {
				drops++;
				continue;
			}
		}
		h[0] = (uint32_t)(ts / 1000000000u);
		h[1] = (uint32_t)(ts % 1000000000u / (f->spec.usec ? 1000u : 1u));
		h[3] = wirelen;
		lc_feed_ring_put(r->buf, r->mask, head, h, sizeof(h));
		lc_feed_ring_put(r->buf, r->mask, head + sizeof(h), pkt, h[2]);
		head += sizeof(h) + h[2];
		offered++;
	}
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	__atomic_store_n(&r->offered, r->offered + offered, __ATOMIC_RELAXED);
	__atomic_store_n(&r->drops, r->drops + drops, __ATOMIC_RELAXED);
}

void
lc_feeds_offer(struct lc_feeds *fs, unsigned int w, const struct lc_format *fmt,
	       const uint8_t *rec, size_t len)
{
	for (unsigned int i = 0; i < fs->n; i++) {
		const struct lc_feed *f = &fs->feed[i];

		if (__atomic_load_n(&f->active, __ATOMIC_RELAXED) != 0 && w < f->nrings)
			offer_one(f, f->ring[w], fmt, rec, rec + len);
	}
}

void
lc_feed_client_ended(struct lc_feed *f, const struct lc_feed_client *c, const char *why)
{
	struct lc_feed_client_stats *e = &f->ended[f->nended++ % LC_FEED_SHOWN];

	f->sent += c->sent;
	f->sent_bytes += c->sent_bytes;
	f->drops += c->drops;
	f->unsent += c->unsent;
	*e = (struct lc_feed_client_stats){ .sent = c->sent, .sent_bytes = c->sent_bytes,
					    .drops = c->drops, .unsent = c->unsent };
	snprintf(e->peer, sizeof(e->peer), "%s", c->peer);
	snprintf(e->ended, sizeof(e->ended), "%s", why);
}

static void
client_stats(const struct lc_feed_client *c, struct lc_feed_client_stats *out)
{
	*out = (struct lc_feed_client_stats){
		.sent = __atomic_load_n(&c->sent, __ATOMIC_RELAXED),
		.sent_bytes = __atomic_load_n(&c->sent_bytes, __ATOMIC_RELAXED),
		.drops = __atomic_load_n(&c->drops, __ATOMIC_RELAXED),
		.connected = !c->connecting,
	};
	snprintf(out->peer, sizeof(out->peer), "%s", c->peer);
	if (c->connecting)
		snprintf(out->ended, sizeof(out->ended), "connecting");
}

static void
feed_stats(const struct lc_feed *f, struct lc_feed_stats *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", f->name);
	if (f->spec.filter != NULL && strlen(f->spec.filter) >= sizeof(s->filter))
		snprintf(s->filter, sizeof(s->filter), "%.*s...", (int)sizeof(s->filter) - 4,
			 f->spec.filter);
	else if (f->spec.filter != NULL)
		snprintf(s->filter, sizeof(s->filter), "%s", f->spec.filter);
	for (unsigned int r = 0; r < f->nrings; r++) {
		s->offered += __atomic_load_n(&f->ring[r]->offered, __ATOMIC_RELAXED);
		s->ring_drops += __atomic_load_n(&f->ring[r]->drops, __ATOMIC_RELAXED);
	}
	s->sent = f->sent;
	s->sent_bytes = f->sent_bytes;
	s->drops = f->drops + s->ring_drops;
	s->unsent = f->unsent;
	s->clients = f->clients;
	s->refused = f->refused;
	for (unsigned int i = 0; i < f->nclients; i++) {
		struct lc_feed_client_stats cs;

		client_stats(f->client[i], &cs);
		s->sent += cs.sent;
		s->sent_bytes += cs.sent_bytes;
		s->drops += cs.drops;
		s->clients_now += cs.connected;
		if (s->nshown < LC_FEED_SHOWN)
			s->shown[s->nshown++] = cs;
	}
	/* Then the clients that ended, the last first. */
	for (unsigned int k = 0; k < RTE_MIN(f->nended, LC_FEED_SHOWN) &&
	     s->nshown < LC_FEED_SHOWN; k++)
		s->shown[s->nshown++] = f->ended[(f->nended - 1 - k) % LC_FEED_SHOWN];
}

unsigned int
lc_feeds_stats(struct lc_feeds *fs, struct lc_feed_stats *out)
{
	if (fs == NULL)
		return 0;
	pthread_mutex_lock(&fs->lock);
	for (unsigned int i = 0; i < fs->n; i++)
		feed_stats(&fs->feed[i], &out[i]);
	pthread_mutex_unlock(&fs->lock);
	return fs->n;
}

int
lc_feeds_start(struct lc_feeds *fs)
{
	int rc;

	if (fs == NULL || fs->started)
		return 0;
	/* Clients that connected while the port was starting take packets from the first. */
	lc_feeds_accept_waiting(fs);
	/* A control thread: on the CPUs no lcore uses (else the main lcore's). */
	rc = rte_ctrl_thread_create(&fs->thread, "lc-feed", NULL, lc_feed_thread, fs);
	if (rc != 0)
		return -rc;
	fs->started = 1;
	for (unsigned int i = 0; i < fs->n; i++) {
		const struct lc_feed *f = &fs->feed[i];

		if (f->spec.connect)
			LC_LOG(NOTICE, "feed %s: PCAP-over-IP to that collector (connecting)",
			       f->name);
		else
			LC_LOG(NOTICE, "feed %s: PCAP-over-IP, read it with tshark -i TCP@%s",
			       f->name, f->name);
	}
	return 0;
}

void
lc_feeds_stop(struct lc_feeds *fs)
{
	if (fs == NULL || !fs->started)
		return;
	__atomic_store_n(&fs->stop, 1, __ATOMIC_RELEASE);
	pthread_join(fs->thread, NULL);
	fs->started = 0;
}

void
lc_feeds_free(struct lc_feeds *fs)
{
	if (fs == NULL)
		return;
	lc_feeds_stop(fs);
	for (unsigned int i = 0; i < fs->n; i++) {
		struct lc_feed *f = &fs->feed[i];

		if (f->listen_fd >= 0)
			close(f->listen_fd);
		for (unsigned int r = 0; r < f->nrings; r++) {
			lc_filter_free(f->ring[r]->filter);
			free(f->ring[r]->buf);
			free(f->ring[r]);
		}
		lc_filter_prog_free(f->prog);
		free(f->client);	/* the thread closed and freed every client */
	}
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}
