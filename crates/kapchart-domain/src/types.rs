//! Checked value types ("parse, don't validate").
//!
//! Every type here has private fields and is built only through a checked
//! parser (`parse`, `new` or `TryFrom`), which serde uses too
//! (`#[serde(try_from = ...)]`): a value that exists is a valid value.
//! Parse errors name the rule that was broken but never echo free text, so
//! they are safe to log (no protected health information).

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A value that failed its checked parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {message}")]
pub struct ParseError {
    /// What was being parsed ("PHQ-9 score", "client id", ...).
    pub what: &'static str,
    /// Why it was refused.
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(what: &'static str, message: impl Into<String>) -> Self {
        Self {
            what,
            message: message.into(),
        }
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier: 1 to 64 characters of ASCII letters,
            /// digits, `-` and `_`, starting with a letter or digit.
            pub fn parse(raw: &str) -> Result<Self, ParseError> {
                check_identifier($what, raw).map(|()| Self(raw.to_owned()))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(raw: String) -> Result<Self, ParseError> {
                check_identifier($what, &raw).map(|()| Self(raw))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn check_identifier(what: &'static str, raw: &str) -> Result<(), ParseError> {
    if raw.is_empty() || raw.len() > 64 {
        return Err(ParseError::new(
            what,
            format!("must be 1 to 64 characters, got {}", raw.chars().count()),
        ));
    }
    let first_ok = raw.as_bytes()[0].is_ascii_alphanumeric();
    let all_ok = raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !first_ok || !all_ok {
        return Err(ParseError::new(
            what,
            "may hold only ASCII letters, digits, '-' and '_', starting with a letter or digit",
        ));
    }
    Ok(())
}

id_type!(
    /// A client: the id of one `ClientRecord` aggregate.
    ClientId,
    "client id"
);
id_type!(
    /// A staff member (therapist, prescriber, front desk, auditor, admin).
    UserId,
    "user id"
);
id_type!(
    /// A session of one client (preparation, exploration, integration, ...).
    SessionId,
    "session id"
);
id_type!(
    /// A prescription of one client.
    PrescriptionId,
    "prescription id"
);
id_type!(
    /// A payment of one client.
    PaymentId,
    "payment id"
);
id_type!(
    /// The caller-chosen id of a command: a retried command is applied once.
    CommandId,
    "command id"
);
id_type!(
    /// A prescriber's authorization on one client's record (to go past a
    /// prescriber-override rule for one session).
    AuthorizationId,
    "authorization id"
);

/// A whole, positive number of milligrams. Clinical bounds never live here:
/// they come from the prescription. A dose a client sends is at most
/// [`crate::input::MAX_DOSE_MG`], a representation bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Milligrams(u32);

impl Milligrams {
    /// A dose in whole milligrams: at least 1.
    pub fn new(mg: i64) -> Result<Self, ParseError> {
        match u32::try_from(mg) {
            Ok(0) => Err(ParseError::new("dose", "must be at least 1 mg, got 0")),
            Ok(v) => Ok(Self(v)),
            Err(_) if mg < 0 => Err(ParseError::new(
                "dose",
                format!("must be a positive whole number of milligrams, got {mg}"),
            )),
            Err(_) => Err(ParseError::new("dose", format!("{mg} mg is not a dose"))),
        }
    }

    /// The number of milligrams.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The absolute difference to another dose.
    pub fn distance(self, other: Milligrams) -> u32 {
        self.0.abs_diff(other.0)
    }
}

impl TryFrom<i64> for Milligrams {
    type Error = ParseError;
    fn try_from(mg: i64) -> Result<Self, ParseError> {
        Self::new(mg)
    }
}

impl From<Milligrams> for u32 {
    fn from(mg: Milligrams) -> u32 {
        mg.0
    }
}

impl fmt::Display for Milligrams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} mg", self.0)
    }
}

/// Money as a whole number of US cents, from 0 to [`Cents::MAX`].
///
/// What a client may send is bounded further (a payment is at most
/// $100,000.00: [`crate::input::MAX_PAYMENT_CENTS`]); this type holds every
/// amount ever stored.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Cents(i64);

impl Cents {
    /// The largest amount: 2^53 − 1 cents (about $90 trillion), the largest
    /// integer every JSON reader and the audit chain's canonical JSON hold
    /// exactly. No amount beyond it was ever stored (the chain refuses it).
    pub const MAX: Cents = Cents((1 << 53) - 1);

    /// Cents, refusing negative amounts and amounts above [`Cents::MAX`].
    pub fn new(cents: i64) -> Result<Self, ParseError> {
        if cents < 0 {
            return Err(ParseError::new(
                "amount",
                format!("must not be negative, got {cents} cents"),
            ));
        }
        if cents > Self::MAX.0 {
            return Err(ParseError::new(
                "amount",
                format!("must be at most {} cents, got {cents}", Self::MAX.0),
            ));
        }
        Ok(Self(cents))
    }

    /// The sum, or `None` beyond [`Cents::MAX`]: never wrapped or saturated.
    pub fn checked_add(self, other: Cents) -> Option<Cents> {
        self.0
            .checked_add(other.0)
            .filter(|sum| *sum <= Self::MAX.0)
            .map(Self)
    }

    /// Whole dollars (at most `u32::MAX` dollars: far below [`Cents::MAX`]).
    pub fn dollars(dollars: u32) -> Self {
        Self(i64::from(dollars) * 100)
    }

    /// The number of cents.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for Cents {
    type Error = ParseError;
    fn try_from(cents: i64) -> Result<Self, ParseError> {
        Self::new(cents)
    }
}

impl From<Cents> for i64 {
    fn from(c: Cents) -> i64 {
        c.0
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A blood pressure reading in mmHg.
///
/// Systolic 40–300, diastolic 20–200, systolic above diastolic. Serialized as
/// `{"systolic":120,"diastolic":80}`; `parse` also takes `"120/80"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawBloodPressure")]
pub struct BloodPressure {
    systolic: u16,
    diastolic: u16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBloodPressure {
    systolic: i64,
    diastolic: i64,
}

impl TryFrom<RawBloodPressure> for BloodPressure {
    type Error = ParseError;
    fn try_from(raw: RawBloodPressure) -> Result<Self, ParseError> {
        Self::new(raw.systolic, raw.diastolic)
    }
}

impl BloodPressure {
    /// A reading, checked against physiological ranges.
    pub fn new(systolic: i64, diastolic: i64) -> Result<Self, ParseError> {
        let what = "blood pressure";
        if !(40..=300).contains(&systolic) {
            return Err(ParseError::new(
                what,
                format!("systolic must be 40–300 mmHg, got {systolic}"),
            ));
        }
        if !(20..=200).contains(&diastolic) {
            return Err(ParseError::new(
                what,
                format!("diastolic must be 20–200 mmHg, got {diastolic}"),
            ));
        }
        if systolic <= diastolic {
            return Err(ParseError::new(
                what,
                format!("systolic ({systolic}) must be above diastolic ({diastolic})"),
            ));
        }
        // Both fit in u16: checked above.
        Ok(Self {
            systolic: systolic as u16,
            diastolic: diastolic as u16,
        })
    }

    /// Parses `"120/80"`.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let (s, d) = raw
            .trim()
            .split_once('/')
            .ok_or_else(|| ParseError::new("blood pressure", "expected SYSTOLIC/DIASTOLIC"))?;
        let num = |t: &str| {
            t.trim()
                .parse::<i64>()
                .map_err(|_| ParseError::new("blood pressure", "expected whole numbers"))
        };
        Self::new(num(s)?, num(d)?)
    }

    /// Systolic pressure, mmHg.
    pub fn systolic(self) -> u16 {
        self.systolic
    }

    /// Diastolic pressure, mmHg.
    pub fn diastolic(self) -> u16 {
        self.diastolic
    }

    /// True when either number is above the threshold's.
    pub fn is_above(self, threshold: BloodPressure) -> bool {
        self.systolic > threshold.systolic || self.diastolic > threshold.diastolic
    }
}

impl fmt::Display for BloodPressure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.systolic, self.diastolic)
    }
}

macro_rules! score_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "i64", into = "u8")]
        pub struct $name(u8);

        impl $name {
            /// The highest score the instrument allows.
            pub const MAX: u8 = $max;

            /// A total score within the instrument's published range.
            pub fn new(score: i64) -> Result<Self, ParseError> {
                if !(0..=i64::from($max)).contains(&score) {
                    return Err(ParseError::new(
                        $what,
                        format!("must be 0–{}, got {score}", $max),
                    ));
                }
                Ok(Self(score as u8))
            }

            /// The total score.
            pub fn get(self) -> u8 {
                self.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = ParseError;
            fn try_from(score: i64) -> Result<Self, ParseError> {
                Self::new(score)
            }
        }

        impl From<$name> for u8 {
            fn from(s: $name) -> u8 {
                s.0
            }
        }
    };
}

score_type!(
    /// PHQ-9 depression total: 9 items scored 0–3, so 0–27.
    Phq9Score,
    "PHQ-9 score",
    27
);
score_type!(
    /// GAD-7 anxiety total: 7 items scored 0–3, so 0–21.
    Gad7Score,
    "GAD-7 score",
    21
);
score_type!(
    /// PCL-5 PTSD checklist total: 20 items scored 0–4, so 0–80.
    Pcl5Score,
    "PCL-5 score",
    80
);
score_type!(
    /// BDI-II depression inventory total: 21 items scored 0–3, so 0–63.
    BdiIiScore,
    "BDI-II score",
    63
);

/// A scored outcome measure. Serialized as
/// `{"instrument":"phq9","score":14}`; no other member is accepted, as in
/// every other body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "instrument",
    content = "score",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum OutcomeMeasure {
    /// Patient Health Questionnaire-9.
    Phq9(Phq9Score),
    /// Generalized Anxiety Disorder-7.
    Gad7(Gad7Score),
    /// PTSD Checklist for DSM-5.
    Pcl5(Pcl5Score),
    /// Beck Depression Inventory-II.
    #[serde(rename = "bdi_ii")]
    BdiIi(BdiIiScore),
}

/// Free text written by staff (notes, reasons, observations): trimmed,
/// 1 to 20,000 characters, no control characters but line breaks and tabs
/// (PostgreSQL's jsonb cannot hold NUL). Its content is clinical and never
/// logged. Text a client sends is also held to [`crate::input::check_text`]
/// (no bidirectional embedding, override or isolate controls); text stored
/// before that rule still reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

impl Text {
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 20_000;

    /// Non-empty text, trimmed.
    pub fn new(raw: &str) -> Result<Self, ParseError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(ParseError::new("text", "must not be empty"));
        }
        if t.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(ParseError::new(
                "text",
                "must not contain control characters other than line breaks and tabs",
            ));
        }
        let n = t.chars().count();
        if n > Self::MAX_CHARS {
            return Err(ParseError::new(
                "text",
                format!("must be at most {} characters, got {n}", Self::MAX_CHARS),
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Text {
    type Error = ParseError;
    fn try_from(raw: String) -> Result<Self, ParseError> {
        Self::new(&raw)
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.0
    }
}

/// A person's name: trimmed, 1 to 200 characters, no control characters.
/// A name a client sends is also held to [`crate::input::check_name`] (no
/// invisible or direction-changing characters); names stored before that
/// rule still read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    /// A checked name.
    pub fn new(raw: &str) -> Result<Self, ParseError> {
        let t = raw.trim();
        let n = t.chars().count();
        if n == 0 || n > 200 {
            return Err(ParseError::new(
                "name",
                format!("must be 1 to 200 characters, got {n}"),
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(ParseError::new(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonName {
    type Error = ParseError;
    fn try_from(raw: String) -> Result<Self, ParseError> {
        Self::new(&raw)
    }
}

impl From<PersonName> for String {
    fn from(t: PersonName) -> String {
        t.0
    }
}

/// A medication lot number: 1 to 40 ASCII letters, digits and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LotNumber(String);

impl LotNumber {
    /// A checked lot number.
    pub fn new(raw: &str) -> Result<Self, ParseError> {
        let ok = (1..=40).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(ParseError::new(
                "lot number",
                "must be 1 to 40 ASCII letters, digits or '-'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The lot number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LotNumber {
    type Error = ParseError;
    fn try_from(raw: String) -> Result<Self, ParseError> {
        Self::new(&raw)
    }
}

impl From<LotNumber> for String {
    fn from(t: LotNumber) -> String {
        t.0
    }
}

/// An ICD-10-CM diagnosis code such as `F33.1` or `F43.10`: a letter, two
/// characters, and an optional dot with 1 to 4 more. Stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Icd10Code(String);

impl Icd10Code {
    /// A checked code.
    pub fn new(raw: &str) -> Result<Self, ParseError> {
        let code = raw.trim().to_ascii_uppercase();
        let (head, tail) = match code.split_once('.') {
            Some((h, t)) => (h, Some(t)),
            None => (code.as_str(), None),
        };
        let h = head.as_bytes();
        let head_ok = h.len() == 3
            && h[0].is_ascii_uppercase()
            && h[1].is_ascii_digit()
            && h[2].is_ascii_alphanumeric();
        let tail_ok = tail.is_none_or(|t| {
            (1..=4).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !head_ok || !tail_ok {
            return Err(ParseError::new(
                "ICD-10 code",
                "expected a letter, a digit, a letter or digit, then optionally '.' and 1–4 letters or digits (e.g. F33.1)",
            ));
        }
        Ok(Self(code))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Icd10Code {
    type Error = ParseError;
    fn try_from(raw: String) -> Result<Self, ParseError> {
        Self::new(&raw)
    }
}

impl From<Icd10Code> for String {
    fn from(t: Icd10Code) -> String {
        t.0
    }
}

/// A span of time with its end after its start, at most 24 hours long. A
/// span a client sends also lies within [`crate::input::check_instant`]'s
/// years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawTimeSpan")]
pub struct TimeSpan {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeSpan {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl TryFrom<RawTimeSpan> for TimeSpan {
    type Error = ParseError;
    fn try_from(raw: RawTimeSpan) -> Result<Self, ParseError> {
        Self::new(raw.start, raw.end)
    }
}

impl TimeSpan {
    /// A checked span.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, ParseError> {
        if end <= start {
            return Err(ParseError::new("time span", "end must be after start"));
        }
        if end - start > Duration::hours(24) {
            return Err(ParseError::new(
                "time span",
                "a session must not last more than 24 hours",
            ));
        }
        Ok(Self { start, end })
    }

    /// When it starts.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// When it ends.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// The calendar date (UTC) it starts on. The practice's date of a
    /// session is its local date: `PracticeSettings::local_date(span.start())`.
    pub fn date(&self) -> NaiveDate {
        self.start.date_naive()
    }

    /// Whole minutes from start to end.
    pub fn minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }

    /// True when the two spans share any instant (touching ends do not).
    pub fn overlaps(&self, other: &TimeSpan) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// True when `at` lies within the span, ends included.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at <= self.end
    }
}

/// An inclusive range of calendar dates, `until` not before `from`. A range
/// a client sends also lies within [`crate::input::check_date`]'s years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawDateRange")]
pub struct DateRange {
    from: NaiveDate,
    until: NaiveDate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDateRange {
    from: NaiveDate,
    until: NaiveDate,
}

impl TryFrom<RawDateRange> for DateRange {
    type Error = ParseError;
    fn try_from(raw: RawDateRange) -> Result<Self, ParseError> {
        Self::new(raw.from, raw.until)
    }
}

impl DateRange {
    /// A checked range.
    pub fn new(from: NaiveDate, until: NaiveDate) -> Result<Self, ParseError> {
        if until < from {
            return Err(ParseError::new(
                "date range",
                "until must not be before from",
            ));
        }
        Ok(Self { from, until })
    }

    /// First day covered.
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// Last day covered.
    pub fn until(&self) -> NaiveDate {
        self.until
    }

    /// True when the day lies in the range.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_empty_long_and_odd_characters() {
        assert!(ClientId::parse("c-1_A").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse(&"a".repeat(65)).is_err());
        assert!(ClientId::parse("-a").is_err());
        assert!(ClientId::parse("a b").is_err());
        assert!(ClientId::parse("é").is_err());
    }

    #[test]
    fn milligrams_are_positive_whole_numbers() {
        assert_eq!(Milligrams::new(150).map(Milligrams::get), Ok(150));
        assert!(Milligrams::new(0).is_err());
        let err = Milligrams::new(-5).unwrap_err();
        assert!(err.to_string().contains("-5"), "{err}");
        assert!(Milligrams::new(i64::MAX).is_err());
        assert!(serde_json::from_str::<Milligrams>("1.5").is_err());
    }

    #[test]
    fn cents_refuse_negative_and_beyond_max() {
        assert_eq!(Cents::dollars(175).get(), 17_500);
        assert!(Cents::new(-1).is_err());
        assert_eq!(Cents::new((1 << 53) - 1), Ok(Cents::MAX));
        assert!(Cents::new(1 << 53).is_err());
        assert!(Cents::new(i64::MAX).is_err());
        assert!(serde_json::from_str::<Cents>("9007199254740992").is_err());
        assert!(Cents::dollars(u32::MAX) < Cents::MAX);
        let one = Cents::new(1).unwrap();
        assert_eq!(Cents::MAX.checked_add(Cents::default()), Some(Cents::MAX));
        assert_eq!(Cents::MAX.checked_add(one), None);
        assert_eq!(one.checked_add(one).map(Cents::get), Some(2));
        assert_eq!(
            Cents::new(17_505).map(|c| c.to_string()),
            Ok("$175.05".into())
        );
    }

    #[test]
    fn blood_pressure_ranges_and_threshold() {
        let t = BloodPressure::new(140, 90).unwrap();
        assert!(!BloodPressure::parse("140/90").unwrap().is_above(t));
        assert!(BloodPressure::parse("141/80").unwrap().is_above(t));
        assert!(BloodPressure::parse("120/91").unwrap().is_above(t));
        assert!(BloodPressure::parse("80/120").is_err());
        assert!(BloodPressure::parse("400/80").is_err());
        assert!(BloodPressure::parse("120-80").is_err());
        assert!(
            serde_json::from_str::<BloodPressure>(r#"{"systolic":120,"diastolic":10}"#).is_err()
        );
    }

    #[test]
    fn scores_follow_published_ranges() {
        for (max, parse) in [
            (
                27,
                Phq9Score::new(27).is_ok() && Phq9Score::new(28).is_err(),
            ),
            (
                21,
                Gad7Score::new(21).is_ok() && Gad7Score::new(22).is_err(),
            ),
            (
                80,
                Pcl5Score::new(80).is_ok() && Pcl5Score::new(81).is_err(),
            ),
            (
                63,
                BdiIiScore::new(63).is_ok() && BdiIiScore::new(64).is_err(),
            ),
        ] {
            assert!(parse, "range 0–{max}");
        }
        assert!(Phq9Score::new(-1).is_err());
        let m: OutcomeMeasure =
            serde_json::from_str(r#"{"instrument":"bdi_ii","score":30}"#).unwrap();
        assert_eq!(m, OutcomeMeasure::BdiIi(BdiIiScore::new(30).unwrap()));
        let extra = serde_json::from_str::<OutcomeMeasure>(
            r#"{"instrument":"phq9","score":3,"severity":"mild"}"#,
        )
        .expect_err("an extra member is refused");
        assert!(extra.to_string().contains("severity"), "{extra}");
    }

    #[test]
    fn icd10_codes() {
        assert_eq!(Icd10Code::new("f33.1").unwrap().as_str(), "F33.1");
        assert!(Icd10Code::new("F43.10").is_ok());
        assert!(Icd10Code::new("F4").is_err());
        assert!(Icd10Code::new("F43.12345").is_err());
        assert!(Icd10Code::new("333.1").is_err());
    }

    #[test]
    fn spans_and_ranges_refuse_end_before_start() {
        let t0 = DateTime::parse_from_rfc3339("2026-01-05T10:00:00Z")
            .unwrap()
            .to_utc();
        assert!(TimeSpan::new(t0, t0).is_err());
        assert!(TimeSpan::new(t0, t0 - Duration::minutes(1)).is_err());
        assert!(TimeSpan::new(t0, t0 + Duration::hours(25)).is_err());
        let s = TimeSpan::new(t0, t0 + Duration::minutes(50)).unwrap();
        assert_eq!(s.minutes(), 50);
        let d = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        assert!(DateRange::new(d, d).is_ok());
        assert!(DateRange::new(d, d.pred_opt().unwrap()).is_err());
    }

    #[test]
    fn text_is_trimmed_and_non_empty() {
        assert_eq!(Text::new("  ok ").unwrap().as_str(), "ok");
        assert!(Text::new("   ").is_err());
        assert!(Text::new(&"x".repeat(Text::MAX_CHARS + 1)).is_err());
        assert!(Text::new("line one\nline two\ttabbed").is_ok());
        assert!(Text::new("nul \u{0} inside").is_err());
        assert!(Text::new("escape \u{1b}[31m").is_err());
    }
}
