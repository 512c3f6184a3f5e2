//! Versioned practice settings: the clinical policy and the fee schedule.
//!
//! Both are supplied to the aggregate by the edges (through
//! [`crate::PracticeServices`]); the domain only chooses which version
//! applies. The policy in force when a command is issued decides it, and the
//! event records that policy's version. A charge is priced by the fee schedule
//! in force on the session's date, so fee changes never reprice past sessions.
//!
//! The settings also carry the practice's time zone (its days are local
//! dates there), its identity and its providers. They are the state of the
//! practice's own record ([`crate::PracticeRecord::settings`]); a practice
//! that has configured nothing has [`PracticeSettings::standard`].

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::practice::{PracticeIdentity, Provider, ServiceCodes, TimeZoneName};
use crate::types::{BloodPressure, Cents, UserId};

/// One version of the practice's clinical policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Version number, increasing.
    pub version: u32,
    /// In force for commands issued at or after this instant.
    pub effective_from: DateTime<Utc>,
    /// Pre-dose blood pressure above this (either number) needs a prescriber
    /// override. Default 140/90.
    pub bp_threshold: BloodPressure,
    /// Explorations closer together than this many days are a soft stop.
    /// Default 7.
    pub min_days_between_explorations: u16,
    /// An integration later than this many days after its exploration is a
    /// soft stop. Default 7.
    pub integration_window_days: u16,
    /// Dosed explorations beyond this many are a soft stop (the standard
    /// protocol is 6–8). Default 8.
    pub max_explorations: u16,
    /// A signed-in page session idle this many minutes is signed out
    /// (1–60). Default 15. Versions written before it existed read as 15.
    #[serde(default = "Policy::standard_idle_sign_out_minutes")]
    pub idle_sign_out_minutes: u16,
}

impl Policy {
    /// The defaults, as version 1 in force from 2000-01-01.
    pub fn standard() -> Self {
        Self {
            version: 1,
            effective_from: DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(10_957), // 2000-01-01
            bp_threshold: BloodPressure::new(140, 90).expect("140/90 is a valid reading"),
            min_days_between_explorations: 7,
            integration_window_days: 7,
            max_explorations: 8,
            idle_sign_out_minutes: Self::standard_idle_sign_out_minutes(),
        }
    }

    fn standard_idle_sign_out_minutes() -> u16 {
        15
    }

    /// The allowed range of each value: (field, lowest, highest).
    pub const RANGES: [(&'static str, u16, u16); 4] = [
        ("min_days_between_explorations", 0, 365),
        ("integration_window_days", 1, 365),
        ("max_explorations", 1, 100),
        ("idle_sign_out_minutes", 1, 60),
    ];

    /// The first value outside its range ([`Policy::RANGES`]), as (field,
    /// allowed range in words), or `None` when every value is in range.
    pub fn out_of_range(&self) -> Option<(&'static str, String)> {
        let values = [
            self.min_days_between_explorations,
            self.integration_window_days,
            self.max_explorations,
            self.idle_sign_out_minutes,
        ];
        Self::RANGES
            .iter()
            .zip(values)
            .find(|((_, lo, hi), v)| !(*lo..=*hi).contains(v))
            .map(|((field, lo, hi), v)| (*field, format!("must be {lo}–{hi}, got {v}")))
    }
}

/// Services that carry a fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillableService {
    /// Mental health intake with the KAP therapist.
    Intake,
    /// Preparation session.
    Preparation,
    /// Exploration (dosing) session.
    Exploration,
    /// Integration session.
    Integration,
    /// Ongoing care session.
    OngoingCare,
}

/// One version of the fee schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeSchedule {
    /// Version number, increasing.
    pub version: u32,
    /// In force for sessions held on or after this date.
    pub effective_from: NaiveDate,
    /// Intake session fee.
    pub intake: Cents,
    /// Preparation session fee.
    pub preparation: Cents,
    /// Exploration session fee.
    pub exploration: Cents,
    /// Integration session fee.
    pub integration: Cents,
    /// Ongoing care session fee.
    pub ongoing_care: Cents,
    /// The CPT codes each service is billed with. Versions written before
    /// codes were part of the schedule read as [`ServiceCodes::standard`].
    #[serde(default)]
    pub codes: ServiceCodes,
}

impl FeeSchedule {
    /// The practice page's fees ($175 intake and preparation, $550
    /// exploration, $175 integration, $175 ongoing care) as version 1, in
    /// force from 2000-01-01.
    pub fn standard() -> Self {
        Self {
            version: 1,
            effective_from: NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date"),
            intake: Cents::dollars(175),
            preparation: Cents::dollars(175),
            exploration: Cents::dollars(550),
            integration: Cents::dollars(175),
            ongoing_care: Cents::dollars(175),
            codes: ServiceCodes::standard(),
        }
    }

    /// The fee for a service.
    pub fn fee(&self, service: BillableService) -> Cents {
        match service {
            BillableService::Intake => self.intake,
            BillableService::Preparation => self.preparation,
            BillableService::Exploration => self.exploration,
            BillableService::Integration => self.integration,
            BillableService::OngoingCare => self.ongoing_care,
        }
    }
}

/// Why a set of practice settings was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// No policy or no fee schedule at all.
    #[error("practice settings need at least one {0}")]
    Empty(&'static str),
    /// Versions and effective dates must both increase.
    #[error("{0} versions and effective dates must both strictly increase")]
    NotIncreasing(&'static str),
    /// A policy value outside its allowed range.
    #[error("policy version {version}: {field} {rule}")]
    Invalid {
        /// Policy version.
        version: u32,
        /// The field.
        field: &'static str,
        /// The allowed range, e.g. "must be 1–365, got 0".
        rule: String,
    },
}

/// The full history of policy and fee schedule versions, with the
/// practice's time zone, identity and providers as they are now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeSettings {
    policies: Vec<Policy>,
    fee_schedules: Vec<FeeSchedule>,
    #[serde(default)]
    time_zone: TimeZoneName,
    #[serde(default)]
    identity: Option<PracticeIdentity>,
    #[serde(default)]
    providers: BTreeMap<UserId, Provider>,
}

impl PracticeSettings {
    /// Checked settings: each list non-empty, with versions and effective
    /// dates strictly increasing, and policy values in range.
    pub fn new(
        policies: Vec<Policy>,
        fee_schedules: Vec<FeeSchedule>,
    ) -> Result<Self, SettingsError> {
        if policies.is_empty() {
            return Err(SettingsError::Empty("policy"));
        }
        if fee_schedules.is_empty() {
            return Err(SettingsError::Empty("fee schedule"));
        }
        let increasing_p = policies
            .windows(2)
            .all(|w| w[0].version < w[1].version && w[0].effective_from < w[1].effective_from);
        if !increasing_p {
            return Err(SettingsError::NotIncreasing("policy"));
        }
        let increasing_f = fee_schedules
            .windows(2)
            .all(|w| w[0].version < w[1].version && w[0].effective_from < w[1].effective_from);
        if !increasing_f {
            return Err(SettingsError::NotIncreasing("fee schedule"));
        }
        for p in &policies {
            if let Some((field, rule)) = p.out_of_range() {
                return Err(SettingsError::Invalid {
                    version: p.version,
                    field,
                    rule,
                });
            }
        }
        Ok(Self::from_versions(policies, fee_schedules))
    }

    /// Settings of versions the practice's record adopted under its rules
    /// (increasing, in range), in UTC, with no identity and no providers.
    pub(crate) fn from_versions(policies: Vec<Policy>, fee_schedules: Vec<FeeSchedule>) -> Self {
        Self {
            policies,
            fee_schedules,
            time_zone: TimeZoneName::UTC,
            identity: None,
            providers: BTreeMap::new(),
        }
    }

    /// The standard policy and the practice page's fee schedule, in UTC,
    /// with no identity and no providers: the settings of a practice that
    /// has configured nothing.
    pub fn standard() -> Self {
        Self::from_versions(vec![Policy::standard()], vec![FeeSchedule::standard()])
    }

    /// The same settings with days counted in `zone`.
    pub fn with_time_zone(mut self, zone: TimeZoneName) -> Self {
        self.time_zone = zone;
        self
    }

    /// The same settings with this identity; days are counted in its time
    /// zone.
    pub fn with_identity(mut self, identity: PracticeIdentity) -> Self {
        self.time_zone = identity.time_zone;
        self.identity = Some(identity);
        self
    }

    /// The same settings with these providers (one per user; a later one
    /// for the same user replaces an earlier).
    pub fn with_providers(mut self, providers: impl IntoIterator<Item = Provider>) -> Self {
        self.providers = providers.into_iter().map(|p| (p.user.clone(), p)).collect();
        self
    }

    /// The time zone the practice's days are counted in (UTC until the
    /// practice sets its identity).
    pub fn time_zone(&self) -> TimeZoneName {
        self.time_zone
    }

    /// The practice's local date at an instant: the day boundary of every
    /// rule counted in days, of "today", and of a session's date of service.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone.tz()).date_naive()
    }

    /// The practice's identity, once set.
    pub fn identity(&self) -> Option<&PracticeIdentity> {
        self.identity.as_ref()
    }

    /// A provider by staff user id (active or not).
    pub fn provider(&self, user: &UserId) -> Option<&Provider> {
        self.providers.get(user)
    }

    /// Every provider, active or not, by user id.
    pub fn providers(&self) -> impl Iterator<Item = &Provider> {
        self.providers.values()
    }

    /// The policy in force at an instant, if any.
    pub fn policy_at(&self, at: DateTime<Utc>) -> Option<&Policy> {
        self.policies.iter().rev().find(|p| p.effective_from <= at)
    }

    /// The fee schedule in force on a date, if any.
    pub fn fees_on(&self, day: NaiveDate) -> Option<&FeeSchedule> {
        self.fee_schedules
            .iter()
            .rev()
            .find(|f| f.effective_from <= day)
    }

    /// All policy versions, oldest first.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// All fee schedule versions, oldest first.
    pub fn fee_schedules(&self) -> &[FeeSchedule] {
        &self.fee_schedules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_chosen_by_date() {
        let mut v2 = FeeSchedule::standard();
        v2.version = 2;
        v2.effective_from = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        v2.exploration = Cents::dollars(600);
        let s = PracticeSettings::new(vec![Policy::standard()], vec![FeeSchedule::standard(), v2])
            .unwrap();
        let june = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let july = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert_eq!(
            s.fees_on(june).unwrap().fee(BillableService::Exploration),
            Cents::dollars(550)
        );
        assert_eq!(
            s.fees_on(july).unwrap().fee(BillableService::Exploration),
            Cents::dollars(600)
        );
        assert!(
            s.fees_on(NaiveDate::from_ymd_opt(1999, 1, 1).unwrap())
                .is_none()
        );
    }

    #[test]
    fn local_dates_follow_the_time_zone_across_daylight_saving() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let utc = PracticeSettings::standard();
        let la = PracticeSettings::standard()
            .with_time_zone(TimeZoneName::parse("America/Los_Angeles").unwrap());
        // 23:59 PST on March 7, 2026; 00:00 PST on March 8; 23:59 PDT on
        // March 8 (the clocks went forward at 02:00).
        assert_eq!(la.local_date(at("2026-03-08T07:59:00Z")), day(2026, 3, 7));
        assert_eq!(la.local_date(at("2026-03-08T08:00:00Z")), day(2026, 3, 8));
        assert_eq!(la.local_date(at("2026-03-09T06:59:00Z")), day(2026, 3, 8));
        assert_eq!(la.local_date(at("2026-03-09T07:00:00Z")), day(2026, 3, 9));
        // November 1 lasts 25 hours: 00:00 PDT to 23:59 PST.
        assert_eq!(la.local_date(at("2026-11-01T07:00:00Z")), day(2026, 11, 1));
        assert_eq!(la.local_date(at("2026-11-02T07:59:00Z")), day(2026, 11, 1));
        assert_eq!(la.local_date(at("2026-11-02T08:00:00Z")), day(2026, 11, 2));
        assert_eq!(utc.local_date(at("2026-03-08T07:59:00Z")), day(2026, 3, 8));
        assert_eq!(utc.time_zone(), TimeZoneName::UTC);
    }

    #[test]
    fn settings_are_checked() {
        assert_eq!(
            PracticeSettings::new(vec![], vec![FeeSchedule::standard()]),
            Err(SettingsError::Empty("policy"))
        );
        let mut p = Policy::standard();
        p.integration_window_days = 0;
        assert!(matches!(
            PracticeSettings::new(vec![p], vec![FeeSchedule::standard()]),
            Err(SettingsError::Invalid {
                field: "integration_window_days",
                ..
            })
        ));
        let twice = vec![FeeSchedule::standard(), FeeSchedule::standard()];
        assert_eq!(
            PracticeSettings::new(vec![Policy::standard()], twice),
            Err(SettingsError::NotIncreasing("fee schedule"))
        );
    }
}
