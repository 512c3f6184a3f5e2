//! Export bundles: one client's entries with the signed checkpoint and the
//! inclusion proof of the client's head, verifiable with no other client's
//! data ([`verify_bundle`]); built by [`build_bundle`].

use serde::{Deserialize, Serialize};

use crate::chain::{ChainVerifier, FindingKind};
use crate::checkpoint::{
    CheckpointError, HeadLeaf, SignedCheckpoint, Statement, head_leaf_hashes, parse_public_key,
};
use crate::entry::StoredEntry;
use crate::error::AuditError;
use crate::hash::Hash;
use crate::merkle::{self, ProofError};

/// One client's record, provable on its own. JSON keys: `entries`,
/// `checkpoint`, `public_key`, `inclusion` (no others).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Every entry of the client from sequence 1 to the checkpointed head,
    /// each with its `hash`.
    pub entries: Vec<StoredEntry>,
    /// The signed checkpoint whose tree includes the client's head.
    pub checkpoint: SignedCheckpoint,
    /// The Ed25519 public key, 64 lowercase hex characters.
    pub public_key: String,
    /// The proof that the head leaf is in the checkpoint's tree.
    pub inclusion: Inclusion,
}

/// An inclusion proof of one head leaf. JSON keys: `leaf_index`,
/// `tree_size`, `audit_path` (hex hashes, from the leaf level up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inclusion {
    /// The head leaf's index in the sorted leaves.
    pub leaf_index: u64,
    /// The tree size; must equal the statement's `tree_size`.
    pub tree_size: u64,
    /// RFC 9162 audit path.
    pub audit_path: Vec<Hash>,
}

/// What a verified bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReport {
    /// The client's head leaf, proven in the checkpoint.
    pub head: HeadLeaf,
    /// How many entries were verified (the head's sequence).
    pub entries: u64,
    /// The verified statement.
    pub statement: Statement,
    /// SHA-256 of the statement's canonical bytes (the next checkpoint's
    /// `previous`).
    pub statement_hash: Hash,
    /// The head leaf's index in the checkpoint's tree.
    pub leaf_index: u64,
}

/// Why a bundle did not verify (or could not be built).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// `public_key` is not 64 lowercase hex characters.
    #[error("the bundle's public_key is not 64 lowercase hex characters")]
    MalformedPublicKey,
    /// `public_key` is not the key the verifier expects.
    #[error("the bundle's public_key is not the expected key")]
    WrongKey,
    /// The expected key is not a valid Ed25519 public key.
    #[error("the expected key is not a valid Ed25519 public key")]
    InvalidPublicKey,
    /// The statement's `key_id` is not the SHA-256 of the key.
    #[error("the checkpoint statement's key_id is not the SHA-256 of the public key")]
    KeyIdMismatch,
    /// The signature is not 128 lowercase hex characters.
    #[error("the checkpoint signature is not 128 lowercase hex characters")]
    MalformedSignature,
    /// The signature does not verify.
    #[error("the checkpoint signature does not verify under the public key")]
    BadSignature,
    /// The statement's `issued_at` is not RFC 3339 UTC ending in `Z`.
    #[error("the checkpoint's issued_at is not an RFC 3339 UTC time ending in Z")]
    IssuedAt,
    /// The bundle has no entries.
    #[error("the bundle has no entries")]
    NoEntries,
    /// An entry belongs to another aggregate than the first.
    #[error("the entry at sequence {sequence} belongs to another aggregate than the first entry")]
    MixedAggregates {
        /// The entry's sequence.
        sequence: u64,
    },
    /// An entry's hash is not the hash of its fields.
    #[error("the entry at sequence {sequence} does not match its hash: a hashed field was changed")]
    EntryHash {
        /// The entry's sequence.
        sequence: u64,
    },
    /// The chain from genesis is broken.
    #[error("the chain is broken at sequence {sequence}: {finding}")]
    BrokenChain {
        /// The sequence where it breaks.
        sequence: u64,
        /// What is wrong there.
        finding: FindingKind,
    },
    /// The proof's tree size is not the statement's.
    #[error("the inclusion proof is for tree size {inclusion}, the statement's is {statement}")]
    TreeSizeMismatch {
        /// The inclusion proof's tree size.
        inclusion: u64,
        /// The statement's tree size.
        statement: u64,
    },
    /// The head leaf is not proven in the checkpoint's root.
    #[error("the inclusion proof of the head fails: {0}")]
    Inclusion(ProofError),
    /// The head leaf cannot be canonicalized.
    #[error("the head leaf cannot be canonicalized: {0}")]
    Leaf(AuditError),
    /// Building: the heads do not verify against the statement.
    #[error("the head leaves do not match the checkpoint: {0}")]
    Heads(CheckpointError),
    /// Building: the client has no head in the checkpoint.
    #[error("the client has no head in the checkpoint")]
    NotInCheckpoint,
    /// Building: the last entry is not the client's checkpointed head.
    #[error(
        "the last entry (sequence {last_sequence}) is not the checkpointed head (sequence {checkpointed_sequence}); export the entries up to the checkpointed head"
    )]
    HeadNotCheckpointed {
        /// The checkpointed head's sequence.
        checkpointed_sequence: u64,
        /// The last entry's sequence.
        last_sequence: u64,
    },
}

impl From<CheckpointError> for BundleError {
    fn from(e: CheckpointError) -> Self {
        match e {
            CheckpointError::InvalidPublicKey => BundleError::InvalidPublicKey,
            CheckpointError::MalformedPublicKey => BundleError::MalformedPublicKey,
            CheckpointError::KeyIdMismatch => BundleError::KeyIdMismatch,
            CheckpointError::IssuedAt => BundleError::IssuedAt,
            CheckpointError::MalformedSignature => BundleError::MalformedSignature,
            CheckpointError::BadSignature => BundleError::BadSignature,
            other => BundleError::Heads(other),
        }
    }
}

/// Verifies a bundle against the public key the verifier trusts:
///
/// 1. `public_key` is 64 lowercase hex and equals `expected_public_key`;
/// 2. the statement's `key_id` is SHA-256 of that key, its `issued_at` is
///    RFC 3339 UTC, and the signature verifies over its canonical bytes;
/// 3. the entries are one aggregate's, every entry's hash is the hash of
///    its fields, and they chain from genesis (sequence 1, `prev_hash`
///    zeros) without gaps or broken links;
/// 4. the last entry, as a head leaf, is proven by `inclusion` to be leaf
///    `leaf_index` of the statement's tree (`tree_size` equal to the
///    statement's, root `root_hash`).
///
/// # Errors
/// The first check that fails, as a [`BundleError`].
pub fn verify_bundle(
    bundle: &Bundle,
    expected_public_key: &[u8; 32],
) -> Result<BundleReport, BundleError> {
    let key = parse_public_key(&bundle.public_key).map_err(|_| BundleError::MalformedPublicKey)?;
    if &key != expected_public_key {
        return Err(BundleError::WrongKey);
    }
    bundle.checkpoint.verify(expected_public_key)?;
    let statement = &bundle.checkpoint.statement;

    let first = bundle.entries.first().ok_or(BundleError::NoEntries)?;
    let aggregate_type = &first.entry.aggregate_type;
    let aggregate_id = &first.entry.aggregate_id;
    let mut chain = ChainVerifier::new(aggregate_type, aggregate_id);
    for stored in &bundle.entries {
        let sequence = stored.entry.sequence;
        if &stored.entry.aggregate_type != aggregate_type
            || &stored.entry.aggregate_id != aggregate_id
        {
            return Err(BundleError::MixedAggregates { sequence });
        }
        if let Some(finding) = chain.push(stored).into_iter().next() {
            return Err(match finding.kind {
                FindingKind::HashMismatch { .. } => BundleError::EntryHash { sequence },
                kind => BundleError::BrokenChain {
                    sequence,
                    finding: kind,
                },
            });
        }
    }
    let report = chain.finish();
    // Every entry pushed was readable, so the chain has a head.
    let head = report.head.ok_or(BundleError::NoEntries)?;

    if bundle.inclusion.tree_size != statement.tree_size {
        return Err(BundleError::TreeSizeMismatch {
            inclusion: bundle.inclusion.tree_size,
            statement: statement.tree_size,
        });
    }
    let leaf_hash = head.leaf_hash().map_err(BundleError::Leaf)?;
    merkle::verify_inclusion(
        bundle.inclusion.leaf_index,
        bundle.inclusion.tree_size,
        &leaf_hash,
        &bundle.inclusion.audit_path,
        &statement.root_hash,
    )
    .map_err(BundleError::Inclusion)?;

    Ok(BundleReport {
        entries: report.rows,
        statement_hash: statement.hash().map_err(BundleError::Leaf)?,
        statement: statement.clone(),
        leaf_index: bundle.inclusion.leaf_index,
        head,
    })
}

/// Builds the bundle of one client: `entries` from sequence 1 up to the
/// client's head in `checkpoint`; `heads` all the checkpoint's head leaves
/// in tree order. The result is verified with [`verify_bundle`] before it
/// is returned.
///
/// # Errors
/// [`BundleError::NoEntries`], [`BundleError::Heads`] (heads that are not
/// the statement's), [`BundleError::NotInCheckpoint`],
/// [`BundleError::HeadNotCheckpointed`], or any verification error.
pub fn build_bundle(
    entries: Vec<StoredEntry>,
    checkpoint: SignedCheckpoint,
    public_key: &[u8; 32],
    heads: &[HeadLeaf],
) -> Result<Bundle, BundleError> {
    let last = entries.last().ok_or(BundleError::NoEntries)?;
    let tree_size = checkpoint.statement.tree_size;
    let leaf_hashes = head_leaf_hashes(heads).map_err(BundleError::Heads)?;
    if leaf_hashes.len() as u64 != tree_size {
        return Err(BundleError::Heads(CheckpointError::LeafCount {
            tree_size,
            leaves: leaf_hashes.len() as u64,
        }));
    }
    if merkle::root(&leaf_hashes) != checkpoint.statement.root_hash {
        return Err(BundleError::Heads(CheckpointError::RootMismatch));
    }
    let index = heads
        .binary_search_by(|leaf| {
            (leaf.aggregate_type.as_str(), leaf.aggregate_id.as_str()).cmp(&(
                last.entry.aggregate_type.as_str(),
                last.entry.aggregate_id.as_str(),
            ))
        })
        .map_err(|_| BundleError::NotInCheckpoint)?;
    let leaf = &heads[index];
    if leaf.sequence != last.entry.sequence || leaf.hash != last.hash {
        return Err(BundleError::HeadNotCheckpointed {
            checkpointed_sequence: leaf.sequence,
            last_sequence: last.entry.sequence,
        });
    }
    let leaf_index = index as u64;
    let audit_path =
        merkle::inclusion_proof(leaf_index, &leaf_hashes).map_err(BundleError::Inclusion)?;
    let bundle = Bundle {
        entries,
        checkpoint,
        public_key: hex::encode(public_key),
        inclusion: Inclusion {
            leaf_index,
            tree_size,
            audit_path,
        },
    };
    verify_bundle(&bundle, public_key)?;
    Ok(bundle)
}
