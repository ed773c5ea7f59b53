#!/usr/bin/env bash
# Burst absorption: how many packets a capture holds while its disk stops, per MiB of the
# memory it allocated.
#   scripts/burst.sh [BUILD_DIR] [-- LINECAP OPTIONS...]      (default build dir: build)
# 64-byte frames are replayed at full speed (net_pcap, infinite_rx=1) into a capture whose
# first write to its file stalls for longer than the run (the fault shim, LC_FAULT_MODE=stall):
# nothing leaves memory while RX runs, so every packet written at the end was held in memory,
# and the drops (buffer_full, or ring drops before data path v2) show that memory ran out.
# Memory counted: the mbuf pool (mbufs x (data room + 128-byte header + 64 of mempool
# overhead), less the replay file's packets net_pcap preloads into it), the per-queue capture buffers (-B) or mbuf rings (8 bytes a slot), and the
# writer's four 2 MiB write buffers per queue; EAL's own slack is left out.
# Prints one line: absorbed packets, drops, memory MiB, packets per MiB.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
[ "${1:-}" = "--" ] && shift
stall_s=${STALL_S:-8}
run_s=${RUN_S:-3}

work=$(mktemp -d /var/tmp/lcburst.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$build/app/linecap-gen" -w "$work/64.pcap" --size 60 -c 100000 --flows 4096 2>/dev/null ||
  { echo "burst.sh: cannot make traffic with $build/app/linecap-gen" >&2; exit 1; }
shim=${SHIM:-$(ls "$build"/tests/fault/liblcfault.so 2>/dev/null)}
[ -n "$shim" ] || { echo "burst.sh: no fault shim in $build/tests/fault" >&2; exit 1; }

LD_PRELOAD=$shim LC_FAULT_MODE=stall LC_FAULT_PATH="$work/out" \
  LC_FAULT_US=$((stall_s * 1000000)) \
  "$build/app/linecap" -i "net_pcap0,rx_pcap=$work/64.pcap,infinite_rx=1" -w "$work/out" \
  --duration "$run_s" --stats-file "$work/s.json" "$@" >"$work/out.txt" 2>"$work/err.txt"
rc=$?
[ $rc -eq 0 ] || { echo "burst.sh: linecap exited $rc:" >&2; tail -3 "$work/err.txt" >&2; exit 1; }
python3 - "$work/s.json" "$work/err.txt" "$work/out.txt" <<'PY'
import json, re, sys
s = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read() + open(sys.argv[3]).read()
m = re.search(r"(\d+) mbufs of (\d+) bytes", text)
mbufs, room = int(m.group(1)), int(m.group(2))
q = len(s["queues"])
buf = re.search(r"buffer (\d+) MiB per queue", text)
ring = re.search(r"ring (\d+),", text)
if buf:
    queue_bytes = int(buf.group(1)) << 20
else:
    queue_bytes = int(ring.group(1)) * 8
# net_pcap's infinite_rx preloads the whole file into the pool: the source's memory, not
# the capture's (a NIC has none of it), so its 100,000 mbufs are left out.
pool = (mbufs - 100000) * (room + 128 + 64)
writer = 4 * (2 << 20)
total = pool + q * (queue_bytes + writer)
drops = s.get("buffer_full", s.get("ring_drops", 0))
absorbed = s["written"]
print(f"absorbed {absorbed} drops {drops} memory_mib {total / 2**20:.1f} "
      f"per_mib {absorbed / (total / 2**20):.0f}")
if drops == 0:
    print("burst.sh: no drop: the memory never ran out (stall longer, or run longer)",
          file=sys.stderr)
    sys.exit(1)
PY
