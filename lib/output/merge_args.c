/* SPDX-License-Identifier: BSD-3-Clause */
/* The command line of the tools that read a capture's files (linecap-merge, linecap-query):
 * inputs first, then the filter expression. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "linecap/filter.h"
#include "linecap/merge.h"

/* Does a word look like a file's path rather than a filter's? */
static int
looks_like_path(const char *s)
{
	size_t n = strlen(s);

	return strchr(s, '/') != NULL || (n > 5 && strcmp(s + n - 5, ".pcap") == 0) ||
	       (n > 7 && strcmp(s + n - 7, ".pcapng") == 0);
}

/* argv[from..argc) joined by spaces (the filter), or NULL when there is none. */
static char *
join(char **argv, int from, int argc)
{
	size_t len = 0;
	char *s;

	for (int k = from; k < argc; k++)
		len += strlen(argv[k]) + 1;
	if (len == 0 || (s = calloc(1, len)) == NULL)
		return NULL;
	for (int k = from; k < argc; k++) {
		if (k > from)
			strcat(s, " ");
		strcat(s, argv[k]);
	}
	return s;
}

/* Is expr a filter libpcap compiles? */
static int
compiles(const char *expr)
{
	struct lc_filter_prog *prog = NULL;
	const struct lc_filter_ops *engine;
	char ferr[512];
	int rc = lc_filter_prepare(expr, 262144, NULL, &prog, &engine, ferr, sizeof(ferr));

	lc_filter_prog_free(prog);
	return rc == 0;
}

void
lc_merge_raise_files(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
lc_merge_args(int argc, char **argv, int from, struct lc_merge_inputs *in, char **filter,
	      lc_merge_skip_fn skip, void *arg, char *err, size_t errlen)
{
	int i, rc;

	*filter = NULL;
	for (i = from; i < argc; i++) {
		struct stat sb;

		if (stat(argv[i], &sb) != 0)
			break;		/* the filter begins */
		if ((rc = lc_merge_inputs_add(in, argv[i], skip, arg)) < 0) {
			snprintf(err, errlen, "%s: %s", argv[i], strerror(-rc));
			return rc;
		}
	}
	if (i < argc && looks_like_path(argv[i])) {
		char *expr = join(argv, i, argc);
		int ok = expr == NULL || compiles(expr);

		free(expr);
		if (!ok) {
			snprintf(err, errlen, "%s: %s", argv[i], strerror(ENOENT));
			return -ENOENT;
		}
	}
	if (in->n == 0) {
		snprintf(err, errlen, "no input files%s%s", i < argc ? ": no such file " : "",
			 i < argc ? argv[i] : "");
		return -ENOENT;
	}
	if (i < argc && (*filter = join(argv, i, argc)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}
