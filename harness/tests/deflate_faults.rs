//! permessage-deflate fault injection over real sockets: the echo server of
//! `wsspec::faulty` with compression on, once conformant and once per `Deflate…` fault
//! (each breaking one RFC 7692 rule in what it sends), against the cases that exercise
//! those rules: Autobahn's 12.1.1–12.1.3 and 13.x rows with small messages (1000
//! compressed round trips each), 1.1.1–1.1.3 (no offer at all), and every `deflate/…`
//! case of wsspec's own section.
//!
//! The conformant configuration passes every one of them; each fault must be caught
//! on exactly the cases that see its rule broken (FAILED, WRONG CODE or UNCLEAN, or
//! NON-STRICT on a SHOULD case) and pass all the others. What each fault can be seen
//! on is derived from the rule, case by case, in the expectations below:
//!
//! * a compressed echo goes out wherever the server negotiated permessage-deflate and
//!   a message is echoed: the 12.x/13.x rows and the `deflate/…` cases that expect a
//!   message — corrupt data, RSV1 on a continuation and RSV1 on plain data are caught
//!   there (plain data except the empty message, which inflates to nothing either way);
//! * keeping the context although `server_no_context_takeover` was agreed shows where
//!   that was offered and more than one message is echoed (13.2.x, 13.5.x,
//!   `deflate/server-no-context-takeover`): the tester's inflater starts every message
//!   afresh and the back-references into the previous message are invalid;
//! * a window larger than agreed only shows where a back-reference reaches beyond the
//!   agreed window (and past what the inflater produced in the same call): with
//!   context takeover the 13.3.x rows (9-bit window) refer back into earlier messages,
//!   and `deflate/server-window-9-kept` sends a 1,003-byte text twice so that the
//!   second echo points 1,003 bytes back. Without context takeover (13.5.x) messages
//!   of at most 256 bytes cannot refer further back than 512 bytes: no fault to see.
//!   (This needs zlib-rs 0.6.9 or later: 0.6.8 inflated such references silently.)
//! * compressing after declining shows on any echo (1.1.x; `deflate/optional-offer`
//!   offers permessage-deflate without needing it). Cases that need the extension are
//!   UNIMPLEMENTED against that server, as against any server that declines it.

use std::collections::BTreeSet;
use wsspec::case::Case;
use wsspec::engine::conn::{Settings, Target};
use wsspec::report::model::{CaseResult, Verdict};
use wsspec_testkit::faulty::{self, Fault};

/// One server at a time (the round-trip cases are timed by their own timers only, but
/// two runs at once would just compete for the two cores).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The Autobahn rows run here (1000 round trips of at most 256 bytes each).
const AUTOBAHN: [&str; 15] = [
    "1.1.1", "1.1.2", "1.1.3", "12.1.1", "12.1.2", "12.1.3", "13.1.1", "13.2.1", "13.2.2",
    "13.2.3", "13.3.1", "13.3.2", "13.3.3", "13.5.1", "13.5.2",
];

/// `deflate/…` cases in which the server echoes a message over a connection on which
/// it negotiated permessage-deflate (so the echo is compressed).
const COMPRESSED_ECHO: [&str; 11] = [
    "deflate/after-unknown-extension",
    "deflate/client-no-context-takeover",
    "deflate/compressed-empty",
    "deflate/compressed-fragmented",
    "deflate/fallback-after-invalid",
    "deflate/optional-offer",
    "deflate/plain-offer",
    "deflate/server-max-window-bits-10",
    "deflate/server-no-context-takeover",
    "deflate/server-window-9-kept",
    "deflate/uncompressed-message",
];

fn selection() -> Vec<Case> {
    let cases: Vec<Case> = wsspec::catalogue::builtin()
        .unwrap()
        .into_iter()
        .filter(|c| AUTOBAHN.contains(&c.id.as_str()) || c.id.starts_with("deflate/"))
        .collect();
    for id in AUTOBAHN.iter().chain(COMPRESSED_ECHO.iter()) {
        assert!(
            cases.iter().any(|c| c.id == *id),
            "{id} is not in the catalogue"
        );
    }
    cases
}

/// The Autobahn compression rows of the selection (12.x, 13.x).
fn compression_rows() -> Vec<&'static str> {
    AUTOBAHN
        .iter()
        .copied()
        .filter(|id| id.starts_with("12.") || id.starts_with("13."))
        .collect()
}

/// What a result says about the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Pass,
    Unimplemented,
    Caught,
}

fn seen(r: &CaseResult) -> Seen {
    match r.overall() {
        Verdict::Ok | Verdict::Informational => Seen::Pass,
        Verdict::Unimplemented => Seen::Unimplemented,
        _ => Seen::Caught,
    }
}

fn line(r: &CaseResult) -> String {
    format!(
        "{} = ({}, {}): {} | {}",
        r.id, r.behavior, r.behavior_close, r.result, r.actual
    )
}

/// Run the selection against a server with `fault` (and permessage-deflate on), and
/// check that exactly `caught` are caught and exactly `unimplemented` are
/// UNIMPLEMENTED; everything else must pass.
async fn check(fault: Fault, caught: &[&str], unimplemented: &[&str]) -> Vec<CaseResult> {
    let _serial = SERIAL.lock().await;
    let cases = selection();
    let refs: Vec<&Case> = cases.iter().collect();
    let server = faulty::start_with(fault, true).await.unwrap();
    let target = Target::parse(&server.url()).unwrap();
    let t0 = std::time::Instant::now();
    let results = wsspec::runner::run_all(&target, &Settings::default(), &refs, 8, |_| {}).await;
    println!(
        "{fault:?}: {} cases in {} ms",
        results.len(),
        t0.elapsed().as_millis()
    );
    assert_eq!(results.len(), cases.len());
    let caught: BTreeSet<&str> = caught.iter().copied().collect();
    let unimplemented: BTreeSet<&str> = unimplemented.iter().copied().collect();
    let mut bad = Vec::new();
    for r in &results {
        let want = if caught.contains(r.id.as_str()) {
            Seen::Caught
        } else if unimplemented.contains(r.id.as_str()) {
            Seen::Unimplemented
        } else {
            Seen::Pass
        };
        if seen(r) != want {
            bad.push(format!("want {want:?}, got {}", line(r)));
        }
    }
    assert!(
        bad.is_empty(),
        "{fault:?}: {} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformant_deflate_server_passes() {
    let results = check(Fault::None, &[], &[]).await;
    // Autobahn's trafficStats, up to the last echo: 1000 messages of 64 characters of
    // JSON each way, one frame each, compressed (the server keeps its context), and
    // wire bytes = payload + frame headers (+ the tester's masks).
    let r = results
        .iter()
        .find(|r| r.id == "12.1.2")
        .expect("12.1.2 ran");
    let v = wsspec::report::autobahn::case_json("deflate", wsspec::rules::Role::Client, r);
    assert_eq!(v["reportCompressionRatio"], true);
    let t = &v["trafficStats"];
    let n = |k: &str| t[k].as_u64().unwrap_or_else(|| panic!("{k} in {t}"));
    let f = |k: &str| t[k].as_f64().unwrap_or_else(|| panic!("{k} in {t}"));
    for dir in ["incoming", "outgoing"] {
        assert_eq!(n(&format!("{dir}WebSocketMessages")), 1000, "{t}");
        assert_eq!(n(&format!("{dir}WebSocketFrames")), 1000, "{t}");
        // 64 characters of JSON each (some take more than a byte), the same both ways.
        let app = n(&format!("{dir}OctetsAppLevel"));
        assert!((64_000..=4 * 64_000).contains(&app), "{t}");
        assert_eq!(app, n("outgoingOctetsAppLevel"), "{t}");
        let ws = n(&format!("{dir}OctetsWebSocketLevel"));
        assert!(ws > 0 && ws < app, "{dir}: not compressed? {t}");
        assert!(n(&format!("{dir}OctetsWireLevel")) >= ws + 2 * 1000, "{t}");
        assert!(
            n(&format!(
                "preopen{}OctetsWireLevel",
                [&dir[..1].to_uppercase(), &dir[1..]].concat()
            )) > 100,
            "{t}"
        );
        let ratio = f(&format!("{dir}CompressionRatio"));
        assert!((ratio - ws as f64 / app as f64).abs() < 1e-9, "{t}");
    }
    // Masks: the tester's frames are 4 bytes longer each.
    assert!(n("outgoingOctetsWireLevel") >= n("outgoingOctetsWebSocketLevel") + 6 * 1000);
    // No trafficStats where Autobahn has none: outside 12.x/13.x.
    let plain = results.iter().find(|r| r.id == "1.1.1").expect("1.1.1 ran");
    let v = wsspec::report::autobahn::case_json("deflate", wsspec::rules::Role::Client, plain);
    assert_eq!(
        (&v["reportCompressionRatio"], &v["trafficStats"]),
        (&serde_json::json!(false), &serde_json::Value::Null)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_stream() {
    let mut caught = compression_rows();
    caught.extend(COMPRESSED_ECHO);
    check(Fault::DeflateCorrupt, &caught, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsv1_on_continuation() {
    let mut caught = compression_rows();
    caught.extend(COMPRESSED_ECHO);
    check(Fault::DeflateRsv1OnContinuation, &caught, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsv1_on_uncompressed_payload() {
    // The empty message: RSV1 on an empty payload inflates to the empty message, so
    // the tester cannot tell it from a compressed one.
    let mut caught = compression_rows();
    caught.extend(
        COMPRESSED_ECHO
            .iter()
            .filter(|id| **id != "deflate/compressed-empty"),
    );
    check(Fault::DeflateRsv1Uncompressed, &caught, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_kept_despite_no_context_takeover() {
    check(
        Fault::DeflateKeepsContext,
        &[
            "13.2.1",
            "13.2.2",
            "13.2.3",
            "13.5.1",
            "13.5.2",
            "deflate/server-no-context-takeover",
        ],
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_larger_than_agreed() {
    check(
        Fault::DeflateWindowTooLarge,
        &["13.3.1", "13.3.2", "13.3.3", "deflate/server-window-9-kept"],
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compresses_after_declining() {
    // Every case that needs permessage-deflate is UNIMPLEMENTED against a server that
    // declines it: those are the ones that say so in their handshake expectation (and
    // the 12.x/13.x rows).
    let needs: Vec<String> = selection()
        .into_iter()
        .filter(|c| {
            c.deflate.is_some() || c.handshake.as_ref().is_some_and(|h| h.expect.needs_deflate)
        })
        .map(|c| c.id)
        .collect();
    let needs: Vec<&str> = needs.iter().map(String::as_str).collect();
    check(
        Fault::DeflateWhenDeclined,
        &["1.1.1", "1.1.2", "1.1.3", "deflate/optional-offer"],
        &needs,
    )
    .await;
}
