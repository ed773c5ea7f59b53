#!/usr/bin/env bash
# Reserve 2 MiB hugepages and mount hugetlbfs when this machine allows it. Never fails:
# linecap falls back to --no-huge by itself when no hugepages are free.
pages=${1:-512}
nr=/proc/sys/vm/nr_hugepages
if [ -w "$nr" ] && [ "$(cat "$nr")" -lt "$pages" ]; then
  echo "$pages" > "$nr" 2>/dev/null || true
fi
if ! grep -q ' hugetlbfs ' /proc/mounts; then
  mkdir -p /dev/hugepages 2>/dev/null && mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
fi
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
echo "hugepages: ${free:-0} free (linecap uses --no-huge when that is not enough)" >&2
exit 0
