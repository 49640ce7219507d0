//! cargo-fuzz target `frame_decoder`: input and oracle are documented at
//! [`wsspec::fuzz::frame_decoder`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsspec::fuzz::frame_decoder(data));
