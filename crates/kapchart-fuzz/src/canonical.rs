//! The RFC 8785 canonical JSON writer and its fast path for text that is
//! already canonical.

use kapchart_audit::{canonical_json, is_canonical};
use serde_json::Value;

/// The canonical target: the bytes parsed as JSON (as the store's
/// payloads are) and canonicalized. Nothing may panic, and:
///
/// - the writer is idempotent: its output is UTF-8 JSON that parses and
///   canonicalizes to the same bytes;
/// - the fast path is sound: a text `is_canonical` accepts parses, its
///   value is accepted by the writer, and the writer gives back exactly
///   that text (the store hashes such text without parsing it).
pub fn canonical(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let fast = is_canonical(text);
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            assert!(!fast, "is_canonical accepts text that does not parse: {e}");
            return;
        }
    };
    let canon = match canonical_json(&value) {
        Ok(canon) => canon,
        Err(e) => {
            assert!(!fast, "is_canonical accepts text the writer refuses: {e}");
            return;
        }
    };
    let canon_text =
        std::str::from_utf8(&canon).unwrap_or_else(|e| panic!("canonical JSON is not UTF-8: {e}"));
    let again: Value = serde_json::from_str(canon_text)
        .unwrap_or_else(|e| panic!("canonical JSON does not parse: {e}"));
    let twice =
        canonical_json(&again).unwrap_or_else(|e| panic!("the writer refuses its own output: {e}"));
    assert_eq!(
        String::from_utf8_lossy(&twice),
        canon_text,
        "canonicalizing canonical JSON changed it"
    );
    if fast {
        assert_eq!(
            canon_text, text,
            "is_canonical accepts text that is not the canonical form"
        );
    }
}
