#!/usr/bin/env python3
"""Chain of custody under attack and accident:
- kill -9 in the middle of a full-rate capture with rotation: linecap-verify passes on every
  closed file and reports the one left open; --repair cuts it back to its last whole record,
  names it and records it (marked repaired); verify then passes and tcpdump reads it;
- linecap-verify catches one flipped byte, a deleted file, a deleted manifest line, an
  edited manifest line, and a file slipped in; each case on its own copy of a capture;
- the index beside every file (NAME.idx): recorded with its file (a repaired file's too);
  verify finds one lost (--repair builds it again, the same bytes), one flipped byte, a
  link in its place (never followed), another file's index under a forged record, an index
  no record names; -W 2 retires a file's index with it, and the retire record says so."""
import hashlib
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
    # The kill may also land between naming a file and naming its index (written nameless):
    # then that index is missing, and --repair builds it again.
    lines = [x for x in v.stdout.splitlines()
             if not (x.startswith("index: ") and ".idx: missing (" in x)]
    t.check(len(lines) == 2 and lines[0].startswith("unfinished: ") and
            len(v.stdout.splitlines()) <= 3 and
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


def sha_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def records(d):
    with open(os.path.join(d, "manifest.jsonl")) as f:
        return [json.loads(x) for x in f]


def index_ok(d, name, rec):
    """Is NAME.idx there, with the SHA-256 and size its record gives?"""
    path = os.path.join(d, name + ".idx")
    ix = rec.get("index", {})
    return os.path.isfile(path) and ix.get("sha256") == sha_of(path) and \
        ix.get("bytes") == os.path.getsize(path)


def indexes(t, work, sample, crashed):
    """The index beside every file: recorded (a repaired file's too), checked by verify
    against its record and its file, rebuilt by --repair when a crash lost it, never read
    through a link."""
    # The file --repair closed after the kill got its index, recorded.
    last = records(crashed)[-1]
    t.check(last.get("repaired") is True and index_ok(crashed, last["file"], last),
            f"the repaired file's index: {last}")

    # A capture whose buffer holds all of it: the writer never falls behind, so never
    # gives up an index (a file it could not index is recorded "missing": read whole).
    good = os.path.join(work, "indexed")
    p = e.start_linecap(["-B", "32M", "-i", f"net_pcap0,rx_pcap={sample}", "-w", good,
                         "-C", "0.3", "-s", "256"])
    _, err = p.communicate(timeout=120)
    t.check(p.returncode == 0, f"capture: exit {p.returncode}: {err[-600:]}")
    files = sorted(f for f in os.listdir(good) if f.endswith(".pcap"))
    recs = {r["file"]: r for r in records(good) if "file" in r}
    t.check(len(files) >= 3 and all(index_ok(good, f, recs[f]) for f in files),
            f"every file's index, recorded: {files}, {[recs[f].get('index') for f in files]}")
    v = verify(good)
    t.check(v.returncode == 0 and "0 findings" in v.stdout, f"verify: {v.stdout}")

    def copy(name):
        d = os.path.join(work, name)
        shutil.copytree(good, d, symlinks=True)
        return d

    # A crash between naming a file and naming its index: --repair builds it again.
    d = copy("idx-lost")
    lost = os.path.join(d, files[1] + ".idx")
    os.unlink(lost)
    v = verify(d)
    t.check(v.returncode == 1 and f"index: {files[1]}.idx: missing" in v.stdout and
            "extra:" not in v.stdout, f"index deleted: {v.stdout}")
    r = verify(d, "--repair")
    t.check(r.returncode == 0 and f"rebuilt: {files[1]}.idx" in r.stdout, f"rebuilt: {r.stdout}")
    t.check(os.path.exists(lost) and sha_of(lost) == sha_of(os.path.join(good, files[1] + ".idx")),
            "the rebuilt index is the one lost")
    v = verify(d)
    t.check(v.returncode == 0 and "0 findings" in v.stdout, f"after the rebuild: {v.stdout}")

    # A crash between a file's record and its rename: the index (written nameless) is lost
    # with the rename; --repair completes the rename and builds the index again.
    d = copy("idx-unrenamed")
    os.rename(os.path.join(d, files[2]), os.path.join(d, files[2] + ".part"))
    os.unlink(os.path.join(d, files[2] + ".idx"))
    r = verify(d, "--repair")
    t.check(r.returncode == 0 and f"completed: {files[2]}" in r.stdout and
            f"rebuilt: {files[2]}.idx" in r.stdout, f"rename completed, index: {r.stdout}")
    built = os.path.join(d, files[2] + ".idx")
    t.check(os.path.exists(built) and sha_of(built) == sha_of(os.path.join(good, files[2] + ".idx")),
            "the index built again")

    # One byte flipped: a finding, and --repair never overwrites it.
    d = copy("idx-flip")
    flipped = os.path.join(d, files[0] + ".idx")
    with open(flipped, "r+b") as f:
        f.seek(40)
        b = f.read(1)
        f.seek(40)
        f.write(bytes([b[0] ^ 0x01]))
    before = sha_of(flipped)
    v = verify(d)
    t.check(v.returncode == 1 and f"index: {files[0]}.idx: SHA-256" in v.stdout,
            f"index with a flipped byte: {v.stdout}")
    r = verify(d, "--repair")
    t.check(r.returncode == 1 and sha_of(flipped) == before, f"flipped, repaired: {r.stdout}")

    # A symbolic link in its place (to the very index): never followed, never replaced.
    d = copy("idx-link")
    link = os.path.join(d, files[0] + ".idx")
    os.unlink(link)
    os.symlink(os.path.join(good, files[0] + ".idx"), link)
    v = verify(d)
    t.check(v.returncode == 1 and f"index: {files[0]}.idx: a symbolic link" in v.stdout,
            f"index as a link: {v.stdout}")
    r = verify(d, "--repair")
    t.check(r.returncode == 1 and os.path.islink(link) and
            sha_of(os.path.join(good, files[0] + ".idx")) == recs[files[0]]["index"]["sha256"],
            f"link, repaired: {r.stdout}")

    # The index of another file under this one's name, its record edited to match and the
    # chain rewritten: not the index of its file.
    d = copy("idx-swapped")
    shutil.copy(os.path.join(d, files[0] + ".idx"), os.path.join(d, files[1] + ".idx"))
    lines, prev = [], "0" * 64
    for rec in records(d):
        if rec.get("file") == files[1]:
            rec["index"] = dict(recs[files[0]]["index"])
        rec["prev"] = prev
        line = json.dumps(rec, separators=(",", ":")).encode()
        prev = hashlib.sha256(line).hexdigest()
        lines.append(line + b"\n")
    with open(os.path.join(d, "manifest.jsonl"), "wb") as f:
        f.writelines(lines)
    v = verify(d)
    t.check(v.returncode == 1 and f"index: {files[1]}.idx: not the index of {files[1]}" in
            v.stdout and "chain" not in v.stdout, f"another file's index: {v.stdout}")

    # An index no record names.
    d = copy("idx-extra")
    shutil.copy(os.path.join(d, files[0] + ".idx"), os.path.join(d, "planted-q00-000001.pcap.idx"))
    v = verify(d)
    t.check(v.returncode == 1 and "extra: planted-q00-000001.pcap.idx" in v.stdout,
            f"planted index: {v.stdout}")


def retention(t, work, sample):
    """-W 2: a file retired goes with its index, and its retire record says so; then
    --retain-bytes counts the indexes."""
    out = os.path.join(work, "ring")
    p = e.start_linecap(["-B", "32M", "-i", f"net_pcap0,rx_pcap={sample}", "-w", out,
                         "-C", "0.3", "-W", "2", "-s", "256"])
    _, err = p.communicate(timeout=120)
    t.check(p.returncode == 0, f"-W 2 capture: exit {p.returncode}: {err[-600:]}")
    names = sorted(os.listdir(out))
    kept = [f for f in names if f.endswith(".pcap")]
    retired = [r for r in records(out) if "retired" in r]
    t.check(len(kept) == 2 and len(retired) >= 2, f"-W 2: {names}, {len(retired)} retired")
    t.check(all(f + ".idx" in names for f in kept) and
            sorted(f for f in names if f.endswith(".idx")) == [f + ".idx" for f in kept],
            f"indexes after -W 2: {names}")
    recs = {r["file"]: r for r in records(out) if "file" in r}
    same = ("sha256", "bytes")
    t.check(all({k: r.get("index", {}).get(k) for k in same} ==
                {k: recs[r["retired"]]["index"].get(k) for k in same} for r in retired),
            f"retire records name the index: {retired[:2]}")
    v = verify(out)
    t.check(v.returncode == 0 and "0 findings" in v.stdout, f"verify after -W 2: {v.stdout}")

    # A second capture into the directory, --retain-bytes: the first one's files count with
    # their indexes (read back from the manifest), the files and indexes and the manifest
    # stay within the bound, and what goes takes its index with it.
    p = e.start_linecap(["-B", "32M", "-i", f"net_pcap0,rx_pcap={sample}", "-w", out,
                         "-C", "0.3", "--retain-bytes", "1Mi", "-s", "256"])
    _, err = p.communicate(timeout=120)
    t.check(p.returncode == 0, f"--retain-bytes capture: exit {p.returncode}: {err[-600:]}")
    names = sorted(os.listdir(out))
    kept = [f for f in names if f.endswith(".pcap")]
    total = sum(os.path.getsize(os.path.join(out, f)) for f in names if f != ".linecap.lock")
    t.check(sorted(f for f in names if f.endswith(".idx")) == [f + ".idx" for f in kept] and
            total <= 1 << 20, f"--retain-bytes 1Mi: {total} bytes in {names}")
    retired = [r for r in records(out) if "retired" in r]
    t.check(all("sha256" in r.get("index", {}) for r in retired), "retire records, second run")
    v = verify(out)
    t.check(v.returncode == 0 and "0 findings" in v.stdout, f"verify after both: {v.stdout}")


def main():
    t = e.Failures("test_custody")
    work = e.tmpdir()
    sample = e.make_sample(work)
    good = crash(t, work, sample)
    tamper(t, work, good)
    indexes(t, work, sample, good)
    retention(t, work, sample)
    shutil.rmtree(work)
    t.done()


if __name__ == "__main__":
    main()
