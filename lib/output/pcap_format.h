/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_PCAP_FORMAT_H
#define LINECAP_PCAP_FORMAT_H

/*
 * The classic pcap file format with nanosecond timestamps (magic 0xa1b23c4d, version 2.4,
 * LINKTYPE_ETHERNET), written in host byte order as libpcap does. Pure byte formatting: no
 * I/O here, so it can be tested byte for byte against libpcap's reader.
 */
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#define LC_PCAP_MAGIC_NS 0xa1b23c4du
#define LC_PCAP_LINKTYPE_ETHERNET 1u
#define LC_PCAP_FILE_HDR_LEN 24u
#define LC_PCAP_REC_HDR_LEN 16u

/* Write the 24-byte file header into dst. Returns LC_PCAP_FILE_HDR_LEN. */
size_t lc_pcap_file_header(uint8_t *dst, uint32_t snaplen);

/*
 * Append one record for m (all segments, cut at snaplen) with timestamp ts_ns into dst,
 * which has room bytes. The record's original length is m->pkt_len. Returns the bytes
 * written, or 0 (and writes nothing) if the record does not fit.
 */
size_t lc_pcap_put_record(uint8_t *dst, size_t room, const struct rte_mbuf *m,
			  uint64_t ts_ns, uint32_t snaplen);

/* Same for a contiguous frame (tests, tools): caplen bytes of data, wire length len. */
size_t lc_pcap_put_record_bytes(uint8_t *dst, size_t room, const uint8_t *data,
				uint32_t caplen, uint32_t len, uint64_t ts_ns);

#endif
