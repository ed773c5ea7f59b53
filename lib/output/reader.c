/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linecap/reader.h"

#define MAX_BLOCK (64u << 20)	/* larger records or blocks are taken as corruption */
#define MAX_IFACES 256

struct iface {
	uint32_t linktype, snaplen;
	uint64_t tsdiv, tsmul;	/* ns = ts * tsmul / tsdiv */
};

struct lc_reader {
	FILE *f;
	char path[4096];
	enum lc_reader_format fmt;
	int swap;
	uint64_t pos;		/* bytes consumed */
	uint64_t good;		/* end of the last whole record or header */
	int nano;		/* pcap */
	uint32_t linktype, snaplen;	/* pcap */
	struct iface ifaces[MAX_IFACES];
	unsigned int nifaces;
	uint8_t *buf;
	size_t cap;
	char *iobuf;		/* stdio's buffer: large reads */
};

static uint32_t
bswap32(uint32_t v)
{
	return __builtin_bswap32(v);
}

static uint32_t
rd32(const struct lc_reader *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? bswap32(v) : v;
}

static uint16_t
rd16(const struct lc_reader *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return r->swap ? __builtin_bswap16(v) : v;
}

static int
bad(struct lc_reader *r, uint64_t at, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s: byte %llu: %s", r->path, (unsigned long long)at, why);
	return -EINVAL;
}

/* Read exactly n bytes; 1 done, 0 clean end before any byte, -EINVAL cut short. */
static int
take(struct lc_reader *r, void *dst, size_t n)
{
	size_t got = fread(dst, 1, n, r->f);

	r->pos += got;
	if (got == n)
		return 1;
	return got == 0 && feof(r->f) ? 0 : -EINVAL;
}

static int
grow(struct lc_reader *r, size_t n)
{
	if (n <= r->cap)
		return 0;
	uint8_t *b = realloc(r->buf, n);

	if (b == NULL)
		return -ENOMEM;
	r->buf = b;
	r->cap = n;
	return 0;
}

static struct lc_reader *reader_start(struct lc_reader *r, const char *path, size_t bufsize,
				      char *err, size_t errlen);

#define READ_BUF (256u << 10)

struct lc_reader *
lc_reader_open(const char *path, char *err, size_t errlen)
{
	struct lc_reader *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		errno = ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	r->f = fopen(path, "rb");
	if (r->f == NULL) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		free(r);
		errno = e;
		return NULL;
	}
	return reader_start(r, path, READ_BUF, err, errlen);
}

struct lc_reader *
lc_reader_fdopen(int fd, const char *path, char *err, size_t errlen)
{
	return lc_reader_fdopen_sized(fd, path, READ_BUF, err, errlen);
}

struct lc_reader *
lc_reader_fdopen_sized(int fd, const char *path, size_t bufsize, char *err, size_t errlen)
{
	struct lc_reader *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->f = fdopen(fd, "rb")) == NULL) {
		int e = r == NULL ? ENOMEM : errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		free(r);
		close(fd);
		errno = e;
		return NULL;
	}
	return reader_start(r, path, bufsize, err, errlen);
}

static struct lc_reader *
reader_start(struct lc_reader *r, const char *path, size_t bufsize, char *err, size_t errlen)
{
	uint8_t hdr[24];
	uint32_t magic;
	int rc;

	snprintf(r->path, sizeof(r->path), "%s", path);
	r->iobuf = malloc(bufsize);
	if (r->iobuf != NULL)
		setvbuf(r->f, r->iobuf, _IOFBF, bufsize);
	rc = take(r, hdr, 4);
	if (rc != 1)
		goto notcap;
	memcpy(&magic, hdr, 4);
	if (magic == 0x0a0d0d0a) {
		/* pcapng: the section header is read as the first block by lc_reader_next. */
		r->fmt = LC_READER_PCAPNG;
		rewind(r->f);
		r->pos = 0;
		return r;
	}
	r->fmt = LC_READER_PCAP;
	switch (magic) {
	case 0xa1b2c3d4: break;
	case 0xa1b23c4d: r->nano = 1; break;
	case 0xd4c3b2a1: r->swap = 1; break;
	case 0x4d3cb2a1: r->swap = 1; r->nano = 1; break;
	default: goto notcap;
	}
	if (take(r, hdr + 4, 20) != 1) {
		bad(r, r->pos, err, errlen, "pcap file header cut short");
		goto fail;
	}
	if (rd16(r, hdr + 4) != 2) {
		bad(r, 4, err, errlen, "unsupported pcap version");
		goto fail;
	}
	r->snaplen = rd32(r, hdr + 16);
	r->linktype = rd32(r, hdr + 20) & 0x0fffffff;
	r->good = 24;
	return r;
notcap:
	snprintf(err, errlen, "%s: byte 0: not a pcap or pcapng file", path);
fail:
	fclose(r->f);
	free(r->iobuf);
	free(r);
	errno = EINVAL;
	return NULL;
}

static int
next_pcap(struct lc_reader *r, struct lc_record *rec, char *err, size_t errlen)
{
	uint8_t h[16];
	uint64_t at = r->pos;
	uint32_t sec, frac, caplen, len;
	int rc = take(r, h, 16);

	if (rc == 0)
		return 0;
	if (rc < 0)
		return bad(r, at, err, errlen, "record header cut short");
	sec = rd32(r, h);
	frac = rd32(r, h + 4);
	caplen = rd32(r, h + 8);
	len = rd32(r, h + 12);
	if (caplen > MAX_BLOCK)
		return bad(r, at, err, errlen, "record length impossibly large");
	if (frac >= (r->nano ? 1000000000u : 1000000u))
		return bad(r, at, err, errlen, "record timestamp fraction out of range");
	if (grow(r, caplen ? caplen : 1) < 0)
		return -ENOMEM;
	if (take(r, r->buf, caplen) != 1)
		return bad(r, at, err, errlen, "record data cut short");
	rec->ts_ns = (uint64_t)sec * 1000000000ull + (r->nano ? frac : (uint64_t)frac * 1000);
	rec->stored = caplen;
	rec->caplen = r->snaplen && caplen > r->snaplen ? r->snaplen : caplen;
	rec->len = len;
	rec->data = r->buf;
	rec->linktype = r->linktype;
	rec->snaplen = r->snaplen;
	rec->offset = at;
	r->good = r->pos;
	return 1;
}

/* Options of an IDB: if_tsresol. */
static void
idb_options(struct lc_reader *r, struct iface *ifc, const uint8_t *p, size_t n)
{
	while (n >= 4) {
		uint16_t code = rd16(r, p), len = rd16(r, p + 2);
		size_t adv = 4 + ((len + 3u) & ~3u);

		if (code == 0 || adv > n)
			break;
		if (code == 9 && len >= 1) {
			uint8_t v = p[4];
			uint64_t units = 1;

			if (v & 0x80) {
				unsigned int e = v & 0x7f;

				units = e < 63 ? 1ull << e : 1ull << 62;
				ifc->tsmul = 1000000000ull;
				ifc->tsdiv = units;
			} else if (v <= 9) {
				for (unsigned int i = v; i < 9; i++)
					units *= 10;
				ifc->tsmul = units;
				ifc->tsdiv = 1;
			} else {
				for (unsigned int i = 9; i < v && i < 28; i++)
					units *= 10;
				ifc->tsmul = 1;
				ifc->tsdiv = units;
			}
		}
		p += adv;
		n -= adv;
	}
}

static int
next_pcapng(struct lc_reader *r, struct lc_record *rec, char *err, size_t errlen)
{
	for (;;) {
		uint8_t h[8];
		uint64_t at = r->pos;
		uint32_t type, total;
		int rc = take(r, h, 8);

		if (rc == 0)
			return 0;
		if (rc < 0)
			return bad(r, at, err, errlen, "block header cut short");
		memcpy(&type, h, 4);
		if (type == 0x0a0d0d0a) {	/* a section header: its byte order first */
			uint8_t bom[4];
			uint32_t b;

			if (take(r, bom, 4) != 1)
				return bad(r, at, err, errlen, "section header cut short");
			memcpy(&b, bom, 4);
			if (b == 0x1a2b3c4d)
				r->swap = 0;
			else if (b == 0x4d3c2b1a)
				r->swap = 1;
			else
				return bad(r, at + 8, err, errlen, "bad byte-order magic");
			r->nifaces = 0;
			total = rd32(r, h + 4);
			if (total < 28 || total % 4 || total > MAX_BLOCK)
				return bad(r, at + 4, err, errlen, "bad section header length");
			if (grow(r, total) < 0)
				return -ENOMEM;
			if (take(r, r->buf, total - 12) != 1)
				return bad(r, at, err, errlen, "section header cut short");
			if (rd16(r, r->buf) != 1)
				return bad(r, at + 12, err, errlen, "unsupported pcapng version");
			if (rd32(r, r->buf + total - 16) != total)
				return bad(r, at, err, errlen, "block lengths disagree");
			r->good = r->pos;
			continue;
		}
		if (r->pos == 8 && at == 0)
			return bad(r, 0, err, errlen, "pcapng file without a section header");
		type = rd32(r, h);
		total = rd32(r, h + 4);
		if (total < 12 || total % 4 || total > MAX_BLOCK)
			return bad(r, at + 4, err, errlen, "bad block length");
		if (grow(r, total) < 0)
			return -ENOMEM;
		if (take(r, r->buf, total - 8) != 1)
			return bad(r, at, err, errlen, "block cut short");
		if (rd32(r, r->buf + total - 12) != total)
			return bad(r, at, err, errlen, "block lengths disagree");
		const uint8_t *body = r->buf;
		size_t blen = total - 12;

		if (type == 1) {		/* interface description */
			struct iface *ifc;

			if (blen < 8)
				return bad(r, at, err, errlen, "interface block too short");
			if (r->nifaces == MAX_IFACES)
				return bad(r, at, err, errlen, "too many interfaces");
			ifc = &r->ifaces[r->nifaces++];
			ifc->linktype = rd16(r, body);
			ifc->snaplen = rd32(r, body + 4);
			ifc->tsmul = 1000;	/* default resolution: microseconds */
			ifc->tsdiv = 1;
			idb_options(r, ifc, body + 8, blen - 8);
			r->good = r->pos;
			continue;
		}
		if (type == 6 || type == 2) {	/* enhanced (or obsolete) packet block */
			uint32_t ifid, caplen, len;
			uint64_t ts;

			if (blen < 20)
				return bad(r, at, err, errlen, "packet block too short");
			ifid = type == 6 ? rd32(r, body) : rd16(r, body);
			ts = ((uint64_t)rd32(r, body + 4) << 32) | rd32(r, body + 8);
			caplen = rd32(r, body + 12);
			len = rd32(r, body + 16);
			if (ifid >= r->nifaces)
				return bad(r, at, err, errlen, "packet of an undeclared interface");
			if (caplen > blen - 20)
				return bad(r, at, err, errlen, "packet data longer than its block");
			const struct iface *ifc = &r->ifaces[ifid];
			unsigned __int128 ns = (unsigned __int128)ts * ifc->tsmul / ifc->tsdiv;

			rec->ts_ns = ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
			rec->stored = caplen;
			rec->caplen = ifc->snaplen && caplen > ifc->snaplen ? ifc->snaplen : caplen;
			rec->len = len;
			rec->data = body + 20;
			rec->linktype = ifc->linktype;
			rec->snaplen = ifc->snaplen;
			rec->offset = at;
			r->good = r->pos;
			return 1;
		}
		if (type == 3) {		/* simple packet block: no timestamp */
			if (r->nifaces == 0 || blen < 4)
				return bad(r, at, err, errlen, "simple packet block without interface");
			rec->len = rd32(r, body);
			rec->caplen = rec->len < blen - 4 ? rec->len : (uint32_t)(blen - 4);
			rec->stored = rec->caplen;
			/* As for the other blocks: cut at the interface's snaplen (0: none). */
			if (r->ifaces[0].snaplen && rec->caplen > r->ifaces[0].snaplen)
				rec->caplen = r->ifaces[0].snaplen;
			rec->ts_ns = 0;
			rec->data = body + 4;
			rec->linktype = r->ifaces[0].linktype;
			rec->snaplen = r->ifaces[0].snaplen;
			rec->offset = at;
			r->good = r->pos;
			return 1;
		}
		r->good = r->pos;		/* statistics, names, custom: skipped */
	}
}

int
lc_reader_next(struct lc_reader *r, struct lc_record *rec, char *err, size_t errlen)
{
	int rc = r->fmt == LC_READER_PCAP ? next_pcap(r, rec, err, errlen) :
					    next_pcapng(r, rec, err, errlen);

	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", r->path);
	else if (rc >= 0 && ferror(r->f)) {
		snprintf(err, errlen, "%s: byte %llu: read error", r->path,
			 (unsigned long long)r->pos);
		rc = -EIO;
	}
	return rc;
}

int
lc_reader_seek(struct lc_reader *r, uint64_t off)
{
	if (off > (uint64_t)INT64_MAX || fseeko(r->f, (off_t)off, SEEK_SET) != 0)
		return -EINVAL;
	r->pos = off;
	r->good = off;
	return 0;
}

uint64_t
lc_reader_good_offset(const struct lc_reader *r)
{
	return r->good;
}

uint32_t
lc_reader_snaplen(const struct lc_reader *r)
{
	return r->fmt == LC_READER_PCAP ? r->snaplen :
	       (r->nifaces ? r->ifaces[0].snaplen : 0);
}

void
lc_reader_close(struct lc_reader *r)
{
	if (r == NULL)
		return;
	fclose(r->f);
	free(r->buf);
	free(r->iobuf);
	free(r);
}

int
lc_reader_is_capture_name(const char *n)
{
	size_t l = strlen(n);

	return (l > 5 && strcmp(n + l - 5, ".pcap") == 0) ||
	       (l > 7 && strcmp(n + l - 7, ".pcapng") == 0);
}
