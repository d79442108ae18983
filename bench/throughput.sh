#!/usr/bin/env bash
# Per-instance cost of short modules, as a ratio to a baseline measured in
# the same run: `xargs -P WORKERS` running the same number of
# `sh -c COMMAND` with the same parallelism (no scheduler, no journal, no
# logs). Cohort runs COMMAND (default /bin/true) as each instance, under
# ./mpirun.sh (as a user runs it) with WORKERS worker ranks of one slot
# each, and in one process with WORKERS slots. Each figure is the median of REPEAT rounds (default 5;
# spread: min–max), each round's ratio taken against that round's baseline.
# Every run gets a fresh folder and nothing is deleted until the end: ext4
# skips inodes freed in the last minute when it makes new ones (its
# `recently_deleted` check), so removing a round's 5,000 instance folders
# would make the next round's mkdirs pay for the benchmark's own cleanup.
#   [COMMAND=...] [REPEAT=5] bench/throughput.sh [INSTANCES] [WORKERS]   (default 5000 2)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/ensure-openmpi.sh
ensure_openmpi
allow_root_mpirun
count=${1:-5000}
workers=${2:-2}
command=${COMMAND:-/bin/true}
repeat=${REPEAT:-5}
. bench/binaries.sh
bench_binaries cohort cohort-supervise
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
{
    echo "study: throughput"
    echo "subjects: [$(seq -f 's%g' -s, 1 "$count")]"
    echo "stages:"
    echo "  - {name: noop, domain: subject, run: '$command'}"
} > "$dir/job.yml"

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { print a - b }'; }
: > "$dir/rounds"
for round in $(seq "$repeat"); do
    start=$(now)
    seq "$count" | xargs -P "$workers" -n 1 sh -c "$command"
    baseline=$(since "$start")

    mkdir "$dir/mpi$round" "$dir/single$round"
    cp "$dir/job.yml" "$dir/mpi$round/"
    cp "$dir/job.yml" "$dir/single$round/"
    start=$(now)
    COHORT_BIN="$bin" ./mpirun.sh -np $((workers + 1)) "$dir/mpi$round/job.yml" --slots 1 > "$dir/out.log"
    mpi=$(since "$start")
    grep -q "All $count instances done." "$dir/out.log"

    start=$(now)
    "$bin"/cohort run "$dir/single$round/job.yml" --slots "$workers" > "$dir/out.log"
    single=$(since "$start")
    grep -q "All $count instances done." "$dir/out.log"
    echo "$baseline $mpi $single" >> "$dir/rounds"
done
awk -v w="$workers" -v n="$count" -v cmd="$command" '
    function median(a, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return a[int((k + 1) / 2)] }
    function spread(a, k,   i, lo, hi) { lo = a[1]; hi = a[1]; for (i = 2; i <= k; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] } return sprintf("%.2f–%.2f", lo, hi) }
    { b[NR] = $1; m[NR] = $2 / $1; s[NR] = $3 / $1; bm[NR] = $1; mt[NR] = $2; st[NR] = $3 }
    END {
        k = NR
        printf "xargs -P %d, %d x sh -c %s: %.2f s (baseline, median of %d; %s)\n", w, n, cmd, median(bm, k), k, spread(b, k)
        printf "cohort under ./mpirun.sh, %d worker ranks x 1 slot: %.2f s; %.2f x baseline (%s); %.0f instances/s\n", w, median(mt, k), median(m, k), spread(m, k), n / median(mt, k)
        printf "cohort in one process, %d slots: %.2f s; %.2f x baseline (%s); %.0f instances/s\n", w, median(st, k), median(s, k), spread(s, k), n / median(st, k)
        printf "TABLE|%d x %s, %d workers, ./mpirun.sh -np %d|%.2f s|%.2f x xargs -P %d (%s)\n", n, cmd, w, w + 1, median(mt, k), median(m, k), w, spread(m, k)
        printf "TABLE|%d x %s, %d slots, one process|%.2f s|%.2f x xargs -P %d (%s)\n", n, cmd, w, median(st, k), median(s, k), w, spread(s, k)
    }' "$dir/rounds"
