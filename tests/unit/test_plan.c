/* SPDX-License-Identifier: BSD-3-Clause */
/* What linecap learns before EAL: replay files (link type, packet counts), queue and writer
 * counts, and a pool large enough for an infinite replay with the defaults. The replay files
 * come from the generated corpus (LC_CORPUS), then from ../shared/corpus where present
 * (LC_CORPUS_EXTRA): both hold files of these names and counts. */
#include "lc_test.h"

#include "linecap/capture.h"
#include "queue.h"
#include "rx.h"
#include "port.h"

static char corpus_pcap[4][512];

static void
test_inspect(void)
{
	struct lc_port_plan p;
	char dev[2048], err[512];

	CHECK(lc_port_inspect("net_ring0", &p, err, sizeof(err)) == 0);
	CHECK(strcmp(p.driver, "net_ring") == 0 && !p.is_pcap_replay);
	CHECK(lc_port_inspect("0000:3b:00.0", &p, err, sizeof(err)) == 0);
	CHECK(strcmp(p.driver, "pci") == 0 && strcmp(p.name, "0000:3b:00.0") == 0);

	snprintf(dev, sizeof(dev), "net_pcap1,rx_pcap=%s,rx_pcap=%s,infinite_rx=1",
		 corpus_pcap[0], corpus_pcap[1]);
	CHECK(lc_port_inspect(dev, &p, err, sizeof(err)) == 0);
	CHECK(strcmp(p.name, "net_pcap1") == 0 && strcmp(p.driver, "net_pcap") == 0);
	CHECK(p.is_pcap_replay && p.infinite);
	CHECK_EQ_U64(p.nfiles, 2);
	CHECK_EQ_U64(p.file_packets[0], 11);	/* dns_tcp.pcap */
	CHECK_EQ_U64(p.file_packets[1], 2);	/* 802.1ad_QinQ.pcap */
	CHECK_EQ_U64(p.replay_mbufs, 13);

	/* A pcapng file counts too; a cut file counts what libpcap reads before the cut. */
	snprintf(dev, sizeof(dev), "net_pcap0,rx_pcap=%s", corpus_pcap[3]);
	CHECK(lc_port_inspect(dev, &p, err, sizeof(err)) == 0);
	CHECK_EQ_U64(p.file_packets[0], 10);
	CHECK(!p.infinite && p.replay_mbufs == 0);

	snprintf(dev, sizeof(dev), "net_pcap0,rx_pcap=%s", corpus_pcap[2]);
	CHECK(lc_port_inspect(dev, &p, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "is not Ethernet");
	CHECK(lc_port_inspect("net_pcap0,rx_pcap=/nonexistent.pcap", &p, err, sizeof(err)) < 0);
	CHECK_STR_HAS(err, "/nonexistent.pcap");
}

static void
test_plan(void)
{
	struct lc_config cfg = { .snaplen = 262144 };
	struct lc_capture_plan plan;
	char dev[2048], err[512];

	cfg.interface = "net_null0";
	CHECK(lc_capture_plan(&cfg, &plan, err, sizeof(err)) == 0);
	CHECK_EQ_U64(plan.queues, 1);
	CHECK_EQ_U64(plan.writers, 1);
	/* No packet waits in an mbuf for the writer: descriptors and a few bursts. */
	CHECK(plan.mbufs >= LC_RX_DESC + 4 * LC_RX_BURST && plan.mbufs < 8192);
	CHECK(plan.mem_bytes > (uint64_t)plan.mbufs * 2304 + plan.buffer_bytes);
	CHECK(plan.buffer_bytes >= LC_QUEUE_MIN_BYTES && plan.buffer_bytes % LC_CHUNK_SIZE == 0);
	cfg.buffer_bytes = (5ull << 20) + 1;	/* whole chunks */
	CHECK(lc_capture_plan(&cfg, &plan, err, sizeof(err)) == 0);
	CHECK_EQ_U64(plan.buffer_bytes, 6ull << 20);
	/* More than the machine has (16 queues of 64 GiB: 1 TiB): refused before EAL, in one
	 * line, not a capture the kernel kills once its buffers fill. */
	cfg.buffer_bytes = 64ull << 30;
	cfg.queues = 16;
	CHECK(lc_capture_plan(&cfg, &plan, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "-B 65536 MiB: 16 queues of it and the packet buffers need");
	CHECK_STR_HAS(err, "give a smaller -B");
	cfg.queues = 0;
	cfg.buffer_bytes = 0;

	/* One queue per replay file by default; an infinite replay's packets are added. */
	snprintf(dev, sizeof(dev), "net_pcap0,rx_pcap=%s,rx_pcap=%s,infinite_rx=1",
		 corpus_pcap[0], corpus_pcap[1]);
	cfg.interface = dev;
	CHECK(lc_capture_plan(&cfg, &plan, err, sizeof(err)) == 0);
	CHECK_EQ_U64(plan.queues, 2);
	struct lc_capture_plan base = plan;
	cfg.queues = 3;
	CHECK(lc_capture_plan(&cfg, &plan, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "--queues 3: port net_pcap0 replays 2 files");
	cfg.queues = 0;

	/* Ten queues, writers default to one per four queues. */
	cfg.interface = "net_null0";
	cfg.queues = 10;
	CHECK(lc_capture_plan(&cfg, &plan, err, sizeof(err)) == 0);
	CHECK_EQ_U64(plan.writers, 3);
	CHECK(plan.mbufs > 10 * LC_RX_DESC);
	cfg.mbufs = 5000;
	CHECK(lc_capture_plan(&cfg, &plan, err, sizeof(err)) == 0);
	CHECK_EQ_U64(plan.mbufs, 5000);
	CHECK(base.mbufs >= 13 + 2 * LC_RX_DESC);
}

/* -B by default: 256 MiB a queue where hugepages have room, else a share of them, else
 * normal memory. */
static void
test_default_buffer(void)
{
	const uint64_t M = 1ull << 20, G = 1ull << 30;

	CHECK_EQ_U64(lc_capture_default_buffer(0, 16 * G, 100 * M, 1), 256 * M);
	CHECK_EQ_U64(lc_capture_default_buffer(8192 * M, 0, 100 * M, 4), 256 * M);
	CHECK_EQ_U64(lc_capture_default_buffer(1024 * M, 0, 200 * M, 4), 103 * M);
	/* Hugepages too few (12 MiB each): normal memory, a quarter of it shared. */
	CHECK_EQ_U64(lc_capture_default_buffer(1024 * M, 16 * G, 1000 * M, 1), 256 * M);
	CHECK_EQ_U64(lc_capture_default_buffer(0, 2 * G, 100 * M, 4), 128 * M);
	CHECK_EQ_U64(lc_capture_default_buffer(0, 512 * M, 100 * M, 4), 32 * M);
	CHECK_EQ_U64(lc_capture_default_buffer(0, 8 * M, 100 * M, 4), 4 * M);	/* the least */
}

/* Both tests with corpus dir's files; -1 if it has none. */
static int
run_corpus(const char *c)
{
	const char *names[4] = { "dns_tcp.pcap", "802.1ad_QinQ.pcap", "LINKTYPE_RAW_ipv4.pcap",
				 "derived-dns_tcp-cut.pcap" };
	char probe[600];
	FILE *f;

	snprintf(probe, sizeof(probe), "%s/filters.txt", c);
	f = fopen(probe, "r");
	if (f == NULL)
		return -1;
	fclose(f);
	for (int i = 0; i < 4; i++)
		snprintf(corpus_pcap[i], sizeof(corpus_pcap[i]), "%s/pcaps/%s", c, names[i]);
	test_inspect();
	test_plan();
	test_default_buffer();
	return 0;
}

int
main(void)
{
	const char *gen = getenv("LC_CORPUS"), *extra = getenv("LC_CORPUS_EXTRA");

	if (gen == NULL)
		gen = LC_SOURCE_ROOT "/tests/corpus";
	if (run_corpus(gen) < 0) {
		fprintf(stderr, "the generated corpus is missing at %s\n", gen);
		CHECK(0);
	}
	if (extra == NULL || run_corpus(extra) < 0)
		fprintf(stderr, "no third-party corpus at '%s': the generated corpus only\n",
			extra ? extra : "");
	return lc_test_done("test_plan");
}
