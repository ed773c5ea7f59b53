/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Engine "interp": libpcap's own BPF interpreter. The reference every other engine is
 * checked against, and the engine on CPUs without a JIT.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "filter_engines.h"

struct interp_state {
	unsigned int len;
	struct bpf_insn insns[];
};

static void *
interp_create(const struct bpf_insn *insns, unsigned int len, int socket)
{
	struct interp_state *s;

	(void)socket;	/* a copy of the program; small and read-only */
	s = malloc(sizeof(*s) + len * sizeof(insns[0]));
	if (s == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	s->len = len;
	memcpy(s->insns, insns, len * sizeof(insns[0]));
	return s;
}

static void
interp_destroy(void *state)
{
	free(state);
}

static unsigned int
interp_run(const void *state, const uint8_t *pkt, uint32_t wirelen, uint32_t caplen)
{
	const struct interp_state *s = state;

	return bpf_filter(s->insns, pkt, wirelen, caplen);
}

const struct lc_filter_ops lc_filter_interp_ops = {
	.name = "interp",
	.create = interp_create,
	.destroy = interp_destroy,
	.run = interp_run,
};
