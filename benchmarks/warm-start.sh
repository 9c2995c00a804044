#!/usr/bin/env bash
# Warm start: seconds from `dotnet run --project AppHost` to all five services answering /health with 200, the
# platform having been built and started once before (so the data directory, packages and build outputs exist).
# Usage: benchmarks/warm-start.sh [runs=3]   Prints one line per run and the median.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
ports=(5100 5101 5102 5103 5104)

healthy() {
  for port in "${ports[@]}"; do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://localhost:$port/health")" == 200 ]] || return 1
  done
}

down() {
  for port in "${ports[@]}"; do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://localhost:$port/health")" == 000 ]] || return 1
  done
}

# The AppHost runs in a process group of its own: stopping it stops the whole group, and the next run starts only once
# every port is free again, so no run is timed against the one before.
stop() {
  kill -INT -- "-$1" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$1" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$1" 2>/dev/null || true
  until down; do sleep 0.5; done
}

start_once() {
  local log=$1 started pid
  started=$(date +%s.%N)
  setsid dotnet run --project AppHost >"$log" 2>&1 &
  pid=$!
  until healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "AppHost exited; see $log" >&2; return 1; fi
    if (( $(echo "$(date +%s.%N) - $started > 180" | bc) )); then echo "not healthy after 180 s; see $log" >&2; stop "$pid"; return 1; fi
    sleep 0.1
  done
  echo "$(date +%s.%N) - $started" | bc
  stop "$pid"
}

down || { echo "something already answers on the platform's ports; stop it first" >&2; exit 1; }
log=$(mktemp)
echo "priming (build and first start, not counted)"
start_once "$log" >/dev/null
times=()
for i in $(seq 1 "$runs"); do
  t=$(start_once "$log")
  printf 'run %d: %.1f s\n' "$i" "$t"
  times+=("$t")
done
printf 'median of %d: %.1f s\n' "$runs" "$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
