#!/usr/bin/env bash
# Instructions per packet in each stage of linecap's data path, counted by valgrind's
# callgrind (perf is unavailable in these VMs; cycle figures come from linecap's own
# accounting, --stats-file and the end-of-run "cost:" line):
#   scripts/profile.sh [SECONDS] [FILTER]        (defaults 20 and no filter)
# A 64-byte linecap-gen traffic file (1% on 192.168.1.100:443, 1% TCP RST) is replayed by
# net_pcap with infinite_rx=1 into linecap running under callgrind. Under valgrind the
# lcores take turns on one CPU, so rates mean nothing; counts per packet do. Valgrind's CPU
# has no SHA extensions, so OpenSSL's SHA-256 runs its portable code there: that row is an
# upper bound, not what the appliance pays (see the cycle accounting for that).
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
expr=${2:-}

command -v valgrind >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
scripts/build.sh build >/dev/null || exit 1
work=$(mktemp -d /var/tmp/lcprof.XXXXXX)
trap 'rm -rf "$work"' EXIT

build/app/linecap-gen -w "$work/64.pcap" --size 60 -c 100000 --flows 4096 \
  --evidence-fraction 0.01 --rst-fraction 0.01 2>/dev/null || exit 1
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
  build/app/linecap -i "net_pcap0,rx_pcap=$work/64.pcap,infinite_rx=1" -w "$work/out" \
  --duration "$secs" --stats-file "$work/stats.json" ${expr:+"$expr"} >/dev/null 2>&1 ||
  { echo "profile: linecap under callgrind failed" >&2; exit 1; }
callgrind_annotate --inclusive=no --threshold=100 "$work/cg.out" > "$work/self.txt"
callgrind_annotate --inclusive=yes --threshold=100 "$work/cg.out" > "$work/incl.txt"

python3 - "$work/stats.json" "$work/self.txt" "$work/incl.txt" "${expr:-none}" <<'PY'
import json, re, sys

st = json.load(open(sys.argv[1]))
row = re.compile(r"^\s*([\d,]+)\s+\([^)]*\)\s+(\S+?):(\S+)\s*(?:\[(.*)\])?$")


def rows(path):
    for line in open(path):
        m = row.match(line.rstrip())
        if m:
            yield int(m.group(1).replace(",", "")), m.group(2), m.group(3), m.group(4) or ""


self_rows = list(rows(sys.argv[2]))
incl_rows = list(rows(sys.argv[3]))


def self_sum(pred):
    return sum(n for n, f, fn, obj in self_rows if pred(f, fn, obj))


def incl(fn_name):
    return max([n for n, f, fn, obj in incl_rows if fn == fn_name] or [0])


rx, wr, wb = st["received"], st["written"], st["written_bytes"]
stages = [
    ("driver receive (net_pcap, copying each frame in)", "received",
     self_sum(lambda f, fn, obj: "librte_net_pcap" in obj), rx),
    ("linecap RX stage, without the filter's code (lc_rx_*)", "received",
     self_sum(lambda f, fn, obj: fn in ("lc_rx_process", "lc_rx_main")
              and "linecap" in (obj or "linecap")), rx),
    ("the filter's generated code (JIT)", "received",
     self_sum(lambda f, fn, obj: obj == "???"), rx),
    ("mbuf frees (RX: filtered out and ring drops; writer: written)", "received",
     self_sum(lambda f, fn, obj: fn == "rte_pktmbuf_free_bulk"), rx),
    ("writer: dequeue, format, free (lc_writer_poll_shard, inclusive)", "written",
     incl("lc_writer_poll_shard"), wr),
    ("SHA-256 of the files (EVP_DigestUpdate, inclusive; no SHA-NI here)", "written",
     incl("EVP_DigestUpdate"), wr),
]
print(f"filter {sys.argv[4]}: {rx:,} packets received, {st['passed_filter']:,} passed, "
      f"{wr:,} written ({wb:,} bytes)")
print(f"{'stage':70} {'per':>9} {'instructions':>14} {'per packet':>11}")
for name, per, n, d in stages:
    print(f"{name:70} {per:>9} {n:>14,} {n / d if d else 0:>11.1f}")
if wb:
    print(f"SHA-256 per byte written: {incl('EVP_DigestUpdate') / wb:.1f} instructions")
PY
