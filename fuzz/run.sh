#!/usr/bin/env bash
# Fuzz the job-file loader with libFuzzer for SECONDS (default 300).
#   fuzz/run.sh [SECONDS] [libFuzzer flags...]     e.g. fuzz/run.sh 180 -len_control=0
# Builds with -sanitize=fuzzer,address into .build-fuzz (libyaml's C is
# instrumented too), runs from fuzz/seeds into fuzz/corpus, and writes any
# crashing input to fuzz/artifacts/. Exit 0: no crash found.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-300}
shift || true
swift build -c debug --scratch-path .build-fuzz --product cohort-fuzz-loader \
    -Xswiftc -DFUZZING -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address
mkdir -p fuzz/corpus fuzz/artifacts
SWIFT_BACKTRACE=enable=no .build-fuzz/debug/cohort-fuzz-loader \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -dict=fuzz/jobfile.dict -artifact_prefix=fuzz/artifacts/ -print_final_stats=1 "$@" \
    fuzz/corpus fuzz/seeds
