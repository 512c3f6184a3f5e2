//! What a read discloses. The categories of data an access log entry names
//! (ASTM E2147-18 7.1.9) are derived from the reply itself, so what is
//! logged is what was sent; and the chart a therapist or prescriber reads
//! holds no billing data (the minimum necessary).
//!
//! Billing data is every `PaymentRecorded` entry, every amendment of one,
//! and every field named in [`BILLING_KEYS`] wherever it appears (the
//! `charge` a held session raised, a payment's `amount`, `method` and
//! `payer`).

use std::collections::BTreeSet;

use kapchart_store::access::DataCategory;
use kapchart_views::{ReportKind, Row, Table, kinds};
use serde_json::Value;

/// Fields that hold billing data, at any depth of a row.
pub const BILLING_KEYS: &[&str] = &[
    "charge",
    "charges",
    "amount",
    "amount_cents",
    "paid_cents",
    "balance_cents",
    "payer",
    "payments",
    "fee_schedule_version",
];

/// The event type of a payment.
const PAYMENT: &str = "PaymentRecorded";
/// The event type of an amendment.
const AMENDMENT: &str = "EntryAmended";

/// The categories of an entry of `event_type` (its content aside).
/// Unknown types count as clinical notes: a new kind of entry is logged
/// as clinical until it is named here.
fn event_categories(event_type: &str) -> &'static [DataCategory] {
    use DataCategory::{Billing, Demographics, Dosing, Notes};
    match event_type {
        "ClientRegistered" | "SessionScheduled" | "NoShowRecorded" => &[Demographics],
        "PrescriptionIssued" | "DoseAdjusted" => &[Dosing],
        "ExplorationRecorded" | "ExternalTreatmentRecorded" => &[Dosing, Notes],
        PAYMENT => &[Billing],
        _ => &[Notes],
    }
}

/// True when `value` holds a field of [`BILLING_KEYS`] at any depth.
fn holds_billing(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| BILLING_KEYS.contains(&k.as_str()) || holds_billing(v)),
        Value::Array(items) => items.iter().any(holds_billing),
        _ => false,
    }
}

/// Removes every field of [`BILLING_KEYS`] from `value`, at any depth.
fn strip_billing(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !BILLING_KEYS.contains(&k.as_str()));
            map.values_mut().for_each(strip_billing);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_billing),
        _ => {}
    }
}

/// The categories one entry of the record discloses: by its type, an
/// amendment also by the type of the entry it amends, and billing when
/// its content holds a billing field.
fn entry_categories(event_type: &str, content: &Value, out: &mut BTreeSet<DataCategory>) {
    out.extend(event_categories(event_type));
    if event_type == AMENDMENT
        && let Some(amended) = content.get("entry_type").and_then(Value::as_str)
    {
        out.extend(event_categories(amended));
    }
    if holds_billing(content) {
        out.insert(DataCategory::Billing);
    }
}

/// True for an entry row that is billing data as a whole: a payment or an
/// amendment of one.
fn is_billing_entry(row: &Row) -> bool {
    if row.kind != kinds::ENTRY {
        return false;
    }
    let event_type = row.data.get("event_type").and_then(Value::as_str);
    let amended = row
        .data
        .get("content")
        .and_then(|c| c.get("entry_type"))
        .and_then(Value::as_str);
    event_type == Some(PAYMENT) || (event_type == Some(AMENDMENT) && amended == Some(PAYMENT))
}

/// The chart without billing data: payments and their amendments left
/// out (their sequence numbers are skipped), every billing field removed,
/// and the `chart` row's counts of `entries` and `amendments` those of the
/// entries left.
pub fn chart_without_billing(rows: Vec<Row>) -> Vec<Row> {
    let mut kept: Vec<Row> = rows
        .into_iter()
        .filter(|r| !is_billing_entry(r))
        .map(|mut r| {
            strip_billing(&mut r.data);
            r
        })
        .collect();
    let entries = kept.iter().filter(|r| r.kind == kinds::ENTRY);
    let amendments = entries
        .clone()
        .filter(|r| r.data.get("event_type").and_then(Value::as_str) == Some(AMENDMENT))
        .count();
    let entries = entries.count();
    for row in kept.iter_mut().filter(|r| r.kind == kinds::CHART) {
        if let Value::Object(data) = &mut row.data {
            for (key, count) in [("entries", entries), ("amendments", amendments)] {
                if data.contains_key(key) {
                    data.insert(key.to_owned(), Value::from(count));
                }
            }
        }
    }
    kept
}

/// The categories a chart's rows disclose: demographics (the reply names
/// the client), and those of every entry row. The `chart` row is a fold
/// of the entries shown beside it, so it adds none, but a billing field
/// in it still counts.
pub fn chart_categories(rows: &[Row]) -> Vec<DataCategory> {
    let mut out = BTreeSet::from([DataCategory::Demographics]);
    for row in rows {
        if row.kind == kinds::ENTRY {
            let event_type = row
                .data
                .get("event_type")
                .and_then(Value::as_str)
                .unwrap_or("");
            let content = row.data.get("content").unwrap_or(&Value::Null);
            entry_categories(event_type, content, &mut out);
        }
        if holds_billing(&row.data) {
            out.insert(DataCategory::Billing);
        }
    }
    out.into_iter().collect()
}

/// The categories a complete history discloses: demographics, and those
/// of every entry (by its `event_type` and `payload`).
pub fn history_categories(entries: &[Value]) -> Vec<DataCategory> {
    let mut out = BTreeSet::from([DataCategory::Demographics]);
    for entry in entries {
        let event_type = entry
            .get("event_type")
            .and_then(Value::as_str)
            .unwrap_or("");
        let payload = entry.get("payload").unwrap_or(&Value::Null);
        // The payload is the event tagged by its type.
        let content = payload.get(event_type).unwrap_or(payload);
        entry_categories(event_type, content, &mut out);
    }
    out.into_iter().collect()
}

/// What each report shows of the clients in it (columns in
/// docs/reports.md): the API's reports and the command line's log the same.
pub fn report_categories(kind: ReportKind) -> &'static [DataCategory] {
    use DataCategory::{Billing, Demographics, Dosing, Notes};
    match kind {
        ReportKind::Schedule => &[Demographics],
        ReportKind::Billing | ReportKind::Superbill => &[Demographics, Billing],
        ReportKind::ControlledSubstances => &[Demographics, Dosing],
        ReportKind::Protocol | ReportKind::Outcomes => &[Demographics, Notes],
    }
}

/// The distinct clients of a report's rows (its `client_id` column), in
/// order of id: one access log entry each.
pub fn clients_of(table: &Table) -> BTreeSet<String> {
    table
        .column("client_id")
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(event_type: &str, content: Value) -> Row {
        Row {
            kind: kinds::ENTRY.to_owned(),
            key: "1".to_owned(),
            day: None,
            data: json!({"event_type": event_type, "content": content, "amendments": []}),
        }
    }

    #[test]
    fn billing_is_left_out_and_the_categories_follow_what_is_left() {
        use DataCategory::{Billing, Demographics, Dosing, Notes};
        let rows = vec![
            entry("ClientRegistered", json!({"name": "A"})),
            entry(
                "ExplorationRecorded",
                json!({"observations": "calm", "charge": {"amount": 40000}}),
            ),
            entry(PAYMENT, json!({"amount": 10000, "payer": "client"})),
            entry(
                AMENDMENT,
                json!({"entry": 3, "entry_type": PAYMENT, "corrected_content": "x"}),
            ),
        ];
        assert_eq!(
            chart_categories(&rows),
            [Demographics, Notes, Dosing, Billing]
        );
        let kept = chart_without_billing(rows);
        assert_eq!(kept.len(), 2);
        assert!(!kept.iter().any(|r| holds_billing(&r.data)));
        assert_eq!(chart_categories(&kept), [Demographics, Notes, Dosing]);
    }

    #[test]
    fn the_charts_counts_are_those_of_the_entries_left() {
        let chart = Row {
            kind: kinds::CHART.to_owned(),
            key: "current".to_owned(),
            day: None,
            data: json!({"entries": 3, "amendments": 1, "phase": "preparation"}),
        };
        let rows = vec![
            entry("ClientRegistered", json!({})),
            entry(PAYMENT, json!({"amount": 1})),
            entry(AMENDMENT, json!({"entry": 2, "entry_type": PAYMENT})),
            chart,
        ];
        let kept = chart_without_billing(rows);
        assert_eq!(kept.len(), 2);
        assert_eq!(
            kept[1].data,
            json!({"entries": 1, "amendments": 0, "phase": "preparation"})
        );
    }

    #[test]
    fn an_unknown_entry_type_counts_as_notes() {
        assert_eq!(
            chart_categories(&[entry("SomethingNew", json!({}))]),
            [DataCategory::Demographics, DataCategory::Notes]
        );
    }
}
