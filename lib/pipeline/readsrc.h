/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_READSRC_H
#define LINECAP_READSRC_H

/*
 * -r FILE: capture files as the capture's source, through the same pipeline as a port.
 * Every byte libpcap reads goes through SHA-256 on the way (an fopencookie stream): once
 * read, each file's hash, size and record count go to the manifest (lc_custody_source).
 *
 * A reader thread (a DPDK control thread) reads each file with libpcap, as tcpdump does
 * (pcap and pcapng, nanosecond precision), into mbufs: the record's captured bytes (chained
 * past one mbuf's room), pkt_len its length on the wire (so a record cut short stays cut
 * short), and its own timestamp in the RX timestamp dynfield. The mbufs go into an rte_ring
 * that is the RX queue of a net_ring port (rte_eth_from_rings): RX, filter, chunks,
 * writers, files, index, manifest and counters are those of a live capture. Nothing is lost
 * to speed: the reader waits for room in the ring, RX for an empty chunk.
 *
 * Before EAL, lc_read_plan() expands directories (their .pcap/.pcapng files, by name) and
 * opens every file once: readable, Ethernet, its snapshot length.
 */
#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>

#define LC_READ_RING 4096u	/* mbufs between the reader and RX */
#define LC_READ_FILES_MAX 100000u

struct lc_read_plan {
	char **paths;		/* the files, in reading order */
	unsigned int n;
	uint32_t snaplen;	/* the largest snapshot length of the files (one file: its own,
				 * which tcpdump -r -w writes too) */
	uint64_t bytes;		/* their size together */
	struct lc_read_in *stream;	/* standard input or a pipe, read alone: opened (its
					 * header read) by the plan */
	unsigned int skipped;	/* directory entries not read: links, pipes, devices */
};

/* What became of one file (lc_readsrc_result). */
struct lc_read_result {
	char sha256[65];	/* of its bytes as read (hex); "" when it was not opened */
	uint64_t bytes;		/* read */
	uint64_t records;	/* handed to the capture */
	const char *how;	/* "whole", "broken", "stopped"; NULL: not read */
};

struct lc_readsrc;

/* The files of -r (given: files or directories) into plan. 0, or -errno with one line in err
 * ("-r x.pcap: unknown file format", "-r y.pcap: link type LINUX_SLL: linecap reads Ethernet
 * captures"). Release with lc_read_plan_release. */
int lc_read_plan(const char *const *given, unsigned int ngiven, struct lc_read_plan *plan,
		 char *err, size_t errlen);
void lc_read_plan_release(struct lc_read_plan *plan);

/* path as a message shows it: control characters as '?' (a file name may hold a newline: no
 * forged log line). A thread's own buffer, good until its next call. */
const char *lc_read_shown(const char *path);

/* After EAL: the ring and its net_ring port (*port_id) for plan's files. NULL with errno and
 * err on failure. */
struct lc_readsrc *lc_readsrc_create(const struct lc_read_plan *plan, int socket,
				     uint16_t *port_id, char *err, size_t errlen);

/* Start reading into mbufs of pool, stamps at dynfield offset ts_offset with flag ts_flag.
 * 0 or -errno. */
int lc_readsrc_start(struct lc_readsrc *src, struct rte_mempool *pool, int ts_offset,
		     uint64_t ts_flag);

/* Has the reader read everything it will (all files, or up to an error, or stopped)?
 * *records: how many it put into the ring. */
bool lc_readsrc_done(const struct lc_readsrc *src, uint64_t *records);

/* Bytes of the files read so far, of plan->bytes. */
uint64_t lc_readsrc_bytes(const struct lc_readsrc *src);

/* The reading error that ended it early ("f.pcap: truncated dump file; ..."), or NULL. */
const char *lc_readsrc_error(const struct lc_readsrc *src);

/* File i of the plan: what became of it (once the reader is stopped). */
const struct lc_read_result *lc_readsrc_result(const struct lc_readsrc *src, unsigned int i);

/* Stop the reader (RX stopped first), give back the mbufs the ring still holds. */
void lc_readsrc_stop(struct lc_readsrc *src);

/* Stop and free. Accepts NULL. */
void lc_readsrc_free(struct lc_readsrc *src);

#endif
