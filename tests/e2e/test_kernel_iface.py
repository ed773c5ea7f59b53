"""End-to-end: -i NAME of a kernel interface, as a tcpdump user types it (issue 16).

A network namespace of our own holds a veth pair lcX0/lcX1 (no IP: raw frames only, nothing
leaves the namespace). linecap-gen sends tagged frames into lcX0 through DPDK's af_packet;
linecap captures them on lcX1 given by its kernel name:
  - `-i lcX1` goes through AF_XDP (the start-up line says so), every frame written exactly
    once (linecap-seqcheck --sent), and no "mbufs never came back" warning at exit (the
    AF_XDP driver keeps its fill ring until the port closes: not a loss);
  - `-i af_packet:lcX1` forces the AF_PACKET path, with the tcpdump reflexes -n -nn -U -p;
  - `-i lcX1 --mbufs 1024` (too few for AF_XDP's fill ring) falls back to AF_PACKET by
    itself, the start-up line saying why;
  - a name that is nothing exits 2 in one line; --queues above the channels exits 2; the
    options that print packets (-X, -A, -e, -x) exit 2 in one line saying what to do.
The namespace is removed in finally, whatever happens.
"""
import os
import shutil
import socket
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
    for dev in ("lcX0", "lcX1", "lo"):
        sh("ip", "-n", NS, "link", "set", dev, "up")


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


def capture_round(t, label, iface_arg, extra, expect_path, work):
    out = os.path.join(work, label)
    gen_stats = os.path.join(work, f"{label}-gen.json")
    t0 = time.monotonic()
    p, lines, running = start_capture(["-i", iface_arg, "-w", out, "-c", str(FRAMES),
                                       "--duration", "60"] + extra + ["udp"])
    running.wait(45)
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
    link = sh("ip", "-n", NS, "link", "show", "lcX1").stdout
    t.check("PROMISC" not in link, f"{label}: lcX1 left promiscuous after linecap: {link}")
    t.check(f"{FRAMES} packets written" in err, f"{label}: {FRAMES} written: {err[-800:]}")
    if os.path.isdir(out):
        q = subprocess.run([SEQ, "--sent", gen_stats, out], capture_output=True, text=True,
                           timeout=60)
        t.check(q.returncode == 0, f"{label}: seqcheck exit {q.returncode}: "
                f"{q.stdout[-600:]}{q.stderr[-300:]}")
    else:
        t.check(False, f"{label}: no output directory {out}")
    return err


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
        capture_round(t, "afxdp", "lcX1", [], "through AF_XDP", work)
        capture_round(t, "afpacket", "af_packet:lcX1", ["-n", "-nn", "-U", "-p"],
                      "through AF_PACKET", work)
        # AF_XDP fills its ring with 2048 mbufs per queue: a pool of 1024 cannot, its queue
        # set-up fails, and the capture goes on through AF_PACKET, saying why.
        capture_round(t, "fallback", "lcX1", ["--mbufs", "1024"],
                      "through AF_PACKET: AF_XDP could not attach", work)
        one_line_exit2(t, "no such name", ["-i", "lcnope9", "-w", os.path.join(work, "x"),
                                           "-c", "1"], ["-i lcnope9", "no such interface"])
        one_line_exit2(t, "queues above channels", ["-i", "lcX1", "--queues", "4", "-w",
                                                    os.path.join(work, "y"), "-c", "1"],
                       ["--queues 4", "lcX1", "channel"])
        for opt in ("-X", "-A", "-e", "-x", "-XX"):
            one_line_exit2(t, opt, [opt, "-i", "lcX1", "-w", os.path.join(work, "z"), "-c",
                                    "1"], [f"{opt[:2]}:", "tcpdump"])
    finally:
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print(f"e2e_kernel_iface: {time.monotonic() - t_start:.1f} s in all", file=sys.stderr)
    t.done()


if __name__ == "__main__":
    main()
