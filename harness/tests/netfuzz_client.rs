//! The network fuzzer against clients (`wsspec fuzz --role client --exec CMD`), on
//! 127.0.0.1 with the Python `websockets` echo client of `scripts/peers`:
//!
//! * with `--fault unmasked` (every frame it sends is unmasked, RFC 6455 §5.1) a
//!   bounded run finds it, shrinks it and writes a server-role case; `wsspec serve
//!   --exec` replays that case as FAILED against the broken client and as passed
//!   against the correct one;
//! * the correct client gives no finding in the same budget (seed, duration).
//!
//! The peer is installed by `scripts/peers/setup.sh`; where it cannot be, the tests
//! are skipped loudly (and fail when `CI` is set).

#[allow(dead_code)]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use wsspec::netfuzz::{self, Kind, Options};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The same budget for both runs.
const SEED: u64 = 1;
const BUDGET: Duration = Duration::from_secs(8);

/// The client command line, with `--fault unmasked` when `broken`.
fn client(broken: bool) -> String {
    let script = support::root().join("scripts/peers/websockets_client.py");
    format!(
        "'{}' '{}'{} {{url}}",
        support::venv_python(),
        script.display(),
        if broken { " --fault unmasked" } else { "" }
    )
}

fn options(command: &str, out: &Path) -> Options {
    Options {
        out: out.to_path_buf(),
        max_findings: 1,
        shrink_runs: 20,
        quiet: true,
        ..Options::for_client(command, SEED, BUDGET)
    }
}

/// `wsspec serve --exec CMD --cases-dir DIR`: exit code and output.
async fn replay(command: String, dir: &Path) -> (i32, String) {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(["serve", "--exec", &command, "--cases-dir"])
            .arg(&dir)
            .args(["--cases", "finding/*", "--no-write", "--timeout", "5"])
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_a_client_that_sends_unmasked_frames_and_the_case_replays() {
    let _serial = SERIAL.lock().await;
    if !support::setup_peers() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let s = netfuzz::run(&options(&client(true), out.path()), None)
        .await
        .unwrap();
    eprintln!(
        "broken client: {} sequences in {:.1} s ({:.1}/s), {} findings, total {:.1} s",
        s.sequences,
        s.fuzz_time.as_secs_f64(),
        s.sequences_per_sec(),
        s.findings.len(),
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(s.findings.len(), 1, "{s:#?}");
    let f = &s.findings[0];
    assert_eq!(f.kind, Kind::Malformed, "{f:?}");
    assert!(
        f.detail.starts_with("unmasked client-to-server frame"),
        "{f:?}"
    );
    assert!(f.confirmed, "{f:?}");
    assert!(f.steps_after <= 3, "not shrunk: {f:?}");
    assert_eq!(f.verification.target_fails, Some(true), "{f:?}");

    // A server-role case file.
    let text = std::fs::read_to_string(&f.path).unwrap();
    let cases = wsspec::case::json::parse_cases("finding.json", &text).unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].id, f.case_id);
    assert_eq!(cases[0].role, Some(wsspec::rules::Role::Server));

    // `wsspec serve --exec` replays it: FAILED against the broken client, passed
    // against the correct one.
    let (code, log) = replay(client(true), out.path()).await;
    assert_eq!(code, 1, "the replay must fail the broken client:\n{log}");
    let (code, log) = replay(client(false), out.path()).await;
    assert_eq!(code, 0, "the replay must pass the correct client:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_client_gives_no_finding() {
    let _serial = SERIAL.lock().await;
    if !support::setup_peers() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let s = netfuzz::run(&options(&client(false), out.path()), None)
        .await
        .unwrap();
    eprintln!(
        "correct client: {} sequences, {} frames in {:.1} s ({:.1} sequences/s)",
        s.sequences,
        s.frames,
        s.fuzz_time.as_secs_f64(),
        s.sequences_per_sec()
    );
    let cases: Vec<String> = s
        .findings
        .iter()
        .map(|f| std::fs::read_to_string(&f.path).unwrap_or_default())
        .collect();
    assert!(
        s.findings.is_empty(),
        "{:#?}\n{}",
        s.findings,
        cases.join("\n")
    );
    assert_eq!(s.stopped, None);
    assert!(s.sequences >= 5, "only {} sequences", s.sequences);
    assert!(s.frames > s.sequences, "{} frames", s.frames);
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn cli_usage_errors_exit_2() {
    for args in [
        &["fuzz", "--role", "client"][..],
        &["fuzz", "--role", "client", "--exec", "client-without-url"],
        &["fuzz", "--exec", "c {url}"],
        &[
            "fuzz",
            "--role",
            "client",
            "--exec",
            "c {url}",
            "ws://127.0.0.1:1/",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
    // A command that never connects is a harness error before fuzzing.
    let out = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args([
            "fuzz",
            "--role",
            "client",
            "--exec",
            "true {url}",
            "--timeout",
            "1s",
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did not connect"), "{stderr}");
}
