//! The test clients against the real Autobahn|Testsuite fuzzing server (`wstest -m
//! fuzzingserver`, installed by `scripts/autobahn/setup.sh`), over real sockets:
//!
//! * tokio-tungstenite's client through the driver loop gets exactly the verdicts
//!   Autobahn published for tungstenite (`behavior`, `behaviorClose`,
//!   `remoteCloseCode`), case for case;
//! * the hand-written client without a fault gets the same `behavior` and
//!   `behaviorClose`, and each fault is caught on the cases about its rule, or (for the
//!   rules wstest never checks) provably not caught at all;
//! * the `wsspec-testkit` binary plays single case URLs (what `wsspec serve --exec`
//!   runs).
//!
//! wstest that cannot be installed fails the tests when `CI` is set and skips them
//! loudly elsewhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;
use wsspec_testkit::client::{self, ClientFault};
use wsspec_testkit::wstest::{self, FuzzingServer, Verdict};
use wsspec_testkit::{driver, tungstenite_client};

/// Per connection (the slowest selected case takes about 2 s under wstest).
const CASE_LIMIT: Duration = Duration::from_secs(30);

/// wstest ready, or `None` after a loud skip (a failure with `CI` set).
fn wstest_ready() -> Option<PathBuf> {
    let root = wstest::project_root();
    match wstest::install(&root).expect("scripts/autobahn/setup.sh") {
        None => Some(root),
        Some(why) => {
            if std::env::var_os("CI").is_some() {
                panic!("wstest cannot be installed: {why} (CI is set: a failure, not a skip)");
            }
            eprintln!("\n!!!!!!!! SKIPPED (NOT a pass): wstest cannot be installed: {why}\n");
            None
        }
    }
}

/// Autobahn's published verdicts for tungstenite.
fn expected() -> BTreeMap<String, Verdict> {
    let path = wstest::project_root().join("reports/baseline/autobahn-tungstenite-index.json");
    wstest::read_verdicts(&path, "Tungstenite").unwrap()
}

fn start(root: &std::path::Path, dir: &tempfile::TempDir, cases: &[&str]) -> FuzzingServer {
    FuzzingServer::start(root, dir.path(), cases, &[]).unwrap()
}

/// The ids of the cases that failed (any failing `behavior` or `behaviorClose`).
fn failing(verdicts: &BTreeMap<String, Verdict>) -> BTreeSet<String> {
    verdicts
        .iter()
        .filter(|(_, v)| !v.passed())
        .map(|(id, _)| id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tungstenite_client_gets_autobahns_published_verdicts() {
    let Some(root) = wstest_ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Sections 1-7 and 10: every case of them wstest can run in a few seconds.
    let selection = ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"];
    let server = start(&root, &dir, &selection);
    let agent = "tokio-tungstenite";
    let summary = driver::run(&server.url(), agent, CASE_LIMIT, |url| async move {
        tungstenite_client::play(&url, CASE_LIMIT).await
    })
    .await
    .unwrap();
    assert_eq!(summary.count, 247, "wstest selected {}", summary.count);

    let got = server.verdicts(agent).unwrap();
    assert_eq!(got.len(), 247, "one verdict per case");
    let want = expected();
    let mismatches: Vec<String> = got
        .iter()
        .filter(|(id, v)| want.get(*id) != Some(v))
        .map(|(id, v)| format!("{id}: got {v:?}, published {:?}", want.get(id)))
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of 247 differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_clients_are_caught_where_wstest_looks() {
    let Some(root) = wstest_ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = start(&root, &dir, &client::RULE_CASES);
    let base = server.url();

    // Every client through the driver loop, at the same time (wstest keeps results per
    // agent).
    let runs = ClientFault::ALL.map(|fault| {
        let base = base.clone();
        tokio::spawn(async move {
            let agent = format!("{fault:?}");
            driver::play_all(&base, &agent, CASE_LIMIT, |url| async move {
                client::play(&url, fault, CASE_LIMIT).await.map(|_| ())
            })
            .await
            .map(|s| (fault, s))
        })
    });
    for run in runs {
        let (fault, summary) = run.await.unwrap().unwrap();
        assert_eq!(
            summary.count, 80,
            "{fault:?}: wstest selected {}",
            summary.count
        );
    }
    // One report update writes every agent's verdicts (wstest renders them all, which
    // takes a while for ten agents).
    driver::update_reports(&base, "None", Duration::from_secs(120))
        .await
        .unwrap();

    let want = expected();
    let verdicts = |fault: ClientFault| {
        let v = server.verdicts(&format!("{fault:?}")).unwrap();
        assert_eq!(v.len(), 80, "{fault:?}: one verdict per case");
        v
    };

    // Conformant: Autobahn's published behavior and behaviorClose on every case. (The
    // remote close code differs where tungstenite drops TCP on a protocol error while
    // this client sends a close frame with the code first: both are allowed.)
    let none = verdicts(ClientFault::None);
    let differ: Vec<&String> = none
        .iter()
        .filter(|(id, v)| {
            let w = &want[*id];
            (&v.behavior, &v.behavior_close) != (&w.behavior, &w.behavior_close)
        })
        .map(|(id, _)| id)
        .collect();
    assert!(
        differ.is_empty(),
        "the correct client differs on {differ:?}"
    );

    // Caught: (fault, cases that must fail, the only section(s) where failures may be).
    let caught: [(ClientFault, &[&str], &[&str]); 4] = [
        // wstest requires masked client frames: whatever the client echoes fails.
        (
            ClientFault::SendUnmasked,
            &["1.1.1", "1.1.8", "5.19"],
            &[""],
        ),
        // Section 2 and the fragmented messages with pings in between.
        (
            ClientFault::NoPong,
            &["2.1", "2.2", "2.3", "2.10", "5.19"],
            &["2.", "5.6", "5.7", "5.8", "5.19", "5.20"],
        ),
        (ClientFault::NoUtf8Validation, &["6.3.1", "6.3.2"], &["6."]),
        (
            ClientFault::NeverAnswerClose,
            &["1.1.1", "7.1.1", "7.3.1"],
            &[""],
        ),
    ];
    let mut report = Vec::new();
    for (fault, must, only) in caught {
        let failed = failing(&verdicts(fault));
        for id in must {
            assert!(
                failed.contains(*id),
                "{fault:?}: {id} passed; failing: {failed:?}"
            );
        }
        let outside: Vec<&String> = failed
            .iter()
            .filter(|id| !only.iter().any(|p| id.starts_with(p)))
            .collect();
        assert!(
            outside.is_empty(),
            "{fault:?}: {outside:?} failed, outside the cases about its rule"
        );
        report.push(format!("{fault:?}: {} cases failed", failed.len()));
    }
    // Not caught: wstest always sends the right Accept, never masks, never looks at
    // mask keys and answers only the extensions offered (wsspec's client-side cases are
    // there for these).
    for fault in [
        ClientFault::SkipAcceptCheck,
        ClientFault::AcceptMaskedFrames,
        ClientFault::ReuseMaskKey,
        ClientFault::ZeroMaskKey,
        ClientFault::AcceptUnofferedExtension,
    ] {
        let failed = failing(&verdicts(fault));
        assert!(
            failed.is_empty(),
            "{fault:?}: wstest caught it after all on {failed:?}: update the table in client.rs"
        );
    }
    eprintln!("{}", report.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_plays_single_case_urls() {
    let Some(root) = wstest_ready() else { return };
    let dir = tempfile::tempdir().unwrap();
    // 1.1.1 (echo), 2.2 (ping), 6.3.1 (invalid UTF-8).
    let server = start(&root, &dir, &["1.1.1", "2.2", "6.3.1"]);
    let bin = env!("CARGO_BIN_EXE_wsspec-testkit");
    for (agent, fault) in [("bin-none", "none"), ("bin-nopong", "no-pong")] {
        for n in 1..=3 {
            let url = driver::case_url(&server.url(), n, agent);
            let out = tokio::time::timeout(
                CASE_LIMIT,
                tokio::process::Command::new(bin)
                    .args(["client", "--fault", fault, &url])
                    .kill_on_drop(true)
                    .output(),
            )
            .await
            .expect("the client process ended in time")
            .unwrap();
            assert!(out.status.success(), "{agent} case {n}: {out:?}");
        }
        driver::update_reports(&server.url(), agent, CASE_LIMIT)
            .await
            .unwrap();
    }
    let none = server.verdicts("bin-none").unwrap();
    assert_eq!(none.len(), 3);
    assert!(failing(&none).is_empty(), "{none:?}");
    let nopong = failing(&server.verdicts("bin-nopong").unwrap());
    assert_eq!(nopong, BTreeSet::from(["2.2".to_string()]));
}
