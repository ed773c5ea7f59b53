"""End-to-end: -i NAME of a kernel interface, as a tcpdump user types it (issue 16).

A network namespace of our own holds a veth pair lcX0/lcX1 (no IP: raw frames only, nothing
leaves the namespace). linecap-gen sends tagged frames into lcX0 through DPDK's af_packet;
linecap captures them on lcX1 given by its kernel name:
  - `-i lcX1`, an interface without addresses (a capture port), goes through AF_XDP (the
    start-up line says so), every frame written exactly once (linecap-seqcheck --sent), and
    no "mbufs never came back" warning at exit (the AF_XDP driver keeps its fill ring until
    the port closes: not a loss);
  - `-i af_packet:lcX1` forces the AF_PACKET path, with the tcpdump reflexes -n -nn -U -p;
  - `-i N` (lcX1's line in linecap -D) `--mbufs 1024` (too few for AF_XDP's fill ring)
    falls back to AF_PACKET by itself, the start-up line saying why;
  - the host's own interface: lcH1 has the address 10.99.7.1/24, its peer lcH0 10.99.7.2/24
    in a second namespace. `-i lcH1` goes through AF_PACKET, saying why; while it captures,
    the host still answers lcH0's pings (ARP and ICMP reach the kernel: AF_XDP would take
    them), and the file holds both directions (the requests and the host's replies).
    `-i af_xdp:lcH1` is obeyed, with a warning that the host loses its traffic on lcH1;
  - linecap leaves promiscuous mode as it found it: an interface an admin made promiscuous
    stays so while linecap runs (with -p too: -p only means "do not turn it on") and after
    it exits, through AF_XDP and AF_PACKET; one that was not is not left so;
  - without -v, no libbpf/libxdp chatter ("libbpf: elf: skipping ...") on stderr;
  - the link of lcX1 going down mid-capture (its peer lcX0 set down) is said in one line,
    and its coming back in another; the capture goes on and takes what comes afterwards;
  - drops are counted on both paths: linecap stopped (SIGSTOP) while 12,000 frames come,
    received + dropped by the port (imissed) = sent, through AF_PACKET (its sockets'
    tp_drops) and AF_XDP (the interface's rx_dropped: veth in copy mode drops there when
    the socket's ring is full);
  - a name that is nothing exits 2 in one line, and so do -i any, -i 999 and -i N of a
    virtual device example; --queues above the channels exits 2; the options that print
    packets (-X, -A, -e, -x) exit 2 in one line saying what to do.
The namespaces are removed in finally, whatever happens.
"""
import os
import glob
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lc_e2e  # noqa: E402

BUILD = os.path.dirname(lc_e2e.linecap_bin())
GEN = os.path.join(BUILD, "linecap-gen")
SEQ = os.path.join(BUILD, "linecap-seqcheck")
NS = f"lchx{os.getpid()}"
NS2 = f"lchy{os.getpid()}"	# the peer of the host's interface lcH1
FRAMES = int(os.environ.get("LC_KIF_FRAMES", "3000"))


def sh(*cmd, check=True):
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check, timeout=30)


def in_ns(cmd):
    return ["ip", "netns", "exec", NS] + cmd


def make_netns():
    sh("ip", "netns", "add", NS)
    sh("ip", "-n", NS, "link", "add", "lcX0", "type", "veth", "peer", "name", "lcX1")
    # No IPv6 in the namespace: no router or neighbour solicitations among the frames.
    sh("ip", "netns", "exec", NS, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    sh("ip", "netns", "exec", NS, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
    # A second pair for the AF_XDP drops round, run beside the AF_PACKET one.
    sh("ip", "-n", NS, "link", "add", "lcY0", "type", "veth", "peer", "name", "lcY1")
    for dev in ("lcX0", "lcX1", "lcY0", "lcY1", "lo"):
        sh("ip", "-n", NS, "link", "set", dev, "up")
    # The host's interface: lcH1 (10.99.7.1/24) here, its peer lcH0 (10.99.7.2/24) in NS2.
    sh("ip", "netns", "add", NS2)
    sh("ip", "netns", "exec", NS2, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    sh("ip", "netns", "exec", NS2, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
    sh("ip", "-n", NS, "link", "add", "lcH1", "type", "veth", "peer", "name", "lcH0",
       "netns", NS2)
    sh("ip", "-n", NS, "addr", "add", "10.99.7.1/24", "dev", "lcH1")
    sh("ip", "-n", NS2, "addr", "add", "10.99.7.2/24", "dev", "lcH0")
    sh("ip", "-n", NS, "link", "set", "lcH1", "up")
    sh("ip", "-n", NS2, "link", "set", "lcH0", "up")
    sh("ip", "-n", NS2, "link", "set", "lo", "up")


# Run in NS2 (lcH0's side): three ICMP echo requests to 10.99.7.1, 0.1 s apart, each waited
# for up to 2 s; prints how many replies came back.
PINGER = r"""
import socket, struct, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(0.1)
got = set()
for seq in (1, 2, 3):
    body = struct.pack("!BBHHH", 8, 0, 0, 0x4c43, seq) + b"linecap-e2e-hostping"
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    s.sendto(body, ("10.99.7.1", 0))
    end = time.monotonic() + 2
    while seq not in got and time.monotonic() < end:
        try:
            d = s.recv(2048)
        except socket.timeout:
            continue
        h = (d[0] & 15) * 4
        t, _, _, ident, sq = struct.unpack("!BBHHH", d[h:h + 8])
        if t == 0 and ident == 0x4c43:
            got.add(sq)
    time.sleep(0.1)
print(len(got))
"""


def icmp_in(out):
    """(echo requests from 10.99.7.2, echo replies from 10.99.7.1) in the pcap files under
    out."""
    req = rep = 0
    for path in sorted(glob.glob(os.path.join(out, "**", "*.pcap"), recursive=True)):
        with open(path, "rb") as f:
            data = f.read()
        if len(data) < 24:
            continue
        endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        off = 24
        while off + 16 <= len(data):
            incl = struct.unpack(endian + "IIII", data[off:off + 16])[2]
            frame = data[off + 16:off + 16 + incl]
            off += 16 + incl
            if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00" or frame[23] != 1:
                continue
            ihl = (frame[14] & 15) * 4
            src = socket.inet_ntoa(frame[26:30])
            icmp_type = frame[14 + ihl]
            req += icmp_type == 8 and src == "10.99.7.2"
            rep += icmp_type == 0 and src == "10.99.7.1"
    return req, rep


def sanitizer_env():
    """The environment with DPDK 22.11's AF_XDP UMEM leak at exit suppressed for LeakSanitizer
    (lsan_af_xdp.supp says why); nothing else is suppressed."""
    env = dict(os.environ)
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan_af_xdp.supp")
    env["LSAN_OPTIONS"] = ":".join(x for x in (env.get("LSAN_OPTIONS", ""),
                                               f"suppressions={supp}") if x)
    return env


def start_capture(args):
    """linecap in the namespace, its stderr collected by a thread; returns (proc, lines,
    running) where running is set at the first status line (RX is polling by then)."""
    p = subprocess.Popen(in_ns([lc_e2e.linecap_bin()] + lc_e2e.test_buffer(args)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lc_e2e.die_with_parent, env=sanitizer_env())
    lines, running = [], threading.Event()

    def read():
        for line in p.stderr:
            lines.append(line.rstrip("\n"))
            if " received " in line and " passed " in line:
                running.set()
        running.set()	# it ended: nobody waits for a line that will not come

    threading.Thread(target=read, daemon=True).start()
    return p, lines, running


def promisc(dev, ns=None):
    """Is dev promiscuous (IFF_PROMISC, what ip link shows)?"""
    return "PROMISC" in sh("ip", "-n", ns or NS, "link", "show", dev).stdout.split(">")[0]


def set_promisc(dev, on, ns=None):
    sh("ip", "-n", ns or NS, "link", "set", dev, "promisc", "on" if on else "off")


def wait_line(lines, words, timeout):
    """Wait up to timeout s for a line holding every one of words; True when it came."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(all(w in x for w in words) for x in list(lines)):
            return True
        time.sleep(0.05)
    return False


def link_flap(t, label, lines):
    """lcX0 (the peer) down: lcX1 loses its carrier; linecap says so; lcX0 up again."""
    sh("ip", "-n", NS, "link", "set", "lcX0", "down")
    try:
        down = wait_line(lines, ["linecap: lcX1: link down (capture goes on; it resumes "
                                 "when the link comes back)"], 10)
    finally:
        sh("ip", "-n", NS, "link", "set", "lcX0", "up")
    up = wait_line(lines, ["linecap: lcX1: link up again after"], 10)
    t.check(down and up, f"{label}: lcX1's link down then up mid-capture: said "
            f"{'down' if down else 'nothing'}, {'up' if up else 'nothing'}: "
            f"{' / '.join(lines[-8:])}")


def capture_round(t, label, iface_arg, extra, expect_path, work, was_promisc=False,
                  flap=False):
    out = os.path.join(work, label)
    gen_stats = os.path.join(work, f"{label}-gen.json")
    t0 = time.monotonic()
    set_promisc("lcX1", was_promisc)
    p, lines, running = start_capture(["-i", iface_arg, "-w", out, "-c", str(FRAMES),
                                       "--duration", "60"] + extra + ["udp"])
    running.wait(45)
    during = promisc("lcX1")
    if flap:
        link_flap(t, label, lines)
    g = lc_e2e.run(in_ns([GEN, "-i", "net_af_packet0,iface=lcX0", "-c", str(FRAMES),
                          "--rate", "20000", "--flows", "8", "--id", "7",
                          "--stats-file", gen_stats]), timeout=60)
    try:
        p.wait(timeout=45)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    time.sleep(0.1)	# the reader thread takes the last lines
    err = "\n".join(lines)
    took = time.monotonic() - t0
    print(f"{label}: {took:.1f} s; start-up line: "
          f"{next((x for x in lines if 'kernel interface' in x), '(none)')}", file=sys.stderr)
    t.check(g.returncode == 0, f"{label}: linecap-gen exit {g.returncode}: {g.stderr[-400:]}")
    t.check(p.returncode == 0, f"{label}: linecap exit {p.returncode}: {err[-1500:]}")
    path_lines = [x for x in lines if "kernel interface" in x]
    t.check(len(path_lines) == 1 and expect_path in path_lines[0],
            f"{label}: one start-up line naming {expect_path!r}: {path_lines} / {err[-1500:]}")
    t.check("never came back" not in err, f"{label}: mbuf warning at exit: {err[-800:]}")
    chatter = [x for x in lines if x.startswith(("libbpf:", "libxdp:"))]
    t.check(not chatter, f"{label}: library chatter without -v: {chatter}")
    after = promisc("lcX1")
    set_promisc("lcX1", False)
    if was_promisc:
        t.check(during and after, f"{label}: lcX1 promiscuous before linecap: "
                f"{'still' if during else 'no longer'} while it ran, "
                f"{'still' if after else 'no longer'} after it")
    else:
        t.check(not after, f"{label}: lcX1 left promiscuous after linecap")
        t.check(during == ("-p" not in extra), f"{label}: lcX1 promiscuous while linecap "
                f"ran: {during} ({'with' if '-p' in extra else 'without'} -p)")
    t.check(f"{FRAMES} packets written" in err, f"{label}: {FRAMES} written: {err[-800:]}")
    if os.path.isdir(out):
        q = subprocess.run([SEQ, "--sent", gen_stats, out], capture_output=True, text=True,
                           timeout=60)
        t.check(q.returncode == 0, f"{label}: seqcheck exit {q.returncode}: "
                f"{q.stdout[-600:]}{q.stderr[-300:]}")
    else:
        t.check(False, f"{label}: no output directory {out}")
    return err


def drops_round(t, work, label, iface_arg, peer):
    """The port's own drops are counted: linecap stopped (SIGSTOP) while 12,000 frames come,
    the rings (AF_PACKET's 4,096 frames, AF_XDP's 2,048 descriptors) overflow; every frame
    sent is received or counted as dropped by the port (imissed), none lost without a count.
    Stopped once the frames are in (SIGINT half a second after SIGCONT: RX has emptied the
    rings by then), not by a --duration that could expire while linecap is stopped."""
    sent = 12000
    out = os.path.join(work, label)
    stats = os.path.join(work, f"{label}.json")
    gen_stats = os.path.join(work, f"{label}-gen.json")
    p, lines, running = start_capture(["-i", iface_arg, "-w", out, "--duration", "30",
                                       "--stats-file", stats])
    running.wait(45)
    os.kill(p.pid, signal.SIGSTOP)
    try:
        g = lc_e2e.run(in_ns([GEN, "-i", f"net_af_packet0,iface={peer}", "-c", str(sent),
                              "--rate", "100000", "--flows", "8", "--id", "9",
                              "--stats-file", gen_stats]), timeout=60)
    finally:
        os.kill(p.pid, signal.SIGCONT)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=45)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    s = lc_e2e.stats(stats) if os.path.exists(stats) else {}
    print(f"{label}: {sent} sent, received {s.get('received')}, imissed {s.get('imissed')}",
          file=sys.stderr)
    t.check(g.returncode == 0 and p.returncode == 0, f"{label}: exits {g.returncode} "
            f"{p.returncode}: {' / '.join(lines[-5:])}")
    t.check(s.get("imissed", 0) > 0 and s.get("received", 0) + s.get("imissed", 0) == sent,
            f"{label}: {sent} sent = received {s.get('received')} + dropped by the port "
            f"{s.get('imissed')}")


def host_round(t, work):
    """-i lcH1, an interface with this host's address: AF_PACKET by default, and the host keeps
    answering on it while linecap captures."""
    out = os.path.join(work, "host")
    t0 = time.monotonic()
    set_promisc("lcH1", True)	# an admin's: AF_PACKET without -p leaves it so
    p, lines, running = start_capture(["-i", "lcH1", "-w", out, "-c", "6", "--duration", "30",
                                       "icmp"])
    running.wait(45)
    ping = subprocess.run(["ip", "netns", "exec", NS2, sys.executable, "-c", PINGER],
                          capture_output=True, text=True, timeout=60)
    try:
        p.wait(timeout=10)	# -c 6: three requests and three replies end it
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    time.sleep(0.1)
    err = "\n".join(lines)
    start = next((x for x in lines if "kernel interface" in x), "(none)")
    print(f"host: {time.monotonic() - t0:.1f} s; replies {ping.stdout.strip()}; start-up line: "
          f"{start}", file=sys.stderr)
    t.check(ping.returncode == 0 and ping.stdout.strip() == "3",
            f"host: the host answered {ping.stdout.strip() or '?'} of 3 pings on lcH1 while "
            f"linecap captured it (AF_XDP takes them from the kernel): {ping.stderr[-400:]}")
    t.check(p.returncode == 0, f"host: linecap exit {p.returncode}: {err[-1500:]}")
    t.check(promisc("lcH1"), "host: lcH1 promiscuous before linecap, no longer after it")
    set_promisc("lcH1", False)
    t.check("-i lcH1: kernel interface" in start and
            "with this host's address (10.99.7.1/24)" in start and
            "captured through AF_PACKET, both directions, the host keeps its traffic" in start,
            f"host: the start-up line names AF_PACKET and why: {start}")
    req, rep = icmp_in(out)
    t.check(req == 3 and rep == 3, f"host: the file holds both directions: {req} echo "
            f"requests from 10.99.7.2 and {rep} replies from 10.99.7.1 (3 and 3 expected)")

    # af_xdp: on the host's interface: obeyed, with a warning.
    r = lc_e2e.run(in_ns([lc_e2e.linecap_bin()] + lc_e2e.test_buffer(
        ["-i", "af_xdp:lcH1", "-w", os.path.join(work, "hostxdp"), "--duration", "1"])),
        timeout=60, env=sanitizer_env())
    warn = [x for x in r.stderr.splitlines() if "warning:" in x and "af_xdp:lcH1" in x]
    start = next((x for x in r.stderr.splitlines() if "kernel interface" in x), "(none)")
    t.check(r.returncode == 0, f"af_xdp:lcH1: exit {r.returncode}: {r.stderr[-1000:]}")
    t.check(len(warn) == 1 and "10.99.7.1/24" in warn[0] and
            "this host loses its traffic on it" in warn[0],
            f"af_xdp:lcH1: one warning that the host loses its traffic: {r.stderr[-1000:]}")
    t.check("captured through AF_XDP" in start, f"af_xdp:lcH1: start-up line: {start}")


def list_number(t, name):
    """The number of name's line in linecap -D (in the namespace)."""
    r = sh(*in_ns([lc_e2e.linecap_bin(), "-D"]), check=False)
    for ln in r.stdout.splitlines():
        num, _, rest = ln.partition(".")
        if num.isdigit() and rest.startswith(name + " ["):
            return num
    t.check(False, f"linecap -D does not list {name}: {r.stdout[-1500:]}")
    return "0"


def one_line_exit2(t, label, args, words):
    r = lc_e2e.run(in_ns([lc_e2e.linecap_bin()] + args), timeout=60)
    lines = [x for x in r.stderr.splitlines() if x]
    t.check(r.returncode == 2 and len(lines) == 1 and all(w in lines[0] for w in words),
            f"{label}: exit 2 in one line with {words}: exit {r.returncode}: {r.stderr[-600:]}")


def main():
    t = lc_e2e.Failures("e2e_kernel_iface")
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("needs root and iproute2 (network namespaces)", file=sys.stderr)
        sys.exit(lc_e2e.SKIP)
    try:
        socket.socket(44, socket.SOCK_RAW, 0).close()	# AF_XDP
    except OSError as ex:
        print(f"this kernel has no AF_XDP sockets ({ex})", file=sys.stderr)
        sys.exit(lc_e2e.SKIP)
    work = lc_e2e.tmpdir()
    t_start = time.monotonic()
    try:
        make_netns()
        host_round(t, work)
        capture_round(t, "afxdp", "lcX1", [], "-i lcX1: kernel interface (driver veth), no "
                      "addresses (a capture port): captured through AF_XDP", work,
                      was_promisc=True, flap=True)
        capture_round(t, "afpacket", "af_packet:lcX1", ["-n", "-nn", "-U", "-p"],
                      "through AF_PACKET (asked for), both directions", work, was_promisc=True)
        # Both paths' drops at once, on two veth pairs (SIGSTOP makes them load-proof).
        def xdp_drops():
            try:
                drops_round(t, work, "xdpdrops", "lcY1", "lcY0")
            except Exception as ex:  # noqa: BLE001 -- a failure, not a silent thread's end
                t.check(False, f"xdpdrops: {ex!r}")
        xdp = threading.Thread(target=xdp_drops)
        xdp.start()
        try:
            drops_round(t, work, "drops", "af_packet:lcX1", "lcX0")
        finally:
            xdp.join()
        # AF_XDP fills its ring with 2048 mbufs per queue: a pool of 1024 cannot, its queue
        # set-up fails, and the capture goes on through AF_PACKET, saying why. lcX1 given
        # by its number in linecap -D, as tcpdump -i 1.
        err = capture_round(t, "fallback", list_number(t, "lcX1"), ["--mbufs", "1024"],
                            "-i lcX1: kernel interface (driver veth), no addresses (a capture "
                            "port): captured through AF_PACKET, both directions: AF_XDP could "
                            "not attach", work)
        t.check("(line " in err and "of linecap -D)" in err,
                f"fallback: -i N says which line it took: {err[-800:]}")
        one_line_exit2(t, "no such name", ["-i", "lcnope9", "-w", os.path.join(work, "x"),
                                           "-c", "1"], ["-i lcnope9", "no such interface"])
        one_line_exit2(t, "any", ["-i", "any", "-w", os.path.join(work, "x"), "-c", "1"],
                       ["-i any:", "one interface", "linecap -D lists them"])
        one_line_exit2(t, "no such line", ["-i", "999", "-w", os.path.join(work, "x"), "-c",
                                           "1"], ["-i 999:", "numbered 1 to"])
        one_line_exit2(t, "an example line", ["-i", list_number(t, "net_ring0"), "-w",
                                              os.path.join(work, "x"), "-c", "1"],
                       ["linecap -D is an example", "net_ring0"])
        one_line_exit2(t, "queues above channels", ["-i", "lcX1", "--queues", "4", "-w",
                                                    os.path.join(work, "y"), "-c", "1"],
                       ["--queues 4", "lcX1", "channel",
                        "ethtool -L lcX1 rx 4 tx 4"])	# veth: RX and TX channels
        for opt in ("-X", "-A", "-e", "-x", "-XX"):
            one_line_exit2(t, opt, [opt, "-i", "lcX1", "-w", os.path.join(work, "z"), "-c",
                                    "1"], [f"{opt[:2]}:", "tcpdump"])
    finally:
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        subprocess.run(["ip", "netns", "del", NS2], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print(f"e2e_kernel_iface: {time.monotonic() - t_start:.1f} s in all", file=sys.stderr)
    t.done()


if __name__ == "__main__":
    main()
