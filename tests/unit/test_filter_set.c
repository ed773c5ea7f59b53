/* SPDX-License-Identifier: BSD-3-Clause */
/* Live filter changes are recorded only when they took effect. The filter set keeps one era
 * per change in force (a refused expression leaves the history and the filter as they
 * were); the capture hands exactly those eras to custody, so a closed file's manifest record
 * lists every filter in force while it was open, once each (a refused change used to append
 * a second copy of the filter in force, with the same since_ns). */
#include <jansson.h>
#include <unistd.h>

#include "lc_test.h"

#include "linecap/config.h"
#include "custody.h"
#include "filter_set.h"
#include "linecap/outpath.h"
#include "rx.h"

/* The capture's insides: the test builds the least of one that lc_capture_set_filter uses. */
#include "capture_priv.h"

#define NQ 2u

static struct lc_rx_queue queues[NQ];
static struct lc_rx_queue *rxq[NQ] = { &queues[0], &queues[1] };

/* The history holds want[0..n-1], in order, each once, times never going back. */
static void
check_history(const struct lc_filter_set *set, const char *const *want, unsigned int n)
{
	unsigned int got;
	const struct lc_filter_era *h = lc_filter_set_history(set, &got);

	CHECK_EQ_U64(got, n);
	for (unsigned int i = 0; i < got && i < n; i++) {
		CHECK((h[i].expr == NULL && want[i] == NULL) ||
		      (h[i].expr != NULL && want[i] != NULL && strcmp(h[i].expr, want[i]) == 0));
		if (i > 0)
			CHECK(h[i].since_ns >= h[i - 1].since_ns);
	}
}

static void
test_set(void)
{
	static const char *const want[] = { "tcp", "udp port 53", NULL };
	struct lc_filter_set *set = lc_filter_set_create(rxq, NQ, SOCKET_ID_ANY, "interp", 262144);
	char err[256];

	CHECK(set != NULL);
	if (set == NULL)
		return;
	CHECK(lc_filter_set_change(set, "tcp", err, sizeof(err)) == 0);
	check_history(set, want, 1);
	CHECK(lc_filter_set_change(set, "hots 1.2.3.4", err, sizeof(err)) < 0);
	CHECK_STR_HAS(err, "syntax error");
	CHECK(strcmp(lc_filter_set_expr(set), "tcp") == 0);
	check_history(set, want, 1);		/* refused: nothing recorded */
	CHECK(queues[0].filter != NULL && queues[1].filter != NULL);
	CHECK(lc_filter_set_change(set, "udp port 53", err, sizeof(err)) == 0);
	CHECK(lc_filter_set_change(set, "port 99999", err, sizeof(err)) < 0);
	check_history(set, want, 2);
	CHECK(lc_filter_set_change(set, "  ", err, sizeof(err)) == 0);	/* no filter */
	CHECK(lc_filter_set_change(set, "ip and and", err, sizeof(err)) < 0);
	check_history(set, want, 3);
	CHECK(queues[0].filter == NULL && queues[1].filter == NULL);
	lc_filter_set_free(set);
}

/* Good and refused changes through lc_capture_set_filter (as /linecap/filter and SIGHUP
 * make them), then a file that was open all along is recorded: its filters are the eras of
 * the filter set, once each. */
static void
test_capture_custody(void)
{
	static const char *const steps[] = { "tcp", "hots 1.2.3.4", "udp port 53", "port 99999",
					     "hots 1.2.3.4", "tcp port 22", "ip and and" };
	struct lc_config cfg = { .snaplen = 262144, .format = "pcap" };
	char dir[] = "/tmp/lc_test_filter_set_XXXXXX", err[256], path[PATH_MAX];
	struct lc_capture cap;
	struct lc_closed_file *cf = calloc(1, sizeof(*cf));
	struct lc_outpath out;
	const struct lc_filter_era *h;
	unsigned int n, refused = 0;
	json_error_t je;
	json_t *rec = NULL, *filters;
	FILE *f;

	CHECK(cf != NULL && mkdtemp(dir) != NULL);
	CHECK(lc_outpath_init(&out, dir, NULL, err, sizeof(err)) == 0);
	memset(&cap, 0, sizeof(cap));
	cap.filters = lc_filter_set_create(rxq, NQ, SOCKET_ID_ANY, "interp", 262144);
	cap.custody = lc_custody_open(&cfg, &out, "net_null0", NULL, NULL, err, sizeof(err));
	CHECK(cap.filters != NULL && cap.custody != NULL);
	if (cf == NULL || cap.filters == NULL || cap.custody == NULL)
		return;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int rc = lc_capture_set_filter(&cap, steps[i], err, sizeof(err));

		refused += rc < 0;
		CHECK((rc < 0) == (strstr(steps[i], "hots") != NULL || strstr(steps[i], "99999") ||
				   strstr(steps[i], "and and")));
		/* The writers' file headers get the filter in force. */
		CHECK(cap.filter_now != NULL && strcmp(cap.filter_now, lc_filter_set_expr(
			cap.filters)) == 0);
		usleep(1000);		/* eras a millisecond apart */
	}
	CHECK_EQ_U64(refused, 4);
	h = lc_filter_set_history(cap.filters, &n);
	CHECK_EQ_U64(n, 3);

	/* A file open from before the first change to after the last one (custody takes cf). */
	snprintf(cf->path, sizeof(cf->path), "%s/x-q00-000001.pcap", dir);
	cf->seq = 1;
	cf->opened_ns = n ? h[0].since_ns - 1 : 0;
	cf->closed_ns = UINT64_MAX / 2;
	lc_custody_file_closed(cap.custody, cf);
	lc_custody_close(cap.custody);

	snprintf(path, sizeof(path), "%s/manifest.jsonl", dir);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f != NULL) {
		rec = json_loadf(f, JSON_DISABLE_EOF_CHECK, &je);
		fclose(f);
	}
	filters = json_object_get(rec, "filters");
	CHECK(json_is_array(filters));
	CHECK_EQ_U64(json_array_size(filters), n);	/* each era once, no copies */
	for (size_t i = 0; i < json_array_size(filters) && i < n; i++) {
		json_t *e = json_array_get(filters, i);

		CHECK(strcmp(json_string_value(json_object_get(e, "expression")),
			     h[i].expr) == 0);
		CHECK_EQ_U64(json_integer_value(json_object_get(e, "since_ns")), h[i].since_ns);
		if (i > 0)
			CHECK(h[i].since_ns > h[i - 1].since_ns);
	}
	char *text = json_dumps(filters, JSON_COMPACT);

	fprintf(stderr, "  filters: %s\n", text ? text : "(none)");
	free(text);
	json_decref(rec);
	lc_filter_set_free(cap.filters);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	lc_test_eal();
	for (unsigned int q = 0; q < NQ; q++)
		queues[q].queue_id = (uint16_t)q;
	test_set();
	test_capture_custody();
	return lc_test_done("test_filter_set");
}
