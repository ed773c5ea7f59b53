/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lc_version.h"
#include "linecap/custody.h"
#include "linecap/log.h"
#include "linecap/manifest.h"
#include "linecap/retention.h"

struct lc_custody {
	struct lc_manifest *manifest;
	struct lc_retention retention;
	const struct lc_filter_set *filters;
	char host[256];
	char port[128];
	uint32_t snaplen;
	const char *format;
	uint64_t recorded, retired;
};

static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *
base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

struct lc_custody *
lc_custody_open(const struct lc_config *cfg, const struct lc_outpath *out, const char *port,
		const struct lc_filter_set *filters, char *err, size_t errlen)
{
	struct lc_custody *c = calloc(1, sizeof(*c));
	char path[PATH_MAX];

	if (c == NULL) {
		errno = ENOMEM;
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	lc_outpath_manifest(out, path, sizeof(path));
	c->manifest = lc_manifest_open(path, err, errlen);
	if (c->manifest == NULL) {
		free(c);
		return NULL;
	}
	lc_retention_init(&c->retention, cfg->max_files, cfg->retain_bytes);
	c->filters = filters;
	if (gethostname(c->host, sizeof(c->host) - 1) != 0)
		snprintf(c->host, sizeof(c->host), "unknown");
	snprintf(c->port, sizeof(c->port), "%s", port);
	c->snaplen = cfg->snaplen;
	c->format = cfg->format;
	return c;
}

/* The filters in force at some time in [from, to]. */
static json_t *
filters_between(const struct lc_custody *c, uint64_t from, uint64_t to)
{
	unsigned int n;
	const struct lc_filter_era *h = lc_filter_set_history(c->filters, &n);
	json_t *a = json_array();

	for (unsigned int i = 0; i < n; i++) {
		uint64_t until = i + 1 < n ? h[i + 1].since_ns : UINT64_MAX;

		if (h[i].since_ns <= to && until > from)
			json_array_append_new(a, json_pack("{s:s?, s:s?, s:I}", "expression",
				h[i].expr, "engine", h[i].engine, "since_ns",
				(json_int_t)h[i].since_ns));
	}
	return a;
}

static void
append(struct lc_custody *c, json_t *rec)
{
	char err[LC_ERRLEN];

	if (lc_manifest_append(c->manifest, rec, err, sizeof(err)) < 0)
		LC_LOG_RL(ERR, "%s", err);
	json_decref(rec);
}

void
lc_custody_file_closed(struct lc_custody *c, struct lc_closed_file *cf)
{
	char hex[2 * LC_SHA256_LEN + 1];
	json_t *rec;

	lc_sha256_hex(cf->sha256, hex);
	rec = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:i, s:i, s:s, s:I, s:I, s:s, s:s, "
			"s:o, s:i, s:s, s:s, s:{s:I, s:I, s:I, s:I}, s:I, s:I}",
		"file", base(cf->path), "sha256", hex,
		"bytes", (json_int_t)cf->bytes, "packets", (json_int_t)cf->packets,
		"first_ns", (json_int_t)cf->first_ns, "last_ns", (json_int_t)cf->last_ns,
		"queue", (int)cf->queue, "seq", (int)cf->seq, "format", c->format,
		"opened_ns", (json_int_t)cf->opened_ns, "closed_ns", (json_int_t)cf->closed_ns,
		"host", c->host, "port", c->port,
		"filters", filters_between(c, cf->opened_ns, cf->closed_ns),
		"snaplen", (int)c->snaplen, "linecap", LC_VERSION, "clock", "tsc",
		"drops", "ring", (json_int_t)cf->ring_drops, "imissed", (json_int_t)cf->imissed,
		"rx_nombuf", (json_int_t)cf->rx_nombuf, "write_errors",
		(json_int_t)cf->write_errors,
		"received", (json_int_t)cf->received, "passed_filter", (json_int_t)cf->passed);
	if (cf->rc != 0)
		json_object_set_new(rec, "error", json_string(strerror(-cf->rc)));
	append(c, rec);
	c->recorded++;
	if (cf->rc == 0)
		lc_retention_add(&c->retention, cf->path, cf->queue, cf->bytes, hex);
	free(cf);
}

void
lc_custody_retain(struct lc_custody *c, uint64_t open_bytes, const unsigned int *open)
{
	const char *why;
	long i;

	while ((i = lc_retention_pick(&c->retention, open_bytes + lc_manifest_size(c->manifest),
				      open, &why)) >= 0) {
		struct lc_kept_file *f = &c->retention.files[i];
		json_t *rec;

		if (unlink(f->path) != 0 && errno != ENOENT) {
			LC_LOG_RL(ERR, "retention: cannot delete %s: %s", f->path, strerror(errno));
			return;
		}
		rec = json_pack("{s:s, s:s, s:I, s:i, s:s, s:I, s:s}", "retired", base(f->path),
				"sha256", f->sha256, "bytes", (json_int_t)f->bytes, "queue",
				(int)f->queue, "reason", why, "at_ns", (json_int_t)realtime_ns(),
				"host", c->host);
		append(c, rec);
		c->retired++;
		lc_retention_remove(&c->retention, (size_t)i);
	}
}

void
lc_custody_counts(const struct lc_custody *c, uint64_t *recorded, uint64_t *retired)
{
	*recorded = c->recorded;
	*retired = c->retired;
}

size_t
lc_custody_manifest_bytes(const struct lc_custody *c)
{
	return lc_manifest_size(c->manifest);
}

void
lc_custody_close(struct lc_custody *c)
{
	if (c == NULL)
		return;
	lc_manifest_close(c->manifest);
	lc_retention_free(&c->retention);
	free(c);
}
