/* SPDX-License-Identifier: BSD-3-Clause */
/* The manifest's own JSON line reader (lc_manifest_parse_line): only the members the
 * readers of a manifest use, checked against jansson by fuzz_manifest_line. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linecap/manifest.h"

/*
 * A strict JSON reader for one manifest line. It accepts exactly what jansson's json_loadb
 * (flags 0) accepts, so that a line is a record for both or for neither: RFC 8259 syntax,
 * valid UTF-8 (no overlong form, no surrogate, nothing past U+10FFFF), no NUL (not even as
 * \u0000), no raw control character in a string, integers within long long, reals that do
 * not overflow, at most JSON_DEPTH levels. Strings are decoded into the scratch buffer.
 */
#define JSON_DEPTH 2048

struct jp {
	const unsigned char *p, *end;
	char *out;		/* scratch: decoded strings */
	size_t kept;		/* scratch bytes holding strings kept for the caller */
	int depth;
};

static void
jp_space(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned int c = p[0];
	uint32_t v;
	size_t n;

	if (c < 0xc2)
		return 0;	/* a continuation byte, or an overlong two-byte form */
	else if (c < 0xe0)
		n = 2, v = c & 0x1f;
	else if (c < 0xf0)
		n = 3, v = c & 0x0f;
	else if (c < 0xf5)
		n = 4, v = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return n;
}

static int
hex4(const unsigned char *p, const unsigned char *end, uint32_t *v)
{
	*v = 0;
	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned int c = p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		*v = (*v << 4) | d;
	}
	return 0;
}

/* A string (j->p at its opening quote), decoded to j->out + j->kept. The decoded string, or
 * NULL when it is not valid. */
static char *
jp_string(struct jp *j)
{
	char *start = j->out + j->kept, *o = start;

	j->p++;
	for (;;) {
		if (j->p >= j->end)
			return NULL;
		unsigned int c = *j->p;

		if (c == '"') {
			j->p++;
			*o = '\0';
			return start;
		}
		if (c < 0x20)
			return NULL;
		if (c >= 0x80) {
			size_t n = utf8_len(j->p, j->end);

			if (n == 0)
				return NULL;
			memcpy(o, j->p, n);
			o += n;
			j->p += n;
			continue;
		}
		if (c != '\\') {
			*o++ = (char)c;
			j->p++;
			continue;
		}
		if (j->end - j->p < 2)
			return NULL;
		c = j->p[1];
		j->p += 2;
		switch (c) {
		case '"': case '\\': case '/': *o++ = (char)c; continue;
		case 'b': *o++ = '\b'; continue;
		case 'f': *o++ = '\f'; continue;
		case 'n': *o++ = '\n'; continue;
		case 'r': *o++ = '\r'; continue;
		case 't': *o++ = '\t'; continue;
		case 'u': break;
		default: return NULL;
		}
		uint32_t v, lo;

		if (hex4(j->p, j->end, &v) < 0)
			return NULL;
		j->p += 4;
		if (v >= 0xd800 && v <= 0xdbff) {	/* a surrogate pair */
			if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
			    hex4(j->p + 2, j->end, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
				return NULL;
			j->p += 6;
			v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
		} else if ((v >= 0xdc00 && v <= 0xdfff) || v == 0) {
			return NULL;
		}
		if (v < 0x80) {
			*o++ = (char)v;
		} else if (v < 0x800) {
			*o++ = (char)(0xc0 | (v >> 6));
			*o++ = (char)(0x80 | (v & 0x3f));
		} else if (v < 0x10000) {
			*o++ = (char)(0xe0 | (v >> 12));
			*o++ = (char)(0x80 | ((v >> 6) & 0x3f));
			*o++ = (char)(0x80 | (v & 0x3f));
		} else {
			*o++ = (char)(0xf0 | (v >> 18));
			*o++ = (char)(0x80 | ((v >> 12) & 0x3f));
			*o++ = (char)(0x80 | ((v >> 6) & 0x3f));
			*o++ = (char)(0x80 | (v & 0x3f));
		}
	}
}

/* A number. 0 and *is_int / *iv set, or -1. */
static int
jp_number(struct jp *j, int *is_int, long long *iv)
{
	const unsigned char *s = j->p;
	int real = 0;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return -1;
	if (*j->p == '0') {
		j->p++;
		if (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			return -1;	/* no leading zero */
	} else {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && *j->p == '.') {
		real = 1;
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		real = 1;
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	*is_int = !real;
	if (!real) {	/* within long long, as jansson wants */
		const unsigned char *d = s + (*s == '-');
		unsigned long long v = 0, lim = *s == '-' ? (unsigned long long)LLONG_MAX + 1 :
			(unsigned long long)LLONG_MAX;

		for (; d < j->p; d++) {
			if (v > (lim - (unsigned long long)(*d - '0')) / 10)
				return -1;
			v = v * 10 + (unsigned long long)(*d - '0');
		}
		*iv = *s == '-' ? (long long)(0 - v) : (long long)v;
		return 0;
	}
	/* The text, NUL-terminated, for strtod (scratch has room: see lc_manifest_scan). */
	char *t = j->out + j->kept, *e;
	size_t n = (size_t)(j->p - s);

	memcpy(t, s, n);
	t[n] = '\0';
	errno = 0;
	double d = strtod(t, &e);

	return (d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE ? -1 : 0;
}

static int jp_value(struct jp *j, struct lc_manifest_fields *top);

/* An object or an array (j->p at its bracket); top: where the members of the outermost
 * object go (NULL deeper); in_index: this is the outermost object's "index" object, whose
 * members go to top's index_*. 0 or -1. */
static int
jp_container(struct jp *j, struct lc_manifest_fields *top, int in_index)
{
	int obj = *j->p == '{';
	unsigned char close = obj ? '}' : ']';

	if (++j->depth > JSON_DEPTH)
		return -1;
	j->p++;
	jp_space(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		const char **keep = NULL;
		long long *num = NULL;
		size_t kept = j->kept;
		int sub = 0;	/* the outermost object's "index" */

		if (obj) {
			const char *key;

			if (j->p >= j->end || *j->p != '"' || (key = jp_string(j)) == NULL)
				return -1;
			if (top != NULL && in_index) {
				if (strcmp(key, "sha256") == 0)
					keep = &top->index_sha256;
				else if (strcmp(key, "table_sha256") == 0)
					keep = &top->index_table_sha256;
				else if (strcmp(key, "bytes") == 0)
					num = &top->index_bytes;
				else if (strcmp(key, "missing") == 0)
					top->index_missing = 1;
			} else if (top != NULL) {
				if (strcmp(key, "file") == 0)
					keep = &top->file;
				else if (strcmp(key, "retired") == 0)
					keep = &top->retired;
				else if (strcmp(key, "sha256") == 0)
					keep = &top->sha256;
				else if (strcmp(key, "prev") == 0)
					keep = &top->prev;
				else if (strcmp(key, "clock") == 0)
					keep = &top->clock;
				else if (strcmp(key, "bytes") == 0)
					num = &top->bytes;
				else if (strcmp(key, "packets") == 0)
					num = &top->packets;
				else if (strcmp(key, "queue") == 0)
					num = &top->queue;
				else if (strcmp(key, "seq") == 0)
					num = &top->seq;
				else if (strcmp(key, "first_ns") == 0)
					num = &top->first_ns;
				else if (strcmp(key, "last_ns") == 0)
					num = &top->last_ns;
				else if (strcmp(key, "error") == 0)
					top->error = 1;
				else if (strcmp(key, "index") == 0)
					sub = 1;
			}
			jp_space(j);
			if (j->p >= j->end || *j->p != ':')
				return -1;
			j->p++;
			jp_space(j);
		}
		if (j->p >= j->end)
			return -1;
		if (sub) {
			/* The last "index" counts: what an earlier one said is forgotten. */
			top->index = top->index_missing = 0;
			top->index_sha256 = NULL;
			top->index_table_sha256 = NULL;
			top->index_bytes = 0;
			if (*j->p == '{') {
				top->index = 1;
				if (jp_container(j, top, 1) < 0)
					return -1;
			} else if (jp_value(j, NULL) < 0) {
				return -1;
			}
		} else if (keep != NULL || num != NULL) {
			/* A member the caller reads: the last of its name counts. */
			if (keep != NULL)
				*keep = NULL;
			if (num != NULL)
				*num = 0;
			if (*j->p == '"') {
				const char *v = jp_string(j);

				if (v == NULL)
					return -1;
				if (keep != NULL) {
					*keep = v;
					j->kept += strlen(v) + 1;
				}
			} else if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
				int is_int;
				long long v;

				if (jp_number(j, &is_int, &v) < 0)
					return -1;
				if (num != NULL && is_int)
					*num = v;
			} else if (jp_value(j, NULL) < 0) {
				return -1;
			}
		} else if (jp_value(j, NULL) < 0) {
			return -1;
		}
		if (keep == NULL && !sub)	/* (an "index" keeps its "sha256") */
			j->kept = kept;
		jp_space(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == close) {
			j->p++;
			j->depth--;
			return 0;
		}
		if (*j->p != ',')
			return -1;
		j->p++;
		jp_space(j);
	}
}

static int
jp_literal(struct jp *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

/* Any value (j->p at its first byte); top as in jp_container. 0 or -1. */
static int
jp_value(struct jp *j, struct lc_manifest_fields *top)
{
	int is_int;
	long long v;

	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '{': case '[':
		return jp_container(j, top, 0);
	case '"':
		return jp_string(j) != NULL ? 0 : -1;
	case 't':
		return jp_literal(j, "true");
	case 'f':
		return jp_literal(j, "false");
	case 'n':
		return jp_literal(j, "null");
	default:
		return jp_number(j, &is_int, &v);
	}
}

int
lc_manifest_parse_line(const char *line, size_t len, char *scratch,
		       struct lc_manifest_fields *f)
{
	struct jp j = { (const unsigned char *)line, (const unsigned char *)line + len, scratch,
			0, 0 };

	memset(f, 0, sizeof(*f));
	jp_space(&j);
	if (j.p >= j.end || *j.p != '{' || jp_container(&j, f, 0) < 0)
		goto no;
	jp_space(&j);
	if (j.p != j.end)
		goto no;	/* something after the object */
	f->object = 1;
	return 1;
no:
	memset(f, 0, sizeof(*f));
	return 0;
}
