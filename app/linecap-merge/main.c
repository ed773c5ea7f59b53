/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap-merge -w OUT FILE|DIR... [filter expression]: merge shards by timestamp into one
 * nanosecond pcap. Exit status: 0 done, 1 runtime failure, 2 bad usage or input.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_version.h"
#include "linecap/manifest.h"
#include "linecap/filter.h"
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


struct entry {
	char *path;
	int fd;
};

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

static int
push(struct entry **v, unsigned int *n, char *path, int fd)
{
	struct entry *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (nv == NULL || path == NULL) {
		free(path);
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	*v = nv;
	(*v)[(*n)++] = (struct entry){ path, fd };
	return 0;
}

/*
 * Add a file, or a directory's capture files in name order. A file found in a directory
 * (which may be another user's, under -Z) is opened here, through the directory, only if it
 * is a regular file with one link: a FIFO, a device, a symbolic link or a second link to a
 * file elsewhere is skipped with a warning. A file named on the command line is the user's
 * choice (a pipe from <(...) included).
 */
static int
add_input(const char *path, struct entry **v, unsigned int *n)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return push(v, n, strdup(path), -1);
	DIR *d = opendir(path);
	struct dirent *de;
	unsigned int first = *n;
	char why[600];
	int rc = 0;

	if (d == NULL)
		return -errno;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *p;
		int fd;

		if (!lc_reader_is_capture_name(de->d_name))
			continue;
		fd = lc_manifest_open_file(dirfd(d), de->d_name, O_RDONLY, why, sizeof(why));
		if (fd < 0) {
			fprintf(stderr, "linecap-merge: %s/%s; skipped\n", path, why);
			continue;
		}
		if (asprintf(&p, "%s/%s", path, de->d_name) < 0)
			p = NULL;
		rc = push(v, n, p, fd);
	}
	closedir(d);
	qsort(*v + first, *n - first, sizeof(**v), by_name);
	return rc;
}

static void
free_inputs(struct entry *v, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++) {
		free(v[k].path);
		if (v[k].fd >= 0)
			close(v[k].fd);
	}
	free(v);
}

/* Does a word look like a file's path rather than a filter's? */
static int
looks_like_path(const char *s)
{
	size_t n = strlen(s);

	return strchr(s, '/') != NULL || (n > 5 && strcmp(s + n - 5, ".pcap") == 0) ||
	       (n > 7 && strcmp(s + n - 7, ".pcapng") == 0);
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
	struct entry *inputs = NULL;
	char err[1024], *filter = NULL;
	unsigned int n = 0;
	int c, rc, i;
	size_t flen = 0;

	opterr = 0;	/* one line of ours, not getopt's too */
	while ((c = getopt_long(argc, argv, ":w:h", opts, NULL)) != -1) {
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
			if (optopt != 0 && strncmp(argv[optind - 1], "--", 2) != 0)
				snprintf(err, sizeof(err), "-%c: %s (see --help)", optopt,
					 c == ':' ? "needs a value" : "unknown option");
			else
				snprintf(err, sizeof(err), "%s: %s (see --help)", argv[optind - 1],
					 c == ':' ? "needs a value" : "unknown option");
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
			free_inputs(inputs, n);
			snprintf(err, sizeof(err), "%s: %s", argv[i], strerror(-rc));
			return die(2, err);
		}
	}
	/* The first word that names nothing begins the filter; one that looks like a path
	 * (and is not a filter) is a missing input. */
	if (i < argc && looks_like_path(argv[i])) {
		struct lc_filter_prog *prog = NULL;
		const struct lc_filter_ops *engine;
		char ferr[512], *expr = NULL;
		size_t len = 0;

		for (int k = i; k < argc; k++)
			len += strlen(argv[k]) + 1;
		expr = calloc(1, len);
		for (int k = i; expr != NULL && k < argc; k++) {
			if (k > i)
				strcat(expr, " ");
			strcat(expr, argv[k]);
		}
		if (expr != NULL && lc_filter_prepare(expr, 262144, NULL, &prog, &engine, ferr,
						      sizeof(ferr)) < 0) {
			free(expr);
			free_inputs(inputs, n);
			snprintf(err, sizeof(err), "%s: %s", argv[i], strerror(ENOENT));
			return die(2, err);
		}
		lc_filter_prog_free(prog);
		free(expr);
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
	if (o.start_ns && o.end_ns && o.end_ns <= o.start_ns) {
		free_inputs(inputs, n);
		free(filter);
		return die(2, "--end must be after --start");
	}
	char **paths = calloc(n, sizeof(*paths));
	int *fds = calloc(n, sizeof(*fds));

	if (paths == NULL || fds == NULL) {
		free(paths);
		free(fds);
		free_inputs(inputs, n);
		free(filter);
		return die(1, "out of memory");
	}
	for (unsigned int k = 0; k < n; k++) {
		paths[k] = inputs[k].path;
		fds[k] = inputs[k].fd;
	}
	o.inputs = (const char *const *)paths;
	o.ninputs = n;
	o.fds = fds;
	o.filter = filter;
	rc = lc_merge(&o, &st, err, sizeof(err));
	for (unsigned int k = 0; k < n; k++)
		free(paths[k]);
	free(paths);
	free(fds);
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
