#!/usr/bin/env python3
"""The generated test corpus, tests/corpus/: small captures of every frame shape the filter and
the pipeline must handle, written deterministically (fixed contents, seeds and timestamps; a
second run rewrites the same bytes), and the filter expressions the tests run over them.

  tests/corpus/pcaps/      the captures (Ethernet, one RAW, unreadable and cut ones)
  tests/corpus/MANIFEST.tsv  file, linktype, format, tsprec, packets, bytes, source_repo,
                           source_path, note (the columns of ../shared/corpus/MANIFEST.tsv)
  tests/corpus/filters.txt one expression a line, every one compiling for Ethernet

Nothing here is taken from another corpus: every frame is built below with scapy.

  python3 scripts/make_corpus.py            rewrite tests/corpus/ (needs python3-scapy,
                                            scripts/deps.sh installs it; and tcpdump)
  python3 scripts/make_corpus.py --expected OUT.tsv CORPUS
                                            what tcpdump keeps of every Ethernet capture of
                                            CORPUS with every filter of CORPUS/filters.txt,
                                            as expected.tsv rows (file, filter_line, filter,
                                            packets, tcpdump_rc, tcpdump_stderr); the build
                                            runs this, with the standard library only
"""
import concurrent.futures
import os
import random
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "corpus")
T0 = 1767225600              # 2026-01-01T00:00:00Z
A, B = "02:00:00:00:00:01", "02:00:00:00:00:02"
BCAST = "ff:ff:ff:ff:ff:ff"

# ------------------------------------------------------------------------------------------
# Writers: classic pcap (either byte order, micro- or nanosecond) and pcapng.


def pcap_bytes(recs, nano=False, endian="<", linktype=1, snaplen=262144, version=(2, 4)):
    out = struct.pack(endian + "IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, version[0],
                      version[1], 0, 0, snaplen, linktype)
    for ts, caplen, length, data in recs:
        frac = ts % 10**9 if nano else (ts % 10**9) // 1000
        out += struct.pack(endian + "IIII", ts // 10**9, frac, caplen, length) + data[:caplen]
    return out


def ng_block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def ng_opt(code, value):
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def pcapng_bytes(recs, tsresol=6, linktype=1, major=1, comment=None):
    shb_opts = (ng_opt(1, comment.encode()) if comment else b"") + (ng_opt(0, b"") if comment
                                                                    else b"")
    out = ng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, major, 0, -1) + shb_opts)
    idb_opts = ng_opt(2, b"gen0")
    if tsresol != 6:
        idb_opts += ng_opt(9, bytes([tsresol]))
    idb_opts += ng_opt(0, b"")
    out += ng_block(1, struct.pack("<HHI", linktype, 0, 262144) + idb_opts)
    for ts, caplen, length, data in recs:
        units = ts if tsresol == 9 else ts // 1000
        out += ng_block(6, struct.pack("<IIIII", 0, units >> 32, units & 0xFFFFFFFF, caplen,
                                       length) + data[:caplen])
    return out


# ------------------------------------------------------------------------------------------
# Frames.

def frames():
    """name -> (list of frames as bytes or (bytes, caplen), note)."""
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.all import (AH, ARP, DNS, DNSQR, DNSRR, ESP, GRE, ICMP, IP, IPv6, LLC, SCTP,
                           SNAP, STP, TCP, UDP, VRRP, Dot1AD, Dot1Q, Dot3, Ether, ICMPv6DestUnreach,
                           ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6MLQuery, ICMPv6MLReport,
                           ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_RS, ICMPv6ND_Redirect,
                           ICMPv6PacketTooBig, ICMPv6ParamProblem, ICMPv6TimeExceeded,
                           IPOption_Router_Alert, IPOption_RR, IPOption_Timestamp, IPOption_NOP,
                           IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                           IPv6ExtHdrRouting, IPv6ExtHdrSegmentRouting, PPP, PPPoE, PPPoED,
                           Raw, RouterAlert, BOOTP, DHCP, NTP)
    from scapy.contrib.geneve import GENEVE
    from scapy.contrib.igmp import IGMP
    from scapy.contrib.mpls import MPLS
    from scapy.layers.vxlan import VXLAN

    rnd = random.Random(20260101)

    def pad(n):
        return Raw(bytes(rnd.randrange(256) for _ in range(n)))

    def eth(dst=B, src=A, **kw):
        return Ether(dst=dst, src=src, **kw)

    def b(p):
        return bytes(p)

    def ppp(proto):
        """A PPP protocol field of two bytes, as PPPoE carries it (scapy compresses it)."""
        return Raw(struct.pack("!H", proto))

    F = {}

    # DNS over TCP, 11 packets, all on port 53: handshake, query, answer, teardown.
    c, s = "192.168.1.20", "192.168.1.53"
    q = DNS(id=0x1234, rd=1, qd=DNSQR(qname="www.example.com", qtype="A"))
    a = DNS(id=0x1234, qr=1, rd=1, ra=1, qd=DNSQR(qname="www.example.com", qtype="A"),
            an=DNSRR(rrname="www.example.com", ttl=300, rdata="93.184.216.34"))
    qb, ab = b(q), b(a)
    tq = struct.pack("!H", len(qb)) + qb
    ta = struct.pack("!H", len(ab)) + ab
    up = eth(B, A) / IP(src=c, dst=s, id=100)
    dn = eth(A, B) / IP(src=s, dst=c, id=200)
    cs, ss = 1000, 5000
    F["dns_tcp.pcap"] = ([
        up / TCP(sport=40053, dport=53, flags="S", seq=cs, options=[("MSS", 1460)]),
        dn / TCP(sport=53, dport=40053, flags="SA", seq=ss, ack=cs + 1,
                 options=[("MSS", 1460)]),
        up / TCP(sport=40053, dport=53, flags="A", seq=cs + 1, ack=ss + 1),
        up / TCP(sport=40053, dport=53, flags="PA", seq=cs + 1, ack=ss + 1) / Raw(tq),
        dn / TCP(sport=53, dport=40053, flags="A", seq=ss + 1, ack=cs + 1 + len(tq)),
        dn / TCP(sport=53, dport=40053, flags="PA", seq=ss + 1, ack=cs + 1 + len(tq)) / Raw(ta),
        up / TCP(sport=40053, dport=53, flags="A", seq=cs + 1 + len(tq), ack=ss + 1 + len(ta)),
        up / TCP(sport=40053, dport=53, flags="FA", seq=cs + 1 + len(tq), ack=ss + 1 + len(ta)),
        dn / TCP(sport=53, dport=40053, flags="A", seq=ss + 1 + len(ta), ack=cs + 2 + len(tq)),
        dn / TCP(sport=53, dport=40053, flags="FA", seq=ss + 1 + len(ta), ack=cs + 2 + len(tq)),
        up / TCP(sport=40053, dport=53, flags="A", seq=cs + 2 + len(tq), ack=ss + 2 + len(ta)),
    ], "DNS over TCP (port 53), handshake to teardown")

    # DNS over UDP, IPv4 and IPv6.
    F["dns_udp.pcap"] = ([
        eth() / IP(src=c, dst=s) / UDP(sport=33333, dport=53) / q,
        eth(A, B) / IP(src=s, dst=c) / UDP(sport=53, dport=33333) / a,
        eth() / IPv6(src="2001:db8::20", dst="2001:db8::53") / UDP(sport=33334, dport=53) / q,
        eth(A, B) / IPv6(src="2001:db8::53", dst="2001:db8::20") / UDP(sport=53, dport=33334) / a,
        eth(BCAST, A) / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) /
        BOOTP(chaddr=b"\x02\0\0\0\0\x01", xid=7) / DHCP(options=[("message-type", "discover"),
                                                                   "end"]),
        eth() / IP(src=c, dst="192.168.1.123") / UDP(sport=123, dport=123) /
        NTP(ref=3976214400, orig=3976214401, recv=3976214402, sent=3976214403),
    ], "DNS over UDP (IPv4, IPv6), DHCP discover, NTP")

    # ssh: 192.168.1.50 -> 192.168.1.10:22, handshake, data both ways, teardown.
    c, s, cp = "192.168.1.50", "192.168.1.10", 50022
    up = eth(B, A) / IP(src=c, dst=s, flags="DF")
    dn = eth(A, B) / IP(src=s, dst=c, flags="DF")
    cseq, sseq = 7000, 9000
    pk = [up / TCP(sport=cp, dport=22, flags="S", seq=cseq,
                   options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)),
                            ("NOP", None), ("WScale", 7)]),
          dn / TCP(sport=22, dport=cp, flags="SA", seq=sseq, ack=cseq + 1,
                   options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (2, 1)),
                            ("NOP", None), ("WScale", 7)]),
          up / TCP(sport=cp, dport=22, flags="A", seq=cseq + 1, ack=sseq + 1)]
    cseq += 1
    sseq += 1
    for i in range(16):
        n = [21, 40, 300, 1200, 36, 64, 1448, 90][i % 8]
        if i % 2 == 0:
            pk.append(up / TCP(sport=cp, dport=22, flags="PA", seq=cseq, ack=sseq) / pad(n))
            cseq += n
            pk.append(dn / TCP(sport=22, dport=cp, flags="A", seq=sseq, ack=cseq))
        else:
            pk.append(dn / TCP(sport=22, dport=cp, flags="PA", seq=sseq, ack=cseq) / pad(n))
            sseq += n
            pk.append(up / TCP(sport=cp, dport=22, flags="A", seq=cseq, ack=sseq))
    pk += [up / TCP(sport=cp, dport=22, flags="FA", seq=cseq, ack=sseq),
           dn / TCP(sport=22, dport=cp, flags="FA", seq=sseq, ack=cseq + 1),
           up / TCP(sport=cp, dport=22, flags="A", seq=cseq + 1, ack=sseq + 1)]
    F["ssh.pcap"] = (pk, "TCP port 22 session: SYN with options, data 21-1448 bytes, FIN")

    # TCP with every value of the flags byte, and the NS bit, over IPv4 and IPv6.
    pk = []
    for fl in range(256):
        host = "192.168.1.100" if fl % 3 == 0 else "10.1.2.3"
        port = (443, 80, 22, 8080)[fl % 4]
        pk.append(eth() / IP(src="10.9.8.7", dst=host, id=fl) /
                  TCP(sport=30000 + fl, dport=port, flags=fl | (0x100 if fl % 16 == 1 else 0),
                      seq=fl * 1000, ack=fl, window=0 if fl % 64 == 16 else 8192,
                      urgptr=fl if fl & 0x20 else 0) / (pad(fl % 7) if fl % 5 == 0 else b""))
    for fl in range(0, 256, 17):
        pk.append(eth() / IPv6(src="2001:db8::7", dst="2001:db8::100") /
                  TCP(sport=31000 + fl, dport=443, flags=fl | 0x100))
    F["tcp-flags.pcap"] = (pk, "TCP with each of the 256 flag bytes (IPv4), NS bit (IPv6)")

    # A nanosecond pcap: HTTPS to the evidence host, TCP options.
    up = eth(B, A) / IP(src="192.168.1.30", dst="192.168.1.100")
    dn = eth(A, B) / IP(src="192.168.1.100", dst="192.168.1.30")
    pk = [up / TCP(sport=51000, dport=443, flags="S", options=[("MSS", 1460), ("SAckOK", b"")]),
          dn / TCP(sport=443, dport=51000, flags="SA", ack=1),
          up / TCP(sport=51000, dport=443, flags="A", seq=1, ack=1)]
    for i in range(8):
        data = (b"\x16\x03\x01\x00\x5f\x01" if i == 0 else b"\x17\x03\x03\x00\x5f") + \
            bytes(95)
        pk.append(up / TCP(sport=51000, dport=443, flags="PA", seq=1 + i * 100, ack=1) /
                  Raw(data[:100]))
        pk.append(dn / TCP(sport=443, dport=51000, flags="A", ack=101 + i * 100,
                           options=[("SAck", (1, 101 + i * 100))]))
    pk.append(dn / TCP(sport=443, dport=51000, flags="R", seq=1))
    F["tcp-ns.pcap"] = (pk, "nanosecond pcap: TCP port 443 to 192.168.1.100, SACK, RST")

    # 802.1Q: several VIDs and priorities over IPv4, IPv6, ARP; untagged twins.
    pk = []
    for vid, prio in ((1, 0), (5, 3), (100, 0), (200, 7), (4094, 1)):
        pk += [eth() / Dot1Q(vlan=vid, prio=prio) / IP(src="10.0.0.1", dst="10.0.0.2") /
               UDP(sport=5000 + vid, dport=53),
               eth() / Dot1Q(vlan=vid) / IP(src="192.168.1.100", dst="10.0.0.2") /
               TCP(sport=443, dport=40000, flags="A"),
               eth() / Dot1Q(vlan=vid) / IPv6(src="fe80::1", dst="ff02::1") / ICMPv6EchoRequest(),
               eth(BCAST, A) / Dot1Q(vlan=vid) / ARP(psrc="10.0.0.1", pdst="10.0.0.2",
                                                     hwsrc=A)]
    pk += [eth() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5001, dport=53),
           eth() / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP()]
    F["vlan.pcap"] = (pk, "802.1Q: VIDs 1, 5, 100, 200, 4094, priorities; IPv4, IPv6, ARP")

    F["802.1ad_QinQ.pcap"] = ([
        eth(BCAST, A) / Dot1AD(vlan=100) / Dot1Q(vlan=200) /
        ARP(op=1, hwsrc=A, psrc="10.10.0.1", pdst="10.10.0.2"),
        eth(A, B) / Dot1AD(vlan=100) / Dot1Q(vlan=200) /
        ARP(op=2, hwsrc=B, hwdst=A, psrc="10.10.0.2", pdst="10.10.0.1"),
    ], "802.1ad QinQ (0x88a8 + 0x8100) carrying ARP")
    F["qinq.pcap"] = ([
        eth() / Dot1AD(vlan=300) / Dot1Q(vlan=10) / IP(src="10.1.0.1", dst="10.1.0.2") /
        UDP(sport=1234, dport=4321),
        eth() / Dot1Q(vlan=20) / Dot1Q(vlan=30) / IPv6(src="2001:db8::1", dst="2001:db8::2") /
        TCP(sport=1234, dport=80, flags="S"),
        eth() / Dot1Q(vlan=1, type=0x88a8) / Dot1Q(vlan=2) / Dot1Q(vlan=3) /
        IP(src="10.1.0.3", dst="10.1.0.4") / ICMP(),
        eth(type=0x9100) / Dot1Q(vlan=41) / Dot1Q(vlan=42) /
        IPv6(src="2001:db8::41", dst="2001:db8::42") / UDP(sport=53, dport=53),
        eth(type=0x9100) / Dot1Q(vlan=40) / IP(src="10.1.0.5", dst="10.1.0.6") / UDP(),
        eth() / Dot1AD(vlan=300) / Dot1Q(vlan=10) / IP(src="192.168.1.100", dst="10.1.0.2") /
        TCP(sport=443, dport=1000, flags="A"),
    ], "stacked tags: 0x88a8/0x8100, 0x8100/0x8100, three tags, 0x9100")

    # MPLS: label stacks over IPv4 and IPv6, multicast MPLS, MPLS over VLAN, MPLS in UDP.
    inner4 = IP(src="172.16.0.1", dst="172.16.0.2") / TCP(sport=179, dport=40000, flags="PA")
    inner6 = IPv6(src="2001:db8:1::1", dst="2001:db8:1::2") / UDP(sport=5000, dport=6000)
    F["mpls.pcap"] = ([
        eth(type=0x8847) / MPLS(label=16, s=1, ttl=64) / inner4,
        eth(type=0x8847) / MPLS(label=100, s=0) / MPLS(label=200, s=1) / inner4,
        eth(type=0x8847) / MPLS(label=1000, s=0) / MPLS(label=2000, s=0) /
        MPLS(label=1048575, s=1) / inner6,
        eth(type=0x8848) / MPLS(label=300, s=1) / inner4,
        eth() / Dot1Q(vlan=50, type=0x8847) / MPLS(label=16, s=1) / inner4,
        eth() / IP(src="10.2.0.1", dst="10.2.0.2") / UDP(sport=40000, dport=6635) /
        MPLS(label=500, s=1) / inner4,
        eth(type=0x8847) / MPLS(label=3, s=1) / inner6,
    ], "MPLS 0x8847 with 1-3 labels over IPv4/IPv6, 0x8848, over VLAN, MPLS in UDP (6635)")

    F["pppoe.pcap"] = ([
        eth(BCAST, A) / PPPoED(code=0x09, sessionid=0) / Raw(b"\x01\x01\x00\x00"),
        eth(A, B) / PPPoED(code=0x07, sessionid=0) / Raw(b"\x01\x01\x00\x00\x01\x02\x00\x02ac"),
        eth(B, A) / PPPoED(code=0x19, sessionid=0) / Raw(b"\x01\x01\x00\x00"),
        eth(A, B) / PPPoED(code=0x65, sessionid=0x11) / Raw(b"\x01\x01\x00\x00"),
        eth() / PPPoE(sessionid=0x11) / ppp(0xc021) / Raw(b"\x01\x01\x00\x04"),
        eth() / PPPoE(sessionid=0x11) / ppp(0x0021) / IP(src="100.64.0.1", dst="8.8.8.8") /
        UDP(sport=5353, dport=53),
        eth() / PPPoE(sessionid=0x11) / ppp(0x0021) / IP(src="100.64.0.1",
                                                               dst="192.168.1.100") /
        TCP(sport=50000, dport=443, flags="S"),
        eth() / PPPoE(sessionid=0x22) / ppp(0x0057) /
        IPv6(src="2001:db8::64", dst="2001:db8::8") / UDP(sport=5353, dport=53),
    ], "PPPoE discovery (PADI, PADO, PADR, PADS), session with LCP, IPv4, IPv6")

    F["llc.pcap"] = ([
        Dot3(dst="01:80:c2:00:00:00", src=A) / LLC(dsap=0x42, ssap=0x42, ctrl=3) / STP(),
        Dot3(dst="01:00:0c:cc:cc:cc", src=A) / LLC(dsap=0xaa, ssap=0xaa, ctrl=3) /
        SNAP(OUI=0x00000c, code=0x2000) / pad(40),
        Dot3(dst=B, src=A) / LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0800) /
        IP(src="10.3.0.1", dst="10.3.0.2") / UDP(sport=9, dport=9),
        Dot3(dst="09:00:2b:00:00:05", src=A) / LLC(dsap=0xfe, ssap=0xfe, ctrl=3) /
        Raw(b"\x83\x1b\x01\x00\x10\x01\x00\x00") / pad(30),
        Dot3(dst=B, src=A) / LLC(dsap=0xf0, ssap=0xf0, ctrl=3) / pad(20),
        Dot3(dst=B, src=A) / LLC(dsap=0xf0, ssap=0xf0, ctrl=1) / Raw(b"\x02") / pad(20),
        Dot3(dst=BCAST, src=A) / Raw(b"\xff\xff" + bytes(28)),
        eth("01:80:c2:00:00:0e", A, type=0x88cc) / pad(40),
        eth("01:80:c2:00:00:02", A, type=0x8809) / Raw(b"\x01\x01") / pad(108),
        eth(BCAST, A, type=0x8137) / pad(30),
        eth(BCAST, A, type=0x6003) / pad(30),
        eth(BCAST, A, type=0x809b) / pad(30),
        eth(BCAST, A, type=0x80f3) / pad(28),
        eth(B, A, type=0x88e5) / pad(48),
        eth("01:80:c2:00:00:03", A, type=0x888e) / pad(20),
        eth("01:1b:19:00:00:00", A, type=0x88f7) / pad(44),
    ], "802.3/LLC (STP, IS-IS, NetBEUI), SNAP (CDP, RFC 1042 IPv4), raw IPX, LLDP, LACP, "
       "IPX II, DECnet, AppleTalk, AARP, MACsec, 802.1X, PTP")

    F["arp.pcap"] = ([
        eth(BCAST, A) / ARP(op=1, hwsrc=A, psrc="192.168.1.20", pdst="192.168.1.100"),
        eth(A, B) / ARP(op=2, hwsrc=B, hwdst=A, psrc="192.168.1.100", pdst="192.168.1.20"),
        eth(BCAST, B) / ARP(op=1, hwsrc=B, psrc="192.168.1.100", pdst="192.168.1.100"),
        eth(BCAST, A, type=0x8035) / ARP(op=3, hwsrc=A, hwdst=A),
        eth(A, B, type=0x8035) / ARP(op=4, hwsrc=B, hwdst=A, psrc="192.168.1.1",
                                     pdst="192.168.1.77"),
    ], "ARP request, reply, gratuitous; RARP request and reply")

    F["ipv4-options.pcap"] = ([
        eth("01:00:5e:00:00:16", A) / IP(src="192.168.1.20", dst="224.0.0.22", ttl=1,
                                         options=[IPOption_Router_Alert()]) /
        IGMP(type=0x16, gaddr="239.1.1.1"),
        eth("01:00:5e:00:00:01", A) / IP(src="192.168.1.1", dst="224.0.0.1", ttl=1,
                                         options=[IPOption_Router_Alert()]) /
        IGMP(type=0x11, gaddr="0.0.0.0"),
        eth() / IP(src="10.4.0.1", dst="10.4.0.2", options=[IPOption_RR(routers=["1.1.1.1"])]) /
        UDP(sport=1000, dport=53),
        eth() / IP(src="10.4.0.1", dst="192.168.1.100",
                   options=[IPOption_Timestamp(flg=0, timestamp=5)]) /
        TCP(sport=1000, dport=443, flags="S"),
        eth() / IP(src="10.4.0.1", dst="10.4.0.2", options=[IPOption_NOP()] * 40) / ICMP(),
        eth() / IP(src="10.4.0.1", dst="10.4.0.2", options=[IPOption_NOP()] * 4) /
        UDP(sport=67, dport=68),
    ], "IPv4 options: router alert (IGMP), record route, timestamp, IHL 15, IHL 6")

    # IPv4 fragments: a UDP datagram in three, TCP in two, ICMP echo, tiny and DF.
    big = IP(src="10.5.0.1", dst="10.5.0.2", id=0x4242) / UDP(sport=2000, dport=53) / pad(2000)
    body = b(big)[20:]
    pk = []
    for off, chunk, more in ((0, body[:800], 1), (100, body[800:1600], 1),
                             (200, body[1600:], 0)):
        pk.append(eth() / IP(src="10.5.0.1", dst="10.5.0.2", id=0x4242, proto=17,
                             flags="MF" if more else 0, frag=off) / Raw(chunk))
    tbody = b(TCP(sport=443, dport=3000, flags="PA") / pad(1000))
    pk += [eth() / IP(src="192.168.1.100", dst="10.5.0.3", id=7, proto=6, flags="MF") /
           Raw(tbody[:600]),
           eth() / IP(src="192.168.1.100", dst="10.5.0.3", id=7, proto=6, frag=75) /
           Raw(tbody[600:]),
           eth() / IP(src="10.5.0.1", dst="10.5.0.2", id=9, proto=1, flags="MF") /
           Raw(b(ICMP(type=8) / pad(40))[:16]),
           eth() / IP(src="10.5.0.1", dst="10.5.0.2", id=10, proto=17, frag=1) /
           Raw(b"\x00\x35\x00\x35" + bytes(12)),
           eth() / IP(src="10.5.0.1", dst="10.5.0.2", id=11, flags="DF") /
           UDP(sport=53, dport=2000) / pad(30)]
    F["ipv4-frags.pcap"] = (pk, "IPv4 fragments: UDP in three, TCP in two, ICMP, offset 1, DF")

    s6, d6 = "2001:db8:2::1", "2001:db8:2::2"
    F["ipv6-ext.pcap"] = ([
        eth() / IPv6(src=s6, dst=d6) / IPv6ExtHdrHopByHop() / UDP(sport=1, dport=53),
        eth("33:33:00:00:00:16", A) / IPv6(src="fe80::1", dst="ff02::16", hlim=1) /
        IPv6ExtHdrHopByHop(options=[RouterAlert()]) / ICMPv6MLReport(),
        eth() / IPv6(src=s6, dst=d6) / IPv6ExtHdrRouting(addresses=["2001:db8:2::9"]) /
        TCP(sport=22, dport=5000, flags="S"),
        eth() / IPv6(src=s6, dst=d6) /
        IPv6ExtHdrSegmentRouting(addresses=["2001:db8:2::a", "2001:db8:2::b"]) /
        UDP(sport=6000, dport=443),
        eth() / IPv6(src=s6, dst=d6) / IPv6ExtHdrDestOpt() / TCP(sport=443, dport=5001, flags="A"),
        eth() / IPv6(src=s6, dst=d6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
        IPv6ExtHdrRouting() / IPv6ExtHdrFragment(id=5, offset=0, m=0) / UDP(sport=7, dport=7),
        eth() / IPv6(src=s6, dst=d6) / AH(spi=0x100, seq=1) / TCP(sport=80, dport=5002),
        eth() / IPv6(src=s6, dst=d6) / ESP(spi=0x200, seq=1) / pad(40),
        eth() / IPv6(src=s6, dst=d6, nh=59) / pad(8),
        eth() / IPv6(src=s6, dst=d6) / IPv6(src="2001:db8:3::1", dst="2001:db8:3::2") /
        UDP(sport=8, dport=53),
        eth() / IPv6(src=s6, dst=d6) / IP(src="10.6.0.1", dst="10.6.0.2") / TCP(dport=22),
        eth() / IPv6(src=s6, dst=d6) / IPv6ExtHdrDestOpt() / ICMPv6EchoRequest(),
    ], "IPv6 extension headers: hop-by-hop, routing 0, SRH, destination, chains with "
       "fragment, AH, ESP, no next header, IPv6-in-IPv6, IPv4-in-IPv6")

    u6 = b(UDP(sport=4000, dport=53) / pad(1800))
    t6 = b(TCP(sport=443, dport=4001, flags="PA") / pad(200))
    base6 = IPv6(src=s6, dst=d6)
    F["ipv6-frags.pcap"] = ([
        eth() / base6 / IPv6ExtHdrFragment(id=77, nh=17, offset=0, m=1) / Raw(u6[:800]),
        eth() / base6 / IPv6ExtHdrFragment(id=77, nh=17, offset=100, m=1) / Raw(u6[800:1600]),
        eth() / base6 / IPv6ExtHdrFragment(id=77, nh=17, offset=200, m=0) / Raw(u6[1600:]),
        eth() / base6 / IPv6ExtHdrFragment(id=78, nh=6, offset=0, m=1) / Raw(t6[:104]),
        eth() / base6 / IPv6ExtHdrFragment(id=78, nh=6, offset=13, m=0) / Raw(t6[104:]),
        eth() / base6 / IPv6ExtHdrFragment(id=79, offset=0, m=0) / UDP(sport=53, dport=4002),
        eth() / base6 / IPv6ExtHdrHopByHop() / IPv6ExtHdrFragment(id=80, nh=58, offset=0, m=1) /
        Raw(b(ICMPv6EchoRequest(data=bytes(64)))[:32]),
    ], "IPv6 fragments: UDP in three, TCP in two, atomic, after hop-by-hop")

    quote = b(IP(src="10.7.0.2", dst="10.7.0.9") / UDP(sport=5555, dport=33434) / pad(8))
    F["icmp.pcap"] = ([
        eth() / IP(src="10.7.0.1", dst="10.7.0.2") / ICMP(type=8, id=1, seq=1) / pad(56),
        eth(A, B) / IP(src="10.7.0.2", dst="10.7.0.1") / ICMP(type=0, id=1, seq=1) / pad(56),
        eth(A, B) / IP(src="10.7.0.9", dst="10.7.0.2") / ICMP(type=3, code=3) / Raw(quote),
        eth(A, B) / IP(src="10.7.0.254", dst="10.7.0.2") / ICMP(type=3, code=1) / Raw(quote),
        eth(A, B) / IP(src="10.7.0.254", dst="10.7.0.2") / ICMP(type=3, code=4, nexthopmtu=1400) /
        Raw(quote),
        eth(A, B) / IP(src="10.7.0.254", dst="10.7.0.2") / ICMP(type=11, code=0) / Raw(quote),
        eth(A, B) / IP(src="10.7.0.254", dst="10.7.0.2") / ICMP(type=5, code=1, gw="10.7.0.253") /
        Raw(quote),
        eth(A, B) / IP(src="10.7.0.254", dst="10.7.0.2") / ICMP(type=12, ptr=8) / Raw(quote),
        eth(A, B) / IP(src="10.7.0.254", dst="10.7.0.2") / ICMP(type=4) / Raw(quote),
        eth() / IP(src="10.7.0.1", dst="10.7.0.2") /
        ICMP(type=13, id=2, ts_ori=1000, ts_rx=2000, ts_tx=3000),
        eth() / IP(src="10.7.0.1", dst="10.7.0.2") / ICMP(type=17, id=3),
        eth() / IP(src="10.7.0.1", dst="10.7.0.2") / ICMP(type=42, code=0) / pad(12),
        eth() / IP(src="192.168.1.100", dst="10.7.0.2") / ICMP(type=3, code=13) / Raw(quote),
    ], "ICMP echo, unreachable (port, host, frag needed, prohibited), time exceeded, "
       "redirect, parameter problem, source quench, timestamp, mask, extended echo")

    q6 = b(IPv6(src=d6, dst="2001:db8:2::99") / UDP(sport=5555, dport=33434))
    F["icmpv6.pcap"] = ([
        eth() / IPv6(src=s6, dst=d6) / ICMPv6EchoRequest(id=1, seq=1, data=bytes(32)),
        eth(A, B) / IPv6(src=d6, dst=s6) / ICMPv6EchoReply(id=1, seq=1, data=bytes(32)),
        eth(A, B) / IPv6(src=d6, dst=s6) / ICMPv6DestUnreach(code=4) / Raw(q6),
        eth(A, B) / IPv6(src=d6, dst=s6) / ICMPv6PacketTooBig(mtu=1280) / Raw(q6),
        eth(A, B) / IPv6(src=d6, dst=s6) / ICMPv6TimeExceeded() / Raw(q6),
        eth(A, B) / IPv6(src=d6, dst=s6) / ICMPv6ParamProblem(code=1, ptr=40) / Raw(q6),
        eth("33:33:ff:00:00:02", A) / IPv6(src=s6, dst="ff02::1:ff00:2", hlim=255) /
        ICMPv6ND_NS(tgt=d6),
        eth(A, B) / IPv6(src=d6, dst=s6, hlim=255) / ICMPv6ND_NA(tgt=d6, R=0, S=1, O=1),
        eth("33:33:00:00:00:02", A) / IPv6(src="fe80::1", dst="ff02::2", hlim=255) / ICMPv6ND_RS(),
        eth("33:33:00:00:00:01", B) / IPv6(src="fe80::2", dst="ff02::1", hlim=255) / ICMPv6ND_RA(),
        eth(A, B) / IPv6(src="fe80::2", dst="fe80::1", hlim=255) /
        ICMPv6ND_Redirect(tgt="fe80::3", dst="2001:db8::1"),
        eth("33:33:00:00:00:01", B) / IPv6(src="fe80::2", dst="ff02::1", hlim=1) /
        IPv6ExtHdrHopByHop(options=[RouterAlert()]) / ICMPv6MLQuery(),
    ], "ICMPv6 echo, destination unreachable, packet too big, time exceeded, parameter "
       "problem, neighbour discovery (NS, NA, RS, RA, redirect), MLD")

    in4 = IP(src="10.8.1.1", dst="10.8.1.2") / ICMP(type=8) / pad(20)
    F["gre.pcap"] = ([
        eth() / IP(src="10.8.0.1", dst="10.8.0.2") / GRE() / in4,
        eth() / IP(src="10.8.0.1", dst="10.8.0.2") / GRE(key_present=1, key=1000) /
        IP(src="10.8.1.1", dst="10.8.1.2") / UDP(sport=53, dport=53),
        eth() / IP(src="10.8.0.1", dst="10.8.0.2") / GRE(chksum_present=1, seqnum_present=1,
                                                           seqence_number=5) / in4,
        eth() / IP(src="10.8.0.1", dst="10.8.0.2") / GRE(proto=0x86dd) /
        IPv6(src="2001:db8:8::1", dst="2001:db8:8::2") / TCP(dport=443, flags="S"),
        eth() / IP(src="10.8.0.1", dst="10.8.0.2") / GRE(seqnum_present=1, proto=0x88be) /
        Raw(bytes.fromhex("10010064" "00000000")) / Ether(dst=B, src=A) /
        IP(src="192.168.1.100", dst="10.8.1.2") / TCP(sport=443, dport=999),
        eth() / IP(src="10.8.0.1", dst="10.8.0.2") / GRE(key_present=1, proto=0x6558, key=0x100) /
        Ether(dst=B, src=A) / IP(src="10.8.2.1", dst="10.8.2.2") / UDP(),
        eth() / IP(src="10.8.0.1", dst="10.8.0.2") / GRE(key_present=1, version=1,
                                                           proto=0x880b, key=0x00100001) /
        PPP(proto=0x0021) / in4,
        eth() / IPv6(src="2001:db8:8::a", dst="2001:db8:8::b") / GRE() / in4,
    ], "GRE: plain, keyed, checksum and sequence, IPv6 payload, ERSPAN II, NVGRE/TEB, "
       "PPTP (version 1), GRE over IPv6")

    inner = Ether(dst="02:00:00:00:01:01", src="02:00:00:00:01:02")
    F["vxlan.pcap"] = ([
        eth() / IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=49152, dport=4789) / VXLAN(vni=42) /
        inner / IP(src="192.168.1.100", dst="172.20.0.1") / TCP(sport=443, dport=5000, flags="A"),
        eth() / IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=49153, dport=4789) /
        VXLAN(vni=43) / inner / Dot1Q(vlan=7) / IP(src="172.20.0.2", dst="172.20.0.1") /
        UDP(sport=53, dport=53),
        eth() / IPv6(src="2001:db8:9::1", dst="2001:db8:9::2") / UDP(sport=49154, dport=4789) /
        VXLAN(vni=44) / inner / IPv6(src="fd00::1", dst="fd00::2") / ICMPv6EchoRequest(),
        eth() / IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=49155, dport=4789) /
        VXLAN(vni=45) / Ether(dst=BCAST, src=A) / ARP(psrc="172.20.0.5", pdst="172.20.0.6"),
    ], "VXLAN (UDP 4789) over IPv4 and IPv6; inner TCP, VLAN, IPv6, ARP")
    F["geneve.pcap"] = ([
        eth() / IP(src="10.10.0.1", dst="10.10.0.2") / UDP(sport=50000, dport=6081) /
        GENEVE(vni=100, proto=0x6558) / inner / IP(src="172.21.0.1", dst="172.21.0.2") /
        UDP(sport=1, dport=2),
        eth() / IP(src="10.10.0.1", dst="10.10.0.2") / UDP(sport=50001, dport=6081) /
        GENEVE(vni=101, proto=0x6558, optionlen=2,
               options=bytes.fromhex("0102 0301 00000001")) / inner /
        IP(src="172.21.0.3", dst="192.168.1.100") / TCP(sport=40000, dport=443, flags="S"),
        eth() / IP(src="10.10.0.1", dst="10.10.0.2") / UDP(sport=50002, dport=6081) /
        GENEVE(vni=102, proto=0x0800) / IP(src="172.21.0.5", dst="172.21.0.6") / ICMP(),
        eth() / IPv6(src="2001:db8:a::1", dst="2001:db8:a::2") / UDP(sport=50003, dport=6081) /
        GENEVE(vni=103, proto=0x6558) / inner / IPv6(src="fd00::5", dst="fd00::6") /
        UDP(sport=3, dport=4),
    ], "Geneve (UDP 6081): Ethernet payload with and without options, IPv4 payload, over IPv6")

    F["other-l3.pcap"] = ([
        eth() / IP(src="10.11.0.1", dst="10.11.0.2") / SCTP(sport=2905, dport=2905) / pad(16),
        eth() / IP(src="10.11.0.1", dst="10.11.0.2") / ESP(spi=0x300, seq=2) / pad(48),
        eth() / IP(src="10.11.0.1", dst="10.11.0.2") / AH(spi=0x301, seq=2) / UDP(dport=500),
        eth("01:00:5e:00:00:05", A) / IP(src="10.11.0.1", dst="224.0.0.5", proto=89, ttl=1) /
        pad(44),
        eth("01:00:5e:00:00:12", A) / IP(src="10.11.0.1", dst="224.0.0.18", ttl=255) /
        VRRP(vrid=1, addrlist=["10.11.0.254"]),
        eth("01:00:5e:00:00:0d", A) / IP(src="10.11.0.1", dst="224.0.0.13", proto=103) / pad(26),
        eth("01:00:5e:00:00:0a", A) / IP(src="10.11.0.1", dst="224.0.0.10", proto=88) / pad(20),
        eth(BCAST, A) / IP(src="10.11.0.1", dst="10.11.0.255") / UDP(sport=137, dport=137) /
        pad(50),
        eth() / IP(src="10.11.0.1", dst="10.11.0.2", ttl=0, tos=0xb8) / UDP(sport=161, dport=162),
        eth(type=0x86dd) / IP(src="10.11.0.1", dst="10.11.0.2") / UDP(),
        eth(type=0x0800) / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(),
        eth() / IP(src="10.11.0.1", dst="10.11.0.2", ihl=4) / UDP(),
        eth() / IP(src="10.11.0.1", dst="10.11.0.2", len=20) / TCP(),
        eth() / IPv6(src="::", dst="ff02::1:2") / UDP(sport=546, dport=547) / pad(30),
        eth() / IPv6(src="2001:db8::1", dst="2001:db8::2", tc=0xb8, fl=0x12345) /
        SCTP(sport=38412, dport=38412),
    ], "SCTP, ESP, AH, OSPF, VRRP, PIM, EIGRP, broadcast, multicast, TOS, wrong IP versions "
       "for the ethertype, bad IHL and total length, DHCPv6")

    # Jumbo frames of 7-12 KB: several mbufs each.
    F["jumbo-frames.pcap"] = ([
        eth() / IP(src="10.12.0.1", dst="10.12.0.2") / TCP(sport=5001, dport=5002, flags="A") /
        pad(8960),
        eth() / IPv6(src="2001:db8:c::1", dst="2001:db8:c::2") / UDP(sport=5003, dport=5004) /
        pad(7400),
        eth() / Dot1Q(vlan=12) / IP(src="192.168.1.100", dst="10.12.0.2") /
        TCP(sport=443, dport=5005, flags="PA") / pad(11900),
        eth() / IP(src="10.12.0.1", dst="10.12.0.2") / UDP(sport=5006, dport=4789) /
        VXLAN(vni=7) / inner / IP(src="172.22.0.1", dst="172.22.0.2") /
        TCP(sport=80, dport=5007) / pad(8000),
        eth(type=0x8847) / MPLS(label=77, s=1) / IP(src="10.12.0.3", dst="10.12.0.4") /
        UDP(sport=9, dport=9) / pad(10000),
        eth() / IP(src="10.12.0.1", dst="10.12.0.2") / ICMP() / pad(12200),
    ], "jumbo frames, 7.4-12.3 KB: IPv4, IPv6, VLAN, VXLAN, MPLS")
    F["gso-ipv6.pcap"] = ([
        eth() / IPv6(src="2001:db8:d::1", dst="2001:db8:d::2") /
        TCP(sport=443, dport=45000, flags="PA", seq=1, ack=1) / pad(7226 - 14 - 40 - 20),
    ], "one 7226-byte IPv6 TCP frame, as GSO hands it over")

    # Frames cut at every header boundary (and one byte either side): caplen < wire length.
    whole = [
        eth() / IP(src="192.168.1.100", dst="10.13.0.2") /
        TCP(sport=443, dport=6000, flags="PA", options=[("MSS", 1460)]) / pad(20),
        eth() / IP(src="10.13.0.1", dst="10.13.0.2") / UDP(sport=6001, dport=53) / q,
        eth() / IPv6(src="2001:db8:e::1", dst="2001:db8:e::2") / TCP(sport=22, dport=6002) /
        pad(10),
        eth() / IPv6(src="2001:db8:e::1", dst="2001:db8:e::2") / IPv6ExtHdrHopByHop() /
        IPv6ExtHdrFragment(id=3) / UDP(sport=6003, dport=53) / pad(10),
        eth() / Dot1Q(vlan=100) / IP(src="10.13.0.1", dst="10.13.0.2") / UDP(sport=6004,
                                                                             dport=4789) /
        VXLAN(vni=9) / inner / IP(src="172.23.0.1", dst="172.23.0.2") / TCP(dport=80),
        eth() / Dot1AD(vlan=5) / Dot1Q(vlan=6) / IPv6(src="fe80::1", dst="fe80::2") /
        ICMPv6EchoRequest(),
        eth(type=0x8847) / MPLS(label=20, s=0) / MPLS(label=21, s=1) /
        IP(src="10.13.0.1", dst="10.13.0.2") / TCP(dport=179),
        eth() / PPPoE(sessionid=3) / ppp(0x0021) / IP(src="10.13.0.1", dst="10.13.0.2") /
        UDP(dport=53),
        eth() / IP(src="10.13.0.1", dst="10.13.0.2") / GRE(key_present=1, key=1) /
        IP(src="10.13.1.1", dst="10.13.1.2") / ICMP(type=3, code=3) / Raw(quote),
        eth() / IP(src="10.13.0.1", dst="10.13.0.2", options=[IPOption_Router_Alert()]) /
        IGMP(type=0x16, gaddr="239.2.2.2"),
        eth(BCAST, A) / ARP(psrc="10.13.0.1", pdst="10.13.0.2"),
        Dot3(dst=B, src=A) / LLC(dsap=0xaa, ssap=0xaa, ctrl=3) / SNAP(OUI=0, code=0x0800) /
        IP(src="10.13.0.1", dst="10.13.0.2") / UDP(dport=9),
    ]
    pk = []
    for p in whole:
        data = b(p)
        cuts, off, layer = set(), 0, p
        while layer is not None and not isinstance(layer, type(None)) and len(b(layer)):
            off = len(data) - len(b(layer))
            cuts.update((off - 1, off, off + 1))
            layer = layer.payload if layer.payload else None
        for n in sorted(x for x in cuts if 0 < x < len(data)):
            pk.append((data, n))
    F["trunc-headers.pcap"] = (pk, "frames cut at every header boundary and a byte either "
                                   "side (VLAN, QinQ, MPLS, PPPoE, IPv4, IPv6 and extension "
                                   "headers, TCP, UDP, GRE, VXLAN, ICMP, IGMP, ARP, SNAP)")

    # Runts: 0 to 59 bytes, whole (caplen == wire length).
    pk = []
    proto = b(eth() / IP(src="10.14.0.1", dst="10.14.0.2") / UDP(sport=53, dport=53) / pad(40))
    for n in range(60):
        pk.append(proto[:n])
    F["runt-frames.pcap"] = (pk, "runts: Ethernet frames of 0 to 59 bytes, captured whole")
    return F


# ------------------------------------------------------------------------------------------
# The files.

def build():
    F = frames()
    from scapy.all import ICMP, IP, TCP, UDP, Raw

    files = []          # (name, bytes, linktype, format, tsprec, packets, note)

    def recs_of(pkts, fi, nano=False):
        out = []
        for k, p in enumerate(pkts):
            data, caplen = p if isinstance(p, tuple) else (bytes(p), None)
            if caplen is None:
                caplen = len(data)
            ts = (T0 + k // 100) * 10**9 + (k % 100) * 10_000_000 + fi * 137_000
            if nano:
                ts += k * 7 + 3
            out.append((ts, caplen, len(data), data))
        return out

    def short_note(recs):
        cut = sum(1 for r in recs if r[1] < r[2])
        return f"; {cut} packet(s) with caplen < wire length" if cut else ""

    names = sorted(F)
    for fi, name in enumerate(names):
        pkts, note = F[name]
        nano = name == "tcp-ns.pcap"
        recs = recs_of(pkts, fi, nano)
        data = pcap_bytes(recs, nano=nano)
        files.append((name, data, "EN10MB", "pcap", "ns" if nano else "us", len(recs),
                      note + short_note(recs)))
    fi = len(names)

    # The DNS exchange with its last record cut short (tcpdump reads 10, then fails).
    dns = [f for f in files if f[0] == "dns_tcp.pcap"][0][1]
    files.append(("derived-dns_tcp-cut.pcap", dns[:-20], "EN10MB", "pcap", "us", 10,
                  "malformed+derived: dns_tcp.pcap with its last 20 bytes removed, so the "
                  "11th record is cut short; tcpdump reads 10 packets then fails with "
                  "\"truncated dump file\" (exit 1)"))

    # Other formats: big-endian pcap, pcapng (micro- and nanosecond), far-future times.
    mix = F["dns_udp.pcap"][0] + F["icmp.pcap"][0][:4] + F["ssh.pcap"][0][:6]
    r = recs_of(mix, fi + 1)
    files.append(("big-endian.pcap", pcap_bytes(r, endian=">"), "EN10MB", "pcap", "us", len(r),
                  "big-endian pcap (magic a1b2c3d4 written most significant byte first): "
                  "DNS, DHCP, NTP, ICMP, TCP"))
    r = recs_of(F["icmpv6.pcap"][0] + F["vlan.pcap"][0][:6], fi + 2)
    files.append(("ng-us.pcapng", pcapng_bytes(r, 6, comment="linecap generated corpus"),
                  "EN10MB", "pcapng", "us", len(r),
                  "pcapng: microsecond (default if_tsresol), section comment; ICMPv6, VLAN"))
    r = recs_of(F["tcp-ns.pcap"][0] + F["gre.pcap"][0], fi + 3, nano=True)
    files.append(("ng-ns.pcapng", pcapng_bytes(r, 9), "EN10MB", "pcapng", "ns", len(r),
                  "pcapng: nanosecond (if_tsresol 9); TCP 443, GRE"))
    far = [((2**32 + 86400 * 365) * 10**9 + k * 1000 + 1, c, n, d)
           for k, (_, c, n, d) in enumerate(recs_of(F["dns_udp.pcap"][0][:3], fi + 4))]
    files.append(("time_2107-ns.pcapng", pcapng_bytes(far, 9), "EN10MB", "pcapng", "ns",
                  len(far), "pcapng, nanosecond: timestamps in 2107, past the 32-bit seconds "
                            "of classic pcap"))

    # Empty, cut, damaged, unreadable.
    files.append(("empty.pcapng", pcapng_bytes([]), "EN10MB", "pcapng", "us", 0,
                  "pcapng: section and interface, no packet"))
    files.append(("empty.pcap", pcap_bytes([]), "EN10MB", "pcap", "us", 0,
                  "pcap: file header only, no packet"))
    r = recs_of(F["arp.pcap"][0], fi + 5)
    files.append(("cut-record-header.pcap", pcap_bytes(r)[:-(r[-1][1] + 16) + 9], "EN10MB",
                  "pcap", "us", len(r) - 1,
                  "malformed: the last record's header cut after 9 bytes; tcpdump reads "
                  f"{len(r) - 1} packets, then fails (exit 1)"))
    r = recs_of(F["geneve.pcap"][0], fi + 6)
    ng = pcapng_bytes(r, 9)
    files.append(("cut-block.pcapng", ng[:-30], "EN10MB", "pcapng", "ns", len(r) - 1,
                  "malformed: pcapng whose last block is cut 30 bytes short"))
    r = recs_of(F["dns_udp.pcap"][0][:3], fi + 7)
    bad = pcap_bytes(r)
    bad += struct.pack("<IIII", T0 + 1, 0, 0x7FFF0000, 0x7FFF0000) + bytes(10)
    files.append(("bad-caplen-huge.pcap", bad, "EN10MB", "pcap", "us", 3,
                  "malformed: after 3 records, one with caplen 0x7fff0000 (and 10 bytes); "
                  "tcpdump fails (exit 1)"))
    r = recs_of(F["vxlan.pcap"][0], fi + 8)
    files.append(("bad-caplen-over-snaplen.pcap", pcap_bytes(r, snaplen=96), "EN10MB", "pcap",
                  "us", len(r), "malformed: header snaplen 96, records captured longer"))
    files.append(("shorthdr.pcap", pcap_bytes([])[:12], "-", "pcap", "us", "-",
                  "malformed: 12 bytes, a cut file header; tcpdump refuses it"))
    r = recs_of(F["dns_udp.pcap"][0][:2], fi + 9)
    files.append(("pcap-invalid-version.pcap", pcap_bytes(r, version=(1, 0)), "EN10MB", "pcap",
                  "us", "-", "malformed: pcap version 1.0; tcpdump refuses it"))
    files.append(("pcapng-invalid-version.pcapng", pcapng_bytes(r, major=2), "EN10MB", "pcapng",
                  "us", "-", "malformed: pcapng section version 2.0; tcpdump refuses it"))

    # A non-Ethernet link type: raw IPv4 (LINKTYPE_RAW, 101).
    raw4 = [bytes(IP(src="10.15.0.1", dst="10.15.0.2") / UDP(sport=53, dport=53) / Raw(bytes(20))),
            bytes(IP(src="10.15.0.2", dst="10.15.0.1") / TCP(sport=80, dport=40000, flags="S")),
            bytes(IP(src="10.15.0.1", dst="10.15.0.2") / ICMP())]
    r = recs_of(raw4, fi + 10)
    files.append(("LINKTYPE_RAW_ipv4.pcap", pcap_bytes(r, linktype=101), "RAW", "pcap", "us",
                  len(r), "non-Ethernet: LINKTYPE_RAW (101), IPv4 packets"))
    return files


FILTERS = """\
host 192.168.1.100 and port 443
src host 192.168.1.50 and dst port 22
tcp[tcpflags] & tcp-rst != 0
icmp[icmptype] == icmp-unreach
ip
ip6
arp
rarp
tcp
udp
icmp
icmp6
sctp
igmp
vrrp
pim
ip proto 88
ip proto 89
ip proto 47
ip proto 50
ip6 proto 51
ah
esp
not ip and not ip6
ether broadcast
ether multicast
not ether multicast
ip broadcast
ip multicast
ip6 multicast
ether host 02:00:00:00:00:01
ether src 02:00:00:00:00:02
ether dst 01:80:c2:00:00:00
ether proto 0x88cc
ether proto 0x8809
ether proto 0x88e5
ether proto 0x888e
ether proto 0x88f7
ether proto 0x8137
ether proto \\ipx
decnet
atalk
aarp
stp
ipx
netbeui
iso
isis
llc
llc s
llc u
ether[12:2] <= 1500
ether[14:2] = 0xaaaa and ether[16] = 3
pppoed
pppoes
pppoes 0x11
pppoes and ip
pppoes and ip6
pppoes and udp port 53
pppoes 0x22 and ip6
vlan
vlan 1
vlan 5
vlan 100
vlan 4094
vlan and ip
vlan and ip6
vlan and arp
vlan 100 and udp
vlan 300 and vlan 10
vlan and vlan and arp
vlan and vlan and ip
vlan and vlan and vlan
vlan 20 and vlan 30 and ip6
vlan and tcp port 443
not vlan
ether[12:2] = 0x88a8
ether[12:2] = 0x9100
mpls
mpls 16
mpls 100 and mpls 200
mpls 1000 and mpls 2000 and mpls 1048575 and ip6
mpls and ip
mpls and ip6
mpls and tcp port 179
vlan and mpls
ether proto 0x8848
udp port 6635
ip[6:2] & 0x3fff != 0
ip[6:2] & 0x1fff != 0
ip[6] & 0x40 != 0
ip[6] & 0x20 != 0
udp and not ip[6:2] & 0x1fff != 0
udp port 53
tcp port 53
port domain
port 53 and not tcp
tcp and port domain
ip6 and udp port 53
ip6 and tcp
ip6 and udp
ip6 and udp port 547
ip6 protochain 17
ip6 protochain 6
ip6 protochain 58
ip protochain 6
ip6 proto 0
ip6 proto 43
ip6 proto 44
ip6 proto 60
ip6 proto 59
ip6 proto 4
ip6 proto 41
ip6[6] == 44
ip6[40] == 17
ip6 src 2001:db8:2::1
ip6 dst net 2001:db8::/32
ip6 host fe80::1
net 2001:db8:2::/48
icmp6 and ip6[40] == 128
icmp6 and ip6[40] == 135
icmp6[icmp6type] == icmp6-echo
icmp6[icmp6type] == icmp6-packettoobig
icmp6[icmp6type] == icmp6-neighborsolicit
icmp6[icmp6type] == icmp6-routeradvert
icmp6[icmp6type] < 128
icmp[icmptype] == icmp-echo
icmp[icmptype] == icmp-echoreply
icmp[icmptype] == icmp-timxceed
icmp[icmptype] == icmp-redirect
icmp[icmptype] == icmp-paramprob
icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply
icmp[icmpcode] == 3
icmp[0] == 42
ip[9] == 1 and ip[20] == 3
ip[0] & 0xf > 5
ip[0] & 0xf == 15
ip[0] & 0xf0 != 0x40
ip[1] & 0xfc == 0xb8
ip[8] == 0
ip[2:2] > 1000
ip[2:2] < 40
tcp[tcpflags] == tcp-syn
tcp[tcpflags] & tcp-syn != 0
tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)
tcp[tcpflags] & (tcp-syn|tcp-fin) != 0
tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and port 22
tcp[tcpflags] & tcp-fin != 0
tcp[tcpflags] & tcp-push != 0
tcp[tcpflags] & tcp-urg != 0
tcp[tcpflags] & tcp-ece != 0
tcp[tcpflags] & tcp-cwr != 0
tcp[tcpflags] == 0
tcp[tcpflags] == 0xff
tcp[tcpflags] & (tcp-fin|tcp-urg|tcp-push) == (tcp-fin|tcp-urg|tcp-push)
tcp[12] & 0x01 != 0
tcp[12] & 0xf0 > 0x50
tcp[13] & 3 = 3
tcp[14:2] = 0
tcp[18:2] != 0
tcp dst port 443
tcp src port 443 or tcp dst port 443
tcp portrange 1-1023
tcp port 22 and greater 100
tcp and greater 1000
tcp and less 60
port 22
port 443
port 80 or port 8080
src port 1000
dst port 53 and src port 33333
udp port 4789
udp port 6081
geneve
geneve and ip
geneve 101
geneve and tcp port 443
geneve and ip6
udp dst port 4789 and udp[8] & 0x08 != 0
udp port 4789 and udp[28:2] = 0x8100
ip proto gre
ip proto \\gre and ip[20:2] & 0x2000 != 0
ip[22:2] = 0x0800
ip[22:2] = 0x86dd
ip[22:2] = 0x88be
ip[22:2] = 0x6558
ip6 proto 47
igmp[0] == 0x16
igmp[0] == 0x11
ip dst 224.0.0.22
ip dst net 224.0.0.0/4
host 192.168.1.100
src host 192.168.1.100
dst host 192.168.1.100
not host 192.168.1.100
net 192.168.1.0/24
src net 10.0.0.0/8 and dst net 10.0.0.0/8
net 10.8.0.0/16
host 10.5.0.1 and host 10.5.0.2
ip host 10.0.0.1
ip src 10.9.8.7 and tcp dst port 443
arp and arp[6:2] = 1
arp and arp[6:2] = 2
arp host 192.168.1.100
rarp and rarp[6:2] = 3
greater 1500
greater 7000
greater 12000
less 64
less 100
len > 9000
len < 1000 and ip
len >= 7226
ip[2:2] > 1500
udp[4:2] > 1000
ether[0] & 1 != 0
ether[12:2] = 0x8100
ether[12:2] = 0x8847 and ether[16:4] & 0x100 != 0
ether[14] = 0x45
ether[14] & 0xf0 = 0x60
ether[23] = 6
ether[12:2] = 0x0800 and ether[23] = 17 and ether[36:2] = 53
ether[40] == 1
ether[2000:2] != 0xffff
ether[7000:4] != 0xffffffff
ether[12000] != 0
udp port bootps or udp port bootpc
udp port ntp
port 137
udp and udp[8:2] = 0x1234
tcp port 443 and tcp[((tcp[12] & 0xf0) >> 2):1] = 0x16
ip and (tcp or udp) and not port 53
(ip or ip6) and tcp and port 443
ip6 and not (tcp or udp or icmp6)
vlan 12 and tcp port 443 and greater 9000
ip and not ip[6:2] & 0x3fff != 0 and udp
"""


def check_filters(pcap):
    """Every filter compiles for Ethernet and is not refused as matching nothing."""
    bad = []
    for i, f in enumerate(FILTERS.splitlines(), 1):
        p = subprocess.run(["tcpdump", "-r", pcap, "-d", f], capture_output=True, text=True)
        if p.returncode != 0:
            bad.append(f"filters.txt line {i} '{f}': {p.stderr.strip()}")
    return bad


def write_corpus():
    try:
        import scapy.all  # noqa: F401 (the frames are built with it)
    except ImportError:
        sys.exit("make_corpus.py: scapy is missing: apt-get install python3-scapy "
                 "(scripts/deps.sh), and run Debian's /usr/bin/python3")
    pdir = os.path.join(ROOT, "pcaps")
    os.makedirs(pdir, exist_ok=True)
    for old in os.listdir(pdir):
        os.unlink(os.path.join(pdir, old))
    files = build()
    rows = ["file\tlinktype\tformat\ttsprec\tpackets\tbytes\tsource_repo\tsource_path\tnote"]
    for name, data, lt, fmt, prec, n, note in sorted(files):
        with open(os.path.join(pdir, name), "wb") as f:
            f.write(data)
        rows.append(f"{name}\t{lt}\t{fmt}\t{prec}\t{n}\t{len(data)}\tgenerated\t"
                    f"scripts/make_corpus.py\t{note}")
    with open(os.path.join(ROOT, "MANIFEST.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    with open(os.path.join(ROOT, "filters.txt"), "w") as f:
        f.write(FILTERS)
    bad = check_filters(os.path.join(pdir, "dns_tcp.pcap"))
    total = sum(len(x[1]) for x in files)
    print(f"{len(files)} captures ({total} bytes), {len(FILTERS.splitlines())} filters "
          f"in {os.path.normpath(ROOT)}", file=sys.stderr)
    if bad:
        sys.exit("\n".join(bad))


# ------------------------------------------------------------------------------------------
# Expected counts, from tcpdump, at build time (standard library only).

def parse_pcap(data):
    """(header, records as (ts_sec, ts_frac, caplen, len, bytes)) of tcpdump's -w output."""
    e = "<" if struct.unpack("<I", data[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, frac, caplen, length = struct.unpack(e + "IIII", data[off:off + 16])
        recs.append((sec, frac, caplen, length, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return data[:24], recs


def expected(out, corpus):
    """One tcpdump run per file (what it reads, its exit status), then one run per filter over
    all those records in one file, each record stamped with its index so the records a filter
    keeps map back to their files. A filter sees one packet at a time (caplen, wire length,
    bytes; offline, netmask 0), so the counts equal those of one run per file and filter."""
    filters = open(os.path.join(corpus, "filters.txt")).read().splitlines()
    manifest = [line.split("\t") for line in
                open(os.path.join(corpus, "MANIFEST.tsv")).read().splitlines()[1:]]
    files, owner, body = [], [], b""
    for cols in manifest:
        if cols[1] != "EN10MB":
            continue
        p = subprocess.run(["tcpdump", "-n", "-r", os.path.join(corpus, "pcaps", cols[0]),
                            "-w", "-"], capture_output=True)
        err = p.stderr.decode(errors="replace").strip().replace("\t", " ").replace("\n", " ")
        if not p.stdout:
            files.append((cols[0], None, p.returncode, err))
            continue
        _, recs = parse_pcap(p.stdout)
        files.append((cols[0], len(recs), p.returncode, err))
        for r in recs:
            body += struct.pack("<IIII", len(owner), 0, r[2], r[3]) + r[4]
            owner.append(len(files) - 1)
    with tempfile.TemporaryDirectory(prefix="lc_corpus_") as tmp:
        allp = os.path.join(tmp, "all.pcap")
        with open(allp, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1) + body)
        def run(expr):
            return subprocess.run(["tcpdump", "-n", "-r", allp, "-w", "-", expr],
                                  capture_output=True)

        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
            results = list(pool.map(run, filters))
        kept = []
        for expr, p in zip(filters, results):
            data = p.stdout
            if p.returncode != 0:
                sys.exit(f"make_corpus.py: tcpdump '{expr}': {p.stderr.decode().strip()}")
            counts = [0] * len(files)
            for r in parse_pcap(data)[1]:
                counts[owner[r[0]]] += 1
            kept.append(counts)
    rows = ["file\tfilter_line\tfilter\tpackets\ttcpdump_rc\ttcpdump_stderr"]
    for fi, (name, n, rc, err) in enumerate(files):
        for li, expr in enumerate(filters):
            packets = "" if n is None else str(kept[li][fi])
            rows.append(f"{name}\t{li + 1}\t{expr}\t{packets}\t{rc}\t{err if rc else ''}")
    with open(out + ".tmp", "w") as f:
        f.write("\n".join(rows) + "\n")
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--expected":
        expected(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 1:
        write_corpus()
    else:
        sys.exit(__doc__)
