//! The random secrets kapchart hands out once and keeps only as hashes
//! (web sessions, half-finished sign-ins): a prefix naming the kind, then
//! 43 base64url characters of 32 bytes from the operating system. A
//! presented secret is found by its SHA-256, never compared with a stored
//! one.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kapchart_audit::Hash;

use crate::error::StoreError;

/// `prefix` and 43 base64url characters of 32 random bytes; `what` names
/// the secret in the error when the system gives no randomness.
pub(crate) fn new(prefix: &str, what: &str) -> Result<String, StoreError> {
    Ok(format!("{prefix}{}", random_text(what)?))
}

/// 43 base64url characters of 32 random bytes.
pub(crate) fn random_text(what: &str) -> Result<String, StoreError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Query(format!("no randomness for {what}: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `secret` has the shape [`new`] gives with `prefix` (anything
/// else is not looked up).
pub(crate) fn looks_like(prefix: &str, secret: &str) -> bool {
    secret.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The stored form of a secret: its SHA-256 in lowercase hex.
pub(crate) fn hash(secret: &str) -> String {
    Hash::sha256(secret.as_bytes()).to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_secret_has_the_shape_it_is_checked_for() {
        let secret = new("ks_", "a test").expect("randomness");
        assert!(looks_like("ks_", &secret));
        assert!(!looks_like("kp_", &secret));
        assert!(!looks_like("ks_", &secret[..secret.len() - 1]));
        assert_ne!(secret, new("ks_", "a test").expect("randomness"));
        assert_eq!(hash(&secret).len(), 64);
    }
}
