#!/usr/bin/env python3
"""End-to-end loss test: linecap-gen -> net_memif -> linecap, two processes, at a fixed
modest rate for a few seconds; with no filter every frame sent is written, and with a
filter keeping about 1% (the evidence 5-tuple) every evidence frame is written; about 30% of
the flows are IPv6; in both,
linecap-seqcheck finds no gap, duplicate or reordering. And a quiet link: 50 frames, then
nothing, are in the open .part file within about a second, though they fill no 4 KiB block
(the file is written with O_DIRECT, whole blocks only, but for what an idle writer puts
there through the page cache)."""
import struct
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
SEQ = os.path.join(BUILD, "linecap-seqcheck")
RATE, COUNT = 100000, 150000


def run(t, work, name, expr):
    d = os.path.join(work, name)
    os.mkdir(d)
    sock = os.path.join(d, "memif.sock")
    cap_stats, gen_stats = os.path.join(d, "cap.json"), os.path.join(d, "gen.json")
    args = ["-i", f"net_memif0,role=server,socket={sock}", "-w", os.path.join(d, "cap"),
            "--stats-file", cap_stats]
    cap = e.start_linecap(args + ([expr] if expr else []))
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    # The generator stays connected once it has sent everything (--linger): linecap is
    # stopped first. A memif peer that leaves makes DPDK 22.11's memif unmap the rings in its
    # control thread while linecap's RX core may be reading them (SIGSEGV), and takes the
    # frames still in the ring with it.
    g = subprocess.Popen([GEN, "-i", f"net_memif0,role=client,socket={sock}", "--rate",
                          str(RATE), "-c", str(COUNT), "--flows", "256", "--id", "3",
                          "--ipv6-fraction", "0.3", "--linger", "120",
                          "--stats-file", gen_stats], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, preexec_fn=e.die_with_parent)
    deadline = time.monotonic() + 60
    while not os.path.exists(gen_stats) and g.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)	# the stats file is written once everything is sent
    t.check(os.path.exists(gen_stats) and g.poll() is None,
            f"{name}: linecap-gen did not send everything and stay connected (exit "
            f"{g.poll()})")
    time.sleep(1.0)		# what is in flight reaches the files
    rc, err = e.interrupt(cap)
    try:			# linecap gone, the link is down: the generator leaves by itself
        gerr = g.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        g.kill()
        gerr = g.communicate()[1]
    t.check(g.returncode == 0, f"{name}: linecap-gen exit {g.returncode}: {gerr[-300:]}")
    if not t.check(rc is not None, f"{name}: linecap did not stop"):
        return
    t.check(rc == 0, f"{name}: linecap exit {rc}: {err[-300:]}")
    if not os.path.exists(gen_stats):
        return
    sent = json.load(open(gen_stats))
    s = e.stats(cap_stats)
    t.check(sent["sent"] == COUNT, f"{name}: sent {sent['sent']}")
    want = COUNT if not expr else sent["per_flow"][-1]	# the evidence flow is the last
    t.check(s["written"] == want and s["buffer_full"] == 0 and s["imissed"] == 0,
            f"{name}: written {s['written']}, want {want}; stats {s}")
    check = [SEQ] + (["--sent", gen_stats] if not expr else []) + [os.path.join(d, "cap")]
    q = subprocess.run(check, capture_output=True, text=True)
    t.check(q.returncode == 0 and f"{want} received, 0 missing, 0 duplicates, 0 out of order"
            in q.stdout, f"{name}: seqcheck: {q.stdout[-500:]}")
    print(f"{name}: sent {sent['sent']}, written {s['written']} ({want} expected)",
          file=sys.stderr)


def records(path):
    """Whole records in a nanosecond pcap file (a .part being written: up to the last)."""
    with open(path, "rb") as f:
        data = f.read()
    n, off = 0, 24
    while off + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        if off + 16 + caplen > len(data):
            break
        off += 16 + caplen
        n += 1
    return n


def quiet(t, work):
    d = os.path.join(work, "quiet")
    os.mkdir(d)
    sock = os.path.join(d, "memif.sock")
    cap = e.start_linecap(["-i", f"net_memif0,role=server,socket={sock}", "-w",
                           os.path.join(d, "cap"), "--duration", "30"])
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    g = subprocess.Popen([GEN, "-i", f"net_memif0,role=client,socket={sock}", "-c", "50",
                          "--linger", "60"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, preexec_fn=e.die_with_parent)
    part, n, start = None, 0, time.monotonic()
    while time.monotonic() - start < 5 and n < 50:
        time.sleep(0.1)
        out = os.path.join(d, "cap")
        parts = [os.path.join(out, f) for f in os.listdir(out)
                 if f.endswith(".part")] if os.path.isdir(out) else []
        part = parts[0] if parts else None
        n = records(part) if part else 0
    waited = time.monotonic() - start
    t.check(n == 50, f"quiet link: {n} of 50 frames in the open file after {waited:.1f} s")
    t.check(waited < 3, f"quiet link: the frames took {waited:.1f} s to reach the file")
    print(f"quiet link: 50 frames in {part} within {waited:.1f} s", file=sys.stderr)
    rc, err = e.interrupt(cap)
    t.check(rc == 0, f"quiet link: linecap exit {rc}: {err[-300:]}")
    g.kill()
    g.wait()


def main():
    t = e.Failures("test_loss")
    work = e.tmpdir()
    quiet(t, work)
    run(t, work, "all", None)
    run(t, work, "evidence", "host 192.168.1.100 and port 443")
    shutil.rmtree(work)
    t.done()


if __name__ == "__main__":
    main()
