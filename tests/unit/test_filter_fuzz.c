/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential fuzz test: random valid classic BPF programs (every instruction class and
 * mode, forward jumps, scratch memory, edge constants) over random frames cut at random
 * lengths, the JIT against libpcap's interpreter. Same seed every run in CI; for a long
 * manual run: test_filter_fuzz PROGRAMS [SEED].
 */
#include <pcap/pcap.h>

#include "lc_test.h"

#include "linecap/filter.h"

#define MAX_INSNS 96
#define FRAMES 64

static uint64_t rng;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Constants that find bugs: small offsets, boundaries, sign bits. */
static uint32_t
konst(void)
{
	static const uint32_t edge[] = { 0, 1, 2, 3, 4, 12, 13, 14, 31, 32, 63, 64, 127, 128,
					 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff,
					 0x80000000, 0xfffffffe, 0xffffffff };

	switch (rnd() % 4) {
	case 0: return edge[rnd() % (sizeof(edge) / sizeof(edge[0]))];
	case 1: return rnd() % 160;	/* an offset into the frame, or just past it */
	case 2: return rnd() % 16;
	default: return rnd();
	}
}

static const uint16_t ops[] = {
	BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
	BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND,
	BPF_LD | BPF_W | BPF_LEN, BPF_LDX | BPF_W | BPF_LEN, BPF_LDX | BPF_MSH | BPF_B,
	BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM, BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX,
	BPF_JMP | BPF_JA,
	BPF_JMP | BPF_JGT | BPF_K, BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JEQ | BPF_K,
	BPF_JMP | BPF_JSET | BPF_K, BPF_JMP | BPF_JGT | BPF_X, BPF_JMP | BPF_JGE | BPF_X,
	BPF_JMP | BPF_JEQ | BPF_X, BPF_JMP | BPF_JSET | BPF_X,
	BPF_ALU | BPF_ADD | BPF_K, BPF_ALU | BPF_SUB | BPF_K, BPF_ALU | BPF_MUL | BPF_K,
	BPF_ALU | BPF_DIV | BPF_K, BPF_ALU | BPF_MOD | BPF_K, BPF_ALU | BPF_AND | BPF_K,
	BPF_ALU | BPF_OR | BPF_K, BPF_ALU | BPF_XOR | BPF_K, BPF_ALU | BPF_LSH | BPF_K,
	BPF_ALU | BPF_RSH | BPF_K,
	BPF_ALU | BPF_ADD | BPF_X, BPF_ALU | BPF_SUB | BPF_X, BPF_ALU | BPF_MUL | BPF_X,
	BPF_ALU | BPF_DIV | BPF_X, BPF_ALU | BPF_MOD | BPF_X, BPF_ALU | BPF_AND | BPF_X,
	BPF_ALU | BPF_OR | BPF_X, BPF_ALU | BPF_XOR | BPF_X, BPF_ALU | BPF_LSH | BPF_X,
	BPF_ALU | BPF_RSH | BPF_X, BPF_ALU | BPF_NEG, BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
	BPF_RET | BPF_K, BPF_RET | BPF_A,
};

/* A valid program: scratch memory initialised first (libpcap 1.10 leaves it undefined),
 * then random instructions, every jump forward and inside, ending in a return. */
static unsigned int
gen_program(struct bpf_insn *p)
{
	unsigned int n = 0, body = 2 + rnd() % (MAX_INSNS - 34);

	for (uint32_t m = 0; m < BPF_MEMWORDS; m++) {
		p[n++] = (struct bpf_insn)BPF_STMT(BPF_LD | BPF_IMM, konst());
		p[n++] = (struct bpf_insn)BPF_STMT(BPF_ST, m);
	}
	unsigned int total = n + body;
	for (; n < total - 1; n++) {
		uint16_t code = ops[rnd() % (sizeof(ops) / sizeof(ops[0]))];
		uint32_t k = konst();
		uint32_t room = total - 1 - (n + 1);	/* instructions left after this one */

		switch (code) {
		case BPF_LD | BPF_MEM: case BPF_LDX | BPF_MEM: case BPF_ST: case BPF_STX:
			k %= BPF_MEMWORDS;
			break;
		case BPF_ALU | BPF_DIV | BPF_K: case BPF_ALU | BPF_MOD | BPF_K:
			if (k == 0)
				k = 1 + rnd() % 7;
			break;
		case BPF_ALU | BPF_LSH | BPF_K: case BPF_ALU | BPF_RSH | BPF_K:
			k %= 32;
			break;
		case BPF_JMP | BPF_JA:
			k = room ? rnd() % (room + 1) : 0;
			break;
		}
		p[n] = (struct bpf_insn){ .code = code, .k = k };
		if (BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA) {
			unsigned int lim = room < 255 ? room : 255;

			p[n].jt = (uint8_t)(rnd() % (lim + 1));
			p[n].jf = (uint8_t)(rnd() % (lim + 1));
		}
	}
	p[n++] = (struct bpf_insn)BPF_STMT(rnd() & 1 ? BPF_RET | BPF_A : BPF_RET | BPF_K, konst());
	return n;
}

int
main(int argc, char **argv)
{
	long programs = argc > 1 ? atol(argv[1]) : 4000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x1c0ffee5eedull;
	static uint8_t frames[FRAMES][256];
	uint64_t runs = 0, mismatches = 0, refused = 0;
	const struct lc_filter_ops *jit = lc_filter_engine("jit");

	rng = seed;
	CHECK(jit != NULL);
	for (int f = 0; f < FRAMES; f++)
		for (int i = 0; i < 256; i++)
			frames[f][i] = (uint8_t)(f < FRAMES / 2 ? rnd() : rnd() % 4);
	for (long prog_no = 0; prog_no < programs && jit != NULL; prog_no++) {
		struct bpf_insn insns[MAX_INSNS];
		unsigned int n = gen_program(insns);
		void *state;
		lc_filter_fn fn;

		if (!bpf_validate(insns, (int)n)) {
			fprintf(stderr, "generator made a program libpcap refuses (#%ld)\n", prog_no);
			CHECK(0);
			break;
		}
		state = jit->create(insns, n, -1);
		if (state == NULL) {
			refused++;
			fprintf(stderr, "JIT refused a valid program (#%ld)\n", prog_no);
			continue;
		}
		fn = jit->entry(state);
		struct lc_frame b[FRAMES];
		uint8_t keep[FRAMES];
		unsigned int want[FRAMES];
		for (int f = 0; f < FRAMES; f++) {
			uint32_t caplen = rnd() % 200, wirelen = caplen + (rnd() & 1 ? 0 : rnd());
			unsigned int got = fn(state, frames[f], wirelen, caplen);

			want[f] = bpf_filter(insns, frames[f], wirelen, caplen);
			b[f] = (struct lc_frame){ frames[f], wirelen, caplen };
			runs++;
			if (want[f] != got && mismatches++ < 5) {
				fprintf(stderr, "MISMATCH program #%ld frame %d caplen %u wirelen %u: "
					"interp %u jit %u\n", prog_no, f, caplen, wirelen, want[f],
					got);
				for (unsigned int i = 0; i < n; i++)
					fprintf(stderr, "  %s\n", bpf_image(&insns[i], (int)i));
			}
		}
		/* The burst entry over the same frames, in one call. */
		jit->burst_entry(state)(state, b, FRAMES, keep);
		for (int f = 0; f < FRAMES; f++) {
			runs++;
			if ((want[f] != 0) != keep[f] && mismatches++ < 5)
				fprintf(stderr, "MISMATCH (burst) program #%ld frame %d: interp %u "
					"burst %u\n", prog_no, f, want[f], keep[f]);
		}
		jit->destroy(state);
	}
	fprintf(stderr, "%ld programs, %" PRIu64 " runs, %" PRIu64 " mismatches, %" PRIu64
		" refused (seed 0x%" PRIx64 ")\n", programs, runs, mismatches, refused, seed);
	CHECK(runs > 0);
	CHECK(mismatches == 0);
	CHECK(refused == 0);
	return lc_test_done("test_filter_fuzz");
}
