#!/usr/bin/env python3
"""Bad input on the wire: every malformed, truncated or oversized capture of the corpora (the
generated one: frames cut at every header boundary, runts of 0-59 bytes, jumbo frames, cut
files, invalid lengths and versions, far-future times; ../shared/corpus where present:
out-of-bounds and heap-overflow reproducers, BIG TCP frames, more cut and invalid files) is
replayed through the whole pipeline (net_pcap -> RX -> JIT filter -> ring -> writer),
snaplen 96 so most frames are cut. Each run either captures (exit 0: the totals add up, the
packet count equals tcpdump's reading of the same file, linecap-verify passes) or refuses
the file in one line (exit 2); never a crash, and in the sanitizer build never a finding
(either would end differently)."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

VERIFY = os.path.join(os.path.dirname(os.environ["LINECAP"]), "linecap-verify")
BAD = re.compile(r"oobr|heapoverflow|asan|invalid|trunc|cut|bad|too-long|negative|"
                 r"length-zero|jumbo|bigtcp|empty|time_21|huge|shorthdr|too-long|runt")


def main():
    t = e.Failures("test_wire")
    work = e.tmpdir()
    files = []
    for c in e.corpora():
        files += sorted((c.label, c.pcap(f)) for f in os.listdir(os.path.join(c.path, "pcaps"))
                        if BAD.search(f))
    captured = refused = 0
    for label, path in files:
        name = f"{label}/{os.path.basename(path)}"
        out = os.path.join(work, "o-" + re.sub(r"\W", "_", name))
        stats = out + ".json"
        p = e.run_linecap(["-i", f"net_pcap0,rx_pcap={path}", "-w", out, "-s", "96",
                           "--stats-file", stats, "not (tcp port 7 and udp)"])
        if p.returncode == 2:
            lines = p.stderr.strip().splitlines()
            t.check(len(lines) == 1 and lines[0].startswith("linecap: "),
                    f"{name}: refused in one line: {p.stderr[-300:]!r}")
            refused += 1
            continue
        if not t.check(p.returncode == 0, f"{name}: exit {p.returncode}: {p.stderr[-400:]}"):
            continue
        captured += 1
        s = e.stats(stats)
        t.check(s["received"] == s["passed_filter"] + s["filtered_out"] and
                s["passed_filter"] == s["written"] + s["buffer_full"] + s["write_errors"],
                f"{name}: totals add up: {s}")
        want = e.tcpdump_keep(path, None)
        if want is not None:
            t.check(s["written"] == len(want), f"{name}: {s['written']} written, tcpdump "
                    f"reads {len(want)}")
        v = subprocess.run([VERIFY, out], capture_output=True, text=True)
        t.check(v.returncode == 0, f"{name}: verify: {v.stdout[-300:]}")
        recs = [r for f in e.shard_files(out) for r in e.read_pcap(f)["records"]]
        t.check(all(r[1] <= 96 and r[1] <= r[2] for r in recs), f"{name}: snaplen kept")
    print(f"{len(files)} files: {captured} captured, {refused} refused", file=sys.stderr)
    t.check(captured >= len(files) // 2, "most of them captured")
    shutil.rmtree(work)
    t.done()


if __name__ == "__main__":
    main()
