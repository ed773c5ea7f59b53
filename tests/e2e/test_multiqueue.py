#!/usr/bin/env python3
"""Several rx_pcap files make several queues: one shard per queue, each complete and equal to
its own file, and the per-queue numbers in --stats-file add up."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

# Per corpus: small files of different shapes, one a jumbo frame (several mbufs).
FILES = {"generated": ["dns_tcp.pcap", "802.1ad_QinQ.pcap", "ipv4-frags.pcap", "gso-ipv6.pcap"],
         "shared": ["dns_tcp.pcap", "802.1ad_QinQ.pcap", "afs.pcap", "gso-ipv6.pcap"]}


def main():
    t = e.Failures("test_multiqueue")
    for c in e.corpora():
        run(t, c, FILES[c.label])
    t.done()


def run(t, c, names):
    work = e.tmpdir()
    out = os.path.join(work, "mq")
    dev = "net_pcap0," + ",".join(f"rx_pcap={c.pcap(f)}" for f in names)
    st = os.path.join(work, "stats.json")
    p = e.run_linecap(["-i", dev, "-w", out, "--writers", "2", "--stats-file", st])
    t.check(p.returncode == 0, f"exit {p.returncode}: {p.stderr[-500:]}")
    files = e.shard_files(out)
    t.check([os.path.basename(f) for f in files] ==
            [f"mq-q{q:02d}-000001.pcap" for q in range(len(names))], f"{c}: shards: {files}")
    s = e.stats(st)
    t.check(len(s["queues"]) == len(names), f"{c}: one stats row per queue")
    for q, fname in enumerate(names):
        ref = e.tcpdump_keep(c.pcap(fname), "")
        got = e.read_pcap(files[q])["records"] if q < len(files) else []
        t.check([r[3] for r in got] == [r[3] for r in ref],
                f"{c}: queue {q} ({fname}): {len(got)} packets written, file has {len(ref)}")
        row = s["queues"][q]
        t.check(row["received"] == len(ref) and row["written"] == len(ref),
                f"{c}: queue {q}: stats {row}")
    t.check(s["received"] == sum(r["received"] for r in s["queues"]), f"{c}: totals add up")
    t.check(s["written"] == s["passed_filter"] - s["buffer_full"],
            f"{c}: written = passed - drops")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
