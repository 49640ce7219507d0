//! Checking what the peer sends, frame by frame as it arrives (the well-formed
//! output oracle).

use crate::wire::close_code;
use crate::wire::deflate;
use crate::wire::extensions::PmdParams;
use crate::wire::frame::FrameDecoder;

/// Largest frame or message the output checker accepts (16 MiB).
const MAX_SERVER_FRAME: u64 = 16 << 20;

/// Validates the server's frames as they arrive; the first problem is kept.
pub(super) struct ServerCheck {
    pub(super) dec: FrameDecoder,
    pub(super) msg: Option<(u8, Vec<u8>, bool)>,
    /// The server's close frame arrived (with its code).
    pub(super) close: Option<Option<u16>>,
    pub(super) problem: Option<String>,
    /// The byte stream cannot be parsed any further.
    pub(super) broken: bool,
    pub(super) pmd: Option<(PmdParams, flate2::Decompress)>,
    /// The text the probe waits for, and whether it arrived (compared on arrival,
    /// nothing kept: unsolicited texts can neither fill memory nor crowd it out).
    pub(super) expect_text: Option<Vec<u8>>,
    pub(super) echoed: bool,
}

impl ServerCheck {
    pub(super) fn new(pmd: Option<PmdParams>) -> Self {
        ServerCheck {
            dec: FrameDecoder::new(MAX_SERVER_FRAME),
            msg: None,
            close: None,
            problem: None,
            broken: false,
            pmd: pmd.map(|p| (p, flate2::Decompress::new(false))),
            expect_text: None,
            echoed: false,
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
                        self.problem = Some(format!("server frame too large: {e}"));
                    }
                    self.broken = true;
                    return;
                }
            }
        }
    }

    fn frame(&mut self, f: crate::wire::frame::Frame) -> Result<(), String> {
        if self.close.is_some() {
            return Err(format!("frame after the server's close frame ({f})"));
        }
        if f.mask.is_some() {
            return Err(format!("masked server frame ({f})"));
        }
        if !f.minimal_length {
            return Err(format!("length not minimally encoded ({f})"));
        }
        let compressed_start = self.pmd.is_some() && f.rsv == 4 && matches!(f.opcode, 1 | 2);
        if f.rsv != 0 && !compressed_start {
            return Err(format!(
                "RSV bits set without an extension that defines them ({f})"
            ));
        }
        match f.opcode {
            8..=10 => {
                if !f.fin {
                    return Err(format!("fragmented control frame ({f})"));
                }
                if f.payload.len() > 125 {
                    return Err(format!("control frame longer than 125 bytes ({f})"));
                }
                if f.opcode == 8 {
                    let code = match f.payload.as_slice() {
                        [] => None,
                        [_] => return Err("close frame with a 1-byte payload".into()),
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
                    };
                    self.close = Some(code);
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
            1 | 2 => {
                if self.msg.is_some() {
                    return Err("new data frame inside a fragmented message".into());
                }
                self.data(f.opcode, f.payload, compressed_start, f.fin)
            }
            op => Err(format!("reserved opcode {op} from the server")),
        }
    }

    fn data(&mut self, op: u8, buf: Vec<u8>, compressed: bool, fin: bool) -> Result<(), String> {
        if buf.len() as u64 > MAX_SERVER_FRAME {
            return Err("server message over 16 MiB".into());
        }
        if !fin {
            self.msg = Some((op, buf, compressed));
            return Ok(());
        }
        let plain = match (&mut self.pmd, compressed) {
            (Some((params, inflater)), true) => {
                if params.server_no_context_takeover {
                    *inflater = flate2::Decompress::new(false);
                }
                deflate::inflate_with(inflater, &buf, MAX_SERVER_FRAME as usize)
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
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_check_catches_malformed_frames() {
        let bad: [&[u8]; 6] = [
            &[0x81, 0x81, 1, 2, 3, 4, b'x' ^ 1],
            &[0xc1, 0x01, b'x'],
            &[0x83, 0x00],
            &[0x09, 0x00],
            &[0x88, 0x02, 0x03, 0xed],
            &[0x81, 0x01, 0xff],
        ];
        for b in bad {
            let mut c = ServerCheck::new(None);
            c.push(b);
            assert!(c.problem.is_some(), "{b:02x?}");
        }
        let mut c = ServerCheck::new(None);
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
    }
}
