//! cargo-fuzz target `handshake_response`: input and oracle are documented at
//! [`wsspec::fuzz::handshake_response`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsspec::fuzz::handshake_response(data));
