//! The binary as a user meets it: exit codes, error messages, dry runs, report files.

use std::process::{Command, Output};

fn wsspec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(args)
        .output()
        .expect("run wsspec")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn unknown_case_id_is_a_usage_error() {
    let o = wsspec(&["run", "--cases", "99.1", "--no-write"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown case id `99.1`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn empty_selection_is_an_error() {
    let o = wsspec(&["run", "--cases", "1.*", "--exclude", "1.*", "--no-write"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no case matches"), "{}", stderr(&o));
}

#[test]
fn unreachable_target_is_one_clear_line() {
    // Bind then drop a listener so the port is (very likely) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("ws://127.0.0.1:{port}/");
    let o = wsspec(&[
        "run",
        &url,
        "--cases",
        "1.1.1",
        "--no-write",
        "--timeout",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot connect") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn bad_urls_are_usage_errors() {
    for url in ["http://127.0.0.1:1/", "ws://[::1", "not a url"] {
        let o = wsspec(&["run", url, "--no-write"]);
        assert_eq!(o.status.code(), Some(2), "{url}");
        assert!(
            stderr(&o).starts_with("wsspec: error:"),
            "{url}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn malformed_case_file_points_at_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.json");
    std::fs::write(&file, "[\n  {\"id\": \"mine/x\",\n   \"title\": 3}\n]\n").unwrap();
    let o = wsspec(&[
        "run",
        "--cases-dir",
        dir.path().to_str().unwrap(),
        "--no-write",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let want = format!("{}:3:", file.display());
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
}

#[test]
fn a_cases_dir_holding_the_report_directory_does_not_read_the_reports_as_cases() {
    // `wsspec run --cases-dir .` writes to reports/latest below the cases: the second
    // run must not take the first run's report.json for a malformed case file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.json"),
        r#"[{"id": "mine/echo", "title": "Echo a text", "rfc": "RFC 6455 §5.6",
  "requirement": "A text message comes back unchanged.",
  "steps": [{"message": {"payload": "Hello"}}, {"wait": {"seconds": 0.2}}, {"close": {"code": 1000}}, {"kill_after": 2}],
  "expect": {"ok": [{"message": {"payload": "Hello"}}],
    "close": {"closed_by_me": true, "codes": [1000], "require_clean": true}}}]
"#,
    )
    .unwrap();
    for run in 1..=2 {
        let o = Command::new(env!("CARGO_BIN_EXE_wsspec"))
            .args(["run", "--cases-dir", ".", "--quiet"])
            .current_dir(dir.path())
            .output()
            .expect("run wsspec");
        assert_eq!(o.status.code(), Some(0), "run {run}: {}", stderr(&o));
        assert!(dir.path().join("reports/latest/report.json").exists());
    }
}

#[test]
fn dry_run_lists_without_connecting() {
    let o = wsspec(&["run", "ws://127.0.0.1:1/", "--dry-run", "--cases", "6.4.*"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("6.4.1") && out.contains("4 cases would run"),
        "{out}"
    );
}

#[test]
fn cases_lists_the_catalogue_with_levels_and_rfc() {
    let o = wsspec(&["cases"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("2.10") && out.contains("RFC 6455"), "{out}");
    assert!(out.lines().any(|l| l.trim_start().starts_with("10.1.1")));
    // Each case line: id, level, RFC section, title.
    let first = out
        .lines()
        .find(|l| l.trim_start().starts_with("1.1.1 "))
        .expect("a line for 1.1.1");
    assert!(
        first.contains("MUST") && first.contains("RFC 6455 §5.2"),
        "{first}"
    );
}

#[test]
fn embedded_run_passes_and_writes_autobahn_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = wsspec(&[
        "run",
        "--cases",
        "1.*,2.*,7.7.*",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("40 cases, 40 passed, 0 failed"), "{stdout}");
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("autobahn/index.json")).unwrap())
            .unwrap();
    let agent = index.as_object().unwrap().values().next().unwrap();
    assert_eq!(agent["2.5"]["behavior"], "OK");
    let file = agent["2.5"]["reportfile"].as_str().unwrap();
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("autobahn").join(file)).unwrap())
            .unwrap();
    assert_eq!(case["id"], "2.5");
    assert!(!case["wirelog"].as_array().unwrap().is_empty());
    let native: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(native["agents"][0]["results"].as_array().unwrap().len(), 40);
}

#[test]
fn failures_give_exit_code_1_and_strict_counts_non_strict() {
    // 6.4.3 is NON-STRICT against tungstenite: passes normally, fails with --strict.
    let o = wsspec(&["run", "--cases", "6.4.3", "--no-write", "--quiet"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = wsspec(&[
        "run",
        "--cases",
        "6.4.3",
        "--no-write",
        "--quiet",
        "--strict",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn help_teaches() {
    let o = wsspec(&["run", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    for word in ["--cases", "Exit status", "embedded", "--jobs", "--out"] {
        assert!(out.contains(word), "missing {word} in help:\n{out}");
    }
}

/// A server that answers every request with `status_and_headers` (and keeps reading
/// until the client goes).
fn canned_server(answer: &'static str) -> u16 {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().take(64) {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = s.write_all(answer.as_bytes());
                while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    port
}

#[test]
fn a_broken_101_is_a_conformance_failure_not_a_harness_error() {
    let port = canned_server(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBhbnN3ZXI=\r\n\r\n",
    );
    let url = format!("ws://127.0.0.1:{port}/");
    let o = wsspec(&[
        "run",
        &url,
        "-c",
        "1.1.1,2.1",
        "--no-write",
        "--timeout",
        "2",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", stderr(&o));
    assert!(
        stderr(&o).contains("answered 101 but broke"),
        "{}",
        stderr(&o)
    );
    assert!(
        out.contains("Sec-WebSocket-Accept"),
        "the reason is shown: {out}"
    );
}

#[test]
fn an_http_error_status_is_still_a_harness_error() {
    let port = canned_server("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    let url = format!("ws://127.0.0.1:{port}/");
    let o = wsspec(&["run", &url, "-c", "1.1.1", "--no-write"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did not complete a WebSocket handshake"),
        "{}",
        stderr(&o)
    );
}
