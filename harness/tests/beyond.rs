//! wsspec's own sections beyond Autobahn — `handshake/…` (RFC 6455 §4), `deflate/…`
//! (RFC 7692 negotiation) and `security/…` (known bug classes) — over real sockets:
//!
//! * the catalogue holds enough documented cases per section, each security case naming
//!   the CVE or issue it replays;
//! * a conformant server (`faulty_hs` with `HsFault::None`) passes every case (OK or
//!   INFORMATIONAL, nothing else);
//! * each fault of `faulty_hs` is caught by exactly the cases written for it, while the
//!   rest of its family still passes;
//! * the growth-timing cases give the same verdict ten times in a row, for a linear and
//!   for a quadratic server;
//! * the embedded tokio-tungstenite server and the real Python `websockets` and Node
//!   `ws` peers get the verdicts recorded in `docs/findings.md`.
//!
//! Runs share one lock, so timing-sensitive cases never compete with another run.
//! Debug builds compress slowly, so the decompression bombs' `deflate_zeros` payloads
//! are swapped for the same bombs built from one compressed MiB repeated (see
//! [`zeros_bomb`]); the server sees the same bytes either way.

use std::collections::BTreeMap;
#[allow(dead_code)] // output_text is for the tests that run processes
mod support;

use std::time::{Duration, Instant};
use wsspec::case::{encode_hex, Case, Payload, Step};
use wsspec::engine::conn::{Settings, Target};
use wsspec::report::model::{CaseResult, Verdict};
use wsspec::wire::deflate;
use wsspec_testkit::faulty_hs::{self, HsFault};

use Verdict::{Failed as F, Informational as INFO, NonStrict as NS, Ok as OK};

/// One run at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const SECTIONS: [&str; 3] = ["handshake/", "deflate/", "security/"];

/// The cases of our three sections, with fast-to-build bombs.
fn sections() -> Vec<Case> {
    let all = wsspec::catalogue::builtin().unwrap();
    let picked = all
        .into_iter()
        .filter(|c| SECTIONS.iter().any(|s| c.id.starts_with(s)))
        .collect();
    fast_bombs(picked)
}

/// Cases whose id starts with one of `prefixes` (or equals it).
fn pick(prefixes: &[&str]) -> Vec<Case> {
    sections()
        .into_iter()
        .filter(|c| prefixes.iter().any(|p| c.id.starts_with(p)))
        .collect()
}

/// `n` zero bytes as one permessage-deflate message, made of sync-flushed 1 MiB
/// blocks (each compressed on its own, so the concatenation is one valid stream).
fn zeros_bomb(n: usize) -> Vec<u8> {
    const BLOCK: usize = 1 << 20;
    let mut block = deflate::compress_zeros(BLOCK);
    block.extend_from_slice(&deflate::SYNC_TAIL);
    let mut out = Vec::with_capacity(block.len() * (n / BLOCK + 1));
    for _ in 0..n / BLOCK {
        out.extend_from_slice(&block);
    }
    if !n.is_multiple_of(BLOCK) {
        out.extend(deflate::compress_zeros(n % BLOCK));
        out.extend_from_slice(&deflate::SYNC_TAIL);
    }
    out.truncate(out.len() - deflate::SYNC_TAIL.len());
    out
}

fn fast_bombs(cases: Vec<Case>) -> Vec<Case> {
    fn swap(steps: &mut [Step]) {
        for s in steps {
            match s {
                Step::Send(f) => {
                    if let Payload::DeflateZeros { deflate_zeros } = f.payload {
                        f.payload = Payload::Hex {
                            hex: encode_hex(&zeros_bomb(deflate_zeros)),
                        };
                    }
                }
                Step::Repeat { steps, .. } => swap(steps),
                _ => {}
            }
        }
    }
    cases
        .into_iter()
        .map(|mut c| {
            swap(&mut c.steps);
            c
        })
        .collect()
}

async fn run(url: &str, cases: &[Case]) -> BTreeMap<String, CaseResult> {
    let target = Target::parse(url).unwrap();
    let refs: Vec<&Case> = cases.iter().collect();
    let results = tokio::time::timeout(
        Duration::from_secs(300),
        wsspec::runner::run_all(&target, &Settings::default(), &refs, 16, |_| {}),
    )
    .await
    .expect("a run must end within 300 s");
    assert_eq!(results.len(), cases.len());
    results.into_iter().map(|r| (r.id.clone(), r)).collect()
}

fn line(r: &CaseResult) -> String {
    format!(
        "{} = ({}, {}): {} | {}",
        r.id, r.behavior, r.behavior_close, r.result, r.actual
    )
}

/// Both columns OK or INFORMATIONAL.
fn passed(r: &CaseResult) -> bool {
    [r.behavior, r.behavior_close]
        .iter()
        .all(|v| matches!(v, OK | INFO))
}

// ----- the catalogue ---------------------------------------------------------------

#[test]
fn sections_are_complete_and_documented() {
    let cases = wsspec::catalogue::builtin().unwrap();
    let count = |p: &str| cases.iter().filter(|c| c.id.starts_with(p)).count();
    assert!(count("handshake/") >= 40, "{}", count("handshake/"));
    assert!(count("deflate/") >= 20, "{}", count("deflate/"));
    assert!(count("security/") >= 30, "{}", count("security/"));
    for c in cases
        .iter()
        .filter(|c| SECTIONS.iter().any(|s| c.id.starts_with(s)))
    {
        c.validate().unwrap();
        assert!(c.rfc.starts_with("RFC "), "{}", c.id);
        assert!(
            c.handshake.is_some() || c.timing.is_some() || !c.steps.is_empty(),
            "{}",
            c.id
        );
        assert!(
            wsspec::catalogue::section_title(&c.section()).is_some(),
            "{}",
            c.id
        );
        let slug = c.id.split_once('/').unwrap().1;
        assert!(
            slug.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{}: slugs are lower-case kebab-case",
            c.id
        );
        let r = c.requirement.trim();
        assert!(
            r.starts_with(|ch: char| ch.is_uppercase() || ch.is_ascii_digit()) && r.ends_with('.'),
            "{}: the requirement is one sentence",
            c.id
        );
    }
    // Every security case names the bug it replays (CVE, GHSA, OSV, RUSTSEC, CWE, an
    // issue or PR number, or a named tool/class) in its title or requirement, except the
    // non-minimal-length ones, which say there is none.
    let named = |s: &str| {
        [
            "CVE-",
            "GHSA-",
            "OSV-",
            "RUSTSEC-",
            "CWE-",
            "#",
            "h2csmuggler",
            "websocket-smuggle",
            "No CVE",
        ]
        .iter()
        .any(|k| s.contains(k))
    };
    for c in cases.iter().filter(|c| c.id.starts_with("security/")) {
        assert!(
            named(&c.title) || named(&c.requirement),
            "{}: no bug id in title or requirement",
            c.id
        );
    }
    // Destructive and timing cases are followed by a liveness probe (and so run last,
    // one at a time); Origin cases are policy, not resources.
    for c in cases.iter().filter(|c| c.id.starts_with("security/")) {
        assert_eq!(
            c.probe_after,
            !c.id.starts_with("security/origin-"),
            "{}",
            c.id
        );
    }
}

#[test]
fn fast_bombs_are_the_same_bombs() {
    let b = zeros_bomb((3 << 20) + 5);
    assert!(b.len() < 8 << 10, "{} bytes", b.len());
    let plain = deflate::inflate_bounded(&b, 4 << 20).unwrap();
    assert_eq!(plain.len(), (3 << 20) + 5);
    assert!(plain.iter().all(|&x| x == 0));
}

/// The fragmented bomb keeps a sync tail between its compressed pieces, so the
/// fragments join into one valid stream (checked on a 1 MiB-per-piece copy).
#[test]
fn fragmented_bomb_is_one_stream() {
    let c = wsspec::catalogue::builtin()
        .unwrap()
        .into_iter()
        .find(|c| c.id == "security/deflate-bomb-fragments")
        .unwrap();
    fn collect(steps: &[Step], out: &mut Vec<u8>, pieces: &mut usize) {
        for s in steps {
            match s {
                Step::Send(f) => match &f.payload {
                    Payload::DeflateZeros { .. } => {
                        *pieces += 1;
                        out.extend(zeros_bomb(1 << 20));
                    }
                    p => out.extend(p.bytes()),
                },
                Step::Repeat { times, steps } => {
                    for _ in 0..*times {
                        collect(steps, out, pieces);
                    }
                }
                _ => {}
            }
        }
    }
    let (mut z, mut pieces) = (Vec::new(), 0);
    collect(&c.steps, &mut z, &mut pieces);
    assert_eq!(pieces, 4);
    let plain = deflate::inflate_bounded(&z, 8 << 20).unwrap();
    assert_eq!(plain.len(), 4 << 20);
}

// ----- the conformant server ---------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformant_server_passes_every_case() {
    let _g = SERIAL.lock().await;
    let server = faulty_hs::start(HsFault::None).await.unwrap();
    let cases = sections();
    let t = Instant::now();
    let results = run(&server.url(), &cases).await;
    eprintln!(
        "{} cases in {:.1}s",
        results.len(),
        t.elapsed().as_secs_f64()
    );
    let bad: Vec<String> = results.values().filter(|r| !passed(r)).map(line).collect();
    assert!(
        bad.is_empty(),
        "a conformant server must pass:\n{}",
        bad.join("\n")
    );
    // Informational only where the outcome is open.
    for r in results.values().filter(|r| r.behavior == INFO) {
        let origin = r.id.starts_with("security/origin-");
        assert!(r.expect.informational || origin, "{}", line(r));
    }
    assert!(server.is_alive());
}

// ----- faults ------------------------------------------------------------------------

/// A fault, the cases that must catch it (with the verdict they must get) and the
/// family of cases that must still pass.
struct FaultSpec {
    fault: HsFault,
    caught: &'static [(&'static str, Verdict)],
    family: &'static [&'static str],
    /// The fault kills the server: every caught case runs on a fresh one.
    kills: bool,
}

const FAULTS: &[FaultSpec] = &[
    FaultSpec {
        fault: HsFault::AcceptShortKey,
        caught: &[("handshake/key-12-bytes", F), ("handshake/key-20-bytes", F)],
        family: &["handshake/"],
        kills: false,
    },
    FaultSpec {
        fault: HsFault::AcceptVersion8,
        caught: &[("handshake/version-8", NS)],
        family: &["handshake/"],
        kills: false,
    },
    FaultSpec {
        fault: HsFault::UnofferedProtocol,
        caught: &[
            ("handshake/protocol-one-offered", F),
            ("handshake/protocol-two-offered", F),
            ("handshake/protocol-two-lines", F),
            ("handshake/protocol-empty-elements", NS),
        ],
        family: &["handshake/"],
        kills: false,
    },
    FaultSpec {
        fault: HsFault::AcceptBadWindowBits,
        caught: &[
            ("deflate/server-max-window-bits-7", F),
            ("deflate/server-max-window-bits-16", F),
            ("deflate/server-max-window-bits-08", F),
            ("deflate/server-max-window-bits-plus9", F),
            ("deflate/server-max-window-bits-abc", F),
            ("deflate/fallback-window", NS),
        ],
        family: &["deflate/"],
        kills: false,
    },
    FaultSpec {
        fault: HsFault::AllocDeclaredLength,
        caught: &[
            ("security/length-top-bit", F),
            ("security/length-all-ones", F),
            ("security/gorilla-continuation", F),
            ("security/length-2pow32-plus5", F),
            ("security/length-1tib", F),
        ],
        family: &[
            "security/length-",
            "security/gorilla-",
            "security/declared-",
            "security/over-limit-",
            "security/non-minimal-",
        ],
        kills: true,
    },
    FaultSpec {
        fault: HsFault::InflateUnbounded,
        caught: &[
            ("security/deflate-bomb", F),
            ("security/deflate-bomb-fragments", F),
        ],
        family: &["security/deflate-", "deflate/"],
        kills: true,
    },
    FaultSpec {
        fault: HsFault::QuadraticProtocol,
        caught: &[("security/redos-protocol-list", NS)],
        family: &["security/redos-", "handshake/protocol-"],
        kills: false,
    },
];

/// Whether the server has stopped (it may take a moment after its last connection).
async fn died(server: &faulty_hs::HsServer) -> bool {
    for _ in 0..100 {
        if !server.is_alive() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

async fn check_fault(spec: &FaultSpec) {
    let _g = SERIAL.lock().await;
    let family = pick(spec.family);
    let caught: BTreeMap<&str, Verdict> = spec.caught.iter().copied().collect();
    for id in caught.keys() {
        assert!(
            family.iter().any(|c| c.id == *id),
            "{id} is not in the family"
        );
    }
    let mut results = BTreeMap::new();
    if spec.kills {
        // Each killing case on a server of its own; the rest together.
        for c in family.iter().filter(|c| caught.contains_key(c.id.as_str())) {
            let server = faulty_hs::start(spec.fault).await.unwrap();
            results.extend(run(&server.url(), std::slice::from_ref(c)).await);
            assert!(
                died(&server).await,
                "{:?} must have died on {}",
                spec.fault,
                c.id
            );
        }
        let rest: Vec<Case> = family
            .iter()
            .filter(|c| !caught.contains_key(c.id.as_str()))
            .cloned()
            .collect();
        let server = faulty_hs::start(spec.fault).await.unwrap();
        results.extend(run(&server.url(), &rest).await);
        assert!(
            server.is_alive(),
            "{:?} died on an unrelated case",
            spec.fault
        );
    } else {
        let server = faulty_hs::start(spec.fault).await.unwrap();
        results = run(&server.url(), &family).await;
    }
    let mut problems = Vec::new();
    for r in results.values() {
        match caught.get(r.id.as_str()) {
            Some(want) if r.behavior != *want => {
                problems.push(format!("should be {want}: {}", line(r)))
            }
            Some(_) => {}
            None if !passed(r) => problems.push(format!("should pass: {}", line(r))),
            None => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{:?}:\n{}",
        spec.fault,
        problems.join("\n")
    );
}

/// One named test per fault, looking its spec up by fault (not by position).
macro_rules! fault_tests {
    ($($name:ident => $fault:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let spec = FAULTS
                .iter()
                .find(|s| s.fault == HsFault::$fault)
                .expect("a spec for this fault");
            check_fault(spec).await;
        }
    )*};
}

fault_tests! {
    fault_short_key => AcceptShortKey,
    fault_version_8 => AcceptVersion8,
    fault_unoffered_protocol => UnofferedProtocol,
    fault_bad_window_bits => AcceptBadWindowBits,
    fault_alloc_declared_length => AllocDeclaredLength,
    fault_inflate_unbounded => InflateUnbounded,
    fault_quadratic_protocol => QuadraticProtocol,
}

#[test]
fn every_fault_has_a_spec() {
    for f in HsFault::ALL.iter().skip(1) {
        assert!(FAULTS.iter().any(|s| s.fault == *f), "{f:?}");
    }
}

// ----- timing stability ----------------------------------------------------------------

/// Ten runs of every growth-timing case against the linear (conformant) server, and of
/// the Sec-WebSocket-Protocol list case against the quadratic one: one verdict each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timing_verdicts_are_stable() {
    let _g = SERIAL.lock().await;
    let timing: Vec<Case> = pick(&["security/redos-"]);
    assert_eq!(timing.len(), 4);
    let linear = faulty_hs::start(HsFault::None).await.unwrap();
    let quadratic = faulty_hs::start(HsFault::QuadraticProtocol).await.unwrap();
    let list: Vec<Case> = pick(&["security/redos-protocol-list"]);
    assert_eq!(list.len(), 1);
    let mut seen: BTreeMap<(String, &str), Vec<Verdict>> = BTreeMap::new();
    for _ in 0..10 {
        for (server, name, cases) in [
            (&linear, "linear", &timing),
            (&quadratic, "quadratic", &list),
        ] {
            for r in run(&server.url(), cases).await.into_values() {
                eprintln!("{name}: {}", line(&r));
                seen.entry((r.id.clone(), name))
                    .or_default()
                    .push(r.behavior);
            }
        }
    }
    assert_eq!(seen.len(), timing.len() + list.len(), "every case ran");
    for ((id, name), verdicts) in &seen {
        let want = if *name == "quadratic" { NS } else { OK };
        assert!(
            verdicts.iter().all(|v| *v == want),
            "{id} against the {name} server: {verdicts:?}"
        );
        assert_eq!(verdicts.len(), 10);
    }
}

// ----- real servers ----------------------------------------------------------------------

/// The cases (beyond OK and INFORMATIONAL) whose verdict is recorded in
/// docs/findings.md for each real server; every other case must pass.
type Known = &'static [(&'static str, Verdict)];

const TUNGSTENITE: Known = &[
    ("handshake/connection-split-lines", NS),
    ("handshake/duplicate-host", F),
    ("handshake/ext-empty-param", F),
    ("handshake/ext-quoted-non-token", F),
    ("handshake/ext-space-in-name", F),
    ("handshake/ext-unterminated-quote", F),
    ("handshake/invalid-host", F),
    ("handshake/key-duplicate", F),
    ("handshake/no-host", F),
    ("handshake/protocol-duplicate", NS),
    ("handshake/protocol-empty-value", F),
    ("handshake/protocol-non-token", F),
    ("handshake/protocol-space-separated", F),
    ("handshake/version-25", F),
    ("handshake/version-8", NS),
    ("handshake/version-duplicate", F),
    ("security/host-unterminated-ipv6", F),
    ("security/non-minimal-16", NS),
    ("security/non-minimal-64", NS),
    ("security/non-minimal-64-for-200", NS),
];

const WEBSOCKETS: Known = &[
    ("handshake/duplicate-host", F),
    ("handshake/invalid-host", F),
    ("handshake/no-host", F),
    ("handshake/protocol-duplicate", NS),
    ("handshake/version-25", F),
    ("handshake/version-8", NS),
    ("security/host-unterminated-ipv6", F),
];

const WS: Known = &[
    ("handshake/duplicate-host", F),
    ("handshake/http-1-0", F),
    ("handshake/invalid-host", F),
    ("handshake/no-host", F),
    ("handshake/protocol-empty-elements", NS),
    ("handshake/version-8", NS),
    ("handshake/version-leading-zero", F),
    ("deflate/fallback-after-invalid", NS),
    ("deflate/fallback-window", NS),
    ("deflate/server-max-window-bits-08", F),
    ("deflate/server-max-window-bits-plus9", F),
    ("security/host-unterminated-ipv6", F),
    ("security/non-minimal-16", NS),
    ("security/non-minimal-64", NS),
    ("security/non-minimal-64-for-200", NS),
];

fn compare(agent: &str, results: &BTreeMap<String, CaseResult>, known: Known) {
    let known: BTreeMap<&str, Verdict> = known.iter().copied().collect();
    let mut problems: Vec<String> = known
        .keys()
        .filter(|id| !results.contains_key(**id))
        .map(|id| format!("recorded but not run: {id}"))
        .collect();
    for r in results.values() {
        let dead = r.result.contains("did not survive");
        match known.get(r.id.as_str()) {
            Some(want) if r.behavior != *want || dead => {
                problems.push(format!("recorded as {want}: {}", line(r)))
            }
            None if !passed(r) && r.behavior != Verdict::Unimplemented => {
                problems.push(format!("recorded as passing: {}", line(r)))
            }
            _ => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{agent} no longer matches docs/findings.md:\n{}",
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_tungstenite_matches_the_findings() {
    let _g = SERIAL.lock().await;
    let server = wsspec::server::start(0).await.unwrap();
    let t = Instant::now();
    let results = run(&server.url(), &sections()).await;
    eprintln!("tungstenite: {:.1}s", t.elapsed().as_secs_f64());
    compare("tokio-tungstenite", &results, TUNGSTENITE);
    // No permessage-deflate: every case that needs it says so.
    for r in results
        .values()
        .filter(|r| r.behavior == Verdict::Unimplemented)
    {
        assert!(r.result.contains("permessage-deflate"), "{}", line(r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_peers_match_the_findings() {
    if !support::setup_peers() {
        return;
    }
    let _g = SERIAL.lock().await;
    let python = support::venv_python();
    for (agent, program, script, known) in [
        (
            "websockets",
            python.as_str(),
            "websockets_echo.py",
            WEBSOCKETS,
        ),
        ("ws", "node", "ws_echo.js", WS),
    ] {
        let (_peer, port) = support::start_peer(program, script, &["--deflate"]);
        let t = Instant::now();
        let results = run(&format!("ws://127.0.0.1:{port}/"), &sections()).await;
        eprintln!("{agent}: {:.1}s", t.elapsed().as_secs_f64());
        // Both negotiate permessage-deflate with --deflate.
        assert!(
            results
                .values()
                .all(|r| r.behavior != Verdict::Unimplemented),
            "{agent}: permessage-deflate was expected"
        );
        compare(agent, &results, known);
    }
}
