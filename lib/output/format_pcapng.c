/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapng (draft-ietf-opsawg-pcapng): one section, one interface, enhanced packet blocks with
 * nanosecond timestamps (if_tsresol = 9), and an interface statistics block at close.
 * Written in host byte order; readers detect it from the byte-order magic.
 */
#include <string.h>

#include "linecap/format.h"
#include "mbuf_bytes.h"

#define SHB 0x0a0d0d0au
#define IDB 0x00000001u
#define EPB 0x00000006u
#define ISB 0x00000005u
#define BOM 0x1a2b3c4du

#define OPT_END 0
#define OPT_SHB_HARDWARE 2
#define OPT_SHB_OS 3
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME 2
#define OPT_IF_DESCRIPTION 3
#define OPT_IF_TSRESOL 9
#define OPT_IF_FILTER 11
#define OPT_ISB_STARTTIME 2
#define OPT_ISB_ENDTIME 3
#define OPT_ISB_IFRECV 4
#define OPT_ISB_IFDROP 5
#define OPT_ISB_FILTERACCEPT 6
/* The interface statistics block: header 20 (type, length, interface, timestamp), five
 * 8-byte options of 12, the end of options 4, the trailing length 4. */
#define ISB_LEN (20 + 5 * 12 + 4 + 4)

static inline size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static void
w16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void
w32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void
w64ts(uint8_t *p, uint64_t ns)	/* timestamp: high word first, each in host order */
{
	w32(p, (uint32_t)(ns >> 32));
	w32(p + 4, (uint32_t)ns);
}

/* Option (code, length, value padded to 4); returns bytes written. */
static size_t
opt(uint8_t *p, uint16_t code, const void *val, uint16_t len)
{
	w16(p, code);
	w16(p + 2, len);
	memcpy(p + 4, val, len);
	memset(p + 4 + len, 0, pad4(len) - len);
	return 4 + pad4(len);
}

static size_t
opt_str(uint8_t *p, uint16_t code, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0)
		return 0;
	if (n > 60000)
		n = 60000;
	return opt(p, code, s, (uint16_t)n);
}

/* Write a block's total length at both ends (p: where the trailing copy goes); returns it. */
static size_t
close_block(uint8_t *start, uint8_t *p)
{
	uint32_t total = (uint32_t)(p - start) + 4;

	w32(start + 4, total);
	w32(p, total);
	return total;
}

static size_t
str_room(const char *s)
{
	return s ? 4 + pad4(strlen(s) > 60000 ? 60000 : strlen(s)) : 0;
}

static size_t
header_len(const struct lc_file_info *info)
{
	size_t shb = 28 + str_room(info->os) + str_room(info->hardware) +
		     str_room(info->application) + 4;
	size_t idb = 20 + str_room(info->port) + str_room(info->clock) + 8 +
		     (info->filter && *info->filter ? 4 + pad4(1 + strlen(info->filter)) : 0) + 4;

	return shb + idb;
}

static size_t
ng_header(uint8_t *dst, size_t room, const struct lc_file_info *info)
{
	uint8_t *p = dst, *b;
	uint8_t tsresol = 9;

	if (room < header_len(info))
		return 0;
	/* Section header block. */
	b = p;
	w32(p, SHB);
	w32(p + 8, BOM);
	w16(p + 12, 1);
	w16(p + 14, 0);
	memset(p + 16, 0xff, 8);	/* section length: unknown (-1) */
	p += 24;
	p += opt_str(p, OPT_SHB_HARDWARE, info->hardware);
	p += opt_str(p, OPT_SHB_OS, info->os);
	p += opt_str(p, OPT_SHB_USERAPPL, info->application);
	w32(p, OPT_END);
	p += 4;
	close_block(b, p);
	p += 4;
	/* Interface description block: Ethernet. */
	b = p;
	w32(p, IDB);
	w16(p + 8, 1);			/* LINKTYPE_ETHERNET */
	w16(p + 10, 0);
	w32(p + 12, info->snaplen);
	p += 16;
	p += opt_str(p, OPT_IF_NAME, info->port);
	p += opt_str(p, OPT_IF_DESCRIPTION, info->clock);
	p += opt(p, OPT_IF_TSRESOL, &tsresol, 1);
	if (info->filter && *info->filter) {
		size_t n = strlen(info->filter);

		if (n > 60000 - 1)
			n = 60000 - 1;
		w16(p, OPT_IF_FILTER);
		w16(p + 2, (uint16_t)(n + 1));
		p[4] = 0;		/* the filter as a libpcap expression string */
		memcpy(p + 5, info->filter, n);
		memset(p + 5 + n, 0, pad4(n + 1) - (n + 1));
		p += 4 + pad4(n + 1);
	}
	w32(p, OPT_END);
	p += 4;
	close_block(b, p);
	p += 4;
	return (size_t)(p - dst);
}

static inline void
epb_head(uint8_t *p, uint32_t caplen, uint32_t len, uint64_t ts_ns)
{
	w32(p, EPB);
	w32(p + 8, 0);			/* interface 0 */
	w64ts(p + 12, ts_ns);
	w32(p + 20, caplen);
	w32(p + 24, len);
}

static inline size_t
epb_tail(uint8_t *p, uint32_t caplen)
{
	size_t padded = pad4(caplen), total = 28 + padded + 4;

	memset(p + 28 + caplen, 0, padded - caplen);
	w32(p + 4, (uint32_t)total);
	w32(p + 28 + padded, (uint32_t)total);
	return total;
}

static size_t
ng_record(uint8_t *dst, size_t room, const struct rte_mbuf *m, uint64_t ts_ns,
	  uint32_t snaplen)
{
	uint32_t caplen = lc_mbuf_caplen(m, snaplen);

	if (unlikely(room < 32 + pad4(caplen)))
		return 0;
	epb_head(dst, caplen, m->pkt_len, ts_ns);
	lc_mbuf_put(dst + 28, m, caplen);
	return epb_tail(dst, caplen);
}

static uint64_t
ng_record_ts(const uint8_t *rec)
{
	uint32_t hi, lo;

	memcpy(&hi, rec + 12, 4);
	memcpy(&lo, rec + 16, 4);
	return (uint64_t)hi << 32 | lo;
}

static size_t
ng_trailer(uint8_t *dst, size_t room, const struct lc_file_stats *st)
{
	uint8_t *p = dst, *b = dst, ts[8];

	if (room < ISB_LEN)
		return 0;
	w32(p, ISB);
	w32(p + 8, 0);			/* interface 0 */
	w64ts(p + 12, st->end_ns);
	p += 20;
	w64ts(ts, st->start_ns);
	p += opt(p, OPT_ISB_STARTTIME, ts, 8);
	w64ts(ts, st->end_ns);
	p += opt(p, OPT_ISB_ENDTIME, ts, 8);
	p += opt(p, OPT_ISB_IFRECV, &st->received, 8);
	p += opt(p, OPT_ISB_IFDROP, &st->dropped, 8);
	p += opt(p, OPT_ISB_FILTERACCEPT, &st->accepted, 8);
	w32(p, OPT_END);
	p += 4;
	return close_block(b, p);
}

const struct lc_format lc_format_pcapng = {
	.name = "pcapng",
	.ext = ".pcapng",
	.header = ng_header,
	.record = ng_record,
	.len_at = 4,			/* the block's total length */
	.len_add = 0,
	.record_ts = ng_record_ts,
	.data_at = 28,			/* EPB: type, total length, interface, time (2), */
	.caplen_at = 20,		/* captured length, original length, data */
	.wirelen_at = 24,
	.trailer = ng_trailer,
	.trailer_room = ISB_LEN,
};
