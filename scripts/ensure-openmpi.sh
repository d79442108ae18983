#!/usr/bin/env bash
# Installs OpenMPI (openmpi-bin, libopenmpi-dev) with apt-get when it is
# missing, saying so. Sourced by mpirun.sh and scripts/test.sh.
ensure_openmpi() {
    if command -v mpirun >/dev/null 2>&1 && pkg-config --exists ompi-c 2>/dev/null; then
        return 0
    fi
    echo "cohort: OpenMPI is missing; installing openmpi-bin libopenmpi-dev (and pkg-config) with apt-get..." >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "cohort: not root and no sudo: install openmpi-bin libopenmpi-dev pkg-config yourself" >&2
            return 1
        fi
    fi
    # A fresh machine may have no package lists yet.
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            openmpi-bin libopenmpi-dev pkg-config >&2 || {
        echo "cohort: installing OpenMPI failed" >&2
        return 1
    }
    if ! command -v mpirun >/dev/null 2>&1 || ! pkg-config --exists ompi-c; then
        echo "cohort: OpenMPI is still missing after apt-get install" >&2
        return 1
    fi
    echo "cohort: OpenMPI installed: $(mpirun --version 2>/dev/null | head -n 1)" >&2
}

# mpirun refuses root unless told twice (CI runs as root).
allow_root_mpirun() {
    if [ "$(id -u)" -eq 0 ]; then
        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    fi
}
