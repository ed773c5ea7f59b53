#!/usr/bin/env bash
# Build the libFuzzer harnesses with clang (ASan + UBSan) and run each for a while.
#   scripts/fuzz.sh [SECONDS]   default 600 per harness; CI runs a short fixed time
# Harnesses: filter_expr (the filter compiler, JIT and self-check), reader (pcap/pcapng
# files), verify (a directory's manifest), seqcheck (linecap-seqcheck's reading and report of
# tagged captures), manifest_line (the manifest's JSON reader against jansson), index (the
# index reader). Seeds: tests/fuzz/seeds/ (scripts/fuzz_seeds.py; index: test_index --write-seeds).
# New inputs go to a temporary directory; the committed seeds in tests/fuzz/seeds/ are only
# read. A crash leaves crash-* in the current directory: make it a regression seed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}

command -v clang >/dev/null || { echo "fuzz.sh: clang is not installed (scripts/deps.sh)" >&2; exit 77; }
out=build-fuzz
mkdir -p "$out"
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -Iinclude $(pkg-config --cflags libdpdk libpcap)"
# Each library's internal headers, with those of the libraries it uses (lib/meson.build).
inc_filter="-Ilib/core -Ilib/filter"
inc_output="$inc_filter -Ilib/output"
inc_gen="$inc_output -Ilib/gen"
libs="$(pkg-config --libs libpcap) -lnuma"
# The harnesses compile side by side (one per CPU at a time is the machine's business).
pids=()

clang $cflags $inc_filter -o "$out/fuzz_filter_expr" tests/fuzz/fuzz_filter_expr.c \
  lib/filter/filter.c lib/filter/filter_interp.c lib/filter/filter_jit.c \
  lib/filter/filter_selfcheck.c $libs &
pids+=($!)
# The readers of files an attacker may have shaped: captures, and a capture directory's
# manifest as linecap-verify reads it.
clang $cflags $inc_output -o "$out/fuzz_reader" tests/fuzz/fuzz_reader.c lib/output/reader.c &
pids+=($!)
clang $cflags $inc_output $(pkg-config --cflags jansson libcrypto) -o "$out/fuzz_verify" \
  tests/fuzz/fuzz_verify.c lib/output/verify.c lib/output/verify_repair.c lib/output/manifest_record.c lib/output/manifest.c lib/output/manifest_json.c lib/output/reader.c lib/output/index.c lib/output/index_read.c \
  lib/output/shard.c lib/output/outpath.c $(pkg-config --libs jansson libcrypto) &
pids+=($!)
clang $cflags $inc_gen -o "$out/fuzz_seqcheck" tests/fuzz/fuzz_seqcheck.c lib/output/reader.c \
  lib/gen/gen.c lib/gen/seq.c $libs -lm &
pids+=($!)
# The manifest's own JSON reader against jansson (they must agree on every line).
clang $cflags $inc_output $(pkg-config --cflags jansson libcrypto) -o "$out/fuzz_manifest_line" \
  tests/fuzz/fuzz_manifest_line.c lib/output/manifest.c lib/output/manifest_json.c lib/output/reader.c lib/output/shard.c \
  lib/output/outpath.c $(pkg-config --libs jansson libcrypto) &
pids+=($!)
# The index beside each capture file, as linecap-query reads it (seeds: test_index --write-seeds).
clang $cflags $inc_output $(pkg-config --cflags libcrypto) -o "$out/fuzz_index" tests/fuzz/fuzz_index.c lib/output/index_read.c $(pkg-config --libs libcrypto) &
pids+=($!)
for p in "${pids[@]}"; do
  wait "$p" || { echo "fuzz.sh: a harness did not compile" >&2; exit 1; }
done

for h in filter_expr reader verify seqcheck manifest_line index; do
  work=$(mktemp -d)
  echo "fuzz.sh: $h for ${secs}s" >&2
  "$out/fuzz_$h" -max_total_time="$secs" -max_len=4096 -timeout=10 -artifact_prefix="$out/" "$work" "tests/fuzz/seeds/$h" \
    2>"$out/fuzz_$h.log" || { tail -40 "$out/fuzz_$h.log" >&2; rm -rf "$work"; exit 1; }
  grep -E "^(#[0-9]+|Done)" "$out/fuzz_$h.log" | tail -2 >&2
  rm -rf "$work"
done
