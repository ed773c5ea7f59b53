#!/usr/bin/env python3
"""linecap-merge: the same order as mergecap (nanosecond pcap out) on corpus files (pcap and
pcapng, micro- and nanosecond) and on a multi-queue capture's shards; a time window; a
filter; a clear error naming the file and byte offset for a cut or non-Ethernet input; an
existing output never overwritten."""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

MERGE = os.path.join(os.path.dirname(os.environ["LINECAP"]), "linecap-merge")
# Per corpus: pcap and pcapng, micro- and nanosecond, one big-endian file.
INPUTS = {"generated": ["dns_tcp.pcap", "tcp-ns.pcap", "ng-us.pcapng", "ng-ns.pcapng",
                        "ipv4-frags.pcap", "ssh.pcap", "big-endian.pcap"],
          "shared": ["dns_tcp.pcap", "derived-mptcp-v0-nsec.pcap", "dhcp-option-108.pcapng",
                     "icmp-length-zero.pcapng", "afs.pcap", "ssh.pcap", "isup.pcap"]}


def merge(*args):
    return subprocess.run([MERGE, *args], capture_output=True, text=True)


def mergecap(out, files):
    subprocess.run(["mergecap", "-F", "nsecpcap", "-w", out, *files], check=True,
                   capture_output=True)
    return e.read_pcap(out)["records"]


def secs(ns):
    """Nanoseconds since the epoch as an exact UTC time, 2026-01-01T00:00:00.123456789Z (the
    generated corpus has nanosecond timestamps: a float would lose the last digits)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + f".{ns % 10**9:09d}Z"


def main():
    t = e.Failures("test_merge")
    for c in e.corpora():
        print(f"{c}", file=sys.stderr)
        run(t, c)
    t.done()


def run(t, c):
    work = e.tmpdir()
    files = [c.pcap(f) for f in INPUTS[c.label]]

    out = os.path.join(work, "ours.pcap")
    p = merge("-w", out, *files)
    t.check(p.returncode == 0, f"merge: {p.stderr}")
    ours = e.read_pcap(out)["records"]
    ref = mergecap(os.path.join(work, "ref.pcap"), files)
    t.check(len(ours) == len(ref) > 0, f"{len(ours)} vs mergecap {len(ref)}")
    t.check([(r[0], r[3]) for r in ours] == [(r[0], r[3]) for r in ref],
            "order, timestamps or bytes differ from mergecap")

    # Shards of a multi-queue capture interleave in time.
    shards = os.path.join(work, "shards")
    dev = "net_pcap0," + ",".join(f"rx_pcap={f}" for f in files[:4] if f.endswith(".pcap"))
    cap = e.run_linecap(["-i", dev, "-w", shards])
    t.check(cap.returncode == 0, f"capture: {cap.stderr[-300:]}")
    out2 = os.path.join(work, "shards.pcap")
    p = merge("-w", out2, shards)
    t.check(p.returncode == 0, f"merge of a directory: {p.stderr}")
    ref2 = mergecap(os.path.join(work, "ref2.pcap"), e.shard_files(shards))
    got2 = e.read_pcap(out2)["records"]
    t.check([(r[0], r[3]) for r in got2] == [(r[0], r[3]) for r in ref2], "shard merge order")
    # The directory holds each file's index (NAME.idx) too: not a capture, passed over.
    t.check(any(f.endswith(".pcap.idx") for f in os.listdir(shards)),
            f"no index beside the files: {os.listdir(shards)}")

    # Time window and filter.
    ts = sorted(r[0] for r in ours)
    lo, hi = ts[len(ts) // 4], ts[3 * len(ts) // 4]
    out3 = os.path.join(work, "window.pcap")
    p = merge("-w", out3, "--start", secs(lo), "--end", secs(hi), *files, "tcp")
    t.check(p.returncode == 0, f"window: {p.stderr}")
    want = [r for r in ref if lo <= r[0] < hi]
    tcp = {r[3] for r in e.tcpdump_keep(out, "tcp")}
    want = [r[3] for r in want if r[3] in tcp]
    got3 = [r[3] for r in e.read_pcap(out3)["records"]]
    t.check(got3 == want and len(got3) > 0, f"window+filter: {len(got3)} vs {len(want)}")
    # The same with the options after the inputs (as people type them), same output.
    out3b = os.path.join(work, "window-b.pcap")
    p = merge(*files, "--start", secs(lo), "-w", out3b, "--end", secs(hi), "tcp")
    t.check(p.returncode == 0 and open(out3b, "rb").read() == open(out3, "rb").read(),
            f"options after the inputs: {p.stderr}")

    # Bad inputs: one line naming the file and the byte offset, nothing written.
    cut = c.pcap("derived-dns_tcp-cut.pcap")
    bad = os.path.join(work, "bad.pcap")
    p = merge("-w", bad, files[0], cut)
    t.check(p.returncode == 2 and cut in p.stderr and ": byte " in p.stderr and
            len(p.stderr.strip().splitlines()) == 1, f"cut input: {p.stderr}")
    t.check(not os.path.exists(bad) and not os.path.exists(bad + ".part"), "partial output")
    raw = c.pcap("LINKTYPE_RAW_ipv4.pcap")
    p = merge("-w", bad, raw)
    t.check(p.returncode == 2 and "not Ethernet" in p.stderr and raw in p.stderr,
            f"non-Ethernet input: {p.stderr}")
    p = merge("-w", out, files[0])
    t.check(p.returncode == 2 and "File exists" in p.stderr, f"existing output: {p.stderr}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
