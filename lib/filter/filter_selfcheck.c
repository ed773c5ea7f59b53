/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The load-time self-check: before a filter instance is trusted with evidence, its engine
 * and libpcap's interpreter judge a built-in set of crafted frames, each also cut short at
 * every length up to CUT_MAX bytes, and must agree on every one (same return value).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "linecap/filter.h"

#define FRAME_MAX 9018
#define CUT_MAX 160

struct frame {
	const char *name;
	uint8_t b[FRAME_MAX];
	uint32_t len;
};

static void
put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += (uint32_t)n;
}

static void
put8(struct frame *f, uint8_t v)
{
	put(f, &v, 1);
}

static void
put16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put(f, b, 2);
}

static void
put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void
eth(struct frame *f, uint16_t type)
{
	static const uint8_t macs[] = { 0x00, 0x1b, 0x21, 0x00, 0x00, 0x02,
					0x00, 0x1b, 0x21, 0x00, 0x00, 0x01 };
	put(f, macs, sizeof(macs));
	put16(f, type);
}

static void
vlan(struct frame *f, uint16_t tpid_inner_type, uint16_t vid)
{
	put16(f, vid);
	put16(f, tpid_inner_type);
}

/* IPv4 header; ihl in words (5 or more: options are router alert + padding). */
static void
ip4(struct frame *f, uint8_t proto, uint32_t src, uint32_t dst, uint16_t payload, uint8_t ihl,
    uint16_t frag)
{
	put8(f, (uint8_t)(0x40 | ihl));
	put8(f, 0);
	put16(f, (uint16_t)(ihl * 4 + payload));
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put32(f, src);
	put32(f, dst);
	for (int i = 5; i < ihl; i++)
		put32(f, i == 5 ? 0x94040000 : 0x01010101);	/* router alert, then NOPs */
}

static void
ip6(struct frame *f, uint8_t next, uint16_t payload, uint8_t last_octet)
{
	static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					 0, 0x32 };
	uint8_t dst[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

	dst[15] = last_octet;
	put32(f, 0x60000000);
	put16(f, payload);
	put8(f, next);
	put8(f, 64);
	put(f, src, 16);
	put(f, dst, 16);
}

static void
tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags, uint16_t payload)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1000);
	put32(f, 0);
	put8(f, 0x50);
	put8(f, flags);
	put16(f, 65535);
	put32(f, 0);
	for (uint16_t i = 0; i < payload; i++)
		put8(f, (uint8_t)i);
}

static void
udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t payload)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + payload));
	put16(f, 0);
	for (uint16_t i = 0; i < payload; i++)
		put8(f, (uint8_t)(i * 7));
}

#define A_50 0xc0a80132u	/* 192.168.1.50 */
#define A_100 0xc0a80164u	/* 192.168.1.100 */
#define A_10 0x0a000001u	/* 10.0.0.1 */

static unsigned int
build(struct frame *fr)
{
	unsigned int n = 0;
	struct frame *f;

#define NEXT(label) do { f = &fr[n++]; f->len = 0; f->name = (label); } while (0)
	NEXT("empty");
	NEXT("one-byte"); put8(f, 0xff);
	NEXT("ethernet-only"); eth(f, 0x0800);
	NEXT("tcp-syn-443"); eth(f, 0x0800); ip4(f, 6, A_50, A_100, 20, 5, 0);
	tcp(f, 51515, 443, 0x02, 0);
	NEXT("tcp-rst-data"); eth(f, 0x0800); ip4(f, 6, A_100, A_50, 40, 5, 0x4000);
	tcp(f, 443, 51515, 0x14, 20);
	NEXT("tcp-ssh"); eth(f, 0x0800); ip4(f, 6, A_50, A_10, 120, 5, 0);
	tcp(f, 40000, 22, 0x18, 100);
	NEXT("udp-dns"); eth(f, 0x0800); ip4(f, 17, A_10, A_100, 40, 5, 0); udp(f, 5353, 53, 32);
	NEXT("icmp-unreach"); eth(f, 0x0800); ip4(f, 1, A_100, A_50, 8, 5, 0);
	put32(f, 0x03010000); put32(f, 0);
	NEXT("ip-options-igmp"); eth(f, 0x0800); ip4(f, 2, A_50, 0xe0000016u, 8, 6, 0);
	put32(f, 0x22000000); put32(f, 0);
	NEXT("ip-first-fragment"); eth(f, 0x0800); ip4(f, 17, A_50, A_100, 48, 5, 0x2000);
	udp(f, 7000, 7001, 40);
	NEXT("ip-later-fragment"); eth(f, 0x0800); ip4(f, 17, A_50, A_100, 48, 5, 0x00b9);
	for (int i = 0; i < 48; i++) put8(f, (uint8_t)i);
	NEXT("vlan-udp"); eth(f, 0x8100); vlan(f, 0x0800, 100); ip4(f, 17, A_50, A_100, 20, 5, 0);
	udp(f, 1000, 4789, 12);
	NEXT("qinq-tcp"); eth(f, 0x88a8); vlan(f, 0x8100, 2001); vlan(f, 0x0800, 5);
	ip4(f, 6, A_100, A_50, 20, 5, 0); tcp(f, 443, 51515, 0x10, 0);
	NEXT("ipv6-tcp"); eth(f, 0x86dd); ip6(f, 6, 20, 1); tcp(f, 33000, 443, 0x02, 0);
	NEXT("ipv6-ext-frag-udp"); eth(f, 0x86dd); ip6(f, 0, 8 + 8 + 8 + 8, 2);
	put8(f, 44); put8(f, 0); put16(f, 0x0104); put32(f, 0);	/* hop-by-hop */
	put8(f, 17); put8(f, 0); put16(f, 0x0001); put32(f, 0xabcd);	/* fragment */
	udp(f, 546, 547, 8);
	NEXT("ipv6-icmp6"); eth(f, 0x86dd); ip6(f, 58, 8, 0xff); put32(f, 0x87000000);
	put32(f, 0);
	NEXT("arp"); eth(f, 0x0806); put32(f, 0x00010800); put32(f, 0x06040001);
	for (int i = 0; i < 20; i++) put8(f, (uint8_t)(i + 1));
	NEXT("mpls-ip"); eth(f, 0x8847); put32(f, 0x00064140); ip4(f, 1, A_10, A_50, 8, 5, 0);
	put32(f, 0x08000000); put32(f, 0);
	NEXT("pppoe-session"); eth(f, 0x8864); put32(f, 0x11000001); put16(f, 26);
	put16(f, 0x0021); ip4(f, 17, A_10, A_100, 8, 5, 0); udp(f, 1, 2, 0);
	NEXT("llc-stp"); { static const uint8_t stp[] = { 0x01, 0x80, 0xc2, 0, 0, 0 };
	put(f, stp, 6); put32(f, 0x001b2100); put16(f, 0x0001); put16(f, 38);
	put8(f, 0x42); put8(f, 0x42); put8(f, 0x03);
	for (int i = 0; i < 35; i++) put8(f, 0); }
	NEXT("jumbo-tcp"); eth(f, 0x0800); ip4(f, 6, A_50, A_100, 8980, 5, 0);
	tcp(f, 51515, 443, 0x18, 8960);
#undef NEXT
	return n;
}

/* The next cut of a frame after cut: every length up to CUT_MAX, then the whole frame. */
static uint32_t
next_cut(const struct frame *fr, uint32_t cut)
{
	cut++;
	return cut > CUT_MAX && cut < fr->len ? fr->len : cut;
}

/* f frame by frame (its run function) against libpcap, over every cut of fr. */
static int
check_frame(const struct lc_filter_prog *prog, const struct lc_filter *f, const struct frame *fr,
	    char *err, size_t errlen)
{
	const struct bpf_insn *insns;
	unsigned int ninsn;

	insns = lc_filter_prog_insns(prog, &ninsn);
	for (uint32_t cut = 0; cut <= fr->len; cut = next_cut(fr, cut)) {
		unsigned int want = bpf_filter(insns, fr->b, fr->len, cut);
		unsigned int got = lc_filter_match_bytes(f, fr->b, fr->len, cut);

		if (want != got) {
			snprintf(err, errlen, "filter '%s': engine %s disagrees with libpcap on frame "
				 "'%s' cut at %u bytes (%u vs %u)", lc_filter_prog_expr(prog),
				 lc_filter_engine_name(f), fr->name, cut, got, want);
			return -EPROTO;
		}
	}
	return 0;
}

/* f's burst function against libpcap, over every cut of fr, up to 32 cuts a burst. */
static int
check_burst(const struct lc_filter_prog *prog, const struct lc_filter *f, const struct frame *fr,
	    char *err, size_t errlen)
{
	const struct bpf_insn *insns;
	unsigned int ninsn, nb = 0;
	struct lc_frame b[32];
	uint8_t keep[32];

	insns = lc_filter_prog_insns(prog, &ninsn);
	for (uint32_t cut = 0; cut <= fr->len; cut = next_cut(fr, cut)) {
		b[nb++] = (struct lc_frame){ fr->b, fr->len, cut };
		if (nb < 32 && cut < fr->len)
			continue;
		f->burst(f->state, b, nb, keep);
		for (unsigned int k = 0; k < nb; k++) {
			unsigned int want = bpf_filter(insns, fr->b, fr->len, b[k].caplen) != 0;

			if (keep[k] != want) {
				snprintf(err, errlen, "filter '%s': engine %s (burst) disagrees with "
					 "libpcap on frame '%s' cut at %u bytes (%u vs %u)",
					 lc_filter_prog_expr(prog), lc_filter_engine_name(f), fr->name,
					 b[k].caplen, keep[k], want);
				return -EPROTO;
			}
		}
		nb = 0;
	}
	return 0;
}

int
lc_filter_selfcheck(const struct lc_filter_prog *prog, const struct lc_filter *f, char *err,
		    size_t errlen)
{
	struct frame *frames = calloc(32, sizeof(*frames));
	unsigned int nframes;
	int rc = 0;

	if (frames == NULL) {
		snprintf(err, errlen, "filter self-check: out of memory");
		return -ENOMEM;
	}
	nframes = build(frames);
	for (unsigned int i = 0; i < nframes && rc == 0; i++)
		rc = check_frame(prog, f, &frames[i], err, errlen);
	/* The burst entry, over the same frames and cuts. */
	for (unsigned int i = 0; i < nframes && rc == 0 && f->burst != NULL; i++)
		rc = check_burst(prog, f, &frames[i], err, errlen);
	free(frames);
	return rc;
}
