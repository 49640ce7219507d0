//! cargo-fuzz target `frame_stream`: input and oracle are documented at
//! [`wsspec::fuzz::frame_stream`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsspec::fuzz::frame_stream(data));
