//! The byte-level codec, kept apart from the rules: it can encode any frame (any
//! opcode, RSV bits, masking, lying lengths) and decodes whatever a peer sends without
//! judging it. Judging lives in [`crate::engine`].

pub mod close_code;
pub mod deflate;
pub mod extensions;
pub mod frame;
pub mod handshake;
pub mod utf8;
