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


static volatile sig_atomic_t interrupted;

static const char usage[] =
"Usage: linecap-gen (-i DEV | -w FILE.pcap) [options]\n"
"\n"
"Send Ethernet/IPv4/UDP frames on a DPDK port (or write them to a pcap file), each tagged\n"
"with the generator id, its flow and a per-flow sequence number (linecap-seqcheck counts\n"
"loss from them).\n"
"\n"
"  -i, --interface DEV    DPDK port to send on (PCI address or vdev: net_memif0,...)\n"
"  -w, --write FILE       write a nanosecond pcap instead (needs -c)\n"
"      --size N           frame size without FCS, 60..9600 (default 60)\n"
"      --imix             IMIX: 7:4:1 of 64, 570, 1518-byte frames\n"
"      --pcap FILE        send the frames of FILE, in a loop (untagged)\n"
"      --flows N          5-tuples to spread over (default 1024)\n"
"      --evidence-fraction F\n"
"                         share of frames on the evidence 5-tuple (default 0.01)\n"
"      --evidence IP:PORT the evidence destination (default 192.168.1.100:443)\n"
"      --vlan VID         802.1Q tag\n"
"      --rst-fraction F   share of frames sent as TCP RST instead of UDP (default 0)\n"
"      --rate PPS         packets per second, paced with the TSC (default: unlimited)\n"
"      --rate-bps BPS     bits per second on the wire (suffix k, M, G)\n"
"      --duration SECS    stop after SECS seconds\n"
"  -c, --count N          stop after N frames\n"
"      --id N             generator id, 0..65535 (default 1)\n"
"      --stats-file FILE  sent counts as JSON (total and per flow)\n"
"      --eal 'ARGS'       extra DPDK EAL arguments\n"
"  -h, --help, --version\n"
"\n"
"Exit status: 0 done, 1 runtime failure, 2 bad usage or input.\n";

struct opts {
	struct lc_gen_config g;
	const char *dev, *file, *eal, *stats;
	double pps;
	double bps;
	double duration;
	uint64_t count;
};

static int
die(int status, const char *msg)
{
	fprintf(stderr, "linecap-gen: %s\n", msg);
	return status;
}

static double
parse_rate(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v <= 0)
		return -1;
	if (*end == 'k' || *end == 'K')
		v *= 1e3, end++;
	else if (*end == 'M' || *end == 'm')
		v *= 1e6, end++;
	else if (*end == 'G' || *end == 'g')
		v *= 1e9, end++;
	return *end == '\0' ? v : -1;
}

static void
on_signal(int sig)
{
	interrupted = 1;
	signal(sig, SIG_DFL);
}

static int
parse(int argc, char **argv, struct opts *o, char *err, size_t errlen)
{
	static const struct option lo[] = {
		{ "interface", required_argument, NULL, 'i' }, { "write", required_argument, NULL, 'w' },
		{ "size", required_argument, NULL, 's' }, { "imix", no_argument, NULL, 'I' },
		{ "pcap", required_argument, NULL, 'P' }, { "flows", required_argument, NULL, 'f' },
		{ "evidence-fraction", required_argument, NULL, 'e' },
		{ "evidence", required_argument, NULL, 'E' }, { "vlan", required_argument, NULL, 'v' },
		{ "rst-fraction", required_argument, NULL, 'R' },
		{ "rate", required_argument, NULL, 'r' }, { "rate-bps", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' }, { "count", required_argument, NULL, 'c' },
		{ "id", required_argument, NULL, 'n' }, { "stats-file", required_argument, NULL, 'S' },
		{ "eal", required_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	unsigned int a, b, c, d, port;
	int ch;

	*o = (struct opts){ .g = { .mode = "fixed", .size = 60, .flows = 1024, .evidence = 0.01,
				   .evidence_ip = 0xc0a80164, .evidence_port = 443, .id = 1 } };
	while ((ch = getopt_long(argc, argv, ":i:w:c:h", lo, NULL)) != -1) {
		char *end = NULL;

		switch (ch) {
		case 'i': o->dev = optarg; break;
		case 'w': o->file = optarg; break;
		case 's': o->g.size = (uint32_t)strtoul(optarg, &end, 10); break;
		case 'I': o->g.mode = "imix"; break;
		case 'P': o->g.mode = "pcap"; o->g.pcap = optarg; break;
		case 'f': o->g.flows = (uint32_t)strtoul(optarg, &end, 10); break;
		case 'e': o->g.evidence = strtod(optarg, &end); break;
		case 'R': o->g.rst = strtod(optarg, &end); if (o->g.rst < 0 || o->g.rst > 1) goto bad; break;
		case 'E':
			if (sscanf(optarg, "%u.%u.%u.%u:%u", &a, &b, &c, &d, &port) != 5 || a > 255 ||
			    b > 255 || c > 255 || d > 255 || port > 65535) {
				snprintf(err, errlen, "--evidence %s: must be IPv4:PORT", optarg);
				return -EINVAL;
			}
			o->g.evidence_ip = a << 24 | b << 16 | c << 8 | d;
			o->g.evidence_port = (uint16_t)port;
			break;
		case 'v': o->g.vlan = (uint16_t)strtoul(optarg, &end, 10); break;
		case 'r': o->pps = parse_rate(optarg); if (o->pps < 0) goto bad; break;
		case 'b': o->bps = parse_rate(optarg); if (o->bps < 0) goto bad; break;
		case 'd': o->duration = strtod(optarg, &end); if (o->duration <= 0) goto bad; break;
		case 'c': o->count = strtoull(optarg, &end, 10); if (o->count == 0) goto bad; break;
		case 'n': o->g.id = (uint16_t)strtoul(optarg, &end, 10); break;
		case 'S': o->stats = optarg; break;
		case 'a': o->eal = optarg; break;
		case 'h': fputs(usage, stdout); exit(0);
		case 'V': printf("linecap-gen %s\n", LC_VERSION); exit(0);
		default:
			snprintf(err, errlen, "%s: unknown option or missing value (see --help)",
				 argv[optind - 1]);
			return -EINVAL;
		}
		if (end != NULL && *end != '\0')
			goto bad;
		continue;
bad:
		snprintf(err, errlen, "%s '%s': not a valid value (see --help)", argv[optind - 1],
			 optarg);
		return -EINVAL;
	}
	if ((o->dev == NULL) == (o->file == NULL)) {
		snprintf(err, errlen, "give a port with -i or a file with -w (one of them)");
		return -EINVAL;
	}
	if (o->file && o->count == 0) {
		snprintf(err, errlen, "-w %s: needs -c (how many frames)", o->file);
		return -EINVAL;
	}
	if (o->g.vlan > 4095) {
		snprintf(err, errlen, "--vlan %u: must be 0..4095", o->g.vlan);
		return -EINVAL;
	}
	return 0;
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

	if (parse(argc, argv, &o, err, sizeof(err)) < 0)
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
	lc_gen_sender_release(&s);
	lc_gen_free(g);
	lc_eal_stop();
	return rc;
}
