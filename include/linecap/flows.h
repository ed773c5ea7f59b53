/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_FLOWS_H
#define LINECAP_FLOWS_H

/*
 * linecap-query --flows: the index's directional flows (struct lc_index_flow, from any
 * number of files) joined into conversations, one per unordered pair of endpoints, with
 * who started it and a state a responder reads at a glance.
 *
 * A conversation's key: the VLAN tags (TPID and ID of each), the ethertype, and
 *   - TCP, UDP, SCTP (ports known): the protocol and the two (address, port) endpoints;
 *   - ICMP (IPv4 protocol 1), ICMPv6 (IPv6 next header 58): the protocol and the two
 *     addresses (the index keeps their type and code where ports go: an echo request and
 *     its reply are one conversation);
 *   - other IP protocols, and TCP/UDP/SCTP flows without ports (fragments, packets cut
 *     before their ports): the protocol and the two addresses;
 *   - anything else (no IPv4/IPv6 addresses in the index: ARP, LLDP, frames cut short):
 *     the ethertype and VLAN tags alone. Those have no endpoints, so no direction either:
 *     all their packets count as a to b and their state is "unknown".
 * The same directional flow seen in several files is summed: first time the earliest,
 * last time the latest, packets and bytes added, TCP flags and marks OR-ed.
 *
 * Which side is a (the client), first rule that decides:
 *   1. the side whose first packet (of its earliest flow in the files: the index keeps the
 *      flags of each flow's first packet) was a SYN without ACK, when exactly one side's
 *      was;
 *   2. the side whose first packet is the earliest (a side with packets before a side
 *      known only by a mark, LC_FLOW_MARK_UNREACH on a flow without packets);
 *   3. equal times: the endpoint that sorts first (address bytes, then port).
 *
 * State (enum lc_conv_state), the first rule that applies; "SYN from a" means a's flags
 * hold SYN, "packets both ways" that each side sent at least one packet:
 *   1. TCP, SYN from both sides: "reset" if either side sent a RST, else "established";
 *   2. TCP, SYN from a, RST from b, no SYN from b: "refused";
 *   3. packets both ways: TCP "reset" if either side sent a RST, else "established" (the
 *      handshake happened before what the index saw); other protocols "established";
 *   4. a flow of it carries LC_FLOW_MARK_UNREACH (an ICMP/ICMPv6 destination unreachable
 *      quoted one of its packets): "icmp-unreachable";
 *   5. TCP, SYN from a (b sent nothing, by 3): "unanswered";
 *   6. otherwise (packets one way, no SYN): "one-way".
 * Conversations without endpoints (non-IP) are "unknown". A two-way exchange (rules 1-3)
 * beats the unreachable mark because an ICMP "fragmentation needed" (a destination
 * unreachable) can quote a packet of a connection that works.
 *
 * What the OR of flags cannot tell: the order of packets. "reset" means a RST was seen in
 * a conversation where both sides sent packets, not that it came last; a client whose SYN
 * was answered by SYN|ACK and then refused by its own RST is "reset". TCP rules use the
 * flags of the flows whose flags byte was captured (LC_FLOW_TCPFL); a TCP conversation
 * where no flow had it follows the rules of other protocols and shows its flags as unknown.
 *
 * TCP flags are written as tcpdump writes them inside "Flags [...]": F S R P . U E W in
 * that order (FIN SYN RST PSH ACK URG ECE CWR), so SYN|ACK is "S." and a zero OR "none".
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "linecap/index.h"

enum lc_conv_state {
	LC_CONV_ESTABLISHED,
	LC_CONV_REFUSED,
	LC_CONV_UNANSWERED,
	LC_CONV_RESET,
	LC_CONV_ICMP_UNREACHABLE,
	LC_CONV_ONE_WAY,
	LC_CONV_UNKNOWN,
};

/* What one side sent. */
struct lc_conv_dir {
	uint64_t packets, bytes;
	uint64_t first_ns, last_ns;	/* of its packets; 0, 0 when it sent none */
	uint8_t tcp_flags;	/* OR of the flags of its flows with LC_FLOW_TCPFL */
	uint8_t flags_known;	/* 1: at least one of its flows had LC_FLOW_TCPFL */
	uint8_t marks;		/* OR of its flows' LC_FLOW_MARK_* */
};

/* lc_conv.kind */
#define LC_CONV_KIND_ETHER	0	/* no addresses: ethertype and VLAN only */
#define LC_CONV_KIND_ADDRS	1	/* addresses, no ports */
#define LC_CONV_KIND_PORTS	2	/* addresses and ports */

/* One conversation, a and b as decided above. */
struct lc_conv {
	uint16_t ethertype;
	uint8_t nvlan;
	uint8_t kind;		/* LC_CONV_KIND_* */
	uint16_t tpid[2], vid[2];
	uint8_t proto;		/* IPv4 protocol / IPv6 next header (kinds ADDRS, PORTS) */
	uint8_t family;		/* AF_INET, AF_INET6, or 0 (kind ETHER) */
	uint8_t a_addr[16], b_addr[16];	/* IPv4 in the first 4 bytes */
	uint16_t a_port, b_port;	/* kind PORTS */
	uint64_t first_ns, last_ns;	/* over both sides (over its marks' flows if no packet) */
	struct lc_conv_dir ab, ba;	/* a to b, b to a */
	enum lc_conv_state state;
};

struct lc_conv_table;

/* An empty table. NULL with errno (ENOMEM). */
struct lc_conv_table *lc_conv_create(void);

/* Free t and all it holds; NULL is accepted. */
void lc_conv_free(struct lc_conv_table *t);

/* Add one directional flow (from any file) to its conversation, summing it with what is
 * there. 0, or -ENOMEM (t unchanged). */
int lc_conv_add(struct lc_conv_table *t, const struct lc_index_flow *f);

/* Mark the conversation of f (added before with lc_conv_add) as touched: the query's
 * expression keeps one of its packets. 0, or -ENOENT when f's conversation is not in t. */
int lc_conv_touch(struct lc_conv_table *t, const struct lc_index_flow *f);

/* Drop every conversation that was not touched (the others keep all their flows, both
 * directions, whether touched or not). Cannot fail. */
void lc_conv_keep_touched(struct lc_conv_table *t);

/* Conversations in t. */
size_t lc_conv_count(const struct lc_conv_table *t);

/*
 * The conversations of t, a and b and state decided, sorted by first time (equal times:
 * by key, the same order every run), as a new array of *n elements the caller frees with
 * free(). NULL with errno (ENOMEM); an empty table gives a valid array with *n = 0.
 */
struct lc_conv *lc_conv_list(const struct lc_conv_table *t, size_t *n);

/* "established", "refused", ... as in the JSON. */
const char *lc_conv_state_name(enum lc_conv_state s);

/* tcpdump's writing of a TCP flags byte ("S.", "FP.", "none") into buf (at least 9 bytes). */
const char *lc_conv_tcp_flags(uint8_t flags, char *buf, size_t len);

/*
 * One JSON object per conversation and line, in lc_conv_list's order:
 *   first, last: RFC 3339 UTC with nanoseconds ("2026-01-01T00:00:00.000000001Z");
 *   first_ns, last_ns: ns since the epoch; vlan: the VLAN IDs, outer first ([] untagged);
 *   ethertype: number; proto: "tcp" "udp" "icmp" "icmp6" "sctp", another protocol's number,
 *   or null (non-IP); a, b: {"addr": text or null (non-IP), "port": number or null (no
 *   ports)}; packets_ab, packets_ba, bytes_ab, bytes_ba: numbers; flags_ab, flags_ba: TCP
 *   flags as tcpdump writes them, null when not TCP or not captured; unreachable: whether a
 *   flow carries LC_FLOW_MARK_UNREACH; state: lc_conv_state_name.
 * 0, -ENOMEM, or -EIO when out fails.
 */
int lc_conv_print_json(FILE *out, const struct lc_conv_table *t);

/*
 * The same as a table for a terminal: a header line, then one row per conversation,
 * columns as wide as their widest cell: FIRST, LAST (RFC 3339), VLAN, PROTO, A, B
 * (ADDR:PORT, [ADDR6]:PORT), STATE, PKTS, BYTES, FLAGS (each "a-to-b/b-to-a"). 0, -ENOMEM,
 * or -EIO.
 */
int lc_conv_print_table(FILE *out, const struct lc_conv_table *t);

#endif
