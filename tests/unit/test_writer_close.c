/* SPDX-License-Identifier: BSD-3-Clause */
/* Closing a pcapng file: its interface statistics block (88 bytes) is always written, whole,
 * however little room the writer's buffer has left (flushed first when needed), and never
 * past the buffer's end. The format's trailer itself writes only into the room it is given
 * (an exact-size heap block here, so AddressSanitizer sees a byte too far). */
#include <pcap/pcap.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include "lc_test.h"

#include "clock.h"
#include "linecap/format.h"
#include "linecap/outpath.h"
#include "linecap/reader.h"
#include "queue.h"
#include "rx.h"
#include "writer.h"

#define POOL 256u
#define ISB_LEN 88u		/* 20 + 5 options of 12 + end of options + trailing length */
#define BIG 2048u		/* record of a 2016-byte frame: 28 + 2016 + 4 */

static struct rte_mempool *mp;
static struct lc_clock clk;
static int stop;

/* The trailer as the format writes it, watched: the room it was given, what it wrote. */
static struct lc_format spy;
static size_t spy_room, spy_len;
static unsigned int spy_calls;

static size_t
spy_trailer(uint8_t *dst, size_t room, const struct lc_file_stats *st)
{
	size_t n = lc_format_pcapng.trailer(dst, room, st);

	spy_calls++;
	spy_room = room;
	spy_len = n;
	CHECK(n <= room);
	return n;
}

static void
test_trailer_room(void)
{
	struct lc_file_stats st = { .start_ns = 1, .end_ns = 2, .received = 3, .dropped = 4,
				    .accepted = 5 };

	for (size_t room = 0; room <= ISB_LEN + 8; room++) {
		uint8_t *dst = malloc(room ? room : 1);
		size_t n;

		CHECK(dst != NULL);
		if (dst == NULL)
			return;
		n = lc_format_pcapng.trailer(dst, room, &st);
		if (n > room)
			fprintf(stderr, "trailer wrote %zu bytes into %zu\n", n, room);
		CHECK(n <= room);
		CHECK_EQ_U64(n, room >= ISB_LEN ? ISB_LEN : 0);
		free(dst);
	}
}

static struct rte_mbuf *
frame(uint32_t len, uint32_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *d = m ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len) : NULL;

	if (d == NULL) {
		fprintf(stderr, "cannot make a %u-byte frame\n", len);
		exit(1);
	}
	memset(d, 0, len);
	if (len >= 20) {
		d[12] = 0x08;
		d[14] = 0x45;
		memcpy(d + 16, &seq, 4);
	}
	return m;
}

/* The records (frame lengths) that take exactly n bytes of pcapng (n a multiple of 4). */
static unsigned int
plan(uint32_t n, uint32_t *len, unsigned int max)
{
	unsigned int k = 0;
	uint32_t rem = n % BIG;

	for (uint32_t i = 0; i < n / BIG && k < max; i++)
		len[k++] = BIG - 32;
	if (rem >= 32) {
		len[k++] = rem - 32;
	} else if (rem != 0) {		/* one big record becomes two: 1024 and 1024 + rem */
		len[k - 1] = 1024 - 32;
		len[k++] = 1024 + rem - 32;
	}
	return k;
}

static uint32_t
r32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t
r64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Walk the file's blocks: all whole (length at both ends), the last an ISB whose counts are
 * received = accepted = packets. Returns the number of EPBs, -1 if broken. */
static long
check_blocks(const char *path, uint64_t packets)
{
	FILE *f = fopen(path, "rb");
	static uint8_t buf[LC_WRITER_BUF + 65536];
	size_t size, off = 0;
	uint32_t last = 0, last_off = 0;
	long epbs = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return -1;
	size = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (off + 12 <= size) {
		uint32_t type = r32(buf + off), len = r32(buf + off + 4);

		if (len < 12 || len % 4 || off + len > size || r32(buf + off + len - 4) != len) {
			fprintf(stderr, "%s: broken block at %zu\n", path, off);
			return -1;
		}
		epbs += type == 6;
		last = type;
		last_off = (uint32_t)off;
		off += len;
	}
	CHECK_EQ_U64(off, size);		/* nothing after the last whole block */
	CHECK_EQ_U64(last, 5);			/* the interface statistics block closes it */
	if (last != 5)
		return -1;
	const uint8_t *isb = buf + last_off;
	uint64_t recv = 0, accept = 0;

	CHECK_EQ_U64(r32(isb + 4), ISB_LEN);
	for (uint32_t o = 20; o + 4 <= ISB_LEN - 4 && r32(isb + o) != 0; ) {
		uint16_t code, olen;

		memcpy(&code, isb + o, 2);
		memcpy(&olen, isb + o + 2, 2);
		if (code == 4 && olen == 8)
			recv = r64(isb + o + 4);
		if (code == 6 && olen == 8)
			accept = r64(isb + o + 4);
		o += 4 + ((olen + 3u) & ~3u);
	}
	CHECK_EQ_U64(recv, packets);
	CHECK_EQ_U64(accept, packets);
	return epbs;
}

static void
collect(void *arg, struct lc_closed_file *cf)
{
	struct lc_closed_file **out = arg;

	free(*out);
	*out = cf;
}

/* Fill the buffer so that exactly left bytes remain, then close the file. */
static void
close_with(uint32_t left, int direct)
{
	char dir[] = "/tmp/lc_test_writer_close_XXXXXX", err[512];
	static struct lc_rx_queue q;
	static uint32_t len[LC_WRITER_BUF / 1024 + 4];
	struct lc_outpath op;
	struct lc_writer w;
	struct lc_writer_shard s;
	struct lc_closed_file *cf = NULL;
	struct lc_writer_policy pol = { .fmt = &spy, .direct = direct, .port_name = "test0",
					.on_closed = collect, .on_closed_arg = &cf };
	static int k;
	unsigned int n;

	fprintf(stderr, "  %u bytes left, %s\n", left, direct ? "O_DIRECT" : "page cache");
	memset(&q, 0, sizeof(q));
	q.q = lc_queue_create((unsigned int)k++, LC_QUEUE_MIN_BYTES, SOCKET_ID_ANY, err,
			      sizeof(err));
	q.fmt = &spy;
	q.snaplen = 262144;
	q.flush_tsc = 0;	/* each burst's chunk to the writer at once */
	q.clock = &clk;
	q.stop = &stop;
	CHECK(q.q != NULL && mkdtemp(dir) != NULL);
	CHECK(lc_outpath_init(&op, dir, NULL, err, sizeof(err)) == 0);
	memset(&w, 0, sizeof(w));
	w.out = &op;
	w.policy = &pol;
	w.snaplen = 262144;
	CHECK(lc_writer_shard_init(&w, &s, q.q, 1, 0, SOCKET_ID_ANY, NULL, err, sizeof(err)) ==
	      0);
	w.shards[w.nshards++] = &s;
	n = plan(LC_WRITER_BUF - left - (uint32_t)s.used, len, sizeof(len) / sizeof(len[0]));
	for (unsigned int i = 0; i < n; i += 32) {
		struct rte_mbuf *pkts[32];
		uint16_t b = (uint16_t)(n - i < 32 ? n - i : 32);

		for (uint16_t j = 0; j < b; j++)
			pkts[j] = frame(len[i + j], i + j);
		CHECK_EQ_U64(lc_rx_process(&q, pkts, b), b);
		while (lc_writer_poll_shard(&w, &s) != 0)
			;
	}
	CHECK_EQ_U64(s.used, LC_WRITER_BUF - left);	/* nothing flushed: all in the buffer */
	spy_calls = 0;
	CHECK(lc_writer_close_shard(&w, &s) == 0);
	CHECK(spy_calls >= 1 && spy_len == ISB_LEN && spy_len <= spy_room);
	CHECK_EQ_U64(s.c.written, n);
	CHECK(cf != NULL);
	if (cf != NULL) {
		struct lc_reader *r = lc_reader_open(cf->path, err, sizeof(err));
		struct lc_record rec;
		uint64_t got = 0;
		int rc = -1;

		CHECK_EQ_U64(cf->packets, n);
		CHECK_EQ_U64(check_blocks(cf->path, n), n);
		CHECK(r != NULL);
		while (r != NULL && (rc = lc_reader_next(r, &rec, err, sizeof(err))) == 1)
			CHECK_EQ_U64(rec.caplen, len[got++]);
		CHECK_EQ_U64(rc, 0);
		CHECK_EQ_U64(got, n);
		if (r != NULL)
			lc_reader_close(r);
		unlink(cf->path);
		free(cf);
	}
	lc_writer_shard_release(&s);
	lc_queue_free(q.q);
	CHECK_EQ_U64(rte_mempool_in_use_count(mp), 0);
	rmdir(dir);
}

int
main(void)
{
	static const uint32_t lefts[] = { ISB_LEN + 4, ISB_LEN, 84, 80, 44, 4, 0 };

	lc_test_eal();
	mp = rte_pktmbuf_pool_create("t", POOL, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	lc_clock_init(&clk);
	spy = lc_format_pcapng;
	spy.trailer = spy_trailer;
	test_trailer_room();
	for (int direct = 0; direct <= 1; direct++)
		for (size_t i = 0; i < sizeof(lefts) / sizeof(lefts[0]); i++)
			close_with(lefts[i], direct);
	return lc_test_done("test_writer_close");
}
