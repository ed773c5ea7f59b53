#!/usr/bin/env python3
"""Live feeds (--feed), with the real clients: linecap-gen -> net_memif -> linecap, whose
PCAP-over-IP feeds are read by tshark -i TCP@127.0.0.1:PORT (every packet) and a second
tshark on a narrower feed, while hostile clients do their worst on the same and another feed
(one resets mid-stream, one never reads, one sends garbage, a thousand connect at once) and a
connect-mode feed reaches a collector that only starts listening after linecap (backoff,
reconnect) and asks for microsecond pcap. Checked: each tshark received exactly the packets
linecap wrote (same bytes, same order: one queue), the narrow one what tcpdump's filter keeps
of them; the capture lost nothing and its files verify; a stalled client is disconnected and
its losses counted per client; refused clients counted; the counters reach the summary, the
stats file and Prometheus (promtool check metrics); bad --feed specs exit 2 in one line."""
import os
import re
import resource
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

BIN = os.path.dirname(os.environ["LINECAP"])
GEN = os.path.join(BIN, "linecap-gen")
MERGE = os.path.join(BIN, "linecap-merge")
VERIFY = os.path.join(BIN, "linecap-verify")
PACKETS = int(os.environ.get("LC_FEED_PACKETS", "30000"))
NARROW = "udp and ip[19] & 3 = 1"	# about a quarter of linecap-gen's flows
HOSTILE_CLIENTS = 1000


def metrics(prom):
    with urllib.request.urlopen(f"http://127.0.0.1:{prom}/metrics", timeout=5) as r:
        return r.read().decode()


def gauge(body, name, feed):
    m = re.search(r'^linecap_%s\{feed="%s"\} (\d+)' % (name, re.escape(feed)), body, re.M)
    return int(m.group(1)) if m else None


def wait_clients(t, prom, feed, want, timeout=20):
    end = time.monotonic() + timeout
    n = None
    while time.monotonic() < end:
        try:
            n = gauge(metrics(prom), "feed_clients", feed)
        except OSError:
            n = None
        if n is not None and n >= want:
            return True
        time.sleep(0.2)
    return t.check(False, f"{feed}: {want} clients connected (Prometheus says {n})")


class Collector(threading.Thread):
    """A PCAP-over-IP server, as Arkime's pcap-over-ip-server reader: accepts one
    connection and keeps what it sends."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.data, self.ready = port, bytearray(), threading.Event()

    def run(self):
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.port))
        srv.listen(1)
        self.ready.set()
        c, _ = srv.accept()
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            self.data += b
        c.close()
        srv.close()


def hostile(t, port, stop):
    """Clients that misbehave: one never reads, one floods garbage, hundreds at once, one
    that resets. Returns the sockets (closed by the caller)."""
    socks = []
    quiet = socket.socket()		# never reads: stalls
    quiet.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    quiet.connect(("127.0.0.1", port))
    socks.append(quiet)
    junk = socket.create_connection(("127.0.0.1", port))

    def flood():
        blob = os.urandom(65536)
        while not stop.is_set():
            try:
                junk.sendall(blob)
                junk.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                return
    threading.Thread(target=flood, daemon=True).start()
    socks.append(junk)
    for _ in range(HOSTILE_CLIENTS):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError as exc:	# the backlog may fill: that is the point
            print(f"hostile connect: {exc}", file=sys.stderr)
            break
    return socks


def resetter(port, nbytes):
    """Read nbytes of the stream, then reset the connection (SO_LINGER 0)."""
    s = socket.create_connection(("127.0.0.1", port))
    got = 0
    while got < nbytes:
        b = s.recv(65536)
        if not b:
            break
        got += len(b)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return got


def records(path):
    if path.endswith(".pcapng"):	# tshark saves live captures as pcapng: to ns pcap
        subprocess.run(["editcap", "-F", "nsecpcap", path, path[:-2]], check=True)
        path = path[:-2]
    return [(r[0], r[3]) for r in e.read_pcap(path)["records"]]


def bad_specs(t, work):
    replay = e.make_sample(work, 100)
    for spec, why in (("70000", "the port must be 1..65535"),
                      ("1.2.3:80", "numeric IPv4"),
                      ("57012,nope", "unknown option"),
                      ("57012,snaplen=10", "snaplen"),
                      ("57012,connect,max-clients=4", "max-clients means nothing"),
                      ("57012,filter=hots 1.2.3.4", "syntax error"),
                      ("57012,filter=", "needs an expression"),
                      ("57012,filter=tcp,usec", "put it last"),
                      ("57012,buffer=64K", "Ki 1024")):
        out = os.path.join(work, "bad")
        p = e.run_linecap(["-i", f"net_pcap0,rx_pcap={replay}", "-w", out, "--feed", spec])
        lines = p.stderr.strip().splitlines()
        t.check(p.returncode == 2 and len(lines) == 1 and why in lines[0],
                f"--feed {spec}: exit {p.returncode}, {p.stderr[-300:]!r}")
        t.check(not os.path.exists(out), f"--feed {spec}: nothing written")
    # A port someone else holds: one line, exit 2, nothing written.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    busy = holder.getsockname()[1]
    out = os.path.join(work, "busy")
    p = e.run_linecap(["-i", f"net_pcap0,rx_pcap={replay}", "-w", out, "--feed", str(busy)])
    t.check(p.returncode == 2 and "cannot listen" in p.stderr and not os.path.exists(out),
            f"--feed on a busy port: exit {p.returncode}, {p.stderr[-300:]!r}")
    holder.close()


def main():
    t = e.Failures("test_feed")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)	# 1,000 clients at once
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    work = e.tmpdir()
    bad_specs(t, work)
    full, narrow, rough, up, prom = (e.free_port() for _ in range(5))
    sock = os.path.join(work, "memif.sock")
    out = os.path.join(work, "cap")
    st = os.path.join(work, "stats.json")
    col = Collector(up)
    cap = e.start_linecap(["-i", f"net_memif0,role=server,socket={sock}", "-w", out,
                           "--stats-file", st, "--prometheus", str(prom),
                           "--feed", str(full),
                           "--feed", f"{narrow},snaplen=96,filter={NARROW}",
                           "--feed", f"{rough},stall=1,buffer=64Ki,max-clients=50",
                           "--feed", f"127.0.0.1:{up},connect,usec"])
    time.sleep(1.5)		# linecap tries the collector before it listens: backoff
    col.start()
    col.ready.wait(5)
    tsh = [subprocess.Popen(["tshark", "-n", "-q", "-i", f"TCP@127.0.0.1:{port}", "-w",
                             os.path.join(work, f"t{port}.pcapng")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=e.die_with_parent) for port in (full, narrow)]
    ok = all(wait_clients(t, prom, f"127.0.0.1:{p}", 1) for p in (full, narrow))
    ok = ok and wait_clients(t, prom, f"->127.0.0.1:{up}", 1)
    stop = threading.Event()
    socks = hostile(t, rough, stop) if ok else []
    reset = {}
    rt = threading.Thread(target=lambda: reset.update(got=resetter(full, 200000)), daemon=True)
    rt.start()
    g = subprocess.Popen([GEN, "-i", f"net_memif0,role=client,socket={sock}", "-c",
                          str(PACKETS), "--imix", "--rate", str(PACKETS // 4), "--linger", "60"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         preexec_fn=e.die_with_parent)
    end, received = time.monotonic() + 60, 0
    while time.monotonic() < end and received < PACKETS:
        time.sleep(0.3)
        m = re.search(r'^linecap_received_packets_total\{queue="0"\} (\d+)', metrics(prom), re.M)
        received = int(m.group(1)) if m else 0
    t.check(received == PACKETS, f"linecap received {received} of {PACKETS}")
    rt.join(20)
    time.sleep(1.5)		# the stalled clients' second passes; the last records flush
    body = metrics(prom)
    time.sleep(1.1)		# the next per-second snapshot has every packet
    sock = e.telemetry_connect(cap.pid, t)
    tel = e.telemetry(sock, "/linecap/feeds")
    sock.close()
    f0 = tel.get("feed0", {}) if isinstance(tel, dict) else {}
    t.check(f0.get("feed") == f"127.0.0.1:{full}" and f0.get("sent", 0) >= PACKETS and
            any(isinstance(c, dict) and c.get("state") == "connected" and
                c.get("feed_drops") == 0 for c in f0.values()),
            f"telemetry /linecap/feeds: {str(tel)[:400]}")
    stop.set()
    rc, err = e.interrupt(cap)
    for s in socks:
        s.close()
    g.kill()
    g.wait()
    t.check(rc == 0, f"linecap exit {rc}: {err[-600:]}")
    for p in tsh:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            t.check(False, "tshark did not end when linecap closed the feed")
    col.join(10)
    print(err[-2500:], file=sys.stderr)

    s = e.stats(st)
    t.check(s["received"] == PACKETS and s["written"] == PACKETS and s["buffer_full"] == 0,
            f"the capture lost nothing: {s['received']} received, {s['written']} written")
    v = subprocess.run([VERIFY, out], capture_output=True, text=True)
    t.check(v.returncode == 0, f"linecap-verify: {v.stdout[-300:]}")
    merged = os.path.join(work, "merged.pcap")
    subprocess.run([MERGE, "-w", merged, out], check=True, capture_output=True)
    written = records(merged)
    got = records(os.path.join(work, f"t{full}.pcapng"))
    t.check(got == written, f"tshark on the full feed: {len(got)} packets, linecap wrote "
            f"{len(written)}; first difference at "
            f"{next((i for i, (a, b) in enumerate(zip(got, written)) if a != b), None)}")
    keep = subprocess.run(["tcpdump", "-n", "--time-stamp-precision=nano", "-r", merged,
                           "-w", "-", NARROW], capture_output=True, timeout=60).stdout
    want = [(r[0], r[3][:96]) for r in e.parse_pcap(keep)["records"]]
    got2 = records(os.path.join(work, f"t{narrow}.pcapng"))
    t.check(got2 == want and 0 < len(want) < PACKETS,
            f"tshark on the narrow feed (snaplen 96): {len(got2)} packets, tcpdump keeps "
            f"{len(want)}")

    feeds = {f["feed"]: f for f in s.get("feeds", [])}
    f1, f3 = feeds.get(f"127.0.0.1:{full}", {}), feeds.get(f"127.0.0.1:{rough}", {})
    tshark_row = [c for c in f1.get("client_list", []) if c["sent"] == PACKETS]
    t.check(len(tshark_row) == 1 and tshark_row[0]["feed_drops"] == 0,
            f"full feed: the tshark client sent everything, no drop: {f1}")
    t.check(reset.get("got", 0) >= 200000 and f1.get("clients") == 2,
            f"full feed: the resetting client read {reset.get('got')} bytes and left")
    t.check(f1.get("feed_drops") == 0 and "unsent_at_close" in f1,
            f"full feed: a client that leaves is not counted as drops: {f1}")
    stalled = [c for c in f3.get("client_list", []) if "stalled" in c["ended"]]
    t.check(stalled and all(c["feed_drops"] > 0 for c in stalled),
            f"rough feed: a client that never reads is disconnected with its drops: {f3}")
    t.check(f3.get("refused", 0) >= HOSTILE_CLIENTS - 50 and f3.get("feed_drops", 0) > 0,
            f"rough feed: refused past max-clients, drops counted: {f3.get('refused')}")
    t.check("feed 127.0.0.1:%d" % rough in err and "stalled" in err,
            "the summary shows the feeds and the stalled client")
    # The collector (connect mode, usec): a pcap stream of every packet.
    data = bytes(col.data)
    magic = struct.unpack("<I", data[:4])[0] if len(data) >= 24 else None
    n, off, us_ok = 0, 24, True
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        us_ok &= frac < 1000000
        off += 16 + incl
        n += 1
    t.check(magic == 0xa1b2c3d4 and us_ok and n == PACKETS,
            f"connect,usec collector: magic {magic and hex(magic)}, {n} packets")
    # Prometheus with feeds, checked by promtool.
    p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       text=True)
    t.check(p.returncode == 0, f"promtool check metrics: {p.stdout}{p.stderr}")
    t.check(gauge(body, "feed_drops_total", f"127.0.0.1:{rough}") not in (None, 0),
            "Prometheus counts the rough feed's drops")
    shutil.rmtree(work)
    t.done()


if __name__ == "__main__":
    main()
