//! What a received frame may look like (RFC 6455 §5.2–§5.5, RFC 7692 §6.1): the checks
//! Autobahn's tester applies to every frame from its peer. A violation is returned in
//! words; the caller fails the connection with 1002.

use super::Role;
use crate::wire::frame::Frame;

/// What the receiver knows when a frame arrives.
#[derive(Debug, Clone, Copy)]
pub struct RxState {
    /// wsspec's role on the connection.
    pub role: Role,
    /// permessage-deflate was negotiated.
    pub deflate: bool,
    /// A fragmented data message is open.
    pub in_message: bool,
}

/// How many of a client's first frames have their masking keys checked.
pub const MASK_KEYS_CHECKED: usize = 64;

/// What is wrong with masking key `key` of a client's frame after the `earlier` keys
/// of its frames: a client picks a fresh, unpredictable key for every frame (RFC 6455
/// §5.3), so the zero key or a repeated one gives it away (a random key does that
/// with a chance of about 2^-32 per pair).
pub fn stale_mask_key(earlier: &[[u8; 4]], key: [u8; 4]) -> Option<String> {
    let n = earlier.len() + 1;
    if key == [0; 4] {
        return Some(format!(
            "frame {n} of the client is masked with the key 00000000"
        ));
    }
    let i = earlier.iter().position(|k| *k == key)?;
    Some(format!(
        "frame {n} of the client reuses the masking key {} of its frame {}",
        crate::case::encode_hex(&key),
        i + 1
    ))
}

/// A frame header as the rules see it (a decoded frame, or a header whose payload has
/// not arrived yet).
#[derive(Debug, Clone, Copy)]
pub struct Header {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    /// The payload length.
    pub len: u64,
    /// The length used its minimal encoding.
    pub minimal_length: bool,
}

impl Header {
    /// The header of a decoded frame.
    pub fn of(f: &Frame) -> Header {
        Header {
            fin: f.fin,
            rsv: f.rsv,
            opcode: f.opcode,
            masked: f.mask.is_some(),
            len: f.payload.len() as u64,
            minimal_length: f.minimal_length,
        }
    }
}

/// Which rule a frame breaks: the test fixtures waive one at a time to break it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// RSV bits without an extension that defines them (RFC 6455 §5.2, RFC 7692 §6.1).
    Rsv,
    /// Masked from a server, or unmasked from a client (§5.1).
    Masking,
    /// A 16- or 64-bit length for a length that fits a shorter form (§5.2).
    LengthEncoding,
    /// A control frame with FIN clear (§5.5).
    FragmentedControl,
    /// A control frame over 125 bytes (§5.5).
    LongControl,
    /// A reserved opcode, control or data (§5.2).
    ReservedOpcode,
    /// A close frame with a 1-byte payload (§5.5.1).
    CloseLengthOne,
    /// A continuation frame with no message open (§5.4).
    ContinuationOutsideMessage,
    /// A text or binary frame while a message is open (§5.4).
    DataInsideMessage,
}

/// Every rule header `h` breaks, in the order the receive path checks them, each
/// with its reason in words.
pub fn broken(h: &Header, s: RxState) -> Vec<(Rule, String)> {
    let mut out = Vec::new();
    let control = h.opcode >= 8;
    if h.rsv != 0 {
        let first_data_frame = matches!(h.opcode, 1 | 2) && !s.in_message;
        if !s.deflate {
            out.push((
                Rule::Rsv,
                format!("RSV = {} and no extension negotiated", h.rsv),
            ));
        } else if h.rsv != 4 {
            out.push((
                Rule::Rsv,
                format!(
                    "RSV = {} (only RSV1 is defined by permessage-deflate)",
                    h.rsv
                ),
            ));
        } else if !first_data_frame {
            out.push((
                Rule::Rsv,
                "RSV1 on a control or continuation frame (RFC 7692 §6.1)".into(),
            ));
        }
    }
    match (s.role.peer_masks(), h.masked) {
        (false, true) => out.push((Rule::Masking, "masked server-to-client frame".into())),
        (true, false) => out.push((Rule::Masking, "unmasked client-to-server frame".into())),
        _ => {}
    }
    if !h.minimal_length {
        out.push((
            Rule::LengthEncoding,
            "frame length not in minimal encoding".into(),
        ));
    }
    if control {
        if !h.fin {
            out.push((Rule::FragmentedControl, "fragmented control frame".into()));
        }
        if h.len > 125 {
            out.push((
                Rule::LongControl,
                "control frame with payload length > 125 octets".into(),
            ));
        }
        if !matches!(h.opcode, 8..=10) {
            out.push((
                Rule::ReservedOpcode,
                format!("control frame using reserved opcode {}", h.opcode),
            ));
        }
        if h.opcode == 8 && h.len == 1 {
            out.push((
                Rule::CloseLengthOne,
                "close frame with payload length 1".into(),
            ));
        }
    } else if h.opcode > 2 {
        out.push((
            Rule::ReservedOpcode,
            format!("data frame using reserved opcode {}", h.opcode),
        ));
    } else if !s.in_message && h.opcode == 0 {
        out.push((
            Rule::ContinuationOutsideMessage,
            "continuation frame outside a fragmented message".into(),
        ));
    } else if s.in_message && h.opcode != 0 {
        out.push((
            Rule::DataInsideMessage,
            "new data frame inside a fragmented message".into(),
        ));
    }
    out
}

/// The first rule `f` breaks, in words, or `None`.
pub fn violation(f: &Frame, s: RxState) -> Option<String> {
    broken(&Header::of(f), s)
        .into_iter()
        .next()
        .map(|(_, why)| why)
}
