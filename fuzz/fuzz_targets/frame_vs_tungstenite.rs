//! cargo-fuzz target `frame_vs_tungstenite`: input and oracle are documented at
//! [`wsspec::fuzz::frame_vs_tungstenite`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsspec::fuzz::frame_vs_tungstenite(data));
