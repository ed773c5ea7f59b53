# Shell functions the benchmark scripts share (sourced: scripts/bench_*.sh).

# until_ok SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds (0) or SECONDS pass (1).
until_ok() {
  local n=$(( $1 * 10 ))
  shift
  while ! "$@"; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || return 1
    sleep 0.1
  done
}
