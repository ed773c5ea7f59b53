/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_GEN_OPTIONS_H
#define LINECAP_GEN_OPTIONS_H

/* linecap-gen's command line. */
#include <stddef.h>
#include <stdint.h>

#include "linecap/gen.h"

struct opts {
	struct lc_gen_config g;
	const char *dev, *file, *eal, *stats;
	double pps;
	double bps;
	double duration;
	double linger;		/* --linger: seconds to stay connected after sending */
	uint64_t count;
};

/* Parse argv into o (defaults first); --help and --version print and exit. 0, or -EINVAL
 * with one line in err. */
int lc_gen_parse(int argc, char **argv, struct opts *o, char *err, size_t errlen);

#endif
