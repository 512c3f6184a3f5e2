//! Deterministic resource ids.
//!
//! A resource's id is a UUID made from the SHA-256 of a name that says
//! where the resource came from: `client/<client>/<sequence>/<kind>` for a
//! resource made from an entry of the record (`<kind>` tells apart the
//! resources one entry makes, e.g. an exploration's Encounter and its two
//! blood pressures), `client/<client>/patient` for the Patient,
//! `practitioner/<user>` for a Practitioner (the same in every client's
//! Bundle), `organization` for the practice and `access/<sequence>` for an
//! AuditEvent. The first 16 bytes of the hash become the UUID, with the
//! version nibble set to 8 (RFC 9562's custom UUIDs) and the RFC 4122
//! variant bits: valid FHIR ids (`[A-Za-z0-9\-\.]{1,64}`) whatever the
//! client id holds, and the same export gives the same ids.

use sha2::{Digest as _, Sha256};

/// The UUID of `name` (see the module's docs), lowercase hex with hyphens.
pub fn uuid_of(name: &str) -> String {
    let digest = Sha256::digest(format!("kapchart-fhir/{name}").as_bytes());
    let mut b = [0_u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_and_stable() {
        let a = uuid_of("client/c-1/3/encounter");
        assert_eq!(a, uuid_of("client/c-1/3/encounter"));
        assert_ne!(a, uuid_of("client/c-1/4/encounter"));
        assert_eq!(a.len(), 36);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('8'), "{a}");
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{a}");
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-'));
    }
}
