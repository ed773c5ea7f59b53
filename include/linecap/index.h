/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_INDEX_H
#define LINECAP_INDEX_H

/*
 * The index beside every capture file (NAME.idx beside NAME): the file's flows, each with
 * what all its packets share (link, VLAN tags, addresses, protocol, ports), its first and
 * last timestamp, packets, bytes, the TCP flags seen, and where its packets are in the file
 * (record offsets, delta-encoded). linecap-query reads the header and the flow table (at the
 * front), runs the query's BPF program over each flow in three-valued logic
 * (lc_filter_3v with lc_index_flow_bytes) and reads the positions only of the flows that
 * can hold a match. The format is in docs/index-format.md.
 *
 * Flows are directional (A to B and B to A are two flows; linecap-query --flows joins them
 * into conversations). A flow's key holds only what every one of its packets has, within
 * its captured bytes: a packet cut before its ports goes to a flow without ports.
 *
 * The builder runs on the writer lcore, once per record, off the RX cores: it parses the
 * headers of records that are already formatted and appends to per-flow position lists in
 * memory it was given at creation. When that memory is spent the index of the file is
 * abandoned (the file is then queryable by scan only), never a record delayed.
 */
#include <stddef.h>
#include <stdint.h>

#include "linecap/filter.h"

#define LC_INDEX_EXT ".idx"
#define LC_INDEX_SHA256_LEN 32

/* lc_flow_key.flags */
#define LC_FLOW_IPV4	0x01u	/* ethertype 0x0800: ihl, proto, src, dst (4 bytes) known */
#define LC_FLOW_IPV6	0x02u	/* ethertype 0x86dd: proto (next header), src, dst known */
#define LC_FLOW_PORTS	0x04u	/* sport, dport known (TCP, UDP, SCTP: ports; ICMP and
				 * ICMPv6: type in sport, code in dport) */
#define LC_FLOW_FRAG	0x08u	/* IPv4 with a nonzero fragment offset (no ports); without
				 * it an IPv4 flow's fragment offsets are all 0 */
#define LC_FLOW_TCPFL	0x10u	/* the TCP flags byte is within every packet's captured bytes */

struct lc_flow_key {
	uint16_t ethertype;	/* after the VLAN tags; 0: frame too short for it */
	uint8_t nvlan;		/* VLAN tags (0, 1 or 2) */
	uint8_t flags;		/* LC_FLOW_* */
	uint16_t tpid[2];	/* tag protocol (0x8100, 0x88a8, 0x9100) of each tag */
	uint16_t vid[2];	/* VLAN ID (12 bits) of each tag */
	uint8_t proto;		/* IPv4 protocol / IPv6 next header */
	uint8_t ihl;		/* IPv4 header length, 32-bit words */
	uint16_t sport, dport;
	uint8_t src[16], dst[16];	/* IPv4 in the first 4 bytes */
};

/* lc_index_flow.marks */
#define LC_FLOW_MARK_UNREACH 0x01u	/* an ICMP/ICMPv6 destination unreachable in this file
					 * quoted a packet of this flow */

struct lc_index_flow {
	struct lc_flow_key key;
	uint64_t first_ns, last_ns;
	uint64_t packets;	/* positions it has (0 for a flow known only by a mark) */
	uint64_t bytes;		/* wire lengths */
	uint8_t tcp_flags;	/* OR of its packets' TCP flags (LC_FLOW_TCPFL flows) */
	uint8_t first_flags;	/* ... and the flags of its first packet (in file order):
				 * SYN without ACK tells the side that opened a connection */
	uint8_t marks;		/* LC_FLOW_MARK_* */
	uint64_t pos_at, pos_len;	/* its positions' bytes in the index file */
};

struct lc_index_info {
	uint32_t linktype;
	uint64_t file_bytes;	/* size of the capture file it describes */
	uint64_t packets;	/* records in that file */
	uint64_t first_ns, last_ns;	/* 0, 0 for a file without records */
	uint32_t nflows;
};

/* --- building (writer lcore) --- */

struct lc_index_builder;

/* A builder that uses at most max_mem bytes per file (flow table and positions). NULL with
 * errno. */
struct lc_index_builder *lc_index_builder_create(size_t max_mem);
void lc_index_builder_free(struct lc_index_builder *b);

/* Start the index of a new file (forgetting the last one's). */
void lc_index_builder_reset(struct lc_index_builder *b, uint32_t linktype);

/* Add the record at file offset off: its timestamp, wire length and captured bytes. Cheap;
 * never fails: past max_mem the file's index is abandoned (lc_index_builder_abandoned). */
void lc_index_add(struct lc_index_builder *b, uint64_t off, uint64_t ts_ns, uint32_t wirelen,
		  const uint8_t *pkt, uint32_t caplen);

/* Give up the index of the current file (memory spent, or the writer falls behind): it is
 * not written; why says so in the log line of the caller. */
void lc_index_builder_abandon(struct lc_index_builder *b);
int lc_index_builder_abandoned(const struct lc_index_builder *b);

/* The SHA-256 of the header and flow table of the index lc_index_builder_write wrote last
 * (what linecap-query checks against the manifest before it trusts the table; the
 * positions it reads are checked record by record). */
void lc_index_builder_table_sha256(const struct lc_index_builder *b,
				   uint8_t sha256[LC_INDEX_SHA256_LEN]);

/* The key of the flow a record belongs to (its captured bytes, of a file of linktype): the
 * builder's own (a position whose record has another key is not the flow's). */
void lc_index_record_key(uint32_t linktype, const uint8_t *pkt, uint32_t caplen,
			 struct lc_flow_key *key);

/* Records added to the current file's index. */
uint64_t lc_index_builder_packets(const struct lc_index_builder *b);

/*
 * Write the current file's index to fd (all of it, from its current position, then
 * fdatasync), for a capture file of file_bytes bytes: sha256 receives its SHA-256, *len its
 * size. Deterministic: the same records give the same bytes. 0, -ECANCELED when abandoned,
 * or -errno of a write.
 */
int lc_index_builder_write(struct lc_index_builder *b, int fd, uint64_t file_bytes,
			   uint8_t sha256[LC_INDEX_SHA256_LEN], uint64_t *len);

/*
 * The index of an existing capture file, built from its records (up to its last whole
 * record) and written to out_fd as lc_index_builder_write does: the same bytes the capture
 * wrote (linecap-verify compares them; --repair writes a missing one). 0 or -errno with
 * "FILE: reason" in err.
 */
int lc_index_rebuild(int capture_fd, const char *name, int out_fd,
		     uint8_t sha256[LC_INDEX_SHA256_LEN], uint64_t *len, char *err,
		     size_t errlen);

/* --- reading (linecap-query, linecap-verify): the file may be hostile --- */

struct lc_index;

/* Read and check the header and flow table of the index open on fd (the index keeps fd;
 * closed by lc_index_close, or here on error). NULL with errno (EINVAL: not a valid index)
 * and "NAME: byte N: reason" in err. */
struct lc_index *lc_index_open_fd(int fd, const char *name, char *err, size_t errlen);
void lc_index_close(struct lc_index *ix);

const struct lc_index_info *lc_index_info(const struct lc_index *ix);

/* The SHA-256 of its header and flow table (as lc_index_builder_table_sha256). */
const uint8_t *lc_index_table_sha256(const struct lc_index *ix);

/* The flows, in the order of their first packet. */
const struct lc_index_flow *lc_index_flows(const struct lc_index *ix, uint32_t *n);

/* Decode f's positions (f->packets of them, increasing, each below the file's size) into
 * pos. 0, or -EINVAL with the reason in err when they are not that. */
int lc_index_positions(struct lc_index *ix, const struct lc_index_flow *f, uint64_t *pos,
		       char *err, size_t errlen);

/* What every packet of f shares, as known bits of its first bytes (Ethernet link type),
 * for lc_filter_3v. */
void lc_index_flow_bytes(const struct lc_index_flow *f, struct lc_partial *p);

#endif
