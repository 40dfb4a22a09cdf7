#!/usr/bin/env bash
# The test suite's gate: runs `npm test` RUNS times with HOGS busy loops (`yes > /dev/null`)
# taking cores away, and prints one JSON line: how many runs passed and how long each took.
#
#   scripts/suite-gate.sh [runs=5] [hogs=2]     the gate: 5 of 5 green under two CPU hogs
#   scripts/suite-gate.sh 1 0                   the suite's time on this machine as it is
#
# Timings mean something only on a machine with nothing else running: the line says the load
# average before and after, read it.
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
hogs="${2:-2}"
log_dir="$(mktemp -d)"
hog_pids=()
stop_hogs() {
  for pid in "${hog_pids[@]}"; do kill "$pid" 2>/dev/null; done
}
trap stop_hogs EXIT
load_before="$(cut -d' ' -f1 /proc/loadavg)"
for _ in $(seq 1 "$hogs"); do
  yes >/dev/null &
  hog_pids+=($!)
done
passed=0
durations=()
for run in $(seq 1 "$runs"); do
  started=$(date +%s)
  if npm test >"$log_dir/run-$run.log" 2>&1; then
    passed=$((passed + 1))
    verdict=passed
  else
    verdict="FAILED (log: $log_dir/run-$run.log)"
  fi
  seconds=$(($(date +%s) - started))
  durations+=("$seconds")
  echo "suite-gate: run $run of $runs: $verdict in ${seconds} s" >&2
done
stop_hogs
load_after="$(cut -d' ' -f1 /proc/loadavg)"
printf '{"runs":%d,"passed":%d,"hogs":%d,"durationsSeconds":[%s],"loadAverageBefore":%s,"loadAverageAfter":%s,"logs":"%s"}\n' \
  "$runs" "$passed" "$hogs" "$(IFS=,; echo "${durations[*]}")" "$load_before" "$load_after" "$log_dir"
[ "$passed" -eq "$runs" ]
