//! The `canonical` fuzz target: [`kapchart_fuzz::canonical`] on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kapchart_fuzz::canonical(data));
