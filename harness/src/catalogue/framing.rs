//! Section 1 (Autobahn 1.1.x text, 1.2.x binary): one unfragmented data frame per case,
//! sized to sit on each side of the 7-bit / 16-bit / 64-bit payload-length boundaries.

use crate::case::builder::*;
use crate::case::Case;

/// (payload length, TCP chop size, kill timer in seconds) for cases x.1 … x.8.
const SIZES: [(usize, Option<usize>, f64); 8] = [
    (0, None, 1.0),
    (125, None, 1.0),
    (126, None, 1.0),
    (127, None, 1.0),
    (128, None, 1.0),
    (65535, None, 10.0),
    (65536, None, 10.0),
    (65536, Some(997), 10.0),
];

/// The 16 section-1 cases, 1.1.1 … 1.2.8.
pub fn cases() -> Vec<Case> {
    let mut out = Vec::with_capacity(16);
    for is_binary in [false, true] {
        for (i, &(len, chop, kill)) in SIZES.iter().enumerate() {
            out.push(one(is_binary, i + 1, len, chop, kill));
        }
    }
    out
}

fn one(is_binary: bool, n: usize, len: usize, chop: Option<usize>, kill: f64) -> Case {
    let (sub, kind) = if is_binary {
        (2, "binary")
    } else {
        (1, "text")
    };
    // Text frames repeat '*', binary frames repeat the byte 0xFE.
    let payload = if is_binary {
        rep_hex("fe", len)
    } else {
        rep("*", len)
    };
    let mut frame = if is_binary {
        binary(payload.clone())
    } else {
        text(payload.clone())
    };
    let title = match chop {
        Some(c) => format!(
            "Send a {kind} message of {len} bytes in one frame, written in TCP pieces of {c} bytes"
        ),
        None => format!("Send a {kind} message of {len} bytes in one frame"),
    };
    if let Some(c) = chop {
        frame = frame.chop(c);
    }
    let echo = if is_binary {
        echo_binary(payload)
    } else {
        echo_text(payload)
    };
    case(&format!("1.{sub}.{n}"), &title)
        .rfc("RFC 6455 §5.2")
        .requirement(requirement(len, chop))
        .send(frame)
        .kill_after(kill)
        .expect_events([echo])
        .tester_closes()
        .build()
}

fn requirement(len: usize, chop: Option<usize>) -> &'static str {
    if chop.is_some() {
        return "A frame may reach the receiver spread over many TCP segments; the receiver MUST \
                reassemble it and deliver the message exactly as sent.";
    }
    match len {
        0 => "A data frame with an empty payload is legal; the receiver MUST deliver it as an empty message.",
        1..=125 => "A payload of up to 125 bytes is announced in the 7-bit length field; the receiver \
                    MUST read it and deliver the message exactly as sent.",
        126..=65535 => "A payload of 126 to 65535 bytes is announced in the 16-bit extended length; the \
                        receiver MUST read it and deliver the message exactly as sent.",
        _ => "A payload above 65535 bytes is announced in the 64-bit extended length; the receiver \
              MUST read it and deliver the message exactly as sent.",
    }
}
