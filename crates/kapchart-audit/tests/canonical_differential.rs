//! The direct canonical writer against `serde_jcs` (a maintained RFC 8785
//! implementation), byte for byte, on generated values within the integer
//! policy; and an entry's field-by-field bytes against the canonical bytes
//! of its JSON object.

use kapchart_audit::{Entry, Hash, MAX_SAFE_INTEGER, canonical_json};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

#[allow(clippy::cast_possible_wrap)]
const MAX: i64 = MAX_SAFE_INTEGER as i64;

/// Strings of any characters: controls, ASCII, the BMP (private use,
/// U+2028, U+FFFF…) and supplementary planes, so names sort differently in
/// UTF-8 and UTF-16.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(any::<char>(), 0..10).prop_map(String::from_iter),
        proptest::collection::vec(
            prop_oneof![
                Just('\u{0}'),
                Just('\u{1f}'),
                Just('\u{7f}'),
                Just('"'),
                Just('\\'),
                Just('/'),
                Just('\u{e000}'),
                Just('\u{fb33}'),
                Just('\u{1f600}'),
                Just('\u{10ffff}'),
                Just('a'),
                Just('é'),
            ],
            0..6
        )
        .prop_map(String::from_iter),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-MAX..=MAX).prop_map(Value::from),
        prop_oneof![Just(MAX), Just(-MAX), Just(0), Just(-1)].prop_map(Value::from),
        // Doubles whose value is an integer: accepted, written as integers.
        (-1_000_000_i32..1_000_000).prop_map(|n| json!(f64::from(n))),
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn writer_matches_serde_jcs(v in value()) {
        let ours = canonical_json(&v).expect("within the policy");
        let theirs = serde_jcs::to_vec(&v).expect("serde_jcs serializes");
        prop_assert_eq!(String::from_utf8(ours).expect("utf-8"), String::from_utf8(theirs).expect("utf-8"));
    }

    #[test]
    fn entry_bytes_are_the_canonical_bytes_of_its_object(
        aggregate_id in text(),
        event_type in text(),
        sequence in 1..=MAX_SAFE_INTEGER,
        payload in value(),
        metadata in proptest::collection::vec((text(), value()), 0..5),
    ) {
        let entry = Entry {
            aggregate_type: "ClientRecord".to_owned(),
            aggregate_id,
            sequence,
            event_type,
            event_version: "1".to_owned(),
            payload,
            metadata: Value::Object(metadata.into_iter().collect()),
            prev_hash: Hash::sha256(b"previous"),
        };
        let bytes = entry.canonical_bytes().expect("within the policy");
        prop_assert_eq!(&bytes, &serde_jcs::to_vec(&entry.to_json()).expect("serializes"));
        prop_assert_eq!(bytes, canonical_json(&entry.to_json()).expect("canonical"));
    }
}

#[test]
fn entry_refusals_name_the_number() {
    let mut entry = Entry {
        aggregate_type: "ClientRecord".to_owned(),
        aggregate_id: "client-1".to_owned(),
        sequence: MAX_SAFE_INTEGER + 1,
        event_type: "PaymentRecorded".to_owned(),
        event_version: "1".to_owned(),
        payload: json!({"amount": 5000}),
        metadata: json!({"actor_id": "fd-1"}),
        prev_hash: Hash::ZERO,
    };
    assert_eq!(
        entry
            .canonical_bytes()
            .expect_err("sequence refused")
            .to_string(),
        "the integer at JSON pointer \"/sequence\" is beyond ±(2^53 - 1) and cannot be canonicalized exactly"
    );
    entry.sequence = 1;
    entry.payload = json!({"doses": [100, 1.5]});
    assert_eq!(
        entry
            .canonical_bytes()
            .expect_err("float refused")
            .to_string(),
        "the number at JSON pointer \"/payload/doses/1\" is not an integer; canonical JSON here holds integers only"
    );
}
