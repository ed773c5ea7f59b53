/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The index builder (writer lcore, once per record), its deterministic serialization, and
 * the rebuild of an index from a capture file. Layout: index_format.h and
 * docs/index-format.md.
 *
 * Per record: parse the headers into a flow key, find the flow in an open-addressing table
 * (a 32-bit tag beside each slot spares most key compares), update its counters and append
 * the position's delta as a varint to the flow's chain of chunks. Chunks come from slabs
 * kept across files (no malloc once warm) and grow from 32 to 1024 bytes per flow, so a
 * flow of one packet costs 32 bytes and a long one about 1% over its varints.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "linecap/index.h"
#include "linecap/reader.h"

#include "index_format.h"

#define LINKTYPE_ETHERNET 1u
#define SLAB_BYTES (256u << 10)
#define CHUNK_MIN 32u
#define CHUNK_MAX 1024u
#define CHUNK_HDR 8u		/* the next chunk's address */
#define SLOTS_MIN 1024u
#define WBUF_BYTES (64u << 10)
/* What a flow costs against max_mem besides its chunks: its entry and, the table being at
 * most half full, up to four slots. The count is a function of the file's records alone
 * (not of the arrays kept from earlier files), so whether an index is abandoned is too. */
#define FLOW_COST (sizeof(struct ix_flow) + 4 * sizeof(struct ix_slot))

union ix_key {
	struct lc_flow_key k;
	uint64_t w[7];
};

_Static_assert(sizeof(struct lc_flow_key) <= 7 * sizeof(uint64_t), "key fits 7 words");

/* One flow being built; 128 bytes, the first line holds what a lookup and update touch. */
struct ix_flow {
	union ix_key key;		/* 56 */
	uint8_t *wp, *end;		/* where the next varint goes in the tail chunk */
	uint64_t last_off;		/* the last position (deltas are from it) */
	uint64_t packets, bytes;
	uint64_t first_ns, last_ns;
	uint64_t pos_len;
	uint8_t *head, *tail;		/* the chunk chain */
	uint32_t nchunks;
	uint8_t tcp_flags, marks, first_flags;
} __attribute__((aligned(64)));

struct ix_slot {
	uint32_t tag;		/* the hash's high half */
	uint32_t idx1;		/* flow index + 1; 0: empty */
};

struct lc_index_builder {
	uint8_t table_sha[LC_INDEX_SHA256_LEN];	/* of the last index written: header + table */
	size_t max_mem, used;	/* what the current file holds: FLOW_COST a flow, chunks */
	int abandoned;
	uint32_t linktype;
	uint64_t packets, first_ns, last_ns;

	struct ix_flow *flows;
	uint32_t nflows, flows_cap;
	struct ix_slot *slots;
	uint32_t slots_mask;	/* capacity - 1 */

	uint8_t **slabs;	/* kept across files */
	uint32_t nslabs, slabs_cap, cur_slab;
	size_t slab_used;
};

/* --- memory --- */

static int
mem_take(struct lc_index_builder *b, size_t n)
{
	if (n > b->max_mem || b->used > b->max_mem - n) {
		b->abandoned = 1;
		return -1;
	}
	b->used += n;
	return 0;
}

static uint8_t *
chunk_alloc(struct lc_index_builder *b, size_t size)
{
	uint8_t *c;

	if (mem_take(b, size) != 0)
		return NULL;
	if (b->nslabs == 0 || b->slab_used + size > SLAB_BYTES) {
		uint32_t next = b->nslabs == 0 ? 0 : b->cur_slab + 1;

		if (next >= b->nslabs) {
			if (b->nslabs == b->slabs_cap) {
				uint32_t cap = b->slabs_cap ? b->slabs_cap * 2 : 16;
				uint8_t **s = realloc(b->slabs, cap * sizeof(*s));

				if (s == NULL)
					goto fail;
				b->slabs = s;
				b->slabs_cap = cap;
			}
			b->slabs[b->nslabs] = malloc(SLAB_BYTES);
			if (b->slabs[b->nslabs] == NULL)
				goto fail;
			b->nslabs++;
		}
		b->cur_slab = next;
		b->slab_used = 0;
	}
	c = b->slabs[b->cur_slab] + b->slab_used;
	b->slab_used += size;
	memset(c, 0, CHUNK_HDR);
	return c;
fail:
	b->abandoned = 1;
	return NULL;
}

static inline size_t
chunk_size(uint32_t k)
{
	return k >= 5 ? CHUNK_MAX : CHUNK_MIN << k;
}

/* Start f's next chunk (the first when it has none). */
static int
flow_grow(struct lc_index_builder *b, struct ix_flow *f)
{
	size_t size = chunk_size(f->nchunks);
	uint8_t *c = chunk_alloc(b, size);

	if (c == NULL)
		return -1;
	if (f->tail != NULL)
		memcpy(f->tail, &c, sizeof(c));
	else
		f->head = c;
	f->tail = c;
	f->wp = c + CHUNK_HDR;
	f->end = c + size;
	f->nchunks++;
	return 0;
}

/* --- create, reset --- */

struct lc_index_builder *
lc_index_builder_create(size_t max_mem)
{
	struct lc_index_builder *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->max_mem = max_mem;
	b->slots = calloc(SLOTS_MIN, sizeof(*b->slots));
	if (b->slots == NULL) {
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	b->slots_mask = SLOTS_MIN - 1;
	lc_index_builder_reset(b, LINKTYPE_ETHERNET);
	return b;
}

void
lc_index_builder_free(struct lc_index_builder *b)
{
	if (b == NULL)
		return;
	for (uint32_t i = 0; i < b->nslabs; i++)
		free(b->slabs[i]);
	free(b->slabs);
	free(b->flows);
	free(b->slots);
	free(b);
}

void
lc_index_builder_reset(struct lc_index_builder *b, uint32_t linktype)
{
	memset(b->slots, 0, ((size_t)b->slots_mask + 1) * sizeof(*b->slots));
	b->nflows = 0;
	b->cur_slab = 0;
	b->slab_used = 0;
	b->abandoned = 0;
	b->linktype = linktype;
	b->packets = 0;
	b->first_ns = 0;
	b->last_ns = 0;
	b->used = 0;
}

void
lc_index_builder_abandon(struct lc_index_builder *b)
{
	b->abandoned = 1;
}

int
lc_index_builder_abandoned(const struct lc_index_builder *b)
{
	return b->abandoned;
}

uint64_t
lc_index_builder_packets(const struct lc_index_builder *b)
{
	return b->packets;
}

/* --- parsing --- */

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline int
is_tpid(uint16_t t)
{
	return t == 0x8100 || t == 0x88a8 || t == 0x9100;
}

/*
 * A key as parsed, field by field (in registers: key_make composes the words of the key
 * with whole-word stores, so that hashing and comparing it read back what was stored whole
 * rather than stall on a dozen narrow stores).
 */
struct pk {
	uint16_t et, tpid[2], vid[2], sport, dport;
	uint8_t nvlan, flags, proto, ihl;
	uint64_t s_lo, s_hi, d_lo, d_hi;	/* addresses as stored (IPv4: s_lo's low half) */
};

static inline uint64_t
ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t
ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* struct lc_flow_key's bytes as 7 little-endian words (its layout is checked below). */
static inline void
key_make(const struct pk *p, union ix_key *k)
{
	k->w[0] = p->et | (uint64_t)p->nvlan << 16 | (uint64_t)p->flags << 24 |
		  (uint64_t)p->tpid[0] << 32 | (uint64_t)p->tpid[1] << 48;
	k->w[1] = p->vid[0] | (uint64_t)p->vid[1] << 16 | (uint64_t)p->proto << 32 |
		  (uint64_t)p->ihl << 40 | (uint64_t)p->sport << 48;
	k->w[2] = p->dport | p->s_lo << 16;
	k->w[3] = p->s_lo >> 48 | p->s_hi << 16;
	k->w[4] = p->s_hi >> 48 | p->d_lo << 16;
	k->w[5] = p->d_lo >> 48 | p->d_hi << 16;
	k->w[6] = p->d_hi >> 48;
}

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "key_make assumes a little-endian host"
#endif
_Static_assert(offsetof(struct lc_flow_key, ethertype) == 0 &&
	       offsetof(struct lc_flow_key, nvlan) == 2 &&
	       offsetof(struct lc_flow_key, flags) == 3 &&
	       offsetof(struct lc_flow_key, tpid) == 4 && offsetof(struct lc_flow_key, vid) == 8 &&
	       offsetof(struct lc_flow_key, proto) == 12 &&
	       offsetof(struct lc_flow_key, ihl) == 13 &&
	       offsetof(struct lc_flow_key, sport) == 14 &&
	       offsetof(struct lc_flow_key, dport) == 16 &&
	       offsetof(struct lc_flow_key, src) == 18 && offsetof(struct lc_flow_key, dst) == 34 &&
	       sizeof(struct lc_flow_key) == 50, "struct lc_flow_key as key_make writes it");

/*
 * The transport part of a key, for an IP packet whose layer-4 header starts at l4 of the
 * caplen captured bytes: ports (TCP, UDP, SCTP), ICMP type and code (icmp: the ICMP protocol
 * number of this IP version), the TCP flags byte. Sets *fl to that byte.
 */
static inline void
parse_l4(struct pk *k, const uint8_t *pkt, uint32_t caplen, uint32_t l4, uint8_t icmp,
	 uint8_t *fl)
{
	uint8_t p = k->proto;

	if (p == LC_IP_TCP || p == LC_IP_UDP || p == LC_IP_SCTP) {
		if (caplen < l4 + 4)
			return;
		k->sport = be16(pkt + l4);
		k->dport = be16(pkt + l4 + 2);
		k->flags |= LC_FLOW_PORTS;
		if (p == LC_IP_TCP && caplen >= l4 + 14) {
			k->flags |= LC_FLOW_TCPFL;
			*fl = pkt[l4 + 13];
		}
	} else if (p == icmp) {
		if (caplen < l4 + 2)
			return;
		k->sport = pkt[l4];
		k->dport = pkt[l4 + 1];
		k->flags |= LC_FLOW_PORTS;
	}
}

/*
 * The IP part of a key from the IP header at l3 (ethertype et). Returns where the layer-4
 * header starts, or 0 when the key holds no transport fields.
 */
static inline __attribute__((always_inline)) uint32_t
parse_ip(struct pk *k, const uint8_t *pkt, uint32_t caplen, uint32_t l3, uint16_t et,
	 uint8_t *fl)
{
	if (et == 0x0800) {
		uint8_t vi;

		if (caplen < l3 + 20)
			return 0;
		vi = pkt[l3];
		if ((vi >> 4) != 4 || (vi & 0xf) < 5)
			return 0;
		k->flags |= LC_FLOW_IPV4;
		k->ihl = vi & 0xf;
		k->proto = pkt[l3 + 9];
		k->s_lo = ld32(pkt + l3 + 12);
		k->d_lo = ld32(pkt + l3 + 16);
		if (be16(pkt + l3 + 6) & 0x1fff) {
			k->flags |= LC_FLOW_FRAG;
			return 0;
		}
		l3 += 4u * k->ihl;
		parse_l4(k, pkt, caplen, l3, LC_IP_ICMP, fl);
		return l3;
	}
	if (et == 0x86dd) {
		if (caplen < l3 + 40)
			return 0;
		k->flags |= LC_FLOW_IPV6;
		k->proto = pkt[l3 + 6];
		k->s_lo = ld64(pkt + l3 + 8);
		k->s_hi = ld64(pkt + l3 + 16);
		k->d_lo = ld64(pkt + l3 + 24);
		k->d_hi = ld64(pkt + l3 + 32);
		parse_l4(k, pkt, caplen, l3 + 40, LC_IP_ICMPV6, fl);
		return l3 + 40;
	}
	return 0;
}

/* The key of an Ethernet frame; *l4 where its transport header starts (0: none in the
 * key). */
static inline void
parse_frame(struct pk *k, const uint8_t *pkt, uint32_t caplen, uint8_t *fl, uint32_t *l4)
{
	uint32_t off = 12, n = 0;
	uint16_t t;

	memset(k, 0, sizeof(*k));
	*l4 = 0;
	if (caplen < 14)
		return;
	t = be16(pkt + 12);
	while (n < 2 && is_tpid(t) && caplen >= off + 6) {
		k->tpid[n] = t;
		k->vid[n] = be16(pkt + off + 2) & 0xfff;
		off += 4;
		t = be16(pkt + off);
		n++;
	}
	k->et = t;
	k->nvlan = (uint8_t)n;
	*l4 = parse_ip(k, pkt, caplen, off + 2, t, fl);
}

/* --- the flow table --- */

static inline uint64_t
key_hash(const union ix_key *k)
{
	/* Independent multiplies (they pipeline), then a mix. */
	uint64_t h = k->w[0] * 0x9e3779b97f4a7c15ull + k->w[1] * 0xc2b2ae3d27d4eb4full +
		     k->w[2] * 0x165667b19e3779f9ull + k->w[3] * 0xd6e8feb86659fd93ull +
		     k->w[4] * 0xff51afd7ed558ccdull + k->w[5] * 0xc4ceb9fe1a85ec53ull +
		     k->w[6] * 0x94d049bb133111ebull;

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return h;
}

static inline int
key_eq(const union ix_key *a, const union ix_key *b)
{
	uint64_t d = 0;

	for (int i = 0; i < 7; i++)
		d |= a->w[i] ^ b->w[i];
	return d == 0;
}

static int
slots_grow(struct lc_index_builder *b)
{
	uint32_t cap = (b->slots_mask + 1) * 2;
	struct ix_slot *s;

	if (cap == 0) {
		b->abandoned = 1;
		return -1;
	}
	s = calloc(cap, sizeof(*s));
	if (s == NULL) {
		b->abandoned = 1;
		return -1;
	}
	for (uint32_t i = 0; i < b->nflows; i++) {
		uint64_t h = key_hash(&b->flows[i].key);
		uint32_t j = (uint32_t)h & (cap - 1);

		while (s[j].idx1 != 0)
			j = (j + 1) & (cap - 1);
		s[j].tag = (uint32_t)(h >> 32);
		s[j].idx1 = i + 1;
	}
	free(b->slots);
	b->slots = s;
	b->slots_mask = cap - 1;
	return 0;
}

static int
flows_grow(struct lc_index_builder *b)
{
	uint32_t cap = b->flows_cap ? b->flows_cap * 2 : 1024;
	struct ix_flow *f;

	if (cap < b->flows_cap) {
		b->abandoned = 1;
		return -1;
	}
	f = aligned_alloc(64, (size_t)cap * sizeof(*f));
	if (f == NULL) {
		b->abandoned = 1;
		return -1;
	}
	if (b->nflows)
		memcpy(f, b->flows, (size_t)b->nflows * sizeof(*f));
	free(b->flows);
	b->flows = f;
	b->flows_cap = cap;
	return 0;
}

/* The flow of key k (hash h), created (no packets yet) when absent; NULL when the index is
 * abandoned for want of memory. */
static inline __attribute__((always_inline)) struct ix_flow *
flow_get(struct lc_index_builder *b, const union ix_key *k, uint64_t h)
{
	uint32_t tag = (uint32_t)(h >> 32), j = (uint32_t)h & b->slots_mask;
	struct ix_flow *f;

	for (;;) {
		struct ix_slot *s = &b->slots[j];

		if (s->idx1 == 0)
			break;
		if (s->tag == tag && key_eq(&b->flows[s->idx1 - 1].key, k))
			return &b->flows[s->idx1 - 1];
		j = (j + 1) & b->slots_mask;
	}
	/* New flow: keep the table at most half full. */
	if (mem_take(b, FLOW_COST) != 0)
		return NULL;
	if ((b->nflows + 1) * 2 > b->slots_mask + 1) {
		if (slots_grow(b) != 0)
			return NULL;
		j = (uint32_t)h & b->slots_mask;
		while (b->slots[j].idx1 != 0)
			j = (j + 1) & b->slots_mask;
	}
	if (b->nflows == b->flows_cap && flows_grow(b) != 0)
		return NULL;
	f = &b->flows[b->nflows];
	memset(f, 0, sizeof(*f));
	f->key = *k;
	b->slots[j].tag = tag;
	b->slots[j].idx1 = ++b->nflows;
	return f;
}

/* Without creating it. */
static struct ix_flow *
flow_find(struct lc_index_builder *b, const union ix_key *k)
{
	uint64_t h = key_hash(k);
	uint32_t tag = (uint32_t)(h >> 32), j = (uint32_t)h & b->slots_mask;

	for (;;) {
		struct ix_slot *s = &b->slots[j];

		if (s->idx1 == 0)
			return NULL;
		if (s->tag == tag && key_eq(&b->flows[s->idx1 - 1].key, k))
			return &b->flows[s->idx1 - 1];
		j = (j + 1) & b->slots_mask;
	}
}

/* Append a varint across chunk boundaries (the rare way). */
static int
append_slow(struct lc_index_builder *b, struct ix_flow *f, uint64_t v)
{
	uint8_t tmp[LC_IDX_VARINT_MAX];
	unsigned int n = lc_idx_varint_put(tmp, v);

	for (unsigned int i = 0; i < n; i++) {
		if (f->wp == f->end && flow_grow(b, f) != 0)
			return -1;
		*f->wp++ = tmp[i];
	}
	f->pos_len += n;
	return 0;
}

/*
 * An ICMP or ICMPv6 destination unreachable: mark the flow of the packet it quotes (at q,
 * an IP header of the outer frame's version), as the capture would key that packet had it
 * been captured whole.
 */
static __attribute__((noinline, cold)) void
mark_unreach(struct lc_index_builder *b, const struct pk *outer, const uint8_t *pkt,
	     uint32_t caplen, uint32_t q)
{
	struct pk p;
	union ix_key k;
	struct ix_flow *f;
	uint8_t fl = 0;

	memset(&p, 0, sizeof(p));
	p.et = outer->et;
	p.nvlan = outer->nvlan;
	memcpy(p.tpid, outer->tpid, sizeof(p.tpid));
	memcpy(p.vid, outer->vid, sizeof(p.vid));
	parse_ip(&p, pkt, caplen, q, outer->et, &fl);
	if (!(p.flags & (LC_FLOW_IPV4 | LC_FLOW_IPV6)))
		return;
	key_make(&p, &k);
	/* ICMP quotes 8 bytes of the transport header: a TCP packet's flags byte is beyond
	 * them, but the packet itself had it. Its flow may also be one cut before it. */
	if (p.proto == LC_IP_TCP && (p.flags & LC_FLOW_PORTS) && !(p.flags & LC_FLOW_TCPFL)) {
		union ix_key cut = k;

		p.flags |= LC_FLOW_TCPFL;
		key_make(&p, &k);
		if (flow_find(b, &k) == NULL && flow_find(b, &cut) != NULL)
			k = cut;
	}
	f = flow_get(b, &k, key_hash(&k));
	if (f != NULL)
		f->marks |= LC_FLOW_MARK_UNREACH;
}

void
lc_index_record_key(uint32_t linktype, const uint8_t *pkt, uint32_t caplen,
		    struct lc_flow_key *key)
{
	struct pk p;
	union ix_key k;
	uint8_t fl = 0;
	uint32_t l4 = 0;

	if (linktype == LINKTYPE_ETHERNET)
		parse_frame(&p, pkt, caplen, &fl, &l4);
	else
		memset(&p, 0, sizeof(p));
	key_make(&p, &k);
	memcpy(key, &k.k, sizeof(*key));
}

void
lc_index_builder_table_sha256(const struct lc_index_builder *b,
			      uint8_t sha256[LC_INDEX_SHA256_LEN])
{
	memcpy(sha256, b->table_sha, LC_INDEX_SHA256_LEN);
}

void
lc_index_add(struct lc_index_builder *b, uint64_t off, uint64_t ts_ns, uint32_t wirelen,
	     const uint8_t *pkt, uint32_t caplen)
{
	struct pk p;
	union ix_key k;
	struct ix_flow *f;
	uint8_t fl = 0;
	uint32_t l4 = 0;
	uint64_t delta;

	b->packets++;
	if (__builtin_expect(b->abandoned, 0))
		return;
	if (__builtin_expect(b->linktype == LINKTYPE_ETHERNET, 1))
		parse_frame(&p, pkt, caplen, &fl, &l4);
	else
		memset(&p, 0, sizeof(p));
	key_make(&p, &k);
	f = flow_get(b, &k, key_hash(&k));
	if (__builtin_expect(f == NULL, 0))
		return;
	if (f->packets == 0) {
		f->first_ns = ts_ns;
		f->last_ns = ts_ns;
		f->first_flags = fl;
		delta = off;
		if (flow_grow(b, f) != 0)
			return;
	} else {
		if (ts_ns < f->first_ns)
			f->first_ns = ts_ns;
		if (ts_ns > f->last_ns)
			f->last_ns = ts_ns;
		delta = off - f->last_off;
	}
	if (__builtin_expect(f->end - f->wp >= (ptrdiff_t)LC_IDX_VARINT_MAX, 1)) {
		unsigned int n = lc_idx_varint_put(f->wp, delta);

		f->wp += n;
		f->pos_len += n;
	} else if (append_slow(b, f, delta) != 0) {
		return;
	}
	f->last_off = off;
	f->packets++;
	f->bytes += wirelen;
	f->tcp_flags |= fl;
	if (b->packets == 1 || ts_ns < b->first_ns)
		b->first_ns = ts_ns;
	if (ts_ns > b->last_ns)
		b->last_ns = ts_ns;
	if (__builtin_expect(l4 != 0 && (p.flags & LC_FLOW_PORTS), 1)) {
		if (__builtin_expect(p.sport == 3 && p.proto == LC_IP_ICMP &&
				     (p.flags & LC_FLOW_IPV4), 0))
			mark_unreach(b, &p, pkt, caplen, l4 + 8);
		else if (__builtin_expect(p.sport == 1 && p.proto == LC_IP_ICMPV6 &&
					  (p.flags & LC_FLOW_IPV6), 0))
			mark_unreach(b, &p, pkt, caplen, l4 + 8);
	}
}

/* --- serialization --- */

/* The entry of f in the flow table at p (room for the largest); its length. */
static size_t
put_flow(uint8_t *p, const struct ix_flow *f)
{
	const struct lc_flow_key *k = &f->key.k;
	uint8_t *s = p;

	*p++ = k->flags;
	*p++ = k->nvlan;
	*p++ = f->marks;
	*p++ = f->tcp_flags;
	*p++ = f->first_flags;
	lc_idx_put16(p, k->ethertype);
	p += 2;
	for (unsigned int i = 0; i < k->nvlan; i++) {
		lc_idx_put16(p, k->tpid[i]);
		lc_idx_put16(p + 2, k->vid[i]);
		p += 4;
	}
	if (k->flags & LC_FLOW_IPV4) {
		*p++ = k->proto;
		*p++ = k->ihl;
		memcpy(p, k->src, 4);
		memcpy(p + 4, k->dst, 4);
		p += 8;
	} else if (k->flags & LC_FLOW_IPV6) {
		*p++ = k->proto;
		memcpy(p, k->src, 16);
		memcpy(p + 16, k->dst, 16);
		p += 32;
	}
	if (k->flags & LC_FLOW_PORTS) {
		lc_idx_put16(p, k->sport);
		lc_idx_put16(p + 2, k->dport);
		p += 4;
	}
	p += lc_idx_varint_put(p, f->first_ns);
	p += lc_idx_varint_put(p, f->last_ns - f->first_ns);
	p += lc_idx_varint_put(p, f->packets);
	p += lc_idx_varint_put(p, f->bytes);
	p += lc_idx_varint_put(p, f->pos_len);
	return (size_t)(p - s);
}

#define FLOW_ENTRY_MAX (6u + 8u + 33u + 4u + 5u * LC_IDX_VARINT_MAX)

struct out {
	int fd;
	EVP_MD_CTX *sha;
	uint8_t *buf;
	size_t used;
	uint64_t total;
	int err;
};

static int
out_flush(struct out *o)
{
	const uint8_t *p = o->buf;
	size_t len = o->used;

	if (o->err)
		return o->err;
	EVP_DigestUpdate(o->sha, o->buf, o->used);
	while (len > 0) {
		ssize_t n = write(o->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->err = n < 0 ? -errno : -EIO;
			return o->err;
		}
		p += n;
		len -= (size_t)n;
	}
	o->total += o->used;
	o->used = 0;
	return 0;
}

static int
out_put(struct out *o, const void *src, size_t len)
{
	const uint8_t *p = src;

	while (len > 0) {
		size_t n = WBUF_BYTES - o->used;

		if (n > len)
			n = len;
		memcpy(o->buf + o->used, p, n);
		o->used += n;
		p += n;
		len -= n;
		if (o->used == WBUF_BYTES && out_flush(o) != 0)
			return o->err;
	}
	return o->err;
}

int
lc_index_builder_write(struct lc_index_builder *b, int fd, uint64_t file_bytes,
		       uint8_t sha256[LC_INDEX_SHA256_LEN], uint64_t *len)
{
	uint8_t hdr[LC_IDX_HDR_LEN] = { 0 }, *table;
	size_t tlen = 0;
	uint64_t pos_len = 0;
	struct out o = { .fd = fd };
	unsigned int hlen = 0;
	uint32_t crc;
	int rc;

	memset(sha256, 0, LC_INDEX_SHA256_LEN);
	*len = 0;
	if (b->abandoned)
		return -ECANCELED;
	table = malloc((size_t)b->nflows * FLOW_ENTRY_MAX + 1);
	o.buf = malloc(WBUF_BYTES);
	o.sha = EVP_MD_CTX_new();
	if (table == NULL || o.buf == NULL || o.sha == NULL ||
	    EVP_DigestInit_ex(o.sha, EVP_sha256(), NULL) != 1) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < b->nflows; i++) {
		tlen += put_flow(table + tlen, &b->flows[i]);
		pos_len += b->flows[i].pos_len;
	}
	memcpy(hdr + LC_IDX_O_MAGIC, LC_IDX_MAGIC, 8);
	lc_idx_put32(hdr + LC_IDX_O_VERSION, LC_IDX_VERSION);
	lc_idx_put32(hdr + LC_IDX_O_HDRLEN, LC_IDX_HDR_LEN);
	lc_idx_put32(hdr + LC_IDX_O_LINKTYPE, b->linktype);
	lc_idx_put32(hdr + LC_IDX_O_NFLOWS, b->nflows);
	lc_idx_put64(hdr + LC_IDX_O_FILEBYTES, file_bytes);
	lc_idx_put64(hdr + LC_IDX_O_PACKETS, b->packets);
	lc_idx_put64(hdr + LC_IDX_O_FIRST, b->first_ns);
	lc_idx_put64(hdr + LC_IDX_O_LAST, b->last_ns);
	lc_idx_put64(hdr + LC_IDX_O_TABLE_AT, LC_IDX_HDR_LEN);
	lc_idx_put64(hdr + LC_IDX_O_TABLE_LEN, tlen);
	lc_idx_put64(hdr + LC_IDX_O_POS_AT, LC_IDX_HDR_LEN + tlen);
	lc_idx_put64(hdr + LC_IDX_O_POS_LEN, pos_len);
	crc = lc_idx_crc32c(0, hdr, LC_IDX_O_CRC);
	crc = lc_idx_crc32c(crc, table, tlen);
	lc_idx_put32(hdr + LC_IDX_O_CRC, crc);
	lc_index_table_digest(hdr, table, tlen, b->table_sha);
	if (out_put(&o, hdr, sizeof(hdr)) != 0 || out_put(&o, table, tlen) != 0) {
		rc = o.err;
		goto out;
	}
	for (uint32_t i = 0; i < b->nflows; i++) {
		const struct ix_flow *f = &b->flows[i];
		const uint8_t *c = f->head;
		uint64_t left = f->pos_len;

		for (uint32_t k = 0; left > 0; k++) {
			size_t n = chunk_size(k) - CHUNK_HDR;

			if (n > left)
				n = (size_t)left;
			if (out_put(&o, c + CHUNK_HDR, n) != 0) {
				rc = o.err;
				goto out;
			}
			left -= n;
			memcpy(&c, c, sizeof(const uint8_t *));	/* the next chunk */
		}
	}
	if (out_flush(&o) != 0) {
		rc = o.err;
		goto out;
	}
	/* A descriptor that cannot be synced (a pipe) has nothing to sync. */
	if (fdatasync(fd) != 0 && errno != EINVAL) {
		rc = -errno;
		goto out;
	}
	if (EVP_DigestFinal_ex(o.sha, sha256, &hlen) != 1) {
		rc = -EIO;
		goto out;
	}
	*len = o.total;
	rc = 0;
out:
	EVP_MD_CTX_free(o.sha);
	free(o.buf);
	free(table);
	return rc;
}

/* --- rebuild --- */

int
lc_index_rebuild(int capture_fd, const char *name, int out_fd,
		 uint8_t sha256[LC_INDEX_SHA256_LEN], uint64_t *len, char *err, size_t errlen)
{
	struct lc_index_builder *b;
	struct lc_reader *r;
	struct lc_record rec;
	int fd, rc, first = 1;

	memset(sha256, 0, LC_INDEX_SHA256_LEN);
	*len = 0;
	fd = dup(capture_fd);
	if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: %s", name, strerror(-rc));
		return rc;
	}
	b = lc_index_builder_create(SIZE_MAX);
	if (b == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	r = lc_reader_fdopen(fd, name, err, errlen);
	if (r == NULL) {
		rc = -errno;
		lc_index_builder_free(b);
		return rc ? rc : -EINVAL;
	}
	/* Up to the last whole record: a cut or corrupt tail ends the index there (the file
	 * is read as linecap-query reads a .part). */
	while ((rc = lc_reader_next(r, &rec, err, errlen)) == 1) {
		if (first && rec.linktype != LINKTYPE_ETHERNET)
			lc_index_builder_reset(b, rec.linktype);
		first = 0;
		lc_index_add(b, rec.offset, rec.ts_ns, rec.len, rec.data, rec.caplen);
	}
	if (rc == -EIO) {
		lc_reader_close(r);
		lc_index_builder_free(b);
		return -EIO;
	}
	if (b->abandoned) {
		snprintf(err, errlen, "%s: out of memory", name);
		rc = -ENOMEM;
	} else {
		rc = lc_index_builder_write(b, out_fd, lc_reader_good_offset(r), sha256, len);
		if (rc != 0)
			snprintf(err, errlen, "%s: writing its index: %s", name, strerror(-rc));
	}
	lc_reader_close(r);
	lc_index_builder_free(b);
	return rc;
}
