//! Real third-party peers: Python `websockets` and Node `ws` echo servers, installed
//! from their registries by `scripts/peers/setup.sh`. Against them the catalogue may give
//! no FAILED that Autobahn's own rules would not also give, and NON-STRICT only where
//! Autobahn allows it. Skipped (loudly) only when a registry is unreachable, and never
//! when `CI` is set: then that fails the test.

#[allow(dead_code)] // output_text is for the tests that run processes
mod support;

use std::time::Instant;
use wsspec::engine::conn::{Settings, Target};
use wsspec::report::model::{CaseResult, Verdict};

async fn run_catalogue(port: u16) -> Vec<CaseResult> {
    let target = Target::parse(&format!("ws://127.0.0.1:{port}/")).unwrap();
    let all = wsspec::catalogue::builtin().unwrap();
    // Autobahn's cases and our framing section (the other sections have their own tests).
    let cases: Vec<_> = all
        .iter()
        .filter(|c| !c.id.contains('/') || c.id.starts_with("framing/"))
        .collect();
    let t = Instant::now();
    let results = wsspec::runner::run_all(&target, &Settings::default(), &cases, 16, |_| {}).await;
    eprintln!(
        "{} cases in {:.1}s",
        results.len(),
        t.elapsed().as_secs_f64()
    );
    results
}

/// Cases where Autobahn itself allows a NON-STRICT verdict.
const NON_STRICT_ALLOWED: &[&str] = &[
    "3.2",
    "3.3",
    "3.4",
    "4.1.3",
    "4.1.4",
    "4.1.5",
    "4.2.3",
    "4.2.4",
    "4.2.5",
    "5.15",
    "6.4.1",
    "6.4.2",
    "6.4.3",
    "6.4.4",
    "framing/unmasked-after-valid",
];

fn check(results: &[CaseResult], allowed_failures: &[&str]) {
    let mut problems = Vec::new();
    for r in results {
        let failing = r.behavior.is_failure(false) || r.behavior_close.is_failure(false);
        if failing && !allowed_failures.contains(&r.id.as_str()) {
            problems.push(format!(
                "{} {} / {}: {} | {}",
                r.id, r.behavior, r.behavior_close, r.result, r.actual
            ));
        }
        if r.behavior == Verdict::NonStrict && !NON_STRICT_ALLOWED.contains(&r.id.as_str()) {
            problems.push(format!(
                "{} NON-STRICT where Autobahn allows none: {}",
                r.id, r.actual
            ));
        }
    }
    // An allowed failure that no longer fails (or no longer exists) is stale.
    for id in allowed_failures {
        let r = results.iter().find(|r| r.id == *id);
        assert!(
            r.is_some_and(|r| r.behavior.is_failure(false) || r.behavior_close.is_failure(false)),
            "{id} is listed as an allowed failure but did not fail: delete it"
        );
    }
    for id in ["7.1.6", "7.13.1", "7.13.2"] {
        let r = results.iter().find(|r| r.id == id).unwrap();
        assert_eq!(r.behavior, Verdict::Informational, "{id}");
    }
    assert!(
        problems.is_empty(),
        "{} unexpected verdicts:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_websockets_and_node_ws_get_only_autobahn_verdicts() {
    if !support::setup_peers() {
        return;
    }
    let (_py, py_port) = support::start_peer(&support::venv_python(), "websockets_echo.py", &[]);
    let (_node, node_port) = support::start_peer("node", "ws_echo.js", &[]);

    // websockets answers a close that arrives inside a fragmented message with 1002;
    // Autobahn's section-7 rule turns that WRONG CODE into FAILED (7.1.5) as well.
    // Both libraries cap the number of fragments of one message (a defence against
    // fragment floods): websockets 17.4 fails 4 MiB in 64/256/1024-byte frames (9.3.1–3,
    // 9.4.1–3) with 1009 "too many fragments", ws 8.23 fails the 64- and 256-byte ones
    // (9.3.1–2, 9.4.1–2) with 1008 (maxFragments). Autobahn's 9.x rule gives FAILED.
    let py = run_catalogue(py_port).await;
    check(
        &py,
        &[
            "7.1.5", "9.3.1", "9.3.2", "9.3.3", "9.4.1", "9.4.2", "9.4.3",
        ],
    );
    let ws = run_catalogue(node_port).await;
    check(&ws, &["9.3.1", "9.3.2", "9.4.1", "9.4.2"]);
}
