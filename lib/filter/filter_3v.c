/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Three-valued evaluation of a classic BPF program over packets known only in part
 * (lc_filter_3v, for linecap-query's narrowing with the index).
 *
 * Every register, scratch word and loaded value is an abstract value standing for a set of
 * 32-bit numbers: a tristate bit vector (v: the known bits' values, m: the unknown bits) and
 * an unsigned interval [lo, hi]; a number is in the set when it agrees with v on every bit
 * outside m and lies in [lo, hi]. Each operation gives a set that holds every result its
 * operands' sets can give (never fewer), so what the walk sees is a superset of what
 * libpcap's bpf_filter() can do with any packet that matches the partial packet.
 *
 * The walk follows the program from the first instruction: a conditional jump goes one way
 * when the operands' sets decide it, else both ways (the path is copied: registers, scratch
 * memory and what the path has learnt about the packet). A branch taken teaches the path
 * something (A == k, A > k, a bit of A set or clear), and where A still holds bytes loaded
 * from the packet that knowledge is written back to the path's packet, so a later load of
 * the same bytes agrees with the branch. Every possible outcome of bpf_filter() is recorded:
 * RET's value (zero, nonzero or either), and the zero it returns when a load runs past the
 * captured bytes or A is divided by an X of 0. NEVER: every outcome is zero; ALWAYS: every
 * outcome is nonzero; anything else, an invalid program, or more than BUDGET instructions
 * visited: MAYBE.
 *
 * The semantics are libpcap's bpf_filter() (1.10), which decides every packet: a load checks
 * its bytes against the captured length without wrapping (X + k + size <= caplen) and returns
 * 0 if not; division or modulo by an X of 0 returns 0; a shift by an X of 32 or more gives 0;
 * scratch memory starts undefined; A and X start at 0; the packet length (BPF_LEN) is at
 * least the captured length. A shift by a constant of 32 or more (C leaves it undefined)
 * gives an unknown value.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "linecap/filter.h"

/* Instruction visits, all paths together. A tcpdump expression of a few dozen primitives
 * needs a few thousand; past this the answer is MAYBE (never wrong, only vague). */
#define BUDGET 100000u
/* An indexed load whose X can take at most this many values is evaluated at each of them
 * (the loaded values joined); above it the loaded value is unknown. */
#define IND_ENUM_BITS 8

/* A set of 32-bit numbers: agree with v outside m, and lie in [lo, hi]. Unknown bits of v
 * are 0. src >= 0: the value is the big-endian srclen bytes of the packet at src, unchanged
 * since the load (what a branch learns about it is also learnt about those bytes). */
struct av {
	uint32_t v, m, lo, hi;
	int32_t src;
	uint32_t srclen;
};

/* One path: where it is and everything it knows. */
struct path {
	struct av a, x, mem[BPF_MEMWORDS];
	uint32_t pc;
	uint32_t present;	/* the captured length is at least this on this path */
	uint8_t val[LC_PARTIAL_LEN], known[LC_PARTIAL_LEN];
};

enum { OUT_ZERO = 1, OUT_NONZERO = 2 };

struct walk {
	struct path *stack;
	size_t depth, cap;
	unsigned int out;
	unsigned int visits;
};

static struct av
av_const(uint32_t k)
{
	return (struct av){ .v = k, .m = 0, .lo = k, .hi = k, .src = -1 };
}

static struct av
av_unknown(uint32_t mask)
{
	return (struct av){ .v = 0, .m = mask, .lo = 0, .hi = mask, .src = -1 };
}

static bool
av_is_const(const struct av *a)
{
	return a->m == 0;
}

/* Bits 0..n of a mask where n is the highest set bit of d (d != 0). */
static uint32_t
low_mask(uint32_t d)
{
	unsigned int hb = 31u - (unsigned int)__builtin_clz(d);

	return hb == 31 ? UINT32_MAX : (1u << (hb + 1)) - 1;
}

/*
 * Make the two halves of a value agree: the interval shrinks to the bit vector's bounds, the
 * bit vector learns the bits every number of the interval shares. Returns false when the set
 * is provably empty (the path cannot happen).
 */
static bool
av_norm(struct av *a)
{
	uint32_t rv, rm;

	a->v &= ~a->m;
	if (a->lo < a->v)
		a->lo = a->v;
	if (a->hi > (a->v | a->m))
		a->hi = a->v | a->m;
	if (a->lo > a->hi)
		return false;
	/* The interval as a bit vector: the bits above the highest one where lo and hi differ
	 * are the same in every number between them. */
	rm = a->lo == a->hi ? 0 : low_mask(a->lo ^ a->hi);
	rv = a->lo & ~rm;
	if (((a->v ^ rv) & ~a->m & ~rm) != 0)
		return false;
	a->m &= rm;
	a->v = (a->v | rv) & ~a->m;
	if (a->lo < a->v)
		a->lo = a->v;
	if (a->hi > (a->v | a->m))
		a->hi = a->v | a->m;
	return a->lo <= a->hi;
}

/* A value from a bit vector alone (its interval is the vector's bounds). */
static struct av
av_bits(uint32_t v, uint32_t m)
{
	struct av r = { .v = v & ~m, .m = m, .lo = 0, .hi = UINT32_MAX, .src = -1 };

	av_norm(&r);
	return r;
}

/* Every number of a and of b. */
static struct av
av_join(const struct av *a, const struct av *b)
{
	uint32_t m = a->m | b->m | (a->v ^ b->v);
	struct av r = { .v = a->v & ~m, .m = m, .src = -1 };

	r.lo = a->lo < b->lo ? a->lo : b->lo;
	r.hi = a->hi > b->hi ? a->hi : b->hi;
	av_norm(&r);
	return r;
}

/*
 * Bit-vector addition. sv adds the known parts; adding the largest the unknown bits can be
 * (sv + m_a + m_b) shows every bit position a carry can reach from them: a bit where the two
 * sums differ, or where either operand is unknown, is unknown.
 */
static void
bits_add(uint32_t av, uint32_t am, uint32_t bv, uint32_t bm, uint32_t *rv, uint32_t *rm)
{
	uint32_t sv = av + bv;
	uint32_t most = sv + am + bm;
	uint32_t u = (most ^ sv) | am | bm;

	*rv = sv & ~u;
	*rm = u;
}

/* Bit-vector subtraction: between the largest (a's unknowns set, b's clear) and the smallest
 * difference, a bit that differs may be either, so it is unknown. */
static void
bits_sub(uint32_t av, uint32_t am, uint32_t bv, uint32_t bm, uint32_t *rv, uint32_t *rm)
{
	uint32_t dv = av - bv;
	uint32_t most = dv + am, least = dv - bm;
	uint32_t u = (most ^ least) | am | bm;

	*rv = dv & ~u;
	*rm = u;
}

static struct av
av_add(const struct av *a, const struct av *b)
{
	struct av r = { .src = -1 };

	bits_add(a->v, a->m, b->v, b->m, &r.v, &r.m);
	if ((uint64_t)a->hi + b->hi <= UINT32_MAX) {
		r.lo = a->lo + b->lo;
		r.hi = a->hi + b->hi;
	} else {
		r.lo = 0;
		r.hi = UINT32_MAX;
	}
	av_norm(&r);
	return r;
}

static struct av
av_sub(const struct av *a, const struct av *b)
{
	struct av r = { .src = -1 };

	bits_sub(a->v, a->m, b->v, b->m, &r.v, &r.m);
	if (a->lo >= b->hi) {
		r.lo = a->lo - b->hi;
		r.hi = a->hi - b->lo;
	} else {
		r.lo = 0;
		r.hi = UINT32_MAX;
	}
	av_norm(&r);
	return r;
}

/* a * b as the sum over a's bits of b shifted: a known 1 adds b << i, an unknown bit adds
 * either 0 or b << i (known 0 where b's bits are known 0). */
static struct av
av_mul(const struct av *a, const struct av *b)
{
	uint32_t sv = 0, sm = 0;

	if (av_is_const(a) && av_is_const(b))
		return av_const(a->v * b->v);
	for (unsigned int i = 0; i < 32; i++) {
		uint32_t bit = 1u << i;

		if (a->v & bit)
			bits_add(sv, sm, b->v << i, b->m << i, &sv, &sm);
		else if (a->m & bit)
			bits_add(sv, sm, 0, (b->v | b->m) << i, &sv, &sm);
	}
	struct av r = { .v = sv, .m = sm, .lo = 0, .hi = UINT32_MAX, .src = -1 };

	if ((uint64_t)a->hi * b->hi <= UINT32_MAX) {
		r.lo = a->lo * b->lo;
		r.hi = a->hi * b->hi;
	}
	av_norm(&r);
	return r;
}

/* a / b, b never 0 here (a constant 0 is refused; an X of 0 has left the path). */
static struct av
av_div(const struct av *a, const struct av *b)
{
	uint32_t blo = b->lo ? b->lo : 1;
	struct av r = av_unknown(UINT32_MAX);

	if (av_is_const(a) && av_is_const(b))
		return av_const(a->v / b->v);
	r.lo = a->lo / b->hi;
	r.hi = a->hi / blo;
	av_norm(&r);
	return r;
}

static struct av av_and(const struct av *a, const struct av *b);

static struct av
av_mod(const struct av *a, const struct av *b)
{
	struct av r = av_unknown(UINT32_MAX);

	if (av_is_const(a) && av_is_const(b))
		return av_const(a->v % b->v);
	if (a->hi < b->lo) {	/* a % b == a */
		r = *a;
		r.src = -1;
		return r;
	}
	if (av_is_const(b) && (b->v & (b->v - 1)) == 0) {
		struct av k = av_const(b->v - 1);

		return av_and(a, &k);
	}
	r.hi = a->hi < b->hi - 1 ? a->hi : b->hi - 1;
	av_norm(&r);
	return r;
}

static struct av
av_and(const struct av *a, const struct av *b)
{
	uint32_t v = a->v & b->v;
	struct av r = { .v = v, .m = (a->v | a->m) & (b->v | b->m) & ~v, .lo = 0, .src = -1 };

	r.hi = a->hi < b->hi ? a->hi : b->hi;
	av_norm(&r);
	return r;
}

static struct av
av_or(const struct av *a, const struct av *b)
{
	uint32_t v = a->v | b->v;
	struct av r = { .v = v, .m = (a->m | b->m) & ~v, .hi = UINT32_MAX, .src = -1 };

	r.lo = a->lo > b->lo ? a->lo : b->lo;
	av_norm(&r);
	return r;
}

static struct av
av_xor(const struct av *a, const struct av *b)
{
	uint32_t m = a->m | b->m;

	return av_bits((a->v ^ b->v) & ~m, m);
}

/* a shifted by a known amount s (< 32). */
static struct av
av_shift_by(const struct av *a, uint32_t s, bool left)
{
	if (left)
		return av_bits(a->v << s, a->m << s);
	struct av r = av_bits(a->v >> s, a->m >> s);

	/* Shifting right keeps the order: the interval shifts too. */
	if ((a->lo >> s) > r.lo)
		r.lo = a->lo >> s;
	if ((a->hi >> s) < r.hi)
		r.hi = a->hi >> s;
	av_norm(&r);
	return r;
}

/* A << X or A >> X, X any of its set: bpf_filter gives 0 for a shift of 32 or more. */
static struct av
av_shift_x(const struct av *a, const struct av *x, bool left)
{
	struct av r = av_const(0);
	bool any = false;

	if (av_is_const(x))
		return x->v < 32 ? av_shift_by(a, x->v, left) : av_const(0);
	for (uint32_t s = x->lo; s <= x->hi && s < 32; s++) {
		struct av one;

		if ((s & ~x->m) != x->v)
			continue;
		one = av_shift_by(a, s, left);
		r = any ? av_join(&r, &one) : one;
		any = true;
	}
	if (x->hi >= 32) {
		struct av zero = av_const(0);

		r = any ? av_join(&r, &zero) : zero;
		any = true;
	}
	return any ? r : av_unknown(UINT32_MAX);
}

/* The size bytes at off as the path knows them (big-endian). */
static struct av
load_bytes(const struct path *s, uint32_t off, uint32_t size)
{
	uint32_t v = 0, m = 0;
	struct av r;

	for (uint32_t i = 0; i < size; i++) {
		uint64_t pos = (uint64_t)off + i;
		uint32_t bv = 0, bm = 0xff;

		if (pos < LC_PARTIAL_LEN) {
			bv = s->val[pos] & s->known[pos];
			bm = (uint8_t)~s->known[pos];
		}
		v = v << 8 | bv;
		m = m << 8 | bm;
	}
	r = av_bits(v, m);
	if ((uint64_t)off + size <= LC_PARTIAL_LEN) {
		r.src = (int32_t)off;
		r.srclen = size;
	}
	return r;
}

/*
 * What the path learnt about A, written back to the packet bytes A was loaded from (if it
 * still holds them). False: the packet cannot have such bytes (the path cannot happen).
 */
static bool
learn_packet(struct path *s)
{
	const struct av *a = &s->a;

	if (a->src < 0)
		return true;
	for (uint32_t i = 0; i < a->srclen; i++) {
		uint32_t pos = (uint32_t)a->src + i, shift = 8 * (a->srclen - 1 - i);
		uint8_t known = (uint8_t)~(a->m >> shift), bv = (uint8_t)(a->v >> shift) & known;

		if (((bv ^ s->val[pos]) & known & s->known[pos]) != 0)
			return false;
		s->known[pos] |= known;
		s->val[pos] |= bv;
	}
	return true;
}

static void
record(struct walk *w, unsigned int outcome)
{
	w->out |= outcome;
}

/* The outcomes of RET with value a. */
static unsigned int
ret_outcomes(const struct av *a)
{
	unsigned int o = 0;

	if (a->v == 0 && a->lo == 0)
		o |= OUT_ZERO;
	if (a->hi != 0 && (a->v | a->m) != 0)
		o |= OUT_NONZERO;
	return o;
}

/*
 * A load of size bytes at X + k (x NULL: at k). Records the reject outcome when the load may
 * run past the captured bytes. Returns false when it always does (the path ends); else *out
 * is the loaded value (on the paths where the load succeeds) and s->present is raised.
 */
static bool
load(struct walk *w, struct path *s, const struct av *x, uint32_t k, uint32_t size,
     struct av *out)
{
	uint64_t lo_addr, hi_addr;

	if (x == NULL || av_is_const(x)) {
		uint64_t off = (uint64_t)k + (x ? x->v : 0);

		if (off + size > s->present)
			record(w, OUT_ZERO);
		if (off + size > UINT32_MAX)
			return false;
		if (off + size > s->present)
			s->present = (uint32_t)(off + size);
		*out = load_bytes(s, (uint32_t)off, size);
		return true;
	}
	lo_addr = (uint64_t)x->lo + k;
	hi_addr = (uint64_t)x->hi + k;
	if (hi_addr + size > s->present)
		record(w, OUT_ZERO);
	if (lo_addr + size > UINT32_MAX)
		return false;
	if (__builtin_popcount(x->m) <= IND_ENUM_BITS) {
		bool any = false;
		uint32_t sub = 0;

		/* Each value of X (the subsets of its unknown bits), within its interval. */
		for (;;) {
			uint32_t xv = x->v | sub;
			uint64_t off = (uint64_t)xv + k;

			if (xv >= x->lo && xv <= x->hi && off + size <= UINT32_MAX) {
				struct av one = load_bytes(s, (uint32_t)off, size);

				*out = any ? av_join(out, &one) : one;
				any = true;
			}
			if (sub == x->m)
				break;
			sub = (sub - x->m) & x->m;
		}
		if (!any)
			return false;
	} else {
		*out = av_unknown(size == 4 ? UINT32_MAX : (1u << (8 * size)) - 1);
	}
	out->src = -1;
	if (lo_addr + size > s->present)
		s->present = (uint32_t)(lo_addr + size);
	return true;
}

/* Can the jump be taken (true) and not taken (false)? */
static void
jump_cases(uint16_t op, const struct av *a, const struct av *b, bool *t, bool *f)
{
	switch (op) {
	case BPF_JEQ:
		*t = ((a->v ^ b->v) & ~a->m & ~b->m) == 0 && a->lo <= b->hi && b->lo <= a->hi;
		*f = !(av_is_const(a) && av_is_const(b) && a->v == b->v);
		break;
	case BPF_JGT:
		*t = a->hi > b->lo;
		*f = a->lo <= b->hi;
		break;
	case BPF_JGE:
		*t = a->hi >= b->lo;
		*f = a->lo < b->hi;
		break;
	default:	/* BPF_JSET */
		*t = ((a->v | a->m) & (b->v | b->m)) != 0;
		*f = (a->v & b->v) == 0;
		break;
	}
}

/* What taking (taken) or not taking a jump on A against the constant k teaches about A.
 * False: A cannot go this way (the path cannot happen). */
static bool
learn_jump(struct path *s, uint16_t op, uint32_t k, bool taken)
{
	struct av *a = &s->a;

	switch (op) {
	case BPF_JEQ:
		if (taken) {
			a->v = k;
			a->m = 0;
			a->lo = a->hi = k;
		} else {
			if (a->lo == k && a->lo < a->hi)
				a->lo++;
			else if (a->hi == k && a->hi > a->lo)
				a->hi--;
			/* Two candidates, one excluded: A is the other. */
			if (__builtin_popcount(a->m) == 1 && (k & ~a->m) == a->v) {
				a->v = k ^ a->m;
				a->m = 0;
			}
		}
		break;
	case BPF_JGT:
		if (taken)
			a->lo = a->lo > k ? a->lo : k + 1;
		else
			a->hi = a->hi < k ? a->hi : k;
		break;
	case BPF_JGE:
		if (taken)
			a->lo = a->lo > k ? a->lo : k;
		else
			a->hi = a->hi < k - 1 ? a->hi : k - 1;
		break;
	default:	/* BPF_JSET */
		if (taken) {
			uint32_t can = (a->v | a->m) & k;

			/* A single bit of k that can be set must be. */
			if ((a->v & k) == 0 && __builtin_popcount(can) == 1) {
				a->v |= can;
				a->m &= ~can;
			}
		} else {
			a->v &= ~k;
			a->m &= ~k;
		}
		break;
	}
	if (!av_norm(a))
		return false;
	return learn_packet(s);
}

/* Is the program one this walk understands: known opcodes, scratch words in range, no
 * division by a constant 0, every jump forward and inside, a return last? */
static bool
program_ok(const struct bpf_insn *insns, unsigned int len)
{
	if (insns == NULL || len == 0)
		return false;
	for (unsigned int i = 0; i < len; i++) {
		const struct bpf_insn *in = &insns[i];

		switch (in->code) {
		case BPF_LD | BPF_W | BPF_ABS: case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS: case BPF_LD | BPF_W | BPF_IND:
		case BPF_LD | BPF_H | BPF_IND: case BPF_LD | BPF_B | BPF_IND:
		case BPF_LD | BPF_W | BPF_LEN: case BPF_LDX | BPF_W | BPF_LEN:
		case BPF_LDX | BPF_MSH | BPF_B: case BPF_LD | BPF_IMM: case BPF_LDX | BPF_IMM:
		case BPF_RET | BPF_K: case BPF_RET | BPF_A:
		case BPF_MISC | BPF_TAX: case BPF_MISC | BPF_TXA: case BPF_ALU | BPF_NEG:
			break;
		case BPF_LD | BPF_MEM: case BPF_LDX | BPF_MEM: case BPF_ST: case BPF_STX:
			if (in->k >= BPF_MEMWORDS)
				return false;
			break;
		case BPF_JMP | BPF_JA:
			if ((uint64_t)i + 1 + in->k >= len)
				return false;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_K: case BPF_JMP | BPF_JSET | BPF_K:
		case BPF_JMP | BPF_JEQ | BPF_X: case BPF_JMP | BPF_JGT | BPF_X:
		case BPF_JMP | BPF_JGE | BPF_X: case BPF_JMP | BPF_JSET | BPF_X:
			if ((uint64_t)i + 1 + in->jt >= len || (uint64_t)i + 1 + in->jf >= len)
				return false;
			break;
		case BPF_ALU | BPF_DIV | BPF_K: case BPF_ALU | BPF_MOD | BPF_K:
			if (in->k == 0)
				return false;
			break;
		case BPF_ALU | BPF_ADD | BPF_K: case BPF_ALU | BPF_SUB | BPF_K:
		case BPF_ALU | BPF_MUL | BPF_K: case BPF_ALU | BPF_AND | BPF_K:
		case BPF_ALU | BPF_OR | BPF_K: case BPF_ALU | BPF_XOR | BPF_K:
		case BPF_ALU | BPF_LSH | BPF_K: case BPF_ALU | BPF_RSH | BPF_K:
		case BPF_ALU | BPF_ADD | BPF_X: case BPF_ALU | BPF_SUB | BPF_X:
		case BPF_ALU | BPF_MUL | BPF_X: case BPF_ALU | BPF_DIV | BPF_X:
		case BPF_ALU | BPF_MOD | BPF_X: case BPF_ALU | BPF_AND | BPF_X:
		case BPF_ALU | BPF_OR | BPF_X: case BPF_ALU | BPF_XOR | BPF_X:
		case BPF_ALU | BPF_LSH | BPF_X: case BPF_ALU | BPF_RSH | BPF_X:
			break;
		default:
			return false;
		}
	}
	return BPF_CLASS(insns[len - 1].code) == BPF_RET;
}

/* Queue a copy of s to be walked later. False: out of memory. */
static bool
push(struct walk *w, const struct path *s)
{
	if (w->depth == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct path *n = realloc(w->stack, cap * sizeof(*n));

		if (n == NULL)
			return false;
		w->stack = n;
		w->cap = cap;
	}
	w->stack[w->depth++] = *s;
	return true;
}

/* One ALU instruction on s->a. False: the path ends (its outcome recorded). */
static bool
alu(struct walk *w, struct path *s, const struct bpf_insn *in)
{
	struct av kk = av_const(in->k);
	const struct av *b = BPF_SRC(in->code) == BPF_X ? &s->x : &kk;
	struct av *a = &s->a;

	switch (BPF_OP(in->code)) {
	case BPF_ADD: *a = av_add(a, b); break;
	case BPF_SUB: *a = av_sub(a, b); break;
	case BPF_MUL: *a = av_mul(a, b); break;
	case BPF_AND: *a = av_and(a, b); break;
	case BPF_OR: *a = av_or(a, b); break;
	case BPF_XOR: *a = av_xor(a, b); break;
	case BPF_NEG: {
		struct av zero = av_const(0);

		*a = av_sub(&zero, a);
		break;
	}
	case BPF_DIV: case BPF_MOD:
		if (b == &s->x) {
			/* bpf_filter returns 0 for an X of 0; the path goes on with X != 0. */
			if (s->x.v == 0 && s->x.lo == 0)
				record(w, OUT_ZERO);
			if (s->x.lo == 0)
				s->x.lo = 1;
			if (!av_norm(&s->x))
				return false;
		}
		*a = BPF_OP(in->code) == BPF_DIV ? av_div(a, b) : av_mod(a, b);
		break;
	case BPF_LSH: case BPF_RSH:
		if (b == &kk)
			*a = in->k < 32 ? av_shift_by(a, in->k, BPF_OP(in->code) == BPF_LSH)
					: av_unknown(UINT32_MAX);
		else
			*a = av_shift_x(a, b, BPF_OP(in->code) == BPF_LSH);
		break;
	}
	a->src = -1;
	return true;
}

/* Walk s to its end (and queue the other way of every undecided branch). False: a branch
 * could not be queued or the budget ran out (the answer is then MAYBE). */
static bool
walk_path(struct walk *w, const struct bpf_insn *insns, struct path *s)
{
	for (;;) {
		const struct bpf_insn *in = &insns[s->pc];
		struct av v;

		if (++w->visits > BUDGET)
			return false;
		s->pc++;
		switch (in->code) {
		case BPF_RET | BPF_K:
			record(w, in->k ? OUT_NONZERO : OUT_ZERO);
			return true;
		case BPF_RET | BPF_A:
			record(w, ret_outcomes(&s->a));
			return true;
		case BPF_LD | BPF_W | BPF_ABS: case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS: case BPF_LD | BPF_W | BPF_IND:
		case BPF_LD | BPF_H | BPF_IND: case BPF_LD | BPF_B | BPF_IND: {
			uint32_t size = BPF_SIZE(in->code) == BPF_W ? 4 :
					BPF_SIZE(in->code) == BPF_H ? 2 : 1;
			bool ind = BPF_MODE(in->code) == BPF_IND;

			if (!load(w, s, ind ? &s->x : NULL, in->k, size, &v))
				return true;
			s->a = v;
			break;
		}
		case BPF_LDX | BPF_MSH | BPF_B:
			if (!load(w, s, NULL, in->k, 1, &v))
				return true;
			s->x = av_bits((v.v & 0xf) << 2, (v.m & 0xf) << 2);
			break;
		case BPF_LD | BPF_W | BPF_LEN: case BPF_LDX | BPF_W | BPF_LEN:
			/* The wire length is at least the captured length. */
			v = av_unknown(UINT32_MAX);
			v.lo = s->present;
			av_norm(&v);
			if (BPF_CLASS(in->code) == BPF_LD)
				s->a = v;
			else
				s->x = v;
			break;
		case BPF_LD | BPF_IMM: s->a = av_const(in->k); break;
		case BPF_LDX | BPF_IMM: s->x = av_const(in->k); break;
		case BPF_LD | BPF_MEM: s->a = s->mem[in->k]; break;
		case BPF_LDX | BPF_MEM: s->x = s->mem[in->k]; break;
		case BPF_ST: s->mem[in->k] = s->a; break;
		case BPF_STX: s->mem[in->k] = s->x; break;
		case BPF_MISC | BPF_TAX: s->x = s->a; break;
		case BPF_MISC | BPF_TXA: s->a = s->x; break;
		case BPF_JMP | BPF_JA:
			s->pc += in->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_K: case BPF_JMP | BPF_JSET | BPF_K:
		case BPF_JMP | BPF_JEQ | BPF_X: case BPF_JMP | BPF_JGT | BPF_X:
		case BPF_JMP | BPF_JGE | BPF_X: case BPF_JMP | BPF_JSET | BPF_X: {
			struct av kk = av_const(in->k);
			const struct av *b = BPF_SRC(in->code) == BPF_X ? &s->x : &kk;
			uint16_t op = BPF_OP(in->code);
			/* Against a known X a jump teaches as much as against a constant. */
			bool learns = av_is_const(b);
			uint32_t k = b->v;
			bool t, f;

			jump_cases(op, &s->a, b, &t, &f);
			if (t && f) {
				struct path other = *s;

				other.pc += in->jf;
				if (!learns || learn_jump(&other, op, k, false)) {
					if (!push(w, &other))
						return false;
				}
				s->pc += in->jt;
				if (learns && !learn_jump(s, op, k, true))
					return true;
			} else if (t) {
				s->pc += in->jt;
			} else if (f) {
				s->pc += in->jf;
			} else {
				return true;	/* neither way: no packet gets here */
			}
			break;
		}
		default:	/* ALU */
			if (!alu(w, s, in))
				return true;
			break;
		}
		if (w->out == (OUT_ZERO | OUT_NONZERO))
			return true;
	}
}

enum lc_verdict
lc_filter_3v(const struct bpf_insn *insns, unsigned int len, const struct lc_partial *p)
{
	struct walk w = { 0 };
	struct path start;
	enum lc_verdict verdict = LC_VERDICT_MAYBE;

	if (p == NULL || !program_ok(insns, len))
		return LC_VERDICT_MAYBE;
	memset(&start, 0, sizeof(start));
	start.a = av_const(0);
	start.x = av_const(0);
	for (unsigned int i = 0; i < BPF_MEMWORDS; i++)
		start.mem[i] = av_unknown(UINT32_MAX);	/* bpf_filter leaves it undefined */
	start.present = p->present;
	for (unsigned int i = 0; i < LC_PARTIAL_LEN; i++) {
		start.known[i] = p->known[i];
		start.val[i] = p->val[i] & p->known[i];
	}
	if (!push(&w, &start))
		return LC_VERDICT_MAYBE;
	while (w.depth > 0 && w.out != (OUT_ZERO | OUT_NONZERO)) {
		struct path s = w.stack[--w.depth];

		if (!walk_path(&w, insns, &s)) {
			w.out = OUT_ZERO | OUT_NONZERO;
			break;
		}
	}
	if (w.out == OUT_ZERO)
		verdict = LC_VERDICT_NEVER;
	else if (w.out == OUT_NONZERO)
		verdict = LC_VERDICT_ALWAYS;
	free(w.stack);
	return verdict;
}
