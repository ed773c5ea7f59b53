/* SPDX-License-Identifier: BSD-3-Clause */
/* The command line of the tools that read a capture's files (linecap-merge, linecap-query):
 * inputs first, then the filter expression; the times of --start and --end. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

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

/* A time zone after an RFC 3339 time: "Z" (or "z"), "+HH:MM" or "-HH:MM", as seconds east
 * of UTC into *off; the rest after it. NULL when there is none of those. */
static const char *
zone(const char *s, long *off)
{
	int sign = s[0] == '+' ? 1 : s[0] == '-' ? -1 : 0;

	*off = 0;
	if (s[0] == 'Z' || s[0] == 'z')
		return s + 1;
	if (sign == 0 || strlen(s) < 6 || s[3] != ':')
		return NULL;
	for (int i = 1; i < 6; i++)
		if (i != 3 && (s[i] < '0' || s[i] > '9'))
			return NULL;
	long h = (s[1] - '0') * 10 + (s[2] - '0'), m = (s[4] - '0') * 10 + (s[5] - '0');

	if (h > 23 || m > 59)
		return NULL;
	*off = sign * (h * 3600 + m * 60);
	return s + 6;
}

/* The calendar time tm (UTC) as seconds since the epoch, or -1 when tm is no such time
 * (February 30th: timegm would roll it into March). */
static time_t
exact_timegm(struct tm *tm)
{
	struct tm in = *tm, back;
	time_t t = timegm(tm);

	if (t < 0 || gmtime_r(&t, &back) == NULL || back.tm_year != in.tm_year ||
	    back.tm_mon != in.tm_mon || back.tm_mday != in.tm_mday || back.tm_hour != in.tm_hour ||
	    back.tm_min != in.tm_min || back.tm_sec != in.tm_sec)
		return -1;
	return t;
}

int
lc_merge_parse_when(const char *s, uint64_t now, uint64_t *ns)
{
	static const struct { char unit; uint64_t secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	uint64_t n = 0;
	const char *p;

	if (strcmp(s, "now") == 0) {
		*ns = now;
		return 0;
	}
	if (s[0] != '-')
		return lc_merge_parse_time(s, ns);
	for (p = s + 1; *p >= '0' && *p <= '9'; p++)
		if ((n = n * 10 + (uint64_t)(*p - '0')) > 100000000ull)
			return -EINVAL;
	for (size_t i = 0; p > s + 1 && i < sizeof(units) / sizeof(units[0]); i++) {
		if (p[0] == units[i].unit && p[1] == '\0') {
			uint64_t back = n * units[i].secs * 1000000000ull;

			*ns = back < now ? now - back : 0;
			return 0;
		}
	}
	return -EINVAL;
}

int
lc_merge_parse_time(const char *s, uint64_t *ns)
{
	static const char *const forms[] = { "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dt%H:%M:%S",
					     "%Y-%m-%d %H:%M:%S" };
	struct tm tm;
	const char *rest = NULL;
	uint64_t secs, frac = 0;
	long off = 0;
	bool iso;

	memset(&tm, 0, sizeof(tm));
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]) && rest == NULL; i++)
		rest = strptime(s, forms[i], &tm);
	iso = rest != NULL;
	if (iso) {
		time_t t = exact_timegm(&tm);

		if (t < 0)
			return -EINVAL;
		secs = (uint64_t)t;
	} else {
		/* Seconds since the epoch, digits only: no sign, no exponent, no float. */
		secs = 0;
		for (rest = s; *rest >= '0' && *rest <= '9'; rest++) {
			secs = secs * 10 + (uint64_t)(*rest - '0');
			if (secs > 10000000000ull)
				return -EINVAL;
		}
		if (rest == s)
			return -EINVAL;
	}
	/* The fraction digit by digit, so a nanosecond is a nanosecond (a double is not):
	 * digits past the ninth are below a nanosecond and left out. */
	if (*rest == '.') {
		int digits = 0;

		for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++)
			if (digits < 9)
				frac = frac * 10 + (uint64_t)(*rest - '0');
		if (digits == 0)
			return -EINVAL;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (iso && *rest != '\0' && (rest = zone(rest, &off)) == NULL)
		return -EINVAL;
	if (*rest != '\0' || (off > 0 && secs < (uint64_t)off))
		return -EINVAL;
	*ns = (uint64_t)((int64_t)secs - off) * 1000000000ull + frac;
	return 0;
}
