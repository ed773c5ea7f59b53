#!/usr/bin/env python3
"""-r FILE: capture files through the capture's own pipeline (a net_ring port, RX, the JIT
filter, chunks, a writer), each packet keeping its own timestamp to the nanosecond.
- On every Ethernet capture of the corpora that tcpdump reads without complaint (the
  generated corpus, and ../shared/corpus where present), read as one directory, linecap
  writes exactly the bytes `tcpdump --nano -r FILE -w - EXPR` writes, file by file: the
  first file's header, then each file's records (tcpdump -V is no reference: it reads the
  files after the first in microseconds), with no filter and with filters; cut into files with -C, each file has tcpdump's header and
  the records, in order, are tcpdump's; the manifest, linecap-verify and the counters agree.
- A file that ends in the middle of a record: what came before it is written, exactly what
  tcpdump writes, then exit 1 with one line naming the file and the record.
- A file or directory linecap cannot read (missing, not a capture, not Ethernet, an empty
  directory), -r with -i, -G or --queues 2: exit 2, one line, nothing created."""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

VERIFY = os.path.join(os.path.dirname(os.environ["LINECAP"]), "linecap-verify")
FILTERS = ["", "tcp or vlan or udp port 53 or icmp6 or (ip and ip[6:2] & 0x3fff != 0)"]

t = e.Failures("test_read")
work = e.tmpdir()


def ethernet_files(c):
    """The corpus's files whose link type is Ethernet (MANIFEST.tsv), as paths."""
    out = []
    for line in open(os.path.join(c.path, "MANIFEST.tsv")):
        f = line.rstrip("\n").split("\t")
        if len(f) > 1 and f[1] == "EN10MB":
            out.append(os.path.join(c.path, "pcaps", f[0]))
    return out


seen = {}


def tcpdump(args, expr):
    """(exit status, what tcpdump --nano ARGS -w - EXPR writes, its stderr), once per args."""
    key = (tuple(args), expr)
    if key not in seen:
        seen[key] = tcpdump_run(args, expr)
    return seen[key]


def tcpdump_run(args, expr):
    # -Z root: tcpdump would open the later files of -V as the tcpdump user
    p = subprocess.run(["tcpdump", "--nano", "-Z", "root"] + args + ["-w", "-"] + ([expr] if expr else []),
                       capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def linecap(args, expr="", timeout=120):
    r = e.run_linecap(args + ([expr] if expr else []), timeout=timeout)
    return r


def shards(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if f.endswith(".pcap") and "-q00-" in f)


def expected(files, expr):
    """What linecap -r of files (in order) writes with expr, after tcpdump: the first file's
    header with the largest snapshot length of them all, then every file's records."""
    parts = [tcpdump(["-r", os.path.realpath(f)], expr)[1] for f in files]
    snap = max(struct.unpack("<I", p[16:20])[0] for p in parts)
    return parts[0][:16] + struct.pack("<I", snap) + parts[0][20:24] + \
        b"".join(p[24:] for p in parts)


def records(data):
    """The bytes after the 24-byte file header."""
    return data[24:]


# --- the corpora's Ethernet files that tcpdump reads whole, as one directory ---------------
clean, broken = [], []
for c in e.corpora():
    for f in ethernet_files(c):
        rc, _, err = tcpdump(["-r", os.path.realpath(f)], "")
        (clean if rc == 0 and not err.strip().startswith("tcpdump: pcap_loop")
         else broken).append(f)
src = os.path.join(work, "src")
os.mkdir(src)
for i, f in enumerate(clean):	# numbered: the directory's order is the list's (copies: a
    shutil.copyfile(f, os.path.join(src, f"{i:04d}-{os.path.basename(f)}"))  # link is skipped)
listed = [os.path.join(src, f"{i:04d}-{os.path.basename(f)}") for i, f in enumerate(clean)]
t.check(listed == sorted(os.path.join(src, n) for n in os.listdir(src)), "listed in order")
t.check(len(clean) >= 30, f"{len(clean)} Ethernet captures tcpdump reads whole "
        f"({len(broken)} it does not)")

for n, expr in enumerate(FILTERS):
    out = os.path.join(work, f"out{n}")
    stats = os.path.join(work, f"s{n}.json")
    r = linecap(["-r", src, "-w", out, "--stats-file", stats], expr)
    want = expected(listed, expr)
    got = shards(out) if os.path.isdir(out) else []
    t.check(r.returncode == 0, f"'{expr}': exit {r.returncode}: {r.stderr[-400:]}")
    t.check(len(got) == 1, f"'{expr}': one file: {got}")
    if len(got) == 1:
        data = open(got[0], "rb").read()
        t.check(data == want, f"'{expr}': linecap wrote {len(data)} bytes, tcpdump {len(want)}:"
                f" {'same header' if data[:24] == want[:24] else 'headers differ'}")
    s = e.stats(stats) if os.path.exists(stats) else {}
    kept = len(e.parse_pcap(want)["records"]) if want else -1
    t.check(s.get("written") == kept and s.get("passed_filter") == kept and
            s.get("buffer_full", 1) == 0, f"'{expr}': counters {s.get('written')} written, "
            f"tcpdump kept {kept}")
    if n == 0:
        total = kept
        v = subprocess.run([VERIFY, out], capture_output=True, text=True)
        t.check(v.returncode == 0 and "0 findings" in v.stdout, f"verify: {v.stdout[-300:]}")
        man = [json.loads(x) for x in open(os.path.join(out, "manifest.jsonl"))]
        files = [m for m in man if "file" in m]
        recs = e.parse_pcap(want)["records"]
        t.check(len(files) == 1 and files[0]["packets"] == total and
                files[0]["first_ns"] == min(x[0] for x in recs) and
                files[0]["last_ns"] == max(x[0] for x in recs),
                f"the manifest has the files' own times, earliest and latest: {files[:1]}")
        t.check("reading" in r.stderr and f"{len(listed)} files" in r.stderr,
                f"start-up line names what is read: {r.stderr[:600]}")
        # Each file read: its path, SHA-256, size and records, in reading order.
        src_recs = [m for m in man if "source" in m]
        per_file = [len(e.parse_pcap(tcpdump(["-r", os.path.realpath(f)], "")[1])["records"])
                    for f in listed]
        t.check([m["source"] for m in src_recs] == listed and
                all(m["sha256"] == hashlib.sha256(open(f, "rb").read()).hexdigest() and
                    m["bytes"] == os.path.getsize(f) and m["records"] == k and
                    m["read"] == "whole" for m, f, k in zip(src_recs, listed, per_file)),
                f"a source record per file read: {len(src_recs)} of {len(listed)}; "
                f"{src_recs[:1]}")
        t.check(files[0]["port"] == "file", f"the files' port: {files[0]['port']}")

# --- times that go back: linecap-query still finds every packet of a window ----------------
QUERY = os.path.join(os.path.dirname(os.environ["LINECAP"]), "linecap-query")
recs_of = {f: e.parse_pcap(tcpdump(["-r", os.path.realpath(f)], "")[1])["records"]
           for f in listed}
# Files of this century (a window near the epoch is not what this is about), by first time.
by_time = sorted((min(x[0] for x in r), f) for f, r in recs_of.items()
                 if len(r) > 3 and min(x[0] for x in r) >= 10**18)
early, late = (recs_of[by_time[0][1]], by_time[0][1]), (recs_of[by_time[-1][1]], by_time[-1][1])
out = os.path.join(work, "backwards")
r = linecap(["-r", late[1], "-r", early[1], "-w", out])
lo, hi = min(x[0] for x in early[0]) // 10**9, max(x[0] for x in early[0]) // 10**9 + 1
inside = sum(1 for recs, _ in (late, early) for x in recs if lo * 10**9 <= x[0] < hi * 10**9)
q = subprocess.run([QUERY, out, "--start", str(lo), "--end", str(hi), "-w",
                    os.path.join(work, "q.pcap")], capture_output=True, text=True, timeout=60)
got_q = len(e.read_pcap(os.path.join(work, "q.pcap"))["records"]) if q.returncode == 0 else -1
t.check(r.returncode == 0 and "not indexed" in r.stderr and got_q == inside and inside > 0,
        f"a window of times that went back ({late[1]} then {early[1]}, {lo}..{hi}): "
        f"linecap-query found {got_q} of {inside}: "
        f"{q.stderr[-300:]}")

# --- cut with -C: each file tcpdump's header, the records tcpdump's, in order --------------
out = os.path.join(work, "cut")
want = expected(listed, "")
csize = f"{max(len(want) / 3e6, 0.01):.3f}"	# three files or so, with or without ../shared
r = linecap(["-r", src, "-w", out, "-C", csize])
got = shards(out) if os.path.isdir(out) else []
body = b"".join(records(open(f, "rb").read()) for f in got)
t.check(r.returncode == 0 and len(got) >= 2 and body == records(want) and
        all(open(f, "rb").read(24) == want[:24] for f in got),
        f"-C {csize}: {len(got)} files, {len(body)} bytes of records (tcpdump {len(want) - 24})")

# --- -c N as tcpdump's: the first N kept; -r - reads standard input -----------------------
one = next(f for f in listed if os.path.basename(f).endswith("-dns_tcp.pcap"))
out = os.path.join(work, "count")
r = linecap(["-r", src, "-w", out, "-c", "5"], "tcp")
got = shards(out) if os.path.isdir(out) else []
first5 = e.parse_pcap(expected(listed, "tcp"))["records"][:5]
t.check(r.returncode == 0 and len(got) == 1 and
        e.read_pcap(got[0])["records"] == first5, f"-c 5: {r.returncode} {got}")
# A file whose header's snapshot length is not linecap's default, if the corpus has one.
one = next((f for f in listed if os.path.basename(f).endswith("-bad-caplen-over-snaplen.pcap")),
           one)
out = os.path.join(work, "stdin")
with open(one, "rb") as f:
    r = e.run([e.linecap_bin()] + e.test_buffer(["-r", "-", "-w", out]), 60, stdin=f)
got = shards(out) if os.path.isdir(out) else []
t.check(r.returncode == 0 and len(got) == 1 and
        open(got[0], "rb").read() == tcpdump(["-r", one], "")[1], f"-r -: {r.returncode} {got}")
if got:
    last = json.loads(open(os.path.join(out, "manifest.jsonl")).read().splitlines()[-1])
    t.check(last.get("source") == "-" and last.get("read") == "whole" and
            last.get("sha256") == hashlib.sha256(open(one, "rb").read()).hexdigest(),
            f"-r -: standard input's hash recorded: {last}")

# --- a directory's links, pipes and subdirectories named like captures: not read ------------
odd = os.path.join(work, "odd")
os.mkdir(odd)
shutil.copyfile(one, os.path.join(odd, "a.pcap"))
os.symlink(one, os.path.join(odd, "b.pcap"))
os.mkfifo(os.path.join(odd, "c.pcap"))
os.mkdir(os.path.join(odd, "d.pcap"))
out = os.path.join(work, "oddout")
r = linecap(["-r", odd, "-w", out], timeout=60)
got = shards(out) if os.path.isdir(out) else []
t.check(r.returncode == 0 and len(got) == 1 and
        open(got[0], "rb").read() == tcpdump(["-r", one], "")[1] and
        "3 names like a capture not read" in r.stderr,
        f"a directory's link, pipe and subdirectory are not read: {r.returncode} "
        f"{r.stderr[-500:]}")

before = sorted(os.listdir(odd))
r = linecap(["-r", odd, "-w", odd])
t.check(r.returncode == 2 and "the same directory" in r.stderr and
        sorted(os.listdir(odd)) == before, f"-r DIR -w DIR: {r.returncode} {r.stderr[-300:]}")

# --- a pipe by name (-r <(zcat f.gz)); a stop while it is silent ----------------------------
data = open(one, "rb").read()
rfd, wfd = os.pipe()
out = os.path.join(work, "pipe")
p = subprocess.Popen([e.linecap_bin()] + e.test_buffer(["-r", f"/dev/fd/{rfd}", "-w", out]),
                     pass_fds=(rfd,), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                     preexec_fn=e.die_with_parent)
os.close(rfd)
half = e.parse_pcap(data)["records"]
cut = 24 + sum(16 + len(x[3]) for x in half[:len(half) // 2])
os.write(wfd, data[:cut])	# the header and half the records, then silence
time.sleep(2)
t0 = time.monotonic()
rc, err = e.interrupt(p, timeout=30)
took = time.monotonic() - t0
os.close(wfd)
got = shards(out) if os.path.isdir(out) else []
n = len(e.read_pcap(got[0])["records"]) if len(got) == 1 else -1
srcs = [json.loads(x) for x in open(os.path.join(out, "manifest.jsonl")) if '"source"' in x] \
    if os.path.isdir(out) else []
t.check(rc == 0 and took < 5 and n == len(half) // 2 and
        [x.get("read") for x in srcs] == ["stopped"],
        f"a silent pipe: stopped in {took:.1f} s (exit {rc}), {n} of the {len(half) // 2} "
        f"records sent written, recorded {srcs}: {err[-400:]}")

# --- a file that ends in a record: what came before, then exit 1 ---------------------------
cut_short = [f for f in broken if os.path.basename(f) in
             ("cut-record-header.pcap", "derived-dns_tcp-cut.pcap", "cut-block.pcapng")]
for i, f in enumerate(cut_short):
    out = os.path.join(work, f"broken{i}")
    r = linecap(["-r", f, "-w", out])
    rc, want, _ = tcpdump(["-r", f], "")
    got = shards(out) if os.path.isdir(out) else []
    data = open(got[0], "rb").read() if len(got) == 1 else b""
    said = [x for x in r.stderr.splitlines() if x.startswith(f"linecap: -r {f}: record ")]
    srcs = [json.loads(x) for x in open(os.path.join(out, "manifest.jsonl"))
            if '"source"' in x] if os.path.isdir(out) else []
    t.check(len(srcs) == 1 and srcs[0]["read"] == "broken" and
            srcs[0]["bytes"] == os.path.getsize(f) and
            srcs[0]["records"] == len(e.parse_pcap(want)["records"]),
            f"{os.path.basename(f)}: recorded as broken, hashed whole: {srcs}")
    t.check(r.returncode == 1 and data == want and len(said) == 1,
            f"{os.path.basename(f)}: exit {r.returncode}, {len(data)} bytes (tcpdump "
            f"{len(want)}, exit {rc}), said: {said}")
t.check(len(cut_short) >= 1, f"a capture cut short to read: {cut_short}")

# --- a name that holds a newline forges no line of the log ----------------------------------
forged = os.path.join(work, "x\nlinecap: forged.pcap")
shutil.copyfile(one, forged)
r = linecap(["-r", forged, "-w", os.path.join(work, "forged")])
t.check(r.returncode == 0 and "x?linecap: forged.pcap" in r.stderr and
        not any(x.startswith("linecap: forged") for x in r.stderr.splitlines()),
        f"a newline in a name: {r.stderr[:400]}")

# --- -Z: the files are read as the user: one it cannot read is refused at start ------------
os.chmod(work, 0o711)
secret = os.path.join(work, "secret.pcap")
shutil.copyfile(one, secret)
os.chmod(secret, 0o600)
zout = os.path.join(work, "zdir")
os.mkdir(zout)
os.chmod(zout, 0o777)
r = linecap(["-Z", "nobody", "-r", secret, "-w", os.path.join(zout, "z")])
t.check(r.returncode == 2 and r.stderr.strip().splitlines() ==
        [f"linecap: -Z nobody: nobody cannot read {secret} (Permission denied): -r reads its "
         "files as that user"] and not os.listdir(zout), f"-Z: {r.returncode} {r.stderr}")
os.chmod(secret, 0o644)
r = linecap(["-Z", "nobody", "-r", secret, "-w", os.path.join(zout, "z")])
t.check(r.returncode == 0 and len(shards(os.path.join(zout, "z"))) == 1,
        f"-Z nobody reads a file it may read: {r.returncode} {r.stderr[-300:]}")

# --- refused: exit 2, one line, nothing created --------------------------------------------
raw = [f for c in e.corpora() for f in [os.path.join(c.path, "pcaps", "LINKTYPE_RAW_ipv4.pcap")]
       if os.path.exists(f)]
fifo = os.path.join(work, "fifo.pcap")
os.mkfifo(fifo)
notcap = os.path.join(work, "notes.txt")
with open(notcap, "w") as f:
    f.write("not a capture\n")
empty = os.path.join(work, "emptydir")
os.mkdir(empty)
sample = e.make_sample(work, 100)
bad = [
    (["-r", os.path.join(work, "missing.pcap")], "No such file"),
    (["-r", notcap], "notes.txt"),
    (["-r", fifo], "fifo.pcap: truncated dump file"),	# a pipe with no writer: no header
    (["-r", empty], "no .pcap or .pcapng file"),
    (["-r", sample, "-i", "net_null0"], "not both"),
    (["-r", sample, "-G", "60"], "-C"),
    (["-r", sample, "--queues", "2"], "one queue"),
] + [(["-r", f], "Ethernet") for f in raw[:1]]
for args, words in bad:
    out = os.path.join(work, "refused")
    r = linecap(args + ["-w", out])
    lines = r.stderr.strip().splitlines()
    t.check(r.returncode == 2 and len(lines) == 1 and words in lines[0] and
            not os.path.exists(out), f"{args}: exit {r.returncode}: {r.stderr.strip()[:300]}")
t.check(len(raw) >= 1, "a capture that is not Ethernet to refuse")

shutil.rmtree(work, ignore_errors=True)
t.done()
