#!/usr/bin/env python3
"""SIGINT during a full-speed replay (net_pcap infinite_rx=1): linecap stops RX, drains
every buffer, closes every file and exits 0; the totals add up exactly
(received = filtered out + buffer-full drops + written) and every file reads cleanly with tcpdump,
holding exactly the packets counted as written. Also -c (exactly N written) and --duration."""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402



def check_files(t, out, s, label):
    files = e.shard_files(out)
    t.check(not any(f.endswith(".part") for f in os.listdir(out)), f"{label}: .part left")
    total = 0
    size = 0
    for f in files:
        p = subprocess.run(["tcpdump", "-n", "-r", f, "-w", "/dev/null"], capture_output=True)
        t.check(p.returncode == 0, f"{label}: tcpdump cannot read {f}: {p.stderr[-300:]}")
        recs = e.read_pcap(f)["records"]
        total += len(recs)
        size += os.path.getsize(f)
        t.check(all(recs[k][0] <= recs[k + 1][0] for k in range(len(recs) - 1)),
                f"{label}: timestamps go backwards in {f}")
    t.check(total == s["written"], f"{label}: files hold {total} packets, stats say "
                                   f"{s['written']} written")
    t.check(size == s["written_bytes"], f"{label}: files hold {size} bytes, stats say "
                                        f"{s['written_bytes']}")
    return total


def sigint_run(t, work, sample, expr, secs):
    out = os.path.join(work, f"sigint{len(os.listdir(work))}")
    st = out + ".json"
    args = ["-i", f"net_pcap0,rx_pcap={sample},infinite_rx=1", "-w", out, "--stats-file", st]
    if expr:
        args.append(expr)
    p = e.start_linecap(args)
    time.sleep(secs)
    rc, err = e.interrupt(p)
    label = f"SIGINT '{expr}'"
    if not t.check(rc is not None, f"{label}: did not stop within 60 s of SIGINT"):
        return
    t.check(rc == 0, f"{label}: exit {rc}: {err[-500:]}")
    s = e.stats(st)
    t.check(s["received"] > 100000, f"{label}: only {s['received']} received")
    t.check(s["received"] == s["filtered_out"] + s["buffer_full"] + s["written"],
            f"{label}: received {s['received']} != filtered {s['filtered_out']} + buffer full "
            f"{s['buffer_full']} + written {s['written']}")
    t.check(s["passed_filter"] == s["written"] + s["buffer_full"], f"{label}: passed != w + d")
    check_files(t, out, s, label)
    print(f"{label}: received {s['received']} written {s['written']} ring drops "
          f"{s['buffer_full']} in {s['seconds']:.2f} s", file=sys.stderr)


def count_run(t, work, sample):
    out = os.path.join(work, "count")
    st = out + ".json"
    p = e.run_linecap(["-i", f"net_pcap0,rx_pcap={sample},infinite_rx=1", "-w", out, "-c",
                       "12345", "--stats-file", st, "tcp"], timeout=120)
    t.check(p.returncode == 0, f"-c: exit {p.returncode}: {p.stderr[-300:]}")
    s = e.stats(st)
    t.check(s["written"] == 12345, f"-c 12345: {s['written']} written")
    t.check(s["received"] == s["filtered_out"] + s["buffer_full"] + s["written"], "-c totals")
    check_files(t, out, s, "-c")


def duration_run(t, work, sample):
    out = os.path.join(work, "duration")
    start = time.monotonic()
    p = e.run_linecap(["-i", f"net_pcap0,rx_pcap={sample},infinite_rx=1", "-w", out,
                       "--duration", "1.5"], timeout=60)
    took = time.monotonic() - start
    t.check(p.returncode == 0, f"--duration: exit {p.returncode}: {p.stderr[-300:]}")
    t.check(1.5 <= took < 15, f"--duration 1.5 took {took:.1f} s")
    t.check("packets received in 1.5" in p.stderr, "summary gives the capture time")


def main():
    t = e.Failures("test_drain")
    work = e.tmpdir()
    sample = e.make_sample(work)
    runs = os.path.join(work, "runs")
    os.mkdir(runs)
    sigint_run(t, runs, sample, "", 1.2)
    sigint_run(t, runs, sample, "host 192.168.1.100 and port 443", 1.2)
    count_run(t, runs, sample)
    duration_run(t, runs, sample)
    shutil.rmtree(work)
    t.done()


if __name__ == "__main__":
    main()
