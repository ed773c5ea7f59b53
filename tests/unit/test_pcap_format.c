/* SPDX-License-Identifier: BSD-3-Clause */
/* The pcap record writer, byte for byte against libpcap: the same records written by
 * libpcap's pcap_dump() must give the same file, and libpcap's reader must read ours back
 * with the same timestamps, lengths and bytes (single and multi-segment, cut at snaplen). */
#include <pcap/pcap.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include "lc_test.h"

#include "pcap_format.h"

#define SNAP 1000u
#define NPKT 5

static const uint32_t sizes[NPKT] = { 60, 1514, 999, 1000, 5000 };
static const uint32_t segs[NPKT] = { 60, 1514, 300, 1000, 1200 };

static struct rte_mbuf *
make(struct rte_mempool *mp, uint32_t len, uint32_t seg, uint8_t seed)
{
	struct rte_mbuf *head = NULL;

	for (uint32_t off = 0; off < len; off += seg) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint32_t n = len - off < seg ? len - off : seg;
		uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);

		for (uint32_t i = 0; i < n; i++)
			d[i] = (uint8_t)(seed + off + i);
		if (head == NULL)
			head = m;
		else
			rte_pktmbuf_chain(head, m);
	}
	return head;
}

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	static uint8_t buf[1 << 16];

	*len = f ? fread(buf, 1, sizeof(buf), f) : 0;
	if (f)
		fclose(f);
	return buf;
}

int
main(void)
{
	static uint8_t ours[1 << 16], flat[8192];
	char ref_path[] = "/tmp/lc_test_pcap_ref_XXXXXX", our_path[] = "/tmp/lc_test_pcap_XXXXXX";
	struct rte_mempool *mp;
	struct rte_mbuf *m[NPKT];
	uint64_t ts[NPKT];
	size_t used, reflen;
	pcap_t *dead, *rd;
	pcap_dumper_t *dump;
	char perr[PCAP_ERRBUF_SIZE];
	FILE *f;
	int fd1 = mkstemp(ref_path), fd2 = mkstemp(our_path);

	lc_test_eal();
	mp = rte_pktmbuf_pool_create("t", 256, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	CHECK(fd1 >= 0 && fd2 >= 0 && mp != NULL);

	used = lc_pcap_file_header(ours, SNAP);
	CHECK_EQ_U64(used, 24);
	for (int i = 0; i < NPKT; i++) {
		m[i] = make(mp, sizes[i], segs[i], (uint8_t)(i * 7));
		ts[i] = 1767225600123456789ull + (uint64_t)i * 1000000001ull;
		size_t n = lc_pcap_put_record(ours + used, sizeof(ours) - used, m[i], ts[i], SNAP);
		CHECK_EQ_U64(n, 16 + (sizes[i] < SNAP ? sizes[i] : SNAP));
		used += n;
	}
	/* No room: nothing written, 0 returned. */
	CHECK_EQ_U64(lc_pcap_put_record(ours, 100, m[1], 0, SNAP), 0);
	f = fdopen(fd2, "wb");
	fwrite(ours, 1, used, f);
	fclose(f);

	/* The same records through libpcap's own writer. */
	dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SNAP, PCAP_TSTAMP_PRECISION_NANO);
	close(fd1);
	dump = pcap_dump_open(dead, ref_path);
	for (int i = 0; i < NPKT; i++) {
		struct pcap_pkthdr h;

		h.ts.tv_sec = (time_t)(ts[i] / 1000000000ull);
		h.ts.tv_usec = (suseconds_t)(ts[i] % 1000000000ull);	/* ns in a nano dump */
		h.len = sizes[i];
		h.caplen = sizes[i] < SNAP ? sizes[i] : SNAP;
		rte_pktmbuf_read(m[i], 0, h.caplen, flat);
		pcap_dump((u_char *)dump, &h, rte_pktmbuf_read(m[i], 0, h.caplen, flat));
	}
	pcap_dump_close(dump);
	pcap_close(dead);
	uint8_t *ref = slurp(ref_path, &reflen);
	CHECK_EQ_U64(reflen, used);
	CHECK(reflen == used && memcmp(ref, ours, used) == 0);

	/* libpcap's reader gets back what we meant. */
	rd = pcap_open_offline_with_tstamp_precision(our_path, PCAP_TSTAMP_PRECISION_NANO, perr);
	CHECK(rd != NULL);
	CHECK(rd != NULL && pcap_datalink(rd) == DLT_EN10MB && pcap_snapshot(rd) == (int)SNAP);
	for (int i = 0; rd != NULL && i < NPKT; i++) {
		struct pcap_pkthdr *h;
		const u_char *d;

		CHECK(pcap_next_ex(rd, &h, &d) == 1);
		CHECK_EQ_U64((uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec, ts[i]);
		CHECK_EQ_U64(h->len, sizes[i]);
		CHECK_EQ_U64(h->caplen, sizes[i] < SNAP ? sizes[i] : SNAP);
		CHECK(memcmp(d, rte_pktmbuf_read(m[i], 0, h->caplen, flat), h->caplen) == 0);
	}
	if (rd != NULL) {
		struct pcap_pkthdr *h;
		const u_char *d;

		CHECK(pcap_next_ex(rd, &h, &d) == PCAP_ERROR_BREAK);	/* clean end of file */
		pcap_close(rd);
	}
	for (int i = 0; i < NPKT; i++)
		rte_pktmbuf_free(m[i]);
	unlink(ref_path);
	unlink(our_path);
	CHECK_EQ_U64(rte_mempool_avail_count(mp), 256);
	return lc_test_done("test_pcap_format");
}
