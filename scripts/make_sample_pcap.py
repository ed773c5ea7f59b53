#!/usr/bin/env python3
"""Write a sample Ethernet pcap: many TCP/UDP flows in both directions, about 1% of the
packets on the "evidence" flow 192.168.1.100:443, 5% ICMP echo, sizes from 64 to 1518 bytes.
Usage: make_sample_pcap.py OUT.pcap [PACKETS]"""
import random
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def frame(src, dst, sport, dport, proto, size, seq):
    payload_len = max(0, size - 14 - 20 - (20 if proto == 6 else 8))
    payload = struct.pack("!Q", seq) + bytes(max(0, payload_len - 8))
    payload = payload[:payload_len]
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, 0, 5 << 4, 0x18,
                         65535, 0, 0) + payload
    elif proto == 1:
        l4 = struct.pack("!BBHHH", 8, 0, 0, sport, seq & 0xFFFF) + payload[:max(0, len(payload) - 0)]
    else:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    tot = 20 + len(l4)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, seq & 0xFFFF, 0, 64, proto, 0,
                      ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    eth = bytes.fromhex("020000000002" "020000000001") + b"\x08\x00"
    return eth + hdr + l4


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    rnd = random.Random(42)
    flows = []
    for _ in range(256):
        flows.append((f"10.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}",
                      f"172.16.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}",
                      rnd.randint(1024, 65535), rnd.choice([80, 53, 443, 8080, 22]),
                      rnd.choice([6, 17])))
    evidence = ("192.168.1.50", "192.168.1.100", 51515, 443, 6)
    t0 = 1767225600  # 2026-01-01T00:00:00Z
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(count):
            r = rnd.random()
            src, dst, sport, dport, proto = evidence if r < 0.01 else rnd.choice(flows)
            if 0.01 <= r < 0.06:
                proto = 1
            if rnd.random() < 0.5:
                src, dst, sport, dport = dst, src, dport, sport
            size = rnd.choice([64, 64, 64, 64, 64, 64, 64, 570, 570, 570, 570, 1518])
            data = frame(src, dst, sport, dport, proto, size - 4, i)
            f.write(struct.pack("<IIII", t0 + i // 1000000, i % 1000000, len(data), len(data)))
            f.write(data)


if __name__ == "__main__":
    main()
