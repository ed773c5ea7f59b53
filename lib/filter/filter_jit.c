/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Engine "jit": classic BPF (as pcap_compile emits it) translated to x86-64 machine code.
 *
 * The generated function has the engines' run signature, so the RX loop calls it directly,
 *     unsigned int f(const void *state, const uint8_t *pkt, uint32_t wirelen, uint32_t caplen)
 * (state is ignored) and follows libpcap's interpreter exactly: a packet load that does not fit in caplen
 * returns 0 ("no match"), division or modulo by zero returns 0, shifts by 32 or more give
 * 0, and "ja" may jump backwards (libpcap implements "protochain" that way).
 *
 * Registers: A = eax, X = ecx (so shifts by X use cl), pkt = rdi, wirelen = esi,
 * caplen = r10 (moved there from ecx by the prologue), temporaries edx and r11, backward-jump
 * budget r8d. The 16 scratch words M[] live in the red zone below rsp (the function is a
 * leaf and calls nothing), at [rsp - 64 + 4k].
 *
 * Code is emitted in two passes with fixed-size encodings (every jump is rel32), so the
 * offsets found in the first pass hold in the second. It is written into a private
 * read+write mapping on the requested NUMA node, then made read+exec: never both at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <numa.h>
#include <pcap/bpf.h>

#include "filter_engines.h"

#if defined(__x86_64__)

#define RET0 UINT32_MAX			/* pseudo target: the shared "return 0" exit */
#define NEXT (UINT32_MAX - 1)		/* pseudo target: the burst loop's next frame */
#define BACKWARD_JUMPS_MAX 1000000u	/* a safety net; real protochain loops need far less */

enum { EAX = 0, ECX = 1, EDX = 2, ESI = 6, EDI = 7, R8 = 8, R10 = 10, R11 = 11 };

struct jit {
	uint8_t *buf;		/* NULL in the sizing pass */
	size_t len;
	const uint32_t *off;	/* code offset of each instruction (second pass) */
	uint32_t ret0;		/* code offset of the "return 0" exit (second pass) */
	int burst;		/* emitting the burst loop: a return stores a verdict */
	uint32_t next;		/* burst loop: code offset of "next frame" (second pass) */
};

struct jit_state {
	size_t size;		/* mapping size */
	size_t code_len;
	size_t burst_off;	/* where the burst function starts in the mapping */
	void *map;
};

static void
u8(struct jit *j, uint8_t b)
{
	if (j->buf != NULL)
		j->buf[j->len] = b;
	j->len++;
}

static void
u32(struct jit *j, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		u8(j, (uint8_t)(v >> (8 * i)));
}

static void
bytes(struct jit *j, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		u8(j, b[i]);
}

#define EMIT(j, ...) do { \
	static const uint8_t b_[] = { __VA_ARGS__ }; \
	bytes((j), b_, sizeof(b_)); \
} while (0)

/* Absolute code offset of a jump target (an instruction index, or RET0). */
static uint32_t
target(const struct jit *j, uint32_t insn)
{
	if (j->off == NULL)
		return 0;
	if (insn == NEXT)
		return j->next;
	return insn == RET0 ? j->ret0 : j->off[insn];
}

/* jmp rel32 */
static void
jmp(struct jit *j, uint32_t insn)
{
	u8(j, 0xe9);
	u32(j, target(j, insn) - (uint32_t)(j->len + 4));
}

/* jcc rel32; cc is the low nibble of 0x0f 0x8X */
static void
jcc(struct jit *j, uint8_t cc, uint32_t insn)
{
	u8(j, 0x0f);
	u8(j, 0x80 | cc);
	u32(j, target(j, insn) - (uint32_t)(j->len + 4));
}

enum { CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5, CC_BE = 0x6, CC_A = 0x7 };

/* Return 0 unless caplen >= need (need computed in 64 bits, so it never wraps). */
static void
need_bytes(struct jit *j, uint64_t need)
{
	if (need > INT32_MAX) {		/* can never fit: the load always fails */
		jmp(j, RET0);
		return;
	}
	EMIT(j, 0x41, 0x81, 0xfa);	/* cmp r10d, imm32 */
	u32(j, (uint32_t)need);
	jcc(j, CC_B, RET0);
}

/* r11 = X + k (64-bit, no wrap); return 0 unless r11 + size <= caplen. */
static void
ind_offset(struct jit *j, uint32_t k, uint8_t size)
{
	EMIT(j, 0x41, 0xbb);		/* mov r11d, imm32 */
	u32(j, k);
	EMIT(j, 0x49, 0x01, 0xcb);	/* add r11, rcx */
	EMIT(j, 0x49, 0x8d, 0x53);	/* lea rdx, [r11 + size] */
	u8(j, size);
	EMIT(j, 0x4c, 0x39, 0xd2);	/* cmp rdx, r10 */
	jcc(j, CC_A, RET0);
}

/* A move between A or X and scratch word M[k] at [rsp - 64 + 4k]: op 0x8b loads, 0x89
 * stores; modrm 0x44 for eax, 0x4c for ecx (SIB 0x24: rsp base, disp8). */
static int
scratch(struct jit *j, uint32_t k, uint8_t op, uint8_t modrm)
{
	if (k >= BPF_MEMWORDS)
		return -EINVAL;
	u8(j, op);
	u8(j, modrm);
	u8(j, 0x24);
	u8(j, (uint8_t)(int8_t)(-64 + 4 * (int)k));
	return 0;
}

/* Conditional jump of instruction i: flags are set; cc_true taken means jt. */
static void
branch(struct jit *j, uint32_t i, const struct bpf_insn *in, uint8_t cc_true)
{
	uint32_t t = i + 1 + in->jt, f = i + 1 + in->jf;

	if (in->jt == in->jf) {
		if (in->jt != 0)
			jmp(j, t);
	} else if (in->jt == 0) {
		jcc(j, cc_true ^ 1, f);	/* x86 condition codes pair up by their low bit */
	} else {
		jcc(j, cc_true, t);
		if (in->jf != 0)
			jmp(j, f);
	}
}

/* Translate one instruction. Returns 0, or -EINVAL for something the JIT will not run. */
static int
emit_insn(struct jit *j, const struct bpf_insn *prog, uint32_t len, uint32_t i)
{
	const struct bpf_insn *in = &prog[i];
	uint32_t k = in->k;

	switch (in->code) {
	case BPF_RET | BPF_K:
		if (j->burst) {
			EMIT(j, 0x41, 0xc6, 0x45, 0x00);	/* mov byte [r13], k != 0 */
			u8(j, k != 0);
			jmp(j, NEXT);
			return 0;
		}
		u8(j, 0xb8);		/* mov eax, imm32; ret */
		u32(j, k);
		u8(j, 0xc3);
		return 0;
	case BPF_RET | BPF_A:
		if (j->burst) {
			EMIT(j, 0x85, 0xc0);			/* test eax, eax */
			EMIT(j, 0x41, 0x0f, 0x95, 0x45, 0x00);	/* setne byte [r13] */
			jmp(j, NEXT);
			return 0;
		}
		u8(j, 0xc3);
		return 0;

	case BPF_LD | BPF_W | BPF_ABS:
		need_bytes(j, (uint64_t)k + 4);
		if ((uint64_t)k + 4 <= INT32_MAX) {
			EMIT(j, 0x8b, 0x87);		/* mov eax, [rdi + k] */
			u32(j, k);
			EMIT(j, 0x0f, 0xc8);		/* bswap eax */
		}
		return 0;
	case BPF_LD | BPF_H | BPF_ABS:
		need_bytes(j, (uint64_t)k + 2);
		if ((uint64_t)k + 2 <= INT32_MAX) {
			EMIT(j, 0x0f, 0xb7, 0x87);	/* movzx eax, word [rdi + k] */
			u32(j, k);
			EMIT(j, 0x66, 0xc1, 0xc0, 0x08);	/* rol ax, 8 */
		}
		return 0;
	case BPF_LD | BPF_B | BPF_ABS:
		need_bytes(j, (uint64_t)k + 1);
		if ((uint64_t)k + 1 <= INT32_MAX) {
			EMIT(j, 0x0f, 0xb6, 0x87);	/* movzx eax, byte [rdi + k] */
			u32(j, k);
		}
		return 0;
	case BPF_LD | BPF_W | BPF_IND:
		ind_offset(j, k, 4);
		EMIT(j, 0x42, 0x8b, 0x04, 0x1f);	/* mov eax, [rdi + r11] */
		EMIT(j, 0x0f, 0xc8);			/* bswap eax */
		return 0;
	case BPF_LD | BPF_H | BPF_IND:
		ind_offset(j, k, 2);
		EMIT(j, 0x42, 0x0f, 0xb7, 0x04, 0x1f);	/* movzx eax, word [rdi + r11] */
		EMIT(j, 0x66, 0xc1, 0xc0, 0x08);	/* rol ax, 8 */
		return 0;
	case BPF_LD | BPF_B | BPF_IND:
		ind_offset(j, k, 1);
		EMIT(j, 0x42, 0x0f, 0xb6, 0x04, 0x1f);	/* movzx eax, byte [rdi + r11] */
		return 0;
	case BPF_LDX | BPF_MSH | BPF_B:
		need_bytes(j, (uint64_t)k + 1);
		if ((uint64_t)k + 1 <= INT32_MAX) {
			EMIT(j, 0x0f, 0xb6, 0x8f);	/* movzx ecx, byte [rdi + k] */
			u32(j, k);
			EMIT(j, 0x83, 0xe1, 0x0f);	/* and ecx, 0xf */
			EMIT(j, 0xc1, 0xe1, 0x02);	/* shl ecx, 2 */
		}
		return 0;
	case BPF_LD | BPF_W | BPF_LEN:
		EMIT(j, 0x89, 0xf0);			/* mov eax, esi */
		return 0;
	case BPF_LDX | BPF_W | BPF_LEN:
		EMIT(j, 0x89, 0xf1);			/* mov ecx, esi */
		return 0;
	case BPF_LD | BPF_IMM:
		u8(j, 0xb8);				/* mov eax, imm32 */
		u32(j, k);
		return 0;
	case BPF_LDX | BPF_IMM:
		u8(j, 0xb9);				/* mov ecx, imm32 */
		u32(j, k);
		return 0;
	case BPF_LD | BPF_MEM:
		return scratch(j, k, 0x8b, 0x44);	/* mov eax, [rsp + d] */
	case BPF_LDX | BPF_MEM:
		return scratch(j, k, 0x8b, 0x4c);	/* mov ecx, [rsp + d] */
	case BPF_ST:
		return scratch(j, k, 0x89, 0x44);	/* mov [rsp + d], eax */
	case BPF_STX:
		return scratch(j, k, 0x89, 0x4c);	/* mov [rsp + d], ecx */

	case BPF_JMP | BPF_JA: {
		uint32_t to = i + 1 + k;	/* wraps for a backward jump, as in libpcap */

		if (to >= len || to == i)
			return -EINVAL;
		if (to < i) {
			EMIT(j, 0x41, 0xff, 0xc8);	/* dec r8d: one backward jump less */
			jcc(j, CC_E, RET0);
		}
		jmp(j, to);
		return 0;
	}
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_K:
		u8(j, 0x3d);				/* cmp eax, imm32 */
		u32(j, k);
		break;
	case BPF_JMP | BPF_JSET | BPF_K:
		u8(j, 0xa9);				/* test eax, imm32 */
		u32(j, k);
		break;
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JEQ | BPF_X:
		EMIT(j, 0x39, 0xc8);			/* cmp eax, ecx */
		break;
	case BPF_JMP | BPF_JSET | BPF_X:
		EMIT(j, 0x85, 0xc8);			/* test eax, ecx */
		break;

	case BPF_ALU | BPF_ADD | BPF_K: u8(j, 0x05); u32(j, k); return 0;	/* add eax, k */
	case BPF_ALU | BPF_SUB | BPF_K: u8(j, 0x2d); u32(j, k); return 0;	/* sub eax, k */
	case BPF_ALU | BPF_AND | BPF_K: u8(j, 0x25); u32(j, k); return 0;	/* and eax, k */
	case BPF_ALU | BPF_OR | BPF_K:  u8(j, 0x0d); u32(j, k); return 0;	/* or eax, k */
	case BPF_ALU | BPF_XOR | BPF_K: u8(j, 0x35); u32(j, k); return 0;	/* xor eax, k */
	case BPF_ALU | BPF_MUL | BPF_K:
		EMIT(j, 0x69, 0xc0);			/* imul eax, eax, imm32 */
		u32(j, k);
		return 0;
	case BPF_ALU | BPF_ADD | BPF_X: EMIT(j, 0x01, 0xc8); return 0;	/* add eax, ecx */
	case BPF_ALU | BPF_SUB | BPF_X: EMIT(j, 0x29, 0xc8); return 0;	/* sub eax, ecx */
	case BPF_ALU | BPF_AND | BPF_X: EMIT(j, 0x21, 0xc8); return 0;	/* and eax, ecx */
	case BPF_ALU | BPF_OR | BPF_X:  EMIT(j, 0x09, 0xc8); return 0;	/* or eax, ecx */
	case BPF_ALU | BPF_XOR | BPF_X: EMIT(j, 0x31, 0xc8); return 0;	/* xor eax, ecx */
	case BPF_ALU | BPF_MUL | BPF_X: EMIT(j, 0x0f, 0xaf, 0xc1); return 0;	/* imul eax, ecx */
	case BPF_ALU | BPF_DIV | BPF_K:
	case BPF_ALU | BPF_MOD | BPF_K:
		if (k == 0)	/* libpcap's validator refuses it; its interpreter would trap */
			return -EINVAL;
		EMIT(j, 0x41, 0xbb);			/* mov r11d, imm32 */
		u32(j, k);
		EMIT(j, 0x31, 0xd2);			/* xor edx, edx */
		EMIT(j, 0x41, 0xf7, 0xf3);		/* div r11d */
		if (BPF_OP(in->code) == BPF_MOD)
			EMIT(j, 0x89, 0xd0);		/* mov eax, edx */
		return 0;
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_MOD | BPF_X:
		EMIT(j, 0x85, 0xc9);			/* test ecx, ecx */
		jcc(j, CC_E, RET0);
		EMIT(j, 0x31, 0xd2);			/* xor edx, edx */
		EMIT(j, 0xf7, 0xf1);			/* div ecx */
		if (BPF_OP(in->code) == BPF_MOD)
			EMIT(j, 0x89, 0xd0);		/* mov eax, edx */
		return 0;
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_K:
		if (k >= 32)	/* refused by libpcap's compiler and validator alike */
			return -EINVAL;
		u8(j, 0xc1);				/* shl/shr eax, k */
		u8(j, BPF_OP(in->code) == BPF_LSH ? 0xe0 : 0xe8);
		u8(j, (uint8_t)k);
		return 0;
	case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_X:
		/* x86 masks the count to 5 bits; libpcap gives 0 for 32 and more. */
		EMIT(j, 0x31, 0xd2);			/* xor edx, edx */
		u8(j, 0xd3);				/* shl/shr eax, cl */
		u8(j, BPF_OP(in->code) == BPF_LSH ? 0xe0 : 0xe8);
		EMIT(j, 0x83, 0xf9, 0x1f);		/* cmp ecx, 31 */
		EMIT(j, 0x0f, 0x47, 0xc2);		/* cmova eax, edx */
		return 0;
	case BPF_ALU | BPF_NEG:
		EMIT(j, 0xf7, 0xd8);			/* neg eax */
		return 0;
	case BPF_MISC | BPF_TAX:
		EMIT(j, 0x89, 0xc1);			/* mov ecx, eax */
		return 0;
	case BPF_MISC | BPF_TXA:
		EMIT(j, 0x89, 0xc8);			/* mov eax, ecx */
		return 0;
	default:
		return -EINVAL;
	}

	/* Conditional jumps: flags are set above. */
	if (i + 1 + (uint32_t)in->jt >= len || i + 1 + (uint32_t)in->jf >= len)
		return -EINVAL;
	switch (BPF_OP(in->code)) {
	case BPF_JGT: branch(j, i, in, CC_A); break;
	case BPF_JGE: branch(j, i, in, CC_AE); break;
	case BPF_JEQ: branch(j, i, in, CC_E); break;
	default:      branch(j, i, in, CC_NE); break;	/* JSET */
	}
	return 0;
}

static int
reads_memory(const struct bpf_insn *prog, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (prog[i].code == (BPF_LD | BPF_MEM) || prog[i].code == (BPF_LDX | BPF_MEM))
			return 1;
	return 0;
}

/* Does the program read the frame (then it needs data and caplen) or its length? */
static int
reads_frame(const struct bpf_insn *prog, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		uint8_t cls = BPF_CLASS(prog[i].code), mode = BPF_MODE(prog[i].code);

		if ((cls == BPF_LD || cls == BPF_LDX) &&
		    (mode == BPF_ABS || mode == BPF_IND || mode == BPF_MSH))
			return 1;
	}
	return 0;
}

static int
reads_length(const struct bpf_insn *prog, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if ((BPF_CLASS(prog[i].code) == BPF_LD || BPF_CLASS(prog[i].code) == BPF_LDX) &&
		    BPF_MODE(prog[i].code) == BPF_LEN)
			return 1;
	return 0;
}

static int
has_backward_jump(const struct bpf_insn *prog, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (prog[i].code == (BPF_JMP | BPF_JA) && i + 1 + prog[i].k <= i)
			return 1;
	return 0;
}

/* Start of every frame: A = X = 0, the backward-jump budget, zeroed scratch memory. */
static void
emit_frame_setup(struct jit *j, const struct bpf_insn *prog, uint32_t len)
{
	EMIT(j, 0x31, 0xc0);			/* xor eax, eax: A = 0 */
	EMIT(j, 0x31, 0xc9);			/* xor ecx, ecx: X = 0 */
	if (has_backward_jump(prog, len)) {
		EMIT(j, 0x41, 0xb8);		/* mov r8d, budget */
		u32(j, BACKWARD_JUMPS_MAX);
	}
	if (reads_memory(prog, len)) {
		/* M[] starts zeroed, as in libpcap's interpreter. */
		EMIT(j, 0x31, 0xd2);		/* xor edx, edx */
		for (int8_t d = -64; d < 0; d += 8) {
			EMIT(j, 0x48, 0x89, 0x54, 0x24);	/* mov [rsp + d], rdx */
			u8(j, (uint8_t)d);
		}
	}
}

static int
emit_body(struct jit *j, const struct bpf_insn *prog, uint32_t len, uint32_t *record)
{
	for (uint32_t i = 0; i < len; i++) {
		int rc;

		if (record != NULL)
			record[i] = (uint32_t)j->len;
		rc = emit_insn(j, prog, len, i);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * The per-frame function, run(state, pkt, wirelen, caplen). One pass; off[] and ret0 are
 * recorded when record is set (sizing pass).
 */
static int
emit_single(struct jit *j, const struct bpf_insn *prog, uint32_t len, uint32_t *record)
{
	int rc;

	j->burst = 0;
	EMIT(j, 0x48, 0x89, 0xf7);		/* mov rdi, rsi: pkt */
	EMIT(j, 0x89, 0xd6);			/* mov esi, edx: wirelen */
	EMIT(j, 0x41, 0x89, 0xca);		/* mov r10d, ecx: caplen, zero-extended */
	emit_frame_setup(j, prog, len);
	rc = emit_body(j, prog, len, record);
	if (rc < 0)
		return rc;
	if (record != NULL)
		j->ret0 = (uint32_t)j->len;
	EMIT(j, 0x31, 0xc0, 0xc3);		/* ret0: xor eax, eax; ret (also: fell off the end) */
	return 0;
}

/*
 * The burst function, burst(state, frames, n, keep): the program inlined in a loop over n
 * frames (struct lc_frame: data, wirelen, caplen), a return storing keep[i] = (A != 0).
 * rbx walks the frames, r12d counts down, r13 walks keep; all three are saved once.
 */
static int
emit_burst(struct jit *j, const struct bpf_insn *prog, uint32_t len, uint32_t *record,
	   uint32_t *loop_top, uint32_t *done)
{
	int rc;

	j->burst = 1;
	EMIT(j, 0x53, 0x41, 0x54, 0x41, 0x55);	/* push rbx; push r12; push r13 */
	EMIT(j, 0x48, 0x89, 0xf3);		/* mov rbx, rsi: frames */
	EMIT(j, 0x41, 0x89, 0xd4);		/* mov r12d, edx: n */
	EMIT(j, 0x49, 0x89, 0xcd);		/* mov r13, rcx: keep */
	EMIT(j, 0x45, 0x85, 0xe4);		/* test r12d, r12d */
	u8(j, 0x0f);				/* jz done */
	u8(j, 0x84);
	u32(j, *done - (uint32_t)(j->len + 4));
	if (record != NULL)
		*loop_top = (uint32_t)j->len;
	if (reads_frame(prog, len)) {
		EMIT(j, 0x48, 0x8b, 0x3b);		/* mov rdi, [rbx]: data */
		EMIT(j, 0x44, 0x8b, 0x53, 0x0c);	/* mov r10d, [rbx + 12]: caplen */
	}
	if (reads_length(prog, len))
		EMIT(j, 0x8b, 0x73, 0x08);		/* mov esi, [rbx + 8]: wirelen */
	emit_frame_setup(j, prog, len);
	rc = emit_body(j, prog, len, record);
	if (rc < 0)
		return rc;
	if (record != NULL)
		j->ret0 = (uint32_t)j->len;
	EMIT(j, 0x41, 0xc6, 0x45, 0x00, 0x00);	/* ret0 (and falling off): mov byte [r13], 0 */
	if (record != NULL)
		j->next = (uint32_t)j->len;
	EMIT(j, 0x48, 0x83, 0xc3, 0x10);	/* next: add rbx, 16 */
	EMIT(j, 0x49, 0xff, 0xc5);		/* inc r13 */
	EMIT(j, 0x41, 0xff, 0xcc);		/* dec r12d */
	u8(j, 0x0f);				/* jnz loop_top */
	u8(j, 0x85);
	u32(j, *loop_top - (uint32_t)(j->len + 4));
	if (record != NULL)
		*done = (uint32_t)j->len;
	EMIT(j, 0x41, 0x5d, 0x41, 0x5c, 0x5b);	/* pop r13; pop r12; pop rbx */
	u8(j, 0xc3);				/* ret */
	return 0;
}

static void *
jit_create(const struct bpf_insn *prog, unsigned int len, int socket)
{
	struct jit_state *st;
	struct jit j1 = { 0 }, j2 = { 0 };
	uint32_t *off1, *off2, loop_top = 0, done = 0;
	int rc;

	if (len == 0 || len > 1000000) {
		errno = EINVAL;
		return NULL;
	}
	off1 = calloc(len, sizeof(*off1));
	off2 = calloc(len, sizeof(*off2));
	st = calloc(1, sizeof(*st));
	if (off1 == NULL || off2 == NULL || st == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	/* Pass 1: sizes and offsets of both functions, the burst one placed after the other. */
	rc = emit_single(&j1, prog, len, off1);
	if (rc < 0)
		goto fail;
	st->burst_off = (j1.len + 63) & ~(size_t)63;
	j2.len = st->burst_off;
	rc = emit_burst(&j2, prog, len, off2, &loop_top, &done);
	if (rc < 0)
		goto fail;
	st->code_len = j2.len;
	st->size = (j2.len + 4095) & ~(size_t)4095;
	st->map = mmap(NULL, st->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (st->map == MAP_FAILED) {
		st->map = NULL;
		rc = -ENOMEM;
		goto fail;
	}
	/* Place the code on the RX core's node before the first write touches it. */
	if (socket >= 0 && numa_available() >= 0)
		numa_tonode_memory(st->map, st->size, socket);
	memset(st->map, 0xcc, st->size);	/* int3 between and after the functions */
	/* Pass 2: the bytes, with every jump resolved. */
	j1.buf = j2.buf = st->map;
	j1.off = off1;
	j2.off = off2;
	size_t single_len = j1.len;
	j1.len = 0;
	j2.len = st->burst_off;
	rc = emit_single(&j1, prog, len, NULL);
	if (rc == 0)
		rc = emit_burst(&j2, prog, len, NULL, &loop_top, &done);
	if (rc < 0 || j1.len != single_len || j2.len != st->code_len) {
		rc = -EINVAL;
		goto fail;
	}
	if (mprotect(st->map, st->size, PROT_READ | PROT_EXEC) != 0) {
		rc = -errno;
		goto fail;
	}
	__builtin___clear_cache((char *)st->map, (char *)st->map + st->code_len);
	free(off1);
	free(off2);
	return st;
fail:
	if (st != NULL && st->map != NULL)
		munmap(st->map, st->size);
	free(off1);
	free(off2);
	free(st);
	errno = -rc;
	return NULL;
}

static void
jit_destroy(void *state)
{
	struct jit_state *st = state;

	if (st == NULL)
		return;
	munmap(st->map, st->size);
	free(st);
}

static lc_filter_fn
jit_entry(const void *state)
{
	const struct jit_state *st = state;

	return (lc_filter_fn)st->map;
}

static unsigned int
jit_run(const void *state, const uint8_t *pkt, uint32_t wirelen, uint32_t caplen)
{
	return jit_entry(state)(state, pkt, wirelen, caplen);
}

static lc_filter_burst_fn
jit_burst_entry(const void *state)
{
	const struct jit_state *st = state;

	return (lc_filter_burst_fn)(void *)((uint8_t *)st->map + st->burst_off);
}

static size_t
jit_code(const void *state, const uint8_t **code)
{
	const struct jit_state *st = state;

	*code = st->map;
	return st->code_len;
}

const struct lc_filter_ops lc_filter_jit_ops = {
	.name = "jit",
	.create = jit_create,
	.destroy = jit_destroy,
	.run = jit_run,
	.entry = jit_entry,
	.burst_entry = jit_burst_entry,
	.code = jit_code,
};

#endif /* __x86_64__ */
