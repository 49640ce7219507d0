//! wsspec as the server, testing clients over real sockets.
//!
//! * tokio-tungstenite's client, driven through Autobahn's client-driver URL protocol
//!   against wsspec's fuzzing server, must get exactly the verdicts Autobahn published
//!   for tungstenite on all 517 cases (Autobahn uses the same expected results for its
//!   client and its server).
//! * `wsspec serve --exec`: a client command that never connects, or exits at once,
//!   gets FAILED verdicts, the run ends with exit 1, and no process is left behind.

use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A client driver as Autobahn's reference drivers are: echo every data message of
/// `/runCase?case=N&agent=A` until the connection ends.
async fn run_case(base: &str, n: usize, agent: &str) {
    let url = format!("{base}/runCase?case={n}&agent={agent}");
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            return;
        }
    }
}

async fn text_of(url: String) -> String {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    while let Some(Ok(msg)) = ws.next().await {
        if msg.is_text() {
            return msg.into_text().unwrap().to_string();
        }
    }
    panic!("no text message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tungstenite_client_verdicts_equal_autobahns_published_results() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../reports/baseline/autobahn-tungstenite-index.json"
    ))
    .unwrap();
    let index: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = index["Tungstenite"].as_object().unwrap();

    let all = wsspec::catalogue::builtin().unwrap();
    let cases: Vec<wsspec::case::Case> = all.into_iter().filter(|c| !c.id.contains('/')).collect();
    assert_eq!(cases.len(), 517);
    let timed_ids: Vec<usize> = (1..=cases.len()).filter(|n| cases[n - 1].timed).collect();
    let served = wsspec_testkit::serve::start(cases).await.unwrap();
    let (base, running) = (served.url, served.report);

    // The driver protocol as Autobahn's drivers use it; cases on four connections at
    // a time (any order is allowed) except the timed section 9, which runs one case
    // at a time afterwards as `wsspec run` does (the client shares this process: a
    // 16 MiB case next to it would starve it), then the reports, which stop the server.
    let count: usize = text_of(format!("{base}/getCaseCount"))
        .await
        .parse()
        .unwrap();
    assert_eq!(count, 517);
    let info = text_of(format!("{base}/getCaseInfo?case=1")).await;
    assert!(info.contains(r#""id":"1.1.1""#), "{info}");
    let (timed, other): (Vec<usize>, Vec<usize>) = (1..=count).partition(|n| timed_ids.contains(n));
    let other = Arc::new(other);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (next, base, other) = (next.clone(), base.clone(), other.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let Some(&n) = other.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    return;
                };
                tokio::time::timeout(Duration::from_secs(60), run_case(&base, n, "tungstenite"))
                    .await
                    .expect("a case must end within 60 s");
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    for n in timed {
        tokio::time::timeout(Duration::from_secs(60), run_case(&base, n, "tungstenite"))
            .await
            .expect("a case must end within 60 s");
    }
    let status = text_of(format!("{base}/getCaseStatus?case=1&agent=tungstenite")).await;
    assert_eq!(status, r#"{"behavior":"OK"}"#);
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "{base}/updateReports?agent=tungstenite&shutdownOnComplete=true"
    ))
    .await
    .unwrap();
    while let Some(Ok(_)) = ws.next().await {}
    let report = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the server stops after shutdownOnComplete")
        .unwrap();

    assert_eq!(report.agents.len(), 1);
    let agent = &report.agents[0];
    assert_eq!(agent.agent, "tungstenite");
    assert_eq!(agent.role, wsspec::rules::Role::Server);
    assert_eq!(agent.results.len(), 517, "one result per case");
    let mut mismatches = BTreeMap::new();
    for r in &agent.results {
        let e = &expected[&r.id];
        let want = (
            e["behavior"].as_str().unwrap().to_string(),
            e["behaviorClose"].as_str().unwrap().to_string(),
        );
        let got = (
            r.behavior.as_str().to_string(),
            r.behavior_close.as_str().to_string(),
        );
        if want != got {
            mismatches.insert(
                r.id.clone(),
                format!("want {want:?}, got {got:?}: {} | {}", r.result, r.actual),
            );
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{:#?}",
        mismatches.len(),
        mismatches
    );
}

fn wsspec(args: &[&str]) -> (i32, String, String, Duration) {
    let t0 = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        t0.elapsed(),
    )
}

fn verdicts(dir: &std::path::Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let agent = &v["agents"][0];
    assert_eq!(agent["role"], "server");
    agent["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["behavior"].as_str().unwrap().to_string(),
                r["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn exec_client_that_never_connects_fails_each_case_and_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    // A marker argument nothing else on the machine uses, to find leftovers.
    let marker = format!("{}.25", 40 + std::process::id() % 50);
    let cmd = format!("sleep {marker} # {{url}}");
    let (code, stdout, stderr, took) = wsspec(&[
        "serve",
        "--exec",
        &cmd,
        "--cases",
        "1.1.1,2.1",
        "--timeout",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let v = verdicts(&out);
    assert_eq!(v.len(), 2);
    for (id, behavior, result) in &v {
        assert_eq!(behavior, "FAILED", "{id}");
        assert!(
            result.contains("did not connect within 1.0 s"),
            "{id}: {result}"
        );
    }
    let left = std::process::Command::new("pgrep")
        .args(["-f", &format!("sleep {marker}")])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "client processes left behind: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

#[test]
fn exec_client_that_exits_at_once_gets_a_verdict_with_its_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (code, stdout, stderr, _) = wsspec(&[
        "serve",
        "--exec",
        "echo cannot start; exit 3 # {url}",
        "--cases",
        "1.1.1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let v = verdicts(&out);
    assert_eq!(v[0].1, "FAILED");
    assert!(v[0].2.contains("exited with status 3"), "{}", v[0].2);
    assert!(v[0].2.contains("cannot start"), "{}", v[0].2);
}

#[test]
fn serve_usage_errors_exit_2() {
    let (code, _, stderr, _) = wsspec(&["serve", "--exec", "client"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("{url}"), "{stderr}");
    // Opening-handshake cases test servers only: nothing left to serve.
    let (code, _, stderr, _) = wsspec(&["serve", "--exec", "c {url}", "--cases", "handshake/*"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("test servers"), "{stderr}");
    let (code, _, stderr, _) = wsspec(&["serve", "--listen", "999.0.0.1:1"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot listen"), "{stderr}");
}

/// wsspec's client-side cases (the opening response, masking) against
/// tokio-tungstenite's client: each verdict as committed in
/// tests/known-failing/tungstenite-client.txt (what tungstenite does not check).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tungstenite_client_on_wsspecs_client_cases() {
    let all = wsspec::catalogue::builtin().unwrap();
    let cases: Vec<wsspec::case::Case> = all
        .into_iter()
        .filter(|c| c.id.starts_with("client/"))
        .collect();
    assert!(cases.len() >= 20);
    let count = cases.len();
    let served = wsspec_testkit::serve::start(cases).await.unwrap();
    let (base, stop, running) = (served.url, served.stop, served.report);
    let mut all = Vec::new();
    for n in 1..=count {
        let base = base.clone();
        all.push(tokio::spawn(async move {
            tokio::time::timeout(Duration::from_secs(30), run_case(&base, n, "tungstenite"))
                .await
                .expect("a case must end within 30 s");
        }));
    }
    for t in all {
        t.await.unwrap();
    }
    stop.send(true).unwrap();
    let report = running.await.unwrap();
    let failing: Vec<String> = report.agents[0]
        .results
        .iter()
        .filter(|r| r.overall().is_failure(false))
        .map(|r| {
            format!(
                "{}  # {} / {}: {}",
                r.id, r.behavior, r.behavior_close, r.actual
            )
        })
        .collect();
    let want = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/known-failing/tungstenite-client.txt"
    ))
    .unwrap_or_default();
    let want: Vec<&str> = want
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect();
    let got: Vec<&str> = failing
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(got, want, "failing cases:\n{}", failing.join("\n"));
}

/// Autobahn's fuzzingserver.json drives `wsspec serve`: where to listen, the cases,
/// exclude-agent-cases and outdir; an Autobahn driver runs through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reads_autobahns_fuzzingserver_json() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = dir.path().join("clients");
    let spec = dir.path().join("fuzzingserver.json");
    std::fs::write(
        &spec,
        serde_json::json!({
            "url": format!("ws://127.0.0.1:{port}"),
            "outdir": out,
            "options": {"failByDrop": false},
            "cases": ["1.1.1", "1.1.2", "2.1"],
            "exclude-cases": ["2.1"],
            "exclude-agent-cases": {"slow*": ["1.1.2"]},
        })
        .to_string(),
    )
    .unwrap();
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = KillOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(["serve", "--config", spec.to_str().unwrap(), "-q"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("ws://127.0.0.1:{port}");
    // Wait for it to listen.
    let mut count = None;
    for _ in 0..100 {
        if let Ok(Ok((mut ws, _))) = tokio::time::timeout(
            Duration::from_secs(2),
            tokio_tungstenite::connect_async(format!("{base}/getCaseCount")),
        )
        .await
        {
            if let Some(Ok(m)) = ws.next().await {
                count = Some(m.into_text().unwrap().to_string());
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count.as_deref(), Some("2"), "two cases after exclude-cases");
    for n in 1..=2 {
        run_case(&base, n, "slowclient").await;
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "{base}/updateReports?agent=slowclient&shutdownOnComplete=true"
    ))
    .await
    .unwrap();
    while let Some(Ok(_)) = ws.next().await {}
    let mut status = None;
    for _ in 0..400 {
        status = child.0.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = status.expect("the server stops after shutdownOnComplete");
    assert_eq!(status.code(), Some(0));
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("autobahn/index.json")).unwrap())
            .unwrap();
    let cases: Vec<&String> = index["slowclient"].as_object().unwrap().keys().collect();
    assert_eq!(cases, ["1.1.1"], "1.1.2 is excluded for slow*");
    let one: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("autobahn/slowclient_case_1_1_1.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(one["isServer"], true);
    assert_eq!(one["case"], 1);
}
