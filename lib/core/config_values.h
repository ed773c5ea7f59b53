/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_CONFIG_VALUES_H
#define LINECAP_CONFIG_VALUES_H

/*
 * One option's value, parsed and checked into lc_config, the same from the command line and
 * from a config file: label names the option in messages ("-s", or the key). 0, or -EINVAL
 * with one line in err. config.c decides which option goes where; these only read values.
 */
#include <stddef.h>
#include <stdint.h>

#include "linecap/config.h"

/* Nothing but blanks (space, tab, newline)? */
int lc_cfg_is_blank(const char *s);

/* A count given in a config file (verbose, dump-filter): 0..3. */
int lc_cfg_parse_count(const char *label, const char *val, int *out, char *err, size_t errlen);

/* A flag (val NULL: given on the command line, counted) or its count in a config file (yes,
 * true, on: 1; no, false, off: 0). */
int lc_cfg_count_flag(int *n, const char *val, const char *label, char *err, size_t errlen);

/* An unsigned int in [min, max]. */
int lc_cfg_parse_uint(const char *label, const char *val, unsigned int min, unsigned int max,
		      const char *what, unsigned int *out, char *err, size_t errlen);

/* Seconds, decimals allowed, more than 0 and at most max, as milliseconds (at least 1). */
int lc_cfg_parse_ms(const char *label, const char *val, double max, uint64_t *ms, char *err,
		    size_t errlen);

/* A text value that must not be empty (a device, a path, a user): *dst = val, or an error
 * "label: what must not be empty". */
int lc_cfg_set_text(const char **dst, const char *val, const char *label, const char *what,
		    char *err, size_t errlen);

/* One of the words in choices (NULL-terminated); "label val: must be " then what. */
int lc_cfg_set_choice(const char **dst, const char *val, const char *const *choices,
		      const char *what, const char *label, char *err, size_t errlen);

/* -z: a command whose program resolves now to an executable (lc_command_resolve): a typo
 * is refused before any port is touched, not found at the first closed file. */
int lc_cfg_set_command(const char **dst, const char *val, const char *label, char *err,
		       size_t errlen);

/* -s: 64..262144, or 0 for the most. */
int lc_cfg_parse_snaplen(struct lc_config *cfg, const char *val, const char *label, char *err,
			 size_t errlen);

/* The filter expression of a config file (blank: none). */
int lc_cfg_set_filter(struct lc_config *cfg, const char *val, char *err, size_t errlen);

/* -C: millions of bytes, decimals allowed, at least 4096 bytes. */
int lc_cfg_parse_file_size(struct lc_config *cfg, const char *val, const char *label, char *err,
			   size_t errlen);

/* --feed, repeatable: each spec checked now (linecap/feed.h), kept as given. */
int lc_cfg_add_feed(struct lc_config *cfg, const char *val, const char *label, char *err,
		    size_t errlen);

/* --retain-bytes: a size, at least LC_RETAIN_MIN_BYTES. */
int lc_cfg_parse_retain(struct lc_config *cfg, const char *val, const char *label, char *err,
			size_t errlen);

/* -r, repeatable: files (or directories of them) read in the order given. */
int lc_cfg_add_read(struct lc_config *cfg, const char *val, const char *label, char *err,
		    size_t errlen);

#endif
