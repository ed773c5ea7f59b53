#!/usr/bin/env python3
"""linecap-query against tcpdump: a rotated two-queue capture (linecap-gen traffic with IPv6,
RSTs and a VLAN, and the corpus's Ethernet captures) gets an index beside every file, its
SHA-256 in the manifest; every expression of a list (host, net, port, portrange, proto,
vlan, TCP flags, fragments, lengths, negations) and a sample of the corpus's filters, over the
whole capture and over a window, gives byte for byte what tcpdump keeps of the merged
files within the window; the same without the index, on standard output, from a capture cut
at 64 bytes, and from an open .part file cut mid-record. --flows names each conversation's
state (established, refused, unanswered, reset, icmp-unreachable, one-way) and shows exactly
the conversations where tcpdump keeps a packet."""
import hashlib
import heapq
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

BIN = os.path.dirname(os.environ["LINECAP"])
QUERY = os.path.join(BIN, "linecap-query")
GEN = os.path.join(BIN, "linecap-gen")

EXPRS = [
    "", "host 192.168.1.100", "host 192.168.1.100 and port 443", "not host 192.168.1.100",
    "net 10.0.0.0/8", "src net 10.0.0.0/16 and udp", "port 53", "portrange 1000-30000",
    "tcp", "udp", "icmp", "ip6", "ip6 and udp", "arp", "vlan", "vlan 7", "vlan and udp",
    "tcp[tcpflags] & tcp-rst != 0", "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "ip[6:2] & 0x1fff != 0", "greater 500", "less 100", "not tcp and not udp",
    "udp and not port 53 and not host 192.168.1.100",
]
# Under the sanitizers (LC_QUERY_ROUNDS=1) a third of the sampled filters and changed
# positions: the same checks, fewer of them.
ROUNDS = int(os.environ.get("LC_QUERY_ROUNDS", "3"))
SAMPLED = {"generated": 10 * ROUNDS // 3, "shared": 25 * ROUNDS // 3}


def query(*args, **kw):
    return subprocess.run([QUERY, *args], capture_output=True, timeout=120, **kw)


def secs(ns):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + f".{ns % 10**9:09d}Z"


def tcpdump_all(merged, expr):
    """tcpdump --nano's records of merged with expr (None if it refuses the expression)."""
    p = subprocess.run(["tcpdump", "--nano", "-n", "-r", merged, "-w", "-"] +
                       ([expr] if expr else []), capture_output=True, timeout=60)
    if p.returncode != 0 or not p.stdout:
        return None
    return e.parse_pcap(p.stdout)


def merge_ref(files, out):
    """The shards merged by timestamp, equal times in file-name order then record order (a
    k-way merge, as linecap-merge and linecap-query promise), as one nanosecond pcap: what
    tcpdump then filters is what filtering each file and merging gives."""
    pcaps = [e.read_pcap(f) for f in sorted(files)]
    runs = [p["records"] for p in pcaps]
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0,
                            max(p["snaplen"] for p in pcaps), 1))
        for ts, cap, length, data in heapq.merge(*runs, key=lambda r: r[0]):
            f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, cap, length) + data)
    return out


def readable(c):
    """The corpus's Ethernet captures that tcpdump reads whole."""
    out = []
    for f, row in sorted(c.manifest().items()):
        if row[1] != "EN10MB" or row[4] in ("", "0"):
            continue
        p = subprocess.run(["tcpdump", "-n", "-r", c.pcap(f), "-w", "/dev/null"],
                           capture_output=True, text=True, timeout=60)
        if p.returncode == 0 and "truncated" not in p.stderr:
            out.append(c.pcap(f))
    return out


def sampled_filters(c, n):
    with open(os.path.join(c.path, "filters.txt")) as f:
        lines = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    return random.Random(20261202).sample(lines, min(n, len(lines)))


def make_traffic(work, c):
    gen = os.path.join(work, "gen.pcap")
    subprocess.run([GEN, "-w", gen, "-c", "12000", "--flows", "300", "--ipv6-fraction", "0.3",
                    "--rst-fraction", "0.1", "--evidence-fraction", "0.05"], check=True,
                   capture_output=True)
    vlan = os.path.join(work, "vlan.pcap")
    subprocess.run([GEN, "-w", vlan, "-c", "3000", "--flows", "50", "--vlan", "7",
                    "--size", "200", "--id", "2"], check=True, capture_output=True)
    corpus = os.path.join(work, "corpus.pcap")
    subprocess.run(["mergecap", "-F", "pcap", "-w", corpus, vlan] + readable(c), check=True,
                   capture_output=True)
    return gen, corpus


def check_indexes(t, cap):
    """Every file has its index; the manifest names its SHA-256 and size."""
    files = e.shard_files(cap)
    recs = {}
    with open(os.path.join(cap, "manifest.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if "file" in r:
                recs[r["file"]] = r
    t.check(len(files) >= 8, f"{len(files)} files: want a rotated capture")
    for p in files:
        name = os.path.basename(p)
        idx = p + ".idx"
        t.check(os.path.isfile(idx), f"{name}: no index beside it")
        if not os.path.isfile(idx):
            continue
        with open(idx, "rb") as f:
            data = f.read()
        ix = recs.get(name, {}).get("index", {})
        t.check(ix.get("sha256") == hashlib.sha256(data).hexdigest() and
                ix.get("bytes") == len(data), f"{name}: manifest's index record {ix}")
    return files


def compare(t, cap, merged, expr, lo, hi, what, extra=()):
    ref = tcpdump_all(merged, expr)
    if ref is None:
        return 0
    want = [r for r in ref["records"] if (lo is None or r[0] >= lo) and (hi is None or r[0] < hi)]
    out = os.path.join(os.path.dirname(cap), "q.pcap")
    if os.path.exists(out):
        os.unlink(out)
    args = ["-w", out, *extra]
    if lo is not None:
        args += ["--start", secs(lo), "--end", secs(hi)]
    p = query(*args, cap, *([expr] if expr else []))
    t.check(p.returncode == 0, f"{what} '{expr}': exit {p.returncode}: {p.stderr[-300:]}")
    if p.returncode != 0:
        return 0
    got = e.read_pcap(out)
    t.check(got["magic"] == 0xA1B23C4D and got["snaplen"] == ref["snaplen"] and
            got["linktype"] == 1, f"{what} '{expr}': header {got['snaplen']}")
    t.check(got["records"] == want, f"{what} '{expr}': {len(got['records'])} records, "
            f"tcpdump {len(want)} (or different bytes/order)")
    return len(want)


def packets_and_windows(t, c, cap, files, work):
    merged = merge_ref(files, os.path.join(work, "merged.pcap"))
    ts = sorted(r[0] for r in e.read_pcap(merged)["records"])
    lo, hi = ts[len(ts) // 3], ts[2 * len(ts) // 3]
    kept = 0
    for expr in EXPRS + sampled_filters(c, SAMPLED[c.label]):
        kept += compare(t, cap, merged, expr, None, None, "all") > 0
        compare(t, cap, merged, expr, lo, hi, "window")
    t.check(kept >= 15, f"only {kept} expressions kept packets: the test proves little")
    for expr in ["host 192.168.1.100", "ip6 and udp", "tcp[tcpflags] & tcp-rst != 0"]:
        compare(t, cap, merged, expr, lo, hi, "--no-index", ["--no-index"])
    # Standard output: the same bytes.
    a = query("-w", os.path.join(work, "a.pcap"), cap, "udp")
    b = query("-w", "-", cap, "udp")
    with open(os.path.join(work, "a.pcap"), "rb") as f:
        t.check(a.returncode == b.returncode == 0 and f.read() == b.stdout, "-w - differs")
    # Relative times: all of it was captured within the hour.
    p = query("-w", "-", "--end", "-1h", cap)
    t.check(p.returncode == 0 and len(p.stdout) == 24, f"--end -1h: {len(p.stdout)} bytes")
    p = query("-w", "-", "--start", "-1h", "--end", "now", cap, "udp")
    t.check(p.returncode == 0 and p.stdout == b.stdout, "--start -1h --end now")
    return merged


def open_part(t, files, work):
    """A file being written: NAME.pcap.part, its last record cut, read up to it."""
    d = os.path.join(work, "open")
    os.mkdir(d)
    src = max(files, key=os.path.getsize)
    with open(src, "rb") as f:
        data = f.read()
    recs = e.parse_pcap(data)["records"]
    cut = len(data) - len(recs[-1][3]) // 2 - 1
    part = os.path.join(d, os.path.basename(src) + ".part")
    with open(part, "wb") as f:
        f.write(data[:cut])
    p = query("-w", "-", d)
    got = e.parse_pcap(p.stdout)["records"] if p.returncode == 0 else []
    t.check(got == recs[:-1], f".part: {len(got)} records of {len(recs) - 1}: "
            f"{p.stderr[-200:]}")


def cut_capture(t, corpus, work):
    """Records cut at 64 bytes: flows of what the index could see, the same answers."""
    cap = os.path.join(work, "cut")
    r = e.run_linecap(["-i", f"net_pcap0,rx_pcap={corpus}", "-w", cap, "-s", "64", "-C",
                       "0.05"])
    t.check(r.returncode == 0, f"-s 64 capture: {r.stderr[-300:]}")
    files = e.shard_files(cap)
    merged = merge_ref(files, os.path.join(work, "cut-merged.pcap"))
    for expr in ["tcp", "port 53", "vlan 7 and udp", "ip6", "tcp[tcpflags] & tcp-syn != 0",
                 "icmp", "ip[6:2] & 0x1fff != 0"]:
        compare(t, cap, merged, expr, None, None, "-s 64")


# --- --flows on hand-made conversations ---

def eth(payload, etype=0x0800):
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01" + struct.pack("!H", etype) + \
        payload


def ipv4(src, dst, proto, payload):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                       bytes(src), bytes(dst)) + payload


def tcp(sport, dport, flags):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, flags, 8192, 0, 0)


def udp(sport, dport, data=b"xxxx"):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


C, S = [10, 9, 0, 5], [10, 9, 1, 1]
SYN, RST, ACK, PSH, FIN = 0x02, 0x04, 0x10, 0x08, 0x01


def conversations():
    """(frames, expected state by client port)."""
    f = []

    def t4(a, b, sp, dp, fl):
        f.append(eth(ipv4(a, b, 6, tcp(sp, dp, fl))))
    t4(C, S, 40001, 80, SYN); t4(S, C, 80, 40001, SYN | ACK); t4(C, S, 40001, 80, ACK)
    t4(C, S, 40001, 80, PSH | ACK); t4(S, C, 80, 40001, FIN | ACK)
    t4(C, S, 40002, 81, SYN); t4(S, C, 81, 40002, RST | ACK)
    t4(C, S, 40003, 82, SYN); t4(C, S, 40003, 82, SYN)
    t4(C, S, 40004, 83, SYN); t4(S, C, 83, 40004, SYN | ACK); t4(C, S, 40004, 83, ACK)
    t4(S, C, 83, 40004, RST)
    for _ in range(3):
        f.append(eth(ipv4(C, S, 17, udp(5000, 9999))))
    quoted = ipv4(C, S, 17, udp(5001, 9998))
    f.append(eth(quoted))
    f.append(eth(ipv4(S, C, 1, struct.pack("!BBHI", 3, 3, 0, 0) + quoted[:28])))
    return f, {40001: "established", 40002: "refused", 40003: "unanswered", 40004: "reset",
               5000: "one-way", 5001: "icmp-unreachable"}


def write_pcap(path, frames):
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            out.write(struct.pack("<IIII", 1700000000, i, len(fr), len(fr)) + fr)


def flows(t, work):
    frames, states = conversations()
    src = os.path.join(work, "conv.pcap")
    write_pcap(src, frames)
    cap = os.path.join(work, "conv")
    r = e.run_linecap(["-i", f"net_pcap0,rx_pcap={src}", "-w", cap])
    t.check(r.returncode == 0, f"conversations capture: {r.stderr[-300:]}")
    p = query("--flows", "--json", cap, "host 10.9.0.5", text=True)
    t.check(p.returncode == 0, f"--flows: {p.stderr[-300:]}")
    rows = [json.loads(ln) for ln in p.stdout.splitlines()] if p.returncode == 0 else []
    seen = {}
    for r in rows:
        port = r["a"]["port"] if r["a"]["addr"] == "10.9.0.5" else r["b"]["port"]
        seen[port] = r
    for port, state in states.items():
        got = seen.get(port, {}).get("state")
        t.check(got == state, f"--flows: client port {port}: {got}, want {state}")
    est = seen.get(40001, {})
    t.check(est.get("a", {}).get("addr") == "10.9.0.5" and est.get("packets_ab") == 3 and
            est.get("packets_ba") == 2, f"--flows: established counts/direction {est}")
    t.check(all(isinstance(r.get("first_ns"), int) and r.get("first", "").endswith("Z")
                for r in rows), "--flows: times")
    # Only the conversations where tcpdump keeps a packet: those that saw a RST.
    p = query("--flows", "--json", cap, "tcp[tcpflags] & tcp-rst != 0", text=True)
    ports = sorted(min(json.loads(ln)["a"]["port"], json.loads(ln)["b"]["port"])
                   for ln in p.stdout.splitlines()) if p.returncode == 0 else None
    t.check(ports == [81, 83], f"--flows with RST: {ports}")
    p = query("--flows", "--table", cap, "udp", text=True)
    t.check(p.returncode == 0 and "icmp-unreachable" in p.stdout and "one-way" in p.stdout,
            f"--flows --table: {p.stdout[-300:]} {p.stderr[-200:]}")


def bad_usage(t, cap):
    for args, what in [(["-w", "-", "--start", "yesterday", cap], "not a time"),
                       (["-w", "-", "--start", "-5x", cap], "not a time"),
                       (["-w", "-", cap, "hots 1.2.3.4"], "syntax error"),
                       (["--flows", "-w", "x", cap], "are for packets"),
                      (["--json", "-w", "-", cap], "forms of --flows"),
                      (["-w", "-", cap, "inbound"], "live interface"),
                       (["-w", "-", "/nonexistent/dir"], "No such file")]:
        p = query(*args, text=True)
        lines = p.stderr.strip().splitlines()
        t.check(p.returncode == 2 and len(lines) == 1 and what in lines[0],
                f"{args}: exit {p.returncode}: {p.stderr[-200:]}")


def untrusted_index(t, cap, work):
    """An index that is not the one the manifest records (another file's, one byte changed
    with its CRC still right, or a directory without a manifest) is not used: one warning
    line, the file read whole, the same answer."""
    files = e.shard_files(cap)
    want = query("-w", "-", cap, "udp").stdout
    d = os.path.join(work, "swapped")
    shutil.copytree(cap, d)
    a, b = [os.path.join(d, os.path.basename(f)) for f in files[:2]]
    shutil.copyfile(b + ".idx", a + ".idx")
    p = query("-w", "-", d, "udp", text=False)
    err = p.stderr.decode()
    t.check(p.returncode == 0 and p.stdout == want and
            "not the index the manifest records" in err and "read whole" in err,
            f"another file's index: {err[-300:]}")
    shutil.rmtree(d)
    # A position changed (outside the flow table the manifest vouches for): never a wrong
    # answer; either the right one or one line naming the index.
    d = os.path.join(work, "positions")
    wrong = 0
    for flip in range(0, 4000, 97 * 3 // ROUNDS):
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(cap, d)
        idx = os.path.join(d, os.path.basename(files[0])) + ".idx"
        with open(idx, "r+b") as f:
            data = bytearray(f.read())
            pos_at = struct.unpack("<Q", data[72:80])[0]
            at = pos_at + flip % max(1, len(data) - pos_at)
            data[at] ^= 0x10
            f.seek(0)
            f.write(data)
        p = query("-w", "-", d, "udp")
        err = p.stderr.decode()
        if not ((p.returncode == 0 and p.stdout == want) or
                (p.returncode == 2 and "index does not match" in err)):
            wrong += 1
    t.check(wrong == 0, f"{wrong} changed positions gave another answer")
    shutil.rmtree(d)
    # One manifest line edited (a file said to hold no packet): the chain is broken, no
    # record of the directory is used, the same answer.
    d = os.path.join(work, "edited")
    shutil.copytree(cap, d)
    man = os.path.join(d, "manifest.jsonl")
    lines = open(man).read().splitlines(True)
    import re
    k = next(i for i, ln in enumerate(lines) if '"file"' in ln)
    lines[k] = re.sub(r'"packets":\d+', '"packets":0', lines[k], count=1)
    open(man, "w").write("".join(lines))
    p = query("-w", "-", d, "udp")
    err = p.stderr.decode()
    t.check(p.returncode == 0 and p.stdout == want and "chain broken" in err,
            f"an edited manifest line: {err[-300:]}")
    shutil.rmtree(d)
    # Two files' names swapped: a window on one's recorded time is not answered from the
    # other's record.
    d = os.path.join(work, "renamed")
    shutil.copytree(cap, d)
    recs = {json.loads(ln).get("file"): json.loads(ln) for ln in open(man.replace(
        "edited", "renamed"))}
    q0 = [f for f in files if "-q00-" in os.path.basename(f)]
    a, b = [os.path.join(d, os.path.basename(f)) for f in (q0[0], q0[3])]
    os.rename(a, a + ".tmp")
    os.rename(b, a)
    os.rename(a + ".tmp", b)
    r = recs[os.path.basename(b)]
    window = ["--start", secs(r["first_ns"]), "--end", secs(r["last_ns"] + 1)]
    p = query("-w", "-", *window, d, "udp")
    ref = query("-w", "-", "--no-index", *window, d, "udp")
    t.check(p.returncode == 0 and ref.returncode == 0 and p.stdout == ref.stdout and
            len(ref.stdout) > 24, f"swapped names: {len(p.stdout)} bytes, --no-index "
            f"{len(ref.stdout)}: {p.stderr.decode()[-300:]}")
    shutil.rmtree(d)
    d = os.path.join(work, "nomanifest")
    shutil.copytree(cap, d)
    os.unlink(os.path.join(d, "manifest.jsonl"))
    p = query("-w", "-", d, "udp")
    err = p.stderr.decode()
    t.check(p.returncode == 0 and p.stdout == want and err.count("\n") == 1 and
            "no manifest.jsonl" in err, f"no manifest: {err[-300:]}")
    shutil.rmtree(d)
    # More files than the soft limit on descriptors: raised to the hard one, all read.
    import resource
    n = len(files)

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n // 2, resource.getrlimit(
            resource.RLIMIT_NOFILE)[1]))
    p = subprocess.run([QUERY, "-w", "-", cap, "udp"], capture_output=True, timeout=120,
                       preexec_fn=low)
    t.check(p.returncode == 0 and p.stdout == want, f"{n} files, soft limit {n // 2}: "
            f"{p.stderr[-200:]}")
    # Output that cannot be written: exit 1, one line.
    with open("/dev/full", "wb") as full:
        p = subprocess.run([QUERY, "--flows", cap], stdout=full, stderr=subprocess.PIPE,
                           timeout=60, text=True)
    t.check(p.returncode == 1 and "standard output" in p.stderr, f"--flows > /dev/full: "
            f"{p.returncode} {p.stderr[-200:]}")


def main():
    t = e.Failures("test_query")
    for c in e.corpora():
        print(f"{c}", file=sys.stderr)
        work = e.tmpdir()
        gen, corpus = make_traffic(work, c)
        cap = os.path.join(work, "cap")
        r = e.run_linecap(["-i", f"net_pcap0,rx_pcap={gen},rx_pcap={corpus}", "-w", cap,
                           "-C", "0.1"], timeout=120)
        t.check(r.returncode == 0, f"capture: {r.stderr[-300:]}")
        files = check_indexes(t, cap)
        packets_and_windows(t, c, cap, files, work)
        open_part(t, files, work)
        untrusted_index(t, cap, work)
        cut_capture(t, corpus, work)
        if c.label == "generated":
            flows(t, work)
            bad_usage(t, cap)
        shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
