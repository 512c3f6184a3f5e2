//! The settings forms: what each asks, how its fields become the
//! change's JSON, and which input a field the domain names was typed in.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{LocalResult, NaiveDate, NaiveTime, SecondsFormat, TimeZone, Utc};
use kapchart_api::ApiError;
use serde_json::{Map, Value, json};

use crate::forms::parse_cents;
use crate::page::PageError;

/// The fields a form posted, by name (the CSRF token taken out).
pub(super) type Fields = BTreeMap<String, String>;

/// The billable services: their key in the fee schedule and their name.
pub(super) const SERVICES: [(&str, &str); 5] = [
    ("intake", "Intake"),
    ("preparation", "Preparation"),
    ("exploration", "Exploration"),
    ("integration", "Integration"),
    ("ongoing_care", "Ongoing care"),
];

/// One of the four forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Which {
    Identity,
    Provider,
    Policy,
    Fees,
}

impl Which {
    pub(super) const ALL: [Which; 4] =
        [Which::Identity, Which::Provider, Which::Policy, Which::Fees];

    pub(super) fn key(self) -> &'static str {
        match self {
            Which::Identity => "identity",
            Which::Provider => "provider",
            Which::Policy => "policy",
            Which::Fees => "fees",
        }
    }

    pub(super) fn command(self) -> &'static str {
        match self {
            Which::Identity => "SetPracticeIdentity",
            Which::Provider => "SetProvider",
            Which::Policy => "AdoptPolicy",
            Which::Fees => "AdoptFeeSchedule",
        }
    }

    pub(super) fn title(self) -> &'static str {
        match self {
            Which::Identity => "Set the practice's identity",
            Which::Provider => "Set a provider",
            Which::Policy => "Adopt a policy version",
            Which::Fees => "Adopt a fee schedule version",
        }
    }

    pub(super) fn intro(self) -> &'static str {
        match self {
            Which::Identity => {
                "The header of every superbill, and the time zone the practice's days are counted in. It replaces the identity set before."
            }
            Which::Provider => {
                "A therapist or prescriber as a rendering provider on superbills, by their user id. Setting a user id again replaces that provider."
            }
            Which::Policy => {
                "A new version applies to what is done at or after the moment it takes effect (the practice's local time), never before it is adopted."
            }
            Which::Fees => {
                "A new version prices the sessions held on or after its date (the practice's date), which must be after today."
            }
        }
    }

    pub(super) fn submit(self) -> &'static str {
        match self {
            Which::Identity => "Set the identity",
            Which::Provider => "Set the provider",
            Which::Policy => "Adopt the policy",
            Which::Fees => "Adopt the fee schedule",
        }
    }

    /// The inputs: (name, label, hint, kind).
    pub(super) fn inputs(self) -> Vec<(String, String, &'static str, &'static str)> {
        let own = |list: &[(&str, &str, &'static str, &'static str)]| {
            list.iter()
                .map(|(n, l, h, k)| ((*n).to_owned(), (*l).to_owned(), *h, *k))
                .collect()
        };
        match self {
            Which::Identity => own(&[
                ("name", "Practice name", "as on superbills", "text"),
                ("line1", "Address, first line", "street and number", "text"),
                ("line2", "Address, second line", "optional: suite", "text"),
                ("city", "City", "", "text"),
                ("state", "State", "USPS two-letter code, e.g. CA", "text"),
                ("zip", "ZIP code", "NNNNN or NNNNN-NNNN", "text"),
                ("phone", "Phone", "10 digits, e.g. (415) 555-0123", "tel"),
                ("npi", "Organizational NPI", "10 digits (type 2)", "text"),
                ("tax_id", "Tax id (EIN)", "NN-NNNNNNN", "text"),
                (
                    "place_of_service",
                    "Place of service",
                    "two digits, e.g. 11 (office)",
                    "text",
                ),
                (
                    "time_zone",
                    "Time zone",
                    "IANA name, e.g. America/Los_Angeles",
                    "text",
                ),
            ]),
            Which::Provider => own(&[
                (
                    "user",
                    "User id",
                    "the staff account they sign in with",
                    "text",
                ),
                ("role", "Role", "", "role"),
                ("name", "Name", "as on their licence", "text"),
                ("credentials", "Credentials", "e.g. LMFT, MD", "text"),
                ("npi", "Individual NPI", "10 digits (type 1)", "text"),
                ("licence_number", "Licence number", "", "text"),
                (
                    "licence_state",
                    "Licence state",
                    "USPS two-letter code",
                    "text",
                ),
                ("active", "Practises here now", "", "checkbox"),
            ]),
            Which::Policy => own(&[
                (
                    "effective_date",
                    "Takes effect on",
                    "YYYY-MM-DD, the practice's date",
                    "date",
                ),
                (
                    "effective_time",
                    "Takes effect at",
                    "HH:MM, the practice's local time",
                    "time",
                ),
                (
                    "bp_systolic",
                    "Blood pressure threshold, systolic",
                    "mmHg; above it needs the prescriber's authorization",
                    "number",
                ),
                (
                    "bp_diastolic",
                    "Blood pressure threshold, diastolic",
                    "mmHg",
                    "number",
                ),
                (
                    "min_days_between_explorations",
                    "Days between explorations, at least",
                    "0 to 365",
                    "number",
                ),
                (
                    "integration_window_days",
                    "Integration within, days",
                    "1 to 365",
                    "number",
                ),
                (
                    "max_explorations",
                    "Dosed explorations, at most",
                    "1 to 100",
                    "number",
                ),
                (
                    "idle_sign_out_minutes",
                    "Idle sign-out, minutes",
                    "1 to 60",
                    "number",
                ),
            ]),
            Which::Fees => {
                let mut inputs = own(&[(
                    "effective_from",
                    "Takes effect on",
                    "YYYY-MM-DD, the practice's date; after today",
                    "date",
                )]);
                for (key, name) in SERVICES {
                    inputs.push((
                        format!("fee_{key}"),
                        format!("{name} fee"),
                        "dollars and cents, e.g. 175.00",
                        "text",
                    ));
                    inputs.push((
                        format!("codes_{key}"),
                        format!("{name} CPT codes"),
                        "comma-separated, e.g. 90791, 90837; empty for none",
                        "text",
                    ));
                }
                inputs
            }
        }
    }

    /// The input a field of the change's JSON was typed in.
    pub(super) fn input_of(self, path: &str) -> String {
        let prefix = format!("body.{}.", self.command());
        let path = path.strip_prefix(&prefix).unwrap_or(path);
        let parts: Vec<&str> = path.split(['.', '[']).collect();
        match (self, parts.as_slice()) {
            (Which::Identity, ["address", field, ..]) => (*field).to_owned(),
            (Which::Provider, ["licence", field, ..]) => format!("licence_{field}"),
            (Which::Policy, ["effective_from", ..]) => "effective_date".to_owned(),
            (Which::Policy, ["bp_threshold", "diastolic", ..]) => "bp_diastolic".to_owned(),
            (Which::Policy, ["bp_threshold", ..]) => "bp_systolic".to_owned(),
            (Which::Fees, [service, "fee", ..]) => format!("fee_{service}"),
            (Which::Fees, [service, "codes", ..]) => format!("codes_{service}"),
            (_, [field, ..]) => (*field).to_owned(),
            (_, []) => String::new(),
        }
    }
}

/// Why a form was not taken.
#[derive(Debug)]
pub(super) struct FormError {
    pub(super) form: Which,
    /// The input in error, when one is.
    pub(super) input: Option<String>,
    pub(super) message: String,
    pub(super) status: StatusCode,
}

impl FormError {
    fn bad(form: Which, input: &str, message: impl Into<String>) -> Self {
        Self {
            form,
            input: Some(input.to_owned()),
            message: message.into(),
            status: StatusCode::BAD_REQUEST,
        }
    }
}

/// The text of a field, trimmed.
pub(super) fn text<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map_or("", |v| v.trim())
}

/// A whole number typed in `name`.
fn whole(which: Which, f: &Fields, name: &str) -> Result<Value, FormError> {
    text(f, name)
        .parse::<i64>()
        .map(Value::from)
        .map_err(|_| FormError::bad(which, name, "Enter a whole number."))
}

/// The change's body from the form's fields, before the domain parses it.
pub(super) fn body_of(which: Which, f: &Fields, tz: chrono_tz::Tz) -> Result<Value, FormError> {
    let t = |name: &str| Value::String(text(f, name).to_owned());
    Ok(match which {
        Which::Identity => {
            let mut address = Map::new();
            address.insert("line1".into(), t("line1"));
            if !text(f, "line2").is_empty() {
                address.insert("line2".into(), t("line2"));
            }
            address.insert("city".into(), t("city"));
            address.insert("state".into(), t("state"));
            address.insert("zip".into(), t("zip"));
            json!({
                "name": t("name"), "address": address, "phone": t("phone"),
                "npi": t("npi"), "tax_id": t("tax_id"),
                "place_of_service": t("place_of_service"), "time_zone": t("time_zone"),
            })
        }
        Which::Provider => json!({
            "user": t("user"), "role": t("role"), "name": t("name"),
            "credentials": t("credentials"), "npi": t("npi"),
            "licence": { "number": t("licence_number"), "state": t("licence_state") },
            "active": text(f, "active") == "yes",
        }),
        Which::Policy => {
            let day =
                NaiveDate::parse_from_str(text(f, "effective_date"), "%Y-%m-%d").map_err(|_| {
                    FormError::bad(which, "effective_date", "Enter a date as YYYY-MM-DD.")
                })?;
            let time =
                NaiveTime::parse_from_str(text(f, "effective_time"), "%H:%M").map_err(|_| {
                    FormError::bad(
                        which,
                        "effective_time",
                        "Enter a time as HH:MM (24-hour clock).",
                    )
                })?;
            let at = match tz.from_local_datetime(&day.and_time(time)) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
                LocalResult::None => {
                    return Err(FormError::bad(
                        which,
                        "effective_time",
                        "That time does not exist on that day in the practice's time zone (the clocks change).",
                    ));
                }
            };
            let mut body = json!({
                "effective_from": at.to_rfc3339_opts(SecondsFormat::Secs, true),
                "bp_threshold": {
                    "systolic": whole(which, f, "bp_systolic")?,
                    "diastolic": whole(which, f, "bp_diastolic")?,
                },
                "min_days_between_explorations": whole(which, f, "min_days_between_explorations")?,
                "integration_window_days": whole(which, f, "integration_window_days")?,
                "max_explorations": whole(which, f, "max_explorations")?,
            });
            if !text(f, "idle_sign_out_minutes").is_empty() {
                body["idle_sign_out_minutes"] = whole(which, f, "idle_sign_out_minutes")?;
            }
            body
        }
        Which::Fees => {
            let mut body = Map::new();
            body.insert("effective_from".into(), t("effective_from"));
            for (key, _) in SERVICES {
                let fee_input = format!("fee_{key}");
                let cents = parse_cents(text(f, &fee_input))
                    .map_err(|m| FormError::bad(which, &fee_input, m))?;
                let codes: Vec<&str> = text(f, &format!("codes_{key}"))
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect();
                body.insert(key.into(), json!({ "fee": cents, "codes": codes }));
            }
            Value::Object(body)
        }
    })
}

/// A refusal the form shows (`Ok`), or a failure of the page (`Err`).
pub(super) fn refusal(which: Which, e: ApiError) -> Result<FormError, PageError> {
    let (status, _) = e.status_and_code();
    match e {
        ApiError::BadRequest { field, message } => {
            let input = which.input_of(&field);
            Ok(FormError {
                form: which,
                message,
                input: Some(input).filter(|i| !i.is_empty()),
                status,
            })
        }
        ApiError::Refused { rule, message } => Ok(FormError {
            form: which,
            input: None,
            message: format!("refused ({rule}): {message}"),
            status,
        }),
        e @ (ApiError::CommandIdReused(_) | ApiError::Concurrent | ApiError::Forbidden(_)) => {
            Ok(FormError {
                form: which,
                input: None,
                message: e.to_string(),
                status,
            })
        }
        e => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_are_exact_cents() {
        assert_eq!(parse_cents("175"), Ok(17_500));
        assert_eq!(parse_cents("$1,175.5"), Ok(117_550));
        assert_eq!(parse_cents("0.07"), Ok(7));
        for bad in ["", "1.234", "1,23", "-5", "12a", "1e3"] {
            assert!(parse_cents(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_domain_field_names_its_input() {
        assert_eq!(
            Which::Identity.input_of("body.SetPracticeIdentity.address.zip"),
            "zip"
        );
        assert_eq!(
            Which::Fees.input_of("body.AdoptFeeSchedule.intake.codes[1]"),
            "codes_intake"
        );
        assert_eq!(
            Which::Policy.input_of("body.AdoptPolicy.bp_threshold.diastolic"),
            "bp_diastolic"
        );
        assert_eq!(
            Which::Provider.input_of("body.SetProvider.licence.state"),
            "licence_state"
        );
    }
}
