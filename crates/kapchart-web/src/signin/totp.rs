//! The second factor: TOTP (RFC 6238) with totp-rs: HMAC-SHA-1, 6 digits,
//! 30-second steps, a code of the step before or after the current one
//! accepted (clock drift). Secrets are 20 random bytes (160 bits, as RFC
//! 4226 recommends), shown and stored as RFC 4648 base32. Refusing a code
//! whose step was accepted before (replay) is the store's part
//! (`kapchart_store::credentials::complete_sign_in`): [`check`] returns
//! the step that matched.

use chrono::{DateTime, Utc};
use qrcode::QrCode;
use qrcode::render::svg;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::page::PageError;

/// The name authenticator apps show for the account.
pub const ISSUER: &str = "kapchart";

/// Digits of a code.
pub const DIGITS: u8 = 6;

/// Seconds of a step.
pub const STEP_SECONDS: u64 = 30;

/// Steps before and after the current one whose codes are accepted.
pub const SKEW: u16 = 1;

/// A new secret, in base32.
///
/// # Errors
/// A server fault when the operating system gives no randomness.
pub fn new_secret() -> Result<String, PageError> {
    let mut bytes = [0_u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| PageError::internal("making a TOTP secret", &e))?;
    Ok(Secret::from(bytes).to_base32())
}

fn totp(secret: &str, account: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_step_duration(STEP_SECONDS)
        .with_skew(SKEW)
        .with_secret(Secret::try_from_base32(secret).ok()?)
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .ok()
}

/// The step of `code` (as typed: spaces are ignored) under `secret` at
/// `at`, if it is a code of the current step or the one before or after.
pub fn check(secret: &str, code: &str, at: DateTime<Utc>) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let time = u64::try_from(at.timestamp()).ok()?;
    totp(secret, "check")?.check(&code, time)
}

/// The `otpauth://totp/...` URI an authenticator app takes (as text or
/// as a QR code).
pub fn uri(secret: &str, user_id: &str) -> Option<String> {
    totp(secret, user_id)?.to_url().ok()
}

/// The URI as a QR code, inline SVG with a text alternative.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = QrCode::new(uri.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let start = image.find("<svg")?;
    Some(image[start..].replacen(
        "<svg ",
        "<svg role=\"img\" aria-label=\"QR code of the second factor's setup link\" ",
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 secret, "12345678901234567890".
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).expect("valid time")
    }

    #[test]
    fn rfc_6238_test_vectors() {
        let eight = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(8)
            .with_secret(RFC_SECRET.to_vec())
            .build()
            .expect("valid");
        let secret = Secret::from(RFC_SECRET.to_vec()).to_base32();
        for (time, code) in [
            (59_i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            let seconds = u64::try_from(time).expect("positive");
            assert_eq!(eight.generate(seconds).to_string(), code, "T = {time}");
            // Six digits are the last six of the eight (RFC 4226 5.3).
            let six = &code[2..];
            assert_eq!(
                check(&secret, six, at(time)),
                Some(seconds / STEP_SECONDS),
                "T = {time}"
            );
        }
    }

    #[test]
    fn a_code_is_taken_one_step_either_side_and_no_further() {
        let secret = new_secret().expect("random");
        let now = at(1_800_000_000);
        let code_at = |t: DateTime<Utc>| {
            totp(&secret, "x")
                .expect("valid")
                .generate(u64::try_from(t.timestamp()).expect("positive"))
                .to_string()
        };
        let step = 1_800_000_000 / STEP_SECONDS;
        let step_seconds = chrono::Duration::seconds(30);
        assert_eq!(check(&secret, &code_at(now), now), Some(step));
        assert_eq!(
            check(&secret, &code_at(now - step_seconds), now),
            Some(step - 1)
        );
        assert_eq!(
            check(&secret, &code_at(now + step_seconds), now),
            Some(step + 1)
        );
        assert_eq!(check(&secret, &code_at(now - step_seconds * 2), now), None);
        let spaced = format!(" {} {} ", &code_at(now)[..3], &code_at(now)[3..]);
        assert_eq!(
            check(&secret, &spaced, now),
            Some(step),
            "spaces are ignored"
        );
        assert_eq!(check(&secret, "12345", now), None);
        assert_eq!(check(&secret, "abcdef", now), None);
        assert_eq!(check("not base32!", &code_at(now), now), None);
    }

    #[test]
    fn secrets_uris_and_qr_codes() {
        let secret = new_secret().expect("random");
        assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
        assert_ne!(secret, new_secret().expect("random"));
        let uri = uri(&secret, "t-rivera").expect("a URI");
        assert!(
            uri.starts_with("otpauth://totp/kapchart:t-rivera?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={secret}")), "{uri}");
        assert!(uri.contains("issuer=kapchart"), "{uri}");
        let svg = qr_svg(&uri).expect("an SVG");
        assert!(svg.starts_with("<svg role=\"img\" aria-label="), "{svg}");
        assert!(svg.ends_with("</svg>"));
    }
}
