#!/usr/bin/env bash
# Build wsspec's libwebsockets echo peer (scripts/peers/lws/echo.c) against Debian's
# libwebsockets-dev. Installs it with apt-get when it is missing and we are root.
#
#   scripts/peers/lws/build.sh [OUTPUT]     default: target/peers/lws-echo
#
# Prints "peers: libwebsockets <version> (<binary>)" on stdout.
# Exit codes: 0 built; 3 libwebsockets-dev or a C compiler cannot be had here (one line
# "peers: could not install libwebsockets from Debian apt: <reason>" on stderr).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
OUT="${1:-$ROOT/target/peers/lws-echo}"

skip() {
    echo "peers: could not install libwebsockets from Debian apt: $1" >&2
    exit 3
}

have() { pkg-config --exists libwebsockets 2>/dev/null && command -v cc >/dev/null 2>&1; }

if ! have; then
    [[ "$(id -u)" == 0 ]] || skip "libwebsockets-dev is not installed and we are not root (apt-get install libwebsockets-dev pkg-config gcc)"
    command -v apt-get >/dev/null 2>&1 || skip "no apt-get on this machine"
    LOG="$(mktemp)"
    trap 'rm -f "$LOG"' EXIT
    if ! (timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 \
        apt-get install -y -qq libwebsockets-dev pkg-config gcc) >"$LOG" 2>&1; then
        skip "apt-get failed: $(grep -v '^[[:space:]]*$' "$LOG" | tail -n1 | cut -c1-200)"
    fi
    have || skip "installed, but pkg-config still finds no libwebsockets"
fi

mkdir -p "$(dirname "$OUT")"
if [[ ! -x "$OUT" || "$HERE/echo.c" -nt "$OUT" ]]; then
    # -g keeps symbols for crash reports; -O1 as a distribution build would optimise.
    cc -std=c11 -O1 -g -Wall -Wextra -Werror -o "$OUT" "$HERE/echo.c" \
        $(pkg-config --cflags --libs libwebsockets)
fi
# The distribution's package version says more than pkg-config's ("4.1.6-").
VERSION="$(dpkg-query -W -f='${Version}' libwebsockets-dev 2>/dev/null || pkg-config --modversion libwebsockets)"
echo "peers: libwebsockets $VERSION ($OUT)"
