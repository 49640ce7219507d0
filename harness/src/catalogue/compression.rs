//! Sections 12 and 13 (Autobahn "WebSocket Compression", 216 cases): 1000 compressed
//! messages, one at a time, each echo checked by type, length and SHA-1.
//!
//! 12.x slides over five data sets (see [`crate::case::dataset`]: generated stand-ins
//! for Autobahn's files, same kind and size) with the default offer; 13.x always uses
//! the JSON set and varies the negotiation. A peer that does not negotiate
//! permessage-deflate gets UNIMPLEMENTED, as in Autobahn.

use crate::case::builder::*;
use crate::case::{
    Case, DeflateAccept, DeflateSpec, EchoCheck, MessageStep, Payload, RoundTripStep, Step,
    TraceMode,
};

/// Message size, case timer and tester fragment size of rows 1–18 (shared by every
/// 12.x and 13.x subsection).
const ROWS: [(usize, f64, Option<usize>); 18] = [
    (16, 60.0, None),
    (64, 60.0, None),
    (256, 120.0, None),
    (1024, 240.0, None),
    (4096, 480.0, None),
    (8192, 480.0, None),
    (16384, 480.0, None),
    (32768, 480.0, None),
    (65536, 480.0, None),
    (131072, 480.0, None),
    (8192, 480.0, Some(256)),
    (16384, 480.0, Some(256)),
    (32768, 480.0, Some(256)),
    (65536, 480.0, Some(256)),
    (131072, 480.0, Some(256)),
    (131072, 480.0, Some(1024)),
    (131072, 480.0, Some(4096)),
    (131072, 480.0, Some(32768)),
];

const DEFAULT_OFFER: &str =
    "permessage-deflate; client_no_context_takeover; client_max_window_bits";

/// The 216 cases of sections 12 and 13, in Autobahn's order.
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    // 12.3 is text sent as binary, as Autobahn does.
    let sets = [
        ("json", false, "large JSON"),
        ("bitmap", true, "a 512×512 grey bitmap"),
        ("text", true, "long German prose (sent as binary)"),
        ("html", false, "a large HTML page"),
        ("pdf", true, "a PDF-like binary"),
    ];
    for (sub, (set, binary, what)) in sets.iter().enumerate() {
        for (row, &(size, within, frag)) in ROWS.iter().enumerate() {
            out.push(one(
                &format!("12.{}.{}", sub + 1, row + 1),
                &format!(
                    "Send 1000 compressed messages of {size} units of {what}{}",
                    frag_note(frag)
                ),
                set,
                *binary,
                (size, within, frag),
                vec![DEFAULT_OFFER.to_string()],
                vec![DeflateAccept::default()],
            ));
        }
    }
    let with = |extra: &str| format!("{DEFAULT_OFFER}{extra}");
    let accept = |nct: bool, bits: Option<u8>| DeflateAccept {
        client_no_context_takeover: nct,
        client_max_window_bits: bits,
    };
    let variants: [(Vec<String>, Vec<DeflateAccept>, &str); 7] = [
        (
            vec![with("")],
            vec![accept(false, None)],
            "the default offer",
        ),
        (
            vec![with("; server_no_context_takeover")],
            vec![accept(true, None)],
            "no context takeover",
        ),
        (
            vec![with("; server_max_window_bits=9")],
            vec![accept(false, Some(9))],
            "a 9-bit window",
        ),
        (
            vec![with("; server_max_window_bits=15")],
            vec![accept(false, Some(15))],
            "a 15-bit window",
        ),
        (
            vec![with(
                "; server_no_context_takeover; server_max_window_bits=9",
            )],
            vec![accept(true, Some(9))],
            "no context takeover and a 9-bit window",
        ),
        (
            vec![with(
                "; server_no_context_takeover; server_max_window_bits=15",
            )],
            vec![accept(true, Some(15))],
            "no context takeover and a 15-bit window",
        ),
        (
            vec![
                with("; server_no_context_takeover; server_max_window_bits=9"),
                with("; server_no_context_takeover"),
                with(""),
            ],
            vec![
                accept(true, Some(9)),
                accept(true, None),
                accept(false, None),
            ],
            "three offers in order of preference",
        ),
    ];
    for (sub, (offer, acc, what)) in variants.into_iter().enumerate() {
        for (row, &(size, within, frag)) in ROWS.iter().enumerate() {
            out.push(one(
                &format!("13.{}.{}", sub + 1, row + 1),
                &format!(
                    "Negotiate {what}, then send 1000 compressed JSON messages of {size} characters{}",
                    frag_note(frag)
                ),
                "json",
                false,
                (size, within, frag),
                offer.clone(),
                acc.clone(),
            ));
        }
    }
    out
}

fn frag_note(frag: Option<usize>) -> String {
    frag.map(|f| format!(", in frames of {f} bytes"))
        .unwrap_or_default()
}

fn one(
    id: &str,
    title: &str,
    set: &str,
    binary: bool,
    (size, within, fragment_size): (usize, f64, Option<usize>),
    offer: Vec<String>,
    accept: Vec<DeflateAccept>,
) -> Case {
    let payload = Payload::Dataset {
        dataset: set.to_string(),
        len: size,
    };
    let mut c = case(id, title)
        .rfc("RFC 7692 §7.2")
        .requirement(
            "With permessage-deflate negotiated, a compressed message MUST inflate to the \
             original, using the negotiated window and context takeover; an echo server \
             sends each back with the same type and content.",
        )
        .step(Step::RoundTrips(RoundTripStep {
            count: 1000,
            message: MessageStep {
                fragment_size,
                compress: true,
                ..message(payload, binary, None)
            },
            check: EchoCheck::Digest,
            within,
        }))
        .expect_events([])
        .tester_closes()
        .build();
    c.deflate = Some(DeflateSpec { offer, accept });
    c.trace = TraceMode::HeadTail;
    c
}
