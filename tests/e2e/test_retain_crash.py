#!/usr/bin/env python3
"""Retention is crash-consistent: a capture that rotates fast and retires files all the time
(-C small -W 5, or --retain-bytes) is killed with SIGKILL at random moments, many times;
after each kill `linecap-verify --repair` explains every file (a file is deleted only once
the record that retires it is in the manifest, so a kill between the two leaves a file whose
retirement --repair completes) and ends with 0 findings, a plain `linecap-verify` then passes,
and the next capture into the same directory (a restart) works and keeps the bound; a few
more kills are followed by a restart straight away, which finishes what the kill left. A
repair records a cut file before renaming it: a record that cannot be written leaves the
file .part (cut back) for the next repair, never renamed and unrecorded."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

VERIFY = os.path.join(os.path.dirname(os.environ["LINECAP"]), "linecap-verify")
KILLS = int(os.environ.get("LC_RETAIN_KILLS", "20"))
FILE_MB = "0.1"  # -C: a file every 100 kB: a rotation, a retirement every few ms
RETAIN = 12 << 20  # --retain-bytes (at least two -C files and the rings)


def verify(d, *opts):
    return subprocess.run([VERIFY, *opts, d], capture_output=True, text=True, timeout=120)


def findings(out):
    m = re.search(r"(\d+) findings?", out)
    return int(m.group(1)) if m else -1


def records(d):
    with open(os.path.join(d, "manifest.jsonl")) as f:
        return sum(1 for _ in f)


t = e.Failures("test_retain_crash")
work = e.tmpdir()
sample = e.make_sample(work, 3000)
loop = f"net_pcap0,rx_pcap={sample},infinite_rx=1"
modes = {"files": ["-C", FILE_MB, "-W", "5"],
         "bytes": ["-C", FILE_MB, "--retain-bytes", str(RETAIN)]}
dirs = {m: os.path.join(work, m) for m in modes}
rng = random.Random(int(os.environ.get("LC_SEED", "4321")))
pending = retired = 0
for i in range(KILLS):
    mode = "files" if i % 2 == 0 else "bytes"
    d = dirs[mode]
    before = records(d) if os.path.exists(d) else 0
    p = e.start_linecap(["-i", loop, "-w", d] + modes[mode])
    # Kill it once it is rotating (and so retiring), at a random moment after that.
    end = time.time() + 30
    while time.time() < end and p.poll() is None:
        if os.path.exists(os.path.join(d, "manifest.jsonl")) and records(d) > before + 10:
            break
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.8))
    running = p.poll() is None
    p.send_signal(signal.SIGKILL)
    _, err = p.communicate(timeout=30)
    if not t.check(running and records(d) > before + 10,
                   f"kill {i} ({mode}): the capture (a restart for i >= 2) was rotating "
                   f"when killed: {err[-600:]}"):
        continue
    retired += sum(1 for x in open(os.path.join(d, "manifest.jsonl"))
                   if '"retired"' in x)
    r = verify(d, "--repair")
    pending += r.stdout.count("retirement completed")
    t.check(r.returncode == 0 and findings(r.stdout) == 0,
            f"kill {i} ({mode}): verify --repair: exit {r.returncode}: {r.stdout[-800:]}")
    v = verify(d)
    t.check(v.returncode == 0 and findings(v.stdout) == 0,
            f"kill {i} ({mode}): verify after the repair: exit {v.returncode}: "
            f"{v.stdout[-800:]}")

# A few more kills, each followed by a restart straight away (no linecap-verify between): what
# a kill leaves is only ever explained (a cut file, a retirement pending), and the restart
# finishes it as --repair would.
for i in range(max(1, KILLS // 5)):
    mode = "files" if i % 2 == 0 else "bytes"
    d = dirs[mode]
    before = records(d)
    p = e.start_linecap(["-i", loop, "-w", d] + modes[mode])
    end = time.time() + 30
    while time.time() < end and p.poll() is None and records(d) <= before + 10:
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.8))
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=30)
    v = verify(d)
    unexplained = [x for x in v.stdout.splitlines()[:-1]
                   if not x.startswith(("retirement pending: ", "unfinished: "))]
    t.check(not unexplained, f"restart kill {i} ({mode}): unexplained: {unexplained}")
    pending += v.stdout.count("retirement pending: ")

# A last capture into each directory, ending cleanly: the restart works and keeps the bound.
for mode, d in dirs.items():
    if not os.path.exists(d):
        continue
    r = e.run_linecap(["-i", loop, "-w", d, "--duration", "2"] + modes[mode], timeout=120)
    t.check(r.returncode == 0, f"{mode}: restart: exit {r.returncode}: {r.stderr[-600:]}")
    v = verify(d)
    t.check(v.returncode == 0 and findings(v.stdout) == 0,
            f"{mode}: verify after the restart: {v.stdout[-800:]}")
    caps = [f for f in os.listdir(d) if f.endswith(".pcap")]
    t.check(not [f for f in os.listdir(d) if f.endswith(".part")], f"{mode}: no cut file left")
    if mode == "files":
        t.check(len(caps) <= 5, f"-W 5: {len(caps)} files kept: {sorted(caps)}")
    else:
        total = sum(os.path.getsize(os.path.join(d, f)) for f in caps + ["manifest.jsonl"])
        t.check(total <= RETAIN, f"--retain-bytes {RETAIN}: {total} bytes kept")
    recs = [json.loads(x) for x in open(os.path.join(d, "manifest.jsonl"))]
    t.check(sum(1 for x in recs if "retired" in x) > 20, f"{mode}: files were retired")
t.check(retired > 0, "retirements happened")

# A repair records the cut file before it renames it, as a capture does: where the record
# cannot be written (the manifest fails with EIO), the file stays .part, cut back, and the
# next repair finishes it; never a renamed file the manifest lacks.
FAULT = os.environ.get("LC_FAULT_LIB", "")
if t.check(os.path.isfile(FAULT), f"LC_FAULT_LIB names the fault shim: '{FAULT}'"):
    d = os.path.join(work, "norecord")
    os.mkdir(d)
    part = os.path.join(d, "norecord-q00-000001.pcap.part")
    with open(sample, "rb") as src, open(part, "wb") as dst:
        dst.write(src.read()[:-7])  # cut inside its last record
    env = dict(os.environ, LD_PRELOAD=FAULT, LC_FAULT_PATH="manifest.jsonl",
               LC_FAULT_MODE="eio",
               ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
    r = subprocess.run([VERIFY, "--repair", d], capture_output=True, text=True, timeout=60,
                       env=env)
    t.check(r.returncode == 1 and os.path.exists(part) and
            not os.path.exists(part[:-5]), f"repair without a record: {r.stdout[-400:]} "
            f"{sorted(os.listdir(d))}")
    r = verify(d, "--repair")
    t.check(r.returncode == 0 and findings(r.stdout) == 0 and "repaired: " in r.stdout,
            f"the next repair: {r.stdout[-400:]}")
    v = verify(d)
    t.check(v.returncode == 0 and findings(v.stdout) == 0 and " 1 intact" in v.stdout,
            f"verify after: {v.stdout[-400:]}")
print(f"{KILLS} kills: {pending} retirements left pending by a kill, completed by --repair",
      file=sys.stderr)
shutil.rmtree(work, ignore_errors=True)
t.done()
