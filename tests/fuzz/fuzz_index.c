/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness over the index reader that linecap-query and linecap-verify use on index
 * files someone else may have written: the input is a whole index file. It is opened as it
 * is, then again with its header's checksum made right (else nearly every mutation stops at
 * the checksum and the flow table and positions go unexplored). The reader's promises are
 * checked and a broken one aborts: no read past the input, errors are one line naming a
 * byte, every position handed out increases and lies below the capture's size, a flow's
 * known bits lie within the bytes it claims every packet has. Built and run by
 * scripts/fuzz.sh; seeds: tests/fuzz/seeds/index (test_index --write-seeds DIR).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "linecap/index.h"

#include "index_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "broken: %s\n", #c); abort(); } } while (0)

static void
one(const uint8_t *data, size_t size)
{
	char err[512];
	int fd = memfd_create("fuzz_index", 0);
	struct lc_index *ix;
	const struct lc_index_flow *fl;
	const struct lc_index_info *in;
	uint32_t nf;
	uint64_t sum = 0;

	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	ix = lc_index_open_fd(fd, "x.idx", err, sizeof(err));
	if (ix == NULL) {
		CHECK(strncmp(err, "x.idx: ", 7) == 0 && strchr(err, '\n') == NULL);
		CHECK(errno != EINVAL || strncmp(err, "x.idx: byte ", 12) == 0);
		return;
	}
	in = lc_index_info(ix);
	fl = lc_index_flows(ix, &nf);
	CHECK(nf == in->nflows && (uint64_t)nf * LC_IDX_MIN_FLOW <= size);
	CHECK(in->first_ns <= in->last_ns);
	for (uint32_t f = 0; f < nf; f++) {
		struct lc_partial p;
		uint64_t *pos;
		int rc;

		CHECK(fl[f].pos_at + fl[f].pos_len <= size && fl[f].packets <= fl[f].pos_len);
		sum += fl[f].packets;
		lc_index_flow_bytes(&fl[f], &p);
		CHECK(p.present <= LC_PARTIAL_LEN);
		for (uint32_t j = 0; j < LC_PARTIAL_LEN; j++) {
			CHECK((p.val[j] & ~p.known[j]) == 0);
			CHECK(j < p.present || p.known[j] == 0);
		}
		pos = malloc((fl[f].packets + 1) * sizeof(*pos));
		CHECK(pos != NULL);
		rc = lc_index_positions(ix, &fl[f], pos, err, sizeof(err));
		if (rc == 0) {
			for (uint64_t k = 0; k < fl[f].packets; k++) {
				CHECK(pos[k] < in->file_bytes);
				CHECK(k == 0 || pos[k] > pos[k - 1]);
			}
		} else {
			CHECK(rc == -EINVAL && strncmp(err, "x.idx: byte ", 12) == 0 &&
			      strchr(err, '\n') == NULL);
		}
		free(pos);
	}
	CHECK(sum == in->packets);
	lc_index_close(ix);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *d;
	uint64_t tl;
	uint32_t crc;

	one(data, size);
	if (size < LC_IDX_HDR_LEN)
		return 0;
	tl = lc_idx_get64(data + LC_IDX_O_TABLE_LEN);
	if (tl > size - LC_IDX_HDR_LEN)
		return 0;
	d = malloc(size);
	CHECK(d != NULL);
	memcpy(d, data, size);
	crc = lc_idx_crc32c(0, d, LC_IDX_O_CRC);
	crc = lc_idx_crc32c(crc, d + LC_IDX_HDR_LEN, (size_t)tl);
	lc_idx_put32(d + LC_IDX_O_CRC, crc);
	if (memcmp(d, data, size) != 0)
		one(d, size);
	free(d);
	return 0;
}
