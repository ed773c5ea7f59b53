#!/usr/bin/env bash
# Build with warnings as errors and run the whole test suite with meson; then build again
# with AddressSanitizer + UndefinedBehaviorSanitizer and run the suite under them (the
# libFuzzer smoke test, sanitized already, and the 30 s soak run once). The last line is "N passed, N failed"
# (", N skipped" when any were), counted from meson's own results of both runs.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh || exit 1
status=0
for dir in build-test build-asan; do
  if [ ! -f "$dir/build.ninja" ]; then
    if [ "$dir" = build-asan ]; then
      meson setup "$dir" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
        >/dev/null || exit 1
    else
      meson setup "$dir" -Dwerror=true >/dev/null || exit 1
    fi
  fi
  ninja -C "$dir" || exit 1
done

meson test -C build-test --print-errorlogs "$@" || status=1
# Sanitizers: any finding aborts the program, so the test fails. No suppressions are needed
# today: DPDK's own libraries are not instrumented and report nothing.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  meson test -C build-asan --print-errorlogs --no-suite fuzz --no-suite soak "$@" || status=1

python3 - build-test/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, os, sys
passed = failed = skipped = 0
for log in sys.argv[1:]:
    if not os.path.exists(log):
        failed += 1
        continue
    for line in open(log):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
