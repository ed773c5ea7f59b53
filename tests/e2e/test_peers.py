#!/usr/bin/env python3
"""No peer ends or stalls the capture. (a) Prometheus clients that reset the connection
(SO_LINGER 0) or send a request and close before reading, and telemetry clients that leave
before their reply: linecap keeps capturing, still answers, exits 0 at --duration, and its
files verify. (b) A slow-loris client (a byte every 1.5 s, reconnecting when dropped) and
1,000 idle connections: a real GET /metrics is answered within 1 s, and linecap exits within
1 s (plus a margin for stopping the capture) of --duration. (c) /metrics passes
`promtool check metrics` (skipped, and said so, where promtool is not installed). Both
linecap and linecap-gen ignore SIGPIPE."""
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

with open(e.linecap_bin(), "rb") as _f:
    ASAN = b"__asan_init" in _f.read()		# the sanitizer build: slower
SCRAPE_LIMIT = 1.0 if not ASAN else 2.0	# seconds for a real scrape beside the attack
# linecap must stop within 1 s of --duration whatever the clients do; stopping the capture
# itself (drain, fsync, hash, rename, EAL) takes a little on a loaded 2-CPU machine.
STOP_LIMIT = 1.0 + (1.0 if not ASAN else 3.0)
EXPR = "host 192.168.1.100 and port 443"	# 1% of the sample: little disk
LINGER0 = struct.pack("ii", 1, 0)

t = e.Failures("test_peers")
work = e.tmpdir()
sample = e.make_sample(work, 20000)
loop = f"net_pcap0,rx_pcap={sample},infinite_rx=1"
verify_bin = os.path.join(os.path.dirname(e.linecap_bin()), "linecap-verify")

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
if soft != resource.RLIM_INFINITY and soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
IDLE = 1000 if want >= 1100 else want - 100


class Linecap:
    """A running linecap whose stderr lines and exit are timed as they happen."""

    def __init__(self, args):
        self.lines, self.cond = [], threading.Condition()
        self.p = e.start_linecap(args)
        self.exit_at = None
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self.p.stdout.read, daemon=True).start()

    def _read(self):
        for line in self.p.stderr:
            with self.cond:
                self.lines.append((time.monotonic(), line))
                self.cond.notify_all()
        self.p.wait()
        with self.cond:
            self.exit_at = time.monotonic()
            self.cond.notify_all()

    def wait_line(self, text, timeout=60):
        """When the first line holding text was written (None if not within timeout)."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for at, line in self.lines:
                    if text in line:
                        return at
                if self.exit_at is not None or time.monotonic() >= end:
                    return None
                self.cond.wait(0.1)

    def wait_exit(self, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while self.exit_at is None and time.monotonic() < end:
                self.cond.wait(0.1)
        return self.exit_at

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.wait_exit(30)

    def stderr(self):
        with self.cond:
            return "".join(line for _, line in self.lines)


def scrape(port, timeout=5.0, path="/metrics"):
    """(seconds, status line, body) of one GET over a fresh connection; raises on a timeout."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        data = b""
        while True:
            s.settimeout(max(0.01, timeout - (time.monotonic() - t0)))
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return time.monotonic() - t0, head.split(b"\r\n")[0].decode(errors="replace"), body


def files_ok(out, what):
    names = os.listdir(out) if os.path.isdir(out) else []
    t.check(not [n for n in names if n.endswith(".part")], f"{what}: no .part left: {names}")
    try:
        with open(os.path.join(out, "manifest.jsonl")) as f:
            recorded = [line for line in f if line.strip()]
    except OSError:
        recorded = []
    t.check(recorded, f"{what}: the manifest records the files: {names}")
    v = subprocess.run([verify_bin, out], capture_output=True, text=True, timeout=120)
    t.check(v.returncode == 0, f"{what}: linecap-verify exit {v.returncode}: {v.stdout[-300:]}")


def rst_client(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    s.close()


def ask_and_leave(port, reset):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    if reset:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    s.close()


def raw_request(port, data, timeout=5.0):
    """(status line, headers, body) of data sent as is, then our side shut (EOF)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    finally:
        s.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    return lines[0], lines[1:], body


def telemetry_leave(pid, ask):
    """A telemetry client that leaves before its hello (ask False) or its reply (ask True)."""
    path = f"/var/run/dpdk/linecap_{pid}/dpdk_telemetry.v2"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(path)
        if ask:
            s.send(b"/linecap/stats")
    except OSError:
        pass	# the telemetry thread is busy with the one before: nothing to leave
    s.close()


def sigpipe_ignored(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            ign = next(line for line in f if line.startswith("SigIgn:"))
    except (OSError, StopIteration):
        return False
    return bool(int(ign.split()[1], 16) & (1 << (13 - 1)))


def promtool_check(body):
    promtool = shutil.which("promtool")
    if promtool is None:
        print("test_peers: (c) skipped: promtool is not installed (Debian: prometheus)",
              file=sys.stderr)
        return
    r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                       timeout=60)
    t.check(r.returncode == 0, f"promtool check metrics: exit {r.returncode}: "
            f"{(r.stdout + r.stderr)[-400:]!r}")


# --- (a) clients that reset or leave early ---------------------------------------------
port = e.free_port()
out = os.path.join(work, "a")
lc = Linecap(["-i", loop, "-w", out, "--duration", "6", "--prometheus", f"127.0.0.1:{port}",
              "-C", "1", EXPR])
started = lc.wait_line("Prometheus metrics at")
t.check(started is not None, f"(a) linecap serves metrics: {lc.stderr()[-400:]}")
if started is not None:
    time.sleep(1.5)	# the first snapshot is published a second after the start
    try:
        took, status, body = scrape(port)
        t.check(status.endswith("200 OK") and b"linecap_received_packets_total{" in body,
                f"(a) a scrape before: {status} {body[:200]!r}")
        promtool_check(body)		# (c)
    except OSError as exc:
        t.check(False, f"(a) a scrape before: {exc}")
    rst_client(port)	# one client alone first: its log line says "1 client"
    time.sleep(1.0)
    for i in range(20):
        try:
            rst_client(port)
            ask_and_leave(port, reset=i % 2 == 0)
            telemetry_leave(lc.p.pid, ask=i % 2 == 0)
        except OSError as exc:
            t.check(False, f"(a) client {i} could not connect: {exc}")
            break
    time.sleep(0.5)
    t.check(lc.p.poll() is None, f"(a) linecap outlives the clients: exit {lc.p.poll()}")
    t.check(sigpipe_ignored(lc.p.pid), "(a) linecap ignores SIGPIPE")
    try:
        took, status, body = scrape(port)
        t.check(status.endswith("200 OK") and b"linecap_written_packets_total{" in body,
                f"(a) a scrape after: {status} {body[:200]!r}")
    except OSError as exc:
        t.check(False, f"(a) a scrape after: {exc}")
    try:	# HEAD: the headers of GET, no body
        status, headers, body = raw_request(port, b"HEAD /metrics HTTP/1.0\r\n\r\n")
        length = [h for h in headers if h.lower().startswith("content-length:")]
        t.check(status.endswith("200 OK") and body == b"" and length and
                int(length[0].split(":")[1]) > 0, f"(a) HEAD /metrics: {status} {headers} "
                f"{body[:100]!r}")
    except OSError as exc:
        t.check(False, f"(a) HEAD /metrics: {exc}")
    try:	# a request line cut by EOF (no newline) is answered all the same
        status, _, body = raw_request(port, b"GET /metrics HTTP/1.0")
        t.check(status.endswith("200 OK") and b"linecap_written_packets_total{" in body,
                f"(a) a request line without its newline, then EOF: {status!r} "
                f"{body[:100]!r}")
    except OSError as exc:
        t.check(False, f"(a) a request line without its newline: {exc}")
ended = lc.wait_exit(60)
if ended is None:
    lc.kill()
t.check(lc.p.returncode == 0, f"(a) exit {lc.p.returncode} (-13: SIGPIPE): "
        f"{lc.stderr()[-400:]}")
files_ok(out, "(a)")
warned = [line for line in lc.stderr().splitlines() if "Prometheus endpoint:" in line]
t.check(len(warned) == 1 and "reset or left before their reply" in warned[0],
        f"(a) the clients' failures logged once (at most once a minute): {warned}")
t.check(len(warned) == 1 and "Prometheus endpoint: 1 client reset" in warned[0],
        f"(a) the first client alone logged as '1 client' (not '1 clients'): {warned}")

# --- (b) a slow loris and 1,000 idle connections ---------------------------------------
port = e.free_port()
out = os.path.join(work, "b")
DURATION = 8
lc = Linecap(["-i", loop, "-w", out, "--duration", str(DURATION), "--prometheus",
              f"127.0.0.1:{port}", EXPR])
started = lc.wait_line("Prometheus metrics at")
t.check(started is not None, f"(b) linecap serves metrics: {lc.stderr()[-400:]}")
stop = threading.Event()
loris_conns = [0]


def slow_loris():
    """A byte every 1.5 s of a request that never ends; connect again when dropped."""
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            stop.wait(0.2)
            continue
        loris_conns[0] += 1
        try:
            for b in b"GET /metrics?" + b"a" * 100000:
                s.send(bytes([b]))
                if stop.wait(1.5):
                    break
        except OSError:
            pass
        s.close()


idle = []
if started is not None:
    loris = threading.Thread(target=slow_loris, daemon=True)
    loris.start()
    time.sleep(0.3)		# the slow loris is in first
    for _ in range(IDLE):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        idle.append(s)
    time.sleep(1.0)
    worst = 0.0
    for i in range(3):
        try:
            took, status, body = scrape(port, timeout=6)
            ok = status.endswith("200 OK") and b"linecap_received_packets_total{" in body
            t.check(ok, f"(b) scrape {i}: {status} {body[:200]!r}")
            worst = max(worst, took if ok else 99)
        except OSError as exc:
            t.check(False, f"(b) scrape {i} beside a slow loris and {IDLE} idle "
                    f"connections: {exc}")
            worst = 99
        time.sleep(0.5)
    print(f"test_peers: slowest scrape beside the attack {worst:.3f} s", file=sys.stderr)
    t.check(worst <= SCRAPE_LIMIT, f"(b) /metrics answered within {SCRAPE_LIMIT} s: "
            f"{worst:.3f} s")
    ended = lc.wait_exit(DURATION + 20)
    if ended is None:
        overrun = None
    else:
        overrun = ended - started - DURATION
        print(f"test_peers: exit {overrun:+.3f} s after --duration; the slow loris "
              f"connected {loris_conns[0]} times", file=sys.stderr)
    t.check(overrun is not None and overrun <= STOP_LIMIT,
            f"(b) exit within {STOP_LIMIT} s of --duration {DURATION}: "
            f"{'never' if overrun is None else f'{overrun:.3f} s late'}")
    t.check(loris_conns[0] >= 2, f"(b) the slow loris was dropped and came back: "
            f"{loris_conns[0]} connections")
stop.set()
for s in idle:
    s.close()
if lc.wait_exit(30) is None:
    lc.kill()
t.check(lc.p.returncode == 0, f"(b) exit {lc.p.returncode}: {lc.stderr()[-400:]}")
files_ok(out, "(b)")

# --- linecap-gen ignores SIGPIPE too (a memif peer that leaves) ----------------------------
gen = subprocess.Popen([os.path.join(os.path.dirname(e.linecap_bin()), "linecap-gen"), "-i",
                        "net_null0", "--rate", "1000", "--duration", "3"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
seen = False
end = time.monotonic() + 30
while not seen and gen.poll() is None and time.monotonic() < end:
    time.sleep(0.2)
    seen = sigpipe_ignored(gen.pid)
_, gen_err = gen.communicate(timeout=60)
t.check(seen, f"linecap-gen ignores SIGPIPE (exit {gen.returncode}: {gen_err[-300:]})")

shutil.rmtree(work, ignore_errors=True)
t.done()
