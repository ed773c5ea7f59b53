#!/usr/bin/env python3
"""Live filter changes under a full-speed replay: many swaps between two filters through
SIGHUP (re-reading -F) and through the DPDK telemetry command /linecap/filter, plus bad
expressions that must be refused while the old filter stays. At the end: exit 0, the totals
add up exactly (no packet judged by neither filter, none lost), every packet written is TCP
SSH or UDP DNS (the traffic also has other flows and ICMP, which neither keeps), both kinds
were written, and
the stats file records every filter in force with its time. A refused change is not a
change: neither the stats file's filters nor any manifest record's list a filter twice."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import lc_e2e as e  # noqa: E402

SWAPS = 24
A, B = "tcp port 22", "udp port 53"


def telemetry(sock, cmd):
    return e.telemetry(sock, cmd)


def connect(pid, t):
    return e.telemetry_connect(pid, t)


def main():
    t = e.Failures("test_live_filter")
    work = e.tmpdir()
    sample = e.make_sample(work)
    ffile = os.path.join(work, "filter")
    with open(ffile, "w") as f:
        f.write(A + "\n")
    out = os.path.join(work, "live")
    st = out + ".json"
    p = e.start_linecap(["-i", f"net_pcap0,rx_pcap={sample},infinite_rx=1", "-w", out,
                         "-F", ffile, "-s", "64", "--stats-file", st])
    time.sleep(1.0)
    sock = connect(p.pid, t)
    r, end = None, time.time() + 30		# its commands exist once the capture runs
    while r is None and time.time() < end:
        r = telemetry(sock, "/linecap/filter")
        if r is None:
            time.sleep(0.2)
    r = r or {}
    t.check(r.get("filter") == A and r.get("engine") == "jit", f"current filter: {r}")

    expected = [A]
    for i in range(SWAPS):
        want = B if i % 2 == 0 else A
        if i % 3 == 0:
            with open(ffile, "w") as f:
                f.write(f"# swap {i}\n{want}\n")
            p.send_signal(signal.SIGHUP)
            time.sleep(0.12)
        else:
            r = telemetry(sock, f"/linecap/filter,{want}")
            t.check(r.get("applied") == 1 and r.get("filter") == want, f"swap {i}: {r}")
        expected.append(want)
        time.sleep(0.03)
    # Refused changes: the old filter stays.
    r = telemetry(sock, "/linecap/filter,hots 1.2.3.4")
    t.check(r.get("applied") == 0 and "syntax error" in r.get("error", "") and
            r.get("filter") == expected[-1], f"bad expression over telemetry: {r}")
    with open(ffile, "w") as f:
        f.write("port 99999\n")
    p.send_signal(signal.SIGHUP)
    time.sleep(0.2)
    r = telemetry(sock, "/linecap/filter")
    t.check(r.get("filter") == expected[-1], f"bad file on SIGHUP changed the filter: {r}")
    sock.close()
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    t.check(p.returncode == 0, f"exit {p.returncode}: {err[-500:]}")
    t.check("filter change refused" in err, "refusals are reported")

    s = e.stats(st)
    t.check(s["received"] == s["filtered_out"] + s["buffer_full"] + s["written"],
            f"totals: {s['received']} != {s['filtered_out']} + {s['buffer_full']} + "
            f"{s['written']}")
    t.check(s["passed_filter"] == s["written"] + s["buffer_full"], "passed = written + drops")
    hist = [f["expression"] for f in s["filters"]]
    t.check(hist == expected, f"filters recorded: {hist}, want {expected}")
    t.check(all(s["filters"][k]["since_ns"] <= s["filters"][k + 1]["since_ns"]
                for k in range(len(hist) - 1)), "filter times in order")
    # Each filter in force once, in the stats file and in each closed file's manifest record
    # (the refused changes above used to add the filter in force again, same since_ns).
    eras = [(f["expression"], f["since_ns"]) for f in s["filters"]]
    t.check(len(set(eras)) == len(eras), f"stats file: a filter recorded twice: {eras}")
    records = [json.loads(line) for line in open(os.path.join(out, "manifest.jsonl"))
               if line.strip()]
    records = [r for r in records if "file" in r]
    t.check(len(records) >= 1, "no file in the manifest")
    for r in records:
        got = [(f["expression"], f["since_ns"]) for f in r.get("filters", [])]
        t.check(len(got) >= 1 and len(set(got)) == len(got),
                f"manifest {r['file']}: filters {got}")
        at = eras.index(got[0]) if got and got[0] in eras else -1
        t.check(at >= 0 and got == eras[at:at + len(got)],
                f"manifest {r['file']}: filters {got} are not eras of {eras}")

    kinds = {}
    total = 0
    for f in e.shard_files(out):
        for rec in e.read_pcap(f)["records"]:
            d = rec[3]
            kind = "other"
            if len(d) >= 38 and d[12:14] == b"\x08\x00":
                ports = {int.from_bytes(d[34:36], "big"), int.from_bytes(d[36:38], "big")}
                if d[23] == 6 and 22 in ports:
                    kind = A
                elif d[23] == 17 and 53 in ports:
                    kind = B
            kinds[kind] = kinds.get(kind, 0) + 1
            total += 1
    t.check(total == s["written"], f"files hold {total}, stats say {s['written']}")
    t.check("other" not in kinds, f"packets neither filter keeps were written: {kinds}")
    t.check(kinds.get(A, 0) > 0 and kinds.get(B, 0) > 0, f"both filters wrote: {kinds}")
    print(f"{len(hist)} filters, received {s['received']}, written {total} {kinds}",
          file=sys.stderr)
    shutil.rmtree(work)
    t.done()


if __name__ == "__main__":
    main()
