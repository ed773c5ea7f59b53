/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lc_version.h"
#include "options.h"

static const char usage[] =
"Usage: linecap-gen (-i DEV | -w FILE.pcap) [options]\n"
"\n"
"Send Ethernet frames, UDP over IPv4 or IPv6 (TCP RST on request), on a DPDK port (or\n"
"write them to a pcap file), each tagged with the generator id, its flow and a per-flow\n"
"sequence number (linecap-seqcheck counts loss from them).\n"
"\n"
"  -i, --interface DEV    DPDK port to send on (PCI address or vdev: net_memif0,...)\n"
"  -w, --write FILE       write a nanosecond pcap instead (needs -c); an existing FILE,\n"
"                         or a symbolic link there, is refused\n"
"      --size N           frame size without FCS, 60..9600 (default 60)\n"
"      --imix             IMIX: 7:4:1 of 64, 570, 1518-byte frames\n"
"      --pcap FILE        send the frames of FILE, in a loop (untagged)\n"
"      --flows N          5-tuples to spread over (default 1024)\n"
"      --evidence-fraction F\n"
"                         share of frames on the evidence 5-tuple (default 0.01)\n"
"      --evidence IP:PORT the evidence destination (default 192.168.1.100:443)\n"
"      --vlan VID         802.1Q tag\n"
"      --rst-fraction F   share of frames sent as TCP RST instead of UDP (default 0)\n"
"      --ipv6-fraction F  share of the flows that are IPv6 (default 0; their frames are\n"
"                         at least 78 bytes; the evidence flow stays IPv4)\n"
"      --rate PPS         packets per second, paced with the TSC (default: unlimited)\n"
"      --rate-bps BPS     bits per second on the wire (suffix k, M, G)\n"
"      --duration SECS    stop after SECS seconds\n"
"  -c, --count N          stop after N frames\n"
"      --linger SECS      once done sending (and the summary and --stats-file written),\n"
"                         keep the port open up to SECS seconds, until the peer leaves\n"
"                         (link down) or SIGINT/SIGTERM: a memif receiver can be stopped\n"
"                         before this side disconnects\n"
"      --id N             generator id, 0..65535 (default 1)\n"
"      --stats-file FILE  sent counts as JSON (total and per flow); written as a new\n"
"                         file renamed into place (a symbolic link there is refused)\n"
"      --eal 'ARGS'       extra DPDK EAL arguments\n"
"  -h, --help, --version\n"
"\n"
"Exit status: 0 done, 1 runtime failure, 2 bad usage or input.\n";

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

int
lc_gen_parse(int argc, char **argv, struct opts *o, char *err, size_t errlen)
{
	static const struct option lo[] = {
		{ "interface", required_argument, NULL, 'i' }, { "write", required_argument, NULL, 'w' },
		{ "size", required_argument, NULL, 's' }, { "imix", no_argument, NULL, 'I' },
		{ "pcap", required_argument, NULL, 'P' }, { "flows", required_argument, NULL, 'f' },
		{ "evidence-fraction", required_argument, NULL, 'e' },
		{ "evidence", required_argument, NULL, 'E' }, { "vlan", required_argument, NULL, 'v' },
		{ "rst-fraction", required_argument, NULL, 'R' },
		{ "ipv6-fraction", required_argument, NULL, '6' },
		{ "rate", required_argument, NULL, 'r' }, { "rate-bps", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' }, { "count", required_argument, NULL, 'c' },
		{ "linger", required_argument, NULL, 'L' },
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
		case '6': o->g.ipv6 = strtod(optarg, &end); if (o->g.ipv6 < 0 || o->g.ipv6 > 1) goto bad; break;
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
		case 'L': o->linger = strtod(optarg, &end); if (o->linger <= 0) goto bad; break;
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
		/* Name the option as the table spells it: argv[optind - 1] is the value when
		 * option and value are two arguments. */
		for (const struct option *l = lo; l->name != NULL; l++)
			if (l->val == ch) {
				snprintf(err, errlen, "--%s '%s': not a valid value (see --help)",
					 l->name, optarg);
				return -EINVAL;
			}
		snprintf(err, errlen, "-%c '%s': not a valid value (see --help)", ch, optarg);
		return -EINVAL;
	}
	if ((o->dev == NULL) == (o->file == NULL)) {
		snprintf(err, errlen, "give a port with -i or a file with -w (one of them)");
		return -EINVAL;
	}
	if (o->file && o->linger > 0) {
		snprintf(err, errlen, "--linger: needs a port (-i), not a file");
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

