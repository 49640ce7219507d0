//! The network fuzzer against clients (`wsspec fuzz --role client --exec CMD`), on
//! 127.0.0.1 with this crate's clients as processes (`wsspec-testkit client`):
//!
//! * with `--fault send-unmasked` (every frame it sends is unmasked, RFC 6455 §5.1) a
//!   bounded run finds it, shrinks it and writes a server-role case; replayed the way
//!   `wsspec serve --exec` plays each case ([`wsspec::drive::exec::run_one`]) that case
//!   fails the broken client and passes the correct one and tokio-tungstenite's;
//! * the correct client gives no finding in the same budget (seed, duration).

use std::path::Path;
use std::time::{Duration, Instant};
use wsspec::drive::exec::{self, ExecOptions};
use wsspec::engine::conn::Settings;
use wsspec::netfuzz::{self, Kind, Options};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The same budget for both runs.
const SEED: u64 = 1;
const BUDGET: Duration = Duration::from_secs(6);

/// `wsspec-testkit client --fault FAULT {url}` (or `tungstenite {url}`).
fn client(fault: Option<&str>) -> String {
    let bin = env!("CARGO_BIN_EXE_wsspec-testkit");
    match fault {
        Some(f) => format!("'{bin}' client --fault {f} {{url}}"),
        None => format!("'{bin}' tungstenite {{url}}"),
    }
}

fn options(command: &str, out: &Path) -> Options {
    Options {
        out: out.to_path_buf(),
        max_findings: 1,
        shrink_runs: 40,
        quiet: true,
        ..Options::for_client(command, SEED, BUDGET)
    }
}

/// Whether the case fails the client `command`, played as `wsspec serve --exec` does.
async fn replay_fails(command: &str, case: &wsspec::case::Case) -> bool {
    let eo = ExecOptions {
        command: command.to_string(),
        agent: "replay".into(),
        settings: Settings::default(),
        connect_timeout: Duration::from_secs(5),
    };
    exec::run_one(&eo, case, 1).await.fails(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_a_client_that_sends_unmasked_frames_and_the_case_replays() {
    let _serial = SERIAL.lock().await;
    let out = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let broken = client(Some("send-unmasked"));
    let s = netfuzz::run(&options(&broken, out.path()), None)
        .await
        .unwrap();
    eprintln!(
        "broken client: {} sequences in {:.1} s, {} findings, total {:.1} s",
        s.sequences,
        s.fuzz_time.as_secs_f64(),
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

    // A server-role case file that replays: it fails the broken client and passes
    // the correct ones.
    let text = std::fs::read_to_string(&f.path).unwrap();
    let cases = wsspec::case::json::parse_cases("finding.json", &text).unwrap();
    assert_eq!(cases.len(), 1);
    let case = &cases[0];
    assert_eq!(case.id, f.case_id);
    assert_eq!(case.role, Some(wsspec::rules::Role::Server));
    assert!(replay_fails(&broken, case).await, "{text}");
    assert!(!replay_fails(&client(Some("none")), case).await, "{text}");
    assert!(!replay_fails(&client(None), case).await, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_client_gives_no_finding() {
    let _serial = SERIAL.lock().await;
    for command in [client(Some("none")), client(None)] {
        let out = tempfile::tempdir().unwrap();
        let s = netfuzz::run(&options(&command, out.path()), None)
            .await
            .unwrap();
        eprintln!(
            "{command}: {} sequences, {} frames in {:.1} s ({:.1} sequences/s)",
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
            "{command}: {:#?}\n{}",
            s.findings,
            cases.join("\n")
        );
        assert_eq!(s.stopped, None);
        assert!(s.sequences >= 10, "only {} sequences", s.sequences);
        assert!(s.frames > s.sequences, "{} frames", s.frames);
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    }
}
