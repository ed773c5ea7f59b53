/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_cfgfile.h>
#include <rte_common.h>

#include "linecap/config.h"
#include "command.h"
#include "ini_scan.h"
#include "config_values.h"
#include "parse.h"

enum {
	OPT_QUEUES = 256,
	OPT_WRITERS,
	OPT_DURATION,
	OPT_EAL,
	OPT_STATS_FILE,
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
	OPT_POSTROTATE_JOBS,
	OPT_POSTROTATE_TIMEOUT,
	OPT_TIMESTAMPS,
	OPT_STATUS_INTERVAL,
	OPT_NO_INDEX,
	OPT_FEED,
	OPT_IMMEDIATE,		/* tcpdump's --immediate-mode: taken, ignored */
	OPT_RETIRED = 512,	/* + the index in retired[] */
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
	{ "read", required_argument, 'r', "", "none: capture from -i" },
	{ "queues", required_argument, OPT_QUEUES, "capture", "derived from the device" },
	{ "snaplen", required_argument, 's', "capture", NULL },
	{ "count", required_argument, 'c', "capture", "no limit" },
	{ "duration", required_argument, OPT_DURATION, "capture", "no limit" },
	{ "filter", required_argument, OPT_FILTER, "capture", "every packet" },
	{ "filter-file", required_argument, 'F', "capture", "none" },
	{ "filter-engine", required_argument, OPT_FILTER_ENGINE, "capture", NULL },
	{ "user", required_argument, 'Z', "capture", "stays root" },
	{ "timestamps", required_argument, OPT_TIMESTAMPS, "capture", NULL },
	{ "no-promiscuous-mode", no_argument, 'p', "capture", NULL },
	{ "write", required_argument, 'w', "output", "(required)" },
	{ "format", required_argument, OPT_FORMAT, "output", NULL },
	{ "file-size", required_argument, 'C', "output", "no limit" },
	{ "rotate-seconds", required_argument, 'G', "output", "no rotation by time" },
	{ "file-count", required_argument, 'W', "output", "no limit" },
	{ "retain-bytes", required_argument, OPT_RETAIN_BYTES, "output", "no limit" },
	{ "fsync-interval", required_argument, OPT_FSYNC_INTERVAL, "output", "at close only" },
	{ "stats-file", required_argument, OPT_STATS_FILE, "output", "none" },
	{ "postrotate-command", required_argument, 'z', "output", "none" },
	{ "postrotate-jobs", required_argument, OPT_POSTROTATE_JOBS, "output", NULL },
	{ "postrotate-timeout", required_argument, OPT_POSTROTATE_TIMEOUT, "output", NULL },
	{ "no-index", no_argument, OPT_NO_INDEX, "output", NULL },
	{ "feed", required_argument, OPT_FEED, "output", "no live feed" },
	{ "writers", required_argument, OPT_WRITERS, "tuning", "one per 4 queues" },
	{ "buffer-size", required_argument, 'B', "tuning",
	  "sized from free hugepages, up to 256 MiB" },
	{ "mbufs", required_argument, OPT_MBUFS, "tuning", "sized from queues and descriptors" },
	{ "eal", required_argument, OPT_EAL, "tuning", "none: all derived" },
	{ "verbose", no_argument, 'v', "log", NULL },
	{ "status-interval", required_argument, OPT_STATUS_INTERVAL, "log", NULL },
	{ "prometheus", required_argument, OPT_PROMETHEUS, "log", "no metrics endpoint" },
	{ "dump-filter", no_argument, 'd', "", NULL },
	{ "config", required_argument, OPT_CONFIG, "", NULL },
	{ "print-config", no_argument, OPT_PRINT_CONFIG, "", NULL },
	{ "check-disk", no_argument, OPT_CHECK_DISK, "", NULL },
	{ "immediate-mode", no_argument, OPT_IMMEDIATE, "", NULL },
	{ "nano", no_argument, OPT_IMMEDIATE, "", NULL },	/* linecap is nanosecond */
	{ "list-interfaces", no_argument, 'D', "", NULL },
	{ "help", no_argument, 'h', "", NULL },
	{ "version", no_argument, OPT_VERSION, "", NULL },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))
_Static_assert(NOPTS <= LC_CONFIG_OPTS, "lc_config.given is too small");

static const char *const sections[] = { "capture", "output", "tuning", "log" };

/* Options that were and are no more: refused, on the command line or in a file, with what
 * to use instead. */
static const struct retired {
	const char *name;
	const char *instead;
} retired[] = {
	{ "ring-size", "replaced by -B/--buffer-size (the per-queue buffer, in KiB or with a "
		       "suffix)" },
};
#define NRETIRED (sizeof(retired) / sizeof(retired[0]))

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

/* A refused option: what to use instead. */
static int
refuse_retired(const struct retired *r, const char *label, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", label, r->instead);
	return -EINVAL;
}

static const struct retired *
retired_by_name(const char *name)
{
	for (size_t i = 0; i < NRETIRED; i++)
		if (strcmp(retired[i].name, name) == 0)
			return &retired[i];
	return NULL;
}

static int
unknown_option(const char *label, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: unknown option (see --help)", label);
	return -EINVAL;
}

/*
 * The options of each section ([capture] [output] [tuning] [log], then the command line's
 * own), one function each: apply the option code to cfg. label names it in messages ("-s"
 * on the command line, the key in a config file). val is NULL for a flag given on the
 * command line (counted).
 */
typedef int apply_fn(struct lc_config *cfg, int code, const char *val, const char *label,
		     char *err, size_t errlen);

static int
apply_capture(struct lc_config *cfg, int code, const char *val, const char *label,
	      char *err, size_t errlen)
{
	static const char *const stamps[] = { "auto", "tsc", "hw", NULL };

	switch (code) {
	case 'i':
		return lc_cfg_set_text(&cfg->interface, val, label, "device", err, errlen);
	case OPT_QUEUES:
		return lc_cfg_parse_uint(label, val, 1, LC_QUEUES_MAX, "queues", &cfg->queues, err,
				  errlen);
	case 's':
		return lc_cfg_parse_snaplen(cfg, val, label, err, errlen);
	case 'c':
		return lc_parse_u64(label, val, 1, UINT64_MAX >> 2, "count", &cfg->count, err,
				    errlen);
	case OPT_DURATION:
		return lc_cfg_parse_ms(label, val, 315360000.0, &cfg->duration_ms, err, errlen);
	case OPT_FILTER:
		return lc_cfg_set_filter(cfg, val, err, errlen);
	case 'F':
		cfg->filter_file = val;
		return 0;
	case OPT_FILTER_ENGINE:
		cfg->filter_engine = val;
		return 0;
	case 'Z':
		return lc_cfg_set_text(&cfg->user, val, label, "user", err, errlen);
	case OPT_TIMESTAMPS:
		return lc_cfg_set_choice(&cfg->timestamps, val, stamps, "auto, tsc or hw", label, err,
				  errlen);
	case 'p':
		return lc_cfg_count_flag(&cfg->no_promisc, val, label, err, errlen);
	}
	return unknown_option(label, err, errlen);
}

static int
apply_output(struct lc_config *cfg, int code, const char *val, const char *label,
	     char *err, size_t errlen)
{
	static const char *const formats[] = { "pcap", "pcapng", NULL };

	switch (code) {
	case 'w':
		return lc_cfg_set_text(&cfg->write_path, val, label, "path", err, errlen);
	case OPT_FORMAT:
		return lc_cfg_set_choice(&cfg->format, val, formats, "pcap or pcapng", label, err,
				  errlen);
	case OPT_NO_INDEX:
		return lc_cfg_count_flag(&cfg->no_index, val, label, err, errlen);
	case OPT_FEED:
		return lc_cfg_add_feed(cfg, val, label, err, errlen);
	case 'C':
		return lc_cfg_parse_file_size(cfg, val, label, err, errlen);
	case 'G':
		return lc_parse_u64(label, val, 1, 366 * 86400, "rotation period",
				    &cfg->rotate_secs, err, errlen);
	case 'W':
		return lc_cfg_parse_uint(label, val, 1, 1000000, "file count", &cfg->max_files, err,
				  errlen);
	case OPT_RETAIN_BYTES:
		return lc_cfg_parse_retain(cfg, val, label, err, errlen);
	case OPT_FSYNC_INTERVAL:
		return lc_cfg_parse_ms(label, val, 86400, &cfg->fsync_ms, err, errlen);
	case OPT_STATS_FILE:
		return lc_cfg_set_text(&cfg->stats_file, val, label, "path", err, errlen);
	case 'z':
		return lc_cfg_set_command(&cfg->postrotate_cmd, val, label, err, errlen);
	case OPT_POSTROTATE_JOBS:
		return lc_cfg_parse_uint(label, val, 1, 64, "jobs", &cfg->postrotate_jobs, err, errlen);
	case OPT_POSTROTATE_TIMEOUT:
		return lc_cfg_parse_uint(label, val, 0, 7 * 86400, "timeout", &cfg->postrotate_timeout,
				  err, errlen);
	}
	return unknown_option(label, err, errlen);
}

static int
apply_tuning(struct lc_config *cfg, int code, const char *val, const char *label,
	     char *err, size_t errlen)
{
	switch (code) {
	case OPT_WRITERS:
		return lc_cfg_parse_uint(label, val, 1, LC_WRITERS_MAX, "writers", &cfg->writers, err,
				  errlen);
	case 'B':
		return lc_parse_kib(label, val, LC_BUFFER_MIN, LC_BUFFER_MAX, LC_BUFFER_ROUND,
				    &cfg->buffer_bytes, err, errlen);
	case OPT_MBUFS:
		return lc_cfg_parse_uint(label, val, 1024, LC_MBUFS_MAX, "mbufs", &cfg->mbufs, err,
				  errlen);
	case OPT_EAL:
		cfg->eal_args = val;
		return 0;
	}
	return unknown_option(label, err, errlen);
}

static int
apply_log(struct lc_config *cfg, int code, const char *val, const char *label, char *err,
	  size_t errlen)
{
	switch (code) {
	case 'v':
		return lc_cfg_count_flag(&cfg->verbose, val, label, err, errlen);
	case OPT_STATUS_INTERVAL:
		return lc_cfg_parse_uint(label, val, 0, 86400, "status interval", &cfg->status_secs, err,
				  errlen);
	case OPT_PROMETHEUS:
		cfg->prometheus = val;
		return 0;
	}
	return unknown_option(label, err, errlen);
}

/* Options of the command line only. */
static int
apply_cli(struct lc_config *cfg, int code, const char *val, const char *label, char *err,
	  size_t errlen)
{
	switch (code) {
	case 'r':
		return lc_cfg_add_read(cfg, val, label, err, errlen);
	case 'd':
		return lc_cfg_count_flag(&cfg->dump, val, label, err, errlen);
	case OPT_CONFIG:
		return lc_cfg_set_text(&cfg->config_file, val, label, "path", err, errlen);
	case 'h':
		cfg->help = true;
		return 0;
	case OPT_VERSION:
		cfg->version = true;
		return 0;
	case OPT_PRINT_CONFIG:
		cfg->print_config = true;
		return 0;
	case OPT_CHECK_DISK:
		cfg->check_disk = true;
		return 0;
	case OPT_IMMEDIATE:
		return 0;	/* linecap hands records to the disk on its own schedule */
	case 'D':
		cfg->list_interfaces = true;
		return 0;
	}
	return unknown_option(label, err, errlen);
}

static const struct {
	const char *section;
	apply_fn *apply;
} appliers[] = {
	{ "capture", apply_capture },
	{ "output", apply_output },
	{ "tuning", apply_tuning },
	{ "log", apply_log },
	{ "", apply_cli },
};

/* Apply option o to cfg: the function of its section. */
static int
apply(struct lc_config *cfg, const struct opt *o, const char *val, const char *label,
      char *err, size_t errlen)
{
	for (size_t i = 0; i < RTE_DIM(appliers); i++)
		if (strcmp(appliers[i].section, o->section) == 0)
			return appliers[i].apply(cfg, o->code, val, label, err, errlen);
	return unknown_option(label, err, errlen);
}

/* The value --print-config shows for an option given nowhere that has a default. */
static const char *
default_value(const struct lc_config *cfg, const struct opt *o, char *buf, size_t len)
{
	switch (o->code) {
	case 's':
		snprintf(buf, len, "%u", cfg->snaplen);
		return buf;
	case OPT_STATUS_INTERVAL:
		snprintf(buf, len, "%u", cfg->status_secs);
		return buf;
	case OPT_POSTROTATE_JOBS:
		snprintf(buf, len, "%u", cfg->postrotate_jobs);
		return buf;
	case OPT_POSTROTATE_TIMEOUT:
		snprintf(buf, len, "%u", cfg->postrotate_timeout);
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
	case 'p':
	case OPT_NO_INDEX:
		return "0";
	case OPT_TIMESTAMPS:
		return "auto";
	}
	return NULL;
}

/* The option a config file's key names, in the right section; or "KEY: why" in msg. */
static int
key_option(const struct lc_ini_key *k, const struct opt **out, char *msg, size_t len)
{
	const struct retired *r = retired_by_name(k->key);
	const struct opt *o = opt_by_name(k->key);

	if (r != NULL)
		return refuse_retired(r, k->key, msg, len);
	if (o == NULL || o->section[0] == '\0') {
		snprintf(msg, len, "%s: unknown key%s", k->key, o ? " (command line only)" : "");
		return -EINVAL;
	}
	if (strcmp(o->section, k->section) != 0) {
		snprintf(msg, len, "%s: belongs in [%s], not [%s]", k->key, o->section,
			 k->section);
		return -EINVAL;
	}
	*out = o;
	return 0;
}

/* Did the command line give o? One source of filter: either one there replaces both. */
static bool
given_on_cli(const struct opt *o, const bool *on_cli)
{
	if (o->code == OPT_FILTER || o->code == 'F')
		return on_cli[opt_by_code(OPT_FILTER) - opts] || on_cli[opt_by_code('F') - opts];
	return on_cli[o - opts];
}

/* One key of a config file: checked on a copy first (a bad value is an error even where
 * the command line overrides it), then applied unless the command line gave it. */
static int
file_key(struct lc_config *cfg, const struct opt *o, const char *val, const char *key,
	 const bool *on_cli, char *msg, size_t len)
{
	struct lc_config scratch = *cfg;
	int rc;

	scratch.filter = NULL;
	rc = apply(&scratch, o, val, key, msg, len);
	free(scratch.filter);
	if (rc < 0 || given_on_cli(o, on_cli))
		return rc;
	rc = apply(cfg, o, val, key, msg, len);
	if (rc == 0)
		cfg->given[o - opts] = val;
	return rc;
}

/* Read --config FILE into cfg: every key not already given on the command line (on_cli),
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
		const char *val = rte_cfgfile_get_entry(cfg->ini, kl[i].section, kl[i].key);
		const struct opt *o = NULL;

		rc = key_option(&kl[i], &o, msg, sizeof(msg));
		if (rc == 0 && val == NULL) {
			snprintf(msg, sizeof(msg), "cannot be read");
			rc = -EINVAL;
		}
		if (rc == 0)
			rc = file_key(cfg, o, val, kl[i].key, on_cli, msg, sizeof(msg));
		if (rc < 0)
			return lc_ini_error(err, errlen, file, kl[i].line, msg);
	}
	return 0;
}

/* getopt_long's table: every option but the filter (trailing arguments), and the retired
 * ones, to refuse them by name. long_opts holds NOPTS + NRETIRED + 1. */
static void
long_options(struct option *long_opts)
{
	size_t n = 0;

	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].code != OPT_FILTER)
			long_opts[n++] = (struct option){ opts[i].name, opts[i].has_arg, NULL,
							  opts[i].code };
	for (size_t i = 0; i < NRETIRED; i++)
		long_opts[n++] = (struct option){ retired[i].name, optional_argument, NULL,
						  OPT_RETIRED + (int)i };
	long_opts[n] = (struct option){ NULL, 0, NULL, 0 };
}

/*
 * tcpdump's options typed by reflex: those that mean nothing to linecap are taken and
 * ignored (-n: linecap resolves no names; -U: it flushes on its own schedule; -q -t -S -l
 * -K shape what tcpdump prints, and with -w it prints nothing either); those that print
 * packets or that linecap cannot honour are refused with what linecap does instead.
 */
static const struct reflex {
	int code;
	const char *refusal;	/* NULL: accepted, ignored */
} reflexes[] = {
	{ 'n', NULL },
	{ 'U', NULL },
	{ 'q', NULL },
	{ 't', NULL },
	{ 'S', NULL },
	{ 'l', NULL },
	{ 'K', NULL },
	{ 'Q', "linecap does not choose a direction: it keeps what the port delivers (a "
	       "kernel interface through AF_PACKET: both directions)" },
	{ 'e', "linecap writes files, it does not print packets; read them with tcpdump -e -r "
	       "FILE" },
	{ 'A', "linecap writes files, it does not print packets; read them with tcpdump -A -r "
	       "FILE" },
	{ 'X', "linecap writes files, it does not print packets; read them with tcpdump -X -r "
	       "FILE" },
	{ 'x', "linecap writes files, it does not print packets; read them with tcpdump -x -r "
	       "FILE" },
};

/* c is one of tcpdump's reflexes: 0 (ignored), or -EINVAL with what to do instead. */
static const struct reflex *
reflex_by_code(int c)
{
	for (size_t i = 0; i < RTE_DIM(reflexes); i++)
		if (reflexes[i].code == c)
			return &reflexes[i];
	return NULL;
}

/* What getopt_long refused (c is ':' or '?'), or a retired option, as one line. */
static int
getopt_error(int c, char **argv, char *err, size_t errlen)
{
	const char *arg = argv[optind - 1];

	if (c >= OPT_RETIRED && c < OPT_RETIRED + (int)NRETIRED) {
		char label[64];

		snprintf(label, sizeof(label), "--%s", retired[c - OPT_RETIRED].name);
		return refuse_retired(&retired[c - OPT_RETIRED], label, err, errlen);
	}
	if (c == ':' && optopt != 0)
		snprintf(err, errlen, "-%c: option needs a value", optopt);
	else if (c == ':')
		snprintf(err, errlen, "%s: option needs a value", arg);
	else if (optopt != 0)
		snprintf(err, errlen, "-%c: unknown option (see --help)", optopt);
	else
		snprintf(err, errlen, "%s: unknown option (see --help)", arg);
	return -EINVAL;
}

/* The options of the command line into cfg; on_cli[i] says opts[i] was given there. */
static int
parse_options(struct lc_config *cfg, int argc, char **argv, bool *on_cli, char *err,
	      size_t errlen)
{
	static const char *const counts[] = { "0", "1", "2", "3" };
	struct option long_opts[NOPTS + NRETIRED + 1];
	int c, rc;

	long_options(long_opts);
	optind = 0;	/* full getopt reset: callers (tests) may parse several times */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:r:w:s:c:F:C:G:W:Z:B:z:y:Q:dDvhpnUeAXxqtSlK", long_opts, NULL)) != -1) {
		const struct opt *o = opt_by_code(c);
		const struct reflex *r = reflex_by_code(c);
		char label[64];

		if (r != NULL && r->refusal == NULL)
			continue;
		if (c == 'y' && strcasecmp(optarg, "EN10MB") == 0)
			continue;	/* the only link type linecap captures */
		if (c == 'y') {
			snprintf(err, errlen, "-y %s: linecap captures Ethernet (EN10MB) only", optarg);
			return -EINVAL;
		}
		if (r != NULL) {
			snprintf(err, errlen, "-%c: %s", c, r->refusal);
			return -EINVAL;
		}
		if (o == NULL)
			return getopt_error(c, argv, err, errlen);
		rc = apply(cfg, o, optarg, cli_label(o, label, sizeof(label)), err, errlen);
		if (rc < 0)
			return rc;
		on_cli[o - opts] = true;
		cfg->given[o - opts] = optarg;
	}
	for (size_t i = 0; i < NOPTS; i++)	/* flags: their count */
		if (opts[i].has_arg == no_argument && on_cli[i])
			cfg->given[i] = counts[opts[i].code == 'v' ? RTE_MIN(cfg->verbose, 3) :
					       opts[i].code == 'd' ? RTE_MIN(cfg->dump, 3) : 1];
	return 0;
}

/* The trailing arguments: the filter expression, joined with spaces. */
static int
trailing_filter(struct lc_config *cfg, int argc, char **argv, bool *on_cli, char *err,
		size_t errlen)
{
	size_t f = (size_t)(opt_by_code(OPT_FILTER) - opts);
	char *joined;

	if (optind >= argc)
		return 0;
	joined = join_args(argc - optind, argv + optind);
	if (joined == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	cfg->filter = lc_cfg_is_blank(joined) ? NULL : joined;
	if (cfg->filter == NULL)
		free(joined);
	on_cli[f] = true;
	cfg->given[f] = cfg->filter;
	return 0;
}

/* What a capture needs whatever the source of its options: -i, -w, and options that agree. */
static int
check_capture(const struct lc_config *cfg, char *err, size_t errlen)
{
	if (cfg->interface == NULL && cfg->nread == 0) {
		snprintf(err, errlen, "no interface: give one with -i DEV, or files with -r FILE "
			 "(see --help)");
		return -EINVAL;
	}
	if (cfg->interface != NULL && cfg->nread != 0) {
		snprintf(err, errlen, "-i %s and -r %s: capture from a port or read files, not "
			 "both", cfg->interface, cfg->read[0]);
		return -EINVAL;
	}
	if (cfg->write_path == NULL) {
		snprintf(err, errlen, "no output: give a directory with -w PATH (see --help)%s",
			 cfg->nread ? "; linecap writes files, it does not print packets: "
			 "tcpdump -r FILE does" : "");
		return -EINVAL;
	}
	if (strcmp(cfg->write_path, "-") == 0) {
		snprintf(err, errlen, "-w -: linecap writes files into a directory, not to standard "
			 "output (to stream packets: --feed PORT live, or linecap-query DIR -w - "
			 "afterwards)");
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
lc_config_parse(struct lc_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	bool on_cli[NOPTS] = { false };
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->snaplen = LC_SNAPLEN_MAX;
	cfg->status_secs = 1;
	cfg->postrotate_jobs = 2;
	cfg->postrotate_timeout = 600;
	err[0] = '\0';
	rc = parse_options(cfg, argc, argv, on_cli, err, errlen);
	if (rc < 0 || cfg->help || cfg->version || cfg->list_interfaces)
		return rc;
	rc = trailing_filter(cfg, argc, argv, on_cli, err, errlen);
	if (rc == 0 && cfg->config_file != NULL)
		rc = read_config_file(cfg, on_cli, err, errlen);
	if (rc < 0)
		return rc;
	/* -r on the command line wins over the file's interface, as every option does. */
	if (cfg->nread != 0 && !on_cli[opt_by_code('i') - opts])
		cfg->interface = NULL;
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
	return check_capture(cfg, err, errlen);
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

/* A config file holds one feed (keys are given once): the others as comments. */
static void
print_feeds(FILE *f, const struct lc_config *cfg)
{
	fprintf(f, "feed = %s\n", cfg->feed[0]);
	for (unsigned int i = 1; i < cfg->nfeeds; i++)
		fprintf(f, "# feed = %s    (a file holds one feed: give this one with --feed)\n",
			cfg->feed[i]);
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
			if (it.value != NULL && strcmp(it.key, "feed") == 0)
				print_feeds(f, cfg);
			else if (it.value != NULL)
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
