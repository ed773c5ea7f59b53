/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_FEED_PRIV_H
#define LINECAP_FEED_PRIV_H

/*
 * The feeds' insides (linecap/feed.h), shared by feed.c (set-up, the writers' side, the
 * counters) and feed_net.c (the feed thread: sockets and clients). The writer calls
 * lc_feeds_offer (feed_tap.h).
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_common.h>

#include "linecap/config.h"
#include "linecap/feed.h"
#include "linecap/filter.h"

#define LC_FEED_RING (16ull << 20)	/* per feed and writer: ~130 ms of 1 Gbit/s */
#define LC_FEED_FILE_HDR 24u
#define LC_FEED_REC_HDR 16u
/* Descriptors kept for the capture (files, indexes, the port's sockets, Prometheus): a
 * client past (limit - reserve) is refused. */
#define LC_FEED_FD_RESERVE 256u
#define LC_FEED_SNDBUF (256 << 10)	/* a client's kernel send buffer (not autotuned) */

/* Records one writer put for one feed, in pcap form (16-byte header, data), for the feed
 * thread: single producer, single consumer; head and tail count bytes forever. */
struct lc_feed_ring {
	uint8_t *buf;
	uint64_t mask;			/* size - 1, a power of two */
	struct lc_filter *filter;	/* this writer's instance; NULL: every packet */
	uint64_t head __rte_cache_aligned;	/* the writer's: bytes put (release) */
	uint64_t tail_seen;		/* the writer's last look at tail */
	uint64_t offered, drops;	/* the writer's: packets put, packets without room */
	uint64_t tail __rte_cache_aligned;	/* the feed thread's: bytes taken (release) */
};

/* One connection: a client of a listening feed, or the connection out of a connect feed. */
struct lc_feed_client {
	int fd;
	int connecting;			/* connect mode: not yet established */
	int eof;			/* the peer sent its FIN: reading stops, sending goes on */
	int blocked;			/* its socket said EAGAIN: no send until poll says so */
	char peer[64];
	uint8_t *buf;			/* its bounded buffer: a byte ring */
	uint64_t mask, r, w;		/* sent up to r, queued up to w */
	uint64_t next_rec;		/* where the first record not wholly sent starts */
	uint64_t queued;		/* packets queued */
	uint64_t last_progress_ns;	/* the last send that moved bytes, or when it had none */
	uint64_t opened_ns;
	/* Counters (relaxed stores: lc_feeds_stats reads them under the feeds' lock). */
	uint64_t sent, sent_bytes, drops;
	uint64_t unsent;		/* queued, not sent when it ended */
};

struct lc_feed {
	struct lc_feed_spec spec;
	char name[80];			/* ADDR:PORT (-> before it: connect) */
	struct lc_filter_prog *prog;	/* the feed's filter; NULL: none */
	const struct lc_filter_ops *engine;
	uint32_t snaplen;
	int listen_fd;			/* -1 in connect mode */
	uint32_t active;		/* clients that take packets: the writers skip at 0 */
	struct lc_feed_ring *ring[LC_WRITERS_MAX];
	unsigned int nrings;
	uint8_t file_hdr[LC_FEED_FILE_HDR];
	/* The feed thread's. */
	struct lc_feed_client **client;
	unsigned int nclients;
	uint64_t retry_ns;		/* connect mode: the next try */
	uint32_t backoff_ms;
	uint64_t listen_pause_ns;	/* accept ran out of descriptors: until then */
	/* Under the lock: what ended clients sent and lost, the last ones ended. */
	uint64_t sent, sent_bytes, drops, unsent, clients, refused;
	struct lc_feed_client_stats ended[LC_FEED_SHOWN];
	unsigned int nended;		/* ever; the last LC_FEED_SHOWN in ended[n % SHOWN] */
};

struct lc_feeds {
	struct lc_feed feed[LC_FEEDS_MAX];
	unsigned int n;
	pthread_mutex_t lock;		/* client lists, ended clients */
	pthread_t thread;
	int started;
	int stop;			/* 1: drain and end */
	unsigned long fd_limit;		/* RLIMIT_NOFILE: clients stop LC_FEED_FD_RESERVE short */
};

/* Bytes: copy n from/to a byte ring of size mask+1 at position pos, wrapping. */
static inline void
lc_feed_ring_put(uint8_t *buf, uint64_t mask, uint64_t pos, const void *src, size_t n)
{
	size_t at = pos & mask, first = RTE_MIN(n, mask + 1 - at);

	memcpy(buf + at, src, first);
	memcpy(buf, (const uint8_t *)src + first, n - first);
}

static inline void
lc_feed_ring_get(const uint8_t *buf, uint64_t mask, uint64_t pos, void *dst, size_t n)
{
	size_t at = pos & mask, first = RTE_MIN(n, mask + 1 - at);

	memcpy(dst, buf + at, first);
	memcpy((uint8_t *)dst + first, buf, n - first);
}

struct sockaddr_storage;
/* The address of a spec's host:port: its length, 0 when host is no numeric address. */
socklen_t lc_feed_sockaddr(const struct lc_feed_spec *s, struct sockaddr_storage *ss);

/* The feed thread (feed_net.c); arg is struct lc_feeds. */
void *lc_feed_thread(void *arg);

/* Clients already waiting on listening feeds: accepted now (feed_net.c; the feed thread's
 * work once it runs). */
void lc_feeds_accept_waiting(struct lc_feeds *fs);

/* A client ended (feed thread, under the lock): its counters into the feed's. */
void lc_feed_client_ended(struct lc_feed *f, const struct lc_feed_client *c, const char *why);

#endif
