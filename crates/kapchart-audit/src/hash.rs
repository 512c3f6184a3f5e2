//! [`Hash`]: a SHA-256 digest, written as 64 lowercase hex characters.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
///
/// Its text form (`Display`, `FromStr`, serde) is exactly 64 lowercase hex
/// characters; parsing refuses anything else, uppercase included, so one
/// hash has one spelling and the spelling inside hashed JSON cannot vary.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash([u8; 32]);

/// Why a text or byte string is not a [`struct@Hash`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHashError {
    /// The text is not 64 characters long.
    #[error("a hash is 64 lowercase hex characters, found {0} characters")]
    Length(usize),
    /// A character is not one of `0-9a-f`.
    #[error("a hash is 64 lowercase hex characters, found another character at position {0}")]
    Character(usize),
    /// The bytes are not 32 long.
    #[error("a hash is 32 bytes, found {0} bytes")]
    ByteLength(usize),
}

impl Hash {
    /// 32 zero bytes: the `prev_hash` of a chain's first entry and the
    /// `previous` of the first checkpoint statement.
    pub const ZERO: Hash = Hash([0; 32]);

    /// Wraps 32 digest bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Hash(bytes)
    }

    /// Takes a byte slice that must be exactly 32 bytes long.
    ///
    /// # Errors
    /// [`ParseHashError::ByteLength`] for any other length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ParseHashError> {
        <[u8; 32]>::try_from(bytes)
            .map(Hash)
            .map_err(|_| ParseHashError::ByteLength(bytes.len()))
    }

    /// The 32 digest bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// SHA-256 of `data`.
    #[must_use]
    pub fn sha256(data: &[u8]) -> Self {
        Hash(Sha256::digest(data).into())
    }

    /// SHA-256 of the concatenation of `parts`, without copying them.
    #[must_use]
    pub fn sha256_parts(parts: &[&[u8]]) -> Self {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        Hash(hasher.finalize().into())
    }

    /// The 64 lowercase hex characters.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly 64 lowercase hex characters.
    ///
    /// # Errors
    /// [`ParseHashError::Length`] or [`ParseHashError::Character`].
    pub fn from_hex(text: &str) -> Result<Self, ParseHashError> {
        if text.len() != 64 {
            return Err(ParseHashError::Length(text.chars().count()));
        }
        if let Some(position) = text
            .bytes()
            .position(|b| !(b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        {
            return Err(ParseHashError::Character(position));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| ParseHashError::Character(0))?;
        Ok(Hash(bytes))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl FromStr for Hash {
    type Err = ParseHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hash::from_hex(s)
    }
}

impl From<[u8; 32]> for Hash {
    fn from(bytes: [u8; 32]) -> Self {
        Hash(bytes)
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Hash::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_zero() {
        assert_eq!(Hash::ZERO.to_string(), "0".repeat(64));
        let h = Hash::sha256(b"");
        assert_eq!(
            h.to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(h.to_string().parse::<Hash>(), Ok(h));
        assert_eq!(Hash::sha256_parts(&[b"ab", b"c"]), Hash::sha256(b"abc"));
    }

    #[test]
    fn parse_is_strict() {
        let good = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(Hash::from_hex(&good[1..]), Err(ParseHashError::Length(63)));
        assert_eq!(
            Hash::from_hex(&good.to_uppercase()),
            Err(ParseHashError::Character(0))
        );
        assert_eq!(
            Hash::from_hex(&format!("{}g", &good[..63])),
            Err(ParseHashError::Character(63))
        );
        // Multi-byte characters: 64 bytes but not 64 hex characters.
        assert!(Hash::from_hex(&format!("é{}", &good[..62])).is_err());
        assert_eq!(
            Hash::from_slice(&[0; 31]),
            Err(ParseHashError::ByteLength(31))
        );
    }

    #[test]
    fn serde_is_a_hex_string() {
        let h = Hash::sha256(b"x");
        let json = serde_json::to_string(&h).expect("serializes");
        assert_eq!(json, format!("\"{h}\""));
        assert_eq!(serde_json::from_str::<Hash>(&json).expect("parses"), h);
        assert!(serde_json::from_str::<Hash>("\"00\"").is_err());
        assert!(serde_json::from_str::<Hash>("7").is_err());
    }
}
