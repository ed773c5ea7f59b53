/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_CONFIG_H
#define LINECAP_CONFIG_H

/*
 * Options of a capture, as the user gave them, in one struct. Parsing never touches EAL,
 * devices or files: it only checks syntax and ranges, so it can run first and fail fast.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LC_SNAPLEN_MIN 64u
#define LC_SNAPLEN_MAX 262144u
#define LC_QUEUES_MAX 64u
#define LC_WRITERS_MAX 64u
/* The RX->writer ring of data path v1; --ring-size is gone, its readers go next. */
/* -B: the per-queue buffer, made of 1 MiB chunks: 4 MiB .. 64 GiB, rounded up to a MiB. */
#define LC_BUFFER_MIN (4ull << 20)
#define LC_BUFFER_MAX (64ull << 30)
#define LC_BUFFER_ROUND (1ull << 20)
#define LC_MBUFS_MAX (64u << 20)
#define LC_ERRLEN 512
#define LC_CONFIG_OPTS 48

/* The least --retain-bytes taken: less would delete every file as soon as it closes. */
#define LC_RETAIN_MIN_BYTES (1ull << 20)

/* --feed (live PCAP-over-IP feeds, linecap/feed.h): its spec. */
#define LC_FEEDS_MAX 8u
#define LC_READ_MAX 64u		/* -r given this many times at most */
#define LC_FEED_MAX_CLIENTS 16u			/* default max-clients */
#define LC_FEED_CLIENTS_LIMIT 4096u		/* the most max-clients takes */
#define LC_FEED_STALL_MS 10000u			/* default stall */
#define LC_FEED_BUFFER (8ull << 20)		/* default buffer, per client */
#define LC_FEED_BUFFER_MIN (64ull << 10)
#define LC_FEED_BUFFER_MAX (1ull << 30)
#define LC_FEED_MEM_MAX (4ull << 30)		/* max-clients x buffer, per feed */

/* One --feed [ADDR:]PORT[,connect][,usec][,snaplen=N][,max-clients=N][,stall=SECS]
 * [,buffer=SIZE][,filter=EXPR] (filter last: the expression runs to the end). */
struct lc_feed_spec {
	char host[64];		/* numeric IPv4 or IPv6 address */
	uint16_t port;
	bool connect;		/* connect out to host:port instead of listening */
	bool usec;		/* microsecond pcap (magic a1b2c3d4) instead of nanosecond */
	uint32_t snaplen;	/* 0: the capture's */
	unsigned int max_clients;
	uint32_t stall_ms;
	uint64_t buffer;	/* bytes per client */
	const char *filter;	/* points into the spec string; NULL: every packet kept */
};

/* Parse one spec (label names the option in messages: "--feed"). 0, or -EINVAL with one
 * line in err: "--feed 70000: the port must be 1..65535". */
int lc_feed_spec_parse(const char *s, const char *label, struct lc_feed_spec *spec, char *err,
		       size_t errlen);

struct lc_config {
	const char *interface;	/* -i: PCI address or vdev spec */
	const char *read[LC_READ_MAX];	/* -r: files or directories, read in this order */
	unsigned int nread;
	const char *write_path;	/* -w: directory or path prefix */
	unsigned int queues;	/* --queues; 0 = derive from the device */
	unsigned int writers;	/* --writers; 0 = derive (one per 4 queues) */
	uint32_t snaplen;	/* -s */
	bool snaplen_set;	/* -s was given (-r: else the file's own) */
	uint64_t count;		/* -c; 0 = unlimited */
	uint64_t duration_ms;	/* --duration; 0 = unlimited */
	uint64_t buffer_bytes;  /* -B: per RX queue, bytes; 0 = sized by the plan */
	unsigned int mbufs;	/* --mbufs; 0 = sized automatically */
	const char *eal_args;	/* --eal passthrough, split on blanks */
	const char *stats_file;	/* --stats-file: final numbers as JSON */
	int no_index;		/* --no-index: no NAME.idx beside the files */
	const char *feed[LC_FEEDS_MAX];	/* --feed specs, as given (linecap/feed.h) */
	unsigned int nfeeds;
	char *filter;		/* trailing arguments joined by spaces; NULL = no filter */
	const char *filter_file;	/* -F: read the expression from this file */
	const char *format;	/* --format: "pcap" (default) or "pcapng" */
	uint64_t file_bytes;	/* -C: cut files at this many bytes; 0 = no limit */
	uint64_t rotate_secs;	/* -G: cut files at every multiple of this in wall time */
	unsigned int max_files;	/* -W: keep at most this many files per queue */
	uint64_t retain_bytes;	/* --retain-bytes: bound on the capture's files; 0 = none */
	uint64_t fsync_ms;	/* --fsync-interval: fdatasync open files this often */
	const char *postrotate_cmd;	/* -z: run on every closed file (words split on blanks) */
	unsigned int postrotate_jobs;	/* --postrotate-jobs: at most this many at a time */
	unsigned int postrotate_timeout;	/* --postrotate-timeout: seconds a command may run; 0 = no limit */
	const char *filter_engine;	/* --filter-engine; NULL = the default for this CPU */
	const char *user;	/* -Z: drop root for this user once the port is started */
	const char *prometheus;	/* --prometheus [ADDR:]PORT; NULL = none */
	const char *timestamps;	/* --timestamps auto|tsc|hw; NULL = auto */
	unsigned int status_secs;	/* --status-interval: status line period; 0 = none */
	int dump;		/* -d: print the compiled filter and exit; -dd: and the code */
	int verbose;		/* -v: more logs (EAL's included) */
	int no_promisc;		/* -p, --no-promiscuous-mode: promiscuous mode off */
	bool help;
	bool version;
	bool list_interfaces;	/* -D: list the capture sources (linecap/iflist.h), exit */
	bool print_config;	/* --print-config: show the configuration and exit */
	bool check_disk;	/* --check-disk: measure the disk against the link, exit */
	const char *config_file;	/* --config: INI file of options */
	struct rte_cfgfile *ini;	/* the loaded file: values above may point into it */
	const char *given[LC_CONFIG_OPTS];	/* each option's value as given, for printing */
};

struct rte_cfgfile;

/*
 * Parse argv into cfg (defaults first), then the --config file for what the command line did
 * not give. A config file is INI (rte_cfgfile): sections [capture] [output] [tuning] [log],
 * keys named after the long options (filter = EXPR for the expression), '#' comments;
 * unknown sections and keys, a key in the wrong section or given twice, and bad values are
 * errors "FILE:LINE: key ...". An option that is no more (--ring-size, ring-size) is
 * refused, saying what replaced it. Returns 0, or -EINVAL with one line for the user in
 * err (without the "linecap: " prefix), e.g. "-s 70000000: snaplen must be between 64 and
 * 262144". cfg->filter is heap-allocated: release it with lc_config_release().
 */
int lc_config_parse(struct lc_config *cfg, int argc, char **argv, char *err, size_t errlen);

/* One option of the configuration in effect (for printing and telemetry). */
struct lc_config_item {
	const char *key;	/* long option name */
	const char *section;	/* "" for command-line-only options */
	const char *value;	/* as given, or its default; NULL when given nowhere */
	const char *unset;	/* when value is NULL: what that means */
	char buf[32];
};

/* Option i of the configuration into it: 1, or 0 past the last. */
int lc_config_item(const struct lc_config *cfg, unsigned int i, struct lc_config_item *it);

/* Write the configuration in effect as a config file (--print-config). 0 or -EIO. */
int lc_config_print(FILE *f, const struct lc_config *cfg);

/* Free what lc_config_parse allocated. Accepts a zeroed cfg. */
void lc_config_release(struct lc_config *cfg);

/* The --help text, matching what lc_config_parse accepts. */
const char *lc_config_usage(void);

#endif
