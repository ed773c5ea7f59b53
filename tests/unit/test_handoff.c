/* SPDX-License-Identifier: BSD-3-Clause */
/* The RX -> queue -> writer handoff: RX formats the packets it keeps as records into chunks
 * and frees every mbuf at once; order and timestamps are kept; a full buffer drops (and
 * counts) the kept packets that find no empty chunk, and gives their -c budget back; -c
 * closes the capture window exactly; a chunk holding records reaches the writer after the
 * flush time; the writer turns chunks into files cut between records. */
#include <openssl/evp.h>
#include <pcap/pcap.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_test.h"

#include "clock.h"
#include "linecap/filter.h"
#include "linecap/outpath.h"
#include "queue.h"
#include "rx.h"
#include "linecap/format.h"
#include "linecap/index.h"
#include "writer.h"

#define POOL 1024u

static struct rte_mempool *mp;
static struct lc_clock clk;
static int stop;
static unsigned int frame_len = 64;

/* A frame of frame_len bytes carrying seq at 60; odd seq is UDP, even is TCP. */
static struct rte_mbuf *
frame(uint32_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)frame_len);

	memset(d, 0, frame_len);
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

/* An RX queue with a buffer of bytes (pcap records, no snaplen cut), chunks sent at once
 * when flush_now, else only when full. */
static struct lc_rx_queue *
rxq(uint64_t bytes, struct lc_filter *f, int64_t *budget, int flush_now)
{
	static struct lc_rx_queue rx;
	static unsigned int id;
	char err[256];

	memset(&rx, 0, sizeof(rx));
	rx.q = lc_queue_create(id++, bytes, SOCKET_ID_ANY, err, sizeof(err));
	CHECK(rx.q != NULL);
	rx.fmt = &lc_format_pcap;
	rx.snaplen = 65535;
	rx.flush_tsc = flush_now ? 0 : UINT64_MAX;
	rx.clock = &clk;
	rx.stop = &stop;
	rx.filter = f;
	rx.budget = budget;
	return &rx;
}

/* Walk the records of every full chunk, in order: fn(seq, ts, caplen, len) for each; the
 * chunks go back to the empty stack. Returns the records seen. */
static uint32_t
walk(struct lc_rx_queue *rx, void (*fn)(uint32_t seq, uint64_t ts, uint32_t caplen,
					 uint32_t len, void *arg), void *arg)
{
	struct lc_chunk *c;
	uint32_t n = 0;

	lc_rx_flush(rx);
	while (rte_ring_sc_dequeue(rx->q->full, (void **)&c) == 0) {
		uint32_t off = 0, k = 0;

		while (off < c->len) {
			const uint8_t *r = c->data + off;
			uint32_t seq;

			CHECK_EQ_U64(lc_format_record_len(&lc_format_pcap, r), 16 + *(const uint32_t *)(r + 8));
			memcpy(&seq, r + 16 + 60, 4);
			if (fn != NULL)
				fn(seq, lc_format_pcap.record_ts(r), *(const uint32_t *)(r + 8),
				   *(const uint32_t *)(r + 12), arg);
			off += (uint32_t)lc_format_record_len(&lc_format_pcap, r);
			k++;
		}
		CHECK_EQ_U64(off, c->len);	/* whole records only */
		CHECK_EQ_U64(k, c->nrec);
		n += k;
		rte_stack_push(rx->q->empty, (void *const *)&c, 1);
	}
	return n;
}

struct order {
	uint32_t next, step;
	uint64_t last_ts;
};

static void
in_order(uint32_t seq, uint64_t ts, uint32_t caplen, uint32_t len, void *arg)
{
	struct order *o = arg;

	CHECK_EQ_U64(seq, o->next);
	CHECK(ts >= o->last_ts);
	CHECK_EQ_U64(caplen, len);
	o->next += o->step;
	o->last_ts = ts;
}

static void
done_with(struct lc_rx_queue *rx)
{
	lc_queue_free(rx->q);
	rx->q = NULL;
}

/* The buffer fills while nobody writes: what finds no chunk is dropped and counted, every
 * mbuf is back in the pool after each burst, and what went in comes out whole, in order. */
static void
test_buffer_full(void)
{
	struct lc_rx_queue *rx = rxq(LC_QUEUE_MIN_BYTES, NULL, NULL, 0);
	struct rte_mbuf *pkts[LC_RX_BURST];
	struct order o = { 0, 1, 0 };
	uint32_t sent = 0, kept = 0, b;

	frame_len = 1500;	/* 1,516-byte records: 691 a chunk */
	for (b = 0; rx->q->c.buffer_full == 0 && b < 1000; b++) {
		burst(pkts, sent, LC_RX_BURST);
		kept += lc_rx_process(rx, pkts, LC_RX_BURST);
		sent += LC_RX_BURST;
		CHECK_EQ_U64(rte_mempool_in_use_count(mp), 0);
	}
	CHECK_EQ_U64(kept, 4 * 691);	/* four chunks, full */
	CHECK_EQ_U64(rx->q->c.received, sent);
	CHECK_EQ_U64(rx->q->c.passed, sent);
	CHECK_EQ_U64(rx->q->c.buffer_full, sent - kept);
	CHECK_EQ_U64(lc_queue_waiting(rx->q), 4);	/* all four, full, with the writer */
	CHECK(rx->chunk == NULL);
	CHECK_EQ_U64(walk(rx, in_order, &o), kept);
	/* The writer gave the chunks back: RX goes on where the buffer let it. */
	burst(pkts, o.next, LC_RX_BURST);
	CHECK_EQ_U64(lc_rx_process(rx, pkts, LC_RX_BURST), LC_RX_BURST);
	CHECK_EQ_U64(walk(rx, in_order, &o), LC_RX_BURST);
	frame_len = 64;
	done_with(rx);
}

/* A chunk holding records waits in RX's hand until the flush time, then goes. */
static void
test_flush_time(void)
{
	struct lc_rx_queue *rx = rxq(LC_QUEUE_MIN_BYTES, NULL, NULL, 0);
	struct rte_mbuf *pkts[LC_RX_BURST];

	burst(pkts, 0, 4);
	CHECK_EQ_U64(lc_rx_process(rx, pkts, 4), 4);
	CHECK_EQ_U64(lc_queue_waiting(rx->q), 0);
	rx->flush_tsc = 0;
	burst(pkts, 4, 4);
	CHECK_EQ_U64(lc_rx_process(rx, pkts, 4), 4);
	CHECK_EQ_U64(lc_queue_waiting(rx->q), 1);
	CHECK(rx->chunk == NULL);
	/* The writer has not taken it (a stalled disk): the next chunk keeps filling, however
	 * long its records wait, so a slow link cannot use the buffer up a few records a chunk. */
	for (uint32_t b = 0; b < 10; b++) {
		burst(pkts, 8 + 4 * b, 4);
		CHECK_EQ_U64(lc_rx_process(rx, pkts, 4), 4);
	}
	CHECK_EQ_U64(lc_queue_waiting(rx->q), 1);
	CHECK(rx->chunk != NULL && rx->chunk->nrec == 40);
	CHECK_EQ_U64(lc_queue_in_use(rx->q), 2);
	/* Taken: the one in hand goes with the next burst. */
	for (struct lc_chunk *c = NULL; rte_ring_sc_dequeue(rx->q->full, (void **)&c) == 0;)
		rte_stack_push(rx->q->empty, (void *const *)&c, 1);
	burst(pkts, 48, 4);
	CHECK_EQ_U64(lc_rx_process(rx, pkts, 4), 4);
	CHECK_EQ_U64(lc_queue_waiting(rx->q), 1);
	CHECK(rx->chunk == NULL);
	CHECK_EQ_U64(walk(rx, NULL, NULL), 44);
	done_with(rx);
}

struct hw_check {
	uint64_t n0, before;
	uint32_t i;
};

static void
hw_stamp(uint32_t seq, uint64_t ts, uint32_t caplen, uint32_t len, void *arg)
{
	struct hw_check *h = arg;

	(void)caplen;
	(void)len;
	CHECK_EQ_U64(seq, h->i);
	if (seq % 2 == 0)
		CHECK_EQ_U64(ts, h->n0 + 7000 * (uint64_t)seq);	/* 1 tick = 1 us */
	else
		CHECK(ts + 1000000 >= h->before && ts < h->before + 1000000000ull);	/* TSC */
	h->i++;
}

/* Hardware timestamps: a packet the driver stamped gets the device time converted; one it
 * did not gets the burst's TSC time. */
static void
test_hw_timestamps(void)
{
	struct lc_rx_queue *rx = rxq(LC_QUEUE_MIN_BYTES, NULL, NULL, 1);
	struct rte_mbuf *pkts[4];
	struct lc_clock dev;
	struct hw_check h = { .n0 = 1767225600ull * 1000000000ull };
	int off = -1;
	uint64_t flag = 0;

	CHECK(rte_mbuf_dyn_rx_timestamp_register(&off, &flag) == 0);
	lc_clock_init_at(&dev, 1000000, 5000, h.n0);	/* a 1 MHz device clock */
	rx->hwclock = &dev;
	rx->hw_ts_offset = off;
	rx->hw_ts_flag = flag;
	burst(pkts, 0, 4);
	for (int i = 0; i < 4; i += 2) {	/* 0 and 2 stamped, at ticks 5000 + 7 * i */
		*RTE_MBUF_DYNFIELD(pkts[i], off, uint64_t *) = 5000 + 7 * (uint64_t)i;
		pkts[i]->ol_flags |= flag;
	}
	h.before = lc_realtime_ns();
	CHECK_EQ_U64(lc_rx_process(rx, pkts, 4), 4);
	CHECK_EQ_U64(walk(rx, hw_stamp, &h), 4);
	CHECK_EQ_U64(h.i, 4);
	done_with(rx);
}

static void
test_filter_and_count(void)
{
	char err[256];
	struct lc_filter_prog *p = lc_filter_compile("udp", 65535, err, sizeof(err));
	struct lc_filter *f = lc_filter_create(p, lc_filter_engine("interp"), SOCKET_ID_ANY);
	int64_t budget = 5;
	struct lc_rx_queue *rx = rxq(LC_QUEUE_MIN_BYTES, f, &budget, 1);
	struct rte_mbuf *pkts[LC_RX_BURST];
	struct order o = { 1, 2, 0 };

	/* 32 frames, 16 UDP (odd seq). Budget 5: the window closes at the 5th UDP frame
	 * (seq 9), so 10 frames count as received, 5 passed, 5 filtered out. */
	burst(pkts, 0, 32);
	CHECK_EQ_U64(lc_rx_process(rx, pkts, 32), 5);
	CHECK_EQ_U64(rx->q->c.received, 10);
	CHECK_EQ_U64(rx->q->c.passed, 5);
	CHECK_EQ_U64(budget, 0);
	CHECK_EQ_U64(rte_mempool_in_use_count(mp), 0);
	CHECK_EQ_U64(walk(rx, in_order, &o), 5);
	done_with(rx);

	/* A drop for a full buffer gives its place in the budget back: written stays exactly
	 * -c. The buffer's chunks are all in the writer's hands. */
	budget = 40;
	rx = rxq(LC_QUEUE_MIN_BYTES, NULL, &budget, 1);
	for (struct lc_chunk *c; rte_stack_pop(rx->q->empty, (void **)&c, 1) == 1;)
		;
	burst(pkts, 0, 32);
	CHECK_EQ_U64(lc_rx_process(rx, pkts, 32), 0);
	CHECK_EQ_U64(rx->q->c.buffer_full, 32);
	CHECK_EQ_U64(budget, 40);
	CHECK_EQ_U64(rte_mempool_in_use_count(mp), 0);
	done_with(rx);
	lc_filter_free(f);
	lc_filter_prog_free(p);
}

/* A burst the filter keeps none of, all of, or some of (13 frames: not a multiple of the
 * eight flags counted at a time), with and without a -c budget: the counts, the records
 * made (in order) and the pool all agree. */
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
		struct lc_rx_queue *rx = rxq(LC_QUEUE_MIN_BYTES, f, budget ? &budget : NULL, 1);
		struct rte_mbuf *pkts[LC_RX_BURST];
		int udp = strcmp(cases[c].expr, "udp") == 0;
		struct order o = { udp ? 1 : 0, udp ? 2 : 1, 0 };

		burst(pkts, 0, 13);
		CHECK_EQ_U64(lc_rx_process(rx, pkts, 13), cases[c].passed);
		CHECK_EQ_U64(rx->q->c.received, cases[c].received);
		CHECK_EQ_U64(rx->q->c.passed, cases[c].passed);
		CHECK_EQ_U64(rte_mempool_in_use_count(mp), 0);
		CHECK_EQ_U64(walk(rx, in_order, &o), cases[c].passed);
		done_with(rx);
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

/* The index beside a closed file: named NAME.idx once the file has its name, its SHA-256 and
 * size those of the description, its bytes the ones built again from the file (the records
 * the writer indexed are the file's, at their offsets). */
static size_t index_mem = 1 << 20;	/* the writers' index memory (tiny: given up) */

static void
check_index(const struct lc_closed_file *cf)
{
	char idx[PATH_MAX + 8], hex[65], want[65], err[512];
	uint8_t sha[32];
	uint64_t len = 0;
	struct stat st;
	int cfd, mfd;

	snprintf(idx, sizeof(idx), "%s.idx", cf->path);
	if (index_mem < 4096) {		/* given up: no index, the file whole all the same */
		CHECK_EQ_U64(cf->index_rc, (uint64_t)-ECANCELED);
		CHECK(stat(idx, &st) != 0);
		return;
	}
	CHECK_EQ_U64(cf->index_rc, 0);
	CHECK(stat(idx, &st) == 0 && (uint64_t)st.st_size == cf->index_bytes);
	file_sha(idx, want);
	lc_sha256_hex(cf->index_sha256, hex);
	CHECK(strcmp(hex, want) == 0);
	cfd = open(cf->path, O_RDONLY);
	mfd = memfd_create("rebuilt", 0);
	CHECK(cfd >= 0 && mfd >= 0);
	CHECK(lc_index_rebuild(cfd, cf->path, mfd, sha, &len, err, sizeof(err)) == 0);
	lc_sha256_hex(sha, hex);
	CHECK(strcmp(hex, want) == 0 && len == cf->index_bytes);
	close(cfd);
	close(mfd);
	unlink(idx);
}

static void
test_writer(uint64_t max_bytes)
{
	char dir[] = "/tmp/lc_test_handoff_XXXXXX", err[512], hex[65], want[65];
	struct lc_outpath op;
	struct lc_writer w;
	struct lc_writer_shard s;
	struct lc_rx_queue *rx = rxq(LC_QUEUE_MIN_BYTES, NULL, NULL, 1);
	struct rte_ring *closed = rte_ring_create(max_bytes ? "closed1" : "closed0", 1024,
						  SOCKET_ID_ANY, RING_F_SC_DEQ);
	struct lc_writer_policy pol = { .fmt = &lc_format_pcap, .max_bytes = max_bytes,
					.direct = 1, .index_mem = index_mem,
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
	rx->snaplen = 40;
	CHECK(lc_writer_shard_init(&w, &s, rx->q, 1, 0, SOCKET_ID_ANY, NULL, err, sizeof(err)) ==
	      0);
	w.shards[w.nshards++] = &s;
	for (uint32_t b = 0; b < 10; b++) {
		burst(pkts, b * 32, 32);
		lc_rx_process(rx, pkts, 32);	/* a chunk of 32 records: cuts fall within */
		CHECK_EQ_U64(rte_mempool_in_use_count(mp), 0);	/* freed once formatted */
		while (lc_writer_poll_shard(&w, &s) != 0)
			;
	}
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
		if (max_bytes)	/* cut before the first record that finds it past -C */
			CHECK(cf->bytes <= max_bytes + 56);
		if (max_bytes && cf->packets != 0 && cf->seq < s.file.seq)
			CHECK(cf->bytes > max_bytes);	/* ... and not before */
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
		check_index(cf);
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
	done_with(rx);
	rte_ring_free(closed);
	rmdir(dir);
}

/* -G: the writer cuts between records by their timestamps, each file holding its period's
 * records only, however the chunks fall. */
static void
test_writer_periods(void)
{
	char dir[] = "/tmp/lc_test_periods_XXXXXX", err[512];
	const uint64_t p0 = 1767225600ull, ns = 1000000000ull;	/* a period start, s */
	const uint64_t ts[] = { p0 * ns + ns / 2, p0 * ns + 9 * ns / 10, (p0 + 1) * ns + ns / 10,
				(p0 + 3) * ns + 3 * ns / 10, (p0 + 3) * ns + 4 * ns / 10 };
	uint64_t current = p0 + 3;	/* the main lcore's period, already moved on */
	struct lc_rx_queue *rx = rxq(LC_QUEUE_MIN_BYTES, NULL, NULL, 1);
	struct rte_ring *closed = rte_ring_create("closedp", 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	struct lc_writer_policy pol = { .fmt = &lc_format_pcap, .direct = 1, .port_name = "t",
					.period = &current, .rotate_secs = 1,
					.on_closed = collect, .on_closed_arg = closed };
	const uint64_t want_first[] = { ts[0], ts[2], ts[3] };
	const uint32_t want_n[] = { 2, 1, 2 };
	struct lc_outpath op;
	struct lc_writer w = { .policy = &pol, .snaplen = 64 };
	struct lc_writer_shard s;
	struct lc_closed_file *cf;
	struct lc_chunk *c = NULL;
	unsigned int files = 0;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(lc_outpath_init(&op, dir, NULL, err, sizeof(err)) == 0);
	w.out = &op;
	CHECK(lc_writer_shard_init(&w, &s, rx->q, 1, (time_t)p0, SOCKET_ID_ANY, NULL, err,
				   sizeof(err)) == 0);
	/* One chunk of five 60-byte records across three periods (none in p0 + 2). */
	CHECK(rte_stack_pop(rx->q->empty, (void **)&c, 1) == 1);
	c->len = 0;
	c->nrec = 0;
	for (unsigned int i = 0; i < 5; i++) {
		uint32_t hdr[4] = { (uint32_t)(ts[i] / ns), (uint32_t)(ts[i] % ns), 60, 60 };

		memcpy(c->data + c->len, hdr, sizeof(hdr));
		memset(c->data + c->len + 16, (int)i, 60);
		c->len += 76;
		c->nrec++;
	}
	rte_ring_sp_enqueue(rx->q->full, c);
	CHECK_EQ_U64(lc_writer_poll_shard(&w, &s), 5);
	CHECK(lc_writer_close_shard(&w, &s) == 0);
	while (rte_ring_sc_dequeue(closed, (void **)&cf) == 0) {
		if (files < 3) {
			CHECK_EQ_U64(cf->packets, want_n[files]);
			CHECK_EQ_U64(cf->first_ns, want_first[files]);
			CHECK(cf->last_ns < (cf->first_ns / ns + 1) * ns);	/* one period each */
		}
		files++;
		unlink(cf->path);
		free(cf);
	}
	CHECK_EQ_U64(files, 3);
	lc_writer_shard_release(&s);
	done_with(rx);
	rte_ring_free(closed);
	rmdir(dir);
}

int
main(void)
{
	lc_test_eal();
	mp = rte_pktmbuf_pool_create("t", POOL, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	lc_clock_init(&clk);
	test_buffer_full();
	test_flush_time();
	test_hw_timestamps();
	test_filter_and_count();
	test_filter_bursts();
	test_writer(0);
	test_writer(4096);	/* -C: 320 records of 56 bytes cut into files of ~4 KB */
	test_writer(1000);	/* -C: cuts within chunks, several a chunk */
	index_mem = 200;	/* an index past its memory: not written, nothing else changes */
	test_writer(4096);
	index_mem = 1 << 20;
	test_writer_periods();
	return lc_test_done("test_handoff");
}
