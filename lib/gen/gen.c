/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "linecap/gen.h"

struct mode;

struct lc_gen {
	struct lc_gen_config cfg;
	const struct mode *mode;
	uint64_t rng;
	uint64_t *seq;		/* per flow, flows + 1 (the evidence flow last) */
	uint32_t evidence_threshold;	/* rnd() below it: evidence flow */
	uint32_t rst_threshold;
	uint32_t ipv6_threshold;	/* a flow's hash below it (of 65536): IPv6 */
	/* pcap mode */
	uint8_t **frames;
	uint32_t *lens;
	size_t nframes, next;
};

/* A frame-size mode: the hot loop calls size() through this table, never a switch. */
struct mode {
	const char *name;
	int (*init)(struct lc_gen *g, char *err, size_t errlen);
	uint32_t (*size)(struct lc_gen *g);
};

static inline uint32_t
rnd(struct lc_gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return (uint32_t)(g->rng >> 16);
}

static int
fixed_init(struct lc_gen *g, char *err, size_t errlen)
{
	if (g->cfg.size < LC_GEN_MIN_FRAME || g->cfg.size > LC_GEN_MAX_FRAME) {
		snprintf(err, errlen, "--size %u: must be between %u and %u", g->cfg.size,
			 LC_GEN_MIN_FRAME, LC_GEN_MAX_FRAME);
		return -EINVAL;
	}
	return 0;
}

static uint32_t
fixed_size(struct lc_gen *g)
{
	return g->cfg.size;
}

static int
imix_init(struct lc_gen *g, char *err, size_t errlen)
{
	(void)g;
	(void)err;
	(void)errlen;
	return 0;
}

/* 7:4:1 of 64, 570 and 1518-byte frames (FCS included, as IMIX is quoted): 60/566/1514. */
static uint32_t
imix_size(struct lc_gen *g)
{
	uint32_t r = rnd(g) % 12;

	return r < 7 ? 60 : r < 11 ? 566 : 1514;
}

static int
file_init(struct lc_gen *g, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = g->cfg.pcap ? pcap_open_offline(g->cfg.pcap, perr) : NULL;
	size_t cap = 0;

	if (p == NULL) {
		snprintf(err, errlen, "--pcap %s: %s", g->cfg.pcap ? g->cfg.pcap : "(none)",
			 g->cfg.pcap ? perr : "give a file");
		return -EINVAL;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		snprintf(err, errlen, "--pcap %s: not Ethernet", g->cfg.pcap);
		pcap_close(p);
		return -EINVAL;
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		if (g->nframes == cap) {
			cap = cap ? 2 * cap : 1024;
			g->frames = realloc(g->frames, cap * sizeof(*g->frames));
			g->lens = realloc(g->lens, cap * sizeof(*g->lens));
		}
		uint32_t n = h->caplen > LC_GEN_MAX_FRAME ? LC_GEN_MAX_FRAME : h->caplen;

		g->frames[g->nframes] = malloc(n ? n : 1);
		memcpy(g->frames[g->nframes], d, n);
		g->lens[g->nframes++] = n;
	}
	pcap_close(p);
	if (g->nframes == 0) {
		snprintf(err, errlen, "--pcap %s: no packets", g->cfg.pcap);
		return -EINVAL;
	}
	return 0;
}

static uint32_t
file_size(struct lc_gen *g)
{
	return g->lens[g->next];
}

static const struct mode modes[] = {
	{ "fixed", fixed_init, fixed_size },
	{ "imix", imix_init, imix_size },
	{ "pcap", file_init, file_size },
};

struct lc_gen *
lc_gen_create(const struct lc_gen_config *cfg, char *err, size_t errlen)
{
	struct lc_gen *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->cfg = *cfg;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(modes[i].name, cfg->mode) == 0)
			g->mode = &modes[i];
	if (g->mode == NULL) {
		snprintf(err, errlen, "mode %s: unknown (fixed, imix, pcap)", cfg->mode);
		free(g);
		return NULL;
	}
	if (cfg->flows == 0 || cfg->flows > 1000000) {
		snprintf(err, errlen, "--flows %u: must be between 1 and 1000000", cfg->flows);
		free(g);
		return NULL;
	}
	if (!(cfg->evidence >= 0 && cfg->evidence <= 1)) {
		snprintf(err, errlen, "--evidence-fraction: must be between 0 and 1");
		free(g);
		return NULL;
	}
	if (!(cfg->ipv6 >= 0 && cfg->ipv6 <= 1)) {
		snprintf(err, errlen, "--ipv6-fraction: must be between 0 and 1");
		free(g);
		return NULL;
	}
	if (g->mode->init(g, err, errlen) < 0) {
		lc_gen_free(g);
		return NULL;
	}
	g->rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ull;
	g->seq = calloc(cfg->flows + 1, sizeof(*g->seq));
	g->evidence_threshold = (uint32_t)llround(cfg->evidence * 65536.0);	/* of 65536 */
	g->rst_threshold = (uint32_t)llround(cfg->rst * 65536.0);
	g->ipv6_threshold = (uint32_t)llround(cfg->ipv6 * 65536.0);
	return g;
}

static inline void
be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
be32(uint8_t *p, uint32_t v)
{
	be16(p, (uint16_t)(v >> 16));
	be16(p + 2, (uint16_t)v);
}

static inline void
be64(uint8_t *p, uint64_t v)
{
	be32(p, (uint32_t)(v >> 32));
	be32(p + 4, (uint32_t)v);
}

static uint16_t
ip_csum(const uint8_t *h)
{
	uint32_t s = 0;

	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The one's-complement sum of len bytes (big-endian words), to fold later. */
static uint32_t
sum16(const uint8_t *p, uint32_t len, uint32_t s)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Is this flow IPv6? Decided by a hash of the flow, so a flow is always one or the other. */
static inline int
flow_is_v6(const struct lc_gen *g, uint32_t flow)
{
	return flow < g->cfg.flows && ((flow * 2246822519u) >> 16 & 0xffff) < g->ipv6_threshold;
}

uint32_t
lc_gen_next(struct lc_gen *g, uint8_t *buf)
{
	uint32_t len = g->mode->size(g), off = 12, flow, src, dst;
	uint16_t sport, dport;
	uint8_t *ip;

	if (g->frames != NULL) {	/* pcap mode: the file's frames, as they are */
		memcpy(buf, g->frames[g->next], len);
		g->next = (g->next + 1) % g->nframes;
		return len;
	}
	if ((rnd(g) & 0xffff) < g->evidence_threshold) {
		flow = g->cfg.flows;	/* the evidence flow */
		src = 0xc0a80132;	/* 192.168.1.50 */
		dst = g->cfg.evidence_ip;
		sport = 51515;
		dport = g->cfg.evidence_port;
	} else {
		flow = rnd(g) % g->cfg.flows;
		src = 0x0a000000 | (flow & 0xffffff);		/* 10.x.y.z */
		dst = 0xac100000 | ((flow * 2654435761u) & 0xfffff);	/* 172.16/12 */
		sport = (uint16_t)(1024 + flow % 60000);
		dport = (uint16_t)(((const uint16_t[]){ 53, 80, 123, 8080, 4789 })[flow % 5]);
	}
	int tcp = (rnd(g) & 0xffff) < g->rst_threshold;
	int v6 = flow_is_v6(g, flow);
	uint32_t l4 = tcp ? 20 : 8, l3 = v6 ? 40 : 20;

	if (g->cfg.vlan && len < LC_GEN_MIN_FRAME + 4)
		len = LC_GEN_MIN_FRAME + 4;
	if (len < 14 + (g->cfg.vlan ? 4u : 0u) + l3 + l4 + LC_GEN_TAG_LEN)
		len = 14 + (g->cfg.vlan ? 4u : 0u) + l3 + l4 + LC_GEN_TAG_LEN;
	memset(buf, 0, len);
	memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (g->cfg.vlan) {
		be16(buf + off, 0x8100);
		be16(buf + off + 2, g->cfg.vlan & 0x0fff);
		off += 4;
	}
	ip = buf + off + 2;
	if (v6) {		/* fd00::/16 documentation-style ULAs, the flow in the addresses */
		be16(buf + off, 0x86dd);
		ip[0] = 0x60;
		be16(ip + 4, (uint16_t)(len - (off + 2) - 40));
		ip[6] = tcp ? 6 : 17;
		ip[7] = 64;
		be16(ip + 8, 0xfd00);
		be32(ip + 20, src);
		be16(ip + 24, 0xfd00);
		ip[25] = 1;
		be32(ip + 36, dst);
	} else {
		be16(buf + off, 0x0800);
		ip[0] = 0x45;
		be16(ip + 2, (uint16_t)(len - (off + 2)));
		ip[8] = 64;
		ip[9] = tcp ? 6 : 17;
		be32(ip + 12, src);
		be32(ip + 16, dst);
		be16(ip + 10, ip_csum(ip));
	}
	uint8_t *l4h = ip + l3;
	uint32_t l4len = len - (off + 2) - l3;

	be16(l4h, sport);
	be16(l4h + 2, dport);
	if (tcp) {
		l4h[12] = 0x50;		/* 20-byte header */
		l4h[13] = 0x04;		/* RST */
	} else {
		be16(l4h + 4, (uint16_t)l4len);
	}
	uint8_t *tag = l4h + l4;
	be16(tag, LC_GEN_TAG_MAGIC);
	be16(tag + 2, g->cfg.id);
	be32(tag + 4, flow);
	be64(tag + 8, g->seq[flow]++);
	/* L4 checksums over the pseudo-header (mandatory for TCP, and for UDP over IPv6). */
	uint32_t sum = sum16(ip + (v6 ? 8 : 12), v6 ? 32 : 8, 0) + l4len + (tcp ? 6u : 17u);
	uint16_t ck = fold(sum16(l4h, l4len, sum));

	be16(l4h + (tcp ? 16 : 6), !tcp && ck == 0 ? 0xffff : ck);
	return len;
}

void
lc_gen_free(struct lc_gen *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->nframes; i++)
		free(g->frames[i]);
	free(g->frames);
	free(g->lens);
	free(g->seq);
	free(g);
}

int
lc_gen_tag(const uint8_t *f, uint32_t caplen, uint16_t *id, uint32_t *flow, uint64_t *seq)
{
	uint32_t off = 12;
	const uint8_t *t;

	if (caplen >= 16 && f[12] == 0x81 && f[13] == 0x00)
		off += 4;
	if (caplen < off + 2 + 20 + 8 + LC_GEN_TAG_LEN)
		return 0;
	uint32_t l3, proto;

	if (f[off] == 0x08 && f[off + 1] == 0x00 && (f[off + 2] & 0x0f) == 5) {
		l3 = 20;
		proto = f[off + 2 + 9];
	} else if (f[off] == 0x86 && f[off + 1] == 0xdd && caplen >= off + 2 + 40) {
		l3 = 40;
		proto = f[off + 2 + 6];
	} else {
		return 0;
	}
	uint32_t l4 = proto == 17 ? 8 : proto == 6 ? 20 : 0;

	if (l4 == 0 || caplen < off + 2 + l3 + l4 + LC_GEN_TAG_LEN)
		return 0;
	t = f + off + 2 + l3 + l4;
	if ((t[0] << 8 | t[1]) != LC_GEN_TAG_MAGIC)
		return 0;
	*id = (uint16_t)(t[2] << 8 | t[3]);
	*flow = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
	*seq = 0;
	for (int i = 8; i < 16; i++)
		*seq = *seq << 8 | t[i];
	return 1;
}
