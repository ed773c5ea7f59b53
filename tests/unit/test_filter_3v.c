/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The three-valued evaluator (lc_filter_3v) against libpcap's bpf_filter:
 *   1. hand-made programs for each instruction class and edge (loads past the captured
 *      bytes, division by 0, shifts of 32, MSH, LEN, scratch memory, RET A, what a branch
 *      teaches, invalid programs, the budget);
 *   2. random raw programs over random partial packets: many concrete packets drawn for each
 *      partial one (its known bits, random unknown bits, random lengths), and a NEVER must
 *      have every packet rejected, an ALWAYS every packet kept;
 *   3. random tcpdump expressions (host, net, port, portrange, protocols, vlan, TCP flags,
 *      greater/less, not/and/or) over flows described as the index would (addresses,
 *      protocol, ports, VLAN, TCP flags seen), the same check, and the decisions the
 *      narrowing relies on (host on a known address, tcp-rst on a flow without RST).
 * LC_CORPUS_STRIDE (8 under the sanitizers) divides the rounds. For a long manual run:
 * test_filter_3v ROUNDS [SEED].
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <pcap/pcap.h>

#include "lc_test.h"

#include "linecap/filter.h"

static uint64_t rng;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* ---- hand tests ---- */

#define S(c, k) ((struct bpf_insn)BPF_STMT((c), (k)))
#define J(c, k, t, f) ((struct bpf_insn)BPF_JUMP((c), (k), (t), (f)))
#define V3(prog, p) lc_filter_3v((prog), sizeof(prog) / sizeof((prog)[0]), (p))

/* A partial packet: present bytes, every byte in [0, known_len) known as bytes[i]. */
static void
partial_bytes(struct lc_partial *p, const uint8_t *bytes, uint32_t known_len, uint32_t present)
{
	memset(p, 0, sizeof(*p));
	for (uint32_t i = 0; i < known_len && i < LC_PARTIAL_LEN; i++) {
		p->val[i] = bytes[i];
		p->known[i] = 0xff;
	}
	p->present = present;
}

static void
test_loads(void)
{
	uint8_t b[LC_PARTIAL_LEN];
	struct lc_partial p;

	for (unsigned int i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i + 1);
	partial_bytes(&p, b, 64, 64);
	{	/* W, H, B absolute loads of known bytes: decided both ways. */
		struct bpf_insn w[] = { S(BPF_LD | BPF_W | BPF_ABS, 10),
					J(BPF_JMP | BPF_JEQ | BPF_K, 0x0b0c0d0e, 0, 1),
					S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn h[] = { S(BPF_LD | BPF_H | BPF_ABS, 10),
					J(BPF_JMP | BPF_JEQ | BPF_K, 0x0b0c, 1, 0),
					S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn bb[] = { S(BPF_LD | BPF_B | BPF_ABS, 63), S(BPF_RET | BPF_A, 0) };

		CHECK(V3(w, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(h, &p) == LC_VERDICT_NEVER);
		CHECK(V3(bb, &p) == LC_VERDICT_ALWAYS);
	}
	{	/* A load past the bytes every packet holds may reject; past 2^32 always does. */
		struct bpf_insn past[] = { S(BPF_LD | BPF_B | BPF_ABS, 64), S(BPF_RET | BPF_K, 1) };
		struct bpf_insn last[] = { S(BPF_LD | BPF_W | BPF_ABS, 60), S(BPF_RET | BPF_K, 1) };
		struct bpf_insn far[] = { S(BPF_LD | BPF_W | BPF_ABS, 0xfffffffd),
					  S(BPF_RET | BPF_K, 1) };
		struct bpf_insn h_over[] = { S(BPF_LD | BPF_H | BPF_ABS, 63),
					     S(BPF_RET | BPF_K, 1) };

		CHECK(V3(past, &p) == LC_VERDICT_MAYBE);
		CHECK(V3(last, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(far, &p) == LC_VERDICT_NEVER);
		CHECK(V3(h_over, &p) == LC_VERDICT_MAYBE);
		p.present = 65;
		CHECK(V3(past, &p) == LC_VERDICT_ALWAYS);
		p.present = 64;
	}
	{	/* Beyond what is known the bytes are unknown: RET A of one is MAYBE. */
		struct bpf_insn unk[] = { S(BPF_LD | BPF_B | BPF_ABS, 100), S(BPF_RET | BPF_A, 0) };

		p.present = 200;
		CHECK(V3(unk, &p) == LC_VERDICT_MAYBE);
		p.present = 64;
	}
	{	/* MSH: X = 4 * (low nibble of byte 4 = 5) = 20; B/H/W IND at X. */
		struct bpf_insn msh[] = { S(BPF_LDX | BPF_MSH | BPF_B, 4),
					  S(BPF_LD | BPF_H | BPF_IND, 1),
					  J(BPF_JMP | BPF_JEQ | BPF_K, 0x1617, 0, 1),
					  S(BPF_RET | BPF_K, 7), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn ind_past[] = { S(BPF_LDX | BPF_IMM, 62), S(BPF_LD | BPF_W | BPF_IND, 0),
					       S(BPF_RET | BPF_K, 1) };
		struct bpf_insn ind_wrap[] = { S(BPF_LDX | BPF_IMM, 0xffffffff),
					       S(BPF_LD | BPF_B | BPF_IND, 2),
					       S(BPF_RET | BPF_K, 1) };

		CHECK(V3(msh, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(ind_past, &p) == LC_VERDICT_MAYBE);
		/* X + k past 2^32: bpf_filter does not wrap, it rejects. */
		CHECK(V3(ind_wrap, &p) == LC_VERDICT_NEVER);
	}
	{	/* An IND load whose X can be 16 or 20 (one unknown bit of the nibble): both bytes
		 * 7, so the load is known; then one of them 8, and it is not. */
		struct bpf_insn two[] = { S(BPF_LDX | BPF_MSH | BPF_B, 0), S(BPF_LD | BPF_B | BPF_IND, 0),
					  J(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, 1),
					  S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };

		memset(b, 0, sizeof(b));
		b[0] = 0x45;
		b[16] = 7;
		b[20] = 7;
		partial_bytes(&p, b, 64, 64);
		p.known[0] = 0xfe;	/* 0x44 or 0x45: X 16 or 20 */
		p.val[0] = 0x44;
		CHECK(V3(two, &p) == LC_VERDICT_ALWAYS);
		p.val[16] = 8;
		CHECK(V3(two, &p) == LC_VERDICT_MAYBE);
	}
}

static void
test_alu(void)
{
	uint8_t b[LC_PARTIAL_LEN] = { 0 };
	struct lc_partial p;

	partial_bytes(&p, b, 64, 64);
	p.known[0] = 0x0f;	/* byte 0: low nibble 5, high nibble unknown */
	p.val[0] = 0x05;
	{
		/* (A & 0xf) == 5; (A + 3) & 7 == 0; (A * 4) & 0x3c == 0x14; A - 5 has low nibble
		 * 0; (A | 0xf0) >> 4 == 0xf; A ^ 5 low nibble 0; -1 == 0xffffffff. */
		struct bpf_insn and_[] = { S(BPF_LD | BPF_B | BPF_ABS, 0), S(BPF_ALU | BPF_AND | BPF_K, 0xf),
					   J(BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 1),
					   S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn add[] = { S(BPF_LD | BPF_B | BPF_ABS, 0), S(BPF_ALU | BPF_ADD | BPF_K, 3),
					  S(BPF_ALU | BPF_AND | BPF_K, 7), S(BPF_RET | BPF_A, 0) };
		struct bpf_insn mul[] = { S(BPF_LD | BPF_B | BPF_ABS, 0), S(BPF_LDX | BPF_IMM, 4),
					  S(BPF_ALU | BPF_MUL | BPF_X, 0),
					  S(BPF_ALU | BPF_AND | BPF_K, 0x3c),
					  J(BPF_JMP | BPF_JEQ | BPF_K, 0x14, 0, 1),
					  S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn sub[] = { S(BPF_LD | BPF_B | BPF_ABS, 0), S(BPF_ALU | BPF_SUB | BPF_K, 5),
					  J(BPF_JMP | BPF_JSET | BPF_K, 0xf, 0, 1),
					  S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn or_[] = { S(BPF_LD | BPF_B | BPF_ABS, 0), S(BPF_ALU | BPF_OR | BPF_K, 0xf0),
					  S(BPF_ALU | BPF_RSH | BPF_K, 4),
					  J(BPF_JMP | BPF_JEQ | BPF_K, 0xf, 0, 1),
					  S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn xor_[] = { S(BPF_LD | BPF_B | BPF_ABS, 0), S(BPF_LDX | BPF_IMM, 5),
					   S(BPF_ALU | BPF_XOR | BPF_X, 0),
					   S(BPF_ALU | BPF_AND | BPF_K, 0xf), S(BPF_RET | BPF_A, 0) };
		struct bpf_insn neg[] = { S(BPF_LD | BPF_IMM, 1), S(BPF_ALU | BPF_NEG, 0),
					  J(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 0, 1),
					  S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn unknown[] = { S(BPF_LD | BPF_B | BPF_ABS, 0),
					      S(BPF_ALU | BPF_AND | BPF_K, 0x10),
					      S(BPF_RET | BPF_A, 0) };

		CHECK(V3(and_, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(add, &p) == LC_VERDICT_NEVER);
		CHECK(V3(mul, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(sub, &p) == LC_VERDICT_NEVER);
		CHECK(V3(or_, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(xor_, &p) == LC_VERDICT_NEVER);
		CHECK(V3(neg, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(unknown, &p) == LC_VERDICT_MAYBE);
	}
	{	/* Division and modulo: by an X of 0 bpf_filter returns 0. */
		struct bpf_insn div0[] = { S(BPF_LD | BPF_IMM, 10), S(BPF_LDX | BPF_IMM, 0),
					   S(BPF_ALU | BPF_DIV | BPF_X, 0), S(BPF_RET | BPF_K, 1) };
		struct bpf_insn mod0[] = { S(BPF_LD | BPF_IMM, 10), S(BPF_LDX | BPF_IMM, 0),
					   S(BPF_ALU | BPF_MOD | BPF_X, 0), S(BPF_RET | BPF_K, 1) };
		struct bpf_insn div_unk[] = { S(BPF_LD | BPF_IMM, 10), S(BPF_LDX | BPF_MSH | BPF_B, 0),
					      S(BPF_ALU | BPF_DIV | BPF_X, 0), S(BPF_RET | BPF_K, 1) };
		struct bpf_insn div_k[] = { S(BPF_LD | BPF_IMM, 10), S(BPF_ALU | BPF_DIV | BPF_K, 3),
					    J(BPF_JMP | BPF_JEQ | BPF_K, 3, 0, 1),
					    S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn mod_k[] = { S(BPF_LD | BPF_IMM, 10), S(BPF_LDX | BPF_IMM, 4),
					    S(BPF_ALU | BPF_MOD | BPF_X, 0), S(BPF_RET | BPF_A, 0) };
		/* A in [0, 255] (one unknown byte) / 256: always 0. */
		struct bpf_insn div_rng[] = { S(BPF_LD | BPF_B | BPF_ABS, 100),
					      S(BPF_ALU | BPF_DIV | BPF_K, 256),
					      S(BPF_RET | BPF_A, 0) };
		struct bpf_insn div_k0[] = { S(BPF_LD | BPF_IMM, 10), S(BPF_ALU | BPF_DIV | BPF_K, 0),
					     S(BPF_RET | BPF_K, 1) };

		/* Boundaries: A in {5, 7} % 7 is 5 or 0; A in {0x10, 0x30} >> 4 is 1 or 3. */
		struct bpf_insn mod_edge[] = { S(BPF_LD | BPF_B | BPF_ABS, 20),
					       S(BPF_ALU | BPF_MOD | BPF_K, 7), S(BPF_RET | BPF_A, 0) };
		struct bpf_insn rsh_edge[] = { S(BPF_LD | BPF_B | BPF_ABS, 21),
					       S(BPF_ALU | BPF_RSH | BPF_K, 4),
					       J(BPF_JMP | BPF_JEQ | BPF_K, 3, 0, 1),
					       S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };

		p.known[20] = 0xfd;
		p.val[20] = 0x05;
		p.known[21] = 0xdf;
		p.val[21] = 0x10;
		CHECK(V3(mod_edge, &p) == LC_VERDICT_MAYBE);
		CHECK(V3(rsh_edge, &p) == LC_VERDICT_MAYBE);
		{	/* A byte at most 0x2f (a branch's interval) >> 4 is at most 2, and can be. */
			struct bpf_insn rsh_rng[] = { S(BPF_LD | BPF_B | BPF_ABS, 100),
						      J(BPF_JMP | BPF_JGT | BPF_K, 0x2f, 4, 0),
						      S(BPF_ALU | BPF_RSH | BPF_K, 4),
						      J(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 2),
						      S(BPF_RET | BPF_K, 1),
						      S(BPF_RET | BPF_K, 0),
						      S(BPF_RET | BPF_K, 0) };

			p.present = 128;
			CHECK(V3(rsh_rng, &p) == LC_VERDICT_MAYBE);
			p.present = 64;
		}
		p.val[20] = 0x07;	/* {7}: 0 */
		p.known[20] = 0xff;
		CHECK(V3(mod_edge, &p) == LC_VERDICT_NEVER);
		p.known[21] = 0xff;	/* {0x10}: 1 */
		CHECK(V3(rsh_edge, &p) == LC_VERDICT_NEVER);
		CHECK(V3(div0, &p) == LC_VERDICT_NEVER);
		CHECK(V3(mod0, &p) == LC_VERDICT_NEVER);
		/* X = 4 * (0x?5 & 0xf) = 20: never 0. */
		CHECK(V3(div_unk, &p) == LC_VERDICT_ALWAYS);
		p.known[0] = 0x0e;	/* low nibble 4 or 5 (bit 0 unknown) */
		p.val[0] = 0x04;
		CHECK(V3(div_unk, &p) == LC_VERDICT_ALWAYS);
		p.known[0] = 0;		/* nibble unknown: X may be 0 */
		p.val[0] = 0;
		CHECK(V3(div_unk, &p) == LC_VERDICT_MAYBE);
		p.known[0] = 0x0f;
		p.val[0] = 0x05;
		CHECK(V3(div_k, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(mod_k, &p) == LC_VERDICT_ALWAYS);
		p.present = 128;
		CHECK(V3(div_rng, &p) == LC_VERDICT_NEVER);
		p.present = 64;
		/* bpf_validate refuses it (libpcap would trap): not judged. */
		CHECK(V3(div_k0, &p) == LC_VERDICT_MAYBE);
	}
	{	/* Shifts: by an X of 32 or more bpf_filter gives 0; by a constant of 32 or more C
		 * leaves it undefined (unknown). */
		struct bpf_insn lsh32[] = { S(BPF_LD | BPF_IMM, 1), S(BPF_LDX | BPF_IMM, 32),
					    S(BPF_ALU | BPF_LSH | BPF_X, 0), S(BPF_RET | BPF_A, 0) };
		struct bpf_insn rsh40[] = { S(BPF_LD | BPF_IMM, 0xffffffff), S(BPF_LDX | BPF_IMM, 40),
					    S(BPF_ALU | BPF_RSH | BPF_X, 0), S(BPF_RET | BPF_A, 0) };
		struct bpf_insn lsh31[] = { S(BPF_LD | BPF_IMM, 1), S(BPF_LDX | BPF_IMM, 31),
					    S(BPF_ALU | BPF_LSH | BPF_X, 0),
					    J(BPF_JMP | BPF_JEQ | BPF_K, 0x80000000, 0, 1),
					    S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn rshk[] = { S(BPF_LD | BPF_IMM, 0x80), S(BPF_ALU | BPF_RSH | BPF_K, 8),
					   S(BPF_RET | BPF_A, 0) };
		struct bpf_insn lshk33[] = { S(BPF_LD | BPF_IMM, 1), S(BPF_ALU | BPF_LSH | BPF_K, 33),
					     S(BPF_RET | BPF_A, 0) };
		/* X = 4 * nibble in {16, 20} (see above): 1 << X is never 0. */
		struct bpf_insn lshx_set[] = { S(BPF_LDX | BPF_MSH | BPF_B, 0), S(BPF_LD | BPF_IMM, 1),
					       S(BPF_ALU | BPF_LSH | BPF_X, 0),
					       S(BPF_RET | BPF_A, 0) };

		CHECK(V3(lsh32, &p) == LC_VERDICT_NEVER);
		CHECK(V3(rsh40, &p) == LC_VERDICT_NEVER);
		CHECK(V3(lsh31, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(rshk, &p) == LC_VERDICT_NEVER);
		CHECK(V3(lshk33, &p) == LC_VERDICT_MAYBE);
		p.known[0] = 0x0e;
		p.val[0] = 0x04;
		CHECK(V3(lshx_set, &p) == LC_VERDICT_ALWAYS);
		p.known[0] = 0;	/* X in 0..60: shifts of 32 and more give 0 */
		p.val[0] = 0;
		CHECK(V3(lshx_set, &p) == LC_VERDICT_MAYBE);
	}
}

static void
test_len_mem_ret(void)
{
	uint8_t b[LC_PARTIAL_LEN] = { 0 };
	struct lc_partial p;

	partial_bytes(&p, b, 64, 64);
	{	/* The wire length is at least the bytes every packet holds. */
		struct bpf_insn greater[] = { S(BPF_LD | BPF_W | BPF_LEN, 0),
					      J(BPF_JMP | BPF_JGE | BPF_K, 60, 0, 1),
					      S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn less[] = { S(BPF_LDX | BPF_W | BPF_LEN, 0), S(BPF_MISC | BPF_TXA, 0),
					   J(BPF_JMP | BPF_JGT | BPF_K, 40, 0, 1),
					   S(BPF_RET | BPF_K, 0), S(BPF_RET | BPF_K, 1) };

		CHECK(V3(greater, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(less, &p) == LC_VERDICT_NEVER);
		p.present = 50;
		CHECK(V3(greater, &p) == LC_VERDICT_MAYBE);
		p.present = 64;
	}
	{	/* Scratch memory starts undefined (libpcap 1.10); a stored word is known. */
		struct bpf_insn undef[] = { S(BPF_LD | BPF_MEM, 3), S(BPF_RET | BPF_A, 0) };
		struct bpf_insn stored[] = { S(BPF_LD | BPF_IMM, 9), S(BPF_ST, 3), S(BPF_LD | BPF_IMM, 0),
					     S(BPF_LDX | BPF_MEM, 3), S(BPF_MISC | BPF_TXA, 0),
					     S(BPF_RET | BPF_A, 0) };
		struct bpf_insn stx[] = { S(BPF_LDX | BPF_IMM, 0), S(BPF_STX, 15), S(BPF_LD | BPF_IMM, 5),
					  S(BPF_MISC | BPF_TAX, 0), S(BPF_LD | BPF_MEM, 15),
					  S(BPF_RET | BPF_A, 0) };

		CHECK(V3(undef, &p) == LC_VERDICT_MAYBE);
		CHECK(V3(stored, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(stx, &p) == LC_VERDICT_NEVER);
	}
	{	/* RET A of a byte with a known 1 bit, known 0, partly unknown. */
		struct bpf_insn ret[] = { S(BPF_LD | BPF_B | BPF_ABS, 5), S(BPF_RET | BPF_A, 0) };

		p.known[5] = 0x01;
		p.val[5] = 0x01;
		CHECK(V3(ret, &p) == LC_VERDICT_ALWAYS);
		p.val[5] = 0;
		CHECK(V3(ret, &p) == LC_VERDICT_MAYBE);
		p.known[5] = 0xff;
		CHECK(V3(ret, &p) == LC_VERDICT_NEVER);
	}
}

static void
test_branches(void)
{
	uint8_t b[LC_PARTIAL_LEN] = { 0 };
	struct lc_partial p;

	partial_bytes(&p, b, 0, 64);	/* nothing known */
	{
		/* A branch teaches the path about the bytes it tested: a second test of the same
		 * byte agrees with the first, so this program keeps every packet. */
		struct bpf_insn eq[] = { S(BPF_LD | BPF_B | BPF_ABS, 20),
					 J(BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 4),
					 S(BPF_LD | BPF_H | BPF_ABS, 19),	/* byte 20 in its low half */
					 S(BPF_ALU | BPF_AND | BPF_K, 0xff),
					 J(BPF_JMP | BPF_JEQ | BPF_K, 5, 1, 0),
					 S(BPF_RET | BPF_K, 0),
					 S(BPF_RET | BPF_K, 1) };
		/* A > 100 teaches A >= 101; A <= 100 teaches A <= 100 (A itself, not the byte). */
		struct bpf_insn gt[] = { S(BPF_LD | BPF_B | BPF_ABS, 20),
					 J(BPF_JMP | BPF_JGT | BPF_K, 100, 0, 2),
					 J(BPF_JMP | BPF_JGE | BPF_K, 101, 2, 0),
					 S(BPF_RET | BPF_K, 0),
					 J(BPF_JMP | BPF_JGT | BPF_K, 100, 1, 0),
					 S(BPF_RET | BPF_K, 1),
					 S(BPF_RET | BPF_K, 0) };
		/* A bit tested set or clear is known so in the byte it came from. */
		struct bpf_insn set[] = { S(BPF_LD | BPF_B | BPF_ABS, 20),
					  J(BPF_JMP | BPF_JSET | BPF_K, 4, 0, 3),
					  S(BPF_LD | BPF_B | BPF_ABS, 20),
					  J(BPF_JMP | BPF_JSET | BPF_K, 4, 3, 4),
					  S(BPF_RET | BPF_K, 0),
					  S(BPF_LD | BPF_B | BPF_ABS, 20),
					  J(BPF_JMP | BPF_JSET | BPF_K, 4, 1, 0),
					  S(BPF_RET | BPF_K, 1),
					  S(BPF_RET | BPF_K, 0) };
		struct bpf_insn undecided[] = { S(BPF_LD | BPF_B | BPF_ABS, 20),
						J(BPF_JMP | BPF_JEQ | BPF_K, 5, 0, 1),
						S(BPF_RET | BPF_K, 1), S(BPF_RET | BPF_K, 0) };
		/* Against X: decided by intervals (A a byte, X = 256). */
		struct bpf_insn jx[] = { S(BPF_LD | BPF_B | BPF_ABS, 20), S(BPF_LDX | BPF_IMM, 256),
					 J(BPF_JMP | BPF_JGE | BPF_X, 0, 0, 1),
					 S(BPF_RET | BPF_K, 0), S(BPF_RET | BPF_K, 1) };
		struct bpf_insn ja[] = { S(BPF_JMP | BPF_JA, 1), S(BPF_RET | BPF_K, 0),
					 S(BPF_RET | BPF_K, 3) };

		/* A >= 100 taken: A may still be 100 (the boundary belongs to the taken way). */
		struct bpf_insn ge_edge[] = { S(BPF_LD | BPF_B | BPF_ABS, 20),
					      J(BPF_JMP | BPF_JGE | BPF_K, 100, 0, 3),
					      J(BPF_JMP | BPF_JEQ | BPF_K, 100, 0, 2),
					      S(BPF_RET | BPF_K, 1),
					      S(BPF_RET | BPF_K, 0),
					      S(BPF_RET | BPF_K, 0) };

		CHECK(V3(ge_edge, &p) == LC_VERDICT_MAYBE);
		CHECK(V3(eq, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(gt, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(set, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(undecided, &p) == LC_VERDICT_MAYBE);
		CHECK(V3(jx, &p) == LC_VERDICT_ALWAYS);
		CHECK(V3(ja, &p) == LC_VERDICT_ALWAYS);
	}
}

/* n undecided tests in a row, each path rejoining: 2^n paths, every one RET 1. */
static unsigned int
chain(struct bpf_insn *prog, unsigned int n)
{
	unsigned int len = 0;

	for (unsigned int i = 0; i < n; i++) {
		prog[len++] = S(BPF_LD | BPF_B | BPF_ABS, 14 + i);
		prog[len++] = J(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1);
		prog[len++] = S(BPF_LD | BPF_IMM, i);
	}
	prog[len++] = S(BPF_RET | BPF_K, 1);
	return len;
}

static void
test_budget_invalid(void)
{
	uint8_t b[LC_PARTIAL_LEN] = { 0 };
	struct lc_partial p;
	struct bpf_insn prog[200];
	unsigned int len;

	partial_bytes(&p, b, 0, 128);
	len = chain(prog, 6);
	CHECK(lc_filter_3v(prog, len, &p) == LC_VERDICT_ALWAYS);
	len = chain(prog, 40);	/* 2^40 paths: over the budget, MAYBE */
	CHECK(bpf_validate(prog, (int)len));
	CHECK(lc_filter_3v(prog, len, &p) == LC_VERDICT_MAYBE);
	{
		struct bpf_insn out[] = { J(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), S(BPF_RET | BPF_K, 1) };
		struct bpf_insn ja_out[] = { S(BPF_JMP | BPF_JA, 1), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn ja_back[] = { S(BPF_JMP | BPF_JA, 0xffffffff), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn no_ret[] = { S(BPF_LD | BPF_IMM, 0) };
		struct bpf_insn opcode[] = { S(0xff, 0), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn mem[] = { S(BPF_ST, BPF_MEMWORDS), S(BPF_RET | BPF_K, 0) };
		struct bpf_insn ok[] = { S(BPF_RET | BPF_K, 0) };

		CHECK(V3(out, &p) == LC_VERDICT_MAYBE);
		CHECK(V3(ja_out, &p) == LC_VERDICT_MAYBE);
		CHECK(V3(ja_back, &p) == LC_VERDICT_MAYBE);
		CHECK(V3(no_ret, &p) == LC_VERDICT_MAYBE);
		CHECK(V3(opcode, &p) == LC_VERDICT_MAYBE);
		CHECK(V3(mem, &p) == LC_VERDICT_MAYBE);
		CHECK(lc_filter_3v(ok, 0, &p) == LC_VERDICT_MAYBE);
		CHECK(lc_filter_3v(NULL, 1, &p) == LC_VERDICT_MAYBE);
		CHECK(lc_filter_3v(ok, 1, NULL) == LC_VERDICT_MAYBE);
		CHECK(V3(ok, &p) == LC_VERDICT_NEVER);
	}
}

/* ---- differential: partial packets and the concrete packets they stand for ---- */

#define PKT_MAX 320
#define DRAWS 24

struct tally {
	uint64_t judged, never, always, maybe, packets, wrong;
};

/* A concrete packet consistent with p: known bits as p says, the rest random; at least
 * p->present bytes captured; wire length at least the captured length. */
static void
draw_packet(const struct lc_partial *p, uint8_t *pkt, uint32_t *caplen, uint32_t *wirelen)
{
	for (uint32_t i = 0; i < PKT_MAX; i++) {
		uint8_t r = (uint8_t)rnd();

		pkt[i] = i < LC_PARTIAL_LEN ? (uint8_t)((p->val[i] & p->known[i]) |
							(r & ~p->known[i])) : r;
	}
	*caplen = p->present + (rnd() % 4 == 0 ? 0 : rnd() % (PKT_MAX - p->present + 1));
	*wirelen = *caplen + (rnd() % 2 ? 0 : rnd() % 3000);
}

/* Judge prog over p and check the verdict on DRAWS packets. */
static enum lc_verdict
judge(const struct bpf_insn *prog, unsigned int len, const struct lc_partial *p,
      struct tally *t, const char *what)
{
	enum lc_verdict v = lc_filter_3v(prog, len, p);
	static uint8_t pkt[PKT_MAX];

	t->judged++;
	if (v == LC_VERDICT_NEVER)
		t->never++;
	else if (v == LC_VERDICT_ALWAYS)
		t->always++;
	else
		t->maybe++;
	/* With few unknown bits among the bytes every packet holds, every combination of them
	 * (else DRAWS random packets). */
	uint32_t upos[9], nunk = 0, held = p->present < LC_PARTIAL_LEN ? p->present : LC_PARTIAL_LEN;
	uint8_t ubit[9];

	for (uint32_t i = 0; i < held && nunk < 9; i++)
		for (int bit = 0; bit < 8 && nunk < 9; bit++)
			if (!(p->known[i] & (1u << bit))) {
				upos[nunk] = i;
				ubit[nunk++] = (uint8_t)(1u << bit);
			}
	uint32_t draws = nunk <= 8 ? 1u << nunk : DRAWS;

	if (draws < DRAWS)
		draws = DRAWS;
	for (uint32_t d = 0; d < draws; d++) {
		uint32_t caplen, wirelen;
		unsigned int r;

		draw_packet(p, pkt, &caplen, &wirelen);
		if (nunk <= 8)
			for (uint32_t u = 0; u < nunk; u++)
				pkt[upos[u]] = (uint8_t)((pkt[upos[u]] & ~ubit[u]) |
							 ((d >> u) & 1 ? ubit[u] : 0));
		r = bpf_filter(prog, pkt, wirelen, caplen);
		t->packets++;
		if ((v == LC_VERDICT_NEVER && r != 0) || (v == LC_VERDICT_ALWAYS && r == 0)) {
			if (t->wrong++ < 5) {
				fprintf(stderr, "WRONG %s: verdict %d, bpf_filter %u (caplen %u "
					"wirelen %u present %u)\n", what, (int)v, r, caplen, wirelen,
					p->present);
				for (unsigned int i = 0; i < len; i++)
					fprintf(stderr, "  %s\n", bpf_image(&prog[i], (int)i));
				for (uint32_t i = 0; i < 64; i++)
					fprintf(stderr, "%02x/%02x%s", p->val[i], p->known[i],
						i % 16 == 15 ? "\n" : " ");
			}
			CHECK(0);
		}
	}
	return v;
}

static void
report(const char *name, const struct tally *t)
{
	fprintf(stderr, "%s: %" PRIu64 " judged (%" PRIu64 " packets): never %.1f%%, always "
		"%.1f%%, maybe %.1f%%, wrong %" PRIu64 "\n", name, t->judged, t->packets,
		100.0 * (double)t->never / (double)t->judged,
		100.0 * (double)t->always / (double)t->judged,
		100.0 * (double)t->maybe / (double)t->judged, t->wrong);
}

/* ---- random raw programs ---- */

#define MAX_INSNS 64

static const uint16_t ops[] = {
	BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
	BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
	BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND,
	BPF_LD | BPF_W | BPF_LEN, BPF_LDX | BPF_W | BPF_LEN, BPF_LDX | BPF_MSH | BPF_B,
	BPF_LDX | BPF_MSH | BPF_B,
	BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM, BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX,
	BPF_JMP | BPF_JA,
	BPF_JMP | BPF_JGT | BPF_K, BPF_JMP | BPF_JGE | BPF_K, BPF_JMP | BPF_JEQ | BPF_K,
	BPF_JMP | BPF_JSET | BPF_K, BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JSET | BPF_K,
	BPF_JMP | BPF_JGT | BPF_X, BPF_JMP | BPF_JGE | BPF_X,
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

/* A constant: edges, offsets around the known part, or bytes of the partial packet (so
 * comparisons can be decided). */
static uint32_t
konst(const struct lc_partial *p)
{
	static const uint32_t edge[] = { 0, 1, 2, 3, 4, 12, 13, 14, 31, 32, 33, 63, 64, 127, 128,
					 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff,
					 0x80000000, 0xfffffffe, 0xffffffff };
	uint32_t off = rnd() % (LC_PARTIAL_LEN - 4);

	switch (rnd() % 6) {
	case 0: return edge[rnd() % (sizeof(edge) / sizeof(edge[0]))];
	case 1: return rnd() % 80;
	case 2: return rnd() % 16;
	case 3: return p->val[off];
	case 4: return (uint32_t)p->val[off] << 8 | p->val[off + 1];
	default: return rnd() % 4 == 0 ? rnd() : (uint32_t)p->val[off] << 24 |
			(uint32_t)p->val[off + 1] << 16 | (uint32_t)p->val[off + 2] << 8 |
			p->val[off + 3];
	}
}

static unsigned int
gen_program(struct bpf_insn *prog, const struct lc_partial *p)
{
	unsigned int n = 0, body = 2 + rnd() % (MAX_INSNS - 2 * BPF_MEMWORDS - 2);

	for (uint32_t m = 0; m < BPF_MEMWORDS; m++) {
		prog[n++] = S(BPF_LD | BPF_IMM, konst(p));
		prog[n++] = S(BPF_ST, m);
	}
	unsigned int total = n + body;
	for (; n < total - 1; n++) {
		uint16_t code = ops[rnd() % (sizeof(ops) / sizeof(ops[0]))];
		uint32_t k = konst(p);
		uint32_t room = total - 1 - (n + 1);

		switch (BPF_CLASS(code)) {
		case BPF_LD: case BPF_LDX:
			if (BPF_MODE(code) == BPF_ABS || BPF_MODE(code) == BPF_IND ||
			    BPF_MODE(code) == BPF_MSH)
				k = rnd() % 8 ? rnd() % (p->present + 8) : konst(p);
			break;
		}
		switch (code) {
		case BPF_LD | BPF_MEM: case BPF_LDX | BPF_MEM: case BPF_ST: case BPF_STX:
			k %= BPF_MEMWORDS;
			break;
		case BPF_ALU | BPF_DIV | BPF_K: case BPF_ALU | BPF_MOD | BPF_K:
			if (k == 0)
				k = 1 + rnd() % 7;
			break;
		case BPF_ALU | BPF_LSH | BPF_K: case BPF_ALU | BPF_RSH | BPF_K:
			k %= 32;	/* libpcap shifts by k & 31 on x86 (undefined in C) */
			break;
		case BPF_JMP | BPF_JA:
			k = room ? rnd() % (room + 1) : 0;
			break;
		}
		prog[n] = (struct bpf_insn){ .code = code, .k = k };
		if (BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA) {
			unsigned int lim = room < 255 ? room : 255;

			prog[n].jt = (uint8_t)(rnd() % (lim + 1));
			prog[n].jf = (uint8_t)(rnd() % (lim + 1));
		}
	}
	prog[n++] = rnd() & 1 ? S(BPF_RET | BPF_A, 0) : S(BPF_RET | BPF_K, rnd() % 3 ? 0 : 1);
	return n;
}

static void
random_partial(struct lc_partial *p)
{
	unsigned int style = rnd() % 4;

	memset(p, 0, sizeof(*p));
	for (uint32_t i = 0; i < LC_PARTIAL_LEN; i++) {
		unsigned int c = rnd() % 8;

		p->known[i] = style == 0 ? 0xff : c < 5 ? 0xff : c < 7 ? (uint8_t)rnd() : 0;
		p->val[i] = (uint8_t)(style == 1 ? rnd() % 4 : rnd()) & p->known[i];
	}
	p->present = rnd() % 3 == 0 ? LC_PARTIAL_LEN : rnd() % (LC_PARTIAL_LEN + 40);
	if (rnd() % 4 == 0) {
		/* Few unknown bits, all in the bytes every packet holds: judge() then tries every
		 * combination of them. */
		unsigned int unknown = 1 + rnd() % 8;

		memset(p->known, 0xff, sizeof(p->known));
		p->present = 16 + rnd() % (LC_PARTIAL_LEN - 16 + 1);
		for (unsigned int i = 0; i < unknown; i++) {
			uint32_t pos = rnd() % p->present;
			uint8_t bit = (uint8_t)(1u << (rnd() % 8));

			p->known[pos] &= (uint8_t)~bit;
			p->val[pos] &= (uint8_t)~bit;
		}
	}
}

static void
test_random_programs(long rounds)
{
	struct tally t = { 0 };
	struct bpf_insn prog[MAX_INSNS];
	struct lc_partial p;

	for (long r = 0; r < rounds; r++) {
		unsigned int n;

		random_partial(&p);
		n = gen_program(prog, &p);
		if (!bpf_validate(prog, (int)n)) {
			fprintf(stderr, "generator made a program libpcap refuses (#%ld)\n", r);
			CHECK(0);
			break;
		}
		/* Each program over three partial packets. */
		for (int k = 0; k < 3; k++) {
			if (k)
				random_partial(&p);
			judge(prog, n, &p, &t, "random program");
		}
	}
	report("random programs", &t);
	CHECK(t.wrong == 0);
	/* A test that only ever said MAYBE would prove nothing. */
	CHECK(t.never * 10 >= t.judged);
	CHECK(t.always * 10 >= t.judged);
}

/* ---- random tcpdump expressions over flows as the index describes them ---- */

static const char *const v4_pool[] = { "10.0.0.1", "10.0.0.2", "192.168.1.100", "192.168.1.7" };
static const char *const v6_pool[] = { "2001:db8::1", "2001:db8::2", "fe80::1" };
static const char *const net_pool[] = { "10.0.0.0/8", "192.168.1.0/24", "10.0.0.0/31",
					"192.168.0.0/16", "2001:db8::/32", "fe80::/64" };
static const uint16_t port_pool[] = { 80, 443, 53, 22, 8080 };
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
gen_prim(char *out, size_t len)
{
	switch (rnd() % 20) {
	case 0: snprintf(out, len, "host %s", v4_pool[rnd() % N(v4_pool)]); break;
	case 1: snprintf(out, len, "src host %s", v4_pool[rnd() % N(v4_pool)]); break;
	case 2: snprintf(out, len, "dst host %s", v6_pool[rnd() % N(v6_pool)]); break;
	case 3: snprintf(out, len, "host %s", v6_pool[rnd() % N(v6_pool)]); break;
	case 4: snprintf(out, len, "net %s", net_pool[rnd() % N(net_pool)]); break;
	case 5: snprintf(out, len, "port %u", port_pool[rnd() % N(port_pool)]); break;
	case 6: snprintf(out, len, "src port %u", port_pool[rnd() % N(port_pool)]); break;
	case 7: snprintf(out, len, "dst port %u", port_pool[rnd() % N(port_pool)]); break;
	case 8: snprintf(out, len, "portrange %s", rnd() % 2 ? "50-100" : "400-9000"); break;
	case 9: snprintf(out, len, "tcp"); break;
	case 10: snprintf(out, len, "udp"); break;
	case 11: snprintf(out, len, "%s", rnd() % 2 ? "icmp" : "icmp6"); break;
	case 12: snprintf(out, len, "%s", rnd() % 2 ? "ip" : "ip6"); break;
	case 13: snprintf(out, len, "arp"); break;
	case 14: snprintf(out, len, "vlan %u", rnd() % 2 ? 100 : 200); break;
	case 15: snprintf(out, len, "tcp[tcpflags] & tcp-rst != 0"); break;
	case 16: snprintf(out, len, "tcp[13] & 2 != 0"); break;
	case 17: snprintf(out, len, "greater %u", 40 + rnd() % 80); break;
	case 18: snprintf(out, len, "less %u", 40 + rnd() % 80); break;
	default: snprintf(out, len, "tcp port %u", port_pool[rnd() % N(port_pool)]); break;
	}
}

static void
gen_expr(char *out, size_t len, int depth)
{
	char a[512], b[512];
	unsigned int c = depth >= 3 ? 0 : rnd() % 6;

	if (c <= 1) {
		gen_prim(out, len);
	} else if (c == 2) {
		gen_expr(a, sizeof(a), depth + 1);
		snprintf(out, len, "not (%s)", a);
	} else {
		gen_expr(a, sizeof(a), depth + 1);
		gen_expr(b, sizeof(b), depth + 1);
		snprintf(out, len, "(%s) %s (%s)", a, c == 5 ? "or" : "and", b);
	}
}

/* What a flow index knows about a flow. */
struct flow {
	int vlans;		/* 0, 1, 2 tags */
	uint16_t vid[2];
	int family;		/* 4, 6, or 0 (ARP) */
	uint8_t proto;		/* 6, 17, 1/58 */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t flags_seen;	/* the TCP flags some packet of the flow carries */
	int ihl;		/* IPv4 header words */
};

static void
set_known(struct lc_partial *p, uint32_t off, uint8_t val, uint8_t mask)
{
	if (off >= LC_PARTIAL_LEN)
		return;
	p->known[off] |= mask;
	p->val[off] = (uint8_t)((p->val[off] & ~mask) | (val & mask));
}

static void
set_bytes(struct lc_partial *p, uint32_t off, const uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		set_known(p, off + i, b[i], 0xff);
}

static void
set16(struct lc_partial *p, uint32_t off, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	set_bytes(p, off, b, 2);
}

static void
random_addr(int family, uint8_t *a)
{
	char text[64];
	int pick = rnd() % 5;

	memset(a, 0, 16);
	if (family == 4) {
		if (pick < 4)
			snprintf(text, sizeof(text), "%s", v4_pool[pick]);
		else
			snprintf(text, sizeof(text), "172.16.%u.%u", rnd() % 256, rnd() % 256);
	} else {
		if (pick < 3)
			snprintf(text, sizeof(text), "%s", v6_pool[pick]);
		else
			snprintf(text, sizeof(text), "2001:db8:%x::%x", rnd() % 4, rnd() % 65536);
	}
	CHECK(inet_pton(family == 4 ? AF_INET : AF_INET6, text, a) == 1);
}

static void
random_flow(struct flow *f)
{
	static const uint8_t flag_bits[] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80 };

	memset(f, 0, sizeof(*f));
	f->vlans = rnd() % 3 == 0 ? 1 + (int)(rnd() % 2) : 0;
	f->vid[0] = rnd() % 2 ? 100 : 200;
	f->vid[1] = rnd() % 2 ? 100 : 300;
	f->family = rnd() % 10 == 0 ? 0 : rnd() % 2 ? 4 : 6;
	switch (rnd() % 5) {
	case 0: case 1: f->proto = 6; break;
	case 2: case 3: f->proto = 17; break;
	default: f->proto = f->family == 6 ? 58 : 1; break;
	}
	if (f->family) {
		random_addr(f->family, f->src);
		random_addr(f->family, f->dst);
	}
	f->sport = rnd() % 2 ? port_pool[rnd() % N(port_pool)] : (uint16_t)(1024 + rnd() % 60000);
	f->dport = rnd() % 2 ? port_pool[rnd() % N(port_pool)] : (uint16_t)(1024 + rnd() % 60000);
	for (int i = 0; i < 1 + (int)(rnd() % 3); i++)
		f->flags_seen |= flag_bits[rnd() % N(flag_bits)];
	f->ihl = rnd() % 4 == 0 ? 6 : 5;
}

/* The partial packet of a flow: Ethernet (MACs unknown), its VLAN tags (ID known, priority
 * unknown), IPv4 (version, header length, protocol, addresses; fragment offset 0) or IPv6
 * (version, next header, addresses), ports, and the TCP flags byte: a flag no packet of
 * the flow carries is known 0. Present: through the transport header. */
static void
flow_partial(const struct flow *f, struct lc_partial *p)
{
	uint32_t off = 12, l4;

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < f->vlans; i++) {
		set16(p, off, i == 0 && f->vlans == 2 ? 0x88a8 : 0x8100);
		set_known(p, off + 2, (uint8_t)(f->vid[i] >> 8), 0x0f);
		set_known(p, off + 3, (uint8_t)f->vid[i], 0xff);
		off += 4;
	}
	if (f->family == 0) {
		set16(p, off, 0x0806);
		p->present = off + 2 + 28;
		return;
	}
	set16(p, off, f->family == 4 ? 0x0800 : 0x86dd);
	off += 2;
	if (f->family == 4) {
		set_known(p, off, (uint8_t)(0x40 | f->ihl), 0xff);
		set_known(p, off + 6, 0, 0x1f);	/* fragment offset 0 */
		set_known(p, off + 7, 0, 0xff);
		set_known(p, off + 9, f->proto, 0xff);
		set_bytes(p, off + 12, f->src, 4);
		set_bytes(p, off + 16, f->dst, 4);
		l4 = off + 4u * (uint32_t)f->ihl;
	} else {
		set_known(p, off, 0x60, 0xf0);
		set_known(p, off + 6, f->proto, 0xff);
		set_bytes(p, off + 8, f->src, 16);
		set_bytes(p, off + 24, f->dst, 16);
		l4 = off + 40;
	}
	if (f->proto == 6 || f->proto == 17) {
		set16(p, l4, f->sport);
		set16(p, l4 + 2, f->dport);
	}
	if (f->proto == 6)
		set_known(p, l4 + 13, 0, (uint8_t)~f->flags_seen);
	p->present = l4 + (f->proto == 6 ? 20 : 8);
}

static void
test_expressions(long rounds)
{
	struct tally t = { 0 }, host4 = { 0 }, host6 = { 0 }, rst = { 0 };
	char expr[4096], err[256];
	long compiled = 0;

	for (long r = 0; r < rounds; r++) {
		struct lc_filter_prog *prog;
		const struct bpf_insn *insns;
		unsigned int n;

		gen_expr(expr, sizeof(expr), 0);
		prog = lc_filter_compile(expr, 262144, err, sizeof(err));
		if (prog == NULL) {
			/* Only a contradiction ("arp and tcp") is refused: libpcap's optimiser
			 * finds it rejects everything. */
			CHECK_STR_HAS(err, "rejects all packets");
			continue;
		}
		compiled++;
		insns = lc_filter_prog_insns(prog, &n);
		for (int k = 0; k < 24; k++) {
			struct flow f;
			struct lc_partial p;

			random_flow(&f);
			flow_partial(&f, &p);
			judge(insns, n, &p, &t, expr);
		}
		lc_filter_prog_free(prog);
	}
	fprintf(stderr, "%ld expressions compiled of %ld\n", compiled, rounds);
	report("expressions", &t);
	CHECK(compiled * 10 >= rounds * 7);
	CHECK(t.wrong == 0);
	CHECK(t.never * 10 >= t.judged);
	CHECK(t.always * 20 >= t.judged);

	/* host X on a flow with known addresses is decided, IPv4 and IPv6, and so is the
	 * search for resets on a TCP flow that saw none. */
	for (long r = 0; r < rounds; r++) {
		struct flow f;
		struct lc_partial p;
		struct lc_filter_prog *prog;
		const struct bpf_insn *insns;
		unsigned int n;
		char host[80];
		enum lc_verdict v;

		random_flow(&f);
		f.family = r % 2 ? 4 : 6;
		random_addr(f.family, f.src);
		random_addr(f.family, f.dst);
		if (rnd() % 4 == 0)
			memcpy(f.dst, f.src, 16);
		flow_partial(&f, &p);
		snprintf(host, sizeof(host), "host %s", f.family == 4 ?
			 v4_pool[rnd() % N(v4_pool)] : v6_pool[rnd() % N(v6_pool)]);
		prog = lc_filter_compile(host, 262144, err, sizeof(err));
		CHECK(prog != NULL);
		if (prog == NULL)
			break;
		insns = lc_filter_prog_insns(prog, &n);
		v = judge(insns, n, &p, f.family == 4 ? &host4 : &host6, host);
		if (v == LC_VERDICT_MAYBE) {
			fprintf(stderr, "'%s' undecided on an IPv%d flow (%d VLAN tags)\n", host,
				f.family, f.vlans);
			CHECK(0);
		}
		lc_filter_prog_free(prog);

		f.family = 4;
		f.proto = 6;
		random_addr(4, f.src);
		random_addr(4, f.dst);
		f.flags_seen &= (uint8_t)~0x04;	/* no RST */
		flow_partial(&f, &p);
		prog = lc_filter_compile("tcp[tcpflags] & tcp-rst != 0", 262144, err, sizeof(err));
		CHECK(prog != NULL);
		if (prog == NULL)
			break;
		insns = lc_filter_prog_insns(prog, &n);
		v = judge(insns, n, &p, &rst, "tcp-rst");
		CHECK(v == LC_VERDICT_NEVER);
		f.flags_seen |= 0x04;
		flow_partial(&f, &p);
		v = judge(insns, n, &p, &rst, "tcp-rst");
		CHECK(v == (f.vlans ? LC_VERDICT_NEVER : LC_VERDICT_MAYBE));
		lc_filter_prog_free(prog);
	}
	report("host on IPv4 flows", &host4);
	report("host on IPv6 flows", &host6);
	report("tcp-rst on TCP flows", &rst);
	CHECK(host4.maybe == 0 && host6.maybe == 0 && host4.wrong == 0 && host6.wrong == 0);
	CHECK(host4.always > 0 && host4.never > 0 && host6.always > 0 && host6.never > 0);
	CHECK(rst.wrong == 0);
}

int
main(int argc, char **argv)
{
	const char *stride_env = getenv("LC_CORPUS_STRIDE");
	long stride = stride_env ? atol(stride_env) : 1;
	long rounds = argc > 1 ? atol(argv[1]) : 20000;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x3a1e5eedull;

	if (stride < 1)
		stride = 1;
	if (argc <= 1)
		rounds /= stride;
	rng = seed;
	test_loads();
	test_alu();
	test_len_mem_ret();
	test_branches();
	test_budget_invalid();
	test_random_programs(rounds);
	test_expressions(rounds / 5);
	fprintf(stderr, "seed 0x%" PRIx64 ", %ld rounds\n", seed, rounds);
	return lc_test_done("test_filter_3v");
}
