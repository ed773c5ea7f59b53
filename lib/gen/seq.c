/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loss accounting from the sequence numbers linecap-gen puts in its frames: per generator
 * and flow, every sequence seen is kept; the report sorts them and tells what is missing
 * (as ranges), what came twice, and how many arrived after a later one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linecap/gen.h"

struct flow {
	uint64_t key;		/* id << 32 | flow */
	uint64_t *seqs;
	size_t n, cap;
	uint64_t last;		/* previous arrival */
	uint64_t reordered;
	uint64_t expected;	/* frames sent on the flow, when known (lc_seq_expect) */
};

struct lc_seq {
	struct flow *flows;
	size_t nflows, capflows;
	size_t *table;		/* open addressing: index + 1 into flows, 0 = empty */
	size_t tsize;
};

struct lc_seq *
lc_seq_new(void)
{
	struct lc_seq *s = calloc(1, sizeof(*s));

	if (s != NULL) {
		s->tsize = 1024;
		s->table = calloc(s->tsize, sizeof(*s->table));
		if (s->table == NULL) {
			free(s);
			return NULL;
		}
	}
	return s;
}

static size_t
slot(const struct lc_seq *s, uint64_t key)
{
	size_t h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (s->tsize - 1);

	while (s->table[h] != 0 && s->flows[s->table[h] - 1].key != key)
		h = (h + 1) & (s->tsize - 1);
	return h;
}

static void
rehash(struct lc_seq *s)
{
	free(s->table);
	s->tsize *= 2;
	s->table = calloc(s->tsize, sizeof(*s->table));
	for (size_t i = 0; i < s->nflows; i++)
		s->table[slot(s, s->flows[i].key)] = i + 1;
}

static struct flow *
get(struct lc_seq *s, uint16_t id, uint32_t flow)
{
	uint64_t key = (uint64_t)id << 32 | flow;
	size_t h = slot(s, key);

	if (s->table[h] == 0) {
		if (s->nflows == s->capflows) {
			s->capflows = s->capflows ? 2 * s->capflows : 256;
			s->flows = realloc(s->flows, s->capflows * sizeof(*s->flows));
		}
		memset(&s->flows[s->nflows], 0, sizeof(s->flows[0]));
		s->flows[s->nflows].key = key;
		s->table[h] = ++s->nflows;
		if (2 * s->nflows > s->tsize) {
			rehash(s);
			h = slot(s, key);
		}
	}
	return &s->flows[s->table[h] - 1];
}

void
lc_seq_expect(struct lc_seq *s, uint16_t id, uint32_t flow, uint64_t sent)
{
	if (sent > 0)
		get(s, id, flow)->expected = sent;
}

void
lc_seq_add(struct lc_seq *s, uint16_t id, uint32_t flow, uint64_t seq)
{
	struct flow *f = get(s, id, flow);

	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->seqs = realloc(f->seqs, f->cap * sizeof(*f->seqs));
	}
	if (f->n > 0 && seq < f->last)
		f->reordered++;
	f->last = seq;
	f->seqs[f->n++] = seq;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_flow(const void *a, const void *b)
{
	uint64_t x = ((const struct flow *)a)->key, y = ((const struct flow *)b)->key;

	return (x > y) - (x < y);
}

/* A report line that grows as it is written: any number of ranges fits. A piece that cannot
 * be added for want of memory is counted in lost instead (and said so). */
struct text {
	char *p;
	size_t len, cap;
	uint64_t lost;
};

static void
text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
text_add(struct text *t, const char *fmt, ...)
{
	char piece[128];	/* the longest piece: two 20-digit numbers and some words */
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(piece)) {
		t->lost++;
		return;
	}
	if (t->len + (size_t)n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 512;
		char *p;

		while (t->len + (size_t)n + 1 > cap)
			cap *= 2;
		p = realloc(t->p, cap);
		if (p == NULL) {
			t->lost++;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, piece, (size_t)n + 1);
	t->len += (size_t)n;
}

/* a + b, or UINT64_MAX when the sum does not fit (a total is never wrapped to "clean"). */
static uint64_t
add_sat(uint64_t a, uint64_t b, int *saturated)
{
	if (a > UINT64_MAX - b) {
		*saturated = 1;
		return UINT64_MAX;
	}
	return a + b;
}

uint64_t
lc_seq_report(struct lc_seq *s, void (*say)(void *, const char *), void *arg,
	      uint64_t *received, uint64_t *missing, uint64_t *dups, uint64_t *reordered)
{
	struct text t = { NULL, 0, 0, 0 };
	char line[256];
	int sat = 0, sat_missing = 0;
	uint64_t bad;

	*received = *missing = *dups = *reordered = 0;
	if (s->nflows > 1)	/* (qsort wants a non-null array, even empty) */
		qsort(s->flows, s->nflows, sizeof(*s->flows), cmp_flow);
	for (size_t i = 0; i < s->nflows; i++) {
		struct flow *f = &s->flows[i];
		uint64_t fmiss = 0, fdup = 0, expect = 0;
		int past_end = 0;	/* the largest sequence number came: nothing follows it */

		if (f->n > 1)
			qsort(f->seqs, f->n, sizeof(*f->seqs), cmp_u64);
		t.len = 0;
		t.lost = 0;
		text_add(&t, "generator %u flow %u: %zu received", (unsigned int)(f->key >> 32),
			 (unsigned int)f->key, f->n);
		for (size_t k = 0; k < f->n; k++) {
			if (k > 0 && f->seqs[k] == f->seqs[k - 1]) {
				fdup++;
				continue;
			}
			if (f->seqs[k] > expect) {
				fmiss += f->seqs[k] - expect;
				text_add(&t, ", missing %llu-%llu", (unsigned long long)expect,
					 (unsigned long long)(f->seqs[k] - 1));
			}
			if (f->seqs[k] == UINT64_MAX)
				past_end = 1;
			else
				expect = f->seqs[k] + 1;
		}
		if (!past_end && f->expected > expect) {	/* the tail that never came */
			fmiss += f->expected - expect;
			text_add(&t, ", missing %llu-%llu", (unsigned long long)expect,
				 (unsigned long long)(f->expected - 1));
		}
		if (fdup)
			text_add(&t, ", %llu duplicates", (unsigned long long)fdup);
		if (f->reordered)
			text_add(&t, ", %llu out of order", (unsigned long long)f->reordered);
		if ((fmiss || fdup || f->reordered) && t.len > 0)
			say(arg, t.p);
		if (t.lost) {	/* out of memory: what the line could not hold, said so */
			snprintf(line, sizeof(line), "generator %u flow %u: %llu more ranges or "
				 "counts not listed (out of memory)", (unsigned int)(f->key >> 32),
				 (unsigned int)f->key, (unsigned long long)t.lost);
			say(arg, line);
		}
		*received += f->n;
		*missing = add_sat(*missing, fmiss, &sat_missing);
		*dups = add_sat(*dups, fdup, &sat);
		*reordered = add_sat(*reordered, f->reordered, &sat);
	}
	free(t.p);
	snprintf(line, sizeof(line), "%zu flows: %llu received, %s%llu missing, %llu duplicates, "
		 "%llu out of order", s->nflows, (unsigned long long)*received,
		 sat_missing ? "at least " : "", (unsigned long long)*missing,
		 (unsigned long long)*dups, (unsigned long long)*reordered);
	say(arg, line);
	bad = add_sat(add_sat(*missing, *dups, &sat), *reordered, &sat);
	return bad;
}

void
lc_seq_free(struct lc_seq *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nflows; i++)
		free(s->flows[i].seqs);
	free(s->flows);
	free(s->table);
	free(s);
}
