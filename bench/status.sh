#!/usr/bin/env bash
# `cohort status`, `cohort plan` and a no-op `cohort run` on a finished study of about 10^6
# instances (or SUBJECTS x 31 + 1), with its journal written by
# `cohort-bench study`, each a median of 3 runs, as a ratio against a
# baseline measured in the same run: `wc -l` of the journal (touching every
# byte of it once). The first status reads the whole text journal and
# leaves a snapshot beside it; the later ones read the snapshot.
#   bench/status.sh [SUBJECTS]      (default 32258: 999,999 instances)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
subjects=${1:-32258}
. bench/binaries.sh
bench_binaries cohort cohort-bench
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin"/cohort-bench study "$dir/study" "$subjects"
journal="$dir/study/.cohort/big/journal"
seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null; end=$(date +%s.%N); awk -v a="$end" -v b="$start" 'BEGIN { print a - b }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
baseline=$(for _ in 1 2 3; do seconds wc -l "$journal"; done | median)
first=$(seconds "$bin"/cohort status "$dir/study/job.yml")
status=$(for _ in 1 2 3; do seconds "$bin"/cohort status "$dir/study/job.yml"; done | median)
plan=$(for _ in 1 2 3; do seconds "$bin"/cohort plan "$dir/study/job.yml"; done | median)
# A no-op rerun, whole: take the lock, check the snapshot's CRC over the journal, plan, find nothing to do.
rerun=$(for _ in 1 2 3; do seconds "$bin"/cohort run "$dir/study/job.yml"; done | median)
# A journal under a megabyte is not worth a snapshot (tiny sizes, for the smoke test).
snapshot_size=$(stat -c %s "$dir/study/.cohort/big/snapshot" 2>/dev/null || echo 0)
awk -v j="$(stat -c %s "$journal")" -v s="$snapshot_size" -v b="$baseline" \
    -v f="$first" -v st="$status" -v p="$plan" -v r="$rerun" -v n="$((subjects * 31 + 1))" 'BEGIN {
    printf "journal %.0f MiB, snapshot %.0f MiB\n", j / 1048576, s / 1048576
    printf "baseline (wc -l of the journal):          %.2f s\n", b
    printf "status, first (whole text journal):       %.2f s = %.1f x baseline\n", f, f / b
    printf "status (snapshot):                        %.2f s = %.1f x baseline\n", st, st / b
    printf "plan (snapshot):                          %.2f s = %.1f x baseline\n", p, p / b
    printf "TABLE|status, %d instances, first (text journal)|%.2f s|%.0f x wc -l\n", n, f, f / b
    printf "TABLE|status, %d instances (snapshot)|%.2f s|%.0f x wc -l; target < 1 s at 10^6\n", n, st, st / b
    printf "TABLE|plan, %d instances (snapshot)|%.2f s|%.0f x wc -l; target < 2 s at 10^6\n", n, p, p / b
    printf "TABLE|no-op rerun (cohort run, one process), %d instances|%.2f s|%.0f x wc -l; target: plans in < 2 s at 10^6\n", n, r, r / b
}'
