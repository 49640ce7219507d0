//! Fuzz entry points: one function per cargo-fuzz target in `fuzz/fuzz_targets/`, each
//! taking the raw fuzz input. They are compiled into the library (not behind a
//! feature) so that `cargo test` replays the committed corpora and regressions through
//! exactly the same code (`harness/tests/fuzz_corpus.rs`).
//!
//! The oracle is typed, never just "does not crash": every entry point returns
//! normally when the code under test returned a value or one of its documented
//! errors and all invariants hold, and **panics** otherwise (libFuzzer reports the
//! panic as a crash). Every loop is bounded by the input size.
//!
//! Input conventions:
//!
//! * *segmentation*: where a parser is incremental, part of the input decides how the
//!   bytes are split into pushes (uWebSockets' `makeChunked`: each chunk starts with a
//!   length byte, 0 = the rest), since most length and state bugs sit on boundaries;
//! * *structure*: where raw bytes rarely get deep (frame streams), the input is decoded
//!   with `arbitrary` into typed specs that are then encoded.
//!
//! | target | code under test | oracle |
//! |---|---|---|
//! | `frame_decoder` | [`FrameDecoder`] on raw bytes, segmented | after every push, the same frames (or "incomplete", or `TooLarge`) as an independent reference decoder; sticky error; byte accounting |
//! | `frame_stream` | [`encode_frame`] + [`FrameDecoder`] on arbitrary frame specs, segmented | decodes to exactly the specs |
//! | `frame_vs_tungstenite` | [`FrameDecoder`] + RFC 6455 rules vs tungstenite 0.30 (server role) | same messages, same accept/reject/EOF |
//! | `handshake_request` / `handshake_response` | [`handshake::parse_request`] / [`handshake::parse_response`], segmented | prefixes are "incomplete" until the head is complete, then the same head; documented errors only |
//! | `extensions` | [`extensions`] parse, display, negotiate, check_response | round trip; window bits 8–15; answer ≤ offer; client accepts the server's answer |
//! | `inflate` | [`deflate::inflate_bounded`] | output ≤ bound; re-compression round-trips |
//! | `case_file` | [`crate::case::json::parse_cases`] | `CaseFile` error or cases that survive a JSON round trip |
//! | `utf8` | [`Utf8Validator`], segmented | differential against `std::str::from_utf8` incl. the failing index |

use crate::case::json::parse_cases;
use crate::case::Length;
use crate::wire::close_code;
use crate::wire::deflate::{self, InflateError};
use crate::wire::extensions::{self, PmdOffer};
use crate::wire::frame::{encode_frame, DecodeError, Frame, FrameDecoder};
use crate::wire::handshake::{self, HandshakeError};
use crate::wire::utf8::{Utf8Status, Utf8Validator};
use arbitrary::{Arbitrary, Unstructured};

/// A fuzz entry point: takes the raw input, panics on a finding.
pub type EntryPoint = fn(&[u8]);

/// Every target: name (= `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`) and
/// entry point.
pub const TARGETS: &[(&str, EntryPoint)] = &[
    ("frame_decoder", frame_decoder),
    ("frame_stream", frame_stream),
    ("frame_vs_tungstenite", frame_vs_tungstenite),
    ("handshake_request", handshake_request),
    ("handshake_response", handshake_response),
    ("extensions", extensions_negotiation),
    ("inflate", inflate),
    ("case_file", case_file),
    ("utf8", utf8),
];

/// The entry point of a target by name.
pub fn entry_point(name: &str) -> Option<EntryPoint> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

// ----- segmentation ------------------------------------------------------------------

/// Split `data` into chunks the way uWebSockets' `makeChunked` does: each chunk is a
/// length byte followed by that many bytes; a length of 0 (or one past the end) means
/// "the rest". Returns the chunks (their concatenation is the logical stream).
pub fn chunked(data: &[u8]) -> Vec<&[u8]> {
    chunks(data).collect()
}

/// [`chunked`] as an iterator (nothing allocated).
pub fn chunks(data: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    let mut rest = data;
    std::iter::from_fn(move || {
        let (&n, tail) = rest.split_first()?;
        let n = usize::from(n);
        if n == 0 || n >= tail.len() {
            rest = &[];
            return (!tail.is_empty()).then_some(tail);
        }
        rest = &tail[n..];
        Some(&tail[..n])
    })
}

/// Cut `stream` at the positions given by `cuts` (each taken modulo what is left, plus
/// one); whatever remains after the cuts run out is one last piece.
pub fn cut<'a>(stream: &'a [u8], cuts: &[u16]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = stream;
    for &c in cuts {
        if rest.is_empty() {
            break;
        }
        let n = usize::from(c) % rest.len() + 1;
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

// ----- frame decoder -------------------------------------------------------------

/// Payload limits a decoder input can ask for (first input byte, modulo the count).
const LIMITS: [u64; 6] = [0, 1, 125, 300, 70_000, u64::MAX];

/// A frame as the reference decoder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RefFrame {
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: Vec<u8>,
    declared_len: u64,
    minimal_length: bool,
    wire_len: usize,
}

/// A frame header as the reference decoder sees it; the payload is
/// `b[header_len..header_len + declared_len]` of the bytes it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RefHeader {
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    declared_len: u64,
    minimal_length: bool,
    header_len: usize,
}

/// What the reference decoder finds at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefNext {
    /// A whole frame is there.
    Frame(RefHeader),
    /// Not enough bytes for the next frame.
    Incomplete,
    /// A header declares this many bytes, over the limit (or with the top bit set).
    TooLarge(u64),
}

/// An independent, deliberately plain decoder of the first frame of `b` (RFC 6455
/// §5.2), written from the RFC and not from [`FrameDecoder`].
fn reference_next(b: &[u8], limit: u64) -> RefNext {
    if b.len() < 2 {
        return RefNext::Incomplete;
    }
    let (b0, b1) = (b[0], b[1]);
    let code = b1 & 0x7f;
    let ext = match code {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    if b.len() < 2 + ext {
        return RefNext::Incomplete;
    }
    let mut len: u64 = u64::from(code);
    if ext > 0 {
        len = 0;
        for &x in &b[2..2 + ext] {
            len = (len << 8) | u64::from(x);
        }
    }
    let minimal = match ext {
        2 => len >= 126,
        8 => len >= 65536,
        _ => true,
    };
    // The top bit of a 64-bit length must be 0: such a length is always too large.
    if len > limit || len >= 1 << 63 {
        return RefNext::TooLarge(len);
    }
    let masked = b1 & 0x80 != 0;
    let hlen = 2 + ext + if masked { 4 } else { 0 };
    if (b.len() as u64) < hlen as u64 + len {
        return RefNext::Incomplete;
    }
    let mask = masked.then(|| [b[hlen - 4], b[hlen - 3], b[hlen - 2], b[hlen - 1]]);
    RefNext::Frame(RefHeader {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 7,
        opcode: b0 & 15,
        mask,
        declared_len: len,
        minimal_length: minimal,
        header_len: hlen,
    })
}

/// XOR `buf` with `key` (RFC 6455 §5.3, `buf[i] ^ key[i % 4]`), eight bytes at a time
/// so that the fuzz oracle stays cheap; written apart from `frame::apply_mask`.
fn xor_key(buf: &mut [u8], key: [u8; 4]) {
    let k = u64::from_le_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut words = buf.chunks_exact_mut(8);
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ k;
        w.copy_from_slice(&x.to_le_bytes());
    }
    // 8 is a multiple of 4: the remainder starts again at key[0].
    for (j, x) in words.into_remainder().iter_mut().enumerate() {
        *x ^= key[j & 3];
    }
}

/// Assert that `f`, decoded from the start of `b`, is the frame the reference sees
/// there (every header field; the payload is the wire payload unmasked).
fn assert_reference_frame(mut f: Frame, r: &RefHeader, b: &[u8]) {
    let wire_len = r.header_len + r.declared_len as usize;
    let got = (
        f.fin,
        f.rsv,
        f.opcode,
        f.mask,
        f.declared_len,
        f.minimal_length,
    );
    let want = (
        r.fin,
        r.rsv,
        r.opcode,
        r.mask,
        r.declared_len,
        r.minimal_length,
    );
    assert!(
        got == want && f.wire_len == wire_len,
        "frame header {f:?}, reference {r:?} (wire length {wire_len})"
    );
    // Mask our (unmasked) payload again and compare it with the wire bytes.
    if let Some(k) = r.mask {
        xor_key(&mut f.payload, k);
    }
    // (Most frames libFuzzer generates are empty: skip the memcmp call for those.)
    let wire = &b[r.header_len..wire_len];
    assert!(
        f.payload.len() == wire.len() && (wire.is_empty() || f.payload[..] == *wire),
        "payload of {f:?} differs from the wire bytes"
    );
}

/// Does a decoded frame equal the reference's (every field)?
fn same(f: &Frame, r: &RefFrame) -> bool {
    f.fin == r.fin
        && f.rsv == r.rsv
        && f.opcode == r.opcode
        && f.mask == r.mask
        && f.declared_len == r.declared_len
        && f.minimal_length == r.minimal_length
        && f.wire_len == r.wire_len
        && f.payload == r.payload
}

/// Assert that `got` starts with exactly the frames of `want`.
fn assert_frames(got: &[Frame], want: &[RefFrame], what: &str) {
    assert!(
        got.len() >= want.len(),
        "{what}: {} frames, expected {}",
        got.len(),
        want.len()
    );
    for (i, (f, r)) in got.iter().zip(want).enumerate() {
        assert!(same(f, r), "{what}: frame {i} is {f:?}, expected {r:?}");
    }
}

/// Push `pieces` into a fresh decoder with `limit`, draining after every push, and
/// check the decoder's own invariants on the way. Returns the frames and the error.
fn decode_pieces(pieces: &[&[u8]], limit: u64) -> (Vec<Frame>, Option<DecodeError>) {
    let mut d = FrameDecoder::new(limit);
    let mut frames: Vec<Frame> = Vec::new();
    let mut error: Option<DecodeError> = None;
    let mut pushed = 0usize;
    let mut consumed = 0usize;
    for piece in pieces {
        d.push(piece);
        pushed += piece.len();
        let _ = d.pending_header();
        // Bounded: each round returns a frame (consuming ≥ 2 bytes) or stops.
        loop {
            match d.next_frame() {
                Ok(Some(f)) => {
                    assert!(error.is_none(), "a frame after a sticky error");
                    assert_eq!(f.payload.len() as u64, f.declared_len);
                    assert!(f.declared_len <= limit);
                    assert!(f.wire_len >= 2 + f.payload.len());
                    consumed += f.wire_len;
                    frames.push(f);
                }
                Ok(None) => {
                    assert!(error.is_none(), "the error was not sticky");
                    break;
                }
                Err(e) => {
                    if let Some(prev) = &error {
                        assert_eq!(prev, &e, "the sticky error changed");
                    }
                    error = Some(e);
                    break;
                }
            }
        }
        if error.is_none() {
            assert_eq!(consumed + d.buffered(), pushed, "bytes lost or invented");
        }
    }
    (frames, error)
}

/// Target `frame_decoder`: raw bytes, segmented. Input: one byte choosing the payload
/// limit, then `makeChunked` chunks of the stream (see [`chunked`]).
///
/// Oracle, after every push: the decoder returns exactly the frames an independent
/// reference decoder finds in the bytes pushed so far, says "incomplete" exactly when
/// the reference does, fails with `TooLarge` exactly where the reference sees a
/// too-large length and keeps that error through later pushes, and accounts for every
/// byte. The check walks the stream once and allocates nothing per frame beyond what
/// the decoder itself does, so the target stays fast (see `fuzz/README.md`).
pub fn frame_decoder(data: &[u8]) {
    thread_local! {
        /// The logical stream, reused between inputs.
        static STREAM: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let limit = LIMITS[usize::from(sel) % LIMITS.len()];
    STREAM.with_borrow_mut(|stream| {
        stream.clear();
        chunks(rest).for_each(|p| stream.extend_from_slice(p));
        let mut d = FrameDecoder::new(limit);
        let mut error: Option<DecodeError> = None;
        // Stream offset of the next frame, and bytes pushed so far.
        let (mut at, mut pushed) = (0usize, 0usize);
        for piece in chunks(rest) {
            d.push(piece);
            pushed += piece.len();
            let _ = d.pending_header();
            if let Some(e) = &error {
                assert_eq!(d.next_frame().as_ref(), Err(e), "the error was not sticky");
                continue;
            }
            // Bounded: each round returns a frame (consuming ≥ 2 bytes) or stops.
            loop {
                let seen = &stream[at..pushed];
                match (d.next_frame(), reference_next(seen, limit)) {
                    (Ok(Some(f)), RefNext::Frame(r)) => {
                        assert!(f.declared_len <= limit);
                        at += f.wire_len;
                        assert_reference_frame(f, &r, seen);
                    }
                    (Ok(None), RefNext::Incomplete) => break,
                    (Err(e), RefNext::TooLarge(n)) => {
                        let DecodeError::TooLarge { declared, .. } = e;
                        assert_eq!(declared, n, "declared length");
                        error = Some(e);
                        break;
                    }
                    (got, want) => panic!("decoder gave {got:?}, reference {want:?}"),
                }
            }
            if error.is_none() {
                assert_eq!(at + d.buffered(), pushed, "bytes lost or invented");
            }
        }
    });
}

/// How the length of a generated frame is written.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum LengthForm {
    Minimal,
    Force16,
    Force64,
}

/// A generated payload: literal bytes, or a byte repeated (reaches every length form
/// with few input bytes).
#[derive(Debug, Clone, Arbitrary)]
enum PayloadSpec {
    Bytes(Vec<u8>),
    Fill { byte: u8, len: FillLen },
}

/// Length of a repeated-byte payload: mostly short (7- and 16-bit forms); one time in
/// 32 around 64 KiB, across the boundary of the 64-bit form.
#[derive(Debug, Clone, Copy)]
struct FillLen(usize);

impl<'a> Arbitrary<'a> for FillLen {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let sel = u8::arbitrary(u)?;
        let n = usize::from(u16::arbitrary(u)?);
        Ok(FillLen(match sel % 32 {
            0 => 65536 - 512 + n % 1024,
            1..=15 => n % 4096,
            _ => n % 256,
        }))
    }
}

impl PayloadSpec {
    fn bytes(&self) -> Vec<u8> {
        match self {
            PayloadSpec::Bytes(b) => b.clone(),
            PayloadSpec::Fill { byte, len } => vec![*byte; len.0],
        }
    }
}

/// One generated frame.
#[derive(Debug, Clone, Arbitrary)]
struct FrameSpec {
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    length: LengthForm,
    payload: PayloadSpec,
}

/// Input of `frame_stream`.
#[derive(Debug, Clone, Arbitrary)]
struct StreamInput {
    limit: u8,
    frames: Vec<FrameSpec>,
    /// Segmentation of the encoded stream (see [`cut`]).
    cuts: Vec<u16>,
    /// Bytes after the last frame (garbage or a partial frame).
    tail: Vec<u8>,
}

/// Target `frame_stream`: structured. The input is decoded with `arbitrary` into frame
/// specs (any FIN/RSV/opcode/mask, every length form, payloads up to 66047 bytes), a
/// segmentation and trailing garbage; the specs are encoded with [`encode_frame`] and
/// the stream pushed in pieces.
///
/// Oracle: the frames come back exactly as specified (header fields, payload,
/// declared length, minimality, wire length) up to the first one over the limit,
/// which must be reported as `TooLarge`.
pub fn frame_stream(data: &[u8]) {
    let Ok(input) = StreamInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    thread_local! {
        /// The encoded stream, reused between inputs: a fresh buffer of a few hundred
        /// KiB per execution cost more in page faults than the check itself.
        static STREAM: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let limit = LIMITS[usize::from(input.limit) % LIMITS.len()];
    let mut stream = STREAM.with_borrow_mut(std::mem::take);
    stream.clear();
    let mut want = Vec::new();
    let mut too_large = None;
    for s in &input.frames {
        let payload = s.payload.bytes();
        let len = payload.len() as u64;
        let length = match s.length {
            LengthForm::Minimal => Length::Minimal,
            LengthForm::Force16 => Length::Force16,
            LengthForm::Force64 => Length::Force64,
        };
        let wire = encode_frame(s.fin, s.rsv, s.opcode, s.mask, length, &payload);
        let minimal = match s.length {
            LengthForm::Minimal => true,
            LengthForm::Force16 => len >= 126,
            LengthForm::Force64 => len >= 65536,
        };
        if too_large.is_none() {
            if len > limit {
                too_large = Some(len);
            } else {
                want.push(RefFrame {
                    fin: s.fin,
                    rsv: s.rsv & 7,
                    opcode: s.opcode & 15,
                    mask: s.mask,
                    payload,
                    declared_len: len,
                    minimal_length: minimal,
                    wire_len: wire.len(),
                });
            }
        }
        stream.extend_from_slice(&wire);
    }
    let frames_end = stream.len();
    stream.extend_from_slice(&input.tail);
    let pieces = cut(&stream, &input.cuts);
    let (frames, error) = decode_pieces(&pieces, limit);
    assert_frames(
        &frames,
        &want,
        "encoded frames did not decode to their specs",
    );
    match too_large {
        Some(n) => assert_eq!(
            error,
            Some(DecodeError::TooLarge {
                declared: n,
                limit: limit.min(i64::MAX as u64)
            }),
            "a frame over the limit was not refused"
        ),
        None => {
            // The tail may hold anything, but not before the specified frames end.
            let consumed: usize = frames.iter().take(want.len()).map(|f| f.wire_len).sum();
            assert_eq!(consumed, frames_end);
        }
    }
    STREAM.with_borrow_mut(|b| *b = stream);
}

// ----- differential against tungstenite ---------------------------------------------

/// What a server-role receiver delivers, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Text(Vec<u8>),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// Close code (after the receiver's normalisation) and reason.
    Close(Option<(u16, Vec<u8>)>),
}

/// How reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// A rule was broken: fail the connection.
    Reject,
    /// The input ended (at a frame boundary or inside a frame) with nothing wrong yet.
    Eof,
    /// A close frame was received: nothing more is read.
    Closed,
}

/// tungstenite's default frame size limit, which our side uses too.
const TUNGSTENITE_MAX_FRAME: u64 = 16 << 20;

/// Our server-role receive path: [`FrameDecoder`] plus the RFC 6455 rules a server
/// applies, in the order that makes the outcome comparable with tungstenite:
///
/// * on a complete header: a reserved opcode (3–7, 11–15) and a length over the frame
///   limit reject at once (before the payload arrives);
/// * on a complete frame: RSV ≠ 0 (no extension), an unmasked frame (client frames
///   must be masked), a control frame that is fragmented or longer than 125 bytes, a
///   1-byte close payload, a close reason that is not UTF-8, a continuation without a
///   message, a data frame inside a message, and invalid UTF-8 in text (checked per
///   frame, fail-fast at frame granularity; a message may not end inside a code point)
///   reject;
/// * a close frame ends reading; a close code that may not be sent is reported as
///   1002, which is what tungstenite replies (it accepts the frame and closes).
fn our_receiver(stream: &[u8]) -> (Vec<Item>, End) {
    let mut d = FrameDecoder::new(TUNGSTENITE_MAX_FRAME);
    d.push(stream);
    let mut items = Vec::new();
    let mut msg: Option<(u8, Vec<u8>)> = None;
    let mut utf8 = Utf8Validator::new();
    loop {
        let f = match d.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => {
                let end = match d.pending_header() {
                    Some((_, _, 3..=7 | 11..=15, _, _)) => End::Reject,
                    _ => End::Eof,
                };
                return (items, end);
            }
            Err(DecodeError::TooLarge { .. }) => {
                // tungstenite checks the length once the whole header (mask key
                // included) is there.
                let end = match d.pending_header() {
                    Some(_) => End::Reject,
                    None => End::Eof,
                };
                return (items, end);
            }
        };
        let reject = (items.clone(), End::Reject);
        if matches!(f.opcode, 3..=7 | 11..=15) || f.rsv != 0 || f.mask.is_none() {
            return reject;
        }
        if f.is_control() {
            if !f.fin || f.payload.len() > 125 {
                return reject;
            }
            match f.opcode {
                8 => {
                    let close = match f.payload.as_slice() {
                        [] => None,
                        [_] => return reject,
                        [a, b, reason @ ..] => {
                            if std::str::from_utf8(reason).is_err() {
                                return reject;
                            }
                            let code = u16::from_be_bytes([*a, *b]);
                            // Known divergence: tungstenite 0.30 has no name for 1014
                            // (registered after RFC 6455) and treats it as invalid.
                            if close_code::is_valid_on_wire(code) && code != 1014 {
                                Some((code, reason.to_vec()))
                            } else {
                                Some((1002, b"Protocol violation".to_vec()))
                            }
                        }
                    };
                    items.push(Item::Close(close));
                    return (items, End::Closed);
                }
                9 => items.push(Item::Ping(f.payload)),
                _ => items.push(Item::Pong(f.payload)),
            }
            continue;
        }
        let (opcode, mut buf) = match (f.opcode, msg.take()) {
            (0, Some(m)) => m,
            (0, None) | (_, Some(_)) => return reject,
            (op, None) => {
                utf8.reset();
                (op, Vec::new())
            }
        };
        if opcode == 1 {
            if let Utf8Status::Invalid { .. } = utf8.feed(&f.payload) {
                return reject;
            }
        }
        buf.extend_from_slice(&f.payload);
        if !f.fin {
            msg = Some((opcode, buf));
            continue;
        }
        if opcode == 1 {
            if utf8.status() != (Utf8Status::Valid { complete: true }) {
                return reject;
            }
            items.push(Item::Text(buf));
        } else {
            items.push(Item::Binary(buf));
        }
    }
}

/// A socket for tungstenite: reads come from the input in pieces, writes vanish.
struct MockSocket<'a> {
    pieces: std::vec::IntoIter<&'a [u8]>,
    current: &'a [u8],
}

impl std::io::Read for MockSocket<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.pieces.next() {
                Some(p) => self.current = p,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = &self.current[n..];
        Ok(n)
    }
}

impl std::io::Write for MockSocket<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// tungstenite 0.30 reading the same bytes as a server, message by message.
fn tungstenite_receiver(pieces: Vec<&[u8]>) -> (Vec<Item>, End) {
    use tungstenite::error::{Error as TError, ProtocolError};
    use tungstenite::protocol::{Role, WebSocket};
    use tungstenite::Message;
    let sock = MockSocket {
        pieces: pieces.into_iter(),
        current: &[],
    };
    let mut ws = WebSocket::from_raw_socket(sock, Role::Server, None);
    let mut items = Vec::new();
    // Each successful read consumes at least one frame header (2 bytes).
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => items.push(Item::Text(t.as_bytes().to_vec())),
            Ok(Message::Binary(b)) => items.push(Item::Binary(b.to_vec())),
            Ok(Message::Ping(p)) => items.push(Item::Ping(p.to_vec())),
            Ok(Message::Pong(p)) => items.push(Item::Pong(p.to_vec())),
            Ok(Message::Close(c)) => items.push(Item::Close(
                c.map(|c| (u16::from(c.code), c.reason.as_bytes().to_vec())),
            )),
            Ok(Message::Frame(_)) => panic!("tungstenite returned a raw frame while reading"),
            Err(TError::ConnectionClosed | TError::AlreadyClosed) => return (items, End::Closed),
            Err(TError::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => {
                return (items, End::Eof)
            }
            Err(TError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return (items, End::Eof)
            }
            Err(TError::Protocol(_) | TError::Utf8(_) | TError::Capacity(_)) => {
                return (items, End::Reject)
            }
            Err(e) => panic!("tungstenite failed in an undocumented way: {e:?}"),
        }
    }
}

/// Target `frame_vs_tungstenite`: differential against tungstenite 0.30, server role.
/// Input: one byte choosing tungstenite's read sizes (segmentation), then the bytes a
/// client sends.
///
/// "Accept" is defined on our side as [`FrameDecoder`] plus the rules of RFC 6455 a
/// server applies (see `our_receiver`): our decoder does not judge. Both sides must
/// deliver the same messages (payloads compared byte for byte) and stop the same way:
/// reject, end of input, or closed after a close frame.
pub fn frame_vs_tungstenite(data: &[u8]) {
    let Some((&sel, stream)) = data.split_first() else {
        return;
    };
    let size = usize::from(sel % 32) + 1;
    let pieces: Vec<&[u8]> = if sel >= 128 {
        vec![stream]
    } else {
        stream.chunks(size).collect()
    };
    let ours = our_receiver(stream);
    let theirs = tungstenite_receiver(pieces);
    assert_eq!(
        ours, theirs,
        "wsspec's receive rules and tungstenite disagree"
    );
}

// ----- handshake heads ---------------------------------------------------------------

/// Check the incremental contract of a head parser on `head`, pushed in `pieces`.
/// `parse(buf, max)` is one of the two parsers; `head_len` gets the parsed head's length.
fn check_incremental<T: PartialEq + std::fmt::Debug>(
    stream: &[u8],
    pieces: &[&[u8]],
    max_head: usize,
    parse: impl Fn(&[u8], usize) -> Result<Option<T>, HandshakeError>,
    head_len: impl Fn(&T) -> usize,
) -> Result<Option<T>, HandshakeError> {
    let full = parse(stream, max_head);
    match &full {
        Ok(Some(h)) => {
            let n = head_len(h);
            assert!(
                n >= 4 && n <= stream.len() && n <= max_head,
                "head_len {n} out of range"
            );
            assert!(stream[..n].ends_with(b"\n"), "a head ends with a line feed");
        }
        Ok(None) => assert!(stream.len() <= max_head),
        Err(HandshakeError::TooLarge(m)) => assert_eq!(*m, max_head),
        Err(_) => {}
    }
    // The same bytes arriving in pieces: "incomplete" until the head is complete, then
    // exactly the same head; an error on a prefix means an error on the whole.
    let mut buf = Vec::with_capacity(stream.len());
    for piece in pieces {
        buf.extend_from_slice(piece);
        let r = parse(&buf, max_head);
        match (&r, &full) {
            (Ok(None), Ok(None) | Err(_)) => {}
            (Ok(None), Ok(Some(h))) => assert!(buf.len() < head_len(h), "complete head not seen"),
            (Ok(Some(a)), Ok(Some(b))) => assert_eq!(a, b, "a prefix parsed differently"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("prefix of {} bytes gave {a:?}, the whole {b:?}", buf.len()),
        }
    }
    full
}

/// Pieces of a head: `(sel >> 2) + 1` bytes each, but at most 64 of them (every piece
/// costs a parse of everything so far).
fn head_pieces(stream: &[u8], sel: u8) -> Vec<&[u8]> {
    let size = (usize::from(sel >> 2) + 1).max(stream.len().div_ceil(64));
    stream.chunks(size.max(1)).collect()
}

/// Head size limits a handshake input can ask for.
const HEAD_LIMITS: [usize; 4] = [16, 256, 8 << 10, 64 << 10];

/// Target `handshake_request`: [`handshake::parse_request`] on raw bytes. Input: one
/// byte choosing the head limit and the push size, then the request bytes.
///
/// Oracle: a request, "incomplete", or one of the documented [`HandshakeError`]s
/// (`TooLarge` with the given limit, `MalformedRequest`); the incremental contract of
/// `check_incremental`; header lookups agree with the header list.
pub fn handshake_request(data: &[u8]) {
    let Some((&sel, stream)) = data.split_first() else {
        return;
    };
    let max_head = HEAD_LIMITS[usize::from(sel & 3)];
    let pieces = head_pieces(stream, sel);
    let r = check_incremental(stream, &pieces, max_head, handshake::parse_request, |h| {
        h.head_len
    });
    match r {
        Ok(Some(req)) => {
            assert!(req.version <= 1);
            for (name, value) in &req.headers {
                let first = req.header(name).expect("a listed header is found");
                assert!(req.headers_named(name).contains(&first));
                assert!(req.headers_named(name).contains(&value.as_str()));
            }
        }
        Ok(None) | Err(HandshakeError::TooLarge(_) | HandshakeError::MalformedRequest(_)) => {}
        Err(e) => panic!("undocumented request error {e:?}"),
    }
}

/// Target `handshake_response`: [`handshake::parse_response`] and
/// [`handshake::check_response`] on raw bytes. Input as for `handshake_request`.
///
/// Oracle: as for requests (`Malformed` is the response error); `check_response`
/// returns a verdict for any parsed head; and a response built by
/// [`handshake::build_response`] with the head's headers as extras still parses back.
pub fn handshake_response(data: &[u8]) {
    let Some((&sel, stream)) = data.split_first() else {
        return;
    };
    let max_head = HEAD_LIMITS[usize::from(sel & 3)];
    let pieces = head_pieces(stream, sel);
    let r = check_incremental(stream, &pieces, max_head, handshake::parse_response, |h| {
        h.head_len
    });
    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    match r {
        Ok(Some(resp)) => {
            let verdict = handshake::check_response(&resp, KEY);
            if verdict.is_ok() {
                assert_eq!(resp.status, 101);
                assert_eq!(resp.headers_named("Sec-WebSocket-Accept").len(), 1);
            }
            // Headers that came through httparse are valid to write back (when they
            // are text: lossy conversion may have replaced bytes with U+FFFD).
            let extra: Vec<(String, String)> = resp
                .headers
                .iter()
                .filter(|(_, v)| !v.contains('\u{fffd}') && !v.contains(['\r', '\n']))
                .take(100)
                .cloned()
                .collect();
            let built = handshake::build_response(KEY, &extra);
            let back = handshake::parse_response(&built, built.len())
                .expect("a built response parses")
                .expect("a built response is complete");
            assert_eq!(back.status, 101);
            assert_eq!(back.headers.len(), 3 + extra.len());
        }
        Ok(None) | Err(HandshakeError::TooLarge(_) | HandshakeError::Malformed(_)) => {}
        Err(e) => panic!("undocumented response error {e:?}"),
    }
}

// ----- Sec-WebSocket-Extensions and permessage-deflate ----------------------------

fn check_params(p: &extensions::PmdParams) {
    for b in [p.server_max_window_bits, p.client_max_window_bits]
        .into_iter()
        .flatten()
    {
        assert!((8..=15).contains(&b), "window bits {b} out of 8..15");
    }
}

/// Target `extensions`: the input is text; up to the first newline it is a request's
/// `Sec-WebSocket-Extensions` value, after it a response's.
///
/// Oracle (server side): parsing gives extensions or a [`extensions::ParseError`];
/// writing the parsed extensions back and parsing again gives the same; the negotiated
/// answer has window bits in 8–15, fits the offer it answers (never more than offered,
/// `server_no_context_takeover` echoed, `client_max_window_bits` only if offered) and
/// is accepted by the client-side check. (Client side): any response the check accepts
/// has window bits in 8–15 and fits the offer.
pub fn extensions_negotiation(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (offer_text, response_text) = text.split_once('\n').unwrap_or((&text, ""));
    let offers = match extensions::parse(offer_text) {
        Ok(o) => o,
        Err(e) => {
            assert!(e.at <= offer_text.len());
            return;
        }
    };
    // Round trip through the writer.
    let written: Vec<String> = offers.iter().map(ToString::to_string).collect();
    let reparsed = extensions::parse(&written.join(", ")).expect("written extensions parse");
    assert_eq!(
        reparsed, offers,
        "extensions changed through a write and parse"
    );

    if let Some(p) = extensions::negotiate(&offers) {
        check_params(&p);
        let offer = offers
            .iter()
            .find_map(|e| PmdOffer::from_extension(e).ok())
            .expect("an answer implies a valid offer");
        p.fits(&offer).expect("the answer exceeds the offer");
        let wire = p.to_extension().to_string();
        let resp = extensions::parse(&wire).expect("our answer parses");
        assert_eq!(
            extensions::check_response(&offer, &resp),
            Ok(Some(p)),
            "the client refuses our answer"
        );
    } else {
        assert!(
            offers.iter().all(|e| PmdOffer::from_extension(e).is_err()),
            "a valid offer was declined"
        );
    }
    // Client side: the first valid offer against an arbitrary response.
    if let (Some(offer), Ok(resp)) = (
        offers.iter().find_map(|e| PmdOffer::from_extension(e).ok()),
        extensions::parse(response_text),
    ) {
        if let Ok(Some(p)) = extensions::check_response(&offer, &resp) {
            check_params(&p);
            p.fits(&offer)
                .expect("an accepted response exceeds the offer");
            if offer.server_no_context_takeover {
                assert!(p.server_no_context_takeover);
            }
            if offer.client_max_window_bits.is_none() {
                assert_eq!(p.client_max_window_bits, None);
            }
        }
    }
}

// ----- inflate -----------------------------------------------------------------------

/// Target `inflate`: [`deflate::inflate_bounded`]. Input: two bytes of output bound
/// (big-endian), then the compressed message (without the `00 00 ff ff` tail).
///
/// Oracle: the output never exceeds the bound; an error is one of [`InflateError`];
/// inflated data compressed again with [`deflate::compress_message`] inflates back to
/// itself; when `TooLarge` and a larger bound succeeds, it produces more than the
/// first bound (the first regression input found a too-strict version of this).
pub fn inflate(data: &[u8]) {
    let [a, b, rest @ ..] = data else {
        return;
    };
    let max_out = usize::from(u16::from_be_bytes([*a, *b]));
    match deflate::inflate_bounded(rest, max_out) {
        Ok(v) => {
            assert!(v.len() <= max_out, "inflated past the bound");
            let again = deflate::compress_message(&v);
            assert_eq!(
                deflate::inflate_bounded(&again, v.len()).as_deref(),
                Ok(&v[..]),
                "compress/inflate round trip"
            );
        }
        Err(InflateError::TooLarge { max_out: m }) => {
            assert_eq!(m, max_out);
            // A larger bound may still fail (the data can be corrupt or have trailing
            // bytes after the point where the small bound stopped), but if it
            // succeeds, the output must be larger than the small bound.
            if let Ok(v) = deflate::inflate_bounded(rest, max_out + 4096) {
                assert!(v.len() > max_out, "TooLarge, yet it fits");
            }
        }
        Err(InflateError::Corrupt(_) | InflateError::TrailingData(_)) => {}
    }
}

// ----- case files ----------------------------------------------------------------

/// Compare two JSON values, numbers by value with a relative tolerance (serde_json's
/// default float parsing is not always exact).
fn json_close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (a, b) {
        (V::Number(x), V::Number(y)) => match (x.as_f64(), y.as_f64()) {
            _ if x == y => true,
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            _ => false,
        },
        (V::Array(x), V::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_close(x, y))
        }
        (V::Object(x), V::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_close(v, w)))
        }
        _ => a == b,
    }
}

/// Target `case_file`: [`parse_cases`] on text.
///
/// Oracle: the result is cases or an [`crate::Error::CaseFile`] whose location starts
/// with the file name; every loaded case is valid and comes back the same through
/// its own JSON form.
pub fn case_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_cases("fuzz.json", text) {
        Ok(cases) => {
            for c in &cases {
                assert!(c.validate().is_ok());
                assert!(c.planned_seconds().is_finite());
                let json = serde_json::to_string(c).expect("a case serialises");
                let back = parse_cases("again.json", &json).expect("a written case loads");
                assert_eq!(back.len(), 1);
                let (x, y) = (
                    serde_json::to_value(c).expect("value"),
                    serde_json::to_value(&back[0]).expect("value"),
                );
                assert!(json_close(&x, &y), "case changed through JSON: {json}");
            }
        }
        Err(crate::Error::CaseFile { location, .. }) => {
            assert!(location.starts_with("fuzz.json:"), "{location}")
        }
        Err(e) => panic!("undocumented case-file error {e:?}"),
    }
}

// ----- UTF-8 ---------------------------------------------------------------------

/// What `std` says about `b` in the validator's terms: `Valid { complete }` when `b`
/// is valid or a valid prefix, otherwise the index of the first byte after which no
/// continuation can make it valid.
fn std_status(b: &[u8]) -> Utf8Status {
    match std::str::from_utf8(b) {
        Ok(_) => Utf8Status::Valid { complete: true },
        Err(e) if e.error_len().is_none() => Utf8Status::Valid { complete: false },
        Err(e) => {
            // The first impossible byte is within the 4 bytes from valid_up_to.
            let start = e.valid_up_to();
            let at = (start..b.len())
                .find(|&i| {
                    std::str::from_utf8(&b[..=i])
                        .err()
                        .is_some_and(|e| e.error_len().is_some())
                })
                .expect("an invalid sequence has a first impossible byte");
            Utf8Status::Invalid { at }
        }
    }
}

/// Target `utf8`: [`Utf8Validator`] fed in `makeChunked` pieces (see [`chunked`]).
///
/// Oracle (differential against `std::str::from_utf8`): after every piece the status
/// equals what `std` says about everything fed so far, including the index of the
/// first impossible byte; after an error the status never changes.
pub fn utf8(data: &[u8]) {
    let pieces = chunked(data);
    let stream: Vec<u8> = pieces.concat();
    let mut v = Utf8Validator::new();
    let mut fed = 0usize;
    let mut first_error = None;
    for p in &pieces {
        let s = v.feed(p);
        fed += p.len();
        assert_eq!(s, v.status());
        if let Some(e) = first_error {
            assert_eq!(s, e, "the error moved");
            continue;
        }
        let want = std_status(&stream[..fed]);
        assert_eq!(s, want, "validator and std disagree after {fed} bytes");
        if let Utf8Status::Invalid { .. } = s {
            first_error = Some(s);
        }
    }
    // Reset forgets everything.
    v.reset();
    assert_eq!(v.status(), Utf8Status::Valid { complete: true });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_and_cut() {
        assert!(chunked(&[]).is_empty());
        assert_eq!(chunked(&[2, 1, 2, 0, 9, 9]), vec![&[1, 2][..], &[9, 9][..]]);
        assert_eq!(chunked(&[5, 1, 2]), vec![&[1, 2][..]]);
        assert_eq!(cut(b"abcdef", &[0, 1]), vec![&b"a"[..], b"bc", b"def"]);
        assert_eq!(cut(b"", &[3]), Vec::<&[u8]>::new());
    }

    #[test]
    fn reference_decoder_agrees_on_rfc_examples() {
        let hello = [0x81, 0x05, b'H', b'e', b'l', b'l', b'o', 0x89];
        let RefNext::Frame(h) = reference_next(&hello, 100) else {
            panic!("no frame");
        };
        assert_eq!((h.opcode, h.declared_len, h.header_len), (1, 5, 2));
        assert_eq!(reference_next(&hello[7..], 100), RefNext::Incomplete);
        let huge = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(reference_next(&huge, u64::MAX), RefNext::TooLarge(1 << 63));
        // RFC 6455 §5.7: a masked "Hello"; the oracle re-masks the decoded payload.
        let masked = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let mut d = FrameDecoder::new(100);
        d.push(&masked);
        let f = d.next_frame().unwrap().unwrap();
        assert_eq!(f.payload, b"Hello");
        let RefNext::Frame(h) = reference_next(&masked, 100) else {
            panic!("no frame");
        };
        assert_reference_frame(f, &h, &masked);
    }

    #[test]
    fn xor_key_matches_the_rfc_formula() {
        let key = [1, 2, 3, 4];
        for n in 0..20 {
            let mut b: Vec<u8> = (0..n as u8).collect();
            xor_key(&mut b, key);
            let want: Vec<u8> = (0..n as u8).map(|i| i ^ key[usize::from(i) % 4]).collect();
            assert_eq!(b, want);
        }
    }

    #[test]
    fn every_target_survives_trivial_inputs() {
        for (name, f) in TARGETS {
            for input in [&b""[..], b"\0", b"\xff\xff\xff\xff", b"0123456789abcdef"] {
                f(input);
            }
            assert!(entry_point(name).is_some());
        }
    }

    #[test]
    fn std_status_finds_the_first_impossible_byte() {
        assert_eq!(
            std_status(b"\xf4\x90\x80\x80"),
            Utf8Status::Invalid { at: 1 }
        );
        assert_eq!(std_status(b"\xc0"), Utf8Status::Invalid { at: 0 });
        assert_eq!(
            std_status(b"a\xe0\xa0"),
            Utf8Status::Valid { complete: false }
        );
        assert_eq!(std_status(b"\xe0\xa0A"), Utf8Status::Invalid { at: 2 });
    }

    #[test]
    fn differential_sees_the_same_messages() {
        let key = [1, 2, 3, 4];
        let mut s = vec![0x10]; // read in 17-byte pieces
        s.extend(encode_frame(
            false,
            0,
            1,
            Some(key),
            Length::Minimal,
            b"Hel",
        ));
        s.extend(encode_frame(true, 0, 9, Some(key), Length::Minimal, b"p"));
        s.extend(encode_frame(true, 0, 0, Some(key), Length::Minimal, b"lo"));
        s.extend(encode_frame(
            true,
            0,
            8,
            Some(key),
            Length::Minimal,
            &[0x03, 0xe8],
        ));
        frame_vs_tungstenite(&s);
        let (items, end) = our_receiver(&s[1..]);
        assert_eq!(
            items,
            vec![
                Item::Ping(b"p".to_vec()),
                Item::Text(b"Hello".to_vec()),
                Item::Close(Some((1000, vec![])))
            ]
        );
        assert_eq!(end, End::Closed);
    }
}
