//! Bounds on what a client may send: the checked deserializers of command
//! fields.
//!
//! The value types ([`crate::types`]) hold what every stored value has
//! always met, so events written in the past still read. New input is held
//! to more, here: dates and times within [`EARLIEST_DATE`]..=[`LATEST_DATE`],
//! doses at most [`MAX_DOSE_MG`], payments at most [`MAX_PAYMENT_CENTS`],
//! entry numbers below 2^53, and no invisible or direction-changing
//! characters in names and labels (nor the "Trojan Source" controls in free
//! text). Command fields use these functions through
//! `#[serde(deserialize_with = ...)]`, so a command parsed from JSON meets
//! them and a refusal names the exact field
//! (`body.RecordPayment.amount`). docs/domain.md, "Field bounds", is the
//! table of every bound and why.
//!
//! Messages name the rule and, for numbers, the number; never a date or
//! text (a date of birth or a name is protected health information).

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::command::{Administration, AdverseEvent, AdverseSeverity, Dosing, Drug, Route};
use crate::types::{
    Cents, DateRange, LotNumber, Milligrams, ParseError, PersonName, Text, TimeSpan,
};

/// The earliest day a client may send: no living client was born before
/// it, and nothing the record holds happened before it.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("1900-01-01 is a date"),
};

/// The latest day a client may send: far beyond any booking or
/// prescription a practice makes, far short of chrono's limits.
pub const LATEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2199, 12, 31) {
    Some(d) => d,
    None => panic!("2199-12-31 is a date"),
};

/// The largest dose a client may send, in milligrams. A representation
/// bound, far above any clinical dose: clinical bounds come from the
/// prescription, never from code.
pub const MAX_DOSE_MG: u32 = 10_000;

/// The largest payment a client may send: $100,000.00 per entry, in cents.
pub const MAX_PAYMENT_CENTS: i64 = 10_000_000;

/// The largest fee a fee schedule may set: $100,000.00 per session, in
/// cents (as a payment).
pub const MAX_FEE_CENTS: i64 = MAX_PAYMENT_CENTS;

/// The largest entry sequence number a client may send: 2^53 − 1, the
/// largest integer every JSON reader (and the audit chain's canonical JSON)
/// holds exactly.
pub const MAX_ENTRY: u64 = (1 << 53) - 1;

/// A day within [`EARLIEST_DATE`]..=[`LATEST_DATE`].
pub fn check_date(day: NaiveDate) -> Result<NaiveDate, ParseError> {
    if (EARLIEST_DATE..=LATEST_DATE).contains(&day) {
        Ok(day)
    } else {
        Err(ParseError::new(
            "date",
            format!("must be between {EARLIEST_DATE} and {LATEST_DATE}"),
        ))
    }
}

/// An instant whose UTC day is within [`EARLIEST_DATE`]..=[`LATEST_DATE`].
pub fn check_instant(at: DateTime<Utc>) -> Result<DateTime<Utc>, ParseError> {
    if (EARLIEST_DATE..=LATEST_DATE).contains(&at.date_naive()) {
        Ok(at)
    } else {
        Err(ParseError::new(
            "time",
            format!("must be between {EARLIEST_DATE}T00:00:00Z and {LATEST_DATE}T23:59:59Z"),
        ))
    }
}

/// True for characters a name or a short label must not hold: every
/// invisible format character (Unicode category Cf: the bidirectional
/// marks, embeddings, overrides and isolates, U+061C, the zero-width space,
/// joiners and word joiner, U+FEFF, the soft hyphen, tag characters, ...)
/// and the line and paragraph separators (Zl, Zp). Control characters (Cc)
/// the types refuse already.
pub fn is_hidden_in_names(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// True for the characters free text must not hold: the bidirectional
/// embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069),
/// which reorder what a reader sees ("Trojan Source", CVE-2021-42574), and
/// the deprecated format controls U+206A–U+206F. The marks U+200E, U+200F
/// and U+061C stay allowed: they reorder nothing around them, and mixed
/// right-to-left and left-to-right text needs them; so do the zero-width
/// joiners, which Persian and Indic spelling and emoji need.
pub fn is_reordering(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{206F}')
}

fn refuse_hidden(what: &'static str, raw: &str) -> Result<(), ParseError> {
    match raw.chars().find(|c| is_hidden_in_names(*c)) {
        None => Ok(()),
        Some(c) => Err(ParseError::new(
            what,
            format!(
                "must not contain invisible or direction-changing characters (U+{:04X})",
                u32::from(c)
            ),
        )),
    }
}

/// A name entered now: [`PersonName`]'s rules, and no character
/// [`is_hidden_in_names`].
pub fn check_name(name: PersonName) -> Result<PersonName, ParseError> {
    refuse_hidden("name", name.as_str()).map(|()| name)
}

/// A short label entered now (a provider, a consent form's title): [`Text`]'s
/// rules, and no character [`is_hidden_in_names`].
pub fn check_label(label: Text) -> Result<Text, ParseError> {
    refuse_hidden("label", label.as_str()).map(|()| label)
}

/// Free text entered now: [`Text`]'s rules, and no character
/// [`is_reordering`].
pub fn check_text(text: Text) -> Result<Text, ParseError> {
    match text.as_str().chars().find(|c| is_reordering(*c)) {
        None => Ok(text),
        Some(c) => Err(ParseError::new(
            "text",
            format!(
                "must not contain bidirectional embedding, override or isolate controls (U+{:04X})",
                u32::from(c)
            ),
        )),
    }
}

/// A dose entered now: [`Milligrams`]' rules, and at most [`MAX_DOSE_MG`].
pub fn check_dose(mg: i64) -> Result<Milligrams, ParseError> {
    let dose = Milligrams::new(mg)?;
    if dose.get() > MAX_DOSE_MG {
        return Err(ParseError::new(
            "dose",
            format!("must be at most {MAX_DOSE_MG} mg, got {mg}"),
        ));
    }
    Ok(dose)
}

/// A payment entered now: more than zero, at most [`MAX_PAYMENT_CENTS`].
pub fn check_payment(cents: i64) -> Result<Cents, ParseError> {
    if cents == 0 {
        return Err(ParseError::new("amount", "must be more than zero"));
    }
    if cents > MAX_PAYMENT_CENTS {
        return Err(ParseError::new(
            "amount",
            format!(
                "must be at most {} ({MAX_PAYMENT_CENTS} cents) per payment, got {cents} cents",
                Cents::new(MAX_PAYMENT_CENTS).unwrap_or_default()
            ),
        ));
    }
    Cents::new(cents)
}

/// A fee entered now: 0 (a service the practice does not charge for) to
/// [`MAX_FEE_CENTS`].
pub fn check_fee(cents: i64) -> Result<Cents, ParseError> {
    if cents > MAX_FEE_CENTS {
        return Err(ParseError::new(
            "fee",
            format!("must be at most {MAX_FEE_CENTS} cents per session, got {cents} cents"),
        ));
    }
    Cents::new(cents).map_err(|e| ParseError::new("fee", e.message))
}

/// An entry's sequence number entered now: 1 to [`MAX_ENTRY`].
pub fn check_entry(entry: u64) -> Result<u64, ParseError> {
    if !(1..=MAX_ENTRY).contains(&entry) {
        return Err(ParseError::new(
            "entry",
            format!("must be a sequence number from 1 to {MAX_ENTRY}, got {entry}"),
        ));
    }
    Ok(entry)
}

// ---- the deserializers of command fields ----

fn checked<'de, D: Deserializer<'de>, T>(result: Result<T, ParseError>) -> Result<T, D::Error> {
    result.map_err(D::Error::custom)
}

/// A checked date ([`check_date`]), for `#[serde(deserialize_with)]`.
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    checked::<D, _>(check_date(NaiveDate::deserialize(d)?))
}

/// A checked instant ([`check_instant`]).
pub fn instant<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    checked::<D, _>(check_instant(DateTime::<Utc>::deserialize(d)?))
}

/// A checked dose ([`check_dose`]).
pub fn dose<'de, D: Deserializer<'de>>(d: D) -> Result<Milligrams, D::Error> {
    checked::<D, _>(check_dose(i64::deserialize(d)?))
}

/// An optional checked dose ([`check_dose`]).
pub fn opt_dose<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Milligrams>, D::Error> {
    Option::<i64>::deserialize(d)?
        .map(|mg| checked::<D, _>(check_dose(mg)))
        .transpose()
}

/// A checked payment ([`check_payment`]).
pub fn payment<'de, D: Deserializer<'de>>(d: D) -> Result<Cents, D::Error> {
    checked::<D, _>(check_payment(i64::deserialize(d)?))
}

/// A checked fee ([`check_fee`]).
pub fn fee<'de, D: Deserializer<'de>>(d: D) -> Result<Cents, D::Error> {
    checked::<D, _>(check_fee(i64::deserialize(d)?))
}

/// A checked entry sequence number ([`check_entry`]).
pub fn entry<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    checked::<D, _>(check_entry(u64::deserialize(d)?))
}

/// A checked name ([`check_name`]).
pub fn name<'de, D: Deserializer<'de>>(d: D) -> Result<PersonName, D::Error> {
    checked::<D, _>(check_name(PersonName::deserialize(d)?))
}

/// A checked short label ([`check_label`]).
pub fn label<'de, D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
    checked::<D, _>(check_label(Text::deserialize(d)?))
}

/// Checked free text ([`check_text`]).
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
    checked::<D, _>(check_text(Text::deserialize(d)?))
}

/// Optional checked free text ([`check_text`]).
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Text>, D::Error> {
    Option::<Text>::deserialize(d)?
        .map(|t| checked::<D, _>(check_text(t)))
        .transpose()
}

/// A [`TimeSpan`] whose start and end are each [`check_instant`]ed (the
/// error names `span.start` or `span.end`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpanInput {
    #[serde(deserialize_with = "instant")]
    start: DateTime<Utc>,
    #[serde(deserialize_with = "instant")]
    end: DateTime<Utc>,
}

pub(crate) fn span<'de, D: Deserializer<'de>>(d: D) -> Result<TimeSpan, D::Error> {
    let s = SpanInput::deserialize(d)?;
    checked::<D, _>(TimeSpan::new(s.start, s.end))
}

/// A [`DateRange`] whose ends are each [`check_date`]d.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DateRangeInput {
    #[serde(deserialize_with = "date")]
    from: NaiveDate,
    #[serde(deserialize_with = "date")]
    until: NaiveDate,
}

pub(crate) fn date_range<'de, D: Deserializer<'de>>(d: D) -> Result<DateRange, D::Error> {
    let r = DateRangeInput::deserialize(d)?;
    checked::<D, _>(DateRange::new(r.from, r.until))
}

/// [`Dosing`] with each dose [`check_dose`]d.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DosingInput {
    #[serde(deserialize_with = "dose")]
    min: Milligrams,
    #[serde(deserialize_with = "dose")]
    max: Milligrams,
    #[serde(deserialize_with = "dose")]
    starting: Milligrams,
    #[serde(deserialize_with = "dose")]
    max_step: Milligrams,
}

pub(crate) fn dosing<'de, D: Deserializer<'de>>(d: D) -> Result<Dosing, D::Error> {
    let r = DosingInput::deserialize(d)?;
    checked::<D, _>(Dosing::new(r.min, r.max, r.starting, r.max_step))
}

/// An [`Administration`] with its dose and time checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdministrationInput {
    drug: Drug,
    route: Route,
    #[serde(deserialize_with = "dose")]
    dose: Milligrams,
    lot_number: LotNumber,
    #[serde(deserialize_with = "instant")]
    given_at: DateTime<Utc>,
}

pub(crate) fn administration<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Administration>, D::Error> {
    Ok(
        Option::<AdministrationInput>::deserialize(d)?.map(|a| Administration {
            drug: a.drug,
            route: a.route,
            dose: a.dose,
            lot_number: a.lot_number,
            given_at: a.given_at,
        }),
    )
}

/// An [`AdverseEvent`] with its description checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdverseEventInput {
    #[serde(deserialize_with = "text")]
    description: Text,
    severity: AdverseSeverity,
}

pub(crate) fn adverse_events<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<AdverseEvent>, D::Error> {
    Ok(Vec::<AdverseEventInput>::deserialize(d)?
        .into_iter()
        .map(|a| AdverseEvent {
            description: a.description,
            severity: a.severity,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_between_1900_and_2199() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        assert!(check_date(day(1900, 1, 1)).is_ok());
        assert!(check_date(day(2199, 12, 31)).is_ok());
        assert!(check_date(day(1899, 12, 31)).is_err());
        assert!(check_date(day(2200, 1, 1)).is_err());
        assert!(check_date(day(0, 1, 1)).is_err());
        assert!(check_date(NaiveDate::MIN).is_err());
        assert!(check_date(NaiveDate::MAX).is_err());
        let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("a time").to_utc();
        assert!(check_instant(at("2199-12-31T23:59:59.999Z")).is_ok());
        assert!(check_instant(at("2200-01-01T00:00:00Z")).is_err());
        // The UTC day counts, not the local one.
        assert!(check_instant(at("1900-01-01T00:30:00+01:00")).is_err());
    }

    #[test]
    fn names_refuse_every_invisible_format_character() {
        for c in [
            '\u{061C}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202E}',
            '\u{2060}',
            '\u{2066}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{E0041}',
            '\u{2028}',
            '\u{2029}',
        ] {
            assert!(is_hidden_in_names(c), "U+{:04X}", u32::from(c));
        }
        for c in ['a', 'é', 'ß', 'ש', 'ع', '中', ' ', '-', '\'', '.'] {
            assert!(!is_hidden_in_names(c), "{c}");
        }
    }

    #[test]
    fn text_refuses_reordering_controls_and_keeps_marks() {
        for c in ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{206F}') {
            assert!(is_reordering(c), "U+{:04X}", u32::from(c));
        }
        for c in ['\u{200E}', '\u{200F}', '\u{061C}', '\u{200C}', '\u{200D}'] {
            assert!(!is_reordering(c), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn doses_payments_and_entries_have_upper_bounds() {
        assert!(check_dose(10_000).is_ok());
        assert!(check_dose(10_001).is_err());
        assert!(check_dose(0).is_err());
        assert_eq!(check_payment(10_000_000).map(Cents::get), Ok(10_000_000));
        assert!(check_payment(10_000_001).is_err());
        assert!(check_payment(0).is_err());
        assert!(check_payment(-1).is_err());
        assert_eq!(check_fee(0).map(Cents::get), Ok(0));
        assert!(check_fee(10_000_000).is_ok());
        assert!(check_fee(10_000_001).is_err());
        assert_eq!(check_fee(-1).map_err(|e| e.what), Err("fee"));
        assert!(check_entry(MAX_ENTRY).is_ok());
        assert!(check_entry(MAX_ENTRY + 1).is_err());
        assert!(check_entry(0).is_err());
    }
}
