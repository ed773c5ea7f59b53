/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_FILTER_H
#define LINECAP_FILTER_H

/*
 * The capture filter, in two steps:
 *   1. lc_filter_compile() turns a tcpdump expression into a classic BPF program with
 *      libpcap (dead EN10MB handle, optimizer on, netmask 0 as tcpdump uses offline). It runs
 *      once, on the main core, before any port is touched.
 *   2. lc_filter_create() makes one executable instance of that program for one RX core,
 *      with an engine chosen by name. Engines are an ops table: linecap's own x86-64 JIT
 *      (the default there; it also generates a whole-burst loop) and libpcap's interpreter
 *      (bpf_filter: the fallback elsewhere and the reference every engine is checked
 *      against); the RX loop calls either the same way. Instances are owned by one core and
 *      never shared.
 * The RX loop calls lc_filter_burst() once per burst (lc_filter_match() judges one mbuf); the
 * engine sees each whole frame, gathered from multi-segment mbufs when needed (up to
 * LC_FILTER_MAX_FRAME bytes).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include "mbuf_bytes.h"

#define LC_FILTER_MAX_FRAME 262144u

struct bpf_insn;
struct lc_filter_prog;

/* Run a program over one contiguous frame; nonzero means keep (libpcap's convention). */
typedef unsigned int (*lc_filter_fn)(const void *state, const uint8_t *pkt, uint32_t wirelen,
				     uint32_t caplen);

/* One frame for a burst call. */
struct lc_frame {
	const uint8_t *data;
	uint32_t wirelen;
	uint32_t caplen;
};

/* Judge n frames: keep[i] = 1 when the program's result for frames[i] is nonzero, else 0. */
typedef void (*lc_filter_burst_fn)(const void *state, const struct lc_frame *frames,
				   uint32_t n, uint8_t *keep);

/* An engine. */
struct lc_filter_ops {
	const char *name;
	/* Build engine state for prog on NUMA socket; NULL with errno on failure (EINVAL:
	 * a program this engine will not run). */
	void *(*create)(const struct bpf_insn *insns, unsigned int len, int socket);
	void (*destroy)(void *state);
	lc_filter_fn run;
	/* Optional: a function to call directly instead of run (generated code). */
	lc_filter_fn (*entry)(const void *state);
	/* Optional: a whole-burst function (generated loop); else run is called per frame. */
	lc_filter_burst_fn (*burst_entry)(const void *state);
	/* Optional: the generated machine code and its length (for -d and -dd). */
	size_t (*code)(const void *state, const uint8_t **code);
};

struct lc_filter {
	lc_filter_fn run;
	lc_filter_burst_fn burst;	/* NULL: call run per frame */
	const void *state;
	const struct lc_filter_ops *ops;
	uint8_t *scratch;	/* LC_FILTER_MAX_FRAME bytes for multi-segment frames */
};

/* Beyond these, libpcap's optimizer takes seconds to minutes: such a filter is refused. */
#define LC_FILTER_MAX_OPS 400u		/* and/or operators (300 or-ed hosts: 1.4 s here) */
#define LC_FILTER_MAX_LEN 65536u	/* characters */

/* The and/or operators (and, or, &&, ||) of an expression. */
unsigned int lc_filter_count_ops(const char *expr);

/*
 * Compile expr (tcpdump syntax) for Ethernet. Returns the program, or NULL with errno set
 * (EINVAL for a bad expression, E2BIG for one over LC_FILTER_MAX_OPS operators or
 * LC_FILTER_MAX_LEN characters) and a one-line reason in err: "filter 'hots 1.2.3.4':
 * syntax error". Free with lc_filter_prog_free().
 */
struct lc_filter_prog *lc_filter_compile(const char *expr, uint32_t snaplen, char *err,
					 size_t errlen);

/*
 * Everything before a filter is trusted, in one call: compile expr, find the engine by name
 * (NULL: the default), build one instance and self-check it against libpcap. On success
 * *prog and *engine are set (free *prog with lc_filter_prog_free). Returns 0, or -errno
 * with one line in err (bad expression, unknown engine, engine refuses, self-check fails).
 */
int lc_filter_prepare(const char *expr, uint32_t snaplen, const char *engine_name,
		      struct lc_filter_prog **prog, const struct lc_filter_ops **engine,
		      char *err, size_t errlen);

/*
 * Read a filter expression from a file, as tcpdump -F does: '#' starts a comment that runs
 * to the end of the line; lines are joined with spaces. *expr is malloc'ed. Returns 0 or
 * -errno with "PATH: reason" in err.
 */
int lc_filter_read_file(const char *path, char **expr, char *err, size_t errlen);

/*
 * Print the program as tcpdump -d does, then the engine and the size of its machine code;
 * level 2 also prints the code bytes (hex, 16 a line).
 */
void lc_filter_dump(FILE *out, const struct lc_filter_prog *prog, const struct lc_filter *f,
		    int level);

/* Release a program. Accepts NULL. */
void lc_filter_prog_free(struct lc_filter_prog *prog);

/* The expression the program was compiled from. */
const char *lc_filter_prog_expr(const struct lc_filter_prog *prog);

/* The classic BPF instructions and their count. */
const struct bpf_insn *lc_filter_prog_insns(const struct lc_filter_prog *prog,
					    unsigned int *len);

/*
 * Three-valued judgement of a program over packets known only in part (linecap-query
 * narrowing with the index): what every packet of a flow shares (addresses, ports, protocol,
 * VLAN, the TCP flags it could carry) as known bits, everything else unknown. The program is
 * run over values that are part known, part unknown (bit by bit); a branch that depends on
 * unknown bits follows both ways. NEVER only when no packet matching p can be kept (every
 * path returns 0); ALWAYS only when every such packet is kept; else MAYBE. A program too
 * large to explore within a fixed budget is MAYBE. Never wrong, sometimes vague.
 */
#define LC_PARTIAL_LEN 128u

struct lc_partial {
	uint8_t val[LC_PARTIAL_LEN];	/* the known bits' values (unknown bits are 0) */
	uint8_t known[LC_PARTIAL_LEN];	/* bit i of known[j] set: bit i of byte j is val's */
	uint32_t present;	/* every packet holds at least this many captured bytes (a
				 * load past them may fail: the packet is then rejected) */
};

enum lc_verdict { LC_VERDICT_NEVER = 0, LC_VERDICT_MAYBE = 1, LC_VERDICT_ALWAYS = 2 };

enum lc_verdict lc_filter_3v(const struct bpf_insn *insns, unsigned int len,
			     const struct lc_partial *p);

/* Does the program read what only a live Linux socket knows (inbound, outbound, ifindex:
 * loads at the ancillary offsets)? tcpdump -r refuses those: no capture file holds them. */
int lc_filter_prog_live_only(const struct lc_filter_prog *prog);

/* Engine by name ("jit", "interp"); NULL if unknown or not built for this CPU.
 * lc_filter_default_engine() names the default: "jit" on x86-64, "interp" elsewhere. */
const struct lc_filter_ops *lc_filter_engine(const char *name);
const char *lc_filter_default_engine(void);

/*
 * One instance of prog for one RX core, memory on NUMA node socket (negative: anywhere).
 * Needs no EAL. The instance does not keep a reference to prog. Returns NULL with errno on
 * failure (EINVAL: the engine refuses the program).
 */
struct lc_filter *lc_filter_create(const struct lc_filter_prog *prog,
				   const struct lc_filter_ops *engine, int socket);

/* Release an instance. Accepts NULL. */
void lc_filter_free(struct lc_filter *f);

/* The engine an instance runs on ("jit", "interp"). */
const char *lc_filter_engine_name(const struct lc_filter *f);

/* Generated machine code of an instance (*code set, length returned); 0 for an engine that
 * generates none. */
size_t lc_filter_code(const struct lc_filter *f, const uint8_t **code);

/*
 * Run f and libpcap's interpreter side by side over a built-in set of crafted frames (short,
 * VLAN, QinQ, IPv6 with extension headers, fragments, IP options, ARP, MPLS, PPPoE, jumbo),
 * each whole and cut at every length up to 160 bytes, frame by frame and, where f has one,
 * through its burst function. Returns 0 when every verdict agrees; otherwise -EPROTO with the
 * first disagreement in err: "filter 'tcp': engine jit disagrees with libpcap on frame
 * 'vlan-udp' cut at 37 bytes (0 vs 262144)".
 */
int lc_filter_selfcheck(const struct lc_filter_prog *prog, const struct lc_filter *f,
			char *err, size_t errlen);

/* Run the filter over a contiguous frame. Nonzero: keep. */
static inline unsigned int
lc_filter_match_bytes(const struct lc_filter *f, const uint8_t *pkt, uint32_t wirelen,
		      uint32_t caplen)
{
	return f->run(f->state, pkt, wirelen, caplen);
}

/*
 * Judge a burst of mbufs: keep[i] = 1 or 0. Frames whose first segment holds them whole
 * (the common case) go to the engine's burst function in one call; a burst with any other
 * frame is judged frame by frame (lc_filter_match gathers the segments).
 */
static inline unsigned int lc_filter_match(const struct lc_filter *f, const struct rte_mbuf *m);

static inline void
lc_filter_burst(const struct lc_filter *f, struct rte_mbuf *const *pkts, uint16_t n,
		uint8_t *keep)
{
	struct lc_frame fr[64];
	uint16_t multi = 0;

	if (unlikely(n > 64)) {
		for (uint16_t i = 0; i < n; i++)
			keep[i] = lc_filter_match(f, pkts[i]) != 0;
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];

		fr[i].data = rte_pktmbuf_mtod(m, const uint8_t *);
		fr[i].wirelen = m->pkt_len;
		fr[i].caplen = m->data_len;
		/* The first segment holds the whole frame, or the frame goes the long way. */
		multi |= m->data_len != m->pkt_len;
	}
	if (likely(!multi)) {
		if (f->burst != NULL) {
			f->burst(f->state, fr, n, keep);
		} else {
			for (uint16_t i = 0; i < n; i++)
				keep[i] = f->run(f->state, fr[i].data, fr[i].wirelen,
						 fr[i].caplen) != 0;
		}
		return;
	}
	for (uint16_t i = 0; i < n; i++)
		keep[i] = lc_filter_match(f, pkts[i]) != 0;
}

/* Run the filter over an mbuf (single or multi-segment). Nonzero: keep. */
static inline unsigned int
lc_filter_match(const struct lc_filter *f, const struct rte_mbuf *m)
{
	uint32_t caplen;

	if (likely(m->nb_segs == 1))
		return f->run(f->state, rte_pktmbuf_mtod(m, const uint8_t *), m->pkt_len,
			      m->data_len < m->pkt_len ? m->data_len : m->pkt_len);
	caplen = lc_mbuf_copy(f->scratch, m, LC_FILTER_MAX_FRAME);
	return f->run(f->state, f->scratch, m->pkt_len, caplen);
}

#endif
