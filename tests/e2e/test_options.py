#!/usr/bin/env python3
"""Options seen from outside: -w as a prefix, -s cutting records (wire length kept), two
captures side by side (per-process EAL file prefix), --help and --version."""
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402


def main():
    corpus = e.corpus()
    t = e.Failures("test_options")
    work = e.tmpdir()
    src = os.path.join(corpus, "pcaps", "gso-ipv6.pcap")     # one 7226-byte frame
    src2 = os.path.join(corpus, "pcaps", "ssh.pcap")
    ref = e.tcpdump_keep(src2, "")

    # -w PREFIX.pcap in an existing directory, -s 100.
    p = e.run_linecap(["-i", f"net_pcap0,rx_pcap={src2}", "-w",
                       os.path.join(work, "case7.pcap"), "-s", "100"])
    t.check(p.returncode == 0, f"prefix: exit {p.returncode}: {p.stderr[-300:]}")
    f = os.path.join(work, "case7-q00-000001.pcap")
    t.check(os.path.exists(f), "prefix: case7-q00-000001.pcap not written")
    if os.path.exists(f):
        got = e.read_pcap(f)
        t.check(got["snaplen"] == 100, f"snaplen in header {got['snaplen']}")
        recs = got["records"]
        t.check(len(recs) == len(ref), f"-s 100: {len(recs)} of {len(ref)} packets")
        t.check(all(r[1] == min(100, o[1]) and r[2] == o[1] and r[3] == o[3][:100]
                    for r, o in zip(recs, ref)), "-s 100: records not cut at 100 bytes")
        t.check((os.stat(f).st_mode & 0o777) == 0o640, "files are created 0640")

    # Jumbo frame over several mbufs, whole.
    p = e.run_linecap(["-i", f"net_pcap0,rx_pcap={src}", "-w", os.path.join(work, "j")])
    recs = e.read_pcap(e.shard_files(os.path.join(work, "j"))[0])["records"]
    t.check(len(recs) == 1 and recs[0][1] == 7226, "7226-byte frame written whole")

    # Two captures side by side, both running at once for a while.
    procs = []
    for name in ("a", "b"):
        procs.append(e.start_linecap(["-i", f"net_pcap0,rx_pcap={src2},infinite_rx=1", "-w",
                                      os.path.join(work, name), "-s", "64", "tcp"]))
    time.sleep(1.5)
    for p in procs:
        p.send_signal(signal.SIGINT)
    for p, name in zip(procs, ("a", "b")):
        _, err = p.communicate(timeout=60)
        t.check(p.returncode == 0, f"side by side {name}: exit {p.returncode}: {err[-300:]}")
        files = e.shard_files(os.path.join(work, name))
        t.check(len(files) == 1 and os.path.getsize(files[0]) > 24 + 16 * 1000,
                f"side by side {name}: little or nothing written")

    p = e.run_linecap(["--help"])
    t.check(p.returncode == 0 and "Usage: linecap -i DEV -w PATH" in p.stdout, "--help")
    p = e.run_linecap(["--version"])
    t.check(p.returncode == 0 and p.stdout.startswith("linecap "), "--version")
    shutil.rmtree(work)
    t.done()


if __name__ == "__main__":
    main()
