#!/usr/bin/env bash
# html-check.sh — look at wsspec's HTML report in a real browser (headless Chromium).
#
# Usage: scripts/html-check.sh HTML_FILE OUT_DIR [CASE_ID]
#
# Writes into OUT_DIR:
#   page.png  screenshot of the page as opened (header, summary matrix, case matrix)
#   case.png  screenshot of HTML_FILE#case=CASE_ID (that case's detail panel expanded)
#   dom.html  the DOM of HTML_FILE#case=CASE_ID after its script ran (--dump-dom)
#   chromium.log  the browser's own messages
# CASE_ID defaults to the first case that fails for some agent (the first matrix row
# whose data-f holds "f"), else the first case. It is put in the URL as given, so it
# must not contain '%', '&' or '#' (wsspec's ids never do).
#
# Installs Debian's chromium package when no chromium is on PATH (needs root and apt).
# Exit status: 0 done; 1 the browser ran but a file is missing, or (with CI set) no
# browser could be had; 2 usage; 3 no browser could be had and CI is not set (callers
# treat 3 as a loud skip).
set -euo pipefail

# No browser: a failure in CI (a skipped check must not pass there), a loud skip elsewhere.
no_browser() { # no_browser <reason>
    if [[ -n ${CI:-} ]]; then
        echo "html-check: FAILED: $1 (CI is set: a browser that cannot be installed is a failure)" >&2
        exit 1
    fi
    echo "html-check: SKIPPED (not a pass): $1" >&2
    exit 3
}

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 HTML_FILE OUT_DIR [CASE_ID]" >&2
    exit 2
fi
html=$1
out=$2
if [[ ! -f $html ]]; then
    echo "html-check: no such file: $html" >&2
    exit 2
fi
mkdir -p "$out"
html=$(realpath "$html")
out=$(realpath "$out")

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
    t0=$(now)
    echo "html-check: chromium not found; installing Debian's chromium package…" >&2
    if ! command -v apt-get >/dev/null 2>&1; then
        no_browser "no chromium and no apt-get to install it"
    fi
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
        >"$out/apt.log" 2>&1; then
        tail -n 5 "$out/apt.log" >&2 || true
        no_browser "could not install chromium with apt-get (see $out/apt.log, above)"
    fi
    browser=$(command -v chromium || true)
    if [[ -z $browser ]]; then
        no_browser "apt-get installed chromium but no chromium is on PATH"
    fi
    echo "html-check: installed chromium in $(since "$t0") s" >&2
fi

case_id=${3:-}
if [[ -z $case_id ]]; then
    case_id=$(grep -o '<tr class="case" data-id="[^"]*" data-f="[^"]*f[^"]*"' "$html" | head -n 1 |
        sed 's/.*data-id="\([^"]*\)".*/\1/' || true)
fi
if [[ -z $case_id ]]; then
    case_id=$(grep -o '<tr class="case" data-id="[^"]*"' "$html" | head -n 1 |
        sed 's/.*data-id="\([^"]*\)".*/\1/' || true)
fi
url="file://$html"

profiles=()
cleanup() {
    local p
    for p in "${profiles[@]}"; do rm -rf "$p"; done
}
trap cleanup EXIT

# One browser run with a fresh profile; arguments are appended.
chrome() {
    local profile
    profile=$(mktemp -d)
    profiles+=("$profile")
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
        --disable-background-networking --disable-component-update --disable-sync \
        --no-first-run --disable-dev-shm-usage --hide-scrollbars \
        --user-data-dir="$profile" --window-size=1400,1000 "$@" 2>>"$out/chromium.log"
}

t0=$(now)
: >"$out/chromium.log"
rm -f "$out/page.png" "$out/case.png" "$out/dom.html"
chrome --virtual-time-budget=2000 --screenshot="$out/page.png" "$url" >/dev/null
if [[ -n $case_id ]]; then
    chrome --virtual-time-budget=2000 --screenshot="$out/case.png" "$url#case=$case_id" >/dev/null
    chrome --virtual-time-budget=2000 --dump-dom "$url#case=$case_id" >"$out/dom.html"
else
    chrome --virtual-time-budget=2000 --dump-dom "$url" >"$out/dom.html"
fi
echo "html-check: browser runs took $(since "$t0") s (case ${case_id:-none})" >&2

status=0
for f in page.png case.png dom.html; do
    if [[ $f == case.png && -z $case_id ]]; then continue; fi
    if [[ -s $out/$f ]]; then
        echo "html-check: $out/$f ($(stat -c %s "$out/$f") bytes)"
    else
        echo "html-check: missing or empty: $out/$f (see $out/chromium.log)" >&2
        status=1
    fi
done
exit $status
