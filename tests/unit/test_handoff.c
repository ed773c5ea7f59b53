/* SPDX-License-Identifier: BSD-3-Clause */
/* The RX -> ring -> writer handoff: order kept, a full ring drops (and frees) the tail of a
 * burst and counts it, -c closes the capture window exactly, the writer turns what the ring
 * held into records, and every mbuf goes back to the pool. */
#include <openssl/evp.h>
#include <pcap/pcap.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>
#include <unistd.h>

#include "lc_test.h"

#include "linecap/clock.h"
#include "linecap/filter.h"
#include "linecap/outpath.h"
#include "linecap/rx.h"
#include "linecap/format.h"
#include "linecap/writer.h"

#define POOL 1024u

static struct rte_mempool *mp;
static struct lc_clock clk;
static int stop;

/* A frame carrying seq; odd seq is UDP, even is TCP. */
static struct rte_mbuf *
frame(uint32_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, 64);

	memset(d, 0, 64);
	d[12] = 0x08;			/* IPv4 */
	d[14] = 0x45;
	d[16] = 0;
	d[17] = 50;
	d[22] = 64;
	d[23] = (seq & 1) ? 17 : 6;	/* protocol */
	memcpy(d + 60, &seq, 4);
	return m;
}

static void
burst(struct rte_mbuf **pkts, uint32_t first, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		pkts[i] = frame(first + i);
}

static struct lc_rx_queue *
queue(unsigned int ring_size, struct lc_filter *f, int64_t *budget)
{
	static struct lc_rx_queue q;
	char name[32];
	static int k;

	memset(&q, 0, sizeof(q));
	snprintf(name, sizeof(name), "r%d", k++);
	q.ring = rte_ring_create(name, ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	q.ts_offset = lc_rx_ts_dynfield();
	q.clock = &clk;
	q.stop = &stop;
	q.filter = f;
	q.budget = budget;
	return &q;
}

static uint32_t
seq_of(struct rte_mbuf *m)
{
	uint32_t s;

	memcpy(&s, rte_pktmbuf_mtod_offset(m, uint8_t *, 60), 4);
	return s;
}

static void
drain_ring(struct lc_rx_queue *q)
{
	struct rte_mbuf *m;

	while (rte_ring_sc_dequeue(q->ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(q->ring);
}

static void
test_ring_full(void)
{
	struct lc_rx_queue *q = queue(64, NULL, NULL);	/* holds 63 */
	struct rte_mbuf *pkts[LC_RX_BURST], *m = NULL;

	burst(pkts, 0, 32);
	CHECK_EQ_U64(lc_rx_process(q, pkts, 32), 32);
	burst(pkts, 32, 32);
	CHECK_EQ_U64(lc_rx_process(q, pkts, 32), 31);
	CHECK_EQ_U64(q->c.received, 64);
	CHECK_EQ_U64(q->c.passed, 64);
	CHECK_EQ_U64(q->c.ring_drops, 1);
	/* The dropped mbuf went back to the pool at once. */
	CHECK_EQ_U64(rte_mempool_avail_count(mp) + rte_mempool_in_use_count(mp), POOL);
	CHECK_EQ_U64(rte_mempool_in_use_count(mp), 63);
	/* Order and timestamps: in sequence, never decreasing. */
	uint64_t last = 0;
	for (uint32_t i = 0; i < 63; i++) {
		CHECK(rte_ring_sc_dequeue(q->ring, (void **)&m) == 0);
		CHECK_EQ_U64(seq_of(m), i);
		CHECK(*lc_rx_ts(m, q->ts_offset) >= last);
		last = *lc_rx_ts(m, q->ts_offset);
		rte_pktmbuf_free(m);
	}
	drain_ring(q);
	CHECK_EQ_U64(rte_mempool_in_use_count(mp), 0);
}

/* Hardware timestamps: a packet the driver stamped gets the device time converted; one it
 * did not gets the burst's TSC time. */
static void
test_hw_timestamps(void)
{
	struct lc_rx_queue *q = queue(64, NULL, NULL);
	struct rte_mbuf *pkts[4], *m = NULL;
	struct lc_clock dev;
	uint64_t n0 = 1767225600ull * 1000000000ull;
	int off = -1;
	uint64_t flag = 0;

	CHECK(rte_mbuf_dyn_rx_timestamp_register(&off, &flag) == 0);
	lc_clock_init_at(&dev, 1000000, 5000, n0);	/* a 1 MHz device clock */
	q->hwclock = &dev;
	q->hw_ts_offset = off;
	q->hw_ts_flag = flag;
	burst(pkts, 0, 4);
	for (int i = 0; i < 4; i += 2) {	/* 0 and 2 stamped, at ticks 5000 + 7 * i */
		*RTE_MBUF_DYNFIELD(pkts[i], off, uint64_t *) = 5000 + 7 * (uint64_t)i;
		pkts[i]->ol_flags |= flag;
	}
	uint64_t before = lc_realtime_ns();
	CHECK_EQ_U64(lc_rx_process(q, pkts, 4), 4);
	for (int i = 0; i < 4; i++) {
		CHECK(rte_ring_sc_dequeue(q->ring, (void **)&m) == 0);
		uint64_t ts = *lc_rx_ts(m, q->ts_offset);

		if (i % 2 == 0)
			CHECK_EQ_U64(ts, n0 + 7000 * (uint64_t)i);	/* 1 tick = 1 us */
		else
			CHECK(ts + 1000000 >= before && ts < before + 1000000000ull);	/* TSC */
		rte_pktmbuf_free(m);
	}
	drain_ring(q);
}

static void
test_filter_and_count(void)
{
	char err[256];
	struct lc_filter_prog *p = lc_filter_compile("udp", 65535, err, sizeof(err));
	struct lc_filter *f = lc_filter_create(p, lc_filter_engine("interp"), SOCKET_ID_ANY);
	int64_t budget = 5;
	struct lc_rx_queue *q = queue(1024, f, &budget);
	struct rte_mbuf *pkts[LC_RX_BURST], *m = NULL;

	/* 32 frames, 16 UDP (odd seq). Budget 5: the window closes at the 5th UDP frame
	 * (seq 9), so 10 frames count as received, 5 passed, 5 filtered out. */
	burst(pkts, 0, 32);
	CHECK_EQ_U64(lc_rx_process(q, pkts, 32), 5);
	CHECK_EQ_U64(q->c.received, 10);
	CHECK_EQ_U64(q->c.passed, 5);
	CHECK_EQ_U64(budget, 0);
	for (uint32_t i = 0; i < 5; i++) {
		CHECK(rte_ring_sc_dequeue(q->ring, (void **)&m) == 0);
		CHECK_EQ_U64(seq_of(m), 2 * i + 1);
		rte_pktmbuf_free(m);
	}
	CHECK_EQ_U64(rte_mempool_in_use_count(mp), 0);
	drain_ring(q);

	/* A ring drop gives its place in the budget back: written stays exactly -c. */
	budget = 40;
	q = queue(16, NULL, &budget);	/* holds 15 */
	burst(pkts, 0, 32);
	CHECK_EQ_U64(lc_rx_process(q, pkts, 32), 15);
	CHECK_EQ_U64(q->c.ring_drops, 17);
	CHECK_EQ_U64(budget, 40 - 15);
	drain_ring(q);
	CHECK_EQ_U64(rte_mempool_in_use_count(mp), 0);
	lc_filter_free(f);
	lc_filter_prog_free(p);
}

/* A burst the filter keeps none of, all of, or some of (13 frames: not a multiple of the
 * eight flags counted at a time), with and without a -c budget: the counts, the frames
 * handed over (in order) and the pool all agree. */
static void
test_filter_bursts(void)
{
	static const struct {
		const char *expr;
		int64_t budget;		/* 0: no -c */
		uint32_t passed, received;
	} cases[] = {
		{ "icmp", 0, 0, 13 },
		{ "udp or tcp", 0, 13, 13 },
		{ "udp", 0, 6, 13 },
		{ "icmp", 100, 0, 13 },
		{ "udp or tcp", 100, 13, 13 },
		{ "udp or tcp", 4, 4, 4 },	/* the window closes at the 4th frame */
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char err[256];
		struct lc_filter_prog *p = lc_filter_compile(cases[c].expr, 65535, err,
							     sizeof(err));
		struct lc_filter *f = lc_filter_create(p, lc_filter_engine("jit") ?
						       lc_filter_engine("jit") :
						       lc_filter_engine("interp"), SOCKET_ID_ANY);
		int64_t budget = cases[c].budget;
		struct lc_rx_queue *q = queue(64, f, budget ? &budget : NULL);
		struct rte_mbuf *pkts[LC_RX_BURST], *m = NULL;
		uint32_t want = 0;

		burst(pkts, 0, 13);
		CHECK_EQ_U64(lc_rx_process(q, pkts, 13), cases[c].passed);
		CHECK_EQ_U64(q->c.received, cases[c].received);
		CHECK_EQ_U64(q->c.passed, cases[c].passed);
		CHECK_EQ_U64(rte_ring_count(q->ring), cases[c].passed);
		CHECK_EQ_U64(rte_mempool_in_use_count(mp), cases[c].passed);
		while (rte_ring_sc_dequeue(q->ring, (void **)&m) == 0) {
			if (strcmp(cases[c].expr, "udp") == 0)
				want |= 1;	/* the odd ones */
			CHECK_EQ_U64(seq_of(m), want);
			want += (strcmp(cases[c].expr, "udp") == 0) ? 2 : 1;
			rte_pktmbuf_free(m);
		}
		drain_ring(q);
		CHECK_EQ_U64(rte_mempool_in_use_count(mp), 0);
		lc_filter_free(f);
		lc_filter_prog_free(p);
	}
}

/* SHA-256 of a file's bytes, as hex. */
static void
file_sha(const char *path, char hex[65])
{
	uint8_t buf[65536], md[32];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f = fopen(path, "rb");
	size_t r;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while (f != NULL && (r = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(ctx, buf, r);
	if (f)
		fclose(f);
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	lc_sha256_hex(md, hex);
}

/* The writer's on_closed callback: keep the descriptions for the checks below. */
static void
collect(void *arg, struct lc_closed_file *cf)
{
	if (rte_ring_enqueue(arg, cf) != 0)
		free(cf);
}

static void
test_writer(uint64_t max_bytes)
{
	char dir[] = "/tmp/lc_test_handoff_XXXXXX", err[512], hex[65], want[65];
	struct lc_outpath op;
	struct lc_writer w;
	struct lc_writer_shard s;
	struct lc_rx_queue *q = queue(1024, NULL, NULL);
	struct rte_ring *closed = rte_ring_create(max_bytes ? "closed1" : "closed0", 1024,
						  SOCKET_ID_ANY, RING_F_SC_DEQ);
	struct lc_writer_policy pol = { .fmt = &lc_format_pcap, .max_bytes = max_bytes,
					.direct = 1,
					.port_name = "test0", .on_closed = collect,
					.on_closed_arg = closed };
	struct rte_mbuf *pkts[LC_RX_BURST];
	struct lc_closed_file *cf;
	uint64_t packets = 0, files = 0, bytes = 0;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(lc_outpath_init(&op, dir, NULL, err, sizeof(err)) == 0);
	memset(&w, 0, sizeof(w));
	w.out = &op;
	w.policy = &pol;
	w.snaplen = 40;
	w.ts_offset = q->ts_offset;
	CHECK(lc_writer_shard_init(&w, &s, q, 1, 0, SOCKET_ID_ANY, NULL, err, sizeof(err)) == 0);
	w.shards[w.nshards++] = &s;
	for (uint32_t b = 0; b < 10; b++) {
		burst(pkts, b * 32, 32);
		lc_rx_process(q, pkts, 32);
		while (lc_writer_poll_shard(&w, &s) != 0)	/* one burst: cuts fall between */
			;
	}
	CHECK_EQ_U64(rte_mempool_in_use_count(mp), 0);	/* freed in bulk after copying */
	CHECK(lc_writer_close_shard(&w, &s) == 0);
	CHECK_EQ_U64(s.c.written, 320);
	/* Every closed file was described, with the hash of what is on disk. */
	uint32_t next_seq = 1;
	uint64_t next_ts = 0;
	while (rte_ring_sc_dequeue(closed, (void **)&cf) == 0) {
		pcap_t *rd;
		struct pcap_pkthdr *h;
		const u_char *d;
		uint64_t n = 0;

		CHECK_EQ_U64(cf->rc, 0);
		CHECK_EQ_U64(cf->seq, next_seq++);
		CHECK(strstr(cf->path, ".part") == NULL);
		file_sha(cf->path, want);
		lc_sha256_hex(cf->sha256, hex);
		CHECK(strcmp(hex, want) == 0);
		CHECK_EQ_U64(cf->bytes, 24 + cf->packets * (16 + 40));
		if (max_bytes)	/* cut within one burst (64 records) past the bound */
			CHECK(cf->bytes <= max_bytes + 64 * 56);
		rd = pcap_open_offline_with_tstamp_precision(cf->path, PCAP_TSTAMP_PRECISION_NANO,
							      err);
		CHECK(rd != NULL);
		while (rd != NULL && pcap_next_ex(rd, &h, &d) == 1) {
			uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;

			CHECK_EQ_U64(h->caplen, 40);	/* cut at snaplen */
			CHECK_EQ_U64(h->len, 64);
			CHECK(ts >= next_ts);		/* in order within and across files */
			next_ts = ts;
			n++;
		}
		if (rd)
			pcap_close(rd);
		CHECK_EQ_U64(n, cf->packets);
		packets += n;
		bytes += cf->bytes;
		files++;
		unlink(cf->path);
		free(cf);
	}
	CHECK_EQ_U64(packets, 320);
	CHECK_EQ_U64(files, s.c.files);
	CHECK_EQ_U64(bytes, s.c.written_bytes);
	if (max_bytes)
		CHECK(files >= 4);
	else
		CHECK_EQ_U64(files, 1);
	lc_writer_shard_release(&s);
	drain_ring(q);
	rte_ring_free(closed);
	rmdir(dir);
}

int
main(void)
{
	lc_test_eal();
	mp = rte_pktmbuf_pool_create("t", POOL, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	lc_clock_init(&clk);
	test_ring_full();
	test_hw_timestamps();
	test_filter_and_count();
	test_filter_bursts();
	test_writer(0);
	test_writer(4096);	/* -C: 320 records of 56 bytes cut into files of ~4 KB */
	return lc_test_done("test_handoff");
}
