#!/usr/bin/env bash
# A real capture on a built-in virtual port: DPDK's net_pcap replays a generated sample
# capture at full speed for a few seconds; linecap keeps the README's example filter and
# writes shards under ./captures/, then checks them against their manifest.
# Usage: scripts/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}

scripts/deps.sh
scripts/hugepages.sh || true
scripts/build.sh build

mkdir -p captures
sample=captures/sample.pcap
[ -f "$sample" ] || python3 scripts/make_sample_pcap.py "$sample" 100000
out=captures/run-$(date +%Y%m%d-%H%M%S)
filter='host 192.168.1.100 and port 443'

echo "+ build/app/linecap -i net_pcap0,rx_pcap=$sample,infinite_rx=1 -w $out --duration $secs --stats-file $out.json '$filter'"
build/app/linecap -i "net_pcap0,rx_pcap=$sample,infinite_rx=1" -w "$out" \
  --duration "$secs" --stats-file "$out.json" "$filter"

echo
ls -l "$out"
first=$(ls "$out"/*.pcap | head -n 1)
echo "+ tcpdump -n -r $first -c 4"
tcpdump -n -r "$first" -c 4 2>/dev/null
echo "+ build/app/linecap-verify $out"
build/app/linecap-verify "$out"
