/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap-query DIR|FILE... [--start T] [--end T] [-w OUT|-] [--flows] [EXPRESSION]: every
 * packet of a capture that a tcpdump expression keeps within a time window, merged in
 * timestamp order, narrowed by the index beside each file. Exit status: 0 done, 1 runtime
 * failure, 2 bad usage or input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lc_version.h"
#include "linecap/filter.h"
#include "linecap/flows.h"
#include "linecap/merge.h"
#include "linecap/query.h"

static const char usage[] =
"Usage: linecap-query [options] DIR|FILE... [filter expression]\n"
"\n"
"Every packet of a capture that the filter expression (tcpdump syntax) keeps, within a\n"
"time window, merged in timestamp order into one nanosecond pcap: to a file (-w OUT) or\n"
"to standard output (-w -, or when standard output is not a terminal), so\n"
"'linecap-query /data/case42 -w - host 10.1.2.3 | tshark -r -' works. A directory stands\n"
"for its capture files, the ones still being written (.part) included, up to their last\n"
"whole record. The index beside each file (NAME.idx) says which files and which packets\n"
"can match: the expression itself then judges every packet read, so the answer is the one\n"
"reading everything would give (linecap-merge, tcpdump -r), only faster. A file without a\n"
"usable index is read whole.\n"
"\n"
"  -w, --write OUT      the packets to OUT (never over an existing file), or - for\n"
"                       standard output\n"
"      --start TIME     packets at or after TIME\n"
"      --end TIME       packets before TIME\n"
"                       TIME: RFC 3339 (2026-11-26T14:30:00.5Z, 2026-11-26T15:30:00+01:00;\n"
"                       without an offset: UTC), '2026-11-26 14:30:00' (UTC), seconds\n"
"                       since the epoch, now, or relative to now: -15m, -2h, -30s, -1d\n"
"      --format F       pcap (nanosecond; the default) or pcapng (the default when OUT\n"
"                       ends in .pcapng)\n"
"      --flows          the conversations the expression touches instead of packets, one\n"
"                       a line: a table on a terminal, else JSON lines (--json, --table\n"
"                       choose): first and last time, VLAN, protocol, both endpoints,\n"
"                       packets and bytes each way, TCP flags seen, and a state\n"
"                       (established, refused, unanswered, reset, icmp-unreachable,\n"
"                       one-way; unknown for non-IP). A conversation is listed when one\n"
"                       of its packets in the window matches; its counts are those of its\n"
"                       flows in each file that has packets of them in the window\n"
"      --json, --table  the form of --flows\n"
"      --no-index       read every file whole (the reference the index is checked against)\n"
"  -v, --verbose        say on stderr what the index spared: files and flows skipped,\n"
"                       records read\n"
"  -h, --help           this text\n"
"      --version\n"
"\n"
"Inputs are the arguments that name existing files or directories; the arguments after\n"
"them are the filter. Options may come anywhere.\n"
"Exit status: 0 done, 1 runtime failure, 2 bad usage or input.\n";

struct query {
	struct lc_merge_opts m;
	struct lc_query_opts q;
	int flows;		/* --flows */
	int form;		/* 0 by the terminal, 'j' JSON lines, 't' table */
	int verbose;
	int format_given;	/* --format */
};

static int
die(int status, const char *msg)
{
	fprintf(stderr, "linecap-query: %s\n", msg);
	return status;
}

static void
warned(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "linecap-query: %s\n", line);
}

static void
skipped(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "linecap-query: %s; skipped\n", line);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --start/--end: 0, or -1 (told). */
static int
parse_when(const char *opt, const char *s, uint64_t *ns)
{
	char err[600];

	if (lc_merge_parse_when(s, now_ns(), ns) == 0) {
		if (*ns == 0)
			*ns = 1;	/* the epoch itself, not "no bound" */
		return 0;
	}
	snprintf(err, sizeof(err), "--%s '%s': not a time (RFC 3339, seconds since the epoch, "
		 "now, or -15m: see --help)", opt, s);
	return die(-1, err);
}

/* An option getopt refused, told in one line. */
static int
bad_option(char **argv, int c)
{
	char err[600];

	if (optopt != 0 && strncmp(argv[optind - 1], "--", 2) != 0)
		snprintf(err, sizeof(err), "-%c: %s (see --help)", optopt,
			 c == ':' ? "needs a value" : "unknown option");
	else
		snprintf(err, sizeof(err), "%s: %s (see --help)", argv[optind - 1],
			 c == ':' ? "needs a value" : "unknown option");
	return die(-1, err);
}

enum { OPT_START = 256, OPT_END, OPT_FORMAT, OPT_FLOWS, OPT_JSON, OPT_TABLE, OPT_NO_INDEX,
       OPT_VERSION };

/* One option into qy: 0, 1 after --help or --version, -1 after a usage error (told). */
static int
apply_option(struct query *qy, int c, char **argv)
{
	switch (c) {
	case 'w': qy->m.out = optarg; return 0;
	case OPT_START: return parse_when("start", optarg, &qy->q.start_ns);
	case OPT_END: return parse_when("end", optarg, &qy->q.end_ns);
	case OPT_FORMAT:
		if (strcmp(optarg, "pcap") != 0 && strcmp(optarg, "pcapng") != 0)
			return die(-1, "--format: pcap or pcapng");
		qy->m.pcapng = strcmp(optarg, "pcapng") == 0;
		qy->format_given = 1;
		return 0;
	case OPT_FLOWS: qy->flows = 1; return 0;
	case OPT_JSON: qy->form = 'j'; return 0;
	case OPT_TABLE: qy->form = 't'; return 0;
	case OPT_NO_INDEX: qy->q.no_index = 1; return 0;
	case 'v': qy->verbose++; return 0;
	case 'h':
		if (fputs(usage, stdout) < 0 || fflush(stdout) != 0)
			exit(die(1, "standard output: cannot write the help"));
		return 1;
	case OPT_VERSION: printf("linecap-query %s\n", LC_VERSION); return 1;
	}
	return bad_option(argv, c);
}

static int
parse_options(int argc, char **argv, struct query *qy)
{
	static const struct option opts[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "start", required_argument, NULL, OPT_START },
		{ "end", required_argument, NULL, OPT_END },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "flows", no_argument, NULL, OPT_FLOWS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "table", no_argument, NULL, OPT_TABLE },
		{ "no-index", no_argument, NULL, OPT_NO_INDEX },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	opterr = 0;	/* one line of ours, not getopt's too */
	while ((c = getopt_long(argc, argv, ":w:vh", opts, NULL)) != -1)
		if ((rc = apply_option(qy, c, argv)) != 0)
			return rc;
	if (qy->q.start_ns && qy->q.end_ns && qy->q.end_ns <= qy->q.start_ns)
		return die(-1, "--end must be after --start");
	if (qy->flows && (qy->m.out != NULL || qy->format_given))
		return die(-1, "--flows prints conversations: -w and --format are for packets");
	if (!qy->flows && qy->form != 0)
		return die(-1, "--json and --table are the forms of --flows");
	if (!qy->flows && !qy->format_given && qy->m.out != NULL && strlen(qy->m.out) > 7 &&
	    strcmp(qy->m.out + strlen(qy->m.out) - 7, ".pcapng") == 0)
		qy->m.pcapng = 1;	/* as linecap -w NAME.pcapng */
	if (!qy->flows && qy->m.out == NULL) {
		if (isatty(STDOUT_FILENO))
			return die(-1, "no output: -w OUT, or -w - to pipe the packets (e.g. into "
				   "tshark -r -), or --flows for the conversations");
		qy->m.out = "-";
	}
	return 0;
}

/* The expression's program, for the index (NULL without one). 0, or -1 (told). */
static int
compile(const char *expr, struct lc_filter_prog **prog, struct query *qy)
{
	char err[1024];

	if (expr == NULL)
		return 0;
	*prog = lc_filter_compile(expr, 262144, err, sizeof(err));
	if (*prog == NULL)
		return die(-1, err);
	qy->q.insns = lc_filter_prog_insns(*prog, &qy->q.ninsns);
	if (lc_filter_prog_live_only(*prog)) {
		snprintf(err, sizeof(err), "filter '%s': reads what only a live interface knows "
			 "(inbound, outbound, ifindex): not in a capture file", expr);
		return die(-1, err);
	}
	return 0;
}

static void
tell(const struct query *qy, const struct lc_query_stats *st, uint64_t written, double secs)
{
	fprintf(stderr, "linecap-query: %u file%s: %u by index (%u not read, %u mostly "
		"matching read whole), %u read whole; "
		"%llu flows, %llu outside the window, %llu never matching (%llu judged); "
		"%llu records chosen; %llu %s in %.3f s\n", st->files, st->files == 1 ? "" : "s",
		st->indexed, st->skipped, st->dense, st->whole, (unsigned long long)st->flows,
		(unsigned long long)st->flows_outside, (unsigned long long)st->flows_never,
		(unsigned long long)st->flows_judged, (unsigned long long)st->records,
		(unsigned long long)written, qy->flows ? "conversations" : "packets written", secs);
}

/* Packets: plan from the indexes, then the merge with the expression and the window. */
static int
run_packets(struct query *qy, struct lc_merge_inputs *in, const char *filter)
{
	struct lc_merge_select *sel = calloc(in->n, sizeof(*sel));
	struct lc_query_stats st;
	struct lc_merge_stats ms;
	char err[1024];
	uint64_t t0 = now_ns();
	int rc;

	if (sel == NULL)
		return die(1, "out of memory");
	rc = lc_query_plan(&qy->q, (const char *const *)in->paths, in->fds, in->n, sel, &st,
			   warned, NULL);
	if (rc < 0) {
		free(sel);
		return die(1, "out of memory");
	}
	qy->m.inputs = (const char *const *)in->paths;
	qy->m.ninputs = in->n;
	qy->m.fds = in->fds;
	qy->m.filter = filter;
	qy->m.start_ns = qy->q.start_ns;
	qy->m.end_ns = qy->q.end_ns;
	qy->m.select = sel;
	rc = lc_merge(&qy->m, &ms, err, sizeof(err));
	lc_query_plan_free(sel, in->n);
	free(sel);
	if (rc < 0)
		return die(rc == -ENOMEM || rc == -EIO || rc == -ENOSPC || rc == -EPIPE ? 1 : 2,
			   err);
	if (qy->verbose)
		tell(qy, &st, ms.written, (double)(now_ns() - t0) / 1e9);
	return 0;
}

/* Conversations: the flows of the indexes (and of the files read whole) the expression
 * touches, joined. */
static int
run_flows(struct query *qy, struct lc_merge_inputs *in, const char *filter)
{
	struct lc_conv_table *t = lc_conv_create();
	struct lc_query_stats st;
	char err[1024];
	uint64_t t0 = now_ns();
	int rc, table = qy->form == 't' || (qy->form == 0 && isatty(STDOUT_FILENO));

	if (t == NULL)
		return die(1, "out of memory");
	rc = lc_query_flows(&qy->q, filter, (const char *const *)in->paths, in->fds, in->n, t,
			    &st, warned, NULL, err, sizeof(err));
	if (rc == 0) {
		rc = table ? lc_conv_print_table(stdout, t) : lc_conv_print_json(stdout, t);
		if (rc == 0 && fflush(stdout) != 0)
			rc = -errno;
		if (rc < 0)
			snprintf(err, sizeof(err), "standard output: %s", strerror(-rc));
	}
	if (rc == 0 && qy->verbose)
		tell(qy, &st, lc_conv_count(t), (double)(now_ns() - t0) / 1e9);
	lc_conv_free(t);
	if (rc < 0)
		return die(rc == -EINVAL ? 2 : 1, err);
	return 0;
}

int
main(int argc, char **argv)
{
	struct query qy = { 0 };
	struct lc_merge_inputs inputs = { .with_parts = 1 };
	struct lc_filter_prog *prog = NULL;
	char err[1024], *filter = NULL;
	int rc;

	rc = parse_options(argc, argv, &qy);
	if (rc != 0)
		return rc < 0 ? 2 : 0;
	lc_merge_raise_files();
	rc = lc_merge_args(argc, argv, optind, &inputs, &filter, skipped, NULL, err, sizeof(err));
	if (rc < 0) {
		lc_merge_inputs_free(&inputs);
		return die(rc == -ENOMEM || rc == -EMFILE || rc == -ENFILE ? 1 : 2, err);
	}
	if (compile(filter, &prog, &qy) < 0)
		rc = 2;
	else if (qy.flows)
		rc = run_flows(&qy, &inputs, filter);
	else
		rc = run_packets(&qy, &inputs, filter);
	lc_filter_prog_free(prog);
	lc_merge_inputs_free(&inputs);
	free(filter);
	return rc;
}
