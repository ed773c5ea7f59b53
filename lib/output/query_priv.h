/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_QUERY_PRIV_H
#define LINECAP_QUERY_PRIV_H

/* What query.c (records to read) and query_flows.c (--flows) share. */
#include <stddef.h>
#include <stdint.h>

#include "linecap/index.h"
#include "linecap/query.h"

/* What the program sees of a flow: its key and the TCP flags it could carry. Compared as
 * bytes (lc_query_flow_sig zeroes the padding). */
struct lc_query_flow_sig {
	struct lc_flow_key key;
	uint8_t tcp_flags;
};

void lc_query_flow_sig(const struct lc_index_flow *f, struct lc_query_flow_sig *s);

/* The program's verdicts on flows, remembered by signature. */
struct lc_query_judge {
	const struct bpf_insn *insns;	/* NULL: every flow ALWAYS */
	unsigned int ninsns;
	void *slots;
	size_t cap, n;
	uint64_t judged;		/* verdicts computed (not remembered) */
};

enum lc_verdict lc_query_judge(struct lc_query_judge *j, const struct lc_index_flow *f);
void lc_query_judge_free(struct lc_query_judge *j);

/* The manifests' records of the indexes, one directory at a time (inputs come directory by
 * directory). Zeroed to start; lc_query_dirs_free at the end. */
struct lc_query_dirs {
	char dir[4096];
	char why[300];			/* a broken chain */
	struct lc_name_index *names;	/* file name -> record */
	void *v;
	size_t n, cap;
};

void lc_query_dirs_free(struct lc_query_dirs *d);

/* The index beside the capture file path (open on fd, or -1) when its directory's manifest
 * records it and it is that one (size and SHA-256: the chain of custody vouches for it), it
 * reads as valid and describes a file of this size; else NULL (warn tells why, except for a
 * file whose manifest names no index). */
struct lc_index *lc_query_open_index(struct lc_query_dirs *d, const char *path, int fd,
				     lc_query_warn_fn warn, void *arg);

/* Does the manifest record path's index, and path's records (their times, as recorded) all
 * lie outside the window, or is it recorded with no record? Then nothing of it is read. */
int lc_query_recorded_outside(struct lc_query_dirs *d, const struct lc_query_opts *o,
			      const char *path, int fd, lc_query_warn_fn warn, void *arg);

/* Do records stamped first_ns..last_ns meet the window? */
int lc_query_in_window(const struct lc_query_opts *o, uint64_t first_ns, uint64_t last_ns);

#endif
