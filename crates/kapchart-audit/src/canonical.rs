//! Canonical JSON: RFC 8785, the JSON Canonicalization Scheme (JCS), for
//! the JSON kapchart stores: integers only.
//!
//! # Number policy
//! JCS writes every number as an IEEE-754 double, so a value a double cannot
//! hold exactly is silently rounded: `9007199254740993` canonicalizes to
//! `9007199254740992`, and two different stored values would then hash
//! alike — a change an auditor could not see. kapchart's events hold whole
//! numbers only (no floats: see `docs/ARCHITECTURE.md`), so
//! [`canonical_json`] accepts exactly the numbers whose value is an integer
//! of magnitude at most 2^53 − 1, and refuses every other number with an
//! error naming where it is. (`56.0` is accepted: its value is the integer
//! 56, written `56`; `-0.0` is written `0`, as ECMAScript does.)
//!
//! # Why not a crate
//! For these values RFC 8785 is short: no whitespace; object members
//! sorted by the UTF-16 code units of their names; strings with `"` and `\`
//! escaped, `\b \f \n \r \t` for those controls, every other control
//! character below U+0020 as `\u00xx` in lowercase hex, everything else
//! as is; literals as they are; and an integer in the double range is its
//! decimal digits (ECMAScript's `Number.prototype.toString` for such a
//! value). The maintained crates (`serde_jcs`, `serde_json_canonicalizer`)
//! implement the whole scheme, floats included, through a general
//! serializer: about 20 µs for one stored event here, against about 1 µs
//! for this direct writer, and verification spends its time there
//! (docs/performance.md). So the writer is written here, small, and proved:
//! it passes the RFC 8785 reference vectors (kapchart-conformance, run by
//! CI; the float vector is refused by the policy), and a property test
//! checks it byte for byte against `serde_jcs` on generated values (strings
//! with every kind of character, keys that sort differently in UTF-8 and
//! UTF-16, nesting, integers to the edge of the range).

use std::io::Write as _;

use serde_json::{Map, Value};

use crate::error::AuditError;

/// The largest integer magnitude canonical JSON here accepts: 2^53 − 1,
/// ECMAScript's `Number.MAX_SAFE_INTEGER`. Every integer up to it is exactly
/// one IEEE-754 double.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The RFC 8785 canonical bytes of `value` (UTF-8, no whitespace).
///
/// # Errors
/// [`AuditError::NonIntegerNumber`] or [`AuditError::UnsafeInteger`] for a
/// number outside the integer policy described in this module, with the
/// JSON Pointer (RFC 6901) of the first such number.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, AuditError> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out).map_err(|()| refusal(value))?;
    Ok(out)
}

/// Appends the canonical form of `value` to `out`. `Err(())` means a
/// number the policy refuses; [`refusal`] then finds and names it.
pub(crate) fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), ()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_integer(exact_integer(n).ok_or(())?, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(map, out)?,
    }
    Ok(())
}

fn write_object(map: &Map<String, Value>, out: &mut Vec<u8>) -> Result<(), ()> {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    // Already sorted for ASCII names (serde_json's map is ordered by bytes),
    // so this is one pass in the common case; it does not rely on that.
    members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    out.push(b'{');
    for (index, (name, item)) in members.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_string(name, out);
        out.push(b':');
        write_value(item, out)?;
    }
    out.push(b'}');
    Ok(())
}

/// An integer's decimal digits (ECMAScript's form for a double holding an
/// integer of magnitude at most 2^53 − 1).
pub(crate) fn write_integer(n: i64, out: &mut Vec<u8>) {
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{n}");
}

/// A JSON string with RFC 8785's minimal escaping.
pub(crate) fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..at]);
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
                start = at + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..at]);
        out.extend_from_slice(escape);
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The value of `n` when the policy accepts it: an integer of magnitude at
/// most [`MAX_SAFE_INTEGER`], or a double whose value is one.
fn exact_integer(n: &serde_json::Number) -> Option<i64> {
    #[allow(clippy::cast_possible_wrap)]
    let max = MAX_SAFE_INTEGER as i64;
    if let Some(u) = n.as_u64() {
        return i64::try_from(u).ok().filter(|i| *i <= max);
    }
    if let Some(i) = n.as_i64() {
        return (i.unsigned_abs() <= MAX_SAFE_INTEGER).then_some(i);
    }
    let f = n.as_f64()?;
    // Exact: MAX_SAFE_INTEGER < 2^53 is a double.
    #[allow(clippy::cast_precision_loss)]
    let limit = MAX_SAFE_INTEGER as f64;
    if f.fract() != 0.0 || !f.is_finite() || f.abs() > limit {
        return None;
    }
    // In range and integral, so the conversion is exact (and -0.0 is 0).
    #[allow(clippy::cast_possible_truncation)]
    Some(f as i64)
}

/// The policy error for the first refused number in `value`.
pub(crate) fn refusal(value: &Value) -> AuditError {
    match check_numbers(value, &mut Vec::new()) {
        Err(e) => e,
        // Unreachable: only a refused number makes the writer fail.
        Ok(()) => AuditError::Serialization("canonical writer refused an accepted value".into()),
    }
}

/// One step of a JSON Pointer, borrowed from the value being walked.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn check_numbers<'a>(value: &'a Value, path: &mut Vec<Step<'a>>) -> Result<(), AuditError> {
    match value {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                if u > MAX_SAFE_INTEGER {
                    return Err(AuditError::UnsafeInteger {
                        pointer: pointer(path),
                    });
                }
            } else if let Some(i) = n.as_i64() {
                if i.unsigned_abs() > MAX_SAFE_INTEGER {
                    return Err(AuditError::UnsafeInteger {
                        pointer: pointer(path),
                    });
                }
            } else {
                // Neither u64 nor i64: a double (serde_json holds no NaN or
                // infinity).
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.fract() != 0.0 || !f.is_finite() {
                    return Err(AuditError::NonIntegerNumber {
                        pointer: pointer(path),
                    });
                }
                // Exact: MAX_SAFE_INTEGER < 2^53 is a double.
                #[allow(clippy::cast_precision_loss)]
                let max = MAX_SAFE_INTEGER as f64;
                if f.abs() > max {
                    return Err(AuditError::UnsafeInteger {
                        pointer: pointer(path),
                    });
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(Step::Index(index));
                check_numbers(item, path)?;
                path.pop();
            }
            Ok(())
        }
        Value::Object(map) => {
            for (key, item) in map {
                path.push(Step::Key(key));
                check_numbers(item, path)?;
                path.pop();
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

/// RFC 6901 JSON Pointer of `path` (`""` is the whole document).
fn pointer(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in path {
        out.push('/');
        match step {
            Step::Key(key) => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Step::Index(index) => out.push_str(&index.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn canon(v: &Value) -> String {
        String::from_utf8(canonical_json(v).expect("canonicalizes")).expect("utf-8")
    }

    #[test]
    fn sorts_keys_by_utf16_code_units_and_strips_whitespace() {
        // U+FB33 sorts after U+1F602 in UTF-8 bytes but before it in UTF-16
        // code units (the emoji is the surrogate pair D83D DE02).
        let v: Value = serde_json::from_str(
            r#"{ "\ufb33": 1, "\ud83d\ude02": 2, "b": [ true, null ], "a": "x" }"#,
        )
        .expect("parses");
        assert_eq!(
            canon(&v),
            "{\"a\":\"x\",\"b\":[true,null],\"\u{1f602}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn escapes_minimally() {
        let v = json!({"s": "\u{0f}\n\"\\/\u{7f}é"});
        assert_eq!(canon(&v), "{\"s\":\"\\u000f\\n\\\"\\\\/\u{7f}é\"}");
    }

    #[test]
    fn integers_in_the_safe_range_are_exact() {
        let v = json!([0, -1, 9_007_199_254_740_991_u64, -9_007_199_254_740_991_i64]);
        assert_eq!(canon(&v), "[0,-1,9007199254740991,-9007199254740991]");
        let whole: Value = serde_json::from_str("[56.0, -0.0, 1e2]").expect("parses");
        assert_eq!(canon(&whole), "[56,0,100]");
    }

    #[test]
    fn refuses_numbers_a_double_cannot_hold_exactly() {
        let big = json!({"a": [1, {"x/y~": 9_007_199_254_740_992_u64}]});
        assert_eq!(
            canonical_json(&big),
            Err(AuditError::UnsafeInteger {
                pointer: "/a/1/x~1y~0".to_owned()
            })
        );
        let negative = json!([-9_007_199_254_740_992_i64]);
        assert_eq!(
            canonical_json(&negative),
            Err(AuditError::UnsafeInteger {
                pointer: "/0".to_owned()
            })
        );
        let float = json!({"dose": 1.5});
        assert_eq!(
            canonical_json(&float),
            Err(AuditError::NonIntegerNumber {
                pointer: "/dose".to_owned()
            })
        );
        let huge: Value = serde_json::from_str("1e30").expect("parses");
        assert_eq!(
            canonical_json(&huge),
            Err(AuditError::UnsafeInteger {
                pointer: String::new()
            })
        );
    }
}
