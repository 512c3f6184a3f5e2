//! Passwords: the rules a new one must meet, and argon2id hashing and
//! checking on a blocking thread.
//!
//! Hashes are argon2id PHC strings (the salt and parameters inside) with
//! the parameters OWASP's Password Storage Cheat Sheet recommends first:
//! 19 MiB of memory, 2 iterations, 1 lane. Checking uses the parameters
//! stored in the string, so older hashes keep working if these change.
//! Each hash or check runs on tokio's blocking pool, so the server stays
//! responsive; a sign-in for a user id with no password (or no account)
//! checks against a dummy hash, so it costs the same time.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::page::PageError;

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 12;

/// The longest password accepted, in characters.
pub const MAX_CHARS: usize = 128;

/// Memory, in KiB (OWASP: 19 MiB).
pub const M_COST: u32 = 19_456;

/// Iterations (OWASP: 2).
pub const T_COST: u32 = 2;

/// Lanes (OWASP: 1).
pub const P_COST: u32 = 1;

fn hasher() -> Result<Argon2<'static>, argon2::Error> {
    Ok(Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(M_COST, T_COST, P_COST, None)?,
    ))
}

/// What is wrong with `password` as a new password for `user_id`, if
/// anything: the rule, for the field `password`.
pub fn rule_broken(user_id: &str, password: &str) -> Option<&'static str> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        Some("must be at least 12 characters long")
    } else if chars > MAX_CHARS {
        Some("must be at most 128 characters long")
    } else if password.trim().eq_ignore_ascii_case(user_id.trim()) {
        Some("must not be your user id")
    } else {
        None
    }
}

fn hash_now(password: &str) -> Result<String, String> {
    let hasher = hasher().map_err(|e| e.to_string())?;
    hasher
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// The argon2id PHC string of `password`, computed on a blocking thread.
///
/// # Errors
/// A server fault (no randomness for the salt, a failed thread).
pub async fn hash(password: String) -> Result<String, PageError> {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(|e| PageError::internal("hashing a password", &e))?
        .map_err(|e| PageError::internal("hashing a password", &e))
}

/// A hash no password matches, for user ids with no password: checking
/// against it costs what checking a real one costs.
fn dummy() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        // A random salt: no typed password is this text's hash.
        hash_now("kapchart: no account has this password").unwrap_or_default()
    })
}

fn verify_now(phc: Option<&str>, password: &str) -> bool {
    let Ok(hasher) = hasher() else {
        return false;
    };
    let found = phc.is_some();
    let stored = phc.unwrap_or_else(|| dummy());
    let matches = hasher.verify_password(password.as_bytes(), stored).is_ok();
    matches && found
}

/// True when `password` matches `phc`; with no `phc` it checks against
/// a dummy hash and is false. Runs on a blocking thread.
pub async fn verify(phc: Option<String>, password: String) -> bool {
    tokio::task::spawn_blocking(move || verify_now(phc.as_deref(), &password))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_follow_the_rules() {
        assert_eq!(
            rule_broken("t-rivera", "short"),
            Some("must be at least 12 characters long")
        );
        assert_eq!(rule_broken("t-rivera", &"x".repeat(12)), None);
        assert_eq!(
            rule_broken("t-rivera", &"é".repeat(12)),
            None,
            "characters, not bytes"
        );
        assert_eq!(
            rule_broken("t-rivera", &"x".repeat(129)),
            Some("must be at most 128 characters long")
        );
        assert_eq!(
            rule_broken("therapist-01", "Therapist-01"),
            Some("must not be your user id")
        );
    }

    #[test]
    fn hashes_are_argon2id_with_the_owasp_parameters_and_check() {
        let phc = hash_now("correct horse battery").expect("hashes");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_now(Some(&phc), "correct horse battery"));
        assert!(!verify_now(Some(&phc), "correct horse battery "));
        assert!(!verify_now(None, "kapchart: no account has this password"));
        assert!(!verify_now(Some("not a phc string"), "x"));
        assert_ne!(
            phc,
            hash_now("correct horse battery").expect("hashes"),
            "salted"
        );
    }
}
