/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "linecap/outpath.h"
#include "linecap/stats.h"

int
lc_stats_uneven(const uint64_t *delta, unsigned int n, uint64_t min_packets,
		unsigned int *worst, double *share)
{
	uint64_t total = 0;
	unsigned int hi = 0, lo = 0;

	if (n < 2)
		return 0;
	for (unsigned int q = 0; q < n; q++) {
		total += delta[q];
		hi = delta[q] > delta[hi] ? q : hi;
		lo = delta[q] < delta[lo] ? q : lo;
	}
	if (total == 0 || total < min_packets)
		return 0;
	/* Shares times n: 1 is the fair share. */
	if ((double)delta[hi] * n / (double)total > 2.0)
		*worst = hi;
	else if ((double)delta[lo] * n / (double)total < 0.25)
		*worst = lo;
	else
		return 0;
	*share = (double)delta[*worst] / (double)total;
	return 1;
}

void
lc_stats_sum(struct lc_stats *s)
{
	s->received = s->passed = s->filtered = s->buffer_full = 0;
	s->written = s->written_bytes = s->write_errors = s->files = 0;
	s->rx_cycles = s->writer_cycles = s->writer_wait_cycles = 0;
	s->io_hash_cycles = s->io_write_cycles = 0;
	for (unsigned int i = 0; i < s->nq; i++) {
		const struct lc_queue_stats *q = &s->q[i];

		s->received += q->received;
		s->passed += q->passed;
		s->filtered += q->filtered;
		s->buffer_full += q->buffer_full;
		s->written += q->written;
		s->written_bytes += q->written_bytes;
		s->write_errors += q->write_errors;
		s->files += q->files;
		s->rx_cycles += q->rx_cycles;
		s->writer_cycles += q->writer_cycles;
		s->writer_wait_cycles += q->writer_wait_cycles;
		s->io_hash_cycles += q->io_hash_cycles;
		s->io_write_cycles += q->io_write_cycles;
	}
}

static double
rate(uint64_t now, uint64_t before, double dt)
{
	return dt > 0 && now >= before ? (double)(now - before) / dt : 0.0;
}

void
lc_stats_format_status(char *buf, size_t len, const struct lc_stats *now,
		       const struct lc_stats *prev, double dt)
{
	snprintf(buf, len,
		 "linecap: %.0fs received %" PRIu64 " (%.2f Mpps) passed %" PRIu64
		 " written %" PRIu64 " (%.1f MB/s) drops: buffer %" PRIu64 " imissed %" PRIu64
		 " nombuf %" PRIu64,
		 now->seconds, now->received,
		 rate(now->received, prev->received, dt) / 1e6, now->passed, now->written,
		 rate(now->written_bytes, prev->written_bytes, dt) / 1e6, now->buffer_full,
		 now->imissed, now->rx_nombuf);
	if (now->read_total != 0) {	/* -r: how far into the files */
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, " read %.0f%% of %.1f MB",
			 100.0 * (double)now->read_bytes / (double)now->read_total,
			 (double)now->read_total / 1e6);
	}
}

/* 2026-11-26T14:30:01.123456789Z */
static void
iso_time(uint64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned int)(ns % 1000000000ull));
}

static void
print_filters(FILE *f, const struct lc_stats *s)
{
	char when[64];

	if (s->nfilters <= 1)
		return;		/* one filter all along: the start-up line said it */
	fprintf(f, "filters in force:\n");
	for (unsigned int i = 0; i < s->nfilters; i++) {
		iso_time(s->filters[i].since_ns, when, sizeof(when));
		if (s->filters[i].expr != NULL)
			fprintf(f, "  from %s  '%s' (%s)\n", when, s->filters[i].expr,
				s->filters[i].engine);
		else
			fprintf(f, "  from %s  no filter\n", when);
	}
}

/* --feed: per feed, then its clients (the open ones, then the last that ended). */
static void
print_feeds(FILE *f, const struct lc_stats *s)
{
	for (unsigned int i = 0; i < s->nfeeds; i++) {
		const struct lc_feed_stats *d = &s->feeds[i];

		fprintf(f, "feed %s%s%s%s: %" PRIu64 " packets sent to %" PRIu64 " client%s (%"
			PRIu64 " refused); %" PRIu64 " feed drop%s (%" PRIu64 " before any "
			"client's buffer: the feed thread fell behind; the rest with a client's "
			"buffer= full); %" PRIu64 " unsent when clients left\n", d->name,
			d->filter[0] ? " '" : "", d->filter, d->filter[0] ? "'" : "", d->sent,
			d->clients, d->clients == 1 ? "" : "s", d->refused, d->drops,
			d->drops == 1 ? "" : "s", d->ring_drops, d->unsent);
		for (unsigned int k = 0; k < d->nshown; k++)
			fprintf(f, "  client %s: %" PRIu64 " packets sent, %" PRIu64 " feed drop%s, "
				"%" PRIu64 " unsent when it left, %s\n", d->shown[k].peer,
				d->shown[k].sent, d->shown[k].drops,
				d->shown[k].drops == 1 ? "" : "s", d->shown[k].unsent,
				d->shown[k].connected ? "connected" : d->shown[k].ended);
	}
}

/* --feed, for the stats file. */
static json_t *
feeds_json(const struct lc_stats *s)
{
	json_t *a = json_array();

	for (unsigned int i = 0; i < s->nfeeds; i++) {
		const struct lc_feed_stats *d = &s->feeds[i];
		json_t *cl = json_array();

		for (unsigned int k = 0; k < d->nshown; k++)
			json_array_append_new(cl, json_pack("{s:s, s:I, s:I, s:I, s:I, s:b, s:s}",
				"peer", d->shown[k].peer, "sent", (json_int_t)d->shown[k].sent,
				"sent_bytes", (json_int_t)d->shown[k].sent_bytes,
				"feed_drops", (json_int_t)d->shown[k].drops,
				"unsent_at_close", (json_int_t)d->shown[k].unsent,
				"connected", d->shown[k].connected, "ended", d->shown[k].ended));
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
			"s:I, s:I, s:o}", "feed", d->name, "filter", d->filter,
			"unsent_at_close", (json_int_t)d->unsent,
			"offered", (json_int_t)d->offered, "sent", (json_int_t)d->sent,
			"sent_bytes", (json_int_t)d->sent_bytes, "feed_drops", (json_int_t)d->drops,
			"ring_drops", (json_int_t)d->ring_drops, "clients", (json_int_t)d->clients,
			"clients_now", (json_int_t)d->clients_now, "refused", (json_int_t)d->refused,
			"client_list", cl));
	}
	return a;
}

void
lc_stats_print_summary(FILE *f, const struct lc_stats *s)
{
	fprintf(f, "%-6s %14s %14s %14s %12s %14s %14s\n", "queue", "received", "passed",
		"filtered-out", "buffer-full", "written", "bytes");
	for (unsigned int i = 0; i < s->nq; i++) {
		const struct lc_queue_stats *q = &s->q[i];

		fprintf(f, "q%02u    %14" PRIu64 " %14" PRIu64 " %14" PRIu64 " %12" PRIu64
			" %14" PRIu64 " %14" PRIu64 "\n", q->queue, q->received, q->passed,
			q->filtered, q->buffer_full, q->written, q->written_bytes);
	}
	fprintf(f, "%" PRIu64 " packets received in %.3f s (%.2f Mpps)\n", s->received,
		s->seconds, s->seconds > 0 ? (double)s->received / s->seconds / 1e6 : 0.0);
	fprintf(f, "%" PRIu64 " packets passed the filter, %" PRIu64 " filtered out\n",
		s->passed, s->filtered);
	fprintf(f, "%" PRIu64 " packets written (%" PRIu64 " bytes in %" PRIu64 " file%s)\n",
		s->written, s->written_bytes, s->files, s->files == 1 ? "" : "s");
	fprintf(f, "%" PRIu64 " packets dropped because a queue's buffer was full\n", s->buffer_full);
	if (s->write_errors)
		fprintf(f, "%" PRIu64 " packets lost to write errors\n", s->write_errors);
	fprintf(f, "%" PRIu64 " packets dropped by the port (imissed), %" PRIu64
		" for want of buffers (rx_nombuf), %" PRIu64 " errors (ierrors)\n", s->imissed,
		s->rx_nombuf, s->ierrors);
	if (s->received) {
		double w = s->written ? (double)s->written : 1.0;

		fprintf(f, "cost: RX stage %.1f TSC cycles/packet received (formatting included); "
			"writer %.1f cycles/packet written (%.1f of CPU copying records and "
			"polling, %.1f waiting for the disk); I/O threads %.1f of CPU hashing "
			"(SHA-256), %.1f in write calls\n",
			(double)s->rx_cycles / (double)s->received, (double)s->writer_cycles / w,
			(double)(s->writer_cycles - s->writer_wait_cycles) / w,
			(double)s->writer_wait_cycles / w, (double)s->io_hash_cycles / w,
			(double)s->io_write_cycles / w);
	}
	if (s->ts_source != NULL && strcmp(s->ts_source, "file") == 0)
		fprintf(f, "timestamps: each packet's own, from the files read (-r)\n");
	else if (s->ts_source != NULL)
		fprintf(f, "timestamps: %s, re-anchored to CLOCK_REALTIME %" PRIu64 " time%s: "
			"largest offset met %.1f us, %" PRIu64 " step%s\n",
			strcmp(s->ts_source, "hw") == 0 ? "the port's clock" : "TSC",
			s->clock_refreshes, s->clock_refreshes == 1 ? "" : "s",
			(double)s->clock_max_offset_ns / 1e3, s->clock_steps,
			s->clock_steps == 1 ? "" : "s");
	if (s->postrotate)
		fprintf(f, "-z: %" PRIu64 " run, %" PRIu64 " failed, %" PRIu64 " timed out\n",
			s->postrotate_run, s->postrotate_failed, s->postrotate_timed_out);
	print_feeds(f, s);
	print_filters(f, s);
}

/* The per-queue rows, for the stats file. */
static json_t *
queues_json(const struct lc_stats *s)
{
	json_t *queues = json_array();

	for (unsigned int i = 0; i < s->nq; i++) {
		const struct lc_queue_stats *q = &s->q[i];

		json_array_append_new(queues, json_pack(
			"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			"queue", (json_int_t)q->queue,
			"received", (json_int_t)q->received,
			"passed_filter", (json_int_t)q->passed,
			"filtered_out", (json_int_t)q->filtered,
			"buffer_full", (json_int_t)q->buffer_full,
			"written", (json_int_t)q->written,
			"written_bytes", (json_int_t)q->written_bytes,
			"write_errors", (json_int_t)q->write_errors,
			"files", (json_int_t)q->files));
	}
	return queues;
}

/* Every filter in force and since when, for the stats file. */
static json_t *
filters_json(const struct lc_stats *s)
{
	json_t *filters = json_array();

	for (unsigned int i = 0; i < s->nfilters; i++) {
		char when[64];

		iso_time(s->filters[i].since_ns, when, sizeof(when));
		json_array_append_new(filters, json_pack("{s:s?, s:s?, s:I, s:s}",
			"expression", s->filters[i].expr, "engine", s->filters[i].engine,
			"since_ns", (json_int_t)s->filters[i].since_ns, "since", when));
	}
	return filters;
}

int
lc_stats_write_json(const char *path, const struct lc_stats *s, char *err, size_t errlen)
{
	json_t *root = json_object();
	int rc = 0;

	json_object_set_new(root, "received", json_integer((json_int_t)s->received));
	json_object_set_new(root, "passed_filter", json_integer((json_int_t)s->passed));
	json_object_set_new(root, "filtered_out", json_integer((json_int_t)s->filtered));
	json_object_set_new(root, "buffer_full", json_integer((json_int_t)s->buffer_full));
	json_object_set_new(root, "written", json_integer((json_int_t)s->written));
	json_object_set_new(root, "written_bytes", json_integer((json_int_t)s->written_bytes));
	json_object_set_new(root, "write_errors", json_integer((json_int_t)s->write_errors));
	json_object_set_new(root, "files", json_integer((json_int_t)s->files));
	json_object_set_new(root, "imissed", json_integer((json_int_t)s->imissed));
	json_object_set_new(root, "rx_nombuf", json_integer((json_int_t)s->rx_nombuf));
	json_object_set_new(root, "ierrors", json_integer((json_int_t)s->ierrors));
	json_object_set_new(root, "seconds", json_real(s->seconds));
	if (s->ts_source != NULL)
		json_object_set_new(root, "timestamps", json_pack(
			"{s:s, s:I, s:I, s:I}", "source", s->ts_source,
			"refreshes", (json_int_t)s->clock_refreshes,
			"steps", (json_int_t)s->clock_steps,
			"max_offset_ns", (json_int_t)s->clock_max_offset_ns));
	json_object_set_new(root, "rx_cycles_per_packet", json_real(s->received ?
		(double)s->rx_cycles / (double)s->received : 0.0));
	json_object_set_new(root, "writer_cycles_per_packet", json_real(s->written ?
		(double)s->writer_cycles / (double)s->written : 0.0));
	json_object_set_new(root, "writer_wait_cycles_per_packet", json_real(s->written ?
		(double)s->writer_wait_cycles / (double)s->written : 0.0));
	json_object_set_new(root, "io_hash_cycles_per_packet", json_real(s->written ?
		(double)s->io_hash_cycles / (double)s->written : 0.0));
	json_object_set_new(root, "io_write_cycles_per_packet", json_real(s->written ?
		(double)s->io_write_cycles / (double)s->written : 0.0));
	json_object_set_new(root, "queues", queues_json(s));
	if (s->nfeeds != 0)
		json_object_set_new(root, "feeds", feeds_json(s));
	if (s->postrotate) {
		json_object_set_new(root, "postrotate_run", json_integer((json_int_t)s->postrotate_run));
		json_object_set_new(root, "postrotate_failed",
				    json_integer((json_int_t)s->postrotate_failed));
		json_object_set_new(root, "postrotate_timed_out",
				    json_integer((json_int_t)s->postrotate_timed_out));
	}
	json_object_set_new(root, "filters", filters_json(s));
	/* A new file renamed into place: never written through a link planted at path. */
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	} else {
		rc = lc_outpath_file_replace(path, text, strlen(text), err, errlen);
		free(text);
	}
	json_decref(root);
	return rc;
}
