/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/filter: nanoseconds and TSC cycles per packet of each filter engine, on 64-byte and
 * IMIX traffic held in memory (warm in cache), median of several runs, frames judged in
 * bursts of 32 as the RX loop does (libpcap's interpreter frame by frame, the JIT's
 * generated loop in one call). Not a test.
 *   build/bench/filter [--runs N] [--packets N] [--markdown] [expression...]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "linecap/filter.h"

#define MAX_EXPRS 32

static const char *default_exprs[] = {
	"tcp",
	"host 192.168.1.100 and port 443",
	"tcp[tcpflags] & tcp-rst != 0",
	"vlan and udp",
	"net 10.0.0.0/8 and not port 22",
	"host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3 or host 10.0.0.4 or host 10.0.0.5 or "
	"host 10.0.0.6 or host 10.0.0.7 or host 10.0.0.8 or host 10.0.0.9 or host 10.0.0.10",
	"ip6 and tcp",
	"greater 1000",
};



static uint64_t rng = 88172645463325252ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* A frame of len bytes: mostly IPv4 TCP/UDP between 10/8 and 172.16/12 hosts, with 1% on
 * 192.168.1.100:443, 1% TCP RST, 5% VLAN-tagged, 10% IPv6. */
static void
make(struct lc_frame *p, uint32_t len)
{
	uint8_t *d = calloc(1, len);
	uint32_t r = rnd() % 100, off = 12;
	int v6 = r >= 80 && r < 90, tagged = r >= 90 && r < 95, evidence = r == 0, rst = r == 1;
	int tcp = evidence || rst || (rnd() & 1);

	memcpy(d, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (tagged) {
		d[off] = 0x81; d[off + 1] = 0x00; d[off + 2] = 0; d[off + 3] = 100;
		off += 4;
	}
	if (v6) {
		d[off] = 0x86; d[off + 1] = 0xdd;
		d[off + 2] = 0x60;
		d[off + 2 + 6] = tcp ? 6 : 17;
		d[off + 2 + 8] = 0x20; d[off + 2 + 9] = 0x01;
		d[off + 2 + 24] = 0x20; d[off + 2 + 25] = 0x01;
		off += 2 + 40;
	} else {
		uint32_t src = evidence ? 0xc0a80132 : 0x0a000000 | (rnd() & 0xffffff);
		uint32_t dst = evidence ? 0xc0a80164 : 0xac100000 | (rnd() & 0xfffff);

		d[off] = 0x08; d[off + 1] = 0x00;
		d[off + 2] = 0x45;
		d[off + 4] = (uint8_t)((len - off - 2) >> 8); d[off + 5] = (uint8_t)(len - off - 2);
		d[off + 10] = 64;
		d[off + 11] = tcp ? 6 : 17;
		for (int i = 0; i < 4; i++) {
			d[off + 14 + i] = (uint8_t)(src >> (24 - 8 * i));
			d[off + 18 + i] = (uint8_t)(dst >> (24 - 8 * i));
		}
		off += 2 + 20;
	}
	uint16_t sport = (uint16_t)(1024 + rnd() % 60000), dport = evidence ? 443 :
			 (uint16_t)((const uint16_t[]){ 80, 53, 22, 8080, 443 })[rnd() % 5];
	d[off] = (uint8_t)(sport >> 8); d[off + 1] = (uint8_t)sport;
	d[off + 2] = (uint8_t)(dport >> 8); d[off + 3] = (uint8_t)dport;
	if (tcp) {
		d[off + 12] = 0x50;
		d[off + 13] = rst ? 0x14 : 0x18;
	}
	p->data = d;
	p->wirelen = p->caplen = len;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Judge one burst the way the RX loop does: the engine's burst function when it has one,
 * else its per-frame function. */
static uint64_t
judge(const struct lc_filter *f, const struct lc_frame *fr, uint32_t n)
{
	uint8_t keep[32];
	uint64_t m = 0;

	if (f->burst != NULL)
		f->burst(f->state, fr, n, keep);
	else
		for (uint32_t i = 0; i < n; i++)
			keep[i] = f->run(f->state, fr[i].data, fr[i].wirelen, fr[i].caplen) != 0;
	for (uint32_t i = 0; i < n; i++)
		m += keep[i];
	return m;
}

/* Median ns and cycles per packet of f over frames (bursts of 32), runs times. */
static void
measure(const struct lc_filter *f, const struct lc_frame *fr, unsigned int n, int runs,
	double *ns, double *cycles, uint64_t *matched)
{
	unsigned int reps = n >= (1u << 23) ? 1 : (1u << 23) / n;	/* >= 8M packets a run */
	double t[64], c[64];

	for (int r = 0; r < runs; r++) {
		uint64_t m = 0, c0;
		double t0 = now_ns();

		c0 = __rdtsc();
		for (unsigned int k = 0; k < reps; k++)
			for (unsigned int i = 0; i < n; i += 32)
				m += judge(f, fr + i, n - i < 32 ? n - i : 32);
		c[r] = (double)(__rdtsc() - c0) / ((double)n * reps);
		t[r] = (now_ns() - t0) / ((double)n * reps);
		*matched = m / reps;
	}
	qsort(t, (size_t)runs, sizeof(double), cmp_double);
	qsort(c, (size_t)runs, sizeof(double), cmp_double);
	*ns = t[runs / 2];
	*cycles = c[runs / 2];
}

int
main(int argc, char **argv)
{
	const char *exprs[MAX_EXPRS];
	unsigned int nexprs = 0, npkts = 2048;	/* IMIX: ~0.7 MB, warm in L2 */
	int runs = 9, markdown = 0;
	static const uint32_t imix[12] = { 64, 64, 64, 64, 64, 64, 64, 570, 570, 570, 570, 1518 };
	struct lc_frame *traffic[2];
	const char *traffic_name[2] = { "64B", "IMIX" };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--packets") == 0 && i + 1 < argc)
			npkts = (unsigned int)atoi(argv[++i]);
		else if (strcmp(argv[i], "--markdown") == 0)
			markdown = 1;
		else if (nexprs < MAX_EXPRS)
			exprs[nexprs++] = argv[i];
	}
	if (runs < 1 || runs > 63 || npkts == 0) {
		fprintf(stderr, "usage: filter [--runs 1..63] [--packets N] [--markdown] [expr...]\n");
		return 2;
	}
	if (nexprs == 0)
		for (size_t i = 0; i < sizeof(default_exprs) / sizeof(default_exprs[0]); i++)
			exprs[nexprs++] = default_exprs[i];
	for (int t = 0; t < 2; t++) {
		traffic[t] = calloc(npkts, sizeof(struct lc_frame));
		for (unsigned int i = 0; i < npkts; i++)
			make(&traffic[t][i], t == 0 ? 60 : imix[rnd() % 12]);
	}

	if (markdown)
		printf("| expression | traffic | interp ns/pkt | jit ns/pkt | interp cycles | "
		       "jit cycles | speed-up | matched |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
	else
		printf("%-44s %-5s %9s %9s %9s %9s %8s %8s\n", "expression", "traf", "interp-ns",
		       "jit-ns", "interp-cy", "jit-cy", "speedup", "matched");
	for (unsigned int e = 0; e < nexprs; e++) {
		char err[512];
		struct lc_filter_prog *prog = lc_filter_compile(exprs[e], 262144, err, sizeof(err));
		struct lc_filter *interp, *jit;

		if (prog == NULL) {
			fprintf(stderr, "%s\n", err);
			return 2;
		}
		interp = lc_filter_create(prog, lc_filter_engine("interp"), -1);
		jit = lc_filter_create(prog, lc_filter_engine("jit"), -1);
		for (int t = 0; t < 2; t++) {
			double ins, icy, jns, jcy;
			uint64_t im, jm;

			measure(interp, traffic[t], npkts, runs, &ins, &icy, &im);
			measure(jit, traffic[t], npkts, runs, &jns, &jcy, &jm);
			if (im != jm) {
				fprintf(stderr, "engines disagree on '%s': %" PRIu64 " vs %" PRIu64 "\n",
					exprs[e], im, jm);
				return 1;
			}
			char shown[48];
			snprintf(shown, sizeof(shown), "%.40s%s", exprs[e],
				 strlen(exprs[e]) > 40 ? "..." : "");
			if (markdown)
				printf("| `%s` | %s | %.1f | %.1f | %.0f | %.0f | %.1fx | %.2f%% |\n",
				       shown, traffic_name[t], ins, jns, icy, jcy, ins / jns,
				       100.0 * (double)jm / npkts);
			else
				printf("%-44s %-5s %9.1f %9.1f %9.0f %9.0f %7.1fx %7.2f%%\n", shown,
				       traffic_name[t], ins, jns, icy, jcy, ins / jns,
				       100.0 * (double)jm / npkts);
		}
		lc_filter_free(interp);
		lc_filter_free(jit);
		lc_filter_prog_free(prog);
	}
	return 0;
}
