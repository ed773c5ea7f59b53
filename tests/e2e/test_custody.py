#!/usr/bin/env python3
"""Chain of custody under attack and accident:
- kill -9 in the middle of a full-rate capture with rotation: linecap-verify passes on every
  closed file and reports the one left open; --repair cuts it back to its last whole record,
  names it and records it (marked repaired); verify then passes and tcpdump reads it;
- linecap-verify catches one flipped byte, a deleted file, a deleted manifest line, an
  edited manifest line, and a file slipped in; each case on its own copy of a capture."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

VERIFY = os.path.join(os.path.dirname(os.environ["LINECAP"]), "linecap-verify")


def verify(d, *extra):
    return subprocess.run([VERIFY, *extra, d], capture_output=True, text=True)


def crash(t, work, sample):
    # A kill can land between two files (one closed, the next not yet named): then there is
    # nothing cut to repair, and the kill is tried again in a fresh directory.
    for attempt in range(5):
        out = os.path.join(work, f"crash{attempt}")
        p = e.start_linecap(["-i", f"net_pcap0,rx_pcap={sample},infinite_rx=1", "-w", out,
                             "-C", "2", "-s", "256"])
        time.sleep(2.0)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        parts = [f for f in os.listdir(out) if f.endswith(".part")]
        # A .part already recorded was closed whole, the kill landing between its record and
        # its rename (write-ahead): --repair only renames it; try again for a cut one.
        man = os.path.join(out, "manifest.jsonl")
        recorded = {json.loads(x).get("file") for x in open(man)} if os.path.exists(man) \
            else set()
        if parts and parts[0][:-len(".part")] not in recorded:
            break
    closed = e.shard_files(out)
    t.check(len(parts) == 1 and len(closed) >= 2, f"after kill -9: {parts}, {len(closed)} closed")
    v = verify(out)
    t.check(v.returncode == 1, f"verify after the crash: exit {v.returncode}")
    lines = v.stdout.splitlines()
    t.check(len(lines) == 2 and lines[0].startswith("unfinished: ") and
            f"{len(closed)} files recorded, {len(closed)} intact" in lines[1],
            f"verify after the crash: {v.stdout}")
    r = verify(out, "--repair")
    t.check(r.returncode == 0 and "repaired: " in r.stdout, f"repair: {r.stdout}")
    v = verify(out)
    t.check(v.returncode == 0 and "0 findings" in v.stdout, f"verify after repair: {v.stdout}")
    repaired = os.path.join(out, parts[0][:-5])
    td = subprocess.run(["tcpdump", "-n", "-r", repaired, "-w", "/dev/null"],
                        capture_output=True, text=True)
    t.check(td.returncode == 0, f"tcpdump on the repaired file: {td.stderr}")
    with open(os.path.join(out, "manifest.jsonl")) as f:
        last = json.loads(f.read().splitlines()[-1])
    t.check(last.get("repaired") is True and last["file"] == os.path.basename(repaired),
            f"repair record: {last}")
    return out


def tamper(t, work, good):
    def copy(name):
        d = os.path.join(work, name)
        shutil.copytree(good, d)
        return d

    files = sorted(f for f in os.listdir(good) if f.endswith(".pcap"))
    d = copy("flip")
    with open(os.path.join(d, files[1]), "r+b") as f:
        f.seek(5000)
        b = f.read(1)
        f.seek(5000)
        f.write(bytes([b[0] ^ 0x01]))
    v = verify(d)
    t.check(v.returncode == 1 and f"modified: {files[1]}: SHA-256" in v.stdout,
            f"one flipped byte: {v.stdout}")

    d = copy("deleted")
    os.unlink(os.path.join(d, files[0]))
    v = verify(d)
    t.check(v.returncode == 1 and f"missing: {files[0]}" in v.stdout, f"deleted file: {v.stdout}")

    d = copy("line")
    m = os.path.join(d, "manifest.jsonl")
    with open(m) as f:
        lines = f.read().splitlines(True)
    with open(m, "w") as f:
        f.writelines(lines[:1] + lines[2:])
    v = verify(d)
    t.check(v.returncode == 1 and "manifest: line 2: chain broken" in v.stdout and
            "extra: " in v.stdout, f"deleted manifest line: {v.stdout}")

    d = copy("edited")
    m = os.path.join(d, "manifest.jsonl")
    with open(m) as f:
        lines = f.read().splitlines(True)
    rec = json.loads(lines[0])
    rec["packets"] += 1
    lines[0] = json.dumps(rec, separators=(",", ":")) + "\n"
    with open(m, "w") as f:
        f.writelines(lines)
    v = verify(d)
    t.check(v.returncode == 1 and "chain broken" in v.stdout, f"edited line: {v.stdout}")

    d = copy("extra")
    shutil.copy(os.path.join(d, files[0]), os.path.join(d, "planted-q00-000001.pcap"))
    v = verify(d)
    t.check(v.returncode == 1 and "extra: planted-q00-000001.pcap" in v.stdout,
            f"planted file: {v.stdout}")

    # A crash after a file was recorded but before its rename: --repair finishes the rename.
    d = copy("unrenamed")
    os.rename(os.path.join(d, files[2]), os.path.join(d, files[2] + ".part"))
    v = verify(d)
    t.check(v.returncode == 1 and "closed and recorded, not yet renamed" in v.stdout and
            "missing:" not in v.stdout, f"recorded .part: {v.stdout}")
    r = verify(d, "--repair")
    t.check(r.returncode == 0 and f"completed: {files[2]}" in r.stdout, f"complete: {r.stdout}")
    v = verify(d)
    t.check(v.returncode == 0, f"after completing the rename: {v.stdout}")

    v = verify(os.path.join(work, "no-such-dir"))
    t.check(v.returncode == 2, f"missing directory: exit {v.returncode}")


def main():
    t = e.Failures("test_custody")
    work = e.tmpdir()
    sample = e.make_sample(work)
    good = crash(t, work, sample)
    tamper(t, work, good)
    shutil.rmtree(work)
    t.done()


if __name__ == "__main__":
    main()
