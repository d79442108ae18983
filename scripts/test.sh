#!/usr/bin/env bash
# The test command (README; .ci/run calls it): installs OpenMPI if missing,
# then builds and runs every test: the pure core without MPI, and the
# integration tests that run the built `cohort` under a real mpirun.
# Also installs the tools the tests use (Graphviz) when missing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
. scripts/ensure-openmpi.sh
. scripts/ensure-test-tools.sh
ensure_openmpi
ensure_test_tools
allow_root_mpirun
command -v mpirun >/dev/null || { echo "test.sh: mpirun missing after set-up" >&2; exit 1; }
swift build --build-tests
swift test --skip-build "$@"
