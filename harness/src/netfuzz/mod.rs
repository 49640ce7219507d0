//! Network fuzzing of a live WebSocket server (`wsspec fuzz URL`).
//!
//! **Sequences.** Each sequence is generated from a seeded, deterministic byte source
//! (SplitMix64 filling a buffer that `arbitrary::Unstructured` decodes), so sequence
//! `n` of seed `s` is always the same. A sequence is a list of ordinary case
//! [`Step`]s — valid messages, fragments with control frames interleaved, pings and
//! pongs, frames with reserved opcodes or RSV bits, unmasked frames, oversized or
//! fragmented control frames, close frames with bad codes or reasons, invalid UTF-8,
//! lying lengths, chopped writes — plus, sometimes, a mutated opening handshake
//! (missing or odd headers, extension offers, a dribbled request). Each sequence runs
//! on a fresh connection. Steps are encoded exactly the way the case player
//! ([`crate::engine::play`]) encodes them, so a finding replays as a case.
//!
//! **Oracles.**
//!
//! * *liveness*: after every sequence a fresh connection must complete the handshake
//!   and get one message echoed;
//! * *termination*: a sequence ends with our close frame when the model says the
//!   connection is still open (the target must answer it within the timeout), then a
//!   TCP FIN (sent at once when the target should already have failed the
//!   connection); the target must close TCP within the timeout after our FIN. A frame
//!   whose length lies is completed with filler bytes first, so the stream always
//!   ends on a frame boundary;
//! * *well-formed output*: everything the target sends must be valid server frames:
//!   unmasked, RSV 0 (RSV1 only on compressed messages when permessage-deflate was
//!   negotiated), known opcodes, control frames final and ≤ 125 bytes, minimal
//!   lengths, continuation order, UTF-8 text, close payloads that are not 1 byte long,
//!   carry a code that may be sent and a UTF-8 reason, nothing after its close frame;
//!   and a permessage-deflate answer that fits the offer.
//!
//! **Findings.** A finding is confirmed by running its sequence again, shrunk (drop
//! runs of steps, then shorten payloads and drop chopping, keeping every change under
//! which the same oracle still fires, with a bounded number of runs and a time budget),
//! and written as a case file `<out>/<hash>.json` with id `finding/<hash>`, which
//! `wsspec run --cases-dir <out> URL` replays. The case's expectation is what a
//! conformant echo server does with those steps (computed by a model of RFC 6455, see
//! [`model`]), so the case passes against a conformant server and fails against the
//! broken one; a target that dies gets `probe_after` (a fresh connection must still
//! get its echo). Where the target must fail the connection, the closing close frame
//! is sent as a plain frame and a kill timer follows, and a 0.2 s pause precedes the
//! rule-breaking step when replies are expected before it (a server that closes with
//! unread input resets the connection, which can destroy unread replies). The
//! model is checked against both conformant servers in `harness/tests/netfuzz.rs`.
//! Each written case is checked against
//! the embedded tokio-tungstenite server and the conformant fault-injection server
//! (it must pass both) and, when the target is alive or can be restarted, against the
//! target (it must fail).
//!
//! A target that dies cannot be shrunk against unless it comes back: the fuzzer waits
//! briefly for it to recover, or restarts it through a [`Lifecycle`] (`--spawn`, where
//! wsspec owns the process; `--restart CMD`; a hook in tests). With one, a death is
//! confirmed, shrunk and counted on fresh targets (`crash`), deduplicated by how the
//! process ended and its last output (`life`). A dead target that stays dead ends the
//! run; its finding is written unshrunk. Every finding also gets a Markdown report and
//! a standalone Python reproducer (`bugreport`).
//!
//! Everything is bounded: connect and handshake by the timeout, every sequence by a
//! hard time cap, payloads and steps by fixed maxima, shrinking by runs and time.

use crate::case::builder::case as new_case;
use crate::case::{
    Case, CloseStep, Event, ExpectClose, FrameStep, Handshake, HandshakeExpect, HandshakeOutcome,
    Length, Mask, MessageStep, OpName, Opcode, Payload, Step, WaitStep,
};
use crate::engine::conn::{self, Io, Settings, Target};
use crate::engine::opening::{self, Answer};
use crate::engine::play::fragments;
use crate::error::Error;
use crate::wire::close_code;
use crate::wire::deflate;
use crate::wire::extensions::PmdParams;
use crate::wire::frame::{encode_frame, FrameDecoder};
use crate::wire::utf8::{Utf8Status, Utf8Validator};
use arbitrary::Unstructured;
use futures_util::future::BoxFuture;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{sleep_until, Instant};

mod bugreport;
mod crash;
mod life;
pub use life::{Lifecycle, PostMortem, RestartCommand, Spawned};

/// Largest frame or message the server-output checker accepts (16 MiB).
const MAX_SERVER_FRAME: u64 = 16 << 20;
/// A conformant server's message limit assumed by the model (the faulty servers' and
/// roughly every real server's); longer declared lengths must fail with 1009 or 1002.
const MODEL_MAX: u64 = 64 << 20;
/// tungstenite's frame limit; between it and [`MODEL_MAX`] servers may differ.
const MODEL_AMBIGUOUS: u64 = 16 << 20;
/// Bytes of PRNG output a sequence is decoded from.
const SOURCE_BYTES: usize = 8 << 10;
/// Hard cap on one sequence's connection, whatever happens.
const SEQUENCE_CAP: Duration = Duration::from_secs(15);
/// Largest filler appended to complete a frame whose length lies.
const MAX_FILLER: u64 = 1 << 20;
/// Most bytes of the target's answer kept for a finding's report.
const RECEIVED_CAP: usize = 64 << 10;

/// What to fuzz and how long.
#[derive(Debug, Clone)]
pub struct Options {
    pub url: String,
    pub seed: u64,
    /// Fuzzing time (shrinking and verification come on top, bounded separately).
    pub duration: Duration,
    /// Directory for finding case files.
    pub out: PathBuf,
    /// Connect, handshake, close-answer and FIN-to-EOF timeout.
    pub timeout: Duration,
    /// Most steps per generated sequence.
    pub max_steps: usize,
    /// Stop after this many distinct findings.
    pub max_findings: usize,
    /// Most sequence runs spent shrinking one finding…
    pub shrink_runs: usize,
    /// …and most time.
    pub shrink_time: Duration,
    /// Check each written case against the reference servers and the target.
    pub verify: bool,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// No progress lines on stderr.
    pub quiet: bool,
}

impl Options {
    /// Defaults for everything but the target, seed and duration.
    pub fn new(url: &str, seed: u64, duration: Duration) -> Options {
        Options {
            url: url.to_string(),
            seed,
            duration,
            out: PathBuf::from("reports/findings"),
            timeout: Duration::from_secs(2),
            max_steps: 32,
            max_findings: 5,
            shrink_runs: 200,
            shrink_time: Duration::from_secs(30),
            verify: true,
            insecure: false,
            quiet: false,
        }
    }
}

/// Restarts a dead target and returns its (possibly new) URL.
pub type Restart = Box<dyn FnMut() -> BoxFuture<'static, Result<String, String>> + Send>;

/// Which oracle fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The target sent something that is not a valid server frame or handshake answer.
    Malformed,
    /// The target did not end the connection in time when it had to.
    Hang,
    /// A fresh connection got no echo afterwards.
    Dead,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Malformed => "malformed output",
            Kind::Hang => "hang",
            Kind::Dead => "target died",
        }
    }
}

/// What the checks of one written case gave (`None`: not checked).
#[derive(Debug, Clone, Default)]
pub struct Verification {
    /// Passes against the embedded tokio-tungstenite server.
    pub reference_passes: Option<bool>,
    /// Passes against the conformant fault-injection server (`Fault::None`).
    pub conformant_passes: Option<bool>,
    /// Fails against the target.
    pub target_fails: Option<bool>,
}

/// One distinct finding.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: Kind,
    pub detail: String,
    /// Sequence number (with the seed, it regenerates the original sequence).
    pub sequence: u64,
    pub case_id: String,
    pub path: PathBuf,
    /// Steps before and after shrinking.
    pub steps_before: usize,
    pub steps_after: usize,
    /// Sequence runs spent confirming and shrinking.
    pub shrink_runs: usize,
    /// The original sequence fired the same oracle again.
    pub confirmed: bool,
    pub verification: Verification,
    /// Fuzzing time until it was first seen.
    pub found_after: Duration,
    /// For a dead target wsspec owns: its exit status or signal and last output.
    pub crash: Option<PostMortem>,
    /// Runs on fresh targets that reproduced it / runs (dead targets that can restart).
    pub reproduced: Option<(u32, u32)>,
    /// The Markdown bug report and the standalone Python reproducer.
    pub report: Option<PathBuf>,
    pub reproducer: Option<PathBuf>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub seed: u64,
    pub sequences: u64,
    /// Frames written (sequences only, not probes).
    pub frames: u64,
    pub bytes: u64,
    /// Fuzzing time (without shrinking and verification).
    pub fuzz_time: Duration,
    pub total_time: Duration,
    pub findings: Vec<Finding>,
    /// Findings of an already-seen kind and detail, not written again.
    pub duplicates: u64,
    /// Why the run stopped early, if it did.
    pub stopped: Option<String>,
}

impl Summary {
    pub fn frames_per_sec(&self) -> f64 {
        self.frames as f64 / self.fuzz_time.as_secs_f64().max(1e-9)
    }
    pub fn sequences_per_sec(&self) -> f64 {
        self.sequences as f64 / self.fuzz_time.as_secs_f64().max(1e-9)
    }
}

// ----- the deterministic byte source -----------------------------------------------

/// SplitMix64: tiny, fast, well distributed; good enough to feed `arbitrary`.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let x = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&x[..chunk.len()]);
        }
    }
}

/// The byte source of sequence `n` of `seed`.
fn source(seed: u64, n: u64) -> Vec<u8> {
    let mut r = SplitMix::new(seed ^ n.wrapping_mul(0xd1b5_4a32_d192_ed03));
    let mut buf = vec![0u8; SOURCE_BYTES];
    r.fill(&mut buf);
    buf
}

// ----- generating sequences ---------------------------------------------------------

/// A sequence: an optional mutated handshake and the steps on the connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    pub handshake: Option<Handshake>,
    pub steps: Vec<Step>,
}

/// Generate sequence `n` of `seed` (deterministic).
pub fn generate(seed: u64, n: u64, max_steps: usize) -> Sequence {
    let src = source(seed, n);
    let mut u = Unstructured::new(&src);
    // Running out of bytes only makes later choices default to their minimum.
    gen_sequence(&mut u, max_steps.max(1))
}

fn pick<T: Copy>(u: &mut Unstructured, items: &[T]) -> T {
    let i = u.choose_index(items.len()).unwrap_or(0);
    items[i]
}

fn range(u: &mut Unstructured, lo: u64, hi: u64) -> u64 {
    u.int_in_range(lo..=hi).unwrap_or(lo)
}

fn chance(u: &mut Unstructured, num: u8, den: u8) -> bool {
    u.ratio(num, den).unwrap_or(false)
}

fn key(u: &mut Unstructured) -> Mask {
    let mut k = [0u8; 4];
    let _ = u.fill_buffer(&mut k);
    Mask::Key(crate::case::encode_hex(&k))
}

/// A payload length: mostly small, sometimes around the 7/16-bit boundaries.
fn payload_len(u: &mut Unstructured) -> usize {
    (match range(u, 0, 99) {
        0..=59 => range(u, 0, 16),
        60..=79 => range(u, 17, 125),
        80..=91 => range(u, 120, 300),
        92..=96 => range(u, 1000, 5000),
        _ => range(u, 65530, 65540),
    }) as usize
}

fn bytes(u: &mut Unstructured, n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    let _ = u.fill_buffer(&mut b);
    b
}

/// Valid UTF-8 of about `n` bytes, mostly ASCII with 2- to 4-byte characters mixed in.
fn text(u: &mut Unstructured, n: usize) -> Vec<u8> {
    const WIDE: [char; 8] = [
        'é',
        'ß',
        '€',
        'κ',
        '\u{fffd}',
        '\u{ffff}',
        '😀',
        '\u{10ffff}',
    ];
    let raw = bytes(u, n);
    let mut out = Vec::with_capacity(n + 4);
    for b in raw {
        if out.len() >= n {
            break;
        }
        if b < 224 {
            out.push(b' ' + b % 95);
        } else {
            let mut tmp = [0u8; 4];
            out.extend_from_slice(WIDE[usize::from(b % 8)].encode_utf8(&mut tmp).as_bytes());
        }
    }
    out
}

/// Text with one invalid sequence somewhere.
fn bad_text(u: &mut Unstructured, n: usize) -> Vec<u8> {
    const BAD: [&[u8]; 8] = [
        b"\xff",
        b"\xc0\xaf",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"\xe0\x80",
        b"\x80",
        b"\xf8\x88\x80\x80\x80",
        b"\xce",
    ];
    let mut t = text(u, n);
    let at = range(u, 0, t.len() as u64) as usize;
    // Insert at a character boundary so only the inserted bytes are bad.
    let at = (at..=t.len())
        .find(|&i| i == t.len() || (t[i] & 0xc0) != 0x80)
        .unwrap_or(t.len());
    let bad = pick(u, &BAD);
    t.splice(at..at, bad.iter().copied());
    t
}

fn send(opcode: u8, payload: Vec<u8>, fin: bool, mask: Mask) -> FrameStep {
    FrameStep {
        opcode: Opcode::Number(opcode),
        payload: Payload::from_bytes(&payload),
        fin,
        rsv: 0,
        mask,
        length: Length::Minimal,
        chop: None,
        sync: false,
    }
}

/// A fragmented message being sent: its opcode and the pieces still to go.
struct Open {
    pieces: std::collections::VecDeque<Vec<u8>>,
}

fn gen_sequence(u: &mut Unstructured, max_steps: usize) -> Sequence {
    let handshake = if chance(u, 1, 12) {
        Some(gen_handshake(u))
    } else {
        None
    };
    let n = range(u, 1, max_steps as u64) as usize;
    // Half of the sequences are valid throughout (to reach deep states); the others
    // break a rule once or twice, somewhere.
    let mut invalid_at = BTreeSet::new();
    if chance(u, 1, 2) {
        for _ in 0..range(u, 1, 2) {
            invalid_at.insert(range(u, 0, n as u64 - 1) as usize);
        }
    }
    let mut steps = Vec::with_capacity(n + 1);
    let mut open: Option<Open> = None;
    for i in 0..n {
        let step = if invalid_at.contains(&i) {
            gen_invalid(u, &mut open)
        } else {
            gen_valid(u, &mut open)
        };
        steps.push(step);
    }
    if chance(u, 7, 10) {
        let code = pick(
            u,
            &[
                None,
                Some(1000),
                Some(1000),
                Some(1001),
                Some(3000),
                Some(4999),
            ],
        );
        let reason = if code.is_some() && chance(u, 1, 3) {
            let n = range(u, 0, 20) as usize;
            Some(Payload::from_bytes(&text(u, n)))
        } else {
            None
        };
        steps.push(Step::Close(CloseStep { code, reason }));
    }
    Sequence { handshake, steps }
}

/// Chop small frames into separate writes now and then (big ones would cost a
/// system call per piece).
fn maybe_chop(u: &mut Unstructured, len: usize) -> Option<usize> {
    (len <= 512 && chance(u, 1, 10)).then(|| range(u, 1, 8) as usize)
}

/// A step a conformant server accepts: data (whole messages or fragments of one with
/// control frames in between), pings, unsolicited pongs.
fn gen_valid(u: &mut Unstructured, open: &mut Option<Open>) -> Step {
    match range(u, 0, 99) {
        // Data frames: continue the open message, or start a fragmented one.
        0..=44 => {
            let (op, piece, last) = match open.as_mut() {
                Some(o) => {
                    let p = o.pieces.pop_front().unwrap_or_default();
                    (0, p, o.pieces.is_empty())
                }
                None => {
                    let binary = chance(u, 1, 3);
                    let len = payload_len(u);
                    let payload = if binary { bytes(u, len) } else { text(u, len) };
                    let k = range(u, 1, 6) as usize;
                    let mut cuts: Vec<usize> = (1..k)
                        .map(|_| range(u, 0, payload.len() as u64) as usize)
                        .collect();
                    cuts.sort_unstable();
                    let mut pieces = std::collections::VecDeque::new();
                    let mut prev = 0;
                    for c in cuts.into_iter().chain([payload.len()]) {
                        pieces.push_back(payload[prev..c].to_vec());
                        prev = c;
                    }
                    let first = pieces.pop_front().unwrap_or_default();
                    let last = pieces.is_empty();
                    *open = Some(Open { pieces });
                    (if binary { 2 } else { 1 }, first, last)
                }
            };
            if last {
                *open = None;
            }
            let len = piece.len();
            let mut f = send(op, piece, last, key(u));
            f.chop = maybe_chop(u, len);
            Step::Send(f)
        }
        45..=64 => {
            let len = range(u, 0, 125) as usize;
            let payload = bytes(u, len);
            let mut f = send(9, payload, true, key(u));
            f.chop = maybe_chop(u, len);
            Step::Send(f)
        }
        65..=69 => {
            let len = range(u, 0, 125) as usize;
            let payload = bytes(u, len);
            Step::Send(send(10, payload, true, key(u)))
        }
        // A whole message the way the case model sends one.
        _ if open.is_none() => {
            let binary = chance(u, 1, 3);
            let len = payload_len(u);
            let payload = if binary { bytes(u, len) } else { text(u, len) };
            Step::Message(MessageStep {
                payload: Payload::from_bytes(&payload),
                binary,
                // At most about 128 frames per message.
                fragment_size: chance(u, 1, 2).then(|| (range(u, 1, 64) as usize).max(len / 128)),
                chop: maybe_chop(u, len),
                sync: false,
                compress: false,
            })
        }
        _ => {
            let len = range(u, 0, 125) as usize;
            let payload = bytes(u, len);
            Step::Send(send(9, payload, true, key(u)))
        }
    }
}

/// A step that breaks a rule: a frame with anything wrong with it, a bad close
/// payload, invalid UTF-8, a lying length, an oversized ping.
fn gen_invalid(u: &mut Unstructured, open: &mut Option<Open>) -> Step {
    match range(u, 0, 99) {
        0..=44 => Step::Send(gen_bad_frame(u)),
        45..=59 => Step::Send(gen_bad_close(u)),
        60..=74 => {
            let len = range(u, 0, 40) as usize;
            let payload = bad_text(u, len);
            let op = if open.is_some() { 0 } else { 1 };
            *open = None;
            Step::Send(send(op, payload, true, key(u)))
        }
        75..=89 => {
            let len = range(u, 0, 40) as usize;
            let payload = text(u, len);
            let mut f = send(1, payload, true, key(u));
            f.length = gen_claim(u, len as u64);
            Step::Send(f)
        }
        _ => {
            let len = range(u, 126, 130) as usize;
            let payload = bytes(u, len);
            Step::Send(send(9, payload, true, key(u)))
        }
    }
}

fn gen_claim(u: &mut Unstructured, actual: u64) -> Length {
    match range(u, 0, 9) {
        0..=3 => Length::Claim(actual + range(u, 1, 8)),
        4..=6 => Length::Claim(actual.saturating_sub(range(u, 1, 8))),
        7 => Length::Force16,
        8 => Length::Force64,
        _ => Length::Claim(pick(
            u,
            &[
                1 << 62,
                1 << 63,
                u64::MAX,
                (1 << 32) + 5,
                0x7fff_ffff_ffff_ffff,
            ],
        )),
    }
}

fn gen_bad_frame(u: &mut Unstructured) -> FrameStep {
    let opcode = if chance(u, 1, 2) {
        pick(u, &[3u8, 4, 5, 6, 7, 11, 12, 13, 14, 15])
    } else {
        range(u, 0, 15) as u8
    };
    let len = if chance(u, 1, 5) {
        range(u, 120, 140) as usize
    } else {
        range(u, 0, 24) as usize
    };
    let mut f = send(opcode, bytes(u, len), chance(u, 2, 3), key(u));
    if chance(u, 1, 3) {
        f.rsv = range(u, 1, 7) as u8;
    }
    if chance(u, 1, 4) {
        f.mask = Mask::None;
    }
    f.length = match range(u, 0, 9) {
        0 => Length::Force16,
        1 => Length::Force64,
        2 => gen_claim(u, len as u64),
        _ => Length::Minimal,
    };
    f.chop = maybe_chop(u, len);
    f
}

fn gen_bad_close(u: &mut Unstructured) -> FrameStep {
    let payload = match range(u, 0, 4) {
        0 => vec![0x03],
        1 => {
            let code: u16 = pick(
                u,
                &[0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535],
            );
            code.to_be_bytes().to_vec()
        }
        2 => {
            let mut p = 1000u16.to_be_bytes().to_vec();
            p.extend(bad_text(u, 4));
            p
        }
        3 => {
            let mut p = 1000u16.to_be_bytes().to_vec();
            p.extend(vec![b'x'; 124]);
            p
        }
        _ => {
            let code = range(u, 0, 65535) as u16;
            code.to_be_bytes().to_vec()
        }
    };
    send(8, payload, true, key(u))
}

fn gen_extension_offer(u: &mut Unstructured) -> String {
    const PARAMS: [&str; 6] = [
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_max_window_bits",
        "client_max_window_bits",
        "foo",
        "server_max_window_bits",
    ];
    const VALUES: [&str; 10] = ["8", "9", "10", "15", "16", "7", "08", "\"10\"", "abc", ""];
    let mut parts = Vec::new();
    for _ in 0..range(u, 1, 3) {
        let mut s = String::from(if chance(u, 5, 6) {
            "permessage-deflate"
        } else {
            "x-webkit-deflate-frame"
        });
        for _ in 0..range(u, 0, 3) {
            s.push_str("; ");
            s.push_str(pick(u, &PARAMS));
            if chance(u, 1, 2) {
                let v = pick(u, &VALUES);
                if !v.is_empty() {
                    s.push('=');
                    s.push_str(v);
                }
            }
        }
        parts.push(s);
    }
    parts.join(", ")
}

fn gen_handshake(u: &mut Unstructured) -> Handshake {
    let mut h = Handshake {
        expect: HandshakeExpect {
            outcome: HandshakeOutcome::Either,
            ..HandshakeExpect::default()
        },
        ..Handshake::default()
    };
    let set = |h: &mut Handshake, n: &str, v: String| h.set.push([n.to_string(), v]);
    for _ in 0..range(u, 1, 2) {
        match range(u, 0, 9) {
            0 => h.remove.push(
                pick(
                    u,
                    &[
                        "Sec-WebSocket-Key",
                        "Sec-WebSocket-Version",
                        "Upgrade",
                        "Connection",
                        "Host",
                    ],
                )
                .to_string(),
            ),
            1 => set(
                &mut h,
                "Sec-WebSocket-Version",
                pick(u, &["8", "12", "14", "abc", "13, 8", ""]).into(),
            ),
            2 => set(
                &mut h,
                "Sec-WebSocket-Key",
                pick(
                    u,
                    &[
                        "",
                        "short",
                        "dGhlIHNhbXBsZSBub25jZQ",
                        "!!!!!!!!!!!!!!!!!!!!!!==",
                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                    ],
                )
                .into(),
            ),
            3 => set(
                &mut h,
                "Upgrade",
                pick(u, &["websocket2", "WebSocket", "h2c", ""]).into(),
            ),
            4 => set(
                &mut h,
                "Connection",
                pick(u, &["close", "keep-alive", "Upgrade, keep-alive", ""]).into(),
            ),
            5 | 6 => {
                h.add
                    .push(["Sec-WebSocket-Extensions".into(), gen_extension_offer(u)]);
                h.expect.valid_deflate = true;
            }
            7 => h.add.push([
                "Sec-WebSocket-Protocol".into(),
                pick(u, &["chat", "chat, superchat", "", "a b", ","]).into(),
            ]),
            8 => {
                h.method = Some(pick(u, &["POST", "HEAD", "get"]).into());
            }
            _ => h.chop = Some(range(u, 1, 16) as usize),
        }
    }
    h
}

// ----- encoding steps the way the case player does -----------------------------------

/// One write (or, with `flush`, one write followed by a flush and a yield, so the
/// pieces of a chopped frame leave as separate segments).
#[derive(Debug, Clone)]
struct Piece {
    bytes: Vec<u8>,
    flush: bool,
    /// Frames that end in this piece.
    frames: u32,
}

/// A sequence ready to run: the final steps (with filler and closing close added as
/// the model asks), their bytes, and the model's prediction.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub handshake: Option<Handshake>,
    pub steps: Vec<Step>,
    pieces: Vec<Piece>,
    /// Frames the steps write.
    pub frames: u64,
    /// Every byte sent after the handshake, in order.
    pub stream: Vec<u8>,
    pub model: Model,
}

fn mask_key(m: &Mask, rng: &mut SplitMix) -> Option<[u8; 4]> {
    match m {
        Mask::Auto => Some(
            rng.next_u64().to_le_bytes()[..4]
                .try_into()
                .unwrap_or([0; 4]),
        ),
        Mask::None => None,
        Mask::Key(k) => crate::case::decode_hex(k)
            .ok()
            .and_then(|b| b.try_into().ok()),
    }
}

fn push_frame(out: &mut Vec<Piece>, wire: Vec<u8>, chop: Option<usize>, sync: bool) {
    match chop {
        Some(n) if n > 0 => {
            let count = wire.len().div_ceil(n);
            for (i, c) in wire.chunks(n).enumerate() {
                out.push(Piece {
                    bytes: c.to_vec(),
                    flush: true,
                    frames: u32::from(i + 1 == count),
                });
            }
        }
        _ => out.push(Piece {
            bytes: wire,
            flush: sync,
            frames: 1,
        }),
    }
}

/// Encode steps as the player would (the player's random mask keys come from `rng`).
fn encode(steps: &[Step], rng: &mut SplitMix) -> Vec<Piece> {
    let mut out = Vec::new();
    for s in steps {
        match s {
            Step::Send(f) => {
                let key = mask_key(&f.mask, rng);
                let wire = encode_frame(
                    f.fin,
                    f.rsv,
                    f.opcode.value(),
                    key,
                    f.length,
                    &f.payload.bytes(),
                );
                push_frame(&mut out, wire, f.chop, f.sync);
            }
            Step::Message(m) => {
                let payload = m.payload.bytes();
                let opcode = if m.binary { 2 } else { 1 };
                for (i, (piece, fin)) in
                    fragments(&payload, m.fragment_size).into_iter().enumerate()
                {
                    let op = if i == 0 { opcode } else { 0 };
                    let key = mask_key(&Mask::Auto, rng);
                    let wire = encode_frame(fin, 0, op, key, Length::Minimal, piece);
                    push_frame(&mut out, wire, m.chop, m.sync);
                }
            }
            Step::Close(c) => {
                let mut payload = Vec::new();
                if let Some(code) = c.code {
                    payload.extend_from_slice(&code.to_be_bytes());
                }
                if let Some(r) = &c.reason {
                    payload.extend(r.bytes());
                }
                let key = mask_key(&Mask::Auto, rng);
                push_frame(
                    &mut out,
                    encode_frame(true, 0, 8, key, Length::Minimal, &payload),
                    None,
                    false,
                );
            }
            // Raw bytes (the player masks them with the zero key when no frame header
            // step came before, which is how the fuzzer uses it).
            Step::FramePayload(p) => out.push(Piece {
                bytes: p.bytes(),
                flush: true,
                frames: 0,
            }),
            _ => {}
        }
    }
    // Merge consecutive pieces that need no flush of their own.
    let mut merged: Vec<Piece> = Vec::with_capacity(out.len());
    for p in out {
        match merged.last_mut() {
            Some(last) if !last.flush && !p.flush && last.bytes.len() < 64 << 10 => {
                last.bytes.extend_from_slice(&p.bytes);
                last.frames += p.frames;
            }
            _ => merged.push(p),
        }
    }
    merged
}

/// Finish a sequence: append filler for a frame whose length lies (so the stream ends
/// on a frame boundary) and a closing close frame when the connection would still be
/// open, then encode and model it. Mask keys come from `key_seed`, so the same
/// sequence always gives the same bytes.
pub fn prepare(seq: &Sequence, key_seed: u64) -> Prepared {
    let mut rng = SplitMix::new(key_seed);
    let mut steps = seq.steps.clone();
    let mut pieces = encode(&steps, &mut rng);
    let mut stream: Vec<u8> = Vec::with_capacity(pieces.iter().map(|p| p.bytes.len()).sum());
    for p in &pieces {
        stream.extend_from_slice(&p.bytes);
    }
    let mut m = model(&stream);
    let mut append =
        |step: Step, pieces: &mut Vec<Piece>, stream: &mut Vec<u8>, steps: &mut Vec<Step>| {
            for p in encode(std::slice::from_ref(&step), &mut rng) {
                stream.extend_from_slice(&p.bytes);
                pieces.push(p);
            }
            steps.push(step);
        };
    // Bounded: each round completes a frame header or a frame, or gives up.
    for _ in 0..16 {
        match m.end {
            ModelEnd::Open { pending: Some(n) } if n <= MAX_FILLER => {
                let filler = Step::FramePayload(Payload::from_bytes(&vec![0u8; n as usize]));
                append(filler, &mut pieces, &mut stream, &mut steps);
                m = model(&stream);
            }
            _ => break,
        }
    }
    if m.end == (ModelEnd::Open { pending: None }) {
        let close = Step::Close(CloseStep {
            code: Some(1000),
            reason: None,
        });
        append(close, &mut pieces, &mut stream, &mut steps);
        // A valid close on a frame boundary: the events stay, the server answers.
        m.end = ModelEnd::Closed { code: Some(1000) };
    }
    let frames = pieces.iter().map(|p| u64::from(p.frames)).sum();
    Prepared {
        handshake: seq.handshake.clone(),
        model: m,
        steps,
        pieces,
        frames,
        stream,
    }
}

// ----- the model: what a conformant echo server does --------------------------------

/// How a conformant echo server ends up after the bytes we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelEnd {
    /// Still open; `pending` bytes complete the frame being received (None: the
    /// stream ends on a frame boundary).
    Open { pending: Option<u64> },
    /// Our valid close frame arrived: the server answers it (with this code or none).
    Closed { code: Option<u16> },
    /// A rule was broken: the server fails the connection with one of these codes.
    Failed { codes: Vec<u16>, why: String },
    /// Conformant servers may legitimately differ.
    Unknown(String),
}

/// The model's prediction: the events a tester records, and the end state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub events: Vec<Event>,
    pub end: ModelEnd,
}

/// A conformant echo server (RFC 6455 server role, no extension) receiving `stream`:
/// pings answered, complete data messages echoed, and the connection failed at the
/// first broken rule (1002, 1007 for bad UTF-8, 1009 for a length over any sane
/// limit). Text is validated per frame, as the conformant servers in this crate and
/// tungstenite do.
pub fn model(stream: &[u8]) -> Model {
    let mut d = FrameDecoder::new(MODEL_MAX);
    d.push(stream);
    let mut events = Vec::new();
    let mut msg: Option<(u8, Vec<u8>)> = None;
    let mut utf8 = Utf8Validator::new();
    let fail = |events: Vec<Event>, codes: &[u16], why: &str| Model {
        events,
        end: ModelEnd::Failed {
            codes: codes.to_vec(),
            why: why.to_string(),
        },
    };
    loop {
        let f = match d.next_frame() {
            Err(_) => return fail(events, &[1009, 1002], "a length over any sane limit"),
            Ok(None) => {
                let end = match d.pending_header() {
                    Some((_, _, _, _, len)) if len > MODEL_AMBIGUOUS => {
                        ModelEnd::Unknown(format!("a frame of {len} bytes"))
                    }
                    Some((_, _, _, masked, len)) => {
                        // The pending frame starts where the decoder stopped; its
                        // header may use a longer length form than needed.
                        let start = stream.len() - d.buffered();
                        let ext = match stream.get(start + 1).map(|b| b & 0x7f) {
                            Some(126) => 2,
                            Some(127) => 8,
                            _ => 0,
                        };
                        let hdr = 2 + ext + if masked { 4 } else { 0 };
                        ModelEnd::Open {
                            pending: Some(
                                (hdr as u64 + len)
                                    .saturating_sub(d.buffered() as u64)
                                    .max(1),
                            ),
                        }
                    }
                    None if d.buffered() > 0 => ModelEnd::Open { pending: Some(1) },
                    None => ModelEnd::Open { pending: None },
                };
                return Model { events, end };
            }
            Ok(Some(f)) => f,
        };
        if f.declared_len > MODEL_AMBIGUOUS {
            return Model {
                events,
                end: ModelEnd::Unknown(format!("a frame of {} bytes", f.declared_len)),
            };
        }
        if f.mask.is_none() {
            return fail(events, &[1002], "unmasked client frame");
        }
        if f.rsv != 0 {
            return fail(events, &[1002], "RSV bits without an extension");
        }
        if matches!(f.opcode, 3..=7 | 11..=15) {
            return fail(events, &[1002], "reserved opcode");
        }
        if f.is_control() {
            if !f.fin || f.payload.len() > 125 {
                return fail(events, &[1002], "fragmented or oversized control frame");
            }
            match f.opcode {
                8 => {
                    return match f.payload.as_slice() {
                        [] => Model {
                            events,
                            end: ModelEnd::Closed { code: None },
                        },
                        [_] => fail(events, &[1002], "close payload of one byte"),
                        [a, b, reason @ ..] => {
                            let code = u16::from_be_bytes([*a, *b]);
                            if !close_code::is_valid_on_wire(code) {
                                fail(events, &[1002], "invalid close code")
                            } else if std::str::from_utf8(reason).is_err() {
                                fail(events, &[1007], "close reason not UTF-8")
                            } else {
                                Model {
                                    events,
                                    end: ModelEnd::Closed { code: Some(code) },
                                }
                            }
                        }
                    };
                }
                9 => events.push(Event::Pong(Payload::from_bytes(&f.payload))),
                _ => {}
            }
            continue;
        }
        let (opcode, mut buf) = match (f.opcode, msg.take()) {
            (0, Some(m)) => m,
            (0, None) => return fail(events, &[1002], "continuation without a message"),
            (_, Some(_)) => return fail(events, &[1002], "new message inside a fragmented one"),
            (op, None) => {
                utf8.reset();
                (op, Vec::new())
            }
        };
        if opcode == 1 {
            if let Utf8Status::Invalid { .. } = utf8.feed(&f.payload) {
                return fail(events, &[1007], "invalid UTF-8 in text");
            }
        }
        buf.extend_from_slice(&f.payload);
        if !f.fin {
            msg = Some((opcode, buf));
            continue;
        }
        if opcode == 1 && utf8.status() != (Utf8Status::Valid { complete: true }) {
            return fail(events, &[1007], "text ends inside a UTF-8 character");
        }
        events.push(Event::Message {
            payload: Payload::from_bytes(&buf),
            binary: opcode == 2,
        });
    }
}

// ----- checking what the server sends ---------------------------------------------

/// Validates the server's frames as they arrive; the first problem is kept.
struct ServerCheck {
    dec: FrameDecoder,
    msg: Option<(u8, Vec<u8>, bool)>,
    /// The server's close frame arrived (with its code).
    close: Option<Option<u16>>,
    problem: Option<String>,
    /// The byte stream cannot be parsed any further.
    broken: bool,
    pmd: Option<(PmdParams, flate2::Decompress)>,
    /// The text the probe waits for, and whether it arrived (compared on arrival,
    /// nothing kept: unsolicited texts can neither fill memory nor crowd it out).
    expect_text: Option<Vec<u8>>,
    echoed: bool,
}

impl ServerCheck {
    fn new(pmd: Option<PmdParams>) -> Self {
        ServerCheck {
            dec: FrameDecoder::new(MAX_SERVER_FRAME),
            msg: None,
            close: None,
            problem: None,
            broken: false,
            pmd: pmd.map(|p| (p, flate2::Decompress::new(false))),
            expect_text: None,
            echoed: false,
        }
    }

    fn push(&mut self, data: &[u8]) {
        if self.broken {
            return;
        }
        self.dec.push(data);
        // Bounded by the frames in the buffer.
        loop {
            match self.dec.next_frame() {
                // After the first problem only the close frame matters (it tells that
                // the server is ending the connection).
                Ok(Some(f)) if self.problem.is_some() => {
                    if f.opcode == 8 && self.close.is_none() {
                        self.close = Some(None);
                    }
                }
                Ok(Some(f)) => {
                    if let Err(p) = self.frame(f) {
                        self.problem = Some(p);
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    if self.problem.is_none() {
                        self.problem = Some(format!("server frame too large: {e}"));
                    }
                    self.broken = true;
                    return;
                }
            }
        }
    }

    fn frame(&mut self, f: crate::wire::frame::Frame) -> Result<(), String> {
        if self.close.is_some() {
            return Err(format!("frame after the server's close frame ({f})"));
        }
        if f.mask.is_some() {
            return Err(format!("masked server frame ({f})"));
        }
        if !f.minimal_length {
            return Err(format!("length not minimally encoded ({f})"));
        }
        let compressed_start = self.pmd.is_some() && f.rsv == 4 && matches!(f.opcode, 1 | 2);
        if f.rsv != 0 && !compressed_start {
            return Err(format!(
                "RSV bits set without an extension that defines them ({f})"
            ));
        }
        match f.opcode {
            8..=10 => {
                if !f.fin {
                    return Err(format!("fragmented control frame ({f})"));
                }
                if f.payload.len() > 125 {
                    return Err(format!("control frame longer than 125 bytes ({f})"));
                }
                if f.opcode == 8 {
                    let code = match f.payload.as_slice() {
                        [] => None,
                        [_] => return Err("close frame with a 1-byte payload".into()),
                        [a, b, reason @ ..] => {
                            let c = u16::from_be_bytes([*a, *b]);
                            if !close_code::is_valid_on_wire(c) {
                                return Err(format!("close code {c} may not be sent"));
                            }
                            if std::str::from_utf8(reason).is_err() {
                                return Err("close reason is not UTF-8".into());
                            }
                            Some(c)
                        }
                    };
                    self.close = Some(code);
                }
                Ok(())
            }
            0 => {
                let Some((op, mut buf, z)) = self.msg.take() else {
                    return Err("continuation frame without a message".into());
                };
                buf.extend_from_slice(&f.payload);
                self.data(op, buf, z, f.fin)
            }
            1 | 2 => {
                if self.msg.is_some() {
                    return Err("new data frame inside a fragmented message".into());
                }
                self.data(f.opcode, f.payload, compressed_start, f.fin)
            }
            op => Err(format!("reserved opcode {op} from the server")),
        }
    }

    fn data(&mut self, op: u8, buf: Vec<u8>, compressed: bool, fin: bool) -> Result<(), String> {
        if buf.len() as u64 > MAX_SERVER_FRAME {
            return Err("server message over 16 MiB".into());
        }
        if !fin {
            self.msg = Some((op, buf, compressed));
            return Ok(());
        }
        let plain = match (&mut self.pmd, compressed) {
            (Some((params, inflater)), true) => {
                if params.server_no_context_takeover {
                    *inflater = flate2::Decompress::new(false);
                }
                deflate::inflate_with(inflater, &buf, MAX_SERVER_FRAME as usize)
                    .map_err(|e| format!("compressed message does not inflate: {e}"))?
            }
            _ => buf,
        };
        if op == 1 {
            if std::str::from_utf8(&plain).is_err() {
                return Err("text message is not valid UTF-8".into());
            }
            if self.expect_text.as_ref() == Some(&plain) {
                self.echoed = true;
            }
        }
        Ok(())
    }
}

// ----- running one sequence --------------------------------------------------------

/// What one run of a sequence showed.
#[derive(Debug, Clone, Default)]
struct Observed {
    frames: u64,
    bytes: u64,
    /// The standard handshake did not complete (target unavailable).
    no_connection: Option<String>,
    finding: Option<(Kind, String)>,
    /// The target's bytes after the handshake (the first [`RECEIVED_CAP`]).
    received: Vec<u8>,
    /// Its answer to an altered handshake (head only).
    answer_head: Option<Vec<u8>>,
}

fn settings_for(opts: &Options) -> Settings {
    Settings {
        connect_timeout: opts.timeout,
        open_handshake_timeout: opts.timeout,
        ..Settings::default()
    }
}

/// Run a prepared sequence on a fresh connection and check the termination and
/// well-formedness oracles.
async fn execute(
    target: &Target,
    settings: &Settings,
    p: &Prepared,
    timeout: Duration,
) -> Observed {
    let mut obs = Observed::default();
    let hard = Instant::now() + SEQUENCE_CAP;
    let mut io = match conn::connect(target, settings).await {
        Ok(io) => io,
        Err(e) => {
            obs.no_connection = Some(e);
            return obs;
        }
    };
    let (leftover, pmd) = match &p.handshake {
        None => match conn::open(&mut io, target, settings).await {
            Ok(o) => (o.leftover, None),
            Err(f) => {
                obs.no_connection = Some(f.reason);
                return obs;
            }
        },
        Some(h) => {
            let key = crate::wire::handshake::generate_key();
            let request = opening::build_request(h, target, &key, &settings.user_agent);
            let answer =
                opening::exchange(&mut io, &request, h.chop, Duration::ZERO, settings, timeout)
                    .await;
            match answer {
                Answer::Response {
                    resp,
                    leftover,
                    head,
                } => {
                    obs.answer_head = Some(head[..resp.head_len.min(head.len())].to_vec());
                    let ok = resp.status == 101
                        && crate::wire::handshake::check_response(&resp, &key).is_ok();
                    if !ok {
                        // Refused (or a broken 101): the server must still end the
                        // connection once we end ours.
                        obs.finding = finish_after_fin(io, timeout).await;
                        return obs;
                    }
                    let offered = opening::request_header(&request, "Sec-WebSocket-Extensions");
                    match crate::engine::deflate_check::check(
                        &offered,
                        &resp.headers_named("Sec-WebSocket-Extensions"),
                        false,
                    ) {
                        Ok(pmd) => (leftover, pmd),
                        Err(e) => {
                            obs.finding = Some((
                                Kind::Malformed,
                                format!("invalid permessage-deflate answer: {e}"),
                            ));
                            return obs;
                        }
                    }
                }
                Answer::Closed { .. } => return obs,
                Answer::TimedOut { .. } => {
                    // A request written in full deserves an answer; either way the
                    // connection must end after our FIN.
                    obs.finding = finish_after_fin(io, timeout).await;
                    return obs;
                }
                Answer::Bad { why, .. } => {
                    obs.finding = Some((
                        Kind::Malformed,
                        format!("handshake answer does not parse: {why}"),
                    ));
                    return obs;
                }
            }
        }
    };
    let mut check = ServerCheck::new(pmd);
    check.push(&leftover);
    keep_received(&mut obs.received, &leftover);
    let must_answer_close = matches!(p.model.end, ModelEnd::Closed { .. });
    let (mut rd, wr) = tokio::io::split(io);
    let sent_frames = AtomicU64::new(0);
    let sent_bytes = AtomicU64::new(0);
    let pieces = &p.pieces;
    let (sf, sb) = (&sent_frames, &sent_bytes);
    let write_all = async move {
        let mut wr = wr;
        for piece in pieces {
            if wr.write_all(&piece.bytes).await.is_err() {
                return wr;
            }
            sf.fetch_add(u64::from(piece.frames), Ordering::Relaxed);
            sb.fetch_add(piece.bytes.len() as u64, Ordering::Relaxed);
            if piece.flush {
                let _ = wr.flush().await;
                tokio::task::yield_now().await;
            }
        }
        let _ = wr.flush().await;
        wr
    };
    tokio::pin!(write_all);
    #[derive(PartialEq)]
    enum Phase {
        Writing,
        AwaitClose,
        AwaitEof,
    }
    let mut phase = Phase::Writing;
    let mut writer: Option<tokio::io::WriteHalf<Box<dyn Io>>> = None;
    let mut deadline = hard;
    let mut buf = vec![0u8; 64 << 10];
    // Ends on EOF, a read error, the hard cap or a phase timeout.
    loop {
        tokio::select! {
            w = &mut write_all, if phase == Phase::Writing => {
                writer = Some(w);
                phase = Phase::AwaitClose;
                deadline = (Instant::now() + timeout).min(hard);
                // Only a valid close of ours must be answered; otherwise (the server
                // should have failed the connection, or may differ) our FIN goes at
                // once and the server must close after it.
                if check.close.is_some() || !must_answer_close {
                    phase = Phase::AwaitEof;
                    shutdown_by(&mut writer, deadline).await;
                }
            }
            r = rd.read(&mut buf) => match r {
                Ok(n) if n > 0 => {
                    check.push(&buf[..n]);
                    keep_received(&mut obs.received, &buf[..n]);
                    if phase == Phase::AwaitClose && check.close.is_some() {
                        phase = Phase::AwaitEof;
                        deadline = (Instant::now() + timeout).min(hard);
                        shutdown_by(&mut writer, deadline).await;
                    }
                }
                _ => break,
            },
            _ = sleep_until(deadline) => match phase {
                Phase::Writing => {
                    obs.finding = Some((Kind::Hang, format!("writing the sequence did not finish within {SEQUENCE_CAP:?} (the target stopped reading)")));
                    break;
                }
                Phase::AwaitClose => {
                    if must_answer_close && obs.finding.is_none() {
                        obs.finding = Some((Kind::Hang, format!("no close frame or TCP close within {timeout:?} after our close frame")));
                    }
                    phase = Phase::AwaitEof;
                    deadline = (Instant::now() + timeout).min(hard);
                    shutdown_by(&mut writer, deadline).await;
                }
                Phase::AwaitEof => {
                    if obs.finding.is_none() {
                        obs.finding = Some((Kind::Hang, format!("the connection stayed open {timeout:?} after our close and TCP FIN")));
                    }
                    break;
                }
            },
        }
    }
    obs.frames = sent_frames.load(Ordering::Relaxed);
    obs.bytes = sent_bytes.load(Ordering::Relaxed);
    if let Some(problem) = check.problem {
        // A hang is the later symptom; malformed output is what went wrong first.
        obs.finding = Some((Kind::Malformed, problem));
    }
    obs
}

fn keep_received(kept: &mut Vec<u8>, more: &[u8]) {
    let room = RECEIVED_CAP.saturating_sub(kept.len());
    kept.extend_from_slice(&more[..more.len().min(room)]);
}

/// Our TCP FIN, given up at `until`: with TLS, shutdown waits for buffered data and
/// close_notify to reach a socket the peer may have stopped reading.
async fn shutdown_by(writer: &mut Option<tokio::io::WriteHalf<Box<dyn Io>>>, until: Instant) {
    if let Some(w) = writer.as_mut() {
        let _ = tokio::time::timeout_at(until, w.shutdown()).await;
    }
}

/// After a refused or unanswered handshake: FIN, then the server must close.
async fn finish_after_fin(mut io: Box<dyn Io>, timeout: Duration) -> Option<(Kind, String)> {
    let deadline = Instant::now() + timeout;
    // Bounded too: with TLS, shutdown flushes to a peer that may not read.
    let _ = tokio::time::timeout_at(deadline, io.shutdown()).await;
    let mut buf = vec![0u8; 16 << 10];
    loop {
        match tokio::time::timeout_at(deadline, io.read(&mut buf)).await {
            Err(_) => {
                return Some((
                    Kind::Hang,
                    format!("after a refused or unanswered handshake the connection stayed open {timeout:?} after our TCP FIN"),
                ))
            }
            Ok(Ok(n)) if n > 0 => {}
            Ok(_) => return None,
        }
    }
}

/// The liveness probe: a fresh connection, the handshake, one echo, a close.
async fn probe(
    target: &Target,
    settings: &Settings,
    n: u64,
    timeout: Duration,
) -> Result<(), (Kind, String)> {
    let dead = |e: String| (Kind::Dead, format!("liveness probe failed: {e}"));
    let work = async {
        let mut io = conn::connect(target, settings).await.map_err(dead)?;
        let opened = conn::open(&mut io, target, settings)
            .await
            .map_err(|f| dead(f.reason))?;
        let msg = format!("wsspec netfuzz probe {n}");
        let key: [u8; 4] = (n as u32 ^ 0x5a5a_5a5a).to_le_bytes();
        let frame = encode_frame(true, 0, 1, Some(key), Length::Minimal, msg.as_bytes());
        io.write_all(&frame)
            .await
            .map_err(|e| dead(e.to_string()))?;
        let mut check = ServerCheck::new(None);
        check.expect_text = Some(msg.as_bytes().to_vec());
        check.push(&opened.leftover);
        let mut buf = vec![0u8; 16 << 10];
        // Each round reads at least one byte; the timeout bounds the whole.
        loop {
            if let Some(p) = check.problem.take() {
                return Err((Kind::Malformed, format!("in the liveness probe: {p}")));
            }
            if check.echoed {
                return Ok((io, check, key, buf));
            }
            match io.read(&mut buf).await {
                Ok(k) if k > 0 => check.push(&buf[..k]),
                _ => return Err(dead("connection closed before the echo".into())),
            }
        }
    };
    let (mut io, mut check, key, mut buf) = match tokio::time::timeout(timeout * 2, work).await {
        Err(_) => return Err(dead(format!("no echo within {:?}", timeout * 2))),
        Ok(r) => r?,
    };
    // The target is alive. Close politely and briefly wait for its close, so that it,
    // not us, closes TCP first (and keeps the TIME_WAIT).
    let close = encode_frame(
        true,
        0,
        8,
        Some(key),
        Length::Minimal,
        &1000u16.to_be_bytes(),
    );
    let _ = tokio::time::timeout(timeout.min(Duration::from_millis(500)), async {
        io.write_all(&close).await?;
        while check.close.is_none() {
            let k = io.read(&mut buf).await?;
            if k == 0 {
                break;
            }
            check.push(&buf[..k]);
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    Ok(())
}

/// Run a sequence and then the probe; the finding, if any (the probe's comes first:
/// a dead target is the most serious).
async fn check_once(
    target: &Target,
    settings: &Settings,
    p: &Prepared,
    n: u64,
    timeout: Duration,
) -> (Observed, Option<(Kind, String)>) {
    let obs = execute(target, settings, p, timeout).await;
    if obs.no_connection.is_some() {
        let f = probe(target, settings, n, timeout).await.err();
        return (obs, f);
    }
    let probe_result = probe(target, settings, n, timeout).await;
    let finding = match probe_result {
        Err((Kind::Dead, d)) => Some((Kind::Dead, d)),
        Err(other) => obs.finding.clone().or(Some(other)),
        Ok(()) => obs.finding.clone(),
    };
    (obs, finding)
}

// ----- shrinking ---------------------------------------------------------------------

/// Keeps the target reachable between runs (restart hook or waiting for recovery).
struct Keeper {
    target: Target,
    restart: Option<Box<dyn Lifecycle>>,
    insecure: bool,
    /// It died, had no restart hook and did not come back: stop asking.
    gone: bool,
    /// While confirming and shrinking a crash: how the process must end to count as
    /// the same crash (`None` inside: any way, e.g. not ours to watch).
    want_exit: Option<Option<crate::spawn::Exit>>,
    /// While confirming and shrinking other findings: the [`dedup_key`] of the detail,
    /// so that shrinking cannot wander off to another bug of the same kind.
    want_key: Option<String>,
    /// Fresh-target runs per crash-shrinking candidate (more for flaky crashes).
    crash_tries: u32,
}

impl Keeper {
    /// Bring up a fresh target through the lifecycle (false without one or on failure).
    async fn restart(&mut self) -> bool {
        let Some(life) = self.restart.as_mut() else {
            return false;
        };
        match life.restart().await {
            Ok(url) => match Target::parse(&url) {
                Ok(mut t) => {
                    t.insecure = self.insecure;
                    self.target = t;
                    true
                }
                Err(_) => false,
            },
            Err(_) => false,
        }
    }

    /// Whether crashes can be replayed on fresh targets.
    fn fresh(&self) -> bool {
        self.restart.as_ref().is_some_and(|l| l.fresh())
    }

    async fn post_mortem(&mut self) -> Option<PostMortem> {
        self.restart.as_mut()?.post_mortem().await
    }

    /// Make sure the target answers a probe; restart it if we can. False if it stays dead.
    async fn ensure_alive(&mut self, settings: &Settings, timeout: Duration) -> bool {
        if self.gone {
            return false;
        }
        if probe(&self.target, settings, 0, timeout).await.is_ok() {
            return true;
        }
        if self.restart.is_some() {
            return self.restart().await && probe(&self.target, settings, 0, timeout).await.is_ok();
        }
        // No hook: give it a few chances to come back by itself.
        for _ in 0..3 {
            tokio::time::sleep(timeout / 2).await;
            if probe(&self.target, settings, 0, timeout).await.is_ok() {
                return true;
            }
        }
        self.gone = true;
        false
    }
}

/// Does `seq` still fire `kind`? (Brings the target back first if needed.)
async fn fires(
    keeper: &mut Keeper,
    settings: &Settings,
    opts: &Options,
    seq: &Sequence,
    kind: Kind,
    key_seed: u64,
) -> Option<bool> {
    if kind == Kind::Dead && keeper.fresh() {
        return crash::fires(keeper, settings, opts, seq, key_seed).await;
    }
    if !keeper.ensure_alive(settings, opts.timeout).await {
        return None;
    }
    let p = prepare(seq, key_seed);
    let (_, f) = check_once(&keeper.target, settings, &p, 1, opts.timeout).await;
    Some(f.is_some_and(|(k, d)| {
        k == kind && keeper.want_key.as_ref().is_none_or(|w| *w == dedup_key(&d))
    }))
}

/// Smaller variants of one step (shorter payload, no chopping, no fragmenting).
fn simpler(step: &Step) -> Vec<Step> {
    let mut out = Vec::new();
    let shorter = |p: &Payload| -> Vec<Payload> {
        let b = p.bytes();
        if b.is_empty() {
            return Vec::new();
        }
        let mut v = vec![Payload::from_bytes(&[])];
        if b.len() > 1 {
            v.push(Payload::from_bytes(&b[..b.len() / 2]));
        }
        v
    };
    match step {
        Step::Send(f) => {
            if f.chop.is_some() {
                out.push(Step::Send(FrameStep {
                    chop: None,
                    ..f.clone()
                }));
            }
            if !matches!(f.length, Length::Claim(_)) {
                for p in shorter(&f.payload) {
                    out.push(Step::Send(FrameStep {
                        payload: p,
                        ..f.clone()
                    }));
                }
            }
        }
        Step::Message(m) => {
            if m.chop.is_some() || m.fragment_size.is_some() {
                out.push(Step::Message(MessageStep {
                    chop: None,
                    fragment_size: None,
                    ..m.clone()
                }));
            }
            // Halving text may cut a character: only shorten binary or ASCII.
            if m.binary || m.payload.bytes().is_ascii() {
                for p in shorter(&m.payload) {
                    out.push(Step::Message(MessageStep {
                        payload: p,
                        ..m.clone()
                    }));
                }
            }
        }
        _ => {}
    }
    out
}

/// Shrink `seq` while it keeps firing `kind`, within the run and time budgets.
async fn shrink(
    keeper: &mut Keeper,
    settings: &Settings,
    opts: &Options,
    seq: Sequence,
    kind: Kind,
    key_seed: u64,
    runs: &mut usize,
) -> Sequence {
    let deadline = Instant::now() + opts.shrink_time;
    let mut best = seq;
    let budget = |runs: &usize| *runs < opts.shrink_runs && Instant::now() < deadline;
    // Drop the handshake mutation if it is not needed.
    if best.handshake.is_some() && budget(runs) {
        let cand = Sequence {
            handshake: None,
            ..best.clone()
        };
        *runs += 1;
        match fires(keeper, settings, opts, &cand, kind, key_seed).await {
            Some(true) => best = cand,
            Some(false) => {}
            None => return best,
        }
    }
    // Remove runs of steps, halving the run length (delta debugging).
    let mut chunk = best.steps.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        while i < best.steps.len() && budget(runs) {
            let mut cand = best.clone();
            let end = (i + chunk).min(cand.steps.len());
            cand.steps.drain(i..end);
            if cand.steps.is_empty() {
                i += chunk;
                continue;
            }
            *runs += 1;
            match fires(keeper, settings, opts, &cand, kind, key_seed).await {
                Some(true) => best = cand,
                Some(false) => i += chunk,
                None => return best,
            }
        }
        if chunk == 1 || !budget(runs) {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    // Simplify the remaining steps one by one.
    let mut i = 0;
    while i < best.steps.len() && budget(runs) {
        let mut improved = false;
        for s in simpler(&best.steps[i]) {
            if !budget(runs) {
                break;
            }
            let mut cand = best.clone();
            cand.steps[i] = s;
            *runs += 1;
            match fires(keeper, settings, opts, &cand, kind, key_seed).await {
                Some(true) => {
                    best = cand;
                    improved = true;
                    break;
                }
                Some(false) => {}
                None => return best,
            }
        }
        if !improved {
            i += 1;
        }
    }
    best
}

// ----- writing the case --------------------------------------------------------------

/// FNV-1a, 64 bits: a stable name for a finding's content.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The case that replays a finding: the prepared steps, and what a conformant echo
/// server does with them as the expectation.
pub fn finding_case(p: &Prepared, kind: Kind, detail: &str, seed: u64, n: u64) -> Case {
    let hashed = serde_json::to_vec(&(&p.handshake, &p.steps)).unwrap_or_default();
    let id = format!("finding/{:016x}", fnv(&hashed));
    let (rfc, requirement) = match kind {
        Kind::Dead => (
            "RFC 6455 §7.1.7, §10.4",
            "Whatever a client sends, the server keeps serving: it fails a broken connection cleanly (close frame, then TCP close) and a fresh connection still gets its messages echoed.",
        ),
        Kind::Hang => (
            "RFC 6455 §7.1.1, §7.1.2",
            "The server answers a valid close frame with a close frame and closes the TCP connection; it never keeps a connection the client ended.",
        ),
        Kind::Malformed => (
            "RFC 6455 §5.1-5.6, §7.4, §8.1",
            "Everything the server sends is a valid server frame: unmasked, RSV 0, a known opcode, final control frames of at most 125 bytes, UTF-8 text, valid close codes.",
        ),
    };
    // The probe's error names a port: keep titles stable for a dead target.
    let title = match kind {
        Kind::Dead => {
            "netfuzz finding (target died): a fresh connection failed after these steps".to_string()
        }
        _ => format!("netfuzz finding ({}): {detail}", kind.as_str()),
    };
    let mut c = new_case(&id, &title)
        .rfc(rfc)
        .requirement(&format!(
            "{requirement} Found by `wsspec fuzz --seed {seed}`, sequence {n}."
        ))
        .build();
    c.steps = p.steps.clone();
    c.handshake = p.handshake.clone();
    c.expect.ok = p.model.events.clone();
    c.expect.close = match &p.model.end {
        ModelEnd::Closed { code } => ExpectClose {
            closed_by_me: true,
            codes: match code {
                Some(1000) | None => vec![1000],
                Some(c) => vec![*c, 1000],
            },
            require_clean: true,
            wrong_closer_fatal: false,
            wrong_code_fatal: false,
        },
        ModelEnd::Failed { codes, .. } => {
            peer_must_close(&mut c.steps, !p.model.events.is_empty());
            ExpectClose {
                closed_by_me: false,
                codes: codes.clone(),
                // Not required clean: tokio-tungstenite drops TCP without a close frame
                // on some protocol errors. A dead target fails `probe_after` instead.
                require_clean: false,
                wrong_closer_fatal: false,
                wrong_code_fatal: false,
            }
        }
        ModelEnd::Open { .. } | ModelEnd::Unknown(_) => {
            peer_must_close(&mut c.steps, !p.model.events.is_empty());
            ExpectClose {
                closed_by_me: false,
                codes: vec![1002, 1007, 1009],
                require_clean: false,
                wrong_closer_fatal: false,
                wrong_code_fatal: false,
            }
        }
    };
    c.probe_after = kind == Kind::Dead;
    c
}

/// For a case where the peer must fail the connection: our closing close frame goes
/// out as a plain frame (same bytes, but the tester does not become the closer: the
/// peer stopped reading at the broken rule before it), then a 2 s kill timer. When
/// replies are expected before the broken rule, a short pause goes before the step
/// that breaks it: a server that closes with our later bytes unread resets the
/// connection (tokio-tungstenite does), and a reset can destroy replies the tester
/// has not read yet.
fn peer_must_close(steps: &mut Vec<Step>, replies_first: bool) {
    if replies_first {
        if let Some(k) = first_violation(steps) {
            steps.insert(
                k,
                Step::Wait(WaitStep {
                    seconds: 0.2,
                    tag: None,
                }),
            );
        }
    }
    for s in steps.iter_mut() {
        if let Step::Close(c) = s {
            let mut payload = Vec::new();
            if let Some(code) = c.code {
                payload.extend_from_slice(&code.to_be_bytes());
            }
            if let Some(r) = &c.reason {
                payload.extend(r.bytes());
            }
            *s = Step::Send(FrameStep {
                opcode: Opcode::Named(OpName::Close),
                ..send(8, payload, true, Mask::Auto)
            });
        }
    }
    steps.push(Step::KillAfter(2.0));
}

/// Index of the step after which the model first says the connection fails.
fn first_violation(steps: &[Step]) -> Option<usize> {
    // Mask keys do not change the verdict: lying frames carry explicit keys.
    let mut stream = Vec::new();
    let mut rng = SplitMix::new(0);
    for (k, step) in steps.iter().enumerate() {
        for p in encode(std::slice::from_ref(step), &mut rng) {
            stream.extend_from_slice(&p.bytes);
        }
        if matches!(
            model(&stream).end,
            ModelEnd::Failed { .. } | ModelEnd::Unknown(_)
        ) {
            return Some(k);
        }
    }
    None
}

async fn verify(
    case: &Case,
    keeper: &mut Keeper,
    settings: &Settings,
    opts: &Options,
) -> Verification {
    let mut v = Verification::default();
    let run = |url: String| {
        let case = case.clone();
        let settings = settings.clone();
        async move {
            let t = Target::parse(&url).ok()?;
            let r = crate::engine::run_case(&t, &settings, &case, 0).await;
            Some(!crate::cli::is_failure(&r, false))
        }
    };
    if let Ok(s) = crate::server::start(0).await {
        v.reference_passes = run(s.url()).await;
    }
    if let Ok(s) = crate::faulty::start(crate::faulty::Fault::None).await {
        v.conformant_passes = run(s.url()).await;
    }
    if keeper.ensure_alive(settings, opts.timeout).await {
        let url = keeper.target.url.clone();
        let mut t = Target::parse(&url).ok();
        if let Some(t) = t.as_mut() {
            t.insecure = keeper.insecure;
        }
        if let Some(t) = t {
            let r = crate::engine::run_case(&t, settings, case, 0).await;
            v.target_fails = Some(crate::cli::is_failure(&r, false));
        }
    }
    v
}

// ----- the main loop ---------------------------------------------------------------

fn note(opts: &Options, msg: &str) {
    if !opts.quiet {
        eprintln!("wsspec fuzz: {msg}");
    }
}

/// Fuzz `opts.url` for `opts.duration`. `restart`, when given, brings a dead target
/// back (and may move it: it returns the new URL). Errors are harness errors (bad URL,
/// target unreachable at the start, output directory not writable).
pub async fn run(opts: &Options, restart: Option<Restart>) -> Result<Summary, Error> {
    let life = restart.map(|r| Box::new(life::Hook(r)) as Box<dyn Lifecycle>);
    run_with(opts, life).await
}

/// [`run`] with a target that wsspec starts or restarts itself ([`Spawned`],
/// [`RestartCommand`]): crashes are confirmed, shrunk and counted on fresh targets,
/// deduplicated by how the process ended and its last output, and reported with both.
pub async fn run_with(opts: &Options, life: Option<Box<dyn Lifecycle>>) -> Result<Summary, Error> {
    let mut restart = life;
    let mut target = Target::parse(&opts.url)?;
    target.insecure = opts.insecure;
    let settings = settings_for(opts);
    if let Err((_, e)) = probe(&target, &settings, 0, opts.timeout).await {
        // A server we started may have died of the probe itself: say how.
        let mut how = String::new();
        if let Some(pm) = match restart.as_mut() {
            Some(l) => l.post_mortem().await.filter(|pm| pm.exit.is_some()),
            None => None,
        } {
            how = format!("; {}{}", pm.describe(), crate::spawn::tail_text(&pm.tail));
        }
        return Err(Error::Target(format!(
            "{} does not answer a handshake and an echo before fuzzing: {e}{how}",
            opts.url
        )));
    }
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| Error::Io(format!("creating {}: {e}", opts.out.display())))?;
    let mut keeper = Keeper {
        target,
        restart,
        insecure: opts.insecure,
        gone: false,
        want_exit: None,
        want_key: None,
        crash_tries: 1,
    };
    let mut summary = Summary {
        seed: opts.seed,
        ..Summary::default()
    };
    let t0 = Instant::now();
    let mut fuzz_time = Duration::ZERO;
    let mut seen: BTreeSet<(Kind, String)> = BTreeSet::new();
    let mut last_progress = Instant::now();
    let mut n: u64 = 0;
    let mut previous: Option<(u64, Sequence)> = None;
    while fuzz_time < opts.duration {
        let t_seq = Instant::now();
        n += 1;
        let seq = generate(opts.seed, n, opts.max_steps);
        let key_seed = opts.seed ^ n;
        let p = prepare(&seq, key_seed);
        let (obs, finding) = check_once(&keeper.target, &settings, &p, n, opts.timeout).await;
        summary.sequences += 1;
        summary.frames += obs.frames;
        summary.bytes += obs.bytes;
        fuzz_time += t_seq.elapsed();
        if !opts.quiet && last_progress.elapsed() > Duration::from_secs(5) {
            last_progress = Instant::now();
            note(
                opts,
                &format!(
                    "{} sequences, {} frames, {:.0} frames/s, {} findings",
                    summary.sequences,
                    summary.frames,
                    summary.frames as f64 / fuzz_time.as_secs_f64().max(1e-9),
                    summary.findings.len()
                ),
            );
        }
        let Some((kind, mut detail)) = finding else {
            previous = Some((n, seq));
            continue;
        };
        // The connection could not even be opened: the previous sequence killed it.
        let (n_found, seq_found) = match (&obs.no_connection, &previous) {
            (Some(_), Some((pn, ps))) => (*pn, ps.clone()),
            _ => (n, seq),
        };
        // A dead target is one finding per way of dying (signal and last output when
        // wsspec watches the process), whatever the probe's error said.
        let mut crash_info = None;
        let dedup = match kind {
            Kind::Dead => {
                crash_info = keeper.post_mortem().await;
                match &crash_info {
                    Some(pm) => {
                        detail = crash::detail(pm, &detail);
                        (kind, pm.signature())
                    }
                    None => (kind, String::new()),
                }
            }
            _ => (kind, dedup_key(&detail)),
        };
        if seen.contains(&dedup) {
            summary.duplicates += 1;
            if kind == Kind::Dead && !keeper.ensure_alive(&settings, opts.timeout).await {
                summary.stopped = Some("the target died and did not come back".into());
                break;
            }
            continue;
        }
        seen.insert(dedup);
        note(
            opts,
            &format!(
                "sequence {n_found}: {}: {detail}; confirming and shrinking",
                kind.as_str()
            ),
        );
        let f = handle_finding(
            &mut keeper,
            &settings,
            opts,
            seq_found,
            n_found,
            kind,
            detail,
            crash_info,
            fuzz_time,
        )
        .await?;
        note(
            opts,
            &format!(
                "wrote {} ({} -> {} steps, {} runs)",
                f.path.display(),
                f.steps_before,
                f.steps_after,
                f.shrink_runs
            ),
        );
        summary.findings.push(f);
        if summary.findings.len() >= opts.max_findings {
            summary.stopped = Some(format!("{} findings (--max-findings)", opts.max_findings));
            break;
        }
        if !keeper.ensure_alive(&settings, opts.timeout).await {
            summary.stopped = Some("the target died and did not come back".into());
            break;
        }
        previous = None;
    }
    summary.fuzz_time = fuzz_time;
    summary.total_time = t0.elapsed();
    Ok(summary)
}

/// Details without numbers, so the same bug with other sizes counts once.
fn dedup_key(detail: &str) -> String {
    let head = detail.split(" (").next().unwrap_or_default();
    let mut out = String::with_capacity(head.len());
    for c in head.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn handle_finding(
    keeper: &mut Keeper,
    settings: &Settings,
    opts: &Options,
    seq: Sequence,
    n: u64,
    kind: Kind,
    detail: String,
    crash_info: Option<PostMortem>,
    found_after: Duration,
) -> Result<Finding, Error> {
    let key_seed = opts.seed ^ n;
    let before = prepare(&seq, key_seed).steps.len();
    let mut runs = 1;
    let crash_on_fresh = kind == Kind::Dead && keeper.fresh();
    if crash_on_fresh {
        keeper.want_exit = Some(crash_info.as_ref().and_then(|pm| pm.exit));
    } else if kind != Kind::Dead {
        keeper.want_key = Some(dedup_key(&detail));
    }
    let (confirmed, first_rate) = if crash_on_fresh {
        // How often the original kills a fresh target (0: it needs the state earlier
        // sequences left) decides how often each shrinking candidate is tried.
        let r = crash::rate(keeper, settings, opts, &seq, key_seed, crash::REPRO_RUNS).await;
        keeper.crash_tries = crash::tries_for(r.hits, r.runs);
        runs = r.runs as usize;
        (r.hits > 0, Some(r))
    } else {
        let fired = fires(keeper, settings, opts, &seq, kind, key_seed).await;
        (matches!(fired, Some(true)), None)
    };
    let shrink_it = confirmed;
    let shrunk = if shrink_it {
        shrink(keeper, settings, opts, seq, kind, key_seed, &mut runs).await
    } else {
        seq
    };
    let p = prepare(&shrunk, key_seed);
    let case = finding_case(&p, kind, &detail, opts.seed, n);
    let path = write_case(&opts.out, &case)?;
    // The reproduction rate of what is reported, and the target's answer to it.
    let mut answer_head = None;
    let (reproduced, crash, received) = if crash_on_fresh {
        let r = match first_rate {
            Some(r) if !shrink_it => r,
            _ => crash::rate(keeper, settings, opts, &shrunk, key_seed, crash::REPRO_RUNS).await,
        };
        let pm = r.post_mortem.or(crash_info);
        (Some((r.hits, r.runs)), pm, r.received)
    } else {
        let received = if keeper.ensure_alive(settings, opts.timeout).await {
            let obs = check_once(&keeper.target, settings, &p, 1, opts.timeout)
                .await
                .0;
            answer_head = obs.answer_head;
            obs.received
        } else {
            Vec::new()
        };
        (None, crash_info, received)
    };
    keeper.want_exit = None;
    keeper.want_key = None;
    keeper.crash_tries = 1;
    let verification = if opts.verify {
        verify(&case, keeper, settings, opts).await
    } else {
        Verification::default()
    };
    let mut finding = Finding {
        kind,
        detail,
        sequence: n,
        case_id: case.id.clone(),
        path,
        steps_before: before,
        steps_after: p.steps.len(),
        shrink_runs: runs,
        confirmed: confirmed || reproduced.is_some_and(|(h, _)| h > 0),
        verification,
        found_after,
        crash,
        reproduced,
        report: None,
        reproducer: None,
    };
    let command = keeper.restart.as_ref().and_then(|l| l.command());
    let (md, py) = bugreport::write(
        &opts.out,
        &bugreport::Input {
            finding: &finding,
            prepared: &p,
            url: &keeper.target.url,
            command: command.as_deref(),
            received: &received,
            answer_head: answer_head.as_deref(),
            seed: opts.seed,
        },
    )?;
    finding.report = Some(md);
    finding.reproducer = Some(py);
    Ok(finding)
}

/// Write a case file `<dir>/<hash>.json` (the id's last part).
pub fn write_case(dir: &Path, case: &Case) -> Result<PathBuf, Error> {
    let name = case.id.rsplit('/').next().unwrap_or("finding");
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(case)
        .map_err(|e| Error::Io(format!("serialising {}: {e}", case.id)))?;
    std::fs::write(&path, text + "\n")
        .map_err(|e| Error::Io(format!("writing {}: {e}", path.display())))?;
    Ok(path)
}

/// Parse `10`, `10s`, `500ms`, `2m` into a duration.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 30s, 500ms, 2m)"))?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" => v,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (ms, s, m, h)")),
    };
    if !(secs.is_finite() && secs > 0.0 && secs <= 7.0 * 86400.0) {
        return Err(format!(
            "`{s}` is out of range (more than 0, at most a week)"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_varied() {
        let a = generate(7, 1, 32);
        assert_eq!(a, generate(7, 1, 32));
        assert_ne!(a, generate(7, 2, 32));
        let mut kinds = BTreeSet::new();
        for n in 0..300 {
            for s in generate(1, n, 32).steps {
                kinds.insert(match s {
                    Step::Send(f) => format!("op{}", f.opcode.value()),
                    Step::Message(_) => "message".into(),
                    Step::Close(_) => "close".into(),
                    _ => "other".into(),
                });
            }
        }
        for k in [
            "op0", "op1", "op2", "op3", "op8", "op9", "op10", "op15", "message", "close",
        ] {
            assert!(kinds.contains(k), "{k} never generated: {kinds:?}");
        }
    }

    #[test]
    fn prepared_sequences_end_on_a_frame_boundary() {
        for n in 0..300 {
            let p = prepare(&generate(3, n, 32), n);
            assert!(
                !matches!(p.model.end, ModelEnd::Open { .. }),
                "sequence {n} left open: {:?}",
                p.model.end
            );
            assert_eq!(
                encode(&p.steps, &mut SplitMix::new(n))
                    .iter()
                    .map(|x| x.bytes.len())
                    .sum::<usize>(),
                p.stream.len()
            );
        }
    }

    #[test]
    fn model_follows_the_rfc() {
        let k = Some([1, 2, 3, 4]);
        let f = |fin, op, p: &[u8]| encode_frame(fin, 0, op, k, Length::Minimal, p);
        let mut s = f(false, 1, b"He");
        s.extend(f(true, 9, b"p"));
        s.extend(f(true, 0, b"llo"));
        s.extend(f(true, 8, &1000u16.to_be_bytes()));
        let m = model(&s);
        assert_eq!(
            m.events,
            vec![
                Event::Pong(Payload::Text("p".into())),
                Event::Message {
                    payload: Payload::Text("Hello".into()),
                    binary: false
                }
            ]
        );
        assert_eq!(m.end, ModelEnd::Closed { code: Some(1000) });
        let m = model(&encode_frame(true, 0, 1, None, Length::Minimal, b"x"));
        assert!(matches!(m.end, ModelEnd::Failed { ref codes, .. } if codes == &[1002]));
        let m = model(&f(true, 1, b"\xff"));
        assert!(matches!(m.end, ModelEnd::Failed { ref codes, .. } if codes == &[1007]));
        let m = model(&encode_frame(true, 0, 1, k, Length::Claim(10), b"abc"));
        assert_eq!(m.end, ModelEnd::Open { pending: Some(7) });
        let m = model(&encode_frame(true, 0, 2, k, Length::Claim(u64::MAX), b""));
        assert!(matches!(m.end, ModelEnd::Failed { .. }));
    }

    #[test]
    #[ignore]
    fn bench_generation() {
        let t = std::time::Instant::now();
        let seqs: Vec<Sequence> = (0..2000).map(|n| generate(1, n, 32)).collect();
        eprintln!("generated in {:?}", t.elapsed());
        let t = std::time::Instant::now();
        for (n, s) in seqs.iter().enumerate() {
            let _ = encode(&s.steps, &mut SplitMix::new(n as u64));
        }
        eprintln!("encoded in {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let mut frames = 0;
        for n in 0..2000 {
            let p = prepare(&generate(1, n, 32), n);
            frames += p.frames;
        }
        eprintln!(
            "2000 sequences prepared in {:?}, {frames} frames",
            t.elapsed()
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("x").is_err());
        assert!(parse_duration("5y").is_err());
    }

    #[test]
    fn server_check_catches_malformed_frames() {
        let bad: [&[u8]; 6] = [
            &[0x81, 0x81, 1, 2, 3, 4, b'x' ^ 1],
            &[0xc1, 0x01, b'x'],
            &[0x83, 0x00],
            &[0x09, 0x00],
            &[0x88, 0x02, 0x03, 0xed],
            &[0x81, 0x01, 0xff],
        ];
        for b in bad {
            let mut c = ServerCheck::new(None);
            c.push(b);
            assert!(c.problem.is_some(), "{b:02x?}");
        }
        let mut c = ServerCheck::new(None);
        c.expect_text = Some(b"hi!".to_vec());
        // An unsolicited text first, then the fragmented "hi!" with a ping inside.
        c.push(&[0x81, 0x02, b'n', b'o']);
        assert!(!c.echoed);
        c.push(&[
            0x01, 0x02, b'h', b'i', 0x89, 0x00, 0x80, 0x01, b'!', 0x88, 0x02, 0x03, 0xe8,
        ]);
        assert_eq!(c.problem, None);
        assert!(c.echoed);
        assert_eq!(c.close, Some(Some(1000)));
    }
}
