#!/usr/bin/env python3
"""Operating linecap: a config file drives a real capture (the command line wins), a bad one
is refused with FILE:LINE and nothing is made, --print-config needs no port; the telemetry
commands answer over the real socket with numbers that agree and grow; the Prometheus
endpoint serves the same counters on localhost; -Z drops root (files owned by the user, mode
0640, the process no longer root, telemetry still answering); --check-disk measures the
capture directory and leaves nothing; the start-up lines show NUMA placement."""
import grp
import os
import pwd
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

t = e.Failures("test_operations")
work = e.tmpdir()
sample = e.make_sample(work, 20000)
replay = f"net_pcap0,rx_pcap={sample}"
loop = f"net_pcap0,rx_pcap={sample},infinite_rx=1"


def write(name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# --- a config file drives a capture; the command line wins --------------------------------
out = os.path.join(work, "cfgcap")
ini = write("a.ini", f"""# test
[capture]
interface = {replay}
snaplen = 96            # cut records here
filter = tcp
[output]
write = {os.path.join(work, "never")}
[log]
verbose = 0
""")
r = e.run_linecap(["--config", ini, "-w", out])
t.check(r.returncode == 0, f"config capture exit {r.returncode}: {r.stderr[-300:]}")
t.check(not os.path.exists(os.path.join(work, "never")), "the command line's -w wins")
files = e.shard_files(out) if os.path.isdir(out) else []
t.check(len(files) == 1, f"one shard from the config capture: {files}")
want = e.tcpdump_keep(sample, "tcp")
if files and want is not None:
    got = e.read_pcap(files[0])["records"]
    t.check(len(got) == len(want), f"config filter 'tcp': {len(got)} vs tcpdump {len(want)}")
    t.check(got and max(rec[1] for rec in got) <= 96, "config snaplen 96 applied")

# --- a bad file: FILE:LINE, exit 2, nothing made -----------------------------------------
bad = write("bad.ini", "[capture]\ninterface = x\n\n[output]\nfile-size = huge\n")
out2 = os.path.join(work, "badcap")
r = e.run_linecap(["--config", bad, "-w", out2])
t.check(r.returncode == 2, f"bad config exit {r.returncode}")
t.check(f"{bad}:5: file-size 'huge'" in r.stderr and r.stderr.count("\n") == 1,
        f"bad config message: {r.stderr!r}")
t.check(not os.path.exists(out2), "nothing made for a bad config")

# --- --print-config: no port, round trip ---------------------------------------------------
r = e.run_linecap(["--config", ini, "-s", "128", "--print-config"])
t.check(r.returncode == 0 and "snaplen = 128" in r.stdout and "filter = tcp" in r.stdout,
        f"print-config: {r.returncode} {r.stdout[:300]!r}")
again = write("again.ini", r.stdout)
r2 = e.run_linecap(["--config", again, "--print-config"])
t.check(r2.stdout.split("\n", 1)[1] == r.stdout.split("\n", 1)[1],
        "print-config output read back prints the same")

# --- -Z needs an output directory the user can reach --------------------------------------
nobody = pwd.getpwnam("nobody")
os.chmod(work, 0o700)
r = e.run_linecap(["-i", replay, "-w", os.path.join(work, "unreachable"), "-Z", "nobody"])
t.check(r.returncode == 2 and f"nobody cannot reach {work}" in r.stderr,
        f"-Z with an unreachable directory: {r.returncode} {r.stderr!r}")
t.check(not os.path.exists(os.path.join(work, "unreachable")), "nothing made")
os.chmod(work, 0o755)

# --- telemetry and Prometheus while capturing, as another user ------------------------------
out3 = os.path.join(work, "live")
port = 20000 + os.getpid() % 20000
p = e.start_linecap(["-i", loop, "-w", out3, "-Z", "nobody", "--prometheus",
                     f"127.0.0.1:{port}", "-C", "20", "-B", "4M"])
sock = e.telemetry_connect(p.pid, t)
time.sleep(2.5)
first = e.telemetry(sock, "/linecap/stats")
time.sleep(1.2)
st = e.telemetry(sock, "/linecap/stats")
qs = e.telemetry(sock, "/linecap/queues")
ws = e.telemetry(sock, "/linecap/writers")
for _ in range(40):	# a file is open but for a moment at each cut (the snapshot: each second)
    if ws.get("w0", {}).get("file_q0"):
        break
    time.sleep(0.1)
    ws = e.telemetry(sock, "/linecap/writers")
pt = e.telemetry(sock, "/linecap/port")
cf = e.telemetry(sock, "/linecap/config")
t.check("received" in first and st.get("received", 0) > first.get("received", 0) > 0,
        f"stats grow: {first} then {st}")
t.check(st.get("received", 0) >= st.get("passed_filter", 1) >= st.get("written", 1) > 0,
        f"stats consistent: {st}")
drops = st.get("drops", {})
t.check(set(drops) >= {"buffer_full", "write_errors", "port_imissed", "port_rx_nombuf"},
        f"drops by reason: {drops}")
t.check(st.get("received_pps", 0) > 0 and st.get("bytes_on_disk", 0) > 0,
        f"rates and bytes on disk: {st}")
q0 = qs.get("q0", {})
t.check(q0.get("buffer_size") == 4 << 20 and q0.get("received", 0) > 0 and "buffer_used" in q0,
        f"queue 0: {q0}")
w0 = ws.get("w0", {})
t.check(str(w0.get("file_q0", "")).endswith(".pcap.part") and w0.get("written", 0) > 0,
        f"writer 0 with its open file: {w0}")
t.check(pt.get("link", "").startswith("Link up") and "imissed" in pt, f"port: {pt}")
t.check(cf.get("interface") == loop and cf.get("user") == "nobody"
        and cf.get("file_size") == "20" and cf.get("buffer_size") == "4M",
        f"config over telemetry: {cf}")
status = open(f"/proc/{p.pid}/status").read()
uid = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M)
t.check(uid and all(int(x) == nobody.pw_uid for x in uid.groups()),
        f"running as nobody: {uid.groups() if uid else status[:200]}")
try:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
except OSError as exc:
    body = ""
    t.check(False, f"prometheus: {exc}")
m = re.search(r'^linecap_received_packets_total\{queue="0"\} (\d+)$', body, re.M)
t.check(m and int(m.group(1)) >= st["received"], f"prometheus received: {body[:200]!r}")
t.check('linecap_port_drops_total{reason="imissed"}' in body, "prometheus drops by reason")
try:
    urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)
    t.check(False, "prometheus answers only /metrics")
except urllib.error.HTTPError as exc:
    t.check(exc.code == 404, f"prometheus /other: {exc.code}")
rc, err = e.interrupt(p)
sock.close()
t.check(rc == 0, f"-Z capture exit {rc}: {err[-300:]}")
t.check("running as nobody" in err and "EAL:" not in err, f"-Z messages: {err[-400:]}")
t.check("NUMA:" in err and re.search(r"queue 0 on lcore \d+ \(cpu \d+, socket \d+\)", err),
        "placement printed at start")
for f in os.listdir(out3):
    s = os.stat(os.path.join(out3, f))
    t.check(s.st_uid == nobody.pw_uid and (s.st_mode & 0o777) == 0o640,
            f"{f}: uid {s.st_uid} mode {oct(s.st_mode & 0o777)}")
t.check(len(os.listdir(out3)) >= 3, f"files rotated as nobody: {os.listdir(out3)}")
v = subprocess.run([os.path.join(os.path.dirname(e.linecap_bin()), "linecap-verify"), out3],
                   capture_output=True, text=True)
t.check(v.returncode == 0, f"verify after -Z: {v.stdout[-300:]}")

# --- bad -Z and --prometheus: exit 2, nothing made ------------------------------------------
for args, msg in ((["-Z", "no_such_user_here"], "-Z no_such_user_here: no such user"),
                  (["-Z", "root"], "that is root"),
                  (["--prometheus", "99999"], "--prometheus 99999: the port must be"),
                  (["--prometheus", "1.2.3:80"], "is not an IPv4 address")):
    out4 = os.path.join(work, "never2")
    r = e.run_linecap(["-i", replay, "-w", out4] + args)
    t.check(r.returncode == 2 and msg in r.stderr, f"{args}: {r.returncode} {r.stderr!r}")
    t.check(not os.path.exists(out4), f"{args}: nothing made")

# --- --status-interval --------------------------------------------------------------------
for interval, secs, want in (("0", "1.5", []), ("2", "2.5", ["2s"])):
    out6 = os.path.join(work, f"status{interval}")
    r = e.run_linecap(["-i", loop, "-w", out6, "--duration", secs, "--status-interval",
                       interval, "host 10.99.99.99"])
    lines = re.findall(r"^linecap: (\d+s) received", r.stderr, re.M)
    t.check(r.returncode == 0 and lines == want,
            f"--status-interval {interval}: status lines {lines}, want {want}")

# --- --check-disk ---------------------------------------------------------------------------
out5 = os.path.join(work, "disk")
r = e.run_linecap(["-i", loop, "-w", out5, "--check-disk"], timeout=120)
m = re.search(r"([\d.]+) GB written and synced in ([\d.]+) s .*: ([\d.]+) GB/s sustained",
              r.stderr)
t.check(m is not None, f"check-disk report: {r.stderr[-400:]!r}")
need = re.search(r"needs up to ([\d.]+) GB/s: (.*)", r.stderr)
if m and need:
    have, want = float(m.group(3)), float(need.group(1))
    ok = {0} if have > want + 0.01 else {1} if have < want - 0.01 else {0, 1}  # rounding
    t.check(r.returncode in ok,
            f"check-disk exit {r.returncode} agrees with {m.group(3)} vs {need.group(1)}")
t.check(os.path.isdir(out5) and not [f for f in os.listdir(out5) if f != "manifest.jsonl"],
        f"check-disk leaves no file: {os.listdir(out5) if os.path.isdir(out5) else None}")

shutil.rmtree(work, ignore_errors=True)
t.done()
