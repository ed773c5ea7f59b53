/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef LINECAP_MANIFEST_RECORD_H
#define LINECAP_MANIFEST_RECORD_H

/*
 * The schema of a manifest line, in one place: what a record holds, how it is written as
 * JSON (lc_manifest_record_build: the capture's custody and linecap-verify --repair) and
 * how it is read back (lc_manifest_record_parse, strictly, with a reason; and
 * lc_manifest_record_kind over the fast line reader's fields, for scans of long manifests).
 *
 * Three kinds of line:
 *  - a file a capture closed: file, sha256, bytes, packets, first_ns, last_ns, queue, seq,
 *    format, opened_ns, closed_ns, host, port, filters [{expression, engine, since_ns}],
 *    snaplen, linecap, clock, drops {buffer_full, imissed, rx_nombuf, write_errors},
 *    received, passed_filter, and "error" when its closing failed (LC_RECORD_FAILED);
 *    then "index": {"sha256", "bytes"} of NAME.idx, or {"missing": why} (none before the
 *    index came: such a file is read whole);
 *  - a file linecap-verify --repair recorded: file, sha256, bytes, packets, first_ns,
 *    last_ns, queue, seq, format, repaired (true), cut_bytes, repaired_ns, host, and
 *    recovered_from (the manifest's cut line it was the record of) when there is one,
 *    and "index" as above;
 *  - a file retention retired: retired, sha256, bytes, queue, reason, at_ns, host, and
 *    "index": {"sha256", "bytes"} when its index (NAME.idx) is deleted with it: the one
 *    its file's record names (retention deletes NAME.idx only when it is a regular file).
 * Every line ends with "prev" (lc_manifest_append sets it). Members are written in that
 * order ("file" first: a line cut by a crash still names its file, lc_manifest_record_cut_name).
 * The drops member for a full buffer was "ring" before data path v2: read as buffer_full.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "linecap/manifest.h"

enum lc_record_kind {
	LC_RECORD_OTHER = 0,	/* not a record linecap writes (or not an object) */
	LC_RECORD_FILE,		/* a file closed (or repaired) and kept */
	LC_RECORD_FAILED,	/* a file whose closing failed ("error"): not kept */
	LC_RECORD_RETIRED,	/* a file retention deleted */
};

struct lc_record_filter {
	const char *expression;	/* NULL: none (everything kept) */
	const char *engine;	/* "jit", "interp", or NULL */
	uint64_t since_ns;
};

struct lc_record_drops {
	uint64_t buffer_full;	/* a per-queue buffer (before v2: the ring) was full */
	uint64_t imissed, rx_nombuf, write_errors;
};

/* One manifest line. Strings are borrowed: the builder's caller owns them; after
 * lc_manifest_record_parse they live until lc_manifest_record_release. */
struct lc_manifest_record {
	enum lc_record_kind kind;
	const char *file;	/* FILE, FAILED: the file; RETIRED: the file retired */
	char sha256[65];	/* lower-case hex */
	uint64_t bytes, packets, first_ns, last_ns;
	int queue, seq;		/* -1: unknown (a repaired file whose name has none) */
	const char *format;	/* "pcap", "pcapng" */
	const char *host;
	/* A file a capture closed (repaired == 0). */
	uint64_t opened_ns, closed_ns;
	const char *port;
	const struct lc_record_filter *filters;
	size_t nfilters;
	uint32_t snaplen;
	const char *linecap, *clock;
	struct lc_record_drops drops;
	uint64_t received, passed_filter;
	const char *error;	/* FAILED: why its closing failed */
	/* A file linecap-verify --repair recorded. */
	int repaired;
	uint64_t cut_bytes, repaired_ns;
	const char *recovered_from;	/* NULL, or the manifest's cut line it was the record of */
	/* FILE, FAILED: its index (NAME.idx beside it). LC_INDEX_WRITTEN: index_sha256 and
	 * index_bytes; LC_INDEX_MISSING: index_missing says why there is none. RETIRED:
	 * LC_INDEX_WRITTEN when the index is deleted with the file (never MISSING). */
	enum lc_record_index { LC_INDEX_UNRECORDED = 0, LC_INDEX_WRITTEN, LC_INDEX_MISSING } index;
	char index_sha256[65];
	char index_table_sha256[65];	/* of its header and flow table; "" when not recorded */
	uint64_t index_bytes;
	const char *index_missing;
	/* RETIRED. */
	const char *reason;
	uint64_t at_ns;
	/* Read back only. */
	char prev[65];
	json_t *json;		/* holds the parsed strings */
	struct lc_record_filter *own_filters;
};

/*
 * The JSON object of r (without "prev": lc_manifest_append adds it), the members in the
 * schema's order. A new reference, or NULL (out of memory, or r->kind is LC_RECORD_OTHER).
 */
json_t *lc_manifest_record_build(const struct lc_manifest_record *r);

/*
 * Read one manifest line (len bytes, no newline) strictly: a JSON object of one of the three
 * kinds, every member of its kind there with its type (counts are non-negative integers,
 * sha256 and prev 64 hex digits), "drops" with buffer_full (or its old name "ring", not
 * both). Members the schema does not know are allowed (a later linecap may add some).
 * 0 with r filled (release it), or -EINVAL with the reason in why (r left empty) and
 * -ENOMEM.
 */
int lc_manifest_record_parse(const char *line, size_t len, struct lc_manifest_record *r,
			     char *why, size_t whylen);

/* Free what lc_manifest_record_parse kept. Accepts an empty record. */
void lc_manifest_record_release(struct lc_manifest_record *r);

/* The kind of a line read by the fast reader (lc_manifest_scan): FILE (a "file" and no
 * "error"), RETIRED (a "retired"), FAILED (a "file" with an "error"), or OTHER. */
enum lc_record_kind lc_manifest_record_kind(const struct lc_manifest_fields *f);

/* The file a record cut by a crash names: head is its first bytes; when they hold the whole
 * "file" member (it is written first) and it is a plain name, it is copied to name. 0 or
 * -1. */
int lc_manifest_record_cut_name(const char *head, char name[NAME_MAX + 1]);

#endif
