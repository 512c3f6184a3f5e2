//! The schemas of the domain's checked value types, described at the edge.
//!
//! The domain crate parses every value and carries no schema crate; this
//! module says, once per value type, what its parser accepts: its JSON
//! type, format, range, length and pattern, from the domain's own
//! constants (`MAX_DOSE_MG`, `MAX_PAYMENT_CENTS`, `Text::MAX_CHARS`, each
//! score's `MAX`, ...). Enumerations are read from the domain enums'
//! `Deserialize` impls themselves ([`variants`]), so a variant added there
//! shows here. `tests/command_schema.rs` holds every bound to the parser
//! (the value at each bound is taken, one past it refused).
//!
//! Each type here is a marker (an uninhabited enum) named by
//! `#[schema(value_type = ...)]` on the field whose domain type it
//! describes.

use kapchart_domain::input::{
    EARLIEST_DATE, LATEST_DATE, MAX_DOSE_MG, MAX_ENTRY, MAX_PAYMENT_CENTS,
};
use kapchart_domain::{BdiIiScore, Gad7Score, Pcl5Score, Phq9Score, Rule, Text as DomainText};
use serde::de::{DeserializeOwned, Visitor};
use utoipa::openapi::schema::{
    AdditionalProperties, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
};

/// Defines a marker type whose schema is `$schema` (an expression giving
/// something `Into<Schema>`), named `$name` in the document.
macro_rules! described {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub enum $name {}

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let schema: utoipa::openapi::schema::Schema = $schema.into();
                schema.into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}
pub(crate) use described;

/// Characters free text must not hold: C0 controls but tab and line
/// breaks, DEL and C1, and the bidirectional embeddings, overrides and
/// isolates with the deprecated format controls (U+202A–U+202E,
/// U+2066–U+206F).
const TEXT_FORBIDDEN: &str = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u206F";

/// Characters names and labels must not hold (those of the Basic
/// Multilingual Plane: the description names the rest): every control,
/// the invisible format characters (Unicode Cf) and the line and
/// paragraph separators.
pub(crate) const NAME_FORBIDDEN: &str = r"\x00-\x1F\x7F-\x9F\xAD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B-\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\uFEFF\uFFF9-\uFFFB";

/// A whole string of allowed characters holding at least one that is not
/// white space (the parsers trim, and refuse what is left empty).
pub(crate) fn not_blank(forbidden: &str) -> String {
    format!(r"^[^{forbidden}]*[^{forbidden}\s][^{forbidden}]*$")
}

pub(crate) fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
}

pub(crate) fn integer(description: &str, minimum: i64, maximum: u64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(minimum))
        .maximum(Some(maximum))
        .description(Some(description))
}

/// The serialized names of a domain enum's variants, read from its
/// `Deserialize` impl: serde's derive hands them to `deserialize_enum`,
/// which [`Capture`] keeps (and then refuses to go on).
pub fn variants<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut seen = None;
    let _ = T::deserialize(Capture(&mut seen));
    seen.unwrap_or_default()
}

/// A deserializer that only notes the variants it is asked for.
struct Capture<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for Capture<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not an enum"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(variants);
        Err(serde::de::Error::custom("variants noted"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// A string enumeration of a domain enum's variants.
pub(crate) fn choice<T: DeserializeOwned>(description: &str) -> ObjectBuilder {
    string(description).enum_values(Some(variants::<T>().iter().copied()))
}

described!(
    /// An identifier.
    Id => string(
        "An identifier: 1 to 64 ASCII letters, digits, `-` and `_`, starting with a letter or digit.",
    )
    .pattern(Some("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"))
    .min_length(Some(1))
    .max_length(Some(64))
);

described!(
    /// Free text.
    Text => string(
        "Free text: 1 to 20,000 characters once trimmed; no control characters but line breaks and tabs; no bidirectional embedding, override or isolate controls (U+202A–U+202E, U+2066–U+2069) nor U+206A–U+206F.",
    )
    .pattern(Some(not_blank(TEXT_FORBIDDEN)))
    .min_length(Some(1))
    .max_length(Some(DomainText::MAX_CHARS))
);

described!(
    /// A short label.
    Label => string(
        "A short label (a provider, a consent form): 1 to 20,000 characters once trimmed; no control characters, no invisible format characters (Unicode Cf), no line or paragraph separators.",
    )
    .pattern(Some(not_blank(NAME_FORBIDDEN)))
    .min_length(Some(1))
    .max_length(Some(DomainText::MAX_CHARS))
);

described!(
    /// A person's name.
    PersonName => string(
        "A person's name: 1 to 200 characters once trimmed; no control characters, no invisible format characters (Unicode Cf), no line or paragraph separators.",
    )
    .pattern(Some(not_blank(NAME_FORBIDDEN)))
    .min_length(Some(1))
    .max_length(Some(200))
);

described!(
    /// A calendar date.
    Date => string(&format!("A day, `YYYY-MM-DD`, from {EARLIEST_DATE} to {LATEST_DATE}."))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(
            "^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        ))
);

described!(
    /// An instant.
    DateTime => string(&format!(
        "An instant, RFC 3339 with an offset (`2026-01-05T10:00:00Z`); its UTC day from {EARLIEST_DATE} to {LATEST_DATE}."
    ))
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
    .pattern(Some("^(19|20|21)[0-9]{2}-"))
);

described!(
    /// A dose.
    Milligrams => integer(
        "A dose in whole milligrams (a representation bound: clinical bounds come from the prescription).",
        1,
        u64::from(MAX_DOSE_MG),
    )
);

described!(
    /// A payment's amount.
    PaymentCents => integer(
        "An amount in US cents: more than zero, at most 10,000,000 ($100,000.00).",
        1,
        MAX_PAYMENT_CENTS.unsigned_abs(),
    )
);

described!(
    /// An entry's sequence number.
    EntryNumber => integer(
        "The sequence number of an entry of the record, 1-based as stored (at most 2^53 − 1).",
        1,
        MAX_ENTRY,
    )
);

described!(
    /// A count of exploration sessions.
    SessionCount => integer("A count of exploration sessions: 1 to 52.", 1, 52)
);

described!(
    /// A medication lot number.
    LotNumber => string("A medication lot number: 1 to 40 ASCII letters, digits or `-`.")
        .pattern(Some("^[A-Za-z0-9-]{1,40}$"))
        .min_length(Some(1))
        .max_length(Some(40))
);

described!(
    /// An ICD-10-CM code.
    Icd10Code => string(
        "An ICD-10-CM code such as `F33.1`: a letter, a digit, a letter or digit, then optionally `.` and 1 to 4 letters or digits (stored upper-case).",
    )
    .pattern(Some("^[A-Za-z][0-9][A-Za-z0-9](\\.[A-Za-z0-9]{1,4})?$"))
);

/// One instrument's branch of [`OutcomeMeasure`].
fn instrument(name: &str, title: &str, max: u8) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .title(Some(title))
        .property(
            "instrument",
            string("The instrument.").enum_values(Some([name])),
        )
        .required("instrument")
        .property(
            "score",
            integer(&format!("The total score: 0 to {max}."), 0, u64::from(max)),
        )
        .required("score")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
}

described!(
    /// An outcome measure.
    OutcomeMeasure => OneOfBuilder::new()
        .description(Some(
            "An instrument and its total score: PHQ-9 0–27, GAD-7 0–21, PCL-5 0–80, BDI-II 0–63.",
        ))
        .item(instrument("phq9", "PHQ-9", Phq9Score::MAX))
        .item(instrument("gad7", "GAD-7", Gad7Score::MAX))
        .item(instrument("pcl5", "PCL-5", Pcl5Score::MAX))
        .item(instrument("bdi_ii", "BDI-II", BdiIiScore::MAX))
);

described!(
    /// A rule's stable code.
    RuleCode => string("A rule's stable code (docs/domain.md lists every one).")
        .enum_values(Some(Rule::ALL.iter().map(|r| r.code())))
);

described!(
    /// Outcome of the intake.
    Suitability => choice::<kapchart_domain::Suitability>("Whether KAP suits the client.")
);

described!(
    /// Outcome of the medical evaluation.
    Clearance => choice::<kapchart_domain::Clearance>("Whether the client is medically cleared for ketamine.")
);

described!(
    /// The drug.
    Drug => choice::<kapchart_domain::Drug>("The drug: ketamine, the only one the practice doses.")
);

described!(
    /// Route of administration.
    Route => choice::<kapchart_domain::Route>(
        "Route of administration: sublingual in the practice; intravenous and intramuscular at affiliates only.",
    )
);

described!(
    /// Severity of an adverse event.
    AdverseSeverity => choice::<kapchart_domain::AdverseSeverity>("How severe an adverse event was.")
);

described!(
    /// How the client went home.
    Departure => choice::<kapchart_domain::Departure>("How the client went home (driving is not an option).")
);

described!(
    /// Why a session was cancelled.
    CancelReason => choice::<kapchart_domain::CancelReason>("Why a session was cancelled.")
);

described!(
    /// How a payment was made.
    PaymentMethod => choice::<kapchart_domain::PaymentMethod>("How a payment was made.")
);

described!(
    /// Who paid.
    Payer => choice::<kapchart_domain::Payer>("Who paid.")
);

described!(
    /// Why care ended.
    DischargeReason => choice::<kapchart_domain::DischargeReason>("Why care ended.")
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_the_serialized_names() {
        assert_eq!(
            variants::<kapchart_domain::Suitability>(),
            ["suitable", "not_suitable"]
        );
        assert_eq!(variants::<Rule>().len(), Rule::ALL.len());
        assert!(variants::<u32>().is_empty());
    }
}
