//! From what a form holds to the command's JSON, exactly as the API takes
//! it: `{"id": ..., "overrides": [...], "body": {"RecordExploration": {...}}}`.
//!
//! The form's own conversions happen here (a day and times in the
//! practice's time zone to UTC instants, dollars and cents to whole
//! cents, typed numbers to numbers); every bound is then the domain's,
//! checked by [`kapchart_api::CommandRequest::parse`] on this JSON.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{LocalResult, NaiveDate, NaiveTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use kapchart_domain::{Rule, Severity};
use serde_json::{Map, Value, json};

use super::spec::{Field, Kind, Spec};

/// The fields of a posted form that are not the command's own.
pub(crate) const CLIENT_FIELD: &str = "client_id";
/// The hidden command id, chosen when the form was rendered.
pub(crate) const COMMAND_ID_FIELD: &str = "command_id";
/// Where to go after success (a local path).
pub(crate) const RETURN_TO_FIELD: &str = "return_to";
/// An override's rule (hidden), one per override, in order.
pub(crate) const OVERRIDE_RULE: &str = "override_rule";
/// An override's reason, one per override, in order.
pub(crate) const OVERRIDE_REASON: &str = "override_reason";
/// An override's prescriber authorization (empty for soft stops).
pub(crate) const OVERRIDE_AUTHORIZATION: &str = "override_authorization";

/// An override as the form holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OverrideInput {
    /// The rule's code.
    pub rule: String,
    /// The reason typed.
    pub reason: String,
    /// The prescriber's authorization id typed (prescriber-override rules).
    pub authorization: String,
}

/// Everything a form holds, as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filled {
    /// The client id.
    pub client_id: String,
    /// The command id.
    pub command_id: String,
    /// Where to go after success, if valid.
    pub return_to: Option<String>,
    /// Each input's text, by input name.
    pub values: HashMap<String, String>,
    /// The overrides, in order.
    pub overrides: Vec<OverrideInput>,
}

impl Filled {
    /// A posted form's pairs, in order (repeated override fields pair up
    /// by position).
    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut filled = Filled::default();
        let (mut rules, mut reasons, mut authorizations) = (Vec::new(), Vec::new(), Vec::new());
        for (name, value) in pairs {
            match name.as_str() {
                CLIENT_FIELD => filled.client_id = value.trim().to_owned(),
                COMMAND_ID_FIELD => filled.command_id = value.trim().to_owned(),
                RETURN_TO_FIELD => filled.return_to = local_path(&value),
                OVERRIDE_RULE => rules.push(value),
                OVERRIDE_REASON => reasons.push(value),
                OVERRIDE_AUTHORIZATION => authorizations.push(value),
                _ => {
                    filled.values.insert(name, value);
                }
            }
        }
        filled.overrides = rules
            .into_iter()
            .enumerate()
            .map(|(i, rule)| OverrideInput {
                rule,
                reason: reasons.get(i).cloned().unwrap_or_default(),
                authorization: authorizations.get(i).cloned().unwrap_or_default(),
            })
            .collect();
        filled
    }

    /// The text of input `name` ("" when absent).
    pub(crate) fn get(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }
}

/// `path` if it is a path of this site: ASCII (percent-encoded), starts
/// with one `/`, no scheme, no backslash, no control or space characters.
/// Anything else is dropped, so a link cannot send a user elsewhere after
/// a form (an open redirect), and the path is always a valid `Location`.
pub(crate) fn local_path(path: &str) -> Option<String> {
    let ok = path.is_ascii()
        && path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
        && path.len() <= 2048;
    ok.then(|| path.to_owned())
}

/// What went wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// The form as a whole.
    General,
    /// The client id.
    Client,
    /// A field of the spec, by name.
    Field(&'static str),
    /// Override `n`'s reason.
    OverrideReason(usize),
    /// Override `n`'s authorization.
    OverrideAuthorization(usize),
}

/// One problem to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// Where.
    pub target: Target,
    /// What, in words (no typed text).
    pub message: String,
}

impl Problem {
    pub(crate) fn new(target: Target, message: impl Into<String>) -> Self {
        Problem {
            target,
            message: message.into(),
        }
    }
}

/// The names of a composite field's inputs.
pub(crate) fn input_names(field: &Field) -> Vec<String> {
    match field.kind {
        Kind::Span { .. } => ["date", "start", "end"]
            .iter()
            .map(|s| format!("{}_{s}", field.name))
            .collect(),
        Kind::Bp => ["systolic", "diastolic"]
            .iter()
            .map(|s| format!("{}_{s}", field.name))
            .collect(),
        Kind::TheClient => Vec::new(),
        _ => vec![field.name.to_owned()],
    }
}

/// The request built from a form: its JSON text, and where each field's
/// value was sent (the path in the body, lists compacted), to map the
/// parser's errors back to fields.
#[derive(Debug)]
pub(crate) struct Built {
    /// The request's JSON.
    pub json: String,
    /// (path in the body, field name) of every value sent.
    pub sent: Vec<(String, &'static str)>,
}

/// Builds the command request of `spec` from `filled`, or says what is
/// wrong with the form's own conversions.
pub(crate) fn request(spec: &Spec, filled: &Filled, tz: Tz) -> Result<Built, Vec<Problem>> {
    let mut problems = Vec::new();
    if filled.client_id.is_empty() {
        problems.push(Problem::new(Target::Client, "Enter the client id."));
    } else if let Err(e) = kapchart_domain::ClientId::parse(&filled.client_id) {
        problems.push(Problem::new(Target::Client, e.to_string()));
    }
    // (path, value, strong): a nested object or list item is sent only
    // when a value other than a choice was entered in it.
    let mut entries: Vec<(&'static str, Value, bool, &'static str)> = Vec::new();
    for field in spec.fields {
        match value_of(field, filled, tz) {
            Ok(Some(value)) => {
                entries.push((field.path, value, !field.kind.is_choice(), field.name));
            }
            Ok(None) if field.required => {
                problems.push(Problem::new(
                    Target::Field(field.name),
                    format!("Enter {}.", lower_first(field.label)),
                ));
            }
            Ok(None) => {}
            Err(message) => problems.push(Problem::new(Target::Field(field.name), message)),
        }
    }
    let overrides = overrides_json(&filled.overrides, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let (body, sent) = assemble(&entries);
    let request = json!({
        "id": filled.command_id,
        "overrides": overrides,
        "body": { spec.command: body },
    });
    Ok(Built {
        json: request.to_string(),
        sent,
    })
}

fn overrides_json(overrides: &[OverrideInput], problems: &mut Vec<Problem>) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, o) in overrides.iter().enumerate() {
        let Some(rule) = Rule::from_code(o.rule.trim()) else {
            problems.push(Problem::new(
                Target::General,
                "An override names no rule of the record; reload the form.",
            ));
            continue;
        };
        let reason = o.reason.trim();
        if reason.is_empty() {
            problems.push(Problem::new(
                Target::OverrideReason(i),
                format!("Give the reason for going past {}.", rule.code()),
            ));
        }
        let mut item = json!({ "rule": rule.code(), "reason": reason });
        if rule.severity() == Severity::PrescriberOverride {
            let authorization = o.authorization.trim();
            if authorization.is_empty() {
                problems.push(Problem::new(
                    Target::OverrideAuthorization(i),
                    "Enter the id of the prescriber's authorization for this session.",
                ));
            }
            item["authorization"] = Value::String(authorization.to_owned());
        }
        out.push(item);
    }
    out
}

/// "Legal name" → "legal name"; "ICD-10 ..." stays.
fn lower_first(label: &str) -> String {
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase() => {
            a.to_lowercase().chain(label.chars().skip(1)).collect()
        }
        _ => label.to_owned(),
    }
}

/// The JSON value of one field, `None` when nothing was entered.
fn value_of(field: &Field, filled: &Filled, tz: Tz) -> Result<Option<Value>, String> {
    let text = |name: &str| filled.get(name).trim().to_owned();
    match field.kind {
        Kind::TheClient => Ok(Some(Value::String(filled.client_id.clone()))),
        Kind::NewId(_) | Kind::Id | Kind::Line | Kind::Staff(_) => {
            let t = text(field.name);
            Ok((!t.is_empty()).then_some(Value::String(t)))
        }
        Kind::Text => {
            let raw = filled.get(field.name);
            // Line breaks as typed (browsers send CR LF), outer space trimmed.
            let t = raw.replace("\r\n", "\n").trim().to_owned();
            Ok((!t.is_empty()).then_some(Value::String(t)))
        }
        Kind::Date { .. } => {
            let t = text(field.name);
            if t.is_empty() {
                return Ok(None);
            }
            parse_date(&t).map(|d| Some(Value::String(d.to_string())))
        }
        Kind::Select(options) => {
            let t = text(field.name);
            if t.is_empty() {
                return Ok(None);
            }
            if options.iter().any(|(v, _)| *v == t) {
                Ok(Some(Value::String(t)))
            } else {
                Err("Choose one of the options.".to_owned())
            }
        }
        Kind::Int { .. } => {
            let t = text(field.name);
            if t.is_empty() {
                return Ok(None);
            }
            parse_whole(&t).map(|n| Some(json!(n)))
        }
        Kind::Money => {
            let t = text(field.name);
            if t.is_empty() {
                return Ok(None);
            }
            parse_cents(&t).map(|c| Some(json!(c)))
        }
        Kind::Codes => {
            let codes: Vec<Value> = filled
                .get(field.name)
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|c| !c.is_empty())
                .map(|c| Value::String(c.to_owned()))
                .collect();
            Ok((!codes.is_empty()).then_some(Value::Array(codes)))
        }
        Kind::Bp => {
            let s = text(&format!("{}_systolic", field.name));
            let d = text(&format!("{}_diastolic", field.name));
            match (s.is_empty(), d.is_empty()) {
                (true, true) => Ok(None),
                (false, false) => Ok(Some(json!({
                    "systolic": parse_whole(&s).map_err(|e| format!("Systolic: {e}"))?,
                    "diastolic": parse_whole(&d).map_err(|e| format!("Diastolic: {e}"))?,
                }))),
                _ => Err("Enter both the systolic and the diastolic pressure.".to_owned()),
            }
        }
        Kind::Span { .. } => {
            let day = text(&format!("{}_date", field.name));
            let start = text(&format!("{}_start", field.name));
            let end = text(&format!("{}_end", field.name));
            if day.is_empty() && start.is_empty() && end.is_empty() {
                return Ok(None);
            }
            if day.is_empty() || start.is_empty() || end.is_empty() {
                return Err("Enter the day, the start time and the end time.".to_owned());
            }
            let day = parse_date(&day)?;
            let start = instant(tz, day, parse_time(&start)?)?;
            let end = instant(tz, day, parse_time(&end)?)?;
            Ok(Some(json!({ "start": start, "end": end })))
        }
        Kind::TimeOf { span } => {
            let t = text(field.name);
            if t.is_empty() {
                return Ok(None);
            }
            let time = parse_time(&t)?;
            let day = text(&format!("{span}_date"));
            if day.is_empty() {
                return Err("Enter the session's day first.".to_owned());
            }
            let day = parse_date(&day).map_err(|_| "Enter the session's day first.".to_owned())?;
            instant(tz, day, time).map(|t| Some(Value::String(t)))
        }
    }
}

/// A day typed as `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| "Enter a date as YYYY-MM-DD.".to_owned())
}

/// A time typed as `HH:MM` (or `HH:MM:SS`).
pub(crate) fn parse_time(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .map_err(|_| "Enter a time as HH:MM (24-hour clock).".to_owned())
}

/// A whole number typed (an optional sign and digits).
pub(crate) fn parse_whole(text: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .map_err(|_| "Enter a whole number.".to_owned())
}

/// The instant of `time` on `day` in the practice's time zone, as RFC 3339
/// UTC. A time the clocks skip is refused; one they repeat is the first.
pub(crate) fn instant(tz: Tz, day: NaiveDate, time: NaiveTime) -> Result<String, String> {
    let at = match tz.from_local_datetime(&day.and_time(time)) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            return Err(
                "That time does not exist on that day in the practice's time zone (the clocks change)."
                    .to_owned(),
            );
        }
    };
    Ok(at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Dollars and cents typed (`175`, `175.5`, `$1,175.00`) as whole cents,
/// exactly: digits only, at most two after the point, commas only between
/// groups of three.
pub(crate) fn parse_cents(text: &str) -> Result<i64, String> {
    const MESSAGE: &str = "Enter an amount in dollars and cents, like 175.00.";
    let t = text.trim();
    let t = t.strip_prefix('$').unwrap_or(t).trim();
    let (whole, fraction) = match t.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (t, None),
    };
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped_ok = groups.len() == 1
        || (matches!(groups[0].len(), 1..=3) && groups[1..].iter().all(|g| g.len() == 3));
    let digits: String = groups.concat();
    if digits.is_empty() || !grouped_ok || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MESSAGE.to_owned());
    }
    let cents = match fraction {
        None => 0,
        Some(f) if matches!(f.len(), 1 | 2) && f.bytes().all(|b| b.is_ascii_digit()) => {
            let n: i64 = f.parse().map_err(|_| MESSAGE.to_owned())?;
            if f.len() == 1 { n * 10 } else { n }
        }
        Some(_) => {
            return Err(
                "Enter an amount in dollars and cents, with at most two digits after the point."
                    .to_owned(),
            );
        }
    };
    let too_large = || "The amount is too large.".to_owned();
    let dollars: i64 = digits.parse().map_err(|_| too_large())?;
    dollars
        .checked_mul(100)
        .and_then(|c| c.checked_add(cents))
        .ok_or_else(too_large)
}

/// The body object from `(path, value, strong, field)` entries: nested
/// objects and list items are made from the paths, and sent only when a
/// strong value is in them; list items are numbered from 0 as sent.
fn assemble(
    entries: &[(&'static str, Value, bool, &'static str)],
) -> (Value, Vec<(String, &'static str)>) {
    // Every prefix (object or list item) that holds a strong value.
    let mut present: BTreeSet<String> = BTreeSet::new();
    for (path, _, strong, _) in entries {
        if *strong {
            let segments: Vec<&str> = path.split('.').collect();
            for n in 1..segments.len() {
                present.insert(segments[..n].join("."));
            }
        }
    }
    // List items renumbered in order of appearance: (list path, index typed) → index sent.
    let mut renumbered: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut body = Value::Object(Map::new());
    let mut sent = Vec::new();
    for (path, value, _, field) in entries {
        let segments: Vec<&str> = path.split('.').collect();
        let parents_present =
            (1..segments.len()).all(|n| present.contains(&segments[..n].join(".")));
        if !parents_present {
            continue;
        }
        let mut actual: Vec<String> = Vec::new();
        for (n, segment) in segments.iter().enumerate() {
            if segment.bytes().all(|b| b.is_ascii_digit()) && n > 0 {
                let list = segments[..n].join(".");
                let key = (list.clone(), (*segment).to_owned());
                let next = counts.get(&list).copied().unwrap_or(0);
                let index = *renumbered.entry(key).or_insert_with(|| {
                    counts.insert(list, next + 1);
                    next
                });
                actual.push(index.to_string());
            } else {
                actual.push((*segment).to_owned());
            }
        }
        insert(&mut body, &actual, value.clone());
        sent.push((actual.join("."), *field));
    }
    (body, sent)
}

/// Puts `value` at `path` in `node`, making objects and lists on the way.
fn insert(node: &mut Value, path: &[String], value: Value) {
    let Some((head, rest)) = path.split_first() else {
        *node = value;
        return;
    };
    let child = if let Ok(index) = head.parse::<usize>() {
        if !node.is_array() {
            *node = Value::Array(Vec::new());
        }
        let Value::Array(items) = node else { return };
        while items.len() <= index {
            items.push(Value::Object(Map::new()));
        }
        &mut items[index]
    } else {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else { return };
        map.entry(head.clone()).or_insert(Value::Null)
    };
    insert(child, rest, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_are_parsed_exactly() {
        assert_eq!(parse_cents("175"), Ok(17_500));
        assert_eq!(parse_cents("175.5"), Ok(17_550));
        assert_eq!(parse_cents("$1,175.05"), Ok(117_505));
        assert_eq!(parse_cents(" 0.10 "), Ok(10));
        assert_eq!(parse_cents("100000.00"), Ok(10_000_000));
        // 0.1 + 0.2 style amounts stay exact.
        assert_eq!(parse_cents("0.29"), Ok(29));
        assert_eq!(parse_cents("1.13"), Ok(113));
        for bad in [
            "12.345", "abc", "", "-5", "1,00", "1.", ".5", "1e3", "12,34.00", "١٢",
        ] {
            assert!(parse_cents(bad).is_err(), "{bad}");
        }
        assert!(parse_cents("99999999999999999999").is_err());
    }

    #[test]
    fn times_are_taken_in_the_practice_time_zone() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 5).expect("day");
        let nine = NaiveTime::from_hms_opt(9, 0, 0).expect("time");
        assert_eq!(
            instant(chrono_tz::UTC, day, nine).as_deref(),
            Ok("2026-01-05T09:00:00Z")
        );
        assert_eq!(
            instant(chrono_tz::America::New_York, day, nine).as_deref(),
            Ok("2026-01-05T14:00:00Z")
        );
        // The spring-forward gap does not exist; the autumn hour repeats.
        let gap_day = NaiveDate::from_ymd_opt(2026, 3, 8).expect("day");
        let half_two = NaiveTime::from_hms_opt(2, 30, 0).expect("time");
        assert!(instant(chrono_tz::America::New_York, gap_day, half_two).is_err());
        let back_day = NaiveDate::from_ymd_opt(2026, 11, 1).expect("day");
        let half_one = NaiveTime::from_hms_opt(1, 30, 0).expect("time");
        assert_eq!(
            instant(chrono_tz::America::New_York, back_day, half_one).as_deref(),
            Ok("2026-11-01T05:30:00Z")
        );
    }

    #[test]
    fn return_paths_stay_on_this_site() {
        assert_eq!(
            local_path("/clients/c-1?tab=x").as_deref(),
            Some("/clients/c-1?tab=x")
        );
        for bad in [
            "/é",
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "javascript:alert(1)",
            "clients",
            "/a b",
            "",
        ] {
            assert_eq!(local_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn optional_groups_are_sent_only_with_a_value() {
        let entries = [
            ("administration.drug", json!("ketamine"), false, "drug"),
            ("administration.dose", json!(150), true, "dose"),
            ("adverse_events.0.severity", json!("mild"), false, "a1s"),
            ("adverse_events.1.description", json!("nausea"), true, "a2"),
            ("adverse_events.1.severity", json!("moderate"), false, "a2s"),
            ("ceiling.systolic", json!(1), false, "c"),
            ("departure", json!("walked"), false, "departure"),
        ];
        let (body, sent) = assemble(&entries);
        assert_eq!(
            body,
            json!({
                "administration": {"drug": "ketamine", "dose": 150},
                "adverse_events": [{"description": "nausea", "severity": "moderate"}],
                "departure": "walked",
            })
        );
        assert!(sent.contains(&("adverse_events.0.description".to_owned(), "a2")));
    }

    #[test]
    fn repeated_override_fields_pair_up_in_order() {
        let pairs = [
            ("client_id", "c-1"),
            ("override_rule", "exploration.too_soon"),
            ("override_reason", "r1"),
            ("override_authorization", ""),
            ("override_rule", "exploration.bp_above_threshold"),
            ("override_reason", "r2"),
            ("override_authorization", "auth-1"),
            ("return_to", "//evil"),
        ];
        let filled = Filled::from_pairs(
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
        );
        assert_eq!(filled.client_id, "c-1");
        assert_eq!(filled.return_to, None);
        assert_eq!(filled.overrides.len(), 2);
        assert_eq!(filled.overrides[1].authorization, "auth-1");
        assert_eq!(filled.overrides[0].reason, "r1");
    }
}
