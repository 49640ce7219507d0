#!/usr/bin/env bash
# Install the third-party WebSocket peers used by wsspec's tests:
#   - Python `websockets` (latest from PyPI) into scripts/peers/.venv
#   - Node `ws` (locked by package.json + package-lock.json) into scripts/peers/node_modules
# The same two installs serve the echo servers (websockets_echo.py, ws_echo.js) and the
# Autobahn client drivers (websockets_client.py, ws_client.js); the check below makes
# sure each library has the server and client API those files use.
#
# Idempotent: a second run only checks what is already there (no network).
# Set PEERS_UPGRADE=1 to re-resolve the latest `websockets` from PyPI.
#
# Output: one line per peer on stdout, "peers: <name> <version> (...)".
# Exit codes:
#   0  both peers installed
#   3  a peer cannot be set up on this machine (registry unreachable, tool
#      missing); one line "peers: could not install X from <registry>: <reason>"
#      on stderr. Tests and `cargo xtask gate` treat 3 as a loud skip, and as a
#      failure when CI is set.
#   other  a bug in this script or an unexpected failure.
set -euo pipefail

PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$PEERS_DIR/.venv"
PY="$VENV/bin/python"

# Per-command wall-clock limits (seconds) on top of the clients' own timeouts.
PIP_WALL="${PEERS_PIP_WALL:-300}"
NPM_WALL="${PEERS_NPM_WALL:-300}"

skip() { # skip <what> <registry> <reason>
    echo "peers: could not install $1 from $2: $3" >&2
    exit 3
}

# One-line reasons out of a client's error output.
trim() { sed -E 's/^[[:space:]]+//; s/[[:space:]]+$//' | cut -c1-200; }

pip_reason() { # pip_reason <log> <exit status>
    local err net
    [[ "$2" == 124 ]] && { echo "pip timed out after ${PIP_WALL}s"; return; }
    err="$(grep -E '^ERROR: ' "$1" | tail -n1 | sed -E 's/^ERROR: //' | trim || true)"
    net="$(grep -o -E '\[Errno -?[0-9]+\] [^'"'"'")]*|Read timed out\. \(read timeout=[0-9.]+\)|ConnectTimeoutError|SSLError[^'"'"'")]*|Temporary failure in name resolution|Name or service not known' "$1" \
        | head -n1 | trim || true)"
    if [[ -n "$net" ]]; then
        echo "registry unreachable ($net)${err:+: $err}"
    else
        echo "${err:-$(grep -v '^[[:space:]]*$' "$1" | tail -n1 | trim)}"
    fi
}

npm_reason() { # npm_reason <log> <exit status>
    local line
    [[ "$2" == 124 ]] && { echo "npm timed out after ${NPM_WALL}s"; return; }
    # "npm error FetchError: request to URL failed, reason: ..." says it all.
    line="$(grep -E -m1 'FetchError|reason: |network timeout' "$1" | sed -E 's/^npm (error|ERR!) //' | trim || true)"
    # "npm error 404 Not Found - GET URL" for HTTP errors, else "npm error code EXXX".
    [[ -n "$line" ]] || line="$(grep -E -m1 '^npm (error|ERR!) [0-9]{3} .* - [A-Z]+ ' "$1" | sed -E 's/^npm (error|ERR!) //' | trim || true)"
    [[ -n "$line" ]] || line="$(grep -E -m1 '^npm (error|ERR!) code ' "$1" | sed -E 's/^npm (error|ERR!) //' | trim || true)"
    echo "${line:-$(grep -v '^[[:space:]]*$' "$1" | tail -n1 | trim)}"
}

# Concurrent test processes may call this at once: serialise on the script itself.
if command -v flock >/dev/null 2>&1; then
    exec 9<"${BASH_SOURCE[0]}"
    flock 9
fi

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT

# ---------------------------------------------------------------- websockets
command -v python3 >/dev/null 2>&1 || skip websockets PyPI "python3 not found on PATH"

ws_py_version() {
    "$PY" -c 'import websockets, websockets.asyncio.server, websockets.asyncio.client
print(websockets.__version__)' 2>/dev/null
}

# A venv whose interpreter no longer runs (python3 replaced) is rebuilt.
if [[ -e "$VENV" ]] && ! "$PY" -c '' >/dev/null 2>&1; then
    rm -rf "$VENV"
fi
if [[ ! -x "$PY" ]]; then
    if ! python3 -m venv "$VENV" >"$LOG" 2>&1; then
        rm -rf "$VENV"
        skip websockets PyPI "python3 -m venv failed: $(grep -v '^[[:space:]]*$' "$LOG" | tail -n1 | trim)"
    fi
fi

if [[ "${PEERS_UPGRADE:-0}" == 1 ]] || ! ws_py_version >/dev/null; then
    status=0
    PIP_DISABLE_PIP_VERSION_CHECK=1 timeout "$PIP_WALL" \
        "$PY" -m pip install --quiet --upgrade --timeout 30 --retries 1 websockets \
        >"$LOG" 2>&1 || status=$?
    [[ "$status" == 0 ]] || skip websockets PyPI "$(pip_reason "$LOG" "$status")"
fi
WS_PY_VERSION="$(ws_py_version)" || skip websockets PyPI "installed but not importable"
echo "peers: websockets $WS_PY_VERSION ($("$PY" -c 'import platform; print("python", platform.python_version())'), $VENV)"

# ---------------------------------------------------------------------- ws
command -v node >/dev/null 2>&1 || skip ws npm "node not found on PATH"
command -v npm >/dev/null 2>&1 || skip ws npm "npm not found on PATH"

# Installed ws version, or nothing.
ws_js_installed() {
    node -e 'try { process.stdout.write(require(process.argv[1]).version) } catch (e) {}' \
        "$PEERS_DIR/node_modules/ws/package.json"
}
# Version the lockfile pins, or nothing.
ws_js_locked() {
    node -e 'try { process.stdout.write(require(process.argv[1]).packages["node_modules/ws"].version) } catch (e) {}' \
        "$PEERS_DIR/package-lock.json"
}

installed="$(ws_js_installed)"
if [[ -z "$installed" || "$installed" != "$(ws_js_locked)" ]]; then
    status=0
    (cd "$PEERS_DIR" && timeout "$NPM_WALL" npm install \
        --no-audit --no-fund --loglevel=error \
        --fetch-timeout=30000 --fetch-retries=1 \
        --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000) >"$LOG" 2>&1 || status=$?
    [[ "$status" == 0 ]] || skip ws npm "$(npm_reason "$LOG" "$status")"
    installed="$(ws_js_installed)"
    [[ -n "$installed" ]] || skip ws npm "npm install finished but node_modules/ws is missing"
fi
echo "peers: ws $installed (node $(node --version), $PEERS_DIR/node_modules)"
