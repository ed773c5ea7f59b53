/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap-gen: testpmd-style traffic on any DPDK port (or into a pcap file), every frame
 * tagged with generator id, flow and per-flow sequence for loss accounting.
 * parse -> generator -> (file | EAL + port) -> send loop on a worker lcore -> summary.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "lc_version.h"
#include "linecap/eal_args.h"
#include "linecap/gen.h"
#include "linecap/gen_sender.h"
#include "linecap/outpath.h"
#include "options.h"

static volatile sig_atomic_t interrupted;

static int
die(int status, const char *msg)
{
	fprintf(stderr, "linecap-gen: %s\n", msg);
	return status;
}

static void
on_signal(int sig)
{
	interrupted = 1;
	signal(sig, SIG_DFL);
}

/* --linger: the port stays open (a memif peer stays connected) after the sending is done,
 * until secs have passed, the link goes down (the peer left) or a signal comes. */
static void
linger(uint16_t port, double secs)
{
	const uint64_t t0 = rte_rdtsc(), hz = rte_get_tsc_hz();

	fprintf(stderr, "linecap-gen: done sending; the port stays open up to %g s, until the "
		"peer leaves\n", secs);
	while (!interrupted && (double)(rte_rdtsc() - t0) / hz < secs) {
		struct rte_eth_link l = { 0 };

		if (rte_eth_link_get_nowait(port, &l) == 0 && !l.link_status)
			break;
		usleep(20000);
	}
}

int
main(int argc, char **argv)
{
	static struct lc_eal_args ea;
	struct opts o;
	struct lc_gen_sender s;
	struct lc_gen *g;
	char err[1024];
	int cpus[1024], rc;
	unsigned int lcore;

	signal(SIGPIPE, SIG_IGN);	/* a memif peer that leaves is an error, not the end */
	if (lc_gen_parse(argc, argv, &o, err, sizeof(err)) < 0)
		return die(2, err);
	if (o.stats && lc_outpath_file_check("--stats-file", o.stats, err, sizeof(err)) < 0)
		return die(2, err);
	g = lc_gen_create(&o.g, err, sizeof(err));
	if (g == NULL)
		return die(2, err);
	if (lc_gen_sender_init(&s, g, o.g.flows) < 0)
		return die(1, "out of memory");
	if (o.file) {
		rc = lc_gen_sender_to_file(&s, o.file, o.count, err, sizeof(err));
		if (rc == 0)
			fprintf(stderr, "linecap-gen: wrote %llu frames to %s\n",
				(unsigned long long)o.count, o.file);
		if (rc == 0 && o.stats && lc_gen_sender_stats(&s, o.g.id, 0, o.stats) < 0)
			rc = -EIO;
		lc_gen_sender_release(&s);
		lc_gen_free(g);
		return rc == 0 ? 0 : die(rc == -EIO ? 1 : 2, rc == -EIO ? "cannot write" : err);
	}

	struct lc_eal_plan ep = {
		.interface = o.dev, .rx_lcores = 1, .writer_lcores = 0, .cpus = cpus,
		.ncpus = lc_eal_allowed_cpus(cpus, 1024), .mem_bytes = 256ull << 20,
		.huge_free_bytes = lc_eal_huge_free_bytes(), .pid = (int)getpid(), .extra = o.eal,
		.prefix = "lcgen",
	};
	if (lc_eal_args_build(&ep, &ea, err, sizeof(err)) < 0)
		return die(2, err);
	if ((rc = lc_eal_start(&ea, 0, err, sizeof(err))) < 0) {
		char msg[1200];

		snprintf(msg, sizeof(msg), "-i %s: %s", o.dev, err);
		return die(rc == -ENODEV ? 2 : 1, msg);
	}
	uint16_t port = 0;
	if (rte_eth_dev_count_avail() != 1)
		return die(2, "-i: no such device (no DPDK port was found for it)");
	RTE_ETH_FOREACH_DEV(port)
		break;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (lc_gen_sender_port(&s, port, err, sizeof(err)) < 0) {
		lc_gen_sender_release(&s);
		lc_eal_stop();
		return die(1, err);
	}
	double avg = strcmp(o.g.mode, "imix") == 0 ? 353.83 : o.g.size + 4.0;
	s.pps = o.pps > 0 ? o.pps : o.bps > 0 ? o.bps / ((avg + 20) * 8) : 0;
	s.count = o.count;

	lcore = rte_get_next_lcore(-1, 1, 0);
	uint64_t t0 = rte_rdtsc(), last = t0, last_sent = 0, hz = rte_get_tsc_hz();
	rte_eal_remote_launch(lc_gen_sender_main, &s, lcore);
	while (!interrupted) {
		usleep(20000);
		uint64_t now = rte_rdtsc(), sent = __atomic_load_n(&s.sent, __ATOMIC_RELAXED);

		if (rte_eal_get_lcore_state(lcore) != RUNNING)
			break;
		if (o.duration > 0 && (double)(now - t0) / hz >= o.duration)
			break;
		if (now - last >= hz) {
			double dt = (double)(now - last) / hz, pps = (double)(sent - last_sent) / dt;

			fprintf(stderr, "linecap-gen: %.0fs sent %llu (%.3f Mpps, %.3f Gbit/s)\n",
				(double)(now - t0) / hz, (unsigned long long)sent, pps / 1e6,
				pps * (avg + 20) * 8 / 1e9);
			last = now;
			last_sent = sent;
		}
	}
	s.stop = 1;
	rte_eal_wait_lcore(lcore);
	double secs = (double)(rte_rdtsc() - t0) / hz;
	fprintf(stderr, "linecap-gen: sent %llu frames, %llu bytes in %.3f s (%.3f Mpps, %.3f "
		"Gbit/s on the wire)\n", (unsigned long long)s.sent, (unsigned long long)s.bytes,
		secs, (double)s.sent / secs / 1e6,
		((double)s.bytes + (double)s.sent * 24) * 8 / secs / 1e9);
	rc = o.stats && lc_gen_sender_stats(&s, o.g.id, secs, o.stats) < 0 ? 1 : 0;
	if (o.linger > 0 && !interrupted)
		linger(port, o.linger);
	lc_gen_sender_release(&s);
	lc_gen_free(g);
	lc_eal_stop();
	return rc;
}
