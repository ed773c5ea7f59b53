#!/usr/bin/env python3
"""Turn scripts/bench.sh's results into the capture section of docs/performance.md (between
the bench.sh markers), a PNG chart (gnuplot), and a projection to 10/40/100 Gbit/s."""
import os
import subprocess
import sys
import time

res, png, mhz, secs, runs = sys.argv[1:6]
burst = [line.split() for line in open(sys.argv[6])] if len(sys.argv) > 6 else []
rows = [line.rstrip("\n").split("\t") for line in open(res)][1:]
hz = float(mhz) * 1e6


def mpps(v):
    return f"{float(v) / 1e6:.2f}"


out = [f"<!-- bench.sh begin -->", "", "## Capture side by side (`scripts/bench.sh`)", "",
       f"Measured {time.strftime('%Y-%m-%d')} on this machine (2 vCPUs, {float(mhz):.0f} MHz "
       f"TSC, Debian 12, DPDK 22.11): the same net_pcap `infinite_rx=1` source and the same "
       f"two cores for every tool; {runs} runs of {secs} s each, medians (linecap's spread "
       "min-max). Mpps written are packets written to disk per second over the whole run. "
       "`ceiling` is dpdk-testpmd in rxonly mode, run just before each linecap run; "
       "`received / ceiling` is the median of those pairs' ratios (min-max), each side's "
       "rate the median of its per-second figures after the first second. `dumpcap` is "
       "dpdk-dumpcap attached to testpmd; tcpdump reads the same file (`tcpdump -r -w`). "
       "`none-ram` writes to /dev/shm instead of the disk (every tool): what is left when the "
       "disk is taken away.", "",
       "| traffic | filter | ceiling | dumpcap written (drops) | linecap received | "
       "linecap written | spread | linecap buffer-full drops | received / ceiling | "
       "written: linecap / dumpcap | tcpdump -r -w |",
       "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for r in rows:
    t, k, ceil, dc, dcd, lc, lcs, lcd, rx, wr, ww, wh, wi, td, lv, pr, prs = r[:17]
    lo, hi = lcs.split("-")
    plo, phi = prs.split("-")
    ratio = f"{float(lc) / float(dc):.1f}x" if float(dc) > 0 else "dumpcap wrote 0"
    out.append(f"| {t} | {k} | {mpps(ceil)} | {mpps(dc)} ({dcd}%) | {mpps(lv)} | "
               f"{mpps(lc)} | {mpps(lo)}-{mpps(hi)} | {int(float(lcd)):,} | "
               f"{float(pr):.0%} ({float(plo):.0%}-{float(phi):.0%}) | {ratio} | "
               f"{mpps(td)} |")
out += ["", "Filtered rows: `written` is what the filter keeps (about 1%); `received` is what "
        "linecap judged per second. dpdk-dumpcap's filter for `tcp[tcpflags] & tcp-rst != 0` "
        "goes through DPDK's BPF converter, which mistranslates it: it wrote nothing.",
        "", "To disk against the disk's own limit, each linecap run paired with `dd "
        "if=/dev/zero bs=1M count=1024 oflag=direct` on the same filesystem just before it "
        "(medians of the pairs' ratios, min-max):", "",
        "| traffic | dd oflag=direct | linecap written | linecap / dd |",
        "|---|---:|---:|---:|"]
for r in rows:
    if r[1] != "none" or len(r) < 21:
        continue
    lo, hi = r[20].split("-")
    out.append(f"| {r[0]} | {float(r[17]) / 1e9:.2f} GB/s | {float(r[18]) / 1e9:.2f} GB/s | "
               f"{float(r[19]):.0%} ({float(lo):.0%}-{float(hi):.0%}) |")
if burst:
    out += ["", "Burst absorption (`scripts/burst.sh`): 64-byte frames at full speed while the "
            "first write to the file stalls for longer than the run, so nothing leaves memory; "
            "packets held (all written at the end, with buffer-full drops once memory ran out) "
            "per MiB of what linecap allocated (mbuf pool, capture buffers, writer buffers):", "",
            "| -B | packets absorbed | memory | packets per MiB |", "|---|---:|---:|---:|"]
    for b in burst:
        v = dict(zip(b[1::2], b[2::2])) if len(b) > 2 and b[1] == "absorbed" else \
            dict(zip(b[2::2], b[3::2]))
        out.append(f"| {' '.join(b[:2]) if b[0] == '-B' else b[0]} | "
                   f"{int(v.get('absorbed', 0)):,} | {v.get('memory_mib', '?')} MiB | "
                   f"{int(v.get('per_mib', 0)):,} |")
out += ["", "linecap's own cost per packet written (TSC cycles, medians; RX per packet received, "
        "excluding the driver's receive call, including formatting the record; the writer "
        "lcore copies chunks into its write buffer (its CPU time) and waits for a free one "
        "(wall time); its two I/O threads, on the same CPU, hash (CPU time) and write (wall "
        "time in write calls: mostly waiting for the disk, not CPU):", "",
        "| traffic | filter | RX stage | writer lcore | copying | waiting | I/O: SHA-256 | "
        "I/O: write calls |",
        "|---|---|---:|---:|---:|---:|---:|---:|"]
for r in rows:
    fmt = float(r[9]) - float(r[10])
    out.append(f"| {r[0]} | {r[1]} | {r[8]} | {r[9]} | {fmt:.1f} | {r[10]} | {r[11]} | "
               f"{r[12]} |")

# Projection: packet rates of a full link and the cores and disk bandwidth they need.
wire = {"64": 64 + 20, "imix": 353.83 + 20}
stored = {"64": 60 + 16, "imix": 349.83 + 16}
cost = {r[0]: (float(r[8]), float(r[9]) - float(r[10]) + float(r[11]))
        for r in rows if r[1] == "none"}
out += ["", "Projection from these cycle counts (no filter; a full link; RX cores = rate x RX "
        "cycles / TSC Hz, writer cores = rate x (copying + SHA-256) / TSC Hz, rounded up; "
        "disk = what the files grow by, which the write threads must sustain; the NIC "
        "driver's own receive cost comes on top of the RX cores: net_pcap's, which copies "
        "every frame from a file, is no guide to a NIC's):",
        "", "| link | traffic | Mpps | RX cores | writer cores | disk |",
        "|---|---|---:|---:|---:|---:|"]
for g in (10, 40, 100):
    for t in ("64", "imix"):
        if t not in cost:
            continue
        pps = g * 1e9 / (wire[t] * 8)
        rxc = -(-pps * cost[t][0] // hz)
        wrc = -(-pps * cost[t][1] // hz)
        out.append(f"| {g} Gbit/s | {t} | {pps / 1e6:.1f} | {int(rxc)} | {int(wrc)} | "
                   f"{pps * stored[t] / 1e9:.1f} GB/s |")
out += ["", "![written packets per second](performance-capture.png)", "",
        "<!-- bench.sh end -->"]

doc = "docs/performance.md"
text = open(doc).read() if os.path.exists(doc) else "# Performance\n"
if "<!-- bench.sh begin -->" in text:
    a = text.index("<!-- bench.sh begin -->")
    b = text.index("<!-- bench.sh end -->") + len("<!-- bench.sh end -->")
    text = text[:a] + "\n".join(out) + text[b:]
else:
    text = text.rstrip("\n") + "\n\n" + "\n".join(out) + "\n"
open(doc, "w").write(text)

dat = res + ".dat"
with open(dat, "w") as f:
    for r in rows:
        f.write(f"{r[0]}/{r[1]} {float(r[2]) / 1e6} {float(r[3]) / 1e6} {float(r[5]) / 1e6} "
                f"{float(r[13]) / 1e6} {float(r[14]) / 1e6}\n")
gp = f"""set terminal pngcairo size 1100,500
set output '{png}'
set style data histograms
set style histogram cluster gap 1
set style fill solid border -1
set ylabel 'Mpps'
set xtics rotate by -30
set key top right
set title 'Packets per second: source ceiling, judged by linecap, written (median of {runs} runs)'
plot '{dat}' using 2:xtic(1) title 'testpmd rxonly (ceiling)', '' using 6 title 'linecap received', '' using 3 title 'dpdk-dumpcap written', '' using 4 title 'linecap written', '' using 5 title 'tcpdump -r -w'
"""
subprocess.run(["gnuplot"], input=gp, text=True, check=True)
print("\n".join(out))
