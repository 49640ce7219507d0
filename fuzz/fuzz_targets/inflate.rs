//! cargo-fuzz target `inflate`: input and oracle are documented at
//! [`wsspec::fuzz::inflate`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsspec::fuzz::inflate(data));
