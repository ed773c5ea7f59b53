#!/usr/bin/env python3
"""linecap-merge, linecap-seqcheck and linecap-verify on what a user may plant in a capture
directory root later reads (under -Z that directory is the user's): a FIFO does not hang
them, a symbolic link or a second hard link is not followed (skipped, one warning line
naming it); a FIFO named on the command line does not hang merge; seqcheck --sent takes
only a linecap-gen stats file; a bad option is one line naming it; a missing input file
before the last argument is said to be missing (not a bad filter)."""
import json
import os
import shutil
import struct
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

BIN = os.path.dirname(os.environ["LINECAP"])
MERGE = os.path.join(BIN, "linecap-merge")
SEQCHECK = os.path.join(BIN, "linecap-seqcheck")
VERIFY = os.path.join(BIN, "linecap-verify")
LIMIT = 20	# seconds: the old tools hung here for ever


def pcap_bytes(first_ts, n):
    """A nanosecond Ethernet pcap of n 60-byte frames, one a second from first_ts."""
    out = [struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)]
    for k in range(n):
        frame = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x00" + bytes([k % 256]) * 46
        out.append(struct.pack("<IIII", first_ts + k, 0, len(frame), len(frame)) + frame)
    return b"".join(out)


def put(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def run(*argv):
    """(returncode, stdout, stderr); returncode None if it ran past LIMIT (a hang)."""
    try:
        p = subprocess.run(list(argv), capture_output=True, text=True, timeout=LIMIT)
    except subprocess.TimeoutExpired:
        return None, "", "(hung)"
    return p.returncode, p.stdout, p.stderr


def one_line(err):
    return len(err.strip().splitlines()) == 1


def hostile_dir(work, outside):
    """A directory with one good capture, a FIFO, a link to a file outside it and a second
    hard link of a file outside it, all with capture names."""
    d = os.path.join(work, "cap")
    os.mkdir(d)
    put(os.path.join(d, "b.pcap"), pcap_bytes(1000, 3))
    os.mkfifo(os.path.join(d, "a.pcap"))
    os.symlink(outside, os.path.join(d, "c.pcap"))
    hard = put(os.path.join(work, "hard-outside.pcap"), pcap_bytes(3000, 7))
    os.link(hard, os.path.join(d, "d.pcap"))
    return d


def test_merge(t, work, outside, d):
    out = os.path.join(work, "m.pcap")
    rc, _, err = run(MERGE, "-w", out, d)
    t.check(rc is not None, "merge DIR hangs on a FIFO in it")
    t.check(rc == 0, f"merge DIR with planted entries: rc {rc}: {err}")
    if rc == 0:
        recs = e.read_pcap(out)["records"]
        t.check(len(recs) == 3, f"merge DIR: {len(recs)} records, want the 3 of b.pcap only "
                "(a link or a second hard link was followed)")
    for name in ("a.pcap", "c.pcap", "d.pcap"):
        lines = [ln for ln in err.splitlines() if name in ln]
        t.check(len(lines) == 1 and "skipped" in lines[0],
                f"merge DIR: one warning line naming {name}: {err}")

    # A FIFO named on the command line with nobody writing: an error, never a hang.
    fifo = os.path.join(work, "lonely.fifo")
    os.mkfifo(fifo)
    out2 = os.path.join(work, "m2.pcap")
    rc, _, err = run(MERGE, "-w", out2, os.path.join(d, "b.pcap"), fifo)
    t.check(rc is not None, "merge FILE FIFO hangs on a FIFO nobody writes")
    t.check(rc == 2 and one_line(err) and fifo in err, f"merge lonely FIFO: rc {rc}: {err}")

    # A pipe given on purpose (as <(...) does) is still read.
    r, w = os.pipe()
    feed = threading.Thread(target=lambda: (os.write(w, pcap_bytes(2000, 4)), os.close(w)))
    feed.start()
    out3 = os.path.join(work, "m3.pcap")
    p = subprocess.run([MERGE, "-w", out3, os.path.join(d, "b.pcap"), f"/dev/fd/{r}"],
                       capture_output=True, text=True, timeout=LIMIT, pass_fds=(r,))
    os.close(r)
    feed.join()
    t.check(p.returncode == 0 and len(e.read_pcap(out3)["records"]) == 7,
            f"merge from a pipe: {p.stderr}")

    # A missing input before the last argument is a missing file, not a bad filter.
    out4 = os.path.join(work, "m4.pcap")
    missing = os.path.join(work, "missing.pcap")
    rc, _, err = run(MERGE, "-w", out4, outside, missing)
    t.check(rc == 2 and one_line(err) and missing in err and "No such file" in err and
            "filter" not in err, f"merge missing input: rc {rc}: {err}")
    rc, _, err = run(MERGE, "-w", out4, outside, "missing.pcap", "tcp")
    t.check(rc == 2 and one_line(err) and "missing.pcap" in err and "No such file" in err,
            f"merge missing input before a filter: rc {rc}: {err}")
    rc, _, err = run(MERGE, "-w", out4, outside, "tcp")	# a filter still works
    t.check(rc == 0, f"merge with a filter: rc {rc}: {err}")


def test_seqcheck(t, work, d):
    rc, out, err = run(SEQCHECK, d)
    t.check(rc is not None, "seqcheck DIR hangs on a FIFO in it")
    t.check(rc == 0 and "3 frames without a linecap-gen tag" in out,
            f"seqcheck DIR: rc {rc}: {out} {err} (want b.pcap's 3 frames only)")
    for name in ("a.pcap", "c.pcap", "d.pcap"):
        lines = [ln for ln in err.splitlines() if name in ln]
        t.check(len(lines) == 1 and "skipped" in lines[0],
                f"seqcheck DIR: one warning line naming {name}: {err}")

    good = os.path.join(d, "b.pcap")
    fifo = os.path.join(work, "sent.fifo")
    os.mkfifo(fifo)
    rc, _, err = run(SEQCHECK, "--sent", fifo, good)
    t.check(rc is not None, "seqcheck --sent FIFO hangs")
    t.check(rc == 2 and one_line(err) and fifo in err, f"seqcheck --sent FIFO: rc {rc}: {err}")

    stats = {"packets": 10, "bytes": 600, "dropped": 0, "queues": []}	# linecap's own
    for label, doc in (("a capture stats file", stats), ("an object", {"foo": 1}),
                       ("an array", []), ("id a string", {"id": "x", "sent": 1,
                                                          "per_flow": [1]}),
                       ("per_flow not numbers", {"id": 1, "sent": 1, "per_flow": ["1"]}),
                       ("no sent", {"id": 1, "per_flow": [1]})):
        path = put(os.path.join(work, "sent.json"), json.dumps(doc).encode())
        rc, _, err = run(SEQCHECK, "--sent", path, good)
        t.check(rc == 2 and one_line(err) and path in err,
                f"seqcheck --sent {label}: rc {rc}: {err}")
    path = put(os.path.join(work, "sent.json"),
               json.dumps({"id": 1, "sent": 5, "per_flow": [5]}).encode())
    rc, out, err = run(SEQCHECK, "--sent", path, good)
    t.check(rc == 1 and "5 missing" in out, f"seqcheck --sent a generator file: rc {rc}: "
            f"{out} {err}")


def test_options(t, work, d):
    for tool, extra in ((MERGE, ["-w", os.path.join(work, "o.pcap"), d]), (SEQCHECK, [d]),
                        (VERIFY, [d])):
        name = os.path.basename(tool)
        rc, _, err = run(tool, "--bogus", *extra)
        t.check(rc == 2 and one_line(err) and "--bogus" in err, f"{name} --bogus: {err}")
        rc, _, err = run(tool, "-q", *extra)
        t.check(rc == 2 and one_line(err) and "-q" in err, f"{name} -q: {err}")
    rc, _, err = run(MERGE, d, "-w")
    t.check(rc == 2 and one_line(err) and "-w" in err, f"linecap-merge -w (no value): {err}")
    rc, _, err = run(SEQCHECK, d, "--sent")
    t.check(rc == 2 and one_line(err) and "--sent" in err,
            f"linecap-seqcheck --sent (no value): {err}")


def main():
    t = e.Failures("test_tools_hostile")
    work = e.tmpdir()
    outside = put(os.path.join(work, "outside.pcap"), pcap_bytes(5000, 5))
    d = hostile_dir(work, outside)
    test_merge(t, work, outside, d)
    test_seqcheck(t, work, d)
    test_options(t, work, d)
    shutil.rmtree(work)
    t.done()


if __name__ == "__main__":
    main()
