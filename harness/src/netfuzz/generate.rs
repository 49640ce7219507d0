//! Generating sequences: valid traffic with rule-breaking steps mixed in, and
//! mutated opening handshakes, from a seeded byte source.

use super::source::{source, SplitMix};
use crate::case::{
    CloseStep, FrameStep, Handshake, HandshakeExpect, HandshakeOutcome, Length, Mask, MessageStep,
    Opcode, Payload, Step,
};
use crate::rules::Role;
use arbitrary::Unstructured;
use std::collections::BTreeSet;

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

/// Sequence `n` of `seed` for wsspec in `role`. As server (fuzzing a client) there is
/// no opening request to mutate, and masking is the other way round: frames the
/// client generator would mask go unmasked, and its unmasked rule breakers go masked
/// (with a key drawn from the same seed).
pub fn generate_as(seed: u64, n: u64, max_steps: usize, role: Role) -> Sequence {
    let mut seq = generate(seed, n, max_steps);
    if role == Role::Server {
        seq.handshake = None;
        let mut rng = SplitMix::new(seed ^ n.rotate_left(17));
        for step in &mut seq.steps {
            if let Step::Send(f) = step {
                f.mask = match f.mask {
                    Mask::None => {
                        let k = rng.next_u64().to_le_bytes();
                        Mask::Key(crate::case::encode_hex(&k[..4]))
                    }
                    _ => Mask::None,
                };
            }
        }
    }
    seq
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

pub(super) fn send(opcode: u8, payload: Vec<u8>, fin: bool, mask: Mask) -> FrameStep {
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
        // As server: no handshake mutations, the masking turned round.
        let (mut masked, mut plain) = (0, 0);
        for n in 0..300 {
            let a = generate(5, n, 32);
            let b = generate_as(5, n, 32, Role::Server);
            assert_eq!(b.handshake, None);
            assert_eq!(a.steps.len(), b.steps.len());
            for (x, y) in a.steps.iter().zip(&b.steps) {
                if let (Step::Send(x), Step::Send(y)) = (x, y) {
                    assert_eq!(x.mask == Mask::None, y.mask != Mask::None);
                    if y.mask == Mask::None {
                        plain += 1;
                    } else {
                        masked += 1;
                    }
                }
            }
        }
        assert!(plain > 10 * masked && masked > 0, "{plain} {masked}");
    }
}
