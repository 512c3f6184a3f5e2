//! The bodies of kapchart's fuzz targets, as plain functions over bytes.
//!
//! Each function takes any input at all and returns normally: the code
//! under test may accept or refuse the input, but it may not panic, and
//! what it accepts must keep the target's properties, which the function
//! asserts (a failed assertion is a panic, so the fuzzer reports it like
//! any other). The same functions are called by:
//!
//! - the libFuzzer binaries in `fuzz/` (cargo-fuzz, run on the stable
//!   toolchain with `--sanitizer none` by `cargo xtask fuzz`), and
//! - `tests/corpus.rs`, which replays every committed input of
//!   `corpus/<target>/` in the ordinary test suite.
//!
//! The targets ([`TARGETS`]):
//!
//! - [`command`]: a command body as the API receives it, parsed into a
//!   domain command ([`kapchart_domain::parse_json`] and friends).
//! - [`bundle`]: an exported client bundle parsed and verified
//!   ([`kapchart_audit::verify_bundle`]).
//! - [`canonical`]: the RFC 8785 canonical JSON writer
//!   ([`kapchart_audit::canonical_json`], [`kapchart_audit::is_canonical`]).
//! - [`merkle`]: the RFC 6962 inclusion and consistency proof verifiers,
//!   and proofs made by the tree builder.

mod bundle;
mod canonical;
mod command;
pub mod merkle;

pub use bundle::{SEED_SECRET, bundle};
pub use canonical::canonical;
pub use command::{CommandRequest, PracticeCommandRequest, command};
pub use merkle::merkle;

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target by name: the name of its binary in `fuzz/fuzz_targets/`
/// and of its folder in `corpus/`.
pub const TARGETS: [(&str, Target); 4] = [
    ("command", command),
    ("bundle", bundle),
    ("canonical", canonical),
    ("merkle", merkle),
];
