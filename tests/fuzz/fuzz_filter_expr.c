/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness over the filter's entry point: the input is a filter expression. It is
 * compiled, translated by the JIT and self-checked (lc_filter_prepare); a self-check that
 * fails is a JIT bug and aborts. The input bytes are then also judged as a frame, cut at
 * every length up to 96 bytes, by the JIT and by libpcap's interpreter: any difference aborts.
 * Built and run by scripts/fuzz.sh.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "linecap/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lc_filter_prog *prog;
	const struct lc_filter_ops *engine;
	struct lc_filter *f;
	const struct bpf_insn *insns;
	unsigned int n;
	char expr[1024], err[512];
	int rc;

	if (size >= sizeof(expr))
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	rc = lc_filter_prepare(expr, 262144, "jit", &prog, &engine, err, sizeof(err));
	if (rc == -EPROTO) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	if (rc < 0)
		return 0;
	f = lc_filter_create(prog, engine, -1);
	if (f == NULL)
		abort();	/* prepare just built the same thing */
	insns = lc_filter_prog_insns(prog, &n);
	for (uint32_t cut = 0; cut <= size && cut <= 96; cut++) {
		unsigned int want = bpf_filter(insns, data, (uint32_t)size, cut);
		unsigned int got = lc_filter_match_bytes(f, data, (uint32_t)size, cut);

		if (want != got) {
			fprintf(stderr, "filter '%s' cut %u: interp %u jit %u\n", expr, cut, want,
				got);
			abort();
		}
	}
	lc_filter_free(f);
	lc_filter_prog_free(prog);
	return 0;
}
