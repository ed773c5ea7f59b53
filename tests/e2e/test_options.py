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


def replays(t, work, c):
    """-s, a prefix, a jumbo frame, both engines and -F on replays of corpus c's files."""
    os.mkdir(work)
    src = c.pcap("gso-ipv6.pcap")     # one 7226-byte frame
    src2 = c.pcap("ssh.pcap")
    ref = e.tcpdump_keep(src2, "")

    # -w PREFIX.pcap in an existing directory, -s 100.
    p = e.run_linecap(["-i", f"net_pcap0,rx_pcap={src2}", "-w",
                       os.path.join(work, "case7.pcap"), "-s", "100"])
    t.check(p.returncode == 0, f"{c.label}: prefix: exit {p.returncode}: {p.stderr[-300:]}")
    f = os.path.join(work, "case7-q00-000001.pcap")
    t.check(os.path.exists(f), f"{c.label}: prefix: case7-q00-000001.pcap not written")
    if os.path.exists(f):
        got = e.read_pcap(f)
        t.check(got["snaplen"] == 100, f"{c.label}: snaplen in header {got['snaplen']}")
        recs = got["records"]
        t.check(len(recs) == len(ref),
                f"{c.label}: -s 100: {len(recs)} of {len(ref)} packets")
        t.check(all(r[1] == min(100, o[1]) and r[2] == o[1] and r[3] == o[3][:100]
                    for r, o in zip(recs, ref)),
                f"{c.label}: -s 100: records not cut at 100 bytes")
        t.check((os.stat(f).st_mode & 0o777) == 0o640, f"{c.label}: files are created 0640")

    # Jumbo frame over several mbufs, whole.
    p = e.run_linecap(["-i", f"net_pcap0,rx_pcap={src}", "-w", os.path.join(work, "j")])
    recs = e.read_pcap(e.shard_files(os.path.join(work, "j"))[0])["records"]
    t.check(len(recs) == 1 and recs[0][1] == 7226,
            f"{c.label}: 7226-byte frame written whole")

    # The filter engine, -F, -d: same packets from either engine and from a file.
    expr = "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and port 22"
    want = [r[3] for r in e.tcpdump_keep(src2, expr)]
    t.check(len(want) > 0, f"{c.label}: ssh.pcap has SYN/FIN packets")
    ffile = os.path.join(work, "filter.txt")
    with open(ffile, "w") as fh:
        fh.write("# handshakes and teardowns\ntcp[tcpflags] & (tcp-syn|tcp-fin) != 0\n"
                 "  and port 22   # ssh\n")
    for label, extra in (("jit", [expr]), ("interp", ["--filter-engine", "interp", expr]),
                         ("-F", ["-F", ffile])):
        out = os.path.join(work, "eng-" + label.strip("-"))
        p = e.run_linecap(["-i", f"net_pcap0,rx_pcap={src2}", "-w", out] + extra)
        t.check(p.returncode == 0,
                f"{c.label}: {label}: exit {p.returncode}: {p.stderr[-300:]}")
        engine = "interp" if label == "interp" else "jit"
        t.check(f"(engine {engine}, self-checked)" in p.stderr,
                f"{c.label}: {label}: start-up line")
        got = [r[3] for r in e.read_pcap(e.shard_files(out)[0])["records"]]
        t.check(got == want, f"{c.label}: {label}: {len(got)} packets written, tcpdump keeps "
                             f"{len(want)}")


def main():
    t = e.Failures("test_options")
    work = e.tmpdir()
    corpora = e.corpora()
    for c in corpora:
        replays(t, os.path.join(work, c.label), c)
    src2 = corpora[0].pcap("ssh.pcap")

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

    ffile = os.path.join(work, "filter.txt")
    with open(ffile, "w") as fh:
        fh.write("# handshakes and teardowns\ntcp[tcpflags] & (tcp-syn|tcp-fin) != 0\n"
                 "  and port 22   # ssh\n")
    p = e.run_linecap(["-d", "host 192.168.1.100 and port 443"])
    t.check(p.returncode == 0 and p.stdout.startswith("(000) ldh      [12]"), "-d listing")
    t.check("; engine jit: " in p.stdout and "bytes of x86-64 machine code" in p.stdout,
            "-d gives the machine code size")
    t.check(p.stderr == "", f"-d touches no port: {p.stderr!r}")
    p = e.run_linecap(["-dd", "-F", ffile])
    lines = p.stdout.splitlines()
    hexlines = [ln for ln in lines if ln and all(c in "0123456789abcdef " for c in ln)]
    size = int([ln for ln in lines if ln.startswith("; engine jit: ")][0].split()[3])
    t.check(sum(len(ln.split()) for ln in hexlines) == size, "-dd prints every code byte")

    p = e.run_linecap(["--help"])
    t.check(p.returncode == 0 and "Usage: linecap -i DEV -w PATH" in p.stdout, "--help")
    p = e.run_linecap(["--version"])
    t.check(p.returncode == 0 and p.stdout.startswith("linecap "), "--version")
    shutil.rmtree(work)
    t.done()


if __name__ == "__main__":
    main()
