//! Chain verification: [`ChainVerifier`] checks one aggregate's stored rows
//! as they stream past, [`LogVerifier`] a whole log grouped by aggregate,
//! optionally against the heads of a checkpoint. Both keep constant memory
//! per aggregate (the last row's sequence and hash), so a store can stream
//! millions of rows through them.
//!
//! What each tampering yields (`k` is the sequence of the touched event):
//!
//! | tampering | findings |
//! | --- | --- |
//! | payload or metadata (or any hashed field) edited, hash left | `hash_mismatch` at k |
//! | edited and the row's hash recomputed | `broken_link` at k + 1 (at the checkpoint: `head_rewritten` if k was a head) |
//! | event k deleted | `sequence_gap` and `broken_link` at k + 1 |
//! | first event deleted | `first_not_genesis` at 2 |
//! | forged event inserted (own hash recomputed) | `broken_link` at the row after it, with `sequence_not_increasing` (duplicate number) or `hash_mismatch` (later rows renumbered) |
//! | events reordered | `sequence_gap` / `sequence_not_increasing` and `broken_link`, or `hash_mismatch` and `broken_link` if contents were swapped under fixed numbers |
//! | events renumbered | `hash_mismatch` and sequence findings, or `first_not_genesis` |
//! | tail truncated | nothing in the chain itself; `truncated` against a checkpoint |
//! | whole client removed | `client_removed` against a checkpoint |
//! | database rolled back | `truncated` / `client_removed` / `head_rewritten` against a checkpoint kept elsewhere |
//!
//! A chain rewritten consistently from some entry to its end is only
//! visible against a checkpoint taken before the rewrite.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::checkpoint::{HeadLeaf, head_change};
use crate::entry::StoredEntry;
use crate::error::AuditError;
use crate::hash::Hash;

/// One thing verification found wrong, with where: the aggregate and the
/// sequence it concerns.
///
/// JSON: `aggregate_type`, `aggregate_id`, `sequence`, `kind` (the
/// snake_case [`FindingKind::code`]) and the kind's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The aggregate type.
    pub aggregate_type: String,
    /// The aggregate id.
    pub aggregate_id: String,
    /// The sequence concerned: the row's for row findings, the
    /// checkpointed head's for checkpoint findings.
    pub sequence: u64,
    /// What was found.
    #[serde(flatten)]
    pub kind: FindingKind,
}

/// What kind of finding, with the hashes or numbers that show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingKind {
    /// The hash recomputed from the stored fields is not the stored hash:
    /// a hashed field (payload, metadata, sequence, ...) was changed.
    HashMismatch {
        /// The stored hash.
        stored: Hash,
        /// The hash of the stored fields.
        computed: Hash,
    },
    /// The stored fields cannot be hashed (e.g. a float or an integer
    /// beyond ±(2^53 − 1), or metadata that is not an object).
    Unhashable {
        /// Why, without stored values.
        reason: String,
    },
    /// The first stored row is not a genesis entry: its sequence is not 1
    /// or its `prev_hash` is not zeros (the start of the chain is gone).
    FirstNotGenesis {
        /// The row's `prev_hash` (null if the row was unreadable).
        prev_hash: Option<Hash>,
    },
    /// The sequence jumps: entries are missing before this one.
    SequenceGap {
        /// The sequence that should have come.
        expected: u64,
    },
    /// The sequence does not go up: a duplicated, reordered or renumbered
    /// entry.
    SequenceNotIncreasing {
        /// The previous row's sequence.
        previous: u64,
    },
    /// The row's `prev_hash` is not the previous row's stored hash: an
    /// entry was deleted, inserted, reordered, or rewritten with its hash.
    BrokenLink {
        /// The row's `prev_hash`.
        prev_hash: Hash,
        /// The previous row's stored hash.
        previous_hash: Hash,
    },
    /// The store could not read the row (e.g. JSON that does not parse, a
    /// hash that is not 64 hex characters).
    MalformedRow {
        /// Why, without stored values.
        reason: String,
    },
    /// A row of another aggregate was given to this aggregate's verifier.
    AggregateMismatch {
        /// The row's aggregate type.
        found_type: String,
        /// The row's aggregate id.
        found_id: String,
    },
    /// A checkpointed aggregate has no rows any more.
    ClientRemoved {
        /// Its checkpointed head hash.
        checkpointed_hash: Hash,
    },
    /// A checkpointed aggregate now ends before its checkpointed head: a
    /// truncated tail or a database rolled back.
    Truncated {
        /// The current head's sequence.
        current_sequence: u64,
        /// The checkpointed head hash.
        checkpointed_hash: Hash,
    },
    /// The entry that was the checkpointed head has another hash now.
    HeadRewritten {
        /// The checkpointed head hash.
        checkpointed_hash: Hash,
        /// The stored hash at that sequence now.
        current_hash: Hash,
    },
}

impl FindingKind {
    /// Every kind's code, in declaration order.
    pub const CODES: [&'static str; 11] = [
        "hash_mismatch",
        "unhashable",
        "first_not_genesis",
        "sequence_gap",
        "sequence_not_increasing",
        "broken_link",
        "malformed_row",
        "aggregate_mismatch",
        "client_removed",
        "truncated",
        "head_rewritten",
    ];

    /// The stable snake_case code of this kind, e.g. `hash_mismatch`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            FindingKind::HashMismatch { .. } => "hash_mismatch",
            FindingKind::Unhashable { .. } => "unhashable",
            FindingKind::FirstNotGenesis { .. } => "first_not_genesis",
            FindingKind::SequenceGap { .. } => "sequence_gap",
            FindingKind::SequenceNotIncreasing { .. } => "sequence_not_increasing",
            FindingKind::BrokenLink { .. } => "broken_link",
            FindingKind::MalformedRow { .. } => "malformed_row",
            FindingKind::AggregateMismatch { .. } => "aggregate_mismatch",
            FindingKind::ClientRemoved { .. } => "client_removed",
            FindingKind::Truncated { .. } => "truncated",
            FindingKind::HeadRewritten { .. } => "head_rewritten",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FindingKind::HashMismatch { stored, computed } => write!(
                f,
                "stored hash {stored} is not the entry's hash {computed}: a hashed field was changed"
            ),
            FindingKind::Unhashable { reason } => write!(f, "entry cannot be hashed: {reason}"),
            FindingKind::FirstNotGenesis { prev_hash } => match prev_hash {
                Some(h) => write!(
                    f,
                    "first entry is not a genesis entry (sequence 1, prev_hash zeros); prev_hash is {h}"
                ),
                None => f.write_str("first entry is not a genesis entry (sequence 1)"),
            },
            FindingKind::SequenceGap { expected } => {
                write!(f, "sequence jumps: expected {expected}")
            }
            FindingKind::SequenceNotIncreasing { previous } => {
                write!(f, "sequence does not increase after {previous}")
            }
            FindingKind::BrokenLink {
                prev_hash,
                previous_hash,
            } => write!(
                f,
                "prev_hash {prev_hash} is not the previous entry's hash {previous_hash}"
            ),
            FindingKind::MalformedRow { reason } => write!(f, "row cannot be read: {reason}"),
            FindingKind::AggregateMismatch {
                found_type,
                found_id,
            } => write!(f, "row belongs to {found_type}/{found_id}"),
            FindingKind::ClientRemoved { checkpointed_hash } => write!(
                f,
                "checkpointed aggregate (head {checkpointed_hash}) has no entries"
            ),
            FindingKind::Truncated {
                current_sequence,
                checkpointed_hash,
            } => write!(
                f,
                "chain ends at sequence {current_sequence}, before its checkpointed head {checkpointed_hash}"
            ),
            FindingKind::HeadRewritten {
                checkpointed_hash,
                current_hash,
            } => write!(
                f,
                "checkpointed head {checkpointed_hash} is now {current_hash}"
            ),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} sequence {}: {} ({})",
            self.aggregate_type,
            self.aggregate_id,
            self.sequence,
            self.kind.code(),
            self.kind
        )
    }
}

/// Verifies one aggregate's stored rows, fed in stored order (by
/// sequence), one at a time. Memory is constant: the last row's sequence
/// and hash, and the checkpointed head if one is given.
///
/// Each row is checked for: its recomputed hash against its stored hash;
/// genesis (first row: sequence 1 and `prev_hash` zeros); its sequence
/// against the previous row's plus one; its `prev_hash` against the
/// previous row's stored hash; and, with a checkpointed head, that the row
/// at the checkpointed sequence still has the checkpointed hash.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    aggregate_type: String,
    aggregate_id: String,
    checkpointed: Option<(u64, Hash)>,
    checkpoint_reached: bool,
    /// The last row's sequence and stored hash (`None`: unreadable).
    last: Option<(u64, Option<Hash>)>,
    rows: u64,
}

/// What a [`ChainVerifier`] knows when the rows end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// The aggregate type.
    pub aggregate_type: String,
    /// The aggregate id.
    pub aggregate_id: String,
    /// How many rows were pushed.
    pub rows: u64,
    /// The last row as a head leaf (its sequence and stored hash); `None`
    /// if there were no rows or the last was unreadable.
    pub head: Option<HeadLeaf>,
    /// Findings known only at the end: `truncated` or `client_removed`
    /// against the checkpointed head.
    pub findings: Vec<Finding>,
}

impl ChainVerifier {
    /// A verifier for the aggregate `aggregate_type`/`aggregate_id`.
    #[must_use]
    pub fn new(aggregate_type: &str, aggregate_id: &str) -> Self {
        ChainVerifier {
            aggregate_type: aggregate_type.to_owned(),
            aggregate_id: aggregate_id.to_owned(),
            checkpointed: None,
            checkpoint_reached: false,
            last: None,
            rows: 0,
        }
    }

    /// Also checks the chain against this aggregate's head in a
    /// checkpoint: the row at `sequence` must have `hash`
    /// (`head_rewritten`), and the chain must reach it (`truncated`, or
    /// `client_removed` for no rows).
    #[must_use]
    pub fn with_checkpointed_head(mut self, sequence: u64, hash: Hash) -> Self {
        self.checkpointed = Some((sequence, hash));
        self
    }

    fn finding(&self, sequence: u64, kind: FindingKind) -> Finding {
        Finding {
            aggregate_type: self.aggregate_type.clone(),
            aggregate_id: self.aggregate_id.clone(),
            sequence,
            kind,
        }
    }

    /// Checks the next stored row and returns what is wrong with it
    /// (nothing for a good row).
    pub fn push(&mut self, row: &StoredEntry) -> Vec<Finding> {
        let entry = &row.entry;
        self.push_hashed(
            &entry.aggregate_type,
            &entry.aggregate_id,
            entry.sequence,
            entry.prev_hash,
            row.hash,
            entry.hash(),
        )
    }

    /// As [`ChainVerifier::push`], for a row whose hash the caller has
    /// already computed (`computed`: what [`Entry::hash`] gives for it,
    /// e.g. through [`EntryText::hash`], which hashes stored text without
    /// parsing it): the same checks and findings, in the same order.
    ///
    /// [`Entry::hash`]: crate::Entry::hash
    /// [`EntryText::hash`]: crate::EntryText::hash
    pub fn push_hashed(
        &mut self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: u64,
        prev_hash: Hash,
        stored_hash: Hash,
        computed: Result<Hash, AuditError>,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        if aggregate_type != self.aggregate_type || aggregate_id != self.aggregate_id {
            out.push(self.finding(
                sequence,
                FindingKind::AggregateMismatch {
                    found_type: aggregate_type.to_owned(),
                    found_id: aggregate_id.to_owned(),
                },
            ));
        }
        match computed {
            Ok(computed) if computed != stored_hash => out.push(self.finding(
                sequence,
                FindingKind::HashMismatch {
                    stored: stored_hash,
                    computed,
                },
            )),
            Ok(_) => {}
            Err(e) => out.push(self.finding(
                sequence,
                FindingKind::Unhashable {
                    reason: e.to_string(),
                },
            )),
        }
        self.advance(sequence, Some(prev_hash), Some(stored_hash), &mut out);
        out
    }

    /// Records a row the store could not read (its sequence is known):
    /// reports `malformed_row` and the sequence checks. The next row's link
    /// cannot be checked and is not.
    pub fn push_unreadable(&mut self, sequence: u64, reason: &str) -> Vec<Finding> {
        let mut out = vec![self.finding(
            sequence,
            FindingKind::MalformedRow {
                reason: reason.to_owned(),
            },
        )];
        self.advance(sequence, None, None, &mut out);
        out
    }

    fn advance(
        &mut self,
        sequence: u64,
        prev_hash: Option<Hash>,
        hash: Option<Hash>,
        out: &mut Vec<Finding>,
    ) {
        match self.last {
            None => {
                let genesis_prev = prev_hash.is_none_or(|p| p == Hash::ZERO);
                if sequence != 1 || !genesis_prev {
                    out.push(self.finding(sequence, FindingKind::FirstNotGenesis { prev_hash }));
                }
            }
            Some((previous, previous_hash)) => {
                match previous.checked_add(1) {
                    Some(expected) if sequence == expected => {}
                    Some(expected) if sequence > expected => {
                        out.push(self.finding(sequence, FindingKind::SequenceGap { expected }));
                    }
                    _ => out.push(
                        self.finding(sequence, FindingKind::SequenceNotIncreasing { previous }),
                    ),
                }
                if let (Some(prev_hash), Some(previous_hash)) = (prev_hash, previous_hash)
                    && prev_hash != previous_hash
                {
                    out.push(self.finding(
                        sequence,
                        FindingKind::BrokenLink {
                            prev_hash,
                            previous_hash,
                        },
                    ));
                }
            }
        }
        if let Some((checkpointed_sequence, checkpointed_hash)) = self.checkpointed
            && sequence == checkpointed_sequence
            && !self.checkpoint_reached
        {
            self.checkpoint_reached = true;
            if let Some(current_hash) = hash
                && current_hash != checkpointed_hash
            {
                out.push(self.finding(
                    sequence,
                    FindingKind::HeadRewritten {
                        checkpointed_hash,
                        current_hash,
                    },
                ));
            }
        }
        self.last = Some((sequence, hash));
        self.rows += 1;
    }

    /// The last row's sequence and stored hash so far (`None` before any
    /// row, or if the last row was unreadable).
    #[must_use]
    pub fn head(&self) -> Option<(u64, Hash)> {
        self.last.and_then(|(s, h)| h.map(|h| (s, h)))
    }

    /// Ends the stream: the head and the end-of-chain findings.
    #[must_use]
    pub fn finish(self) -> ChainReport {
        let mut findings = Vec::new();
        if let Some((sequence, hash)) = self.checkpointed
            && !self.checkpoint_reached
        {
            let old = HeadLeaf {
                aggregate_type: self.aggregate_type.clone(),
                aggregate_id: self.aggregate_id.clone(),
                sequence,
                hash,
            };
            // A chain that passed the checkpointed sequence without
            // reaching it has a gap there, already reported.
            let now = self.last.map(|(s, h)| (s, h.unwrap_or(Hash::ZERO)));
            if let Some(kind) = head_change(&old, now)
                && !matches!(kind, FindingKind::HeadRewritten { .. })
            {
                findings.push(self.finding(sequence, kind));
            }
        }
        let head = self.head().map(|(sequence, hash)| HeadLeaf {
            aggregate_type: self.aggregate_type.clone(),
            aggregate_id: self.aggregate_id.clone(),
            sequence,
            hash,
        });
        ChainReport {
            aggregate_type: self.aggregate_type,
            aggregate_id: self.aggregate_id,
            rows: self.rows,
            head,
            findings,
        }
    }
}

/// Verifies a whole log: rows of many aggregates, grouped by aggregate (in
/// any order of aggregates), each aggregate's rows in stored order. With
/// [`LogVerifier::with_checkpoint`] it also checks every checkpointed head
/// (`head_rewritten`, `truncated`, `client_removed`).
///
/// Memory: one [`ChainVerifier`] at a time, plus one head per aggregate
/// (the heads a new checkpoint needs anyway).
#[derive(Debug, Clone, Default)]
pub struct LogVerifier {
    checkpointed: BTreeMap<(String, String), (u64, Hash)>,
    current: Option<ChainVerifier>,
    seen: HashSet<(String, String)>,
    heads: Vec<HeadLeaf>,
    rows: u64,
}

/// What a [`LogVerifier`] knows when the rows end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogReport {
    /// The current head of every aggregate with a readable last row, in
    /// tree order: the leaves of the next checkpoint.
    pub heads: Vec<HeadLeaf>,
    /// Findings not yet returned by `push`: the last aggregate's
    /// end-of-chain findings and `client_removed` for checkpointed
    /// aggregates that had no rows.
    pub findings: Vec<Finding>,
    /// How many aggregates had rows.
    pub aggregates: u64,
    /// How many rows were pushed.
    pub rows: u64,
}

impl LogVerifier {
    /// A verifier with no checkpoint to check against.
    #[must_use]
    pub fn new() -> Self {
        LogVerifier::default()
    }

    /// A verifier that also checks the log against a checkpoint's head
    /// leaves (verified beforehand, e.g. with
    /// [`verify_heads`](crate::verify_heads)).
    ///
    /// # Errors
    /// [`AuditError::DuplicateHead`] if two leaves name one aggregate.
    pub fn with_checkpoint(leaves: &[HeadLeaf]) -> Result<Self, AuditError> {
        let mut checkpointed = BTreeMap::new();
        for leaf in leaves {
            let key = (leaf.aggregate_type.clone(), leaf.aggregate_id.clone());
            if checkpointed
                .insert(key, (leaf.sequence, leaf.hash))
                .is_some()
            {
                return Err(AuditError::DuplicateHead {
                    aggregate_type: leaf.aggregate_type.clone(),
                    aggregate_id: leaf.aggregate_id.clone(),
                });
            }
        }
        Ok(LogVerifier {
            checkpointed,
            ..LogVerifier::default()
        })
    }

    fn switch_to(
        &mut self,
        aggregate_type: &str,
        aggregate_id: &str,
        out: &mut Vec<Finding>,
    ) -> Result<(), AuditError> {
        if let Some(current) = &self.current
            && current.aggregate_type == aggregate_type
            && current.aggregate_id == aggregate_id
        {
            return Ok(());
        }
        let key = (aggregate_type.to_owned(), aggregate_id.to_owned());
        if self.seen.contains(&key) {
            return Err(AuditError::AggregateNotGrouped {
                aggregate_type: key.0,
                aggregate_id: key.1,
            });
        }
        if let Some(previous) = self.current.take() {
            self.close(previous, out);
        }
        let mut verifier = ChainVerifier::new(aggregate_type, aggregate_id);
        if let Some((sequence, hash)) = self.checkpointed.remove(&key) {
            verifier = verifier.with_checkpointed_head(sequence, hash);
        }
        self.seen.insert(key);
        self.current = Some(verifier);
        Ok(())
    }

    fn close(&mut self, verifier: ChainVerifier, out: &mut Vec<Finding>) {
        let report = verifier.finish();
        out.extend(report.findings);
        if let Some(head) = report.head {
            self.heads.push(head);
        }
    }

    /// Checks the next stored row. Returns its findings, and the previous
    /// aggregate's end-of-chain findings when this row starts a new one.
    ///
    /// # Errors
    /// [`AuditError::AggregateNotGrouped`] if this row's aggregate had rows
    /// before another aggregate's.
    pub fn push(&mut self, row: &StoredEntry) -> Result<Vec<Finding>, AuditError> {
        let entry = &row.entry;
        self.push_hashed(
            &entry.aggregate_type,
            &entry.aggregate_id,
            entry.sequence,
            entry.prev_hash,
            row.hash,
            entry.hash(),
        )
    }

    /// As [`LogVerifier::push`], for a row whose hash the caller has
    /// already computed, as [`ChainVerifier::push_hashed`].
    ///
    /// # Errors
    /// As [`LogVerifier::push`].
    pub fn push_hashed(
        &mut self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: u64,
        prev_hash: Hash,
        stored_hash: Hash,
        computed: Result<Hash, AuditError>,
    ) -> Result<Vec<Finding>, AuditError> {
        let mut out = Vec::new();
        self.switch_to(aggregate_type, aggregate_id, &mut out)?;
        self.rows += 1;
        if let Some(current) = &mut self.current {
            out.extend(current.push_hashed(
                aggregate_type,
                aggregate_id,
                sequence,
                prev_hash,
                stored_hash,
                computed,
            ));
        }
        Ok(out)
    }

    /// Records a row the store could not read, as
    /// [`ChainVerifier::push_unreadable`].
    ///
    /// # Errors
    /// As [`LogVerifier::push`].
    pub fn push_unreadable(
        &mut self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: u64,
        reason: &str,
    ) -> Result<Vec<Finding>, AuditError> {
        let mut out = Vec::new();
        self.switch_to(aggregate_type, aggregate_id, &mut out)?;
        self.rows += 1;
        if let Some(current) = &mut self.current {
            out.extend(current.push_unreadable(sequence, reason));
        }
        Ok(out)
    }

    /// Ends the stream.
    #[must_use]
    pub fn finish(mut self) -> LogReport {
        let mut findings = Vec::new();
        if let Some(last) = self.current.take() {
            self.close(last, &mut findings);
        }
        for ((aggregate_type, aggregate_id), (sequence, hash)) in
            std::mem::take(&mut self.checkpointed)
        {
            findings.push(Finding {
                aggregate_type,
                aggregate_id,
                sequence,
                kind: FindingKind::ClientRemoved {
                    checkpointed_hash: hash,
                },
            });
        }
        self.heads.sort_by(HeadLeaf::cmp_key);
        LogReport {
            heads: self.heads,
            findings,
            aggregates: self.seen.len() as u64,
            rows: self.rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_lists_every_kind() {
        let h = Hash::ZERO;
        let kinds = [
            FindingKind::HashMismatch {
                stored: h,
                computed: h,
            },
            FindingKind::Unhashable {
                reason: String::new(),
            },
            FindingKind::FirstNotGenesis { prev_hash: None },
            FindingKind::SequenceGap { expected: 1 },
            FindingKind::SequenceNotIncreasing { previous: 1 },
            FindingKind::BrokenLink {
                prev_hash: h,
                previous_hash: h,
            },
            FindingKind::MalformedRow {
                reason: String::new(),
            },
            FindingKind::AggregateMismatch {
                found_type: String::new(),
                found_id: String::new(),
            },
            FindingKind::ClientRemoved {
                checkpointed_hash: h,
            },
            FindingKind::Truncated {
                current_sequence: 0,
                checkpointed_hash: h,
            },
            FindingKind::HeadRewritten {
                checkpointed_hash: h,
                current_hash: h,
            },
        ];
        let codes: Vec<&str> = kinds.iter().map(FindingKind::code).collect();
        assert_eq!(codes, FindingKind::CODES);
        for kind in kinds {
            let json = serde_json::to_value(&kind).expect("serializes");
            assert_eq!(json["kind"], kind.code());
            assert!(!kind.to_string().is_empty());
        }
    }
}
