#!/usr/bin/env bash
# Live feeds (--feed, PCAP-over-IP) against issue 15's targets, on this machine, one command:
#   scripts/bench_feed.sh [SECONDS] [PAIRS] [RUNS] [BUILD_DIR]   (defaults 4, 5, 2, build)
# Traffic: linecap-gen over net_memif into linecap (1 RX core + 1 writer, -B 256M, files on
# /tmp); a feed is read by `tshark -n -q -i TCP@127.0.0.1:PORT -w /dev/null`. Both memif ends
# use rsize=14 (16,384-slot rings): with the default 1,024, three busy-polling threads on two
# CPUs hand the ring over once per scheduler slice and the source, not linecap, sets the rate
# (about 15 times lower here).
#   target 1  64 B frames at full speed for SECONDS, without a feed and with one whose filter
#             keeps ~1% (host 192.168.1.100 and port 443: linecap-gen's evidence flow) read
#             by one tshark; PAIRS pairs, the order alternating; received packets/s of each
#             run (received / the sender's seconds), the with/without ratio per pair and its
#             median; capture drops (buffer_full + imissed + rx_nombuf) of every run. memif
#             pushes back (the sender waits for free slots), so the sender, not a drop
#             counter, shows a capture that cannot keep up. If the capture drops without a
#             feed at full speed, the pairs run again at a fixed --rate (70% of that).
#   target 2  IMIX at --rate-bps 250M, 500M, 1G, 2G (RUNS runs each, stopping after the first
#             step that loses in every run) into --feed PORT (no filter) read by tshark: the
#             offered rate, packets captured, the feed's sent and feed_drops, tshark's count
#             and dumpcap's CPU per packet; then 1G, 2G, 3G, 4G read by `wc -c` (a reader that
#             costs next to nothing: what the feed itself sustains), each run paired with
#             one without a feed (the capture's drops with the feed against without).
# Every run also samples the CPU of each thread of linecap, tshark, dumpcap and linecap-gen
# over the sending seconds (from /proc): the busiest name the limit.
# Prints markdown tables (for docs/performance.md) on stdout; progress on stderr.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
use="usage: scripts/bench_feed.sh [SECONDS] [PAIRS] [RUNS] [BUILD_DIR]   (defaults 4, 5, 2, build)"
usage() { echo "$use" >&2; exit 2; }
[ "${1:-}" = -h ] || [ "${1:-}" = --help ] && { echo "$use"; exit 0; }
[ $# -le 4 ] || usage
secs=${1:-4}
pairs=${2:-5}
rounds=${3:-2}
build=${4:-build}
[[ $secs =~ ^[1-9][0-9]*$ ]] && [ "$secs" -ge 3 ] || { echo "bench_feed: SECONDS: 3 or more" >&2; usage; }
[[ $pairs =~ ^[1-9][0-9]*$ ]] || { echo "bench_feed: PAIRS: a positive integer" >&2; usage; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench_feed: RUNS: a positive integer" >&2; usage; }

scripts/deps.sh >&2 || exit 1
scripts/hugepages.sh 1024 >&2 || true
scripts/build.sh "$build" >&2 || exit 1
lc=$build/app/linecap
gen=$build/app/linecap-gen

work=$(mktemp -d /tmp/lcfeed.XXXXXX)
# The processes of the run under way (run is called in a subshell: a file, not a variable).
cleanup() {
  local p
  if [ -s "$work/pids" ]; then
    for p in $(cat "$work/pids"); do kill -INT "$p" 2>/dev/null; done
    sleep 0.5
    for p in $(cat "$work/pids"); do kill -KILL "$p" 2>/dev/null; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
hz=$(getconf CLK_TCK)
expr1='host 192.168.1.100 and port 443'
client=tshark

free_port() {
  python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); \
print(s.getsockname()[1])"
}

# until_ok SECONDS COMMAND... (scripts/bench_lib.sh)
. scripts/bench_lib.sh

# descendants PID: every process under PID (timeout -> tshark -> dumpcap).
descendants() {
  local c
  for c in $(pgrep -P "$1"); do echo "$c"; descendants "$c"; done
}

# CPU ticks of every thread of the processes given: "process/thread:tid ticks"; then the
# machine's busy ticks (every CPU, steal left out) as "=busy:0 ticks", its steal "=steal:0".
snap() {
  python3 - "$@" <<'PY'
import os, sys
for line in open("/proc/stat"):
    if not line.startswith("cpu"):
        break
    name, *c = line.split()
    c = [int(x) for x in c]
    cpu = name[3:] or "all"
    print(f"=busy{cpu}:0", c[0] + c[1] + c[2] + c[5] + c[6])
    if cpu == "all":
        print("=steal:0", c[7] if len(c) > 7 else 0)
for pid in sys.argv[1:]:
    try:
        pname = open(f"/proc/{pid}/comm").read().strip()
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        continue
    for t in tasks:
        try:
            s = open(f"/proc/{pid}/task/{t}/stat").read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")].replace(" ", "_")
        f = s[s.rindex(")") + 2:].split()
        print(f"{pname}/{comm}@{f[36]}:{t}", int(f[11]) + int(f[12]))
PY
}

# busiest BEFORE AFTER SECONDS: "N | LIST": N, the share of the RX lcore's CPU (linecap's
# rte-worker-1) that other processes took; LIST, the six busiest threads, "name NN%" (of
# one CPU), the feed thread (lc-feed) whatever its share, then each CPU's busy share and
# what other processes took of it.
busiest() {
  python3 - "$1" "$2" "$3" "$hz" <<'PY'
import sys
def load(p):
    return {k: int(v) for k, v in (l.split() for l in open(p) if l.strip())}
a, b, secs, hz = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
use = sorted(((b[k] - a.get(k, b[k])) / hz / secs * 100, k.rsplit(":", 1)[0]) for k in b)
mach = {n: p for p, n in use if n.startswith("=")}
use = [(p, n.split("@")[0], n.split("@")[1]) for p, n in use if not n.startswith("=")]
top = [u for u in reversed(use) if u[0] >= 3][:6]
top += [u for u in use if u[1].endswith("/lc-feed") and u not in top]
others = mach["=busyall"] - sum(p for p, _, _ in use)
cpus = sorted(k[5:] for k in mach if k.startswith("=busy") and k != "=busyall")
oth = {c: max(mach["=busy" + c] - sum(p for p, _, cpu in use if cpu == c), 0) for c in cpus}
rx = [cpu for _, n, cpu in use if n == "linecap/rte-worker-1"]
print(f"{oth.get(rx[0], 0) if rx else 0:.0f} | " +
      ", ".join(f"{n} {p:.0f}%" for p, n, _ in top) +
      f"; other processes {max(others, 0):.0f}%, steal {mach['=steal']:.0f}%; " +
      ", ".join(f"cpu{c} {mach['=busy' + c]:.0f}% busy ({oth[c]:.0f}% others)" for c in cpus))
PY
}

# run FEED_SPEC GEN_OPTIONS...: one capture of SECONDS of linecap-gen traffic, with a feed
# read by tshark when FEED_SPEC is not empty (PORT stands for the port). Prints one line:
# sender_s sent received written drops offered_bps feed_offered feed_sent feed_drops
# ring_drops tshark_packets rx_cycles/packet writer_cycles/packet feed_sent_bytes | busiest
# threads. $client: tshark (default), or bytes (wc -c on the stream: tshark_packets is then
# the bytes it read)
run() {
  local spec=$1 port feed=() tsp='' dc='' lcp genp t0 t1
  shift
  rm -rf "$work/cap" "$work/m.sock" "$work"/*.json "$work"/*.err "$work"/*.txt
  if [ -n "$spec" ]; then
    port=$(free_port)
    feed=(--feed "${spec//PORT/$port}")
  fi
  "$lc" -i "net_memif0,role=server,socket=$work/m.sock,rsize=14" -w "$work/cap" -B 256M \
    --duration $((secs + 60)) --status-interval 0 --stats-file "$work/lc.json" "${feed[@]}" \
    >/dev/null 2>"$work/lc.err" &
  lcp=$!
  echo "$lcp" >>"$work/pids"
  # memif's socket is abstract (@PATH): ss shows it once the port is started
  until_ok 90 eval "ss -Hlx | grep -qF '@$work/m.sock' || ! kill -0 $lcp 2>/dev/null"
  ss -Hlx | grep -qF "@$work/m.sock" || { echo "bench_feed: linecap did not start:" \
    "$(tail -3 "$work/lc.err")" >&2; kill -INT "$lcp" 2>/dev/null; return 1; }
  if [ -n "$spec" ]; then
    until_ok 20 eval "ss -Hltn 'sport = :$port' | grep -q ."
    if [ "$client" = tshark ]; then
      timeout -s INT $((secs + 90)) tshark -n -q -i "TCP@127.0.0.1:$port" -w /dev/null \
        >/dev/null 2>"$work/ts.err" &
    else	# a reader that only counts bytes (the stream's cost without tshark's)
      timeout -s INT $((secs + 90)) bash -c "exec wc -c </dev/tcp/127.0.0.1/$port" \
        >"$work/raw.txt" 2>/dev/null &
    fi
    tsp=$!
    echo "$tsp" >>"$work/pids"
    until_ok 30 grep -q "client .* connected" "$work/lc.err" ||
      { echo "bench_feed: tshark did not connect: $(tail -3 "$work/ts.err")" >&2; return 1; }
  fi
  "$gen" -i "net_memif0,role=client,socket=$work/m.sock,rsize=14" "$@" --duration "$secs" \
    --linger 30 >"$work/gen.txt" 2>&1 &
  genp=$!
  echo "$genp" >>"$work/pids"
  sleep 1
  [ -n "$tsp" ] && dc=$(descendants "$tsp")
  # shellcheck disable=SC2086
  snap "$lcp" "$genp" $dc >"$work/cpu0.txt"
  t0=$(date +%s%N)
  sleep $((secs - 2))
  # shellcheck disable=SC2086
  snap "$lcp" "$genp" $dc >"$work/cpu1.txt"
  t1=$(date +%s%N)
  # The sender lingers once done (--linger): frames still in the ring when it left would be
  # lost with the link. Stop linecap once it has had a second to take them, then the sender.
  until_ok $((secs + 30)) grep -q "linecap-gen: sent " "$work/gen.txt"
  sleep 1
  kill -INT "$lcp"
  wait "$lcp"
  wait "$genp"
  [ -n "$tsp" ] && wait "$tsp"
  python3 - "$work/lc.json" "$work/gen.txt" "$work/ts.err" "$work/raw.txt" <<'PY'
import json, os, re, sys
s = json.load(open(sys.argv[1]))
m = re.search(r"sent (\d+) frames, (\d+) bytes in ([\d.]+) s \(([\d.]+) Mpps, ([\d.]+) Gbit/s",
              open(sys.argv[2]).read())
try:
    t = re.search(r"(\d+) packets? captured", open(sys.argv[3]).read())
    tsh = int(t.group(1)) if t else -1
except OSError:
    tsh = -1
if os.path.exists(sys.argv[4]):	# the byte reader: what it read
    tsh = int(open(sys.argv[4]).read().split()[0] or -1)
f = (s.get("feeds") or [{}])[0]
print(m.group(3), m.group(1), s["received"], s["written"],
      s["buffer_full"] + s["imissed"] + s["rx_nombuf"], float(m.group(5)) * 1e9,
      f.get("offered", 0), f.get("sent", 0), f.get("feed_drops", 0), f.get("ring_drops", 0),
      tsh, round(s["rx_cycles_per_packet"]), round(s["writer_cycles_per_packet"]),
      f.get("sent_bytes", 0), end=" | ")
PY
  busiest "$work/cpu0.txt" "$work/cpu1.txt" "$(awk -v a="$t0" -v b="$t1" \
    'BEGIN {print (b - a) / 1e9}')"
  : >"$work/pids"
}

med() {	# the median (of an even count: the mean of the middle two)
  sort -g | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2
    if (m == int(m) || m >= 1000) printf "%.0f\n", m; else printf "%.3f\n", m}'
}
range() { sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s-%s", lo, hi}'; }
fmt_rate() { awk -v r="$1" 'BEGIN {printf "%.3f Mpps", r / 1e6}'; }

# target1 [GEN_RATE_OPTIONS...]: PAIRS pairs; sets T1 (markdown rows) and NOFEED_DROPS.
target1() {
  local r m line rate nf f ratios=() rates_n=() rates_f=() drops_n=0 drops_f=0
  local fsent=() fdrops=() tsh=() busy_n="" busy_f="" wr_n=() wr_f=() rest rxo on of fair=()
  local oth_n=() oth_f=()
  for r in $(seq "$pairs"); do
    for m in $( [ $((r % 2)) -eq 1 ] && echo "none feed" || echo "feed none"); do
      spec=""; [ "$m" = feed ] && spec="PORT,filter=$expr1"
      line=$(run "$spec" --size 60 "$@") || return 1
      read -r gs sent recv written drops _ _ fs fd rd tp _ wrc _ <<<"$line"
      rate=$(awk -v n="$recv" -v s="$gs" 'BEGIN {printf "%.0f", n / s}')
      rest=${line#*| }; rxo=${rest%% |*}; rest=${rest#*| }
      echo "  target 1 round $r $m: $(fmt_rate "$rate") received ($recv of $sent sent," \
        "$written written), capture drops $drops; feed sent $fs, drops $fd (ring $rd)," \
        "tshark $tp; writer $wrc cycles/packet; others on the RX CPU $rxo%; busiest: $rest" >&2
      if [ "$m" = none ]; then
        nf=$rate; rates_n+=("$rate"); drops_n=$((drops_n + drops))
        busy_n=$rest; wr_n+=("$wrc"); on=$rxo; oth_n+=("$rxo")
      else
        f=$rate; rates_f+=("$rate"); drops_f=$((drops_f + drops))
        fsent+=("$fs"); fdrops+=("$fd"); tsh+=("$tp"); busy_f=$rest; wr_f+=("$wrc")
        of=$rxo; oth_f+=("$rxo")
      fi
    done
    ratios+=("$(awk -v a="$f" -v b="$nf" 'BEGIN {printf "%.3f", a / b}')")
    # A pair whose two runs met about the same load from other processes on the RX lcore's
    # CPU (within 10 points): the ratio there is the feed's, not the neighbours'.
    [ $((on - of)) -le 10 ] && [ $((of - on)) -le 10 ] && fair+=("${ratios[-1]}")
  done
  NOFEED_DROPS=$drops_n
  NOFEED_MED=$(printf '%s\n' "${rates_n[@]}" | med)
  T1+="| ${1:+$1 $2}${1:-full speed} | $(fmt_rate "$NOFEED_MED") ($(printf '%s\n' \
"${rates_n[@]}" | range)) | $(fmt_rate "$(printf '%s\n' "${rates_f[@]}" | med)") \
($(printf '%s\n' "${rates_f[@]}" | range)) | $(printf '%s\n' "${ratios[@]}" | med) \
($(printf '%s\n' "${ratios[@]}" | range)) | $drops_n / $drops_f | $(printf '%s\n' \
"${fsent[@]}" | med) / $(printf '%s\n' "${fdrops[@]}" | med) / $(printf '%s\n' "${tsh[@]}" | med) \
| $(printf '%s\n' "${wr_n[@]}" | med) / $(printf '%s\n' "${wr_f[@]}" | med) \
| $(printf '%s\n' "${oth_n[@]}" | med)% / $(printf '%s\n' "${oth_f[@]}" | med)% \
| $([ ${#fair[@]} -gt 0 ] && echo "$(printf '%s\n' "${fair[@]}" | med) (${#fair[@]} pairs: \
$(printf '%s\n' "${fair[@]}" | range))" || echo "none") |
"
  T1BUSY+="- ${1:+$1 $2}${1:-full speed}, without a feed: $busy_n; with: $busy_f
"
}

echo "target 1: 64 B, $pairs pairs of $secs s" >&2
T1="" T1BUSY=""
target1 || exit 1
if [ "$NOFEED_DROPS" -gt 0 ]; then
  fixed=$(awk -v r="$NOFEED_MED" 'BEGIN {printf "%.0f", r * 0.7}')
  echo "target 1: the capture drops without a feed: again at --rate $fixed" >&2
  target1 --rate "$fixed" || exit 1
fi

# target2 CLIENT STEP...: IMIX at each STEP (bits/s) into a feed without a filter read by
# CLIENT (tshark or bytes),
# RUNS runs per step, up to the first step lost in every run; appends rows to T2.
target2() {
  local step r line offered capt sent drops got lost busy cost dp mo cd0 cd1 capt0 l0 share
  client=$1
  shift
  for step in "$@"; do
    offered=() capt=() sent=() drops=() got=() lost=0 busy="" cost=() cd0=0 cd1=0 capt0=() share=()
    for r in $(seq "$rounds"); do
      # With the byte reader, each run is paired with one without a feed (the order
      # alternating): the capture's drops with the feed against without, at the same rate.
      if [ "$client" = bytes ] && [ $((r % 2)) -eq 1 ]; then
        l0=$(run "" --imix --rate-bps "$step") || return 1
      fi
      line=$(run "PORT" --imix --rate-bps "$step") || return 1
      if [ "$client" = bytes ] && [ $((r % 2)) -eq 0 ]; then
        l0=$(run "" --imix --rate-bps "$step") || return 1
      fi
      if [ "$client" = bytes ]; then
        read -r gs0 _ recv0 written0 cdrops0 _ <<<"$l0"
        cd0=$((cd0 + cdrops0))
        capt0+=("$(awk -v n="$recv0" -v s="$gs0" 'BEGIN {printf "%.0f", n / s}')")
        echo "  target 2 $step run $r without a feed: $recv0 received ($written0 written," \
          "drops $cdrops0); busiest: $(sed 's/^[^|]*| [^|]*| //' <<<"$l0")" >&2
      fi
      read -r gs _ recv written cdrops bps _ fs fd rd tp _ _ sb _ <<<"$line"
      busy=${line#*| }; busy=${busy#*| }
      echo "  target 2 $client $step run $r: offered $(awk -v b="$bps" \
        'BEGIN {printf "%.2f", b / 1e9}') Gbit/s, $recv received ($written written, drops" \
        "$cdrops), feed sent $fs ($sb bytes) drops $fd (ring $rd), $client read $tp;" \
        "busiest: $busy" >&2
      offered+=("$bps"); capt+=("$(awk -v n="$recv" -v s="$gs" 'BEGIN {printf "%.0f", n / s}')")
      sent+=("$fs"); drops+=("$fd"); got+=("$tp"); cd1=$((cd1 + cdrops))
      share+=("$(awk -v d="$fd" -v s="$fs" 'BEGIN {printf "%.1f", (d + s > 0 ? 100 * d / (d + s) : 0)}')")
      if [ "$client" = tshark ]; then
        [ "$fd" -gt 0 ] || [ "$tp" -lt "$fs" ] && lost=$((lost + 1))
        # dumpcap's CPU per packet it took (its share over the sending seconds / its rate)
        dp=$(sed -n 's/.*dumpcap\/dumpcap \([0-9]*\)%.*/\1/p' <<<"$busy")
        cost+=("$(awk -v p="${dp:-0}" -v n="$tp" -v s="$gs" \
          'BEGIN {printf "%.2f", (n > 0 ? p / 100 / (n / s) * 1e6 : 0)}')")
      else
        [ "$fd" -gt 0 ] || [ "$tp" -lt "$sb" ] && lost=$((lost + 1))
      fi
    done
    mo=$(printf '%s\n' "${offered[@]}" | med)
    T2+="| $client | $step | $(awk -v b="$mo" 'BEGIN {printf "%.2f", b / 1e9}') Gbit/s | \
$(fmt_rate "$(printf '%s\n' "${capt[@]}" | med)") | $(printf '%s\n' "${sent[@]}" | med) | \
$(printf '%s\n' "${drops[@]}" | range) (at most $(printf '%s\n' "${share[@]}" | sort -g | tail -1)%) | \
$(printf '%s\n' "${got[@]}" | med)$([ "$client" = tshark ] || echo " bytes") | $lost of $rounds \
| $cd1 / $([ "$client" = bytes ] && echo "$cd0 ($(fmt_rate "$(printf '%s\n' "${capt0[@]}" | \
med)") captured)" || echo "-") | $([ "$client" = tshark ] && printf '%s\n' "${cost[@]}" | med || echo "-") |
"
    T2BUSY+="- $client, $step: $busy
"
    [ "$lost" -eq "$rounds" ] && break
  done
  client=tshark
}

T2="" T2BUSY=""
echo "target 2: IMIX into a feed without a filter read by tshark, $rounds runs per step" >&2
target2 tshark 250M 500M 1G 2G || exit 1
echo "target 2: the same read by wc -c, each run paired with one without a feed" >&2
target2 bytes 1G 2G 3G 4G || exit 1

cat <<EOF
### Live feeds (issue 15), measured $(date -u +%Y-%m-%d) by scripts/bench_feed.sh $secs $pairs $rounds

Target 1: 64-byte frames, linecap-gen at full speed over net_memif (rsize=14) for $secs s,
$pairs pairs (order alternating); with a feed \`--feed PORT,filter=$expr1\` (~1% of the
frames) read by one \`tshark -i TCP@127.0.0.1:PORT -w /dev/null\`. Medians (ranges).

| sender | received without a feed | with the feed | ratio (target ≥ 0.95) | capture drops without / with (target 0) | feed sent / feed_drops / tshark packets | writer cycles/packet without / with | other processes on the RX CPU, without / with | ratio, pairs under comparable load |
|---|---|---|---|---|---|---|---|---|
$T1
Busiest threads (share of one CPU over the sending seconds), last run of each kind:
$T1BUSY
Target 2: IMIX (7:4:1 of 64/570/1518 B) at a fixed bit rate for $secs s into \`--feed PORT\`
(no filter, default 8 MiB per-client buffer), read by one \`tshark -i TCP@127.0.0.1:PORT -w
/dev/null\`, then by a reader that only counts the stream's bytes (\`wc -c\`, to tell the
feed's limit from tshark's); medians of $rounds runs per step, up to the first step lost in
every run ("lost": runs with feed drops, or a reader short of what the feed sent). Each run
of the byte reader is paired with one without a feed at the same rate: the capture's drops
(buffer_full + imissed + rx_nombuf, summed over the runs) with the feed against without.

| reader | step | offered (on the wire) | captured | feed sent | feed_drops (range; largest share) | reader got | runs lost | capture drops with / without a feed | dumpcap CPU µs/packet |
|---|---|---|---|---|---|---|---|---|---|
$T2
Busiest threads, last run of each step:
$T2BUSY
EOF
