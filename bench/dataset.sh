#!/usr/bin/env bash
# Opening a study whose subjects are found on disk: `cohort plan` of a BIDS
# dataset of SUBJECTS `sub-*` folders (each with an `anat/` folder, every
# tenth with two `ses-*` folders) and a participants.tsv, a median of 3
# runs with a warm cache, as a ratio against a baseline measured in the
# same run: `find` listing the same folders for `ses-*` (the listing any
# discovery needs). Plan includes the rest of opening the study (validation,
# instance graph, resume plan) over SUBJECTS x 1.2 + 1 instances.
#   bench/dataset.sh [SUBJECTS]      (default 100000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
subjects=${1:-100000}
. bench/binaries.sh
bench_binaries cohort
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/data"
(
    cd "$dir/data"
    seq -f 'sub-%06g' 1 "$subjects" | xargs mkdir
    seq -f 'sub-%06g/anat' 1 "$subjects" | xargs mkdir
    seq -f 'sub-%06g/ses-1' 1 10 "$subjects" | xargs -r mkdir
    seq -f 'sub-%06g/ses-2' 1 10 "$subjects" | xargs -r mkdir
    { echo "participant_id"; seq -f 'sub-%06g' 1 "$subjects"; } > participants.tsv
)
cat > "$dir/job.yml" <<'JOB'
study: dataset
dataset: {bids: data}
stages:
  - {name: convert, domain: session, run: 'true'}
  - {name: group, domain: study, run: 'true'}
JOB
seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null; end=$(date +%s.%N); awk -v a="$end" -v b="$start" 'BEGIN { print a - b }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
find "$dir/data" -mindepth 2 -maxdepth 2 -name 'ses-*' > /dev/null  # warm the cache
baseline=$(for _ in 1 2 3; do seconds find "$dir/data" -mindepth 2 -maxdepth 2 -name 'ses-*'; done | median)
plan=$(for _ in 1 2 3; do seconds "$bin"/cohort plan "$dir/job.yml"; done | median)
awk -v b="$baseline" -v p="$plan" -v n="$subjects" 'BEGIN {
    printf "baseline (find ... -name ses-*):          %.2f s\n", b
    printf "plan of a BIDS dataset, %d subjects:    %.2f s = %.2f x baseline\n", n, p, p / b
    printf "TABLE|plan, BIDS dataset of %d subjects (found on disk)|%.2f s|%.2f x find; target < 1 s at 10^5\n", n, p, p / b
}'
