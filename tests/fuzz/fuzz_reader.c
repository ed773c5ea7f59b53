/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness over the capture-file reader that linecap-verify and linecap-merge use on
 * files an attacker may have shaped: the input is a whole file (pcap or pcapng, any byte
 * order). Every record is read to the end or to the first error; the reader's promises are
 * checked and a broken one aborts: no read past the input, offsets only grow and stay inside
 * it, caplen never above what is stored nor above the snaplen, errors are one line naming a
 * byte offset. Built and run by scripts/fuzz.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "linecap/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "broken: %s\n", #c); abort(); } } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	struct lc_reader *r;
	struct lc_record rec;
	uint64_t last = 0;
	int fd = memfd_create("fuzz_reader", 0), rc;

	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = lc_reader_open(path, err, sizeof(err));
	if (r == NULL) {
		CHECK(strchr(err, '\n') == NULL && err[0] != '\0');
		close(fd);
		return 0;
	}
	while ((rc = lc_reader_next(r, &rec, err, sizeof(err))) == 1) {
		volatile uint8_t sum = 0;

		CHECK(rec.offset >= last && rec.offset < size);
		CHECK(rec.caplen <= rec.stored);
		CHECK(rec.snaplen == 0 || rec.caplen <= rec.snaplen);
		CHECK(rec.caplen == 0 || rec.data != NULL);
		for (uint32_t i = 0; i < rec.caplen; i++)	/* every byte readable (ASan) */
			sum += rec.data[i];
		(void)sum;
		last = rec.offset;
		CHECK(lc_reader_good_offset(r) <= size);
	}
	CHECK(rc == 0 || (rc < 0 && strstr(err, "byte ") != NULL && strchr(err, '\n') == NULL));
	CHECK(lc_reader_good_offset(r) <= size);
	lc_reader_close(r);
	close(fd);
	return 0;
}
