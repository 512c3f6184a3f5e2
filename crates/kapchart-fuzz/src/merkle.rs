//! The RFC 6962 proof verifiers, on proofs from anywhere and on proofs
//! the tree builder made.
//!
//! # Input format
//! The first byte picks the case (its value modulo 3); then two
//! little-endian `u64`s (missing bytes are zeros); then byte strings, each
//! a length byte and that many bytes (cut short where the input ends):
//!
//! - `0`, an inclusion proof: `leaf_index`, `tree_size`; leaf hash, root,
//!   then the proof's hashes.
//! - `1`, a consistency proof: `size1`, `size2`; first root, second root,
//!   then the proof's hashes.
//! - `2`, a tree: two numbers that choose a leaf and a first size; then
//!   the leaves' data (the first [`MAX_TREE_LEAVES`]: every shape of
//!   tree up to 256 leaves is reachable, and larger trees would only slow
//!   the fuzzer down; the verifiers take sizes up to `u64::MAX` in the
//!   other two cases).
//!
//! [`encode`] writes an [`Input`] in that format (the seeds from the RFC
//! 6962 vectors are made with it).

use kapchart_audit::merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_consistency_raw, verify_inclusion, verify_inclusion_raw,
};
use kapchart_audit::{Hash, ProofError};

/// The most leaves a tree input builds.
pub const MAX_TREE_LEAVES: usize = 256;

/// One decoded input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// An inclusion proof to verify.
    Inclusion {
        /// The leaf's index.
        leaf_index: u64,
        /// The tree's size.
        tree_size: u64,
        /// The leaf's hash (any length).
        leaf: Vec<u8>,
        /// The tree's root (any length).
        root: Vec<u8>,
        /// The audit path (hashes of any length).
        proof: Vec<Vec<u8>>,
    },
    /// A consistency proof to verify.
    Consistency {
        /// The first tree's size.
        size1: u64,
        /// The second tree's size.
        size2: u64,
        /// The first tree's root (any length).
        root1: Vec<u8>,
        /// The second tree's root (any length).
        root2: Vec<u8>,
        /// The proof (hashes of any length).
        proof: Vec<Vec<u8>>,
    },
    /// A tree to build, prove and verify.
    Tree {
        /// Chooses the leaf to prove (modulo the number of leaves).
        pick: u64,
        /// Chooses the first tree's size (modulo the number of leaves, plus one).
        first: u64,
        /// The leaves' data.
        leaves: Vec<Vec<u8>>,
    },
}

/// Reads the input format.
struct Reader<'a> {
    data: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    fn number(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        let got = self.take(8);
        bytes[..got.len()].copy_from_slice(got);
        u64::from_le_bytes(bytes)
    }

    fn string(&mut self) -> Option<Vec<u8>> {
        let len = *self.take(1).first()?;
        Some(self.take(usize::from(len)).to_vec())
    }

    fn strings(&mut self) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| self.string()).collect()
    }
}

/// Decodes an input; `None` for the empty input.
#[must_use]
pub fn decode(data: &[u8]) -> Option<Input> {
    let mut r = Reader { data };
    let case = r.take(1).first()? % 3;
    let (a, b) = (r.number(), r.number());
    Some(match case {
        0 => Input::Inclusion {
            leaf_index: a,
            tree_size: b,
            leaf: r.string().unwrap_or_default(),
            root: r.string().unwrap_or_default(),
            proof: r.strings(),
        },
        1 => Input::Consistency {
            size1: a,
            size2: b,
            root1: r.string().unwrap_or_default(),
            root2: r.string().unwrap_or_default(),
            proof: r.strings(),
        },
        _ => Input::Tree {
            pick: a,
            first: b,
            leaves: r.strings(),
        },
    })
}

/// Encodes an input (byte strings longer than 255 bytes are cut to 255).
#[must_use]
pub fn encode(input: &Input) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, s: &[u8]) {
        let s = &s[..s.len().min(255)];
        out.push(u8::try_from(s.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(s);
    }
    let mut out = Vec::new();
    let (case, a, b, strings): (u8, u64, u64, Vec<&[u8]>) = match input {
        Input::Inclusion {
            leaf_index,
            tree_size,
            leaf,
            root,
            proof,
        } => {
            let mut s = vec![leaf.as_slice(), root.as_slice()];
            s.extend(proof.iter().map(Vec::as_slice));
            (0, *leaf_index, *tree_size, s)
        }
        Input::Consistency {
            size1,
            size2,
            root1,
            root2,
            proof,
        } => {
            let mut s = vec![root1.as_slice(), root2.as_slice()];
            s.extend(proof.iter().map(Vec::as_slice));
            (1, *size1, *size2, s)
        }
        Input::Tree {
            pick,
            first,
            leaves,
        } => (2, *pick, *first, leaves.iter().map(Vec::as_slice).collect()),
    };
    out.push(case);
    out.extend_from_slice(&a.to_le_bytes());
    out.extend_from_slice(&b.to_le_bytes());
    for s in strings {
        put(&mut out, s);
    }
    out
}

/// The proof target: any proof is accepted or refused without panicking
/// (by the byte-string verifiers, and by the typed ones when every hash
/// is 32 bytes, with the same answer); proofs the builder makes for any
/// leaves verify, and stop verifying when a hash in them changes.
pub fn merkle(data: &[u8]) {
    match decode(data) {
        None => {}
        Some(Input::Inclusion {
            leaf_index,
            tree_size,
            leaf,
            root,
            proof,
        }) => {
            let raw = verify_inclusion_raw(leaf_index, tree_size, &leaf, &proof, &root);
            if let (Some(leaf), Some(root), Some(proof)) =
                (hash(&leaf), hash(&root), hashes(&proof))
            {
                let typed = verify_inclusion(leaf_index, tree_size, &leaf, &proof, &root);
                assert_eq!(raw, typed, "the raw and typed inclusion verifiers disagree");
            }
        }
        Some(Input::Consistency {
            size1,
            size2,
            root1,
            root2,
            proof,
        }) => {
            let raw = verify_consistency_raw(size1, size2, &root1, &root2, &proof);
            if let (Some(root1), Some(root2), Some(proof)) =
                (hash(&root1), hash(&root2), hashes(&proof))
            {
                let typed = verify_consistency(size1, size2, &root1, &root2, &proof);
                assert_eq!(
                    raw, typed,
                    "the raw and typed consistency verifiers disagree"
                );
            }
        }
        Some(Input::Tree {
            pick,
            first,
            leaves,
        }) => built_proofs_verify(pick, first, &leaves),
    }
}

fn hash(bytes: &[u8]) -> Option<Hash> {
    Hash::from_slice(bytes).ok()
}

fn hashes(proof: &[Vec<u8>]) -> Option<Vec<Hash>> {
    proof.iter().map(|p| hash(p)).collect()
}

/// `hash` with one bit flipped, chosen by `at`.
fn flipped(hash: &Hash, at: u64) -> Hash {
    let mut bytes = *hash.as_bytes();
    let bit = usize::try_from(at % 256).unwrap_or(0);
    bytes[bit / 8] ^= 1 << (bit % 8);
    Hash::from(bytes)
}

fn built_proofs_verify(pick: u64, first: u64, leaves: &[Vec<u8>]) {
    let hashes: Vec<Hash> = leaves
        .iter()
        .take(MAX_TREE_LEAVES)
        .map(|d| leaf_hash(d))
        .collect();
    let top = root(&hashes);
    let n = hashes.len() as u64;
    if n == 0 {
        assert_eq!(top, empty_root());
        assert_eq!(
            inclusion_proof(0, &hashes),
            Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
        );
        return;
    }
    // Inclusion of the chosen leaf: verifies, has at most ceil(log2 n)
    // hashes, and fails once any of them, or the root, changes.
    let index = pick % n;
    let leaf = hashes[usize::try_from(index).expect("an index below the leaf count")];
    let path = inclusion_proof(index, &hashes).expect("an index below the tree size is proven");
    assert!(path.len() <= 64 - (n - 1).leading_zeros() as usize);
    assert_eq!(verify_inclusion(index, n, &leaf, &path, &top), Ok(()));
    assert_eq!(
        verify_inclusion(index, n, &leaf, &path, &flipped(&top, pick)),
        Err(ProofError::RootMismatch)
    );
    if !path.is_empty() {
        let mut bad = path.clone();
        let at = usize::try_from(first % bad.len() as u64).expect("below the path's length");
        bad[at] = flipped(&bad[at], pick);
        assert!(verify_inclusion(index, n, &leaf, &bad, &top).is_err());
        let raw: Vec<&[u8]> = path.iter().map(|h| h.as_bytes().as_slice()).collect();
        assert_eq!(
            verify_inclusion_raw(index, n, leaf.as_bytes(), &raw, top.as_bytes()),
            Ok(())
        );
    }
    // Consistency of the chosen first tree with the whole.
    let size1 = first % n + 1;
    let prefix = &hashes[..usize::try_from(size1).expect("at most the leaf count")];
    let first_root = root(prefix);
    let proof = consistency_proof(size1, &hashes).expect("a first size within the tree");
    assert_eq!(
        verify_consistency(size1, n, &first_root, &top, &proof),
        Ok(())
    );
    if !proof.is_empty() {
        let mut bad = proof.clone();
        let at = usize::try_from(pick % bad.len() as u64).expect("below the proof's length");
        bad[at] = flipped(&bad[at], first);
        assert!(verify_consistency(size1, n, &first_root, &top, &bad).is_err());
    }
}
