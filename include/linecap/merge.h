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

/* Of one input, the records to read (an index chose them): their file offsets, increasing.
 * offsets NULL: every record. */
struct lc_record;

struct lc_merge_select {
	const uint64_t *offsets;
	uint64_t n;
	/* NULL, or called for the record read at offsets[k]: nonzero means it is not the
	 * record the index promised (the index does not match its file): the merge fails,
	 * naming it. */
	int (*check)(const void *arg, uint64_t k, const struct lc_record *rec);
	const void *check_arg;
};

struct lc_merge_opts {
	const char *out;		/* "-": standard output, or a character device (/dev/null):
					 * written as it goes */
	int pcapng;			/* write pcapng (one interface, ns) instead of pcap */
	const char *const *inputs;	/* files */
	unsigned int ninputs;
	int *fds;			/* NULL, or per input a descriptor open on it (taken
					 * over: closed by lc_merge) or -1: open the path */
	const char *filter;		/* tcpdump expression; NULL: keep all */
	uint64_t start_ns;		/* keep records at or after; 0: no bound */
	uint64_t end_ns;		/* keep records before; 0: no bound */
	const struct lc_merge_select *select;	/* NULL, or per input what to read */
	/* An input named NAME.part is a file being written: it ends at its last whole record
	 * (a record cut short there is its end, not an error). */
};

struct lc_merge_stats {
	uint64_t read, written, filtered, outside;
	uint64_t bytes;
};

/* Returns 0, or -errno with one line in err ("FILE: byte N: reason" for a bad input;
 * -EINVAL for bad input, others for runtime failures). */
int lc_merge(const struct lc_merge_opts *o, struct lc_merge_stats *st, char *err,
	     size_t errlen);

/* The inputs named on a command line, as lc_merge takes them (paths[i], fds[i]). */
struct lc_merge_inputs {
	char **paths;
	int *fds;		/* -1: lc_merge opens the path */
	unsigned int n, cap;
	int with_parts;		/* set before adding: a directory's open files (.part) too */
};

/* skip(arg, "DIR/NAME: reason") tells a directory's file that is not read. */
typedef void (*lc_merge_skip_fn)(void *arg, const char *line);

/*
 * Add path: a file (a pipe from <(...) included: the user's choice), or a directory's
 * capture files (.pcap, .pcapng) in name order. A file found in a directory (which may be
 * another user's, under -Z) is opened here, through the directory, only if it is a regular
 * file with one link: a FIFO, a device, a symbolic link or a second link to a file elsewhere
 * is skipped, told through skip. 0 or -errno (-ENOENT: path is not there; -EMFILE: more
 * files than descriptors, see lc_merge_raise_files).
 */
int lc_merge_inputs_add(struct lc_merge_inputs *in, const char *path, lc_merge_skip_fn skip,
			void *arg);

/* Free the inputs (closing what was opened). Accepts an empty set. */
void lc_merge_inputs_free(struct lc_merge_inputs *in);

/*
 * A command line's inputs and filter (linecap-merge, linecap-query), from argv[from]: the
 * arguments that name existing files or directories are inputs (added to in); the first
 * that names nothing begins the filter, argv[from..] joined by spaces into *filter (NULL:
 * none; free it). A first filter word that looks like a path (a '/', .pcap, .pcapng) and
 * does not compile as a filter is a missing input. 0, or -errno with one line in err.
 */
int lc_merge_args(int argc, char **argv, int from, struct lc_merge_inputs *in, char **filter,
		  lc_merge_skip_fn skip, void *arg, char *err, size_t errlen);

/* Every input is open at once (a directory's files from the listing on): raise the soft
 * limit on open files to the hard one (the default soft limit, 1024, is a few minutes of a
 * rotated capture). Past the hard limit, lc_merge_inputs_add fails with -EMFILE. */
void lc_merge_raise_files(void);

/* As lc_merge_parse_time, and also "now" and "-N" with a unit s, m, h or d (-15m): times
 * relative to now (ns since the epoch). Returns 0 or -EINVAL. */
int lc_merge_parse_when(const char *s, uint64_t now, uint64_t *ns);

/* "2026-11-26T14:30:00.5Z", "2026-11-26 14:30:00" (UTC) or seconds since the epoch with a
 * fraction. Returns 0 or -EINVAL. */
int lc_merge_parse_time(const char *s, uint64_t *ns);

#endif
