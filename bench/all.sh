#!/usr/bin/env bash
# Every benchmark, then one table of their figures (see BENCHMARKS.md).
# About ten minutes on 2 cores. Each script can also be run alone.
#   bench/all.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() { echo "== $*" >&2; "$@" 2>&1 | tee -a "$log" >&2; }
run bench/throughput.sh 5000 2
run bench/ceiling.sh 100000
run bench/status.sh
swift build -c release --product cohort-bench >/dev/null
run .build/release/cohort-bench simulate 1000 10000
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr); $(date -u +%Y-%m-%d)"
awk -F'|' '/^TABLE\|/ { rows[++n] = $2; values[n] = $3; notes[n] = $4; if (length($2) > w) w = length($2) }
    END { printf "%-*s  %-22s  %s\n", w, "figure", "value", "against"; for (i = 1; i <= n; i++) printf "%-*s  %-22s  %s\n", w, rows[i], values[i], notes[i] }' "$log"
