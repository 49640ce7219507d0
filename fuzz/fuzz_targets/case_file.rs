//! cargo-fuzz target `case_file`: input and oracle are documented at
//! [`wsspec::fuzz::case_file`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsspec::fuzz::case_file(data));
