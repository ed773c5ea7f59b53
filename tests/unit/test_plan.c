/* SPDX-License-Identifier: BSD-3-Clause */
/* What linecap learns before EAL: replay files (link type, packet counts), queue and writer
 * counts, and a pool large enough for an infinite replay with the defaults. The replay files
 * come from the generated corpus (LC_CORPUS), then from ../shared/corpus where present
 * (LC_CORPUS_EXTRA): both hold files of these names and counts. */
#include <sys/stat.h>
#include <unistd.h>

#include "lc_test.h"

#include "linecap/capture.h"
#include "queue.h"
#include "rx.h"
#include "port.h"
#include "readsrc.h"

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

/* -i NAME: a kernel interface gets an AF_XDP (or AF_PACKET) device string; a name that is
 * nothing is one line; AF_XDP's queues are its channels; AF_XDP's fill ring is in the pool. */
static void
test_kernel_interface(void)
{
	struct lc_port_plan p;
	struct lc_kif k;
	char err[512], warn[512];
	unsigned int q = 0;
	int rc;

	CHECK(lc_port_inspect("eth9nope", &p, err, sizeof(err)) == -ENODEV);
	CHECK_STR_HAS(err, "-i eth9nope: no such interface (not a PCI address, a DPDK vdev, or "
		      "a kernel interface; linecap -D lists them)");
	CHECK(lc_port_inspect("af_xdp:", &p, err, sizeof(err)) == -ENODEV);
	CHECK(lc_port_inspect("net_af_xdp0,iface=lo", &p, err, sizeof(err)) == 0);
	CHECK(p.kif.ifname[0] == '\0' && strcmp(p.driver, "net_af_xdp") == 0);
	CHECK_EQ_U64(p.held_per_queue, LC_AF_XDP_FILL_MBUFS);

	/* lo is in every network namespace; capturing it takes CAP_NET_RAW. */
	rc = lc_port_inspect("af_packet:lo", &p, err, sizeof(err));
	if (geteuid() == 0) {
		CHECK(rc == 0);
		CHECK(strcmp(p.kif.ifname, "lo") == 0 && p.kif.path == LC_KIF_AF_PACKET);
		CHECK_STR_HAS(p.devargs, "net_af_packet0,iface=lo,qpairs=1,");
		CHECK(strcmp(p.name, "net_af_packet0") == 0 && p.held_per_queue == 0);
		CHECK(lc_port_inspect("lo", &p, err, sizeof(err)) == 0);
		CHECK(strcmp(p.kif.ifname, "lo") == 0 && p.kif.rx_queues >= 1);
		if (p.kif.path == LC_KIF_AF_XDP) {
			CHECK(strcmp(p.devargs, "net_af_xdp0,iface=lo,start_queue=0,queue_count=1")
			      == 0);
			CHECK_EQ_U64(p.held_per_queue, LC_AF_XDP_FILL_MBUFS);
		}
	} else {
		CHECK(rc == -EPERM);
		CHECK_STR_HAS(err, "takes root");
	}

	memset(&k, 0, sizeof(k));
	snprintf(k.ifname, sizeof(k.ifname), "lcv1");
	k.path = LC_KIF_AF_XDP;
	k.rx_queues = k.xdp_queues = 2;
	CHECK(lc_kif_queues(&k, 0, &q, warn, sizeof(warn), err, sizeof(err)) == 0);
	CHECK(q == 2 && warn[0] == '\0');
	CHECK(lc_kif_queues(&k, 3, &q, warn, sizeof(warn), err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "--queues 3: lcv1 has 2 RX channels for AF_XDP (give it more with "
		      "ethtool -L lcv1 combined 3");
	CHECK(lc_kif_queues(&k, 1, &q, warn, sizeof(warn), err, sizeof(err)) == 0);
	CHECK(q == 1);
	CHECK_STR_HAS(warn, "channels 1..1 are not captured");
	k.path = LC_KIF_AF_PACKET;	/* fanout: any number of sockets sees every queue */
	CHECK(lc_kif_queues(&k, 3, &q, warn, sizeof(warn), err, sizeof(err)) == 0 && q == 3);
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

/* A copy of the file at from, at to. */
static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	size_t n;
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");

	CHECK(in != NULL && out != NULL);
	while (in != NULL && out != NULL && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		CHECK(fwrite(buf, 1, n, out) == n);
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
}

/* -r: files and directories (their capture files by name, nothing hidden or unfinished, no
 * link followed), each opened once; Ethernet only; one queue, the reader's mbufs in the
 * pool. */
static void
test_read_plan(void)
{
	char dir[] = "/tmp/lc_plan_XXXXXX", p[600], empty[700], err[512];
	const char *names[] = { "b.pcap", "a.pcapng", ".hidden.pcap", "c.pcap.part", "d.txt",
				"e.pcap" };
	struct lc_config cfg = { .snaplen = 262144 };
	struct lc_capture_plan plan;
	struct lc_read_plan rp;
	const char *given[3];

	CHECK(mkdtemp(dir) != NULL);
	for (size_t i = 0; i < RTE_DIM(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		if (strcmp(names[i], "e.pcap") == 0)
			CHECK(symlink(corpus_pcap[0], p) == 0);	/* a link: not followed */
		else
			copy_file(corpus_pcap[0], p);
	}
	given[0] = corpus_pcap[3];
	given[1] = dir;
	CHECK(lc_read_plan(given, 2, &rp, err, sizeof(err)) == 0);
	CHECK_EQ_U64(rp.n, 3);
	if (rp.n == 3) {
		snprintf(p, sizeof(p), "%s/a.pcapng", dir);
		CHECK(strcmp(rp.paths[0], corpus_pcap[3]) == 0 && strcmp(rp.paths[1], p) == 0);
		snprintf(p, sizeof(p), "%s/b.pcap", dir);
		CHECK(strcmp(rp.paths[2], p) == 0);
	}
	CHECK(rp.snaplen >= 64 && rp.bytes > 0);
	CHECK_EQ_U64(rp.skipped, 1);
	lc_read_plan_release(&rp);

	given[0] = corpus_pcap[2];	/* LINKTYPE_RAW */
	CHECK(lc_read_plan(given, 1, &rp, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "link type RAW: linecap reads Ethernet captures");
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	CHECK(mkdir(empty, 0700) == 0);
	given[0] = empty;
	CHECK(lc_read_plan(given, 1, &rp, err, sizeof(err)) == -ENOENT);
	CHECK_STR_HAS(err, "no .pcap or .pcapng file in this directory");
	given[0] = "-";
	given[1] = corpus_pcap[0];
	CHECK(lc_read_plan(given, 2, &rp, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "standard input is read alone");
	given[0] = "/nonexistent/x.pcap";
	CHECK(lc_read_plan(given, 1, &rp, err, sizeof(err)) < 0);
	CHECK_STR_HAS(err, "-r /nonexistent/x.pcap: No such file or directory");

	cfg.read[0] = corpus_pcap[0];
	cfg.nread = 1;
	CHECK(lc_capture_plan(&cfg, &plan, err, sizeof(err)) == 0);
	CHECK(plan.read != NULL && plan.read->n == 1 && plan.queues == 1);
	CHECK(strcmp(plan.port.name, "net_ring_lc_read") == 0);
	CHECK(plan.mbufs >= LC_READ_RING + LC_RX_DESC);
	lc_capture_plan_release(&plan);
	CHECK(plan.read == NULL);
	cfg.queues = 2;
	CHECK(lc_capture_plan(&cfg, &plan, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "--queues 2: -r reads its files in order, into one queue");
	cfg.queues = 0;
	cfg.rotate_secs = 60;
	CHECK(lc_capture_plan(&cfg, &plan, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "with -r, cut them with -C");
	lc_capture_plan_release(&plan);

	for (size_t i = 0; i < RTE_DIM(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(empty);
	rmdir(dir);
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
	test_read_plan();
	test_default_buffer();
	return 0;
}

int
main(void)
{
	const char *gen = getenv("LC_CORPUS"), *extra = getenv("LC_CORPUS_EXTRA");

	if (gen == NULL)
		gen = LC_SOURCE_ROOT "/tests/corpus";
	test_kernel_interface();
	if (run_corpus(gen) < 0) {
		fprintf(stderr, "the generated corpus is missing at %s\n", gen);
		CHECK(0);
	}
	if (extra == NULL || run_corpus(extra) < 0)
		fprintf(stderr, "no third-party corpus at '%s': the generated corpus only\n",
			extra ? extra : "");
	return lc_test_done("test_plan");
}
