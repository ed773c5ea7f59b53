/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The corpus proof: every expression of ../shared/corpus/filters.txt, over every packet of
 * every readable Ethernet capture of ../shared/corpus/pcaps, through every engine, against
 * libpcap's own interpreter (bpf_filter), packet by packet: zero mismatches. Each packet is
 * also run cut short at a pseudo-random length, so the bounds checks are exercised on real
 * headers. The interpreter's match counts are checked against tcpdump's, in expected.tsv.
 */
#include <pcap/pcap.h>

#include "lc_test.h"

#include "linecap/config.h"
#include "linecap/filter.h"

#define MAX_FILTERS 512
#define MAX_FILES 256
#define MAX_PKTS 100000

struct pkt {
	const uint8_t *data;
	uint32_t caplen, len;
};

struct file {
	char name[256];
	unsigned int npkts;
	struct pkt *pkts;
};

static struct file files[MAX_FILES];
static unsigned int nfiles;
static char *filters[MAX_FILTERS];
static unsigned int nfilters;

static void
load_filters(const char *corpus)
{
	char path[1024], line[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/filters.txt", corpus);
	f = fopen(path, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL && nfilters < MAX_FILTERS) {
		line[strcspn(line, "\n")] = '\0';
		filters[nfilters++] = strdup(line);
	}
	if (f)
		fclose(f);
}

/* Every file libpcap reads as Ethernet; what it reads before an error counts. */
static void
load_files(const char *corpus)
{
	char path[1024], line[4096], perr[PCAP_ERRBUF_SIZE];
	FILE *m;

	snprintf(path, sizeof(path), "%s/MANIFEST.tsv", corpus);
	m = fopen(path, "r");
	if (m == NULL)
		return;
	if (fgets(line, sizeof(line), m) == NULL) {	/* header */
		fclose(m);
		return;
	}
	while (fgets(line, sizeof(line), m) != NULL && nfiles < MAX_FILES) {
		char *name = strtok(line, "\t");
		struct pcap_pkthdr *h;
		const u_char *d;
		struct file *fl;
		pcap_t *p;

		snprintf(path, sizeof(path), "%s/pcaps/%s", corpus, name);
		p = pcap_open_offline(path, perr);
		if (p == NULL)
			continue;
		if (pcap_datalink(p) != DLT_EN10MB) {
			pcap_close(p);
			continue;
		}
		fl = &files[nfiles++];
		snprintf(fl->name, sizeof(fl->name), "%s", name);
		fl->pkts = calloc(MAX_PKTS, sizeof(*fl->pkts));
		while (fl->npkts < MAX_PKTS && pcap_next_ex(p, &h, &d) == 1) {
			uint8_t *copy = malloc(h->caplen ? h->caplen : 1);

			memcpy(copy, d, h->caplen);
			fl->pkts[fl->npkts++] = (struct pkt){ copy, h->caplen, h->len };
		}
		pcap_close(p);
	}
	fclose(m);
}

/* tcpdump's count for (file, filter line), or -1 when the row is not a clean run. */
static long
expected(const char *corpus, const char *file, unsigned int line)
{
	static char *rows;
	static size_t nrows;
	char key[512];
	const char *at;

	if (rows == NULL) {
		char path[1024];
		FILE *f;

		snprintf(path, sizeof(path), "%s/expected.tsv", corpus);
		f = fopen(path, "r");
		if (f == NULL)
			return -1;
		fseek(f, 0, SEEK_END);
		nrows = (size_t)ftell(f);
		fseek(f, 0, SEEK_SET);
		rows = calloc(1, nrows + 2);
		rows[0] = '\n';
		if (fread(rows + 1, 1, nrows, f) != nrows)
			nrows = 0;
		fclose(f);
	}
	snprintf(key, sizeof(key), "\n%s\t%u\t", file, line);
	at = strstr(rows, key);
	if (at == NULL)
		return -1;
	at += strlen(key);
	at = strchr(at, '\t');		/* skip the filter text */
	if (at == NULL || at[1] == '\t')
		return -1;
	long packets = strtol(at + 1, NULL, 10);
	at = strchr(at + 1, '\t');
	if (at == NULL || at[1] != '0')	/* tcpdump_rc */
		return -1;
	return packets;
}

int
main(void)
{
	const char *corpus = getenv("LC_CORPUS");
	const char *engines[] = { "jit" };
	uint64_t runs = 0, mismatches = 0, count_checks = 0;
	uint32_t seed = 12345;

	if (corpus == NULL)
		return 77;
	load_filters(corpus);
	if (nfilters == 0) {
		fprintf(stderr, "corpus not found at %s\n", corpus);
		return 77;
	}
	lc_test_eal();
	load_files(corpus);
	CHECK(nfilters == 389);
	CHECK(nfiles >= 100);

	/* The sanitizer build takes every 8th filter (LC_CORPUS_STRIDE): the generated code is
	 * not instrumented anyway, and the whole proof runs in the normal build. */
	const char *stride_env = getenv("LC_CORPUS_STRIDE");
	unsigned int stride = stride_env ? (unsigned int)atoi(stride_env) : 1;

	if (stride == 0)
		stride = 1;
	for (unsigned int fi = 0; fi < nfilters; fi += stride) {
		char err[LC_ERRLEN];
		struct lc_filter_prog *prog = lc_filter_compile(filters[fi], 262144, err,
								sizeof(err));
		unsigned int ninsn;
		const struct bpf_insn *insns;

		CHECK(prog != NULL);
		if (prog == NULL) {
			fprintf(stderr, "%s\n", err);
			continue;
		}
		insns = lc_filter_prog_insns(prog, &ninsn);
		for (size_t e = 0; e < sizeof(engines) / sizeof(engines[0]); e++) {
			struct lc_filter *f = lc_filter_create(prog, lc_filter_engine(engines[e]),
							       SOCKET_ID_ANY);

			CHECK(f != NULL && f->burst != NULL);
			if (f == NULL) {
				fprintf(stderr, "%s: engine %s refused '%s'\n", engines[e],
					engines[e], filters[fi]);
				continue;
			}
			for (unsigned int fl = 0; fl < nfiles; fl++) {
				long matched = 0, want;

				for (unsigned int i = 0; i < files[fl].npkts; i++) {
					const struct pkt *p = &files[fl].pkts[i];
					uint32_t cut;
					unsigned int a = bpf_filter(insns, p->data, p->len, p->caplen);
					unsigned int b = lc_filter_match_bytes(f, p->data, p->len,
									       p->caplen);

					matched += a != 0;
					runs++;
					if (a != b) {
						mismatches++;
						fprintf(stderr, "MISMATCH %s '%s' %s packet %u: "
							"interp %u, %s %u\n", files[fl].name,
							filters[fi], engines[e], i + 1, a, engines[e], b);
					}
					seed = seed * 1103515245u + 12345u;
					cut = p->caplen ? (seed >> 8) % p->caplen : 0;
					a = bpf_filter(insns, p->data, p->len, cut);
					b = lc_filter_match_bytes(f, p->data, p->len, cut);
					runs++;
					if (a != b) {
						mismatches++;
						fprintf(stderr, "MISMATCH %s '%s' %s packet %u cut at "
							"%u: interp %u, %s %u\n", files[fl].name,
							filters[fi], engines[e], i + 1, cut, a, engines[e],
							b);
					}
				}
				/* The burst entry over the whole file, 32 frames a call. */
				for (unsigned int i = 0; f->burst && i < files[fl].npkts; i += 32) {
					struct lc_frame b[32];
					uint8_t keep[32];
					unsigned int nb = 0;

					for (; nb < 32 && i + nb < files[fl].npkts; nb++) {
						const struct pkt *p = &files[fl].pkts[i + nb];

						b[nb] = (struct lc_frame){ p->data, p->len, p->caplen };
					}
					f->burst(f->state, b, nb, keep);
					for (unsigned int k = 0; k < nb; k++) {
						unsigned int a = bpf_filter(insns, b[k].data, b[k].wirelen,
									    b[k].caplen) != 0;

						runs++;
						if (a != keep[k]) {
							mismatches++;
							fprintf(stderr, "MISMATCH %s '%s' %s burst packet "
								"%u: interp %u, burst %u\n",
								files[fl].name, filters[fi], engines[e],
								i + k + 1, a, keep[k]);
						}
					}
				}
				want = expected(corpus, files[fl].name, fi + 1);
				if (e == 0 && want >= 0) {
					count_checks++;
					if (matched != want) {
						fprintf(stderr, "COUNT %s '%s': interp %ld, tcpdump %ld\n",
							files[fl].name, filters[fi], matched, want);
						CHECK(matched == want);
					}
				}
			}
			lc_filter_free(f);
		}
		lc_filter_prog_free(prog);
	}
	fprintf(stderr, "%u filters x %u files: %" PRIu64 " engine runs, %" PRIu64
		" mismatches, %" PRIu64 " tcpdump counts checked\n", nfilters, nfiles, runs,
		mismatches, count_checks);
	CHECK(mismatches == 0);
	CHECK(count_checks > 40000 / stride);
	return lc_test_done("test_filter_corpus");
}
