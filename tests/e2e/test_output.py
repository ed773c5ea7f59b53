#!/usr/bin/env python3
"""Evidence-grade output, end to end on net_pcap replays:
- -C: files cut near the size, numbered in sequence, every one in the manifest with its
  SHA-256, packets and times; linecap-verify passes; merged they hold every packet written;
- -G with a strftime prefix: files cut at wall-clock boundaries, each file's packets inside
  its period, names carrying the period;
- -W: at most N files per queue remain, the rest retired by manifest records;
- --retain-bytes: the directory, sampled while capturing, never exceeds the bound;
- in a directory shared with other captures, -W and --retain-bytes count and retire only
  the capture's own files (its prefix); a bound below 1 MiB is refused;
- pcapng: tshark and capinfos read it without complaint, with the interface statistics block;
- manifest records carry host, port, filters in force, snaplen, version, clock, drops."""
import json
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

BUILD = os.path.dirname(os.environ["LINECAP"])
VERIFY = os.path.join(BUILD, "linecap-verify")
MERGE = os.path.join(BUILD, "linecap-merge")


def manifest(d):
    with open(os.path.join(d, "manifest.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def verify(t, d, label):
    p = subprocess.run([VERIFY, d], capture_output=True, text=True)
    t.check(p.returncode == 0, f"{label}: linecap-verify exit {p.returncode}: {p.stdout[-600:]}")
    return p


def run(args, timeout=60):
    return e.run_linecap(args, timeout=timeout)


def size_rotation(t, work, sample):
    out = os.path.join(work, "size")
    p = run(["-i", f"net_pcap0,rx_pcap={sample},infinite_rx=1", "-w", out, "-C", "0.2",
             "-s", "128", "-c", "30000", "--stats-file", out + ".json", "tcp"])
    t.check(p.returncode == 0, f"-C: exit {p.returncode}: {p.stderr[-300:]}")
    s = e.stats(out + ".json")
    recs = [r for r in manifest(out) if "file" in r]
    files = e.shard_files(out)
    t.check(len(recs) == len(files) >= 5, f"-C: {len(files)} files, {len(recs)} records")
    t.check([r["seq"] for r in recs] == list(range(1, len(recs) + 1)), "-C: sequence")
    limit = 200000 + 64 * (128 + 16)
    t.check(all(r["bytes"] <= limit for r in recs), "-C: a file past its size")
    t.check(all(r["bytes"] >= 200000 for r in recs[:-1]), "-C: a file cut early")
    t.check(sum(r["packets"] for r in recs) == s["written"] == 30000, "-C: packet totals")
    r0 = recs[0]
    for key in ("sha256", "first_ns", "last_ns", "queue", "host", "port", "filters",
                "snaplen", "linecap", "clock", "drops", "prev"):
        t.check(key in r0, f"manifest record lacks {key}")
    t.check(r0["filters"][0]["expression"] == "tcp" and r0["snaplen"] == 128 and
            r0["port"] == "net_pcap0" and r0["clock"] == "tsc", f"record: {r0}")
    verify(t, out, "-C")
    merged = os.path.join(work, "size-merged.pcap")
    m = subprocess.run([MERGE, "-w", merged, out], capture_output=True, text=True)
    t.check(m.returncode == 0, f"merge: {m.stderr}")
    got = e.read_pcap(merged)["records"]
    t.check(len(got) == 30000, f"merge of the shards holds {len(got)} packets")
    t.check(all(got[k][0] <= got[k + 1][0] for k in range(len(got) - 1)), "merge order")


def time_rotation(t, work, sample):
    d = os.path.join(work, "time")
    os.mkdir(d)
    p = run(["-i", f"net_pcap0,rx_pcap={sample},infinite_rx=1", "-w",
             os.path.join(d, "cap-%Y%m%d-%H%M%S.pcap"), "-G", "1", "--duration", "3.5",
             "-s", "64", "udp port 53"])
    t.check(p.returncode == 0, f"-G: exit {p.returncode}: {p.stderr[-300:]}")
    recs = [r for r in manifest(d) if "file" in r]
    t.check(len(recs) >= 3, f"-G 1 for 3.5 s: {len(recs)} files")
    for r in recs:
        stamp = r["file"].split("-q")[0][len("cap-"):]
        period = int(time.mktime(time.strptime(stamp, "%Y%m%d-%H%M%S")))
        inside = [rec[0] for rec in e.read_pcap(os.path.join(d, r["file"]))["records"]]
        # The writer cuts between records by their timestamps: exactly the period's.
        t.check(all(period * 10**9 <= ts < (period + 1) * 10**9 for ts in inside),
                f"-G: {r['file']} holds packets outside its second: "
                f"{[ts for ts in inside if not period * 10**9 <= ts < (period + 1) * 10**9][:3]}")
    verify(t, d, "-G")


def size_and_time(t, work, sample):
    """-C and -G together: a file is cut at whichever comes first."""
    out = os.path.join(work, "both")
    p = run(["-i", f"net_pcap0,rx_pcap={sample},infinite_rx=1", "-w", out, "-C", "0.3",
             "-G", "1", "--duration", "2.0", "-s", "64", "tcp port 22"])
    t.check(p.returncode == 0, f"-C -G: exit {p.returncode}: {p.stderr[-300:]}")
    recs = [r for r in manifest(out) if "file" in r]
    periods = {r["opened_ns"] // 10**9 for r in recs}
    t.check(len(recs) > len(periods) >= 2, f"-C -G: {len(recs)} files in {len(periods)} s")
    t.check(all(r["bytes"] <= 300000 + 64 * (64 + 16) for r in recs), "-C -G: size bound")
    verify(t, out, "-C -G")


def fsync_interval(t, work, sample):
    """--fsync-interval: the open file is forced to disk while it is written."""
    out = os.path.join(work, "fsync")
    trace = os.path.join(work, "fsync.trace")
    p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=fdatasync", "-o", trace,
                        os.environ["LINECAP"], "-i",
                        f"net_pcap0,rx_pcap={sample},infinite_rx=1", "-w", out,
                        "--fsync-interval", "0.2", "--duration", "1.5", "-s", "64",
                        "tcp port 22"], capture_output=True, text=True, timeout=60,
                       # LeakSanitizer cannot stop the world under ptrace: no leak check here
                       env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    t.check(p.returncode == 0, f"--fsync-interval: exit {p.returncode}: {p.stderr[-300:]}")
    with open(trace) as f:
        calls = sum(1 for line in f if "fdatasync(" in line)
    t.check(calls >= 4, f"--fsync-interval 0.2 over 1.5 s: {calls} fdatasync calls")


def ring_buffer(t, work, sample):
    out = os.path.join(work, "ring")
    p = run(["-i", f"net_pcap0,rx_pcap={sample},rx_pcap={sample},infinite_rx=1", "-w", out,
             "-C", "0.1", "-W", "3", "-s", "96", "-c", "40000"])
    t.check(p.returncode == 0, f"-W: exit {p.returncode}: {p.stderr[-300:]}")
    files = e.shard_files(out)
    per_q = {}
    for f in files:
        q = f.split("-q")[-1][:2]
        per_q[q] = per_q.get(q, 0) + 1
    # Exactly 3: once the capture has ended no file is open, so the last pass keeps N closed.
    t.check(len(per_q) == 2 and all(n == 3 for n in per_q.values()), f"-W 3: {per_q}")
    lines = manifest(out)
    retired = [r for r in lines if "retired" in r]
    t.check(len(retired) > 0 and all("-W" in r["reason"] for r in retired), "retire records")
    t.check(len([r for r in lines if "file" in r]) == len(retired) + len(files), "accounting")
    verify(t, out, "-W")


def retention(t, work, sample):
    out = os.path.join(work, "retain")
    bound = 3_000_000
    peak = [0]
    stop = threading.Event()

    def sample_size():
        while not stop.is_set():
            try:
                total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
                peak[0] = max(peak[0], total)
            except OSError:
                pass
            time.sleep(0.005)

    th = threading.Thread(target=sample_size)
    p = e.start_linecap(["-i", f"net_pcap0,rx_pcap={sample},infinite_rx=1", "-w", out,
                         "-C", "0.25", "--retain-bytes", str(bound), "-s", "96",
                         "--duration", "2.5"])
    time.sleep(0.3)
    th.start()
    _, err = p.communicate(timeout=60)
    stop.set()
    th.join()
    t.check(p.returncode == 0, f"--retain-bytes: exit {p.returncode}: {err[-300:]}")
    retired = [r for r in manifest(out) if "retired" in r]
    t.check(len(retired) > 5, f"--retain-bytes retired only {len(retired)} files")
    t.check(0 < peak[0] <= bound, f"directory peaked at {peak[0]} bytes, bound {bound}")
    print(f"--retain-bytes {bound}: directory peaked at {peak[0]} bytes, "
          f"{len(retired)} files retired", file=sys.stderr)
    verify(t, out, "--retain-bytes")


def shared_directory(t, work, sample):
    """Retention in a directory other captures share: only the capture's own files (its
    prefix, earlier runs of it included, a strftime prefix in any period) count and go."""
    d = os.path.join(work, "shared")
    os.mkdir(d)
    # Other cases' evidence: a-q00-000001/2.pcap, and names close to the ones that follow
    # (another prefix starting like b, none of t%Y%m's digits).
    for other in ("a", "a", "b-x", "bb", "t"):
        p = run(["-i", f"net_pcap0,rx_pcap={sample}", "-w", os.path.join(d, other + ".pcap"),
                 "-s", "96", "-c", "100"])
        t.check(p.returncode == 0, f"shared: {other}: exit {p.returncode}: {p.stderr[-300:]}")
    others = {f: os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)
              if f.endswith(".pcap")}
    src = f"net_pcap0,rx_pcap={sample},infinite_rx=1"
    for _ in range(2):  # the second run retires the first run's b files too: same prefix
        p = run(["-i", src, "-w", os.path.join(d, "b.pcap"), "-C", "0.1", "-W", "2",
                 "-s", "96", "-c", "8000"])
        t.check(p.returncode == 0, f"shared: -W: exit {p.returncode}: {p.stderr[-300:]}")
    for _ in range(2):  # a time-patterned prefix: its files of any period are its own
        p = run(["-i", src, "-w", os.path.join(d, "t%Y%m.pcap"), "-G", "86400", "-C", "0.1",
                 "-W", "2", "-s", "96", "-c", "8000"])
        t.check(p.returncode == 0, f"shared: -G -W: exit {p.returncode}: {p.stderr[-300:]}")
    p = run(["-i", src, "-w", os.path.join(d, "c.pcap"), "-C", "0.1", "--retain-bytes", "1Mi",
             "-s", "96", "-c", "30000"])
    t.check(p.returncode == 0, f"shared: --retain-bytes: exit {p.returncode}: "
            f"{p.stderr[-300:]}")
    names = os.listdir(d)
    for f, size in others.items():
        t.check(f in names and os.path.getsize(os.path.join(d, f)) == size,
                f"shared: {f} of another capture was deleted or changed")
    lines = manifest(d)
    gone = [r["retired"] for r in lines if "retired" in r]
    t.check(not [f for f in gone if f.split("-q")[0] not in ("b", "c") and
                 not f.startswith("t20")], f"shared: other captures' files retired: {gone}")
    for prefix, n in (("b-q00-", 2), ("t20", 2)):
        mine = [f for f in names if f.startswith(prefix) and f.endswith(".pcap")]
        t.check(0 < len(mine) <= n, f"shared: -W 2 left {prefix}: {sorted(mine)}")
        t.check(len([f for f in gone if f.startswith(prefix)]) >= 4,
                f"shared: {prefix} files of the first run not retired by the second")
    c_bytes = sum(os.path.getsize(os.path.join(d, f)) for f in names if f.startswith("c-q"))
    t.check(0 < c_bytes <= 1 << 20 and any(f.startswith("c-q") for f in gone),
            f"shared: --retain-bytes 1Mi: c files hold {c_bytes} bytes")
    # Accounting (linecap-verify orders a queue's files by number across prefixes, so it
    # cannot judge a directory of several prefixes): what is retired is gone, what is left
    # is recorded.
    recorded = {r["file"] for r in lines if "file" in r}
    left = set(gone) & set(names)
    t.check(not left, f"shared: retired but still there: {sorted(left)}")
    t.check({f for f in names if f.endswith(".pcap")} <= recorded, "shared: unrecorded files")


def tiny_budget(t, work):
    """--retain-bytes below what one file needs is refused, not obeyed by deleting all."""
    d = os.path.join(work, "tiny")
    p = run(["-i", "net_null0", "-w", d, "--retain-bytes", "1", "-c", "2000"])
    t.check(p.returncode == 2, f"--retain-bytes 1: exit {p.returncode}, not 2")
    t.check("--retain-bytes 1: must be at least 1048576" in p.stderr and
            len(p.stderr.strip().splitlines()) == 1, f"--retain-bytes 1: {p.stderr[-300:]}")
    t.check(not os.path.exists(d), "--retain-bytes 1: a directory was made")


def pcapng(t, work, c):
    d = os.path.join(work, "ng-" + c.label)
    os.mkdir(d)
    src = c.pcap("dns_tcp.pcap")
    want = [r[3] for r in e.tcpdump_keep(src, "tcp port 53")]
    t.check(len(want) == 11, f"{c}: dns_tcp.pcap holds {len(want)} packets on port 53, not 11")
    p = run(["-i", f"net_pcap0,rx_pcap={src}", "-w", os.path.join(d, "ev.pcapng"),
             "tcp port 53"])
    t.check(p.returncode == 0, f"{c}: pcapng: exit {p.returncode}: {p.stderr[-300:]}")
    f = os.path.join(d, "ev-q00-000001.pcapng")
    ts = subprocess.run(["tshark", "-n", "-r", f], capture_output=True, text=True)
    t.check(ts.returncode == 0 and len(ts.stdout.splitlines()) == len(want),
            f"{c}: tshark: {ts.stdout}")
    t.check("damaged" not in ts.stderr and "corrupt" not in ts.stderr,
            f"{c}: tshark: {ts.stderr}")
    ci = subprocess.run(["capinfos", f], capture_output=True, text=True)
    t.check(ci.returncode == 0 and ci.stderr.strip() == "", f"{c}: capinfos: {ci.stderr}")
    for line in ("nanoseconds (9)", "Filter string = tcp port 53", "Name = net_pcap0",
                 "Number of stat entries = 1", "Capture application: linecap",
                 f"Number of packets:   {len(want)}"):
        t.check(line in ci.stdout, f"{c}: capinfos lacks '{line}'")
    verify(t, d, "pcapng")
    m = os.path.join(work, f"ng-{c.label}-merged.pcap")
    subprocess.run([MERGE, "-w", m, f], capture_output=True)
    t.check([r[3] for r in e.read_pcap(m)["records"]] == want,
            f"{c}: pcapng read back by merge")


def main():
    t = e.Failures("test_output")
    work = e.tmpdir()
    sample = e.make_sample(work)
    size_rotation(t, work, sample)
    time_rotation(t, work, sample)
    size_and_time(t, work, sample)
    fsync_interval(t, work, sample)  # strace comes with scripts/deps.sh
    ring_buffer(t, work, sample)
    retention(t, work, sample)
    shared_directory(t, work, sample)
    tiny_budget(t, work)
    for c in e.corpora():
        pcapng(t, work, c)
    shutil.rmtree(work)
    t.done()


if __name__ == "__main__":
    main()
