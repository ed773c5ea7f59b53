#!/usr/bin/env python3
"""Captures that follow one another into the same directory, and captures killed: a second
capture goes on numbering after the first (no name reused, the first files untouched, one
manifest chain); two at once into one directory are refused; a symlink planted at a name
linecap would take is skipped, never followed; a symlinked output directory works; and a
capture killed with SIGKILL at random moments, many times in a row, restarted into the same
directory each time: every restart finishes (repairs and records) the file the kill cut,
no closed file ever changes, and linecap-verify passes on the whole directory at the end."""
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

VERIFY = os.path.join(os.path.dirname(os.environ["LINECAP"]), "linecap-verify")
KILLS = int(os.environ.get("LC_KILLS", "8"))


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def closed(d):
    """name -> (inode, sha256) of every closed capture file in d."""
    return {f: (os.stat(os.path.join(d, f)).st_ino, sha(os.path.join(d, f)))
            for f in os.listdir(d) if f.endswith(".pcap")}


def verify(d):
    return subprocess.run([VERIFY, d], capture_output=True, text=True)


t = e.Failures("test_restart")
work = e.tmpdir()
sample = e.make_sample(work, 5000)
replay = f"net_pcap0,rx_pcap={sample}"
loop = f"net_pcap0,rx_pcap={sample},infinite_rx=1"

# --- one capture after another ----------------------------------------------------------
d = os.path.join(work, "seq")
r1 = e.run_linecap(["-i", replay, "-w", d])
before = closed(d)
r2 = e.run_linecap(["-i", replay, "-w", d])
t.check(r1.returncode == 0 and r2.returncode == 0, f"two captures: {r1.stderr[-200:]} "
        f"{r2.stderr[-200:]}")
t.check("holds 1 file of earlier captures" in r2.stderr, f"second says so: {r2.stderr[-400:]}")
after = closed(d)
t.check(sorted(after) == ["seq-q00-000001.pcap", "seq-q00-000002.pcap"], f"names: {after}")
t.check(all(after[f] == before[f] for f in before), "the first capture's file untouched")
v = verify(d)
t.check(v.returncode == 0 and "2 files recorded, 2 intact" in v.stdout, f"verify: {v.stdout}")

# --- two at once into one directory: the second is refused --------------------------------
d2 = os.path.join(work, "busy")
p = e.start_linecap(["-i", loop, "-w", d2, "host 10.9.9.9"])
time.sleep(1.5)
snapshot = sorted(os.listdir(d2))
r = e.run_linecap(["-i", replay, "-w", d2])
t.check(r.returncode == 2 and "another linecap is writing into it" in r.stderr and
        r.stderr.count("\n") == 1, f"second capture at once: {r.returncode} {r.stderr!r}")
t.check(sorted(os.listdir(d2)) == snapshot, "nothing changed by the refused capture")
rep = subprocess.run([VERIFY, "--repair", d2], capture_output=True, text=True)
t.check(rep.returncode != 0 and "not repairing" in rep.stdout and
        any(f.endswith(".part") for f in os.listdir(d2)),
        f"verify --repair under a running capture: {rep.stdout}")
rc, err = e.interrupt(p)
t.check(rc == 0, f"first capture: {rc} {err[-200:]}")

# --- a planted symlink at the next name; a symlinked output directory ----------------------
victim = os.path.join(work, "victim")
with open(victim, "w") as f:
    f.write("precious\n")
os.symlink(victim, os.path.join(d, "seq-q00-000003.pcap.part"))
r = e.run_linecap(["-i", replay, "-w", d])
t.check(r.returncode == 0, f"capture past a planted symlink: {r.stderr[-300:]}")
t.check(open(victim).read() == "precious\n" and
        os.path.islink(os.path.join(d, "seq-q00-000003.pcap.part")), "symlink not followed")
t.check(os.path.exists(os.path.join(d, "seq-q00-000004.pcap")), f"{sorted(os.listdir(d))}")
os.unlink(os.path.join(d, "seq-q00-000003.pcap.part"))
real = os.path.join(work, "real")
os.mkdir(real)
os.symlink(real, os.path.join(work, "link"))
r = e.run_linecap(["-i", replay, "-w", os.path.join(work, "link")])
t.check(r.returncode == 0 and os.path.exists(os.path.join(real, "link-q00-000001.pcap")),
        f"symlinked output directory: {r.stderr[-300:]} {os.listdir(real)}")

# --- kill -9 at random moments, restart into the same directory ---------------------------
d3 = os.path.join(work, "killed")
rng = random.Random(1234)
seen = {}
cut = 0
prev_parts = []
for i in range(KILLS):
    p = e.start_linecap(["-i", loop, "-w", d3, "-C", "1", "-s", "128"])
    # Once it writes (a .part of its own is there: start-up takes longer on a loaded
    # machine), at a random moment.
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10 and p.poll() is None and not [
            f for f in (os.listdir(d3) if os.path.isdir(d3) else [])
            if f.endswith(".part") and f not in prev_parts]:
        time.sleep(0.02)
    time.sleep(rng.uniform(0.05, 1.0))
    p.send_signal(signal.SIGKILL)
    _, err = p.communicate(timeout=30)
    if i > 0:
        t.check("linecap: repaired: " in err or "linecap: completed: " in err
                or not prev_parts, f"restart {i} finished the cut file: {err[-500:]}")
    now = closed(d3)
    changed = [f for f in seen if now.get(f) != seen[f]]
    t.check(not changed, f"kill {i}: closed files changed or vanished: {changed}")
    seen = now
    prev_parts = [f for f in os.listdir(d3) if f.endswith(".part")]
    # A .part whose record is in already was closed whole by a writer the kill caught between
    # its record and its rename (write-ahead): the restart renames it, nothing to repair.
    recorded = {json.loads(x).get("file") for x in open(os.path.join(d3, "manifest.jsonl"))} \
        if os.path.exists(os.path.join(d3, "manifest.jsonl")) else set()
    cut += len([f for f in prev_parts if f[:-len(".part")] not in recorded])
r = e.run_linecap(["-i", replay, "-w", d3])	# the last restart, ending cleanly
t.check(r.returncode == 0, f"final capture: {r.stderr[-300:]}")
now = closed(d3)
t.check(all(now.get(f) == seen[f] for f in seen), "no closed file ever changed")
t.check(not [f for f in os.listdir(d3) if f.endswith(".part")], "no cut file left")
v = verify(d3)
t.check(v.returncode == 0 and "0 findings" in v.stdout, f"verify after {KILLS} kills: "
        f"{v.stdout[-600:]}")
recs = [json.loads(x) for x in open(os.path.join(d3, "manifest.jsonl"))]
repaired = [x for x in recs if x.get("repaired")]
t.check(len(repaired) == cut and cut >= KILLS // 2,
        f"{cut} cut files, {len(repaired)} repaired records")
print(f"{KILLS} kills: {len(now)} files, {cut} cut and repaired", file=sys.stderr)
shutil.rmtree(work, ignore_errors=True)
t.done()
