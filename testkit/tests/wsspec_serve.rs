//! Differential: the test clients against wsspec's fuzzing server (`wsspec serve`, in
//! process) and against the real Autobahn one (`wstest -m fuzzingserver`), on the
//! cases about the clients' rules. For every client (the correct one and each fault)
//! `behavior` and `behaviorClose` must be equal case for case, so a client fault is
//! caught by wsspec exactly where Autobahn catches it. The same clients also run as
//! processes, one per case, the way `wsspec serve --exec` starts them.
//!
//! wsspec's own client-side cases (`client/*`) then catch the faults wstest cannot see
//! (the Accept check, masked server frames, mask keys, unoffered extensions).
//!
//! wstest that cannot be installed fails the first test when `CI` is set and skips it
//! loudly elsewhere.

use std::collections::BTreeMap;
use std::time::Duration;
use wsspec::engine::conn::Settings;
use wsspec_testkit::client::{self, ClientFault};
use wsspec_testkit::driver;
use wsspec_testkit::wstest;

const CASE_LIMIT: Duration = Duration::from_secs(30);

/// (behavior, behaviorClose) per case id.
type Verdicts = BTreeMap<String, (String, String)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wsspec_serve_judges_the_fault_clients_like_wstest() {
    let root = wstest::project_root();
    if let Some(why) = wstest::install(&root).unwrap() {
        if std::env::var_os("CI").is_some() {
            panic!("wstest cannot be installed: {why} (CI is set: a failure, not a skip)");
        }
        eprintln!("\n!!!!!!!! SKIPPED (NOT a pass): wstest cannot be installed: {why}\n");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let autobahn =
        wstest::FuzzingServer::start(&root, dir.path(), &client::RULE_CASES, &[]).unwrap();

    let all = wsspec::catalogue::builtin().unwrap();
    let patterns: Vec<String> = client::RULE_CASES.iter().map(|p| p.to_string()).collect();
    let cases: Vec<wsspec::case::Case> = wsspec::case::select::select(&all, &patterns, &[])
        .unwrap()
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(cases.len(), 80);
    let wsspec_testkit::serve::Served {
        url: ours_url,
        stop,
        report: running,
    } = wsspec_testkit::serve::start(cases).await.unwrap();

    // Every client against both servers at once (both keep results per agent).
    let mut runs = Vec::new();
    for base in [autobahn.url(), ours_url] {
        for fault in ClientFault::ALL {
            let base = base.clone();
            runs.push(tokio::spawn(async move {
                driver::play_all(&base, &format!("{fault:?}"), CASE_LIMIT, |url| async move {
                    client::play(&url, fault, CASE_LIMIT).await.map(|_| ())
                })
                .await
            }));
        }
    }
    for run in runs {
        assert_eq!(run.await.unwrap().unwrap().count, 80);
    }
    driver::update_reports(&autobahn.url(), "None", Duration::from_secs(120))
        .await
        .unwrap();
    let _ = stop.send(true);
    let report = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("wsspec's fuzzing server stops")
        .unwrap();

    let mut differences = Vec::new();
    for fault in ClientFault::ALL {
        let agent = format!("{fault:?}");
        let theirs: Verdicts = autobahn
            .verdicts(&agent)
            .unwrap()
            .into_iter()
            .map(|(id, v)| (id, (v.behavior, v.behavior_close)))
            .collect();
        let mine: Verdicts = report
            .agents
            .iter()
            .find(|a| a.agent == agent)
            .unwrap_or_else(|| panic!("no results for {agent}"))
            .results
            .iter()
            .map(|r| {
                let v = (
                    r.behavior.as_str().to_string(),
                    r.behavior_close.as_str().to_string(),
                );
                (r.id.clone(), v)
            })
            .collect();
        assert_eq!(theirs.len(), 80, "{agent}: wstest verdicts");
        assert_eq!(mine.len(), 80, "{agent}: wsspec verdicts");
        for (id, want) in &theirs {
            let got = &mine[id];
            if got != want {
                differences.push(format!("{agent} {id}: wstest {want:?}, wsspec {got:?}"));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// `wsspec serve --exec 'wsspec-testkit client --fault F {url}'`: a client process
/// per case, judged like the driver loop's connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_runs_the_fault_clients_as_processes() {
    use std::collections::BTreeSet;
    use wsspec::drive::exec::{run_one, ExecOptions};

    let all = wsspec::catalogue::builtin().unwrap();
    // Echo, ping, invalid UTF-8, close.
    let ids = ["1.1.1", "2.2", "6.3.1", "7.1.1"];
    let cases: Vec<&wsspec::case::Case> = ids
        .iter()
        .map(|id| all.iter().find(|c| c.id == *id).unwrap())
        .collect();
    let bin = env!("CARGO_BIN_EXE_wsspec-testkit");
    let failing = |fault: &'static str| {
        let cases = cases.clone();
        async move {
            let o = ExecOptions {
                command: format!("{bin} client --fault {fault} {{url}}"),
                agent: fault.to_string(),
                settings: Settings::default(),
                connect_timeout: Duration::from_secs(20),
            };
            let mut failed = BTreeSet::new();
            for (n, case) in cases.iter().enumerate() {
                let r = run_one(&o, case, n + 1).await;
                if r.overall().is_failure(false) {
                    failed.insert(r.id.clone());
                }
            }
            failed
        }
    };
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(failing("none").await, set(&[]));
    assert_eq!(failing("no-pong").await, set(&["2.2"]));
    assert_eq!(failing("no-utf8-validation").await, set(&["6.3.1"]));
    let never_close = failing("never-answer-close").await;
    assert!(
        never_close.is_superset(&set(&["1.1.1", "7.1.1"])),
        "{never_close:?}"
    );
    let unmasked = failing("send-unmasked").await;
    assert!(unmasked.contains("1.1.1"), "{unmasked:?}");
}

/// wsspec's own client-side cases (`client/*`) catch the faults wstest cannot see,
/// each on the cases about its rule, and pass the correct client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_cases_catch_what_wstest_cannot() {
    use std::collections::BTreeSet;

    let all = wsspec::catalogue::builtin().unwrap();
    let cases: Vec<wsspec::case::Case> =
        wsspec::case::select::select(&all, &["client/*".to_string()], &[])
            .unwrap()
            .into_iter()
            .cloned()
            .collect();
    let count = cases.len();
    assert!(count >= 20, "{count} client cases");
    let wsspec_testkit::serve::Served {
        url: base,
        stop,
        report: running,
    } = wsspec_testkit::serve::start(cases).await.unwrap();
    let runs: Vec<_> = ClientFault::ALL
        .into_iter()
        .map(|fault| {
            let base = base.clone();
            tokio::spawn(async move {
                driver::play_all(&base, &format!("{fault:?}"), CASE_LIMIT, |url| async move {
                    client::play(&url, fault, CASE_LIMIT).await.map(|_| ())
                })
                .await
            })
        })
        .collect();
    for run in runs {
        assert_eq!(run.await.unwrap().unwrap().count as usize, count);
    }
    let _ = stop.send(true);
    let report = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("wsspec's fuzzing server stops")
        .unwrap();
    let failing = |fault: ClientFault| -> BTreeSet<String> {
        let agent = format!("{fault:?}");
        let a = report
            .agents
            .iter()
            .find(|a| a.agent == agent)
            .unwrap_or_else(|| panic!("no results for {agent}"));
        assert_eq!(a.results.len(), count, "{agent}");
        a.results
            .iter()
            .filter(|r| r.overall().is_failure(false))
            .map(|r| r.id.clone())
            .collect()
    };
    // (fault, cases that must fail, the only cases that may: id prefixes).
    let expect: [(ClientFault, &[&str], &[&str]); 8] = [
        (ClientFault::None, &[], &[]),
        (
            ClientFault::SkipAcceptCheck,
            &["client/accept-missing", "client/accept-wrong"],
            &["client/accept-"],
        ),
        (
            ClientFault::AcceptMaskedFrames,
            &["client/masked-server-frame"],
            &["client/masked-server-frame"],
        ),
        (
            ClientFault::ReuseMaskKey,
            &["client/fresh-mask-keys"],
            &["client/fresh-mask-keys"],
        ),
        (
            ClientFault::ZeroMaskKey,
            &["client/fresh-mask-keys"],
            &["client/fresh-mask-keys"],
        ),
        (
            ClientFault::AcceptUnofferedExtension,
            &[
                "client/extension-unoffered",
                "client/deflate-window-16",
                "client/deflate-window-7",
                "client/deflate-window-08",
                "client/deflate-duplicate-parameter",
                "client/deflate-unknown-parameter",
            ],
            &["client/extension-", "client/deflate-"],
        ),
        // Every frame it sends is unmasked.
        (
            ClientFault::SendUnmasked,
            &["client/opening-request", "client/fresh-mask-keys"],
            &["client/"],
        ),
        // No client case pings.
        (ClientFault::NoPong, &[], &[]),
    ];
    for (fault, must, only) in expect {
        let failed = failing(fault);
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
    }
    // Never answering the close leaves the closing handshake unclean wherever the case
    // closes normally.
    assert!(failing(ClientFault::NeverAnswerClose).contains("client/opening-request"));
}
