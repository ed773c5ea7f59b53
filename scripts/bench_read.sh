#!/usr/bin/env bash
# -r against tcpdump -r -w on this machine, one command:
#   scripts/bench_read.sh [PACKETS] [RUNS] [BUILD_DIR]      (defaults 3000000, 3, build)
# Makes a sample capture (scripts/make_sample_pcap.py: IMIX-like sizes) of PACKETS packets in
# a temporary directory on the filesystem of /tmp, then, RUNS times in turn, each from a warm
# page cache and ending with sync (the files on disk, not in memory):
#   dd      dd oflag=direct of as many bytes (the disk's limit)
#   tcpdump tcpdump --nano -r FILE -w OUT
#   linecap linecap -r FILE -w DIR (hashes, index, manifest), and with --no-index
# Prints seconds, packets/s and MB/s per run and the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-3000000}
runs=${2:-3}
build=${3:-build}
[ -x "$build/app/linecap" ] || scripts/build.sh "$build"
work=$(mktemp -d /tmp/lc_bench_read.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 scripts/make_sample_pcap.py "$work/in.pcap" "$packets" >/dev/null
bytes=$(stat -c %s "$work/in.pcap")
cat "$work/in.pcap" >/dev/null	# warm
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; sync; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
declare -A all
for r in $(seq 1 "$runs"); do
  all[dd]+="$(secs dd if="$work/in.pcap" of="$work/dd.out" bs=1M oflag=direct) "; rm -f "$work/dd.out"
  all[tcpdump]+="$(secs tcpdump --nano -r "$work/in.pcap" -w "$work/t.pcap") "; rm -f "$work/t.pcap"
  all[linecap]+="$(secs "$build/app/linecap" -B 64M -r "$work/in.pcap" -w "$work/l") "; rm -rf "$work/l"
  all[linecap_noindex]+="$(secs "$build/app/linecap" -B 64M --no-index -r "$work/in.pcap" -w "$work/l") "; rm -rf "$work/l"
done
printf "%s packets, %.1f MB, %s runs (load %s)\n" "$packets" "$(echo "$bytes / 1000000" | bc -l)" "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-16s %-28s %10s %12s %10s\n" what "seconds (each run)" median "packets/s" "MB/s"
for k in dd tcpdump linecap linecap_noindex; do
  med=$(echo ${all[$k]} | tr ' ' '\n' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf "%-16s %-28s %10.2f %12.0f %10.1f\n" "$k" "${all[$k]}" "$med" "$(echo "$packets / $med" | bc -l)" "$(echo "$bytes / $med / 1000000" | bc -l)"
done
