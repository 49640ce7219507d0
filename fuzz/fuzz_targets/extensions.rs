//! cargo-fuzz target `extensions`: input and oracle are documented at
//! [`wsspec::fuzz::extensions_negotiation`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsspec::fuzz::extensions_negotiation(data));
