#!/usr/bin/env bash
# The scheduler's own ceiling: rank 0's dispatch rate with modules that
# run nothing (`cohort run --noop-modules`: each instance succeeds at once
# on its worker, no process, no folder), MPI messages and the journal
# (its fsyncs included), over INSTANCES instances at -np 2, 3 and 5 on
# this machine. The rate is taken from the journal, first start to last
# end, so MPI start-up and reading the job are left out.
#   bench/ceiling.sh [INSTANCES]      (default 100000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/ensure-openmpi.sh
ensure_openmpi
allow_root_mpirun
count=${1:-100000}
. bench/binaries.sh
bench_binaries cohort cohort-supervise
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
{
    echo "study: ceiling"
    echo "subjects: [$(seq -f 's%g' -s, 1 "$count")]"
    echo "stages:"
    echo "  - {name: noop, domain: subject, run: /bin/true}"
} > "$dir/job.yml"
for ranks in 2 3 5; do
    rm -rf "$dir/.cohort" "$dir/out"
    mpirun -np "$ranks" --oversubscribe --bind-to none --stdin none -q \
        "$bin"/cohort run "$dir/job.yml" --noop-modules --slots 64 > "$dir/out.log"
    grep -q "All $count instances done." "$dir/out.log"
    awk -F'\t' -v r="$ranks" '$2 == "start" || $2 == "end" {
        for (i = 3; i <= NF; i++) if ($i ~ /^time=/) { t = substr($i, 6); if (first == "") first = t; last = t }
        if ($2 == "end") n++
    } END {
        printf "-np %d: %d instances in %.2f s = %.0f instances/s\n", r, n, last - first, n / (last - first)
        printf "TABLE|scheduler ceiling, no-op modules, -np %d|%.0f instances/s|target 100,000/s\n", r, n / (last - first)
    }' \
        "$dir/.cohort/ceiling.noop-modules/journal"
done
