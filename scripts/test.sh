#!/usr/bin/env bash
# Build with warnings as errors and run the whole test suite with meson. The last line is
# "N passed, N failed" (", N skipped" when any were), counted from meson's own results.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh || exit 1
dir=build-test
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" -Dwerror=true >/dev/null || exit 1
fi
ninja -C "$dir" || exit 1

meson test -C "$dir" --print-errorlogs "$@"
status=$?

log="$dir/meson-logs/testlog.json"
if [ ! -f "$log" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
python3 - "$log" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
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
