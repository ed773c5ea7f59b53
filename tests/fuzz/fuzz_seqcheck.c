/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness over linecap-seqcheck's input: a capture file (pcap or pcapng) whose
 * frames may carry linecap-gen tags, read as seqcheck reads it (lc_reader, lc_gen_tag,
 * lc_seq_add), then reported (lc_seq_report). Tags are whatever the input says: any
 * generator, flow and sequence number (up to 2^64 - 1), duplicates, any order. The report's
 * promises are checked and a broken one aborts: no write outside its buffers (ASan), one
 * flow per line, nothing cut silently (the ranges listed add up to the missing count unless
 * a line says what it could not list), the totals agree with the frames read, the returned
 * count is 0 only for a clean capture. Built and run by scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "linecap/gen.h"
#include "linecap/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "broken: %s\n", #c); abort(); } } while (0)

struct seen {
	uint64_t lines;		/* say() calls */
	uint64_t listed;	/* packets in the ranges listed, saturating */
	int unlisted;		/* a line said some ranges are not listed */
	char totals[256];	/* the last line: the totals */
};

static void
say(void *arg, const char *line)
{
	struct seen *s = arg;
	size_t len = strlen(line);

	CHECK(len > 0 && strchr(line, '\n') == NULL);
	s->lines++;
	if (strstr(line, "not listed") != NULL)
		s->unlisted = 1;
	for (const char *p = strstr(line, ", missing "); p != NULL;
	     p = strstr(p + 1, ", missing ")) {
		char *end;
		unsigned long long a = strtoull(p + 10, &end, 10), b;

		CHECK(*end == '-');
		b = strtoull(end + 1, NULL, 10);
		CHECK(a <= b);
		uint64_t n = (uint64_t)(b - a) + 1;	/* 0 when the range is all of 2^64 */

		s->listed = (n == 0 || s->listed > UINT64_MAX - n) ? UINT64_MAX : s->listed + n;
	}
	snprintf(s->totals, sizeof(s->totals), "%s", line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512], want[64];
	struct lc_seq *q = lc_seq_new();
	struct lc_reader *r;
	struct lc_record rec;
	struct seen seen = { 0 };
	uint64_t tagged = 0, received, missing, dups, reordered, bad;
	int fd = memfd_create("fuzz_seqcheck", 0);

	CHECK(q != NULL && fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = lc_reader_open(path, err, sizeof(err));
	if (r != NULL) {
		while (lc_reader_next(r, &rec, err, sizeof(err)) == 1) {
			uint16_t id;
			uint32_t flow;
			uint64_t seq;

			if (lc_gen_tag(rec.data, rec.caplen, &id, &flow, &seq)) {
				lc_seq_add(q, id, flow, seq);
				tagged++;
			}
		}
		lc_reader_close(r);
	}
	close(fd);
	bad = lc_seq_report(q, say, &seen, &received, &missing, &dups, &reordered);
	CHECK(received == tagged);
	CHECK(seen.lines >= 1);
	CHECK((bad == 0) == (missing == 0 && dups == 0 && reordered == 0));
	CHECK(dups <= received && reordered <= received);
	/* Every missing packet is in a listed range (none without --sent: only gaps). */
	CHECK(seen.unlisted || seen.listed == missing);
	snprintf(want, sizeof(want), " flows: %llu received, ", (unsigned long long)received);
	CHECK(strstr(seen.totals, want) != NULL);
	lc_seq_free(q);
	return 0;
}
