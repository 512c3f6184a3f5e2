//! kapchart's audit contract as pure code (no I/O: no files, network,
//! database or clock; times and keys come in as arguments).
//!
//! The format is specified in `docs/audit-format.md`; in short:
//!
//! - [`canonical_json`]: RFC 8785 canonical JSON (integers only).
//! - [`Entry`]: one event as hashed; `hash` = SHA-256 of its canonical
//!   bytes; `prev_hash` links each entry to the previous one
//!   ([`Hash::ZERO`] for the first). [`StoredEntry`] is an entry with its
//!   stored hash; [`EntryText`] an entry as stored text, hashed without
//!   parsing JSON that is already canonical ([`is_canonical`]).
//! - [`ChainVerifier`] / [`LogVerifier`]: streaming verification producing
//!   [`Finding`]s, optionally against a checkpoint's heads.
//! - [`merkle`]: the RFC 6962 tree, inclusion and consistency proofs.
//! - [`HeadLeaf`], [`Statement`], [`SignedCheckpoint`]: checkpoints of all
//!   chain heads, signed with Ed25519; [`compare_heads`] reads an older
//!   checkpoint against the current heads.
//! - [`Bundle`], [`verify_bundle`], [`build_bundle`]: one client's record,
//!   provable on its own.

mod bundle;
mod canonical;
mod chain;
mod checkpoint;
mod entry;
mod error;
mod hash;
pub mod merkle;

pub use bundle::{Bundle, BundleError, BundleReport, Inclusion, build_bundle, verify_bundle};
pub use canonical::{MAX_SAFE_INTEGER, canonical_json, is_canonical};
pub use chain::{ChainReport, ChainVerifier, Finding, FindingKind, LogReport, LogVerifier};
pub use checkpoint::{
    CheckpointError, HeadLeaf, SignedCheckpoint, Statement, check_head_order, compare_heads,
    head_leaf_hashes, heads_root, key_id, parse_public_key, public_key_of, sort_heads,
    verify_heads,
};
pub use entry::{Entry, EntryText, StoredEntry};
pub use error::AuditError;
pub use hash::{Hash, ParseHashError};
pub use merkle::ProofError;
