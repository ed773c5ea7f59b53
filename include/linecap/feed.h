/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_FEED_H
#define LINECAP_FEED_H

/*
 * Live feeds (--feed): PCAP-over-IP, a classic pcap stream over TCP (the 24-byte file
 * header, then records; no handshake), as tshark -i TCP@HOST:PORT, Arkime's
 * pcap-over-ip readers and Zeek's plugin read it. A feed listens (127.0.0.1 by default) or,
 * with connect, connects out to a collector and reconnects with backoff.
 *
 * A feed never slows the capture. The writers, on records the RX cores already formatted,
 * run each feed's filter and copy what it keeps into that feed's ring (one per writer,
 * bounded; never waiting: a full ring is a drop counted to the feed). One feed thread moves
 * records from the rings into each client's bounded buffer (a full one is a drop counted to
 * that client) and sends them without blocking; a client that accepts nothing for the stall
 * time is disconnected. Nothing a client does reaches the capture's counts or files.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "linecap/config.h"

#define LC_FEED_SHOWN 16u			/* clients a feed's stats list */

/* A client's counters (one connection; in connect mode, one per connection made). */
struct lc_feed_client_stats {
	char peer[64];		/* ADDR:PORT */
	uint64_t sent, sent_bytes, drops;
	uint64_t unsent;	/* ended: packets queued for it, not sent when it left */
	bool connected;		/* still connected, else why it ended in ended */
	char ended[48];
};

/* A feed's counters: drops = ring_drops (the feed thread behind the writers) + every
 * client's drops. */
struct lc_feed_stats {
	char name[80];		/* ADDR:PORT, "->" before it in connect mode */
	char filter[128];	/* "" every packet; cut with "..." when longer */
	uint64_t offered;	/* packets the writers put in its rings */
	uint64_t ring_drops;	/* packets its rings had no room for */
	uint64_t sent, sent_bytes, drops;	/* all clients, past and present */
	uint64_t unsent;	/* queued for clients that left before they were sent */
	uint64_t clients, clients_now, refused;	/* connections served, open, refused */
	unsigned int nshown;	/* the open clients first, then the last ended */
	struct lc_feed_client_stats shown[LC_FEED_SHOWN];
};

struct lc_config;
struct lc_feeds;

/*
 * Every --feed of cfg: parse, compile its filter (cfg's snaplen and filter engine), and
 * bind the listening sockets (before privileges are dropped). Nothing is sent until
 * lc_feeds_start. NULL without feeds (*err "") or on error (one line in err; exit 2).
 */
struct lc_feeds *lc_feeds_create(const struct lc_config *cfg, char *err, size_t errlen);

/* Start the feed thread (connect-mode feeds start connecting). 0 or -errno. */
int lc_feeds_start(struct lc_feeds *f);

/* Once the writers are done: send what the rings hold (giving clients up to a second or
 * two), close every connection and stop the thread. */
void lc_feeds_stop(struct lc_feeds *f);

/* The counters of every feed into out (LC_FEEDS_MAX rows); returns how many. Any thread. */
unsigned int lc_feeds_stats(struct lc_feeds *f, struct lc_feed_stats *out);

/* Stop if running, close and free. Accepts NULL. */
void lc_feeds_free(struct lc_feeds *f);

#endif
