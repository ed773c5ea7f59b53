/* SPDX-License-Identifier: BSD-3-Clause */
/* The generator's frames (sizes per mode, tags, evidence share, VLAN) and the loss
 * accounting over tags (gaps as ranges, duplicates, reordering, a lost tail). */
#include "lc_test.h"

#include "linecap/gen.h"

static void
say(void *arg, const char *line)
{
	char *last = arg;

	snprintf(last, 512, "%s", line);
	fprintf(stderr, "  %s\n", line);
}

static void
test_frames(void)
{
	struct lc_gen_config cfg = { .mode = "fixed", .size = 60, .flows = 100, .evidence = 0.01,
				     .evidence_ip = 0xc0a80164, .evidence_port = 443, .id = 7 };
	static uint8_t buf[LC_GEN_MAX_FRAME];
	char err[256];
	struct lc_gen *g = lc_gen_create(&cfg, err, sizeof(err));
	uint64_t seen[101] = { 0 }, evidence = 0;

	CHECK(g != NULL);
	for (int i = 0; g && i < 100000; i++) {
		uint32_t len = lc_gen_next(g, buf), flow;
		uint16_t id;
		uint64_t seq;

		CHECK_EQ_U64(len, 60);
		if (!lc_gen_tag(buf, len, &id, &flow, &seq) || id != 7 || flow > 100) {
			CHECK(0);
			break;
		}
		CHECK_EQ_U64(seq, seen[flow]);	/* per flow, from 0, no gaps */
		seen[flow]++;
		if (flow == 100) {
			evidence++;
			CHECK(buf[30] == 192 && buf[31] == 168 && buf[32] == 1 && buf[33] == 100);
			CHECK(buf[36] == 0x01 && buf[37] == 0xbb);	/* port 443 */
		}
	}
	CHECK(evidence > 800 && evidence < 1200);	/* about 1% */
	lc_gen_free(g);

	cfg.mode = "imix";
	cfg.vlan = 100;
	g = lc_gen_create(&cfg, err, sizeof(err));
	unsigned int sizes[3] = { 0 };
	for (int i = 0; g && i < 12000; i++) {
		uint32_t len = lc_gen_next(g, buf), flow;
		uint16_t id;
		uint64_t seq;

		sizes[len == 64 ? 0 : len == 566 ? 1 : len == 1514 ? 2 : 0] += len != 60;
		CHECK(buf[12] == 0x81 && buf[13] == 0x00 && buf[15] == 100);
		CHECK(lc_gen_tag(buf, len, &id, &flow, &seq));
	}
	CHECK(sizes[0] > 6000 && sizes[1] > 3300 && sizes[2] > 700);	/* 7:4:1 */
	lc_gen_free(g);

	/* 1% TCP RST: tagged too, at least 70 bytes. */
	cfg.mode = "fixed";
	cfg.vlan = 0;
	cfg.rst = 0.01;
	g = lc_gen_create(&cfg, err, sizeof(err));
	unsigned int rst = 0;
	for (int i = 0; g && i < 50000; i++) {
		uint32_t len = lc_gen_next(g, buf), flow;
		uint16_t id;
		uint64_t seq;

		CHECK(lc_gen_tag(buf, len, &id, &flow, &seq));
		if (buf[23] == 6) {
			rst++;
			CHECK(len == 70 && buf[47] == 0x04);
		}
	}
	CHECK(rst > 350 && rst < 650);
	lc_gen_free(g);

	cfg.rst = 0;
	cfg.size = 30;
	CHECK(lc_gen_create(&cfg, err, sizeof(err)) == NULL);
	CHECK_STR_HAS(err, "--size 30: must be between 60 and 9600");
	cfg.mode = "bogus";
	CHECK(lc_gen_create(&cfg, err, sizeof(err)) == NULL);
}

/* The one's-complement sum a receiver computes: 0xffff over a frame's pseudo-header and L4
 * segment when the checksum in it is right. */
static uint16_t
l4_sum_ok(const uint8_t *f, uint32_t len, uint32_t off)
{
	int v6 = f[off] == 0x86;
	const uint8_t *ip = f + off + 2;
	uint32_t l3 = v6 ? 40 : 20, proto = v6 ? ip[6] : ip[9], l4len = len - (off + 2) - l3;
	uint32_t s = l4len + proto;
	const uint8_t *a = ip + (v6 ? 8 : 12);

	for (uint32_t i = 0; i < (v6 ? 32u : 8u); i += 2)
		s += (uint32_t)(a[i] << 8 | a[i + 1]);
	for (uint32_t i = 0; i + 1 < l4len; i += 2)
		s += (uint32_t)(ip[l3 + i] << 8 | ip[l3 + i + 1]);
	if (l4len & 1)
		s += (uint32_t)ip[l3 + l4len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* IPv6 flows: a fixed share of the flows, each always IPv6 or always IPv4; frames of at
 * least 78 bytes with a right IPv6 header, checksums right in both families, tags read. */
static void
test_ipv6(void)
{
	struct lc_gen_config cfg = { .mode = "fixed", .size = 60, .flows = 200, .evidence = 0.05,
				     .rst = 0.3, .ipv6 = 0.5, .evidence_ip = 0xc0a80164,
				     .evidence_port = 443, .id = 9, .vlan = 0 };
	char err[256];
	struct lc_gen *g = lc_gen_create(&cfg, err, sizeof(err));
	static uint8_t buf[LC_GEN_MAX_FRAME];
	int family[201];
	unsigned int v6 = 0, v6flows = 0, evidence6 = 0;

	memset(family, 0, sizeof(family));
	CHECK(g != NULL);
	for (int i = 0; g != NULL && i < 20000; i++) {
		uint32_t len = lc_gen_next(g, buf), flow;
		uint16_t id;
		uint64_t seq;
		int is6 = buf[12] == 0x86 && buf[13] == 0xdd;

		CHECK(lc_gen_tag(buf, len, &id, &flow, &seq) == 1 && id == 9 && flow <= 200);
		if (is6) {
			v6++;
			CHECK(len >= LC_GEN_MIN_FRAME6);
			CHECK(buf[14] >> 4 == 6 && buf[14 + 7] == 64);
			CHECK_EQ_U64((uint32_t)(buf[18] << 8 | buf[19]), len - 14 - 40);
			evidence6 += flow == 200;
		} else {
			CHECK(buf[12] == 0x08 && buf[13] == 0x00 && len >= LC_GEN_MIN_FRAME);
		}
		CHECK_EQ_U64(l4_sum_ok(buf, len, 12), 0xffff);
		if (flow < 200) {	/* a flow is one family, always */
			CHECK(family[flow] == 0 || family[flow] == (is6 ? 6 : 4));
			family[flow] = is6 ? 6 : 4;
		}
	}
	for (int f = 0; f < 200; f++)
		v6flows += family[f] == 6;
	CHECK(v6flows > 70 && v6flows < 130);	/* about half of 200 */
	CHECK(v6 > 6000 && v6 < 13000);
	CHECK_EQ_U64(evidence6, 0);		/* the evidence flow stays IPv4 */
	lc_gen_free(g);
	cfg.ipv6 = 1.5;
	CHECK(lc_gen_create(&cfg, err, sizeof(err)) == NULL);
	CHECK_STR_HAS(err, "--ipv6-fraction");
}

static void
test_seq(void)
{
	struct lc_seq *s = lc_seq_new();
	uint64_t rcv, miss, dup, reo;
	char last[512];

	for (uint64_t i = 0; i < 100; i++)
		if (i != 10 && i != 11 && i != 50)
			lc_seq_add(s, 1, 5, i);
	lc_seq_add(s, 1, 5, 20);	/* a duplicate, arriving late: also out of order */
	for (uint64_t i = 0; i < 10; i++)
		lc_seq_add(s, 2, 5, i);	/* another generator, same flow number: clean */
	lc_seq_expect(s, 2, 5, 12);	/* it sent 12: two lost at the end */
	CHECK_EQ_U64(lc_seq_report(s, say, last, &rcv, &miss, &dup, &reo), 3 + 2 + 1 + 1);
	CHECK_EQ_U64(rcv, 98 + 10);
	CHECK_EQ_U64(miss, 5);
	CHECK_EQ_U64(dup, 1);
	CHECK_EQ_U64(reo, 1);
	CHECK_STR_HAS(last, "2 flows: 108 received, 5 missing, 1 duplicates, 1 out of order");
	lc_seq_free(s);
}

int
main(void)
{
	test_ipv6();
	test_frames();
	test_seq();
	return lc_test_done("test_gen");
}
