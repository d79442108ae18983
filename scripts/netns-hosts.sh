#!/usr/bin/env bash
# Several "hosts" on this machine for tests with real OpenMPI TCP traffic:
# network namespaces cohort-h1..hN on a bridge (10.77.0.1/24), host i at
# 10.77.0.(10+i). Needs root and iproute2 (installed with apt-get if missing).
#
#   scripts/netns-hosts.sh up [N]     create N hosts (default 3)
#   scripts/netns-hosts.sh down       remove every cohort-h* namespace and the bridge
#   scripts/netns-hosts.sh exec HOST COMMAND...
#                                     run COMMAND "on" HOST (h1, or its address): its own
#                                     network, hostname, /dev/shm and TMPDIR
#   scripts/netns-hosts.sh agent [ssh options] HOST COMMAND...
#                                     the same, as mpirun's --mca plm_rsh_agent
#
# Only the addresses of namespaces this script creates are used.
set -euo pipefail
bridge=cohortbr0
prefix=10.77.0
scratch=${NETNS_HOSTS_DIR:-/tmp/cohort-netns}

ensure_iproute() {
    command -v ip >/dev/null && return
    echo "netns-hosts: installing iproute2 with apt-get..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends iproute2 >&2
}

up() {
    local count=${1:-3}
    ensure_iproute
    down quietly
    ip link add "$bridge" type bridge
    ip addr add "$prefix.1/24" dev "$bridge"
    ip link set "$bridge" up
    for i in $(seq 1 "$count"); do
        local name="cohort-h$i"
        ip netns add "$name"
        ip link add "veth-h$i" type veth peer name eth0 netns "$name"
        ip link set "veth-h$i" master "$bridge" up
        ip -n "$name" addr add "$prefix.$((10 + i))/24" dev eth0
        ip -n "$name" link set eth0 up
        ip -n "$name" link set lo up
        ip -n "$name" route add default via "$prefix.1"
        mkdir -p "$scratch/h$i"
    done
    # Each host resolves the others' names (h1, h2, ...: what COHORT_HOSTFILE
    # holds) from its own hosts file, which `ip netns exec` mounts over
    # /etc/hosts, instead of asking a name server it cannot reach (40 s).
    for i in $(seq 1 "$count"); do
        mkdir -p "/etc/netns/cohort-h$i"
        {
            echo "127.0.0.1 localhost"
            for j in $(seq 1 "$count"); do echo "$prefix.$((10 + j)) h$j"; done
        } > "/etc/netns/cohort-h$i/hosts"
    done
    echo "netns-hosts: up: $count hosts, h1 at $prefix.11" >&2
}

down() {
    for name in $(ip netns list 2>/dev/null | awk '/^cohort-h[0-9]+/ { print $1 }'); do
        ip netns pids "$name" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns delete "$name" 2>/dev/null || true
    done
    for link in $(ip -o link show 2>/dev/null | awk -F': ' '/veth-h[0-9]+@/ { split($2, a, "@"); print a[1] }'); do
        ip link delete "$link" 2>/dev/null || true
    done
    ip link delete "$bridge" 2>/dev/null || true
    rm -rf "$scratch" /etc/netns/cohort-h*
    [ "${1:-}" = quietly ] || echo "netns-hosts: down" >&2
}

# h2 or 10.77.0.12 -> h2
host_name() {
    case "$1" in
        "$prefix".*) echo "h$(( ${1##*.} - 10 ))" ;;
        *) echo "$1" ;;
    esac
}

run_on() {
    local host
    host=$(host_name "$1")
    shift
    mkdir -p "$scratch/$host"
    # Its own hostname, /dev/shm and TMPDIR: OpenMPI fails in odd ways when fake hosts share them.
    exec ip netns exec "cohort-$host" unshare --uts --mount sh -c \
        "hostname $host && mount -t tmpfs tmpfs /dev/shm && export TMPDIR=$scratch/$host && exec sh -c \"\$0\"" "$*"
}

case "${1:-}" in
    up) shift; up "$@" ;;
    down) down ;;
    exec) shift; run_on "$@" ;;
    agent)
        shift
        # Drop ssh-style options (mpirun passes e.g. -x); the first other word is the host.
        while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
        run_on "$@" ;;
    *) echo "usage: scripts/netns-hosts.sh up [N] | down | exec HOST COMMAND... | agent [options] HOST COMMAND..." >&2; exit 2 ;;
esac
