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

#define LC_SNAPLEN_MIN 64u
#define LC_SNAPLEN_MAX 262144u
#define LC_QUEUES_MAX 64u
#define LC_WRITERS_MAX 64u
#define LC_RING_MIN 64u
#define LC_RING_MAX (1u << 20)
#define LC_RING_DEFAULT 16384u
#define LC_MBUFS_MAX (64u << 20)
#define LC_ERRLEN 512

struct lc_config {
	const char *interface;	/* -i: PCI address or vdev spec */
	const char *write_path;	/* -w: directory or path prefix */
	unsigned int queues;	/* --queues; 0 = derive from the device */
	unsigned int writers;	/* --writers; 0 = derive (one per 4 queues) */
	uint32_t snaplen;	/* -s */
	uint64_t count;		/* -c; 0 = unlimited */
	uint64_t duration_ms;	/* --duration; 0 = unlimited */
	unsigned int ring_size;	/* --ring-size, power of two */
	unsigned int mbufs;	/* --mbufs; 0 = sized automatically */
	const char *eal_args;	/* --eal passthrough, split on blanks */
	const char *stats_file;	/* --stats-file: final numbers as JSON */
	char *filter;		/* trailing arguments joined by spaces; NULL = no filter */
	const char *filter_file;	/* -F: read the expression from this file */
	const char *format;	/* --format: "pcap" (default) or "pcapng" */
	uint64_t file_bytes;	/* -C: cut files at this many bytes; 0 = no limit */
	uint64_t rotate_secs;	/* -G: cut files at every multiple of this in wall time */
	unsigned int max_files;	/* -W: keep at most this many files per queue */
	uint64_t retain_bytes;	/* --retain-bytes: bound on the capture's files; 0 = none */
	uint64_t fsync_ms;	/* --fsync-interval: fdatasync open files this often */
	const char *filter_engine;	/* --filter-engine; NULL = the default for this CPU */
	int dump;		/* -d: print the compiled filter and exit; -dd: and the code */
	int verbose;		/* -v: more logs (EAL's included) */
	bool help;
	bool version;
};

/*
 * Parse argv into cfg (defaults first). Returns 0, or -EINVAL with one line for the user in
 * err (without the "linecap: " prefix), e.g. "-s 70000000: snaplen must be between 64 and
 * 262144". cfg->filter is heap-allocated: release it with lc_config_release().
 */
int lc_config_parse(struct lc_config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Free what lc_config_parse allocated. Accepts a zeroed cfg. */
void lc_config_release(struct lc_config *cfg);

/* The --help text, matching what lc_config_parse accepts. */
const char *lc_config_usage(void);

#endif
