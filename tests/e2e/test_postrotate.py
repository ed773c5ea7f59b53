#!/usr/bin/env python3
"""-z COMMAND (tcpdump's postrotate command; issue 15, item 3).

A replay cut into several files with -C: every file the manifest records gets exactly one
call, with its full final path last, and when the command runs the file is there under that
name (no .part left), whole (its SHA-256 is the manifest's). With -Z nobody the command runs
as nobody. A command that exits 3 is logged and counted as failed, and the capture completes
with every file intact (linecap-verify). A command that hangs is killed after
--postrotate-timeout, logged, and linecap ends promptly. A program that is not there is
refused at start (exit 2, one line, nothing made). Counts in the summary and the stats
file."""
import json
import os
import pwd
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

VERIFY = os.path.join(os.path.dirname(os.environ["LINECAP"]), "linecap-verify")

t = e.Failures("test_postrotate")
work = e.tmpdir()
os.chmod(work, 0o755)		# -Z nobody reaches the scripts and the output below
sample = e.make_sample(work, 20000)
replay = f"net_pcap0,rx_pcap={sample}"


def script(name, body):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return path


# $1: the log directory, $2: the file. One line per call: uid, is the file there, is a .part
# of it there, its SHA-256, its path.
RECORD = script("record.sh", """
f="$2"
there=absent; [ -f "$f" ] && there=present
part=no; [ -e "$f.part" ] && part=yes
sum=$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)
echo "$(id -u) $there $part ${sum:-none} $f" >> "$1/calls.log"
echo "$HOME $USER $LOGNAME" > "$1/env"
""")
FAIL = script("fail.sh", "exit 3")
HANG = script("hang.sh", "sleep 1000")


def logdir(name):
    d = os.path.join(work, name)
    os.mkdir(d)
    os.chmod(d, 0o777)		# written by the command, whoever it runs as
    return d


def manifest_files(out):
    """{full path: sha256} of the files the manifest records."""
    files = {}
    with open(os.path.join(out, "manifest.jsonl")) as f:
        for line in f:
            rec = json.loads(line)
            if "sha256" in rec and "file" in rec and "retired" not in rec:
                files[os.path.join(out, rec["file"])] = rec["sha256"]
    return files


def calls(log):
    path = os.path.join(log, "calls.log")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.split(" ", 4) for line in f.read().splitlines()]


def capture(name, zargs, extra=(), timeout=120):
    out = os.path.join(work, name)
    st = os.path.join(STATS, name + ".json")
    t0 = time.monotonic()
    r = e.run_linecap(["-i", replay, "-w", out, "-C", "0.3", "-s", "256", "--stats-file", st,
                       *zargs, *extra], timeout=timeout)
    secs = time.monotonic() - t0
    t.check(r.returncode == 0, f"{name}: exit {r.returncode}: {r.stderr[-800:]}")
    stats = e.stats(st) if os.path.exists(st) else {}
    return out, r, stats, secs


def intact(name, out):
    v = subprocess.run([VERIFY, out], capture_output=True, text=True)
    t.check(v.returncode == 0, f"{name}: linecap-verify exit {v.returncode}: {v.stdout[-500:]}")


def check_calls(name, out, log, uid):
    files = manifest_files(out)
    got = calls(log)
    t.check(len(files) >= 4, f"{name}: only {len(files)} files (want several)")
    by_path = {}
    for c in got:
        by_path.setdefault(c[4], []).append(c)
    t.check(set(by_path) == set(files),
            f"{name}: commands for {sorted(by_path)}, manifest has {sorted(files)}")
    for path, sha in files.items():
        cs = by_path.get(path, [])
        if not t.check(len(cs) == 1, f"{name}: {path}: {len(cs)} calls (want 1)"):
            continue
        u, there, part, got_sha, _ = cs[0]
        t.check(there == "present" and part == "no",
                f"{name}: {path}: when its command ran: {there}, .part {part}")
        t.check(got_sha == sha, f"{name}: {path}: whole when its command ran? sha "
                f"{got_sha} (manifest {sha})")
        t.check(u == str(uid), f"{name}: {path}: the command ran as uid {u} (want {uid})")
    return len(files)


STATS = logdir("stats")		# -Z nobody writes its stats file there


# 1. A command that records its arguments: one call per file, named and whole.
log = logdir("log1")
out, r, st, _ = capture("plain", ["-z", f"{RECORD} {log}"])
n = check_calls("plain", out, log, os.geteuid())
t.check(st.get("postrotate_run") == n and st.get("postrotate_failed") == 0 and
        st.get("postrotate_timed_out") == 0, f"plain: stats {st.get('postrotate_run')} run, "
        f"{st.get('postrotate_failed')} failed, {st.get('postrotate_timed_out')} timed out; "
        f"{n} files")
t.check(f"-z: {n} run, 0 failed, 0 timed out" in r.stderr, f"plain: summary: {r.stderr[-600:]}")
t.check(r.stderr.count(": exit 0 in ") == n, f"plain: {r.stderr.count(': exit 0 in ')} "
        f"'exit 0' lines for {n} files")
intact("plain", out)

# 2. As -Z nobody: the command runs as nobody, not root.
if os.geteuid() == 0:
    nobody = pwd.getpwnam("nobody")
    log = logdir("log2")
    out, r, st, _ = capture("asnobody", ["-z", f"{RECORD} {log}", "-Z", "nobody"])
    n = check_calls("-Z nobody", out, log, nobody.pw_uid)
    t.check(st.get("postrotate_run") == n and st.get("postrotate_failed") == 0,
            f"-Z nobody: stats {st}")
    with open(os.path.join(log, "env")) as f:
        env = f.read().split()
    t.check(env == [nobody.pw_dir, "nobody", "nobody"],
            f"-Z nobody: the command's HOME USER LOGNAME are nobody's: {env}")
else:
    print("not root: -Z nobody not tried", file=sys.stderr)

# 3. A command that fails: logged, counted; the capture completes, its files intact.
out, r, st, _ = capture("failing", ["-z", FAIL])
n = len(manifest_files(out))
t.check(n >= 4, f"failing: {n} files")
t.check(r.stderr.count(f"-z: {FAIL} {out}/") == n and r.stderr.count(": exited 3 after") == n,
        f"failing: 'exited 3' lines: {r.stderr.count(': exited 3 after')} for {n} files: "
        f"{r.stderr[-600:]}")
t.check(st.get("postrotate_run") == n and st.get("postrotate_failed") == n and
        st.get("written") == 20000, f"failing: stats {st}")
t.check(f"-z: {n} run, {n} failed, 0 timed out" in r.stderr, f"failing: summary {r.stderr[-400:]}")
intact("failing", out)

# 4. A command that hangs: killed after --postrotate-timeout 1, logged; linecap ends promptly
# (-C 1: a few files, 4 at a time: a second or two of commands, not 1000 s).
out, r, st, secs = capture("hanging", ["-z", HANG, "--postrotate-timeout", "1",
                                       "--postrotate-jobs", "4"], ["-C", "1"], timeout=90)
n = len(manifest_files(out))
t.check(n >= 2, f"hanging: {n} files")
t.check(r.stderr.count(": timed out after 1 s, killed") == n,
        f"hanging: {r.stderr.count(': timed out after 1 s, killed')} 'timed out' lines for "
        f"{n} files: {r.stderr[-600:]}")
t.check("waiting for " in r.stderr and " -z command" in r.stderr,
        f"hanging: no 'waiting for N -z commands' line: {r.stderr[-600:]}")
t.check(st.get("postrotate_timed_out") == n and st.get("postrotate_run") == n,
        f"hanging: stats {st}")
t.check(secs < 45, f"hanging: linecap took {secs:.1f} s to end")
left = subprocess.run(["pgrep", "-f", f"^/bin/sh {HANG}"], capture_output=True, text=True)
t.check(left.stdout.strip() == "", f"hanging: commands left running: {left.stdout}")
intact("hanging", out)

# 5. A relative -w, and -W 3 retiring files while their commands wait (one job, slow): each
# command gets the file's full path; a file retired before its turn gets no command, and
# the log says so; every file is either called or said.
SLOW = script("slow.sh", 'echo "$2" >> "$1/calls.log"\nsleep 0.5')
log = logdir("log5")
r = subprocess.run([e.linecap_bin(), *e.test_buffer(
    ["-i", replay, "-w", "ring", "-C", "0.2", "-W", "3", "-s", "256", "-z", f"{SLOW} {log}",
     "--postrotate-jobs", "1"])], cwd=work, capture_output=True, text=True, timeout=120,
    preexec_fn=e.die_with_parent)
t.check(r.returncode == 0, f"ring: exit {r.returncode}: {r.stderr[-800:]}")
ring = os.path.join(work, "ring")
with open(os.path.join(ring, "manifest.jsonl")) as f:
    recorded = [os.path.join(ring, rec["file"]) for rec in map(json.loads, f)
                if "sha256" in rec and "file" in rec and "retired" not in rec]
called = []
if os.path.exists(os.path.join(log, "calls.log")):
    with open(os.path.join(log, "calls.log")) as f:
        called = f.read().splitlines()
gone = [p for p in recorded if f"-z: {p}: deleted before its command could run" in r.stderr]
t.check(len(recorded) >= 8, f"ring: {len(recorded)} files recorded (want several)")
t.check(all(c.startswith(ring + "/") for c in called),
        f"ring: commands got paths {called[:3]} (want full paths under {ring})")
t.check(len(gone) > 0, f"ring: no file said retired before its command: {r.stderr[-600:]}")
t.check(sorted(called + gone) == sorted(recorded),
        f"ring: {len(called)} called + {len(gone)} said gone, {len(recorded)} recorded")
t.check(f"-z: {len(recorded)} run, {len(gone)} failed, 0 timed out" in r.stderr,
        f"ring: summary {r.stderr[-400:]}")

# 6. A program that is not there: refused at start, one line, nothing made.
out = os.path.join(work, "refused")
r = e.run_linecap(["-i", replay, "-w", out, "-z", "no-such-program-zz -9"])
t.check(r.returncode == 2 and r.stderr == "linecap: -z 'no-such-program-zz -9': "
        "no-such-program-zz: not found in PATH (the command is split on blanks: no shell, no "
        "quoting)\n", f"refused: {r.returncode} {r.stderr!r}")
t.check(not os.path.exists(out), "refused: the output directory was made")

# 7. A program the -Z user may not run: refused at start as well, not a failure per file.
if os.geteuid() == 0:
    private = script("private.sh", "exit 0")
    os.chmod(private, 0o700)
    out = os.path.join(work, "private")
    r = e.run_linecap(["-i", replay, "-w", out, "-Z", "nobody", "-z", private])
    t.check(r.returncode == 2 and r.stderr.count("\n") == 1 and
            f"nobody cannot run {private}" in r.stderr, f"-Z: {r.returncode} {r.stderr!r}")
    t.check(not os.path.exists(out), "-Z refused: the output directory was made")

t.done()
