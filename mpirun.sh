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
# script turns Ctrl-C into SIGUSR2 and SIGTERM/SIGHUP/SIGUSR1 into SIGUSR1,
# which mpirun forwards to the ranks as they are: Cohort stops cleanly and
# exits 130 or 143, naming the signal sent here. A second signal makes
# Cohort stop at once (without waiting for its modules' reports); mpirun
# itself is never signalled. If this script is killed, a watchdog stops
# the run cleanly. Cohort is rebuilt only when a source changed.
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
# GNU nproc honours OMP_NUM_THREADS and OMP_THREAD_LIMIT (a login shell's
# OMP_NUM_THREADS=64 would claim 64 cores): count without them.
cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
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
elif [ -z "${COHORT_BIN:-}" ]; then
    # Build only when a source is newer than the binaries (a no-op build still costs seconds).
    stale=""
    if [ ! -x "$bin/cohort" ] || [ ! -x "$bin/cohort-supervise" ]; then
        stale=1
        echo "mpirun.sh: building Cohort (release; a few minutes the first time)..." >&2
    elif [ -n "$(find "$here/Sources" "$here/Package.swift" -newer "$bin/cohort" -print -quit 2>/dev/null)" ]; then
        stale=1
        echo "mpirun.sh: sources changed since the last build; rebuilding Cohort (release)..." >&2
    fi
    if [ -n "$stale" ]; then
        mkdir -p "$here/.build"
        log="$here/.build/mpirun-build.log"
        if ! (cd "$here" && swift build -c release --product cohort >"$log" 2>&1 &&
              swift build -c release --product cohort-supervise >>"$log" 2>&1); then
            cat "$log" >&2
            echo "mpirun.sh: building Cohort failed (log: $log)" >&2
            exit 2
        fi
        touch "$bin/cohort"
    fi
fi

# Not -q: mpirun's own messages name a rank that died, or why it cannot start.
flags=(--bind-to none --stdin none)
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
# On one host Cohort's ranks talk through shared memory (pml ob1, btl
# vader). Left to choose, OpenMPI 4 tries UCX first, which costs 0.2 s of
# every start here and brings nothing on one node. A pml the user chose
# (OMPI_MCA_pml) stays; modules do not inherit this one (COHORT_MPIRUN_MCA
# names what this script set, for Cohort to leave out of their environment).
chosen_mca=""
if [ -z "$in_slurm" ] && [ -z "${OMPI_MCA_pml:-}" ]; then
    flags+=(--mca pml ob1)
    chosen_mca=pml
fi

# mpirun forwards only SIGUSR1/SIGUSR2 to the ranks; the signal the user
# really sent is noted here for Cohort's messages (COHORT_STOP_NOTE).
note=$(mktemp "${TMPDIR:-/tmp}/cohort-stop.XXXXXX")
# mpirun's notices of a rank that died, to journal after the job (rank 0
# cannot see a rank die on another node).
deaths=$(mktemp "${TMPDIR:-/tmp}/cohort-deaths.XXXXXX")
watchdog=""
# The watchdog stays while mpirun runs: it is what stops the run if this
# script dies before mpirun does (an error, a write to a closed terminal).
trap '[ -n "${mpirun_pid:-}" ] && kill -0 "$mpirun_pid" 2>/dev/null && exit
      rm -f "$note" "$deaths"; [ -z "$watchdog" ] || kill "$watchdog" 2>/dev/null || true' EXIT
# mpirun's stderr passes through here: its notices of a dead rank are kept,
# and its banners after any non-zero exit of rank 0 ("Primary job terminated
# normally … aborted", "exited with non-zero status": an instance failed,
# Ctrl-C), which Cohort's own summary already explains, are left out.
watch_deaths() {
    trap '' INT TERM HUP
    local block="" in_block=""
    while IFS= read -r line; do
        case "$line" in
            ----------*)
                if [ -n "$in_block" ]; then
                    case "$block" in
                        *"Primary job"*"terminated normally"* | *"exited with non-zero status"*) ;;
                        *) printf '%s\n%s%s\n' "$line" "$block" "$line" >&2 ;;
                    esac
                    block="" in_block=""
                else
                    in_block=1
                fi ;;
            *)
                case "$line" in *"noticed that process rank "*) printf '%s\n' "$line" >> "$deaths" ;; esac
                case "$line" in *"Forwarding signal"*) continue ;; esac  # this script said so already
                if [ -n "$in_block" ]; then block+="$line"$'\n'; else printf '%s\n' "$line" >&2; fi ;;
        esac
    done
    [ -z "$in_block" ] || printf '%s' "$block" >&2
}

set -m  # mpirun gets its own process group
exec {mpirun_err}> >(watch_deaths)
watcher=$!
# Under mpirun rank 0's stdout is a pipe or a pseudo-terminal of mpirun's
# choosing, whatever the user's is: say whether the user's is a terminal
# (the live progress block), or a batch log (plain lines).
if [ -t 1 ]; then
    terminal=1
    read -r lines columns < <(stty size </dev/tty 2>/dev/null || echo "24 80")
else
    terminal=0 lines=24 columns=80
fi
COHORT_STOP_NOTE="$note" COHORT_TERMINAL="${COHORT_TERMINAL:-$terminal}" COHORT_MPIRUN_MCA="$chosen_mca" \
    COHORT_COLUMNS="${COHORT_COLUMNS:-$columns}" COHORT_LINES="${COHORT_LINES:-$lines}" mpirun -np "$ranks" "${flags[@]}" \
    -x COHORT_STOP_NOTE -x COHORT_TERMINAL -x COHORT_COLUMNS -x COHORT_LINES -x COHORT_MPIRUN_MCA \
    "$bin/cohort" run "$@" 2>&"$mpirun_err" &
mpirun_pid=$!
# If this script is killed (kill -9, a closed terminal), stop the run
# cleanly rather than leave it running unseen.
script_pid=$$
( trap '' INT HUP
  while kill -0 "$script_pid" 2>/dev/null; do sleep 1; done
  kill -0 "$mpirun_pid" 2>/dev/null || { rm -f "$note" "$deaths"; exit 0; }
  echo SIGKILL > "$note"; kill -s USR1 "$mpirun_pid" 2>/dev/null
  while kill -0 "$mpirun_pid" 2>/dev/null; do sleep 1; done
  rm -f "$note" "$deaths" ) </dev/null >/dev/null 2>&1 {mpirun_err}>&- &
watchdog=$!
exec {mpirun_err}>&-  # mpirun holds it now: watch_deaths ends when mpirun does
set +m
stops=0
forward() {
    stops=$((stops + 1))
    if [ "$stops" -eq 1 ]; then
        echo "$2" > "$note"
        # The terminal may be gone (SIGHUP): a failed write must not end this script.
        echo "mpirun.sh: $2: stopping the run cleanly (send it again to stop without waiting for the modules' reports)" >&2 || true
    fi
    # Again for a second signal: Cohort then stops at once, still cleanly
    # (mpirun itself is never signalled: it crashes when stopped while it ends).
    kill -s "$1" "$mpirun_pid" 2>/dev/null || true
}
trap 'forward USR2 SIGINT' INT
trap 'forward USR1 SIGTERM' TERM
trap 'forward USR1 SIGHUP' HUP
trap 'forward USR1 SIGUSR1' USR1
while :; do
    status=0
    wait "$mpirun_pid" || status=$?
    # A trapped signal interrupts wait with status > 128 while mpirun goes on.
    if [ "$status" -gt 128 ] && kill -0 "$mpirun_pid" 2>/dev/null; then continue; fi
    break
done
# mpirun's last words through watch_deaths (it ends when mpirun's stderr closes).
for _ in $(seq 50); do kill -0 "$watcher" 2>/dev/null || break; sleep 0.1; done
if [ -s "$deaths" ]; then
    sed -n 's/.*process rank \([0-9][0-9]*\) with PID [0-9]* on node \([^ ]*\) \(.*\)\.$/\1 \2 \3/p' "$deaths" |
    while read -r dead_rank dead_host what; do
        "$bin/cohort" note-lost-rank "$1" --rank "$dead_rank" --host "$dead_host" --why "$what" || true
    done
fi
case "$status" in
    0|1|2|3|130|143) ;;
    *)
        if [ -s "$deaths" ]; then
            why="a rank died, was killed or lost its node; mpirun's message above names it"
        elif [ "$status" -gt 128 ]; then
            # No rank's death was reported: mpirun itself was killed (kill -9, the OOM killer).
            why="mpirun itself ended on SIG$(kill -l $((status - 128)) 2>/dev/null || echo "nal $((status - 128))")"
        else
            why="mpirun gave no reason"
        fi
        echo "mpirun.sh: the MPI job ended abnormally (mpirun exit $status: $why); every success is in the journal: run the same command again to carry on" >&2 ;;
esac
exit "$status"
