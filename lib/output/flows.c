/* SPDX-License-Identifier: BSD-3-Clause */
/* linecap-query --flows: directional index flows joined into conversations (flows.h has
 * the key, the rule for a and b, and the states). */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>

#include "linecap/flows.h"

#define TH_FIN	0x01u
#define TH_SYN	0x02u
#define TH_RST	0x04u
#define TH_ACK	0x10u

#define PROTO_ICMP	1
#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_ICMP6	58
#define PROTO_SCTP	132

/* A conversation's key, endpoints in canonical order (endpoint 0 sorts first). Built in
 * zeroed memory, compared and hashed as bytes. */
struct ckey {
	uint16_t ethertype;
	uint8_t nvlan;
	uint8_t kind;
	uint16_t tpid[2], vid[2];
	uint8_t proto;
	uint8_t family;
	uint16_t port[2];
	uint8_t addr[2][16];
};

/* What endpoint i sent. */
struct side {
	struct lc_conv_dir d;
	uint64_t opened_ns;	/* first_ns of its earliest flow with TCP flags */
	uint8_t opened_flags;	/* ... that flow's first packet's flags */
	uint8_t opened_known;
	uint64_t mark_first, mark_last;	/* of its flows without packets (known by a mark) */
	uint8_t marked_only;		/* it has such flows */
};

struct entry {
	struct ckey k;
	struct side s[2];
	uint8_t touched;	/* lc_conv_touch */
};

struct lc_conv_table {
	struct entry *e;
	size_t n, cap;		/* entries */
	uint32_t *slot;		/* open addressing: entry index + 1, 0 empty */
	size_t nslot;		/* a power of two, at least twice n */
};

struct lc_conv_table *
lc_conv_create(void)
{
	struct lc_conv_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->nslot = 64;
	t->slot = calloc(t->nslot, sizeof(*t->slot));
	if (t->slot == NULL) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void
lc_conv_free(struct lc_conv_table *t)
{
	if (t == NULL)
		return;
	free(t->e);
	free(t->slot);
	free(t);
}

size_t
lc_conv_count(const struct lc_conv_table *t)
{
	return t->n;
}

static uint64_t
key_hash(const struct ckey *k)
{
	const unsigned char *p = (const unsigned char *)k;
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (size_t i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static int
is_icmp(const struct lc_flow_key *fk)
{
	return ((fk->flags & LC_FLOW_IPV4) && fk->proto == PROTO_ICMP) ||
	       ((fk->flags & LC_FLOW_IPV6) && fk->proto == PROTO_ICMP6);
}

/* f's conversation key, and which endpoint sent f (0 or 1). */
static int
make_key(const struct lc_index_flow *f, struct ckey *k)
{
	const struct lc_flow_key *fk = &f->key;
	size_t alen;
	int cmp, from;

	memset(k, 0, sizeof(*k));
	k->ethertype = fk->ethertype;
	k->nvlan = fk->nvlan > 2 ? 2 : fk->nvlan;
	for (unsigned int i = 0; i < k->nvlan; i++) {
		k->tpid[i] = fk->tpid[i];
		k->vid[i] = fk->vid[i] & 0x0fff;
	}
	if (fk->flags & LC_FLOW_IPV4) {
		k->family = AF_INET;
		alen = 4;
	} else if (fk->flags & LC_FLOW_IPV6) {
		k->family = AF_INET6;
		alen = 16;
	} else {
		k->kind = LC_CONV_KIND_ETHER;
		return 0;
	}
	k->proto = fk->proto;
	k->kind = (fk->flags & LC_FLOW_PORTS) && !is_icmp(fk) ? LC_CONV_KIND_PORTS
							      : LC_CONV_KIND_ADDRS;
	cmp = memcmp(fk->src, fk->dst, alen);
	if (cmp == 0 && k->kind == LC_CONV_KIND_PORTS)
		cmp = fk->sport < fk->dport ? -1 : fk->sport > fk->dport;
	/* Endpoint 0 is the one that sorts first; a flow to itself is endpoint 0's. */
	from = cmp > 0;

	memcpy(k->addr[from], fk->src, alen);
	memcpy(k->addr[!from], fk->dst, alen);
	if (k->kind == LC_CONV_KIND_PORTS) {
		k->port[from] = fk->sport;
		k->port[!from] = fk->dport;
	}
	return from;
}

static int
grow_slots(struct lc_conv_table *t)
{
	size_t nslot = t->nslot * 2;
	uint32_t *slot = calloc(nslot, sizeof(*slot));

	if (slot == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = key_hash(&t->e[i].k) & (nslot - 1);

		while (slot[j] != 0)
			j = (j + 1) & (nslot - 1);
		slot[j] = (uint32_t)(i + 1);
	}
	free(t->slot);
	t->slot = slot;
	t->nslot = nslot;
	return 0;
}

/* The entry of k, or NULL; *at: its slot, or the empty slot where it would go. */
static struct entry *
find(const struct lc_conv_table *t, const struct ckey *k, size_t *at)
{
	size_t j = key_hash(k) & (t->nslot - 1);

	while (t->slot[j] != 0) {
		struct entry *e = &t->e[t->slot[j] - 1];

		if (memcmp(&e->k, k, sizeof(*k)) == 0) {
			*at = j;
			return e;
		}
		j = (j + 1) & (t->nslot - 1);
	}
	*at = j;
	return NULL;
}

/* The entry of k, added (zeroed) when absent; NULL when memory is out. */
static struct entry *
find_or_add(struct lc_conv_table *t, const struct ckey *k)
{
	struct entry *e;
	size_t j;

	if ((t->n + 1) * 2 > t->nslot) {
		if (t->n >= UINT32_MAX - 1 || grow_slots(t) != 0)
			return NULL;
	}
	e = find(t, k, &j);
	if (e != NULL)
		return e;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct entry *ne = realloc(t->e, cap * sizeof(*ne));

		if (ne == NULL)
			return NULL;
		t->e = ne;
		t->cap = cap;
	}
	memset(&t->e[t->n], 0, sizeof(t->e[t->n]));
	t->e[t->n].k = *k;
	t->slot[j] = (uint32_t)(t->n + 1);
	return &t->e[t->n++];
}

int
lc_conv_add(struct lc_conv_table *t, const struct lc_index_flow *f)
{
	struct ckey k;
	int from = make_key(f, &k);
	struct entry *e = find_or_add(t, &k);
	struct side *s;

	if (e == NULL)
		return -ENOMEM;
	s = &e->s[from];
	s->d.marks |= f->marks;
	if (f->packets == 0) {
		/* Known only by a mark: its times place the conversation if nothing else does. */
		if (!s->marked_only || f->first_ns < s->mark_first)
			s->mark_first = f->first_ns;
		if (!s->marked_only || f->last_ns > s->mark_last)
			s->mark_last = f->last_ns;
		s->marked_only = 1;
		return 0;
	}
	if (s->d.packets == 0 || f->first_ns < s->d.first_ns)
		s->d.first_ns = f->first_ns;
	if (s->d.packets == 0 || f->last_ns > s->d.last_ns)
		s->d.last_ns = f->last_ns;
	s->d.packets += f->packets;
	s->d.bytes += f->bytes;
	if (f->key.flags & LC_FLOW_TCPFL) {
		s->d.tcp_flags |= f->tcp_flags;
		s->d.flags_known = 1;
		if (!s->opened_known || f->first_ns < s->opened_ns) {
			s->opened_ns = f->first_ns;
			s->opened_flags = f->first_flags;
			s->opened_known = 1;
		}
	}
	return 0;
}

int
lc_conv_touch(struct lc_conv_table *t, const struct lc_index_flow *f)
{
	struct ckey k;
	struct entry *e;
	size_t at;

	make_key(f, &k);
	e = find(t, &k, &at);
	if (e == NULL)
		return -ENOENT;
	e->touched = 1;
	return 0;
}

void
lc_conv_keep_touched(struct lc_conv_table *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].touched)
			t->e[n++] = t->e[i];
	t->n = n;
	/* Rebuild the slots in place: the same size holds fewer entries. */
	memset(t->slot, 0, t->nslot * sizeof(*t->slot));
	for (size_t i = 0; i < t->n; i++) {
		size_t j = key_hash(&t->e[i].k) & (t->nslot - 1);

		while (t->slot[j] != 0)
			j = (j + 1) & (t->nslot - 1);
		t->slot[j] = (uint32_t)(i + 1);
	}
}

/* Whether the TCP rules apply: TCP with ports, and some flow's flags captured. */
static int
tcp_rules(const struct ckey *k, const struct side *x, const struct side *y)
{
	return k->kind == LC_CONV_KIND_PORTS && k->proto == PROTO_TCP &&
	       (x->d.flags_known || y->d.flags_known);
}

/* Rank of a side for rule 2 (lower starts): packets, then a mark only, then nothing. */
static void
side_start(const struct side *s, int *rank, uint64_t *ns)
{
	if (s->d.packets) {
		*rank = 0;
		*ns = s->d.first_ns;
	} else if (s->marked_only) {
		*rank = 1;
		*ns = s->mark_first;
	} else {
		*rank = 2;
		*ns = 0;
	}
}

/* Which endpoint is a (flows.h's rules 1-3). */
static int
pick_a(const struct entry *e)
{
	int syn_only[2], r0, r1;
	uint64_t t0, t1;

	if (e->k.kind == LC_CONV_KIND_ETHER)
		return 0;
	if (tcp_rules(&e->k, &e->s[0], &e->s[1])) {
		for (int i = 0; i < 2; i++) {
			uint8_t fl = e->s[i].opened_flags;

			syn_only[i] = e->s[i].opened_known && (fl & TH_SYN) && !(fl & TH_ACK);
		}
		if (syn_only[0] != syn_only[1])
			return syn_only[0] ? 0 : 1;
	}
	side_start(&e->s[0], &r0, &t0);
	side_start(&e->s[1], &r1, &t1);
	if (r0 != r1)
		return r0 < r1 ? 0 : 1;
	if (t0 != t1)
		return t0 < t1 ? 0 : 1;
	return 0;
}

static enum lc_conv_state
conv_state(const struct ckey *k, const struct side *a, const struct side *b)
{
	int both = a->d.packets && b->d.packets;
	int unreach = ((a->d.marks | b->d.marks) & LC_FLOW_MARK_UNREACH) != 0;

	if (k->kind == LC_CONV_KIND_ETHER)
		return LC_CONV_UNKNOWN;
	if (tcp_rules(k, a, b)) {
		uint8_t fa = a->d.tcp_flags, fb = b->d.tcp_flags;
		int rst = ((fa | fb) & TH_RST) != 0;

		if ((fa & TH_SYN) && (fb & TH_SYN))
			return rst ? LC_CONV_RESET : LC_CONV_ESTABLISHED;
		if ((fa & TH_SYN) && (fb & TH_RST))
			return LC_CONV_REFUSED;
		if (both)
			return rst ? LC_CONV_RESET : LC_CONV_ESTABLISHED;
		if (unreach)
			return LC_CONV_ICMP_UNREACHABLE;
		if (fa & TH_SYN)
			return LC_CONV_UNANSWERED;
		return LC_CONV_ONE_WAY;
	}
	if (both)
		return LC_CONV_ESTABLISHED;
	if (unreach)
		return LC_CONV_ICMP_UNREACHABLE;
	return LC_CONV_ONE_WAY;
}

/* First and last time over both sides' packets (over their marked flows if no packet). */
static void
conv_times(const struct entry *e, uint64_t *first, uint64_t *last)
{
	int pk = e->s[0].d.packets || e->s[1].d.packets, have = 0;

	*first = *last = 0;
	for (int i = 0; i < 2; i++) {
		const struct side *s = &e->s[i];
		uint64_t f = pk ? s->d.first_ns : s->mark_first;
		uint64_t l = pk ? s->d.last_ns : s->mark_last;

		if (pk ? s->d.packets == 0 : !s->marked_only)
			continue;
		if (!have || f < *first)
			*first = f;
		if (!have || l > *last)
			*last = l;
		have = 1;
	}
}

static void
fill_conv(const struct entry *e, struct lc_conv *c)
{
	int ai = pick_a(e), bi = !ai;
	const struct side *a = &e->s[ai], *b = &e->s[bi];
	size_t alen = e->k.family == AF_INET6 ? 16 : 4;

	memset(c, 0, sizeof(*c));
	c->ethertype = e->k.ethertype;
	c->nvlan = e->k.nvlan;
	c->kind = e->k.kind;
	memcpy(c->tpid, e->k.tpid, sizeof(c->tpid));
	memcpy(c->vid, e->k.vid, sizeof(c->vid));
	c->proto = e->k.proto;
	c->family = e->k.family;
	if (e->k.kind != LC_CONV_KIND_ETHER) {
		memcpy(c->a_addr, e->k.addr[ai], alen);
		memcpy(c->b_addr, e->k.addr[bi], alen);
		c->a_port = e->k.port[ai];
		c->b_port = e->k.port[bi];
	}
	c->ab = a->d;
	c->ba = b->d;
	conv_times(e, &c->first_ns, &c->last_ns);
	c->state = conv_state(&e->k, a, b);
}

struct order {
	uint64_t first_ns;
	const struct entry *e;
};

static int
order_cmp(const void *x, const void *y)
{
	const struct order *p = x, *q = y;

	if (p->first_ns != q->first_ns)
		return p->first_ns < q->first_ns ? -1 : 1;
	return memcmp(&p->e->k, &q->e->k, sizeof(p->e->k));
}

struct lc_conv *
lc_conv_list(const struct lc_conv_table *t, size_t *n)
{
	struct order *o = malloc((t->n ? t->n : 1) * sizeof(*o));
	struct lc_conv *c = malloc((t->n ? t->n : 1) * sizeof(*c));

	if (o == NULL || c == NULL) {
		free(o);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < t->n; i++) {
		uint64_t last;

		conv_times(&t->e[i], &o[i].first_ns, &last);
		o[i].e = &t->e[i];
	}
	qsort(o, t->n, sizeof(*o), order_cmp);
	for (size_t i = 0; i < t->n; i++)
		fill_conv(o[i].e, &c[i]);
	free(o);
	*n = t->n;
	return c;
}

const char *
lc_conv_state_name(enum lc_conv_state s)
{
	switch (s) {
	case LC_CONV_ESTABLISHED: return "established";
	case LC_CONV_REFUSED: return "refused";
	case LC_CONV_UNANSWERED: return "unanswered";
	case LC_CONV_RESET: return "reset";
	case LC_CONV_ICMP_UNREACHABLE: return "icmp-unreachable";
	case LC_CONV_ONE_WAY: return "one-way";
	case LC_CONV_UNKNOWN: return "unknown";
	}
	return "unknown";
}

const char *
lc_conv_tcp_flags(uint8_t flags, char *buf, size_t len)
{
	/* tcpdump's tcp_flag_values, in its order. */
	static const char sym[8] = { 'F', 'S', 'R', 'P', '.', 'U', 'E', 'W' };
	size_t k = 0;

	if (len == 0)
		return buf;
	if (flags == 0) {
		snprintf(buf, len, "none");
		return buf;
	}
	for (unsigned int i = 0; i < 8 && k + 1 < len; i++)
		if (flags & (1u << i))
			buf[k++] = sym[i];
	buf[k] = '\0';
	return buf;
}

/* RFC 3339, UTC, nanoseconds: 30 characters. */
static void
rfc3339(uint64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	char day[32];

	if (gmtime_r(&sec, &tm) == NULL || strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S",
							&tm) == 0) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%s.%09uZ", day, (unsigned int)(ns % 1000000000u));
}

static const char *
proto_name(const struct lc_conv *c)
{
	switch (c->proto) {
	case PROTO_TCP: return "tcp";
	case PROTO_UDP: return "udp";
	case PROTO_SCTP: return "sctp";
	case PROTO_ICMP: return c->family == AF_INET ? "icmp" : NULL;
	case PROTO_ICMP6: return c->family == AF_INET6 ? "icmp6" : NULL;
	}
	return NULL;
}

static void
addr_text(const struct lc_conv *c, const uint8_t *addr, char *buf, size_t len)
{
	if (inet_ntop(c->family, addr, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

/* Whether side d's TCP flags are shown, and as what. */
static const char *
side_flags(const struct lc_conv *c, const struct lc_conv_dir *d, char *buf, size_t len)
{
	if (c->kind != LC_CONV_KIND_PORTS || c->proto != PROTO_TCP || !d->flags_known)
		return NULL;
	return lc_conv_tcp_flags(d->tcp_flags, buf, len);
}

static json_t *
jint(uint64_t v)
{
	return json_integer(v > (uint64_t)LLONG_MAX ? LLONG_MAX : (json_int_t)v);
}

static json_t *
jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
endpoint_json(const struct lc_conv *c, const uint8_t *addr, uint16_t port)
{
	json_t *o = json_object();
	char text[INET6_ADDRSTRLEN];

	if (o == NULL)
		return NULL;
	if (c->kind == LC_CONV_KIND_ETHER) {
		json_object_set_new(o, "addr", json_null());
	} else {
		addr_text(c, addr, text, sizeof(text));
		json_object_set_new(o, "addr", json_string(text));
	}
	json_object_set_new(o, "port", c->kind == LC_CONV_KIND_PORTS ? json_integer(port)
								     : json_null());
	return o;
}

static json_t *
conv_json(const struct lc_conv *c)
{
	json_t *o = json_object(), *vlan = json_array();
	char t[40], fl[16];
	const char *pn = proto_name(c);

	if (o == NULL || vlan == NULL) {
		json_decref(o);
		json_decref(vlan);
		return NULL;
	}
	rfc3339(c->first_ns, t, sizeof(t));
	json_object_set_new(o, "first", json_string(t));
	json_object_set_new(o, "first_ns", jint(c->first_ns));
	rfc3339(c->last_ns, t, sizeof(t));
	json_object_set_new(o, "last", json_string(t));
	json_object_set_new(o, "last_ns", jint(c->last_ns));
	for (unsigned int i = 0; i < c->nvlan; i++)
		json_array_append_new(vlan, json_integer(c->vid[i]));
	json_object_set_new(o, "vlan", vlan);
	json_object_set_new(o, "ethertype", json_integer(c->ethertype));
	if (c->kind == LC_CONV_KIND_ETHER)
		json_object_set_new(o, "proto", json_null());
	else
		json_object_set_new(o, "proto", pn ? json_string(pn) : json_integer(c->proto));
	json_object_set_new(o, "a", endpoint_json(c, c->a_addr, c->a_port));
	json_object_set_new(o, "b", endpoint_json(c, c->b_addr, c->b_port));
	json_object_set_new(o, "packets_ab", jint(c->ab.packets));
	json_object_set_new(o, "packets_ba", jint(c->ba.packets));
	json_object_set_new(o, "bytes_ab", jint(c->ab.bytes));
	json_object_set_new(o, "bytes_ba", jint(c->ba.bytes));
	json_object_set_new(o, "flags_ab", jstr_or_null(side_flags(c, &c->ab, fl, sizeof(fl))));
	json_object_set_new(o, "flags_ba", jstr_or_null(side_flags(c, &c->ba, fl, sizeof(fl))));
	json_object_set_new(o, "unreachable",
			    json_boolean((c->ab.marks | c->ba.marks) & LC_FLOW_MARK_UNREACH));
	json_object_set_new(o, "state", json_string(lc_conv_state_name(c->state)));
	return o;
}

int
lc_conv_print_json(FILE *out, const struct lc_conv_table *t)
{
	size_t n;
	struct lc_conv *c = lc_conv_list(t, &n);
	int rc = 0;

	if (c == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *o = conv_json(&c[i]);

		if (o == NULL) {
			rc = -ENOMEM;
			break;
		}
		if (json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
		    fputc('\n', out) == EOF)
			rc = -EIO;
		json_decref(o);
	}
	free(c);
	if (rc == 0 && (fflush(out) != 0 || ferror(out)))
		rc = -EIO;
	return rc;
}

/* --- the table --- */

enum { COL_FIRST, COL_LAST, COL_VLAN, COL_PROTO, COL_A, COL_B, COL_STATE, COL_PKTS,
       COL_BYTES, COL_FLAGS, NCOL };
#define CELL 64

static const char *const header[NCOL] = {
	"FIRST", "LAST", "VLAN", "PROTO", "A", "B", "STATE", "PKTS", "BYTES", "FLAGS",
};

static void
endpoint_cell(const struct lc_conv *c, const uint8_t *addr, uint16_t port, char *cell)
{
	char text[INET6_ADDRSTRLEN];

	if (c->kind == LC_CONV_KIND_ETHER) {
		snprintf(cell, CELL, "-");
		return;
	}
	addr_text(c, addr, text, sizeof(text));
	if (c->kind != LC_CONV_KIND_PORTS)
		snprintf(cell, CELL, "%s", text);
	else if (c->family == AF_INET6)
		snprintf(cell, CELL, "[%s]:%u", text, port);
	else
		snprintf(cell, CELL, "%s:%u", text, port);
}

/* One side's flags in the FLAGS cell: "-" it sent nothing, "?" not captured. */
static const char *
flags_cell_part(const struct lc_conv *c, const struct lc_conv_dir *d, char *buf, size_t len)
{
	const char *s;

	if (d->packets == 0)
		return "-";
	s = side_flags(c, d, buf, len);
	return s ? s : "?";
}

static void
row_cells(const struct lc_conv *c, char cell[NCOL][CELL])
{
	const char *pn = proto_name(c);
	char fa[16], fb[16];

	rfc3339(c->first_ns, cell[COL_FIRST], CELL);
	rfc3339(c->last_ns, cell[COL_LAST], CELL);
	if (c->nvlan == 0)
		snprintf(cell[COL_VLAN], CELL, "-");
	else if (c->nvlan == 1)
		snprintf(cell[COL_VLAN], CELL, "%u", c->vid[0]);
	else
		snprintf(cell[COL_VLAN], CELL, "%u,%u", c->vid[0], c->vid[1]);
	if (c->kind == LC_CONV_KIND_ETHER)
		snprintf(cell[COL_PROTO], CELL, "0x%04x", c->ethertype);
	else if (pn)
		snprintf(cell[COL_PROTO], CELL, "%s", pn);
	else
		snprintf(cell[COL_PROTO], CELL, "%u", c->proto);
	endpoint_cell(c, c->a_addr, c->a_port, cell[COL_A]);
	endpoint_cell(c, c->b_addr, c->b_port, cell[COL_B]);
	snprintf(cell[COL_STATE], CELL, "%s", lc_conv_state_name(c->state));
	snprintf(cell[COL_PKTS], CELL, "%llu/%llu", (unsigned long long)c->ab.packets,
		 (unsigned long long)c->ba.packets);
	snprintf(cell[COL_BYTES], CELL, "%llu/%llu", (unsigned long long)c->ab.bytes,
		 (unsigned long long)c->ba.bytes);
	if (c->kind == LC_CONV_KIND_PORTS && c->proto == PROTO_TCP &&
	    (c->ab.flags_known || c->ba.flags_known))
		snprintf(cell[COL_FLAGS], CELL, "%s/%s",
			 flags_cell_part(c, &c->ab, fa, sizeof(fa)),
			 flags_cell_part(c, &c->ba, fb, sizeof(fb)));
	else
		snprintf(cell[COL_FLAGS], CELL, "-");
}

static void
print_row(FILE *out, char cell[NCOL][CELL], const int *width)
{
	for (int j = 0; j < NCOL; j++) {
		if (j == NCOL - 1)
			fprintf(out, "%s\n", cell[j]);
		else
			fprintf(out, "%-*s  ", width[j], cell[j]);
	}
}

int
lc_conv_print_table(FILE *out, const struct lc_conv_table *t)
{
	size_t n;
	struct lc_conv *c = lc_conv_list(t, &n);
	char (*cells)[NCOL][CELL];
	char head[NCOL][CELL];
	int width[NCOL];

	if (c == NULL)
		return -ENOMEM;
	cells = malloc((n ? n : 1) * sizeof(*cells));
	if (cells == NULL) {
		free(c);
		return -ENOMEM;
	}
	for (int j = 0; j < NCOL; j++) {
		snprintf(head[j], CELL, "%s", header[j]);
		width[j] = (int)strlen(header[j]);
	}
	for (size_t i = 0; i < n; i++) {
		row_cells(&c[i], cells[i]);
		for (int j = 0; j < NCOL; j++) {
			int w = (int)strlen(cells[i][j]);

			if (w > width[j])
				width[j] = w;
		}
	}
	print_row(out, head, width);
	for (size_t i = 0; i < n; i++)
		print_row(out, cells[i], width);
	free(cells);
	free(c);
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}
