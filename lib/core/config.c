/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>
#include <rte_common.h>

#include "linecap/config.h"
#include "linecap/ini_scan.h"
#include "linecap/parse.h"

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
	OPT_CONFIG,
	OPT_PRINT_CONFIG,
	OPT_FILTER,		/* the trailing expression; "filter" in a config file */
	OPT_PROMETHEUS,
	OPT_CHECK_DISK,
	OPT_TIMESTAMPS,
	OPT_STATUS_INTERVAL,
};

/*
 * Every option once: its long name (the key in a config file), its code, the section of a
 * config file it belongs in ("" for command-line-only options) and what --print-config says
 * when it was not given. The order is --print-config's.
 */
static const struct opt {
	const char *name;
	int has_arg;
	int code;
	const char *section;
	const char *unset;	/* NULL: it has a default value (in default_value()) */
} opts[] = {
	{ "interface", required_argument, 'i', "capture", "(required)" },
	{ "queues", required_argument, OPT_QUEUES, "capture", "derived from the device" },
	{ "snaplen", required_argument, 's', "capture", NULL },
	{ "count", required_argument, 'c', "capture", "no limit" },
	{ "duration", required_argument, OPT_DURATION, "capture", "no limit" },
	{ "filter", required_argument, OPT_FILTER, "capture", "every packet" },
	{ "filter-file", required_argument, 'F', "capture", "none" },
	{ "filter-engine", required_argument, OPT_FILTER_ENGINE, "capture", NULL },
	{ "user", required_argument, 'Z', "capture", "stays root" },
	{ "timestamps", required_argument, OPT_TIMESTAMPS, "capture", NULL },
	{ "write", required_argument, 'w', "output", "(required)" },
	{ "format", required_argument, OPT_FORMAT, "output", NULL },
	{ "file-size", required_argument, 'C', "output", "no limit" },
	{ "rotate-seconds", required_argument, 'G', "output", "no rotation by time" },
	{ "file-count", required_argument, 'W', "output", "no limit" },
	{ "retain-bytes", required_argument, OPT_RETAIN_BYTES, "output", "no limit" },
	{ "fsync-interval", required_argument, OPT_FSYNC_INTERVAL, "output", "at close only" },
	{ "stats-file", required_argument, OPT_STATS_FILE, "output", "none" },
	{ "writers", required_argument, OPT_WRITERS, "tuning", "one per 4 queues" },
	{ "ring-size", required_argument, OPT_RING_SIZE, "tuning", NULL },
	{ "mbufs", required_argument, OPT_MBUFS, "tuning", "sized from queues and rings" },
	{ "eal", required_argument, OPT_EAL, "tuning", "none: all derived" },
	{ "verbose", no_argument, 'v', "log", NULL },
	{ "status-interval", required_argument, OPT_STATUS_INTERVAL, "log", NULL },
	{ "prometheus", required_argument, OPT_PROMETHEUS, "log", "no metrics endpoint" },
	{ "dump-filter", no_argument, 'd', "", NULL },
	{ "config", required_argument, OPT_CONFIG, "", NULL },
	{ "print-config", no_argument, OPT_PRINT_CONFIG, "", NULL },
	{ "check-disk", no_argument, OPT_CHECK_DISK, "", NULL },
	{ "help", no_argument, 'h', "", NULL },
	{ "version", no_argument, OPT_VERSION, "", NULL },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))
_Static_assert(NOPTS <= LC_CONFIG_OPTS, "lc_config.given is too small");

static const char *const sections[] = { "capture", "output", "tuning", "log" };

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
"                        K M G T, powers of 1000, or Ki Mi Gi Ti; at least 1Mi): oldest\n"
"                        closed file first. -W and --retain-bytes count and delete only\n"
"                        this capture's files (its -w prefix), never other prefixes'\n"
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
"      --stats-file FILE write the final counters as JSON to FILE (at the end, as a new\n"
"                        file renamed into place; a symbolic link there is refused)\n"
"  -Z, --user USER       once the port is started, stop being root and go on as USER (as\n"
"                        tcpdump -Z); what linecap creates (a -w directory it makes, the\n"
"                        manifest, the files) is given to USER; a directory that exists\n"
"                        keeps its owner and must be writable by USER\n"
"      --prometheus [ADDR:]PORT\n"
"                        serve the counters as Prometheus text at http://ADDR:PORT/metrics\n"
"                        (ADDR defaults to 127.0.0.1: only this machine)\n"
"      --eal 'ARGS'      extra DPDK EAL arguments; lcores, memory, file prefix and devices\n"
"                        are derived and need not be given\n"
"  -F, --filter-file FILE\n"
"                        read the filter expression from FILE ('#' starts a comment);\n"
"                        SIGHUP re-reads it while capturing. The DPDK telemetry command\n"
"                        /linecap/filter,EXPR sets one live (dpdk-telemetry.py -f linecap_PID)\n"
"      --filter-engine E jit (default on x86-64) or interp (libpcap's interpreter)\n"
"      --timestamps T    where packet times come from: hw (the port's clock, where it\n"
"                        stamps packets), tsc (the CPU's, at receive), or auto (default:\n"
"                        hw where offered, else tsc); both follow CLOCK_REALTIME\n"
"  -d, --dump-filter     print the compiled filter and the size of its machine code, then\n"
"                        exit without touching a port; -dd also prints the code bytes\n"
"      --config FILE     read options from an INI file (config/linecap.ini shows every\n"
"                        key); options on the command line win over the file\n"
"      --print-config    print the configuration in effect, as a config file, and exit\n"
"      --check-disk      pre-flight: start the port, write and fsync a test file in the\n"
"                        capture directory for 3 s as the writers would, report the\n"
"                        sustained GB/s against what the link speed needs, and exit (0: the\n"
"                        disk keeps up, 1: it does not)\n"
"  -v, --verbose         more messages (repeat for DPDK's own logs)\n"
"      --status-interval SECS\n"
"                        a status line this often (default 1; 0: none, for logs kept\n"
"                        long, as under systemd)\n"
"  -h, --help            this text\n"
"      --version         print the version\n"
"\n"
"Every closed file is hashed (SHA-256) into DIR/manifest.jsonl; check a capture with\n"
"linecap-verify, merge its shards with linecap-merge.\n"
"The filter is tcpdump syntax (pcap-filter(7)), e.g. 'host 192.168.1.100 and port 443'.\n"
"Without -c or --duration the capture runs until SIGINT or SIGTERM; a net_pcap replay\n"
"without infinite_rx=1 stops by itself at the end of its files. A stop drains the rings\n"
"and closes the files; the same signal again within 1 s is taken as a copy (timeout(1)\n"
"sends two), a second request later ends linecap at once (killed by that signal, the\n"
"open files left .part for linecap-verify --repair). The summary goes to\n"
"stderr. Exit status: 0 done, 1 runtime failure, 2 bad usage or input.\n";

const char *
lc_config_usage(void)
{
	return usage_text;
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

static const struct opt *
opt_by_code(int code)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].code == code)
			return &opts[i];
	return NULL;
}

static const struct opt *
opt_by_name(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

/* How the command line names an option in messages: "-s" or "--queues". */
static const char *
cli_label(const struct opt *o, char *buf, size_t len)
{
	if (o->code < 256)
		snprintf(buf, len, "-%c", o->code);
	else
		snprintf(buf, len, "--%s", o->name);
	return buf;
}

/* A count given in a config file (verbose, dump-filter): 0..3. */
static int
parse_count(const char *label, const char *val, int *out, char *err, size_t errlen)
{
	uint64_t v;
	int rc = lc_parse_u64(label, val, 0, 3, "count", &v, err, errlen);

	if (rc == 0)
		*out = (int)v;
	return rc;
}

/* A text value that must not be empty (a device, a path, a user): *dst = val, or an error
 * "label: what must not be empty". */
static int
set_text(const char **dst, const char *val, const char *label, const char *what, char *err,
	 size_t errlen)
{
	if (val[0] == '\0') {
		snprintf(err, errlen, "%s: %s must not be empty", label, what);
		return -EINVAL;
	}
	*dst = val;
	return 0;
}

/*
 * Apply one option to cfg. label names it in messages ("-s" on the command line, the key in a
 * config file). val is NULL for a flag given on the command line (counted).
 */
static int
apply(struct lc_config *cfg, int code, const char *val, const char *label, char *err,
      size_t errlen)
{
	uint64_t v = 0;
	double d;
	int rc = 0;

	switch (code) {
	case 'i':
		rc = set_text(&cfg->interface, val, label, "device", err, errlen);
		break;
	case 'w':
		rc = set_text(&cfg->write_path, val, label, "path", err, errlen);
		break;
	case 's':
		rc = lc_parse_u64(label, val, 0, UINT32_MAX, "snaplen", &v, err, errlen);
		if (rc == 0 && v != 0 && (v < LC_SNAPLEN_MIN || v > LC_SNAPLEN_MAX))
			rc = -EINVAL;
		if (rc < 0 && strstr(err, "whole number") == NULL)
			snprintf(err, errlen, "%s %s: snaplen must be between %u and %u "
				 "(or 0 for %u)", label, val, LC_SNAPLEN_MIN, LC_SNAPLEN_MAX,
				 LC_SNAPLEN_MAX);
		cfg->snaplen = v == 0 ? LC_SNAPLEN_MAX : (uint32_t)v;
		break;
	case 'c':
		rc = lc_parse_u64(label, val, 1, UINT64_MAX >> 2, "count", &cfg->count, err, errlen);
		break;
	case OPT_QUEUES:
		rc = lc_parse_u64(label, val, 1, LC_QUEUES_MAX, "queues", &v, err, errlen);
		cfg->queues = (unsigned int)v;
		break;
	case OPT_WRITERS:
		rc = lc_parse_u64(label, val, 1, LC_WRITERS_MAX, "writers", &v, err, errlen);
		cfg->writers = (unsigned int)v;
		break;
	case OPT_DURATION:
		rc = lc_parse_decimal(label, val, 315360000.0, &d, err, errlen);
		cfg->duration_ms = rc == 0 ? (uint64_t)(d * 1000.0 + 0.5) : 0;
		if (rc == 0 && cfg->duration_ms == 0)
			cfg->duration_ms = 1;
		break;
	case OPT_EAL:
		cfg->eal_args = val;
		break;
	case OPT_STATS_FILE:
		rc = set_text(&cfg->stats_file, val, label, "path", err, errlen);
		break;
	case OPT_RING_SIZE:
		rc = lc_parse_u64(label, val, LC_RING_MIN, LC_RING_MAX, "ring size", &v, err, errlen);
		if (rc == 0 && (v & (v - 1)) != 0) {
			snprintf(err, errlen, "%s %s: ring size must be a power of two", label, val);
			rc = -EINVAL;
		}
		cfg->ring_size = (unsigned int)v;
		break;
	case OPT_MBUFS:
		rc = lc_parse_u64(label, val, 1024, LC_MBUFS_MAX, "mbufs", &v, err, errlen);
		cfg->mbufs = (unsigned int)v;
		break;
	case 'v':
		if (val == NULL)
			cfg->verbose++;
		else
			rc = parse_count(label, val, &cfg->verbose, err, errlen);
		break;
	case 'd':
		if (val == NULL)
			cfg->dump++;
		else
			rc = parse_count(label, val, &cfg->dump, err, errlen);
		break;
	case 'h':
		cfg->help = true;
		break;
	case OPT_VERSION:
		cfg->version = true;
		break;
	case OPT_PRINT_CONFIG:
		cfg->print_config = true;
		break;
	case OPT_CHECK_DISK:
		cfg->check_disk = true;
		break;
	case OPT_CONFIG:
		rc = set_text(&cfg->config_file, val, label, "path", err, errlen);
		break;
	case 'F':
		cfg->filter_file = val;
		break;
	case 'Z':
		rc = set_text(&cfg->user, val, label, "user", err, errlen);
		break;
	case OPT_FILTER:
		free(cfg->filter);
		cfg->filter = is_blank(val) ? NULL : strdup(val);
		if (!is_blank(val) && cfg->filter == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		break;
	case OPT_FILTER_ENGINE:
		cfg->filter_engine = val;
		break;
	case OPT_PROMETHEUS:
		cfg->prometheus = val;
		break;
	case OPT_STATUS_INTERVAL:
		rc = lc_parse_u64(label, val, 0, 86400, "status interval", &v, err, errlen);
		cfg->status_secs = (unsigned int)v;
		break;
	case OPT_TIMESTAMPS:
		if (strcmp(val, "auto") != 0 && strcmp(val, "tsc") != 0 &&
		    strcmp(val, "hw") != 0) {
			snprintf(err, errlen, "%s %s: must be auto, tsc or hw", label, val);
			return -EINVAL;
		}
		cfg->timestamps = val;
		break;
	case 'C':
		rc = lc_parse_decimal(label, val, 1e9, &d, err, errlen);
		cfg->file_bytes = rc == 0 ? (uint64_t)(d * 1e6) : 0;
		if (rc == 0 && cfg->file_bytes < 4096) {
			snprintf(err, errlen, "%s %s: files must hold at least 4096 bytes "
				 "(0.004096 million)", label, val);
			rc = -EINVAL;
		}
		break;
	case 'G':
		rc = lc_parse_u64(label, val, 1, 366 * 86400, "rotation period", &cfg->rotate_secs,
			       err, errlen);
		break;
	case 'W':
		rc = lc_parse_u64(label, val, 1, 1000000, "file count", &v, err, errlen);
		cfg->max_files = (unsigned int)v;
		break;
	case OPT_FORMAT:
		if (strcmp(val, "pcap") != 0 && strcmp(val, "pcapng") != 0) {
			snprintf(err, errlen, "%s %s: must be pcap or pcapng", label, val);
			rc = -EINVAL;
		}
		cfg->format = val;
		break;
	case OPT_RETAIN_BYTES:
		rc = lc_parse_size(label, val, &cfg->retain_bytes, err, errlen);
		/* A bound below one file deletes every file as soon as it closes. */
		if (rc == 0 && cfg->retain_bytes != 0 && cfg->retain_bytes < LC_RETAIN_MIN_BYTES) {
			snprintf(err, errlen, "%s %s: must be at least %llu bytes (1Mi): a smaller "
				 "bound would delete every file the capture writes", label, val,
				 (unsigned long long)LC_RETAIN_MIN_BYTES);
			rc = -EINVAL;
		}
		break;
	case OPT_FSYNC_INTERVAL:
		rc = lc_parse_decimal(label, val, 86400, &d, err, errlen);
		cfg->fsync_ms = rc == 0 ? (uint64_t)(d * 1000 + 0.5) : 0;
		if (rc == 0 && cfg->fsync_ms == 0)
			cfg->fsync_ms = 1;
		break;
	default:
		snprintf(err, errlen, "%s: unknown option (see --help)", label);
		return -EINVAL;
	}
	return rc;
}

/* The value --print-config shows for an option given nowhere that has a default. */
static const char *
default_value(const struct lc_config *cfg, const struct opt *o, char *buf, size_t len)
{
	switch (o->code) {
	case 's':
		snprintf(buf, len, "%u", cfg->snaplen);
		return buf;
	case OPT_RING_SIZE:
		snprintf(buf, len, "%u", cfg->ring_size);
		return buf;
	case OPT_STATUS_INTERVAL:
		snprintf(buf, len, "%u", cfg->status_secs);
		return buf;
	case OPT_FORMAT:
		return cfg->format ? cfg->format : "pcap";
	case OPT_FILTER_ENGINE:
#if defined(__x86_64__)
		return "jit";
#else
		return "interp";
#endif
	case 'v':
		return "0";
	case OPT_TIMESTAMPS:
		return "auto";
	}
	return NULL;
}

/* Read --config FILE into cfg: every key not already given on the command line (given[]),
 * each value checked even when the command line overrides it. */
static int
read_config_file(struct lc_config *cfg, const bool *on_cli, char *err, size_t errlen)
{
	static const struct rte_cfgfile_parameters params = { .comment_character = '#' };
	const char *file = cfg->config_file;
	struct lc_ini_key kl[2 * NOPTS];
	char msg[LC_ERRLEN];
	size_t n;
	int rc;

	rc = lc_ini_scan(file, sections, RTE_DIM(sections), kl, RTE_DIM(kl), &n, err, errlen);
	if (rc < 0)
		return rc;
	cfg->ini = rte_cfgfile_load_with_params(file, 0, &params);
	if (cfg->ini == NULL)
		return lc_ini_error(err, errlen, file, 0, "cannot be read as an INI file");
	for (size_t i = 0; i < n; i++) {
		const struct opt *o = opt_by_name(kl[i].key);
		const char *val = rte_cfgfile_get_entry(cfg->ini, kl[i].section, kl[i].key);
		struct lc_config scratch = *cfg;

		if (o == NULL || o->section[0] == '\0') {
			snprintf(msg, sizeof(msg), "%s: unknown key%s", kl[i].key,
				 o ? " (command line only)" : "");
			return lc_ini_error(err, errlen, file, kl[i].line, msg);
		}
		if (strcmp(o->section, kl[i].section) != 0) {
			snprintf(msg, sizeof(msg), "%s: belongs in [%s], not [%s]", kl[i].key,
				 o->section, kl[i].section);
			return lc_ini_error(err, errlen, file, kl[i].line, msg);
		}
		if (val == NULL)
			return lc_ini_error(err, errlen, file, kl[i].line, "cannot be read");
		/* Checked on a copy first: a bad value is an error even where overridden. */
		scratch.filter = NULL;
		rc = apply(&scratch, o->code, val, kl[i].key, msg, sizeof(msg));
		free(scratch.filter);
		if (rc < 0)
			return lc_ini_error(err, errlen, file, kl[i].line, msg);
		/* One source of filter: either one on the command line replaces both. */
		if (on_cli[o - opts] || ((o->code == OPT_FILTER || o->code == 'F') &&
		    (on_cli[opt_by_code(OPT_FILTER) - opts] || on_cli[opt_by_code('F') - opts])))
			continue;
		rc = apply(cfg, o->code, val, kl[i].key, msg, sizeof(msg));
		if (rc < 0)
			return lc_ini_error(err, errlen, file, kl[i].line, msg);
		cfg->given[o - opts] = val;
	}
	return 0;
}

int
lc_config_parse(struct lc_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	static const char *const counts[] = { "0", "1", "2", "3" };
	struct option long_opts[NOPTS + 1];
	bool on_cli[NOPTS] = { false };
	size_t nlong = 0;
	int c, rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->snaplen = LC_SNAPLEN_MAX;
	cfg->ring_size = LC_RING_DEFAULT;
	cfg->status_secs = 1;
	err[0] = '\0';
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].code != OPT_FILTER)
			long_opts[nlong++] = (struct option){ opts[i].name, opts[i].has_arg, NULL,
							      opts[i].code };
	long_opts[nlong] = (struct option){ NULL, 0, NULL, 0 };

	optind = 0;	/* full getopt reset: callers (tests) may parse several times */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:w:s:c:F:C:G:W:Z:dvh", long_opts, NULL)) != -1) {
		const struct opt *o = opt_by_code(c);
		char label[64];

		if (c == ':') {
			if (optopt != 0)
				snprintf(err, errlen, "-%c: option needs a value", optopt);
			else
				snprintf(err, errlen, "%s: option needs a value", argv[optind - 1]);
			return -EINVAL;
		}
		if (o == NULL) {
			if (optopt != 0)
				snprintf(err, errlen, "-%c: unknown option (see --help)", optopt);
			else
				snprintf(err, errlen, "%s: unknown option (see --help)",
					 argv[optind - 1]);
			return -EINVAL;
		}
		rc = apply(cfg, c, optarg, cli_label(o, label, sizeof(label)), err, errlen);
		if (rc < 0)
			return rc;
		on_cli[o - opts] = true;
		cfg->given[o - opts] = optarg;
	}
	for (size_t i = 0; i < NOPTS; i++)	/* flags: their count */
		if (opts[i].has_arg == no_argument && on_cli[i])
			cfg->given[i] = counts[opts[i].code == 'v' ? RTE_MIN(cfg->verbose, 3) :
					       opts[i].code == 'd' ? RTE_MIN(cfg->dump, 3) : 1];
	if (cfg->help || cfg->version)
		return 0;

	if (optind < argc) {
		char *joined = join_args(argc - optind, argv + optind);

		if (joined == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		cfg->filter = is_blank(joined) ? NULL : joined;
		if (cfg->filter == NULL)
			free(joined);
		on_cli[opt_by_code(OPT_FILTER) - opts] = true;
		cfg->given[opt_by_code(OPT_FILTER) - opts] = cfg->filter;
	}
	if (cfg->config_file != NULL) {
		rc = read_config_file(cfg, on_cli, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (cfg->filter != NULL && cfg->filter_file != NULL) {
		snprintf(err, errlen, "-F %s: a filter file and an expression ('%s'): give one",
			 cfg->filter_file, cfg->filter);
		return -EINVAL;
	}
	if (cfg->dump)
		return 0;	/* -d only compiles: no port, no output */
	if (cfg->format == NULL && cfg->write_path != NULL) {
		size_t n = strlen(cfg->write_path);

		cfg->format = n > 7 && strcmp(cfg->write_path + n - 7, ".pcapng") == 0 ?
			      "pcapng" : "pcap";
	}
	if (cfg->print_config)
		return 0;	/* shown as it is, complete or not */
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
	if (cfg->queues != 0 && cfg->writers > cfg->queues) {
		snprintf(err, errlen, "--writers %u: more writers than queues (%u)", cfg->writers,
			 cfg->queues);
		return -EINVAL;
	}
	return 0;
}

int
lc_config_item(const struct lc_config *cfg, unsigned int i, struct lc_config_item *it)
{
	if (i >= NOPTS)
		return 0;
	it->key = opts[i].name;
	it->section = opts[i].section;
	it->value = opts[i].code == OPT_FILTER ? cfg->filter : cfg->given[i];
	if (it->value == NULL)
		it->value = default_value(cfg, &opts[i], it->buf, sizeof(it->buf));
	it->unset = it->value == NULL ? opts[i].unset : NULL;
	return 1;
}

int
lc_config_print(FILE *f, const struct lc_config *cfg)
{
	struct lc_config_item it;

	fprintf(f, "# linecap configuration in effect (command line, then %s, then defaults).\n"
		"# Use it with --config FILE; keys commented out were given nowhere.\n",
		cfg->config_file ? cfg->config_file : "no config file");
	for (size_t s = 0; s < RTE_DIM(sections); s++) {
		fprintf(f, "\n[%s]\n", sections[s]);
		for (unsigned int i = 0; lc_config_item(cfg, i, &it); i++) {
			if (strcmp(it.section, sections[s]) != 0)
				continue;
			if (it.value != NULL)
				fprintf(f, "%s = %s\n", it.key, it.value);
			else
				fprintf(f, "# %s =    (%s)\n", it.key, it.unset);
		}
	}
	return ferror(f) ? -EIO : 0;
}

void
lc_config_release(struct lc_config *cfg)
{
	free(cfg->filter);
	cfg->filter = NULL;
	if (cfg->ini != NULL)
		rte_cfgfile_close(cfg->ini);
	cfg->ini = NULL;
}
