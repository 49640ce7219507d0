//! A few-words builder for cases that need computation (generated payloads, size
//! tables). It produces exactly the same [`Case`] value a JSON file does:
//!
//! ```
//! use wsspec::case::builder::*;
//! let c = case("2.5", "Send a ping with a 126-byte payload")
//!     .rfc("RFC 6455 §5.5")
//!     .requirement("A control frame longer than 125 bytes MUST fail the connection.")
//!     .send(ping(rep_hex("fe", 126)))
//!     .kill_after(1.0)
//!     .expect_events([])
//!     .peer_fails([1002])
//!     .build();
//! assert_eq!(c.steps.len(), 2);
//! ```
// A vocabulary: the catalogue uses part of it, the tests and the fuzz targets the rest.
#![cfg_attr(not(feature = "internals"), allow(dead_code))]

use super::*;

/// Start a case.
pub fn case(id: &str, title: &str) -> CaseBuilder {
    CaseBuilder {
        case: Case {
            id: id.into(),
            title: title.into(),
            rfc: String::new(),
            requirement: String::new(),
            level: Level::Must,
            steps: Vec::new(),
            expect: Expect {
                ok: Vec::new(),
                non_strict: None,
                close: tester_closes_clean(),
                informational: false,
                tx_frames: None,
                fresh_masks: false,
            },
            handshake: None,
            probe_after: false,
            timing: None,
            deflate: None,
            trace: TraceMode::Full,
            timed: false,
            role: None,
            answer: None,
        },
    }
}

/// The common close expectation: the tester closes with 1000 and the handshake is clean.
pub fn tester_closes_clean() -> ExpectClose {
    ExpectClose {
        closed_by_me: true,
        codes: vec![1000],
        require_clean: true,
        wrong_closer_fatal: false,
        wrong_code_fatal: false,
    }
}

pub struct CaseBuilder {
    case: Case,
}

impl CaseBuilder {
    pub fn rfc(mut self, r: &str) -> Self {
        self.case.rfc = r.into();
        self
    }
    pub fn requirement(mut self, r: &str) -> Self {
        self.case.requirement = r.into();
        self
    }
    pub fn level(mut self, l: Level) -> Self {
        self.case.level = l;
        self
    }
    pub fn step(mut self, s: Step) -> Self {
        self.case.steps.push(s);
        self
    }
    pub fn send(self, f: FrameStep) -> Self {
        self.step(Step::Send(f))
    }
    pub fn message(self, m: MessageStep) -> Self {
        self.step(Step::Message(m))
    }
    pub fn close(self, code: Option<u16>, reason: Option<Payload>) -> Self {
        self.step(Step::Close(CloseStep { code, reason }))
    }
    pub fn wait(self, seconds: f64, tag: Option<&str>) -> Self {
        self.step(Step::Wait(WaitStep {
            seconds,
            tag: tag.map(Into::into),
        }))
    }
    pub fn kill_after(self, s: f64) -> Self {
        self.step(Step::KillAfter(s))
    }
    pub fn close_after(self, s: f64) -> Self {
        self.step(Step::CloseAfter(s))
    }
    /// The events a strictly conformant peer produces.
    pub fn expect_events(mut self, ev: impl IntoIterator<Item = Event>) -> Self {
        self.case.expect.ok = ev.into_iter().collect();
        self
    }
    /// An acceptable, non-strict alternative.
    pub fn non_strict(mut self, ev: impl IntoIterator<Item = Event>) -> Self {
        self.case.expect.non_strict = Some(ev.into_iter().collect());
        self
    }
    /// The tester closes with 1000 after the events; the handshake must be clean.
    pub fn tester_closes(mut self) -> Self {
        self.case.expect.close = tester_closes_clean();
        self
    }
    /// The peer must fail the connection (close with one of `codes`, or drop TCP).
    pub fn peer_fails(mut self, codes: impl IntoIterator<Item = u16>) -> Self {
        self.case.expect.close = ExpectClose {
            closed_by_me: false,
            codes: codes.into_iter().collect(),
            require_clean: false,
            wrong_closer_fatal: false,
            wrong_code_fatal: false,
        };
        self
    }
    pub fn close_expect(mut self, c: ExpectClose) -> Self {
        self.case.expect.close = c;
        self
    }
    /// If the wrong endpoint closes, `behavior` is FAILED too.
    pub fn wrong_closer_fatal(mut self) -> Self {
        self.case.expect.close.wrong_closer_fatal = true;
        self
    }
    pub fn informational(mut self) -> Self {
        self.case.expect.informational = true;
        self
    }
    pub fn tx_frames(mut self, counts: impl IntoIterator<Item = (u8, u64)>) -> Self {
        self.case.expect.tx_frames = Some(counts.into_iter().collect());
        self
    }
    pub fn build(self) -> Case {
        self.case
    }
}

/// A frame with this opcode and payload, FIN set, masked as the role requires.
pub fn frame(opcode: u8, payload: impl Into<Payload>) -> FrameStep {
    FrameStep {
        opcode: Opcode::Number(opcode),
        payload: payload.into(),
        fin: true,
        rsv: 0,
        mask: Mask::Auto,
        length: Length::Minimal,
        chop: None,
        sync: false,
    }
}
pub fn cont(p: impl Into<Payload>) -> FrameStep {
    named(OpName::Continuation, p)
}
pub fn text(p: impl Into<Payload>) -> FrameStep {
    named(OpName::Text, p)
}
pub fn binary(p: impl Into<Payload>) -> FrameStep {
    named(OpName::Binary, p)
}
pub fn ping(p: impl Into<Payload>) -> FrameStep {
    named(OpName::Ping, p)
}
pub fn pong(p: impl Into<Payload>) -> FrameStep {
    named(OpName::Pong, p)
}
pub fn close_frame(p: impl Into<Payload>) -> FrameStep {
    named(OpName::Close, p)
}
fn named(n: OpName, p: impl Into<Payload>) -> FrameStep {
    FrameStep {
        opcode: Opcode::Named(n),
        ..frame(0, p)
    }
}

impl FrameStep {
    pub fn not_final(mut self) -> Self {
        self.fin = false;
        self
    }
    pub fn rsv(mut self, r: u8) -> Self {
        self.rsv = r;
        self
    }
    pub fn chop(mut self, n: usize) -> Self {
        self.chop = Some(n);
        self
    }
    pub fn sync(mut self) -> Self {
        self.sync = true;
        self
    }
    pub fn unmasked(mut self) -> Self {
        self.mask = Mask::None;
        self
    }
    pub fn length(mut self, l: Length) -> Self {
        self.length = l;
        self
    }
}

/// A text (or binary) message, optionally fragmented.
pub fn message(p: impl Into<Payload>, binary: bool, fragment_size: Option<usize>) -> MessageStep {
    MessageStep {
        payload: p.into(),
        binary,
        fragment_size,
        chop: None,
        sync: false,
        compress: false,
    }
}

/// `["message", payload, false]`
pub fn echo_text(p: impl Into<Payload>) -> Event {
    Event::Message {
        payload: p.into(),
        binary: false,
    }
}
/// `["message", payload, true]`
pub fn echo_binary(p: impl Into<Payload>) -> Event {
    Event::Message {
        payload: p.into(),
        binary: true,
    }
}
/// `["pong", payload]`
pub fn got_pong(p: impl Into<Payload>) -> Event {
    Event::Pong(p.into())
}
/// `["timeout", tag]`
pub fn timeout(tag: &str) -> Event {
    Event::Timeout(tag.into())
}

/// `pattern` repeated to `len` bytes.
pub fn rep(pattern: &str, len: usize) -> Payload {
    Payload::Repeat {
        repeat: pattern.into(),
        len,
    }
}
/// A hex byte pattern repeated to `len` bytes.
pub fn rep_hex(pattern: &str, len: usize) -> Payload {
    Payload::RepeatHex {
        repeat_hex: pattern.into(),
        len,
    }
}
/// Exact bytes given as hex.
pub fn hex(h: &str) -> Payload {
    Payload::Hex { hex: h.into() }
}

impl From<&str> for Payload {
    fn from(s: &str) -> Self {
        Payload::Text(s.into())
    }
}
impl From<&[u8]> for Payload {
    fn from(b: &[u8]) -> Self {
        Payload::from_bytes(b)
    }
}
impl From<Vec<u8>> for Payload {
    fn from(b: Vec<u8>) -> Self {
        Payload::from_bytes(&b)
    }
}
