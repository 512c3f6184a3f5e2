//! The superbill as the practice bills it: the report's lines (from the
//! views, which know sessions, minutes and charges but not the practice)
//! joined with the practice's settings as its record holds them: its
//! header (name, address, phone, NPI, tax id), the place of service it
//! bills with, each rendering provider's name, credentials and NPI, and
//! the CPT codes of the fee schedule in force on each session's date.
//!
//! Pure: the caller reads the settings and passes them in.

use chrono::NaiveDate;
use kapchart_domain::{BillableService, PracticeSettings, UserId};
use serde::Serialize;
use serde_json::Value;

use crate::report::Table;

/// The superbill's columns the practice fills (the views leave them
/// empty).
pub const PRACTICE_COLUMNS: &[&str] = &[
    "rendering_provider_name",
    "rendering_provider_credentials",
    "rendering_provider_npi",
];

/// The practice as the head of its superbills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PracticeHeader {
    /// The practice's name.
    pub name: String,
    /// Its address, one line per element.
    pub address: Vec<String>,
    /// Its phone.
    pub phone: String,
    /// Its organizational NPI.
    pub npi: String,
    /// Its tax id (EIN).
    pub tax_id: String,
    /// The place of service code its sessions are billed with.
    pub place_of_service: String,
}

/// The header of the practice's superbills, once its identity is set.
pub fn practice_header(settings: &PracticeSettings) -> Option<PracticeHeader> {
    let identity = settings.identity()?;
    let a = &identity.address;
    let mut address = vec![a.line1.to_string()];
    if let Some(line2) = &a.line2 {
        address.push(line2.to_string());
    }
    address.push(format!("{}, {} {}", a.city, a.state, a.zip));
    Some(PracticeHeader {
        name: identity.name.to_string(),
        address,
        phone: identity.phone.to_string(),
        npi: identity.npi.to_string(),
        tax_id: identity.tax_id.to_string(),
        place_of_service: identity.place_of_service.to_string(),
    })
}

/// Bills the superbill `table` as the practice does:
/// - the place of service of every service line is the practice's (once
///   its identity is set; the report's office code `11` until then);
/// - a service line keeps its CPT code only when the fee schedule in force
///   on its date lists that code for its service (the code is derived from
///   the session's minutes, docs/reports.md); otherwise it has no code, no
///   units, and is not billable to insurance;
/// - a service line gets the rendering provider's name, credentials and
///   NPI in [`PRACTICE_COLUMNS`] (empty when the provider is not among
///   the practice's providers).
///
/// A table that is not a superbill (no `line` column) is left as it is.
pub fn bill_as_practice(table: &mut Table, settings: &PracticeSettings) {
    let column = |name: &str| table.columns.iter().position(|c| *c == name);
    let (
        Some(line),
        Some(date),
        Some(place),
        Some(cpt),
        Some(units),
        Some(service),
        Some(provider),
        Some(billable),
        Some(provider_name),
    ) = (
        column("line"),
        column("date"),
        column("place_of_service"),
        column("cpt_code"),
        column("units"),
        column("service"),
        column("rendering_provider"),
        column("insurance_billable"),
        column(PRACTICE_COLUMNS[0]),
    )
    else {
        return;
    };
    let place_of_service = settings.identity().map(|i| i.place_of_service.to_string());
    for row in &mut table.rows {
        let mut added = [Value::Null, Value::Null, Value::Null];
        if row.get(line).and_then(Value::as_str) == Some("service") {
            if let Some(place_of_service) = &place_of_service {
                row[place] = Value::String(place_of_service.clone());
            }
            let day = row[date]
                .as_str()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let kind: Option<BillableService> = serde_json::from_value(row[service].clone()).ok();
            let listed = match (day.and_then(|d| settings.fees_on(d)), kind) {
                (Some(fees), Some(kind)) => row[cpt]
                    .as_str()
                    .is_some_and(|code| fees.codes.of_service(kind).contains(code)),
                _ => false,
            };
            if !listed {
                row[cpt] = Value::Null;
                row[units] = Value::from(0);
                row[billable] = Value::Bool(false);
            }
            let rendering = row[provider]
                .as_str()
                .and_then(|id| UserId::parse(id).ok())
                .and_then(|id| settings.provider(&id).cloned());
            if let Some(p) = rendering {
                added = [
                    Value::String(p.name.as_str().to_owned()),
                    Value::String(p.credentials.to_string()),
                    Value::String(p.npi.to_string()),
                ];
            }
        }
        for (i, value) in added.into_iter().enumerate() {
            if let Some(cell) = row.get_mut(provider_name + i) {
                *cell = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use kapchart_domain::{
        FeeSchedule, Policy, PracticeIdentity, PracticeSettings, Provider, ServiceCodes,
    };
    use serde_json::json;

    use super::*;

    fn settings() -> PracticeSettings {
        let mut v2 = FeeSchedule::standard();
        v2.version = 2;
        v2.effective_from = NaiveDate::from_ymd_opt(2026, 2, 1).expect("a date");
        v2.codes = ServiceCodes {
            integration: serde_json::from_value(json!(["90837"])).expect("codes"),
            ..ServiceCodes::standard()
        };
        let identity: PracticeIdentity = serde_json::from_value(json!({
            "name": "Harbor KAP Clinic",
            "address": {"line1": "100 Harbor Way", "city": "San Francisco", "state": "CA", "zip": "94110"},
            "phone": "(415) 555-0123", "npi": "1234567893", "tax_id": "12-3456789",
            "place_of_service": "02", "time_zone": "America/Los_Angeles",
        }))
        .expect("identity");
        let provider: Provider = serde_json::from_value(json!({
            "user": "t-rivera", "role": "therapist", "name": "Sam Rivera",
            "credentials": "LMFT", "npi": "1245319599",
            "licence": {"number": "LMFT-12345", "state": "CA"}, "active": true,
        }))
        .expect("provider");
        PracticeSettings::new(vec![Policy::standard()], vec![FeeSchedule::standard(), v2])
            .expect("settings")
            .with_identity(identity)
            .with_providers([provider])
    }

    fn table() -> Table {
        let row = |line: &str, date: &str, cpt: Value, service: Value, provider: Value| {
            vec![
                json!(line),
                json!(date),
                json!("11"),
                cpt,
                json!(1),
                service,
                provider,
                json!(true),
                Value::Null,
                Value::Null,
                Value::Null,
            ]
        };
        Table {
            columns: vec![
                "line",
                "date",
                "place_of_service",
                "cpt_code",
                "units",
                "service",
                "rendering_provider",
                "insurance_billable",
                "rendering_provider_name",
                "rendering_provider_credentials",
                "rendering_provider_npi",
            ],
            rows: vec![
                row(
                    "service",
                    "2026-01-10",
                    json!("90834"),
                    json!("integration"),
                    json!("t-rivera"),
                ),
                row(
                    "service",
                    "2026-02-10",
                    json!("90834"),
                    json!("integration"),
                    json!("t-rivera"),
                ),
                row(
                    "service",
                    "2026-02-10",
                    json!("90791"),
                    json!("intake"),
                    json!("t-okafor"),
                ),
                row(
                    "payment",
                    "2026-02-11",
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ),
            ],
        }
    }

    #[test]
    fn the_practice_header_is_its_identity() {
        let header = practice_header(&settings()).expect("a header");
        assert_eq!(header.name, "Harbor KAP Clinic");
        assert_eq!(
            header.address,
            ["100 Harbor Way", "San Francisco, CA 94110"]
        );
        assert_eq!(header.npi, "1234567893");
        assert_eq!(header.tax_id, "12-3456789");
        assert_eq!(practice_header(&PracticeSettings::standard()), None);
    }

    #[test]
    fn lines_carry_the_codes_of_the_fee_schedule_on_their_date_and_the_provider() {
        let mut t = table();
        bill_as_practice(&mut t, &settings());
        assert_eq!(&t.columns[8..], PRACTICE_COLUMNS);
        // January: the standard schedule lists 90834 for integrations.
        assert_eq!(t.rows[0][2], "02");
        assert_eq!(t.rows[0][3], "90834");
        assert_eq!(t.rows[0][7], true);
        assert_eq!(
            &t.rows[0][8..],
            [json!("Sam Rivera"), json!("LMFT"), json!("1245319599")]
        );
        // February: version 2 bills integrations only as 90837.
        assert_eq!(t.rows[1][3], Value::Null);
        assert_eq!(t.rows[1][4], 0);
        assert_eq!(t.rows[1][7], false);
        // A provider the practice has not listed: no name or NPI.
        assert_eq!(t.rows[2][3], "90791");
        assert_eq!(&t.rows[2][8..], [Value::Null, Value::Null, Value::Null]);
        // A payment line is left as it is.
        assert_eq!(t.rows[3], table().rows[3]);
    }

    #[test]
    fn before_the_practice_sets_its_identity_the_office_code_stays() {
        let mut t = table();
        bill_as_practice(&mut t, &PracticeSettings::standard());
        assert_eq!(t.rows[0][2], "11");
        assert_eq!(t.rows[0][3], "90834");
        assert_eq!(&t.rows[0][8..], [Value::Null, Value::Null, Value::Null]);
    }
}
