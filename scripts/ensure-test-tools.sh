#!/usr/bin/env bash
# Installs, with apt-get, the tools the tests use beyond OpenMPI when they
# are missing, saying so: Graphviz (`cohort graph` output is rendered with
# dot) and Chromium (`cohort report`'s page is loaded headless and
# screenshotted). Sourced by scripts/test.sh.
ensure_test_tools() {
    local missing=()
    command -v dot >/dev/null 2>&1 || missing+=(graphviz)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "test.sh: installing ${missing[*]} with apt-get (the tests use them)..." >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "test.sh: not root and no sudo: install ${missing[*]} yourself" >&2; return 1; }
        sudo="sudo"
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || {
        echo "test.sh: installing ${missing[*]} failed" >&2
        return 1
    }
}
