#!/usr/bin/env bash
# Install what linecap needs to build, run and test, from Debian's packages. Idempotent:
# nothing is fetched when everything is already there.
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build python3 python3-pyelftools
  dpdk dpdk-dev libdpdk-dev libpcap-dev libnuma-dev libjansson-dev libssl-dev
  tcpdump tshark strace clang libclang-rt-14-dev
  python3-scapy   # scripts/make_corpus.py, which writes the generated corpus tests/corpus/
  prometheus   # promtool, to check the /metrics text (tests/e2e/test_peers.py)
  gdb   # a test whose linecap hangs prints every thread's stack (tests/e2e/lc_e2e.py)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "deps.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
