/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_FEED_TAP_H
#define LINECAP_FEED_TAP_H

/*
 * Where the capture meets the feeds (linecap/feed.h): the writers offer the records they
 * take, before writing them. The rest of the feeds (sockets, clients) is the feed thread's.
 */
#include <stddef.h>
#include <stdint.h>

struct lc_feeds;
struct lc_format;

/* Give every feed one ring (and one filter instance) per writer, nwriters of them, before
 * the writers start. 0, or -errno with a reason in err. */
int lc_feeds_attach(struct lc_feeds *f, unsigned int nwriters, char *err, size_t errlen);

/*
 * Writer w's records at rec (len bytes, whole records fmt wrote): into the ring of every
 * feed that has a client, as pcap records (its timestamp precision, its snaplen) where its
 * filter keeps them. Never waits: a record without room in a ring is a drop of that feed.
 */
void lc_feeds_offer(struct lc_feeds *f, unsigned int w, const struct lc_format *fmt,
		    const uint8_t *rec, size_t len);

#endif
