/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_PARSE_H
#define LINECAP_PARSE_H

/*
 * The values options take, each refused in one line that names the option and the value:
 * "-s 70000000: snaplen must be between 64 and 262144". 0, or -EINVAL with that in err.
 */
#include <stddef.h>
#include <stdint.h>

/* An unsigned decimal in [min, max]; what names the quantity in messages. */
int lc_parse_u64(const char *opt, const char *val, uint64_t min, uint64_t max, const char *what,
		 uint64_t *out, char *err, size_t errlen);

/* A number more than 0 and at most max (seconds, millions of bytes), decimals allowed. */
int lc_parse_decimal(const char *opt, const char *val, double max, double *out, char *err,
		     size_t errlen);

/* Bytes with an optional suffix: K M G T (powers of 1000) or Ki Mi Gi Ti (of 1024), a
 * trailing B allowed, any case. */
int lc_parse_size(const char *opt, const char *val, uint64_t *out, char *err, size_t errlen);

/* A size in KiB as tcpdump's -B takes it ("4096"), or with a suffix K, M or G, any case,
 * powers of 1024 ("256M", "1G"); whole numbers only. In [min, max] bytes, then rounded up
 * to a multiple of round (a power of two). Refused: "-B 100: 100 KiB is below the 4 MiB
 * minimum", "-B '12Q': must be ...". */
int lc_parse_kib(const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t round,
		 uint64_t *out, char *err, size_t errlen);

#endif
