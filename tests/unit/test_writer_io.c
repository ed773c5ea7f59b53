/* SPDX-License-Identifier: BSD-3-Clause */
/* The writer's I/O threads: buffers handed over are written in order and hashed after they
 * reached the file (the hash is always the file's), buffers come back round only when both
 * stages are done with them, results are reaped in order with their record counts, and a
 * failing write is reported with its slot and leaves the hash describing what is on disk. */
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#include "lc_test.h"

#include "linecap/format.h"
#include "linecap/outpath.h"
#include "shard.h"
#include "writer_io.h"

#define BUF 8192u
#define ROUNDS 23u	/* several times round the slots */

static void
sha_of(const uint8_t *p, size_t n, uint8_t md[LC_SHA256_LEN])
{
	unsigned int len = 0;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
}

static size_t
read_all(const char *path, uint8_t *dst, size_t room)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, dst, room) : -1;

	if (fd >= 0)
		close(fd);
	return n < 0 ? 0 : (size_t)n;
}

/* Fill, submit and reap ROUNDS buffers; with direct, whole blocks but the last. */
static void
test_in_order(int direct)
{
	char dir[] = "/tmp/lc_io_XXXXXX", err[256];
	static uint8_t want[ROUNDS * BUF], got[ROUNDS * BUF + 1];
	uint8_t md[LC_SHA256_LEN], wmd[LC_SHA256_LEN];
	struct lc_outpath op;
	struct lc_shard_file f;
	struct lc_io io;
	size_t total = 0;
	uint64_t reaped = 0, recs = 0, wcycles = 0;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(lc_outpath_init(&op, dir, NULL, err, sizeof(err)) == 0);
	CHECK(lc_shard_file_open(&f, &op, &lc_format_pcap, 0, 1, 0, direct, err,
				 sizeof(err)) == 0);
	CHECK(lc_shard_file_stub(&f, "stub", 4) == 0);	/* gives it its .part name */
	CHECK(lc_io_init(&io, BUF, SOCKET_ID_ANY, NULL) == 0);
	for (uint32_t r = 0; r < ROUNDS; r++) {
		uint8_t *b = lc_io_buffer(&io);
		size_t len = (r == ROUNDS - 1 && !f.direct) ? BUF - 100 : BUF;
		const struct lc_io_slot *s;

		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)(r * 7 + i * 13);
		memcpy(want + total, b, len);
		total += len;
		uint8_t *next = lc_io_submit(&io, &f, len, r + 1);

		CHECK(next != b);	/* never the buffer just handed over */
		while ((s = lc_io_reap(&io)) != NULL) {
			CHECK_EQ_U64(s->rc, 0);
			CHECK_EQ_U64(s->written, s->len);
			CHECK_EQ_U64(s->nrec, reaped + 1);	/* in order */
			recs += s->nrec;
			wcycles += s->write_cycles;
			reaped++;
		}
	}
	lc_io_drain(&io);
	for (const struct lc_io_slot *s; (s = lc_io_reap(&io)) != NULL; reaped++) {
		CHECK_EQ_U64(s->nrec, reaped + 1);
		recs += s->nrec;
	}
	CHECK_EQ_U64(reaped, ROUNDS);
	CHECK_EQ_U64(recs, (uint64_t)ROUNDS * (ROUNDS + 1) / 2);
	CHECK(wcycles > 0);
	CHECK_EQ_U64(f.bytes, total);
	CHECK(lc_shard_file_finish(&f, md) == 0);
	CHECK_EQ_U64(read_all(f.part, got, sizeof(got)), total);
	CHECK(memcmp(got, want, total) == 0);
	sha_of(want, total, wmd);
	CHECK(memcmp(md, wmd, sizeof(md)) == 0);
	lc_io_fini(&io);
	unlink(f.part);
	rmdir(dir);
}

/* A write that fails (the file swapped for /dev/full): the slot says so, counts nothing
 * written, and the hash still matches what the file holds. */
static void
test_write_error(void)
{
	char dir[] = "/tmp/lc_io_XXXXXX", err[256];
	uint8_t md[LC_SHA256_LEN], wmd[LC_SHA256_LEN], first[BUF];
	struct lc_outpath op;
	struct lc_shard_file f;
	struct lc_io io;
	const struct lc_io_slot *s;
	int full = open("/dev/full", O_WRONLY);

	CHECK(full >= 0);
	CHECK(mkdtemp(dir) != NULL);
	CHECK(lc_outpath_init(&op, dir, NULL, err, sizeof(err)) == 0);
	CHECK(lc_shard_file_open(&f, &op, &lc_format_pcap, 0, 1, 0, 0, err, sizeof(err)) == 0);
	CHECK(lc_shard_file_stub(&f, "stub", 4) == 0);
	CHECK(lc_io_init(&io, BUF, SOCKET_ID_ANY, NULL) == 0);
	memset(lc_io_buffer(&io), 'a', BUF);
	memcpy(first, lc_io_buffer(&io), BUF);
	lc_io_submit(&io, &f, BUF, 3);
	lc_io_drain(&io);
	s = lc_io_reap(&io);
	CHECK(s != NULL && s->rc == 0);
	int keep = dup(f.fd);

	CHECK(dup2(full, f.fd) == f.fd);	/* the disk is full from now on */
	memset(lc_io_buffer(&io), 'b', BUF);
	lc_io_submit(&io, &f, BUF, 5);
	lc_io_drain(&io);
	s = lc_io_reap(&io);
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK_EQ_U64(-s->rc, ENOSPC);
		CHECK_EQ_U64(s->written, 0);
		CHECK_EQ_U64(s->nrec, 5);
	}
	CHECK(lc_io_reap(&io) == NULL);
	CHECK(dup2(keep, f.fd) == f.fd);
	close(keep);
	CHECK(lc_shard_file_finish(&f, md) == 0);
	sha_of(first, BUF, wmd);	/* only what reached the file */
	CHECK(memcmp(md, wmd, sizeof(md)) == 0);
	lc_io_fini(&io);
	close(full);
	unlink(f.part);
	rmdir(dir);
}

int
main(void)
{
	lc_test_eal();
	test_in_order(0);
	test_in_order(1);
	test_write_error();
	/* A zeroed struct is accepted, twice. */
	struct lc_io none;

	memset(&none, 0, sizeof(none));
	lc_io_fini(&none);
	lc_io_fini(&none);
	return lc_test_done("test_writer_io");
}
