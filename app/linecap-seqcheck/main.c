/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap-seqcheck [--sent GEN.json] FILE|DIR...: loss accounting from linecap-gen's tags.
 * Exit status: 0 nothing missing, duplicated or reordered; 1 findings; 2 bad usage or input.
 */
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lc_version.h"
#include "linecap/gen.h"
#include "linecap/reader.h"

static const char usage[] =
"Usage: linecap-seqcheck [--sent GEN.json] FILE|DIR...\n"
"\n"
"Read captured files (pcap or pcapng; a directory stands for its capture files) and count,\n"
"per linecap-gen generator and flow, the frames received, the sequence numbers missing\n"
"(as ranges), the duplicates and the frames that arrived after a later one. With --sent\n"
"(linecap-gen --stats-file), frames lost at the end of a flow are counted too.\n"
"Exit status: 0 clean, 1 loss, duplicates or reordering, 2 bad usage or input.\n";

static void
say(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
}

static int
read_file(struct lc_seq *s, const char *path, uint64_t *untagged)
{
	char err[600];
	struct lc_reader *r = lc_reader_open(path, err, sizeof(err));
	struct lc_record rec;
	int rc;

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
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return read_file(s, path, untagged);

	/* In name order: a queue's files are numbered, so that is the order they were written
	 * (readdir's order would make a rotated capture look reordered). */
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort), rc = 0;

	if (n < 0) {
		perror(path);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char p[4096];

		if (rc == 0 && lc_reader_is_capture_name(names[i]->d_name)) {
			snprintf(p, sizeof(p), "%s/%s", path, names[i]->d_name);
			rc = read_file(s, p, untagged);
		}
		free(names[i]);
	}
	free(names);
	return rc;
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
	struct lc_seq *s = lc_seq_new();
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': sent = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("linecap-seqcheck %s\n", LC_VERSION); return 0;
		default: fprintf(stderr, "linecap-seqcheck: bad option (see --help)\n"); return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "linecap-seqcheck: give files or directories (see --help)\n");
		return 2;
	}
	if (sent != NULL) {
		json_error_t je;
		json_t *j = json_load_file(sent, 0, &je), *flows;
		size_t i;

		if (j == NULL) {
			fprintf(stderr, "linecap-seqcheck: --sent %s: %s\n", sent, je.text);
			return 2;
		}
		uint16_t id = (uint16_t)json_integer_value(json_object_get(j, "id"));
		flows = json_object_get(j, "per_flow");
		json_t *v;
		json_array_foreach(flows, i, v)
			lc_seq_expect(s, id, (uint32_t)i, (uint64_t)json_integer_value(v));
		json_decref(j);
	}
	for (int i = optind; i < argc; i++)
		if (read_path(s, argv[i], &untagged) < 0)
			return 2;
	uint64_t bad = lc_seq_report(s, say, NULL, &received, &missing, &dups, &reordered);
	if (untagged)
		printf("%llu frames without a linecap-gen tag were left out\n",
		       (unsigned long long)untagged);
	lc_seq_free(s);
	return bad ? 1 : 0;
}
