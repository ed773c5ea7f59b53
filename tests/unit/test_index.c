/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The index format (lib/output/index.c, index_read.c): frames of every shape (IPv4, IPv6,
 * VLAN, QinQ, fragments, IP options, frames cut anywhere, ICMP and ICMPv6 unreachable, ARP,
 * random bytes) through the builder, written, opened and read back: every record in exactly
 * one flow, at its position; each flow's counters; every frame agreeing with the known bits
 * lc_index_flow_bytes gives its flow. Then: the same records give the same bytes, the rebuild
 * from the capture file gives the writer's bytes (also of a cut file), the memory cap
 * abandons, and the reader refuses every cut and every damaged variant without reading out
 * of bounds or handing out a position past the capture. Last, the cost per record and the
 * size per packet over 4,096 flows of 64-byte frames, sent round-robin.
 *
 *   test_index --write-seeds DIR   writes the fuzz harness's seed indexes (tests/fuzz/seeds/index)
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lc_test.h"

#include "linecap/index.h"

#include "index_format.h"

#define MAXF 4096
#define SNAP 256

struct rec {
	uint8_t b[SNAP];
	uint32_t caplen, wirelen;
	uint64_t ts, off;
};

struct cap {
	struct rec *r;
	uint32_t n;
	uint64_t bytes;		/* capture file size: pcap header + records */
};

static uint64_t rng = 0x853c49e6748fea9bull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Ethernet with ntags tags (tpid, tci); the offset of the network header. */
static uint32_t
eth(uint8_t *p, int ntags, const uint16_t *tpid, const uint16_t *tci, uint16_t et)
{
	uint32_t o = 12;

	for (int i = 0; i < 6; i++) {
		p[i] = 0x02;
		p[6 + i] = (uint8_t)(0x10 + i);
	}
	for (int i = 0; i < ntags; i++) {
		put16(p + o, tpid[i]);
		put16(p + o + 2, tci[i]);
		o += 4;
	}
	put16(p + o, et);
	return o + 2;
}

/* IPv4 header at p; its length. */
static uint32_t
ipv4(uint8_t *p, uint8_t ihl, uint8_t proto, uint32_t src, uint32_t dst, uint16_t frag)
{
	memset(p, 0, 4u * ihl);
	p[0] = (uint8_t)(0x40 | ihl);
	put16(p + 2, 100);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	put32(p + 12, src);
	put32(p + 16, dst);
	for (uint32_t i = 20; i < 4u * ihl; i++)
		p[i] = 1;	/* NOP options */
	return 4u * ihl;
}

static uint32_t
ipv6(uint8_t *p, uint8_t nh, uint8_t s, uint8_t d)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[6] = nh;
	p[7] = 64;
	p[8] = 0x20;
	p[9] = 0x01;
	p[23] = s;
	p[24] = 0x20;
	p[25] = 0x01;
	p[39] = d;
	return 40;
}

/* A transport header (TCP 20 bytes with flags, UDP/SCTP 8, ICMP 8 with type, code). */
static uint32_t
l4(uint8_t *p, uint8_t proto, uint16_t sport, uint16_t dport, uint8_t flags)
{
	if (proto == 1 || proto == 58) {
		memset(p, 0, 8);
		p[0] = (uint8_t)sport;
		p[1] = (uint8_t)dport;
		return 8;
	}
	put16(p, sport);
	put16(p + 2, dport);
	if (proto == 6) {
		memset(p + 4, 0, 16);
		p[12] = 0x50;
		p[13] = flags;
		return 20;
	}
	memset(p + 4, 0, 4);
	return 8;
}

static void
add(struct cap *c, const uint8_t *b, uint32_t len, uint32_t caplen)
{
	struct rec *r = &c->r[c->n];

	memset(r->b, 0, sizeof(r->b));
	if (caplen > len)
		caplen = len;
	memcpy(r->b, b, caplen);
	r->caplen = caplen;
	r->wirelen = len + (rnd() % 3 == 0 ? 100 : 0);
	/* Mostly increasing timestamps, with some going back (other clocks, merges). */
	r->ts = 1700000000000000000ull + (uint64_t)c->n * 1000 + rnd() % 5000;
	if (rnd() % 8 == 0)
		r->ts -= rnd() % 100000;
	r->off = c->bytes;
	c->bytes += 16 + caplen;
	c->n++;
}

/* One frame of a random shape; cut at random now and then. */
static void
random_frame(struct cap *c)
{
	uint8_t b[SNAP];
	uint16_t tpid[2] = { 0x8100, 0x8100 }, tci[2];
	static const uint16_t tpids[] = { 0x8100, 0x88a8, 0x9100, 0x8100 };
	static const uint8_t protos[] = { 6, 17, 132, 1, 47, 6, 17 };
	int ntags = rnd() % 5 == 0 ? 1 + (int)(rnd() % 2) : 0;
	uint32_t o, len, shape = rnd() % 16;
	uint8_t proto = protos[rnd() % sizeof(protos)];

	for (int i = 0; i < 2; i++) {
		tpid[i] = tpids[rnd() % 4];
		tci[i] = (uint16_t)rnd();
	}
	memset(b, 0, sizeof(b));
	if (shape < 9) {
		uint16_t frag = rnd() % 8 == 0 ? (uint16_t)(rnd() & 0x3fff) : 0;
		uint8_t ihl = rnd() % 6 == 0 ? (uint8_t)(5 + rnd() % 11) : 5;

		o = eth(b, ntags, tpid, tci, 0x0800);
		o += ipv4(b + o, ihl, proto, 0x0a000000u | (rnd() % 4), 0x0a000100u | (rnd() % 4),
			  frag);
		if (proto == 1)
			o += l4(b + o, 1, rnd() % 2 ? 8 : 0, 0, 0);
		else
			o += l4(b + o, proto, (uint16_t)(1000 + rnd() % 3), rnd() % 2 ? 80 : 443,
				(uint8_t)(1u << (rnd() % 8)));
		len = o + rnd() % 64;
	} else if (shape < 12) {
		uint8_t nh = rnd() % 4 == 0 ? 58 : proto == 1 ? 0 : proto;

		o = eth(b, ntags, tpid, tci, 0x86dd);
		o += ipv6(b + o, nh, (uint8_t)(rnd() % 3), (uint8_t)(rnd() % 3));
		o += l4(b + o, nh, nh == 58 ? 128 : (uint16_t)(2000 + rnd() % 2), 22,
			(uint8_t)(1u << (rnd() % 8)));
		len = o + rnd() % 64;
	} else if (shape == 12) {
		o = eth(b, ntags, tpid, tci, 0x0806);
		len = o + 28;
	} else {
		/* Random bytes after an ethertype the builder looks into, or not. */
		static const uint16_t ets[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x0000, 0x1234 };

		o = eth(b, ntags, tpid, tci, ets[rnd() % 6]);
		for (uint32_t i = o; i < SNAP; i++)
			b[i] = (uint8_t)rnd();
		if (rnd() % 2)
			b[o] = (uint8_t)(rnd() % 2 ? 0x45 : 0x46 + rnd() % 10);
		len = o + rnd() % (SNAP - o);
	}
	add(c, b, len, rnd() % 4 == 0 ? rnd() % (len + 1) : len);
}

/* The hand-made frames; each one's record number is noted for the checks. */
enum { F_SYN, F_SYNACK, F_RST, F_VLAN, F_QINQ, F_9100, F_V6TCP, F_V6ICMP, F_FRAG1, F_FRAG2,
       F_CUT_FLAGS, F_CUT_PORTS, F_CUT_IP, F_CUT_ETH, F_CUT_TAG, F_OPTS, F_UNREACH_TCP,
       F_UNREACH_UDP, F_V6UNREACH, F_ARP, F_SCTP, F_NOTV4, F_COUNT };

static void
crafted(struct cap *c)
{
	uint8_t b[SNAP], q[64];
	uint16_t t1[2] = { 0x8100, 0 }, c1[2] = { 0xe000 | 100, 0 };
	uint16_t t2[2] = { 0x88a8, 0x8100 }, c2[2] = { 10, 0x2000 | 20 };
	uint16_t t3[2] = { 0x9100, 0 }, c3[2] = { 4095, 0 };
	uint32_t A = 0xc0a80164, B = 0x0a000001, C = 0x08080808, o, qo;

	memset(b, 0, sizeof(b));
#define TCP4(fl) (o = eth(b, 0, NULL, NULL, 0x0800), o += ipv4(b + o, 5, 6, A, B, 0), \
		  o += l4(b + o, 6, 1234, 80, fl))
	TCP4(0x02);
	add(c, b, o, o);					/* F_SYN */
	o = eth(b, 0, NULL, NULL, 0x0800);
	o += ipv4(b + o, 5, 6, B, A, 0);
	o += l4(b + o, 6, 80, 1234, 0x12);
	add(c, b, o, o);					/* F_SYNACK */
	TCP4(0x04);
	add(c, b, o, o);					/* F_RST: same flow as SYN */
	o = eth(b, 1, t1, c1, 0x0800);
	o += ipv4(b + o, 5, 17, A, C, 0);
	o += l4(b + o, 17, 5353, 53, 0);
	add(c, b, o + 20, o + 20);				/* F_VLAN */
	o = eth(b, 2, t2, c2, 0x0800);
	o += ipv4(b + o, 5, 17, A, C, 0);
	o += l4(b + o, 17, 5353, 53, 0);
	add(c, b, o, o);					/* F_QINQ */
	o = eth(b, 1, t3, c3, 0x86dd);
	o += ipv6(b + o, 17, 1, 2);
	o += l4(b + o, 17, 7, 9, 0);
	add(c, b, o, o);					/* F_9100 */
	o = eth(b, 0, NULL, NULL, 0x86dd);
	o += ipv6(b + o, 6, 1, 2);
	o += l4(b + o, 6, 4444, 443, 0x18);
	add(c, b, o + 100, o + 100);				/* F_V6TCP */
	o = eth(b, 0, NULL, NULL, 0x86dd);
	o += ipv6(b + o, 58, 1, 2);
	o += l4(b + o, 58, 128, 0, 0);
	add(c, b, o, o);					/* F_V6ICMP */
	o = eth(b, 0, NULL, NULL, 0x0800);
	o += ipv4(b + o, 5, 17, A, C, 0x2000);			/* MF, offset 0 */
	o += l4(b + o, 17, 6000, 6001, 0);
	add(c, b, o + 100, o + 100);				/* F_FRAG1 */
	o = eth(b, 0, NULL, NULL, 0x0800);
	o += ipv4(b + o, 5, 17, A, C, 185);
	add(c, b, o + 60, o + 60);				/* F_FRAG2 */
	TCP4(0x10);
	add(c, b, o, 14 + 20 + 13);				/* F_CUT_FLAGS */
	TCP4(0x10);
	add(c, b, o, 14 + 20 + 3);				/* F_CUT_PORTS */
	TCP4(0x10);
	add(c, b, o, 14 + 19);					/* F_CUT_IP */
	TCP4(0x10);
	add(c, b, o, 13);					/* F_CUT_ETH */
	o = eth(b, 1, t1, c1, 0x0800);
	add(c, b, 60, 17);					/* F_CUT_TAG */
	o = eth(b, 0, NULL, NULL, 0x0800);
	o += ipv4(b + o, 7, 17, A, C, 0);
	o += l4(b + o, 17, 1111, 2222, 0);
	add(c, b, o, o);					/* F_OPTS */
	/* Unreachable from B's router quoting A's SYN (a flow with packets). */
	qo = ipv4(q, 5, 6, A, B, 0);
	qo += l4(q + qo, 6, 1234, 80, 0x02);
	o = eth(b, 0, NULL, NULL, 0x0800);
	o += ipv4(b + o, 5, 1, 0x0a0000fe, A, 0);
	o += l4(b + o, 1, 3, 1, 0);
	memcpy(b + o, q, 28);
	add(c, b, o + 28, o + 28);				/* F_UNREACH_TCP */
	/* Port unreachable quoting a UDP packet to C's port 53 that this file does not hold. */
	qo = ipv4(q, 5, 17, A, C, 0);
	qo += l4(q + qo, 17, 40000, 53, 0);
	o = eth(b, 1, t1, c1, 0x0800);
	o += ipv4(b + o, 5, 1, C, A, 0);
	o += l4(b + o, 1, 3, 3, 0);
	memcpy(b + o, q, 28);
	add(c, b, o + 28, o + 28);				/* F_UNREACH_UDP */
	/* ICMPv6 unreachable quoting the IPv6 TCP packet above. */
	o = eth(b, 0, NULL, NULL, 0x86dd);
	o += ipv6(b + o, 58, 9, 1);
	o += l4(b + o, 58, 1, 4, 0);
	qo = ipv6(q, 6, 1, 2);
	qo += l4(q + qo, 6, 4444, 443, 0);
	memcpy(b + o, q, 48);
	add(c, b, o + 48, o + 48);				/* F_V6UNREACH */
	o = eth(b, 0, NULL, NULL, 0x0806);
	add(c, b, o + 28, o + 28);				/* F_ARP */
	o = eth(b, 0, NULL, NULL, 0x0800);
	o += ipv4(b + o, 5, 132, A, C, 0);
	o += l4(b + o, 132, 38412, 38412, 0);
	add(c, b, o, o);					/* F_SCTP */
	o = eth(b, 0, NULL, NULL, 0x0800);
	o += ipv4(b + o, 5, 6, A, C, 0);
	b[14] = 0x65;						/* version 6 in an IPv4 frame */
	add(c, b, o + 20, o + 20);				/* F_NOTV4 */
#undef TCP4
}

static struct cap *
cap_new(uint32_t max)
{
	struct cap *c = calloc(1, sizeof(*c));

	c->r = calloc(max, sizeof(*c->r));
	c->bytes = 24;
	return c;
}

static void
cap_free(struct cap *c)
{
	free(c->r);
	free(c);
}

static void
feed(struct lc_index_builder *b, const struct cap *c, uint32_t n)
{
	lc_index_builder_reset(b, 1);
	for (uint32_t i = 0; i < n; i++)
		lc_index_add(b, c->r[i].off, c->r[i].ts, c->r[i].wirelen, c->r[i].b,
			     c->r[i].caplen);
}

/* The bytes of the file open on fd (from 0). */
static uint8_t *
slurp(int fd, size_t *len)
{
	struct stat st;
	uint8_t *p;

	if (fstat(fd, &st) != 0)
		return NULL;
	p = malloc((size_t)st.st_size + 1);
	*len = (size_t)st.st_size;
	if (p != NULL && pread(fd, p, *len, 0) != (ssize_t)*len) {
		free(p);
		return NULL;
	}
	return p;
}

static int
memfd_with(const uint8_t *p, size_t len)
{
	int fd = memfd_create("idx", 0);

	if (fd < 0 || write(fd, p, len) != (ssize_t)len) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Write b's index into memory; its bytes (malloc'ed), checking the SHA-256 and length. */
static uint8_t *
write_index(struct lc_index_builder *b, uint64_t file_bytes, size_t *len)
{
	uint8_t sha[32], sha2[32];
	uint64_t l = 0;
	unsigned int hl;
	int fd = memfd_create("idx", 0), rc;
	uint8_t *p;

	rc = lc_index_builder_write(b, fd, file_bytes, sha, &l);
	CHECK_EQ_U64(rc, 0);
	p = slurp(fd, len);
	close(fd);
	CHECK(p != NULL && l == *len);
	if (p != NULL) {
		EVP_Digest(p, *len, sha2, &hl, EVP_sha256(), NULL);
		CHECK(memcmp(sha, sha2, 32) == 0);
	}
	return p;
}

/* Does the captured frame agree with every known bit of its flow? */
static int
agrees(const struct lc_partial *pt, const struct rec *r)
{
	if (r->caplen < pt->present)
		return 0;
	for (uint32_t j = 0; j < LC_PARTIAL_LEN; j++) {
		if (j >= pt->present && pt->known[j] != 0)
			return 0;	/* a claim about a byte not every packet has */
		if (j < pt->present && ((r->b[j] ^ pt->val[j]) & pt->known[j]) != 0)
			return 0;
		if ((pt->val[j] & ~pt->known[j]) != 0)
			return 0;
	}
	return 1;
}

static uint32_t
rec_at(const struct cap *c, uint64_t off)
{
	uint32_t lo = 0, hi = c->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (c->r[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n && c->r[lo].off == off ? lo : UINT32_MAX;
}

/*
 * Open the index bytes and check them against the records: every record in exactly one flow,
 * the counters, the known bits. flow_of[i] gets the flow of record i.
 */
static void
check_index(const uint8_t *idx, size_t len, const struct cap *c, uint32_t *flow_of)
{
	char err[512];
	int fd = memfd_with(idx, len);
	struct lc_index *ix = lc_index_open_fd(fd, "t.idx", err, sizeof(err));
	const struct lc_index_flow *fl;
	uint32_t nf, *seen = calloc(c->n + 1, sizeof(*seen));
	uint64_t *pos = malloc((c->n + 1) * sizeof(*pos)), lo = UINT64_MAX, hi = 0, sum = 0;

	if (ix == NULL) {
		fprintf(stderr, "open: %s\n", err);
		CHECK(0);
		free(seen);
		free(pos);
		return;
	}
	for (uint32_t i = 0; i < c->n; i++) {
		lo = c->r[i].ts < lo ? c->r[i].ts : lo;
		hi = c->r[i].ts > hi ? c->r[i].ts : hi;
	}
	CHECK_EQ_U64(lc_index_info(ix)->packets, c->n);
	CHECK_EQ_U64(lc_index_info(ix)->file_bytes, c->bytes);
	CHECK_EQ_U64(lc_index_info(ix)->linktype, 1);
	CHECK_EQ_U64(lc_index_info(ix)->first_ns, c->n ? lo : 0);
	CHECK_EQ_U64(lc_index_info(ix)->last_ns, c->n ? hi : 0);
	fl = lc_index_flows(ix, &nf);
	CHECK_EQ_U64(nf, lc_index_info(ix)->nflows);
	for (uint32_t f = 0; f < nf; f++) {
		struct lc_partial pt;
		uint64_t bytes = 0, first = UINT64_MAX, last = 0;
		uint8_t tf = 0;
		int ok = 1;

		lc_index_flow_bytes(&fl[f], &pt);
		if (lc_index_positions(ix, &fl[f], pos, err, sizeof(err)) != 0) {
			fprintf(stderr, "positions: %s\n", err);
			CHECK(0);
			continue;
		}
		for (uint64_t k = 0; k < fl[f].packets; k++) {
			uint32_t i = rec_at(c, pos[k]);

			if (i == UINT32_MAX || seen[i]++ || (k > 0 && pos[k] <= pos[k - 1])) {
				ok = 0;
				continue;
			}
			if (flow_of != NULL)
				flow_of[i] = f;
			if (!agrees(&pt, &c->r[i])) {
				fprintf(stderr, "record %u disagrees with flow %u\n", i, f);
				ok = 0;
			}
			bytes += c->r[i].wirelen;
			first = c->r[i].ts < first ? c->r[i].ts : first;
			last = c->r[i].ts > last ? c->r[i].ts : last;
			if (fl[f].key.flags & LC_FLOW_TCPFL)
				tf |= c->r[i].b[pt.present - 1];
		}
		CHECK(ok);
		CHECK_EQ_U64(fl[f].bytes, bytes);
		CHECK_EQ_U64(fl[f].tcp_flags, tf);
		if (fl[f].packets) {
			CHECK_EQ_U64(fl[f].first_ns, first);
			CHECK_EQ_U64(fl[f].last_ns, last);
		} else {
			CHECK(fl[f].marks != 0);
		}
		sum += fl[f].packets;
		/* Flows are distinct. */
		for (uint32_t g = 0; g < f; g++)
			if (memcmp(&fl[g].key, &fl[f].key, sizeof(fl[f].key)) == 0)
				CHECK(!"two flows with one key");
	}
	CHECK_EQ_U64(sum, c->n);
	for (uint32_t i = 0; i < c->n; i++)
		if (seen[i] != 1) {
			fprintf(stderr, "record %u in %u flows\n", i, seen[i]);
			CHECK(0);
			break;
		}
	lc_index_close(ix);
	free(seen);
	free(pos);
}

static const struct lc_index_flow *
flows_of(const uint8_t *idx, size_t len, struct lc_index **ixp, uint32_t *nf)
{
	char err[512];
	struct lc_index *ix = lc_index_open_fd(memfd_with(idx, len), "t.idx", err, sizeof(err));

	*ixp = ix;
	*nf = 0;
	return ix ? lc_index_flows(ix, nf) : NULL;
}

static void
test_crafted(void)
{
	struct cap *c = cap_new(64);
	struct lc_index_builder *b = lc_index_builder_create(64u << 20);
	uint32_t flow_of[64], nf;
	struct lc_index *ix;
	const struct lc_index_flow *fl;
	uint8_t *idx;
	size_t len;

	crafted(c);
	CHECK_EQ_U64(c->n, F_COUNT);
	feed(b, c, c->n);
	CHECK(!lc_index_builder_abandoned(b));
	CHECK_EQ_U64(lc_index_builder_packets(b), c->n);
	idx = write_index(b, c->bytes, &len);
	check_index(idx, len, c, flow_of);
	fl = flows_of(idx, len, &ix, &nf);
	CHECK(fl != NULL);
	if (fl == NULL)
		goto out;
	/* SYN and RST share a flow; the SYN-ACK is the other direction. */
	CHECK(flow_of[F_SYN] == flow_of[F_RST] && flow_of[F_SYN] != flow_of[F_SYNACK]);
	{
		const struct lc_index_flow *s = &fl[flow_of[F_SYN]];

		CHECK_EQ_U64(s->key.flags, LC_FLOW_IPV4 | LC_FLOW_PORTS | LC_FLOW_TCPFL);
		CHECK_EQ_U64(s->tcp_flags, 0x06);
		CHECK_EQ_U64(s->packets, 2);
		CHECK(s->key.sport == 1234 && s->key.dport == 80 && s->key.proto == 6);
		CHECK(s->marks == LC_FLOW_MARK_UNREACH);	/* quoted by F_UNREACH_TCP */
		CHECK(fl[flow_of[F_SYNACK]].marks == 0);
	}
	CHECK(fl[flow_of[F_VLAN]].key.nvlan == 1 && fl[flow_of[F_VLAN]].key.vid[0] == 100 &&
	      fl[flow_of[F_VLAN]].key.tpid[0] == 0x8100);
	CHECK(fl[flow_of[F_QINQ]].key.nvlan == 2 && fl[flow_of[F_QINQ]].key.vid[0] == 10 &&
	      fl[flow_of[F_QINQ]].key.vid[1] == 20 && fl[flow_of[F_QINQ]].key.tpid[0] == 0x88a8 &&
	      fl[flow_of[F_QINQ]].key.ethertype == 0x0800);
	CHECK(fl[flow_of[F_9100]].key.tpid[0] == 0x9100 && fl[flow_of[F_9100]].key.vid[0] == 4095 &&
	      fl[flow_of[F_9100]].key.flags == (LC_FLOW_IPV6 | LC_FLOW_PORTS));
	CHECK(fl[flow_of[F_V6TCP]].key.flags == (LC_FLOW_IPV6 | LC_FLOW_PORTS | LC_FLOW_TCPFL) &&
	      fl[flow_of[F_V6TCP]].tcp_flags == 0x18 &&
	      fl[flow_of[F_V6TCP]].marks == LC_FLOW_MARK_UNREACH);
	CHECK(fl[flow_of[F_V6ICMP]].key.sport == 128 && fl[flow_of[F_V6ICMP]].key.proto == 58);
	CHECK(fl[flow_of[F_FRAG1]].key.flags == (LC_FLOW_IPV4 | LC_FLOW_PORTS) &&
	      fl[flow_of[F_FRAG1]].key.sport == 6000);
	CHECK(fl[flow_of[F_FRAG2]].key.flags == (LC_FLOW_IPV4 | LC_FLOW_FRAG));
	CHECK(fl[flow_of[F_CUT_FLAGS]].key.flags == (LC_FLOW_IPV4 | LC_FLOW_PORTS) &&
	      fl[flow_of[F_CUT_FLAGS]].key.dport == 80);
	CHECK(fl[flow_of[F_CUT_PORTS]].key.flags == LC_FLOW_IPV4);
	CHECK(fl[flow_of[F_CUT_IP]].key.flags == 0 &&
	      fl[flow_of[F_CUT_IP]].key.ethertype == 0x0800);
	CHECK(fl[flow_of[F_CUT_ETH]].key.ethertype == 0);
	CHECK(fl[flow_of[F_CUT_TAG]].key.ethertype == 0x8100 && fl[flow_of[F_CUT_TAG]].key.nvlan == 0);
	CHECK(fl[flow_of[F_OPTS]].key.ihl == 7 && fl[flow_of[F_OPTS]].key.dport == 2222);
	CHECK(fl[flow_of[F_ARP]].key.ethertype == 0x0806 && fl[flow_of[F_ARP]].key.flags == 0);
	CHECK(fl[flow_of[F_SCTP]].key.proto == 132 && (fl[flow_of[F_SCTP]].key.flags & LC_FLOW_PORTS));
	CHECK(fl[flow_of[F_NOTV4]].key.flags == 0);
	CHECK(fl[flow_of[F_UNREACH_TCP]].key.sport == 3 && fl[flow_of[F_UNREACH_TCP]].key.dport == 1);
	{
		/* The UDP flow the port unreachable quoted: no packets, marked, on VLAN 100. */
		int found = 0;

		for (uint32_t f = 0; f < nf; f++)
			if (fl[f].packets == 0 && fl[f].key.sport == 40000 && fl[f].key.dport == 53 &&
			    fl[f].key.proto == 17 && fl[f].key.nvlan == 1 && fl[f].key.vid[0] == 100 &&
			    fl[f].marks == LC_FLOW_MARK_UNREACH && fl[f].pos_len == 0)
				found++;
		CHECK_EQ_U64(found, 1);
	}
	{
		/* A known flow's bits: the SYN flow's flags byte has RST and SYN unknown, the
		 * others known 0; the fragment flow knows nothing of the offset. */
		struct lc_partial pt;

		lc_index_flow_bytes(&fl[flow_of[F_SYN]], &pt);
		CHECK_EQ_U64(pt.present, 14 + 20 + 14);
		CHECK_EQ_U64(pt.known[14 + 20 + 13], 0xf9);
		CHECK_EQ_U64(pt.val[14 + 9], 6);
		CHECK_EQ_U64(pt.known[14 + 6], 0x1f);
		lc_index_flow_bytes(&fl[flow_of[F_FRAG2]], &pt);
		CHECK_EQ_U64(pt.known[14 + 6], 0);
		CHECK_EQ_U64(pt.present, 34);
		lc_index_flow_bytes(&fl[flow_of[F_QINQ]], &pt);
		CHECK_EQ_U64(pt.known[14], 0x0f);	/* TCI: PCP, DEI unknown */
		CHECK_EQ_U64(pt.known[18], 0x0f);
		CHECK_EQ_U64(pt.val[16], 0x81);
		CHECK_EQ_U64(pt.val[19], 20);
		CHECK_EQ_U64(pt.present, 22 + 20 + 4);
	}
	lc_index_close(ix);
out:
	free(idx);
	lc_index_builder_free(b);
	cap_free(c);
}

/* A capture file of c's first n records (nanosecond pcap). */
static int
write_capture(const char *path, const struct cap *c, uint32_t n, uint64_t cut)
{
	uint8_t h[24] = { 0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0 };
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	FILE *f;

	lc_idx_put32(h + 16, SNAP);
	lc_idx_put32(h + 20, 1);
	f = fdopen(dup(fd), "wb");
	fwrite(h, 1, 24, f);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t rh[16];

		lc_idx_put32(rh, (uint32_t)(c->r[i].ts / 1000000000ull));
		lc_idx_put32(rh + 4, (uint32_t)(c->r[i].ts % 1000000000ull));
		lc_idx_put32(rh + 8, c->r[i].caplen);
		lc_idx_put32(rh + 12, c->r[i].wirelen);
		fwrite(rh, 1, 16, f);
		fwrite(c->r[i].b, 1, c->r[i].caplen, f);
	}
	fclose(f);
	if (cut && ftruncate(fd, (off_t)cut) != 0)
		CHECK(0);
	return fd;
}

static void
test_random_rebuild(const char *dir)
{
	struct cap *c = cap_new(MAXF);
	struct lc_index_builder *b = lc_index_builder_create(64u << 20);
	struct lc_index_builder *b2 = lc_index_builder_create(64u << 20);
	char path[512], err[512];
	uint8_t *idx, *idx2, *re, sha[32];
	size_t len, len2, relen;
	uint64_t l;
	int cfd, ofd, rc;

	crafted(c);
	while (c->n < 3000)
		random_frame(c);
	feed(b, c, c->n);
	idx = write_index(b, c->bytes, &len);
	check_index(idx, len, c, NULL);
	/* Determinism: again, and from another builder that saw another file first. */
	idx2 = write_index(b, c->bytes, &len2);
	CHECK(len == len2 && memcmp(idx, idx2, len) == 0);
	free(idx2);
	feed(b2, c, 500);
	feed(b2, c, c->n);
	idx2 = write_index(b2, c->bytes, &len2);
	CHECK(len == len2 && memcmp(idx, idx2, len) == 0);
	free(idx2);

	/* Rebuild from the capture file: the writer's bytes. */
	snprintf(path, sizeof(path), "%s/x.pcap", dir);
	cfd = write_capture(path, c, c->n, 0);
	ofd = memfd_create("re", 0);
	rc = lc_index_rebuild(cfd, path, ofd, sha, &l, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "rebuild: %s\n", err);
	CHECK_EQ_U64(rc, 0);
	re = slurp(ofd, &relen);
	CHECK(re != NULL && relen == len && l == len && memcmp(re, idx, len) == 0);
	free(re);
	close(ofd);
	close(cfd);
	/* A cut file (a .part): the index of its whole records, file_bytes where they end. */
	cfd = write_capture(path, c, c->n, c->r[2000].off + 7);
	ofd = memfd_create("re", 0);
	rc = lc_index_rebuild(cfd, path, ofd, sha, &l, err, sizeof(err));
	CHECK_EQ_U64(rc, 0);
	re = slurp(ofd, &relen);
	feed(b2, c, 2000);
	idx2 = write_index(b2, c->r[2000].off, &len2);
	CHECK(re != NULL && relen == len2 && memcmp(re, idx2, len2) == 0);
	free(re);
	free(idx2);
	close(ofd);
	close(cfd);
	/* No records at all. */
	cfd = write_capture(path, c, 0, 0);
	ofd = memfd_create("re", 0);
	CHECK_EQ_U64(lc_index_rebuild(cfd, path, ofd, sha, &l, err, sizeof(err)), 0);
	re = slurp(ofd, &relen);
	feed(b2, c, 0);
	idx2 = write_index(b2, 24, &len2);
	CHECK(re != NULL && relen == len2 && memcmp(re, idx2, len2) == 0 &&
	      len2 == LC_IDX_HDR_LEN);
	{
		struct cap e = { .r = c->r, .n = 0, .bytes = 24 };

		check_index(idx2, len2, &e, NULL);
	}
	free(re);
	free(idx2);
	close(ofd);
	close(cfd);
	unlink(path);
	/* Another link type (raw IP): one flow that claims nothing. */
	{
		struct lc_index *ix;
		const struct lc_index_flow *fl;
		struct lc_partial pt;
		uint32_t nf;

		cfd = write_capture(path, c, 100, 0);
		CHECK(pwrite(cfd, "\x65\0\0\0", 4, 20) == 4);	/* LINKTYPE_RAW */
		ofd = memfd_create("re", 0);
		CHECK_EQ_U64(lc_index_rebuild(cfd, path, ofd, sha, &l, err, sizeof(err)), 0);
		re = slurp(ofd, &relen);
		lc_index_builder_reset(b2, 101);
		for (uint32_t i = 0; i < 100; i++)
			lc_index_add(b2, c->r[i].off, c->r[i].ts, c->r[i].wirelen, c->r[i].b,
				     c->r[i].caplen);
		idx2 = write_index(b2, c->r[100].off, &len2);
		CHECK(re != NULL && relen == len2 && memcmp(re, idx2, len2) == 0);
		fl = flows_of(idx2, len2, &ix, &nf);
		CHECK(fl != NULL && nf == 1 && lc_index_info(ix)->linktype == 101 &&
		      fl[0].packets == 100);
		if (fl != NULL) {
			lc_index_flow_bytes(&fl[0], &pt);
			CHECK(pt.present == 0 && pt.known[12] == 0 && pt.known[13] == 0);
		}
		lc_index_close(ix);
		free(re);
		free(idx2);
		close(ofd);
		close(cfd);
		unlink(path);
	}
	/* Not a capture. */
	cfd = memfd_with((const uint8_t *)"hello, world, not a pcap", 24);
	ofd = memfd_create("re", 0);
	CHECK(lc_index_rebuild(cfd, "junk", ofd, sha, &l, err, sizeof(err)) < 0);
	CHECK_STR_HAS(err, "junk");
	close(cfd);
	close(ofd);

	free(idx);
	lc_index_builder_free(b);
	lc_index_builder_free(b2);
	cap_free(c);
}

static void
test_cap(void)
{
	struct cap *c = cap_new(MAXF);
	struct lc_index_builder *b = lc_index_builder_create(64u << 10);
	uint8_t sha[32];
	uint64_t l = 1;
	size_t len;
	uint8_t *idx;
	int fd = memfd_create("cap", 0);

	while (c->n < MAXF)
		random_frame(c);
	/* 4,096 distinct flows need more than 64 KiB. */
	for (uint32_t i = 0; i < MAXF; i++)
		lc_idx_put32(c->r[i].b + 26, i);
	feed(b, c, c->n);
	CHECK(lc_index_builder_abandoned(b));
	CHECK_EQ_U64(lc_index_builder_packets(b), MAXF);
	CHECK_EQ_U64(lc_index_builder_write(b, fd, c->bytes, sha, &l), -ECANCELED);
	CHECK_EQ_U64(l, 0);
	struct stat st;

	CHECK(fstat(fd, &st) == 0 && st.st_size == 0);
	/* The next file starts afresh. */
	feed(b, c, 20);
	CHECK(!lc_index_builder_abandoned(b));
	c->n = 20;
	c->bytes = c->r[20].off;
	idx = write_index(b, c->bytes, &len);
	check_index(idx, len, c, NULL);
	free(idx);
	lc_index_builder_abandon(b);
	CHECK(lc_index_builder_abandoned(b));
	close(fd);
	lc_index_builder_free(b);
	cap_free(c);
}

/* Open a damaged index: refused, or every position it hands out is in the capture. */
static int
try_open(const uint8_t *p, size_t len, uint64_t file_bytes)
{
	char err[512];
	struct lc_index *ix = lc_index_open_fd(memfd_with(p, len), "d.idx", err, sizeof(err));
	const struct lc_index_flow *fl;
	uint32_t nf;

	(void)file_bytes;
	if (ix == NULL) {
		if (strncmp(err, "d.idx: byte ", 12) != 0 || errno != EINVAL) {
			fprintf(stderr, "bad error: %s\n", err);
			CHECK(0);
		}
		return 0;
	}
	fl = lc_index_flows(ix, &nf);
	for (uint32_t f = 0; f < nf; f++) {
		uint64_t *pos = malloc((fl[f].packets + 1) * sizeof(*pos));

		if (lc_index_positions(ix, &fl[f], pos, err, sizeof(err)) == 0) {
			for (uint64_t k = 0; k < fl[f].packets; k++)
				if (pos[k] >= lc_index_info(ix)->file_bytes ||
				    (k > 0 && pos[k] <= pos[k - 1]))
					CHECK(!"a position past the capture");
		} else {
			CHECK_STR_HAS(err, "d.idx: byte ");
		}
		free(pos);
	}
	lc_index_close(ix);
	return 1;
}

static void
fix_crc(uint8_t *p, size_t len)
{
	uint64_t tl = lc_idx_get64(p + LC_IDX_O_TABLE_LEN);
	uint32_t crc;

	if (tl > len - LC_IDX_HDR_LEN)
		tl = len - LC_IDX_HDR_LEN;
	crc = lc_idx_crc32c(0, p, LC_IDX_O_CRC);
	crc = lc_idx_crc32c(crc, p + LC_IDX_HDR_LEN, (size_t)tl);
	lc_idx_put32(p + LC_IDX_O_CRC, crc);
}

static void
test_hostile(void)
{
	struct cap *c = cap_new(64);
	struct lc_index_builder *b = lc_index_builder_create(1u << 20);
	uint8_t *idx, *d;
	size_t len;
	unsigned int opened = 0, crc_opened = 0;
	static const uint8_t xors[] = { 0x01, 0x80, 0xff, 0x7f };

	crafted(c);
	feed(b, c, c->n);
	idx = write_index(b, c->bytes, &len);
	d = malloc(len);
	CHECK(try_open(idx, len, c->bytes) == 1);
	/* Cut at every byte: refused. */
	for (size_t n = 0; n < len; n++)
		CHECK(try_open(idx, n, c->bytes) == 0);
	/* One more byte: refused. */
	memcpy(d, idx, len);
	{
		uint8_t *longer = malloc(len + 1);

		memcpy(longer, idx, len);
		longer[len] = 0;
		CHECK(try_open(longer, len + 1, c->bytes) == 0);
		free(longer);
	}
	/* Every byte flipped, as found and with the checksum made right again. */
	for (size_t i = 0; i < len; i++)
		for (unsigned int x = 0; x < sizeof(xors); x++) {
			memcpy(d, idx, len);
			d[i] ^= xors[x];
			opened += (unsigned int)try_open(d, len, c->bytes);
			if (i < LC_IDX_O_CRC || (i >= LC_IDX_HDR_LEN &&
						  i < LC_IDX_HDR_LEN + lc_idx_get64(idx + LC_IDX_O_TABLE_LEN))) {
				fix_crc(d, len);
				crc_opened += (unsigned int)try_open(d, len, c->bytes);
			}
		}
	/* A flip in the header or table without the checksum is always caught. */
	for (size_t i = 0; i < LC_IDX_HDR_LEN + lc_idx_get64(idx + LC_IDX_O_TABLE_LEN); i++) {
		memcpy(d, idx, len);
		d[i] ^= 0x01;
		CHECK(try_open(d, len, c->bytes) == 0);
	}
	fprintf(stderr, "hostile: %zu-byte index, %u flipped variants opened (positions area), "
		"%u with the checksum fixed\n", len, opened, crc_opened);
	/* Absurd counts with a right checksum. */
	memcpy(d, idx, len);
	lc_idx_put32(d + LC_IDX_O_NFLOWS, 0xffffffffu);
	fix_crc(d, len);
	CHECK(try_open(d, len, c->bytes) == 0);
	memcpy(d, idx, len);
	lc_idx_put64(d + LC_IDX_O_TABLE_LEN, UINT64_MAX - 50);
	fix_crc(d, len);
	CHECK(try_open(d, len, c->bytes) == 0);
	memcpy(d, idx, len);
	lc_idx_put64(d + LC_IDX_O_PACKETS, lc_idx_get64(idx + LC_IDX_O_PACKETS) + 1);
	fix_crc(d, len);
	CHECK(try_open(d, len, c->bytes) == 0);
	/* A byte after the last flow (lengths and checksum made right). */
	{
		uint64_t tl = lc_idx_get64(idx + LC_IDX_O_TABLE_LEN);
		uint8_t *e = malloc(len + 1);

		memcpy(e, idx, LC_IDX_HDR_LEN + tl);
		e[LC_IDX_HDR_LEN + tl] = 0;
		memcpy(e + LC_IDX_HDR_LEN + tl + 1, idx + LC_IDX_HDR_LEN + tl,
		       len - LC_IDX_HDR_LEN - tl);
		lc_idx_put64(e + LC_IDX_O_TABLE_LEN, tl + 1);
		lc_idx_put64(e + LC_IDX_O_POS_AT, LC_IDX_HDR_LEN + tl + 1);
		fix_crc(e, len + 1);
		CHECK(try_open(e, len + 1, c->bytes) == 0);
		free(e);
	}
	/* Positions that repeat or go back (a builder fed them): refused when decoded. */
	for (int back = 0; back < 2; back++) {
		char err[512];
		struct lc_index *ix;
		const struct lc_index_flow *fl;
		uint32_t nf;
		uint64_t pos[4];
		uint8_t *r;
		size_t rlen;

		feed(b, c, 3);	/* SYN, SYN-ACK, RST: SYN and RST share a flow */
		lc_index_builder_reset(b, 1);
		lc_index_add(b, c->r[2].off, c->r[0].ts, 60, c->r[0].b, c->r[0].caplen);
		lc_index_add(b, c->r[2].off - (uint64_t)back * 50, c->r[2].ts, 60, c->r[2].b,
			     c->r[2].caplen);
		r = write_index(b, c->bytes, &rlen);
		ix = lc_index_open_fd(memfd_with(r, rlen), "d.idx", err, sizeof(err));
		CHECK(ix != NULL);
		fl = ix ? lc_index_flows(ix, &nf) : NULL;
		CHECK(fl != NULL && nf == 1 && fl[0].packets == 2);
		if (fl != NULL && nf == 1) {
			CHECK(lc_index_positions(ix, &fl[0], pos, err, sizeof(err)) == -EINVAL);
			CHECK_STR_HAS(err, back ? "past the capture" : "do not increase");
		}
		lc_index_close(ix);
		free(r);
	}
	/* A capture size that the positions pass: their decoding refuses them. */
	{
		char err[512];
		struct lc_index *ix;
		const struct lc_index_flow *fl;
		uint32_t nf, bad = 0;
		uint64_t pos[64];

		memcpy(d, idx, len);
		lc_idx_put64(d + LC_IDX_O_FILEBYTES, c->r[5].off);
		fix_crc(d, len);
		ix = lc_index_open_fd(memfd_with(d, len), "d.idx", err, sizeof(err));
		CHECK(ix != NULL);
		fl = ix ? lc_index_flows(ix, &nf) : NULL;
		for (uint32_t f = 0; fl && f < nf; f++)
			if (lc_index_positions(ix, &fl[f], pos, err, sizeof(err)) != 0) {
				CHECK_STR_HAS(err, "past the capture file");
				bad++;
			}
		CHECK(bad > 0);
		lc_index_close(ix);
	}
	free(d);
	free(idx);
	lc_index_builder_free(b);
	cap_free(c);
}

static double
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* 4,096 UDP flows of 64-byte frames, round-robin: the cost per record and the size. */
static void
test_bench(void)
{
	enum { FLOWS = 4096, FRAME = 64 };
	uint8_t *frames = malloc((size_t)FLOWS * FRAME);
	struct lc_index_builder *b = lc_index_builder_create(256u << 20);
#if defined(__SANITIZE_ADDRESS__)
	const uint32_t rounds = 64;
#else
	const uint32_t rounds = 256;
#endif
	uint64_t n = (uint64_t)FLOWS * rounds, cap_bytes = 24 + n * (16 + FRAME);
	double best = 1e30;
	uint8_t *idx;
	size_t len;
	uint64_t pos_bytes;

	for (uint32_t f = 0; f < FLOWS; f++) {
		uint8_t *p = frames + (size_t)f * FRAME;
		uint32_t o = eth(p, 0, NULL, NULL, 0x0800);

		memset(p + o, 0, FRAME - o);
		o += ipv4(p + o, 5, 17, 0x0a000000u | (f >> 4), 0xc0a80000u | (f & 15), 0);
		l4(p + o, 17, (uint16_t)(1024 + f), 9, 0);
	}
	for (int rep = 0; rep < 3; rep++) {
		double t0, t;
		uint64_t off = 24;

		lc_index_builder_reset(b, 1);
		t0 = cpu_ns();
		for (uint64_t i = 0; i < n; i++) {
			lc_index_add(b, off, 1700000000000000000ull + i * 67, FRAME,
				     frames + (i % FLOWS) * FRAME, FRAME);
			off += 16 + FRAME;
		}
		t = (cpu_ns() - t0) / (double)n;
		best = t < best ? t : best;
	}
	CHECK(!lc_index_builder_abandoned(b));
	idx = write_index(b, cap_bytes, &len);
	pos_bytes = lc_idx_get64(idx + LC_IDX_O_POS_LEN);
	fprintf(stderr, "bench: %u flows round-robin, %llu records of %u bytes: %.1f ns/record "
		"(CPU time, best of 3); index %zu bytes = %.2f%% of the capture's %llu "
		"(positions %.2f%%, %.2f bytes/packet; flow table %llu bytes)\n", FLOWS,
		(unsigned long long)n, FRAME, best, len, 100.0 * (double)len / (double)cap_bytes,
		(unsigned long long)cap_bytes, 100.0 * (double)pos_bytes / (double)cap_bytes,
		(double)pos_bytes / (double)n,
		(unsigned long long)lc_idx_get64(idx + LC_IDX_O_TABLE_LEN));
	/* The 64-byte target: the index within 5% of the capture. */
	CHECK((double)len <= 0.05 * (double)cap_bytes);
	CHECK_EQ_U64(lc_idx_get32(idx + LC_IDX_O_NFLOWS), FLOWS);
	free(idx);
	/* IMIX (7:4:1 of 64, 570, 1518 bytes), the same flows: the size only (the builder reads
	 * the headers alone, so the records' tails need not exist here). */
	{
		static const uint32_t imix[12] = { 64, 570, 64, 64, 1518, 570, 64, 64, 570, 64, 570,
						   64 };
		uint64_t off = 24;

		lc_index_builder_reset(b, 1);
		for (uint64_t i = 0; i < n; i++) {
			uint32_t sz = imix[(i / FLOWS + i) % 12];

			lc_index_add(b, off, 1700000000000000000ull + i * 67, sz,
				     frames + (i % FLOWS) * FRAME, FRAME);
			off += 16 + sz;
		}
		idx = write_index(b, off, &len);
		fprintf(stderr, "bench: IMIX over the same flows: index %zu bytes = %.2f%% of the "
			"capture's %llu\n", len, 100.0 * (double)len / (double)off,
			(unsigned long long)off);
		CHECK((double)len <= 0.01 * (double)off);
	}
#if !defined(__SANITIZE_ADDRESS__)
	/* A sanity bound 25x over the 40 ns aimed at (CPU time, so load does not count). */
	CHECK(best < 1000.0);
#endif
	free(idx);
	free(frames);
	lc_index_builder_free(b);
}

/* The fuzz harness's seeds: indexes of small captures. */
static int
write_seeds(const char *dir)
{
	struct cap *c = cap_new(MAXF);
	struct lc_index_builder *b = lc_index_builder_create(64u << 20);
	static const uint32_t sizes[] = { 0, F_COUNT, 60 };
	static const char *names[] = { "empty", "crafted", "mixed" };

	crafted(c);
	while (c->n < 60)
		random_frame(c);
	for (unsigned int i = 0; i < 3; i++) {
		char path[1024];
		uint8_t sha[32];
		uint64_t l;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		feed(b, c, sizes[i]);
		if (fd < 0 || lc_index_builder_write(b, fd, sizes[i] ? c->r[sizes[i]].off : 24, sha,
						     &l) != 0) {
			perror(path);
			return 1;
		}
		close(fd);
	}
	lc_index_builder_free(b);
	cap_free(c);
	return 0;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/test_index.XXXXXX";

	if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
		return write_seeds(argv[2]);
	CHECK(mkdtemp(dir) != NULL);
	test_crafted();
	test_random_rebuild(dir);
	test_cap();
	test_hostile();
	test_bench();
	rmdir(dir);
	return lc_test_done("test_index");
}
