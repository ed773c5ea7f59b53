/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap-seqcheck [--sent GEN.json] FILE|DIR...: loss accounting from linecap-gen's tags.
 * Exit status: 0 nothing missing, duplicated or reordered; 1 findings; 2 bad usage or input.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lc_version.h"
#include "linecap/gen.h"
#include "linecap/manifest.h"
#include "linecap/reader.h"

static const char usage[] =
"Usage: linecap-seqcheck [--sent GEN.json] FILE|DIR...\n"
"\n"
"Read captured files (pcap or pcapng; a directory stands for its capture files) and count,\n"
"per linecap-gen generator and flow, the frames received, the sequence numbers missing\n"
"(as ranges), the duplicates and the frames that arrived after a later one. With --sent\n"
"(linecap-gen --stats-file), frames lost at the end of a flow are counted too; a file\n"
"without the generator's id, sent and per_flow is refused. In a directory only regular\n"
"files with one link are read: a FIFO, device, symbolic link or second hard link there is\n"
"skipped with a warning.\n"
"Exit status: 0 clean, 1 loss, duplicates or reordering, 2 bad usage or input.\n";

static void
say(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
}

/* Read one capture file, from fd (taken over) or, fd < 0, opened from path: O_NONBLOCK, so
 * that a FIFO named on the command line that nobody writes reads as empty, not a hang. */
static int
read_file(struct lc_seq *s, const char *path, int fd, uint64_t *untagged)
{
	char err[600];
	struct lc_reader *r;
	struct lc_record rec;
	int rc;

	if (fd < 0)
		fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		fprintf(stderr, "linecap-seqcheck: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	r = lc_reader_fdopen(fd, path, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "linecap-seqcheck: %s\n", err);
		return -1;
	}
	while ((rc = lc_reader_next(r, &rec, err, sizeof(err))) == 1) {
		uint16_t id;
		uint32_t flow;
		uint64_t seq;

		if (lc_gen_tag(rec.data, rec.caplen, &id, &flow, &seq))
			lc_seq_add(s, id, flow, seq);
		else
			(*untagged)++;
	}
	lc_reader_close(r);
	if (rc < 0) {
		fprintf(stderr, "linecap-seqcheck: %s\n", err);
		return -1;
	}
	return 0;
}

static int
read_path(struct lc_seq *s, const char *path, uint64_t *untagged)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "linecap-seqcheck: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return read_file(s, path, -1, untagged);

	/* In name order: a queue's files are numbered, so that is the order they were written
	 * (readdir's order would make a rotated capture look reordered). */
	struct dirent **names;
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int n = dfd < 0 ? -1 : scandirat(dfd, ".", &names, NULL, alphasort), rc = 0;

	if (n < 0) {
		fprintf(stderr, "linecap-seqcheck: %s: %s\n", path, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char p[4096], why[600];

		if (rc == 0 && lc_reader_is_capture_name(names[i]->d_name)) {
			int fd = lc_manifest_open_file(dfd, names[i]->d_name, O_RDONLY, why,
							   sizeof(why));

			if (fd < 0) {
				fprintf(stderr, "linecap-seqcheck: %s/%s; skipped\n", path, why);
			} else {
				snprintf(p, sizeof(p), "%s/%s", path, names[i]->d_name);
				rc = read_file(s, p, fd, untagged);
			}
		}
		free(names[i]);
	}
	free(names);
	close(dfd);
	return rc;
}

/* A non-negative JSON integer no larger than max? */
static int
count_ok(const json_t *v, uint64_t max)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 &&
	       (uint64_t)json_integer_value(v) <= max;
}

/* Load linecap-gen's --stats-file into s: 0, or -1 with one line said. The file is opened
 * without blocking (a FIFO is refused, not waited on) and must be a regular file holding
 * the generator's fields: id, sent and per_flow, of their types. */
static int
load_sent(struct lc_seq *s, const char *path)
{
	json_error_t je;
	json_t *j, *flows, *v;
	struct stat st;
	size_t i;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "linecap-seqcheck: --sent %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "linecap-seqcheck: --sent %s: not a regular file\n", path);
		close(fd);
		return -1;
	}
	j = json_loadfd(fd, 0, &je);
	close(fd);
	if (j == NULL) {
		fprintf(stderr, "linecap-seqcheck: --sent %s: %s\n", path, je.text);
		return -1;
	}
	flows = json_object_get(j, "per_flow");
	if (!json_is_object(j) || !count_ok(json_object_get(j, "id"), UINT16_MAX) ||
	    !count_ok(json_object_get(j, "sent"), INT64_MAX) || !json_is_array(flows)) {
		fprintf(stderr, "linecap-seqcheck: --sent %s: not a linecap-gen stats file (wants "
			"id, sent and per_flow, as linecap-gen --stats-file writes them)\n", path);
		json_decref(j);
		return -1;
	}
	json_array_foreach(flows, i, v) {
		if (!count_ok(v, INT64_MAX) || i > UINT32_MAX) {
			fprintf(stderr, "linecap-seqcheck: --sent %s: per_flow[%zu] is not a count "
				"of frames\n", path, i);
			json_decref(j);
			return -1;
		}
	}
	uint16_t id = (uint16_t)json_integer_value(json_object_get(j, "id"));

	json_array_foreach(flows, i, v)
		lc_seq_expect(s, id, (uint32_t)i, (uint64_t)json_integer_value(v));
	json_decref(j);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "sent", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	const char *sent = NULL;
	uint64_t received, missing, dups, reordered, untagged = 0;
	struct lc_seq *s;
	int c;

	opterr = 0;	/* one line of ours, not getopt's too */
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 's': sent = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("linecap-seqcheck %s\n", LC_VERSION); return 0;
		default:
			if (optopt != 0 && strncmp(argv[optind - 1], "--", 2) != 0)
				fprintf(stderr, "linecap-seqcheck: -%c: %s (see --help)\n", optopt,
					c == ':' ? "needs a value" : "unknown option");
			else
				fprintf(stderr, "linecap-seqcheck: %s: %s (see --help)\n",
					argv[optind - 1], c == ':' ? "needs a value" : "unknown option");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "linecap-seqcheck: give files or directories (see --help)\n");
		return 2;
	}
	s = lc_seq_new();
	if (s == NULL) {
		fprintf(stderr, "linecap-seqcheck: out of memory\n");
		lc_seq_free(s);
		return 1;
	}
	if (sent != NULL && load_sent(s, sent) < 0) {
		lc_seq_free(s);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (read_path(s, argv[i], &untagged) < 0) {
			lc_seq_free(s);
			return 2;
		}
	uint64_t bad = lc_seq_report(s, say, NULL, &received, &missing, &dups, &reordered);
	if (untagged)
		printf("%llu frames without a linecap-gen tag were left out\n",
		       (unsigned long long)untagged);
	lc_seq_free(s);
	return bad ? 1 : 0;
}
