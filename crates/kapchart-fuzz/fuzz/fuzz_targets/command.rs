//! The `command` fuzz target: [`kapchart_fuzz::command`] on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kapchart_fuzz::command(data));
