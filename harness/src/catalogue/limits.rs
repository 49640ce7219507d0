//! Section 9 (Autobahn "Limits/Performance", 54 cases): big messages, many frames,
//! chopped writes and 1000 sequential round trips. Each echo is checked on arrival by
//! type and length (Autobahn does not compare the content here); the tester closes
//! with 1000 after the last echo. The cases are timed: they run alone, after the
//! concurrent batch, and report their throughput.

use crate::case::builder::*;
use crate::case::{Case, EchoCheck, MessageStep, Payload, RoundTripStep, Step, TraceMode};

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// The 54 cases of section 9, in Autobahn's order.
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let sizes = [64 * KIB, 256 * KIB, MIB, 4 * MIB, 8 * MIB, 16 * MIB];
    let text_timer = [10.0, 10.0, 100.0, 100.0, 100.0, 100.0];
    let binary_timer = [10.0, 10.0, 10.0, 10.0, 100.0, 100.0];
    for (i, &n) in sizes.iter().enumerate() {
        out.push(one(
            &format!("9.1.{}", i + 1),
            &format!("Send a text message of {} in one frame", human(n)),
            text_pattern(n),
            false,
            (None, None),
            1,
            text_timer[i],
        ));
    }
    for (i, &n) in sizes.iter().enumerate() {
        out.push(one(
            &format!("9.2.{}", i + 1),
            &format!("Send a binary message of {} in one frame", human(n)),
            binary_pattern(n),
            true,
            (None, None),
            1,
            binary_timer[i],
        ));
    }
    let fragments = [
        64,
        256,
        KIB,
        4 * KIB,
        16 * KIB,
        64 * KIB,
        256 * KIB,
        MIB,
        4 * MIB,
    ];
    for (sub, binary) in [(3, false), (4, true)] {
        for (i, &f) in fragments.iter().enumerate() {
            let payload = if binary && i == 0 {
                rep_hex("fe", 4 * MIB)
            } else {
                rep("*", 4 * MIB)
            };
            let kind = if binary { "binary" } else { "text" };
            out.push(one(
                &format!("9.{sub}.{}", i + 1),
                &format!("Send a 4 MiB {kind} message in frames of {}", human(f)),
                payload,
                binary,
                (Some(f), None),
                1,
                100.0,
            ));
        }
    }
    let chops = [64, 128, 256, 512, 1024, 2048];
    for (sub, binary) in [(5, false), (6, true)] {
        for (i, &c) in chops.iter().enumerate() {
            let (payload, kind) = if binary {
                (binary_pattern(MIB), "binary")
            } else {
                (text_pattern(MIB), "text")
            };
            out.push(one(
                &format!("9.{sub}.{}", i + 1),
                &format!("Send a 1 MiB {kind} frame written in TCP chops of {c} bytes"),
                payload,
                binary,
                (None, Some(c)),
                1,
                1000.0,
            ));
        }
    }
    let rtt_sizes = [0, 16, 64, 256, KIB, 4 * KIB];
    let rtt_timer = [60.0, 60.0, 60.0, 120.0, 240.0, 480.0];
    for (sub, binary) in [(7, false), (8, true)] {
        for (i, &n) in rtt_sizes.iter().enumerate() {
            let (payload, kind) = if binary {
                (rep_hex("fe", n), "binary")
            } else {
                (rep("*", n), "text")
            };
            out.push(one(
                &format!("9.{sub}.{}", i + 1),
                &format!("Send 1000 {kind} messages of {n} bytes, one at a time"),
                payload,
                binary,
                (None, None),
                1000,
                rtt_timer[i],
            ));
        }
    }
    out
}

fn text_pattern(n: usize) -> Payload {
    rep("BAsd7&jh23", n)
}

fn binary_pattern(n: usize) -> Payload {
    rep_hex("00fe23faf0", n)
}

fn human(n: usize) -> String {
    match n {
        n if n >= MIB => format!("{} MiB", n / MIB),
        n if n >= KIB => format!("{} KiB", n / KIB),
        n => format!("{n} bytes"),
    }
}

/// One section-9 case: `count` round trips of `payload`, fragmented and/or chopped.
fn one(
    id: &str,
    title: &str,
    payload: Payload,
    binary: bool,
    (fragment_size, chop): (Option<usize>, Option<usize>),
    count: u32,
    within: f64,
) -> Case {
    let mut c = case(id, title)
        .rfc("RFC 6455 §5.4, §10.4")
        .requirement(
            "An endpoint that accepts messages of this size MUST deliver them whole, however \
             they are framed or split into TCP segments; an echo server sends each back with \
             the same type and length.",
        )
        .step(Step::RoundTrips(RoundTripStep {
            count,
            message: MessageStep {
                fragment_size,
                chop,
                ..message(payload, binary, None)
            },
            check: EchoCheck::Length,
            within,
        }))
        .expect_events([])
        .tester_closes()
        .build();
    c.timed = true;
    c.trace = TraceMode::HeadTail;
    c
}
