//! Hostile targets over real sockets: servers that never answer, answer garbage, drop
//! the connection mid-case, send a header line that never ends, a frame declaring
//! 2^62 bytes or an endless flood of pings. A representative selection of cases must complete within a fixed time,
//! every case must get a result, none may pass where passing would be wrong, traces
//! must stay under their cap and the process's peak memory must stay bounded.

use std::time::{Duration, Instant};
use wsspec::case::Case;
use wsspec::engine::conn::{probe, Settings, Target};
use wsspec::report::model::{CaseResult, Verdict};
use wsspec_testkit::faulty::{self, Hostile};

/// A sample across the sections: plain echoes (1.1.1, chopped 1.1.8, 10.1.1), a case
/// the peer must fail (2.5, 3.1, 4.1.1), fragmentation with a delay (5.19), UTF-8 (valid,
/// invalid, fail-fast, generated) and close handling.
const SELECTION: &[&str] = &[
    "1.1.1", "1.1.8", "2.5", "3.1", "4.1.1", "5.19", "6.2.1", "6.3.1", "6.4.1", "6.5.1", "6.12.1",
    "6.22.1", "7.1.1", "7.3.2", "7.9.1", "10.1.1",
];

/// The whole run must end within this time.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// Peak resident memory allowed for the whole test process.
const MAX_HWM_KIB: u64 = 512 * 1024;

fn selection() -> Vec<Case> {
    let all = wsspec::catalogue::builtin().unwrap();
    let picked: Vec<Case> = all
        .into_iter()
        .filter(|c| SELECTION.contains(&c.id.as_str()))
        .collect();
    assert_eq!(
        picked.len(),
        SELECTION.len(),
        "every selected case is in the catalogue"
    );
    picked
}

fn line(r: &CaseResult) -> String {
    format!(
        "{} = ({}, {}): {} | {} | {}",
        r.id, r.behavior, r.behavior_close, r.result, r.result_close, r.actual
    )
}

/// Run the selection against `h` under [`RUN_LIMIT`]; check completeness and the trace cap.
async fn run(h: Hostile) -> (Vec<Case>, Vec<CaseResult>) {
    let server = faulty::start_hostile(h).await.unwrap();
    let target = Target::parse(&server.url()).unwrap();
    let settings = Settings::default();
    let cases = selection();
    let refs: Vec<&Case> = cases.iter().collect();
    let t0 = Instant::now();
    let results = tokio::time::timeout(
        RUN_LIMIT,
        wsspec::runner::run_all(&target, &settings, &refs, 32, |_| {}),
    )
    .await
    .unwrap_or_else(|_| panic!("{h:?}: the run did not finish within {RUN_LIMIT:?}"));
    println!(
        "{h:?}: {} cases in {} ms",
        results.len(),
        t0.elapsed().as_millis()
    );
    let mut got: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
    let mut want: Vec<&str> = SELECTION.to_vec();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "{h:?}: every case has exactly one result");
    for r in &results {
        assert!(
            r.trace.len() <= settings.trace_cap,
            "{h:?} {}: trace of {} rows over the cap of {}",
            r.id,
            r.trace.len(),
            settings.trace_cap
        );
    }
    (cases, results)
}

fn assert_all_fail(h: Hostile, results: &[CaseResult]) {
    for r in results {
        assert!(
            r.overall().is_failure(false),
            "{h:?}: must not pass: {}",
            line(r)
        );
    }
}

/// Peak resident set size of this process (`VmHWM`), if the platform reports it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let row = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    row.split_whitespace().nth(1)?.parse().ok()
}

fn assert_memory_bounded(h: Hostile) {
    if let Some(kib) = peak_rss_kib() {
        println!("{h:?}: peak RSS so far {} MiB", kib / 1024);
        assert!(
            kib < MAX_HWM_KIB,
            "{h:?}: peak RSS {kib} KiB over {MAX_HWM_KIB} KiB"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server() {
    let h = Hostile::Silent;
    let (_, results) = run(h).await;
    for r in &results {
        assert_eq!(
            (r.behavior, r.behavior_close),
            (Verdict::Failed, Verdict::Failed),
            "{}",
            line(r)
        );
        assert!(r.close.was_open_handshake_timeout, "{}", line(r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_header() {
    let h = Hostile::EndlessHeader;
    let (_, results) = run(h).await;
    for r in &results {
        assert_eq!(
            (r.behavior, r.behavior_close),
            (Verdict::Failed, Verdict::Failed),
            "{}",
            line(r)
        );
        assert!(r.result.contains("never completed"), "{}", line(r));
    }
    assert_memory_bounded(h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_after_handshake() {
    let h = Hostile::GarbageAfterHandshake;
    let (_, results) = run(h).await;
    assert_all_fail(h, &results);
    for r in &results {
        // The very first byte is an invalid frame header: the tester fails the connection.
        assert!(
            r.close.failed_by_me,
            "{h:?}: the tester should fail the connection: {}",
            line(r)
        );
    }
    assert_memory_bounded(h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_frame() {
    let h = Hostile::HugeFrame;
    let (_, results) = run(h).await;
    assert_all_fail(h, &results);
    for r in &results {
        // Refused at the header (over the 64 MiB limit), never buffered.
        assert!(
            r.close.failed_by_me,
            "{h:?}: the tester should fail the connection: {}",
            line(r)
        );
        assert_eq!(r.close.local_close_code, Some(1009), "{}", line(r));
    }
    assert_memory_bounded(h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_flood() {
    let h = Hostile::PingFlood;
    let (_, results) = run(h).await;
    assert_all_fail(h, &results);
    for r in &results {
        // Past 100,000 frames the tester stops answering and keeping them.
        assert!(
            r.close.failed_by_me,
            "{h:?}: the tester should fail the connection: {}",
            line(r)
        );
    }
    // An echo case is still open when the flood comes: it is failed with 1008.
    let echo = results.iter().find(|r| r.id == "1.1.1").unwrap();
    assert_eq!(echo.close.local_close_code, Some(1008), "{}", line(echo));
    assert_memory_bounded(h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_mid_case() {
    let h = Hostile::DropMidCase;
    let (_, results) = run(h).await;
    // A peer that must fail the connection and show nothing may do it by dropping TCP
    // (Autobahn's "peer fails": a close frame or a TCP drop). The server drops once it
    // has read 10 bytes of frames, so the cases whose frames reach 10 bytes pass:
    // 2.5 (134 bytes), 3.1 (19), 6.3.1 (26). In 4.1.1 (6 bytes) and 6.12.1 (7 bytes)
    // the drop only comes after the tester's own close (wrong closer); everything else
    // (echoes, the tester's clean close, 6.4.1's delay A) fails as well.
    let passing = ["2.5", "3.1", "6.3.1"];
    let mut bad = Vec::new();
    for r in &results {
        let ok = if passing.contains(&r.id.as_str()) {
            (r.behavior, r.behavior_close) == (Verdict::Ok, Verdict::Ok)
        } else {
            r.overall().is_failure(false)
        };
        if !ok {
            bad.push(line(r));
        }
    }
    assert!(bad.is_empty(), "{h:?}:\n{}", bad.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_refuses_targets_that_never_handshake() {
    let settings = Settings {
        connect_timeout: Duration::from_secs(2),
        open_handshake_timeout: Duration::from_secs(2),
        ..Settings::default()
    };
    for h in [Hostile::Silent, Hostile::EndlessHeader] {
        let server = faulty::start_hostile(h).await.unwrap();
        let target = Target::parse(&server.url()).unwrap();
        let t0 = Instant::now();
        let r = tokio::time::timeout(Duration::from_secs(10), probe(&target, &settings))
            .await
            .unwrap_or_else(|_| panic!("{h:?}: probe not bounded by its timeouts"));
        let took = t0.elapsed();
        assert!(r.is_err(), "{h:?}: probe should fail, got {r:?}");
        assert!(took < Duration::from_secs(4), "{h:?}: probe took {took:?}");
        println!(
            "{h:?}: probe failed in {} ms: {}",
            took.as_millis(),
            r.unwrap_err()
        );
    }
}
