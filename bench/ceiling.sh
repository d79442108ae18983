#!/usr/bin/env bash
# The scheduler's own ceiling: rank 0's dispatch rate with modules that
# run nothing (`cohort run --noop-modules`: each instance succeeds at once
# on its worker, no process, no folder), MPI messages and the journal
# (its fsyncs included), over INSTANCES instances at -np 2, 3 and 5 on
# this machine. The rate is taken from the journal, first start to last
# end, so MPI start-up and reading the job are left out. Each figure is
# the median of REPEAT rounds (default 5; spread: min–max): on a shared
# 2-core VM one round varies by ±20 %.
#   [REPEAT=5] bench/ceiling.sh [INSTANCES]      (default 100000)
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
repeat=${REPEAT:-5}
for ranks in 2 3 5; do
    for round in $(seq "$repeat"); do
        rm -rf "$dir/.cohort" "$dir/out"
        mpirun -np "$ranks" --oversubscribe --bind-to none --stdin none -q \
            "$bin"/cohort run "$dir/job.yml" --noop-modules --slots 64 > "$dir/out.log"
        grep -q "All $count instances done." "$dir/out.log"
        awk -F'\t' '$2 == "start" || $2 == "end" {
            for (i = 3; i <= NF; i++) if ($i ~ /^time=/) { t = substr($i, 6); if (first == "") first = t; last = t }
            if ($2 == "end") n++
        } END { printf "%d %.6f\n", n, last - first }' "$dir/.cohort/ceiling.noop-modules/journal"
    done | awk -v r="$ranks" '
        { n = $1; rate[NR] = $1 / $2 }
        END {
            k = NR
            for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (rate[j] < rate[i]) { t = rate[i]; rate[i] = rate[j]; rate[j] = t }
            printf "-np %d: %d instances, %.0f instances/s (median of %d; %.0f–%.0f)\n", r, n, rate[int((k + 1) / 2)], k, rate[1], rate[k]
            printf "TABLE|scheduler ceiling, no-op modules, -np %d|%.0f instances/s|target 100,000/s (%.0f–%.0f)\n", r, rate[int((k + 1) / 2)], rate[1], rate[k]
        }'
done
