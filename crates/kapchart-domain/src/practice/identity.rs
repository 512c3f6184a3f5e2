//! The practice's identity and its providers, as checked value types.
//!
//! What a superbill's header and a claim's provider fields need: the
//! practice's name, address, phone, organizational NPI (type 2), employer
//! identification number and place of service; each provider's name,
//! credentials, individual NPI (type 1) and licence; and the time zone the
//! practice's days are counted in. Every type is parsed, not validated
//! (private fields, a checked parser serde uses too), and its parse error
//! names the field and the rule broken, never the text refused.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::input::is_hidden_in_names;
use crate::types::{ParseError, PersonName, UserId};

/// A string newtype with a checked parser `fn(&str) -> Result<String, ParseError>`
/// that returns the stored (normalized) form.
macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses the value (see the type's rules).
            pub fn parse(raw: &str) -> Result<Self, ParseError> {
                $check(raw).map(Self)
            }

            /// The value as stored.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(raw: String) -> Result<Self, ParseError> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// Trimmed text of 1 to `max` characters with no control, invisible or
/// direction-changing characters.
fn label(what: &'static str, raw: &str, max: usize) -> Result<String, ParseError> {
    let t = raw.trim();
    let n = t.chars().count();
    if n == 0 || n > max {
        return Err(ParseError::new(
            what,
            format!("must be 1 to {max} characters, got {n}"),
        ));
    }
    if t.chars().any(|c| c.is_control() || is_hidden_in_names(c)) {
        return Err(ParseError::new(
            what,
            "must not contain control, invisible or direction-changing characters",
        ));
    }
    Ok(t.to_owned())
}

fn practice_name(raw: &str) -> Result<String, ParseError> {
    label("practice name", raw, 200)
}
fn address_line(raw: &str) -> Result<String, ParseError> {
    label("address line", raw, 100)
}
fn city(raw: &str) -> Result<String, ParseError> {
    label("city", raw, 100)
}

checked_string!(
    /// The practice's name as it appears on superbills: 1–200 characters,
    /// no control, invisible or direction-changing characters.
    PracticeName,
    practice_name
);
checked_string!(
    /// One line of a street address: 1–100 characters, no control,
    /// invisible or direction-changing characters.
    AddressLine,
    address_line
);
checked_string!(
    /// A city: 1–100 characters, no control, invisible or
    /// direction-changing characters.
    City,
    city
);

/// The USPS two-letter codes of the states, the District of Columbia and
/// the territories (AS, GU, MP, PR, VI).
pub const US_STATES: [&str; 56] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI",
];

fn us_state(raw: &str) -> Result<String, ParseError> {
    let code = raw.trim().to_ascii_uppercase();
    if US_STATES.contains(&code.as_str()) {
        Ok(code)
    } else {
        Err(ParseError::new(
            "state",
            "must be a USPS two-letter state or territory code, e.g. CA",
        ))
    }
}

checked_string!(
    /// A US state, the District of Columbia or a territory, as its USPS
    /// two-letter code ([`US_STATES`]); stored upper-case.
    UsState,
    us_state
);

fn zip_code(raw: &str) -> Result<String, ParseError> {
    let z = raw.trim();
    let b = z.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let ok = match b.len() {
        5 => digits(b),
        10 => digits(&b[..5]) && b[5] == b'-' && digits(&b[6..]),
        _ => false,
    };
    if ok {
        Ok(z.to_owned())
    } else {
        Err(ParseError::new(
            "ZIP code",
            "must be 5 digits or ZIP+4 (NNNNN-NNNN)",
        ))
    }
}

checked_string!(
    /// A ZIP code: `NNNNN` or ZIP+4 `NNNNN-NNNN`.
    ZipCode,
    zip_code
);

fn phone(raw: &str) -> Result<String, ParseError> {
    let what = "phone";
    if raw
        .chars()
        .any(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '+')))
    {
        return Err(ParseError::new(
            what,
            "may hold only digits, spaces and ( ) - . +",
        ));
    }
    let mut digits: Vec<u8> = raw.bytes().filter(u8::is_ascii_digit).collect();
    if digits.len() == 11 && digits[0] == b'1' {
        digits.remove(0);
    }
    if digits.len() != 10 {
        return Err(ParseError::new(
            what,
            "must be a 10-digit North American number (an optional leading 1)",
        ));
    }
    if digits[0] < b'2' || digits[3] < b'2' {
        return Err(ParseError::new(
            what,
            "area code and exchange must not start with 0 or 1",
        ));
    }
    let d = String::from_utf8_lossy(&digits).into_owned();
    Ok(format!("{}-{}-{}", &d[..3], &d[3..6], &d[6..]))
}

checked_string!(
    /// A North American phone number, stored as `NNN-NNN-NNNN`: ten digits
    /// (a leading country code 1 is dropped), written with any of
    /// spaces, `( ) - . +`; area code and exchange start with 2–9.
    PhoneNumber,
    phone
);

/// The check digit of an NPI's first nine digits: the Luhn check digit of
/// the digits prefixed with 80840 (the NPI's ISO card issuer prefix).
fn npi_check_digit(first_nine: &[u8]) -> u8 {
    let mut sum = 0u32;
    // From the right, the digit next to the (missing) check digit is doubled.
    for (i, &b) in b"80840".iter().chain(first_nine).rev().enumerate() {
        let d = u32::from(b - b'0');
        sum += if i % 2 == 0 {
            let twice = d * 2;
            twice / 10 + twice % 10
        } else {
            d
        };
    }
    // sum % 10 < 10, so the result is a digit.
    ((10 - sum % 10) % 10) as u8
}

fn npi(raw: &str) -> Result<String, ParseError> {
    let n = raw.trim();
    let b = n.as_bytes();
    if b.len() != 10 || !b.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::new("NPI", "must be 10 digits"));
    }
    let expected = npi_check_digit(&b[..9]);
    if b[9] - b'0' != expected {
        return Err(ParseError::new(
            "NPI",
            "the check digit (the tenth digit) does not match: the Luhn check with the prefix 80840 fails",
        ));
    }
    Ok(n.to_owned())
}

checked_string!(
    /// A National Provider Identifier: ten digits whose last is the Luhn
    /// check digit of the first nine prefixed with 80840 (e.g. 1234567893).
    /// Whether it is an individual's (type 1) or an organization's (type 2)
    /// is the NPPES registry's fact, not the number's: the practice's
    /// identity holds its type 2 NPI, each provider their type 1.
    Npi,
    npi
);

/// EIN prefixes the IRS assigns (its campuses and online service). Others
/// (00, 07–09, 17–19, 28, 29, 49, 69, 70, 78, 79, 89, 96, 97) are not EINs.
pub const EIN_PREFIXES: [u8; 83] = [
    1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 26, 27, 30, 31, 32, 33,
    34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 50, 51, 52, 53, 54, 55, 56, 57, 58,
    59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 71, 72, 73, 74, 75, 76, 77, 80, 81, 82, 83, 84, 85, 86,
    87, 88, 90, 91, 92, 93, 94, 95, 98, 99,
];

fn ein(raw: &str) -> Result<String, ParseError> {
    let t = raw.trim();
    let b = t.as_bytes();
    let digits: Vec<u8> = match b.len() {
        10 if b[2] == b'-' => b[..2].iter().chain(&b[3..]).copied().collect(),
        9 => b.to_vec(),
        _ => Vec::new(),
    };
    if digits.len() != 9 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::new(
            "EIN",
            "must be an employer identification number NN-NNNNNNN",
        ));
    }
    let prefix = (digits[0] - b'0') * 10 + (digits[1] - b'0');
    if !EIN_PREFIXES.contains(&prefix) {
        return Err(ParseError::new(
            "EIN",
            "the first two digits are not a prefix the IRS assigns",
        ));
    }
    let d = String::from_utf8_lossy(&digits).into_owned();
    Ok(format!("{}-{}", &d[..2], &d[2..]))
}

checked_string!(
    /// An employer identification number (the practice's tax id), stored
    /// as `NN-NNNNNNN` (nine digits are accepted without the hyphen), whose
    /// first two digits are a prefix the IRS assigns.
    Ein,
    ein
);

fn place_of_service(raw: &str) -> Result<String, ParseError> {
    let t = raw.trim();
    let b = t.as_bytes();
    if b.len() == 2 && b.iter().all(u8::is_ascii_digit) && t != "00" {
        Ok(t.to_owned())
    } else {
        Err(ParseError::new(
            "place of service",
            "must be a two-digit CMS place of service code 01–99, e.g. 11 (office), 02 or 10 (telehealth)",
        ))
    }
}

checked_string!(
    /// A CMS place of service code: two digits, 01–99 (11 office; 02
    /// telehealth elsewhere than the patient's home, 10 telehealth in the
    /// patient's home).
    PlaceOfService,
    place_of_service
);

fn credentials(raw: &str) -> Result<String, ParseError> {
    let t = raw.trim();
    let ok = (1..=60).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b',' | b'.' | b'-' | b'/'))
        && t.bytes().any(|b| b.is_ascii_alphabetic());
    if ok {
        Ok(t.to_owned())
    } else {
        Err(ParseError::new(
            "credentials",
            "must be 1–60 ASCII letters, digits, spaces and , . - / (e.g. LMFT, MD, PMHNP-BC)",
        ))
    }
}

checked_string!(
    /// A provider's credentials as printed after their name (LMFT, MD,
    /// "PhD, LMFT"): 1–60 ASCII letters, digits, spaces and `, . - /`.
    Credentials,
    credentials
);

fn licence_number(raw: &str) -> Result<String, ParseError> {
    let t = raw.trim();
    let ok = (1..=30).contains(&t.len())
        && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && t.bytes().any(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(t.to_ascii_uppercase())
    } else {
        Err(ParseError::new(
            "licence number",
            "must be 1–30 ASCII letters, digits and '-'",
        ))
    }
}

checked_string!(
    /// A state licence number: 1–30 ASCII letters, digits and `-`, stored
    /// upper-case.
    LicenceNumber,
    licence_number
);

/// The practice's time zone: an IANA time zone name such as
/// `America/Los_Angeles`. The practice's days (a session's date of service,
/// spacing and windows in days, "today") are its local dates there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(chrono_tz::Tz);

impl TimeZoneName {
    /// Coordinated Universal Time: the zone of a practice that has not
    /// configured one.
    pub const UTC: TimeZoneName = TimeZoneName(chrono_tz::UTC);

    /// Parses an IANA time zone name (case as in the database).
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        raw.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            ParseError::new(
                "time zone",
                "must be an IANA time zone name, e.g. America/Los_Angeles",
            )
        })
    }

    /// The zone.
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// The IANA name.
    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }
}

impl Default for TimeZoneName {
    fn default() -> Self {
        Self::UTC
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = ParseError;
    fn try_from(raw: String) -> Result<Self, ParseError> {
        Self::parse(&raw)
    }
}

impl From<TimeZoneName> for String {
    fn from(z: TimeZoneName) -> String {
        z.as_str().to_owned()
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A street address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// First line (street and number).
    pub line1: AddressLine,
    /// Second line (suite), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<AddressLine>,
    /// City.
    pub city: City,
    /// State.
    pub state: UsState,
    /// ZIP code.
    pub zip: ZipCode,
}

/// Who the practice is: the header of its superbills, and its time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeIdentity {
    /// The practice's name.
    pub name: PracticeName,
    /// Where it is.
    pub address: Address,
    /// Its phone.
    pub phone: PhoneNumber,
    /// Its organizational NPI (type 2).
    pub npi: Npi,
    /// Its tax id.
    pub tax_id: Ein,
    /// The place of service its sessions are billed with.
    pub place_of_service: PlaceOfService,
    /// The time zone its days are counted in.
    pub time_zone: TimeZoneName,
}

/// The roles a provider renders services in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderRole {
    /// A KAP therapist.
    Therapist,
    /// An affiliated prescriber.
    Prescriber,
}

impl ProviderRole {
    /// The staff role of the same name.
    pub fn role(self) -> crate::command::Role {
        match self {
            ProviderRole::Therapist => crate::command::Role::Therapist,
            ProviderRole::Prescriber => crate::command::Role::Prescriber,
        }
    }
}

/// A provider's state licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Licence {
    /// The licence number.
    pub number: LicenceNumber,
    /// The state that issued it.
    pub state: UsState,
}

/// A therapist or prescriber as a rendering provider on superbills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// The staff account (user id) the provider signs in with.
    pub user: UserId,
    /// The role they render services in.
    pub role: ProviderRole,
    /// Their name as on their licence.
    #[serde(deserialize_with = "crate::input::name")]
    pub name: PersonName,
    /// Their credentials (LMFT, MD, ...).
    pub credentials: Credentials,
    /// Their individual NPI (type 1).
    pub npi: Npi,
    /// Their licence.
    pub licence: Licence,
    /// Whether they currently practise here (a former provider stays on
    /// record: past superbills name them).
    pub active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npi_check_digit_is_luhn_with_the_80840_prefix() {
        assert_eq!(
            Npi::parse("1234567893").map(|n| n.0),
            Ok("1234567893".into())
        );
        for wrong in ["1234567890", "1234567891", "1234567894", "1234567899"] {
            let e = Npi::parse(wrong).unwrap_err();
            assert_eq!(e.what, "NPI");
            assert!(e.message.contains("check digit"), "{e}");
        }
        assert!(Npi::parse("123456789").is_err());
        assert!(Npi::parse("12345678931").is_err());
        assert!(Npi::parse("12345a7893").is_err());
        // Further numbers whose check digit holds.
        for ok in ["1245319599", "1982736450", "1003000126"] {
            assert!(Npi::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn ein_needs_an_irs_prefix() {
        assert_eq!(
            Ein::parse("12-3456789").map(|e| e.0),
            Ok("12-3456789".into())
        );
        assert_eq!(
            Ein::parse("123456789").map(|e| e.0),
            Ok("12-3456789".into())
        );
        for bad in ["00-1234567", "07-1234567", "89-1234567", "96-1234567"] {
            let e = Ein::parse(bad).unwrap_err();
            assert!(e.message.contains("prefix"), "{bad}: {e}");
        }
        for bad in ["12-345678", "1-23456789", "12_3456789", "ab-cdefghi"] {
            assert!(Ein::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_zips_states_and_places() {
        assert_eq!(
            PhoneNumber::parse("+1 (415) 555-0123").map(|p| p.0),
            Ok("415-555-0123".into())
        );
        assert!(PhoneNumber::parse("415 555 012").is_err());
        assert!(PhoneNumber::parse("115-555-0123").is_err());
        assert!(PhoneNumber::parse("415-555-0123 x2").is_err());
        assert!(ZipCode::parse("94110").is_ok());
        assert!(ZipCode::parse("94110-1234").is_ok());
        assert!(ZipCode::parse("9411").is_err());
        assert!(ZipCode::parse("94110 1234").is_err());
        assert_eq!(UsState::parse("ca").map(|s| s.0), Ok("CA".into()));
        assert!(UsState::parse("XX").is_err());
        for ok in ["11", "02", "10", "99"] {
            assert!(PlaceOfService::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["00", "1", "111", "1a"] {
            assert!(PlaceOfService::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones_are_iana_names() {
        let la = TimeZoneName::parse("America/Los_Angeles").unwrap();
        assert_eq!(la.as_str(), "America/Los_Angeles");
        assert_eq!(
            serde_json::to_string(&la).unwrap(),
            "\"America/Los_Angeles\""
        );
        assert!(TimeZoneName::parse("Pacific Time").is_err());
        assert!(TimeZoneName::parse("").is_err());
        assert_eq!(TimeZoneName::default().as_str(), "UTC");
    }

    #[test]
    fn labels_credentials_and_licences() {
        assert!(PracticeName::parse("Harbor KAP Clinic").is_ok());
        assert!(PracticeName::parse("  ").is_err());
        assert!(PracticeName::parse("Harbor\u{202E}KAP").is_err());
        assert!(Credentials::parse("PhD, LMFT").is_ok());
        assert!(Credentials::parse("PMHNP-BC").is_ok());
        assert!(Credentials::parse("").is_err());
        assert!(Credentials::parse("M.D.;drop").is_err());
        assert_eq!(
            LicenceNumber::parse("lmft-12345").map(|l| l.0),
            Ok("LMFT-12345".into())
        );
        assert!(LicenceNumber::parse("A 1").is_err());
    }
}
