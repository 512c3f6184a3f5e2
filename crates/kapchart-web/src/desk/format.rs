//! How the desk's pages write money, names of kinds and dates: money
//! exactly from integer cents (no floating point), words instead of the
//! record's snake_case names, dates and times in the practice's time zone.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// Cents as dollars: `$1,234.50`, `-$12.00`.
pub(super) fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let dollars = (abs / 100).to_string();
    let mut grouped = String::with_capacity(dollars.len() + dollars.len() / 3);
    for (i, digit) in dollars.chars().enumerate() {
        if i > 0 && (dollars.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}${grouped}.{:02}", abs % 100)
}

/// A balance in words: what is owed, `nothing owed`, or a credit.
pub(super) fn balance(cents: Option<i64>) -> String {
    match cents {
        Some(0) => "$0.00 (nothing owed)".to_owned(),
        Some(c) if c > 0 => format!("{} owed", money(c)),
        Some(c) => format!("{} in credit", money(-c)),
        None => "too large to show (ask an administrator)".to_owned(),
    }
}

/// A snake_case name of the record as words: `ongoing_care` → `Ongoing
/// care`.
pub(super) fn words(name: &str) -> String {
    let mut out = name.replace('_', " ");
    if let Some(first) = out.get(0..1) {
        let upper = first.to_uppercase();
        out.replace_range(0..1, &upper);
    }
    out
}

/// A value of the record (an enum serialized as a snake_case string) as
/// words.
pub(super) fn word_of(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => words(&s),
        _ => String::new(),
    }
}

/// A day as people read it: `Monday 5 January 2026`.
pub(super) fn long_day(day: NaiveDate) -> String {
    day.format("%A %-d %B %Y").to_string()
}

/// A time of day in the practice's time zone: `09:30`.
pub(super) fn clock(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%H:%M").to_string()
}

/// The date of `at` in the practice's time zone.
pub(super) fn local_day(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// Today in the practice's time zone.
pub(super) fn today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    local_day(now, tz)
}

/// An optional date from a query: empty is none; anything else must be
/// `YYYY-MM-DD` (the error names `field`).
pub(super) fn query_date(field: &str, text: Option<&str>) -> Result<Option<NaiveDate>, String> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("{field}: expected a date as YYYY-MM-DD")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact_and_grouped() {
        assert_eq!(money(0), "$0.00");
        assert_eq!(money(5), "$0.05");
        assert_eq!(money(17_500), "$175.00");
        assert_eq!(money(123_450), "$1,234.50");
        assert_eq!(money(100_000_000), "$1,000,000.00");
        assert_eq!(money(-1_250), "-$12.50");
        assert_eq!(money((1 << 53) - 1), "$90,071,992,547,409.91");
        assert_eq!(money(i64::MIN), "-$92,233,720,368,547,758.08");
    }

    #[test]
    fn balances_say_who_owes() {
        assert_eq!(balance(Some(17_500)), "$175.00 owed");
        assert_eq!(balance(Some(-2_500)), "$25.00 in credit");
        assert_eq!(balance(Some(0)), "$0.00 (nothing owed)");
    }

    #[test]
    fn names_become_words() {
        assert_eq!(words("ongoing_care"), "Ongoing care");
        assert_eq!(words("no_show"), "No show");
        assert_eq!(words(""), "");
    }

    #[test]
    fn days_and_times_are_the_practices() {
        let at = DateTime::parse_from_rfc3339("2026-01-06T03:30:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let ny: Tz = "America/New_York".parse().expect("zone");
        assert_eq!(clock(at, ny), "22:30");
        assert_eq!(long_day(local_day(at, ny)), "Monday 5 January 2026");
        assert_eq!(query_date("from", Some("")), Ok(None));
        assert_eq!(
            query_date("from", Some("2026-02-30")),
            Err("from: expected a date as YYYY-MM-DD".to_owned())
        );
    }
}
