/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The corpus proof: every expression of a corpus's filters.txt, over every packet of every
 * readable Ethernet capture of its pcaps/, through every engine, against libpcap's own
 * interpreter (bpf_filter), packet by packet: zero mismatches. Each packet is also run cut
 * short at a pseudo-random length, so the bounds checks are exercised on real headers. The
 * interpreter's match counts are checked against tcpdump's (expected.tsv rows).
 * The corpora: the generated one of the repository (LC_CORPUS, tests/corpus; tcpdump's counts
 * made at build time, LC_CORPUS_EXPECTED), then ../shared/corpus where present
 * (LC_CORPUS_EXTRA, with its own expected.tsv).
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

static void
unload(void)
{
	for (unsigned int i = 0; i < nfiles; i++) {
		for (unsigned int k = 0; k < files[i].npkts; k++)
			free((void *)files[i].pkts[k].data);
		free(files[i].pkts);
	}
	for (unsigned int i = 0; i < nfilters; i++)
		free(filters[i]);
	memset(files, 0, sizeof(files));
	nfiles = nfilters = 0;
}

/* The expected.tsv rows at path, with a newline before the first; NULL if unreadable. */
static char *
load_expected(const char *path)
{
	FILE *f = fopen(path, "r");
	char *rows;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	rows = calloc(1, (size_t)n + 2);
	rows[0] = '\n';
	if (fread(rows + 1, 1, (size_t)n, f) != (size_t)n)
		rows[1] = '\0';
	fclose(f);
	return rows;
}

/* tcpdump's count for (file, filter line), or -1 when the row is not a clean run. */
static long
expected(const char *rows, const char *file, unsigned int line)
{
	char key[512];
	const char *at;

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

struct corpus {
	const char *label, *dir, *expected;
	unsigned int min_filters, min_files;	/* what the corpus holds at least */
	uint64_t min_counts;			/* tcpdump counts checked, every filter taken */
};

static void
prove(const struct corpus *c, unsigned int stride)
{
	const char *engines[] = { "jit" };
	uint64_t runs = 0, mismatches = 0, count_checks = 0;
	uint32_t seed = 12345;
	char *rows = load_expected(c->expected);

	load_filters(c->dir);
	load_files(c->dir);
	if (rows == NULL || nfilters == 0)
		fprintf(stderr, "%s corpus: cannot read %s/filters.txt or %s\n", c->label, c->dir,
			c->expected);
	CHECK(rows != NULL);
	CHECK(nfilters >= c->min_filters && nfilters < MAX_FILTERS);
	CHECK(nfiles >= c->min_files && nfiles < MAX_FILES);
	if (rows == NULL) {
		unload();
		return;
	}
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
				want = expected(rows, files[fl].name, fi + 1);
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
	fprintf(stderr, "%s corpus: %u filters x %u files: %" PRIu64 " engine runs, %" PRIu64
		" mismatches, %" PRIu64 " tcpdump counts checked\n", c->label, nfilters, nfiles,
		runs, mismatches, count_checks);
	CHECK(mismatches == 0);
	CHECK(count_checks > c->min_counts / stride);
	free(rows);
	unload();
}

int
main(void)
{
	const char *gen = getenv("LC_CORPUS"), *gen_expected = getenv("LC_CORPUS_EXPECTED");
	const char *extra = getenv("LC_CORPUS_EXTRA");
	char probe[1024];
	FILE *f;

	if (gen == NULL)
		gen = LC_SOURCE_ROOT "/tests/corpus";
	if (gen_expected == NULL) {
		fprintf(stderr, "test_filter_corpus: LC_CORPUS_EXPECTED is not set: run it with "
			"'meson test', which has tcpdump count the generated corpus first\n");
		return 1;
	}
	lc_test_eal();

	/* The sanitizer build takes every 8th filter (LC_CORPUS_STRIDE): the generated code is
	 * not instrumented anyway, and the whole proof runs in the normal build. */
	const char *stride_env = getenv("LC_CORPUS_STRIDE");
	unsigned int stride = stride_env ? (unsigned int)atoi(stride_env) : 1;

	if (stride == 0)
		stride = 1;
	prove(&(struct corpus){ "generated", gen, gen_expected, 200, 35, 7000 }, stride);
	snprintf(probe, sizeof(probe), "%s/filters.txt", extra ? extra : "");
	f = extra ? fopen(probe, "r") : NULL;
	if (f != NULL) {
		char shared_expected[1024];

		fclose(f);
		snprintf(shared_expected, sizeof(shared_expected), "%s/expected.tsv", extra);
		prove(&(struct corpus){ "shared", extra, shared_expected, 389, 100, 40000 }, stride);
	} else {
		fprintf(stderr, "no third-party corpus at '%s': the generated corpus only\n",
			extra ? extra : "");
	}
	return lc_test_done("test_filter_corpus");
}
