/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>

#include "linecap/config.h"

enum {
	OPT_QUEUES = 256,
	OPT_WRITERS,
	OPT_DURATION,
	OPT_EAL,
	OPT_STATS_FILE,
	OPT_RING_SIZE,
	OPT_MBUFS,
	OPT_VERSION,
	OPT_FILTER_ENGINE,
	OPT_FORMAT,
	OPT_RETAIN_BYTES,
	OPT_FSYNC_INTERVAL,
};

static const struct option long_opts[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "write", required_argument, NULL, 'w' },
	{ "snaplen", required_argument, NULL, 's' },
	{ "count", required_argument, NULL, 'c' },
	{ "queues", required_argument, NULL, OPT_QUEUES },
	{ "writers", required_argument, NULL, OPT_WRITERS },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "eal", required_argument, NULL, OPT_EAL },
	{ "stats-file", required_argument, NULL, OPT_STATS_FILE },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "mbufs", required_argument, NULL, OPT_MBUFS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "filter-file", required_argument, NULL, 'F' },
	{ "filter-engine", required_argument, NULL, OPT_FILTER_ENGINE },
	{ "dump-filter", no_argument, NULL, 'd' },
	{ "file-size", required_argument, NULL, 'C' },
	{ "rotate-seconds", required_argument, NULL, 'G' },
	{ "file-count", required_argument, NULL, 'W' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "retain-bytes", required_argument, NULL, OPT_RETAIN_BYTES },
	{ "fsync-interval", required_argument, NULL, OPT_FSYNC_INTERVAL },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
"Usage: linecap -i DEV -w PATH [options] [filter expression]\n"
"\n"
"Capture packets from a DPDK port into nanosecond pcap shards, one stream of files per\n"
"RX queue, keeping the packets that match a tcpdump filter expression.\n"
"\n"
"  -i, --interface DEV   port to capture from: a PCI address (0000:3b:00.0) or a DPDK\n"
"                        virtual device (net_pcap0,rx_pcap=f.pcap  net_ring0\n"
"                        net_memif0,role=server  net_af_packet0,iface=veth1)\n"
"  -w, --write PATH      where files go. A directory (created with mode 0750 if missing)\n"
"                        gets files named after it: -w /data/case42 writes\n"
"                        /data/case42/case42-q00-000001.pcap. A PATH ending in .pcap is a\n"
"                        prefix in an existing directory: -w /data/x.pcap writes\n"
"                        /data/x-q00-000001.pcap. Open files end in .part until closed.\n"
"  -s, --snaplen N       bytes kept per packet, 64..262144 (0 means 262144; default 262144)\n"
"  -c, --count N         stop after N packets have been written\n"
"      --duration SECS   stop after SECS seconds (decimals allowed)\n"
"  -C, --file-size N     cut a queue's file once it holds N million bytes (decimals\n"
"                        allowed: -C 0.5 is 500000 bytes); the next file gets the next number\n"
"  -G, --rotate-seconds S\n"
"                        cut every queue's file at each multiple of S seconds of wall time,\n"
"                        so file sets line up; strftime patterns in a -w prefix are expanded\n"
"                        with the period's start (-w /data/cap-%H%M.pcap). With -C too,\n"
"                        whichever comes first cuts the file\n"
"  -W, --file-count N    with -C or -G: keep at most N files per queue, the one being\n"
"                        written included; the oldest is deleted (ring buffer). Unlike\n"
"                        tcpdump's -G -W, it never stops the capture\n"
"      --retain-bytes SIZE\n"
"                        keep the capture's files and manifest within SIZE bytes (suffixes\n"
"                        K M G T, powers of 1000, or Ki Mi Gi Ti): oldest closed file first\n"
"      --format F        pcap (nanosecond, default) or pcapng (default when -w ends in\n"
"                        .pcapng)\n"
"      --fsync-interval SECS\n"
"                        force open files to disk this often (default: only at close)\n"
"      --queues N        RX queues, one RX core each (default: 1, or one per rx_pcap file\n"
"                        of a net_pcap device); RSS with a symmetric key when N > 1\n"
"      --writers N       writer cores, each owning whole queues (default: one per 4 queues)\n"
"      --ring-size N     packets each RX->writer ring holds, a power of two 64..1048576\n"
"                        (default 16384)\n"
"      --mbufs N         packet buffers in the pool (default: sized from queues, rings and\n"
"                        any net_pcap replay file)\n"
"      --stats-file FILE write the final counters as JSON to FILE\n"
"      --eal 'ARGS'      extra DPDK EAL arguments; lcores, memory, file prefix and devices\n"
"                        are derived and need not be given\n"
"  -F, --filter-file FILE\n"
"                        read the filter expression from FILE ('#' starts a comment);\n"
"                        SIGHUP re-reads it while capturing. The DPDK telemetry command\n"
"                        /linecap/filter,EXPR sets one live (dpdk-telemetry.py -f linecap_PID)\n"
"      --filter-engine E jit (default on x86-64) or interp (libpcap's interpreter)\n"
"  -d, --dump-filter     print the compiled filter and the size of its machine code, then\n"
"                        exit without touching a port; -dd also prints the code bytes\n"
"  -v, --verbose         more messages (repeat for DPDK's own logs)\n"
"  -h, --help            this text\n"
"      --version         print the version\n"
"\n"
"Every closed file is hashed (SHA-256) into DIR/manifest.jsonl; check a capture with\n"
"linecap-verify, merge its shards with linecap-merge.\n"
"The filter is tcpdump syntax (pcap-filter(7)), e.g. 'host 192.168.1.100 and port 443'.\n"
"Without -c or --duration the capture runs until SIGINT or SIGTERM; a net_pcap replay\n"
"without infinite_rx=1 stops by itself at the end of its files. The summary goes to\n"
"stderr. Exit status: 0 done, 1 runtime failure, 2 bad usage or input.\n";

const char *
lc_config_usage(void)
{
	return usage_text;
}

/* Parse an unsigned decimal in [min, max]; tcpdump-style message on failure. */
static int
parse_u64(const char *opt, const char *val, uint64_t min, uint64_t max, const char *what,
	  uint64_t *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (val[0] == '-' || val[0] == '\0')
		goto bad;
	v = strtoull(val, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	if (v < min || v > max) {
		snprintf(err, errlen, "%s %s: %s must be between %" PRIu64 " and %" PRIu64,
			 opt, val, what, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
bad:
	snprintf(err, errlen, "%s '%s': %s must be a whole number", opt, val, what);
	return -EINVAL;
}

/* A positive decimal number of seconds (or of millions of bytes) as thousandths. */
static int
parse_decimal(const char *opt, const char *val, double max, double *out, char *err,
	      size_t errlen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(val, &end);
	if (errno != 0 || end == val || *end != '\0' || !isfinite(d)) {
		snprintf(err, errlen, "%s '%s': must be a number", opt, val);
		return -EINVAL;
	}
	if (d <= 0 || d > max) {
		snprintf(err, errlen, "%s %s: must be more than 0 and at most %.0f", opt, val, max);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

/* Bytes with an optional suffix: K M G T (powers of 1000) or Ki Mi Gi Ti (of 1024), a
 * trailing B allowed, any case. */
static int
parse_size(const char *opt, const char *val, uint64_t *out, char *err, size_t errlen)
{
	static const char units[] = "kmgt";
	char *end, suffix[8];
	double d, mult = 1;
	const char *u;
	size_t n;

	errno = 0;
	d = strtod(val, &end);
	n = strlen(end);
	if (n < sizeof(suffix)) {
		for (size_t i = 0; i <= n; i++)
			suffix[i] = (char)tolower((unsigned char)end[i]);
		if (n > 0 && suffix[n - 1] == 'b' && n > 1)
			suffix[--n] = '\0';
		if (n > 0 && (u = strchr(units, suffix[0])) != NULL && suffix[0] != '\0') {
			int power = (int)(u - units) + 1;

			if (n == 1)
				mult = pow(1000, power), end += strlen(end);
			else if (n == 2 && suffix[1] == 'i')
				mult = pow(1024, power), end += strlen(end);
		}
	}
	if (errno != 0 || end == val || *end != '\0' || !isfinite(d) || d <= 0 ||
	    d * mult > 1e18) {
		snprintf(err, errlen, "%s '%s': must be a size in bytes, like 500M or 2Gi", opt,
			 val);
		return -EINVAL;
	}
	*out = (uint64_t)(d * mult);
	return 0;
}

/* Join trailing arguments with single spaces, as tcpdump does. */
static char *
join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (s == NULL)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int
is_blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			return 0;
	return 1;
}

int
lc_config_parse(struct lc_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	uint64_t v;
	int c, rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->snaplen = LC_SNAPLEN_MAX;
	cfg->ring_size = LC_RING_DEFAULT;
	err[0] = '\0';

	optind = 0;	/* full getopt reset: callers (tests) may parse several times */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:w:s:c:F:C:G:W:dvh", long_opts, NULL)) != -1) {
		rc = 0;
		switch (c) {
		case 'i':
			if (optarg[0] == '\0') {
				snprintf(err, errlen, "-i: device must not be empty");
				return -EINVAL;
			}
			cfg->interface = optarg;
			break;
		case 'w':
			if (optarg[0] == '\0') {
				snprintf(err, errlen, "-w: path must not be empty");
				return -EINVAL;
			}
			cfg->write_path = optarg;
			break;
		case 's':
			rc = parse_u64("-s", optarg, 0, UINT32_MAX, "snaplen", &v, err, errlen);
			if (rc == 0 && v != 0 && (v < LC_SNAPLEN_MIN || v > LC_SNAPLEN_MAX))
				rc = -EINVAL;
			if (rc < 0 && strstr(err, "whole number") == NULL)
				snprintf(err, errlen, "-s %s: snaplen must be between %u and %u "
					 "(or 0 for %u)", optarg, LC_SNAPLEN_MIN, LC_SNAPLEN_MAX,
					 LC_SNAPLEN_MAX);
			cfg->snaplen = v == 0 ? LC_SNAPLEN_MAX : (uint32_t)v;
			break;
		case 'c':
			rc = parse_u64("-c", optarg, 1, UINT64_MAX >> 2, "count", &cfg->count,
				       err, errlen);
			break;
		case OPT_QUEUES:
			rc = parse_u64("--queues", optarg, 1, LC_QUEUES_MAX, "queues", &v, err,
				       errlen);
			cfg->queues = (unsigned int)v;
			break;
		case OPT_WRITERS:
			rc = parse_u64("--writers", optarg, 1, LC_WRITERS_MAX, "writers", &v, err,
				       errlen);
			cfg->writers = (unsigned int)v;
			break;
		case OPT_DURATION: {
			double d;

			rc = parse_decimal("--duration", optarg, 315360000.0, &d, err, errlen);
			cfg->duration_ms = (uint64_t)(d * 1000.0 + 0.5);
			if (rc == 0 && cfg->duration_ms == 0)
				cfg->duration_ms = 1;
			break;
		}
		case OPT_EAL:
			cfg->eal_args = optarg;
			break;
		case OPT_STATS_FILE:
			if (optarg[0] == '\0') {
				snprintf(err, errlen, "--stats-file: path must not be empty");
				return -EINVAL;
			}
			cfg->stats_file = optarg;
			break;
		case OPT_RING_SIZE:
			rc = parse_u64("--ring-size", optarg, LC_RING_MIN, LC_RING_MAX, "ring size",
				       &v, err, errlen);
			if (rc == 0 && (v & (v - 1)) != 0) {
				snprintf(err, errlen, "--ring-size %s: ring size must be a power of "
					 "two", optarg);
				rc = -EINVAL;
			}
			cfg->ring_size = (unsigned int)v;
			break;
		case OPT_MBUFS:
			rc = parse_u64("--mbufs", optarg, 1024, LC_MBUFS_MAX, "mbufs", &v, err,
				       errlen);
			cfg->mbufs = (unsigned int)v;
			break;
		case 'v':
			cfg->verbose++;
			break;
		case 'h':
			cfg->help = true;
			break;
		case OPT_VERSION:
			cfg->version = true;
			break;
		case 'F':
			cfg->filter_file = optarg;
			break;
		case OPT_FILTER_ENGINE:
			cfg->filter_engine = optarg;
			break;
		case 'd':
			cfg->dump++;
			break;
		case 'C': {
			double d;

			rc = parse_decimal("-C", optarg, 1e9, &d, err, errlen);
			cfg->file_bytes = (uint64_t)(d * 1e6);
			if (rc == 0 && cfg->file_bytes < 4096) {
				snprintf(err, errlen, "-C %s: files must hold at least 4096 bytes "
					 "(0.004096 million)", optarg);
				rc = -EINVAL;
			}
			break;
		}
		case 'G':
			rc = parse_u64("-G", optarg, 1, 366 * 86400, "rotation period", &cfg->rotate_secs,
				       err, errlen);
			break;
		case 'W':
			rc = parse_u64("-W", optarg, 1, 1000000, "file count", &v, err, errlen);
			cfg->max_files = (unsigned int)v;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "pcap") != 0 && strcmp(optarg, "pcapng") != 0) {
				snprintf(err, errlen, "--format %s: must be pcap or pcapng", optarg);
				rc = -EINVAL;
			}
			cfg->format = optarg;
			break;
		case OPT_RETAIN_BYTES:
			rc = parse_size("--retain-bytes", optarg, &cfg->retain_bytes, err, errlen);
			break;
		case OPT_FSYNC_INTERVAL: {
			double d;

			rc = parse_decimal("--fsync-interval", optarg, 86400, &d, err, errlen);
			cfg->fsync_ms = (uint64_t)(d * 1000 + 0.5);
			if (rc == 0 && cfg->fsync_ms == 0)
				cfg->fsync_ms = 1;
			break;
		}
		case ':':
			if (optopt != 0)
				snprintf(err, errlen, "-%c: option needs a value", optopt);
			else
				snprintf(err, errlen, "%s: option needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt != 0)
				snprintf(err, errlen, "-%c: unknown option (see --help)", optopt);
			else
				snprintf(err, errlen, "%s: unknown option (see --help)",
					 argv[optind - 1]);
			return -EINVAL;
		}
		if (rc < 0)
			return rc;
	}
	if (cfg->help || cfg->version)
		return 0;

	if (optind < argc) {
		cfg->filter = join_args(argc - optind, argv + optind);
		if (cfg->filter == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if (is_blank(cfg->filter)) {
			free(cfg->filter);
			cfg->filter = NULL;
		}
	}
	if (cfg->filter != NULL && cfg->filter_file != NULL) {
		snprintf(err, errlen, "-F %s: a filter file and an expression on the command line "
			 "('%s'): give one", cfg->filter_file, cfg->filter);
		return -EINVAL;
	}
	if (cfg->dump)
		return 0;	/* -d only compiles: no port, no output */
	if (cfg->interface == NULL) {
		snprintf(err, errlen, "no interface: give one with -i DEV (see --help)");
		return -EINVAL;
	}
	if (cfg->write_path == NULL) {
		snprintf(err, errlen, "no output: give a directory with -w PATH (see --help)");
		return -EINVAL;
	}
	if (cfg->max_files && !cfg->file_bytes && !cfg->rotate_secs) {
		snprintf(err, errlen, "-W %u: needs -C or -G (a file count of files cut how?)",
			 cfg->max_files);
		return -EINVAL;
	}
	if (cfg->format == NULL) {
		size_t n = strlen(cfg->write_path);

		cfg->format = n > 7 && strcmp(cfg->write_path + n - 7, ".pcapng") == 0 ?
			      "pcapng" : "pcap";
	}
	if (cfg->queues != 0 && cfg->writers > cfg->queues) {
		snprintf(err, errlen, "--writers %u: more writers than queues (%u)", cfg->writers,
			 cfg->queues);
		return -EINVAL;
	}
	return 0;
}

void
lc_config_release(struct lc_config *cfg)
{
	free(cfg->filter);
	cfg->filter = NULL;
}
