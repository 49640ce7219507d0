//! The cases of wsspec's own sections (`handshake/…`, `deflate/…`, `security/…`) whose
//! bytes are easier to compute than to type; the rest of those sections is data in
//! `cases/wsspec/{handshake,deflate,security}.json`.
//!
//! * `handshake/pipelined-frame` — a request with a masked frame glued to its end;
//! * `deflate/compressed-fragmented` — one compressed message cut into three frames;
//! * `security/many-headers`, `security/huge-header`, `security/endless-header-line`
//!   and `security/dribbled-header` — requests with thousands of header lines, a header
//!   of 256 KiB, a header line that never ends, and a long header written 64 bytes at a
//!   time.

use crate::case::builder::*;
use crate::case::{Case, Handshake, HandshakeExpect, HandshakeOutcome, Length, Level, Payload};
use crate::wire::{deflate, frame};

/// The smallest valid request, with the placeholders the engine fills in.
const MIN_REQUEST: &str = "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n\
                           Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n\
                           Sec-WebSocket-Version: 13\r\n\r\n";

/// Size of the single oversized header of the huge-header and endless-line cases: well
/// above the request-head limits of common servers (8–64 KiB).
const BIG_HEADER: usize = 256 << 10;

/// Header lines of the many-headers case: above Node's default `maxHeadersCount`
/// (2000), the limit behind CVE-2024-37890.
const MANY_HEADERS: usize = 2100;

/// Every case built here.
pub fn cases() -> Vec<Case> {
    vec![
        pipelined_frame(),
        compressed_fragmented(),
        many_headers(),
        huge_header(),
        endless_header_line(),
        dribbled_header(),
    ]
}

fn with_handshake(mut c: Case, h: Handshake, probe: bool) -> Case {
    c.handshake = Some(h);
    c.probe_after = probe;
    c
}

fn expect(outcome: HandshakeOutcome) -> HandshakeExpect {
    HandshakeExpect {
        outcome,
        ..HandshakeExpect::default()
    }
}

fn raw(bytes: Payload, outcome: HandshakeOutcome) -> Handshake {
    Handshake {
        raw: Some(bytes),
        expect: expect(outcome),
        ..Handshake::default()
    }
}

fn pipelined_frame() -> Case {
    // The masked "Hello" of RFC 6455 §5.7, sent in the same write as the request.
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut bytes = MIN_REQUEST.as_bytes().to_vec();
    bytes.extend(frame::encode_frame(
        true,
        0,
        1,
        Some(key),
        Length::Minimal,
        b"Hello",
    ));
    let c = case(
        "handshake/pipelined-frame",
        "Send a masked text frame right behind the request, before the 101 arrives",
    )
    .rfc("RFC 6455 §4.1")
    .level(Level::May)
    .requirement(
        "A client must wait for the 101 before sending frames, so what a server does with \
         early bytes is not specified: processing them or failing the connection are both \
         seen. Reported as information.",
    )
    .wait(0.5, None)
    .close(Some(1000), None)
    .kill_after(2.0)
    .expect_events([echo_text("Hello")])
    .non_strict([])
    .tester_closes()
    .informational()
    .build();
    with_handshake(
        c,
        raw(Payload::from_bytes(&bytes), HandshakeOutcome::Either),
        false,
    )
}

fn compressed_fragmented() -> Case {
    let text = "permessage-deflate compresses whole messages; ".repeat(8);
    let z = deflate::compress_message(text.as_bytes());
    let (a, rest) = z.split_at(z.len() / 3);
    let (b, c3) = rest.split_at(rest.len() / 2);
    let c = case(
        "deflate/compressed-fragmented",
        "Negotiate permessage-deflate, then send one compressed message in three frames",
    )
    .rfc("RFC 7692 §6")
    .requirement(
        "A compressed message may be fragmented: RSV1 on its first frame only, the \
         compressed bytes spread over the frames. The server MUST reassemble, inflate and \
         echo it.",
    )
    .send(text_frame(a).rsv(4).not_final())
    .send(cont(b).not_final())
    .send(cont(c3))
    .kill_after(2.0)
    .expect_events([echo_text(text.as_str())])
    .tester_closes()
    .build();
    let h = Handshake {
        set: vec![[
            "Sec-WebSocket-Extensions".into(),
            "permessage-deflate".into(),
        ]],
        expect: HandshakeExpect {
            outcome: HandshakeOutcome::Accept,
            needs_deflate: true,
            valid_deflate: true,
            ..HandshakeExpect::default()
        },
        ..Handshake::default()
    };
    with_handshake(c, h, false)
}

fn text_frame(bytes: &[u8]) -> crate::case::FrameStep {
    text(Payload::from_bytes(bytes))
}

fn many_headers() -> Case {
    let mut req = String::from("GET {path} HTTP/1.1\r\nHost: {host}\r\n");
    for i in 0..MANY_HEADERS {
        req.push_str(&format!("X-Wsspec-{i}: {i}\r\n"));
    }
    req.push_str(
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
    );
    let c = case(
        "security/many-headers",
        "Send 2100 header lines before the WebSocket headers (CVE-2024-37890 class)",
    )
    .rfc("RFC 6455 §10.4; RFC 9110 §15.5.20")
    .level(Level::May)
    .requirement(
        "Past a header-count limit a server must refuse the request (431 or 400), not drop \
         headers and go on (ws crashed on a missing Upgrade, CVE-2024-37890). Accepting the \
         whole request is fine too; the server MUST survive.",
    )
    .build();
    with_handshake(c, raw(Payload::Text(req), HandshakeOutcome::Either), true)
}

fn huge_header() -> Case {
    let req = MIN_REQUEST.replacen(
        "\r\n\r\n",
        &format!("\r\nX-Wsspec-Big: {}\r\n\r\n", "a".repeat(BIG_HEADER)),
        1,
    );
    let c = case(
        "security/huge-header",
        "Send a complete handshake with one 256 KiB header (CVE-2023-43669 class)",
    )
    .rfc("RFC 6455 §10.4; RFC 9110 §15.5.20")
    .level(Level::May)
    .requirement(
        "A server may take or refuse (431) a request with a huge header, but reading it must \
         cost bounded memory and time, and the server MUST survive.",
    )
    .build();
    with_handshake(c, raw(Payload::Text(req), HandshakeOutcome::Either), true)
}

fn endless_header_line() -> Case {
    let req = format!(
        "GET {{path}} HTTP/1.1\r\nHost: {{host}}\r\nUpgrade: websocket\r\nX-Wsspec-Endless: {}",
        "a".repeat(BIG_HEADER)
    );
    let c = case(
        "security/endless-header-line",
        "Send a 256 KiB header line that never ends (CVE-2026-54465 class)",
    )
    .rfc("RFC 6455 §10.4; RFC 9110 §15.5.20")
    .level(Level::Should)
    .requirement(
        "A header line without end must be cut off at a bounded size with an error status \
         (431) or a close, not buffered while the server waits for more (websocket-driver \
         CVE-2026-54465).",
    )
    .build();
    with_handshake(c, raw(Payload::Text(req), HandshakeOutcome::Reject), true)
}

fn dribbled_header() -> Case {
    let req = MIN_REQUEST.replacen(
        "\r\n\r\n",
        &format!("\r\nX-Wsspec-Long: {}\r\n\r\n", "b".repeat(48 << 10)),
        1,
    );
    let c = case(
        "security/dribbled-header",
        "Send a handshake with a 48 KiB header in 64-byte writes, 1 ms apart (CVE-2023-43669)",
    )
    .rfc("RFC 6455 §10.4")
    .level(Level::May)
    .requirement(
        "Re-parsing the whole head after every small read is quadratic (tungstenite \
         CVE-2023-43669); a server may take or refuse the request, but MUST stay responsive.",
    )
    .build();
    let mut h = raw(Payload::Text(req), HandshakeOutcome::Either);
    h.chop = Some(64);
    h.delay_ms = Some(1);
    with_handshake(c, h, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Step;

    #[test]
    fn built_cases_are_valid() {
        for c in cases() {
            c.validate().unwrap();
            assert!(c.handshake.is_some(), "{}", c.id);
        }
    }

    #[test]
    fn fragments_join_into_the_compressed_message() {
        let c = compressed_fragmented();
        let mut z = Vec::new();
        for s in &c.steps {
            if let Step::Send(f) = s {
                z.extend(f.payload.bytes());
            }
        }
        let plain = deflate::inflate_bounded(&z, 1 << 20).unwrap();
        assert!(plain.starts_with(b"permessage-deflate compresses"));
    }
}
