#!/usr/bin/env bash
# Side-by-side capture benchmark on this machine, one command:
#   scripts/bench.sh [SECONDS_PER_RUN] [RUNS]        (defaults 4 and 3)
#   scripts/bench.sh veth [SECONDS] [RUNS] ...      (linecap vs tcpdump on a veth pair: bench_veth.sh)
# Traffic files (64 B, IMIX, 1518 B; ~1% on 192.168.1.100:443, ~1% TCP RST) are made with
# linecap-gen; each is replayed by DPDK's net_pcap with infinite_rx=1 on the same two cores:
#   ceiling  dpdk-testpmd in rxonly mode (what the source delivers)
#   dumpcap  dpdk-testpmd + dpdk-dumpcap (secondary process; needs hugepages)
#   linecap  linecap, 1 RX core + 1 writer
# and tcpdump -r FILE -w OUT reads the same files; each with no filter,
# 'host 192.168.1.100 and port 443' and 'tcp[tcpflags] & tcp-rst != 0', and once more with no
# filter writing to RAM (/dev/shm) instead of the disk, which shows what the disk costs.
# Every linecap run is paired with a ceiling run just before it: the ratio of the two is
# taken per pair (the shared machine drifts between minutes), then the median of the pairs.
# Runs writing to disk are also paired with `dd oflag=direct` (1 GiB in 1 MiB blocks, on the
# same filesystem, just before): the disk's limit, and linecap's written bytes/s against it.
# Last, scripts/burst.sh: packets absorbed while the disk stalls, per MiB of memory.
# Rates per second are the median of the per-second figures after the first second, for
# testpmd and linecap alike; written packets are the total over the run's seconds.
# Prints the tables and writes them (medians, spreads, chart, projection) to
# docs/performance.md between the "bench.sh" markers.
set -uo pipefail
cd "$(dirname "$0")/.."
# scripts/bench.sh veth [SECONDS] [RUNS] [BUILD_DIR] [RATES] [TRAFFIC]: linecap against tcpdump
# on a kernel interface (a veth pair in a network namespace), scripts/bench_veth.sh
if [ "${1:-}" = veth ]; then
  shift
  exec scripts/bench_veth.sh "$@"
fi
secs=${1:-4}
runs=${2:-3}

scripts/deps.sh
command -v gnuplot >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null; }
scripts/hugepages.sh 1024 || true
scripts/build.sh build

work=$(mktemp -d /var/tmp/lcbench.XXXXXX)
ram=$(mktemp -d /dev/shm/lcbench.XXXXXX)
trap 'rm -rf "$work" "$ram"' EXIT
dpaa=$(ls /usr/lib/x86_64-linux-gnu/dpdk/pmds-*/librte_mempool_dpaa.so 2>/dev/null | head -1)
hz=$(python3 -c "import re;print([l for l in open('/proc/cpuinfo') if 'MHz' in l][0].split(':')[1].strip())")

declare -A FILTER=([none]="" [host]="host 192.168.1.100 and port 443"
                   [rst]="tcp[tcpflags] & tcp-rst != 0" [none-ram]="")
for t in 64 imix 1518; do
  case $t in
    64) mode=(--size 60) ;;
    imix) mode=(--imix) ;;
    1518) mode=(--size 1514) ;;
  esac
  build/app/linecap-gen -w "$work/$t.pcap" "${mode[@]}" -c 100000 --flows 4096 \
    --evidence-fraction 0.01 --rst-fraction 0.01 2>/dev/null
done

# testpmd rxonly: median Rx-pps of the run (first second left out).
ceiling() {
  timeout -s INT $((secs + 2)) dpdk-testpmd -l 0,1 --file-prefix=lcb_tpm --huge-unlink \
    --no-pci --vdev "net_pcap0,rx_pcap=$1,infinite_rx=1" --log-level='*:error' -- \
    --forward-mode=rxonly --nb-cores=1 --stats-period=1 --total-num-mbufs=200000 2>&1 |
    awk '/Rx-pps/ && $2 > 0 {print $2}' | tail -n +2 | sort -n |
    awk '{a[NR]=$1} END {print a[int((NR+1)/2)]+0}'
}

# testpmd + dumpcap: packets written per second, and the share dumpcap reports dropped.
dumpcap_run() {
  local f=$1 expr=$2 out="$3/dc.pcapng"
  rm -f "$out"
  timeout -s INT $((secs + 6)) dpdk-testpmd -l 0,1 --file-prefix=lcb_dc --no-pci \
    --vdev "net_pcap0,rx_pcap=$f,infinite_rx=1" --log-level='*:error' -- \
    --forward-mode=rxonly --nb-cores=1 --stats-period=1 --total-num-mbufs=200000 >/dev/null 2>&1 &
  local tp=$!
  sleep 2
  local log
  log=$(LD_PRELOAD=$dpaa timeout -s INT $((secs + 3)) dpdk-dumpcap --file-prefix=lcb_dc \
        -i net_pcap0 -q -w "$out" -a "duration:$secs" ${expr:+-f "$expr"} 2>&1)
  kill -INT $tp 2>/dev/null; wait $tp 2>/dev/null
  local n
  n=$(capinfos -c -M "$out" 2>/dev/null | awk '/Number of packets/ {print $NF}')
  local drop
  drop=$(echo "$log" | sed -n "s/.*received\/dropped on interface '[^']*': \([0-9]*\)\/\([0-9]*\).*/\1 \2/p")
  rm -f "$out"
  echo "$(( ${n:-0} / secs )) ${drop:-0 0}"
}

# The disk's limit now: bytes/s of dd with O_DIRECT into directory $1.
disk_limit() {
  LC_ALL=C dd if=/dev/zero of="$1/dd.bin" bs=1M count=1024 oflag=direct 2>&1 |
    awk '/copied/ {for (i = 1; i <= NF; i++) if ($(i+1) == "s,") s = $i; print int($1 / s)}'
  rm -f "$1/dd.bin"
}

# linecap: written per second, buffer drops, received, RX stage and writer lcore cycles per
# packet (total, of which waiting for the disk), the I/O threads' SHA-256 and write calls.
linecap_run() {
  local f=$1 expr=$2 out="$3/lc"
  rm -rf "$out"
  build/app/linecap -i "net_pcap0,rx_pcap=$f,infinite_rx=1" -w "$out" --duration "$secs" \
    --stats-file "$work/lc.json" ${expr:+"$expr"} 2>"$work/lc.err" >/dev/null
  python3 - "$work/lc.json" "$work/lc.err" <<'PY'
import json, re, statistics, sys
s = json.load(open(sys.argv[1]))
t = s["seconds"]
# Status lines "Ns received N (X Mpps)": the median after the first second, as for testpmd.
per_s = [float(m.group(1)) * 1e6 for m in
         re.finditer(r"\d+s received \d+ \(([\d.]+) Mpps\)", open(sys.argv[2]).read())][1:]
rate = statistics.median(per_s) if per_s else s["received"] / t
print(int(s["written"] / t), s["buffer_full"], int(rate),
      round(s["rx_cycles_per_packet"], 1), round(s["writer_cycles_per_packet"], 1),
      round(s["writer_wait_cycles_per_packet"], 1), round(s["io_hash_cycles_per_packet"], 1),
      round(s["io_write_cycles_per_packet"], 1), s["written"], s["passed_filter"],
      int(s["written_bytes"] / t))
PY
  rm -rf "$out"
}

tcpdump_run() {
  local f=$1 expr=$2 s e n
  n=$(capinfos -c -M "$f" | awk '/Number of packets/ {print $NF}')
  s=$(date +%s%N)
  tcpdump -n -r "$f" -w "$3/td.pcap" ${expr:+"$expr"} 2>/dev/null
  e=$(date +%s%N)
  rm -f "$3/td.pcap"
  echo $(( n * 1000000000 / (e - s) ))
}

med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
spread() { sort -n | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s-%s", lo, hi}'; }

results="$work/results.tsv"
echo -e "traffic\tfilter\tceiling\tdumpcap\tdumpcap_drop%\tlinecap\tlinecap_spread\tlinecap_buffer_full\trx_cyc\twr_cyc\twr_wait\tio_hash\tio_write\ttcpdump\tlinecap_received\tpaired_ratio\tpaired_spread\tdisk_Bps\tlinecap_Bps\tdisk_ratio\tdisk_ratio_spread" > "$results"
for t in 64 imix 1518; do
  f="$work/$t.pcap"
  for k in none host rst none-ram; do
    expr=${FILTER[$k]}
    dest=$work; [ "$k" = none-ram ] && dest=$ram
    c=(); d=(); dd=(); l=(); lr=(); rx=(); wr=(); ww=(); wh=(); wi=(); lv=(); pr=()
    dk=(); lb=(); rt=()
    for r in $(seq "$runs"); do
      read -r dw dr dx <<<"$(dumpcap_run "$f" "$expr" "$dest")"
      d+=("$dw"); dd+=("$(awk -v a="$dr" -v b="$dx" 'BEGIN {printf "%.0f", a ? 100*b/a : 0}')")
      cr=$(ceiling "$f"); c+=("$cr")
      dl=0; [ "$k" = none ] && dl=$(disk_limit "$dest")
      read -r lw ld lrcv rxc wrc wwc whc wic _ _ lbps <<<"$(linecap_run "$f" "$expr" "$dest")"
      dk+=("$dl"); lb+=("$lbps")
      rt+=("$(awk -v a="$lbps" -v b="$dl" 'BEGIN {printf "%.3f", b ? a/b : 0}')")
      l+=("$lw"); lr+=("$ld"); rx+=("$rxc"); wr+=("$wrc"); ww+=("$wwc"); wh+=("$whc")
      wi+=("$wic")
      lv+=("$lrcv")
      pr+=("$(awk -v a="$lrcv" -v b="$cr" 'BEGIN {printf "%.3f", b ? a/b : 0}')")
    done
    cmed=$(printf '%s\n' "${c[@]}" | med)
    td=$(tcpdump_run "$f" "$expr" "$dest")
    echo -e "$t\t$k\t$cmed\t$(printf '%s\n' "${d[@]}" | med)\t$(printf '%s\n' "${dd[@]}" | med)\t$(printf '%s\n' "${l[@]}" | med)\t$(printf '%s\n' "${l[@]}" | spread)\t$(printf '%s\n' "${lr[@]}" | med)\t$(printf '%s\n' "${rx[@]}" | med)\t$(printf '%s\n' "${wr[@]}" | med)\t$(printf '%s\n' "${ww[@]}" | med)\t$(printf '%s\n' "${wh[@]}" | med)\t$(printf '%s\n' "${wi[@]}" | med)\t$td\t$(printf '%s\n' "${lv[@]}" | med)\t$(printf '%s\n' "${pr[@]}" | med)\t$(printf '%s\n' "${pr[@]}" | spread)\t$(printf '%s\n' "${dk[@]}" | med)\t$(printf '%s\n' "${lb[@]}" | med)\t$(printf '%s\n' "${rt[@]}" | med)\t$(printf '%s\n' "${rt[@]}" | spread)" | tee -a "$results"
  done
done

# Burst absorption, once per run of the script (default -B, then a small one).
: > "$work/burst.txt"
for b in "" "-B 16M"; do
  echo "${b:-default} $(scripts/burst.sh build -- $b)" | tee -a "$work/burst.txt"
done

python3 scripts/bench_report.py "$results" "$work/chart.png" "$hz" "$secs" "$runs" "$work/burst.txt"
cp "$work/chart.png" docs/performance-capture.png
echo "wrote docs/performance.md and docs/performance-capture.png"
