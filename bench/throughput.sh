#!/usr/bin/env bash
# Dispatch throughput of short modules under a real mpirun, as a ratio to
# a baseline measured in the same run: `xargs -P WORKERS` running the same
# number of `sh -c COMMAND` with the same parallelism (no scheduler at all);
# the job runs COMMAND (default /bin/true) as each instance.
#   [COMMAND=...] bench/throughput.sh [INSTANCES] [WORKER_RANKS]      (default 2000 2)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/ensure-openmpi.sh
ensure_openmpi
allow_root_mpirun
count=${1:-2000}
workers=${2:-2}
command=${COMMAND:-/bin/true}
swift build -c release --product cohort >/dev/null
swift build -c release --product cohort-supervise >/dev/null
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
{
    echo "study: throughput"
    echo "subjects: [$(seq -f 's%g' -s, 1 "$count")]"
    echo "stages:"
    echo "  - {name: noop, domain: subject, run: '$command'}"
} > "$dir/job.yml"

now() { date +%s.%N; }
start=$(now)
seq "$count" | xargs -P "$workers" -n 1 sh -c "$command"
baseline=$(awk -v a="$(now)" -v b="$start" 'BEGIN { print a - b }')

start=$(now)
mpirun -np $((workers + 1)) --oversubscribe --bind-to none --stdin none -q \
    .build/release/cohort run "$dir/job.yml" --slots 1 > "$dir/out.log"
cohort=$(awk -v a="$(now)" -v b="$start" 'BEGIN { print a - b }')
grep -q "All $count instances done." "$dir/out.log"

awk -v w="$workers" -v n="$count" -v cmd="$command" -v b="$baseline" -v c="$cohort" 'BEGIN {
    printf "xargs -P %d, %d x sh -c %s:    %.2f s (baseline)\n", w, n, cmd, b
    printf "cohort, %d worker ranks x 1 slot:  %.2f s = %.1f x baseline (%.0f instances/s, MPI start included)\n", w, c, c / b, n / c
}'
