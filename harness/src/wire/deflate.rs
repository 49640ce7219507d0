//! permessage-deflate payloads (RFC 7692 §7.2): raw DEFLATE per message, with the
//! trailing `00 00 ff ff` of a sync flush removed by the sender and put back by the
//! receiver.
//!
//! [`inflate_bounded`] is the receiver side with a hard output bound: it stops with
//! [`InflateError::TooLarge`] as soon as the output would pass the bound, so a
//! decompression bomb (CVE-2018-1000518 and friends) costs at most `max_out` bytes of
//! memory and about as much work, whatever the compressed size claims.
//!
//! [`Deflater`] and [`Inflater`] are one direction's context for a whole connection:
//! created with the negotiated window (9–15 bits; 8 is taken as 9, as zlib does for raw
//! DEFLATE) and reset per message exactly when that direction's `*_no_context_takeover`
//! was negotiated. The inflater streams: each frame's payload is inflated as it
//! arrives, the output handed to a sink in chunks, never kept whole here.
//!
//! The backend is flate2 on zlib-rs (pure Rust, zlib's API): unlike the default
//! miniz_oxide backend it takes a window size, so a tester can honour
//! `client_max_window_bits=9` and an inflater with the negotiated window rejects a
//! peer that uses a larger one.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The bytes a sync flush ends with, removed from every compressed message.
pub const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Output produced per decompression call (and the largest buffer allocated beyond
/// the output itself).
const CHUNK: usize = 16 << 10;

/// Why a compressed message could not be inflated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InflateError {
    /// The message inflates to more than the bound.
    #[error("the message inflates to more than {max_out} bytes")]
    TooLarge { max_out: usize },
    /// The data is not valid DEFLATE.
    #[error("invalid DEFLATE data: {0}")]
    Corrupt(String),
    /// A final block ended the stream before all the data was used.
    #[error("{0} bytes of data after the final DEFLATE block")]
    TrailingData(usize),
}

/// Compress one message the way a permessage-deflate sender does: raw DEFLATE, sync
/// flush, the final `00 00 ff ff` removed (an empty message becomes `00`). A fresh
/// context per message (no context takeover).
pub fn compress_message(data: &[u8]) -> Vec<u8> {
    compress_with(&mut Compress::new(Compression::default(), false), data)
}

/// Like [`compress_message`], continuing an existing compressor (context takeover).
pub fn compress_with(c: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    let start_in = c.total_in();
    // Each round either consumes input or fills the spare capacity we reserve.
    loop {
        let used = usize::try_from(c.total_in() - start_in).unwrap_or(data.len());
        let rest = data.get(used..).unwrap_or_default();
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        let before = out.len();
        // Compressing into a Vec only fails on a stream error, which raw DEFLATE with a
        // fresh or healthy compressor does not produce; stop rather than loop.
        if c.compress_vec(rest, &mut out, FlushCompress::Sync).is_err() {
            break;
        }
        let done = usize::try_from(c.total_in() - start_in).unwrap_or(data.len()) >= data.len();
        // Finished when all input is in and the flush left spare room in the buffer.
        if done && out.len() < out.capacity() && out.len() >= before {
            break;
        }
    }
    if out.ends_with(&SYNC_TAIL) {
        out.truncate(out.len() - SYNC_TAIL.len());
    }
    out
}

/// Inflate one compressed message (the `00 00 ff ff` tail is appended here) with a
/// fresh context, producing at most `max_out` bytes.
///
/// Returns the message, [`InflateError::TooLarge`] as soon as more than `max_out`
/// bytes would come out (never allocating more than `max_out` plus one work chunk),
/// [`InflateError::Corrupt`] for invalid DEFLATE, or [`InflateError::TrailingData`]
/// for bytes after a final block. Data that stops inside a block yields what could be
/// decoded (per-message deflate cannot tell a cut message from a short one).
#[cfg(feature = "internals")] // for the tests, testkit and fuzz targets
pub fn inflate_bounded(data: &[u8], max_out: usize) -> Result<Vec<u8>, InflateError> {
    inflate_with(&mut Decompress::new(false), data, max_out)
}

/// Like [`inflate_bounded`], continuing an existing decompressor (context takeover).
pub fn inflate_with(
    d: &mut Decompress,
    data: &[u8],
    max_out: usize,
) -> Result<Vec<u8>, InflateError> {
    let mut input = Vec::with_capacity(data.len() + SYNC_TAIL.len());
    input.extend_from_slice(data);
    input.extend_from_slice(&SYNC_TAIL);
    let mut out: Vec<u8> = Vec::new();
    // One byte more than allowed, so "exactly max_out" and "more" can be told apart.
    let mut chunk = vec![0u8; CHUNK.min(max_out.saturating_add(1))];
    let start_in = d.total_in();
    // Every round consumes input or produces output; a round that does neither ends
    // the loop, and output is bounded by max_out, so the loop is bounded.
    loop {
        let used = usize::try_from(d.total_in() - start_in).unwrap_or(input.len());
        let rest = input.get(used..).unwrap_or_default();
        let out_before = d.total_out();
        let status = d
            .decompress(rest, &mut chunk, FlushDecompress::Sync)
            .map_err(|e| InflateError::Corrupt(e.to_string()))?;
        let produced = usize::try_from(d.total_out() - out_before).unwrap_or(usize::MAX);
        let used_now = usize::try_from(d.total_in() - start_in).unwrap_or(input.len()) - used;
        if produced > max_out.saturating_sub(out.len()) {
            return Err(InflateError::TooLarge { max_out });
        }
        out.extend_from_slice(chunk.get(..produced).unwrap_or_default());
        let consumed = usize::try_from(d.total_in() - start_in).unwrap_or(input.len());
        match status {
            Status::StreamEnd => {
                // Our own tail may be left over after a final block; real data may not.
                let left = input.len().saturating_sub(consumed);
                if left > SYNC_TAIL.len() {
                    return Err(InflateError::TrailingData(left - SYNC_TAIL.len()));
                }
                return Ok(out);
            }
            Status::Ok | Status::BufError => {
                if produced == 0 && used_now == 0 {
                    return Ok(out);
                }
                // Output space left over and all input used: nothing more will come.
                if consumed >= input.len() && produced < chunk.len() {
                    return Ok(out);
                }
            }
        }
    }
}

/// Window bits zlib accepts for raw DEFLATE (8 is taken as 9, as zlib itself does).
fn zlib_bits(bits: Option<u8>) -> u8 {
    bits.unwrap_or(15).clamp(9, 15)
}

/// The sending context of one connection direction (permessage-deflate).
pub struct Deflater {
    c: Compress,
    reset_each_message: bool,
}

impl Deflater {
    /// `window_bits`: the negotiated `*_max_window_bits` for this direction (default 15);
    /// `no_context_takeover`: start every message from an empty window.
    ///
    /// Level 1: the tester compresses thousands of messages per case (12.x/13.x), and
    /// how well it compresses is no part of any verdict; at level 6 compressing was
    /// the largest share of the harness's CPU time against a deflate peer.
    pub fn new(window_bits: Option<u8>, no_context_takeover: bool) -> Deflater {
        Deflater {
            c: Compress::new_with_window_bits(Compression::fast(), false, zlib_bits(window_bits)),
            reset_each_message: no_context_takeover,
        }
    }

    /// One whole message, compressed (sync flush, tail removed).
    pub fn message(&mut self, data: &[u8]) -> Vec<u8> {
        if self.reset_each_message {
            self.c.reset();
        }
        compress_with(&mut self.c, data)
    }
}

/// The receiving context of one connection direction: inflates each message as its
/// frames arrive, with an output bound per message.
pub struct Inflater {
    d: Decompress,
    reset_each_message: bool,
    /// A final block ended the stream: the next message needs a fresh context.
    ended: bool,
    /// Output of the current message so far.
    produced: usize,
    chunk: Vec<u8>,
}

impl Inflater {
    /// `window_bits`: the negotiated window of the sending side (default 15); data that
    /// refers further back fails as corrupt. `no_context_takeover`: reset per message.
    pub fn new(window_bits: Option<u8>, no_context_takeover: bool) -> Inflater {
        Inflater {
            d: Decompress::new_with_window_bits(false, zlib_bits(window_bits)),
            reset_each_message: no_context_takeover,
            ended: false,
            produced: 0,
            chunk: Vec::new(),
        }
    }

    /// Start a new compressed message.
    pub fn start_message(&mut self) {
        if self.reset_each_message || self.ended {
            self.d.reset(false);
            self.ended = false;
        }
        self.produced = 0;
    }

    /// Inflate the next piece of the current message's compressed data; the output goes
    /// to `sink`. Fails as soon as the message would inflate to more than `max_out`.
    pub fn feed(
        &mut self,
        data: &[u8],
        max_out: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), InflateError> {
        self.run(data, max_out, false, sink)
    }

    /// The current message is complete: put back the removed sync-flush tail.
    pub fn end_message(
        &mut self,
        max_out: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), InflateError> {
        self.run(&SYNC_TAIL, max_out, true, sink)
    }

    fn run(
        &mut self,
        input: &[u8],
        max_out: usize,
        tail: bool,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), InflateError> {
        if self.ended {
            return if tail || input.is_empty() {
                Ok(())
            } else {
                Err(InflateError::TrailingData(input.len()))
            };
        }
        if self.chunk.is_empty() {
            self.chunk = vec![0u8; CHUNK];
        }
        let start_in = self.d.total_in();
        // Every round consumes input or produces output; a round that does neither
        // ends the loop, and output is bounded by max_out, so the loop is bounded.
        loop {
            let used = usize::try_from(self.d.total_in() - start_in).unwrap_or(input.len());
            let rest = input.get(used..).unwrap_or_default();
            let out_before = self.d.total_out();
            let status = self
                .d
                .decompress(rest, &mut self.chunk, FlushDecompress::Sync)
                .map_err(|e| InflateError::Corrupt(e.to_string()))?;
            let produced = usize::try_from(self.d.total_out() - out_before).unwrap_or(usize::MAX);
            let consumed = usize::try_from(self.d.total_in() - start_in).unwrap_or(input.len());
            if produced > max_out.saturating_sub(self.produced) {
                return Err(InflateError::TooLarge { max_out });
            }
            self.produced += produced;
            if produced > 0 {
                sink(&self.chunk[..produced]);
            }
            match status {
                Status::StreamEnd => {
                    self.ended = true;
                    let left = input.len().saturating_sub(consumed);
                    let allowed = if tail { SYNC_TAIL.len() } else { 0 };
                    if left > allowed {
                        return Err(InflateError::TrailingData(left - allowed));
                    }
                    return Ok(());
                }
                Status::Ok | Status::BufError => {
                    if produced == 0 && consumed == used {
                        return Ok(());
                    }
                    if consumed >= input.len() && produced < self.chunk.len() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// `n` zero bytes compressed as one permessage-deflate message, without ever holding
/// the `n` bytes (for decompression-bomb cases: about 1 KiB out per MiB in).
pub fn compress_zeros(n: usize) -> Vec<u8> {
    let mut c = Compress::new(Compression::best(), false);
    let zeros = vec![0u8; 1 << 20];
    let mut out = Vec::new();
    let mut left = n;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let take = left.min(zeros.len());
        let flush = if take == left {
            FlushCompress::Sync
        } else {
            FlushCompress::None
        };
        let mut input = &zeros[..take];
        loop {
            let before_in = c.total_in();
            let before_out = c.total_out();
            if c.compress(input, &mut buf, flush).is_err() {
                return out;
            }
            let used = (c.total_in() - before_in) as usize;
            let made = (c.total_out() - before_out) as usize;
            out.extend_from_slice(&buf[..made]);
            input = &input[used..];
            // Done with this chunk when all input is in and the output buffer was not filled.
            if input.is_empty() && made < buf.len() {
                break;
            }
        }
        left -= take;
        if left == 0 {
            break;
        }
    }
    if out.ends_with(&SYNC_TAIL) {
        out.truncate(out.len() - SYNC_TAIL.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7692_examples() {
        // §7.2.3.1: "Hello" compressed, tail removed.
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflate_bounded(&hello, 100).unwrap(), b"Hello");
        // §7.2.3.3: a message using a stored (uncompressed) block.
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        assert_eq!(inflate_bounded(&stored, 100).unwrap(), b"Hello");
        // §7.2.3.6: an empty message is a single 00.
        assert_eq!(compress_message(b""), [0x00]);
        assert_eq!(inflate_bounded(&[0x00], 0).unwrap(), b"");
        // A final block (BFINAL) is allowed: §7.2.3.4's "Hello" with BFINAL set.
        let fin = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflate_bounded(&fin, 100).unwrap(), b"Hello");
    }

    #[test]
    fn round_trip() {
        let msgs: [&[u8]; 4] = [b"", b"a", b"Hello, world! Hello, world!", &[7u8; 100_000]];
        for m in msgs {
            let c = compress_message(m);
            assert!(!c.ends_with(&SYNC_TAIL) || m.is_empty());
            assert_eq!(inflate_bounded(&c, m.len()).unwrap(), m);
            if !m.is_empty() {
                assert_eq!(
                    inflate_bounded(&c, m.len() - 1),
                    Err(InflateError::TooLarge {
                        max_out: m.len() - 1
                    })
                );
            }
        }
        // Context takeover: the second message refers back to the first.
        let mut c = Compress::new(Compression::default(), false);
        let mut d = Decompress::new(false);
        let a = compress_with(&mut c, b"the same words again");
        let b = compress_with(&mut c, b"the same words again");
        assert!(b.len() < a.len());
        assert_eq!(
            inflate_with(&mut d, &a, 100).unwrap(),
            b"the same words again"
        );
        assert_eq!(
            inflate_with(&mut d, &b, 100).unwrap(),
            b"the same words again"
        );
    }

    #[test]
    fn small_bomb_stops_at_the_bound_fast() {
        let bomb = compress_message(&vec![0u8; 100_000]);
        assert!(bomb.len() < 1000, "{}", bomb.len());
        let t = std::time::Instant::now();
        assert_eq!(
            inflate_bounded(&bomb, 10_000),
            Err(InflateError::TooLarge { max_out: 10_000 })
        );
        assert!(t.elapsed() < std::time::Duration::from_millis(200));
        // A bigger one (64 MiB of zeros in ~64 KiB) costs no more.
        let big = compress_message(&vec![0u8; 64 << 20]);
        let t = std::time::Instant::now();
        assert!(inflate_bounded(&big, 10_000).is_err());
        assert!(t.elapsed() < std::time::Duration::from_millis(200));
    }

    #[test]
    fn corrupt_and_trailing() {
        // BTYPE = 3 is reserved.
        assert!(matches!(
            inflate_bounded(&[0xff, 0xff], 100),
            Err(InflateError::Corrupt(_))
        ));
        let mut fin = vec![0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        fin.extend_from_slice(b"junk");
        assert_eq!(
            inflate_bounded(&fin, 100),
            Err(InflateError::TrailingData(4))
        );
        // Cut data yields what could be decoded.
        let c = compress_message(b"Hello, world!");
        assert!(inflate_bounded(&c[..c.len() / 2], 100).is_ok());
    }

    #[test]
    fn zeros_bomb_is_small_and_inflates_to_its_size() {
        let c = compress_zeros(8 << 20);
        assert!(c.len() < 16 << 10, "{} bytes", c.len());
        assert_eq!(inflate_bounded(&c, 8 << 20).unwrap().len(), 8 << 20);
        assert!(inflate_bounded(&c, 1 << 20).is_err());
        assert_eq!(compress_zeros(0), compress_message(&[]));
    }
}
