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
//!
//! # Text that is already canonical
//! Verification reads payload and metadata from the store as text, and
//! parsing that text into a [`Value`] only to write it out again costs
//! more than everything else done for a row. The store writes
//! serde_json's compact form of a [`Value`] (members sorted by name,
//! minimal escapes), which for the names kapchart uses and integers *is*
//! the canonical form, and PostgreSQL `json` columns and SQLite keep that
//! text byte for byte. [`is_canonical`] checks in one pass, without
//! allocating, that a text is exactly the canonical bytes of the value it
//! denotes; such a text is hashed as it is
//! ([`EntryText`](crate::EntryText)). Anything else — rows converted from
//! `jsonb` (which prints spaces), escaped member names, floats, deep
//! nesting — is parsed and canonicalized as before.
//!
//! Why that is safe: canonical text is its own canonical form.
//! [`is_canonical`] accepts a text only if every byte is the one the
//! writer above would produce for the value it denotes: no whitespace,
//! members in strictly increasing UTF-16 order of their names (so no
//! duplicates, which a parser would collapse), strings with exactly the
//! writer's escapes, numbers in their one decimal spelling within the
//! policy, literals as written. So `canonical_json(parse(t)) == t`
//! whenever `is_canonical(t)`, and a hash cannot depend on which path was
//! taken. A property test checks that implication on generated canonical
//! and near-canonical texts (`tests/canonical_fast_path.rs`).

use std::cmp::Ordering;
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

/// Deepest nesting of arrays and objects [`is_canonical`] accepts. Deeper
/// text is left to the parser (serde_json refuses 128 levels), so every
/// text accepted here also parses.
const MAX_DEPTH: usize = 64;

/// True when `text` is exactly the canonical JSON ([`canonical_json`]) of
/// the value it denotes under this module's integer policy: then
/// `canonical_json(&serde_json::from_str(text)?)` is `text`, byte for byte.
///
/// Strict and conservative. False for: whitespace anywhere; members not in
/// strictly increasing UTF-16 order of their names (duplicates included);
/// a member name with any escape (the parser sorts those); any escape but
/// `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t` and `\u00xx` (lowercase) for
/// the other controls below U+0020; a raw control character; a number
/// other than `0` or `-?[1-9][0-9]*` of magnitude at most
/// [`MAX_SAFE_INTEGER`] (so `-0`, `1.0`, `1e2`, `01`); nesting deeper than
/// 64 arrays and objects; anything that is not JSON. False does not mean
/// the text is wrong, only that it must be parsed and canonicalized.
#[must_use]
pub fn is_canonical(text: &str) -> bool {
    let mut checker = Checker { text, at: 0 };
    checker.value(0) && checker.at == text.len()
}

/// A cursor over the text being checked.
struct Checker<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Checker<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.at += 1;
        }
        found
    }

    /// One value inside `depth` arrays and objects.
    fn value(&mut self, depth: usize) -> bool {
        match self.peek() {
            Some(b'{') => depth < MAX_DEPTH && self.object(depth + 1),
            Some(b'[') => depth < MAX_DEPTH && self.array(depth + 1),
            Some(b'"') => self.string().is_some(),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => false,
        }
    }

    fn literal(&mut self, word: &str) -> bool {
        let found = self.text[self.at..].starts_with(word);
        if found {
            self.at += word.len();
        }
        found
    }

    fn array(&mut self, depth: usize) -> bool {
        self.at += 1; // `[`
        if self.eat(b']') {
            return true;
        }
        loop {
            if !self.value(depth) {
                return false;
            }
            if self.eat(b']') {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
        }
    }

    fn object(&mut self, depth: usize) -> bool {
        self.at += 1; // `{`
        if self.eat(b'}') {
            return true;
        }
        let mut previous: Option<&str> = None;
        loop {
            // A name with an escape is left to the parser: comparing it
            // would need it unescaped.
            if self.peek() != Some(b'"') {
                return false;
            }
            let Some((name, false)) = self.string() else {
                return false;
            };
            if previous.is_some_and(|p| utf16_cmp(p, name) != Ordering::Less) {
                return false;
            }
            previous = Some(name);
            if !self.eat(b':') || !self.value(depth) {
                return false;
            }
            if self.eat(b'}') {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
        }
    }

    /// A string (the cursor on its opening quote) with exactly the
    /// canonical escapes: its content as written, and whether it has any
    /// escape. `None` if it is not canonical.
    fn string(&mut self) -> Option<(&'a str, bool)> {
        let bytes = self.text.as_bytes();
        self.at += 1; // `"`
        let start = self.at;
        let mut escaped = false;
        loop {
            // Skip the plain run in one tight loop: most of a stored text.
            self.at += bytes[self.at..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
            match bytes[self.at] {
                b'"' => {
                    let content = &self.text[start..self.at];
                    self.at += 1;
                    return Some((content, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.at += match *bytes.get(self.at + 1)? {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                        // `\u00xx`, lowercase, only for the controls that
                        // have no short escape (not 08 09 0a 0c 0d).
                        b'u' => match bytes.get(self.at + 2..self.at + 6)? {
                            [b'0', b'0', b'0', b'0'..=b'7' | b'b' | b'e' | b'f']
                            | [b'0', b'0', b'1', b'0'..=b'9' | b'a'..=b'f'] => 6,
                            _ => return None,
                        },
                        _ => return None,
                    };
                }
                // A raw control character.
                _ => return None,
            }
        }
    }

    /// `0`, or `-?[1-9][0-9]*` of magnitude at most [`MAX_SAFE_INTEGER`].
    /// What may follow a number's digits (`.`, `e`) is refused by the
    /// caller, which expects `,`, a closing bracket or the end.
    fn number(&mut self) -> bool {
        let negative = self.eat(b'-');
        let start = self.at;
        let mut magnitude: u64 = 0;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            // Stops at the 17th significant digit at the latest: no overflow.
            magnitude = magnitude * 10 + u64::from(digit - b'0');
            if magnitude > MAX_SAFE_INTEGER {
                return false;
            }
            self.at += 1;
        }
        match &self.text.as_bytes()[start..self.at] {
            [] => false,
            [b'0'] => !negative,
            [b'0', ..] => false,
            _ => true,
        }
    }
}

/// Orders two strings by their UTF-16 code units (RFC 8785's member
/// order), encoding only from the first character that differs.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    // Back to the start of the character that differs; the bytes before it
    // are the same in both, so it starts at the same place in both.
    let mut at = common;
    while !a.is_char_boundary(at) {
        at -= 1;
    }
    a[at..].encode_utf16().cmp(b[at..].encode_utf16())
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
        // U+FB33 sorts before U+1F602 in UTF-8 bytes but after it in UTF-16
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

    /// The text is canonical, and the implication `is_canonical` promises
    /// holds for it.
    fn accepted(text: &str) {
        assert!(is_canonical(text), "should be canonical: {text:?}");
        let value: Value = serde_json::from_str(text).expect("canonical text parses");
        assert_eq!(canon(&value), text);
    }

    fn refused(text: &str) {
        assert!(!is_canonical(text), "should not be canonical: {text:?}");
    }

    #[test]
    fn is_canonical_accepts_the_writers_output() {
        for text in [
            "0",
            "-1",
            "9007199254740991",
            "-9007199254740991",
            "true",
            "false",
            "null",
            "\"\"",
            "[]",
            "{}",
            r#"{"":0,"a":[true,false,null,-12,"x"],"b":{"c":{}}}"#,
            // Every escape the writer uses, and what it leaves alone.
            r#""\"\\\b\f\n\r\t\u0000\u0007\u000b\u000e\u000f\u0010\u001f/é😂""#,
            "\"\u{7f}\u{2028}\"",
            // UTF-16 order: U+1F602 (D83D DE02) before U+FB33 (FB33),
            // the reverse of their UTF-8 order.
            "{\"\u{1f602}\":2,\"\u{fb33}\":1}",
            // A name that is a prefix of the next.
            r#"{"a":1,"ab":2,"b":3}"#,
        ] {
            accepted(text);
        }
    }

    #[test]
    fn is_canonical_refuses_whitespace() {
        for text in [
            " 1",
            "1 ",
            "1\n",
            "[1, 2]",
            "[ 1]",
            "{\"a\": 1}",
            "{\"a\" :1}",
            "{ \"a\":1}",
            "{\"a\":1 }",
            "\t{}",
        ] {
            refused(text);
        }
    }

    #[test]
    fn is_canonical_refuses_members_out_of_order_or_duplicated() {
        refused(r#"{"b":1,"a":2}"#);
        refused(r#"{"a":1,"a":2}"#);
        refused(r#"{"ab":1,"a":2}"#);
        // In UTF-8 byte order, which is not RFC 8785's.
        refused("{\"\u{fb33}\":1,\"\u{1f602}\":2}");
        refused(r#"{"a":{"y":1,"x":2}}"#);
    }

    #[test]
    fn is_canonical_leaves_escaped_names_to_the_parser() {
        // Canonical, but the check does not unescape names.
        assert_eq!(canon(&json!({"a\nb": 1})), "{\"a\\nb\":1}");
        refused("{\"a\\nb\":1}");
        refused(r#"{"\"":1}"#);
    }

    #[test]
    fn is_canonical_refuses_other_escapes() {
        for text in [
            r#""\/""#,
            r#""\u0041""#,
            r#""\u00e9""#,
            r#""\u001F""#,
            r#""\u000B""#,
            r#""\u0008""#,
            r#""\u0009""#,
            r#""\u000a""#,
            r#""\u000c""#,
            r#""\u000d""#,
            r#""\u0022""#,
            r#""\u005c""#,
            r#""\ud83d\ude02""#,
            r#""\ud800""#,
            r#""\x""#,
            r#""\u00"#,
            r#""\""#,
        ] {
            refused(text);
        }
    }

    #[test]
    fn is_canonical_refuses_raw_controls_and_broken_strings() {
        for text in ["\"\n\"", "\"\t\"", "\"\u{0}\"", "\"\u{1f}\"", "\"abc", "\""] {
            refused(text);
        }
    }

    #[test]
    fn is_canonical_refuses_other_number_spellings() {
        for text in [
            "-0",
            "00",
            "01",
            "-01",
            "1.0",
            "1.5",
            "0.0",
            "1e2",
            "1E2",
            "1e-2",
            "+1",
            "-",
            "9007199254740992",
            "-9007199254740992",
            "18446744073709551616",
            "[1.0]",
            "{\"a\":-0}",
            ".5",
        ] {
            refused(text);
        }
    }

    #[test]
    fn is_canonical_refuses_what_is_not_one_json_value() {
        for text in [
            "",
            "tru",
            "nul",
            "True",
            "NaN",
            "Infinity",
            "[1,]",
            "[,1]",
            "{\"a\":1,}",
            "{\"a\"}",
            "{\"a\":}",
            "{1:2}",
            "[1]]",
            "[1",
            "{",
            "1 2",
            "12x",
            "\"a\"\"b\"",
            "//",
            "'a'",
        ] {
            refused(text);
        }
    }

    #[test]
    fn is_canonical_limits_nesting_below_the_parsers_limit() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        accepted(&nested(MAX_DEPTH));
        let deeper = nested(MAX_DEPTH + 1);
        refused(&deeper);
        // The slow path still handles it: serde_json parses up to 127
        // levels, so whatever this check accepts, the parser reads.
        assert!(serde_json::from_str::<Value>(&deeper).is_ok());
        assert!(serde_json::from_str::<Value>(&nested(127)).is_ok());
        assert!(serde_json::from_str::<Value>(&nested(128)).is_err());
        refused(&format!(
            "{}1{}",
            "{\"a\":".repeat(MAX_DEPTH + 1),
            "}".repeat(MAX_DEPTH + 1)
        ));
    }
}
