#!/usr/bin/env bash
# linecap against tcpdump on a kernel interface (issue 16), on this machine, one command:
#   scripts/bench_veth.sh [SECONDS] [RUNS] [BUILD_DIR] [RATES] [TRAFFIC]
#   (also: scripts/bench.sh veth ...; defaults 3, 3, build, "25000 50000 100000 200000
#   400000" packets/s, "64")
# A network namespace of its own with a veth pair lcB0-lcB1 (no addresses, IPv6 off: nothing
# but the generator's frames crosses it), deleted at exit whatever happens. linecap-gen
# sends sequence-tagged frames (TRAFFIC: 64 = 64-byte frames, imix = 7:4:1 of 64, 570, 1518)
# through AF_PACKET into lcB0 (net_af_packet0,iface=lcB0), paced at each rate of RATES for
# SECONDS, while on lcB1, each in its own run:
#   none       nothing captures: what reaches lcB1 (its rx_packets), the sender's and veth's
#              own limit
#   tcpdump    tcpdump -i lcB1 -B 65536 -w FILE (a 64 MiB ring, as a user asking for a
#              large buffer types it)
#   lc-xdp     linecap -i lcB1 (AF_XDP, copy mode on veth: what -i NAME of a kernel interface
#              chooses; LC_VETH_XDP_DEV=net_af_xdp0,iface=lcB1,start_queue=0,queue_count=1
#              for the vdev it translates to, with a linecap older than -i NAME)
#   lc-packet  linecap -i net_af_packet0,iface=lcB1,qpairs=1,blocksz=4096,framesz=2048,
#              framecnt=4096 (AF_PACKET: what -i af_packet:lcB1 and the fall-back use)
# linecap with -B 16M, no filter, files on /var/tmp as tcpdump's. The order is interleaved:
# every run visits each rate, each capturer in turn at each rate; RUNS runs.
# CPUs: the sender (at nice -10, so that other work on the machine slows it less; the kernel's
# softirq work it drives runs there too) on CPU 0; the capturer's own
# threads on the last CPU (linecap's main, RX and writer lcores all there, tcpdump under
# taskset), so that a busy-polling capturer does not take the sender's CPU.
# Loss of each run: `linecap-seqcheck --sent` on the files written against the sender's
# counts (what the user sees), beside where it happened: lcB1's rx_dropped (the kernel's
# veth ring or XDP redirect), the capturer's own drop counter (tcpdump's "dropped by kernel";
# linecap's imissed + buffer-full + rx_nombuf). CPU: linecap's RX and writer TSC cycles per
# packet (its stats file), tcpdump's process CPU (user + system, /proc) per packet; neither
# counts the kernel's softirq work.
# Prints the markdown tables and writes them into docs/performance.md between the
# "bench.sh veth" markers (when present); the raw runs go to stderr as they come.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
use="usage: scripts/bench_veth.sh [SECONDS] [RUNS] [BUILD_DIR] [RATES] [TRAFFIC]   (defaults 3, 3, build, \"25000 50000 100000 200000 400000\", 64)"
usage() { echo "$use" >&2; exit 2; }
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { echo "$use"; exit 0; }
[ $# -le 5 ] || usage
secs=${1:-3}
runs=${2:-3}
build=${3:-build}
rates=${4:-25000 50000 100000 200000 400000}
traffic=${5:-64}
[[ $secs =~ ^[1-9][0-9]*$ ]] || { echo "bench_veth: SECONDS: a positive integer" >&2; usage; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench_veth: RUNS: a positive integer" >&2; usage; }
for r in $rates; do
  [[ $r =~ ^[1-9][0-9]*$ ]] || { echo "bench_veth: RATES: packets/s, blank-separated" >&2; usage; }
done
for t in $traffic; do
  [[ $t =~ ^(64|imix)$ ]] || { echo "bench_veth: TRAFFIC: 64 and/or imix" >&2; usage; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench_veth: run as root (network namespace, AF_XDP)" >&2; exit 1; }

scripts/deps.sh >&2 || exit 1
scripts/hugepages.sh 1024 >&2 || true
scripts/build.sh "$build" >&2 || exit 1
lc=$build/app/linecap
gen=$build/app/linecap-gen
seqcheck=$build/app/linecap-seqcheck
xdpdev=${LC_VETH_XDP_DEV:-lcB1}
pktdev=net_af_packet0,iface=lcB1,qpairs=1,blocksz=4096,framesz=2048,framecnt=4096

ns=lcbench$$
work=$(mktemp -d /var/tmp/lcveth.XXXXXX)
cappid=""
cleanup() {
  [ -n "$cappid" ] && kill -INT "$cappid" 2>/dev/null && wait "$cappid"
  ip netns del "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns" || exit 1
ip -n "$ns" link add lcB0 type veth peer name lcB1 || exit 1
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
  net.ipv6.conf.lcB0.disable_ipv6=1 net.ipv6.conf.lcB1.disable_ipv6=1
ip -n "$ns" link set lcB0 up && ip -n "$ns" link set lcB1 up || exit 1
nsx() { ip netns exec "$ns" "$@"; }

ncpu=$(nproc)
scpu=0
ccpu=$((ncpu - 1))
hz=$(python3 -c "print([l for l in open('/proc/cpuinfo') if 'MHz' in l][0].split(':')[1].strip())")
tck=$(getconf CLK_TCK)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# until_ok SECONDS COMMAND... (scripts/bench_lib.sh)
. scripts/bench_lib.sh

# lcB1's rx_packets and rx_dropped.
counters() {
  nsx cat /sys/class/net/lcB1/statistics/rx_packets /sys/class/net/lcB1/statistics/rx_dropped |
    tr '\n' ' '
}

# The CPU ticks (user + system) of process $1.
ticks() {
  awk '{s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13]}' "/proc/$1/stat" 2>/dev/null ||
    echo 0
}

# run CAPTURER RATE TRAFFIC: one run; prints "sent gen_pps wire_bps captured lost
# lcB1_rx lcB1_dropped capturer_drops cycles_rx cycles_writer" (cycles_rx: tcpdump's process
# CPU per packet for tcpdump; - where none).
run() {
  local cap=$1 rate=$2 t=$3 mode out="$work/cap" pid="" c0 c1 tk=0 line
  case $t in 64) mode=(--size 60) ;; imix) mode=(--imix) ;; esac
  rm -rf "$out" "$work"/*.json "$work"/*.err "$work/gen.txt"
  case $cap in
    tcpdump)
      mkdir -p "$out"
      timeout -s INT $((secs + 60)) ip netns exec "$ns" taskset -c "$ccpu" \
        tcpdump -n -i lcB1 -B 65536 -w "$out/td.pcap" 2>"$work/cap.err" &
      cappid=$!
      until_ok 20 grep -qs "listening on" "$work/cap.err" ||
        { echo "bench_veth: tcpdump did not start: $(tail -2 "$work/cap.err")" >&2; return 1; }
      pid=$(pgrep -P "$cappid" | head -1)
      tk=$(ticks "$pid") ;;
    lc-xdp|lc-packet)
      local dev=$xdpdev
      [ "$cap" = lc-packet ] && dev=$pktdev
      timeout -s INT $((secs + 60)) ip netns exec "$ns" "$lc" -i "$dev" -w "$out" -B 16M \
        --duration $((secs + 50)) --status-interval 0 --stats-file "$work/lc.json" \
        --eal "--lcores=0@$ccpu,1@$ccpu,2@$ccpu" >/dev/null 2>"$work/cap.err" &
      cappid=$!
      until_ok 60 eval "grep -qs -- '-> writer' '$work/cap.err' || ! kill -0 $cappid 2>/dev/null"
      grep -q -- "-> writer" "$work/cap.err" ||
        { echo "bench_veth: linecap did not start: $(tail -3 "$work/cap.err")" >&2; return 1; }
      sleep 0.5 ;;
  esac
  c0=$(counters)
  timeout -s INT $((secs + 30)) ip netns exec "$ns" nice -n -10 "$gen" -i net_af_packet0,iface=lcB0 \
    "${mode[@]}" --rate "$rate" --duration "$secs" --stats-file "$work/gen.json" \
    --eal "--lcores=0@$scpu,1@$scpu" >"$work/gen.txt" 2>&1
  local grc=$?
  # tcpdump hands a block over once full or after its 1 s timeout: give it that before the stop
  sleep 1.5
  c1=$(counters)
  if [ -n "$cappid" ]; then
    [ -n "$pid" ] && tk=$(( $(ticks "$pid") - tk ))
    kill -INT "$cappid"
    wait "$cappid"
    cappid=""
  fi
  # The sender stalled past its time bound (seen once under heavy load): the run is left out
  # and counted as failed, and the bench goes on.
  [ "$grc" -eq 0 ] || { echo "bench_veth: linecap-gen failed ($grc): $(tail -1 "$work/gen.txt")" >&2
    echo failed; return 0; }
  if [ "$cap" != none ]; then	# exit 1: loss (counted below); 2: no capture to read
    "$seqcheck" --sent "$work/gen.json" "$out" >"$work/seq.txt" 2>&1
    [ "$?" -le 1 ] || { echo "bench_veth: seqcheck: $(tail -2 "$work/seq.txt")" >&2; return 1; }
  fi
  python3 - "$cap" "$work" "$c0" "$c1" "$tk" "$tck" "$hz" <<'PY'
import json, re, sys
cap, work, c0, c1, tk, tck, hz = sys.argv[1:]
g = json.load(open(f"{work}/gen.json"))
m = re.search(r"sent (\d+) frames, (\d+) bytes in ([\d.]+) s", open(f"{work}/gen.txt").read())
sent, secs = g["sent"], float(m.group(3))
wire = (int(m.group(2)) + 24 * sent) * 8 / secs	# bits/s on the wire (FCS, preamble, gap)
rx0, dr0 = map(int, c0.split())
rx1, dr1 = map(int, c1.split())
rx, dropped = rx1 - rx0, dr1 - dr0
cyc_rx = cyc_wr = "-"
if cap == "none":
    got, capdrops = rx, 0
else:
    s = re.search(r"(\d+) received, (\d+) missing", open(f"{work}/seq.txt").read())
    got = int(s.group(1))
    if cap == "tcpdump":
        e = open(f"{work}/cap.err").read()
        d = re.search(r"(\d+) packets? dropped by kernel", e)
        capdrops = int(d.group(1)) if d else -1
        cyc_rx = round(int(tk) / int(tck) * float(hz) * 1e6 / got) if got else "-"
    else:
        j = json.load(open(f"{work}/lc.json"))
        capdrops = j["imissed"] + j["buffer_full"] + j["rx_nombuf"]
        cyc_rx, cyc_wr = round(j["rx_cycles_per_packet"]), round(j["writer_cycles_per_packet"])
print(sent, round(sent / secs), round(wire), got, sent - got, rx, dropped, capdrops, cyc_rx,
      cyc_wr)
PY
}

# LC_VETH_KEEP=FILE: append the raw runs (TSV) to FILE as well; LC_VETH_FROM=FILE: measure
# nothing, report the runs of FILE (several files' runs concatenated, say).
caps="none tcpdump lc-xdp lc-packet"
raw="$work/runs.tsv"
: >"$raw"
if [ -n "${LC_VETH_FROM:-}" ]; then
  cp "$LC_VETH_FROM" "$raw" || exit 1
else
  for t in $traffic; do
    for r in $(seq "$runs"); do
      for rate in $rates; do
        for cap in $caps; do
          line=$(run "$cap" "$rate" "$t") || exit 1
          echo -e "$t\t$rate\t$cap\t$r\t${line// /	}" >>"$raw"
          [ -n "${LC_VETH_KEEP:-}" ] && echo -e "$t\t$rate\t$cap\t$r\t${line// /	}" >>"$LC_VETH_KEEP"
          echo "  $t $rate pps run $r $cap: $line" >&2
        done
      done
    done
  done
fi
load1=$(cut -d' ' -f1-3 /proc/loadavg)
[ -n "${LC_VETH_FROM:-}" ] && load0="(not recorded: runs from LC_VETH_FROM)" && load1="-"

python3 - "$raw" "$secs" "$runs" "$build" "$rates" "$traffic" "$load0" "$load1" "$xdpdev" \
  "$pktdev" "$ncpu" "$ccpu" <<'PY' >"$work/section.md"
import collections, datetime, platform, statistics, sys
raw, secs, runs, build, rates, traffic, load0, load1, xdpdev, pktdev, ncpu, ccpu = sys.argv[1:]
rates = [int(r) for r in rates.split()]
R = collections.defaultdict(list)
failed = collections.Counter()
for l in open(raw):
    t, rate, cap, _, *v = l.rstrip("\n").split("\t")
    if v == ["failed"]:
        failed[(t, int(rate), cap)] += 1
        continue
    R[(t, int(rate), cap)].append(v)
med = lambda xs: statistics.median(xs)
def num(x):
    return None if x == "-" else float(x)
def mpps(x):
    return f"{x / 1e6:.3f} M" if x >= 1e5 else f"{x / 1e3:.1f} k"
cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
names = {"none": "nothing (lcB1's rx_packets)", "tcpdump": "tcpdump -B 65536",
         "lc-xdp": "linecap, AF_XDP", "lc-packet": "linecap, AF_PACKET"}
out = [f"Measured {datetime.date.today()} by `scripts/bench.sh veth {secs} {runs}` "
       f"(RATES {' '.join(map(str, rates))}, TRAFFIC {traffic}) on {cpu}, {ncpu} CPUs, "
       f"kernel {platform.release()}; load average {load0} at the start, {load1} at the end "
       f"(other work on the machine: under load when above about 1). The sender on CPU 0, "
       f"each capturer on CPU {ccpu}. AF_XDP: `-i {xdpdev}`; AF_PACKET: `-i {pktdev}`.", ""]
for t in traffic.split():
    fr = "64-byte frames" if t == "64" else "IMIX (7:4:1 of 64, 570, 1518 bytes)"
    out += [f"**{fr}**, {secs} s a run, {runs} runs: packets lost (median over the runs, "
            f"`linecap-seqcheck --sent`; in brackets the runs without loss), and the "
            f"sender's achieved rate (with nothing capturing; then, per capturer, in its "
            f"runs: the sender shares the machine with the capturer)", "",
            "| paced rate | sender achieved | " + " | ".join(names[c] for c in
            ("none", "tcpdump", "lc-xdp", "lc-packet")) + " |",
            "|---:|---:|---:|---:|---:|---:|"]
    best = {}
    for rate in rates:
        row = []
        wire = [int(v[2]) for c in ("none",) for v in R[(t, rate, c)]]
        wire_ach = [int(v[1]) for v in R[(t, rate, "none")]]
        for c in ("none", "tcpdump", "lc-xdp", "lc-packet"):
            vs = R[(t, rate, c)]
            if not vs:
                row.append("-")
                continue
            lost = [int(v[4]) for v in vs]
            sent = [int(v[0]) for v in vs]
            ok = sum(1 for x in lost if x == 0)
            share = med([100 * x / s for x, s in zip(lost, sent)])
            # a run counts as lossless at this rate only where the sender reached 95% of it
            full = sum(1 for x, v in zip(lost, vs) if x == 0 and int(v[1]) >= 0.95 * rate)
            row.append(f"{med(lost):.0f} ({share:.2f}%) [{ok}/{len(vs)}], sent "
                       f"{mpps(med([int(v[1]) for v in vs]))}")
            best.setdefault(c, {})[rate] = (full * 2 > len(vs), share, vs)
        out.append(f"| {rate:,} pps | {mpps(med(wire_ach))}pps, {med(wire) / 1e6:.0f} Mbit/s | "
                   + " | ".join(row) + " |")
    out += ["", f"Summary, {fr}: the highest paced rate whose runs were mostly (more than "
            f"half) without loss with the sender reaching 95% of that rate, and the loss at twice that rate; where the loss happened "
            f"(medians at that rate: lcB1's rx_dropped, the capturer's own drop counter); CPU "
            f"per packet at the zero-loss rate (linecap: its RX and writer lcores, TSC cycles "
            f"from the stats file, polling included; tcpdump: its process's user + system "
            f"time; neither includes the kernel's softirq work)", "",
            "| capturer | zero loss up to | bytes/s there | loss at twice that | lost where, at twice | CPU cycles/packet |",
            "|---|---:|---:|---:|---|---|"]
    for c in ("none", "tcpdump", "lc-xdp", "lc-packet"):
        b = best.get(c, {})
        good = [r for r in rates if r in b and b[r][0]]
        # the highest rate of an unbroken run of lossless steps from the lowest
        top = None
        for r in rates:
            if r in good:
                top = r
            else:
                break
        if top is None:
            out.append(f"| {names[c]} | below {rates[0]:,} pps | | | | |")
            continue
        vs = b[top][2]
        byt = med([int(v[2]) for v in vs]) / 8 / 1e6
        pk = med([int(v[1]) for v in vs])
        twice = top * 2
        if twice in b:
            _, share, v2 = b[twice]
            at2 = f"{share:.2f}% ({med([int(v[4]) for v in v2]):.0f} of {med([int(v[0]) for v in v2]):.0f})"
            where = (f"sender {mpps(med([int(v[1]) for v in v2]))}pps; lcB1 {med([int(v[6]) for v in v2]):.0f}, capturer "
                     f"{med([int(v[7]) for v in v2]):.0f}")
        else:
            at2, where = "not measured (above RATES)", ""
        if c == "tcpdump":
            cy = f"{med([num(v[8]) for v in vs if num(v[8]) is not None]):.0f} (process)"
        elif c == "none":
            cy = "-"
        else:
            cy = (f"RX {med([num(v[8]) for v in vs]):.0f} + writer "
                  f"{med([num(v[9]) for v in vs]):.0f}")
        out.append(f"| {names[c]} | {top:,} pps ({mpps(pk)}pps achieved) | {byt:.1f} MB/s on the wire | {at2} | {where} | {cy} |")
    out.append("")
if failed:
    out += ["Runs left out because the sender stalled past its time bound: " + ", ".join(
        f"{t} {r:,} pps {names[c]} ({n})" for (t, r, c), n in sorted(failed.items())) + ".", ""]
print("\n".join(out))
PY
cat "$work/section.md"
python3 - "$work/section.md" <<'PY'
import os, sys
doc, b, e = "docs/performance.md", "<!-- bench.sh veth begin -->", "<!-- bench.sh veth end -->"
text = open(doc).read()
if b in text and e in text:
    new = text[:text.index(b) + len(b)] + "\n" + open(sys.argv[1]).read() + text[text.index(e):]
    open(doc + ".tmp", "w").write(new)
    os.replace(doc + ".tmp", doc)
    print("wrote docs/performance.md (bench.sh veth markers)", file=sys.stderr)
PY
