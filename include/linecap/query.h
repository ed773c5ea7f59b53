/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_QUERY_H
#define LINECAP_QUERY_H

/*
 * linecap-query's planning: of each capture file, which records to read, from its index
 * (linecap/index.h). A file's index is used when it is there, reads as valid and describes
 * a file of the size found (else the file is read whole: never a wrong answer, only a slower
 * one). With it:
 *   - a file whose records all lie outside the time window is not read at all;
 *   - each flow outside the window, or whose packets the query's program can never keep
 *     (lc_filter_3v over what the flow's packets share; verdicts are cached by flow, so a
 *     flow seen in many files is judged once), is skipped;
 *   - the positions of the other flows are read, merged and sorted: the records to read.
 * The index only narrows: the program itself (lc_merge with the expression) judges every
 * record read, and the window is applied record by record.
 */
#include <stddef.h>
#include <stdint.h>

#include "linecap/index.h"
#include "linecap/merge.h"

struct bpf_insn;
struct lc_conv_table;

struct lc_query_opts {
	const struct bpf_insn *insns;	/* the expression's program; NULL: every packet */
	unsigned int ninsns;
	uint64_t start_ns, end_ns;	/* the window: [start, end); 0: unbounded */
	int no_index;			/* read every file whole (the reference, for tests) */
};

struct lc_query_stats {
	unsigned int files;		/* inputs */
	unsigned int indexed;		/* ... planned from their index */
	unsigned int whole;		/* ... read whole (no index, an open .part, a bad one) */
	unsigned int skipped;		/* ... of the indexed, not read at all */
	unsigned int dense;		/* ... of the indexed, read whole: most records chosen */
	uint64_t flows;			/* flows in the indexes read */
	uint64_t flows_never;		/* ... the program can never keep */
	uint64_t flows_outside;		/* ... outside the window */
	uint64_t flows_judged;		/* distinct flows the program was run over */
	uint64_t records;		/* records chosen in indexed files */
};

/* warn(arg, "FILE: reason") tells an index not used (the file is read whole). */
typedef void (*lc_query_warn_fn)(void *arg, const char *line);

/*
 * Plan the reading of the n inputs (paths as lc_merge takes them; fds: their descriptors,
 * -1 where lc_merge opens the path): sel[i] receives what to read of input i (offsets NULL:
 * all of it; n == 0: nothing). Free with lc_query_plan_free. 0, or -ENOMEM.
 */
int lc_query_plan(const struct lc_query_opts *o, const char *const *paths, const int *fds,
		  unsigned int n, struct lc_merge_select *sel, struct lc_query_stats *st,
		  lc_query_warn_fn warn, void *arg);
void lc_query_plan_free(struct lc_merge_select *sel, unsigned int n);

/*
 * --flows: the conversations of the n inputs that the expression (expr, NULL: every
 * packet; o->insns its program) touches within the window, into t (lc_query_flows.c's
 * comment says how). 0, or -errno with one line in err (-EINVAL: a bad input or filter).
 */
int lc_query_flows(const struct lc_query_opts *o, const char *expr, const char *const *paths,
		   const int *fds, unsigned int n, struct lc_conv_table *t,
		   struct lc_query_stats *st, lc_query_warn_fn warn, void *arg, char *err,
		   size_t errlen);

#endif
