/* SPDX-License-Identifier: BSD-3-Clause */
/* linecap-seqcheck's accounting (lc_seq_*) over inputs a capture file can be crafted to hold:
 * sequence numbers near 10^19 (each missing range is 51 characters), duplicates, reordering,
 * thousands of gaps, the largest sequence number, totals past 2^64. The report never writes
 * outside its buffers (the old 512-byte line did: AddressSanitizer stack-buffer-overflow) and
 * never leaves a range out without saying so: every range is listed. */
#include "lc_test.h"

#include "linecap/gen.h"

struct lines {
	char **line;
	size_t n;
};

static void
keep(void *arg, const char *line)
{
	struct lines *l = arg;
	char **more = realloc(l->line, (l->n + 1) * sizeof(*l->line));
	char *copy = strdup(line);

	if (more == NULL || copy == NULL) {
		fprintf(stderr, "test_seq: out of memory\n");
		exit(1);
	}
	l->line = more;
	l->line[l->n++] = copy;
}

static void
lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->line[i]);
	free(l->line);
	memset(l, 0, sizeof(*l));
}

static size_t
count(const char *s, const char *sub)
{
	size_t n = 0;

	for (const char *p = strstr(s, sub); p != NULL; p = strstr(p + 1, sub))
		n++;
	return n;
}

/* What seqcheck does with a frame: a tagged Ethernet/IPv4/UDP frame (as linecap-gen sends
 * it), its tag read back with lc_gen_tag, then added. */
static void
arrive(struct lc_seq *s, uint16_t id, uint32_t flow, uint64_t seq)
{
	uint8_t f[60] = { 0 }, *t = f + 14 + 20 + 8;
	uint16_t gid;
	uint32_t gflow;
	uint64_t gseq;

	f[12] = 0x08;
	f[14] = 0x45;
	f[14 + 9] = 17;
	t[0] = LC_GEN_TAG_MAGIC >> 8;
	t[1] = LC_GEN_TAG_MAGIC & 0xff;
	t[2] = (uint8_t)(id >> 8);
	t[3] = (uint8_t)id;
	for (int i = 0; i < 4; i++)
		t[4 + i] = (uint8_t)(flow >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		t[8 + i] = (uint8_t)(seq >> (56 - 8 * i));
	CHECK(lc_gen_tag(f, sizeof(f), &gid, &gflow, &gseq) == 1);
	CHECK(gid == id && gflow == flow && gseq == seq);
	lc_seq_add(s, gid, gflow, gseq);
}

/* The crafted capture: frames with small sequence numbers, then numbers just past 10^19,
 * then 10 of them again in reverse (duplicates, out of order). The numbers are chosen so
 * that the old report's 512-byte line was all but full when ", 10 duplicates" was added:
 * the append after it was told it had (size_t)-1 bytes of room, and wrote past the line. */
static void
test_crafted(void)
{
	const uint64_t big = 10000000000000000000ull;
	uint64_t seqs[21], rcv, miss, dup, reo, want_miss = 0;
	struct lc_seq *s = lc_seq_new();
	struct lines out = { 0 };
	char range[64];

	for (int i = 0; i < 9; i++)
		seqs[i] = 5 + 2 * (uint64_t)i;		/* 5, 7, ... 21: 1 missing before each */
	for (int i = 0; i < 12; i++)
		seqs[9 + i] = big + 2 * (uint64_t)i;	/* 10^19, 10^19 + 2, ... */
	for (int i = 0; i < 21; i++)
		arrive(s, 1, 5, seqs[i]);
	for (int i = 20; i >= 11; i--)
		arrive(s, 1, 5, seqs[i]);
	want_miss = 5 + 8 + (big - 22) + 11;
	CHECK_EQ_U64(lc_seq_report(s, keep, &out, &rcv, &miss, &dup, &reo), want_miss + 10 + 9);
	CHECK_EQ_U64(rcv, 31);
	CHECK_EQ_U64(miss, want_miss);
	CHECK_EQ_U64(dup, 10);
	CHECK_EQ_U64(reo, 9);		/* the first of them equals the one before */
	CHECK_EQ_U64(out.n, 2);
	if (out.n == 2) {
		const char *l = out.line[0];

		static const char head[] = "generator 1 flow 5: 31 received, missing 0-4, "
					   "missing 6-6, ";

		fprintf(stderr, "  a %zu-byte line\n", strlen(l));
		CHECK(strncmp(l, head, strlen(head)) == 0);
		CHECK_EQ_U64(count(l, ", missing "), 21);	/* every range, none left out */
		for (int i = 0; i < 20; i++) {
			snprintf(range, sizeof(range), ", missing %llu-%llu,",
				 (unsigned long long)(seqs[i] + 1),
				 (unsigned long long)(seqs[i + 1] - 1));
			CHECK_STR_HAS(l, range);
		}
		CHECK_STR_HAS(l, ", missing 10000000000000000021-10000000000000000021, "
			      "10 duplicates, 9 out of order");
		CHECK_STR_HAS(out.line[1], "1 flows: 31 received, 10000000000000000002 missing, "
			      "10 duplicates, 9 out of order");
	}
	lines_free(&out);
	lc_seq_free(s);
}

/* Thousands of gaps on one flow and a lost tail: every one is listed (or the report says
 * how many are not), the count adds up. */
static void
test_many_ranges(void)
{
	const uint64_t big = 10000000000000000000ull;
	const unsigned int n = 5000;
	uint64_t rcv, miss, dup, reo;
	struct lc_seq *s = lc_seq_new();
	struct lines out = { 0 };

	for (unsigned int i = n; i-- > 0;)		/* all of them reversed */
		arrive(s, 65535, 4294967295u, big + 2 * (uint64_t)i);
	lc_seq_expect(s, 65535, 4294967295u, big + 2 * n + 100);
	lc_seq_report(s, keep, &out, &rcv, &miss, &dup, &reo);
	CHECK_EQ_U64(rcv, n);
	CHECK_EQ_U64(miss, big + (n - 1) + 101);
	CHECK_EQ_U64(reo, n - 1);
	CHECK(out.n >= 2);
	if (out.n >= 2) {
		size_t ranges = 0, unlisted = 0;

		for (size_t i = 0; i + 1 < out.n; i++) {
			const char *more = strstr(out.line[i], " more ranges");

			CHECK_STR_HAS(out.line[i], "generator 65535 flow 4294967295: ");
			ranges += count(out.line[i], ", missing ");
			if (more != NULL) {	/* "N more ranges": a count, said in so many words */
				const char *p = more;

				while (p > out.line[i] && p[-1] >= '0' && p[-1] <= '9')
					p--;
				unlisted += strtoull(p, NULL, 10);
			}
		}
		CHECK_EQ_U64(ranges + unlisted, 1 + (n - 1) + 1);
		CHECK_STR_HAS(out.line[out.n - 2], ", missing 10000000000000009999-"
			      "10000000000000010099");	/* the tail, last */
		CHECK_STR_HAS(out.line[out.n - 1], "1 flows: 5000 received, ");
	}
	lines_free(&out);
	lc_seq_free(s);
}

/* The largest sequence number (its successor does not exist) and two flows whose missing
 * counts add past 2^64: nothing wraps to "clean". */
static void
test_limits(void)
{
	uint64_t rcv, miss, dup, reo, bad;
	struct lc_seq *s = lc_seq_new();
	struct lines out = { 0 };

	arrive(s, 1, 1, UINT64_MAX);
	lc_seq_expect(s, 1, 1, UINT64_MAX);	/* sent 0 .. 2^64 - 2: only the last came */
	arrive(s, 1, 2, 1ull << 63);
	arrive(s, 1, 3, 1ull << 63);
	bad = lc_seq_report(s, keep, &out, &rcv, &miss, &dup, &reo);
	CHECK_EQ_U64(rcv, 3);
	CHECK(bad != 0);
	CHECK_EQ_U64(miss, UINT64_MAX);		/* at least that many: saturated, not wrapped */
	CHECK_EQ_U64(out.n, 4);
	if (out.n == 4) {
		CHECK_STR_HAS(out.line[0], "generator 1 flow 1: 1 received, "
			      "missing 0-18446744073709551614");
		CHECK(strstr(out.line[0], "missing 0-18446744073709551614,") == NULL);
		CHECK_STR_HAS(out.line[1], "missing 0-9223372036854775807");
		CHECK_STR_HAS(out.line[3], "3 flows: 3 received, at least 18446744073709551615 "
			      "missing");
	}
	lines_free(&out);
	lc_seq_free(s);
}

int
main(void)
{
	test_crafted();
	test_many_ranges();
	test_limits();
	return lc_test_done("test_seq");
}
