//! The one table that maps a held session to its billing code.
//!
//! | service | CPT code | units | insurance billable |
//! | --- | --- | --- | --- |
//! | intake | 90791 (psychiatric diagnostic evaluation) | 1 | yes ("often billable") |
//! | preparation, integration, ongoing care | by psychotherapy minutes: 16–37 → 90832, 38–52 → 90834, 53 or more → 90837; under 16 → no code | 1 | yes ("often billable"); no when there is no code |
//! | exploration | 0820T (Category III: continuous in-person monitoring during psychedelic medication therapy, first physician or QHP, each hour) | hours of the session, a unit counting once more than half of it (31 minutes) has passed | no (self-pay; payer coverage of Category III codes varies) |
//!
//! Minutes are the session's recorded span (for an exploration: arrival to
//! discharge). The psychotherapy time bands are CPT's (a 30-, 45- or
//! 60-minute code is reported once its midpoint is passed). 0821T and
//! 0822T (a second clinician, or clinical staff, monitoring) need staffing
//! facts the record does not hold, so they are not derived. The fee is
//! never taken from here: the charge's amount is the one priced into the
//! event by the fee schedule in force on the session date.
//!
//! Changing this table changes the rows: bump [`crate::STATE_FORMAT`] so
//! the views are rebuilt.

use kapchart_domain::BillableService;
use serde::Serialize;

/// How a held session is coded on a claim or superbill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct BillingCode {
    /// The CPT code, if the session has one.
    pub cpt_code: Option<&'static str>,
    /// Units of the code (0 when there is no code).
    pub units: u32,
    /// Whether the service is usually billable to insurance.
    pub insurance_billable: bool,
}

/// Psychotherapy time bands: (fewest minutes, most minutes, code).
pub const PSYCHOTHERAPY_BANDS: [(i64, i64, &str); 3] = [
    (16, 37, "90832"),
    (38, 52, "90834"),
    (53, i64::MAX, "90837"),
];

/// Psychiatric diagnostic evaluation (the intake).
pub const INTAKE_CODE: &str = "90791";

/// Monitoring during psychedelic medication therapy, first clinician, each
/// hour (the exploration).
pub const EXPLORATION_MONITORING_CODE: &str = "0820T";

/// The billing code of a held session of `minutes` minutes.
pub fn billing_code(service: BillableService, minutes: i64) -> BillingCode {
    match service {
        BillableService::Intake => BillingCode {
            cpt_code: Some(INTAKE_CODE),
            units: 1,
            insurance_billable: true,
        },
        BillableService::Preparation
        | BillableService::Integration
        | BillableService::OngoingCare => {
            let code = PSYCHOTHERAPY_BANDS
                .iter()
                .find(|(lo, hi, _)| (*lo..=*hi).contains(&minutes))
                .map(|(_, _, code)| *code);
            BillingCode {
                cpt_code: code,
                units: u32::from(code.is_some()),
                insurance_billable: code.is_some(),
            }
        }
        BillableService::Exploration => {
            // A unit of an hour is reached once more than 30 minutes of it
            // have passed.
            let units = u32::try_from((minutes.max(0) + 29) / 60).unwrap_or(u32::MAX);
            BillingCode {
                cpt_code: (units > 0).then_some(EXPLORATION_MONITORING_CODE),
                units,
                insurance_billable: false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psychotherapy_codes_follow_the_time_bands() {
        let code = |m| billing_code(BillableService::Integration, m).cpt_code;
        assert_eq!(code(15), None);
        assert_eq!(code(16), Some("90832"));
        assert_eq!(code(37), Some("90832"));
        assert_eq!(code(38), Some("90834"));
        assert_eq!(code(52), Some("90834"));
        assert_eq!(code(53), Some("90837"));
        assert_eq!(code(60), Some("90837"));
        assert!(!billing_code(BillableService::OngoingCare, 10).insurance_billable);
        assert!(billing_code(BillableService::Preparation, 60).insurance_billable);
    }

    #[test]
    fn intake_and_exploration_codes() {
        let intake = billing_code(BillableService::Intake, 60);
        assert_eq!(
            (intake.cpt_code, intake.units, intake.insurance_billable),
            (Some("90791"), 1, true)
        );
        let units = |m| billing_code(BillableService::Exploration, m).units;
        assert_eq!(units(30), 0);
        assert_eq!(units(31), 1);
        assert_eq!(units(90), 1);
        assert_eq!(units(91), 2);
        assert_eq!(units(180), 3);
        let x = billing_code(BillableService::Exploration, 180);
        assert_eq!(x.cpt_code, Some("0820T"));
        assert!(!x.insurance_billable);
        assert_eq!(
            billing_code(BillableService::Exploration, 20).cpt_code,
            None
        );
    }
}
