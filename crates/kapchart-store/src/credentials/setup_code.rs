//! One-time setup codes: `su_` and 32 characters of RFC 4648 base32 (20
//! random bytes from the operating system), stored as their SHA-256 only,
//! working once and for [`SETUP_CODE_LIFETIME`]. Typed by people, so
//! surrounding blanks and lower case are forgiven.

use std::fmt;

use chrono::{DateTime, Utc};
use kapchart_audit::Hash;

use crate::accounts::AccountError;

/// Every setup code starts with this.
pub const SETUP_CODE_PREFIX: &str = "su_";

/// How long a setup code can be used after it is issued: 72 hours.
pub const SETUP_CODE_LIFETIME: chrono::Duration = chrono::Duration::hours(72);

/// A setup code just issued. Its `Debug` form hides the code.
#[derive(Clone, PartialEq, Eq)]
pub struct SetupCode {
    /// The code in plaintext: shown once, never stored.
    pub code: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for SetupCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetupCode")
            .field("code", &"<hidden>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A new setup code: `su_` and the RFC 4648 base32 (no padding) of 20
/// random bytes.
pub(super) fn new_setup_code(at: DateTime<Utc>) -> Result<SetupCode, AccountError> {
    let mut bytes = [0_u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| AccountError::Random(e.to_string()))?;
    let text = base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &bytes);
    Ok(SetupCode {
        code: format!("{SETUP_CODE_PREFIX}{text}"),
        expires_at: at + SETUP_CODE_LIFETIME,
    })
}

/// A typed setup code in its issued form: surrounding blanks dropped,
/// letters upper-cased after the prefix (base32 is read out and typed);
/// `None` when it does not have the shape of one.
fn normalize_setup_code(typed: &str) -> Option<String> {
    let typed = typed.trim();
    let rest = typed
        .get(..SETUP_CODE_PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(SETUP_CODE_PREFIX))
        .and_then(|_| typed.get(SETUP_CODE_PREFIX.len()..))?;
    let rest = rest.to_ascii_uppercase();
    (rest.len() == 32
        && rest
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)))
    .then(|| format!("{SETUP_CODE_PREFIX}{rest}"))
}

/// What is stored of a setup code: the SHA-256 (lowercase hex) of its
/// issued form.
pub(super) fn setup_code_hash(code: &str) -> String {
    Hash::sha256(code.as_bytes()).to_hex()
}

pub(super) fn setup_code_valid(
    stored_hash: Option<&str>,
    expires_at: Option<DateTime<Utc>>,
    typed: &str,
    at: DateTime<Utc>,
) -> bool {
    let (Some(stored), Some(expires_at), Some(code)) =
        (stored_hash, expires_at, normalize_setup_code(typed))
    else {
        return false;
    };
    // Hashes of a 160-bit secret: comparing them tells nothing about it.
    at < expires_at && setup_code_hash(&code) == stored
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_codes_have_their_documented_shape_and_are_typed_loosely() {
        let at = Utc::now();
        let a = new_setup_code(at).expect("random");
        let b = new_setup_code(at).expect("random");
        assert_ne!(a.code, b.code);
        assert_eq!(a.code.len(), 3 + 32, "{}", a.code);
        assert_eq!(
            normalize_setup_code(&a.code).as_deref(),
            Some(a.code.as_str())
        );
        assert_eq!(a.expires_at - at, SETUP_CODE_LIFETIME);
        assert!(!format!("{a:?}").contains(&a.code));
        let typed = format!("  {}\n", a.code.to_ascii_lowercase());
        assert!(setup_code_valid(
            Some(&setup_code_hash(&a.code)),
            Some(a.expires_at),
            &typed,
            at
        ));
        assert!(
            !setup_code_valid(
                Some(&setup_code_hash(&a.code)),
                Some(a.expires_at),
                &a.code,
                a.expires_at
            ),
            "expired at its end"
        );
        assert!(!setup_code_valid(
            Some(&setup_code_hash(&b.code)),
            Some(b.expires_at),
            &a.code,
            at
        ));
        assert!(!setup_code_valid(None, None, &a.code, at), "used");
        for bad in [
            "",
            "su_",
            "su_short",
            "xx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "su_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1",
        ] {
            assert_eq!(normalize_setup_code(bad), None, "{bad}");
        }
    }
}
