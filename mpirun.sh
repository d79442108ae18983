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
#
# Signals: mpirun answers SIGINT/SIGTERM by killing every rank one second
# later, too soon for modules to stop and be recorded. So mpirun runs in a
# process group of its own (a terminal's Ctrl-C does not reach it) and this
# script turns Ctrl-C into SIGUSR2 and SIGTERM/SIGUSR1 into SIGUSR1, which
# mpirun forwards to the ranks as they are: Cohort stops cleanly and exits
# 130 or 143. A second signal stops mpirun the hard way.
#
# Inside a Slurm allocation: N defaults to one worker rank per node plus
# rank 0, placed with `--map-by node` (rank 0 shares the first node with the
# last worker) and `--oversubscribe` (Slurm counts one task per node); each
# worker takes its node's cpus and memory from Slurm's environment. Cohort
# is not rebuilt there: build it on the login node first.
#
# COHORT_BIN=FOLDER uses the binaries in FOLDER instead of building (tests).
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
in_slurm=""
if [ -n "${SLURM_JOB_ID:-}" ] && [ -n "${SLURM_NNODES:-}" ]; then in_slurm=1; fi
if [ -n "$in_slurm" ]; then
    ranks=${ranks:-$((SLURM_NNODES + 1))}
else
    ranks=${ranks:-$((cores + 1))}
fi
case "$ranks" in ''|*[!0-9]*|0) echo "mpirun.sh: -np needs a positive number, got '$ranks'" >&2; exit 2 ;; esac

if [ -n "$in_slurm" ]; then
    # On a cluster OpenMPI comes from the site (`module load openmpi`), not apt-get.
    command -v mpirun >/dev/null || { echo "mpirun.sh: no mpirun on PATH inside the allocation (module load openmpi?)" >&2; exit 2; }
else
    ensure_openmpi
fi
allow_root_mpirun

bin="${COHORT_BIN:-$here/.build/release}"
if [ -n "$in_slurm" ] && [ -z "${COHORT_BIN:-}" ]; then
    if [ ! -x "$bin/cohort" ] || [ ! -x "$bin/cohort-supervise" ]; then
        echo "mpirun.sh: $bin/cohort is missing; build it before submitting: (cd $here && swift build -c release)" >&2
        exit 2
    fi
elif [ -z "${COHORT_BIN:-}" ] && { [ -x "$bin/cohort" ] || echo "mpirun.sh: building Cohort (release; a few minutes the first time)..." >&2; } &&
    ! (cd "$here" && swift build -c release --product cohort >/tmp/cohort-build.$$.log 2>&1 &&
      swift build -c release --product cohort-supervise >>/tmp/cohort-build.$$.log 2>&1); then
    cat /tmp/cohort-build.$$.log >&2
    rm -f /tmp/cohort-build.$$.log
    echo "mpirun.sh: building Cohort failed" >&2
    exit 2
fi
rm -f /tmp/cohort-build.$$.log

flags=(--bind-to none --stdin none -q)
if [ -n "$in_slurm" ]; then
    flags+=(--map-by node --oversubscribe)
elif [ "$ranks" -gt "$cores" ]; then
    flags+=(--oversubscribe)
fi
# OpenMPI wants ~4 MiB of /dev/shm per rank; small containers have less.
shm_free_kib=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
if [ -z "$shm_free_kib" ] || [ "$shm_free_kib" -lt $((ranks * 8192)) ]; then
    flags+=(--mca btl_vader_backing_directory /tmp)
fi

set -m  # mpirun gets its own process group
mpirun -np "$ranks" "${flags[@]}" "$bin/cohort" run "$@" &
mpirun_pid=$!
set +m
stopping=""
forward() {
    if [ -z "$stopping" ]; then
        stopping=1
        echo "mpirun.sh: $2: stopping the run cleanly (send it again to stop at once)" >&2
        kill -s "$1" "$mpirun_pid" 2>/dev/null || true
    else
        kill -s TERM "$mpirun_pid" 2>/dev/null || true
    fi
}
trap 'forward USR2 SIGINT' INT
trap 'forward USR1 SIGTERM' TERM
trap 'forward USR1 SIGUSR1' USR1
while :; do
    status=0
    wait "$mpirun_pid" || status=$?
    # A trapped signal interrupts wait with status > 128 while mpirun goes on.
    if [ "$status" -gt 128 ] && kill -0 "$mpirun_pid" 2>/dev/null; then continue; fi
    break
done
case "$status" in
    0|1|2|3|130|143) ;;
    *) echo "mpirun.sh: the MPI job ended abnormally (mpirun exit $status: a rank died, was killed or lost its node); every success is in the journal: run the same command again to carry on" >&2 ;;
esac
exit "$status"
