#!/usr/bin/env bash
# linecap-merge beside mergecap on the same shards: a 4-queue capture of a generated replay,
# merged 5 times by each into a nanosecond pcap; prints the medians and their ratio, and
# checks both outputs are byte for byte the same. Usage: scripts/bench_merge.sh [PACKETS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-400000}
scripts/build.sh build >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/make_sample_pcap.py "$work/src.pcap" "$n"
dev="net_pcap0,rx_pcap=$work/src.pcap,rx_pcap=$work/src.pcap,rx_pcap=$work/src.pcap,rx_pcap=$work/src.pcap"
build/app/linecap -i "$dev" -w "$work/shards" 2>/dev/null
packets=$(python3 -c "import json,sys; print(sum(json.loads(l).get('packets',0) for l in open(sys.argv[1])))" "$work/shards/manifest.jsonl")
bytes=$(du -cb "$work"/shards/*.pcap | tail -1 | cut -f1)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_it() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }
ours=(); theirs=()
for i in 1 2 3 4 5; do
  rm -f "$work/a.pcap" "$work/b.pcap"
  ours+=("$(time_it build/app/linecap-merge -w "$work/a.pcap" "$work/shards")")
  theirs+=("$(time_it mergecap -F nsecpcap -w "$work/b.pcap" "$work"/shards/*.pcap)")
done
cmp -s "$work/a.pcap" "$work/b.pcap" && same=yes || same=NO
o=$(printf '%s\n' "${ours[@]}" | median); t=$(printf '%s\n' "${theirs[@]}" | median)
echo "merge of 4 shards, $packets packets, $bytes bytes: linecap-merge ${o} us, mergecap ${t} us (median of 5); mergecap/linecap-merge = $(awk -v a="$t" -v b="$o" 'BEGIN {printf "%.2f", a / b}'); outputs identical: $same"
