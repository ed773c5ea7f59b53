#!/usr/bin/env python3
"""Write the committed seed inputs of the reader and verify fuzz harnesses (small files made
here, byte by byte; nothing taken from the corpus):
  tests/fuzz/seeds/reader/  pcap (both byte orders, micro and nano, caplen over snaplen, cut)
                            and pcapng (two sections, big-endian, if_tsresol, unknown blocks)
  tests/fuzz/seeds/verify/  manifests describing the harness's capture file x-q00-000001.pcap:
                            whole chains, a retirement, a broken chain, wrong types, a path
                            leaving the directory
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


if __name__ == "__main__":
    main()
