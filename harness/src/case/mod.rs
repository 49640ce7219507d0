//! The case model: one [`Case`] value, whether it was written as JSON in `cases/`
//! or built in Rust (see [`builder`]) because its payload needs computing.
//!
//! A case is a list of [`Step`]s the tester performs on one fresh connection and an
//! [`Expect`] that says how Autobahn would judge what the peer did. The serde model
//! *is* the JSON format documented in `cases/README.md`.

pub mod builder;
pub mod dataset;
pub mod json;
pub mod select;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One conformance case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Stable id: Autobahn's number (`"6.4.3"`) for its catalogue, a slug for ours.
    pub id: String,
    /// One line saying what the tester does.
    pub title: String,
    /// Where the rule lives, e.g. `"RFC 6455 §5.5"`.
    pub rfc: String,
    /// The requirement restated as what a conformant peer does.
    pub requirement: String,
    /// Requirement level of the rule checked.
    #[serde(default)]
    pub level: Level,
    /// What the tester does, in order.
    pub steps: Vec<Step>,
    /// How the outcome is judged.
    pub expect: Expect,
    /// A custom opening handshake and how its response is judged (our handshake and
    /// negotiation sections). Without it, the standard request is sent and must succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake: Option<Handshake>,
    /// Destructive case: afterwards a fresh connection must still get an echo
    /// (liveness probe); such cases run last, one at a time.
    #[serde(default, skip_serializing_if = "is_false")]
    pub probe_after: bool,
    /// A growth measurement instead of steps (ReDoS-style cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// permessage-deflate the case needs: what the tester offers (as client) and what it
    /// accepts (as server). When the peer does not negotiate it, the case is
    /// UNIMPLEMENTED and the tester closes at once (Autobahn 12.x/13.x).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deflate: Option<DeflateSpec>,
    /// How much of the wire trace to keep.
    #[serde(default, skip_serializing_if = "is_default")]
    pub trace: TraceMode,
    /// A measured case (Autobahn section 9): runs alone after the concurrent batch, so
    /// its duration and throughput are not shared with other cases.
    #[serde(default, skip_serializing_if = "is_false")]
    pub timed: bool,
    /// Only when wsspec plays this role (`client`: the case tests a server; `server`:
    /// it tests a client). Without it the case serves both roles, except that opening
    /// handshake, timing and destructive cases test servers only (see [`Case::plays_as`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<crate::rules::Role>,
    /// The tester's opening response as changes to the standard 101 (wsspec as server:
    /// cases on how a client checks the response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
}

/// The opening response wsspec sends as server, as changes to the standard one
/// (`HTTP/1.1 101 Switching Protocols`, `Upgrade: websocket`, `Connection: Upgrade`,
/// `Sec-WebSocket-Accept`, `Server`). In values, `{accept}` is the correct
/// `Sec-WebSocket-Accept` for the client's key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// Status code instead of 101.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Reason phrase (default: the standard one for the status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Standard headers left out (names, any case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// Standard headers given another value (or added if not standard): `[name, value]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<[String; 2]>,
    /// Headers appended (duplicates allowed): `[name, value]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<[String; 2]>,
    /// Send the response and the first frames of the steps in one write.
    #[serde(default, skip_serializing_if = "is_false")]
    pub coalesce: bool,
}

impl Case {
    /// Whether wsspec can play this case in `role`.
    pub fn plays_as(&self, role: crate::rules::Role) -> bool {
        use crate::rules::Role;
        match role {
            Role::Client => self.role != Some(Role::Server) && self.answer.is_none(),
            Role::Server => {
                self.role != Some(Role::Client)
                    && self.handshake.is_none()
                    && self.timing.is_none()
                    && !self.probe_after
            }
        }
    }
}

/// The permessage-deflate negotiation a case needs, for either role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeflateSpec {
    /// Offers the tester makes as a client, in order (each a full
    /// `permessage-deflate; …` element of `Sec-WebSocket-Extensions`).
    pub offer: Vec<String>,
    /// What the tester accepts as a server, tried in order against the client's offers
    /// (used by the server role).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<DeflateAccept>,
}

/// One accept rule of the tester as server: ask the client for these settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeflateAccept {
    /// Ask the client not to take over its compression context.
    #[serde(default, skip_serializing_if = "is_false")]
    pub client_no_context_takeover: bool,
    /// Ask the client to use at most this window (needs `client_max_window_bits` in
    /// the client's offer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_max_window_bits: Option<u8>,
}

/// How much of a case's wire trace is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceMode {
    /// Every row up to the trace cap, then the last rows (head and tail).
    #[default]
    Full,
    /// A short head and tail only (long cases: the failure shows at the end).
    HeadTail,
    /// Only the tester's notes (timers, verdict reasons), no octets or frames.
    Off,
}

/// The opening request of a case, as changes to the standard one, or raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handshake {
    /// Request method (default `GET`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Request target (default: the target URL's path and query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Protocol on the request line (default `HTTP/1.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_version: Option<String>,
    /// Standard headers left out (names, any case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// Standard headers given another value (or added if not standard): `[name, value]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<[String; 2]>,
    /// Headers appended after the standard ones (duplicates allowed): `[name, value]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<[String; 2]>,
    /// The whole request as bytes instead; `{host}`, `{path}` and `{key}` are replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<Payload>,
    /// Write the request in pieces of this many bytes…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chop: Option<usize>,
    /// …with this many milliseconds between pieces (a slow client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// How the response is judged.
    pub expect: HandshakeExpect,
}

/// Whether the server must take the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandshakeOutcome {
    /// `101` with a correct `Sec-WebSocket-Accept`; the steps then run as usual.
    #[default]
    Accept,
    /// Anything but `101` (an error status, or closing the connection).
    Reject,
    /// Either is conformant; the checks below apply to whatever came back.
    Either,
}

/// Checks on the opening handshake response.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandshakeExpect {
    #[serde(default)]
    pub outcome: HandshakeOutcome,
    /// A rejection must carry `Sec-WebSocket-Version` listing the versions it supports
    /// (including 13).
    #[serde(default, skip_serializing_if = "is_false")]
    pub lists_versions: bool,
    /// A `101` must carry no `Sec-WebSocket-Protocol`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_protocol: bool,
    /// A `101` may carry `Sec-WebSocket-Protocol` only once, with one of these values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_one_of: Option<Vec<String>>,
    /// A `101` must accept no extension at all.
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_extensions: bool,
    /// A `101` that accepts permessage-deflate must do so validly for what the request
    /// offered (RFC 7692 §7: parameters, values, never beyond the offer).
    #[serde(default, skip_serializing_if = "is_false")]
    pub valid_deflate: bool,
    /// Judge the `Origin` the request carries against the user's `--origin-allow` list:
    /// a listed origin must be accepted, any other refused. Without a list (or without
    /// an Origin header) the outcome is INFORMATIONAL.
    #[serde(default, skip_serializing_if = "is_false")]
    pub origin_policy: bool,
    /// A `101` must accept permessage-deflate (the case needs it; otherwise UNIMPLEMENTED).
    #[serde(default, skip_serializing_if = "is_false")]
    pub needs_deflate: bool,
}

/// Response time as one request header grows: the case fails when doubling the input
/// multiplies the time by more than `max_ratio` (and the largest time is above
/// `floor_ms`, so noise on fast servers cannot fail it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// The header whose value grows.
    pub header: String,
    /// The value is this unit repeated…
    pub unit: String,
    /// …this many times, one measurement each (ascending, each twice the previous).
    pub sizes: Vec<usize>,
    #[serde(default = "default_ratio")]
    pub max_ratio: f64,
    #[serde(default = "default_floor")]
    pub floor_ms: f64,
}

fn default_ratio() -> f64 {
    3.0
}
fn default_floor() -> f64 {
    50.0
}

/// RFC 2119 level of the requirement a case checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    #[default]
    Must,
    Should,
    May,
}

/// Bytes, written the way that reads best in a case file.
///
/// * `"Hello"` — UTF-8 text;
/// * `{"hex": "cebae1"}` — exact bytes;
/// * `{"repeat": "*", "len": 65535}` — a text pattern repeated/truncated to `len` bytes;
/// * `{"repeat_hex": "fe", "len": 125}` — the same for a byte pattern;
/// * `{"deflate": <payload>}` — a payload compressed as a permessage-deflate message;
/// * `{"deflate_zeros": N}` — N zero bytes, compressed (a decompression bomb).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Payload {
    Text(String),
    Hex {
        hex: String,
    },
    Repeat {
        repeat: String,
        len: usize,
    },
    RepeatHex {
        repeat_hex: String,
        len: usize,
    },
    /// The payload compressed as one permessage-deflate message (send it with `rsv: 4`).
    Deflate {
        deflate: Box<Payload>,
    },
    /// `n` zero bytes compressed as one permessage-deflate message (a bomb).
    DeflateZeros {
        deflate_zeros: usize,
    },
    /// A window of `len` units of a named data set (see [`dataset`]); in a
    /// `round_trips` step, message *i* is the *i*-th window, sliding and wrapping.
    Dataset {
        dataset: String,
        len: usize,
    },
    /// A long message known by its length and SHA-1 (how received messages over
    /// [`KEEP_WHOLE`] bytes are kept); `head`/`tail` are hex excerpts for reading.
    Digest {
        len: u64,
        sha1: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        head: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        tail: String,
    },
}

/// Received messages up to this many bytes are kept whole; longer ones as a
/// [`Payload::Digest`].
pub const KEEP_WHOLE: usize = 256;
/// Bytes of head and tail kept of a long message.
pub const EXCERPT: usize = 32;

/// Length and SHA-1 of a message: what comparisons of long payloads use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub len: u64,
    pub sha1: [u8; 20],
}

impl Fingerprint {
    pub fn of(b: &[u8]) -> Fingerprint {
        use sha1::Digest;
        Fingerprint {
            len: b.len() as u64,
            sha1: sha1::Sha1::digest(b).into(),
        }
    }
}

impl Default for Payload {
    fn default() -> Self {
        Payload::Text(String::new())
    }
}

impl Payload {
    /// The bytes this payload stands for. Hex strings are validated when the case is
    /// loaded (see [`Case::validate`]); an invalid one here yields the bytes decoded so far.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Payload::Text(s) => s.as_bytes().to_vec(),
            Payload::Hex { hex } => decode_hex(hex).unwrap_or_default(),
            Payload::Repeat { repeat, len } => repeat_to(repeat.as_bytes(), *len),
            Payload::RepeatHex { repeat_hex, len } => {
                repeat_to(&decode_hex(repeat_hex).unwrap_or_default(), *len)
            }
            Payload::Deflate { deflate } => {
                crate::wire::deflate::compress_message(&deflate.bytes())
            }
            Payload::DeflateZeros { deflate_zeros } => {
                crate::wire::deflate::compress_zeros(*deflate_zeros)
            }
            Payload::Dataset { .. } => self.message(0),
            // Only the digest is known: no bytes stand for it.
            Payload::Digest { .. } => Vec::new(),
        }
    }

    /// Message `i` of a sequence: the `i`-th window of a data set, or the same bytes
    /// every time for any other form.
    pub fn message(&self, i: u64) -> Vec<u8> {
        match self {
            Payload::Dataset { dataset: name, len } => dataset::get(name)
                .map(|d| d.window(i, *len))
                .unwrap_or_default(),
            other => other.bytes(),
        }
    }

    /// Length and SHA-1 of the bytes (the stored ones for a digest).
    pub fn fingerprint(&self) -> Fingerprint {
        match self {
            Payload::Digest { len, sha1, .. } => Fingerprint {
                len: *len,
                sha1: decode_hex(sha1)
                    .ok()
                    .and_then(|v| v.try_into().ok())
                    .unwrap_or([0; 20]),
            },
            other => Fingerprint::of(&other.bytes()),
        }
    }

    /// A received message as kept in results: whole when short, else length, digest,
    /// head and tail.
    pub fn received(
        len: u64,
        sha1: [u8; 20],
        whole: Option<&[u8]>,
        head: &[u8],
        tail: &[u8],
    ) -> Payload {
        match whole {
            Some(b) => Payload::from_bytes(b),
            None => Payload::Digest {
                len,
                sha1: encode_hex(&sha1),
                head: encode_hex(head),
                tail: encode_hex(tail),
            },
        }
    }

    /// Exact bytes as a payload: text when valid UTF-8 and printable, hex otherwise.
    pub fn from_bytes(b: &[u8]) -> Payload {
        match std::str::from_utf8(b) {
            Ok(s) if !s.chars().any(|c| c.is_control()) => Payload::Text(s.to_string()),
            _ => Payload::Hex { hex: encode_hex(b) },
        }
    }

    fn check(&self) -> Result<(), String> {
        match self {
            Payload::Deflate { deflate } => return deflate.check(),
            Payload::DeflateZeros { deflate_zeros } if *deflate_zeros > 1 << 32 => {
                return Err("deflate_zeros is limited to 4 GiB".into())
            }
            Payload::Repeat { len, .. } | Payload::RepeatHex { len, .. } if *len > 1 << 30 => {
                return Err("repeated payloads are limited to 1 GiB".into())
            }
            Payload::Dataset { dataset: name, len } => {
                let d = dataset::get(name).ok_or_else(|| {
                    format!(
                        "unknown data set {name:?} (known: {})",
                        dataset::NAMES.join(", ")
                    )
                })?;
                if *len == 0 || *len > d.units() {
                    return Err(format!(
                        "data set window of {len} units: must be 1..={}",
                        d.units()
                    ));
                }
                return Ok(());
            }
            Payload::Digest { sha1, .. } => {
                return match decode_hex(sha1) {
                    Ok(b) if b.len() == 20 => Ok(()),
                    _ => Err(format!("sha1 {sha1:?} is not 40 hex digits")),
                }
            }
            _ => {}
        }
        match self {
            Payload::Hex { hex }
            | Payload::RepeatHex {
                repeat_hex: hex, ..
            } => decode_hex(hex).map(|_| ()),
            _ => Ok(()),
        }?;
        match self {
            Payload::Repeat { repeat, len } if repeat.is_empty() && *len > 0 => {
                Err("`repeat` pattern is empty".into())
            }
            Payload::RepeatHex { repeat_hex, len } if repeat_hex.is_empty() && *len > 0 => {
                Err("`repeat_hex` pattern is empty".into())
            }
            _ => Ok(()),
        }
    }
}

fn repeat_to(pattern: &[u8], len: usize) -> Vec<u8> {
    if pattern.is_empty() {
        return Vec::new();
    }
    pattern.iter().copied().cycle().take(len).collect()
}

/// Lower-case hex of `b`.
pub fn encode_hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(DIGITS[(x >> 4) as usize] as char);
        s.push(DIGITS[(x & 15) as usize] as char);
    }
    s
}

/// Decode hex (upper or lower case, spaces allowed between bytes).
pub fn decode_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("hex string {s:?} has an odd number of digits"));
    }
    digits
        .chunks(2)
        .map(|p| {
            let hi = (p[0] as char).to_digit(16);
            let lo = (p[1] as char).to_digit(16);
            match (hi, lo) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(format!("{s:?} is not hex")),
            }
        })
        .collect()
}

/// A frame opcode, named or numeric (any value 0–15 may be sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Opcode {
    Named(OpName),
    Number(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpName {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl Opcode {
    pub fn value(self) -> u8 {
        match self {
            Opcode::Number(n) => n,
            Opcode::Named(n) => match n {
                OpName::Continuation => 0,
                OpName::Text => 1,
                OpName::Binary => 2,
                OpName::Close => 8,
                OpName::Ping => 9,
                OpName::Pong => 10,
            },
        }
    }
}

/// How the length field of a sent frame is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Length {
    /// The shortest encoding (what a conformant sender writes).
    #[default]
    Minimal,
    /// Always the 16-bit form (non-minimal below 126).
    Force16,
    /// Always the 64-bit form (non-minimal below 65536).
    Force64,
    /// Declare this many bytes whatever the payload is (a lying length; 64-bit form
    /// above 65535, top bit allowed).
    Claim(u64),
}

/// Masking of a sent frame. As a client the tester masks with a fresh random key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mask {
    /// The role's default: a random key as client, unmasked as server.
    #[default]
    Auto,
    /// Send unmasked (a violation from a client).
    None,
    /// Mask with this key (8 hex digits).
    Key(String),
}

/// A single frame, exactly as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameStep {
    pub opcode: Opcode,
    #[serde(default)]
    pub payload: Payload,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub fin: bool,
    /// RSV bits as a 3-bit value: RSV1 = 4, RSV2 = 2, RSV3 = 1.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rsv: u8,
    #[serde(default, skip_serializing_if = "is_default")]
    pub mask: Mask,
    #[serde(default, skip_serializing_if = "is_default")]
    pub length: Length,
    /// Write the encoded frame in pieces of this many bytes, each its own TCP write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chop: Option<usize>,
    /// Write the frame as one separate TCP write ("frame-wise").
    #[serde(default, skip_serializing_if = "is_false")]
    pub sync: bool,
}

/// A data message, cut into frames the way Autobahn's message sender does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageStep {
    pub payload: Payload,
    #[serde(default, skip_serializing_if = "is_false")]
    pub binary: bool,
    /// Fragment size; a payload longer than this is sent in pieces of this size and,
    /// when the length is an exact multiple, closed by an empty final frame (Autobahn's
    /// quirk, reproduced for wire compatibility).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragment_size: Option<usize>,
    /// Write every frame octet by octet (or in pieces of this size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chop: Option<usize>,
    /// Write every frame as its own TCP write.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sync: bool,
    /// Compress the message with the negotiated permessage-deflate (RSV1 on the first
    /// frame; the fragment size then applies to the compressed bytes).
    #[serde(default, skip_serializing_if = "is_false")]
    pub compress: bool,
}

/// Messages sent one at a time, each after the echo of the previous one arrived, each
/// echo checked on arrival (Autobahn 9.x and 12.x/13.x). The step decides the case's
/// `behavior` itself: OK after the last correct echo (the tester then closes with
/// 1000), FAILED on the first wrong echo or when `within` seconds pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundTripStep {
    /// How many messages.
    pub count: u32,
    /// The message (for a data set, message *i* is its *i*-th window).
    pub message: MessageStep,
    /// What must be equal in the echo.
    #[serde(default)]
    pub check: EchoCheck,
    /// Seconds for all round trips (the case timer); then an empty close and FAILED.
    pub within: f64,
}

/// What an echo must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EchoCheck {
    /// Type and length (Autobahn 9.x).
    #[default]
    Length,
    /// Type, length and SHA-1 of the payload (Autobahn 12.x/13.x).
    Digest,
}

/// The header of a frame whose payload follows in later [`Step::FramePayload`] steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameHeaderStep {
    pub opcode: Opcode,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub fin: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rsv: u8,
    /// Payload length announced in the header.
    pub len: u64,
}

/// A close frame sent as a state change: after it the tester is closing, and it is the
/// endpoint that closed first (`closedByMe`). The payload is `code` (if any) followed by
/// `reason` (if any), whatever their validity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Payload>,
}

/// A pause before the next step. With a `tag`, the step only goes on while the
/// connection is fully open, and records the event `["timeout", tag]` (Autobahn 6.4.x).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitStep {
    pub seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// What the tester does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Send one frame, byte for byte as described.
    Send(FrameStep),
    /// Send a whole data message (possibly fragmented).
    Message(MessageStep),
    /// Send only a frame header announcing `len` payload bytes.
    FrameHeader(FrameHeaderStep),
    /// Send payload bytes of the frame opened by the last `frame_header` (masked with its key).
    FramePayload(Payload),
    /// Start the closing handshake with this close frame.
    Close(CloseStep),
    /// Pause, then go on.
    Wait(WaitStep),
    /// After this many seconds, if the connection is not closed, fail it (close 1001,
    /// then drop after the close-handshake timeout). The tester becomes the closer.
    KillAfter(f64),
    /// After this many seconds, if the connection is still open, send an empty close.
    CloseAfter(f64),
    /// Do these (send-type) steps this many times.
    Repeat { times: u32, steps: Vec<Step> },
    /// Stop reading from the peer for this many seconds (a client that does not read).
    PauseReading(f64),
    /// Sequential echoed messages, each checked as it arrives.
    RoundTrips(RoundTripStep),
}

/// Something the tester observed from the peer. Compared as an ordered list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A complete data message.
    Message {
        payload: Payload,
        #[serde(default, skip_serializing_if = "is_false")]
        binary: bool,
    },
    /// A pong frame.
    Pong(Payload),
    /// A tagged wait step ran while the connection was open.
    Timeout(String),
}

impl Event {
    /// Whether two events are the same, comparing payloads as bytes.
    pub fn same(&self, other: &Event) -> bool {
        match (self, other) {
            (
                Event::Message {
                    payload: a,
                    binary: x,
                },
                Event::Message {
                    payload: b,
                    binary: y,
                },
            ) => x == y && same_payload(a, b),
            (Event::Pong(a), Event::Pong(b)) => same_payload(a, b),
            (Event::Timeout(a), Event::Timeout(b)) => a == b,
            _ => false,
        }
    }
}

/// Payloads equal as bytes (by length and SHA-1 when one is only known by its digest).
pub fn same_payload(a: &Payload, b: &Payload) -> bool {
    if matches!(a, Payload::Digest { .. }) || matches!(b, Payload::Digest { .. }) {
        a.fingerprint() == b.fingerprint()
    } else {
        a.bytes() == b.bytes()
    }
}

/// Who must send the first close frame, which codes the peer may use, whether the
/// closing handshake must complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectClose {
    /// `true`: the tester closes (after the expected events, or by a timer);
    /// `false`: the peer must fail the connection.
    pub closed_by_me: bool,
    /// Close codes the peer may send. A close frame without a code is always accepted.
    pub codes: Vec<u16>,
    /// The full closing handshake must happen (and, the tester being a client, the
    /// server must drop TCP).
    pub require_clean: bool,
    /// If the wrong endpoint closes, `behavior` is FAILED too (UTF-8 cases).
    #[serde(default, skip_serializing_if = "is_false")]
    pub wrong_closer_fatal: bool,
    /// A WRONG CODE close makes `behavior` FAILED too (section 7).
    #[serde(default, skip_serializing_if = "is_false")]
    pub wrong_code_fatal: bool,
}

/// How a case is judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Events of a strictly conformant peer.
    pub ok: Vec<Event>,
    /// Events that are acceptable but not strict (SHOULD-level deviation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_strict: Option<Vec<Event>>,
    pub close: ExpectClose,
    /// The outcome is implementation-defined: both verdicts are INFORMATIONAL.
    #[serde(default, skip_serializing_if = "is_false")]
    pub informational: bool,
    /// The tester's own transmitted frame counts by opcode (a self-check, 10.1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_frames: Option<BTreeMap<u8, u64>>,
    /// The peer (a client) masks its frames with fresh keys: among its first 64
    /// frames no key is zero and no key repeats (RFC 6455 §5.3).
    #[serde(default, skip_serializing_if = "is_false")]
    pub fresh_masks: bool,
}

impl Case {
    /// Section key for grouping, e.g. `"6.4"` for `"6.4.3"`, `"2"` for `"2.10"`.
    pub fn section(&self) -> String {
        section_of(&self.id)
    }

    /// Check what serde cannot: payload hex, RSV and opcode ranges, timer values.
    pub fn validate(&self) -> Result<(), String> {
        if self.id.trim().is_empty() {
            return Err("case id is empty".into());
        }
        if self.steps.is_empty() && self.handshake.is_none() && self.timing.is_none() {
            return Err(format!("case {}: no steps", self.id));
        }
        let ctx = |e: String| format!("case {}: {e}", self.id);
        let server_only = self.answer.is_some() || self.expect.fresh_masks;
        if server_only && self.role != Some(crate::rules::Role::Server) {
            return Err(ctx(
                "`answer` and `fresh_masks` judge a client: the case needs \"role\": \"server\""
                    .into(),
            ));
        }
        if self.role == Some(crate::rules::Role::Server)
            && (self.handshake.is_some() || self.timing.is_some() || self.probe_after)
        {
            return Err(ctx(
                "`handshake`, `timing` and `probe_after` test a server: they need the client role"
                    .into(),
            ));
        }
        for step in &self.steps {
            match step {
                Step::Send(f) => {
                    f.payload.check().map_err(ctx)?;
                    check_bits(f.opcode.value(), f.rsv).map_err(ctx)?;
                    if let Mask::Key(k) = &f.mask {
                        match decode_hex(k) {
                            Ok(b) if b.len() == 4 => {}
                            _ => return Err(ctx(format!("mask key {k:?} is not 8 hex digits"))),
                        }
                    }
                    if f.chop == Some(0) {
                        return Err(ctx("chop must be at least 1".into()));
                    }
                }
                Step::Message(m) => {
                    m.payload.check().map_err(ctx)?;
                    if m.fragment_size == Some(0) || m.chop == Some(0) {
                        return Err(ctx("fragment_size and chop must be at least 1".into()));
                    }
                }
                Step::FrameHeader(h) => check_bits(h.opcode.value(), h.rsv).map_err(ctx)?,
                Step::FramePayload(p) => p.check().map_err(ctx)?,
                Step::Close(c) => {
                    if let Some(r) = &c.reason {
                        r.check().map_err(ctx)?
                    }
                }
                Step::Wait(w) => check_secs(w.seconds).map_err(ctx)?,
                Step::RoundTrips(r) => {
                    r.message.payload.check().map_err(ctx)?;
                    check_secs(r.within).map_err(ctx)?;
                    if r.count == 0 || r.count > 1_000_000 {
                        return Err(ctx("round_trips count must be 1..=1000000".into()));
                    }
                    if r.message.fragment_size == Some(0) || r.message.chop == Some(0) {
                        return Err(ctx("fragment_size and chop must be at least 1".into()));
                    }
                }
                Step::KillAfter(s) | Step::CloseAfter(s) | Step::PauseReading(s) => {
                    check_secs(*s).map_err(ctx)?
                }
                Step::Repeat { times, steps } => {
                    if *times > 1_000_000 {
                        return Err(ctx(format!("repeat {times} times is more than 1000000")));
                    }
                    for s in steps {
                        match s {
                            Step::Send(f) => {
                                f.payload.check().map_err(ctx)?;
                                check_bits(f.opcode.value(), f.rsv).map_err(ctx)?;
                            }
                            Step::Message(m) => m.payload.check().map_err(ctx)?,
                            Step::FramePayload(p) => p.check().map_err(ctx)?,
                            _ => {
                                return Err(ctx(
                                    "repeat may only hold send, message and frame_payload steps"
                                        .into(),
                                ))
                            }
                        }
                    }
                }
            }
        }
        if let Some(h) = &self.handshake {
            if let Some(r) = &h.raw {
                r.check().map_err(ctx)?;
            }
            if h.chop == Some(0) {
                return Err(ctx("handshake chop must be at least 1".into()));
            }
        }
        if let Some(t) = &self.timing {
            if t.sizes.len() < 2 || t.sizes.windows(2).any(|w| w[1] <= w[0]) {
                return Err(ctx("timing sizes must be at least two, ascending".into()));
            }
            if t.unit.is_empty()
                || t.sizes
                    .last()
                    .copied()
                    .unwrap_or(0)
                    .saturating_mul(t.unit.len())
                    > 16 << 20
            {
                return Err(ctx(
                    "timing unit must be non-empty and the largest value at most 16 MiB".into(),
                ));
            }
        }
        for e in self
            .expect
            .ok
            .iter()
            .chain(self.expect.non_strict.iter().flatten())
        {
            match e {
                Event::Message { payload, .. } | Event::Pong(payload) => {
                    payload.check().map_err(ctx)?
                }
                Event::Timeout(_) => {}
            }
        }
        Ok(())
    }

    /// Seconds of deliberate waiting in the steps (used to start long cases first and to
    /// bound a case's run time).
    pub fn planned_seconds(&self) -> f64 {
        let waits: f64 = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Wait(w) => w.seconds,
                Step::PauseReading(s) => *s,
                _ => 0.0,
            })
            .sum();
        let timer = self
            .steps
            .iter()
            .map(|s| match s {
                Step::KillAfter(t) | Step::CloseAfter(t) => *t,
                Step::RoundTrips(r) => r.within,
                _ => 0.0,
            })
            .fold(0.0, f64::max);
        waits + timer
    }
}

fn check_bits(opcode: u8, rsv: u8) -> Result<(), String> {
    if opcode > 15 {
        return Err(format!("opcode {opcode} does not fit in 4 bits"));
    }
    if rsv > 7 {
        return Err(format!("rsv {rsv} does not fit in 3 bits"));
    }
    Ok(())
}

fn check_secs(s: f64) -> Result<(), String> {
    if !(0.0..=3600.0).contains(&s) {
        return Err(format!("{s} seconds is out of range (0–3600)"));
    }
    Ok(())
}

/// Section key of a case id: Autobahn ids with three parts group by the first two
/// (`6.4.3` → `6.4`), two-part ids by the first (`2.10` → `2`); slugs by their first
/// `/`-separated part.
pub fn section_of(id: &str) -> String {
    if let Some((head, _)) = id.split_once('/') {
        return head.to_string();
    }
    let parts: Vec<&str> = id.split('.').collect();
    match parts.len() {
        0 | 1 => id.to_string(),
        2 => parts[0].to_string(),
        _ => parts[..parts.len() - 1].join("."),
    }
}

/// Numeric sort key for Autobahn-style ids (`2.10` after `2.9`); slugs sort after.
pub fn id_sort_key(id: &str) -> (Vec<u64>, String) {
    let nums: Option<Vec<u64>> = id.split('.').map(|p| p.parse().ok()).collect();
    match nums {
        Some(n) => (n, String::new()),
        None => (vec![u64::MAX], id.to_string()),
    }
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}
fn is_zero(n: &u8) -> bool {
    *n == 0
}
fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_forms() {
        assert_eq!(Payload::Text("ab".into()).bytes(), b"ab");
        assert_eq!(
            Payload::Hex {
                hex: "ce BA".into()
            }
            .bytes(),
            vec![0xce, 0xba]
        );
        let r = Payload::Repeat {
            repeat: "ab".into(),
            len: 5,
        };
        assert_eq!(r.bytes(), b"ababa");
        assert!(Payload::Hex { hex: "abc".into() }.check().is_err());
        assert!(Payload::Hex { hex: "zz".into() }.check().is_err());
    }

    #[test]
    fn sections_and_sorting() {
        assert_eq!(section_of("6.4.3"), "6.4");
        assert_eq!(section_of("2.10"), "2");
        assert_eq!(section_of("handshake/no-key"), "handshake");
        let mut ids = vec!["2.10", "10.1.1", "2.9", "1.1.1"];
        ids.sort_by_key(|i| id_sort_key(i));
        assert_eq!(ids, ["1.1.1", "2.9", "2.10", "10.1.1"]);
    }

    #[test]
    fn event_comparison_is_by_bytes() {
        let a = Event::Pong(Payload::Text("*".into()));
        let b = Event::Pong(Payload::Hex { hex: "2a".into() });
        assert!(a.same(&b));
    }
}
