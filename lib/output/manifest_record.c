/* SPDX-License-Identifier: BSD-3-Clause */
/* The manifest record's schema: built and read back here only (manifest_record.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_record.h"

#define J(v) ((json_int_t)(v))

static json_t *
filters_json(const struct lc_manifest_record *r)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < r->nfilters; i++) {
		const struct lc_record_filter *f = &r->filters[i];

		if (json_array_append_new(a, json_pack("{s:s?, s:s?, s:I}", "expression",
							f->expression, "engine", f->engine,
							"since_ns", J(f->since_ns))) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The members every file record starts with ("file" first). */
static json_t *
file_head(const struct lc_manifest_record *r)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:i, s:i, s:s}", "file", r->file,
			 "sha256", r->sha256, "bytes", J(r->bytes), "packets", J(r->packets),
			 "first_ns", J(r->first_ns), "last_ns", J(r->last_ns), "queue", r->queue,
			 "seq", r->seq, "format", r->format);
}

static int
closed_tail(json_t *o, const struct lc_manifest_record *r)
{
	const struct lc_record_drops *d = &r->drops;
	json_t *filters = filters_json(r);
	json_t *t;
	int rc;

	if (filters == NULL)
		return -1;
	t = json_pack("{s:I, s:I, s:s, s:s, s:o, s:i, s:s, s:s, s:{s:I, s:I, s:I, s:I}, s:I, s:I}",
		      "opened_ns", J(r->opened_ns), "closed_ns", J(r->closed_ns), "host", r->host,
		      "port", r->port, "filters", filters, "snaplen", (int)r->snaplen,
		      "linecap", r->linecap, "clock", r->clock, "drops", "buffer_full",
		      J(d->buffer_full), "imissed", J(d->imissed), "rx_nombuf", J(d->rx_nombuf),
		      "write_errors", J(d->write_errors), "received", J(r->received),
		      "passed_filter", J(r->passed_filter));
	rc = t != NULL ? json_object_update(o, t) : -1;
	json_decref(t);
	if (rc == 0 && r->error != NULL)
		rc = json_object_set_new(o, "error", json_string(r->error));
	return rc;
}

static int
repaired_tail(json_t *o, const struct lc_manifest_record *r)
{
	json_t *t = json_pack("{s:b, s:I, s:I, s:s}", "repaired", 1, "cut_bytes", J(r->cut_bytes),
			      "repaired_ns", J(r->repaired_ns), "host", r->host);
	int rc = t != NULL ? json_object_update(o, t) : -1;

	json_decref(t);
	if (rc == 0 && r->recovered_from != NULL)
		rc = json_object_set_new(o, "recovered_from", json_string(r->recovered_from));
	return rc;
}

/* "index": what the record says of the file's index, when it says anything. */
static int
index_tail(json_t *o, const struct lc_manifest_record *r)
{
	json_t *t = NULL;

	if (r->index == LC_INDEX_WRITTEN && r->index_table_sha256[0] != '\0')
		t = json_pack("{s:s, s:I, s:s}", "sha256", r->index_sha256, "bytes",
			      J(r->index_bytes), "table_sha256", r->index_table_sha256);
	else if (r->index == LC_INDEX_WRITTEN)
		t = json_pack("{s:s, s:I}", "sha256", r->index_sha256, "bytes", J(r->index_bytes));
	else if (r->index == LC_INDEX_MISSING)
		t = json_pack("{s:s}", "missing", r->index_missing);
	else
		return 0;
	return t != NULL ? json_object_set_new(o, "index", t) : -1;
}

json_t *
lc_manifest_record_build(const struct lc_manifest_record *r)
{
	json_t *o;
	int rc;

	if (r->kind == LC_RECORD_RETIRED) {
		o = json_pack("{s:s, s:s, s:I, s:i, s:s, s:I, s:s}", "retired", r->file,
			      "sha256", r->sha256, "bytes", J(r->bytes), "queue", r->queue,
			      "reason", r->reason, "at_ns", J(r->at_ns), "host", r->host);
		/* The index deleted with the file (only a written one: LC_INDEX_WRITTEN). */
		rc = o == NULL ? -1 : r->index == LC_INDEX_WRITTEN ? index_tail(o, r) : 0;
	} else if (r->kind == LC_RECORD_FILE || r->kind == LC_RECORD_FAILED) {
		o = file_head(r);
		if (o == NULL)
			return NULL;
		rc = r->repaired ? repaired_tail(o, r) : closed_tail(o, r);
		if (rc == 0)
			rc = index_tail(o, r);
	} else {
		return NULL;
	}
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Reading back. */

struct rd {
	json_t *o;
	char *why;
	size_t whylen;
	int bad;		/* a reason was given */
	int oom;
};

static int
fail(struct rd *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct rd *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->bad) {
		va_start(ap, fmt);
		vsnprintf(d->why, d->whylen, fmt, ap);
		va_end(ap);
	}
	d->bad = 1;
	return -1;
}

static const char *
get_str(struct rd *d, json_t *o, const char *key, int optional)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL && optional)
		return NULL;
	if (!json_is_string(v)) {
		fail(d, v == NULL ? "no \"%s\"" : "\"%s\" is not a string", key);
		return NULL;
	}
	return json_string_value(v);
}

/* A non-negative integer member (a count, a time, a size). */
static uint64_t
get_u64(struct rd *d, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		fail(d, v == NULL ? "no \"%s\"" : "\"%s\" is not a count (an integer >= 0)", key);
		return 0;
	}
	return (uint64_t)json_integer_value(v);
}

/* queue, seq: an int, -1 for unknown. */
static int
get_int(struct rd *d, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	json_int_t x = json_is_integer(v) ? json_integer_value(v) : -2;

	if (x < -1 || x > INT_MAX) {
		fail(d, v == NULL ? "no \"%s\"" : "\"%s\" is not a number from -1 to %d", key,
		     INT_MAX);
		return -1;
	}
	return (int)x;
}

static void
get_hex(struct rd *d, json_t *o, const char *key, char out[65])
{
	const char *s = get_str(d, o, key, 0);

	out[0] = '\0';
	if (s == NULL)
		return;
	if (strlen(s) != 64 || strspn(s, "0123456789abcdef") != 64) {
		fail(d, "\"%s\" is not a SHA-256 (64 lower-case hex digits)", key);
		return;
	}
	memcpy(out, s, 65);
}

static void
get_drops(struct rd *d, struct lc_manifest_record *r)
{
	json_t *o = json_object_get(d->o, "drops");
	json_t *now, *old;

	if (!json_is_object(o)) {
		fail(d, o == NULL ? "no \"drops\"" : "\"drops\" is not an object");
		return;
	}
	now = json_object_get(o, "buffer_full");
	old = json_object_get(o, "ring");	/* its name before data path v2 */
	if (now != NULL && old != NULL) {
		fail(d, "\"drops\" has both \"buffer_full\" and its old name \"ring\"");
		return;
	}
	r->drops.buffer_full = get_u64(d, o, now != NULL || old == NULL ? "buffer_full" : "ring");
	r->drops.imissed = get_u64(d, o, "imissed");
	r->drops.rx_nombuf = get_u64(d, o, "rx_nombuf");
	r->drops.write_errors = get_u64(d, o, "write_errors");
}

static void
get_filters(struct rd *d, struct lc_manifest_record *r)
{
	json_t *a = json_object_get(d->o, "filters"), *f;
	size_t i;

	if (!json_is_array(a)) {
		fail(d, a == NULL ? "no \"filters\"" : "\"filters\" is not an array");
		return;
	}
	r->own_filters = calloc(json_array_size(a) + 1, sizeof(*r->own_filters));
	if (r->own_filters == NULL) {
		d->oom = 1;
		fail(d, "out of memory");
		return;
	}
	json_array_foreach(a, i, f) {
		struct lc_record_filter *x = &r->own_filters[i];
		json_t *e = json_object_get(f, "expression"), *g = json_object_get(f, "engine");

		if (!json_is_object(f) || (!json_is_null(e) && !json_is_string(e)) ||
		    (!json_is_null(g) && !json_is_string(g))) {
			fail(d, "\"filters\" item %zu is not {expression, engine, since_ns}", i);
			return;
		}
		x->expression = json_string_value(e);
		x->engine = json_string_value(g);
		x->since_ns = get_u64(d, f, "since_ns");
	}
	r->filters = r->own_filters;
	r->nfilters = json_array_size(a);
}

static void
get_closed(struct rd *d, struct lc_manifest_record *r)
{
	json_t *n = json_object_get(d->o, "snaplen");

	r->opened_ns = get_u64(d, d->o, "opened_ns");
	r->closed_ns = get_u64(d, d->o, "closed_ns");
	r->port = get_str(d, d->o, "port", 0);
	get_filters(d, r);
	if (!json_is_integer(n) || json_integer_value(n) < 0 || json_integer_value(n) > UINT32_MAX)
		fail(d, n == NULL ? "no \"snaplen\"" : "\"snaplen\" is not a snaplen");
	r->snaplen = (uint32_t)json_integer_value(n);
	r->linecap = get_str(d, d->o, "linecap", 0);
	r->clock = get_str(d, d->o, "clock", 0);
	get_drops(d, r);
	r->received = get_u64(d, d->o, "received");
	r->passed_filter = get_u64(d, d->o, "passed_filter");
	r->error = get_str(d, d->o, "error", 1);
}

/* "index", where the record has one. */
static void
get_index(struct rd *d, struct lc_manifest_record *r)
{
	json_t *o = json_object_get(d->o, "index");

	if (o == NULL)
		return;
	if (!json_is_object(o)) {
		fail(d, "\"index\" is not an object");
		return;
	}
	if (json_object_get(o, "missing") != NULL) {
		r->index = LC_INDEX_MISSING;
		r->index_missing = get_str(d, o, "missing", 0);
		return;
	}
	r->index = LC_INDEX_WRITTEN;
	get_hex(d, o, "sha256", r->index_sha256);
	r->index_bytes = get_u64(d, o, "bytes");
	if (json_object_get(o, "table_sha256") != NULL)
		get_hex(d, o, "table_sha256", r->index_table_sha256);
}

static void
get_file(struct rd *d, struct lc_manifest_record *r)
{
	json_t *rep = json_object_get(d->o, "repaired");

	r->file = get_str(d, d->o, "file", 0);
	get_hex(d, d->o, "sha256", r->sha256);
	r->bytes = get_u64(d, d->o, "bytes");
	r->packets = get_u64(d, d->o, "packets");
	r->first_ns = get_u64(d, d->o, "first_ns");
	r->last_ns = get_u64(d, d->o, "last_ns");
	r->queue = get_int(d, d->o, "queue");
	r->seq = get_int(d, d->o, "seq");
	r->format = get_str(d, d->o, "format", 0);
	r->host = get_str(d, d->o, "host", 0);
	if (rep != NULL && !json_is_true(rep)) {
		fail(d, "\"repaired\" is not true");
		return;
	}
	r->repaired = rep != NULL;
	if (r->repaired) {
		r->cut_bytes = get_u64(d, d->o, "cut_bytes");
		r->repaired_ns = get_u64(d, d->o, "repaired_ns");
		r->recovered_from = get_str(d, d->o, "recovered_from", 1);
		if (json_object_get(d->o, "error") != NULL)
			fail(d, "a repaired file with an \"error\"");
	} else {
		get_closed(d, r);
	}
	get_index(d, r);
	r->kind = r->error != NULL ? LC_RECORD_FAILED : LC_RECORD_FILE;
}

static void
get_retired(struct rd *d, struct lc_manifest_record *r)
{
	r->kind = LC_RECORD_RETIRED;
	r->file = get_str(d, d->o, "retired", 0);
	get_hex(d, d->o, "sha256", r->sha256);
	r->bytes = get_u64(d, d->o, "bytes");
	r->queue = get_int(d, d->o, "queue");
	r->reason = get_str(d, d->o, "reason", 0);
	r->at_ns = get_u64(d, d->o, "at_ns");
	r->host = get_str(d, d->o, "host", 0);
	get_index(d, r);
	if (r->index == LC_INDEX_MISSING)
		fail(d, "a retirement's \"index\" says \"missing\"");
}

int
lc_manifest_record_parse(const char *line, size_t len, struct lc_manifest_record *r,
			 char *why, size_t whylen)
{
	struct rd d = { .why = why, .whylen = whylen };
	json_error_t jerr;

	memset(r, 0, sizeof(*r));
	d.o = json_loadb(line, len, 0, &jerr);
	if (d.o == NULL)
		fail(&d, "not JSON: %s (column %d)", jerr.text, jerr.column);
	else if (!json_is_object(d.o))
		fail(&d, "not a JSON object");
	else if (json_object_get(d.o, "file") != NULL)
		get_file(&d, r);
	else if (json_object_get(d.o, "retired") != NULL)
		get_retired(&d, r);
	else
		fail(&d, "neither a file's record (\"file\") nor a retirement (\"retired\")");
	if (!d.bad)
		get_hex(&d, d.o, "prev", r->prev);
	r->json = d.o;
	if (d.bad) {
		lc_manifest_record_release(r);
		return d.oom ? -ENOMEM : -EINVAL;
	}
	return 0;
}

void
lc_manifest_record_release(struct lc_manifest_record *r)
{
	json_decref(r->json);
	free(r->own_filters);
	memset(r, 0, sizeof(*r));
}

enum lc_record_kind
lc_manifest_record_kind(const struct lc_manifest_fields *f)
{
	if (!f->object)
		return LC_RECORD_OTHER;
	if (f->file != NULL && !f->error)
		return LC_RECORD_FILE;
	if (f->retired != NULL)
		return LC_RECORD_RETIRED;
	return f->file != NULL ? LC_RECORD_FAILED : LC_RECORD_OTHER;
}

int
lc_manifest_record_cut_name(const char *head, char name[NAME_MAX + 1])
{
	int named = 0;	/* the name whole, its closing quote written too */

	/* {"file":"NAME", as lc_manifest_record_build writes it: a plain name, no escapes. */
	if (sscanf(head, "{\"file\":\"%255[^\"\\]\"%n", name, &named) != 1 || named == 0)
		return -1;
	return lc_manifest_name_ok(name) ? 0 : -1;
}
