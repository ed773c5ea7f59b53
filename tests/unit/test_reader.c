/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture file reader against libpcap on every file of the corpora (pcap and pcapng,
 * micro- and nanosecond, both byte orders, cut and malformed files): the same records, and
 * an error with a byte offset where libpcap stops on an error. The corpora: the generated
 * one (LC_CORPUS, tests/corpus), then ../shared/corpus where present (LC_CORPUS_EXTRA).
 * Then crafted damage: a cut header, a cut record, an impossible length.
 */
#include <fcntl.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include "lc_test.h"

#include "linecap/reader.h"

static void
compare(const char *path, const char *name)
{
	char perr[PCAP_ERRBUF_SIZE], err[512];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO,
							    perr);
	struct lc_reader *r = lc_reader_open(path, err, sizeof(err));
	struct pcap_pkthdr *h;
	const u_char *d;
	struct lc_record rec;
	int prc, rrc;
	unsigned int n = 0;

	if (p == NULL) {
		/* libpcap refuses it: nothing to compare; we must not crash reading it. */
		if (r != NULL) {
			while (lc_reader_next(r, &rec, err, sizeof(err)) == 1)
				;
			lc_reader_close(r);
		}
		return;
	}
	if (r == NULL) {
		fprintf(stderr, "%s: libpcap opens it, we do not: %s\n", name, err);
		CHECK(0);
		pcap_close(p);
		return;
	}
	for (;;) {
		prc = pcap_next_ex(p, &h, &d);
		rrc = lc_reader_next(r, &rec, err, sizeof(err));
		if (prc != 1)
			break;
		n++;
		if (rrc != 1 || rec.caplen != h->caplen || rec.len != h->len ||
		    rec.ts_ns != (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec ||
		    memcmp(rec.data, d, h->caplen) != 0 ||
		    (rec.linktype == 1) != (pcap_datalink(p) == DLT_EN10MB)) {
			fprintf(stderr, "%s: record %u differs (%d: %s)\n", name, n, rrc,
				rrc < 0 ? err : "");
			CHECK(0);
			break;
		}
	}
	if (prc == PCAP_ERROR_BREAK)
		CHECK(rrc == 0);		/* both at a clean end */
	else {
		CHECK(rrc < 0);			/* both see the damage */
		CHECK(strstr(err, "byte ") != NULL);
	}
	lc_reader_close(r);
	pcap_close(p);
}

static void
damage(void)
{
	char path[] = "/tmp/lc_test_reader_XXXXXX", err[512];
	int fd = mkstemp(path);
	uint32_t hdr[6] = { 0xa1b23c4d, 0x00040002, 0, 0, 65535, 1 };
	uint32_t rec[4] = { 1, 2, 10, 10 };
	uint8_t data[10] = { 0 };
	struct lc_reader *r;
	struct lc_record rc;

	CHECK(write(fd, hdr, sizeof(hdr)) == sizeof(hdr));
	CHECK(write(fd, rec, sizeof(rec)) == sizeof(rec));
	CHECK(write(fd, data, 10) == 10);
	CHECK(write(fd, rec, sizeof(rec)) == sizeof(rec));
	CHECK(write(fd, data, 4) == 4);		/* second record cut short */
	close(fd);
	r = lc_reader_open(path, err, sizeof(err));
	CHECK(r != NULL);
	CHECK(lc_reader_next(r, &rc, err, sizeof(err)) == 1);
	CHECK_EQ_U64(rc.ts_ns, 1000000002ull);
	CHECK(lc_reader_next(r, &rc, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, ": byte 50: record data cut short");
	CHECK_EQ_U64(lc_reader_good_offset(r), 24 + 16 + 10);
	lc_reader_close(r);

	fd = open(path, O_WRONLY | O_TRUNC);
	rec[2] = 0x7fffffff;
	CHECK(write(fd, hdr, sizeof(hdr)) == sizeof(hdr));
	CHECK(write(fd, rec, sizeof(rec)) == sizeof(rec));
	close(fd);
	r = lc_reader_open(path, err, sizeof(err));
	CHECK(lc_reader_next(r, &rc, err, sizeof(err)) == -EINVAL);
	CHECK_STR_HAS(err, "byte 24: record length impossibly large");
	lc_reader_close(r);

	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "hello world, no pcap here", 25) == 25);
	close(fd);
	CHECK(lc_reader_open(path, err, sizeof(err)) == NULL);
	CHECK_STR_HAS(err, "byte 0: not a pcap or pcapng file");
	unlink(path);
}

/* Every file of corpus dir's MANIFEST.tsv against libpcap; how many, or -1 without one. */
static int
compare_corpus(const char *dir)
{
	char path[1024], line[4096];
	int files = 0;
	FILE *m;

	snprintf(path, sizeof(path), "%s/MANIFEST.tsv", dir);
	m = fopen(path, "r");
	if (m == NULL)
		return -1;
	if (fgets(line, sizeof(line), m) == NULL) {
		fclose(m);
		return 0;
	}
	while (fgets(line, sizeof(line), m) != NULL) {
		char *name = strtok(line, "\t");

		snprintf(path, sizeof(path), "%s/pcaps/%s", dir, name);
		compare(path, name);
		files++;
	}
	fclose(m);
	return files;
}

int
main(void)
{
	const char *gen = getenv("LC_CORPUS"), *extra = getenv("LC_CORPUS_EXTRA");
	int files;

	if (gen == NULL)
		gen = LC_SOURCE_ROOT "/tests/corpus";
	files = compare_corpus(gen);
	if (files < 0)
		fprintf(stderr, "the generated corpus is missing at %s\n", gen);
	CHECK(files >= 40);
	files = extra ? compare_corpus(extra) : -1;
	if (files < 0)
		fprintf(stderr, "no third-party corpus at '%s': the generated corpus only\n",
			extra ? extra : "");
	else
		CHECK(files == 129);
	damage();
	return lc_test_done("test_reader");
}
