/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_GEN_SENDER_H
#define LINECAP_GEN_SENDER_H

/*
 * Sending linecap-gen's frames: on a DPDK port from a worker lcore (bursts of 32, paced with
 * the TSC, every frame of a burst sent before the next is made: the generator never drops),
 * or into a nanosecond pcap file; sent counts kept in total and per flow for the loss check.
 */
#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "linecap/gen.h"

struct lc_gen_sender {
	struct lc_gen *gen;
	uint16_t port;
	struct rte_mempool *pool;
	double pps;		/* 0: as fast as the port takes them */
	uint64_t count;		/* 0: until stopped */
	volatile int stop;
	uint64_t sent, bytes;	/* published with relaxed stores */
	uint64_t *per_flow;	/* flows + 1 counters (the evidence flow last) */
	uint32_t flows;
};

/* Counters for flows flows; 0 or -ENOMEM. */
int lc_gen_sender_init(struct lc_gen_sender *s, struct lc_gen *g, uint32_t flows);

/* Pool, one TX queue, start, and wait up to 10 s for the link. 0 or -errno with err. */
int lc_gen_sender_port(struct lc_gen_sender *s, uint16_t port, char *err, size_t errlen);

/* lcore entry point: the send loop. */
int lc_gen_sender_main(void *arg);

/* Write count frames, 1 us apart from now, into a new nanosecond pcap. 0 or -errno. */
int lc_gen_sender_to_file(struct lc_gen_sender *s, const char *path, uint64_t count,
			  char *err, size_t errlen);

/* Sent counts as JSON (id, sent, bytes, seconds, per_flow). 0 or -EIO. */
int lc_gen_sender_stats(const struct lc_gen_sender *s, uint16_t id, double secs,
			const char *path);

/* Stop the port (if any) and free the counters. */
void lc_gen_sender_release(struct lc_gen_sender *s);

#endif
