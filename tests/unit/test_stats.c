/* SPDX-License-Identifier: BSD-3-Clause */
/* Stats: totals from queue rows, the JSON file scripts read (keys and values), the summary. */
#include <jansson.h>
#include <unistd.h>

#include "lc_test.h"

#include "linecap/prometheus.h"
#include "linecap/stats.h"

/* The RSS balance judgement behind the uneven-load warning. */
static void
test_uneven(void)
{
	const uint64_t even[4] = { 2500, 2600, 2400, 2500 };
	const uint64_t hot[4] = { 8000, 700, 700, 600 };	/* queue 0: 80% of 4 queues */
	const uint64_t cold[4] = { 3300, 3300, 3300, 100 };	/* queue 3: 1% */
	const uint64_t few[4] = { 90, 1, 1, 1 };		/* too few packets to judge */
	unsigned int worst = 99;
	double share = 0;

	CHECK(!lc_stats_uneven(even, 4, 1000, &worst, &share));
	CHECK(lc_stats_uneven(hot, 4, 1000, &worst, &share));
	CHECK_EQ_U64(worst, 0);
	CHECK(share > 0.79 && share < 0.81);
	CHECK(lc_stats_uneven(cold, 4, 1000, &worst, &share));
	CHECK_EQ_U64(worst, 3);
	CHECK(!lc_stats_uneven(few, 4, 1000, &worst, &share));
	CHECK(!lc_stats_uneven(hot, 1, 1000, &worst, &share));	/* one queue: nothing to spread */
}

/* Prometheus text: every per-queue counter labelled, drops by reason, HELP/TYPE lines. */
static void
test_prometheus(void)
{
	static struct lc_live l;
	char *text = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&text, &size);

	l.now.nq = 2;
	l.now.q[1].received = 123;
	l.now.q[1].written_bytes = 4567;
	l.now.imissed = 9;
	l.buffer_used[0] = 17u << 20;
	l.buffer_size = 256u << 20;
	l.bytes_on_disk = 99;
	lc_prometheus_format(mem, &l);
	fclose(mem);
	CHECK_STR_HAS(text, "# TYPE linecap_received_packets_total counter\n");
	CHECK_STR_HAS(text, "linecap_received_packets_total{queue=\"1\"} 123\n");
	CHECK_STR_HAS(text, "linecap_received_packets_total{queue=\"0\"} 0\n");
	CHECK_STR_HAS(text, "linecap_written_bytes_total{queue=\"1\"} 4567\n");
	CHECK_STR_HAS(text, "linecap_buffer_used_bytes{queue=\"0\"} 17825792\n");
	CHECK_STR_HAS(text, "linecap_buffer_size_bytes 268435456\n");
	CHECK_STR_HAS(text, "linecap_port_drops_total{reason=\"imissed\"} 9\n");
	CHECK_STR_HAS(text, "linecap_bytes_on_disk 99\n");
	/* Every sample line is NAME{labels} VALUE or NAME VALUE. */
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		CHECK(line[0] == '#' || (strncmp(line, "linecap_", 8) == 0 && strchr(line, ' ')));
	free(text);
}

/* The status line; with -r, how far into the files. */
static void
test_status(void)
{
	struct lc_stats now = { .seconds = 3, .received = 3000000, .written = 2000000 };
	struct lc_stats prev = { .received = 1000000 };
	char line[512];

	lc_stats_format_status(line, sizeof(line), &now, &prev, 2.0);
	CHECK_STR_HAS(line, "linecap: 3s received 3000000 (1.00 Mpps) passed 0 written 2000000");
	CHECK(strstr(line, " read ") == NULL);
	now.read_total = 4000000000ull;
	now.read_bytes = 1000000000ull;
	lc_stats_format_status(line, sizeof(line), &now, &prev, 2.0);
	CHECK_STR_HAS(line, " read 25% of 4000.0 MB");
}

int
main(void)
{
	test_uneven();
	test_prometheus();
	test_status();
	struct lc_stats s = { .nq = 2, .imissed = 3, .rx_nombuf = 4, .ierrors = 5, .seconds = 2.5 };
	char path[] = "/tmp/lc_test_stats_XXXXXX", err[512], *text = NULL;
	size_t size = 0;
	json_error_t jerr;
	json_t *root;
	FILE *mem;
	int fd = mkstemp(path);

	s.q[0] = (struct lc_queue_stats){ .queue = 0, .received = 100, .passed = 40,
					  .filtered = 60, .buffer_full = 5, .written = 35,
					  .written_bytes = 3500, .files = 1 };
	s.q[1] = (struct lc_queue_stats){ .queue = 1, .received = 10, .passed = 10,
					  .buffer_full = 0, .written = 10, .written_bytes = 1000,
					  .files = 1 };
	lc_stats_sum(&s);
	CHECK_EQ_U64(s.received, 110);
	CHECK_EQ_U64(s.passed, 50);
	CHECK_EQ_U64(s.filtered, 60);
	CHECK_EQ_U64(s.buffer_full, 5);
	CHECK_EQ_U64(s.written, 45);
	CHECK_EQ_U64(s.written_bytes, 4500);

	close(fd);
	CHECK(lc_stats_write_json(path, &s, err, sizeof(err)) == 0);
	root = json_load_file(path, 0, &jerr);
	CHECK(root != NULL);
	if (root != NULL) {
		const char *keys[] = { "received", "passed_filter", "filtered_out", "buffer_full",
				       "written", "written_bytes", "write_errors", "imissed",
				       "rx_nombuf", "ierrors" };
		const uint64_t want[] = { 110, 50, 60, 5, 45, 4500, 0, 3, 4, 5 };

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			CHECK_EQ_U64(json_integer_value(json_object_get(root, keys[i])), want[i]);
		CHECK(json_real_value(json_object_get(root, "seconds")) == 2.5);
		json_t *qs = json_object_get(root, "queues");
		CHECK(json_array_size(qs) == 2);
		CHECK_EQ_U64(json_integer_value(json_object_get(json_array_get(qs, 0),
								"buffer_full")), 5);
		CHECK_EQ_U64(json_integer_value(json_object_get(json_array_get(qs, 1), "queue")),
			     1);
		json_decref(root);
	}
	unlink(path);
	CHECK(lc_stats_write_json("/nonexistent/dir/s.json", &s, err, sizeof(err)) < 0);
	CHECK_STR_HAS(err, "/nonexistent/dir/s.json");

	mem = open_memstream(&text, &size);
	lc_stats_print_summary(mem, &s);
	fclose(mem);
	CHECK_STR_HAS(text, "110 packets received in 2.500 s");
	CHECK_STR_HAS(text, "50 packets passed the filter, 60 filtered out");
	CHECK_STR_HAS(text, "45 packets written (4500 bytes in 2 files)");
	CHECK_STR_HAS(text, "5 packets dropped because a queue's buffer was full");
	CHECK_STR_HAS(text, "3 packets dropped by the port (imissed), 4 for want of buffers");
	CHECK_STR_HAS(text, "q01");
	free(text);
	return lc_test_done("test_stats");
}
