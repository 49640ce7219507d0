//! Encoding steps the way the case player does (pieces to write, the byte stream)
//! and finishing a sequence so it ends on a frame boundary ([`prepare`]).

use super::generate::Sequence;
use super::model::{model_as, Model, ModelEnd};
use super::source::SplitMix;
use crate::case::{CloseStep, Handshake, Length, Mask, Payload, Step, WaitStep};
use crate::engine::play::{close_payload, fragments, frame_key};
use crate::rules::Role;
use crate::wire::frame::encode_frame;

/// Largest filler appended to complete a frame whose length lies.
const MAX_FILLER: u64 = 1 << 20;
/// Seconds an echo client gets for its replies before our closing close frame.
const REPLY_WAIT: f64 = 0.5;

/// One write (or, with `flush`, one write followed by a flush and a yield, so the
/// pieces of a chopped frame leave as separate segments).
#[derive(Debug, Clone)]
pub(super) struct Piece {
    pub(super) bytes: Vec<u8>,
    pub(super) flush: bool,
    /// Frames that end in this piece.
    pub(super) frames: u32,
    /// A pause of at most this many seconds before the next piece, cut short once the
    /// peer has sent every event the model expects (a [`Step::Wait`]).
    pub(super) pause: Option<f64>,
}

/// A sequence ready to run: the final steps (with filler and closing close added as
/// the model asks), their bytes, and the model's prediction.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub handshake: Option<Handshake>,
    pub steps: Vec<Step>,
    pub(super) pieces: Vec<Piece>,
    /// Every byte sent after the handshake, in order.
    pub stream: Vec<u8>,
    pub model: Model,
    /// wsspec's role (the steps' default masking and the model follow it).
    pub role: Role,
}

/// The key the player would use, with its random keys drawn from `rng` (a client
/// masks every frame, a server none).
fn mask_key(m: &Mask, rng: &mut SplitMix, role: Role) -> Option<[u8; 4]> {
    frame_key(m, || {
        (role == Role::Client).then(|| {
            rng.next_u64().to_le_bytes()[..4]
                .try_into()
                .unwrap_or([0; 4])
        })
    })
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
                    pause: None,
                });
            }
        }
        _ => out.push(Piece {
            bytes: wire,
            flush: sync,
            frames: 1,
            pause: None,
        }),
    }
}

/// Encode steps as the player would (the player's random mask keys come from `rng`).
pub(super) fn encode(steps: &[Step], rng: &mut SplitMix, role: Role) -> Vec<Piece> {
    let mut out = Vec::new();
    for s in steps {
        match s {
            Step::Send(f) => {
                let key = mask_key(&f.mask, rng, role);
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
                    let key = mask_key(&Mask::Auto, rng, role);
                    let wire = encode_frame(fin, 0, op, key, Length::Minimal, piece);
                    push_frame(&mut out, wire, m.chop, m.sync);
                }
            }
            Step::Close(c) => {
                let reason = c.reason.as_ref().map(Payload::bytes).unwrap_or_default();
                let payload = close_payload(c.code, &reason);
                let key = mask_key(&Mask::Auto, rng, role);
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
                pause: None,
            }),
            Step::Wait(w) => out.push(Piece {
                bytes: Vec::new(),
                flush: true,
                frames: 0,
                pause: Some(w.seconds),
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
    prepare_as(seq, key_seed, Role::Client)
}

/// [`prepare`] for wsspec in `role` (as server: frames unmasked, the model is a
/// conformant echo client).
pub fn prepare_as(seq: &Sequence, key_seed: u64, role: Role) -> Prepared {
    let mut rng = SplitMix::new(key_seed);
    let mut steps = seq.steps.clone();
    let mut pieces = encode(&steps, &mut rng, role);
    let mut stream: Vec<u8> = Vec::with_capacity(pieces.iter().map(|p| p.bytes.len()).sum());
    for p in &pieces {
        stream.extend_from_slice(&p.bytes);
    }
    let mut m = model_as(&stream, role);
    let mut append =
        |step: Step, pieces: &mut Vec<Piece>, stream: &mut Vec<u8>, steps: &mut Vec<Step>| {
            for p in encode(std::slice::from_ref(&step), &mut rng, role) {
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
                m = model_as(&stream, role);
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
    // An echo client answers in its own time: our closing close frame waits for the
    // replies (a client that reads the close first may drop its pending echoes).
    if role == Role::Server && matches!(m.end, ModelEnd::Closed { .. }) && !m.events.is_empty() {
        if let Some(k) = steps.iter().rposition(|s| matches!(s, Step::Close(_))) {
            steps.insert(
                k,
                Step::Wait(WaitStep {
                    seconds: REPLY_WAIT,
                    tag: None,
                }),
            );
            // Server frames take no random keys: the same bytes again, with the pause.
            pieces = encode(&steps, &mut SplitMix::new(key_seed), role);
        }
    }
    Prepared {
        handshake: seq.handshake.clone(),
        model: m,
        role,
        steps,
        pieces,
        stream,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netfuzz::generate::generate;

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
                encode(&p.steps, &mut SplitMix::new(n), Role::Client)
                    .iter()
                    .map(|x| x.bytes.len())
                    .sum::<usize>(),
                p.stream.len()
            );
        }
    }

    #[test]
    #[ignore]
    fn bench_generation() {
        let t = std::time::Instant::now();
        let seqs: Vec<Sequence> = (0..2000).map(|n| generate(1, n, 32)).collect();
        eprintln!("generated in {:?}", t.elapsed());
        let t = std::time::Instant::now();
        for (n, s) in seqs.iter().enumerate() {
            let _ = encode(&s.steps, &mut SplitMix::new(n as u64), Role::Client);
        }
        eprintln!("encoded in {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let mut frames = 0;
        for n in 0..2000 {
            let p = prepare(&generate(1, n, 32), n);
            frames += p.pieces.iter().map(|x| u64::from(x.frames)).sum::<u64>();
        }
        eprintln!(
            "2000 sequences prepared in {:?}, {frames} frames",
            t.elapsed()
        );
    }
}
