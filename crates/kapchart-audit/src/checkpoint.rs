//! Checkpoints: the chain heads as Merkle leaves ([`HeadLeaf`]), the signed
//! [`Statement`] of their tree, and [`compare_heads`], which reads an older
//! checkpoint's heads against the current ones.

use std::cmp::Ordering;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::canonical::canonical_json;
use crate::chain::{Finding, FindingKind};
use crate::error::AuditError;
use crate::hash::Hash;
use crate::merkle;

/// The head of one aggregate's chain: a leaf of the checkpoint tree.
///
/// The leaf data is the RFC 8785 canonical JSON of exactly the four keys
/// `aggregate_type`, `aggregate_id`, `sequence` (an integer) and `hash`
/// (64 lowercase hex); the leaf hash is SHA-256(0x00 || data).
///
/// Leaves are ordered by `(aggregate_type, aggregate_id)` compared as
/// strings byte by byte (UTF-8), which is Unicode code-point order — not
/// the UTF-16 order RFC 8785 uses for object keys, and not a database
/// collation. The derived `Ord` is that order (then `sequence`, `hash`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadLeaf {
    /// The aggregate type.
    pub aggregate_type: String,
    /// The aggregate id.
    pub aggregate_id: String,
    /// The head entry's sequence.
    pub sequence: u64,
    /// The head entry's hash.
    pub hash: Hash,
}

impl HeadLeaf {
    /// The JSON object with exactly the four leaf keys.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "aggregate_type".to_owned(),
            Value::String(self.aggregate_type.clone()),
        );
        map.insert(
            "aggregate_id".to_owned(),
            Value::String(self.aggregate_id.clone()),
        );
        map.insert("sequence".to_owned(), Value::from(self.sequence));
        map.insert("hash".to_owned(), Value::String(self.hash.to_hex()));
        Value::Object(map)
    }

    /// The leaf data: canonical JSON of [`HeadLeaf::to_json`].
    ///
    /// # Errors
    /// [`AuditError::UnsafeInteger`] for a sequence beyond 2^53 − 1.
    pub fn leaf_data(&self) -> Result<Vec<u8>, AuditError> {
        canonical_json(&self.to_json())
    }

    /// The Merkle leaf hash: SHA-256(0x00 || [`HeadLeaf::leaf_data`]).
    ///
    /// # Errors
    /// As [`HeadLeaf::leaf_data`].
    pub fn leaf_hash(&self) -> Result<Hash, AuditError> {
        Ok(merkle::leaf_hash(&self.leaf_data()?))
    }

    /// Compares two leaves by the tree order key `(aggregate_type,
    /// aggregate_id)` only.
    #[must_use]
    pub fn cmp_key(&self, other: &HeadLeaf) -> Ordering {
        (self.aggregate_type.as_str(), self.aggregate_id.as_str())
            .cmp(&(other.aggregate_type.as_str(), other.aggregate_id.as_str()))
    }
}

/// Sorts leaves into tree order and refuses two leaves of one aggregate.
///
/// # Errors
/// [`AuditError::DuplicateHead`].
pub fn sort_heads(leaves: &mut [HeadLeaf]) -> Result<(), AuditError> {
    leaves.sort_by(HeadLeaf::cmp_key);
    match leaves
        .windows(2)
        .find(|pair| pair[0].cmp_key(&pair[1]) == Ordering::Equal)
    {
        Some(pair) => Err(AuditError::DuplicateHead {
            aggregate_type: pair[1].aggregate_type.clone(),
            aggregate_id: pair[1].aggregate_id.clone(),
        }),
        None => Ok(()),
    }
}

/// Checks that leaves are in strictly increasing tree order (sorted, one
/// leaf per aggregate).
///
/// # Errors
/// [`CheckpointError::Audit`] with [`AuditError::DuplicateHead`], or
/// [`CheckpointError::LeavesOutOfOrder`] with the first offending index.
pub fn check_head_order(leaves: &[HeadLeaf]) -> Result<(), CheckpointError> {
    for (i, pair) in leaves.windows(2).enumerate() {
        match pair[0].cmp_key(&pair[1]) {
            Ordering::Less => {}
            Ordering::Equal => {
                return Err(CheckpointError::Audit(AuditError::DuplicateHead {
                    aggregate_type: pair[1].aggregate_type.clone(),
                    aggregate_id: pair[1].aggregate_id.clone(),
                }));
            }
            Ordering::Greater => return Err(CheckpointError::LeavesOutOfOrder { index: i + 1 }),
        }
    }
    Ok(())
}

/// The leaf hashes of sorted head leaves, in order.
///
/// # Errors
/// As [`check_head_order`], or a leaf that cannot be canonicalized.
pub fn head_leaf_hashes(leaves: &[HeadLeaf]) -> Result<Vec<Hash>, CheckpointError> {
    check_head_order(leaves)?;
    leaves
        .iter()
        .map(|l| l.leaf_hash().map_err(CheckpointError::Audit))
        .collect()
}

/// The Merkle root of sorted head leaves (the empty tree's root for none).
///
/// # Errors
/// As [`head_leaf_hashes`].
pub fn heads_root(leaves: &[HeadLeaf]) -> Result<Hash, CheckpointError> {
    Ok(merkle::root(&head_leaf_hashes(leaves)?))
}

/// `key_id`: lowercase hex SHA-256 of the 32-byte Ed25519 public key.
#[must_use]
pub fn key_id(public_key: &[u8; 32]) -> String {
    Hash::sha256(public_key).to_hex()
}

/// The Ed25519 public key of a 32-byte secret key (RFC 8032 seed).
#[must_use]
pub fn public_key_of(secret_key: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(secret_key)
        .verifying_key()
        .to_bytes()
}

/// What a checkpoint asserts: the tree of chain heads at one moment.
///
/// Its canonical JSON (exactly these five keys) is what is signed and what
/// [`Statement::hash`] hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// The number of leaves (chain heads).
    pub tree_size: u64,
    /// The Merkle root of the head leaves.
    pub root_hash: Hash,
    /// When the checkpoint was made: RFC 3339 in UTC with a `Z` suffix,
    /// e.g. `2026-01-05T21:00:00Z` (passed in; this library reads no clock).
    pub issued_at: String,
    /// [`Statement::hash`] of the previous checkpoint's statement;
    /// [`Hash::ZERO`] for the first.
    pub previous: Hash,
    /// [`key_id`] of the signing key.
    pub key_id: String,
}

impl Statement {
    /// A statement signed by the key whose public half is `public_key`.
    ///
    /// # Errors
    /// [`CheckpointError::IssuedAt`] unless `issued_at` is RFC 3339 UTC
    /// ending in `Z`.
    pub fn new(
        tree_size: u64,
        root_hash: Hash,
        issued_at: &str,
        previous: Hash,
        public_key: &[u8; 32],
    ) -> Result<Self, CheckpointError> {
        check_issued_at(issued_at)?;
        Ok(Statement {
            tree_size,
            root_hash,
            issued_at: issued_at.to_owned(),
            previous,
            key_id: key_id(public_key),
        })
    }

    /// The JSON object with exactly the five statement keys.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("tree_size".to_owned(), Value::from(self.tree_size));
        map.insert(
            "root_hash".to_owned(),
            Value::String(self.root_hash.to_hex()),
        );
        map.insert(
            "issued_at".to_owned(),
            Value::String(self.issued_at.clone()),
        );
        map.insert("previous".to_owned(), Value::String(self.previous.to_hex()));
        map.insert("key_id".to_owned(), Value::String(self.key_id.clone()));
        Value::Object(map)
    }

    /// The canonical bytes: what is signed.
    ///
    /// # Errors
    /// [`AuditError::UnsafeInteger`] for a tree size beyond 2^53 − 1.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, AuditError> {
        canonical_json(&self.to_json())
    }

    /// SHA-256 of the canonical bytes: the next statement's `previous`.
    ///
    /// # Errors
    /// As [`Statement::canonical_bytes`].
    pub fn hash(&self) -> Result<Hash, AuditError> {
        Ok(Hash::sha256(&self.canonical_bytes()?))
    }
}

fn check_issued_at(issued_at: &str) -> Result<(), CheckpointError> {
    let parsed =
        chrono::DateTime::parse_from_rfc3339(issued_at).map_err(|_| CheckpointError::IssuedAt)?;
    if parsed.offset().local_minus_utc() != 0 || !issued_at.ends_with('Z') {
        return Err(CheckpointError::IssuedAt);
    }
    Ok(())
}

/// A [`Statement`] with its Ed25519 signature (128 lowercase hex characters)
/// over the statement's canonical bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedCheckpoint {
    /// What is asserted.
    pub statement: Statement,
    /// Ed25519 signature of the statement's canonical bytes, hex.
    pub signature: String,
}

impl SignedCheckpoint {
    /// Signs `statement` with the 32-byte Ed25519 secret key (RFC 8032
    /// seed). Ed25519 is deterministic: the same statement and key give the
    /// same signature.
    ///
    /// # Errors
    /// [`CheckpointError::KeyIdMismatch`] if the statement's `key_id` is not
    /// this key's; [`CheckpointError::IssuedAt`]; a canonicalization error.
    pub fn sign(statement: Statement, secret_key: &[u8; 32]) -> Result<Self, CheckpointError> {
        let signing = SigningKey::from_bytes(secret_key);
        let expected = key_id(&signing.verifying_key().to_bytes());
        if statement.key_id != expected {
            return Err(CheckpointError::KeyIdMismatch);
        }
        check_issued_at(&statement.issued_at)?;
        let bytes = statement.canonical_bytes()?;
        let signature = signing.sign(&bytes);
        Ok(SignedCheckpoint {
            statement,
            signature: hex::encode(signature.to_bytes()),
        })
    }

    /// Verifies the signature under `public_key`: the statement's `key_id`
    /// must be this key's, the signature 64 bytes of lowercase hex, and a
    /// valid strict Ed25519 signature of the statement's canonical bytes.
    ///
    /// # Errors
    /// [`CheckpointError::InvalidPublicKey`],
    /// [`CheckpointError::KeyIdMismatch`], [`CheckpointError::IssuedAt`],
    /// [`CheckpointError::MalformedSignature`] or
    /// [`CheckpointError::BadSignature`].
    pub fn verify(&self, public_key: &[u8; 32]) -> Result<(), CheckpointError> {
        let verifying =
            VerifyingKey::from_bytes(public_key).map_err(|_| CheckpointError::InvalidPublicKey)?;
        if self.statement.key_id != key_id(public_key) {
            return Err(CheckpointError::KeyIdMismatch);
        }
        check_issued_at(&self.statement.issued_at)?;
        let signature = parse_signature(&self.signature)?;
        let bytes = self.statement.canonical_bytes()?;
        verifying
            .verify_strict(&bytes, &signature)
            .map_err(|_| CheckpointError::BadSignature)
    }
}

fn parse_signature(text: &str) -> Result<Signature, CheckpointError> {
    if text.len() != 128
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(CheckpointError::MalformedSignature);
    }
    let mut bytes = [0u8; 64];
    hex::decode_to_slice(text, &mut bytes).map_err(|_| CheckpointError::MalformedSignature)?;
    Ok(Signature::from_bytes(&bytes))
}

/// Parses a 32-byte key written as 64 lowercase hex characters.
///
/// # Errors
/// [`CheckpointError::MalformedPublicKey`].
pub fn parse_public_key(text: &str) -> Result<[u8; 32], CheckpointError> {
    Hash::from_hex(text)
        .map(|h| *h.as_bytes())
        .map_err(|_| CheckpointError::MalformedPublicKey)
}

/// Checks that `leaves` are the leaves the statement commits to: sorted,
/// one per aggregate, `tree_size` of them, with the statement's root.
/// Use it before trusting leaves kept beside a checkpoint.
///
/// # Errors
/// [`CheckpointError::LeafCount`], [`CheckpointError::RootMismatch`] or an
/// error of [`head_leaf_hashes`].
pub fn verify_heads(statement: &Statement, leaves: &[HeadLeaf]) -> Result<(), CheckpointError> {
    if leaves.len() as u64 != statement.tree_size {
        return Err(CheckpointError::LeafCount {
            tree_size: statement.tree_size,
            leaves: leaves.len() as u64,
        });
    }
    if heads_root(leaves)? != statement.root_hash {
        return Err(CheckpointError::RootMismatch);
    }
    Ok(())
}

/// Why a checkpoint or its leaves did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The 32 bytes are not an Ed25519 public key.
    #[error("the public key is not a valid Ed25519 key")]
    InvalidPublicKey,
    /// A public key text is not 64 lowercase hex characters.
    #[error("the public key is not 64 lowercase hex characters")]
    MalformedPublicKey,
    /// The statement's `key_id` is not the key's.
    #[error("the statement's key_id is not the SHA-256 of the public key")]
    KeyIdMismatch,
    /// `issued_at` is not RFC 3339 UTC ending in `Z`.
    #[error("issued_at is not an RFC 3339 UTC time ending in Z")]
    IssuedAt,
    /// The signature is not 128 lowercase hex characters.
    #[error("the signature is not 128 lowercase hex characters")]
    MalformedSignature,
    /// The signature does not verify.
    #[error("the signature does not verify under the public key")]
    BadSignature,
    /// Head leaves are not in strictly increasing order.
    #[error("head leaf {index} is out of order")]
    LeavesOutOfOrder {
        /// Index of the first leaf that sorts before its predecessor.
        index: usize,
    },
    /// The number of leaves is not the statement's tree size.
    #[error("the statement's tree size is {tree_size} but there are {leaves} leaves")]
    LeafCount {
        /// The statement's tree size.
        tree_size: u64,
        /// The number of leaves given.
        leaves: u64,
    },
    /// The leaves' root is not the statement's root.
    #[error("the head leaves' root is not the statement's root_hash")]
    RootMismatch,
    /// A canonicalization error.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Compares the head leaves of an older checkpoint with the current heads
/// (both in tree order, e.g. from [`sort_heads`]) and reports, for each
/// checkpointed aggregate:
///
/// - [`FindingKind::ClientRemoved`]: the aggregate has no current head;
/// - [`FindingKind::Truncated`]: its current sequence is below the
///   checkpointed one (a truncated tail, or a database rolled back);
/// - [`FindingKind::HeadRewritten`]: same sequence, different hash.
///
/// Each finding's `sequence` is the checkpointed sequence. Aggregates new
/// since the checkpoint are fine. A chain that has grown past the
/// checkpoint cannot be judged from heads alone: that its entry at the
/// checkpointed sequence still has the checkpointed hash is checked by
/// [`ChainVerifier::with_checkpointed_head`](crate::ChainVerifier::with_checkpointed_head)
/// (or [`LogVerifier::with_checkpoint`](crate::LogVerifier::with_checkpoint)).
///
/// # Errors
/// As [`check_head_order`], for either list.
pub fn compare_heads(
    checkpointed: &[HeadLeaf],
    current: &[HeadLeaf],
) -> Result<Vec<Finding>, CheckpointError> {
    check_head_order(checkpointed)?;
    check_head_order(current)?;
    let mut findings = Vec::new();
    let mut cur = current.iter().peekable();
    for old in checkpointed {
        while cur.next_if(|c| c.cmp_key(old) == Ordering::Less).is_some() {}
        let now = cur.next_if(|c| c.cmp_key(old) == Ordering::Equal);
        if let Some(kind) = head_change(old, now.map(|n| (n.sequence, n.hash))) {
            findings.push(Finding {
                aggregate_type: old.aggregate_type.clone(),
                aggregate_id: old.aggregate_id.clone(),
                sequence: old.sequence,
                kind,
            });
        }
    }
    Ok(findings)
}

/// What became of a checkpointed head, given the current head (sequence,
/// hash) if any; `None` when it is unchanged or has grown.
pub(crate) fn head_change(old: &HeadLeaf, now: Option<(u64, Hash)>) -> Option<FindingKind> {
    match now {
        None => Some(FindingKind::ClientRemoved {
            checkpointed_hash: old.hash,
        }),
        Some((sequence, _)) if sequence < old.sequence => Some(FindingKind::Truncated {
            current_sequence: sequence,
            checkpointed_hash: old.hash,
        }),
        Some((sequence, hash)) if sequence == old.sequence && hash != old.hash => {
            Some(FindingKind::HeadRewritten {
                checkpointed_hash: old.hash,
                current_hash: hash,
            })
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(t: &str, id: &str, sequence: u64, seed: &str) -> HeadLeaf {
        HeadLeaf {
            aggregate_type: t.to_owned(),
            aggregate_id: id.to_owned(),
            sequence,
            hash: Hash::sha256(seed.as_bytes()),
        }
    }

    const SECRET: [u8; 32] = [7; 32];

    #[test]
    fn leaf_data_is_canonical_json_of_four_keys() {
        let l = leaf("ClientRecord", "client-1", 2, "x");
        let data = String::from_utf8(l.leaf_data().expect("data")).expect("utf-8");
        assert_eq!(
            data,
            format!(
                "{{\"aggregate_id\":\"client-1\",\"aggregate_type\":\"ClientRecord\",\"hash\":\"{}\",\"sequence\":2}}",
                l.hash
            )
        );
        assert_eq!(
            l.leaf_hash().expect("hash"),
            Hash::sha256_parts(&[&[0], data.as_bytes()])
        );
    }

    #[test]
    fn leaves_sort_bytewise_and_refuse_duplicates() {
        let mut leaves = vec![
            leaf("ClientRecord", "b", 1, "1"),
            leaf("ClientRecord", "B", 1, "2"),
            leaf("AccessLog", "z", 1, "3"),
            leaf("ClientRecord", "é", 1, "4"),
            leaf("ClientRecord", "a", 1, "5"),
        ];
        sort_heads(&mut leaves).expect("sorts");
        let keys: Vec<(&str, &str)> = leaves
            .iter()
            .map(|l| (l.aggregate_type.as_str(), l.aggregate_id.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("AccessLog", "z"),
                ("ClientRecord", "B"),
                ("ClientRecord", "a"),
                ("ClientRecord", "b"),
                ("ClientRecord", "é")
            ]
        );
        leaves.push(leaf("ClientRecord", "a", 2, "6"));
        assert!(matches!(
            sort_heads(&mut leaves),
            Err(AuditError::DuplicateHead { .. })
        ));
        let unsorted = [leaf("T", "b", 1, "1"), leaf("T", "a", 1, "1")];
        assert_eq!(
            check_head_order(&unsorted),
            Err(CheckpointError::LeavesOutOfOrder { index: 1 })
        );
    }

    #[test]
    fn sign_and_verify() {
        let public = public_key_of(&SECRET);
        let statement = Statement::new(
            3,
            Hash::sha256(b"root"),
            "2026-01-05T21:00:00Z",
            Hash::ZERO,
            &public,
        )
        .expect("statement");
        assert_eq!(statement.key_id, Hash::sha256(&public).to_hex());
        let signed = SignedCheckpoint::sign(statement.clone(), &SECRET).expect("signs");
        assert_eq!(signed.verify(&public), Ok(()));
        assert_eq!(signed.signature.len(), 128);

        let other = public_key_of(&[8; 32]);
        assert_eq!(signed.verify(&other), Err(CheckpointError::KeyIdMismatch));
        let mut forged = signed.clone();
        forged.statement.key_id = key_id(&other);
        assert_eq!(forged.verify(&other), Err(CheckpointError::BadSignature));

        let mut changed = signed.clone();
        changed.statement.tree_size = 4;
        assert_eq!(changed.verify(&public), Err(CheckpointError::BadSignature));
        let mut changed = signed.clone();
        changed.statement.previous = Hash::sha256(b"p");
        assert_eq!(changed.verify(&public), Err(CheckpointError::BadSignature));

        let mut bad = signed.clone();
        bad.signature = bad.signature.to_uppercase();
        assert_eq!(
            bad.verify(&public),
            Err(CheckpointError::MalformedSignature)
        );
        let mut flipped = signed.clone();
        let first = if flipped.signature.starts_with('0') {
            "1"
        } else {
            "0"
        };
        flipped.signature.replace_range(0..1, first);
        assert_eq!(flipped.verify(&public), Err(CheckpointError::BadSignature));

        assert_eq!(
            SignedCheckpoint::sign(statement, &[8; 32]),
            Err(CheckpointError::KeyIdMismatch)
        );
    }

    #[test]
    fn issued_at_must_be_utc_rfc3339() {
        let public = public_key_of(&SECRET);
        for bad in [
            "2026-01-05",
            "2026-01-05T21:00:00+01:00",
            "2026-01-05T21:00:00+00:00",
            "x",
        ] {
            assert_eq!(
                Statement::new(0, Hash::ZERO, bad, Hash::ZERO, &public),
                Err(CheckpointError::IssuedAt),
                "{bad}"
            );
        }
        assert!(
            Statement::new(0, Hash::ZERO, "2026-01-05T21:00:00.5Z", Hash::ZERO, &public).is_ok()
        );
    }

    #[test]
    fn statement_json_and_chain_of_statements() {
        let public = public_key_of(&SECRET);
        let first = Statement::new(
            1,
            Hash::sha256(b"r"),
            "2026-01-05T21:00:00Z",
            Hash::ZERO,
            &public,
        )
        .expect("statement");
        let json = serde_json::to_value(&first).expect("serializes");
        assert_eq!(json, first.to_json());
        let bytes = String::from_utf8(first.canonical_bytes().expect("bytes")).expect("utf-8");
        assert!(bytes.starts_with("{\"issued_at\":\"2026-01-05T21:00:00Z\",\"key_id\":"));
        let second = Statement::new(
            1,
            Hash::sha256(b"r"),
            "2026-01-06T21:00:00Z",
            first.hash().expect("hash"),
            &public,
        )
        .expect("statement");
        assert_eq!(second.previous, Hash::sha256(bytes.as_bytes()));
    }

    #[test]
    fn verify_heads_checks_count_order_and_root() {
        let public = public_key_of(&SECRET);
        let leaves = vec![leaf("T", "a", 1, "1"), leaf("T", "b", 2, "2")];
        let root = heads_root(&leaves).expect("root");
        let st = Statement::new(2, root, "2026-01-05T21:00:00Z", Hash::ZERO, &public).expect("st");
        assert_eq!(verify_heads(&st, &leaves), Ok(()));
        assert!(matches!(
            verify_heads(&st, &leaves[..1]),
            Err(CheckpointError::LeafCount { .. })
        ));
        let mut changed = leaves.clone();
        changed[1].sequence = 3;
        assert_eq!(
            verify_heads(&st, &changed),
            Err(CheckpointError::RootMismatch)
        );
        assert_eq!(heads_root(&[]).expect("root"), merkle::empty_root());
    }

    #[test]
    fn compare_heads_reports_removed_truncated_rewritten() {
        let old = vec![
            leaf("T", "a", 3, "a3"),
            leaf("T", "b", 5, "b5"),
            leaf("T", "c", 2, "c2"),
            leaf("T", "d", 4, "d4"),
            leaf("T", "e", 1, "e1"),
        ];
        let current = vec![
            leaf("T", "a", 3, "a3"),     // unchanged
            leaf("T", "aa", 1, "new"),   // new client: fine
            leaf("T", "b", 4, "b4"),     // truncated
            leaf("T", "d", 4, "forged"), // rewritten
            leaf("T", "e", 9, "e9"),     // grown: not judged here
        ];
        let findings = compare_heads(&old, &current).expect("compares");
        let summary: Vec<(&str, u64, &str)> = findings
            .iter()
            .map(|f| (f.aggregate_id.as_str(), f.sequence, f.kind.code()))
            .collect();
        assert_eq!(
            summary,
            [
                ("b", 5, "truncated"),
                ("c", 2, "client_removed"),
                ("d", 4, "head_rewritten")
            ]
        );
        assert!(compare_heads(&current, &old).is_ok());
    }
}
