//! An opened WebSocket connection, whichever side opened it: the stream, the bytes
//! read past the opening handshake, the negotiated extension and wsspec's role. The
//! client side produces one by dialing ([`super::conn`]), the server side by
//! accepting ([`super::accept`]); [`super::play`] plays a case on it.

use super::conn::Io;
use crate::rules::Role;
use crate::wire::extensions::PmdParams;

/// A connection whose opening handshake is done.
pub struct Session {
    /// The byte stream (TCP or TLS).
    pub io: Box<dyn Io>,
    /// Bytes already read after the handshake (the first frames, when the peer sent
    /// them in the same segment).
    pub leftover: Vec<u8>,
    /// permessage-deflate parameters, when negotiated.
    pub deflate: Option<PmdParams>,
    /// wsspec's role on the connection.
    pub role: Role,
    /// Bytes to send in the same write as the first frames (an opening response
    /// that must arrive together with a frame).
    pub preamble: Vec<u8>,
}
