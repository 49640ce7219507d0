//! Checking what the peer sends, frame by frame as it arrives (the well-formed
//! output oracle).

use crate::rules::receive::{stale_mask_key, violation, RxState, MASK_KEYS_CHECKED};
use crate::rules::Role;
use crate::wire::close_code;
use crate::wire::deflate;
use crate::wire::extensions::PmdParams;
use crate::wire::frame::FrameDecoder;

/// Largest frame or message the output checker accepts (16 MiB).
const MAX_PEER_FRAME: u64 = 16 << 20;

/// Validates the peer's frames as they arrive; the first problem is kept. Frame rules
/// are [`crate::rules::receive`]'s for wsspec's role; close codes, UTF-8, what may
/// follow a close and the deflate answer are checked here.
pub(super) struct PeerCheck {
    /// wsspec's role (the peer's frames must be masked when it is the server).
    pub(super) role: Role,
    pub(super) dec: FrameDecoder,
    pub(super) msg: Option<(u8, Vec<u8>, bool)>,
    /// The peer's close frame arrived (with its code).
    pub(super) close: Option<Option<u16>>,
    pub(super) problem: Option<String>,
    /// The byte stream cannot be parsed any further.
    pub(super) broken: bool,
    pub(super) pmd: Option<(PmdParams, flate2::Decompress)>,
    /// The text the probe waits for, and whether it arrived (compared on arrival,
    /// nothing kept: unsolicited texts can neither fill memory nor crowd it out).
    pub(super) expect_text: Option<Vec<u8>>,
    pub(super) echoed: bool,
    /// Complete messages and pongs received (before any problem).
    pub(super) events: usize,
    /// The masking keys of a client's first frames (wsspec as server).
    keys: Vec<[u8; 4]>,
}

impl PeerCheck {
    pub(super) fn new(role: Role, pmd: Option<PmdParams>) -> Self {
        PeerCheck {
            role,
            dec: FrameDecoder::new(MAX_PEER_FRAME),
            msg: None,
            close: None,
            problem: None,
            broken: false,
            pmd: pmd.map(|p| (p, flate2::Decompress::new(false))),
            expect_text: None,
            echoed: false,
            events: 0,
            keys: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, data: &[u8]) {
        if self.broken {
            return;
        }
        self.dec.push(data);
        // Bounded by the frames in the buffer.
        loop {
            match self.dec.next_frame() {
                // After the first problem only the close frame matters (it tells that
                // the server is ending the connection).
                Ok(Some(f)) if self.problem.is_some() => {
                    if f.opcode == 8 && self.close.is_none() {
                        self.close = Some(None);
                    }
                }
                Ok(Some(f)) => {
                    if let Err(p) = self.frame(f) {
                        self.problem = Some(p);
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    if self.problem.is_none() {
                        self.problem = Some(format!("{} frame too large: {e}", self.role.peer()));
                    }
                    self.broken = true;
                    return;
                }
            }
        }
    }

    fn frame(&mut self, f: crate::wire::frame::Frame) -> Result<(), String> {
        let peer = self.role.peer();
        if self.close.is_some() {
            return Err(format!("frame after the {peer}'s close frame ({f})"));
        }
        // The receive rules of the case player, for wsspec's role.
        let state = RxState {
            role: self.role,
            deflate: self.pmd.is_some(),
            in_message: self.msg.is_some(),
        };
        if let Some(v) = violation(&f, state) {
            return Err(format!("{v} ({f})"));
        }
        if let Some(key) = f.mask.filter(|_| self.keys.len() < MASK_KEYS_CHECKED) {
            if let Some(why) = stale_mask_key(&self.keys, key) {
                // What varies goes in parentheses (see `dedup_key`).
                let what = if key == [0; 4] { "zero" } else { "reused" };
                return Err(format!("{what} masking key ({why})"));
            }
            self.keys.push(key);
        }
        // Past the rules, RSV1 can only mark a compressed message's first frame.
        let compressed_start = f.rsv == 4;
        match f.opcode {
            8..=10 => {
                if f.opcode == 8 {
                    let code = match f.payload.as_slice() {
                        [] => None,
                        [a, b, reason @ ..] => {
                            let c = u16::from_be_bytes([*a, *b]);
                            if !close_code::is_valid_on_wire(c) {
                                return Err(format!("close code {c} may not be sent"));
                            }
                            if std::str::from_utf8(reason).is_err() {
                                return Err("close reason is not UTF-8".into());
                            }
                            Some(c)
                        }
                        // One byte: refused by the rules above.
                        [_] => None,
                    };
                    self.close = Some(code);
                }
                if f.opcode == 10 {
                    self.events += 1;
                }
                Ok(())
            }
            0 => {
                let Some((op, mut buf, z)) = self.msg.take() else {
                    return Err("continuation frame without a message".into());
                };
                buf.extend_from_slice(&f.payload);
                self.data(op, buf, z, f.fin)
            }
            1 | 2 => self.data(f.opcode, f.payload, compressed_start, f.fin),
            op => Err(format!("reserved opcode {op} from the {peer}")),
        }
    }

    fn data(&mut self, op: u8, buf: Vec<u8>, compressed: bool, fin: bool) -> Result<(), String> {
        if buf.len() as u64 > MAX_PEER_FRAME {
            return Err(format!("{} message over 16 MiB", self.role.peer()));
        }
        if !fin {
            self.msg = Some((op, buf, compressed));
            return Ok(());
        }
        let plain = match (&mut self.pmd, compressed) {
            (Some((params, inflater)), true) => {
                if self.role.inflate_params(params).1 {
                    *inflater = flate2::Decompress::new(false);
                }
                deflate::inflate_with(inflater, &buf, MAX_PEER_FRAME as usize)
                    .map_err(|e| format!("compressed message does not inflate: {e}"))?
            }
            _ => buf,
        };
        if op == 1 {
            if std::str::from_utf8(&plain).is_err() {
                return Err("text message is not valid UTF-8".into());
            }
            if self.expect_text.as_ref() == Some(&plain) {
                self.echoed = true;
            }
        }
        self.events += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_check_catches_malformed_frames() {
        let bad: [&[u8]; 6] = [
            &[0x81, 0x81, 1, 2, 3, 4, b'x' ^ 1],
            &[0xc1, 0x01, b'x'],
            &[0x83, 0x00],
            &[0x09, 0x00],
            &[0x88, 0x02, 0x03, 0xed],
            &[0x81, 0x01, 0xff],
        ];
        for b in bad {
            let mut c = PeerCheck::new(Role::Client, None);
            c.push(b);
            assert!(c.problem.is_some(), "{b:02x?}");
        }
        let mut c = PeerCheck::new(Role::Client, None);
        c.expect_text = Some(b"hi!".to_vec());
        // An unsolicited text first, then the fragmented "hi!" with a ping inside.
        c.push(&[0x81, 0x02, b'n', b'o']);
        assert!(!c.echoed);
        c.push(&[
            0x01, 0x02, b'h', b'i', 0x89, 0x00, 0x80, 0x01, b'!', 0x88, 0x02, 0x03, 0xe8,
        ]);
        assert_eq!(c.problem, None);
        assert!(c.echoed);
        assert_eq!(c.close, Some(Some(1000)));
        // wsspec as server: the client's frames must be masked.
        let mut c = PeerCheck::new(Role::Server, None);
        c.push(&[0x81, 0x81, 1, 2, 3, 4, b'x' ^ 1]);
        assert_eq!(c.problem, None);
        c.push(&[0x81, 0x01, b'x']);
        assert!(c.problem.is_some());
        // …with a fresh key each.
        let mut c = PeerCheck::new(Role::Server, None);
        c.push(&[0x81, 0x81, 1, 2, 3, 4, b'x' ^ 1]);
        c.push(&[0x81, 0x81, 1, 2, 3, 5, b'x' ^ 1]);
        assert_eq!(c.problem, None);
        c.push(&[0x81, 0x81, 1, 2, 3, 4, b'x' ^ 1]);
        assert!(
            c.problem.as_ref().unwrap().contains("reuses"),
            "{:?}",
            c.problem
        );
        let mut c = PeerCheck::new(Role::Server, None);
        c.push(&[0x81, 0x81, 0, 0, 0, 0, b'x']);
        assert!(c.problem.is_some());
    }
}
