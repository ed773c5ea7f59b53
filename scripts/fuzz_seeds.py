#!/usr/bin/env python3
"""Write the committed seed inputs of the reader and verify fuzz harnesses (small files made
here, byte by byte; nothing taken from the corpus):
  tests/fuzz/seeds/reader/  pcap (both byte orders, micro and nano, caplen over snaplen, cut)
                            and pcapng (two sections, big-endian, if_tsresol, unknown blocks)
  tests/fuzz/seeds/verify/  manifests describing the harness's capture file x-q00-000001.pcap:
                            whole chains, a retirement, a broken chain, wrong types, a path
                            leaving the directory
  tests/fuzz/seeds/seqcheck/ pcap and pcapng files of frames carrying linecap-gen tags: clean,
                            gaps, duplicates and reordering, VLAN/IPv6/TCP, sequence numbers
                            near 10^19 and at 2^64 - 1 (the report that once overflowed)
Run: python3 scripts/fuzz_seeds.py  (rewrites the seeds)."""
import hashlib
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz", "seeds")


def frame(i, n=60):
    f = bytearray(n)
    f[12], f[13] = 0x08, 0x00
    f[14] = 0x45
    f[-1] = i & 0xFF
    return bytes(f)


def pcap(e="<", nano=True, recs=3, snap=262144, caplen_over=False, cut=0):
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, snap, 1)
    for i in range(recs):
        d = frame(i)
        cl = len(d) + (100 if caplen_over and i == 1 else 0)
        out += struct.pack(e + "IIII", 1767225600 + i, 1000 * i, cl, len(d)) + d
    return out[:len(out) - cut] if cut else out


def block(e, btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def opt(e, code, val):
    return struct.pack(e + "HH", code, len(val)) + val + b"\0" * (-len(val) % 4)


def pcapng(e="<", tsresol=9, extra=b""):
    shb = block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1) +
                opt(e, 4, b"fuzz seed") + opt(e, 0, b""))
    idb = block(e, 1, struct.pack(e + "HHI", 1, 0, 262144) + opt(e, 2, b"q0") +
                opt(e, 9, bytes([tsresol])) + opt(e, 0, b""))
    out = shb + idb
    for i in range(3):
        d = frame(i, 60 + 8 * i)
        ts = 1767225600 * 10**9 + i
        out += block(e, 6, struct.pack(e + "IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(d),
                                       len(d)) + d)
    out += block(e, 3, struct.pack(e + "I", 60) + frame(9))          # simple packet block
    out += block(e, 0x0BAD, b"unknown block")
    return out + extra


def write(sub, name, data):
    d = os.path.join(ROOT, sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# The capture file the verify harness writes (same bytes as write_capture()).
def verify_capture():
    out = struct.pack("<IIIIII", 0xA1B23C4D, 0x00040002, 0, 0, 262144, 1)
    for i in range(2):
        f = bytearray(60)
        f[12] = 0x08
        f[59] = i
        out += struct.pack("<IIII", 1767225600 + i, 1000 * i, 60, 60) + bytes(f)
    return out


def chain(records):
    prev, lines = "0" * 64, []
    for r in records:
        r = dict(r, prev=prev)
        line = json.dumps(r, separators=(",", ":")).encode()
        lines.append(line + b"\n")
        prev = hashlib.sha256(line + b"\n").hexdigest()
    return b"".join(lines)


# A frame as linecap-gen sends it: Ethernet (802.1Q when vlan), IPv4 or IPv6, UDP or TCP,
# then the tag: magic 0x4c43, generator id, flow id, sequence number, all big-endian.
def tagged(gen, flow, seq, vlan=0, ipv6=False, tcp=False):
    tag = struct.pack(">HHIQ", 0x4C43, gen, flow, seq)
    l4 = (bytes(12) + b"\x50\x04" + bytes(6)) if tcp else bytes(8)
    if ipv6:
        l3 = b"\x60" + bytes(3) + struct.pack(">HBB", len(l4) + 16, 6 if tcp else 17, 64) + \
            bytes(32)
        eth = b"\x86\xdd"
    else:
        l3 = b"\x45" + bytes(8) + bytes([6 if tcp else 17]) + bytes(10)
        eth = b"\x08\x00"
    head = bytes(12) + (b"\x81\x00" + struct.pack(">H", vlan) if vlan else b"")
    f = head + eth + l3 + l4 + tag
    return f + bytes(max(0, 60 - len(f)))


def pcap_of(frames, e="<"):
    out = struct.pack(e + "IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1)
    for i, d in enumerate(frames):
        out += struct.pack(e + "IIII", 1767225600, i, len(d), len(d)) + d
    return out


def pcapng_of(frames, e="<"):
    shb = block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1) + opt(e, 0, b""))
    idb = block(e, 1, struct.pack(e + "HHI", 1, 0, 262144) + opt(e, 9, b"\x09") +
                opt(e, 0, b""))
    out = shb + idb
    for i, d in enumerate(frames):
        out += block(e, 6, struct.pack(e + "IIIII", 0, 0, i, len(d), len(d)) + d)
    return out


def seqcheck_seeds():
    big = 10**19
    write("seqcheck", "clean", pcap_of([tagged(1, 0, i) for i in range(10)]))
    lossy = [0, 1, 2, 5, 6, 6, 4, 9, 8, 12]
    write("seqcheck", "gaps-dups-reordered",
          pcap_of([tagged(1, 0, s) for s in lossy] + [tagged(2, 7, s) for s in (3, 1, 2)]))
    mixed = [tagged(3, 1, 0, vlan=100), tagged(3, 2, 0, ipv6=True), tagged(3, 3, 0, tcp=True),
             tagged(3, 1, 2, vlan=100), tagged(3, 2, 1, ipv6=True, tcp=True), bytes(60)]
    write("seqcheck", "pcapng-vlan-ipv6-tcp", pcapng_of(mixed))
    write("seqcheck", "pcapng-be", pcapng_of([tagged(1, 0, i) for i in (0, 2, 1)], ">"))
    # Small gaps, then numbers just past 10^19 (51-character ranges), then 10 of them again
    # in reverse: the old 512-byte report line overflowed on this (issue 12).
    seqs = [5 + 2 * i for i in range(9)] + [big + 2 * i for i in range(12)]
    write("seqcheck", "regress-long-report",
          pcap_of([tagged(1, 5, s) for s in seqs + seqs[:-11:-1]]))
    many = [big + 2 * i for i in range(40)]
    write("seqcheck", "near-1e19-many-ranges", pcap_of([tagged(65535, 0xFFFFFFFF, s)
                                                        for s in reversed(many)]))
    write("seqcheck", "limits", pcap_of([tagged(1, 1, 2**64 - 1), tagged(1, 1, 2**64 - 1),
                                         tagged(1, 2, 2**63), tagged(1, 3, 2**63)]))


def main():
    write("reader", "pcap-le-nano", pcap())
    write("reader", "pcap-be-micro", pcap(">", nano=False))
    write("reader", "pcap-caplen-over-snaplen", pcap(snap=64, caplen_over=True))
    write("reader", "pcap-cut", pcap(cut=7))
    write("reader", "pcapng-le", pcapng())
    write("reader", "pcapng-be-usec", pcapng(">", tsresol=6))
    write("reader", "pcapng-two-sections", pcapng(extra=pcapng(">", tsresol=0x8A)))
    cap = verify_capture()
    sha = hashlib.sha256(cap).hexdigest()
    good = {"file": "x-q00-000001.pcap", "sha256": sha, "bytes": len(cap), "packets": 2,
            "first_ns": 1767225600 * 10**9, "last_ns": 1767225601 * 10**9 + 1000, "queue": 0,
            "seq": 1, "format": "pcap", "snaplen": 262144, "clock": "tsc"}
    write("verify", "good", chain([good]))
    write("verify", "retired", chain([good, {"retired": "x-q00-000001.pcap", "sha256": sha,
                                             "bytes": len(cap), "queue": 0,
                                             "reason": "retain-bytes", "at_ns": 1}]))
    write("verify", "broken-chain", chain([good]).replace(b'"prev":"000', b'"prev":"100'))
    write("verify", "wrong-types", chain([dict(good, bytes="many", packets=-1, queue=[1],
                                               seq=None)]))
    write("verify", "escape", chain([dict(good, file="../../etc/passwd")]))
    write("verify", "not-json", b"{\n" + chain([good]) + b"\xff\xfe\n")
    seqcheck_seeds()


if __name__ == "__main__":
    main()
