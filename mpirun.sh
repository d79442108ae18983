#!/usr/bin/env bash
# Run a Cohort job under OpenMPI on this machine.
#
#   ./mpirun.sh [-np N] JOB.yml [cohort run options...]
#
# Installs OpenMPI with apt-get if it is missing (saying so), builds Cohort
# (release) if needed, then runs `mpirun -np N cohort run JOB.yml ...` with
# the flags this place needs: --allow-run-as-root equivalents as root,
# --oversubscribe when N exceeds the cores, --bind-to none (modules must not
# inherit a rank's binding to one core). Rank 0 schedules, ranks 1..N-1 work;
# N defaults to 1 + the number of cores. Exit code: cohort's (see README).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/scripts/ensure-openmpi.sh"

ranks=""
if [ "${1:-}" = "-np" ] || [ "${1:-}" = "-n" ]; then
    ranks=${2:?"-np needs a number"}
    shift 2
fi
if [ $# -lt 1 ]; then
    echo "usage: ./mpirun.sh [-np N] JOB.yml [cohort run options...]" >&2
    exit 2
fi
cores=$(nproc)
ranks=${ranks:-$((cores + 1))}
case "$ranks" in ''|*[!0-9]*|0) echo "mpirun.sh: -np needs a positive number, got '$ranks'" >&2; exit 2 ;; esac

ensure_openmpi
allow_root_mpirun

bin="$here/.build/release"
if ! (cd "$here" && swift build -c release --product cohort >/tmp/cohort-build.$$.log 2>&1 &&
      swift build -c release --product cohort-supervise >>/tmp/cohort-build.$$.log 2>&1); then
    cat /tmp/cohort-build.$$.log >&2
    rm -f /tmp/cohort-build.$$.log
    echo "mpirun.sh: building Cohort failed" >&2
    exit 2
fi
rm -f /tmp/cohort-build.$$.log

flags=(--bind-to none --stdin none -q)
if [ "$ranks" -gt "$cores" ]; then flags+=(--oversubscribe); fi
exec mpirun -np "$ranks" "${flags[@]}" "$bin/cohort" run "$@"
