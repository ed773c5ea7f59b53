/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Live feeds below the capture: --feed specs (good and refused), the writers' side (what a
 * feed's ring holds for given records: its filter, snaplen, microseconds; a full ring is a
 * drop, never a wait), and the feed thread with real sockets on 127.0.0.1: a client gets
 * the pcap header and every record in order; a client that reads nothing is disconnected
 * after its stall time with its losses counted, while offering records never waits.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lc_test.h"
#include "feed_priv.h"
#include "feed_tap.h"
#include "linecap/config.h"
#include "linecap/feed.h"
#include "linecap/format.h"

static void
spec_ok(const char *s, const char *host, unsigned int port)
{
	struct lc_feed_spec sp;
	char err[LC_ERRLEN] = "";
	int rc = lc_feed_spec_parse(s, "--feed", &sp, err, sizeof(err));

	CHECK(rc == 0);
	if (rc != 0) {
		fprintf(stderr, "  %s: %s\n", s, err);
		return;
	}
	CHECK(strcmp(sp.host, host) == 0);
	CHECK_EQ_U64(sp.port, port);
}

static void
spec_bad(const char *s, const char *why)
{
	struct lc_feed_spec sp;
	char err[LC_ERRLEN] = "";

	CHECK(lc_feed_spec_parse(s, "--feed", &sp, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, why);
	CHECK(strncmp(err, "--feed ", 7) == 0 && strchr(err, '\n') == NULL);
}

static void
test_specs(void)
{
	struct lc_feed_spec sp;
	char err[LC_ERRLEN];

	spec_ok("57012", "127.0.0.1", 57012);
	spec_ok("0.0.0.0:1", "0.0.0.0", 1);
	spec_ok("[::1]:65535", "::1", 65535);
	CHECK(lc_feed_spec_parse("10.1.2.3:9,connect,usec,snaplen=128,stall=0.5,buffer=1Mi,"
				 "filter=tcp[13] & 2 != 0, or so", "--feed", &sp, err,
				 sizeof(err)) == 0);
	CHECK(sp.connect && sp.usec && sp.snaplen == 128 && sp.stall_ms == 500 &&
	      sp.buffer == (1u << 20) && sp.max_clients == LC_FEED_MAX_CLIENTS);
	CHECK(sp.filter != NULL && strcmp(sp.filter, "tcp[13] & 2 != 0, or so") == 0);
	CHECK(lc_feed_spec_parse("57012,max-clients=500", "--feed", &sp, err,
				 sizeof(err)) == 0 && sp.max_clients == 500 && !sp.connect &&
	      sp.filter == NULL && sp.stall_ms == LC_FEED_STALL_MS &&
	      sp.buffer == LC_FEED_BUFFER);
	spec_bad("", "[ADDR:]PORT");
	spec_bad("0", "1..65535");
	spec_bad("65536", "1..65535");
	spec_bad("-1", "1..65535");
	spec_bad("57012x", "1..65535");
	spec_bad("host:57012", "numeric IPv4");
	spec_bad("1.2.3.4.5:1", "numeric IPv4");
	spec_bad("[1.2.3.4]:1", "IPv6");
	spec_bad("[::1]57012", "[IPV6]:PORT");
	spec_bad("57012,fast", "unknown option");
	spec_bad("57012,connect=1", "no value");
	spec_bad("57012,snaplen=10", "snaplen");
	spec_bad("57012,max-clients=0", "max-clients");
	spec_bad("57012,max-clients=5000", "max-clients");
	spec_bad("57012,stall=0.01", "0.1 s");
	spec_bad("57012,buffer=1K", "64Ki");
	spec_bad("57012,buffer=2Gi", "64Ki");
	spec_bad("57012,filter=  ", "needs an expression");
	spec_bad("57012,max-clients=1000,buffer=8Mi", "over 4Gi");
	spec_bad("1.2.3.4:80,connect,max-clients=2", "max-clients means nothing");
}

/* --feed in the configuration: repeatable, at most LC_FEEDS_MAX, a port once. */
static void
test_config(void)
{
	struct lc_config cfg;
	char err[LC_ERRLEN];
	char *ok[] = { "linecap", "-i", "x", "-w", "d", "--feed", "5000", "--feed",
		       "5001,filter=udp", "--feed", "1.2.3.4:5000,connect" };
	char *dup[] = { "linecap", "-i", "x", "-w", "d", "--feed", "5000", "--feed",
			"127.0.0.1:5000,usec" };
	char *many[32] = { "linecap", "-i", "x", "-w", "d" };
	char ports[LC_FEEDS_MAX + 1][8];
	int n = 5;

	CHECK(lc_config_parse(&cfg, RTE_DIM(ok), ok, err, sizeof(err)) == 0);
	CHECK_EQ_U64(cfg.nfeeds, 3);
	CHECK(strcmp(cfg.feed[1], "5001,filter=udp") == 0);
	lc_config_release(&cfg);
	CHECK(lc_config_parse(&cfg, RTE_DIM(dup), dup, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "already a feed's");
	lc_config_release(&cfg);
	for (unsigned int i = 0; i <= LC_FEEDS_MAX; i++) {
		snprintf(ports[i], sizeof(ports[i]), "%u", 6000 + i);
		many[n++] = "--feed";
		many[n++] = ports[i];
	}
	CHECK(lc_config_parse(&cfg, n, many, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "at most 8 feeds");
	lc_config_release(&cfg);
}

/* A pcap record (lc_format_pcap's layout) of a UDP/IPv4 frame to dport, wire length
 * wirelen (captured: all of it), at ts_ns; its length. */
static size_t
record(uint8_t *at, uint64_t ts_ns, uint16_t dport, uint32_t wirelen)
{
	uint32_t h[4] = { (uint32_t)(ts_ns / 1000000000u), (uint32_t)(ts_ns % 1000000000u),
			  wirelen, wirelen };
	uint8_t *p = at + 16;

	memcpy(at, h, sizeof(h));
	memset(p, 0, wirelen);
	p[12] = 0x08;			/* IPv4 */
	p[14] = 0x45;
	p[14 + 9] = 17;			/* UDP */
	p[14 + 20 + 2] = (uint8_t)(dport >> 8);
	p[14 + 20 + 3] = (uint8_t)dport;
	p[wirelen - 1] = (uint8_t)dport;
	return 16 + wirelen;
}

static struct lc_feeds *
feeds_of(const char *spec, struct lc_config *cfg)
{
	char err[LC_ERRLEN];
	struct lc_feeds *fs;

	memset(cfg, 0, sizeof(*cfg));
	cfg->snaplen = LC_SNAPLEN_MAX;
	cfg->feed[0] = spec;
	cfg->nfeeds = 1;
	fs = lc_feeds_create(cfg, err, sizeof(err));
	CHECK(fs != NULL);
	if (fs == NULL) {
		fprintf(stderr, "  %s: %s\n", spec, err);
		return NULL;
	}
	CHECK(lc_feeds_attach(fs, 2, err, sizeof(err)) == 0);
	return fs;
}

/* The writers' side: the filter, snaplen and usec reach the ring; nothing without a
 * client; a full ring drops and counts. */
static void
test_offer(void)
{
	static uint8_t buf[1 << 20];
	struct lc_config cfg;
	struct lc_feeds *fs = feeds_of("127.0.0.1:9,connect,usec,snaplen=64,filter=udp port 53",
				       &cfg);
	struct lc_feed_stats st[LC_FEEDS_MAX];
	struct lc_feed_ring *r;
	size_t len = 0;
	uint32_t h[4];

	if (fs == NULL)
		return;
	r = fs->feed[0].ring[1];
	for (unsigned int i = 0; i < 100; i++)
		len += record(buf + len, 1700000000123456789ull + i, i % 4 == 0 ? 53 : 80,
			      100 + i);
	lc_feeds_offer(fs, 1, &lc_format_pcap, buf, len);
	CHECK_EQ_U64(r->head, 0);		/* no client: the writers skip the feed */
	fs->feed[0].active = 1;
	lc_feeds_offer(fs, 1, &lc_format_pcap, buf, len);
	CHECK_EQ_U64(r->offered, 25);
	CHECK_EQ_U64(r->head, 25 * (16 + 64));
	CHECK_EQ_U64(fs->feed[0].ring[0]->head, 0);	/* writer 1's ring only */
	lc_feed_ring_get(r->buf, r->mask, 16 + 64, h, sizeof(h));
	CHECK_EQ_U64(h[0], 1700000000u);
	CHECK_EQ_U64(h[1], 123456u);		/* usec: 123456793 ns */
	CHECK_EQ_U64(h[2], 64);
	CHECK_EQ_U64(h[3], 104);
	/* Fill the ring (16 MiB) without a reader: drops, counted, and never a wait. */
	for (unsigned int k = 0; k < 10000; k++)
		lc_feeds_offer(fs, 1, &lc_format_pcap, buf, len);
	CHECK(r->head - r->tail <= r->mask + 1);
	CHECK_EQ_U64(r->offered + r->drops, 25 * 10001);
	CHECK(r->drops > 0);
	lc_feeds_stats(fs, st);
	CHECK_EQ_U64(st[0].ring_drops, r->drops);
	CHECK_EQ_U64(st[0].drops, r->drops);
	CHECK(strcmp(st[0].name, "->127.0.0.1:9") == 0 && strcmp(st[0].filter, "udp port 53") == 0);
	lc_feeds_free(fs);
}

static int
connect_to(uint16_t port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A port free now on 127.0.0.1. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wait until the feed has n clients taking packets (5 s at most). */
static int
wait_active(struct lc_feed *f, uint32_t n)
{
	for (int i = 0; i < 500; i++) {
		if (__atomic_load_n(&f->active, __ATOMIC_RELAXED) == n)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* Read from fd until want bytes or 5 s without any. */
static size_t
read_all(int fd, uint8_t *out, size_t want)
{
	size_t got = 0;

	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&p, 1, 5000) <= 0)
			break;
		k = read(fd, out + got, want - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

/* The thread with two clients: one reads everything (header, then every record in order),
 * one reads nothing: it is let go after its stall time, its losses counted; offering
 * records never waits for either. */
static void
test_thread(void)
{
	static uint8_t buf[1 << 20], got[64 << 20];
	char spec[64];
	struct lc_config cfg;
	struct lc_feeds *fs;
	struct lc_feed_stats st[LC_FEEDS_MAX];
	uint64_t worst = 0, sent = 0;
	size_t len = 0, want;
	int good, stuck;

	snprintf(spec, sizeof(spec), "%u,stall=0.3,buffer=64Ki", free_port());
	fs = feeds_of(spec, &cfg);
	if (fs == NULL)
		return;
	CHECK(lc_feeds_start(fs) == 0);
	good = connect_to(fs->feed[0].spec.port, 0);
	stuck = connect_to(fs->feed[0].spec.port, 4096);
	CHECK(good >= 0 && stuck >= 0 && wait_active(&fs->feed[0], 2));
	for (unsigned int i = 0; i < 200; i++)
		len += record(buf + len, 1000000000ull * i, (uint16_t)i, 60 + i * 7);
	/* 200 rounds of 200 records from writer 0, paced so the good reader keeps up. */
	for (unsigned int k = 0; k < 200; k++) {
		uint64_t t0 = mono_ns();

		lc_feeds_offer(fs, 0, &lc_format_pcap, buf, len);
		worst = RTE_MAX(worst, mono_ns() - t0);
		sent += 200;
		if (k == 0) {	/* the good reader reads it all, header first */
			want = LC_FEED_FILE_HDR + len;
			CHECK_EQ_U64(read_all(good, got, want), want);
			CHECK(memcmp(got, fs->feed[0].file_hdr, LC_FEED_FILE_HDR) == 0);
			CHECK(memcmp(got + LC_FEED_FILE_HDR, buf, len) == 0);
		} else {
			CHECK_EQ_U64(read_all(good, got, len), len);
			CHECK(memcmp(got, buf, len) == 0);
		}
		usleep(2000);
	}
	CHECK(worst < 200000000);	/* a copy, never a wait on a client (load: margin) */
	usleep(500000);			/* past the stuck client's stall */
	CHECK(wait_active(&fs->feed[0], 1));
	lc_feeds_stats(fs, st);
	CHECK_EQ_U64(st[0].clients, 2);
	CHECK_EQ_U64(st[0].clients_now, 1);
	CHECK(st[0].nshown == 2 && st[0].shown[0].connected &&
	      st[0].shown[0].sent == sent && st[0].shown[0].drops == 0);
	CHECK(!st[0].shown[1].connected && strstr(st[0].shown[1].ended, "stalled") != NULL);
	/* It was let go during the rounds: what came after was not its to lose. */
	CHECK(st[0].shown[1].drops > 0 &&
	      st[0].shown[1].sent + st[0].shown[1].drops < sent);
	CHECK_EQ_U64(st[0].drops, st[0].shown[1].drops);
	lc_feeds_stop(fs);
	lc_feeds_stats(fs, st);
	CHECK_EQ_U64(st[0].clients_now, 0);
	CHECK(read(good, got, 1) == 0);		/* the feed closed it at the end */
	close(good);
	close(stuck);
	lc_feeds_free(fs);
}

/* max-clients reached: a client that closed its side and has nothing waiting gives its
 * place to a new one; one still taking packets does not. */
static void
test_make_room(void)
{
	char spec[64];
	struct lc_config cfg;
	struct lc_feeds *fs;
	struct lc_feed_stats st[LC_FEEDS_MAX];
	uint8_t hdr[LC_FEED_FILE_HDR];
	int a, b, c;

	snprintf(spec, sizeof(spec), "%u,max-clients=1", free_port());
	fs = feeds_of(spec, &cfg);
	if (fs == NULL)
		return;
	CHECK(lc_feeds_start(fs) == 0);
	a = connect_to(fs->feed[0].spec.port, 0);
	CHECK(wait_active(&fs->feed[0], 1));
	CHECK_EQ_U64(read_all(a, hdr, sizeof(hdr)), sizeof(hdr));
	b = connect_to(fs->feed[0].spec.port, 0);	/* refused: a still reads */
	CHECK(b >= 0 && read(b, hdr, 1) == 0);
	shutdown(a, SHUT_WR);				/* a is done: its place is free */
	usleep(200000);
	c = connect_to(fs->feed[0].spec.port, 0);
	CHECK(c >= 0 && read_all(c, hdr, sizeof(hdr)) == sizeof(hdr));
	CHECK(read(a, hdr, 1) == 0);			/* a was let go */
	lc_feeds_stats(fs, st);
	CHECK_EQ_U64(st[0].clients, 2);
	CHECK_EQ_U64(st[0].refused, 1);
	close(a);
	close(b);
	close(c);
	lc_feeds_free(fs);
}

/* Every client needs a descriptor: max-clients past the limit (less what the capture
 * keeps) is refused at start. Last: it lowers this process's hard limit for good. */
static void
test_descriptors(void)
{
	struct rlimit rl = { 400, 400 };
	struct lc_config cfg = { .snaplen = LC_SNAPLEN_MAX, .nfeeds = 1 };
	char err[LC_ERRLEN];
	struct lc_feeds *fs;

	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	cfg.feed[0] = "127.0.0.1:9,connect";
	fs = lc_feeds_create(&cfg, err, sizeof(err));
	CHECK(fs != NULL);
	lc_feeds_free(fs);
	cfg.feed[0] = "58123,max-clients=200";
	CHECK(lc_feeds_create(&cfg, err, sizeof(err)) == NULL);
	CHECK_STR_HAS(err, "200 clients in all (max-clients) need 456 open files");
	CHECK_STR_HAS(err, "the limit is 400");
}

int
main(void)
{
	lc_test_eal();
	test_specs();
	test_config();
	test_offer();
	test_thread();
	test_make_room();
	test_descriptors();
	return lc_test_done("test_feed");
}
