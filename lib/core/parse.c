/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* Parse an unsigned decimal in [min, max]; tcpdump-style message on failure. */
int
lc_parse_u64(const char *opt, const char *val, uint64_t min, uint64_t max, const char *what,
	  uint64_t *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (val[0] == '-' || val[0] == '\0')
		goto bad;
	v = strtoull(val, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	if (v < min || v > max) {
		snprintf(err, errlen, "%s %s: %s must be between %" PRIu64 " and %" PRIu64,
			 opt, val, what, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
bad:
	snprintf(err, errlen, "%s '%s': %s must be a whole number", opt, val, what);
	return -EINVAL;
}

/* A positive decimal number of seconds (or of millions of bytes) as thousandths. */
int
lc_parse_decimal(const char *opt, const char *val, double max, double *out, char *err,
	      size_t errlen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(val, &end);
	if (errno != 0 || end == val || *end != '\0' || !isfinite(d)) {
		snprintf(err, errlen, "%s '%s': must be a number", opt, val);
		return -EINVAL;
	}
	if (d <= 0 || d > max) {
		snprintf(err, errlen, "%s %s: must be more than 0 and at most %.0f", opt, val, max);
		return -EINVAL;
	}
	*out = d;
	return 0;
}

/* Bytes with an optional suffix: K M G T (powers of 1000) or Ki Mi Gi Ti (of 1024), a
 * trailing B allowed, any case. */
int
lc_parse_size(const char *opt, const char *val, uint64_t *out, char *err, size_t errlen)
{
	static const char units[] = "kmgt";
	char *end, suffix[8];
	double d, mult = 1;
	const char *u;
	size_t n;

	errno = 0;
	d = strtod(val, &end);
	n = strlen(end);
	if (n < sizeof(suffix)) {
		for (size_t i = 0; i <= n; i++)
			suffix[i] = (char)tolower((unsigned char)end[i]);
		if (n > 0 && suffix[n - 1] == 'b' && n > 1)
			suffix[--n] = '\0';
		if (n > 0 && (u = strchr(units, suffix[0])) != NULL && suffix[0] != '\0') {
			int power = (int)(u - units) + 1;

			if (n == 1)
				mult = pow(1000, power), end += strlen(end);
			else if (n == 2 && suffix[1] == 'i')
				mult = pow(1024, power), end += strlen(end);
		}
	}
	if (errno != 0 || end == val || *end != '\0' || !isfinite(d) || d <= 0 ||
	    d * mult > 1e18) {
		snprintf(err, errlen, "%s '%s': must be a size in bytes, like 500M or 2Gi", opt,
			 val);
		return -EINVAL;
	}
	*out = (uint64_t)(d * mult);
	return 0;
}

/* bytes as "N GiB", "N MiB" or "N KiB", the largest unit it is a whole number of. */
static const char *
kib_text(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB" };
	unsigned int u = 0;

	bytes >>= 10;
	while (u < 2 && bytes != 0 && (bytes & 1023) == 0)
		bytes >>= 10, u++;
	snprintf(buf, len, "%" PRIu64 " %s", bytes, units[u]);
	return buf;
}

int
lc_parse_kib(const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t round,
	     uint64_t *out, char *err, size_t errlen)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB" };
	static const char suffixes[] = "kmg";
	const char *u = NULL;
	char *end = NULL, limit[32];
	unsigned long long v = 0;
	unsigned int k = 0, shift;	/* the value is in unit[k], v << shift bytes */
	bool big;

	errno = 0;
	if (isdigit((unsigned char)val[0]))
		v = strtoull(val, &end, 10);
	/* K, M, G, or Ki, Mi, Gi as --retain-bytes takes them: powers of 1024 all. */
	if (end != NULL && end[0] != '\0' &&
	    (end[1] == '\0' || (end[1] == 'i' && end[2] == '\0')))
		u = strchr(suffixes, tolower((unsigned char)end[0]));
	if (end == NULL || (end[0] != '\0' && u == NULL)) {
		snprintf(err, errlen, "%s '%s': must be a size in KiB, or with a suffix K, M or G "
			 "(or Ki, Mi, Gi; powers of 1024 all: 256M, 1G)", opt, val);
		return -EINVAL;
	}
	if (u != NULL)
		k = (unsigned int)(u - suffixes);
	shift = 10 * (k + 1);
	big = errno == ERANGE || v > (max >> shift);	/* v << shift <= max, unwrapped */
	if (big || (v << shift) < min) {
		snprintf(err, errlen, "%s %s: %.*s %s is %s the %s %s", opt, val, (int)(end - val),
			 val, unit[k], big ? "above" : "below",
			 kib_text(big ? max : min, limit, sizeof(limit)),
			 big ? "maximum" : "minimum");
		return -EINVAL;
	}
	*out = (((uint64_t)v << shift) + round - 1) & ~(round - 1);
	return 0;
}
