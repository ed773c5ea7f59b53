/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_GEN_H
#define LINECAP_GEN_H

/*
 * Traffic for loss tests and benchmarks (linecap-gen). Frames are Ethernet (optionally
 * 802.1Q) IPv4 or IPv6 (a chosen share of the flows, each flow always the same family) UDP
 * between N flows' 5-tuples, checksums right, a chosen fraction on one "evidence" 5-tuple
 * (192.168.1.100:443 by default), sized by a mode from a table (fixed, IMIX 7:4:1 of
 * 64/570/1518, or the frames of a pcap file). Every generated frame carries a tag right after
 * its UDP header:
 *     magic 0x4c43 ("LC"), generator id (16 bits), flow id (32 bits), sequence (64 bits)
 * all big-endian; the sequence counts per flow from 0, so loss, duplicates and reordering
 * can be told per flow even when RSS spreads flows over queues (lc_seq_* checks them).
 * A chosen fraction may be TCP with the RST flag instead (the tag then follows the TCP
 * header). Frames taken from a pcap file are sent as they are, untagged.
 */
#include <stddef.h>
#include <stdint.h>

#define LC_GEN_TAG_MAGIC 0x4c43u
#define LC_GEN_TAG_LEN 16u
#define LC_GEN_MIN_FRAME 60u
#define LC_GEN_MIN_FRAME6 78u	/* an IPv6 frame: 14 + 40 + 8 + the tag */
#define LC_GEN_MAX_FRAME 9600u

struct lc_gen_config {
	const char *mode;	/* "fixed", "imix", "pcap" */
	uint32_t size;		/* fixed: frame size without FCS, 60..9600 */
	const char *pcap;	/* pcap: the file */
	uint32_t flows;		/* 1..1000000 */
	double evidence;	/* fraction 0..1 of frames on the evidence 5-tuple */
	double rst;		/* fraction 0..1 of frames sent as TCP RST (at least 70 bytes) */
	double ipv6;		/* fraction 0..1 of the flows that are IPv6 (frames of at least
				 * 78 bytes); the evidence flow stays IPv4 */
	uint32_t evidence_ip;	/* host order */
	uint16_t evidence_port;
	uint16_t vlan;		/* 0: untagged */
	uint16_t id;		/* generator id */
	uint64_t seed;
};

struct lc_gen;

/* Build a generator. NULL with a reason in err. */
struct lc_gen *lc_gen_create(const struct lc_gen_config *cfg, char *err, size_t errlen);

/* Write the next frame into buf (room >= LC_GEN_MAX_FRAME). Returns its length. */
uint32_t lc_gen_next(struct lc_gen *g, uint8_t *buf);

void lc_gen_free(struct lc_gen *g);

/* Parse a tag from a frame (Ethernet, optional VLAN, IPv4 or IPv6, UDP or TCP). Returns 1 and fills the
 * fields when the frame carries one, else 0. */
int lc_gen_tag(const uint8_t *frame, uint32_t caplen, uint16_t *id, uint32_t *flow,
	       uint64_t *seq);

/* Per generator and flow: received, missing ranges, duplicates, reordering (lc_seq_*). */
struct lc_seq;

struct lc_seq *lc_seq_new(void);
void lc_seq_add(struct lc_seq *s, uint16_t id, uint32_t flow, uint64_t seq);
/* The generator sent this many frames on the flow (from its --stats-file): a lost tail is
 * counted too. */
void lc_seq_expect(struct lc_seq *s, uint16_t id, uint32_t flow, uint64_t sent);
/* Report per flow with findings (and totals) through say(), one line per flow listing every
 * missing range however many there are (a line says so if memory ran out); a tail known from
 * lc_seq_expect counts too. Totals stop at UINT64_MAX rather than wrap (the totals line says
 * "at least"). Returns the number of packets missing + duplicated + out of order (at most
 * UINT64_MAX; 0 only when there is nothing to report). */
uint64_t lc_seq_report(struct lc_seq *s, void (*say)(void *, const char *), void *arg,
		       uint64_t *received, uint64_t *missing, uint64_t *dups, uint64_t *reordered);
void lc_seq_free(struct lc_seq *s);

#endif
