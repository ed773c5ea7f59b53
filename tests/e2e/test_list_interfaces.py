#!/usr/bin/env python3
"""-D, --list-interfaces, as tcpdump -D: in a network namespace of its own holding a veth pair
(lcD0 with 3 queues, lcD1 with 1) and its loopback, linecap -D lists both veths with their
driver and channels (the ethtool ioctl on real interfaces), the loopback last, then DPDK's
virtual devices; numbered, exit 0. Each interface says the path -i NAME takes, by the rule -i
follows: lcD0, with no address, is a capture port (AF_XDP); lcD1, with this host's address
10.99.8.1/24 and the default route, and lcD2, a port of the bridge lcB0, carry the host's
traffic (AF_PACKET, both directions); the loopback is AF_PACKET (AF_XDP cannot attach).
It runs without EAL: over an empty /run and an empty
/dev/hugepages (its own mount namespace) it prints no EAL line and creates nothing there; as
nobody, with an empty runtime directory, the same."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

LINE = re.compile(r"^(\d+)\.(\S+) \[(.*)\]$")
VDEVS = ["net_pcap0,rx_pcap=FILE", "net_pcap0,rx_pcap=FILE,infinite_rx=1",
         "net_memif0,role=server,socket=PATH", "net_ring0", "net_null0"]


def sh(*cmd, check=True):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=30, check=check)


def parse(t, label, out):
    """The listing's lines as {name: (number, details)}, checked numbered 1, 2, 3..."""
    found = {}
    lines = out.splitlines()
    for i, ln in enumerate(lines):
        m = LINE.match(ln)
        if not t.check(m is not None, f"{label}: line {i + 1} is not 'N.NAME [...]': {ln!r}"):
            continue
        t.check(int(m.group(1)) == i + 1, f"{label}: line {i + 1} numbered {m.group(1)}")
        found[m.group(2)] = (int(m.group(1)), m.group(3))
    return found


def check_listing(t, label, out, queues):
    found = parse(t, label, out)
    for name in ("lcD0", "lcD1"):
        if not t.check(name in found, f"{label}: {name} not listed:\n{out}"):
            continue
        det = found[name][1]
        t.check(det.startswith("veth, up, link up"), f"{label}: {name}: {det}")
        rx, tx = queues[name]
        t.check(f", channels: rx {rx} tx {tx}," in det,
                f"{label}: {name}: channels rx {rx} tx {tx} (ethtool) not in: {det}")
        t.check("AF_XDP copy mode (no zero-copy known for veth)" in det,
                f"{label}: {name}: AF_XDP mode: {det}")
        if name == "lcD0":
            t.check("no addresses (a capture port): -i lcD0 captures through AF_XDP copy mode"
                    in det and "AF_PACKET" not in det.split("(af_packet:")[0],
                    f"{label}: lcD0, no address: AF_XDP: {det}")
        else:
            t.check("this host's address (10.99.8.1/24) and a default route: -i lcD1 "
                    "captures through AF_PACKET, both directions, the host keeps its "
                    "traffic; af_xdp:lcD1 would take its received frames" in det,
                    f"{label}: lcD1, the host's address and route: AF_PACKET: {det}")
        t.check("dpdk-devbind" not in det and "PCI" not in det,
                f"{label}: {name}: a veth is no PCI device: {det}")
    if t.check("lo" in found, f"{label}: lo not listed"):
        num, det = found["lo"]
        t.check(det.startswith("loopback, down") and "the loopback: -i lo captures through "
                "AF_PACKET, both directions (AF_XDP cannot attach to the loopback)" in det,
                f"{label}: lo: {det}")
    if t.check("lcD2" in found, f"{label}: lcD2 not listed"):
        t.check("the traffic of lcB0 (a port of it): -i lcD2 captures through AF_PACKET" in
                found["lcD2"][1], f"{label}: lcD2, a bridge port: {found['lcD2'][1]}")
        t.check(all(n < num for k, (n, _) in found.items() if k in ("lcD0", "lcD1")),
                f"{label}: the loopback comes after the other interfaces")
    for v in VDEVS:
        t.check(v in found and found[v][1].startswith("virtual: "),
                f"{label}: example {v} not listed")
    if "lo" in found and VDEVS[0] in found:
        t.check(found[VDEVS[0]][0] > found["lo"][0], f"{label}: examples come last")


def main():
    t = e.Failures("e2e_list_interfaces")
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("needs root and ip(8) for a network namespace", file=sys.stderr)
        sys.exit(e.SKIP)
    ns = f"lcD{os.getpid()}"
    work = tempfile.mkdtemp(prefix="lc_e2e_iflist_")
    try:
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "add", "lcD0", "numtxqueues", "3", "numrxqueues", "3",
           "type", "veth", "peer", "name", "lcD1")
        sh("ip", "-n", ns, "link", "set", "lcD0", "up")
        sh("ip", "-n", ns, "link", "set", "lcD1", "up")
        # lcD1 carries the host's traffic: an address and the default route; lcD2 is a
        # bridge's port.
        sh("ip", "-n", ns, "addr", "add", "10.99.8.1/24", "dev", "lcD1")
        sh("ip", "-n", ns, "route", "add", "default", "via", "10.99.8.2", "dev", "lcD1")
        sh("ip", "-n", ns, "link", "add", "lcB0", "type", "bridge")
        sh("ip", "-n", ns, "link", "add", "lcD2", "type", "veth", "peer", "name", "lcD3")
        sh("ip", "-n", ns, "link", "set", "lcD2", "master", "lcB0")
        # The link comes up through the kernel's linkwatch, asynchronously: wait for it
        # (at most 10 s; "up\nup": both operstates), then note the queues sysfs shows.
        q = sh("ip", "netns", "exec", ns, "sh", "-c",
               'for i in $(seq 100); do [ "$(cat /sys/class/net/lcD0/operstate '
               '/sys/class/net/lcD1/operstate)" = "up\nup" ] && break; sleep 0.1; done; '
               'cat /sys/class/net/lcD0/operstate /sys/class/net/lcD1/operstate; '
               'for n in lcD0 lcD1; do echo $n $(ls /sys/class/net/$n/queues); done').stdout
        t.check(q.split()[:2] == ["up", "up"], f"the veth pair's link: {q}")
        queues = {}
        for ln in q.splitlines()[2:]:
            w = ln.split()
            queues[w[0]] = (sum(x.startswith("rx-") for x in w),
                            sum(x.startswith("tx-") for x in w))
        t.check(queues["lcD0"] == (3, 3), f"lcD0's queues in sysfs: {queues['lcD0']}")

        # As root, over an empty /run and /dev/hugepages: what EAL would create is seen.
        script = ('mount -t tmpfs lcD /run || exit 90; '
                  'if [ -d /dev/hugepages ]; then mount -t tmpfs lcD /dev/hugepages || exit 91; '
                  'fi; echo "--before:"; find /run /dev/hugepages -mindepth 1; echo "--run:"; '
                  '"$0" -D; rc=$?; echo "--after:"; find /run /dev/hugepages -mindepth 1; '
                  'exit $rc')
        p = sh("ip", "netns", "exec", ns, "sh", "-c", script, e.linecap_bin(), check=False)
        before, _, rest = p.stdout.partition("--run:\n")
        out, _, after = rest.partition("--after:\n")
        t.check(p.returncode == 0, f"-D: exit {p.returncode}: {p.stderr[-500:]}")
        t.check(before.startswith("--before:\n") and after.split() == before.split()[1:],
                f"-D created files (EAL?):\n{before}\nthen:\n{after}")
        t.check("EAL" not in p.stdout + p.stderr, f"-D: EAL said something: {p.stderr[-500:]}")
        t.check(p.stderr == "", f"-D: stderr: {p.stderr[-500:]}")
        check_listing(t, "-D", out, queues)

        # As nobody, the long option, with an empty runtime directory of its own.
        rundir = os.path.join(work, "xdg")
        os.mkdir(rundir)
        os.chmod(rundir, 0o777)
        p = sh("ip", "netns", "exec", ns, "setpriv", "--reuid=65534", "--regid=65534",
               "--clear-groups", "env", f"XDG_RUNTIME_DIR={rundir}", e.linecap_bin(),
               "--list-interfaces", check=False)
        t.check(p.returncode == 0, f"--list-interfaces as nobody: exit {p.returncode}: "
                f"{p.stderr[-500:]}")
        t.check(os.listdir(rundir) == [], f"as nobody: created {os.listdir(rundir)}")
        t.check(p.stderr == "", f"as nobody: stderr: {p.stderr[-500:]}")
        check_listing(t, "as nobody", p.stdout, queues)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
