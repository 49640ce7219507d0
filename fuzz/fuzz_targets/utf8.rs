//! cargo-fuzz target `utf8`: input and oracle are documented at
//! [`wsspec::fuzz::utf8`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsspec::fuzz::utf8(data));
