//! The bundle parser and verifier: a file given to `kapchart verify
//! --bundle`, read as the command line reads it.

use kapchart_audit::{Bundle, merkle, parse_public_key, public_key_of, verify_bundle};

/// The secret key that signed the seed bundles' checkpoints
/// (`tests/seeds.rs` makes them): the verifier trusts its public key, so
/// mutations of a seed's entries and proof reach the checks past the
/// signature.
pub const SEED_SECRET: [u8; 32] = [42; 32];

/// The bundle target: the bytes as UTF-8 JSON of a [`Bundle`], verified
/// against the seeds' key and against the key the bundle names. Neither
/// parsing nor verifying may panic, and a bundle that verifies must
/// prove what the report says: every entry checked, the head being the
/// last entry, and the head's leaf included in the signed root.
pub fn bundle(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(bundle) = serde_json::from_str::<Bundle>(text) else {
        return;
    };
    let mut keys = vec![public_key_of(&SEED_SECRET)];
    if let Ok(named) = parse_public_key(&bundle.public_key) {
        keys.push(named);
    }
    for key in keys {
        let Ok(report) = verify_bundle(&bundle, &key) else {
            continue;
        };
        let last = bundle
            .entries
            .last()
            .expect("a verified bundle has entries");
        assert_eq!(report.entries, bundle.entries.len() as u64);
        assert_eq!(report.head.sequence, last.entry.sequence);
        assert_eq!(report.head.hash, last.hash);
        assert_eq!(report.statement, bundle.checkpoint.statement);
        let leaf = report.head.leaf_hash().expect("a verified head has a leaf");
        assert_eq!(
            merkle::verify_inclusion(
                report.leaf_index,
                report.statement.tree_size,
                &leaf,
                &bundle.inclusion.audit_path,
                &report.statement.root_hash,
            ),
            Ok(())
        );
    }
}
