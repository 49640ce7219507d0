#!/usr/bin/env bash
# wsspec in a plain shell CI job (GitLab, Jenkins, Buildkite, a cron box): install
# wsspec, start the server under test, run the catalogue, keep the reports, write the
# Markdown summary where the CI shows it, and gate on the known-failing file.
# docs/ci.md explains each step; `cargo xtask ci` runs this script (with WSSPEC set to
# the binary its tests built).
#
# Settings (environment):
#   WSSPEC          wsspec binary to use; unset = install it from this checkout with
#                   `cargo install --locked --path harness` into $WSSPEC_ROOT
#   WSSPEC_ROOT     install root (default: target/ci-recipe/install)
#   SERVER_CMD      command that runs the server under test in the foreground
#                   (default: wsspec's own reference server, `wsspec echo --port 0`)
#   URL             the server's ws:// URL; without it, the first ws:// URL that
#                   SERVER_CMD prints. URL alone (no SERVER_CMD): a server that already
#                   runs.
#   KNOWN_FAILING   known-failing file (default: reports/baseline/embedded.known-failing.txt)
#   OUT             report directory (default: target/ci-recipe/report)
#   WSSPEC_ARGS     more `wsspec run` arguments, e.g. "-x 9.* --strict"
#   GITHUB_STEP_SUMMARY / CI_SUMMARY   file the summary is appended to, if set
#
# Exit status: wsspec's (0 gate passed, 1 a case failed or a known failure is stale,
# 2 the harness could not run); 2 also when the server does not come up.
set -euo pipefail

cd "$(dirname "$0")/.."
work=target/ci-recipe
mkdir -p "$work"

# 1. Install (a CI cache of ~/.cargo and target/ makes this incremental).
if [[ -z "${WSSPEC:-}" ]]; then
    root=${WSSPEC_ROOT:-$work/install}
    cargo install --locked --quiet --path harness --root "$root"
    WSSPEC=$root/bin/wsspec
fi
"$WSSPEC" --version

# 2. Start the server under test (unless only URL is given: a server that already
#    runs), and wait, bounded, until it prints its URL or accepts on URL's port.
server_pid=
log=
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
    if [[ -n "$log" ]]; then rm -f "$log"; fi
}
trap cleanup EXIT
if [[ -n "${SERVER_CMD:-}" || -z "${URL:-}" ]]; then
    log=$(mktemp "$work/server.XXXXXX.log")
    # shellcheck disable=SC2086  # SERVER_CMD is a command line
    ${SERVER_CMD:-$WSSPEC echo --port 0} >"$log" 2>&1 &
    server_pid=$!
    up=
    for _ in $(seq 1 100); do
        if [[ -z "${URL:-}" ]]; then
            URL=$(grep -oE 'wss?://[^ ]+' "$log" | head -n1 || true)
            [[ -n "$URL" ]] && { up=1; break; }
        else
            hostport=${URL#*://}
            hostport=${hostport%%/*}
            if (exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}") 2>/dev/null; then up=1; break; fi
        fi
        kill -0 "$server_pid" 2>/dev/null || { echo "ci-recipe: the server exited:" >&2; cat "$log" >&2; exit 2; }
        sleep 0.1
    done
    [[ -n "$up" ]] || { echo "ci-recipe: the server did not come up within 10 s:" >&2; cat "$log" >&2; exit 2; }
fi
echo "ci-recipe: testing $URL"

# 3. Run and gate. The reports are written whatever the verdicts.
out=${OUT:-$work/report}
known=${KNOWN_FAILING:-reports/baseline/embedded.known-failing.txt}
status=0
# shellcheck disable=SC2086  # WSSPEC_ARGS is a list of arguments
"$WSSPEC" run "$URL" --quiet --out "$out" --known-failing "$known" ${WSSPEC_ARGS:-} || status=$?

# 4. The summary where the CI shows it; the HTML report is $out/index.html (keep it as
#    an artifact), JUnit XML in $out/junit.xml.
summary=${GITHUB_STEP_SUMMARY:-${CI_SUMMARY:-}}
if [[ -n "$summary" && -f "$out/summary.md" ]]; then
    cat "$out/summary.md" >>"$summary"
fi
if [[ $status -ne 2 ]]; then
    for f in index.html report.json junit.xml summary.md; do
        [[ -f "$out/$f" ]] || { echo "ci-recipe: $out/$f is missing" >&2; exit 2; }
    done
fi
echo "ci-recipe: wsspec exited with $status; reports in $out"
exit "$status"
