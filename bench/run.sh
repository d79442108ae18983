#!/usr/bin/env bash
# Scale benchmark of the core (graph expansion + scheduler), release build.
#   bench/run.sh [SUBJECTS SESSIONS STAGES]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build -c release --product cohort-bench >/dev/null
exec .build/release/cohort-bench "$@"
