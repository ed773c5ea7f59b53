/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_FILTER_ENGINES_H
#define LINECAP_FILTER_ENGINES_H

/* Engines known to the filter module (private to lib/filter). */
#include "linecap/filter.h"

extern const struct lc_filter_ops lc_filter_interp_ops;
#if defined(__x86_64__)
extern const struct lc_filter_ops lc_filter_jit_ops;
#endif

#endif
