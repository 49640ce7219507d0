//! WebSocket frames on the wire (RFC 6455 §5.2): an encoder that can write any frame,
//! including ones a conformant endpoint never would (reserved opcodes, RSV bits,
//! non-minimal or lying lengths), and an incremental decoder that takes whatever an
//! untrusted peer sends and reports it exactly as received, without judging it.

use std::fmt;

pub use crate::case::Length;

/// Largest payload length the 64-bit form may carry (its top bit must be 0).
const MAX_WIRE_LEN: u64 = i64::MAX as u64;

/// Encode a whole frame.
///
/// `rsv` is a 3-bit value (RSV1 = 4, RSV2 = 2, RSV3 = 1), only its low 3 bits are used;
/// `opcode` is taken modulo 16. With `mask` the MASK bit is set, the key written and
/// the payload XORed with it. See [`Length`] for how the length field is written; with
/// [`Length::Claim`] the header lies and the payload bytes are written as given.
pub fn encode_frame(
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    length: Length,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = encode_header(fin, rsv, opcode, mask, length, payload.len() as u64);
    let start = out.len();
    out.extend_from_slice(payload);
    if let (Some(key), Some(body)) = (mask, out.get_mut(start..)) {
        apply_mask(body, key, 0);
    }
    out
}

/// Only the header (including the mask key) of a frame announcing `payload_len` bytes.
/// [`Length::Claim`] overrides `payload_len`.
pub fn encode_header(
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    length: Length,
    payload_len: u64,
) -> Vec<u8> {
    #[derive(Clone, Copy)]
    enum Form {
        Short,
        Medium,
        Long,
    }
    fn shortest(n: u64) -> Form {
        if n <= 125 {
            Form::Short
        } else if n <= 0xffff {
            Form::Medium
        } else {
            Form::Long
        }
    }
    let (declared, form) = match length {
        Length::Minimal => (payload_len, shortest(payload_len)),
        Length::Force16 if payload_len <= 0xffff => (payload_len, Form::Medium),
        Length::Force16 | Length::Force64 => (payload_len, Form::Long),
        Length::Claim(n) => (n, shortest(n)),
    };

    let mut out = Vec::with_capacity(14);
    let b0 = (u8::from(fin) << 7) | ((rsv & 7) << 4) | (opcode & 0x0f);
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    out.push(b0);
    match form {
        Form::Short => out.push(mask_bit | (declared & 0x7f) as u8),
        Form::Medium => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&((declared & 0xffff) as u16).to_be_bytes());
        }
        Form::Long => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&declared.to_be_bytes());
        }
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
    out
}

/// XOR `buf` in place with `key`, as if `buf` started at byte `offset` of the payload.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    // Rotate the key so that key[0] applies to buf[0].
    let mut k = key;
    k.rotate_left(offset % 4);
    let word = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_ne_bytes(w) ^ word;
        chunk.copy_from_slice(&x.to_ne_bytes());
    }
    // Chunks of 8 keep the key phase, so the tail starts at key index 0 again.
    for (b, m) in chunks.into_remainder().iter_mut().zip(k.iter().cycle()) {
        *b ^= m;
    }
}

/// A decoded frame, exactly as received (nothing judged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    /// RSV bits as a 3-bit value, 0..=7 (RSV1 = 4, RSV2 = 2, RSV3 = 1).
    pub rsv: u8,
    /// 0..=15
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    /// Already unmasked.
    pub payload: Vec<u8>,
    /// The length the header declared.
    pub declared_len: u64,
    /// False when a 16-bit length < 126 or a 64-bit length < 65536 was used.
    pub minimal_length: bool,
    /// Header + payload bytes this frame took on the wire.
    pub wire_len: usize,
}

impl Frame {
    /// Control frames have opcodes 8–15.
    pub fn is_control(&self) -> bool {
        self.opcode >= 8
    }
}

impl fmt::Display for Frame {
    /// One line, e.g. `opcode=1 fin=1 rsv=0 masked=0 len=5 payload=48656c6c6f`; the
    /// payload hex stops after 32 bytes with `…` appended.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "opcode={} fin={} rsv={} masked={} len={} payload=",
            self.opcode,
            u8::from(self.fin),
            self.rsv,
            u8::from(self.mask.is_some()),
            self.payload.len()
        )?;
        for b in self.payload.iter().take(32) {
            write!(f, "{b:02x}")?;
        }
        if self.payload.len() > 32 {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// Why the decoder gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The header declares more payload than the configured limit (includes 64-bit
    /// lengths with the top bit set).
    #[error("frame declares {declared} payload bytes, over the limit of {limit}")]
    TooLarge { declared: u64, limit: u64 },
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    declared_len: u64,
    minimal_length: bool,
    /// Bytes of the header, including extended length and mask key (2..=14).
    header_len: usize,
}

/// Parse a header from the start of `b`. `Ok(None)` when more bytes are needed. The
/// length is checked against `limit` as soon as it is known, even if the mask key has
/// not arrived yet.
fn parse_header(b: &[u8], limit: u64) -> Result<Option<Header>, DecodeError> {
    let (Some(&b0), Some(&b1)) = (b.first(), b.get(1)) else {
        return Ok(None);
    };
    let masked = b1 & 0x80 != 0;
    let (declared_len, minimal_length, mut header_len) = match b1 & 0x7f {
        126 => {
            let Some(ext) = b.get(2..4) else {
                return Ok(None);
            };
            let n = u64::from(u16::from_be_bytes([ext[0], ext[1]]));
            // Feature `planted-bug` only: a deliberate off-by-one for 16-bit lengths
            // 300..=307, which the fuzz targets must find (see harness/src/fuzz.rs).
            #[cfg(feature = "planted-bug")]
            let n = if (300..=307).contains(&n) { n - 1 } else { n };
            (n, n >= 126, 4usize)
        }
        127 => {
            let Some(ext) = b.get(2..10) else {
                return Ok(None);
            };
            let mut a = [0u8; 8];
            a.copy_from_slice(ext);
            let n = u64::from_be_bytes(a);
            (n, n >= 0x1_0000, 10usize)
        }
        n => (u64::from(n), true, 2usize),
    };
    if declared_len > limit {
        return Err(DecodeError::TooLarge {
            declared: declared_len,
            limit,
        });
    }
    let mask = if masked {
        let Some(k) = b.get(header_len..header_len + 4) else {
            return Ok(None);
        };
        header_len += 4;
        Some([k[0], k[1], k[2], k[3]])
    } else {
        None
    };
    Ok(Some(Header {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 7,
        opcode: b0 & 0x0f,
        mask,
        declared_len,
        minimal_length,
        header_len,
    }))
}

/// Incremental decoder for bytes from an untrusted peer.
///
/// Bytes are kept in a `Vec` with a read offset; consumed bytes are dropped lazily
/// (when they make up at least half of the buffer), so feeding a big frame in many
/// small chunks costs amortised O(n). The parsed header of the frame being received
/// is kept, so nothing is re-scanned.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    /// Start of the first byte not yet returned as part of a frame.
    pos: usize,
    /// Effective payload limit: the configured one, capped at 2^63 - 1.
    limit: u64,
    /// Header of the frame being received, once fully buffered.
    header: Option<Header>,
    /// Sticky error.
    error: Option<DecodeError>,
}

impl FrameDecoder {
    /// A decoder that refuses frames declaring more than `max_payload` bytes (and,
    /// whatever the limit, 64-bit lengths with the top bit set).
    pub fn new(max_payload: u64) -> Self {
        // A length must also fit in memory to be received at all.
        let addressable = u64::try_from(usize::MAX).unwrap_or(u64::MAX);
        FrameDecoder {
            buf: Vec::new(),
            pos: 0,
            limit: max_payload
                .min(MAX_WIRE_LEN)
                .min(addressable.saturating_sub(14)),
            header: None,
            error: None,
        }
    }

    /// Append bytes received from the peer.
    pub fn push(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.pos > 0 {
            let unread = self.buf.len().saturating_sub(self.pos);
            if unread == 0 {
                self.buf.clear();
                self.pos = 0;
            } else if self.pos >= unread {
                // Moving `unread` bytes is paid for by the `pos` bytes consumed.
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
        }
        self.buf.extend_from_slice(data);
    }

    /// `Ok(Some(frame))` when a whole frame is buffered, `Ok(None)` when more bytes are
    /// needed, `Err(TooLarge)` as soon as a header declaring too much is seen (after
    /// that, every call returns the same error).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, DecodeError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let unread = self.buf.get(self.pos..).unwrap_or_default();
        let header = match self.header {
            Some(h) => h,
            None => match parse_header(unread, self.limit) {
                Ok(Some(h)) => {
                    self.header = Some(h);
                    h
                }
                Ok(None) => return Ok(None),
                Err(e) => {
                    self.error = Some(e.clone());
                    return Err(e);
                }
            },
        };
        // The limit keeps the declared length well within usize (see `new`).
        let Some(wire_len) = usize::try_from(header.declared_len)
            .ok()
            .and_then(|n| n.checked_add(header.header_len))
        else {
            let e = DecodeError::TooLarge {
                declared: header.declared_len,
                limit: self.limit,
            };
            self.error = Some(e.clone());
            return Err(e);
        };
        let Some(payload) = unread.get(header.header_len..wire_len) else {
            return Ok(None);
        };
        let mut payload = payload.to_vec();
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key, 0);
        }
        self.pos = self.pos.saturating_add(wire_len);
        self.header = None;
        Ok(Some(Frame {
            fin: header.fin,
            rsv: header.rsv,
            opcode: header.opcode,
            mask: header.mask,
            payload,
            declared_len: header.declared_len,
            minimal_length: header.minimal_length,
            wire_len,
        }))
    }

    /// Bytes pushed and not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Header of the frame currently being received, once its full header is buffered:
    /// `(fin, rsv, opcode, masked, declared_len)`. Lets the caller judge a header before
    /// the payload arrives. Also given when the declared length is over the limit.
    pub fn pending_header(&self) -> Option<(bool, u8, u8, bool, u64)> {
        let h = match self.header {
            Some(h) => h,
            None => {
                let unread = self.buf.get(self.pos..).unwrap_or_default();
                // Parse without a limit: the caller wants to see the header regardless.
                parse_header(unread, u64::MAX).ok().flatten()?
            }
        };
        Some((h.fin, h.rsv, h.opcode, h.mask.is_some(), h.declared_len))
    }

    /// Take the remaining buffered bytes out (used when switching protocols). Any
    /// partly received frame is forgotten; a sticky error stays.
    #[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let mut buf = std::mem::take(&mut self.buf);
        let pos = self.pos.min(buf.len());
        buf.drain(..pos);
        self.pos = 0;
        self.header = None;
        buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Small deterministic PRNG (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            if n == 0 {
                0
            } else {
                (self.next() % n as u64) as usize
            }
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    fn decode_one(bytes: &[u8]) -> Frame {
        let mut d = FrameDecoder::new(1 << 20);
        d.push(bytes);
        let f = d.next_frame().unwrap().unwrap();
        assert_eq!(d.buffered(), 0);
        assert_eq!(d.next_frame(), Ok(None));
        f
    }

    #[test]
    fn rfc_single_frame_unmasked_text() {
        let wire = encode_frame(true, 0, 1, None, Length::Minimal, b"Hello");
        assert_eq!(wire, hex("81 05 48 65 6c 6c 6f"));
        let f = decode_one(&wire);
        assert!(f.fin);
        assert_eq!((f.rsv, f.opcode, f.mask), (0, 1, None));
        assert_eq!(f.payload, b"Hello");
        assert_eq!(f.declared_len, 5);
        assert!(f.minimal_length);
        assert_eq!(f.wire_len, 7);
        assert!(!f.is_control());
        assert_eq!(
            f.to_string(),
            "opcode=1 fin=1 rsv=0 masked=0 len=5 payload=48656c6c6f"
        );
    }

    #[test]
    fn rfc_single_frame_masked_text() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let wire = encode_frame(true, 0, 1, Some(key), Length::Minimal, b"Hello");
        assert_eq!(wire, hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"));
        let f = decode_one(&wire);
        assert_eq!(f.mask, Some(key));
        assert_eq!(f.payload, b"Hello");
        assert_eq!(f.wire_len, 11);
        assert_eq!(
            f.to_string(),
            "opcode=1 fin=1 rsv=0 masked=1 len=5 payload=48656c6c6f"
        );
    }

    #[test]
    fn rfc_fragmented_text() {
        let a = encode_frame(false, 0, 1, None, Length::Minimal, b"Hel");
        let b = encode_frame(true, 0, 0, None, Length::Minimal, b"lo");
        assert_eq!(a, hex("01 03 48 65 6c"));
        assert_eq!(b, hex("80 02 6c 6f"));
        let mut d = FrameDecoder::new(100);
        d.push(&[a, b].concat());
        let f1 = d.next_frame().unwrap().unwrap();
        let f2 = d.next_frame().unwrap().unwrap();
        assert_eq!(d.next_frame(), Ok(None));
        assert!(!f1.fin && f1.opcode == 1 && f1.payload == b"Hel");
        assert!(f2.fin && f2.opcode == 0 && f2.payload == b"lo");
    }

    #[test]
    fn rfc_ping_and_pong() {
        let ping = encode_frame(true, 0, 9, None, Length::Minimal, b"Hello");
        assert_eq!(ping, hex("89 05 48 65 6c 6c 6f"));
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let pong = encode_frame(true, 0, 10, Some(key), Length::Minimal, b"Hello");
        assert_eq!(pong, hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"));
        let f = decode_one(&ping);
        assert!(f.is_control());
        assert_eq!(f.opcode, 9);
        assert_eq!(decode_one(&pong).payload, b"Hello");
    }

    #[test]
    fn rfc_256_byte_binary() {
        let payload = vec![0xab; 256];
        let wire = encode_frame(true, 0, 2, None, Length::Minimal, &payload);
        assert_eq!(wire[..4], hex("82 7e 01 00")[..]);
        assert_eq!(wire.len(), 4 + 256);
        let f = decode_one(&wire);
        assert_eq!(f.payload, payload);
        assert!(f.minimal_length);
        assert_eq!(f.declared_len, 256);
    }

    #[test]
    fn rfc_64k_binary() {
        let payload = vec![0x5a; 65536];
        let wire = encode_frame(true, 0, 2, None, Length::Minimal, &payload);
        assert_eq!(wire[..10], hex("82 7f 00 00 00 00 00 01 00 00")[..]);
        assert_eq!(wire.len(), 10 + 65536);
        let f = decode_one(&wire);
        assert_eq!(f.payload, payload);
        assert!(f.minimal_length);
        assert_eq!(f.wire_len, 10 + 65536);
    }

    #[test]
    fn header_bits() {
        let h = encode_header(false, 0xff, 0x1f, None, Length::Minimal, 0);
        // rsv masked to 3 bits, opcode modulo 16.
        assert_eq!(h, vec![0x7f, 0x00]);
        let h = encode_header(true, 4, 2, None, Length::Minimal, 0);
        assert_eq!(h, vec![0xc2, 0x00]);
        let h = encode_header(true, 1, 0, Some([1, 2, 3, 4]), Length::Minimal, 125);
        assert_eq!(h, vec![0x90, 0xfd, 1, 2, 3, 4]);
        // Length forms.
        assert_eq!(
            encode_header(true, 0, 1, None, Length::Minimal, 126),
            hex("81 7e 00 7e")
        );
        assert_eq!(
            encode_header(true, 0, 1, None, Length::Minimal, 65535),
            hex("81 7e ff ff")
        );
        assert_eq!(
            encode_header(true, 0, 1, None, Length::Minimal, 65536),
            hex("81 7f 0000000000010000")
        );
        assert_eq!(
            encode_header(true, 0, 1, None, Length::Force16, 5),
            hex("81 7e 00 05")
        );
        assert_eq!(
            encode_header(true, 0, 1, None, Length::Force16, 70000),
            hex("81 7f 0000000000011170")
        );
        assert_eq!(
            encode_header(true, 0, 1, None, Length::Force64, 5),
            hex("81 7f 0000000000000005")
        );
        assert_eq!(
            encode_header(true, 0, 1, None, Length::Claim(3), 100),
            hex("81 03")
        );
        assert_eq!(
            encode_header(true, 0, 1, None, Length::Claim(300), 0),
            hex("81 7e 01 2c")
        );
        assert_eq!(
            encode_header(true, 0, 1, None, Length::Claim(u64::MAX), 0),
            hex("81 7f ffffffffffffffff")
        );
    }

    #[test]
    fn claim_writes_payload_as_given() {
        let wire = encode_frame(true, 0, 1, None, Length::Claim(10), b"abc");
        assert_eq!(wire, hex("81 0a 61 62 63"));
        let mut d = FrameDecoder::new(100);
        d.push(&wire);
        assert_eq!(d.next_frame(), Ok(None));
        assert_eq!(d.pending_header(), Some((true, 0, 1, false, 10)));
        d.push(b"defghij");
        let f = d.next_frame().unwrap().unwrap();
        assert_eq!(f.payload, b"abcdefghij");
    }

    #[test]
    fn round_trip_every_length_variant() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        let sizes = [0usize, 1, 5, 125, 126, 127, 1000, 65535, 65536, 70000];
        for &n in &sizes {
            let payload: Vec<u8> = (0..n).map(|i| (i * 7) as u8).collect();
            for length in [
                Length::Minimal,
                Length::Force16,
                Length::Force64,
                Length::Claim(n as u64),
            ] {
                for mask in [None, Some(key)] {
                    let wire = encode_frame(true, 5, 2, mask, length, &payload);
                    let f = decode_one(&wire);
                    assert_eq!(f.payload, payload, "{n} {length:?}");
                    assert_eq!(f.mask, mask);
                    assert_eq!((f.fin, f.rsv, f.opcode), (true, 5, 2));
                    assert_eq!(f.declared_len, n as u64);
                    assert_eq!(f.wire_len, wire.len());
                    let minimal = match length {
                        Length::Minimal | Length::Claim(_) => true,
                        Length::Force16 => n >= 126,
                        Length::Force64 => n >= 65536,
                    };
                    assert_eq!(f.minimal_length, minimal, "{n} {length:?}");
                    let header = encode_header(true, 5, 2, mask, length, n as u64);
                    assert_eq!(wire[..header.len()], header[..]);
                    assert_eq!(wire.len(), header.len() + n);
                }
            }
        }
    }

    #[test]
    fn non_minimal_detection() {
        assert!(!decode_one(&hex("81 7e 00 00")).minimal_length);
        let mut wire = hex("81 7e 00 7d");
        wire.extend(vec![b'a'; 125]);
        let f = decode_one(&wire);
        assert!(!f.minimal_length);
        assert_eq!(f.declared_len, 125);
        let mut wire = hex("82 7e 00 7e");
        wire.extend(vec![0; 126]);
        assert!(decode_one(&wire).minimal_length);
        assert!(!decode_one(&hex("81 7f 0000000000000000")).minimal_length);
        let mut wire = hex("82 7f 000000000000ffff");
        wire.extend(vec![0; 65535]);
        let f = decode_one(&wire);
        assert!(!f.minimal_length);
        assert_eq!(f.declared_len, 65535);
    }

    #[test]
    fn too_large_and_sticky() {
        // Top bit set: always too large, even with the largest limit.
        let mut d = FrameDecoder::new(u64::MAX);
        d.push(&hex("82 7f 8000000000000000"));
        let e = d.next_frame().unwrap_err();
        assert!(matches!(e, DecodeError::TooLarge { declared, .. } if declared == 1 << 63));
        assert_eq!(d.next_frame(), Err(e.clone()));
        d.push(b"more");
        assert_eq!(d.next_frame(), Err(e));
        assert_eq!(d.pending_header(), Some((true, 0, 2, false, 1 << 63)));

        // Over a configured limit, detected before the mask key arrives.
        let mut d = FrameDecoder::new(125);
        d.push(&hex("82 fe 00 7e"));
        assert_eq!(
            d.next_frame(),
            Err(DecodeError::TooLarge {
                declared: 126,
                limit: 125
            })
        );
        assert_eq!(
            DecodeError::TooLarge {
                declared: 126,
                limit: 125
            }
            .to_string(),
            "frame declares 126 payload bytes, over the limit of 125"
        );
        // At the limit is fine.
        let mut d = FrameDecoder::new(125);
        d.push(&encode_frame(true, 0, 2, None, Length::Minimal, &[1; 125]));
        assert_eq!(d.next_frame().unwrap().unwrap().payload.len(), 125);
        // Zero limit accepts only empty frames.
        let mut d = FrameDecoder::new(0);
        d.push(&hex("89 00 89 01"));
        assert!(d.next_frame().unwrap().is_some());
        assert!(d.next_frame().is_err());
    }

    #[test]
    fn reserved_opcodes_and_rsv_decode_without_judging() {
        for opcode in 0..16u8 {
            for rsv in 0..8u8 {
                for fin in [false, true] {
                    let wire = encode_frame(fin, rsv, opcode, None, Length::Minimal, b"x");
                    let f = decode_one(&wire);
                    assert_eq!((f.fin, f.rsv, f.opcode), (fin, rsv, opcode));
                    assert_eq!(f.is_control(), opcode >= 8);
                }
            }
        }
        // An oversized control frame is still just a frame here.
        let f = decode_one(&encode_frame(true, 0, 9, None, Length::Minimal, &[0; 200]));
        assert_eq!(f.payload.len(), 200);
    }

    #[test]
    fn display_truncates_long_payloads() {
        let f = decode_one(&encode_frame(
            false,
            4,
            2,
            None,
            Length::Minimal,
            &[0xab; 33],
        ));
        let s = f.to_string();
        assert_eq!(
            s,
            format!(
                "opcode=2 fin=0 rsv=4 masked=0 len=33 payload={}…",
                "ab".repeat(32)
            )
        );
        let f = decode_one(&encode_frame(true, 0, 8, None, Length::Minimal, b""));
        assert_eq!(
            f.to_string(),
            "opcode=8 fin=1 rsv=0 masked=0 len=0 payload="
        );
    }

    #[test]
    fn byte_at_a_time_equals_all_at_once() {
        let mut rng = Rng(42);
        let mut wire = Vec::new();
        for i in 0..40 {
            let n = match i % 4 {
                0 => rng.below(126),
                1 => 126 + rng.below(500),
                2 => rng.below(3),
                _ => 65536 + rng.below(100),
            };
            let payload = rng.bytes(n);
            let mask = if i % 3 == 0 {
                None
            } else {
                Some([1, 2, 3, i as u8])
            };
            let length = [
                Length::Minimal,
                Length::Force16,
                Length::Force64,
                Length::Minimal,
            ][i % 4];
            wire.extend(encode_frame(
                i % 2 == 0,
                (i % 8) as u8,
                (i % 16) as u8,
                mask,
                length,
                &payload,
            ));
        }
        let mut all = FrameDecoder::new(1 << 20);
        all.push(&wire);
        let mut expected = Vec::new();
        while let Some(f) = all.next_frame().unwrap() {
            expected.push(f);
        }
        assert_eq!(expected.len(), 40);
        assert_eq!(all.buffered(), 0);

        let mut one = FrameDecoder::new(1 << 20);
        let mut got = Vec::new();
        let mut saw_pending = 0;
        for b in &wire {
            one.push(&[*b]);
            if let Some(f) = one.next_frame().unwrap() {
                got.push(f);
            } else if one.pending_header().is_some() {
                saw_pending += 1;
            }
        }
        assert_eq!(got, expected);
        assert_eq!(one.buffered(), 0);
        assert!(saw_pending > 0);
    }

    #[test]
    fn pending_header_before_payload() {
        let mut d = FrameDecoder::new(1000);
        assert_eq!(d.pending_header(), None);
        let wire = encode_frame(false, 2, 1, Some([9, 8, 7, 6]), Length::Force16, b"abcd");
        d.push(&wire[..3]);
        assert_eq!(d.pending_header(), None);
        assert_eq!(d.next_frame(), Ok(None));
        d.push(&wire[3..7]);
        // Length known, mask key incomplete.
        assert_eq!(d.pending_header(), None);
        d.push(&wire[7..9]);
        assert_eq!(d.pending_header(), Some((false, 2, 1, true, 4)));
        assert_eq!(d.next_frame(), Ok(None));
        assert_eq!(d.pending_header(), Some((false, 2, 1, true, 4)));
        assert_eq!(d.buffered(), 9);
        d.push(&wire[9..]);
        let f = d.next_frame().unwrap().unwrap();
        assert_eq!(f.payload, b"abcd");
        assert_eq!(d.pending_header(), None);
    }

    #[test]
    fn take_buffered_returns_leftovers() {
        let mut d = FrameDecoder::new(1000);
        let mut wire = encode_frame(true, 0, 1, None, Length::Minimal, b"hi");
        wire.extend_from_slice(b"\x81\x05Hel");
        d.push(&wire);
        assert!(d.next_frame().unwrap().is_some());
        assert_eq!(d.next_frame(), Ok(None));
        assert!(d.pending_header().is_some());
        assert_eq!(d.buffered(), 5);
        assert_eq!(d.take_buffered(), b"\x81\x05Hel");
        assert_eq!(d.buffered(), 0);
        assert_eq!(d.pending_header(), None);
        assert_eq!(d.take_buffered(), b"");
        // The decoder is usable afterwards.
        d.push(b"\x81\x01A");
        assert_eq!(d.next_frame().unwrap().unwrap().payload, b"A");
    }

    #[test]
    fn buffer_is_compacted() {
        let mut d = FrameDecoder::new(1 << 20);
        let frame = encode_frame(true, 0, 2, None, Length::Minimal, &[7; 100]);
        for _ in 0..10_000 {
            d.push(&frame);
            assert!(d.next_frame().unwrap().is_some());
        }
        assert!(d.buf.len() <= 2 * frame.len(), "{}", d.buf.len());
        // A big frame in small chunks: the buffer holds little more than the frame.
        let big = encode_frame(
            true,
            0,
            2,
            Some([1, 2, 3, 4]),
            Length::Minimal,
            &[3; 300_000],
        );
        for chunk in big.chunks(7) {
            d.push(chunk);
            if let Some(f) = d.next_frame().unwrap() {
                assert_eq!(f.payload.len(), 300_000);
                assert!(f.payload.iter().all(|&b| b == 3));
            }
        }
        assert_eq!(d.buffered(), 0);
        assert!(d.buf.len() <= big.len() + frame.len());
    }

    #[test]
    fn mask_fast_path_equals_bytewise() {
        fn slow(buf: &mut [u8], key: [u8; 4], offset: usize) {
            for (i, b) in buf.iter_mut().enumerate() {
                *b ^= key[(offset + i) % 4];
            }
        }
        let key = [0x12, 0x34, 0x56, 0x78];
        for offset in 0..=40 {
            for len in 0..=40 {
                let orig: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
                let mut a = orig.clone();
                let mut b = orig.clone();
                apply_mask(&mut a, key, offset);
                slow(&mut b, key, offset);
                assert_eq!(a, b, "offset {offset} len {len}");
                apply_mask(&mut a, key, offset);
                assert_eq!(a, orig);
            }
        }
        // Masking in pieces with running offsets equals masking at once.
        let data: Vec<u8> = (0..100u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        let mut pieces = data.clone();
        let mut off = 0;
        for n in [3, 1, 9, 16, 0, 71] {
            apply_mask(&mut pieces[off..off + n], key, off);
            off += n;
        }
        assert_eq!(pieces, whole);
        apply_mask(&mut [], key, usize::MAX);
    }

    /// Feed `bytes` in random pieces; check the invariants; return the frames.
    fn fuzz_one(rng: &mut Rng, bytes: &[u8], limit: u64) -> Vec<Frame> {
        let mut d = FrameDecoder::new(limit);
        let mut frames = Vec::new();
        let mut pushed = 0;
        let mut failed = None;
        while pushed < bytes.len() {
            let n = 1 + rng.below(bytes.len() - pushed);
            d.push(&bytes[pushed..pushed + n]);
            pushed += n;
            let _ = d.pending_header();
            loop {
                match d.next_frame() {
                    Ok(Some(f)) => {
                        assert_eq!(f.payload.len() as u64, f.declared_len);
                        assert!(f.declared_len <= limit);
                        frames.push(f);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        if let Some(prev) = &failed {
                            assert_eq!(prev, &e);
                        }
                        failed = Some(e);
                        break;
                    }
                }
            }
            let consumed: usize = frames.iter().map(|f| f.wire_len).sum();
            assert_eq!(consumed + d.buffered(), pushed);
            assert!(d.buf.len() - d.pos == d.buffered());
        }
        frames
    }

    #[test]
    fn random_bytes_never_panic_and_account_for_every_byte() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for round in 0..5_000 {
            let len = rng.below(300);
            let mut bytes = rng.bytes(len);
            // Bias some second bytes toward small lengths so frames do complete.
            if round % 2 == 0 {
                let mut i = 1;
                while i < bytes.len() {
                    bytes[i] &= 0x8f;
                    i += 2 + rng.below(20);
                }
            }
            let limit = [0, 10, 125, 1000, u64::MAX][round % 5];
            fuzz_one(&mut rng, &bytes, limit);
        }
    }

    #[test]
    fn random_frame_streams_split_at_random_points() {
        let mut rng = Rng(7);
        for _ in 0..500 {
            let mut wire = Vec::new();
            let mut sent = Vec::new();
            for _ in 0..rng.below(8) {
                let n = rng.below(300);
                let payload = rng.bytes(n);
                let mask = if rng.below(2) == 0 {
                    None
                } else {
                    Some([rng.next() as u8, 1, 2, 3])
                };
                let length = [Length::Minimal, Length::Force16, Length::Force64][rng.below(3)];
                let (fin, rsv, op) = (rng.below(2) == 0, rng.below(8) as u8, rng.below(16) as u8);
                wire.extend(encode_frame(fin, rsv, op, mask, length, &payload));
                sent.push((fin, rsv, op, mask, payload));
            }
            let frames = fuzz_one(&mut rng, &wire, 1000);
            let got: Vec<_> = frames
                .into_iter()
                .map(|f| (f.fin, f.rsv, f.opcode, f.mask, f.payload))
                .collect();
            assert_eq!(got, sent);
        }
    }
}
