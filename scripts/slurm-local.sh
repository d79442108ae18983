#!/usr/bin/env bash
# A real Slurm on this one machine, for tests: munge, slurmctld, and slurmd
# daemons posing as nodes n1, n2, ... (Debian's packages, no systemd).
#
#   scripts/slurm-local.sh up       install if needed, start, wait until every node is idle
#   scripts/slurm-local.sh down     stop everything and remove the state folder
#   scripts/slurm-local.sh env      print the `export SLURM_CONF=...` to use it
#
# SLURM_LOCAL_DIR (default /tmp/cohort-slurm), SLURM_LOCAL_NODES (2) and
# SLURM_LOCAL_CPUS (4 per node; more than the machine has is fine) adjust it.
# Needs root. Touches nothing outside its folder except /run/munge and, when
# it is empty, /etc/munge/munge.key.
set -euo pipefail
dir=${SLURM_LOCAL_DIR:-/tmp/cohort-slurm}
nodes=${SLURM_LOCAL_NODES:-2}
cpus=${SLURM_LOCAL_CPUS:-4}
conf="$dir/slurm.conf"

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        return
    fi
    echo "slurm-local: installing slurmctld slurmd slurm-client munge with apt-get..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >&2
}

start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi
    if [ ! -s /etc/munge/munge.key ]; then
        mungekey --create --force >/dev/null 2>&1 || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    fi
    install -d -o munge -g munge -m 755 /run/munge
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 1 50); do
        if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then return; fi
        sleep 0.1
    done
    echo "slurm-local: munged did not start" >&2
    return 1
}

write_conf() {
    mkdir -p "$dir/state"
    for i in $(seq 1 "$nodes"); do mkdir -p "$dir/spool.n$i" "$dir/tmp.n$i"; done
    cat > "$conf" <<CONF
ClusterName=cohortlocal
SlurmctldHost=localhost
SlurmctldPort=16817
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool.%n
TmpFS=$dir/tmp.%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.%n.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
KillWait=5
MinJobAge=5
NodeName=n[1-$nodes] NodeHostname=localhost NodeAddr=127.0.0.1 Port=[17001-$((17000 + nodes))] CPUs=$cpus RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

up() {
    [ "$(id -u)" -eq 0 ] || { echo "slurm-local: needs root" >&2; exit 1; }
    install_packages
    down quietly
    start_munge
    write_conf
    export SLURM_CONF="$conf"
    /usr/sbin/slurmctld -f "$conf"
    for i in $(seq 1 "$nodes"); do /usr/sbin/slurmd -f "$conf" -N "n$i"; done
    for _ in $(seq 1 150); do
        idle=$(sinfo -h -t idle -o %D 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
        if [ "$idle" = "$nodes" ]; then
            echo "slurm-local: up: $nodes nodes idle (export SLURM_CONF=$conf)" >&2
            return
        fi
        sleep 0.2
    done
    echo "slurm-local: nodes did not become idle; see $dir/*.log" >&2
    sinfo >&2 || true
    exit 1
}

down() {
    for pidfile in "$dir"/slurmd.*.pid "$dir"/slurmctld.pid; do
        [ -f "$pidfile" ] || continue
        kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    # Jobs' processes and daemons that left no pid file.
    pkill -f "slurmstepd" 2>/dev/null || true
    pkill -f "slurmd -f $conf" 2>/dev/null || true
    pkill -f "slurmctld -f $conf" 2>/dev/null || true
    for _ in $(seq 1 50); do
        pgrep -f "(slurmd|slurmctld) -f $conf" >/dev/null || break
        sleep 0.1
    done
    pkill -9 -f "(slurmd|slurmctld) -f $conf" 2>/dev/null || true
    rm -rf "$dir"
    [ "${1:-}" = quietly ] || echo "slurm-local: down" >&2
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    env) echo "export SLURM_CONF=$conf" ;;
    *) echo "usage: scripts/slurm-local.sh up|down|env" >&2; exit 2 ;;
esac
