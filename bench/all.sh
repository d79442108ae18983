#!/usr/bin/env bash
# Every benchmark, then one table of their figures (see BENCHMARKS.md).
# About ten minutes on 2 cores. Each script can also be run alone.
#   bench/all.sh
#   [COHORT_BIN=FOLDER] [REPEAT=N] [BENCH_SIZES="5000 100000 32258 100000"] [SIMULATED_WORKERS="1000 10000"] bench/all.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() { echo "== $*" >&2; "$@" 2>&1 | tee -a "$log" >&2; }
# Smaller sizes (the tests' smoke run): BENCH_SIZES="INSTANCES CEILING SUBJECTS DATASET".
read -r instances ceiling subjects dataset <<< "${BENCH_SIZES:-5000 100000 32258 100000}"
run bench/throughput.sh "$instances" 2
run bench/ceiling.sh "$ceiling"
run bench/status.sh "$subjects"
run bench/dataset.sh "${dataset:-100000}"
. bench/binaries.sh
bench_binaries cohort-bench
run "$bin"/cohort-bench simulate ${SIMULATED_WORKERS:-1000 10000}
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr); $(date -u +%Y-%m-%d)"
awk -F'|' '/^TABLE\|/ { rows[++n] = $2; values[n] = $3; notes[n] = $4; if (length($2) > w) w = length($2) }
    END { printf "%-*s  %-22s  %s\n", w, "figure", "value", "against"; for (i = 1; i <= n; i++) printf "%-*s  %-22s  %s\n", w, rows[i], values[i], notes[i] }' "$log"
