//! The network fuzzer against live servers, all on 127.0.0.1:
//!
//! * against the planted bug (`Fault::CrashOnPattern`: a ping between the 3rd and 4th
//!   fragment of a text message kills the server for good), a bounded run finds it,
//!   shrinks it (a restart hook brings up a fresh buggy server after each crash) and
//!   writes a case file; `wsspec run --cases-dir` with that file fails against a fresh
//!   buggy server and passes against the conformant fault-injection server and the
//!   embedded tokio-tungstenite server;
//! * a short run against the embedded tokio-tungstenite server finds nothing;
//! * the CLI's exit codes and summary.
//!
//! The runs take one lock so they do not compete for the two cores.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wsspec::netfuzz::{self, Kind, Options, Restart};
use wsspec_testkit::faulty::{self, Fault, FaultyServer};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn wsspec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsspec"))
}

/// `wsspec run --cases-dir DIR [URL]` in a blocking thread (the servers it talks to
/// live in this process); its exit code and output.
async fn replay(dir: &std::path::Path, url: Option<String>) -> (i32, String) {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut c = wsspec();
        c.args(["run", "--no-write", "--quiet", "--cases-dir"])
            .arg(&dir);
        if let Some(u) = url {
            c.arg(u);
        }
        let out = c.output().expect("run wsspec");
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

/// A fresh `Fault::CrashOnPattern` server and a restart hook that starts another one
/// after each crash; every server stays alive as long as the returned keeper.
async fn crashing_server() -> (String, Restart, Arc<Mutex<Vec<FaultyServer>>>) {
    let servers: Arc<Mutex<Vec<FaultyServer>>> = Arc::default();
    let first = faulty::start(Fault::CrashOnPattern).await.unwrap();
    let url = first.url();
    servers.lock().unwrap().push(first);
    let keep = servers.clone();
    let restart: Restart = Box::new(move || {
        let keep = keep.clone();
        Box::pin(async move {
            let s = faulty::start(Fault::CrashOnPattern)
                .await
                .map_err(|e| e.to_string())?;
            let url = s.url();
            keep.lock().unwrap().push(s);
            Ok(url)
        })
    });
    (url, restart, servers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_shrinks_and_replays_the_planted_crash() {
    let _serial = SERIAL.lock().await;
    let out = tempfile::tempdir().unwrap();
    let (url, restart, _servers) = crashing_server().await;
    let opts = Options {
        out: out.path().to_path_buf(),
        max_findings: 1,
        shrink_time: Duration::from_secs(10),
        quiet: true,
        ..Options::new(&url, 1, Duration::from_secs(15))
    };
    let t0 = std::time::Instant::now();
    let summary = netfuzz::run(&opts, Some(restart)).await.unwrap();
    eprintln!(
        "{} sequences, {} frames in {:?} (total {:?}); findings: {:#?}",
        summary.sequences, summary.frames, summary.fuzz_time, summary.total_time, summary.findings
    );
    assert!(t0.elapsed() < Duration::from_secs(60), "the run is bounded");
    assert_eq!(summary.findings.len(), 1, "the planted crash was not found");
    let f = &summary.findings[0];
    assert_eq!(f.kind, Kind::Dead, "{f:?}");
    assert!(f.confirmed, "{f:?}");
    assert!(f.steps_after <= f.steps_before, "{f:?}");
    // The shrunk case: three text fragments, the ping, the closing close.
    assert!(f.steps_after <= 6, "not shrunk: {f:?}");
    assert_eq!(f.verification.reference_passes, Some(true), "{f:?}");
    assert_eq!(f.verification.target_fails, Some(true), "{f:?}");

    // The file is a valid case file with the finding's id.
    let text = std::fs::read_to_string(&f.path).unwrap();
    let cases = wsspec::case::json::parse_cases("finding.json", &text).unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].id, f.case_id);
    assert!(cases[0].id.starts_with("finding/"));

    // Replays: fails against a fresh buggy server, passes against conformant ones.
    let buggy = faulty::start(Fault::CrashOnPattern).await.unwrap();
    let (code, log) = replay(out.path(), Some(buggy.url())).await;
    assert_eq!(
        code, 1,
        "the replay must fail against the buggy server:\n{log}"
    );
    let good = faulty::start(Fault::None).await.unwrap();
    let (code, log) = replay(out.path(), Some(good.url())).await;
    assert_eq!(code, 0, "the replay must pass against Fault::None:\n{log}");
    let (code, log) = replay(out.path(), None).await;
    assert_eq!(
        code, 0,
        "the replay must pass against the embedded server:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_findings_against_tokio_tungstenite() {
    let _serial = SERIAL.lock().await;
    let out = tempfile::tempdir().unwrap();
    let server = wsspec::server::start(0).await.unwrap();
    let opts = Options {
        out: out.path().to_path_buf(),
        quiet: true,
        ..Options::new(&server.url(), 7, Duration::from_secs(5))
    };
    let s = netfuzz::run(&opts, None).await.unwrap();
    assert!(s.findings.is_empty(), "{:#?}", s.findings);
    assert!(s.sequences > 50, "only {} sequences in 5 s", s.sequences);
    assert!(s.frames > s.sequences, "{} frames", s.frames);
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_exit_codes() {
    let _serial = SERIAL.lock().await;
    // Usage errors: 2.
    for args in [
        &["fuzz", "--duration", "soon"][..],
        &["fuzz", "not a url", "--duration", "1s"],
        &["fuzz", "--max-steps", "0", "--duration", "1s"],
    ] {
        let out = tokio::task::spawn_blocking(move || wsspec().args(args).output().unwrap())
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
    // Nothing listening there: 2.
    let out = tokio::task::spawn_blocking(|| {
        wsspec()
            .args([
                "fuzz",
                "ws://127.0.0.1:9/",
                "--duration",
                "1s",
                "--timeout",
                "500ms",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // A clean run against the embedded server: 0 and a summary with the rates.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        wsspec()
            .args(["fuzz", "--seed", "3", "--duration", "2s", "-q", "--out"])
            .arg(&d)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout.contains("frames/s") && stdout.contains("no findings"),
        "{stdout}"
    );
}

/// Not a test: how fast the fuzzer finds the planted crash over several seeds, and
/// what a shrunk finding looks like. `cargo test --release --test netfuzz -- --ignored
/// --nocapture planted_crash_stats`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn planted_crash_stats() {
    let _serial = SERIAL.lock().await;
    for seed in 1..=10u64 {
        let out = tempfile::tempdir().unwrap();
        let (url, restart, _servers) = crashing_server().await;
        let opts = Options {
            out: out.path().to_path_buf(),
            max_findings: 1,
            quiet: true,
            ..Options::new(&url, seed, Duration::from_secs(60))
        };
        let s = netfuzz::run(&opts, Some(restart)).await.unwrap();
        let f = s.findings.first();
        eprintln!(
            "seed {seed}: found after {} sequences / {:?} fuzzing; {} -> {} steps in {} runs; total {:?}",
            s.sequences,
            s.fuzz_time,
            f.map_or(0, |f| f.steps_before),
            f.map_or(0, |f| f.steps_after),
            f.map_or(0, |f| f.shrink_runs),
            s.total_time
        );
        if seed == 1 {
            if let Some(f) = f {
                eprintln!("{}", std::fs::read_to_string(&f.path).unwrap());
            }
        }
    }
}

/// Not a test: what the fuzzer reports against each fault-injected server in a short
/// run (`cargo test --release --test netfuzz -- --ignored --nocapture fault_survey`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn fault_survey() {
    let _serial = SERIAL.lock().await;
    for fault in Fault::ALL {
        let out = tempfile::tempdir().unwrap();
        let server = faulty::start(fault).await.unwrap();
        let opts = Options {
            out: out.path().to_path_buf(),
            max_findings: 3,
            shrink_time: Duration::from_secs(5),
            quiet: true,
            ..Options::new(&server.url(), 1, Duration::from_secs(3))
        };
        let s = netfuzz::run(&opts, None).await.unwrap();
        eprintln!(
            "{fault:?}: {} sequences, {:.0} frames/s, stopped: {:?}",
            s.sequences,
            s.frames_per_sec(),
            s.stopped
        );
        for f in &s.findings {
            eprintln!(
                "    [{}] {} ({} -> {} steps; ref {:?} target {:?})",
                f.kind.as_str(),
                f.detail,
                f.steps_before,
                f.steps_after,
                f.verification.reference_passes,
                f.verification.target_fails
            );
        }
    }
}

/// The model behind every finding's expectation: for generated sequences (handshake
/// mutations included), the case built from the model's prediction passes against
/// both conformant servers, tokio-tungstenite and the fault-injection server without
/// a fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_predicts_conformant_servers() {
    let _serial = SERIAL.lock().await;
    let reference = wsspec::server::start(0).await.unwrap();
    let conformant = faulty::start(Fault::None).await.unwrap();
    let settings = wsspec::engine::conn::Settings::default();
    let mut cases = Vec::new();
    for (seed, n) in (1..=3u64).flat_map(|s| (0..100u64).map(move |n| (s, n))) {
        let p = netfuzz::prepare(&netfuzz::generate(seed, n, 24), n);
        if !matches!(p.model.end, netfuzz::ModelEnd::Unknown(_)) {
            cases.push(netfuzz::finding_case(
                &p,
                Kind::Hang,
                "model check",
                seed,
                n,
            ));
        }
    }
    // Ids are content hashes: drop the rare duplicate sequence.
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    cases.dedup_by(|a, b| a.id == b.id);
    assert!(cases.len() >= 250, "only {} cases", cases.len());
    let refs: Vec<&wsspec::case::Case> = cases.iter().collect();
    let mut failures = Vec::new();
    for url in [reference.url(), conformant.url()] {
        let target = wsspec::engine::conn::Target::parse(&url).unwrap();
        let results = wsspec::runner::run_all(&target, &settings, &refs, 16, |_| {}).await;
        assert_eq!(results.len(), refs.len());
        for r in results.iter().filter(|r| wsspec::cli::is_failure(r, false)) {
            let case = cases.iter().find(|c| c.id == r.id).unwrap();
            failures.push(format!(
                "{} on {url}: {} / {}: {}\n  {}",
                case.requirement,
                r.behavior,
                r.behavior_close,
                r.actual,
                serde_json::to_string(case).unwrap()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
