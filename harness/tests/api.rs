//! The library API used the way a library author would, inside `cargo test`: an
//! in-process tokio-tungstenite echo server (passes against its known-failing file),
//! a deliberately broken server (fails with a readable diff), an axum WebSocket
//! endpoint, and the selection rules.
//!
//! Runs share one lock, so that timing-sensitive cases (6.4.x) are not starved by
//! another run on the same 2 cores.

use futures_util::{SinkExt, StreamExt};
use std::path::PathBuf;
use tokio::net::{TcpListener, TcpStream};
use wsspec::{Suite, Verdict};
use wsspec_testkit::faulty::{self, Fault};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A library author's server: echo every data message (tokio-tungstenite).
async fn echo(stream: TcpStream) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            return;
        }
    }
}

fn file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind")
}

/// The whole catalogue (less the long sections others may add) against an in-process
/// tokio-tungstenite server, gated by the same known-failing file as the embedded
/// server of `cargo xtask gate` (the same echo code).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_tungstenite_server_matches_its_known_failing_file() {
    let _serial = SERIAL.lock().await;
    let report = Suite::new()
        .exclude(["9.*", "12.*", "13.*"])
        .agent("my-server")
        .test_server_on(listener().await, "/", echo)
        .await
        .expect("run");
    let model = report.model();
    assert_eq!(model.agents.len(), 1);
    assert_eq!(model.agents[0].agent, "my-server");
    let n = report.results().count();
    assert!(n >= 247, "only {n} results");
    // Autobahn's sections all pass; what fails is the handshake strictness the
    // baseline lists.
    let failing: Vec<&str> = report.failures().iter().map(|r| r.id.as_str()).collect();
    assert!(!failing.is_empty());
    assert!(
        failing
            .iter()
            .all(|id| id.starts_with("handshake/") || id.starts_with("security/")),
        "{failing:?}"
    );
    report.assert_known_failing(file("../reports/baseline/embedded.known-failing.txt"));
    // The reports the command line writes.
    let dir = tempfile::tempdir().unwrap();
    let written = report.write_to(dir.path()).unwrap();
    assert!(written.iter().all(|p| p.is_file()), "{written:?}");
    let json = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    let back: wsspec::RunReport = serde_json::from_str(&json).unwrap();
    // The files hold the model within their size bounds (the floods of `security/…`
    // are cut down to the head and tail of their traces and events).
    let bounded = wsspec::report::bound::bounded(model);
    assert!(matches!(bounded, std::borrow::Cow::Owned(_)));
    assert_eq!(&back, &*bounded);
}

/// A server that ignores RSV bits fails 3.1–3.6, and the mismatch says which lines
/// the known-failing file lacks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_server_fails_with_a_diff_naming_the_lines_to_add() {
    let _serial = SERIAL.lock().await;
    let server = faulty::start(Fault::IgnoreRsv).await.unwrap();
    let report = Suite::new()
        .sections(["3"])
        .test_server(server.addr)
        .await
        .expect("run");
    let failing: Vec<&str> = report.failures().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(failing, ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6"]);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("known-failing.txt");
    std::fs::write(&path, "# my server's known failures\n3.2\n").unwrap();
    let m = report.check_known_failing(&path).unwrap_err();
    let text = m.to_string();
    let shown = path.display();
    assert!(
        text.contains("3.1 failed (FAILED / FAILED): Send a text frame with RSV"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "--- {shown} (committed)\n+++ {shown} (this run)\n"
        )),
        "{text}"
    );
    for id in ["3.1", "3.3", "3.4", "3.5", "3.6"] {
        assert!(
            text.contains(&format!("\n+{id}  # FAILED / FAILED\n")),
            "{id}: {text}"
        );
    }
    assert!(!text.contains("+3.2"), "3.2 is listed already: {text}");
    assert_eq!(
        m.expected_file(),
        "# my server's known failures\n3.2\n3.1  # FAILED / FAILED\n3.3  # FAILED / FAILED\n\
         3.4  # FAILED / FAILED\n3.5  # FAILED / FAILED\n3.6  # FAILED / FAILED\n"
    );
    // The file the diff asks for makes the check pass.
    std::fs::write(&path, m.expected_file()).unwrap();
    report.check_known_failing(&path).unwrap();
    assert_eq!(
        report.known_failing_text().lines().count(),
        6,
        "{}",
        report.known_failing_text()
    );

    // assert_known_failing panics with the same text (a missing file reads as empty).
    let missing = dir.path().join("none.txt");
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        report.assert_known_failing(&missing)
    }))
    .expect_err("must panic");
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("(no such file: read as empty)"), "{msg}");
    assert!(msg.contains("+3.6  # FAILED / FAILED"), "{msg}");
    assert!(msg.contains("WSSPEC_BLESS=1"), "{msg}");
}

/// A listed case that passes now is a mismatch too: the diff deletes its line. (A
/// plain `#[tokio::test]`: one thread for the server and the harness.)
#[tokio::test]
async fn fixed_case_asks_for_its_line_to_be_deleted() {
    let _serial = SERIAL.lock().await;
    let report = Suite::new()
        .cases(["3.*"])
        .test_server_on(listener().await, "/", echo)
        .await
        .expect("run");
    assert!(report.failures().is_empty());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kf.txt");
    std::fs::write(&path, "3.1\n# a comment\n3.7  # fixed last week\n99.9\n").unwrap();
    let text = report.check_known_failing(&path).unwrap_err().to_string();
    assert!(
        text.contains(":1: 3.1 passes now; delete this line"),
        "{text}"
    );
    assert!(text.contains("\n-3.1\n"), "{text}");
    assert!(text.contains("\n-3.7  # fixed last week\n"), "{text}");
    // 99.9 matches no case of this run: kept, not an error.
    assert!(!text.contains("-99.9"), "{text}");
}

/// An axum WebSocket route, served by axum itself, tested by URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_endpoint() {
    use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
    use axum::routing::get;

    async fn handle(mut socket: WebSocket) {
        while let Some(Ok(msg)) = socket.recv().await {
            if matches!(msg, Message::Text(_) | Message::Binary(_))
                && socket.send(msg).await.is_err()
            {
                return;
            }
        }
    }
    let app = axum::Router::new().route(
        "/ws",
        get(|ws: WebSocketUpgrade| async { ws.on_upgrade(handle) }),
    );
    let _serial = SERIAL.lock().await;
    let l = listener().await;
    let addr = l.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(l, app).await });
    let report = Suite::new()
        .sections(["1", "2", "3", "4", "5", "6", "7", "10"])
        .test_server(format!("ws://{addr}/ws"))
        .await
        .expect("run");
    server.abort();
    assert!(report.results().count() >= 247);
    assert!(report
        .results()
        .all(|r| r.behavior != Verdict::Unimplemented));
    report.assert_known_failing(file("tests/known-failing/axum.txt"));
}

#[test]
fn selection_works_like_the_command_line() {
    let by_section = Suite::new().sections(["6.4"]).case_ids().unwrap();
    let by_pattern = Suite::new().cases(["6.4.*"]).case_ids().unwrap();
    assert_eq!(by_section, ["6.4.1", "6.4.2", "6.4.3", "6.4.4"]);
    assert_eq!(by_section, by_pattern);
    let two = Suite::new()
        .sections(["2"])
        .exclude(["2.1*"])
        .case_ids()
        .unwrap();
    assert!(two.contains(&"2.2".to_string()) && !two.iter().any(|c| c.starts_with("2.1")));
    let hs = Suite::new().sections(["handshake"]).case_ids().unwrap();
    assert!(!hs.is_empty() && hs.iter().all(|c| c.starts_with("handshake/")));
    // A cases directory: its ids must not clash with built-in ones.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        file("../cases/wsspec/framing.json"),
        dir.path().join("framing.json"),
    )
    .unwrap();
    let e = Suite::new().cases_dir(dir.path()).case_ids().unwrap_err();
    assert!(e.to_string().contains("is also a built-in case"), "{e}");
    let e = Suite::new().sections(["42"]).case_ids().unwrap_err();
    assert!(e.to_string().contains("no case is in section `42`"), "{e}");
    let e = Suite::new().cases(["6.4.9"]).case_ids().unwrap_err();
    assert!(e.to_string().contains("unknown case id `6.4.9`"), "{e}");
}

#[tokio::test]
async fn unreachable_server_is_an_error_not_a_verdict() {
    let l = listener().await;
    let addr = l.local_addr().unwrap();
    drop(l);
    let e = Suite::new()
        .cases(["1.1.1"])
        .timeout(std::time::Duration::from_secs(2))
        .test_server(addr)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Is the server running at"), "{e}");
    let e = Suite::new()
        .cases(["1.1.1"])
        .test_server("http://127.0.0.1:1/")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("use ws:// or wss://"), "{e}");
}

/// The client role through the library: tokio-tungstenite's client as a task gets
/// Autobahn's published verdicts (all OK here) on sections 1–7, and a client that
/// stops echoing fails with a diff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_tungstenite_client_through_test_client() {
    async fn client(url: String, echo: bool) {
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(url).await else {
            return;
        };
        while let Some(Ok(msg)) = ws.next().await {
            if echo && (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
                return;
            }
        }
    }
    let suite = wsspec::Suite::new().cases(["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*"]);
    let report = suite
        .test_client(|url| client(url, true))
        .await
        .expect("the harness could not run");
    assert_eq!(report.model().agents[0].results.len(), 246);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("known-failing.txt");
    // tungstenite's client fails nothing in Autobahn's sections.
    report.check_known_failing(&file).expect("no failure");

    let broken = wsspec::Suite::new()
        .cases(["1.1.*"])
        .test_client(|url| client(url, false))
        .await
        .unwrap();
    let err = broken.check_known_failing(&file).unwrap_err().to_string();
    assert!(err.contains("+1.1.1  # FAILED"), "{err}");
}
