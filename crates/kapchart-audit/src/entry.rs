//! Chain entries: [`Entry`] (what is hashed) and [`StoredEntry`] (an entry
//! with its stored `hash`, as a row of the store or an entry of a bundle).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::canonical::{self, MAX_SAFE_INTEGER};
use crate::error::AuditError;
use crate::hash::Hash;

/// One event of one aggregate's history, as it is hashed.
///
/// Its JSON ([`Entry::to_json`]) is an object with exactly these eight keys;
/// its hash is SHA-256 of that object's RFC 8785 canonical bytes. Each
/// aggregate's entries form a chain: the entry with `sequence` 1 has
/// `prev_hash` [`Hash::ZERO`], every later one the previous entry's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The aggregate type, `ClientRecord` for a client's record.
    pub aggregate_type: String,
    /// The aggregate id (the client id).
    pub aggregate_id: String,
    /// Position in the aggregate's history, from 1, without gaps.
    pub sequence: u64,
    /// The event's type name, e.g. `ClientRegistered`.
    pub event_type: String,
    /// The event's schema version, e.g. `"1"`.
    pub event_version: String,
    /// The event as stored (JSON, no floating-point numbers).
    pub payload: Value,
    /// A JSON object with at least `recorded_at` (RFC 3339, UTC),
    /// `actor_id`, `actor_role` and `command_id`.
    pub metadata: Value,
    /// The previous entry's hash; [`Hash::ZERO`] for sequence 1.
    pub prev_hash: Hash,
}

impl Entry {
    /// The JSON object with exactly the eight entry keys.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "aggregate_type".to_owned(),
            Value::String(self.aggregate_type.clone()),
        );
        map.insert(
            "aggregate_id".to_owned(),
            Value::String(self.aggregate_id.clone()),
        );
        map.insert("sequence".to_owned(), Value::from(self.sequence));
        map.insert(
            "event_type".to_owned(),
            Value::String(self.event_type.clone()),
        );
        map.insert(
            "event_version".to_owned(),
            Value::String(self.event_version.clone()),
        );
        map.insert("payload".to_owned(), self.payload.clone());
        map.insert("metadata".to_owned(), self.metadata.clone());
        map.insert(
            "prev_hash".to_owned(),
            Value::String(self.prev_hash.to_hex()),
        );
        Value::Object(map)
    }

    /// The RFC 8785 canonical bytes of [`Entry::to_json`].
    ///
    /// # Errors
    /// [`AuditError::MetadataNotObject`], or a number-policy refusal from
    /// [`canonical_json`](crate::canonical_json) (a float, or an integer beyond ±(2^53 − 1),
    /// `sequence` included).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, AuditError> {
        if !self.metadata.is_object() {
            return Err(AuditError::MetadataNotObject);
        }
        // The eight members written in canonical order, without building
        // the object first. On a refusal, canonicalizing the object names
        // the number that was refused.
        self.envelope()
            .write()
            .ok_or_else(|| canonical::refusal(&self.to_json()))
    }

    fn envelope(&self) -> Envelope<'_> {
        Envelope {
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            sequence: self.sequence,
            event_type: &self.event_type,
            event_version: &self.event_version,
            payload: Member::Value(Cow::Borrowed(&self.payload)),
            metadata: Member::Value(Cow::Borrowed(&self.metadata)),
            prev_hash: self.prev_hash,
        }
    }

    /// SHA-256 of [`Entry::canonical_bytes`]: the entry's `hash`.
    ///
    /// # Errors
    /// As [`Entry::canonical_bytes`].
    pub fn hash(&self) -> Result<Hash, AuditError> {
        Ok(Hash::sha256(&self.canonical_bytes()?))
    }

    /// This entry with its computed hash.
    ///
    /// # Errors
    /// As [`Entry::canonical_bytes`].
    pub fn seal(self) -> Result<StoredEntry, AuditError> {
        let hash = self.hash()?;
        Ok(StoredEntry { entry: self, hash })
    }
}

/// An entry as the store keeps it: text columns, payload and metadata
/// as JSON text, borrowed from the row.
///
/// [`EntryText::hash`] is always [`Entry::hash`] of the parsed entry
/// ([`EntryText::to_entry`]), errors included; but payload or metadata
/// text that is already canonical ([`is_canonical`](crate::is_canonical))
/// goes into the canonical bytes as it is, without being parsed. The store
/// writes such text, so verification normally parses no JSON at all (see
/// the `canonical` module documentation for why this is safe).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryText<'a> {
    /// The aggregate type.
    pub aggregate_type: &'a str,
    /// The aggregate id.
    pub aggregate_id: &'a str,
    /// Position in the aggregate's history.
    pub sequence: u64,
    /// The event's type name.
    pub event_type: &'a str,
    /// The event's schema version.
    pub event_version: &'a str,
    /// The payload as stored: JSON text.
    pub payload: &'a str,
    /// The metadata as stored: JSON text of an object.
    pub metadata: &'a str,
    /// The previous entry's hash.
    pub prev_hash: Hash,
}

impl EntryText<'_> {
    /// The entry's hash: SHA-256 of its canonical bytes.
    ///
    /// # Errors
    /// [`AuditError::NotJson`] naming `payload` (checked first) or
    /// `metadata`; then as [`Entry::hash`].
    pub fn hash(&self) -> Result<Hash, AuditError> {
        let payload = Member::read(self.payload, "payload")?;
        let metadata = Member::read(self.metadata, "metadata")?;
        let is_object = match &metadata {
            Member::Canonical(text) => text.starts_with('{'),
            Member::Value(value) => value.is_object(),
        };
        if !is_object {
            return Err(AuditError::MetadataNotObject);
        }
        let envelope = Envelope {
            aggregate_type: self.aggregate_type,
            aggregate_id: self.aggregate_id,
            sequence: self.sequence,
            event_type: self.event_type,
            event_version: self.event_version,
            payload,
            metadata,
            prev_hash: self.prev_hash,
        };
        match envelope.write() {
            Some(bytes) => Ok(Hash::sha256(&bytes)),
            // A number the policy refuses: the parsed entry names it,
            // exactly as `Entry::hash` does.
            None => self.to_entry()?.hash(),
        }
    }

    /// The entry with payload and metadata parsed.
    ///
    /// # Errors
    /// [`AuditError::NotJson`] naming `payload` (checked first) or
    /// `metadata`.
    pub fn to_entry(&self) -> Result<Entry, AuditError> {
        Ok(Entry {
            aggregate_type: self.aggregate_type.to_owned(),
            aggregate_id: self.aggregate_id.to_owned(),
            sequence: self.sequence,
            event_type: self.event_type.to_owned(),
            event_version: self.event_version.to_owned(),
            payload: parse(self.payload, "payload")?,
            metadata: parse(self.metadata, "metadata")?,
            prev_hash: self.prev_hash,
        })
    }
}

fn parse(text: &str, field: &'static str) -> Result<Value, AuditError> {
    serde_json::from_str(text).map_err(|_| AuditError::NotJson { field })
}

/// Payload or metadata on its way into the canonical bytes.
enum Member<'a> {
    /// Text that [`is_canonical`](crate::is_canonical) accepted: written as
    /// it is.
    Canonical(&'a str),
    /// A value, canonicalized when written.
    Value(Cow<'a, Value>),
}

impl<'a> Member<'a> {
    /// `text` as it is when canonical, else parsed.
    fn read(text: &'a str, field: &'static str) -> Result<Self, AuditError> {
        if canonical::is_canonical(text) {
            Ok(Member::Canonical(text))
        } else {
            parse(text, field).map(|v| Member::Value(Cow::Owned(v)))
        }
    }

    fn len_hint(&self) -> usize {
        match self {
            Member::Canonical(text) => text.len(),
            Member::Value(_) => 512,
        }
    }

    fn write(&self, out: &mut Vec<u8>) -> Option<()> {
        match self {
            Member::Canonical(text) => out.extend_from_slice(text.as_bytes()),
            Member::Value(value) => canonical::write_value(value, out).ok()?,
        }
        Some(())
    }
}

/// An entry's eight members, borrowed, for the canonical writer.
struct Envelope<'a> {
    aggregate_type: &'a str,
    aggregate_id: &'a str,
    sequence: u64,
    event_type: &'a str,
    event_version: &'a str,
    payload: Member<'a>,
    metadata: Member<'a>,
    prev_hash: Hash,
}

impl Envelope<'_> {
    /// The canonical bytes of the eight-member object, written member by
    /// member in canonical order without building the object (this runs
    /// once per stored event on every verification). `None` for a number
    /// the policy refuses, the sequence included.
    fn write(&self) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(
            256 + self.aggregate_id.len()
                + self.event_type.len()
                + self.payload.len_hint()
                + self.metadata.len_hint(),
        );
        out.extend_from_slice(b"{\"aggregate_id\":");
        canonical::write_string(self.aggregate_id, &mut out);
        out.extend_from_slice(b",\"aggregate_type\":");
        canonical::write_string(self.aggregate_type, &mut out);
        out.extend_from_slice(b",\"event_type\":");
        canonical::write_string(self.event_type, &mut out);
        out.extend_from_slice(b",\"event_version\":");
        canonical::write_string(self.event_version, &mut out);
        out.extend_from_slice(b",\"metadata\":");
        self.metadata.write(&mut out)?;
        out.extend_from_slice(b",\"payload\":");
        self.payload.write(&mut out)?;
        out.extend_from_slice(b",\"prev_hash\":\"");
        out.extend_from_slice(self.prev_hash.to_hex().as_bytes());
        out.extend_from_slice(b"\",\"sequence\":");
        let sequence = i64::try_from(self.sequence)
            .ok()
            .filter(|n| n.unsigned_abs() <= MAX_SAFE_INTEGER)?;
        canonical::write_integer(sequence, &mut out);
        out.push(b'}');
        Some(out)
    }
}

/// An [`Entry`] with the `hash` stored beside it: a row of the store, or an
/// element of a bundle's `entries`.
///
/// Its JSON is the entry's eight keys plus `hash` (nine keys, no others).
/// The stored hash is what was written, not necessarily the entry's true
/// hash: verification compares the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredEntryWire", into = "StoredEntryWire")]
pub struct StoredEntry {
    /// The entry fields as stored.
    pub entry: Entry,
    /// The hash as stored.
    pub hash: Hash,
}

impl StoredEntry {
    /// The JSON object: the eight entry keys plus `hash`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut json = self.entry.to_json();
        if let Value::Object(map) = &mut json {
            map.insert("hash".to_owned(), Value::String(self.hash.to_hex()));
        }
        json
    }
}

/// The flat nine-key wire form of [`StoredEntry`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredEntryWire {
    aggregate_type: String,
    aggregate_id: String,
    sequence: u64,
    event_type: String,
    event_version: String,
    payload: Value,
    metadata: Value,
    prev_hash: Hash,
    hash: Hash,
}

impl From<StoredEntryWire> for StoredEntry {
    fn from(w: StoredEntryWire) -> Self {
        StoredEntry {
            entry: Entry {
                aggregate_type: w.aggregate_type,
                aggregate_id: w.aggregate_id,
                sequence: w.sequence,
                event_type: w.event_type,
                event_version: w.event_version,
                payload: w.payload,
                metadata: w.metadata,
                prev_hash: w.prev_hash,
            },
            hash: w.hash,
        }
    }
}

impl From<StoredEntry> for StoredEntryWire {
    fn from(s: StoredEntry) -> Self {
        let e = s.entry;
        StoredEntryWire {
            aggregate_type: e.aggregate_type,
            aggregate_id: e.aggregate_id,
            sequence: e.sequence,
            event_type: e.event_type,
            event_version: e.event_version,
            payload: e.payload,
            metadata: e.metadata,
            prev_hash: e.prev_hash,
            hash: s.hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry() -> Entry {
        Entry {
            aggregate_type: "ClientRecord".to_owned(),
            aggregate_id: "client-1".to_owned(),
            sequence: 1,
            event_type: "ClientRegistered".to_owned(),
            event_version: "1".to_owned(),
            payload: json!({"ClientRegistered": {"client_id": "client-1"}}),
            metadata: json!({"actor_id": "t-rivera", "actor_role": "therapist", "command_id": "cmd-1", "recorded_at": "2026-01-05T20:00:00Z"}),
            prev_hash: Hash::ZERO,
        }
    }

    #[test]
    fn json_has_exactly_the_eight_keys() {
        let json = entry().to_json();
        let keys: Vec<&str> = json
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            [
                "aggregate_id",
                "aggregate_type",
                "event_type",
                "event_version",
                "metadata",
                "payload",
                "prev_hash",
                "sequence"
            ]
        );
        assert_eq!(json["prev_hash"], json!("0".repeat(64)));
        assert_eq!(json["sequence"], json!(1));
    }

    #[test]
    fn hash_is_sha256_of_canonical_bytes_and_covers_every_field() {
        let e = entry();
        let bytes = e.canonical_bytes().expect("canonical");
        assert!(bytes.starts_with(b"{\"aggregate_id\":\"client-1\",\"aggregate_type\""));
        assert_eq!(e.hash().expect("hash"), Hash::sha256(&bytes));
        let base = e.hash().expect("hash");
        let mut variants = Vec::new();
        let mut v = e.clone();
        v.aggregate_type.push('x');
        variants.push(v);
        let mut v = e.clone();
        v.aggregate_id.push('x');
        variants.push(v);
        let mut v = e.clone();
        v.sequence = 2;
        variants.push(v);
        let mut v = e.clone();
        v.event_type.push('x');
        variants.push(v);
        let mut v = e.clone();
        v.event_version = "2".to_owned();
        variants.push(v);
        let mut v = e.clone();
        v.payload = json!({});
        variants.push(v);
        let mut v = e.clone();
        v.metadata["recorded_at"] = json!("2026-01-05T20:00:01Z");
        variants.push(v);
        let mut v = e.clone();
        v.prev_hash = Hash::sha256(b"x");
        variants.push(v);
        for v in variants {
            assert_ne!(v.hash().expect("hash"), base, "{v:?}");
        }
    }

    #[test]
    fn refuses_non_object_metadata_and_floats() {
        let mut e = entry();
        e.metadata = json!("text");
        assert_eq!(e.hash(), Err(AuditError::MetadataNotObject));
        let mut e = entry();
        e.payload = json!({"dose_mg": 100.5});
        assert_eq!(
            e.hash(),
            Err(AuditError::NonIntegerNumber {
                pointer: "/payload/dose_mg".to_owned()
            })
        );
    }

    #[test]
    fn stored_entry_wire_form_is_nine_flat_keys() {
        let stored = entry().seal().expect("seals");
        let json = serde_json::to_value(&stored).expect("serializes");
        assert_eq!(json, stored.to_json());
        assert_eq!(json.as_object().expect("object").len(), 9);
        assert_eq!(json["hash"], json!(stored.hash.to_hex()));
        let back: StoredEntry = serde_json::from_value(json.clone()).expect("parses");
        assert_eq!(back, stored);
        let mut extra = json;
        extra["note"] = json!("x");
        assert!(serde_json::from_value::<StoredEntry>(extra).is_err());
    }

    fn text<'a>(e: &'a Entry, payload: &'a str, metadata: &'a str) -> EntryText<'a> {
        EntryText {
            aggregate_type: &e.aggregate_type,
            aggregate_id: &e.aggregate_id,
            sequence: e.sequence,
            event_type: &e.event_type,
            event_version: &e.event_version,
            payload,
            metadata,
            prev_hash: e.prev_hash,
        }
    }

    #[test]
    fn entry_text_hashes_canonical_and_other_text_alike() {
        let e = entry();
        let expected = e.hash().expect("hash");
        let canonical_payload = serde_json::to_string(&e.payload).expect("serializes");
        let canonical_metadata = serde_json::to_string(&e.metadata).expect("serializes");
        assert!(canonical::is_canonical(&canonical_payload));
        assert!(canonical::is_canonical(&canonical_metadata));
        // As jsonb prints them: spaces, and members shortest name first.
        let jsonb_payload = r#"{"ClientRegistered": {"client_id": "client-1"}}"#;
        let jsonb_metadata = r#"{"actor_id": "t-rivera", "actor_role": "therapist", "command_id": "cmd-1", "recorded_at": "2026-01-05T20:00:00Z"}"#;
        for (payload, metadata) in [
            (canonical_payload.as_str(), canonical_metadata.as_str()),
            (jsonb_payload, jsonb_metadata),
            (canonical_payload.as_str(), jsonb_metadata),
            (jsonb_payload, canonical_metadata.as_str()),
        ] {
            let t = text(&e, payload, metadata);
            assert_eq!(t.hash(), Ok(expected), "{payload} {metadata}");
            assert_eq!(t.to_entry().as_ref(), Ok(&e));
        }
        // A changed value changes the hash on either path.
        let edited = r#"{"ClientRegistered": {"client_id": "client-2"}}"#;
        assert_ne!(text(&e, edited, jsonb_metadata).hash(), Ok(expected));
        let edited = r#"{"ClientRegistered":{"client_id":"client-2"}}"#;
        assert_ne!(text(&e, edited, jsonb_metadata).hash(), Ok(expected));
    }

    #[test]
    fn entry_text_errors_are_entry_errors_and_name_no_content() {
        let e = entry();
        let meta = r#"{"actor_id":"a"}"#;
        let not_json = |field| Err(AuditError::NotJson { field });
        assert_eq!(text(&e, "{secret", meta).hash(), not_json("payload"));
        assert_eq!(text(&e, "{secret", "[").hash(), not_json("payload"));
        assert_eq!(text(&e, "{}", "secret").hash(), not_json("metadata"));
        // Beyond a double: serde_json does not read it.
        assert_eq!(text(&e, "[1e400]", meta).hash(), not_json("payload"));
        assert_eq!(
            AuditError::NotJson { field: "payload" }.to_string(),
            "payload is not JSON"
        );
        for metadata in ["[]", "\"x\"", "1", "[ ]"] {
            assert_eq!(
                text(&e, "{}", metadata).hash(),
                Err(AuditError::MetadataNotObject)
            );
        }
        // Number-policy refusals name the number, as `Entry::hash` does.
        for (payload, metadata) in [
            (r#"{"dose_mg":100.5}"#, meta),
            (r#"{"amount":9007199254740992}"#, meta),
            (r#"[1,-0,1e300]"#, meta),
            (r#"{"amount":1}"#, r#"{"n":1.5}"#),
            (r#"{"amount":1.5}"#, r#"{"n":1.5}"#),
        ] {
            let t = text(&e, payload, metadata);
            let expected = t.to_entry().expect("JSON").hash();
            assert!(expected.as_ref().is_err_and(AuditError::is_number_refusal));
            assert_eq!(t.hash(), expected, "{payload} {metadata}");
        }
        let mut beyond = e.clone();
        beyond.sequence = MAX_SAFE_INTEGER + 1;
        assert_eq!(
            text(&beyond, "{}", meta).hash(),
            Err(AuditError::UnsafeInteger {
                pointer: "/sequence".to_owned()
            })
        );
    }
}
