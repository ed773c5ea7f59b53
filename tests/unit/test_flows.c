/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linecap-query --flows' conversations (lib/output/flows.c): every state from hand-built
 * index flows, which side is a, flows of several files summed, IPv6, VLAN, ICMP, non-IP,
 * the JSON lines (parsed back with jansson, every field), the table's columns, and the
 * query's touched conversations.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <jansson.h>

#include "lc_test.h"

#include "linecap/flows.h"

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

#define T0 1767225600173014122ull	/* 2026-01-01T00:00:00.173014122Z */

/* A directional flow: family AF_INET/AF_INET6, protocol, endpoints, times, counts, flags
 * (TCP flows: flags byte captured). */
static struct lc_index_flow
flow(int family, uint8_t proto, const char *src, uint16_t sport, const char *dst,
     uint16_t dport, uint64_t first, uint64_t last, uint64_t packets, uint64_t bytes,
     uint8_t flags)
{
	struct lc_index_flow f;

	memset(&f, 0, sizeof(f));
	f.key.ethertype = family == AF_INET ? 0x0800 : 0x86dd;
	f.key.flags = (family == AF_INET ? LC_FLOW_IPV4 : LC_FLOW_IPV6) | LC_FLOW_PORTS;
	if (proto == 6)
		f.key.flags |= LC_FLOW_TCPFL;
	f.key.proto = proto;
	f.key.ihl = family == AF_INET ? 5 : 0;
	f.key.sport = sport;
	f.key.dport = dport;
	if (inet_pton(family, src, f.key.src) != 1 || inet_pton(family, dst, f.key.dst) != 1) {
		fprintf(stderr, "bad address %s or %s\n", src, dst);
		exit(1);
	}
	f.first_ns = first;
	f.last_ns = last;
	f.packets = packets;
	f.bytes = bytes;
	f.tcp_flags = proto == 6 ? flags : 0;
	/* Its first packet: a SYN alone where the OR has SYN without ACK, else the OR's SYN and
	 * ACK (tests of the first packet's own rule set it). */
	f.first_flags = f.tcp_flags & (F_SYN | F_ACK);
	return f;
}

static struct lc_index_flow
tcp4(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint64_t first,
     uint64_t packets, uint8_t flags)
{
	return flow(AF_INET, 6, src, sport, dst, dport, first, first + 1000, packets,
		    packets * 60, flags);
}

static void
add(struct lc_conv_table *t, struct lc_index_flow f)
{
	CHECK(lc_conv_add(t, &f) == 0);
}

/* The only conversation of t (checked to be the only one). */
static struct lc_conv
only(const struct lc_conv_table *t)
{
	struct lc_conv c;
	size_t n = 99;
	struct lc_conv *l = lc_conv_list(t, &n);

	memset(&c, 0, sizeof(c));
	CHECK(l != NULL);
	CHECK_EQ_U64(n, 1);
	if (l != NULL && n >= 1)
		c = l[0];
	free(l);
	return c;
}

static void
check_state(const struct lc_conv *c, enum lc_conv_state want, int line)
{
	if (c->state != want)
		fprintf(stderr, "line %d: state %s, want %s\n", line, lc_conv_state_name(c->state),
			lc_conv_state_name(want));
	CHECK(c->state == want);
}
#define STATE(c, s) check_state(&(c), (s), __LINE__)

static int
addr_is(const struct lc_conv *c, const uint8_t *addr, const char *text)
{
	uint8_t want[16] = { 0 };

	if (inet_pton(c->family, text, want) != 1)
		return 0;
	return memcmp(addr, want, c->family == AF_INET ? 4 : 16) == 0;
}

/* One table holding flows fs[0..n), its conversation, freed. */
static struct lc_conv
one(const struct lc_index_flow *fs, size_t n)
{
	struct lc_conv_table *t = lc_conv_create();
	struct lc_conv c;

	CHECK(t != NULL);
	for (size_t i = 0; i < n; i++)
		CHECK(lc_conv_add(t, &fs[i]) == 0);
	c = only(t);
	lc_conv_free(t);
	return c;
}

static void
test_tcp_states(void)
{
	struct lc_conv c;

	/* established: the client 10.0.0.9 sorts after its server, so a is not key order */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.2", 80, "10.0.0.9", 40000, T0 + 10, 4, F_SYN | F_ACK | F_PSH | F_FIN),
			tcp4("10.0.0.9", 40000, "10.0.0.2", 80, T0, 5, F_SYN | F_ACK | F_PSH | F_FIN),
		};
		c = one(fs, 2);
		STATE(c, LC_CONV_ESTABLISHED);
		CHECK(addr_is(&c, c.a_addr, "10.0.0.9") && c.a_port == 40000);
		CHECK(addr_is(&c, c.b_addr, "10.0.0.2") && c.b_port == 80);
		CHECK_EQ_U64(c.ab.packets, 5);
		CHECK_EQ_U64(c.ba.packets, 4);
		CHECK_EQ_U64(c.first_ns, T0);
		CHECK_EQ_U64(c.last_ns, T0 + 1010);
		CHECK(c.kind == LC_CONV_KIND_PORTS && c.family == AF_INET && c.proto == 6);
	}
	/* a SYN without ACK decides a even when the other side's first packet is earlier */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.2", 80, "10.0.0.9", 40000, T0, 1, F_SYN | F_ACK),
			tcp4("10.0.0.9", 40000, "10.0.0.2", 80, T0 + 50, 2, F_SYN),
		};
		c = one(fs, 2);
		STATE(c, LC_CONV_ESTABLISHED);
		CHECK(addr_is(&c, c.a_addr, "10.0.0.9") && c.a_port == 40000);
		CHECK(c.ab.tcp_flags == F_SYN && c.ba.tcp_flags == (F_SYN | F_ACK));
	}
	/* both sides' flags hold SYN and ACK (a handshake): the side whose first packet was a
	 * SYN alone is a, though the other sorts first and its first packet is as early */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.2", 80, "10.0.0.9", 40000, T0, 4, F_SYN | F_ACK | F_PSH),
			tcp4("10.0.0.9", 40000, "10.0.0.2", 80, T0, 5, F_SYN | F_ACK | F_PSH),
		};
		fs[1].first_flags = F_SYN;
		c = one(fs, 2);
		STATE(c, LC_CONV_ESTABLISHED);
		CHECK(addr_is(&c, c.a_addr, "10.0.0.9") && c.a_port == 40000);
	}
	/* refused: SYN, answered by RST|ACK, no SYN from b (b sorts first, answers first) */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.1", 22, "10.0.0.9", 50000, T0, 3, F_RST | F_ACK),
			tcp4("10.0.0.9", 50000, "10.0.0.1", 22, T0 + 1, 3, F_SYN),
		};
		c = one(fs, 2);
		STATE(c, LC_CONV_REFUSED);
		CHECK(addr_is(&c, c.a_addr, "10.0.0.9") && c.a_port == 50000);
		CHECK(c.ba.tcp_flags == (F_RST | F_ACK));
	}
	/* unanswered: SYNs in two files, nothing back */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.9", 50001, "10.0.0.1", 443, T0, 1, F_SYN),
			tcp4("10.0.0.9", 50001, "10.0.0.1", 443, T0 + 3000000000ull, 2, F_SYN),
		};
		c = one(fs, 2);
		STATE(c, LC_CONV_UNANSWERED);
		CHECK_EQ_U64(c.ab.packets, 3);
		CHECK_EQ_U64(c.ba.packets, 0);
		CHECK(c.ba.flags_known == 0);
		CHECK_EQ_U64(c.last_ns, T0 + 3000001000ull);
	}
	/* reset: a handshake, then a RST from either side */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.9", 50002, "10.0.0.1", 443, T0, 4, F_SYN | F_ACK | F_PSH),
			tcp4("10.0.0.1", 443, "10.0.0.9", 50002, T0 + 1, 4,
			     F_SYN | F_ACK | F_PSH | F_RST),
		};
		c = one(fs, 2);
		STATE(c, LC_CONV_RESET);
		CHECK(addr_is(&c, c.a_addr, "10.0.0.9"));
	}
	/* reset, no handshake seen (it was before the capture): packets both ways and a RST */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.9", 50003, "10.0.0.1", 443, T0, 4, F_ACK | F_PSH | F_RST),
			tcp4("10.0.0.1", 443, "10.0.0.9", 50003, T0 + 1, 4, F_ACK | F_PSH),
		};
		c = one(fs, 2);
		STATE(c, LC_CONV_RESET);
		CHECK(addr_is(&c, c.a_addr, "10.0.0.9"));	/* first packet */
	}
	/* established, no handshake seen: packets both ways, no RST */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.9", 50004, "10.0.0.1", 443, T0 + 5, 4, F_ACK | F_PSH),
			tcp4("10.0.0.1", 443, "10.0.0.9", 50004, T0 + 2, 4, F_ACK | F_PSH),
		};
		c = one(fs, 2);
		STATE(c, LC_CONV_ESTABLISHED);
		CHECK(addr_is(&c, c.a_addr, "10.0.0.1") && c.a_port == 443);	/* first packet */
	}
	/* no SYN from a, a RST from b after a's packets: reset, not refused */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.9", 50010, "10.0.0.1", 443, T0, 1, F_ACK),
			tcp4("10.0.0.1", 443, "10.0.0.9", 50010, T0 + 1, 1, F_RST),
		};
		c = one(fs, 2);
		STATE(c, LC_CONV_RESET);
		CHECK(addr_is(&c, c.a_addr, "10.0.0.9"));
	}
	/* packets both ways (handshake not seen) and an unreachable: the exchange wins */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.9", 50011, "10.0.0.1", 443, T0, 4, F_ACK | F_PSH),
			tcp4("10.0.0.1", 443, "10.0.0.9", 50011, T0 + 1, 4, F_ACK | F_PSH),
		};
		fs[1].marks = LC_FLOW_MARK_UNREACH;
		c = one(fs, 2);
		STATE(c, LC_CONV_ESTABLISHED);
		c = one(&fs[1], 1);
		STATE(c, LC_CONV_ICMP_UNREACHABLE);
	}
	/* one-way: ACKs one way, no SYN */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.1", 443, "10.0.0.9", 50005, T0, 7, F_ACK),
		};
		c = one(fs, 1);
		STATE(c, LC_CONV_ONE_WAY);
		CHECK(addr_is(&c, c.a_addr, "10.0.0.1") && c.a_port == 443);
	}
	/* icmp-unreachable: a SYN whose packet an ICMP unreachable quoted, nothing from b */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.9", 50006, "10.0.0.7", 443, T0, 2, F_SYN),
		};
		fs[0].marks = LC_FLOW_MARK_UNREACH;
		c = one(fs, 1);
		STATE(c, LC_CONV_ICMP_UNREACHABLE);
	}
	/* an established connection with a "fragmentation needed" stays established */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.9", 50007, "10.0.0.1", 443, T0, 4, F_SYN | F_ACK),
			tcp4("10.0.0.1", 443, "10.0.0.9", 50007, T0 + 1, 4, F_SYN | F_ACK),
		};
		fs[0].marks = LC_FLOW_MARK_UNREACH;
		c = one(fs, 2);
		STATE(c, LC_CONV_ESTABLISHED);
		CHECK(c.ab.marks == LC_FLOW_MARK_UNREACH);
	}
	/* a SYN scan's half-open: SYN, SYN|ACK, then the scanner's RST: reset */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.9", 50008, "10.0.0.1", 8080, T0, 2, F_SYN | F_RST),
			tcp4("10.0.0.1", 8080, "10.0.0.9", 50008, T0 + 1, 1, F_SYN | F_ACK),
		};
		c = one(fs, 2);
		STATE(c, LC_CONV_RESET);
		CHECK(addr_is(&c, c.a_addr, "10.0.0.9"));
	}
	/* TCP whose flags byte was never captured: other protocols' rules, flags unknown */
	{
		struct lc_index_flow fs[] = {
			tcp4("10.0.0.9", 50009, "10.0.0.1", 80, T0, 3, 0),
			tcp4("10.0.0.1", 80, "10.0.0.9", 50009, T0 + 1, 3, 0),
		};
		fs[0].key.flags &= (uint8_t)~LC_FLOW_TCPFL;
		fs[1].key.flags &= (uint8_t)~LC_FLOW_TCPFL;
		fs[0].tcp_flags = F_RST;	/* not captured: not believed */
		c = one(fs, 2);
		STATE(c, LC_CONV_ESTABLISHED);
		CHECK(!c.ab.flags_known && !c.ba.flags_known && c.ab.tcp_flags == 0);
	}
}

static void
test_other_states(void)
{
	struct lc_conv c;

	/* UDP both ways: established; one way: one-way; one way with a mark: unreachable */
	{
		struct lc_index_flow fs[] = {
			flow(AF_INET, 17, "10.0.0.9", 5353, "10.0.0.53", 53, T0, T0 + 9, 1, 80, 0),
			flow(AF_INET, 17, "10.0.0.53", 53, "10.0.0.9", 5353, T0 + 3, T0 + 4, 1, 200,
			     0),
		};
		c = one(fs, 2);
		STATE(c, LC_CONV_ESTABLISHED);
		CHECK(addr_is(&c, c.a_addr, "10.0.0.9") && c.a_port == 5353);
		CHECK_EQ_U64(c.ab.bytes, 80);
		CHECK_EQ_U64(c.ba.bytes, 200);
		CHECK_EQ_U64(c.last_ns, T0 + 9);
		c = one(fs, 1);
		STATE(c, LC_CONV_ONE_WAY);
		fs[0].marks = LC_FLOW_MARK_UNREACH;
		c = one(fs, 1);
		STATE(c, LC_CONV_ICMP_UNREACHABLE);
		c = one(fs, 2);	/* a reply came: the exchange wins over the mark */
		STATE(c, LC_CONV_ESTABLISHED);
	}
	/* the mark on a flow known only by it (no packets) in another file */
	{
		struct lc_index_flow fs[] = {
			flow(AF_INET, 17, "10.0.0.9", 5000, "10.0.0.8", 69, T0, T0 + 5, 2, 100, 0),
			flow(AF_INET, 17, "10.0.0.9", 5000, "10.0.0.8", 69, T0 + 100, T0 + 100, 0,
			     0, 0),
		};
		fs[1].marks = LC_FLOW_MARK_UNREACH;
		c = one(fs, 2);
		STATE(c, LC_CONV_ICMP_UNREACHABLE);
		CHECK_EQ_U64(c.ab.packets, 2);
		CHECK_EQ_U64(c.last_ns, T0 + 5);	/* times are the packets' */
		c = one(&fs[1], 1);
		STATE(c, LC_CONV_ICMP_UNREACHABLE);
		CHECK_EQ_U64(c.first_ns, T0 + 100);	/* no packets: the mark's flow's */
		CHECK(addr_is(&c, c.a_addr, "10.0.0.9") && c.a_port == 5000);
	}
	/* ICMP: request (type 8) and reply (type 0) in sport: one conversation, addresses only */
	{
		struct lc_index_flow fs[] = {
			flow(AF_INET, 1, "10.0.0.9", 8, "10.0.0.1", 0, T0, T0 + 1, 3, 294, 0),
			flow(AF_INET, 1, "10.0.0.1", 0, "10.0.0.9", 0, T0 + 2, T0 + 3, 3, 294, 0),
		};
		c = one(fs, 2);
		STATE(c, LC_CONV_ESTABLISHED);
		CHECK(c.kind == LC_CONV_KIND_ADDRS);
		CHECK(addr_is(&c, c.a_addr, "10.0.0.9") && c.a_port == 0 && c.b_port == 0);
		c = one(fs, 1);
		STATE(c, LC_CONV_ONE_WAY);
	}
	/* ICMPv6 likewise */
	{
		struct lc_index_flow fs[] = {
			flow(AF_INET6, 58, "2001:db8::9", 128, "2001:db8::1", 0, T0, T0, 1, 70, 0),
			flow(AF_INET6, 58, "2001:db8::1", 129, "2001:db8::9", 0, T0 + 1, T0 + 1, 1,
			     70, 0),
		};
		c = one(fs, 2);
		STATE(c, LC_CONV_ESTABLISHED);
		CHECK(c.kind == LC_CONV_KIND_ADDRS && c.family == AF_INET6);
	}
	/* non-IP (ARP): ethertype and VLAN only, state unknown */
	{
		struct lc_index_flow fs[2];

		memset(fs, 0, sizeof(fs));
		for (int i = 0; i < 2; i++) {
			fs[i].key.ethertype = 0x0806;
			fs[i].first_ns = T0 + (uint64_t)i;
			fs[i].last_ns = T0 + 10 + (uint64_t)i;
			fs[i].packets = 2;
			fs[i].bytes = 120;
		}
		fs[1].key.src[0] = 7;	/* no addresses in a non-IP key: ignored */
		c = one(fs, 2);
		STATE(c, LC_CONV_UNKNOWN);
		CHECK(c.kind == LC_CONV_KIND_ETHER && c.family == 0);
		CHECK_EQ_U64(c.ab.packets, 4);
		CHECK_EQ_U64(c.ba.packets, 0);
	}
	/* TCP fragments (no ports): their own conversation by addresses */
	{
		struct lc_conv_table *t = lc_conv_create();
		struct lc_index_flow fr = tcp4("10.0.0.9", 0, "10.0.0.1", 0, T0, 2, 0);

		fr.key.flags = LC_FLOW_IPV4 | LC_FLOW_FRAG;
		add(t, tcp4("10.0.0.9", 1234, "10.0.0.1", 80, T0, 2, F_SYN));
		add(t, fr);
		CHECK_EQ_U64(lc_conv_count(t), 2);
		lc_conv_free(t);
	}
}

static void
test_sum_files(void)
{
	/* the same directional flows from three files */
	struct lc_conv_table *t = lc_conv_create();
	struct lc_conv c;

	add(t, tcp4("192.168.1.100", 51000, "93.184.216.34", 443, T0 + 2000, 10, F_ACK | F_PSH));
	add(t, tcp4("192.168.1.100", 51000, "93.184.216.34", 443, T0, 3, F_SYN | F_ACK));
	add(t, tcp4("93.184.216.34", 443, "192.168.1.100", 51000, T0 + 1, 2, F_SYN | F_ACK));
	add(t, tcp4("93.184.216.34", 443, "192.168.1.100", 51000, T0 + 5000, 20,
		    F_ACK | F_PSH | F_FIN));
	add(t, tcp4("192.168.1.100", 51000, "93.184.216.34", 443, T0 + 9000, 1, F_ACK | F_FIN));
	c = only(t);
	STATE(c, LC_CONV_ESTABLISHED);
	CHECK(addr_is(&c, c.a_addr, "192.168.1.100") && c.a_port == 51000);
	CHECK_EQ_U64(c.ab.packets, 14);
	CHECK_EQ_U64(c.ba.packets, 22);
	CHECK_EQ_U64(c.ab.bytes, 14 * 60);
	CHECK_EQ_U64(c.ba.bytes, 22 * 60);
	CHECK_EQ_U64(c.ab.first_ns, T0);
	CHECK_EQ_U64(c.ab.last_ns, T0 + 10000);
	CHECK_EQ_U64(c.ba.first_ns, T0 + 1);
	CHECK_EQ_U64(c.ba.last_ns, T0 + 6000);
	CHECK_EQ_U64(c.first_ns, T0);
	CHECK_EQ_U64(c.last_ns, T0 + 10000);
	CHECK(c.ab.tcp_flags == (F_SYN | F_ACK | F_PSH | F_FIN));
	CHECK(c.ba.tcp_flags == (F_SYN | F_ACK | F_PSH | F_FIN));
	/* a later RST in a fourth file turns it into reset */
	add(t, tcp4("93.184.216.34", 443, "192.168.1.100", 51000, T0 + 20000, 1, F_RST));
	c = only(t);
	STATE(c, LC_CONV_RESET);
	lc_conv_free(t);
}

static void
test_ipv6_vlan(void)
{
	struct lc_conv_table *t = lc_conv_create();
	struct lc_index_flow f;
	struct lc_conv *l;
	size_t n = 0;

	/* the same 5-tuple untagged, in VLAN 100, and in 100 inside 200 (Q-in-Q): three */
	for (int v = 0; v < 3; v++) {
		for (int dir = 0; dir < 2; dir++) {
			f = dir ? flow(AF_INET6, 6, "2001:db8::1", 443, "2001:db8::abcd", 40000,
				       T0 + 10 * (uint64_t)v + 1, T0 + 100, 2, 200, F_SYN | F_ACK)
				: flow(AF_INET6, 6, "2001:db8::abcd", 40000, "2001:db8::1", 443,
				       T0 + 10 * (uint64_t)v, T0 + 90, 3, 300, F_SYN);
			f.key.nvlan = (uint8_t)v;
			f.key.tpid[0] = v == 2 ? 0x88a8 : 0x8100;
			f.key.vid[0] = v == 2 ? 200 : 100;
			f.key.tpid[1] = v == 2 ? 0x8100 : 0;
			f.key.vid[1] = v == 2 ? 100 : 0;
			if (v < 2)	/* tags past nvlan are not part of the key */
				f.key.vid[1] = 999;
			if (v == 0)
				f.key.vid[0] = 999;
			add(t, f);
		}
	}
	l = lc_conv_list(t, &n);
	CHECK(l != NULL);
	CHECK_EQ_U64(n, 3);
	for (size_t i = 0; l != NULL && i < n && i < 3; i++) {
		CHECK(l[i].nvlan == i);	/* sorted by first time: 0, 10, 20 */
		CHECK_EQ_U64(l[i].first_ns, T0 + 10 * i);
		CHECK(l[i].family == AF_INET6);
		CHECK(addr_is(&l[i], l[i].a_addr, "2001:db8::abcd") && l[i].a_port == 40000);
		CHECK(addr_is(&l[i], l[i].b_addr, "2001:db8::1") && l[i].b_port == 443);
		STATE(l[i], LC_CONV_ESTABLISHED);
	}
	if (l != NULL && n == 3) {
		CHECK(l[1].vid[0] == 100 && l[1].vid[1] == 0);
		CHECK(l[2].vid[0] == 200 && l[2].vid[1] == 100 && l[2].tpid[0] == 0x88a8);
		CHECK(l[0].vid[0] == 0);
	}
	free(l);
	lc_conv_free(t);
}

/* Equal first times: the same order whatever the order of the adds. */
static void
test_order(void)
{
	struct lc_conv_table *t1 = lc_conv_create(), *t2 = lc_conv_create();
	struct lc_index_flow fs[40];
	struct lc_conv *l1, *l2;
	size_t n1 = 0, n2 = 0;
	char src[32];

	for (int i = 0; i < 40; i++) {
		snprintf(src, sizeof(src), "10.1.%d.%d", i % 7, i);
		fs[i] = tcp4(src, (uint16_t)(1000 + i), "10.0.0.1", 80,
			     i % 2 ? T0 : T0 - 5 + (uint64_t)(i % 3), 1, F_SYN);
	}
	for (int i = 0; i < 40; i++) {
		add(t1, fs[i]);
		add(t2, fs[39 - i]);
	}
	l1 = lc_conv_list(t1, &n1);
	l2 = lc_conv_list(t2, &n2);
	CHECK(l1 != NULL && l2 != NULL);
	CHECK_EQ_U64(n1, 40);
	CHECK_EQ_U64(n2, 40);
	if (l1 != NULL && l2 != NULL && n1 == 40 && n2 == 40) {
		CHECK(memcmp(l1, l2, 40 * sizeof(*l1)) == 0);
		for (int i = 1; i < 40; i++)
			CHECK(l1[i - 1].first_ns <= l1[i].first_ns);
	}
	free(l1);
	free(l2);
	lc_conv_free(t1);
	lc_conv_free(t2);
}

/* Many conversations (the hash table grows), each with both directions found again. */
static void
test_many(void)
{
	struct lc_conv_table *t = lc_conv_create();
	struct lc_conv *l;
	size_t n = 0, ok = 0;
	char a[32];

	for (int dir = 0; dir < 2; dir++) {
		for (int i = 0; i < 20000; i++) {
			snprintf(a, sizeof(a), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
			add(t, dir ? tcp4("172.16.0.1", 443, a, (uint16_t)(i | 1024), T0 + 1 +
					  (uint64_t)i, 1, F_SYN | F_ACK)
				   : tcp4(a, (uint16_t)(i | 1024), "172.16.0.1", 443,
					  T0 + (uint64_t)i, 1, F_SYN));
		}
	}
	CHECK_EQ_U64(lc_conv_count(t), 20000);
	l = lc_conv_list(t, &n);
	for (size_t i = 0; l != NULL && i < n; i++)
		ok += l[i].state == LC_CONV_ESTABLISHED && l[i].b_port == 443 &&
		      l[i].ab.packets == 1 && l[i].ba.packets == 1 && l[i].first_ns == T0 + i;
	CHECK_EQ_U64(ok, 20000);
	free(l);
	lc_conv_free(t);
}

/* The query's way: every flow in, the touched conversations kept whole. */
static void
test_touch(void)
{
	struct lc_conv_table *t = lc_conv_create();
	struct lc_index_flow f[6];
	struct lc_conv *l;
	size_t n = 0;

	f[0] = tcp4("10.0.0.9", 1000, "10.0.0.1", 80, T0, 2, F_SYN);
	f[1] = tcp4("10.0.0.1", 80, "10.0.0.9", 1000, T0 + 1, 2, F_RST | F_ACK);
	f[2] = tcp4("10.0.0.9", 1001, "10.0.0.1", 80, T0 + 2, 2, F_SYN);
	f[3] = tcp4("10.0.0.9", 1002, "10.0.0.1", 80, T0 + 3, 2, F_SYN);
	f[4] = tcp4("10.0.0.1", 80, "10.0.0.9", 1002, T0 + 4, 2, F_SYN | F_ACK);
	f[5] = tcp4("10.0.0.9", 1003, "10.0.0.1", 80, T0 + 5, 2, F_SYN);
	for (int i = 0; i < 6; i++)
		add(t, f[i]);
	CHECK_EQ_U64(lc_conv_count(t), 4);
	CHECK(lc_conv_touch(t, &f[1]) == 0);	/* by its reply */
	CHECK(lc_conv_touch(t, &f[3]) == 0);
	CHECK(lc_conv_touch(t, &f[4]) == 0);	/* twice: once kept */
	{
		struct lc_index_flow other = tcp4("10.0.0.8", 1, "10.0.0.1", 80, T0, 1, F_SYN);

		CHECK(lc_conv_touch(t, &other) == -ENOENT);
	}
	lc_conv_keep_touched(t);
	CHECK_EQ_U64(lc_conv_count(t), 2);
	l = lc_conv_list(t, &n);
	CHECK_EQ_U64(n, 2);
	if (l != NULL && n == 2) {
		CHECK(l[0].a_port == 1000 && l[0].state == LC_CONV_REFUSED);
		CHECK_EQ_U64(l[0].ab.packets + l[0].ba.packets, 4);	/* both directions */
		CHECK(l[1].a_port == 1002 && l[1].state == LC_CONV_ESTABLISHED);
	}
	free(l);
	/* what stays is still found and summed; what went comes back untouched */
	add(t, f[4]);
	CHECK_EQ_U64(lc_conv_count(t), 2);
	l = lc_conv_list(t, &n);
	if (l != NULL && n == 2)
		CHECK_EQ_U64(l[1].ba.packets, 4);
	free(l);
	add(t, f[0]);
	add(t, f[2]);
	CHECK_EQ_U64(lc_conv_count(t), 3);
	l = lc_conv_list(t, &n);
	if (l != NULL && n == 3)
		CHECK_EQ_U64(l[0].ab.packets, 4);
	free(l);
	lc_conv_keep_touched(t);
	CHECK_EQ_U64(lc_conv_count(t), 2);
	lc_conv_keep_touched(t);
	CHECK_EQ_U64(lc_conv_count(t), 2);
	lc_conv_free(t);
	lc_conv_free(NULL);

	/* many: every third kept, then every flow added again */
	t = lc_conv_create();
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 3000; i++) {
			struct lc_index_flow g = tcp4("10.2.0.1", (uint16_t)(2000 + i), "10.0.0.1",
						      80, T0 + (uint64_t)i, 1, F_SYN);

			add(t, g);
			if (pass == 0 && i % 3 == 0)
				CHECK(lc_conv_touch(t, &g) == 0);
		}
		if (pass == 0) {
			lc_conv_keep_touched(t);
			CHECK_EQ_U64(lc_conv_count(t), 1000);
		}
	}
	CHECK_EQ_U64(lc_conv_count(t), 3000);
	l = lc_conv_list(t, &n);
	{
		size_t ok = 0;

		for (size_t i = 0; l != NULL && i < n; i++)
			ok += l[i].ab.packets == (uint64_t)((l[i].a_port - 2000) % 3 == 0 ? 2 : 1);
		CHECK_EQ_U64(ok, 3000);
	}
	free(l);
	lc_conv_free(t);
}

static void
test_flag_text(void)
{
	char b[16];

	CHECK(strcmp(lc_conv_tcp_flags(F_SYN | F_ACK, b, sizeof(b)), "S.") == 0);
	CHECK(strcmp(lc_conv_tcp_flags(F_SYN, b, sizeof(b)), "S") == 0);
	CHECK(strcmp(lc_conv_tcp_flags(F_FIN | F_PSH | F_ACK, b, sizeof(b)), "FP.") == 0);
	CHECK(strcmp(lc_conv_tcp_flags(F_RST | F_ACK, b, sizeof(b)), "R.") == 0);
	CHECK(strcmp(lc_conv_tcp_flags(0, b, sizeof(b)), "none") == 0);
	CHECK(strcmp(lc_conv_tcp_flags(0xff, b, sizeof(b)), "FSRP.UEW") == 0);
	CHECK(strcmp(lc_conv_state_name(LC_CONV_ICMP_UNREACHABLE), "icmp-unreachable") == 0);
	CHECK(strcmp(lc_conv_state_name(LC_CONV_ONE_WAY), "one-way") == 0);
}

/* The table of the JSON and table tests: refused (IPv4, VLAN 7), established (IPv6),
 * ICMP one-way, UDP unreachable, ARP; first times in that order. */
static struct lc_conv_table *
sample(void)
{
	struct lc_conv_table *t = lc_conv_create();
	struct lc_index_flow f;

	f = tcp4("192.168.1.100", 51515, "10.9.8.7", 443, T0, 2, F_SYN);
	f.key.nvlan = 1;
	f.key.tpid[0] = 0x8100;
	f.key.vid[0] = 7;
	add(t, f);
	f = tcp4("10.9.8.7", 443, "192.168.1.100", 51515, T0 + 500, 2, F_RST | F_ACK);
	f.key.nvlan = 1;
	f.key.tpid[0] = 0x8100;
	f.key.vid[0] = 7;
	f.bytes = 108;
	add(t, f);
	add(t, flow(AF_INET6, 6, "2001:db8::10", 33000, "2001:db8::1", 22, T0 + 1000000000ull,
		    T0 + 2000000000ull, 10, 1500, F_SYN | F_ACK | F_PSH));
	add(t, flow(AF_INET6, 6, "2001:db8::1", 22, "2001:db8::10", 33000,
		    T0 + 1000000100ull, T0 + 1900000000ull, 8, 2500, F_SYN | F_ACK | F_PSH));
	add(t, flow(AF_INET, 1, "10.0.0.9", 8, "10.0.0.1", 0, T0 + 3000000000ull,
		    T0 + 3000000000ull, 1, 98, 0));
	f = flow(AF_INET, 17, "10.0.0.9", 4444, "10.0.0.2", 161, T0 + 4000000000ull,
		 T0 + 4000000000ull, 1, 90, 0);
	f.marks = LC_FLOW_MARK_UNREACH;
	add(t, f);
	memset(&f, 0, sizeof(f));
	f.key.ethertype = 0x0806;
	f.first_ns = f.last_ns = 1;
	f.packets = 1;
	f.bytes = 60;
	add(t, f);	/* first of all in time: 1970 */
	return t;
}

static json_t *
member(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (v == NULL)
		fprintf(stderr, "JSON line without '%s'\n", k);
	CHECK(v != NULL);
	return v;
}

static void
check_jstr(json_t *o, const char *k, const char *want)
{
	json_t *v = member(o, k);

	if (v == NULL || !json_is_string(v) || strcmp(json_string_value(v), want) != 0) {
		char *s = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;

		fprintf(stderr, "'%s': %s, want \"%s\"\n", k, s ? s : "(none)", want);
		free(s);
		CHECK(0);
	}
}

static void
check_jint(json_t *o, const char *k, uint64_t want)
{
	json_t *v = member(o, k);

	CHECK(v != NULL && json_is_integer(v));
	if (v != NULL && json_is_integer(v))
		CHECK_EQ_U64(json_integer_value(v), want);
}

static void
check_jnull(json_t *o, const char *k)
{
	json_t *v = member(o, k);

	CHECK(v != NULL && json_is_null(v));
}

static void
check_endpoint(json_t *o, const char *k, const char *addr, int port)
{
	json_t *e = member(o, k);

	CHECK(e != NULL && json_is_object(e) && json_object_size(e) == 2);
	if (e == NULL)
		return;
	if (addr)
		check_jstr(e, "addr", addr);
	else
		check_jnull(e, "addr");
	if (port >= 0)
		check_jint(e, "port", (uint64_t)port);
	else
		check_jnull(e, "port");
}

static void
test_json(void)
{
	static const char *const fields[] = {
		"first", "first_ns", "last", "last_ns", "vlan", "ethertype", "proto", "a", "b",
		"packets_ab", "packets_ba", "bytes_ab", "bytes_ba", "flags_ab", "flags_ba",
		"unreachable", "state",
	};
	struct lc_conv_table *t = sample();
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0, nf = sizeof(fields) / sizeof(fields[0]);
	FILE *m = open_memstream(&buf, &len);
	json_t *o[8] = { NULL };
	int n = 0;

	CHECK(m != NULL);
	CHECK(lc_conv_print_json(m, t) == 0);
	fclose(m);
	CHECK(len > 0 && buf[len - 1] == '\n');
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t err;
		json_t *j = json_loads(line, 0, &err);

		if (j == NULL)
			fprintf(stderr, "not JSON: %s: %s\n", line, err.text);
		CHECK(j != NULL && json_is_object(j));
		if (n < 8)
			o[n] = j;
		else
			json_decref(j);
		n++;
		if (j == NULL)
			continue;
		CHECK_EQ_U64(json_object_size(j), nf);	/* these fields, and no other */
		for (size_t i = 0; i < nf; i++)
			member(j, fields[i]);
	}
	CHECK_EQ_U64(n, 5);
	if (n != 5)
		goto out;

	/* ARP of 1970: no endpoints, no protocol, state unknown */
	check_jstr(o[0], "first", "1970-01-01T00:00:00.000000001Z");
	check_jint(o[0], "first_ns", 1);
	check_jint(o[0], "ethertype", 0x0806);
	check_jnull(o[0], "proto");
	check_endpoint(o[0], "a", NULL, -1);
	check_endpoint(o[0], "b", NULL, -1);
	check_jnull(o[0], "flags_ab");
	check_jstr(o[0], "state", "unknown");
	check_jint(o[0], "packets_ab", 1);
	check_jint(o[0], "packets_ba", 0);

	/* the refused connection, every field */
	check_jstr(o[1], "first", "2026-01-01T00:00:00.173014122Z");
	check_jint(o[1], "first_ns", T0);
	check_jstr(o[1], "last", "2026-01-01T00:00:00.173015622Z");
	check_jint(o[1], "last_ns", T0 + 1500);
	CHECK(json_is_array(member(o[1], "vlan")) && json_array_size(member(o[1], "vlan")) == 1 &&
	      json_integer_value(json_array_get(member(o[1], "vlan"), 0)) == 7);
	check_jint(o[1], "ethertype", 0x0800);
	check_jstr(o[1], "proto", "tcp");
	check_endpoint(o[1], "a", "192.168.1.100", 51515);
	check_endpoint(o[1], "b", "10.9.8.7", 443);
	check_jint(o[1], "packets_ab", 2);
	check_jint(o[1], "packets_ba", 2);
	check_jint(o[1], "bytes_ab", 120);
	check_jint(o[1], "bytes_ba", 108);
	check_jstr(o[1], "flags_ab", "S");
	check_jstr(o[1], "flags_ba", "R.");
	CHECK(json_is_false(member(o[1], "unreachable")));
	check_jstr(o[1], "state", "refused");

	/* IPv6 established */
	check_jstr(o[2], "first", "2026-01-01T00:00:01.173014122Z");
	check_jint(o[2], "last_ns", T0 + 2000000000ull);
	CHECK(json_array_size(member(o[2], "vlan")) == 0);
	check_jint(o[2], "ethertype", 0x86dd);
	check_endpoint(o[2], "a", "2001:db8::10", 33000);
	check_endpoint(o[2], "b", "2001:db8::1", 22);
	check_jint(o[2], "bytes_ab", 1500);
	check_jint(o[2], "bytes_ba", 2500);
	check_jstr(o[2], "flags_ab", "SP.");
	check_jstr(o[2], "flags_ba", "SP.");
	check_jstr(o[2], "state", "established");

	/* ICMP: ports null, flags null */
	check_jstr(o[3], "proto", "icmp");
	check_endpoint(o[3], "a", "10.0.0.9", -1);
	check_endpoint(o[3], "b", "10.0.0.1", -1);
	check_jnull(o[3], "flags_ab");
	check_jnull(o[3], "flags_ba");
	check_jstr(o[3], "state", "one-way");

	/* UDP with an unreachable */
	check_jstr(o[4], "proto", "udp");
	check_endpoint(o[4], "a", "10.0.0.9", 4444);
	check_endpoint(o[4], "b", "10.0.0.2", 161);
	CHECK(json_is_true(member(o[4], "unreachable")));
	check_jstr(o[4], "state", "icmp-unreachable");
out:
	for (int i = 0; i < 8; i++)
		json_decref(o[i]);
	free(buf);
	lc_conv_free(t);
}

/* Where word starts in line, as a column; -1 if absent. */
static long
col_of(const char *line, const char *word)
{
	const char *p = strstr(line, word);

	return p ? p - line : -1;
}

static void
test_table(void)
{
	static const char *const head[] = {
		"FIRST", "LAST", "VLAN", "PROTO", "A", "B", "STATE", "PKTS", "BYTES", "FLAGS",
	};
	static const char *const state[] = {
		"unknown", "refused", "established", "one-way", "icmp-unreachable",
	};
	struct lc_conv_table *t = sample();
	char *buf = NULL, *lines[8], *save = NULL, *line;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int n = 0;
	long at_state, at_pkts;

	CHECK(m != NULL);
	CHECK(lc_conv_print_table(m, t) == 0);
	fclose(m);
	fputs(buf, stderr);
	for (line = strtok_r(buf, "\n", &save); line && n < 8; line = strtok_r(NULL, "\n", &save))
		lines[n++] = line;
	CHECK_EQ_U64(n, 6);	/* a header and five rows */
	if (n != 6)
		goto out;
	/* the header names every column, in order, separated by spaces */
	{
		long last = -1;

		for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
			char word[16];
			long at;

			snprintf(word, sizeof(word), i == 0 ? "%s " : i == 9 ? " %s" : " %s ",
				 head[i]);
			at = col_of(lines[0], word);
			CHECK(at > last);
			last = at;
		}
	}
	/* each row's STATE and PKTS cells start under their headers */
	at_state = col_of(lines[0], " STATE ") + 1;
	at_pkts = col_of(lines[0], " PKTS ") + 1;
	for (int i = 1; i < 6; i++) {
		CHECK(col_of(lines[i], state[i - 1]) == at_state);
		CHECK(lines[i][at_state - 1] == ' ' && lines[i][at_state - 2] == ' ');
		CHECK(strlen(lines[i]) > (size_t)at_pkts && lines[i][at_pkts - 1] == ' ');
		CHECK(lines[i][strlen(lines[i]) - 1] != ' ');
	}
	/* the cells themselves (rows in time order: ARP, refused, IPv6, ICMP, UDP) */
	CHECK(strncmp(lines[0], "FIRST ", 6) == 0);
	CHECK_STR_HAS(lines[1], " 0x0806 ");
	CHECK_STR_HAS(lines[1], "1970-01-01T00:00:00.000000001Z");
	CHECK_STR_HAS(lines[2], "192.168.1.100:51515");
	CHECK_STR_HAS(lines[2], "10.9.8.7:443");
	CHECK_STR_HAS(lines[2], " 7 ");
	CHECK_STR_HAS(lines[2], " 2/2 ");
	CHECK_STR_HAS(lines[2], " 120/108 ");
	CHECK_STR_HAS(lines[2], " S/R.");
	CHECK_STR_HAS(lines[2], "2026-01-01T00:00:00.173014122Z");
	CHECK_STR_HAS(lines[3], "[2001:db8::10]:33000");
	CHECK_STR_HAS(lines[3], "[2001:db8::1]:22");
	CHECK_STR_HAS(lines[3], " SP./SP.");
	CHECK_STR_HAS(lines[4], " icmp ");
	CHECK_STR_HAS(lines[4], " 10.0.0.9 ");	/* ICMP: an address, no port */
	CHECK_STR_HAS(lines[5], " 10.0.0.9:4444 ");
	/* a's cell starts under A on every row */
	{
		long at_a = col_of(lines[0], " A ") + 1;
		const char *const a[] = { "- ", "192.168.1.100:51515 ", "[2001:db8::10]:33000 ",
					  "10.0.0.9 ", "10.0.0.9:4444 " };

		for (int i = 1; i < 6; i++)
			CHECK(strncmp(lines[i] + at_a, a[i - 1], strlen(a[i - 1])) == 0 &&
			      lines[i][at_a - 1] == ' ');
	}
out:
	free(buf);
	lc_conv_free(t);
}

int
main(void)
{
	test_flag_text();
	test_tcp_states();
	test_other_states();
	test_sum_files();
	test_ipv6_vlan();
	test_order();
	test_many();
	test_touch();
	test_json();
	test_table();
	return lc_test_done("test_flows");
}
