/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>
#include <string.h>

#include "mbuf_bytes.h"
#include "linecap/format.h"
#include "pcap_format.h"

struct file_hdr {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct rec_hdr {
	uint32_t ts_sec;
	uint32_t ts_nsec;
	uint32_t caplen;
	uint32_t len;
};

size_t
lc_pcap_file_header(uint8_t *dst, uint32_t snaplen)
{
	const struct file_hdr h = {
		.magic = LC_PCAP_MAGIC_NS,
		.version_major = 2,
		.version_minor = 4,
		.snaplen = snaplen,
		.linktype = LC_PCAP_LINKTYPE_ETHERNET,
	};

	memcpy(dst, &h, sizeof(h));
	return sizeof(h);
}

static inline void
put_rec_hdr(uint8_t *dst, uint64_t ts_ns, uint32_t caplen, uint32_t len)
{
	const struct rec_hdr r = {
		.ts_sec = (uint32_t)(ts_ns / 1000000000ull),
		.ts_nsec = (uint32_t)(ts_ns % 1000000000ull),
		.caplen = caplen,
		.len = len,
	};

	memcpy(dst, &r, sizeof(r));
}

size_t
lc_pcap_put_record(uint8_t *dst, size_t room, const struct rte_mbuf *m, uint64_t ts_ns,
		   uint32_t snaplen)
{
	uint32_t caplen = lc_mbuf_caplen(m, snaplen);

	if (unlikely(room < LC_PCAP_REC_HDR_LEN + caplen))
		return 0;
	lc_mbuf_put(dst + LC_PCAP_REC_HDR_LEN, m, caplen);
	put_rec_hdr(dst, ts_ns, caplen, m->pkt_len);
	return LC_PCAP_REC_HDR_LEN + caplen;
}

size_t
lc_pcap_put_record_bytes(uint8_t *dst, size_t room, const uint8_t *data, uint32_t caplen,
			 uint32_t len, uint64_t ts_ns)
{
	if (room < LC_PCAP_REC_HDR_LEN + (size_t)caplen)
		return 0;
	put_rec_hdr(dst, ts_ns, caplen, len);
	memcpy(dst + LC_PCAP_REC_HDR_LEN, data, caplen);
	return LC_PCAP_REC_HDR_LEN + caplen;
}

static uint64_t
pcap_record_ts(const uint8_t *rec)
{
	struct rec_hdr r;

	memcpy(&r, rec, sizeof(r));
	return (uint64_t)r.ts_sec * 1000000000ull + r.ts_nsec;
}

static size_t
pcap_header_op(uint8_t *dst, size_t room, const struct lc_file_info *info)
{
	if (room < LC_PCAP_FILE_HDR_LEN)
		return 0;
	return lc_pcap_file_header(dst, info->snaplen);
}

static size_t
pcap_trailer_op(uint8_t *dst, size_t room, const struct lc_file_stats *st)
{
	(void)dst;
	(void)room;
	(void)st;
	return 0;	/* classic pcap has no trailer: the manifest carries the statistics */
}

const struct lc_format lc_format_pcap = {
	.name = "pcap",
	.ext = ".pcap",
	.header = pcap_header_op,
	.record = lc_pcap_put_record,
	.len_at = offsetof(struct rec_hdr, caplen),
	.len_add = LC_PCAP_REC_HDR_LEN,
	.record_ts = pcap_record_ts,
	.data_at = LC_PCAP_REC_HDR_LEN,
	.caplen_at = offsetof(struct rec_hdr, caplen),
	.wirelen_at = offsetof(struct rec_hdr, len),
	.trailer = pcap_trailer_op,
};

const struct lc_format *
lc_format_find(const char *name)
{
	if (strcmp(name, "pcap") == 0)
		return &lc_format_pcap;
	if (strcmp(name, "pcapng") == 0)
		return &lc_format_pcapng;
	return NULL;
}
