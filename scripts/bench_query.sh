#!/usr/bin/env bash
# The index and linecap-query against issue 14's targets, on this machine, one command:
#   scripts/bench_query.sh [SECONDS_OF_CAPTURE] [RUNS]      (defaults 6 and 3)
# Traffic: linecap-gen files (64 B and IMIX, 4,096 flows, ~1% on 192.168.1.100:443) replayed
# by net_pcap with infinite_rx=1, captured by linecap (1 RX core + 1 writer) to disk.
#   cost    the written rate with the index against --no-index, in pairs (same traffic,
#           one run after the other), RUNS pairs: the median ratio;
#   size    the index's bytes against the capture's, 64 B and IMIX;
#   query   a capture of SECONDS (64 B, -C 40: >= 4 GB in >= 100 files here): one host
#           (10.0.0.7, one of the 4,096 flows) over a one-minute window, linecap-query
#           against tcpdump -r over every file with the same expression; --flows of the
#           whole capture against the same with --no-index (a full scan); both warm (page
#           cache), the median of RUNS;
#   curve   the same query over captures of 100, 1,000 and 10,000 files (-C 4, 0.4, 0.04 on
#           the same traffic), its window the last second: time against files that exist and
#           files that match.
# Prints a markdown section (for docs/performance.md) on stdout; progress on stderr.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-6}
runs=${2:-3}

scripts/deps.sh >&2
scripts/hugepages.sh 1024 >&2 || true
scripts/build.sh build >&2

work=$(mktemp -d /var/tmp/lcquery.XXXXXX)
trap 'rm -rf "$work"' EXIT
for t in 64 imix; do
  case $t in 64) mode=(--size 60) ;; imix) mode=(--imix) ;; esac
  build/app/linecap-gen -w "$work/$t.pcap" "${mode[@]}" -c 100000 --flows 4096 \
    --evidence-fraction 0.01 2>/dev/null
done
now_ns() { date +%s%N; }
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
du_b() { find "$1" -name "$2" -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }

# capture TYPE OUT SECONDS [linecap options...]: written bytes/s on stdout.
capture() {
  local t=$1 out=$2 s=$3
  shift 3
  rm -rf "$out"
  build/app/linecap -i "net_pcap0,rx_pcap=$work/$t.pcap,infinite_rx=1" -w "$out" \
    --duration "$s" --stats-file "$work/lc.json" --status-interval 0 "$@" 2>"$work/lc.err" \
    >/dev/null
  python3 -c "import json,sys; s=json.load(open(sys.argv[1])); \
print(int(s['written_bytes'] / s['seconds']), s['buffer_full'])" "$work/lc.json"
}

# best of two (the first warms the page cache): seconds of a command.
timed() {
  local s e best=
  for _ in 1 2; do
    s=$(now_ns); "$@" >/dev/null 2>&1; e=$(now_ns)
    best=$(python3 -c "import sys; a=(int(sys.argv[2])-int(sys.argv[1]))/1e9; \
b=sys.argv[3]; print(min(a, float(b)) if b else a)" "$s" "$e" "$best")
  done
  echo "$best"
}

tcpdump_all() {	# tcpdump -r over every file of $1 with expression $2
  local f
  for f in "$1"/*.pcap; do tcpdump -n -r "$f" -w /dev/null "$2" 2>/dev/null; done
}

echo "cost: $runs pairs of 4 s captures, 64 B and IMIX" >&2
declare -A RATIO SIZE
for t in 64 imix; do
  r=()
  for _ in $(seq "$runs"); do
    read -r with drops_w < <(capture "$t" "$work/c" 4 -C 1000)
    idx=$(du_b "$work/c" '*.idx'); cap=$(du_b "$work/c" '*.pcap')
    read -r without drops_n < <(capture "$t" "$work/c" 4 -C 1000 --no-index)
    r+=("$(python3 -c "print(round($with / $without * 100, 1))")")
    SIZE[$t]=$(python3 -c "print(round($idx / $cap * 100, 2))")
    echo "  $t: with ${with} B/s (drops $drops_w), without ${without} B/s (drops $drops_n);" \
      "index ${SIZE[$t]}% of the capture" >&2
  done
  RATIO[$t]="$(printf '%s\n' "${r[@]}" | med)% ($(printf '%s\n' "${r[@]}" | sort -n | \
    awk 'NR==1{lo=$1} {hi=$1} END {printf "%s-%s", lo, hi}'))"
done

echo "query: a $secs s capture, 64 B, -C 40" >&2
big="$work/big"
capture 64 "$big" "$secs" -C 40 >/dev/null
nfiles=$(ls "$big"/*.pcap | wc -l)
bytes=$(du_b "$big" '*.pcap')
last=$(python3 -c "import json; print(max(json.loads(l).get('last_ns', 0) for l in \
open('$big/manifest.jsonl')))")
start=$(python3 -c "print(($last - 60 * 10**9) / 1e9)")
end=$(python3 -c "print(($last + 1) / 1e9)")
expr='host 10.0.0.7'
q=(); td=(); fl=(); fs=()
for _ in $(seq "$runs"); do
  q+=("$(timed build/app/linecap-query "$big" --start "$start" --end "$end" -w - "$expr")")
  td+=("$(timed tcpdump_all "$big" "$expr")")
  fl+=("$(timed build/app/linecap-query "$big" --flows --json)")
  fs+=("$(timed build/app/linecap-query "$big" --flows --json --no-index)")
done
qm=$(printf '%s\n' "${q[@]}" | med); tdm=$(printf '%s\n' "${td[@]}" | med)
flm=$(printf '%s\n' "${fl[@]}" | med); fsm=$(printf '%s\n' "${fs[@]}" | med)
got=$(build/app/linecap-query "$big" --start "$start" --end "$end" -w - "$expr" 2>/dev/null |
  capinfos -c -M /dev/stdin 2>/dev/null | awk '/Number of packets/ {print $NF}')
verbose=$(build/app/linecap-query -v "$big" --start "$start" --end "$end" -w /dev/null \
  "$expr" 2>&1 >/dev/null | tail -1)

echo "curve: 100, 1,000, 10,000 files" >&2
curve=""
for c in 4 0.4 0.04; do
  d="$work/curve"
  capture 64 "$d" 4 -C "$c" >/dev/null
  n=$(ls "$d"/*.pcap | wc -l)
  last=$(python3 -c "import json; print(max(json.loads(l).get('last_ns', 0) for l in \
open('$d/manifest.jsonl')))")
  s=$(python3 -c "print(($last - 10**9) / 1e9)")
  e=$(python3 -c "print(($last + 1) / 1e9)")
  t=$(timed build/app/linecap-query "$d" --start "$s" --end "$e" -w /dev/null "$expr")
  v=$(build/app/linecap-query -v "$d" --start "$s" --end "$e" -w /dev/null "$expr" 2>&1 |
    tail -1)
  read -r byidx notread < <(echo "$v" | sed -E 's/.*: ([0-9]+) by index \(([0-9]+) not read\).*/\1 \2/')
  curve+="| $n | $((byidx - notread)) | $(python3 -c "print(round($t * 1000, 1))") ms |"$'\n'
  rm -rf "$d"
done

cat <<EOF
### Index and linecap-query (issue 14), measured $(date -u +%Y-%m-%d) by scripts/bench_query.sh $secs $runs

| target | measured | |
|---|---|---|
| capturing with the index, written rate against --no-index (64 B) | ${RATIO[64]} | target ≥ 90% |
| the same at IMIX | ${RATIO[imix]} | |
| index size, 64 B, 4,096 flows | ${SIZE[64]}% of the capture | target ≤ 5% |
| index size, IMIX, 4,096 flows | ${SIZE[imix]}% of the capture | target ≤ 1% |
| one host, one-minute window: linecap-query | $(python3 -c "print(round($qm * 1000, 1))") ms ($got packets) | target < 500 ms |
| the same: tcpdump -r over every file | $(python3 -c "print(round($tdm, 2))") s | $(python3 -c "print(round($tdm / $qm))")x (target ≥ 50x) |
| --flows of the whole capture | $(python3 -c "print(round($flm * 1000, 1))") ms | |
| the same, --no-index (a full scan) | $(python3 -c "print(round($fsm, 2))") s | $(python3 -c "print(round($fsm / $flm))")x (target ≥ 20x) |

The capture for the query rows: $nfiles files, $(python3 -c "print(round($bytes / 1e9, 2))") GB of 64-byte
frames. What the index spared on that query: \`$verbose\`.

Query time against the files of the capture (the same traffic, -C 4, 0.4, 0.04; the window
the last second; "match": files in the window, read by their index):

| files | match | linecap-query |
|---|---|---|
$curve
EOF
