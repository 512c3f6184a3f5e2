//! The fast path of verification: stored JSON text that
//! [`is_canonical`] accepts is hashed as it is, so `is_canonical(t)` must
//! imply `canonical_json(parse(t)) == t`, and [`EntryText::hash`] must be
//! [`Entry::hash`] of the parsed entry for any text, errors included.
//!
//! Generators: values within the integer policy (canonical text must be
//! accepted), and a broad family of texts that are canonical, nearly
//! canonical or not JSON at all (whitespace, members out of order or
//! duplicated, escapes the writer never writes, other number spellings,
//! one-character corruptions of canonical text, pretty and jsonb-style
//! printing).

use kapchart_audit::{Entry, EntryText, Hash, MAX_SAFE_INTEGER, canonical_json, is_canonical};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value, json};

#[allow(clippy::cast_possible_wrap)]
const MAX: i64 = MAX_SAFE_INTEGER as i64;

/// Characters that stress escaping and UTF-16 ordering.
const TRICKY: [char; 12] = [
    '\u{0}',
    '\u{1f}',
    '\u{7f}',
    '"',
    '\\',
    '/',
    '\u{e000}',
    '\u{fb33}',
    '\u{1f600}',
    '\u{10ffff}',
    'a',
    'é',
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(any::<char>(), 0..8).prop_map(String::from_iter),
        proptest::collection::vec(select(TRICKY.to_vec()), 0..6).prop_map(String::from_iter),
    ]
}

/// Values within the policy (integer-valued doubles included, which are
/// canonical as integers but which serde_json prints as `56.0`).
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-MAX..=MAX).prop_map(Value::from),
        select(vec![MAX, -MAX, 0, -1]).prop_map(Value::from),
        (-1_000_i32..1_000).prop_map(|n| json!(f64::from(n))),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((text(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Whitespace, mostly none.
fn ws() -> impl Strategy<Value = &'static str> {
    prop_oneof![12 => Just(""), 1 => Just(" "), 1 => Just("\n  "), 1 => Just("\t")]
}

fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (-MAX..=MAX).prop_map(|n| n.to_string()),
        2 => (-20_i64..20).prop_map(|n| n.to_string()),
        2 => select(vec![
            "-0", "00", "01", "-01", "1.0", "0.5", "1e2", "1E2", "1e+2", "-1e-2", "0e0", "-0.0",
            "9007199254740991", "-9007199254740991", "9007199254740992", "-9007199254740992",
            "18446744073709551615", "18446744073709551616", "1e400", "+1", "-", ".5", "5.",
        ])
        .prop_map(str::to_owned),
    ]
}

/// A string literal from raw characters and escapes, canonical or not
/// (and sometimes not a string at all).
fn string_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        2 => any::<char>().prop_map(String::from),
        3 => select(TRICKY.to_vec()).prop_map(String::from),
        3 => select(vec![
            r#"\""#, r"\\", r"\/", r"\b", r"\f", r"\n", r"\r", r"\t", r"\u0000", r"\u0008",
            r"\u0009", r"\u000a", r"\u000b", r"\u000B", r"\u000c", r"\u000d", r"\u001f",
            r"\u001F", r"\u0020", r"\u0041", r"\u007f", r"\u00e9", r"\u20ac", r"\ud83d\ude02",
            r"\ud800", r"\x", r"\u12",
        ])
        .prop_map(str::to_owned),
    ];
    proptest::collection::vec(piece, 0..5).prop_map(|pieces| format!("\"{}\"", pieces.concat()))
}

/// Member names: a few plain ones (so duplicates and orders come up
/// often), or any string literal.
fn name_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec!["", "a", "b", "ab", "B", "é", "\u{fb33}", "\u{1f602}", "\u{e000}"])
            .prop_map(|n| format!("\"{n}\"")),
        1 => string_text(),
    ]
}

/// Near-JSON: every kind of near miss of canonical text, and canonical
/// text by chance (members happen to be in order, nothing else is off).
fn sloppy() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        number_text(),
        string_text(),
        select(vec!["true", "false", "null", "tru", "nul", "True"]).prop_map(str::to_owned),
    ];
    let tree = leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            (
                proptest::collection::vec((ws(), inner.clone(), ws()), 0..5),
                ws()
            )
                .prop_map(|(items, empty)| {
                    let items: Vec<String> =
                        items.iter().map(|(a, v, b)| format!("{a}{v}{b}")).collect();
                    if items.is_empty() {
                        format!("[{empty}]")
                    } else {
                        format!("[{}]", items.join(","))
                    }
                }),
            (
                proptest::collection::vec((ws(), name_text(), ws(), inner), 0..5),
                any::<bool>(),
            )
                .prop_map(|(mut members, sorted)| {
                    if sorted {
                        // Byte order: the member order of serde_json's
                        // map, not always RFC 8785's.
                        members.sort_by(|a, b| a.1.cmp(&b.1));
                    }
                    let members: Vec<String> = members
                        .iter()
                        .map(|(a, name, b, v)| format!("{a}{name}{b}:{v}"))
                        .collect();
                    format!("{{{}}}", members.join(","))
                }),
        ]
    });
    (ws(), tree, ws()).prop_map(|(a, t, b)| format!("{a}{t}{b}"))
}

/// As PostgreSQL prints `jsonb`: `", "` and `": "`, members shortest name
/// first.
fn jsonb_text(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(jsonb_text).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| (a.0.len(), a.0).cmp(&(b.0.len(), b.0)));
            let members: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), jsonb_text(v)))
                .collect();
            format!("{{{}}}", members.join(", "))
        }
        other => other.to_string(),
    }
}

fn canonical_text(v: &Value) -> String {
    String::from_utf8(canonical_json(v).expect("within the policy")).expect("utf-8")
}

/// Canonical text with one character inserted, deleted or replaced.
fn corrupted() -> impl Strategy<Value = String> {
    (
        value(),
        any::<prop::sample::Index>(),
        0_u8..3,
        select(vec![
            ' ', '\n', '0', '1', '-', '.', 'e', '\\', '"', ',', ':', '[', ']', '{', '}', '/', 'a',
            '\u{1f}',
        ]),
    )
        .prop_map(|(v, at, op, c)| {
            let mut chars: Vec<char> = canonical_text(&v).chars().collect();
            let i = at.index(chars.len() + 1);
            match op {
                0 => chars.insert(i, c),
                1 if i < chars.len() => {
                    chars.remove(i);
                }
                _ if i < chars.len() => chars[i] = c,
                _ => chars.push(c),
            }
            chars.into_iter().collect()
        })
}

/// Every family of texts above, and other printings of valid values.
fn broad() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => sloppy(),
        2 => corrupted(),
        1 => value().prop_map(|v| canonical_text(&v)),
        1 => value().prop_map(|v| serde_json::to_string(&v).expect("serializes")),
        1 => value().prop_map(|v| serde_json::to_string_pretty(&v).expect("serializes")),
        1 => value().prop_map(|v| jsonb_text(&v)),
    ]
}

/// What `is_canonical` promises: an accepted text is the canonical form of
/// its value.
fn implication_holds(t: &str) -> Result<(), TestCaseError> {
    if is_canonical(t) {
        let parsed: Value = serde_json::from_str(t)
            .map_err(|e| TestCaseError::fail(format!("accepted {t:?} does not parse: {e}")))?;
        let canonical = canonical_json(&parsed)
            .map_err(|e| TestCaseError::fail(format!("accepted {t:?} is refused: {e}")))?;
        prop_assert_eq!(String::from_utf8(canonical).expect("utf-8"), t);
    }
    Ok(())
}

/// True when no member name needs an escape (`"`, `\\`, a control).
fn plain_names(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().all(plain_names),
        Value::Object(map) => map.iter().all(|(name, item)| {
            !name.chars().any(|c| c == '"' || c == '\\' || c < ' ') && plain_names(item)
        }),
        _ => true,
    }
}

fn entry_text<'a>(e: &'a Entry, payload: &'a str, metadata: &'a str) -> EntryText<'a> {
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

fn entry(aggregate_id: String, sequence: u64, payload: Value, metadata: Value) -> Entry {
    Entry {
        aggregate_type: "ClientRecord".to_owned(),
        aggregate_id,
        sequence,
        event_type: "ExplorationRecorded".to_owned(),
        event_version: "1".to_owned(),
        payload,
        metadata,
        prev_hash: Hash::sha256(b"previous"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn canonical_text_is_recognized(v in value()) {
        let ours = canonical_text(&v);
        let theirs = serde_jcs::to_string(&v).expect("serde_jcs serializes");
        prop_assert_eq!(&ours, &theirs);
        if plain_names(&v) {
            prop_assert!(is_canonical(&ours), "{:?}", ours);
        } else {
            // An escaped member name is left to the parser.
            prop_assert!(!is_canonical(&ours), "{:?}", ours);
        }
    }

    #[test]
    fn accepted_text_is_its_own_canonical_form(t in broad()) {
        implication_holds(&t)?;
    }

    #[test]
    fn entry_text_hash_is_the_entry_hash(
        aggregate_id in text(),
        sequence in prop_oneof![1..=MAX_SAFE_INTEGER, Just(MAX_SAFE_INTEGER + 1)],
        payload in value(),
        metadata in proptest::collection::vec((text(), value()), 0..4),
    ) {
        let metadata = Value::Object(metadata.into_iter().collect());
        let e = entry(aggregate_id, sequence, payload, metadata);
        let expected = e.hash();
        let printings = |v: &Value| {
            vec![
                canonical_text(v),
                serde_json::to_string(v).expect("serializes"),
                serde_json::to_string_pretty(v).expect("serializes"),
                jsonb_text(v),
            ]
        };
        for payload in printings(&e.payload) {
            for metadata in printings(&e.metadata) {
                prop_assert_eq!(
                    entry_text(&e, &payload, &metadata).hash(),
                    expected.clone(),
                    "{:?} {:?}", payload, metadata
                );
            }
        }
    }

    #[test]
    fn entry_text_hash_is_the_parsed_entry_hash_for_any_text(
        payload in broad(),
        metadata in prop_oneof![broad(), sloppy().prop_map(|t| format!("{{\"a\":{t}}}"))],
    ) {
        let e = entry("client-1".to_owned(), 3, Value::Null, Value::Null);
        let t = entry_text(&e, &payload, &metadata);
        prop_assert_eq!(t.hash(), t.to_entry().and_then(|parsed| parsed.hash()));
    }
}

/// The generators are worth their names: in each family of near misses a
/// good share of texts are accepted (so the implication is tested, not
/// vacuous) and a good share refused.
#[test]
fn near_miss_texts_are_both_accepted_and_refused() {
    let families: [(&str, BoxedStrategy<String>); 2] = [
        ("sloppy", sloppy().boxed()),
        ("corrupted", corrupted().boxed()),
    ];
    for (family, strategy) in families {
        let mut runner = TestRunner::deterministic();
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..2000 {
            let t = strategy.new_tree(&mut runner).expect("generates").current();
            if is_canonical(&t) {
                accepted += 1;
                let parsed: Value = serde_json::from_str(&t).expect("accepted text parses");
                assert_eq!(canonical_text(&parsed), t);
            } else {
                refused += 1;
            }
        }
        assert!(accepted > 100, "{family}: only {accepted} of 2000 accepted");
        assert!(refused > 500, "{family}: only {refused} of 2000 refused");
    }
}

/// An event as the store writes it (serde_json's compact form of the
/// domain's value) is canonical: the fast path is the normal path.
#[test]
fn a_stored_event_is_canonical_text() {
    let payload = json!({"ExplorationRecorded": {
        "session_id": "x-3", "date": "2026-02-16", "therapist_id": "t-rivera",
        "administration": {"drug": "ketamine", "route": "sublingual_lozenge", "dose": 200,
            "lot": "KL-2291", "given_at": "2026-02-16T17:05:00Z"},
        "bp_before": {"systolic": 122, "diastolic": 78}, "bp_after": {"systolic": 131, "diastolic": 84},
        "observations": "Calm; brief nausea at 20 min, resolved.\nTalked through imagery.",
        "adverse_events": [], "discharge_at": "2026-02-16T19:10:00Z", "went_home": "driven_by_partner",
    }});
    let metadata = json!({"actor_id": "t-rivera", "actor_role": "therapist",
        "command_id": "cmd-77", "recorded_at": "2026-02-16T19:12:03.123456Z"});
    for v in [&payload, &metadata] {
        let stored = serde_json::to_string(v).expect("serializes");
        assert!(is_canonical(&stored), "{stored}");
        assert!(!is_canonical(&jsonb_text(v)));
    }
}
