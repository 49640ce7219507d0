//! The result model every reporter reads: one [`RunReport`] per run, one [`CaseResult`]
//! per case. The runner fills it; reporters never look at anything else.

use crate::case::{Event, Expect, Level};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Autobahn's verdict vocabulary (the strings are Autobahn's, for compatible reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Verdict {
    /// The peer did what the RFC requires.
    #[serde(rename = "OK")]
    Ok,
    /// Acceptable, but not what a strict reading asks for (a SHOULD not met).
    #[serde(rename = "NON-STRICT")]
    NonStrict,
    /// Recorded for information; any behaviour is acceptable.
    #[serde(rename = "INFORMATIONAL")]
    Informational,
    /// The peer does not implement the feature the case tests (e.g. an extension).
    #[serde(rename = "UNIMPLEMENTED")]
    Unimplemented,
    /// The connection closed with a close code the case does not allow.
    #[serde(rename = "WRONG CODE")]
    WrongCode,
    /// The closing handshake or the TCP close did not happen as required.
    #[serde(rename = "UNCLEAN")]
    Unclean,
    /// The tester had to fail the connection (the peer broke the protocol).
    #[serde(rename = "FAILED BY CLIENT")]
    FailedByClient,
    /// The peer did not do what the RFC requires.
    #[serde(rename = "FAILED")]
    Failed,
}

impl Verdict {
    /// Autobahn's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::NonStrict => "NON-STRICT",
            Verdict::Informational => "INFORMATIONAL",
            Verdict::Unimplemented => "UNIMPLEMENTED",
            Verdict::WrongCode => "WRONG CODE",
            Verdict::Unclean => "UNCLEAN",
            Verdict::FailedByClient => "FAILED BY CLIENT",
            Verdict::Failed => "FAILED",
        }
    }

    /// Does this verdict fail a run? (`--strict` also fails NON-STRICT.)
    pub fn is_failure(self, strict: bool) -> bool {
        match self {
            Verdict::Ok | Verdict::Informational | Verdict::Unimplemented => false,
            Verdict::NonStrict => strict,
            Verdict::WrongCode | Verdict::Unclean | Verdict::FailedByClient | Verdict::Failed => {
                true
            }
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Direction of a trace row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    /// Sent by the tester.
    Tx,
    /// Received from the peer.
    Rx,
    /// Something the tester decided (timer fired, violation seen…).
    Note,
}

/// One row of the wire trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceRow {
    /// Microseconds since the TCP connection was opened.
    pub t_us: u64,
    /// Sent, received, or the tester's own note.
    pub dir: Dir,
    /// What was sent, received or noted.
    #[serde(flatten)]
    pub what: TraceWhat,
}

/// The content of a [`TraceRow`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TraceWhat {
    /// Raw TCP bytes (at most the first 64 bytes kept, `TRACE_OCTETS`).
    Octets {
        /// Bytes in this read or write.
        len: usize,
        /// The first of them, in hex.
        hex: String,
    },
    /// A decoded frame (payload excerpt: at most 64 bytes).
    Frame {
        /// Opcode (0–15, reserved ones included).
        opcode: u8,
        /// The FIN bit.
        fin: bool,
        /// The RSV1–3 bits (RSV1 = 4).
        rsv: u8,
        /// Whether the MASK bit was set.
        masked: bool,
        /// The masking key, in hex.
        #[serde(skip_serializing_if = "Option::is_none")]
        mask: Option<String>,
        /// The payload length the header declared.
        len: u64,
        /// The start of the unmasked payload, in hex.
        payload_hex: String,
        /// The same as text, when it is UTF-8.
        #[serde(skip_serializing_if = "Option::is_none")]
        payload_text: Option<String>,
    },
    /// A timer, delay, state change or rule violation, in words.
    Note {
        /// The note.
        text: String,
    },
}

/// Bytes of data kept per trace row.
pub const TRACE_OCTETS: usize = 64;

/// Who did what in the closing of the connection (Autobahn's close bookkeeping).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CloseInfo {
    /// The tester started the closing handshake.
    pub closed_by_me: bool,
    /// The tester failed the connection (a protocol violation).
    pub failed_by_me: bool,
    /// The tester closed TCP.
    pub dropped_by_me: bool,
    /// The closing handshake completed and TCP closed in order.
    pub was_clean: bool,
    /// Why it was not clean.
    pub was_not_clean_reason: Option<String>,
    /// The server did not close TCP in time after the closing handshake.
    pub was_server_connection_drop_timeout: bool,
    /// The opening handshake did not complete in time.
    pub was_open_handshake_timeout: bool,
    /// The closing handshake did not complete in time.
    pub was_close_handshake_timeout: bool,
    /// The close code the tester sent.
    pub local_close_code: Option<u16>,
    /// The close reason the tester sent.
    pub local_close_reason: Option<String>,
    /// The close code the peer sent.
    pub remote_close_code: Option<u16>,
    /// The close reason the peer sent.
    pub remote_close_reason: Option<String>,
}

/// The result of one case against one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// Case id (`6.4.3`, `handshake/no-host`).
    pub id: String,
    /// Autobahn's 1-based position of the case in the whole catalogue (0 for our slugs).
    pub index: usize,
    /// Section key (`6.4`, `handshake`).
    pub section: String,
    /// One-line description of the case.
    pub title: String,
    /// The RFC section(s) the case checks (`RFC 6455 §5.2`).
    pub rfc: String,
    /// The requirement, in the RFC's words or close to them.
    pub requirement: String,
    /// MUST, SHOULD or MAY.
    pub level: Level,
    /// Verdict on the messages and frames the peer sent.
    pub behavior: Verdict,
    /// Verdict on how the connection was closed.
    pub behavior_close: Verdict,
    /// Why `behavior` is what it is.
    pub result: String,
    /// Why `behavior_close` is what it is.
    pub result_close: String,
    /// What a conformant peer does, in words.
    pub expected: String,
    /// What this peer did, in words.
    pub actual: String,
    /// What the case accepts (the judging rules).
    pub expect: Expect,
    /// What arrived from the peer, in order.
    pub received: Vec<Event>,
    /// How the connection ended.
    pub close: CloseInfo,
    /// UTC, `YYYY-MM-DDTHH:MM:SS.mmmZ`, at TCP connect.
    pub started: String,
    /// Milliseconds from handshake completion to TCP close.
    pub duration_ms: u64,
    /// The opening handshake request as sent.
    pub http_request: String,
    /// The peer's handshake response head as received.
    pub http_response: String,
    /// The wire trace (sent and received frames and bytes, timers, notes).
    pub trace: Vec<TraceRow>,
    /// Trace rows dropped because the trace reached its cap.
    pub trace_dropped: usize,
    /// Received reads by size in bytes (Autobahn's `rxOctetStats`).
    pub rx_octet_stats: BTreeMap<String, u64>,
    /// Sent writes by size in bytes (Autobahn's `txOctetStats`).
    pub tx_octet_stats: BTreeMap<String, u64>,
    /// Received frames by opcode (Autobahn's `rxFrameStats`).
    pub rx_frame_stats: BTreeMap<String, u64>,
    /// Sent frames by opcode (Autobahn's `txFrameStats`).
    pub tx_frame_stats: BTreeMap<String, u64>,
    /// Round-trip figures of a measured case (sections 9, 12, 13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
}

/// What the round trips of a case achieved (message bytes, before compression).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Messages sent (and echoed).
    pub messages: u64,
    /// Message bytes sent.
    pub bytes_sent: u64,
    /// Message bytes received.
    pub bytes_received: u64,
    /// From the first message sent to the last echo received.
    pub seconds: f64,
    /// Megabytes per second, both directions together.
    pub mb_per_s: f64,
    /// Round trips per second.
    pub round_trips_per_s: f64,
    /// Bytes, frames and messages until the last echo arrived (Autobahn's
    /// `trafficStats`): the compressed and the uncompressed sizes.
    #[serde(default)]
    pub traffic: Traffic,
}

/// Traffic of an open connection in both directions, counted as Autobahn counts its
/// `trafficStats`: data frames and messages only; wire octets are every byte read or
/// written while open (frame headers and control frames too).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Traffic {
    /// What wsspec sent.
    pub outgoing: TrafficCounts,
    /// What the peer sent.
    pub incoming: TrafficCounts,
}

/// One direction of [`Traffic`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrafficCounts {
    /// Bytes on TCP while the connection was open.
    pub wire_octets: u64,
    /// Payload bytes of data frames as sent (compressed, when compressed).
    pub websocket_octets: u64,
    /// Message bytes before compression (after inflating, when received).
    pub app_octets: u64,
    /// Data frames (text, binary, continuation).
    pub frames: u64,
    /// Data messages.
    pub messages: u64,
    /// Bytes on TCP before the connection opened (the opening handshake).
    pub preopen_wire_octets: u64,
}

impl Throughput {
    /// One line for reports: rate, and the compression ratios when compressed.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} round trips in {:.3} s: {:.1} MB/s both ways, {:.0} round trips/s",
            self.messages, self.seconds, self.mb_per_s, self.round_trips_per_s
        );
        let (i, o) = (&self.traffic.incoming, &self.traffic.outgoing);
        if let (Some(ri), Some(ro)) = (i.compression_ratio(), o.compression_ratio()) {
            if i.websocket_octets != i.app_octets || o.websocket_octets != o.app_octets {
                s.push_str(&format!("; compressed to {ri:.3} (in) / {ro:.3} (out)"));
            }
        }
        s
    }
}

impl Traffic {
    /// The counts of one direction: received ([`Dir::Rx`]) or sent.
    pub fn direction(&mut self, dir: Dir) -> &mut TrafficCounts {
        if dir == Dir::Rx {
            &mut self.incoming
        } else {
            &mut self.outgoing
        }
    }
}

impl TrafficCounts {
    /// Compressed size over message size (Autobahn's `…CompressionRatio`); `None`
    /// when no message bytes went this way.
    pub fn compression_ratio(&self) -> Option<f64> {
        (self.app_octets > 0).then(|| self.websocket_octets as f64 / self.app_octets as f64)
    }

    /// Frame overhead over payload (Autobahn's `…WebSocketOverhead`).
    pub fn overhead(&self) -> Option<f64> {
        (self.websocket_octets > 0).then(|| {
            (self.wire_octets as f64 - self.websocket_octets as f64) / self.websocket_octets as f64
        })
    }
}

impl CaseResult {
    /// The worse of the two verdicts, for summaries.
    pub fn overall(&self) -> Verdict {
        worst(self.behavior, self.behavior_close)
    }

    /// Does this result fail a run? Either verdict is a failure (with `strict`,
    /// NON-STRICT counts too). The one rule for exit codes, gates and the fuzzer.
    pub fn fails(&self, strict: bool) -> bool {
        self.behavior.is_failure(strict) || self.behavior_close.is_failure(strict)
    }
}

/// The more severe of two verdicts (FAILED > … > OK).
pub fn worst(a: Verdict, b: Verdict) -> Verdict {
    let rank = |v: Verdict| match v {
        Verdict::Ok => 0,
        Verdict::Informational => 1,
        Verdict::Unimplemented => 2,
        Verdict::NonStrict => 3,
        Verdict::WrongCode => 4,
        Verdict::Unclean => 5,
        Verdict::FailedByClient => 6,
        Verdict::Failed => 7,
    };
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}

/// All results of one run against one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    /// The server's name (`--agent`, its `Server` header, or `UnknownServer`).
    pub agent: String,
    /// The URL the cases were played against.
    pub url: String,
    /// One result per case, in catalogue order.
    pub results: Vec<CaseResult>,
    /// The role wsspec played: `client` when it tested this agent as a server,
    /// `server` when it tested a client.
    #[serde(default, skip_serializing_if = "is_client")]
    pub role: crate::rules::Role,
}

/// Everything one `wsspec run` produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Version of this JSON schema.
    pub schema: u32,
    /// `wsspec VERSION`.
    pub tool: String,
    /// UTC start time, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub started: String,
    /// Wall time of the whole run.
    pub duration_ms: u64,
    /// Whether NON-STRICT verdicts count as failures.
    pub strict: bool,
    /// One entry per server tested.
    pub agents: Vec<AgentReport>,
}

/// Current native JSON schema version.
pub const SCHEMA_VERSION: u32 = 1;

#[cfg(test)]
impl CaseResult {
    /// A plain result for reporter tests: case `id` in its section, the two verdicts,
    /// empty texts, no events, no trace.
    pub(crate) fn sample(id: &str, behavior: Verdict, behavior_close: Verdict) -> CaseResult {
        use crate::case::ExpectClose;
        CaseResult {
            id: id.to_string(),
            index: 1,
            section: crate::case::section_of(id),
            title: format!("Case {id}"),
            rfc: String::new(),
            requirement: String::new(),
            level: Level::Must,
            behavior,
            behavior_close,
            result: String::new(),
            result_close: String::new(),
            expected: String::new(),
            actual: String::new(),
            expect: Expect {
                ok: Vec::new(),
                non_strict: None,
                close: ExpectClose {
                    closed_by_me: true,
                    codes: vec![1000],
                    require_clean: true,
                    wrong_closer_fatal: false,
                    wrong_code_fatal: false,
                },
                informational: false,
                tx_frames: None,
                fresh_masks: false,
            },
            received: Vec::new(),
            close: CloseInfo::default(),
            started: "2025-01-01T00:00:00.000Z".to_string(),
            duration_ms: 1,
            http_request: String::new(),
            http_response: String::new(),
            trace: Vec::new(),
            trace_dropped: 0,
            rx_octet_stats: BTreeMap::new(),
            tx_octet_stats: BTreeMap::new(),
            rx_frame_stats: BTreeMap::new(),
            tx_frame_stats: BTreeMap::new(),
            throughput: None,
        }
    }
}

fn is_client(r: &crate::rules::Role) -> bool {
    *r == crate::rules::Role::Client
}
