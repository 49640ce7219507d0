//! cargo-fuzz target `handshake_request`: input and oracle are documented at
//! [`wsspec::fuzz::handshake_request`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsspec::fuzz::handshake_request(data));
