/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_MERGE_H
#define LINECAP_MERGE_H

/*
 * k-way merge of capture files (pcap or pcapng, any timestamp resolution) into one
 * nanosecond pcap ordered by timestamp; equal timestamps keep input order (the order the
 * inputs are given, then record order). Streaming: one record per input in memory, a heap
 * of the inputs' next records. Optionally a filter (the capture's engine) and a time window.
 * The output is written under OUT.part and renamed when complete; an existing OUT is never
 * overwritten.
 */
#include <stddef.h>
#include <stdint.h>

struct lc_merge_opts {
	const char *out;
	const char *const *inputs;	/* files */
	unsigned int ninputs;
	int *fds;			/* NULL, or per input a descriptor open on it (taken
					 * over: closed by lc_merge) or -1: open the path */
	const char *filter;		/* tcpdump expression; NULL: keep all */
	uint64_t start_ns;		/* keep records at or after; 0: no bound */
	uint64_t end_ns;		/* keep records before; 0: no bound */
};

struct lc_merge_stats {
	uint64_t read, written, filtered, outside;
	uint64_t bytes;
};

/* Returns 0, or -errno with one line in err ("FILE: byte N: reason" for a bad input;
 * -EINVAL for bad input, others for runtime failures). */
int lc_merge(const struct lc_merge_opts *o, struct lc_merge_stats *st, char *err,
	     size_t errlen);

/* "2026-11-26T14:30:00.5Z", "2026-11-26 14:30:00" (UTC) or seconds since the epoch with a
 * fraction. Returns 0 or -EINVAL. */
int lc_merge_parse_time(const char *s, uint64_t *ns);

#endif
