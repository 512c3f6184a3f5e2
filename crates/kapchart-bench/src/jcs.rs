//! A direct RFC 8785 writer for `serde_json::Value`, as a measured
//! prototype only: the breakdown times it against kapchart-audit's
//! `canonical_json` (which wraps `serde_jcs`) and checks that it produces
//! the same bytes for every stored entry it is given. The product's
//! canonicalizer stays kapchart-audit's.
//!
//! Numbers follow kapchart-audit's policy (integers of magnitude at most
//! 2^53 − 1; a float only when its value is such an integer): anything else
//! is refused (`None`). Strings are escaped as serde_json escapes them,
//! which is what RFC 8785 asks (`\"`, `\\`, `\b \f \n \r \t`, other
//! controls as lowercase `\u00xx`, everything else as is). Object keys are
//! sorted by UTF-16 code units.

use std::io::Write as _;

use kapchart_audit::{Entry, MAX_SAFE_INTEGER};
use serde_json::Value;

/// The canonical bytes of `value`, or `None` for a number the policy
/// refuses (compared with kapchart-audit's in the tests).
#[cfg(test)]
fn canonical(value: &Value) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    write(value, &mut out)?;
    Some(out)
}

/// The canonical bytes of a chain entry, written field by field (its
/// eight keys in canonical order) without first building its JSON object.
pub fn canonical_entry(e: &Entry) -> Option<Vec<u8>> {
    if !e.metadata.is_object() {
        return None;
    }
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"aggregate_id\":");
    serde_json::to_writer(&mut out, &e.aggregate_id).ok()?;
    out.extend_from_slice(b",\"aggregate_type\":");
    serde_json::to_writer(&mut out, &e.aggregate_type).ok()?;
    out.extend_from_slice(b",\"event_type\":");
    serde_json::to_writer(&mut out, &e.event_type).ok()?;
    out.extend_from_slice(b",\"event_version\":");
    serde_json::to_writer(&mut out, &e.event_version).ok()?;
    out.extend_from_slice(b",\"metadata\":");
    write(&e.metadata, &mut out)?;
    out.extend_from_slice(b",\"payload\":");
    write(&e.payload, &mut out)?;
    out.extend_from_slice(b",\"prev_hash\":\"");
    out.extend_from_slice(e.prev_hash.to_hex().as_bytes());
    out.extend_from_slice(b"\",\"sequence\":");
    if e.sequence > MAX_SAFE_INTEGER {
        return None;
    }
    write!(out, "{}", e.sequence).ok()?;
    out.push(b'}');
    Some(out)
}

fn write(value: &Value, out: &mut Vec<u8>) -> Option<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                if u > MAX_SAFE_INTEGER {
                    return None;
                }
                write!(out, "{u}").ok()?;
            } else if let Some(i) = n.as_i64() {
                if i.unsigned_abs() > MAX_SAFE_INTEGER {
                    return None;
                }
                write!(out, "{i}").ok()?;
            } else {
                let f = n.as_f64()?;
                if f.fract() != 0.0 || !f.is_finite() || f.abs() > MAX_SAFE_INTEGER as f64 {
                    return None;
                }
                // -0.0 is written 0, as ECMAScript does.
                write!(out, "{}", f as i64).ok()?;
            }
        }
        Value::String(s) => serde_json::to_writer(&mut *out, s).ok()?,
        Value::Array(items) => {
            out.push(b'[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                write(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // serde_json's map is ordered by UTF-8 bytes, which is UTF-16
            // order except around supplementary characters: sort when a
            // key holds one.
            if entries
                .iter()
                .any(|(k, _)| k.chars().any(|c| c > '\u{FFFF}'))
            {
                entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            }
            out.push(b'{');
            for (k, (key, item)) in entries.into_iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key).ok()?;
                out.push(b':');
                write(item, out)?;
            }
            out.push(b'}');
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn matches_kapchart_audit_on_awkward_values() {
        let values = [
            json!({"b": 1, "a": [true, false, null, -0, 56.0, -9007199254740991_i64],
                   "\u{e000}": "private use", "\u{1f600}": "emoji key sorts before U+E000",
                   "s": "quote \" backslash \\ controls \u{1} \u{8} \t \n \u{c} \r \u{1f} del \u{7f} \u{2028} é 😀"}),
            json!([]),
            json!({}),
            json!("plain"),
            json!(9007199254740991_u64),
        ];
        for v in values {
            let ours = canonical(&v).expect("policy accepts");
            let theirs = kapchart_audit::canonical_json(&v).expect("policy accepts");
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs)
            );
        }
        let entry = Entry {
            aggregate_type: "ClientRecord".to_owned(),
            aggregate_id: "client-1".to_owned(),
            sequence: 7,
            event_type: "PaymentRecorded".to_owned(),
            event_version: "1".to_owned(),
            payload: json!({"PaymentRecorded": {"amount": 5000, "note": "é \u{1}"}}),
            metadata: json!({"actor_id": "fd-jones", "recorded_at": "2026-01-05T20:00:00Z"}),
            prev_hash: kapchart_audit::Hash::sha256(b"x"),
        };
        assert_eq!(
            canonical_entry(&entry),
            Some(entry.canonical_bytes().expect("canonical"))
        );
        assert_eq!(canonical(&json!(0.5)), None);
        assert_eq!(canonical(&json!(9007199254740992_u64)), None);
    }
}
