//! The RFC 6962 / RFC 9162 Merkle tree: leaf and node hashes, the root,
//! inclusion and consistency proofs and their verification.
//!
//! Generation follows RFC 9162 section 2.1.1 (`MTH`), 2.1.3.1 (`PATH`) and
//! 2.1.4.1 (`PROOF`/`SUBPROOF`); verification follows the algorithms of
//! sections 2.1.3.2 and 2.1.4.2 step by step. Proof hashes are ordered from
//! the leaf level upwards, as in the RFC.
//!
//! The `*_raw` verifiers take hashes as byte strings of any length (as the
//! reference vectors carry them) and reject any hash that is not 32 bytes
//! where one is used.

use crate::hash::Hash;

/// Why a proof was rejected, or could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The second tree is smaller than the first.
    #[error("the second tree size {size2} is smaller than the first {size1}")]
    SizesOutOfOrder {
        /// The first tree size.
        size1: u64,
        /// The second tree size.
        size2: u64,
    },
    /// A consistency proof from the empty tree: RFC 9162 defines none.
    #[error("no consistency proof starts from the empty tree")]
    EmptyFirstTree,
    /// The tree sizes are equal but the proof is not empty.
    #[error("the tree sizes are equal, so the proof must be empty, but it has {0} hashes")]
    ProofNotEmpty(usize),
    /// The tree sizes differ but the proof is empty.
    #[error("the proof is empty")]
    EmptyProof,
    /// The proof has more hashes than the path from the leaf to the root.
    #[error("the proof has more hashes than the path to the root")]
    ProofTooLong,
    /// The proof has fewer hashes than the path from the leaf to the root.
    #[error("the proof has fewer hashes than the path to the root")]
    ProofTooShort,
    /// The root computed from the proof is not the expected root.
    #[error("the root computed from the proof does not match the expected root")]
    RootMismatch,
    /// The first root computed from a consistency proof does not match.
    #[error("the first root computed from the proof does not match the first root")]
    FirstRootMismatch,
    /// The second root computed from a consistency proof does not match.
    #[error("the second root computed from the proof does not match the second root")]
    SecondRootMismatch,
    /// A hash that is not 32 bytes long.
    #[error("{what} is {len} bytes long, not 32")]
    HashLength {
        /// Which hash: `leaf hash`, `root`, `proof hash`, ...
        what: &'static str,
        /// Its length in bytes.
        len: usize,
    },
}

/// SHA-256 of the empty string: the root of the empty tree.
#[must_use]
pub fn empty_root() -> Hash {
    Hash::sha256(b"")
}

/// The leaf hash of `data`: SHA-256(0x00 || data).
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Hash {
    Hash::sha256_parts(&[&[0x00], data])
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Hash::sha256_parts(&[&[0x01], left.as_bytes(), right.as_bytes()])
}

/// The largest power of two strictly below `n` (`n` ≥ 2).
fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    let p = n.next_power_of_two();
    if p == n { n / 2 } else { p / 2 }
}

/// `MTH(D[n])` over leaf hashes: the root of the tree whose leaves have
/// these hashes. The empty tree's root is [`empty_root`].
#[must_use]
pub fn root(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes.len() {
        0 => empty_root(),
        1 => leaf_hashes[0],
        n => {
            let k = split_point(n);
            node_hash(&root(&leaf_hashes[..k]), &root(&leaf_hashes[k..]))
        }
    }
}

fn to_usize(value: u64) -> Option<usize> {
    usize::try_from(value).ok()
}

/// `PATH(index, D[n])`: the audit path proving that leaf `index` is in the
/// tree of `leaf_hashes`, from the leaf level upwards.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`] unless `index < leaf_hashes.len()`.
pub fn inclusion_proof(index: u64, leaf_hashes: &[Hash]) -> Result<Vec<Hash>, ProofError> {
    let size = leaf_hashes.len() as u64;
    let m = to_usize(index)
        .filter(|&m| m < leaf_hashes.len())
        .ok_or(ProofError::IndexOutOfRange { index, size })?;
    let mut proof = Vec::new();
    path(m, leaf_hashes, &mut proof);
    Ok(proof)
}

fn path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m < k {
        path(m, &leaves[..k], out);
        out.push(root(&leaves[k..]));
    } else {
        path(m - k, &leaves[k..], out);
        out.push(root(&leaves[..k]));
    }
}

/// `PROOF(size1, D[n])`: the consistency proof between the tree of the
/// first `size1` leaves and the tree of all `leaf_hashes`. Empty when
/// `size1` equals the number of leaves.
///
/// # Errors
/// [`ProofError::EmptyFirstTree`] for `size1` 0;
/// [`ProofError::SizesOutOfOrder`] if `size1` exceeds the number of leaves.
pub fn consistency_proof(size1: u64, leaf_hashes: &[Hash]) -> Result<Vec<Hash>, ProofError> {
    let size2 = leaf_hashes.len() as u64;
    if size1 == 0 {
        return Err(ProofError::EmptyFirstTree);
    }
    let m = to_usize(size1)
        .filter(|&m| m <= leaf_hashes.len())
        .ok_or(ProofError::SizesOutOfOrder { size1, size2 })?;
    let mut proof = Vec::new();
    if m < leaf_hashes.len() {
        subproof(m, leaf_hashes, true, &mut proof);
    }
    Ok(proof)
}

fn subproof(m: usize, leaves: &[Hash], whole: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !whole {
            out.push(root(leaves));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof(m, &leaves[..k], whole, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

/// Verifies an inclusion proof (RFC 9162 section 2.1.3.2): that the leaf
/// with hash `leaf_hash` is at `leaf_index` in the tree of `tree_size`
/// leaves whose root is `root`.
///
/// # Errors
/// [`ProofError::IndexOutOfRange`], [`ProofError::ProofTooLong`],
/// [`ProofError::ProofTooShort`] or [`ProofError::RootMismatch`].
pub fn verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    // 1. leaf_index must be below tree_size.
    if leaf_index >= tree_size {
        return Err(ProofError::IndexOutOfRange {
            index: leaf_index,
            size: tree_size,
        });
    }
    // 2. fn = leaf_index, sn = tree_size - 1; 3. r = hash.
    let mut f = leaf_index;
    let mut s = tree_size - 1;
    let mut r = *leaf_hash;
    // 4. Each proof hash p, from the leaf up.
    for p in proof {
        if s == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    // 5. sn must be 0 and r the root.
    if s != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof (RFC 9162 section 2.1.4.2): that the tree
/// of `size2` leaves with root `root2` extends the tree of its first
/// `size1` leaves with root `root1`.
///
/// Equal sizes need an empty proof and equal roots; a first size of 0 is
/// rejected (RFC 9162 defines no proof from the empty tree).
///
/// # Errors
/// [`ProofError::SizesOutOfOrder`], [`ProofError::EmptyFirstTree`],
/// [`ProofError::ProofNotEmpty`], [`ProofError::EmptyProof`],
/// [`ProofError::ProofTooLong`], [`ProofError::ProofTooShort`],
/// [`ProofError::FirstRootMismatch`] or [`ProofError::SecondRootMismatch`].
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if let Some(()) = trivial_consistency(size1, size2, proof.len(), root1 == root2)? {
        return Ok(());
    }
    // 2. If first is an exact power of 2, prepend first_hash to the path.
    let prepend_first = size1.is_power_of_two();
    let mut path = prepend_first
        .then_some(root1)
        .into_iter()
        .chain(proof.iter());
    // 3. fn = first - 1, sn = second - 1.
    let mut f = size1 - 1;
    let mut s = size2 - 1;
    // 4. Shift right while LSB(fn) is set.
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    // 5. fr and sr both start at the first path value.
    let Some(first) = path.next() else {
        return Err(ProofError::EmptyProof);
    };
    let mut fr = *first;
    let mut sr = *first;
    // 6. Each subsequent value c.
    for c in path {
        if s == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    // 7. sn must be 0, fr the first root and sr the second.
    if s != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if fr != *root1 {
        return Err(ProofError::FirstRootMismatch);
    }
    if sr != *root2 {
        return Err(ProofError::SecondRootMismatch);
    }
    Ok(())
}

/// The cases decided before RFC 9162's algorithm runs: `Ok(Some(()))` for
/// a verified trivial proof (equal sizes), `Ok(None)` to run the algorithm.
fn trivial_consistency(
    size1: u64,
    size2: u64,
    proof_len: usize,
    roots_equal: bool,
) -> Result<Option<()>, ProofError> {
    if size2 < size1 {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::EmptyFirstTree);
    }
    if size1 == size2 {
        if proof_len != 0 {
            return Err(ProofError::ProofNotEmpty(proof_len));
        }
        if !roots_equal {
            return Err(ProofError::RootMismatch);
        }
        return Ok(Some(()));
    }
    // 1. An empty consistency path fails.
    if proof_len == 0 {
        return Err(ProofError::EmptyProof);
    }
    Ok(None)
}

fn hash_of(bytes: &[u8], what: &'static str) -> Result<Hash, ProofError> {
    Hash::from_slice(bytes).map_err(|_| ProofError::HashLength {
        what,
        len: bytes.len(),
    })
}

fn hashes_of<B: AsRef<[u8]>>(proof: &[B]) -> Result<Vec<Hash>, ProofError> {
    proof
        .iter()
        .map(|p| hash_of(p.as_ref(), "a proof hash"))
        .collect()
}

/// [`verify_inclusion`] over byte strings: every hash must be 32 bytes.
///
/// # Errors
/// [`ProofError::HashLength`] for a hash of another length, else as
/// [`verify_inclusion`].
pub fn verify_inclusion_raw<B: AsRef<[u8]>>(
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &[u8],
    proof: &[B],
    root: &[u8],
) -> Result<(), ProofError> {
    let leaf = hash_of(leaf_hash, "the leaf hash")?;
    let root = hash_of(root, "the root")?;
    let proof = hashes_of(proof)?;
    verify_inclusion(leaf_index, tree_size, &leaf, &proof, &root)
}

/// [`verify_consistency`] over byte strings.
///
/// For equal sizes the proof must be empty and the roots byte-for-byte
/// equal, whatever their length (no hash is computed); otherwise every hash
/// must be 32 bytes.
///
/// # Errors
/// [`ProofError::HashLength`] for a hash of another length, else as
/// [`verify_consistency`].
pub fn verify_consistency_raw<B: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    root1: &[u8],
    root2: &[u8],
    proof: &[B],
) -> Result<(), ProofError> {
    if let Some(()) = trivial_consistency(size1, size2, proof.len(), root1 == root2)? {
        return Ok(());
    }
    let r1 = hash_of(root1, "the first root")?;
    let r2 = hash_of(root2, "the second root")?;
    let proof = hashes_of(proof)?;
    verify_consistency(size1, size2, &r1, &r2, &proof)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
            .collect()
    }

    /// The RFC 6962 reference tree: leaves are these 8 byte strings.
    fn reference_leaves() -> Vec<Hash> {
        let data: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        data.iter().map(|d| leaf_hash(d)).collect()
    }

    fn h(hex: &str) -> Hash {
        Hash::from_hex(hex).expect("hex")
    }

    #[test]
    fn reference_roots() {
        let l = reference_leaves();
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        for (i, expected) in roots.iter().enumerate() {
            assert_eq!(root(&l[..=i]), h(expected), "root of {} leaves", i + 1);
        }
        assert_eq!(
            root(&[]),
            h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }

    #[test]
    fn reference_proofs() {
        let l = reference_leaves();
        assert_eq!(
            inclusion_proof(5, &l[..8]).expect("proof"),
            vec![
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ]
        );
        assert_eq!(
            consistency_proof(6, &l[..8]).expect("proof"),
            vec![
                h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
            ]
        );
        assert_eq!(
            consistency_proof(2, &l[..5]).expect("proof"),
            vec![
                h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            ]
        );
    }

    #[test]
    fn generation_refuses_bad_arguments() {
        let l = leaves(3);
        assert_eq!(
            inclusion_proof(3, &l),
            Err(ProofError::IndexOutOfRange { index: 3, size: 3 })
        );
        assert_eq!(consistency_proof(0, &l), Err(ProofError::EmptyFirstTree));
        assert_eq!(
            consistency_proof(4, &l),
            Err(ProofError::SizesOutOfOrder { size1: 4, size2: 3 })
        );
        assert_eq!(consistency_proof(3, &l), Ok(vec![]));
    }

    #[test]
    fn trivial_consistency_cases() {
        let r = root(&leaves(1));
        assert_eq!(verify_consistency(1, 1, &r, &r, &[]), Ok(()));
        assert_eq!(
            verify_consistency(0, 0, &r, &r, &[]),
            Err(ProofError::EmptyFirstTree)
        );
        assert_eq!(
            verify_consistency(1, 1, &r, &Hash::ZERO, &[]),
            Err(ProofError::RootMismatch)
        );
        assert_eq!(
            verify_consistency(1, 1, &r, &r, &[r]),
            Err(ProofError::ProofNotEmpty(1))
        );
        assert_eq!(
            verify_consistency(2, 1, &r, &r, &[]),
            Err(ProofError::SizesOutOfOrder { size1: 2, size2: 1 })
        );
        assert_eq!(
            verify_consistency(1, 2, &r, &r, &[]),
            Err(ProofError::EmptyProof)
        );
        assert_eq!(
            verify_consistency_raw::<&[u8]>(1, 1, b"same", b"same", &[]),
            Ok(())
        );
        assert_eq!(
            verify_inclusion_raw::<&[u8]>(0, 1, b"short", &[], r.as_bytes()),
            Err(ProofError::HashLength {
                what: "the leaf hash",
                len: 5
            })
        );
    }

    fn flip(h: &Hash, bit: usize) -> Hash {
        let mut b = *h.as_bytes();
        b[(bit / 8) % 32] ^= 1 << (bit % 8);
        Hash::from_bytes(b)
    }

    /// The length of a correct inclusion proof for (index, size).
    fn inclusion_len(index: u64, size: u64) -> Option<usize> {
        let n = usize::try_from(size).ok().filter(|&n| n <= 4096)?;
        inclusion_proof(index, &vec![Hash::ZERO; n])
            .ok()
            .map(|p| p.len())
    }

    /// The length of a correct consistency proof for (size1, size2).
    fn consistency_len(size1: u64, size2: u64) -> Option<usize> {
        let n = usize::try_from(size2).ok().filter(|&n| n <= 4096)?;
        consistency_proof(size1, &vec![Hash::ZERO; n])
            .ok()
            .map(|p| p.len())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn inclusion_proofs_verify_and_mutations_are_rejected(
            n in 1usize..200,
            index_seed in any::<usize>(),
            bit in 0usize..256,
            which in any::<usize>(),
            other_seed in any::<u64>(),
        ) {
            let l = leaves(n);
            let size = n as u64;
            let index = (index_seed % n) as u64;
            let r = root(&l);
            let leaf = l[index as usize];
            let proof = inclusion_proof(index, &l).expect("proof");
            prop_assert_eq!(verify_inclusion(index, size, &leaf, &proof, &r), Ok(()));

            // A flipped bit in the leaf, the root or any proof hash.
            prop_assert!(verify_inclusion(index, size, &flip(&leaf, bit), &proof, &r).is_err());
            prop_assert!(verify_inclusion(index, size, &leaf, &proof, &flip(&r, bit)).is_err());
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let i = which % bad.len();
                bad[i] = flip(&bad[i], bit);
                prop_assert!(verify_inclusion(index, size, &leaf, &bad, &r).is_err());
                // A removed or an extra hash.
                prop_assert!(verify_inclusion(index, size, &leaf, &proof[1..], &r).is_err());
            }
            let mut longer = proof.clone();
            longer.push(r);
            prop_assert!(verify_inclusion(index, size, &leaf, &longer, &r).is_err());

            // Any other index in the same tree.
            let other = other_seed % size;
            if other != index {
                prop_assert!(verify_inclusion(other, size, &leaf, &proof, &r).is_err());
            }
            // Any other size whose correct proof has another length, and
            // the mutations of the reference vectors: size * 2 and size / 2.
            // (A size whose path has the same shape computes the same root:
            // sizes are bound by the signed checkpoint, not by the proof.)
            let other_size = other_seed % 512;
            if other_size != size && inclusion_len(index, other_size) != Some(proof.len()) {
                prop_assert!(verify_inclusion(index, other_size, &leaf, &proof, &r).is_err());
            }
            for wrong in [size * 2, size / 2] {
                if inclusion_len(index, wrong) != Some(proof.len()) {
                    prop_assert!(verify_inclusion(index, wrong, &leaf, &proof, &r).is_err());
                }
            }
            prop_assert!(verify_inclusion(index, size * 2, &leaf, &proof, &r).is_err());
        }

        #[test]
        fn consistency_proofs_verify_and_mutations_are_rejected(
            n in 1usize..200,
            m_seed in any::<usize>(),
            bit in 0usize..256,
            which in any::<usize>(),
            other_seed in any::<u64>(),
        ) {
            let l = leaves(n);
            let size2 = n as u64;
            let size1 = (m_seed % n) as u64 + 1;
            let r1 = root(&l[..size1 as usize]);
            let r2 = root(&l);
            let proof = consistency_proof(size1, &l).expect("proof");
            prop_assert_eq!(verify_consistency(size1, size2, &r1, &r2, &proof), Ok(()));
            if size1 == size2 {
                prop_assert!(proof.is_empty());
                prop_assert!(verify_consistency(size1, size2, &r1, &flip(&r2, bit), &proof).is_err());
                return Ok(());
            }

            prop_assert!(verify_consistency(size1, size2, &flip(&r1, bit), &r2, &proof).is_err());
            prop_assert!(verify_consistency(size1, size2, &r1, &flip(&r2, bit), &proof).is_err());
            prop_assert!(verify_consistency(size1, size2, &r2, &r1, &proof).is_err());
            let mut bad = proof.clone();
            let i = which % bad.len();
            bad[i] = flip(&bad[i], bit);
            prop_assert!(verify_consistency(size1, size2, &r1, &r2, &bad).is_err());
            prop_assert!(verify_consistency(size1, size2, &r1, &r2, &proof[..proof.len() - 1]).is_err());
            let mut longer = proof.clone();
            longer.push(r2);
            prop_assert!(verify_consistency(size1, size2, &r1, &r2, &longer).is_err());
            let mut preceded = vec![r1];
            preceded.extend_from_slice(&proof);
            prop_assert!(verify_consistency(size1, size2, &r1, &r2, &preceded).is_err());

            // Other sizes whose correct proof has another length, and the
            // reference vectors' mutations.
            let other1 = other_seed % 512;
            if other1 != size1 && consistency_len(other1, size2) != Some(proof.len()) {
                prop_assert!(verify_consistency(other1, size2, &r1, &r2, &proof).is_err());
            }
            let other2 = (other_seed >> 16) % 512;
            if other2 != size2 && consistency_len(size1, other2) != Some(proof.len()) {
                prop_assert!(verify_consistency(size1, other2, &r1, &r2, &proof).is_err());
            }
            for (s1, s2) in [(size1 - 1, size2), (size1 + 1, size2), (size1 ^ 2, size2), (size1, size2 * 2), (size1, size2 / 2)] {
                if consistency_len(s1, s2) != Some(proof.len()) {
                    prop_assert!(verify_consistency(s1, s2, &r1, &r2, &proof).is_err());
                }
            }
        }
    }
}
