/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap-merge -w OUT FILE|DIR... [filter expression]: merge shards by timestamp into one
 * nanosecond pcap. Exit status: 0 done, 1 runtime failure, 2 bad usage or input.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lc_version.h"
#include "linecap/merge.h"
#include "linecap/reader.h"

static const char usage[] =
"Usage: linecap-merge -w OUT [--start TIME] [--end TIME] FILE|DIR... [filter expression]\n"
"\n"
"Merge capture files (pcap or pcapng, micro- or nanosecond; a directory stands for its\n"
".pcap and .pcapng files) into one nanosecond pcap ordered by timestamp. Records with\n"
"equal timestamps keep the order of the inputs. Memory does not grow with the inputs'\n"
"size. OUT is written as OUT.part and renamed when complete; an existing OUT is never\n"
"overwritten, nor a symbolic link at OUT (or OUT.part) followed. Inputs are the\n"
"arguments that name existing files or directories; the arguments after them are the\n"
"filter (tcpdump syntax). Options may come anywhere.\n"
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


static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add a file, or a directory's capture files in name order. */
static int
add_input(const char *path, char ***v, unsigned int *n)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		*v = realloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = strdup(path);
		return 0;
	}
	DIR *d = opendir(path);
	struct dirent *de;
	unsigned int first = *n;

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		char *p;

		if (!lc_reader_is_capture_name(de->d_name))
			continue;
		if (asprintf(&p, "%s/%s", path, de->d_name) < 0)
			break;
		*v = realloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = p;
	}
	closedir(d);
	qsort(*v + first, *n - first, sizeof(**v), by_name);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "start", required_argument, NULL, 's' },
		{ "end", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct lc_merge_opts o = { 0 };
	struct lc_merge_stats st;
	char **inputs = NULL, err[1024], *filter = NULL;
	unsigned int n = 0;
	int c, rc, i;
	size_t flen = 0;

	while ((c = getopt_long(argc, argv, "w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'w': o.out = optarg; break;
		case 's':
		case 'e':
			if (lc_merge_parse_time(optarg, c == 's' ? &o.start_ns : &o.end_ns) < 0) {
				snprintf(err, sizeof(err), "--%s '%s': not a time (see --help)",
					 c == 's' ? "start" : "end", optarg);
				return die(2, err);
			}
			break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("linecap-merge %s\n", LC_VERSION); return 0;
		default:
			snprintf(err, sizeof(err), "%s: unknown option or missing value (see --help)",
				 argv[optind - 1]);
			return die(2, err);
		}
	}
	if (o.out == NULL)
		return die(2, "no output: give one with -w OUT (see --help)");
	for (i = optind; i < argc; i++) {
		struct stat sb;

		if (stat(argv[i], &sb) != 0)
			break;		/* the filter begins */
		if ((rc = add_input(argv[i], &inputs, &n)) < 0) {
			snprintf(err, sizeof(err), "%s: %s", argv[i], strerror(-rc));
			return die(2, err);
		}
	}
	if (n == 0) {
		snprintf(err, sizeof(err), "no input files%s%s", i < argc ? ": no such file " : "",
			 i < argc ? argv[i] : "");
		return die(2, err);
	}
	for (int k = i; k < argc; k++)
		flen += strlen(argv[k]) + 1;
	if (flen) {
		filter = calloc(1, flen);
		for (int k = i; k < argc; k++) {
			if (k > i)
				strcat(filter, " ");
			strcat(filter, argv[k]);
		}
	}
	if (o.start_ns && o.end_ns && o.end_ns <= o.start_ns)
		return die(2, "--end must be after --start");
	o.inputs = (const char *const *)inputs;
	o.ninputs = n;
	o.filter = filter;
	rc = lc_merge(&o, &st, err, sizeof(err));
	for (unsigned int k = 0; k < n; k++)
		free(inputs[k]);
	free(inputs);
	free(filter);
	if (rc < 0)
		return die(rc == -ENOMEM || rc == -EIO || rc == -ENOSPC ? 1 : 2, err);
	fprintf(stderr, "linecap-merge: %u input%s, %llu records read, %llu written to %s "
		"(%llu filtered out, %llu outside the time window)\n", n, n == 1 ? "" : "s",
		(unsigned long long)st.read, (unsigned long long)st.written, o.out,
		(unsigned long long)st.filtered, (unsigned long long)st.outside);
	return 0;
}
