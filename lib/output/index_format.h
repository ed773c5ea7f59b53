/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LC_INDEX_FORMAT_H
#define LC_INDEX_FORMAT_H

/*
 * The on-disk layout of an index (docs/index-format.md), shared by its writer (index.c) and
 * its reader (index_read.c). All integers little-endian.
 *
 *   header (96 bytes) | flow table (table_len bytes) | positions (pos_len bytes)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "linecap/index.h"

#define LC_IDX_MAGIC "LCINDEX\0"	/* 8 bytes */
#define LC_IDX_VERSION 1u
#define LC_IDX_HDR_LEN 96u

/* Header field offsets. */
#define LC_IDX_O_MAGIC 0	/* 8 bytes */
#define LC_IDX_O_VERSION 8	/* u32 */
#define LC_IDX_O_HDRLEN 12	/* u32: 96 */
#define LC_IDX_O_LINKTYPE 16	/* u32 */
#define LC_IDX_O_NFLOWS 20	/* u32 */
#define LC_IDX_O_FILEBYTES 24	/* u64 */
#define LC_IDX_O_PACKETS 32	/* u64 */
#define LC_IDX_O_FIRST 40	/* u64 */
#define LC_IDX_O_LAST 48	/* u64 */
#define LC_IDX_O_TABLE_AT 56	/* u64: 96 */
#define LC_IDX_O_TABLE_LEN 64	/* u64 */
#define LC_IDX_O_POS_AT 72	/* u64: 96 + table_len */
#define LC_IDX_O_POS_LEN 80	/* u64: to the end of the file */
#define LC_IDX_O_CRC 88		/* u32: CRC-32C of header bytes 0..87, then the table */
#define LC_IDX_O_RESERVED 92	/* u32: 0 */

/* The smallest flow entry: flags, nvlan, marks, tcp_flags, first_flags, ethertype, five 1-byte
 * varints. */
#define LC_IDX_MIN_FLOW 12u

#define LC_IDX_VARINT_MAX 10u

/* The protocols whose flows carry ports (or ICMP type and code). */
#define LC_IP_ICMP 1u
#define LC_IP_TCP 6u
#define LC_IP_UDP 17u
#define LC_IP_ICMPV6 58u
#define LC_IP_SCTP 132u

static inline void
lc_idx_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
lc_idx_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void
lc_idx_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t
lc_idx_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
lc_idx_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t
lc_idx_get64(const uint8_t *p)
{
	return (uint64_t)lc_idx_get32(p) | (uint64_t)lc_idx_get32(p + 4) << 32;
}

/* LEB128: 7 bits a byte, low first, high bit = more. Writes at most 10 bytes; returns the
 * count. */
static inline unsigned int
lc_idx_varint_put(uint8_t *p, uint64_t v)
{
	unsigned int n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/*
 * Decode one varint from p[0..avail): its length (1..10), or 0 when it runs past avail,
 * is longer than 10 bytes, overflows 64 bits or is not in its shortest form (a last byte of
 * 0 after the first).
 */
static inline unsigned int
lc_idx_varint_get(const uint8_t *p, size_t avail, uint64_t *v)
{
	uint64_t r = 0;

	for (unsigned int i = 0; i < LC_IDX_VARINT_MAX && i < avail; i++) {
		uint8_t b = p[i];

		if (i == 9 && b > 1)
			return 0;	/* beyond 64 bits */
		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (i > 0 && b == 0)
				return 0;	/* overlong */
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

/* CRC-32C (Castagnoli, reflected), continued from crc (start with 0). */
uint32_t lc_idx_crc32c(uint32_t crc, const void *buf, size_t len);

/* The SHA-256 of a header (LC_IDX_HDR_LEN bytes) and a flow table of tlen bytes
 * (lc_index_builder_table_sha256, lc_index_table_sha256). */
void lc_index_table_digest(const uint8_t *hdr, const uint8_t *table, size_t tlen,
			   uint8_t sha256[LC_INDEX_SHA256_LEN]);

#endif
