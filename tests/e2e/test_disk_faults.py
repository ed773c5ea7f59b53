#!/usr/bin/env python3
"""Disk faults under a full-rate capture:
- disk full (a small tmpfs, filled by a ballast file): the capture goes on, RX never stalls
  (received grows every second), what cannot be written is counted as write errors, the
  totals still add up exactly, every closed file is a valid capture that linecap-verify
  passes, and writing resumes once the ballast is deleted;
- disk full with retention on: the oldest files are retired ("disk full" in the manifest)
  and writing goes on by itself;
- an I/O error on one writer's files (a preloaded shim fails every write of queue 1): queue
  0 and its writer go on untouched;
- a slow disk (every write made to wait): the buffers fill (and that is warned about), buffer
  drops are counted, the capture stops on time, nothing is lost uncounted."""
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

VERIFY = os.path.join(os.path.dirname(os.environ["LINECAP"]), "linecap-verify")
FAULT = os.environ.get("LC_FAULT_LIB", "")
EXPR = "host 192.168.1.100 or udp"	# a good part of the sample, not all of it

t = e.Failures("test_disk_faults")
work = e.tmpdir()
sample = e.make_sample(work, 20000)
loop = f"net_pcap0,rx_pcap={sample},infinite_rx=1"


def adds_up(s, name):
    t.check(s["passed_filter"] == s["written"] + s["buffer_full"] + s["write_errors"] and
            s["received"] == s["passed_filter"] + s["filtered_out"],
            f"{name}: totals add up: {s}")


def statuses(err):
    return [int(x) for x in re.findall(r"^linecap: \d+s received (\d+)", err, re.M)]


def never_stalled(err, name):
    seen = statuses(err)
    t.check(len(seen) >= 3 and all(b > a for a, b in zip(seen, seen[1:])),
            f"{name}: RX kept receiving every second: {seen}")


def verified(d, name):
    v = subprocess.run([VERIFY, d], capture_output=True, text=True)
    t.check(v.returncode == 0 and "0 findings" in v.stdout, f"{name}: verify: {v.stdout[-500:]}")
    return v.stdout


def run(args, env=None, secs="5"):
    stats = os.path.join(work, "s.json")
    r = e.run([e.linecap_bin()] + e.test_buffer(["-i", loop, "--duration", secs,
                                                 "--stats-file", stats] + args + [EXPR]),
              120, env=dict(os.environ, **(env or {})))
    return r, e.stats(stats) if os.path.exists(stats) else {}


# --- disk full, then room again ------------------------------------------------------------
mnt = os.path.join(work, "small")
os.mkdir(mnt)
mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt],
                         capture_output=True).returncode == 0
if not mounted:
    print("cannot mount a tmpfs here: the disk-full cases need one", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(e.SKIP)
try:
    ballast = os.path.join(mnt, "ballast")
    with open(ballast, "wb") as f:
        f.write(b"\0" * (12 << 20))
    freed = []
    timer = threading.Timer(2.0, lambda: (os.unlink(ballast), freed.append(time.time_ns())))
    timer.start()
    out = os.path.join(mnt, "full")
    r, s = run(["-w", out, "-C", "2"], secs="4")
    timer.join()
    t.check(r.returncode == 1 and "No space left on device" in r.stderr,
            f"disk full: exit {r.returncode}, {r.stderr[-300:]}")
    t.check(s.get("write_errors", 0) > 0 and s.get("written", 0) > 0, f"disk full: {s}")
    adds_up(s, "disk full")
    never_stalled(r.stderr, "disk full")
    verified(out, "disk full")
    t.check("writing again" in r.stderr, f"writing resumed once there was room: "
            f"{r.stderr[-1500:]}")
    recs = [json.loads(x) for x in open(os.path.join(out, "manifest.jsonl"))]
    after = [x for x in recs if "file" in x and x["packets"] and freed and
             x["last_ns"] > freed[0]]
    t.check(after, "files written after the room came back")
    t.check(0 < sum(x["drops"]["write_errors"] for x in recs if "file" in x)
            <= s["write_errors"], "write errors recorded per file")
    shutil.rmtree(out)

    # --- disk full with retention: the oldest files make room -------------------------------
    with open(ballast, "wb") as f:
        f.write(b"\0" * (12 << 20))
    out = os.path.join(mnt, "retain")
    r, s = run(["-w", out, "-C", "2", "--retain-bytes", "20M"], secs="4")
    recs = [json.loads(x) for x in open(os.path.join(out, "manifest.jsonl"))]
    full = [x for x in recs if x.get("reason") == "disk full"]
    t.check(full and "disk full:" in r.stderr, f"retired for a full disk: {len(full)}")
    first = next((i for i, x in enumerate(recs) if x.get("reason") == "disk full"), len(recs))
    later = [x for x in recs[first:] if "file" in x and x["packets"]]
    t.check(len(later) >= 2, f"writing went on by itself: {len(later)} files after the "
            f"first retirement for a full disk")
    adds_up(s, "disk full with retention")
    never_stalled(r.stderr, "disk full with retention")
    verified(out, "disk full with retention")
finally:
    subprocess.run(["umount", mnt])

# --- an I/O error on one writer ------------------------------------------------------------
asan = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
two = f"net_pcap0,rx_pcap={sample},rx_pcap={sample},infinite_rx=1"
out = os.path.join(work, "eio")
stats = os.path.join(work, "eio.json")
r = e.run([e.linecap_bin()] + e.test_buffer(["-i", two, "-w", out, "--writers", "2", "-C", "5",
                                             "--duration", "3", "--stats-file", stats, EXPR]),
          120, env=dict(os.environ, LD_PRELOAD=FAULT, LC_FAULT_PATH="-q01-",
                        LC_FAULT_MODE="eio", **asan))
s = e.stats(stats)
q0, q1 = s["queues"][0], s["queues"][1]
t.check(r.returncode == 1 and "Input/output error" in r.stderr, f"eio: {r.returncode}")
t.check(q0["write_errors"] == 0 and q0["written"] == q0["passed_filter"] - q0["buffer_full"]
        and q0["written"] > 0, f"queue 0 untouched by queue 1's errors: {q0}")
t.check(q1["written"] == 0 and q1["write_errors"] > 0, f"queue 1 counted its losses: {q1}")
adds_up(s, "eio")
t.check(not [f for f in os.listdir(out) if "-q01-" in f], "no broken file of queue 1 kept")
verified(out, "eio")

# --- a slow disk ---------------------------------------------------------------------------
out = os.path.join(work, "slow")
r, s = run(["-w", out, "-B", "16M"],	# a small buffer: a slow disk fills it soon
           env=dict(LD_PRELOAD=FAULT, LC_FAULT_PATH="/slow/", LC_FAULT_MODE="slow",
                    LC_FAULT_US="200000", **asan), secs="4")
t.check(r.returncode == 0, f"slow disk: exit {r.returncode}: {r.stderr[-300:]}")
t.check(s["buffer_full"] > 0 and s["written"] > 0 and s["write_errors"] == 0,
        f"slow disk: buffers fill, drops counted: {s}")
t.check(s["seconds"] < 4 + 3, f"slow disk: stopped on time ({s['seconds']:.1f} s)")
adds_up(s, "slow disk")
never_stalled(r.stderr, "slow disk")
t.check("buffer has been over half full" in r.stderr, "the full buffer is warned about")
verified(out, "slow disk")

shutil.rmtree(work, ignore_errors=True)
t.done()
