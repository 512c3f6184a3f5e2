//! Canonical JSON: RFC 8785, the JSON Canonicalization Scheme (JCS).
//!
//! The serialization is the maintained `serde_jcs` crate's (UTF-16 code-unit
//! key order, ECMAScript number form, minimal string escaping). It matched
//! every RFC 8785 reference vector byte for byte, floats included.
//!
//! What this module adds is a number policy. JCS writes every number as an
//! IEEE-754 double, so a value a double cannot hold exactly is silently
//! rounded: `9007199254740993` canonicalizes to `9007199254740992`, and two
//! different stored values would then hash alike — a change an auditor could
//! not see. kapchart's events hold whole numbers only (no floats: see
//! `docs/ARCHITECTURE.md`), so [`canonical_json`] accepts exactly the
//! numbers whose value is an integer of magnitude at most 2^53 − 1, and
//! refuses every other number with an error naming where it is.
//! (`56.0` is accepted: its value is the integer 56, written `56`.)

use serde_json::Value;

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
/// JSON Pointer (RFC 6901) of the first such number;
/// [`AuditError::Serialization`] if the serializer fails.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, AuditError> {
    let mut path = Vec::new();
    check_numbers(value, &mut path)?;
    serde_jcs::to_vec(value).map_err(|e| AuditError::Serialization(e.to_string()))
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
