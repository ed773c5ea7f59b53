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
 * The file has three layers: byte output and one encoder per x86 instruction form (emit_*,
 * each picking the shortest encoding of its operands), one function per BPF instruction
 * class built from them, and the two functions' frames around the translated body.
 *
 * Code is emitted in two passes. Every jump is rel32 and every other instruction's size
 * depends only on its operands, so the offsets found in the first (sizing) pass hold in the
 * second. It is written into a private read+write mapping on the requested NUMA node, then
 * made read+exec: never both at once.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <numa.h>
#include <pcap/bpf.h>

#include "filter_engines.h"

#if defined(__x86_64__)

#define BACKWARD_JUMPS_MAX 1000000u	/* a safety net; real protochain loops need far less */

/* x86-64 registers by encoding number; the width is the instruction's. */
enum { RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7,
       R8 = 8, R10 = 10, R11 = 11, R12 = 12, R13 = 13, NOREG = -1 };

/* What each register holds in the generated code. */
enum {
	REG_A = RAX, REG_X = RCX, REG_PKT = RDI, REG_WIRELEN = RSI, REG_CAPLEN = R10,
	REG_TMP = RDX, REG_TMP2 = R11, REG_BUDGET = R8,
	REG_FRAME = RBX, REG_LEFT = R12, REG_KEEP = R13,	/* burst loop only */
};

/* Operand width: 32-bit operations zero the upper half of their destination. */
enum { W32 = 0, W64 = 1 };

/* The ALU group: the /digit of 0x81/0x83 imm forms; reg forms are 8 * op + 1. */
enum alu { ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7 };

/* The shift group (0xc1, 0xd3): the /digit. */
enum shift { SH_ROL = 0, SH_SHL = 4, SH_SHR = 5 };

/* Condition codes: the low nibble of jcc, setcc, cmovcc. */
enum { CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5, CC_BE = 0x6, CC_A = 0x7 };

/* Labels: code offsets recorded in the sizing pass. A jump target is an instruction index
 * or LABEL(l) (far above any index: programs have at most 1000000 instructions). */
enum { RET0, NEXT, LOOP, DONE, LABELS };
#define LABEL(l) (UINT32_MAX - (uint32_t)(l))

struct jit {
	uint8_t *buf;		/* NULL in the sizing pass */
	size_t len;		/* bytes emitted: the offset of the next one in buf */
	uint32_t *off;		/* code offset of each BPF instruction (sizing pass records) */
	uint32_t label[LABELS];	/* code offsets of RET0 ("return 0"), NEXT (burst: next
				 * frame), LOOP and DONE (burst loop), same */
	int burst;		/* emitting the burst loop: a return stores a verdict */
};

struct jit_state {
	size_t size;		/* mapping size */
	size_t code_len;
	size_t burst_off;	/* where the burst function starts in the mapping */
	void *map;
};

/* ---- Bytes ---- */

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

static int
is_imm8(int64_t v)
{
	return v >= INT8_MIN && v <= INT8_MAX;
}

/* Record label l here (sizing pass). */
static void
mark(struct jit *j, int l)
{
	if (j->buf == NULL)
		j->label[l] = (uint32_t)j->len;
}

/* Code offset of a jump target (0 in the sizing pass, where only sizes count). */
static uint32_t
target(const struct jit *j, uint32_t t)
{
	if (j->buf == NULL)
		return 0;
	if (t >= LABEL(LABELS - 1))
		return j->label[UINT32_MAX - t];
	return j->off[t];
}

/* ---- Instruction encoding: prefixes, ModRM, SIB ---- */

/* REX when needed: W for 64-bit operands; R, X, B extend reg, index and base (or rm). */
static void
emit_rex(struct jit *j, int w, int reg, int index, int base)
{
	uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | (reg >= 8 ? 4 : 0) | (index >= 8 ? 2 : 0) |
				(base >= 8 ? 1 : 0));

	if (rex != 0x40)
		u8(j, rex);
}

static uint8_t
modrm(int mod, int reg, int rm)
{
	return (uint8_t)((mod << 6) | ((reg & 7) << 3) | (rm & 7));
}

/* An opcode of one byte, or two when it has the 0x0f escape (0x0fXX). */
static void
emit_opcode(struct jit *j, uint16_t op)
{
	if (op > 0xff)
		u8(j, (uint8_t)(op >> 8));
	u8(j, (uint8_t)op);
}

/* op reg, rm (both registers; reg may be an opcode extension /digit). */
static void
emit_op_reg(struct jit *j, int w, uint16_t op, int reg, int rm)
{
	emit_rex(j, w, reg, NOREG, rm);
	emit_opcode(j, op);
	u8(j, modrm(3, reg, rm));
}

/*
 * op reg, [base + index + disp]: the shortest displacement; a SIB byte when there is an
 * index or the base is rsp/r12; rbp/r13 as base always take a displacement (mod 00 with
 * them means something else).
 */
static void
emit_op_mem(struct jit *j, int w, uint16_t op, int reg, int base, int index, int32_t disp)
{
	int mod = disp == 0 && (base & 7) != RBP ? 0 : is_imm8(disp) ? 1 : 2;

	emit_rex(j, w, reg, index, base);
	emit_opcode(j, op);
	if (index != NOREG || (base & 7) == RSP) {
		u8(j, modrm(mod, reg, RSP));			/* rm 100: SIB follows */
		u8(j, modrm(0, index != NOREG ? index : RSP, base));	/* scale 1; 100: none */
	} else {
		u8(j, modrm(mod, reg, base));
	}
	if (mod == 1)
		u8(j, (uint8_t)disp);
	else if (mod == 2)
		u32(j, (uint32_t)disp);
}

/* ---- One encoder per instruction form ---- */

/* dst = imm (32 bits, zero-extended) */
static void
emit_mov_imm(struct jit *j, int dst, uint32_t imm)
{
	emit_rex(j, W32, NOREG, NOREG, dst);
	u8(j, (uint8_t)(0xb8 | (dst & 7)));
	u32(j, imm);
}

static void
emit_mov_reg(struct jit *j, int w, int dst, int src)
{
	emit_op_reg(j, w, 0x89, src, dst);
}

/* dst = the size-byte word at [base + index + disp], zero-extended (size 1, 2, 4 or 8). */
static void
emit_load(struct jit *j, unsigned int size, int dst, int base, int index, int32_t disp)
{
	uint16_t op = size == 1 ? 0x0fb6 : size == 2 ? 0x0fb7 : 0x8b;	/* movzx, movzx, mov */

	emit_op_mem(j, size == 8 ? W64 : W32, op, dst, base, index, disp);
}

/* [base + disp] = src (size 4 or 8) */
static void
emit_store(struct jit *j, unsigned int size, int src, int base, int32_t disp)
{
	emit_op_mem(j, size == 8 ? W64 : W32, 0x89, src, base, NOREG, disp);
}

/* byte [base + disp] = imm */
static void
emit_store_imm8(struct jit *j, int base, int32_t disp, uint8_t imm)
{
	emit_op_mem(j, W32, 0xc6, 0, base, NOREG, disp);
	u8(j, imm);
}

/* dst = base + disp (64 bits) */
static void
emit_lea(struct jit *j, int dst, int base, int32_t disp)
{
	emit_op_mem(j, W64, 0x8d, dst, base, NOREG, disp);
}

/* dst op= src; ALU_CMP sets the flags of dst - src */
static void
emit_alu_reg(struct jit *j, int w, enum alu op, int dst, int src)
{
	emit_op_reg(j, w, (uint16_t)(8 * op + 1), src, dst);
}

/* dst op= imm (sign-extended to a 64-bit dst): imm8 form, else eax's short form, else imm32 */
static void
emit_alu_imm(struct jit *j, int w, enum alu op, int dst, uint32_t imm)
{
	if (is_imm8((int32_t)imm)) {
		emit_op_reg(j, w, 0x83, op, dst);
		u8(j, (uint8_t)imm);
		return;
	}
	if (dst == RAX) {
		emit_rex(j, w, NOREG, NOREG, RAX);
		u8(j, (uint8_t)(8 * op + 5));
	} else {
		emit_op_reg(j, w, 0x81, op, dst);
	}
	u32(j, imm);
}

/* flags of dst & src */
static void
emit_test_reg(struct jit *j, int dst, int src)
{
	emit_op_reg(j, W32, 0x85, src, dst);
}

/* flags of dst & imm */
static void
emit_test_imm(struct jit *j, int dst, uint32_t imm)
{
	if (dst == RAX)
		u8(j, 0xa9);
	else
		emit_op_reg(j, W32, 0xf7, 0, dst);
	u32(j, imm);
}

/* dst *= imm (low 32 bits) */
static void
emit_mul_imm(struct jit *j, int dst, uint32_t imm)
{
	int short_form = is_imm8((int32_t)imm);

	emit_op_reg(j, W32, short_form ? 0x6b : 0x69, dst, dst);
	if (short_form)
		u8(j, (uint8_t)imm);
	else
		u32(j, imm);
}

/* dst *= src (low 32 bits) */
static void
emit_mul_reg(struct jit *j, int dst, int src)
{
	emit_op_reg(j, W32, 0x0faf, dst, src);
}

/* eax = edx:eax / src, edx = the remainder (unsigned) */
static void
emit_div(struct jit *j, int src)
{
	emit_op_reg(j, W32, 0xf7, 6, src);
}

static void
emit_neg(struct jit *j, int dst)
{
	emit_op_reg(j, W32, 0xf7, 3, dst);
}

static void
emit_inc(struct jit *j, int w, int dst)
{
	emit_op_reg(j, w, 0xff, 0, dst);
}

static void
emit_dec(struct jit *j, int w, int dst)
{
	emit_op_reg(j, w, 0xff, 1, dst);
}

/* dst = dst shifted by imm (32 bits) */
static void
emit_shift_imm(struct jit *j, enum shift op, int dst, uint8_t imm)
{
	emit_op_reg(j, W32, 0xc1, op, dst);
	u8(j, imm);
}

/* dst = dst shifted by cl (the count masked to 5 bits, as x86 does) */
static void
emit_shift_cl(struct jit *j, enum shift op, int dst)
{
	emit_op_reg(j, W32, 0xd3, op, dst);
}

/* Reverse the bytes of dst (32 bits). */
static void
emit_bswap32(struct jit *j, int dst)
{
	emit_rex(j, W32, NOREG, NOREG, dst);
	u8(j, 0x0f);
	u8(j, (uint8_t)(0xc8 | (dst & 7)));
}

/* Swap the two low bytes of dst (rol dst16, 8); the upper half stays as it was. */
static void
emit_bswap16(struct jit *j, int dst)
{
	u8(j, 0x66);
	emit_shift_imm(j, SH_ROL, dst, 8);
}

/* if (cc) dst = src */
static void
emit_cmov(struct jit *j, uint8_t cc, int dst, int src)
{
	emit_op_reg(j, W32, (uint16_t)(0x0f40 | cc), dst, src);
}

/* byte [base + disp] = cc ? 1 : 0 */
static void
emit_setcc_mem(struct jit *j, uint8_t cc, int base, int32_t disp)
{
	emit_op_mem(j, W32, (uint16_t)(0x0f90 | cc), 0, base, NOREG, disp);
}

static void
emit_push(struct jit *j, int reg)
{
	emit_rex(j, W32, NOREG, NOREG, reg);
	u8(j, (uint8_t)(0x50 | (reg & 7)));
}

static void
emit_pop(struct jit *j, int reg)
{
	emit_rex(j, W32, NOREG, NOREG, reg);
	u8(j, (uint8_t)(0x58 | (reg & 7)));
}

static void
emit_ret(struct jit *j)
{
	u8(j, 0xc3);
}

/* jmp rel32 to t (an instruction index or a LABEL) */
static void
emit_jmp(struct jit *j, uint32_t t)
{
	u8(j, 0xe9);
	u32(j, target(j, t) - (uint32_t)(j->len + 4));
}

/* jcc rel32 to t */
static void
emit_jcc(struct jit *j, uint8_t cc, uint32_t t)
{
	emit_opcode(j, (uint16_t)(0x0f80 | cc));
	u32(j, target(j, t) - (uint32_t)(j->len + 4));
}

/* ---- BPF instructions ---- */

/* Scratch word M[k] in the red zone. */
#define MEM(k) (-64 + 4 * (int32_t)(k))

/*
 * dst = the size-byte big-endian word at pkt[k], or at pkt[X + k] when indexed; return 0
 * unless it lies wholly within caplen. The offset and its end are computed in 64 bits (X is
 * zero-extended), so they never wrap. Written once for every load of the packet (ld, ldh,
 * ldb, ldx 4*([k]&0xf)).
 */
static void
emit_ld_pkt(struct jit *j, int dst, unsigned int size, uint32_t k, int indexed)
{
	int small = (uint64_t)k + size <= INT32_MAX;	/* k and its end fit a displacement */
	int index = indexed ? REG_X : NOREG;
	int32_t disp = small ? (int32_t)k : 0;

	if (!indexed && !small) {			/* can never fit: always fails */
		emit_jmp(j, LABEL(RET0));
		return;
	}
	if (!indexed) {
		emit_alu_imm(j, W32, ALU_CMP, REG_CAPLEN, k + size);
		emit_jcc(j, CC_B, LABEL(RET0));
	} else {
		if (small) {
			emit_lea(j, REG_TMP, REG_X, (int32_t)(k + size));	/* rdx = X + k + size */
		} else {
			emit_mov_imm(j, REG_TMP2, k);				/* r11 = X + k */
			emit_alu_reg(j, W64, ALU_ADD, REG_TMP2, REG_X);
			emit_lea(j, REG_TMP, REG_TMP2, (int32_t)size);		/* rdx = r11 + size */
			index = REG_TMP2;
		}
		emit_alu_reg(j, W64, ALU_CMP, REG_TMP, REG_CAPLEN);
		emit_jcc(j, CC_A, LABEL(RET0));
	}
	emit_load(j, size, dst, REG_PKT, index, disp);
	if (size == 4)
		emit_bswap32(j, dst);
	else if (size == 2)
		emit_bswap16(j, dst);
}

/* The ld and ldx classes (dst A or X). */
static int
emit_bpf_ld(struct jit *j, const struct bpf_insn *in)
{
	int dst = BPF_CLASS(in->code) == BPF_LDX ? REG_X : REG_A;
	unsigned int size = BPF_SIZE(in->code) == BPF_W ? 4 : BPF_SIZE(in->code) == BPF_H ? 2 : 1;

	switch (in->code) {
	case BPF_LD | BPF_W | BPF_ABS:
	case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
	case BPF_LD | BPF_W | BPF_IND:
	case BPF_LD | BPF_H | BPF_IND:
	case BPF_LD | BPF_B | BPF_IND:
		emit_ld_pkt(j, dst, size, in->k, BPF_MODE(in->code) == BPF_IND);
		return 0;
	case BPF_LDX | BPF_MSH | BPF_B:		/* X = 4 * (pkt[k] & 0xf) */
		emit_ld_pkt(j, dst, 1, in->k, 0);
		emit_alu_imm(j, W32, ALU_AND, dst, 0xf);
		emit_shift_imm(j, SH_SHL, dst, 2);
		return 0;
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_W | BPF_LEN:
		emit_mov_reg(j, W32, dst, REG_WIRELEN);
		return 0;
	case BPF_LD | BPF_IMM:
	case BPF_LDX | BPF_IMM:
		emit_mov_imm(j, dst, in->k);
		return 0;
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
		if (in->k >= BPF_MEMWORDS)
			return -EINVAL;
		emit_load(j, 4, dst, RSP, NOREG, MEM(in->k));
		return 0;
	default:
		return -EINVAL;
	}
}

/* st and stx: M[k] = A or X. */
static int
emit_bpf_st(struct jit *j, const struct bpf_insn *in)
{
	if ((in->code != BPF_ST && in->code != BPF_STX) || in->k >= BPF_MEMWORDS)
		return -EINVAL;
	emit_store(j, 4, in->code == BPF_ST ? REG_A : REG_X, RSP, MEM(in->k));
	return 0;
}

/* A = A / divisor or A % divisor (the divisor is known to be nonzero). */
static void
emit_divmod(struct jit *j, int mod, int divisor)
{
	emit_alu_reg(j, W32, ALU_XOR, RDX, RDX);	/* edx:eax = A */
	emit_div(j, divisor);
	if (mod)
		emit_mov_reg(j, W32, REG_A, RDX);
}

/* The alu class: A = A op k, or A op X. */
static int
emit_bpf_alu(struct jit *j, const struct bpf_insn *in)
{
	static const enum alu alu_of[] = { [BPF_ADD >> 4] = ALU_ADD, [BPF_SUB >> 4] = ALU_SUB,
					   [BPF_AND >> 4] = ALU_AND, [BPF_OR >> 4] = ALU_OR,
					   [BPF_XOR >> 4] = ALU_XOR };
	enum shift sh = BPF_OP(in->code) == BPF_LSH ? SH_SHL : SH_SHR;
	int mod = BPF_OP(in->code) == BPF_MOD;
	uint32_t k = in->k;

	switch (in->code) {
	case BPF_ALU | BPF_ADD | BPF_K: case BPF_ALU | BPF_SUB | BPF_K:
	case BPF_ALU | BPF_AND | BPF_K: case BPF_ALU | BPF_OR | BPF_K:
	case BPF_ALU | BPF_XOR | BPF_K:
		emit_alu_imm(j, W32, alu_of[BPF_OP(in->code) >> 4], REG_A, k);
		return 0;
	case BPF_ALU | BPF_ADD | BPF_X: case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_AND | BPF_X: case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_XOR | BPF_X:
		emit_alu_reg(j, W32, alu_of[BPF_OP(in->code) >> 4], REG_A, REG_X);
		return 0;
	case BPF_ALU | BPF_MUL | BPF_K:
		emit_mul_imm(j, REG_A, k);
		return 0;
	case BPF_ALU | BPF_MUL | BPF_X:
		emit_mul_reg(j, REG_A, REG_X);
		return 0;
	case BPF_ALU | BPF_DIV | BPF_K:
	case BPF_ALU | BPF_MOD | BPF_K:
		if (k == 0)	/* libpcap's validator refuses it; its interpreter would trap */
			return -EINVAL;
		emit_mov_imm(j, REG_TMP2, k);
		emit_divmod(j, mod, REG_TMP2);
		return 0;
	case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_MOD | BPF_X:
		emit_test_reg(j, REG_X, REG_X);
		emit_jcc(j, CC_E, LABEL(RET0));
		emit_divmod(j, mod, REG_X);
		return 0;
	case BPF_ALU | BPF_LSH | BPF_K:
	case BPF_ALU | BPF_RSH | BPF_K:
		if (k >= 32)	/* refused by libpcap's compiler and validator alike */
			return -EINVAL;
		emit_shift_imm(j, sh, REG_A, (uint8_t)k);
		return 0;
	case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_X:
		/* x86 masks the count to 5 bits; libpcap gives 0 for 32 and more. */
		emit_alu_reg(j, W32, ALU_XOR, REG_TMP, REG_TMP);
		emit_shift_cl(j, sh, REG_A);
		emit_alu_imm(j, W32, ALU_CMP, REG_X, 31);
		emit_cmov(j, CC_A, REG_A, REG_TMP);
		return 0;
	case BPF_ALU | BPF_NEG:
		emit_neg(j, REG_A);
		return 0;
	default:
		return -EINVAL;
	}
}

/* After the flags are set: the conditional jump of instruction i; cc_true taken means jt. */
static void
emit_branch(struct jit *j, uint32_t i, const struct bpf_insn *in, uint8_t cc_true)
{
	uint32_t t = i + 1 + in->jt, f = i + 1 + in->jf;

	if (in->jt == in->jf) {
		if (in->jt != 0)
			emit_jmp(j, t);
	} else if (in->jt == 0) {
		emit_jcc(j, cc_true ^ 1, f);	/* x86 condition codes pair up by their low bit */
	} else {
		emit_jcc(j, cc_true, t);
		if (in->jf != 0)
			emit_jmp(j, f);
	}
}

/* ja, which may go backwards (protochain): each backward jump spends one of the budget. */
static int
emit_bpf_ja(struct jit *j, uint32_t len, uint32_t i, uint32_t k)
{
	uint32_t to = i + 1 + k;	/* wraps for a backward jump, as in libpcap */

	if (to >= len || to == i)
		return -EINVAL;
	if (to < i) {
		emit_dec(j, W32, REG_BUDGET);
		emit_jcc(j, CC_E, LABEL(RET0));
	}
	emit_jmp(j, to);
	return 0;
}

/* The jmp class. */
static int
emit_bpf_jmp(struct jit *j, const struct bpf_insn *prog, uint32_t len, uint32_t i)
{
	const struct bpf_insn *in = &prog[i];
	uint8_t cc;

	switch (in->code) {
	case BPF_JMP | BPF_JA:
		return emit_bpf_ja(j, len, i, in->k);
	case BPF_JMP | BPF_JGT | BPF_K:
	case BPF_JMP | BPF_JGE | BPF_K:
	case BPF_JMP | BPF_JEQ | BPF_K:
		emit_alu_imm(j, W32, ALU_CMP, REG_A, in->k);
		break;
	case BPF_JMP | BPF_JSET | BPF_K:
		emit_test_imm(j, REG_A, in->k);
		break;
	case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JEQ | BPF_X:
		emit_alu_reg(j, W32, ALU_CMP, REG_A, REG_X);
		break;
	case BPF_JMP | BPF_JSET | BPF_X:
		emit_test_reg(j, REG_A, REG_X);
		break;
	default:
		return -EINVAL;
	}
	if (i + 1 + (uint32_t)in->jt >= len || i + 1 + (uint32_t)in->jf >= len)
		return -EINVAL;
	switch (BPF_OP(in->code)) {
	case BPF_JGT: cc = CC_A; break;
	case BPF_JGE: cc = CC_AE; break;
	case BPF_JEQ: cc = CC_E; break;
	default:      cc = CC_NE; break;	/* JSET */
	}
	emit_branch(j, i, in, cc);
	return 0;
}

/* ret: return k or A; in the burst loop, store the verdict and go on to the next frame. */
static int
emit_bpf_ret(struct jit *j, const struct bpf_insn *in)
{
	if (in->code != (BPF_RET | BPF_K) && in->code != (BPF_RET | BPF_A))
		return -EINVAL;
	if (!j->burst) {
		if (in->code == (BPF_RET | BPF_K))
			emit_mov_imm(j, REG_A, in->k);
		emit_ret(j);
		return 0;
	}
	if (in->code == (BPF_RET | BPF_K)) {
		emit_store_imm8(j, REG_KEEP, 0, in->k != 0);
	} else {
		emit_test_reg(j, REG_A, REG_A);
		emit_setcc_mem(j, CC_NE, REG_KEEP, 0);
	}
	emit_jmp(j, LABEL(NEXT));
	return 0;
}

/* tax and txa. */
static int
emit_bpf_misc(struct jit *j, const struct bpf_insn *in)
{
	switch (in->code) {
	case BPF_MISC | BPF_TAX:
		emit_mov_reg(j, W32, REG_X, REG_A);
		return 0;
	case BPF_MISC | BPF_TXA:
		emit_mov_reg(j, W32, REG_A, REG_X);
		return 0;
	default:
		return -EINVAL;
	}
}

/* Translate one instruction. Returns 0, or -EINVAL for something the JIT will not run. */
static int
emit_insn(struct jit *j, const struct bpf_insn *prog, uint32_t len, uint32_t i)
{
	const struct bpf_insn *in = &prog[i];

	switch (BPF_CLASS(in->code)) {
	case BPF_LD:
	case BPF_LDX:
		return emit_bpf_ld(j, in);
	case BPF_ST:
	case BPF_STX:
		return emit_bpf_st(j, in);
	case BPF_ALU:
		return emit_bpf_alu(j, in);
	case BPF_JMP:
		return emit_bpf_jmp(j, prog, len, i);
	case BPF_RET:
		return emit_bpf_ret(j, in);
	default:
		return emit_bpf_misc(j, in);
	}
}

/* ---- The program: what it uses, its frame setup and body ---- */

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
	emit_alu_reg(j, W32, ALU_XOR, REG_A, REG_A);
	emit_alu_reg(j, W32, ALU_XOR, REG_X, REG_X);
	if (has_backward_jump(prog, len))
		emit_mov_imm(j, REG_BUDGET, BACKWARD_JUMPS_MAX);
	if (reads_memory(prog, len)) {
		/* M[] starts zeroed, as in libpcap's interpreter. */
		emit_alu_reg(j, W32, ALU_XOR, REG_TMP, REG_TMP);
		for (int32_t d = MEM(0); d < 0; d += 8)
			emit_store(j, 8, REG_TMP, RSP, d);
	}
}

/* The translated instructions; the sizing pass records where each starts. */
static int
emit_body(struct jit *j, const struct bpf_insn *prog, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		int rc;

		if (j->buf == NULL)
			j->off[i] = (uint32_t)j->len;
		rc = emit_insn(j, prog, len, i);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The per-frame function, run(state, pkt, wirelen, caplen). */
static int
emit_single(struct jit *j, const struct bpf_insn *prog, uint32_t len)
{
	int rc;

	j->burst = 0;
	emit_mov_reg(j, W64, REG_PKT, RSI);
	emit_mov_reg(j, W32, REG_WIRELEN, RDX);
	emit_mov_reg(j, W32, REG_CAPLEN, RCX);		/* zero-extended */
	emit_frame_setup(j, prog, len);
	rc = emit_body(j, prog, len);
	if (rc < 0)
		return rc;
	mark(j, RET0);					/* also: fell off the end */
	emit_alu_reg(j, W32, ALU_XOR, REG_A, REG_A);
	emit_ret(j);
	return 0;
}

/*
 * The burst function, burst(state, frames, n, keep): the program inlined in a loop over n
 * frames (struct lc_frame: data, wirelen, caplen), a return storing keep[i] = (A != 0).
 * rbx walks the frames, r12d counts down, r13 walks keep; all three are saved once.
 */
static int
emit_burst(struct jit *j, const struct bpf_insn *prog, uint32_t len)
{
	int rc;

	j->burst = 1;
	emit_push(j, REG_FRAME);
	emit_push(j, REG_LEFT);
	emit_push(j, REG_KEEP);
	emit_mov_reg(j, W64, REG_FRAME, RSI);
	emit_mov_reg(j, W32, REG_LEFT, RDX);
	emit_mov_reg(j, W64, REG_KEEP, RCX);
	emit_test_reg(j, REG_LEFT, REG_LEFT);
	emit_jcc(j, CC_E, LABEL(DONE));
	mark(j, LOOP);
	if (reads_frame(prog, len)) {
		emit_load(j, 8, REG_PKT, REG_FRAME, NOREG, offsetof(struct lc_frame, data));
		emit_load(j, 4, REG_CAPLEN, REG_FRAME, NOREG, offsetof(struct lc_frame, caplen));
	}
	if (reads_length(prog, len))
		emit_load(j, 4, REG_WIRELEN, REG_FRAME, NOREG, offsetof(struct lc_frame, wirelen));
	emit_frame_setup(j, prog, len);
	rc = emit_body(j, prog, len);
	if (rc < 0)
		return rc;
	mark(j, RET0);					/* and falling off the end */
	emit_store_imm8(j, REG_KEEP, 0, 0);
	mark(j, NEXT);
	emit_alu_imm(j, W64, ALU_ADD, REG_FRAME, sizeof(struct lc_frame));
	emit_inc(j, W64, REG_KEEP);
	emit_dec(j, W32, REG_LEFT);
	emit_jcc(j, CC_NE, LABEL(LOOP));
	mark(j, DONE);
	emit_pop(j, REG_KEEP);
	emit_pop(j, REG_LEFT);
	emit_pop(j, REG_FRAME);
	emit_ret(j);
	return 0;
}

/* ---- The engine ---- */

/*
 * One pass over both functions: the per-frame one at the start of buf, the burst one at
 * st->burst_off. The sizing pass (buf NULL) records offsets, labels and burst_off.
 */
static int
jit_pass(struct jit *one, struct jit *many, const struct bpf_insn *prog, uint32_t len,
	 uint8_t *buf, struct jit_state *st)
{
	int rc;

	one->buf = many->buf = buf;
	one->len = 0;
	rc = emit_single(one, prog, len);
	if (rc < 0)
		return rc;
	if (buf == NULL)
		st->burst_off = (one->len + 63) & ~(size_t)63;
	many->len = st->burst_off;
	return emit_burst(many, prog, len);
}

/* A read+write mapping for the code, on the RX core's node, filled with int3. */
static int
jit_map(struct jit_state *st, int socket)
{
	st->size = (st->code_len + 4095) & ~(size_t)4095;
	st->map = mmap(NULL, st->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (st->map == MAP_FAILED) {
		st->map = NULL;
		return -ENOMEM;
	}
	/* Place the code on the RX core's node before the first write touches it. */
	if (socket >= 0 && numa_available() >= 0)
		numa_tonode_memory(st->map, st->size, socket);
	memset(st->map, 0xcc, st->size);	/* int3 between and after the functions */
	return 0;
}

static void *
jit_create(const struct bpf_insn *prog, unsigned int len, int socket)
{
	struct jit_state *st;
	struct jit one = { 0 }, many = { 0 };
	size_t one_len;
	int rc;

	if (len == 0 || len > 1000000) {
		errno = EINVAL;
		return NULL;
	}
	one.off = calloc(len, sizeof(*one.off));
	many.off = calloc(len, sizeof(*many.off));
	st = calloc(1, sizeof(*st));
	if (one.off == NULL || many.off == NULL || st == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = jit_pass(&one, &many, prog, len, NULL, st);	/* sizes and offsets */
	if (rc < 0)
		goto fail;
	one_len = one.len;
	st->code_len = many.len;
	rc = jit_map(st, socket);
	if (rc < 0)
		goto fail;
	rc = jit_pass(&one, &many, prog, len, st->map, st);	/* the bytes, jumps resolved */
	if (rc == 0 && (one.len != one_len || many.len != st->code_len))
		rc = -EINVAL;
	if (rc == 0 && mprotect(st->map, st->size, PROT_READ | PROT_EXEC) != 0)
		rc = -errno;
	if (rc < 0)
		goto fail;
	__builtin___clear_cache((char *)st->map, (char *)st->map + st->code_len);
	free(one.off);
	free(many.off);
	return st;
fail:
	if (st != NULL && st->map != NULL)
		munmap(st->map, st->size);
	free(one.off);
	free(many.off);
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
