//! The `bundle` fuzz target: [`kapchart_fuzz::bundle`] on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kapchart_fuzz::bundle(data));
