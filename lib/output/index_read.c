/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The index reader. The file may be hostile: every length and offset is checked against the
 * file's size before it is used, allocations are bounded by what the file's size can hold,
 * and the positions are checked as they are decoded. Layout: index_format.h and
 * docs/index-format.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "linecap/index.h"

#include "index_format.h"

/* A table larger than this is taken as corruption (4,096 flows take about 200 KiB). */
#define MAX_TABLE (1ull << 30)

struct lc_index {
	int fd;
	char name[512];
	uint64_t size;		/* of the index file at open */
	struct lc_index_info info;
	struct lc_index_flow *flows;
	uint8_t *buf;		/* positions of one flow */
	size_t buf_cap;
	uint8_t table_sha[LC_INDEX_SHA256_LEN];	/* of its header and flow table */
};

uint32_t
lc_idx_crc32c(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	static int ready;
	const uint8_t *p = buf;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
			table[i] = c;
		}
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	crc = ~crc;
#if defined(__SSE4_2__) && defined(__x86_64__)
	/* The CPU's own CRC-32C, 8 bytes an instruction. */
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		crc = (uint32_t)__builtin_ia32_crc32di(crc, w);
	}
#endif
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

void
lc_index_table_digest(const uint8_t *hdr, const uint8_t *table, size_t tlen,
		      uint8_t sha256[LC_INDEX_SHA256_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	memset(sha256, 0, LC_INDEX_SHA256_LEN);
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return;
	}
	EVP_DigestUpdate(ctx, hdr, LC_IDX_HDR_LEN);
	EVP_DigestUpdate(ctx, table, tlen);
	EVP_DigestFinal_ex(ctx, sha256, &n);
	EVP_MD_CTX_free(ctx);
}

static int
bad(const char *name, uint64_t at, char *err, size_t errlen, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: byte %llu: %s", name, (unsigned long long)at, why);
	return -EINVAL;
}

/* Read exactly len bytes at off: 0, -EINVAL when the file ends first, or -errno. */
static int
pread_all(int fd, void *dst, size_t len, uint64_t off)
{
	uint8_t *p = dst;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EINVAL;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* A reader of the table with its base offset in the file (for messages). */
struct cur {
	const uint8_t *p;
	size_t len, at;
	uint64_t base;
};

static int
take(struct cur *c, size_t n, const uint8_t **out)
{
	if (c->len - c->at < n)
		return -1;
	*out = c->p + c->at;
	c->at += n;
	return 0;
}

static int
take_varint(struct cur *c, uint64_t *v)
{
	unsigned int n = lc_idx_varint_get(c->p + c->at, c->len - c->at, v);

	if (n == 0)
		return -1;
	c->at += n;
	return 0;
}

/* Is this key one the builder makes? (What lc_index_flow_bytes claims rests on it.) */
static const char *
key_check(const struct lc_flow_key *k, uint8_t tcp_flags, uint8_t marks)
{
	const uint8_t known = LC_FLOW_IPV4 | LC_FLOW_IPV6 | LC_FLOW_PORTS | LC_FLOW_FRAG |
			      LC_FLOW_TCPFL;
	int ip = k->flags & (LC_FLOW_IPV4 | LC_FLOW_IPV6);

	if (k->flags & ~known)
		return "unknown flow flags";
	if (marks & ~LC_FLOW_MARK_UNREACH)
		return "unknown flow marks";
	if (k->nvlan > 2)
		return "more than 2 VLAN tags";
	for (unsigned int i = 0; i < k->nvlan; i++) {
		if (k->tpid[i] != 0x8100 && k->tpid[i] != 0x88a8 && k->tpid[i] != 0x9100)
			return "a VLAN tag with an unknown TPID";
		if (k->vid[i] > 0xfff)
			return "a VLAN ID over 4095";
	}
	if (ip == (LC_FLOW_IPV4 | LC_FLOW_IPV6))
		return "a flow both IPv4 and IPv6";
	if ((k->flags & LC_FLOW_IPV4) && (k->ethertype != 0x0800 || k->ihl < 5 || k->ihl > 15))
		return "an IPv4 flow with a bad ethertype or header length";
	if ((k->flags & LC_FLOW_IPV6) && k->ethertype != 0x86dd)
		return "an IPv6 flow with a bad ethertype";
	if ((k->flags & LC_FLOW_FRAG) && (!(k->flags & LC_FLOW_IPV4) ||
					   (k->flags & LC_FLOW_PORTS)))
		return "a fragment flow that is not IPv4 or has ports";
	if (k->flags & LC_FLOW_PORTS) {
		int ok = k->proto == LC_IP_TCP || k->proto == LC_IP_UDP ||
			 k->proto == LC_IP_SCTP;
		int icmp = ((k->flags & LC_FLOW_IPV4) && k->proto == LC_IP_ICMP) ||
			   ((k->flags & LC_FLOW_IPV6) && k->proto == LC_IP_ICMPV6);

		if (!ip || !(ok || icmp))
			return "ports on a flow without a transport protocol that has them";
		if (icmp && (k->sport > 0xff || k->dport > 0xff))
			return "an ICMP type or code over 255";
	}
	if ((k->flags & LC_FLOW_TCPFL) && (!(k->flags & LC_FLOW_PORTS) || k->proto != LC_IP_TCP))
		return "TCP flags on a flow that is not TCP with ports";
	if (!(k->flags & LC_FLOW_TCPFL) && tcp_flags != 0)
		return "TCP flags on a flow that does not claim them";
	return NULL;
}

/* Parse one flow entry at c into f; NULL or the reason (c->at is then where it broke). */
static const char *
flow_parse(struct cur *c, struct lc_index_flow *f)
{
	struct lc_flow_key *k = &f->key;
	const uint8_t *p;
	uint64_t d;
	const char *why;

	memset(f, 0, sizeof(*f));
	if (take(c, 7, &p) != 0)
		return "flow entry cut short";
	k->flags = p[0];
	k->nvlan = p[1];
	f->marks = p[2];
	f->tcp_flags = p[3];
	f->first_flags = p[4];
	k->ethertype = lc_idx_get16(p + 5);
	if (f->first_flags & ~f->tcp_flags)
		return "first packet's TCP flags not among the flow's";
	if (k->nvlan > 2)
		return "more than 2 VLAN tags";
	for (unsigned int i = 0; i < k->nvlan; i++) {
		if (take(c, 4, &p) != 0)
			return "flow entry cut short";
		k->tpid[i] = lc_idx_get16(p);
		k->vid[i] = lc_idx_get16(p + 2);
	}
	if (k->flags & LC_FLOW_IPV4) {
		if (take(c, 10, &p) != 0)
			return "flow entry cut short";
		k->proto = p[0];
		k->ihl = p[1];
		memcpy(k->src, p + 2, 4);
		memcpy(k->dst, p + 6, 4);
	} else if (k->flags & LC_FLOW_IPV6) {
		if (take(c, 33, &p) != 0)
			return "flow entry cut short";
		k->proto = p[0];
		memcpy(k->src, p + 1, 16);
		memcpy(k->dst, p + 17, 16);
	}
	if (k->flags & LC_FLOW_PORTS) {
		if (take(c, 4, &p) != 0)
			return "flow entry cut short";
		k->sport = lc_idx_get16(p);
		k->dport = lc_idx_get16(p + 2);
	}
	why = key_check(k, f->tcp_flags, f->marks);
	if (why != NULL)
		return why;
	if (take_varint(c, &f->first_ns) != 0 || take_varint(c, &d) != 0 ||
	    take_varint(c, &f->packets) != 0 || take_varint(c, &f->bytes) != 0 ||
	    take_varint(c, &f->pos_len) != 0)
		return "bad varint in a flow entry";
	if (d > UINT64_MAX - f->first_ns)
		return "flow time range overflows";
	f->last_ns = f->first_ns + d;
	if (f->packets == 0 && (f->pos_len != 0 || f->bytes != 0 || f->first_ns != 0 ||
				f->last_ns != 0 || f->tcp_flags != 0 || f->marks == 0))
		return "a flow without packets that holds something";
	if (f->packets > f->pos_len ||
	    f->packets < f->pos_len / LC_IDX_VARINT_MAX + (f->pos_len % LC_IDX_VARINT_MAX != 0))
		return "a flow whose positions' length disagrees with its packets";
	return NULL;
}

struct lc_index *
lc_index_open_fd(int fd, const char *name, char *err, size_t errlen)
{
	struct lc_index *ix = NULL;
	uint8_t hdr[LC_IDX_HDR_LEN], *table = NULL;
	struct stat st;
	uint64_t table_len, pos_at, pos_len, sum_pos = 0, sum_pk = 0;
	uint32_t nflows, crc;
	struct cur c;
	const char *why;
	int rc;

	if (fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", name, strerror(-rc));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = bad(name, 0, err, errlen, "not a regular file");
		goto fail;
	}
	if ((uint64_t)st.st_size < LC_IDX_HDR_LEN) {
		rc = bad(name, (uint64_t)st.st_size, err, errlen,
			 "file too short for an index header (%u bytes)", LC_IDX_HDR_LEN);
		goto fail;
	}
	rc = pread_all(fd, hdr, sizeof(hdr), 0);
	if (rc != 0) {
		if (rc == -EINVAL)
			rc = bad(name, 0, err, errlen, "file shrank while being read");
		else
			snprintf(err, errlen, "%s: %s", name, strerror(-rc));
		goto fail;
	}
	if (memcmp(hdr + LC_IDX_O_MAGIC, LC_IDX_MAGIC, 8) != 0) {
		rc = bad(name, 0, err, errlen, "not a linecap index (bad magic)");
		goto fail;
	}
	if (lc_idx_get32(hdr + LC_IDX_O_VERSION) != LC_IDX_VERSION) {
		rc = bad(name, LC_IDX_O_VERSION, err, errlen, "unknown index version %u",
			 lc_idx_get32(hdr + LC_IDX_O_VERSION));
		goto fail;
	}
	if (lc_idx_get32(hdr + LC_IDX_O_HDRLEN) != LC_IDX_HDR_LEN ||
	    lc_idx_get32(hdr + LC_IDX_O_RESERVED) != 0) {
		rc = bad(name, LC_IDX_O_HDRLEN, err, errlen, "bad header length or reserved field");
		goto fail;
	}
	nflows = lc_idx_get32(hdr + LC_IDX_O_NFLOWS);
	table_len = lc_idx_get64(hdr + LC_IDX_O_TABLE_LEN);
	pos_at = lc_idx_get64(hdr + LC_IDX_O_POS_AT);
	pos_len = lc_idx_get64(hdr + LC_IDX_O_POS_LEN);
	if (lc_idx_get64(hdr + LC_IDX_O_TABLE_AT) != LC_IDX_HDR_LEN) {
		rc = bad(name, LC_IDX_O_TABLE_AT, err, errlen, "flow table not after the header");
		goto fail;
	}
	if (table_len > (uint64_t)st.st_size - LC_IDX_HDR_LEN || table_len > MAX_TABLE) {
		rc = bad(name, LC_IDX_O_TABLE_LEN, err, errlen,
			 "flow table of %llu bytes past the end of the file (%llu bytes)",
			 (unsigned long long)table_len, (unsigned long long)st.st_size);
		goto fail;
	}
	if (pos_at != LC_IDX_HDR_LEN + table_len) {
		rc = bad(name, LC_IDX_O_POS_AT, err, errlen, "positions not after the flow table");
		goto fail;
	}
	if (pos_len != (uint64_t)st.st_size - pos_at) {
		rc = bad(name, LC_IDX_O_POS_LEN, err, errlen,
			 "positions of %llu bytes where the file holds %llu",
			 (unsigned long long)pos_len,
			 (unsigned long long)((uint64_t)st.st_size - pos_at));
		goto fail;
	}
	if ((uint64_t)nflows > table_len / LC_IDX_MIN_FLOW) {
		rc = bad(name, LC_IDX_O_NFLOWS, err, errlen,
			 "%u flows cannot fit in a table of %llu bytes", nflows,
			 (unsigned long long)table_len);
		goto fail;
	}
	ix = calloc(1, sizeof(*ix));
	table = malloc(table_len ? (size_t)table_len : 1);
	if (ix == NULL || table == NULL ||
	    (ix->flows = calloc(nflows ? nflows : 1, sizeof(*ix->flows))) == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", name);
		goto fail;
	}
	rc = pread_all(fd, table, (size_t)table_len, LC_IDX_HDR_LEN);
	if (rc != 0) {
		if (rc == -EINVAL)
			rc = bad(name, LC_IDX_HDR_LEN, err, errlen, "file shrank while being read");
		else
			snprintf(err, errlen, "%s: %s", name, strerror(-rc));
		goto fail;
	}
	crc = lc_idx_crc32c(0, hdr, LC_IDX_O_CRC);
	crc = lc_idx_crc32c(crc, table, (size_t)table_len);
	if (crc != lc_idx_get32(hdr + LC_IDX_O_CRC)) {
		rc = bad(name, LC_IDX_O_CRC, err, errlen,
			 "checksum of the header and flow table does not match");
		goto fail;
	}
	ix->fd = fd;
	snprintf(ix->name, sizeof(ix->name), "%s", name);
	ix->size = (uint64_t)st.st_size;
	ix->info.linktype = lc_idx_get32(hdr + LC_IDX_O_LINKTYPE);
	ix->info.nflows = nflows;
	ix->info.file_bytes = lc_idx_get64(hdr + LC_IDX_O_FILEBYTES);
	ix->info.packets = lc_idx_get64(hdr + LC_IDX_O_PACKETS);
	ix->info.first_ns = lc_idx_get64(hdr + LC_IDX_O_FIRST);
	ix->info.last_ns = lc_idx_get64(hdr + LC_IDX_O_LAST);
	if (ix->info.first_ns > ix->info.last_ns ||
	    (ix->info.packets == 0 && (ix->info.first_ns | ix->info.last_ns) != 0)) {
		rc = bad(name, LC_IDX_O_FIRST, err, errlen, "bad time range");
		goto fail;
	}
	if (ix->info.packets > pos_len) {
		rc = bad(name, LC_IDX_O_PACKETS, err, errlen,
			 "more packets than bytes of positions");
		goto fail;
	}
	c = (struct cur){ .p = table, .len = (size_t)table_len, .at = 0, .base = LC_IDX_HDR_LEN };
	for (uint32_t i = 0; i < nflows; i++) {
		struct lc_index_flow *f = &ix->flows[i];
		size_t at = c.at;

		why = flow_parse(&c, f);
		if (why != NULL) {
			rc = bad(name, c.base + c.at, err, errlen, "flow %u: %s", i, why);
			goto fail;
		}
		if (why == NULL && f->packets > 0 &&
		    (f->first_ns < ix->info.first_ns || f->last_ns > ix->info.last_ns))
			why = "flow times outside the file's";
		if (why == NULL && f->pos_len > pos_len - sum_pos)
			why = "flow positions past the positions area";
		if (why == NULL && f->packets > ix->info.packets - sum_pk)
			why = "flows hold more packets than the file";
		if (why != NULL) {
			rc = bad(name, c.base + at, err, errlen, "flow %u: %s", i, why);
			goto fail;
		}
		f->pos_at = pos_at + sum_pos;
		sum_pos += f->pos_len;
		sum_pk += f->packets;
	}
	if (c.at != c.len) {
		rc = bad(name, c.base + c.at, err, errlen, "%zu bytes after the last flow",
			 c.len - c.at);
		goto fail;
	}
	if (sum_pos != pos_len || sum_pk != ix->info.packets) {
		rc = bad(name, LC_IDX_O_PACKETS, err, errlen,
			 "flows hold %llu packets in %llu bytes, the header says %llu in %llu",
			 (unsigned long long)sum_pk, (unsigned long long)sum_pos,
			 (unsigned long long)ix->info.packets, (unsigned long long)pos_len);
		goto fail;
	}
	lc_index_table_digest(hdr, table, (size_t)table_len, ix->table_sha);
	free(table);
	return ix;
fail:
	if (ix != NULL)
		free(ix->flows);
	free(ix);
	free(table);
	close(fd);
	errno = -rc;
	return NULL;
}

const uint8_t *
lc_index_table_sha256(const struct lc_index *ix)
{
	return ix->table_sha;
}

void
lc_index_close(struct lc_index *ix)
{
	if (ix == NULL)
		return;
	close(ix->fd);
	free(ix->flows);
	free(ix->buf);
	free(ix);
}

const struct lc_index_info *
lc_index_info(const struct lc_index *ix)
{
	return &ix->info;
}

const struct lc_index_flow *
lc_index_flows(const struct lc_index *ix, uint32_t *n)
{
	*n = ix->info.nflows;
	return ix->flows;
}

int
lc_index_positions(struct lc_index *ix, const struct lc_index_flow *f, uint64_t *pos,
		   char *err, size_t errlen)
{
	uint64_t at = f->pos_at, prev = 0, end = ix->info.file_bytes;
	size_t len = (size_t)f->pos_len, o = 0;
	int rc;

	if (f < ix->flows || f >= ix->flows + ix->info.nflows)
		return bad(ix->name, 0, err, errlen, "not a flow of this index");
	if (len == 0)
		return 0;
	if (len > ix->buf_cap) {
		uint8_t *b = realloc(ix->buf, len);

		if (b == NULL) {
			snprintf(err, errlen, "%s: out of memory", ix->name);
			return -ENOMEM;
		}
		ix->buf = b;
		ix->buf_cap = len;
	}
	rc = pread_all(ix->fd, ix->buf, len, at);
	if (rc != 0) {
		if (rc == -EINVAL)
			return bad(ix->name, at, err, errlen, "file shrank while being read");
		snprintf(err, errlen, "%s: %s", ix->name, strerror(-rc));
		return rc;
	}
	for (uint64_t i = 0; i < f->packets; i++) {
		uint64_t d;
		unsigned int n = lc_idx_varint_get(ix->buf + o, len - o, &d);

		if (n == 0)
			return bad(ix->name, at + o, err, errlen, "bad varint in positions");
		if (i > 0 && d == 0)
			return bad(ix->name, at + o, err, errlen, "positions do not increase");
		if (d >= end - prev)
			return bad(ix->name, at + o, err, errlen,
				   "position past the capture file's %llu bytes",
				   (unsigned long long)end);
		prev += d;
		pos[i] = prev;
		o += n;
	}
	if (o != len)
		return bad(ix->name, at + o, err, errlen,
			   "%zu bytes of positions after the flow's %llu packets", len - o,
			   (unsigned long long)f->packets);
	return 0;
}

/* Set bits mask of byte at to v's. */
static inline void
known(struct lc_partial *p, uint32_t at, uint8_t v, uint8_t mask)
{
	if (at >= LC_PARTIAL_LEN)
		return;
	p->val[at] = (uint8_t)((p->val[at] & ~mask) | (v & mask));
	p->known[at] |= mask;
}

static inline void
known16(struct lc_partial *p, uint32_t at, uint16_t v)
{
	known(p, at, (uint8_t)(v >> 8), 0xff);
	known(p, at + 1, (uint8_t)v, 0xff);
}

void
lc_index_flow_bytes(const struct lc_index_flow *f, struct lc_partial *p)
{
	const struct lc_flow_key *k = &f->key;
	uint32_t off = 12, l4;

	memset(p, 0, sizeof(*p));
	/* Ethertype 0 is also a frame too short for one: it claims nothing. */
	if (k->ethertype == 0 && k->nvlan == 0)
		return;
	for (unsigned int i = 0; i < k->nvlan && i < 2; i++) {
		known16(p, off, k->tpid[i]);
		/* TCI: PCP and DEI unknown, the VID known. */
		known(p, off + 2, (uint8_t)(k->vid[i] >> 8), 0x0f);
		known(p, off + 3, (uint8_t)k->vid[i], 0xff);
		off += 4;
	}
	known16(p, off, k->ethertype);
	off += 2;
	p->present = off;
	if (k->flags & LC_FLOW_IPV4) {
		known(p, off, (uint8_t)(0x40 | (k->ihl & 0xf)), 0xff);
		if (!(k->flags & LC_FLOW_FRAG)) {
			known(p, off + 6, 0, 0x1f);	/* fragment offset: 0 */
			known(p, off + 7, 0, 0xff);
		}
		known(p, off + 9, k->proto, 0xff);
		for (int i = 0; i < 4; i++) {
			known(p, off + 12 + i, k->src[i], 0xff);
			known(p, off + 16 + i, k->dst[i], 0xff);
		}
		p->present = off + 20;
		l4 = off + 4u * (k->ihl & 0xf);
	} else if (k->flags & LC_FLOW_IPV6) {
		known(p, off + 6, k->proto, 0xff);
		for (int i = 0; i < 16; i++) {
			known(p, off + 8 + i, k->src[i], 0xff);
			known(p, off + 24 + i, k->dst[i], 0xff);
		}
		p->present = off + 40;
		l4 = off + 40;
	} else {
		return;
	}
	if (!(k->flags & LC_FLOW_PORTS))
		return;
	if (((k->flags & LC_FLOW_IPV4) && k->proto == LC_IP_ICMP) ||
	    ((k->flags & LC_FLOW_IPV6) && k->proto == LC_IP_ICMPV6)) {
		known(p, l4, (uint8_t)k->sport, 0xff);
		known(p, l4 + 1, (uint8_t)k->dport, 0xff);
		p->present = l4 + 2;
		return;
	}
	known16(p, l4, k->sport);
	known16(p, l4 + 2, k->dport);
	p->present = l4 + 4;
	if (k->flags & LC_FLOW_TCPFL) {
		known(p, l4 + 13, 0, (uint8_t)~f->tcp_flags);
		p->present = l4 + 14;
	}
}
