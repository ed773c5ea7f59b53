/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_FORMAT_H
#define LINECAP_FORMAT_H

/*
 * Output file formats as an ops table (after libpcap's interchangeable backends): what a
 * file starts with, one record per packet, and what closes it. Pure byte formatting into a
 * caller's buffer: no I/O, so each format is tested byte for byte against a reader.
 *   pcap    classic pcap, nanosecond magic 0xa1b23c4d, LINKTYPE_ETHERNET
 *   pcapng  SHB (OS, hardware, application) + IDB (if_name, if_tsresol 9, snaplen,
 *           if_filter) + EPBs + at close an ISB (start/end time, received, dropped,
 *           filter-accepted)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_mbuf.h>

/* What a file's header says. */
struct lc_file_info {
	uint32_t snaplen;
	const char *port;	/* interface name, e.g. "net_pcap0" or "0000:3b:00.0" */
	const char *filter;	/* filter in force when the file opened; NULL or "": none */
	const char *os;
	const char *hardware;
	const char *application;
	const char *clock;	/* where timestamps come from (pcapng if_description); NULL */
};

/* What a file's trailer says (pcapng interface statistics). */
struct lc_file_stats {
	uint64_t start_ns, end_ns;
	uint64_t received;	/* packets the queue received while the file was open */
	uint64_t dropped;	/* ... and lost (ring full, port missed, no buffer) */
	uint64_t accepted;	/* ... and kept by the filter */
};

struct lc_format {
	const char *name;	/* "pcap", "pcapng" */
	const char *ext;	/* ".pcap", ".pcapng" */
	/* File header into dst (room bytes). Returns its length, 0 if it does not fit. */
	size_t (*header)(uint8_t *dst, size_t room, const struct lc_file_info *info);
	/* One record for m at ts_ns, cut at snaplen. Returns its length, 0 if no room. */
	size_t (*record)(uint8_t *dst, size_t room, const struct rte_mbuf *m, uint64_t ts_ns,
			 uint32_t snaplen);
	/* Of a record this format wrote (the writer walks records to cut files between
	 * them): its length is len_add plus the 32-bit word at len_at (lc_format_record_len:
	 * inline, as the writer asks it of every record), and its timestamp. */
	uint8_t len_at, len_add;
	uint64_t (*record_ts)(const uint8_t *rec);
	/* Where a record holds the packet's bytes, its captured length and its length on the
	 * wire (32-bit words): the index reads them (lc_format_record_packet). */
	uint8_t data_at, caplen_at, wirelen_at;
	/* Bytes that close a file (0 for none). Returns its length, 0 if no room. */
	size_t (*trailer)(uint8_t *dst, size_t room, const struct lc_file_stats *st);
	/* The room trailer needs (it writes nothing with less; 0: the format has none). */
	size_t trailer_room;
};

/* The length of the record at rec, which fmt wrote. */
static inline size_t
lc_format_record_len(const struct lc_format *fmt, const uint8_t *rec)
{
	uint32_t v;

	memcpy(&v, rec + fmt->len_at, sizeof(v));
	return (size_t)fmt->len_add + v;
}

/* The packet in the record at rec, which fmt wrote: its bytes (returned), captured and wire
 * lengths. */
static inline const uint8_t *
lc_format_record_packet(const struct lc_format *fmt, const uint8_t *rec, uint32_t *caplen,
			uint32_t *wirelen)
{
	memcpy(caplen, rec + fmt->caplen_at, sizeof(*caplen));
	memcpy(wirelen, rec + fmt->wirelen_at, sizeof(*wirelen));
	return rec + fmt->data_at;
}

extern const struct lc_format lc_format_pcap;
extern const struct lc_format lc_format_pcapng;

/* Format by name; NULL if unknown. */
const struct lc_format *lc_format_find(const char *name);

#endif
