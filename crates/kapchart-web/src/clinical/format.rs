//! How the clinical pages write things: dates and times in the practice's
//! time zone, the record's codes (phases, steps, kinds, statuses) in
//! words, and an entry's stored content as labelled lines.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;

/// A day: `7 Sep 2026`.
pub fn date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// A day as a heading: `Monday 7 September 2026`.
pub fn day_heading(d: NaiveDate) -> String {
    d.format("%A %-d %B %Y").to_string()
}

/// The calendar day of an instant in the practice's time zone.
pub fn local_day(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// A time of day in the practice's time zone: `09:21`.
pub fn time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%H:%M").to_string()
}

/// An instant in the practice's time zone: `7 Sep 2026, 09:21`.
pub fn date_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%-d %b %Y, %H:%M").to_string()
}

/// A span of time: `09:00–11:35`, or with both days when it crosses
/// midnight in the practice's time zone.
pub fn span(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> String {
    if local_day(start, tz) == local_day(end, tz) {
        format!("{}–{}", time(start, tz), time(end, tz))
    } else {
        format!("{} – {}", date_time(start, tz), date_time(end, tz))
    }
}

/// The value of a `datetime-local` input for an instant:
/// `2026-09-07T09:21`.
pub fn input_value(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// Why a `datetime-local` value was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalTimeError {
    /// Not a date and time.
    Unreadable,
    /// A local time the clocks skipped (the start of daylight saving).
    Skipped,
}

/// A `datetime-local` value (`2026-09-07T09:21`, seconds optional) read
/// in the practice's time zone, as UTC. A time that occurs twice (the end
/// of daylight saving) is the earlier one.
///
/// # Errors
/// [`LocalTimeError`].
pub fn parse_local(text: &str, tz: Tz) -> Result<DateTime<Utc>, LocalTimeError> {
    let text = text.trim();
    let naive = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .ok_or(LocalTimeError::Unreadable)?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or(LocalTimeError::Skipped)
}

/// A code of the record (`ongoing_care`) as its serde name.
pub fn code<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A code of the record in words: phases, steps, kinds, statuses,
/// findings, routes, departures, reasons.
pub fn words(code: &str) -> String {
    let known = match code {
        "assessment" => "Assessment",
        "not_suitable" => "Not suitable",
        "preparation" => "Preparation",
        "protocol" => "Protocol (explorations)",
        "ongoing_care" => "Ongoing care",
        "discharged" => "Discharged",
        "unregistered" => "Not registered",
        "intake" => "Intake",
        "medical_evaluation" => "Medical evaluation",
        "reassessment" => "Reassessment",
        "prescription" => "Prescription",
        "consent" => "Consent",
        "integration" => "Integration",
        "exploration" => "Exploration",
        "none" => "Nothing (discharged)",
        "scheduled" => "Scheduled",
        "held" => "Held",
        "cancelled" => "Cancelled",
        "no_show" => "No-show",
        "suitable" => "Suitable",
        "cleared" => "Cleared",
        "not_cleared" => "Not cleared",
        "sublingual" => "Sublingual",
        "intravenous" => "Intravenous (affiliate)",
        "intramuscular" => "Intramuscular (affiliate)",
        "companion" => "With a companion",
        "taxi_or_rideshare" => "Taxi or rideshare",
        "public_transport" => "Public transport",
        "walked" => "Walked",
        "ketamine" => "Ketamine",
        "mild" => "Mild",
        "moderate" => "Moderate",
        "severe" => "Severe",
        "care_complete" => "Care complete",
        "client_choice" => "Client's choice",
        "referred_out" => "Referred out",
        "client_request" => "Client's request",
        "practice" => "Practice",
        "clinical" => "Clinical",
        "bp_before" => "BP before",
        "bp_after" => "BP after",
        "dose" => "Dose (mg)",
        "not_dosed_reason" => "Why no dose was given",
        "phq9" => "PHQ-9",
        "gad7" => "GAD-7",
        "pcl5" => "PCL-5",
        "bdi_ii" => "BDI-II",
        _ => "",
    };
    if known.is_empty() {
        let mut text = code.replace('_', " ");
        if let Some(first) = text.get(0..1) {
            let upper = first.to_uppercase();
            text.replace_range(0..1, &upper);
        }
        text
    } else {
        known.to_owned()
    }
}

/// An entry's event type in words: `ExplorationRecorded` → `Exploration
/// recorded`.
pub fn event_words(event_type: &str) -> String {
    let mut out = String::with_capacity(event_type.len() + 4);
    for (i, c) in event_type.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// An amount of integer cents in dollars: `$175.00`.
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}${}.{:02}", c / 100, c % 100)
}

/// One line of an entry's content: a label and its value as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field's name in words.
    pub label: String,
    /// Its value as text.
    pub value: String,
}

/// An entry's stored content as labelled lines, in the order stored
/// (members by name): instants in the practice's time zone, blood
/// pressure as `153/87`, spans as start–end, amounts in dollars, codes in
/// words.
pub fn content_fields(content: &Value, tz: Tz) -> Vec<Field> {
    let Value::Object(map) = content else {
        return vec![Field {
            label: "Content".to_owned(),
            value: value_text("", content, tz),
        }];
    };
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| Field {
            label: words(k),
            value: value_text(k, v, tz),
        })
        .collect()
}

/// A value of `key` as text.
pub fn value_text(key: &str, value: &Value, tz: Tz) -> String {
    match value {
        Value::Null => "—".to_owned(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        Value::Number(n) if key == "amount" || key.ends_with("_cents") => {
            n.as_i64().map_or_else(|| n.to_string(), dollars)
        }
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(key, s, tz),
        Value::Array(items) if items.is_empty() => "none".to_owned(),
        Value::Array(items) => items
            .iter()
            .map(|v| value_text(key, v, tz))
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(map) => {
            if let (Some(s), Some(d)) = (map.get("systolic"), map.get("diastolic")) {
                return format!("{s}/{d} mmHg");
            }
            if let (Some(Value::String(start)), Some(Value::String(end))) =
                (map.get("start"), map.get("end"))
                && let (Ok(start), Ok(end)) =
                    (start.parse::<DateTime<Utc>>(), end.parse::<DateTime<Utc>>())
            {
                return format!("{}, {}", date(local_day(start, tz)), span(start, end, tz));
            }
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{}: {}", words(k), value_text(k, v, tz)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

fn string_text(key: &str, s: &str, tz: Tz) -> String {
    if let Ok(t) = s.parse::<DateTime<Utc>>() {
        return date_time(t, tz);
    }
    if let Ok(d) = s.parse::<NaiveDate>() {
        return date(d);
    }
    // Codes of the record (snake case, no spaces) in words; free text and
    // ids as written.
    let is_code = matches!(
        key,
        "finding"
            | "route"
            | "departure"
            | "drug"
            | "kind"
            | "reason"
            | "severity"
            | "instrument"
            | "method"
            | "payer"
            | "service"
            | "entry_type"
    );
    if is_code
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        words(s)
    } else if key == "entry_type" {
        event_words(s)
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn times_are_shown_and_read_in_the_practice_time_zone() {
        let tz: Tz = "America/New_York".parse().expect("tz");
        let t: DateTime<Utc> = "2026-09-07T13:21:00Z".parse().expect("t");
        assert_eq!(time(t, tz), "09:21");
        assert_eq!(date_time(t, tz), "7 Sep 2026, 09:21");
        assert_eq!(input_value(t, tz), "2026-09-07T09:21");
        assert_eq!(parse_local("2026-09-07T09:21", tz), Ok(t));
        assert_eq!(parse_local("2026-09-07T09:21:00", tz), Ok(t));
        assert_eq!(
            parse_local("yesterday", tz),
            Err(LocalTimeError::Unreadable)
        );
        // 02:30 did not happen on 8 March 2026 in New York.
        assert_eq!(
            parse_local("2026-03-08T02:30", tz),
            Err(LocalTimeError::Skipped)
        );
        // 01:30 happened twice on 1 November 2026: the earlier (EDT).
        let twice: DateTime<Utc> = "2026-11-01T05:30:00Z".parse().expect("t");
        assert_eq!(parse_local("2026-11-01T01:30", tz), Ok(twice));
    }

    #[test]
    fn a_span_across_midnight_names_both_days() {
        let tz = chrono_tz::UTC;
        let a: DateTime<Utc> = "2026-09-07T23:00:00Z".parse().expect("t");
        let b: DateTime<Utc> = "2026-09-08T01:00:00Z".parse().expect("t");
        assert_eq!(
            span(a, a + chrono::Duration::minutes(30), tz),
            "23:00–23:30"
        );
        assert_eq!(span(a, b, tz), "7 Sep 2026, 23:00 – 8 Sep 2026, 01:00");
    }

    #[test]
    fn codes_and_event_types_read_as_words() {
        assert_eq!(words("ongoing_care"), "Ongoing care");
        assert_eq!(words("lot_number"), "Lot number");
        assert_eq!(event_words("ExplorationRecorded"), "Exploration recorded");
        assert_eq!(dollars(17_500), "$175.00");
        assert_eq!(dollars(-5), "-$0.05");
    }

    #[test]
    fn content_reads_as_labelled_lines() {
        let tz = chrono_tz::UTC;
        let content = json!({
            "bp_before": {"systolic": 153, "diastolic": 87},
            "departure": "taxi_or_rideshare",
            "observations": "calm_and_quiet",
            "span": {"start": "2026-09-07T09:00:00Z", "end": "2026-09-07T11:35:00Z"},
            "charge": {"amount": 55000, "service": "exploration"},
            "adverse_events": [],
            "prescription": null,
        });
        let fields = content_fields(&content, tz);
        let text: Vec<(String, String)> = fields.into_iter().map(|f| (f.label, f.value)).collect();
        assert_eq!(
            text,
            [
                ("Adverse events".to_owned(), "none".to_owned()),
                ("BP before".to_owned(), "153/87 mmHg".to_owned()),
                (
                    "Charge".to_owned(),
                    "Amount: $550.00, Service: Exploration".to_owned()
                ),
                ("Departure".to_owned(), "Taxi or rideshare".to_owned()),
                // Free text stays as written.
                ("Observations".to_owned(), "calm_and_quiet".to_owned()),
                ("Span".to_owned(), "7 Sep 2026, 09:00–11:35".to_owned()),
            ]
        );
    }
}
