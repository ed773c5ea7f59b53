#!/usr/bin/env python3
"""Timestamps on the TSC path, over LC_TS_SECONDS (14 s; 6 s in the sanitizer build):
linecap-gen -> net_memif -> linecap at a steady rate while the main lcore re-anchors the
clock every second. Every packet's time is non-decreasing within its queue, falls inside
the wall-clock interval the test saw around the capture, the clock met CLOCK_REALTIME within
1 ms at every refresh (never stepped), and the source is recorded: "tsc" in the stats and
the manifest, in words in the pcapng interface description. Asking for hardware timestamps
from a port that has none is refused."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

BUILD = os.path.dirname(os.environ["LINECAP"])
GEN = os.path.join(BUILD, "linecap-gen")
SECONDS = float(os.environ.get("LC_TS_SECONDS", "30"))
RATE = 5000

t = e.Failures("test_timestamps")
work = e.tmpdir()
sock = os.path.join(work, "memif.sock")
stats_file = os.path.join(work, "cap.json")
os.mkdir(os.path.join(work, "d"))
out = os.path.join(work, "d", "cap.pcap")
wall0 = time.time_ns()
cap = e.start_linecap(["-i", f"net_memif0,role=server,socket={sock}", "-w", out,
                       "--stats-file", stats_file, "-G", "5"])
for _ in range(100):
    if os.path.exists(sock):
        break
    time.sleep(0.05)
# The generator stays connected after sending (--linger) and linecap is stopped first: a memif
# peer that leaves makes DPDK 22.11's memif unmap its rings under linecap's RX core (see
# test_loss.py).
gen_stats = os.path.join(work, "gen.json")
g = subprocess.Popen([GEN, "-i", f"net_memif0,role=client,socket={sock}", "--rate", str(RATE),
                      "--duration", str(SECONDS), "--flows", "64", "--linger", "120",
                      "--stats-file", gen_stats], stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE, text=True, preexec_fn=e.die_with_parent)
deadline = time.monotonic() + SECONDS + 60
while not os.path.exists(gen_stats) and g.poll() is None and time.monotonic() < deadline:
    time.sleep(0.05)
t.check(os.path.exists(gen_stats) and g.poll() is None,
        f"linecap-gen did not send for {SECONDS} s and stay connected (exit {g.poll()})")
time.sleep(1.0)
rc, err = e.interrupt(cap)
try:
    gerr = g.communicate(timeout=30)[1]
except subprocess.TimeoutExpired:
    g.kill()
    gerr = g.communicate()[1]
t.check(g.returncode == 0, f"linecap-gen exit {g.returncode}: {gerr[-300:]}")
wall1 = time.time_ns()
t.check(rc == 0, f"linecap exit {rc}: {err[-300:]}")
s = e.stats(stats_file)
ts = s.get("timestamps", {})
t.check(ts.get("source") == "tsc", f"source: {ts}")
t.check(ts.get("refreshes", 0) >= SECONDS - 2, f"re-anchored each second: {ts}")
t.check(ts.get("steps") == 0 and ts.get("max_offset_ns", 10**9) < 1000000,
        f"within 1 ms of CLOCK_REALTIME at every refresh: {ts}")
print(f"clock: {ts}", file=sys.stderr)

# Every packet time back, in file order.
d = os.path.dirname(out)
files = sorted(f for f in os.listdir(d) if f.endswith(".pcap"))
t.check(len(files) >= 2, f"files cut every 5 s (a run of {SECONDS} s crosses one): {files}")
last, count, back, outside = 0, 0, 0, 0
for f in files:
    for ts, _, _, _ in e.read_pcap(os.path.join(d, f))["records"]:
        back += ts < last
        outside += not (wall0 - 10**6 <= ts <= wall1 + 10**6)
        last = ts
        count += 1
t.check(back == 0, f"{back} times went back")
t.check(outside == 0, f"{outside} times outside the capture's wall-clock interval")
t.check(count == s["written"] and count >= RATE * SECONDS * 0.9,
        f"{count} packets read back, {s['written']} written")
manifest = [json.loads(x) for x in open(os.path.join(d, "manifest.jsonl"))]
t.check(all(r.get("clock") == "tsc" for r in manifest if "sha256" in r),
        "manifest says tsc")

# pcapng says it in the interface description.
sample = e.make_sample(work, 100)
ng = os.path.join(work, "ng", "x.pcapng")
os.mkdir(os.path.dirname(ng))
r = e.run_linecap(["-i", f"net_pcap0,rx_pcap={sample}", "-w", ng])
ngf = [f for f in os.listdir(os.path.dirname(ng)) if f.endswith(".pcapng")]
t.check(r.returncode == 0 and len(ngf) == 1, f"pcapng capture: {r.stderr[-200:]}")
if ngf:
    head = open(os.path.join(os.path.dirname(ng), ngf[0]), "rb").read(4096)
    t.check(b"timestamps: TSC at receive, anchored to CLOCK_REALTIME" in head,
            "clock in the pcapng interface description")

# --- hardware timestamps where there are none, and a bad value -----------------------------
for args, msg in ((["--timestamps", "hw"], "--timestamps hw: port net_pcap0 does not stamp"),
                  (["--timestamps", "ptp"], "--timestamps ptp: must be auto, tsc or hw")):
    o = os.path.join(work, "never")
    r = e.run_linecap(["-i", f"net_pcap0,rx_pcap={sample}", "-w", o] + args)
    t.check(r.returncode == 2 and msg in r.stderr, f"{args}: {r.returncode} {r.stderr!r}")
    t.check(not os.path.exists(o) or not os.listdir(o), f"{args}: nothing written")
shutil.rmtree(work, ignore_errors=True)
t.done()
