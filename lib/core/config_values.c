/* SPDX-License-Identifier: BSD-3-Clause */
/* One option's value, parsed and checked into lc_config (config_values.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>

#include "linecap/config.h"
#include "command.h"
#include "config_values.h"
#include "parse.h"

int
lc_cfg_is_blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			return 0;
	return 1;
}

/* A count given in a config file (verbose, dump-filter): 0..3. */
int
lc_cfg_parse_count(const char *label, const char *val, int *out, char *err, size_t errlen)
{
	uint64_t v;
	int rc = lc_parse_u64(label, val, 0, 3, "count", &v, err, errlen);

	if (rc == 0)
		*out = (int)v;
	return rc;
}

/* A flag (val NULL: given on the command line, counted) or its count in a config file (yes,
 * true, on: 1; no, false, off: 0). */
int
lc_cfg_count_flag(int *n, const char *val, const char *label, char *err, size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on" }, *const no[] = { "no", "false",
										  "off" };

	for (size_t i = 0; val != NULL && i < RTE_DIM(yes); i++) {
		if (strcasecmp(val, yes[i]) == 0 || strcasecmp(val, no[i]) == 0) {
			*n = strcasecmp(val, yes[i]) == 0;
			return 0;
		}
	}
	if (val != NULL)
		return lc_cfg_parse_count(label, val, n, err, errlen);
	(*n)++;
	return 0;
}

/* An unsigned int in [min, max]. */
int
lc_cfg_parse_uint(const char *label, const char *val, unsigned int min, unsigned int max,
	   const char *what, unsigned int *out, char *err, size_t errlen)
{
	uint64_t v;
	int rc = lc_parse_u64(label, val, min, max, what, &v, err, errlen);

	if (rc == 0)
		*out = (unsigned int)v;
	return rc;
}

/* Seconds, decimals allowed, more than 0 and at most max, as milliseconds (at least 1). */
int
lc_cfg_parse_ms(const char *label, const char *val, double max, uint64_t *ms, char *err,
	 size_t errlen)
{
	double d;
	int rc = lc_parse_decimal(label, val, max, &d, err, errlen);

	if (rc == 0)
		*ms = RTE_MAX((uint64_t)(d * 1000.0 + 0.5), (uint64_t)1);
	return rc;
}

/* A text value that must not be empty (a device, a path, a user): *dst = val, or an error
 * "label: what must not be empty". */
int
lc_cfg_set_text(const char **dst, const char *val, const char *label, const char *what, char *err,
	 size_t errlen)
{
	if (val[0] == '\0') {
		snprintf(err, errlen, "%s: %s must not be empty", label, what);
		return -EINVAL;
	}
	*dst = val;
	return 0;
}

/* One of the words in choices (NULL-terminated); "label val: must be " then what. */
int
lc_cfg_set_choice(const char **dst, const char *val, const char *const *choices, const char *what,
	   const char *label, char *err, size_t errlen)
{
	for (; *choices != NULL; choices++)
		if (strcmp(val, *choices) == 0) {
			*dst = val;
			return 0;
		}
	snprintf(err, errlen, "%s %s: must be %s", label, val, what);
	return -EINVAL;
}

/* -z: a command whose program resolves now to an executable (lc_command_resolve): a typo
 * is refused before any port is touched, not found at the first closed file. */
int
lc_cfg_set_command(const char **dst, const char *val, const char *label, char *err, size_t errlen)
{
	char prog[4096];
	char **argv;
	int rc = lc_command_split(val, label, &argv, err, errlen);

	if (rc < 0)
		return rc;
	rc = lc_command_resolve(argv[0], prog, sizeof(prog));
	if (rc == -ENOENT)
		snprintf(err, errlen, "%s '%s': %s: %s%s", label, val, argv[0],
			 strchr(argv[0], '/') ? "no such file" : "not found in PATH",
			 argv[1] != NULL ? " (the command is split on blanks: no shell, no quoting)" :
			 "");
	else if (rc < 0)
		snprintf(err, errlen, "%s '%s': %s: %s", label, val, prog,
			 rc == -EACCES ? "not an executable file" : strerror(-rc));
	free(argv);
	if (rc < 0)
		return -EINVAL;
	*dst = val;
	return 0;
}

/* -s: 64..262144, or 0 for the most. */
int
lc_cfg_parse_snaplen(struct lc_config *cfg, const char *val, const char *label, char *err,
	      size_t errlen)
{
	uint64_t v = 0;
	int rc = lc_parse_u64(label, val, 0, UINT32_MAX, "snaplen", &v, err, errlen);

	if (rc == 0 && v != 0 && (v < LC_SNAPLEN_MIN || v > LC_SNAPLEN_MAX))
		rc = -EINVAL;
	if (rc < 0 && strstr(err, "whole number") == NULL)
		snprintf(err, errlen, "%s %s: snaplen must be between %u and %u (or 0 for %u)",
			 label, val, LC_SNAPLEN_MIN, LC_SNAPLEN_MAX, LC_SNAPLEN_MAX);
	if (rc == 0)
		cfg->snaplen = v == 0 ? LC_SNAPLEN_MAX : (uint32_t)v;
	cfg->snaplen_set = rc == 0;
	return rc;
}

/* The filter expression of a config file (blank: none). */
int
lc_cfg_set_filter(struct lc_config *cfg, const char *val, char *err, size_t errlen)
{
	free(cfg->filter);
	cfg->filter = lc_cfg_is_blank(val) ? NULL : strdup(val);
	if (!lc_cfg_is_blank(val) && cfg->filter == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* -C: millions of bytes, decimals allowed, at least 4096 bytes. */
int
lc_cfg_parse_file_size(struct lc_config *cfg, const char *val, const char *label, char *err,
		size_t errlen)
{
	double d;
	int rc = lc_parse_decimal(label, val, 1e9, &d, err, errlen);

	if (rc < 0)
		return rc;
	cfg->file_bytes = (uint64_t)(d * 1e6);
	if (cfg->file_bytes < 4096) {
		snprintf(err, errlen, "%s %s: files must hold at least 4096 bytes "
			 "(0.004096 million)", label, val);
		return -EINVAL;
	}
	return 0;
}

/* --feed, repeatable: each spec checked now (linecap/feed.h), kept as given. */
int
lc_cfg_add_feed(struct lc_config *cfg, const char *val, const char *label, char *err, size_t errlen)
{
	struct lc_feed_spec spec;
	int rc = lc_feed_spec_parse(val, label, &spec, err, errlen);

	if (rc < 0)
		return rc;
	if (cfg->nfeeds == LC_FEEDS_MAX) {
		snprintf(err, errlen, "%s %s: at most %u feeds", label, val, LC_FEEDS_MAX);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->nfeeds; i++) {
		struct lc_feed_spec o;

		if (lc_feed_spec_parse(cfg->feed[i], label, &o, err, errlen) == 0 &&
		    !o.connect && !spec.connect && o.port == spec.port) {
			snprintf(err, errlen, "%s %s: port %u is already a feed's (%s)", label,
				 val, spec.port, cfg->feed[i]);
			return -EINVAL;
		}
	}
	cfg->feed[cfg->nfeeds++] = val;
	return 0;
}

/* --retain-bytes: a size, at least LC_RETAIN_MIN_BYTES. */
int
lc_cfg_parse_retain(struct lc_config *cfg, const char *val, const char *label, char *err,
	     size_t errlen)
{
	int rc = lc_parse_size(label, val, &cfg->retain_bytes, err, errlen);

	/* A bound below one file deletes every file as soon as it closes. */
	if (rc == 0 && cfg->retain_bytes != 0 && cfg->retain_bytes < LC_RETAIN_MIN_BYTES) {
		snprintf(err, errlen, "%s %s: must be at least %llu bytes (1Mi): a smaller bound "
			 "would delete every file the capture writes", label, val,
			 (unsigned long long)LC_RETAIN_MIN_BYTES);
		rc = -EINVAL;
	}
	return rc;
}

/* -r, repeatable: files (or directories of them) read in the order given. */
int
lc_cfg_add_read(struct lc_config *cfg, const char *val, const char *label, char *err, size_t errlen)
{
	if (*val == '\0') {
		snprintf(err, errlen, "%s: give a capture file or a directory", label);
		return -EINVAL;
	}
	if (cfg->nread == LC_READ_MAX) {
		snprintf(err, errlen, "%s %s: at most %u -r (give a directory instead)", label, val,
			 LC_READ_MAX);
		return -EINVAL;
	}
	cfg->read[cfg->nread++] = val;
	return 0;
}

