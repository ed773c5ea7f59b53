#!/usr/bin/env python3
"""Stopping by signal (issue 12, defect 10). coreutils `timeout` signals linecap and then its
whole process group, so one stop request often arrives twice within microseconds; linecap
must take the copy as the same request, not as "end at once":
- `timeout --preserve-status -s INT 2 linecap ...` and `timeout --preserve-status 2 linecap
  ...` (SIGTERM), LC_STOP_ROUNDS times each, a few at a time: every run exits 0, prints the
  summary, leaves no .part file, and linecap-verify passes its directory;
- deterministic: SIGINT sent twice in a row (no sleep), and twice 50 ms apart (the copy
  arriving after the first was handled, as timeout's does when linecap is quick): exit 0;
- a real second request still ends it at once: SIGINT while the stop is slowed by a crawling
  disk (the fault shim), SIGINT again 1.5 s later: linecap dies of SIGINT promptly, its open
  file left as .part for linecap-verify --repair, as documented."""
import concurrent.futures
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

VERIFY = os.path.join(os.path.dirname(os.environ["LINECAP"]), "linecap-verify")
FAULT = os.environ.get("LC_FAULT_LIB", "")
ROUNDS = int(os.environ.get("LC_STOP_ROUNDS", "50"))
AT_ONCE = 6			# linecaps running side by side (each its own directory and EAL prefix)
EXPR = "host 192.168.1.100"	# light: about 1% of the sample kept
SUMMARY = "packets received in"
NOTICE = "send the signal again after 1 s to end at once"

t = e.Failures("test_stop_signals")
work = e.tmpdir()
sample = e.make_sample(work, 5000)
loop = f"net_pcap0,rx_pcap={sample},infinite_rx=1"
asan = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}


def closed_and_verified(out):
    """'' when out holds only closed files that linecap-verify passes, else what is wrong."""
    if not os.path.isdir(out):
        return "no output directory"
    part = [f for f in os.listdir(out) if f.endswith(".part")]
    if part:
        return f".part left: {part}"
    v = subprocess.run([VERIFY, out], capture_output=True, text=True, timeout=120)
    if v.returncode != 0 or "0 findings" not in v.stdout:
        return f"linecap-verify exit {v.returncode}: {v.stdout[-300:]}{v.stderr[-300:]}"
    return ""


def timeout_run(sig, n):
    """One `timeout --preserve-status [-s INT] 2 linecap ...`: '' if all is well."""
    out = os.path.join(work, f"{sig}{n}")
    cmd = ["timeout", "--preserve-status"] + (["-s", "INT"] if sig == "INT" else []) + \
        ["2", e.linecap_bin()] + e.test_buffer(["-i", loop, "-w", out, EXPR])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return f"exit {r.returncode}: {r.stderr[-400:]}"
    if SUMMARY not in r.stderr:
        return f"no summary: {r.stderr[-400:]}"
    return closed_and_verified(out)


# --- timeout -s INT 2 / timeout 2, ROUNDS times each, AT_ONCE at a time --------------------
for sig in ("INT", "TERM"):
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(AT_ONCE) as pool:
        found = list(pool.map(lambda n: timeout_run(sig, n), range(ROUNDS)))
    bad = [(n, f) for n, f in enumerate(found) if f]
    t.check(not bad, f"timeout -s {sig} 2: {len(bad)} of {ROUNDS} runs went wrong, "
            f"first: {bad[:1]}")
    print(f"timeout -s {sig} 2 linecap: {ROUNDS - len(bad)} of {ROUNDS} runs exited 0 with "
          f"their files closed and verified ({time.time() - t0:.0f} s)", file=sys.stderr)


def start(out, env=None, expr=(EXPR,)):
    """linecap on the looped sample, stderr to a file; (process, stderr path) once it runs."""
    log = out + ".err"
    with open(log, "w") as f:
        p = subprocess.Popen([e.linecap_bin()] +
                             e.test_buffer(["-i", loop, "-w", out] + list(expr)),
                             stdout=subprocess.DEVNULL, stderr=f,
                             env=dict(os.environ, **(env or {})),
                             preexec_fn=e.die_with_parent)
    end = time.time() + 60
    while time.time() < end and p.poll() is None and \
            "1s received" not in open(log).read():	# capturing, signals handled
        time.sleep(0.05)
    return p, log


def wait(p, secs):
    try:
        return p.wait(timeout=secs)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


# --- the same SIGINT twice: back to back, and 50 ms apart ----------------------------------
for gap in (0, 0.05):
    for n in range(2):
        label = f"SIGINT twice, {gap * 1000:.0f} ms apart, run {n}"
        out = os.path.join(work, f"twice{gap}-{n}")
        p, log = start(out)
        os.kill(p.pid, signal.SIGINT)
        if gap:
            time.sleep(gap)
        os.kill(p.pid, signal.SIGINT)
        rc = wait(p, 60)
        err = open(log).read()
        t.check(rc == 0, f"{label}: exit {rc}: {err[-400:]}")
        t.check(SUMMARY in err, f"{label}: summary printed")
        t.check(NOTICE in err, f"{label}: the first says how to force: {err[-400:]}")
        found = closed_and_verified(out)
        t.check(not found, f"{label}: {found}")

# --- a real second request, while the stop is slowed: ends at once -------------------------
out = os.path.join(work, "forced")
slow = dict(LD_PRELOAD=FAULT, LC_FAULT_PATH="/forced/", LC_FAULT_MODE="slow",
            LC_FAULT_US="600000", **asan)
p, log = start(out, slow, ())	# no filter: the buffer fills, the drain crawls
os.kill(p.pid, signal.SIGINT)
time.sleep(1.5)
t.check(p.poll() is None, f"forced: still draining 1.5 s after the first SIGINT (exit "
        f"{p.returncode}): the test needs a slow stop")
t1 = time.time()
os.kill(p.pid, signal.SIGINT)
rc = wait(p, 10)
took = time.time() - t1
err = open(log).read()
t.check(rc == -signal.SIGINT, f"forced: dies of SIGINT (status 130 in a shell): {rc}: "
        f"{err[-400:]}")
t.check(took < 3, f"forced: ended {took:.1f} s after the second SIGINT")
t.check(NOTICE in err and "ending at once" in err, f"forced: both notices: {err[-400:]}")
t.check(SUMMARY not in err, "forced: no summary")
t.check(any(f.endswith(".part") for f in os.listdir(out)), "forced: the open file stays .part")
v = subprocess.run([VERIFY, "--repair", out], capture_output=True, text=True, timeout=120)
t.check(v.returncode == 0 and "0 findings" in v.stdout, f"forced: linecap-verify --repair "
        f"closes it: {v.stdout[-300:]}{v.stderr[-300:]}")
print(f"forced: second SIGINT 1.5 s after the first: exit {rc} in {took:.2f} s", file=sys.stderr)

subprocess.run(["rm", "-rf", work])
t.done()
