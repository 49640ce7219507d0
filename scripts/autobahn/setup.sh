#!/usr/bin/env bash
# Install the real Autobahn|Testsuite (`wstest`), used by wsspec as a differential
# oracle (`cargo xtask oracle`, and the fast oracle step of `cargo xtask ci`).
#
#   autobahntestsuite 25.10.1 (drives autobahn-python 0.10.9) from PyPI, into a
#   Python 2.7 virtualenv at .tools/autobahn/venv (git-ignored).
#
# wstest runs only on Python 2.7. The interpreter is taken from $AUTOBAHN_PYTHON2, else
# pyenv's 2.7.18 (its binary directly: the `python2.7` shim refuses unless 2.7 is the
# selected version), else a working `python2.7` on PATH. The 2.7 environment is made by
# virtualenv 20.15.1 (the last release that still creates 2.7 environments), which is
# itself installed into a Python 3 tool venv at .tools/autobahn/virtualenv.
#
# Idempotent: a second run only checks what is there (no network).
#
# Output: "autobahn: wstest <path> (autobahntestsuite X, autobahn Y, python Z)" on stdout.
# Exit codes:
#   0  installed and runnable
#   3  cannot be installed here (no Python 2.7, registry unreachable, ...); the reason
#      is on stderr. With CI set, the same reason is printed but the exit code is 1,
#      so that CI fails instead of skipping.
#   other  a bug in this script.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.tools/autobahn"
VENV="$TOOLS/venv"
VTOOL="$TOOLS/virtualenv"
WSTEST="$VENV/bin/wstest"
SUITE_VERSION=25.10.1
VIRTUALENV_VERSION=20.15.1
PIP_WALL="${AUTOBAHN_PIP_WALL:-300}"

cannot() { # cannot <reason>
    if [[ -n "${CI:-}" ]]; then
        echo "autobahn: FAILED: cannot install wstest: $1" >&2
        exit 1
    fi
    echo "autobahn: SKIPPED (not installed): cannot install wstest: $1" >&2
    exit 3
}

trim() { sed -E 's/^[[:space:]]+//; s/[[:space:]]+$//' | cut -c1-200; }
last_error() { # last_error <log> <status>
    [[ "$2" == 124 ]] && { echo "timed out after ${PIP_WALL}s"; return; }
    local e
    e="$(grep -E '^ERROR: |Error:|error:' "$1" | tail -n1 | trim || true)"
    echo "${e:-$(grep -v '^[[:space:]]*$' "$1" | tail -n1 | trim)}"
}

# Concurrent callers (tests, xtask) serialise on the script itself.
if command -v flock >/dev/null 2>&1; then
    exec 9<"${BASH_SOURCE[0]}"
    flock 9
fi
mkdir -p "$TOOLS"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT

installed_version() {
    "$VENV/bin/python" -c 'import pkg_resources as p; print(p.get_distribution("autobahntestsuite").version)' 2>/dev/null
}

if [[ -x "$WSTEST" ]] && [[ "$(installed_version)" == "$SUITE_VERSION" ]] \
    && "$WSTEST" --help >/dev/null 2>&1; then
    :
else
    # ------------------------------------------------------------ Python 2.7
    py2=""
    for cand in "${AUTOBAHN_PYTHON2:-}" \
        "${PYENV_ROOT:-$HOME/.pyenv}/versions/2.7.18/bin/python2.7" \
        "$(command -v python2.7 || true)"; do
        [[ -n "$cand" && -x "$cand" ]] || continue
        if "$cand" -c 'import sys; assert sys.version_info[:2] == (2, 7)' >/dev/null 2>&1; then
            py2="$cand"
            break
        fi
    done
    [[ -n "$py2" ]] || cannot "no Python 2.7 interpreter (set AUTOBAHN_PYTHON2, or install pyenv's 2.7.18)"

    # ------------------------------------------- virtualenv 20.15.1 (Python 3)
    command -v python3 >/dev/null 2>&1 || cannot "python3 not found on PATH (needed for virtualenv)"
    if ! "$VTOOL/bin/python" -c 'import virtualenv, sys; sys.exit(virtualenv.__version__ != "'"$VIRTUALENV_VERSION"'")' >/dev/null 2>&1; then
        rm -rf "$VTOOL"
        python3 -m venv "$VTOOL" >"$LOG" 2>&1 || cannot "python3 -m venv failed: $(last_error "$LOG" 1)"
        status=0
        PIP_DISABLE_PIP_VERSION_CHECK=1 timeout "$PIP_WALL" "$VTOOL/bin/python" -m pip install \
            --quiet --timeout 30 --retries 1 "virtualenv==$VIRTUALENV_VERSION" >"$LOG" 2>&1 || status=$?
        [[ "$status" == 0 ]] || cannot "pip install virtualenv==$VIRTUALENV_VERSION from PyPI: $(last_error "$LOG" "$status")"
    fi

    # ------------------------------------------------ the 2.7 venv and wstest
    rm -rf "$VENV"
    "$VTOOL/bin/python" -m virtualenv --quiet -p "$py2" "$VENV" >"$LOG" 2>&1 \
        || cannot "virtualenv -p $py2 failed: $(last_error "$LOG" 1)"
    status=0
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_PYTHON_VERSION_WARNING=1 timeout "$PIP_WALL" \
        "$VENV/bin/python" -m pip install --quiet --timeout 30 --retries 1 \
        "autobahntestsuite==$SUITE_VERSION" >"$LOG" 2>&1 || status=$?
    [[ "$status" == 0 ]] || cannot "pip install autobahntestsuite==$SUITE_VERSION from PyPI: $(last_error "$LOG" "$status")"
    [[ "$(installed_version)" == "$SUITE_VERSION" ]] || cannot "autobahntestsuite $SUITE_VERSION is not importable after installing it"
    "$WSTEST" --help >"$LOG" 2>&1 || cannot "wstest --help failed: $(last_error "$LOG" 1)"
fi

ab_version="$("$VENV/bin/python" -c 'import autobahn; print(autobahn.__version__)' 2>/dev/null || echo '?')"
echo "autobahn: wstest $WSTEST (autobahntestsuite $SUITE_VERSION, autobahn $ab_version, $("$VENV/bin/python" -c 'import platform; print("python " + platform.python_version())'))"
