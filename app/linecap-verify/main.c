/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap-verify [--repair] DIR: check a capture directory against its manifest.
 * Exit status: 0 all intact, 1 findings, 2 bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lc_version.h"
#include "linecap/verify.h"

static const char usage[] =
"Usage: linecap-verify [--repair] DIR\n"
"\n"
"Check the capture directory DIR against its manifest.jsonl: the manifest's hash chain;\n"
"every recorded file present, with its SHA-256, size and packet count, and well formed\n"
"(whole records, caplen <= snaplen, Ethernet, timestamps never going backwards within a\n"
"file or from file to file of a queue); every file's index (NAME.idx) its record names\n"
"present, a regular file (never read through a link), with the SHA-256 and size of the\n"
"record, and the index of its file (built again from the file: the same bytes); no\n"
"retired file or index left behind; no file or index the manifest lacks; no file left\n"
"open by a crash. One line per finding.\n"
"\n"
"  --repair   cut each file left open by a crash (NAME.part) back to its last whole\n"
"             record, give it its final name and add it to the manifest, marked repaired,\n"
"             with its index built; build again an index a crash lost (kept only when it\n"
"             is the one its record gives); complete retirements a crash cut short\n"
"  -h, --help this text\n"
"      --version\n"
"\n"
"Exit status: 0 everything intact (after repairs), 1 findings, 2 bad usage.\n";

static void
say(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct lc_verify_summary sum;
	int repair = 0, c, n;

	opterr = 0;	/* one line of ours, not getopt's too */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': repair = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		case 'V': printf("linecap-verify %s\n", LC_VERSION); return 0;
		default:
			if (optopt != 0 && strncmp(argv[optind - 1], "--", 2) != 0)
				fprintf(stderr, "linecap-verify: -%c: unknown option (see --help)\n",
					optopt);
			else
				fprintf(stderr, "linecap-verify: %s: %s (see --help)\n",
					argv[optind - 1], c == ':' ? "needs a value" :
					"unknown option");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "linecap-verify: give one capture directory (see --help)\n");
		return 2;
	}
	n = lc_verify_dir(argv[optind], repair, say, NULL, &sum);
	if (n < 0)
		return 2;
	printf("%s: %u file%s recorded, %u intact, %u retired by policy, %u repaired, "
	       "%u finding%s\n", argv[optind], sum.recorded, sum.recorded == 1 ? "" : "s",
	       sum.verified, sum.retired, sum.repaired, sum.findings,
	       sum.findings == 1 ? "" : "s");
	return sum.findings ? 1 : 0;
}
