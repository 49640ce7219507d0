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

/// The first rule `f` breaks, or `None`.
pub fn violation(f: &Frame, s: RxState) -> Option<String> {
    if f.rsv != 0 {
        let first_data_frame = matches!(f.opcode, 1 | 2) && !s.in_message;
        if !s.deflate {
            return Some(format!("RSV = {} and no extension negotiated", f.rsv));
        }
        if f.rsv != 4 {
            return Some(format!(
                "RSV = {} (only RSV1 is defined by permessage-deflate)",
                f.rsv
            ));
        }
        if !first_data_frame {
            return Some("RSV1 on a control or continuation frame (RFC 7692 §6.1)".into());
        }
    }
    match (s.role.peer_masks(), f.mask.is_some()) {
        (false, true) => return Some("masked server-to-client frame".into()),
        (true, false) => return Some("unmasked client-to-server frame".into()),
        _ => {}
    }
    if !f.minimal_length {
        return Some("frame length not in minimal encoding".into());
    }
    if f.is_control() {
        if !f.fin {
            return Some("fragmented control frame".into());
        }
        if f.payload.len() > 125 {
            return Some("control frame with payload length > 125 octets".into());
        }
        if !matches!(f.opcode, 8..=10) {
            return Some(format!("control frame using reserved opcode {}", f.opcode));
        }
        if f.opcode == 8 && f.payload.len() == 1 {
            return Some("close frame with payload length 1".into());
        }
    } else {
        if f.opcode > 2 {
            return Some(format!("data frame using reserved opcode {}", f.opcode));
        }
        if !s.in_message && f.opcode == 0 {
            return Some("continuation frame outside a fragmented message".into());
        }
        if s.in_message && f.opcode != 0 {
            return Some("new data frame inside a fragmented message".into());
        }
    }
    None
}
