//! The practice's commands (`POST /api/v1/practice/commands`, admins) as
//! the API parses them: wire types whose fields are the domain's checked
//! types, and the schemas of the practice's value types (NPI, EIN, ZIP
//! code, ...), as [`super`] does for a client's commands.

use chrono::{DateTime, NaiveDate, Utc};
use kapchart_domain::input::{self, MAX_FEE_CENTS};
use kapchart_domain::{
    Address as DomainAddress, AddressLine, BloodPressure, Cents, City, CommandId, CptCodes,
    Credentials, EIN_PREFIXES, Ein, LicenceNumber, Npi, PersonName, PhoneNumber, PlaceOfService,
    Policy, PracticeName, ProviderRole, TimeZoneName, US_STATES, UsState, UserId, ZipCode,
    parse_json,
};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Type};

use super::values::{self, NAME_FORBIDDEN, described, integer, not_blank, string};
use super::{checked, wire_struct};
use crate::error::ApiError;

fn label(description: &str, max: usize) -> ObjectBuilder {
    string(description)
        .pattern(Some(not_blank(NAME_FORBIDDEN)))
        .min_length(Some(1))
        .max_length(Some(max))
}

described!(
    /// The practice's name.
    PracticeNameText => label("The practice's name as on superbills: 1 to 200 characters once trimmed; no control, invisible or direction-changing characters.", 200)
);

described!(
    /// A line of an address, or a city.
    AddressText => label("A line of a street address, or a city: 1 to 100 characters once trimmed; no control, invisible or direction-changing characters.", 100)
);

described!(
    /// A US state or territory.
    UsStateCode => string("A US state, the District of Columbia or a territory, as its USPS two-letter code (stored upper-case).")
        .enum_values(Some(US_STATES))
);

described!(
    /// A ZIP code.
    Zip => string("A ZIP code: `NNNNN` or ZIP+4 `NNNNN-NNNN`.")
        .pattern(Some("^[0-9]{5}(-[0-9]{4})?$"))
);

/// The phone numbers the parser takes, exactly: an optional leading 1, then
/// ten digits whose first and fourth are 2-9, with any of spaces and
/// `( ) - . +` around and between them.
const PHONE_PATTERN: &str = concat!(
    r"^[ ()+.-]*(1[ ()+.-]*)?",
    r"[2-9][ ()+.-]*[0-9][ ()+.-]*[0-9][ ()+.-]*",
    r"[2-9][ ()+.-]*[0-9][ ()+.-]*[0-9][ ()+.-]*",
    r"[0-9][ ()+.-]*[0-9][ ()+.-]*[0-9][ ()+.-]*[0-9][ ()+.-]*$",
);

/// The EINs the parser takes written as the pattern can say them: a prefix
/// the IRS assigns (the domain's list), an optional hyphen, seven digits.
fn ein_pattern() -> String {
    let prefixes: Vec<String> = EIN_PREFIXES.iter().map(|p| format!("{p:02}")).collect();
    format!("^({})-?[0-9]{{7}}$", prefixes.join("|"))
}

described!(
    /// A phone number.
    Phone => string("A North American phone number: ten digits (a leading country code 1 is dropped), written with any of spaces and `( ) - . +`; area code and exchange start with 2–9. Stored as `NNN-NNN-NNNN`.")
        .pattern(Some(PHONE_PATTERN))
);

described!(
    /// An NPI.
    NpiNumber => string("A National Provider Identifier: ten digits whose last is the Luhn check digit of the first nine prefixed with 80840 (e.g. `1234567893`).")
        .pattern(Some("^[0-9]{10}$"))
);

described!(
    /// An EIN.
    EinNumber => string("An employer identification number, `NN-NNNNNNN` (nine digits without the hyphen are taken too), whose first two digits are a prefix the IRS assigns.")
        .pattern(Some(ein_pattern()))
);

described!(
    /// A place of service code.
    PlaceOfServiceCode => string("A CMS place of service code: two digits, 01–99 (11 office; 02 telehealth elsewhere than the patient's home, 10 telehealth in the patient's home).")
        .pattern(Some("^(0[1-9]|[1-9][0-9])$"))
);

described!(
    /// A time zone.
    TimeZone => string("An IANA time zone name such as `America/Los_Angeles`: the practice's days are its local dates there.")
        .min_length(Some(1))
);

described!(
    /// A provider's credentials.
    CredentialsText => string("A provider's credentials as printed after their name (`LMFT`, `MD`, `PhD, LMFT`): 1 to 60 ASCII letters, digits, spaces and `, . - /`, with at least one letter.")
        .pattern(Some("^[A-Za-z0-9 ,./-]*[A-Za-z][A-Za-z0-9 ,./-]*$"))
        .min_length(Some(1))
        .max_length(Some(60))
);

described!(
    /// A licence number.
    LicenceNumberText => string("A state licence number: 1 to 30 ASCII letters, digits and `-` (stored upper-case).")
        .pattern(Some("^[A-Za-z0-9-]{1,30}$"))
        .min_length(Some(1))
        .max_length(Some(30))
);

described!(
    /// The codes a service is billed with.
    CptCodeList => utoipa::openapi::schema::ArrayBuilder::new()
        .description(Some(format!(
            "The CPT codes a service is billed with: at most {}, none twice; each five digits, or four digits and `F`, `T` or `U` (e.g. `90837`, `0820T`).",
            CptCodes::MAX
        )))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[0-9]{4}[0-9FTUftu]$")),
        )
        .max_items(Some(CptCodes::MAX))
        .unique_items(true)
);

described!(
    /// A fee.
    FeeCents => integer(
        "A fee in US cents: 0 (a service the practice does not charge for) to 10,000,000 ($100,000.00).",
        0,
        MAX_FEE_CENTS.unsigned_abs(),
    )
);

described!(
    /// A provider's role.
    ProviderRoleName => values::choice::<ProviderRole>("The role a provider renders services in.")
);

/// The range a policy value may take ([`Policy::RANGES`]).
fn policy_range(field: &str, description: &str) -> ObjectBuilder {
    let (lo, hi) = Policy::RANGES
        .iter()
        .find(|(name, _, _)| *name == field)
        .map_or((0, u16::MAX), |(_, lo, hi)| (*lo, *hi));
    integer(
        &format!(
            "{description} ({lo} to {hi}; outside it the record refuses the policy: `settings.out_of_range`)."
        ),
        i64::from(lo),
        u64::from(hi),
    )
}

described!(
    /// Minimum days between explorations.
    MinDaysBetweenExplorations => policy_range("min_days_between_explorations", "Explorations closer together than this many days are a soft stop")
);

described!(
    /// The integration window.
    IntegrationWindowDays => policy_range("integration_window_days", "An integration later than this many days after its exploration is a soft stop")
);

described!(
    /// The protocol's maximum.
    MaxExplorations => policy_range("max_explorations", "Dosed explorations beyond this many are a soft stop")
);

described!(
    /// The idle sign-out.
    IdleSignOutMinutes => policy_range("idle_sign_out_minutes", "Minutes of inactivity before a page session is signed out; 15 when left out")
);

wire_struct! {
    /// A street address.
    Address => DomainAddress {
        /// First line (street and number).
        #[schema(value_type = AddressText)]
        line1: AddressLine,
        /// Second line (suite), if any.
        #[serde(default)]
        #[schema(value_type = Option<AddressText>)]
        line2: Option<AddressLine>,
        /// City.
        #[schema(value_type = AddressText)]
        city: City,
        /// State.
        #[schema(value_type = UsStateCode)]
        state: UsState,
        /// ZIP code.
        #[schema(value_type = Zip)]
        zip: ZipCode,
    }
}

/// Who the practice is: the header of its superbills, and its time zone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPracticeIdentity {
    /// The practice's name.
    #[schema(value_type = PracticeNameText)]
    pub name: PracticeName,
    /// Where it is.
    pub address: Address,
    /// Its phone.
    #[schema(value_type = Phone)]
    pub phone: PhoneNumber,
    /// Its organizational NPI (type 2).
    #[schema(value_type = NpiNumber)]
    pub npi: Npi,
    /// Its tax id.
    #[schema(value_type = EinNumber)]
    pub tax_id: Ein,
    /// The place of service its sessions are billed with.
    #[schema(value_type = PlaceOfServiceCode)]
    pub place_of_service: PlaceOfService,
    /// The time zone its days are counted in.
    #[schema(value_type = TimeZone)]
    pub time_zone: TimeZoneName,
}

impl From<SetPracticeIdentity> for kapchart_domain::PracticeIdentity {
    fn from(w: SetPracticeIdentity) -> Self {
        Self {
            name: w.name,
            address: w.address.into(),
            phone: w.phone,
            npi: w.npi,
            tax_id: w.tax_id,
            place_of_service: w.place_of_service,
            time_zone: w.time_zone,
        }
    }
}

wire_struct! {
    /// A provider's state licence.
    Licence => kapchart_domain::Licence {
        /// The licence number.
        #[schema(value_type = LicenceNumberText)]
        number: LicenceNumber,
        /// The state that issued it.
        #[schema(value_type = UsStateCode)]
        state: UsState,
    }
}

/// A therapist or prescriber as a rendering provider on superbills
/// (replaces that user's previous entry).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetProvider {
    /// The staff account (user id) the provider signs in with.
    #[schema(value_type = values::Id)]
    pub user: UserId,
    /// The role they render services in.
    #[schema(value_type = ProviderRoleName)]
    pub role: ProviderRole,
    /// Their name as on their licence.
    #[serde(deserialize_with = "input::name")]
    #[schema(value_type = values::PersonName)]
    pub name: PersonName,
    /// Their credentials (LMFT, MD, ...).
    #[schema(value_type = CredentialsText)]
    pub credentials: Credentials,
    /// Their individual NPI (type 1).
    #[schema(value_type = NpiNumber)]
    pub npi: Npi,
    /// Their licence.
    pub licence: Licence,
    /// Whether they currently practise here (a former provider stays on
    /// record: past superbills name them).
    pub active: bool,
}

impl From<SetProvider> for kapchart_domain::Provider {
    fn from(w: SetProvider) -> Self {
        Self {
            user: w.user,
            role: w.role,
            name: w.name,
            credentials: w.credentials,
            npi: w.npi,
            licence: w.licence.into(),
            active: w.active,
        }
    }
}

fn default_idle_sign_out_minutes() -> u16 {
    Policy::standard().idle_sign_out_minutes
}

wire_struct! {
    /// A new policy version (its version number is the record's to give).
    AdoptPolicy => kapchart_domain::AdoptPolicy {
        /// In force for commands issued at or after this instant: not
        /// before the command is issued, and after the latest version's.
        #[serde(deserialize_with = "input::instant")]
        #[schema(value_type = values::DateTime)]
        effective_from: DateTime<Utc>,
        /// Pre-dose blood pressure above this needs the prescriber's
        /// authorization.
        #[serde(deserialize_with = "checked::<_, super::BloodPressure, _>")]
        #[schema(value_type = super::BloodPressure)]
        bp_threshold: BloodPressure,
        /// Explorations closer together than this many days are a soft
        /// stop.
        #[schema(value_type = MinDaysBetweenExplorations)]
        min_days_between_explorations: u16,
        /// An integration later than this many days after its exploration
        /// is a soft stop.
        #[schema(value_type = IntegrationWindowDays)]
        integration_window_days: u16,
        /// Dosed explorations beyond this many are a soft stop.
        #[schema(value_type = MaxExplorations)]
        max_explorations: u16,
        /// Minutes of inactivity before a page session is signed out.
        #[serde(default = "default_idle_sign_out_minutes")]
        #[schema(value_type = IdleSignOutMinutes)]
        idle_sign_out_minutes: u16,
    }
}

wire_struct! {
    /// A service's fee and the codes it is billed with.
    ServiceFee => kapchart_domain::ServiceFee {
        /// The fee, in cents.
        #[serde(deserialize_with = "input::fee")]
        #[schema(value_type = FeeCents)]
        fee: Cents,
        /// The CPT codes it is billed with.
        #[schema(value_type = CptCodeList)]
        codes: CptCodes,
    }
}

/// A new fee schedule version (its version number is the record's to give).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdoptFeeSchedule {
    /// In force for sessions held on or after this day (the practice's
    /// local date): after the day the command is issued on, and after the
    /// latest version's.
    #[serde(deserialize_with = "input::date")]
    #[schema(value_type = values::Date)]
    pub effective_from: NaiveDate,
    /// Intake.
    pub intake: ServiceFee,
    /// Preparation.
    pub preparation: ServiceFee,
    /// Exploration.
    pub exploration: ServiceFee,
    /// Integration.
    pub integration: ServiceFee,
    /// Ongoing care.
    pub ongoing_care: ServiceFee,
}

impl From<AdoptFeeSchedule> for kapchart_domain::AdoptFeeSchedule {
    fn from(w: AdoptFeeSchedule) -> Self {
        Self {
            effective_from: w.effective_from,
            intake: w.intake.into(),
            preparation: w.preparation.into(),
            exploration: w.exploration.into(),
            integration: w.integration.into(),
            ongoing_care: w.ongoing_care.into(),
        }
    }
}

/// The change to the practice's settings: exactly one command, tagged by
/// its name (docs/commands.md gives each command's fields and an example).
#[derive(Debug, Deserialize, ToSchema)]
pub enum PracticeCommandBody {
    /// Sets (or replaces) the practice's identity and time zone.
    SetPracticeIdentity(SetPracticeIdentity),
    /// Sets (or replaces) one provider, by staff user id.
    SetProvider(SetProvider),
    /// Adopts a new policy version, in force from its `effective_from`.
    AdoptPolicy(AdoptPolicy),
    /// Adopts a new fee schedule version, in force from its
    /// `effective_from`.
    AdoptFeeSchedule(AdoptFeeSchedule),
}

impl From<PracticeCommandBody> for kapchart_domain::PracticeCommandBody {
    fn from(w: PracticeCommandBody) -> Self {
        use kapchart_domain::PracticeCommandBody as D;
        match w {
            PracticeCommandBody::SetPracticeIdentity(c) => D::SetPracticeIdentity(c.into()),
            PracticeCommandBody::SetProvider(c) => D::SetProvider(c.into()),
            PracticeCommandBody::AdoptPolicy(c) => D::AdoptPolicy(c.into()),
            PracticeCommandBody::AdoptFeeSchedule(c) => D::AdoptFeeSchedule(c.into()),
        }
    }
}

/// A change to the practice's settings. The actor and the time come from
/// the token and the server's clock.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PracticeCommandRequest {
    /// Chosen by the caller: the same id with the same body is applied
    /// once; with a different body it is refused (409).
    #[schema(value_type = values::Id)]
    pub id: CommandId,
    /// The change.
    pub body: PracticeCommandBody,
}

impl PracticeCommandRequest {
    /// Parses a request from its JSON text, naming the first bad field
    /// (`body.SetPracticeIdentity.npi`).
    ///
    /// # Errors
    /// 400 naming the field.
    pub fn parse(text: &str) -> Result<crate::PracticeCommandRequest, ApiError> {
        let wire: PracticeCommandRequest = parse_json(text).map_err(|e| ApiError::BadRequest {
            field: e.field,
            message: e.message,
        })?;
        Ok(crate::PracticeCommandRequest {
            id: wire.id,
            body: wire.body.into(),
        })
    }
}
