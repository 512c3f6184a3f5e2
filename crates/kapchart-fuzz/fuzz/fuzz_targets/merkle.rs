//! The `merkle` fuzz target: [`kapchart_fuzz::merkle`] on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kapchart_fuzz::merkle(data));
