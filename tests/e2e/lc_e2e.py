"""Helpers for end-to-end tests: run the real linecap binary on DPDK virtual ports and read
pcap files without any third-party module (the reference is tcpdump's own output)."""
import json
import os
import struct
import subprocess
import sys
import tempfile

SKIP = 77


def linecap_bin():
    return os.environ["LINECAP"]


HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CORPUS = os.path.join(HERE, "..", "..", "scripts", "make_corpus.py")


class Corpus:
    """A corpus: pcaps/, MANIFEST.tsv, filters.txt, and tcpdump's counts (expected.tsv rows:
    file, filter_line, filter, packets, tcpdump_rc, tcpdump_stderr) at self.expected."""

    def __init__(self, label, path, expected):
        self.label, self.path, self.expected = label, path, expected

    def pcap(self, name):
        return os.path.join(self.path, "pcaps", name)

    def manifest(self):
        """MANIFEST.tsv rows (lists of columns) by file name."""
        with open(os.path.join(self.path, "MANIFEST.tsv")) as f:
            rows = [line.rstrip("\n").split("\t") for line in f][1:]
        return {r[0]: r for r in rows}

    def expected_rows(self):
        with open(self.expected) as f:
            return [line.rstrip("\n").split("\t") for line in f][1:]

    def __repr__(self):
        return f"{self.label} corpus ({self.path})"


def generated_corpus():
    """The generated corpus of the repository (tests/corpus, or LC_CORPUS). Its tcpdump counts
    come from the build (LC_CORPUS_EXPECTED); run by hand, they are made here. Missing, the
    test fails: it is part of the repository."""
    path = os.environ.get("LC_CORPUS") or os.path.join(HERE, "..", "corpus")
    if not os.path.isfile(os.path.join(path, "filters.txt")):
        print(f"the generated corpus is missing at '{path}' (tests/corpus, written by "
              "scripts/make_corpus.py)", file=sys.stderr)
        sys.exit(1)
    expected = os.environ.get("LC_CORPUS_EXPECTED", "")
    if not os.path.isfile(expected):
        expected = os.path.join(tempfile.mkdtemp(prefix="lc_corpus_"), "expected.tsv")
        subprocess.run([sys.executable, MAKE_CORPUS, "--expected", expected, path], check=True)
    return Corpus("generated", path, expected)


def corpora():
    """The corpora a test runs on: the generated one always, then ../shared/corpus's
    third-party captures where that is present beside the repository (LC_CORPUS_EXTRA)."""
    found = [generated_corpus()]
    extra = os.environ.get("LC_CORPUS_EXTRA", "")
    if extra and os.path.isfile(os.path.join(extra, "filters.txt")):
        found.append(Corpus("shared", extra, os.path.join(extra, "expected.tsv")))
    else:
        print(f"no third-party corpus at '{extra}': the generated corpus only",
              file=sys.stderr)
    return found


def corpus():
    """The generated corpus's directory (for a test that needs a file or two of it)."""
    return generated_corpus().path


def tmpdir():
    return tempfile.mkdtemp(prefix="lc_e2e_")


class Failures:
    """Collects failed checks; exit status 1 if any, 0 if all of at least one passed."""

    def __init__(self, name):
        self.name, self.checks, self.failed = name, 0, 0

    def check(self, cond, what):
        self.checks += 1
        if not cond:
            self.failed += 1
            print(f"FAIL: {what}", file=sys.stderr)
        return cond

    def done(self):
        print(f"{self.name}: {self.checks} checks, {self.failed} failed", file=sys.stderr)
        sys.exit(1 if self.failed or not self.checks else 0)


def parse_pcap(data):
    """Records of a classic pcap byte string: (ts_ns, caplen, len, bytes), plus header."""
    if len(data) < 24:
        raise ValueError("short pcap header")
    magic_le = struct.unpack("<I", data[:4])[0]
    magic_be = struct.unpack(">I", data[:4])[0]
    if magic_le in (0xA1B2C3D4, 0xA1B23C4D):
        e, magic = "<", magic_le
    elif magic_be in (0xA1B2C3D4, 0xA1B23C4D):
        e, magic = ">", magic_be
    else:
        raise ValueError(f"bad magic {data[:4].hex()}")
    nano = magic == 0xA1B23C4D
    _, _, _, _, snaplen, linktype = struct.unpack(e + "HHiIII", data[4:24])
    recs, off = [], 24
    while off < len(data):
        if off + 16 > len(data):
            raise ValueError(f"truncated record header at {off}")
        sec, frac, caplen, length = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        if off + caplen > len(data):
            raise ValueError(f"truncated record at {off}")
        ts = sec * 1000000000 + (frac if nano else frac * 1000)
        recs.append((ts, caplen, length, data[off:off + caplen]))
        off += caplen
    return {"magic": magic, "snaplen": snaplen, "linktype": linktype, "records": recs}


def read_pcap(path):
    with open(path, "rb") as f:
        return parse_pcap(f.read())


def tcpdump_keep(pcap, expr):
    """What tcpdump keeps of pcap with expr (None if tcpdump refuses the file)."""
    args = ["tcpdump", "-n", "-r", pcap, "-w", "-"]
    if expr:
        args.append(expr)
    p = subprocess.run(args, capture_output=True, timeout=60)
    if not p.stdout:
        return None
    return parse_pcap(p.stdout)["records"]


def die_with_parent():
    """For preexec_fn: the child is killed when the test process ends, however it ends (a
    test that fails with an exception must not leave a capture running for the rest of the
    suite)."""
    import ctypes
    import signal
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)	# PR_SET_PDEATHSIG


def test_buffer(args):
    """-B 16M unless the test chose a buffer or a config file: the default (up to 256 MiB a
    queue, from free hugepages) is for one capture on a machine, not for the suite's captures
    running side by side on the same hugepages."""
    if any(a.startswith(("-B", "--buffer-size", "--config")) for a in args):
        return args
    return ["-B", "16M"] + args


def stacks(pid):
    """Every thread's stack of process pid (gdb, attached for a moment), for a hang's report."""
    try:
        g = subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx", "-ex", "set pagination off",
                            "-ex", "thread apply all bt"], capture_output=True, text=True,
                           timeout=60)
        return "\n".join(x for x in g.stdout.splitlines() if x.startswith(("Thread", "#")))
    except (OSError, subprocess.TimeoutExpired) as ex:
        return f"(no stacks: {ex})"


def run(cmd, timeout, **kw):
    """subprocess.run(cmd, capture_output, text) that, when cmd outlives timeout, reports
    what it was doing before it is killed: every thread's stack and the end of its stderr,
    then raises TimeoutExpired (a hang in CI names where it hung)."""
    kw.setdefault("preexec_fn", die_with_parent)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"HANG: {' '.join(cmd)} still running after {timeout} s; its threads:\n"
              f"{stacks(p.pid)}", file=sys.stderr)
        p.kill()
        out, err = p.communicate()
        print(f"its stderr ended with:\n{err[-3000:]}", file=sys.stderr)
        raise
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


def run_linecap(args, timeout=60):
    return run([linecap_bin()] + test_buffer(args), timeout)


def start_linecap(args):
    args = test_buffer(args)
    return subprocess.Popen([linecap_bin()] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent)


def shard_files(outdir):
    return sorted(os.path.join(outdir, f) for f in os.listdir(outdir) if f.endswith(".pcap"))


def stats(path):
    with open(path) as f:
        return json.load(f)


SAMPLE_GEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                          "make_sample_pcap.py")


def make_sample(work, packets=20000):
    """The generated sample capture (scripts/make_sample_pcap.py) in work; its path."""
    path = os.path.join(work, "sample.pcap")
    subprocess.run([sys.executable, SAMPLE_GEN, path, str(packets)], check=True)
    return path


def interrupt(p, timeout=60):
    """SIGINT a linecap started with start_linecap; (returncode, stderr), or (None, "") if
    it did not stop within timeout (then it is killed)."""
    import signal
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None, ""
    return p.returncode, err


def free_port():
    """A TCP port free on 127.0.0.1 now."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def telemetry_connect(pid, t, timeout=5.0):
    """A connection to linecap's DPDK telemetry socket (it exists once EAL is up)."""
    import socket
    import time
    path = f"/var/run/dpdk/linecap_{pid}/dpdk_telemetry.v2"
    end = time.time() + timeout
    while not os.path.exists(path) and time.time() < end:
        time.sleep(0.05)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    hello = json.loads(s.recv(1024).decode())
    t.check("DPDK" in hello.get("version", ""), f"telemetry hello: {hello}")
    return s


def telemetry(sock, cmd):
    """The reply to one telemetry command, without its outer key."""
    sock.send(cmd.encode())
    reply = json.loads(sock.recv(65536).decode())
    return reply[cmd.split(",")[0]]
