/* SPDX-License-Identifier: BSD-3-Clause */
/* The filter module: compile errors a person can read, verdicts on crafted frames, and the
 * same verdict for a frame whether it sits in one mbuf or is spread over several. */
#include "lc_test.h"

#include <rte_mbuf.h>
#include <unistd.h>

#include "linecap/config.h"
#include "linecap/filter.h"

/* Ethernet + IPv4 + TCP, 192.168.1.50:51515 -> 192.168.1.100:443, flags as given. */
static size_t
tcp_frame(uint8_t *f, uint8_t flags, size_t payload)
{
	static const uint8_t hdr[] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 192, 168, 1, 50, 192, 168, 1, 100,
		0xc9, 0x3b, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0, 0xff, 0xff, 0, 0, 0, 0,
	};
	memcpy(f, hdr, sizeof(hdr));
	f[47] = flags;
	f[16] = (uint8_t)((40 + payload) >> 8);
	f[17] = (uint8_t)(40 + payload);
	for (size_t i = 0; i < payload; i++)
		f[sizeof(hdr) + i] = (uint8_t)i;
	return sizeof(hdr) + payload;
}

static void
test_compile_errors(void)
{
	char err[LC_ERRLEN];

	CHECK(lc_filter_compile("hots 1.2.3.4", 262144, err, sizeof(err)) == NULL);
	CHECK(errno == EINVAL);
	CHECK_STR_HAS(err, "filter 'hots 1.2.3.4': ");
	CHECK_STR_HAS(err, "syntax error");
	CHECK(lc_filter_compile("port 99999", 262144, err, sizeof(err)) == NULL);
	CHECK_STR_HAS(err, "port 99999");
	CHECK(lc_filter_compile("udp port 4789 and icmp", 262144, err, sizeof(err)) == NULL);
	CHECK_STR_HAS(err, "rejects all packets");

	/* Operators counted as words, not inside them (port, host names like "orange"). */
	CHECK_EQ_U64(lc_filter_count_ops("tcp and port 80 or udp"), 2);
	CHECK_EQ_U64(lc_filter_count_ops("(tcp&&port 80)||ether host orange"), 2);
	CHECK_EQ_U64(lc_filter_count_ops("portrange 1-100 and not tcp AND OR"), 3);
	CHECK_EQ_U64(lc_filter_count_ops("oracle or"), 1);
	/* Too many: refused at once, before libpcap's optimizer would take minutes. */
	static char big[40000];
	size_t off = 0;
	for (unsigned int i = 0; i <= LC_FILTER_MAX_OPS + 1; i++)
		off += (size_t)snprintf(big + off, sizeof(big) - off, "%shost 10.1.%u.%u",
					i ? " or " : "", i / 250, i % 250);
	CHECK(lc_filter_compile(big, 262144, err, sizeof(err)) == NULL);
	CHECK(errno == E2BIG);
	CHECK_STR_HAS(err, "401 and/or operators");
	/* Deep nesting is no trouble. */
	static char deep[8100];
	memset(deep, '(', 4000);
	memcpy(deep + 4000, "tcp", 3);
	memset(deep + 4003, ')', 4000);
	struct lc_filter_prog *p = lc_filter_compile(deep, 262144, err, sizeof(err));
	CHECK(p != NULL);
	lc_filter_prog_free(p);
}

/* The verdict of both engines; 99 when they disagree or the filter does not compile. */
static unsigned int
verdict_on(const char *expr, const uint8_t *f, uint32_t len, uint32_t caplen)
{
	char err[LC_ERRLEN];
	struct lc_filter_prog *p = lc_filter_compile(expr, 262144, err, sizeof(err));
	struct lc_filter *jit, *interp;
	unsigned int v;

	if (p == NULL) {
		fprintf(stderr, "%s\n", err);
		return 99;
	}
	jit = lc_filter_create(p, lc_filter_engine("jit"), -1);
	interp = lc_filter_create(p, lc_filter_engine("interp"), -1);
	v = lc_filter_match_bytes(interp, f, len, caplen) != 0;
	if ((lc_filter_match_bytes(jit, f, len, caplen) != 0) != v)
		v = 99;
	lc_filter_free(jit);
	lc_filter_free(interp);
	lc_filter_prog_free(p);
	return v;
}

static unsigned int
verdict(const char *expr, const uint8_t *f, uint32_t len)
{
	return verdict_on(expr, f, len, len);
}

static void
test_verdicts(void)
{
	uint8_t f[2048];
	uint32_t n = (uint32_t)tcp_frame(f, 0x04 /* RST */, 0);

	CHECK(verdict("host 192.168.1.100 and port 443", f, n) == 1);
	CHECK(verdict("src host 192.168.1.50 and dst port 22", f, n) == 0);
	CHECK(verdict("tcp[tcpflags] & tcp-rst != 0", f, n) == 1);
	CHECK(verdict("tcp[tcpflags] & tcp-syn != 0", f, n) == 0);
	CHECK(verdict("ip6", f, n) == 0);
	/* A load past the captured length rejects, as libpcap does (wire length untouched). */
	CHECK(verdict_on("tcp[13] = 4", f, n, 47) == 0);
	CHECK(verdict_on("tcp[13] = 4", f, n, 48) == 1);
	CHECK(verdict_on("greater 50", f, n, 10) == 1);	/* len is the wire length */
	CHECK(lc_filter_engine("nope") == NULL);
	CHECK(strcmp(lc_filter_default_engine(), "jit") == 0);	/* x86-64 */
	CHECK(lc_filter_engine("interp") != NULL && lc_filter_engine("jit") != NULL);
}

/* Build an mbuf chain of the frame, seg bytes per segment. */
static struct rte_mbuf *
chain(struct rte_mempool *mp, const uint8_t *f, uint32_t len, uint32_t seg)
{
	struct rte_mbuf *head = NULL, *last = NULL;

	for (uint32_t off = 0; off < len; off += seg) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint32_t n = len - off < seg ? len - off : seg;

		memcpy(rte_pktmbuf_append(m, (uint16_t)n), f + off, n);
		if (head == NULL)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0)
			return NULL;
		last = m;
	}
	(void)last;
	return head;
}

static void
test_multi_segment(struct rte_mempool *mp)
{
	static uint8_t f[9000];
	uint32_t n = (uint32_t)tcp_frame(f, 0x12, 8900);
	char err[LC_ERRLEN];
	/* Bytes deep in the frame decide (payload byte i is i mod 256): 4th segment. */
	struct lc_filter_prog *p = lc_filter_compile("tcp[5000] = 0x74 and tcp[5001] = 0x75",
						     262144, err, sizeof(err));
	struct lc_filter *flt = lc_filter_create(p, lc_filter_engine("jit"), 0);	/* node 0 */
	struct rte_mbuf *one = chain(mp, f, n, n);
	struct rte_mbuf *many = chain(mp, f, n, 1500);
	struct rte_mbuf *cut = chain(mp, f, 4000, 1500);

	CHECK(p != NULL && flt != NULL);
	CHECK(one != NULL && one->nb_segs == 1);
	CHECK(many != NULL && many->nb_segs == 6);
	CHECK(lc_filter_match_bytes(flt, f, n, n) != 0);
	CHECK(lc_filter_match(flt, one) != 0);
	CHECK(lc_filter_match(flt, many) != 0);
	/* A chain whose segments hold less than pkt_len claims (net_pcap over 64 KiB) is
	 * read only as far as it goes: the bytes are missing, so "no match", not a crash. */
	many->pkt_len = 200000;
	CHECK(lc_filter_match(flt, many) != 0);
	cut->pkt_len = n;
	CHECK(lc_filter_match(flt, cut) == 0);
	rte_pktmbuf_free(one);
	rte_pktmbuf_free(many);
	rte_pktmbuf_free(cut);
	lc_filter_free(flt);
	lc_filter_prog_free(p);
}

/* An engine that gets one thing wrong: the self-check must catch it and say where. */
static lc_filter_fn real_run;

static unsigned int
wrong_on_vlan(const void *state, const uint8_t *pkt, uint32_t wirelen, uint32_t caplen)
{
	if (caplen >= 14 && pkt[12] == 0x81 && pkt[13] == 0x00)
		return 0;
	return real_run(state, pkt, wirelen, caplen);
}

static void
test_selfcheck(void)
{
	char err[LC_ERRLEN];
	struct lc_filter_prog *p;
	const struct lc_filter_ops *engine;
	struct lc_filter *f;

	CHECK(lc_filter_prepare("host 192.168.1.100 and port 443", 262144, NULL, &p, &engine,
				err, sizeof(err)) == 0);
	CHECK(strcmp(engine->name, "jit") == 0);
	f = lc_filter_create(p, engine, -1);
	CHECK(lc_filter_selfcheck(p, f, err, sizeof(err)) == 0);
	lc_filter_free(f);
	lc_filter_prog_free(p);

	/* "vlan" must match the crafted VLAN frames: the broken engine says no. */
	CHECK(lc_filter_prepare("vlan or not vlan", 262144, "interp", &p, &engine, err,
				sizeof(err)) == 0);
	f = lc_filter_create(p, engine, -1);
	real_run = f->run;
	f->run = wrong_on_vlan;
	CHECK(lc_filter_selfcheck(p, f, err, sizeof(err)) == -EPROTO);
	CHECK_STR_HAS(err, "filter 'vlan or not vlan': engine interp disagrees with libpcap on "
		      "frame 'vlan-udp' cut at 14 bytes (0 vs 262144)");
	lc_filter_free(f);
	lc_filter_prog_free(p);

	CHECK(lc_filter_prepare("tcp", 262144, "nope", &p, &engine, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "--filter-engine nope: unknown engine");
	CHECK(lc_filter_prepare("hots 1", 262144, NULL, &p, &engine, err, sizeof(err)) < 0);
	CHECK_STR_HAS(err, "filter 'hots 1'");
}

static void
test_read_file(void)
{
	char path[] = "/tmp/lc_test_filter_XXXXXX", err[LC_ERRLEN], *expr;
	int fd = mkstemp(path);
	const char text[] = "# evidence flow\nhost 192.168.1.100   # the server\n\tand port 443\n";

	CHECK(fd >= 0 && write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
	close(fd);
	CHECK(lc_filter_read_file(path, &expr, err, sizeof(err)) == 0);
	char *prog_err = NULL;
	struct lc_filter_prog *p = lc_filter_compile(expr, 262144, err, sizeof(err));
	CHECK(p != NULL);
	CHECK(strstr(expr, "evidence") == NULL && strstr(expr, "server") == NULL);
	CHECK(strstr(expr, "host 192.168.1.100") != NULL && strstr(expr, "and port 443") != NULL);
	(void)prog_err;
	lc_filter_prog_free(p);
	free(expr);
	unlink(path);
	CHECK(lc_filter_read_file("/nonexistent/f", &expr, err, sizeof(err)) == -ENOENT);
	CHECK_STR_HAS(err, "-F /nonexistent/f: No such file or directory");
}

int
main(void)
{
	struct rte_mempool *mp;

	lc_test_eal();
	mp = rte_pktmbuf_pool_create("t", 1024, 0, 0, 9300 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	test_compile_errors();
	test_verdicts();
	test_multi_segment(mp);
	test_selfcheck();
	test_read_file();
	return lc_test_done("test_filter");
}
