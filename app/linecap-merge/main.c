/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap-merge -w OUT FILE|DIR... [filter expression]: merge shards by timestamp into one
 * nanosecond pcap. Exit status: 0 done, 1 runtime failure, 2 bad usage or input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_version.h"
#include "linecap/filter.h"
#include "linecap/merge.h"

static const char usage[] =
"Usage: linecap-merge -w OUT [--start TIME] [--end TIME] FILE|DIR... [filter expression]\n"
"\n"
"Merge capture files (pcap or pcapng, micro- or nanosecond; a directory stands for its\n"
".pcap and .pcapng files) into one nanosecond pcap ordered by timestamp. Records with\n"
"equal timestamps keep the order of the inputs. Memory does not grow with the inputs'\n"
"size. OUT is written as OUT.part and renamed when complete; an existing OUT is never\n"
"overwritten, nor a symbolic link at OUT (or OUT.part) followed. Inputs are the\n"
"arguments that name existing files or directories; the arguments after them are the\n"
"filter (tcpdump syntax); one that looks like a path (a '/', .pcap, .pcapng) and is not\n"
"a filter is a missing input. Options may come anywhere. In a directory only regular files\n"
"with one link are read: a FIFO, device, symbolic link or second hard link there is\n"
"skipped with a warning. A FIFO or pipe named as an argument is read (a FIFO nobody\n"
"writes to reads as empty: an error, not a wait).\n"
"\n"
"  -w, --write OUT   the merged file\n"
"      --start TIME  keep records at or after TIME\n"
"      --end TIME    keep records before TIME\n"
"                    TIME: 2026-11-26T14:30:00.5Z, '2026-11-26 14:30:00' (UTC), or\n"
"                    seconds since the epoch\n"
"  -h, --help        this text\n"
"      --version\n"
"\n"
"Exit status: 0 done, 1 runtime failure, 2 bad usage or input (one line naming the file\n"
"and the byte offset for a bad input).\n";

static int
die(int status, const char *msg)
{
	fprintf(stderr, "linecap-merge: %s\n", msg);
	return status;
}


static void
skipped(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "linecap-merge: %s; skipped\n", line);
}

/* The options into o. -1 after a usage error (told), 1 after --help or --version, else 0. */
static int
parse_options(int argc, char **argv, struct lc_merge_opts *o)
{
	static const struct option opts[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "start", required_argument, NULL, 's' },
		{ "end", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char err[1024];
	int c;

	opterr = 0;	/* one line of ours, not getopt's too */
	while ((c = getopt_long(argc, argv, ":w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'w': o->out = optarg; break;
		case 's':
		case 'e':
			if (lc_merge_parse_time(optarg, c == 's' ? &o->start_ns : &o->end_ns) < 0) {
				snprintf(err, sizeof(err), "--%s '%s': not a time (see --help)",
					 c == 's' ? "start" : "end", optarg);
				return die(-1, err);
			}
			break;
		case 'h': fputs(usage, stdout); return 1;
		case 'V': printf("linecap-merge %s\n", LC_VERSION); return 1;
		default:
			if (optopt != 0 && strncmp(argv[optind - 1], "--", 2) != 0)
				snprintf(err, sizeof(err), "-%c: %s (see --help)", optopt,
					 c == ':' ? "needs a value" : "unknown option");
			else
				snprintf(err, sizeof(err), "%s: %s (see --help)", argv[optind - 1],
					 c == ':' ? "needs a value" : "unknown option");
			return die(-1, err);
		}
	}
	if (o->out == NULL)
		return die(-1, "no output: give one with -w OUT (see --help)");
	if (o->start_ns && o->end_ns && o->end_ns <= o->start_ns)
		return die(-1, "--end must be after --start");
	return 0;
}

int
main(int argc, char **argv)
{
	struct lc_merge_opts o = { 0 };
	struct lc_merge_inputs inputs = { 0 };
	struct lc_merge_stats st;
	char err[1024], *filter;
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 2 : 0;
	lc_merge_raise_files();
	rc = lc_merge_args(argc, argv, optind, &inputs, &filter, skipped, NULL, err, sizeof(err));
	if (rc < 0) {
		lc_merge_inputs_free(&inputs);
		return die(rc == -ENOMEM || rc == -EMFILE || rc == -ENFILE ? 1 : 2, err);
	}
	o.inputs = (const char *const *)inputs.paths;
	o.ninputs = inputs.n;
	o.fds = inputs.fds;
	o.filter = filter;
	rc = lc_merge(&o, &st, err, sizeof(err));
	lc_merge_inputs_free(&inputs);
	free(filter);
	if (rc < 0)
		return die(rc == -ENOMEM || rc == -EIO || rc == -ENOSPC ? 1 : 2, err);
	fprintf(stderr, "linecap-merge: %u input%s, %llu records read, %llu written to %s "
		"(%llu filtered out, %llu outside the time window)\n", o.ninputs,
		o.ninputs == 1 ? "" : "s", (unsigned long long)st.read,
		(unsigned long long)st.written, o.out, (unsigned long long)st.filtered,
		(unsigned long long)st.outside);
	return 0;
}
