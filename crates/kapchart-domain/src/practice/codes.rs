//! Billing codes of the fee schedule: CPT codes, and the codes each
//! billable service is billed with.
//!
//! The defaults are the codes the practice page's services are usually
//! billed with: 90791 for the intake (psychiatric diagnostic evaluation);
//! 90832, 90834 and 90837 by psychotherapy minutes for preparation,
//! integration and ongoing care; 0820T (Category III, monitoring during
//! psychedelic medication therapy, per hour) for the exploration. They are
//! a starting point: the practice confirms its codes with its billing
//! advisor and payers, and adopts a fee schedule naming the codes it bills.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::policy::BillableService;
use crate::types::ParseError;

/// A CPT code: five characters, either five digits (Category I, e.g.
/// `90837`) or four digits and `F`, `T` or `U` (Category II, III and
/// proprietary laboratory codes, e.g. `0820T`). Stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CptCode(String);

impl CptCode {
    /// A checked code.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let code = raw.trim().to_ascii_uppercase();
        let b = code.as_bytes();
        let ok = b.len() == 5
            && b[..4].iter().all(u8::is_ascii_digit)
            && (b[4].is_ascii_digit() || matches!(b[4], b'F' | b'T' | b'U'));
        if !ok {
            return Err(ParseError::new(
                "CPT code",
                "must be five digits, or four digits and F, T or U (e.g. 90837, 0820T)",
            ));
        }
        Ok(Self(code))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CptCode {
    type Error = ParseError;
    fn try_from(raw: String) -> Result<Self, ParseError> {
        Self::parse(&raw)
    }
}

impl From<CptCode> for String {
    fn from(c: CptCode) -> String {
        c.0
    }
}

impl fmt::Display for CptCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The codes one service is billed with: at most [`CptCodes::MAX`], no
/// code twice. Empty means the service is not billed to insurance under
/// any code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<CptCode>", into = "Vec<CptCode>")]
pub struct CptCodes(Vec<CptCode>);

impl CptCodes {
    /// The most codes one service holds.
    pub const MAX: usize = 8;

    /// Checked codes.
    pub fn new(codes: Vec<CptCode>) -> Result<Self, ParseError> {
        if codes.len() > Self::MAX {
            return Err(ParseError::new(
                "codes",
                format!("must be at most {} codes, got {}", Self::MAX, codes.len()),
            ));
        }
        if codes
            .iter()
            .enumerate()
            .any(|(i, c)| codes[..i].contains(c))
        {
            return Err(ParseError::new("codes", "must not name a code twice"));
        }
        Ok(Self(codes))
    }

    /// Codes from text (test data and defaults).
    fn of(codes: &[&str]) -> Self {
        Self(
            codes
                .iter()
                .filter_map(|c| CptCode::parse(c).ok())
                .collect(),
        )
    }

    /// The codes.
    pub fn as_slice(&self) -> &[CptCode] {
        &self.0
    }

    /// Whether the code is one of them.
    pub fn contains(&self, code: &str) -> bool {
        self.0.iter().any(|c| c.as_str() == code)
    }
}

impl TryFrom<Vec<CptCode>> for CptCodes {
    type Error = ParseError;
    fn try_from(codes: Vec<CptCode>) -> Result<Self, ParseError> {
        Self::new(codes)
    }
}

impl From<CptCodes> for Vec<CptCode> {
    fn from(c: CptCodes) -> Vec<CptCode> {
        c.0
    }
}

/// The codes of each billable service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceCodes {
    /// Intake.
    pub intake: CptCodes,
    /// Preparation.
    pub preparation: CptCodes,
    /// Exploration.
    pub exploration: CptCodes,
    /// Integration.
    pub integration: CptCodes,
    /// Ongoing care.
    pub ongoing_care: CptCodes,
}

impl ServiceCodes {
    /// The default codes of the practice page's services (see the module
    /// documentation; the practice confirms its own).
    pub fn standard() -> Self {
        let psychotherapy = CptCodes::of(&["90832", "90834", "90837"]);
        Self {
            intake: CptCodes::of(&["90791"]),
            preparation: psychotherapy.clone(),
            exploration: CptCodes::of(&["0820T"]),
            integration: psychotherapy.clone(),
            ongoing_care: psychotherapy,
        }
    }

    /// The codes of a service.
    pub fn of_service(&self, service: BillableService) -> &CptCodes {
        match service {
            BillableService::Intake => &self.intake,
            BillableService::Preparation => &self.preparation,
            BillableService::Exploration => &self.exploration,
            BillableService::Integration => &self.integration,
            BillableService::OngoingCare => &self.ongoing_care,
        }
    }
}

impl Default for ServiceCodes {
    fn default() -> Self {
        Self::standard()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpt_codes_are_five_digits_or_four_and_f_t_u() {
        for ok in ["90791", "90837", "0820T", "0821t", "3008F", "0001U"] {
            assert!(CptCode::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(CptCode::parse("0821t").unwrap().as_str(), "0821T");
        for bad in ["9079", "907911", "0820X", "A0820", "90 37", ""] {
            let e = CptCode::parse(bad).unwrap_err();
            assert_eq!(e.what, "CPT code", "{bad}");
        }
    }

    #[test]
    fn code_lists_are_short_and_distinct() {
        let c = |s| CptCode::parse(s).unwrap();
        assert!(CptCodes::new(vec![c("90832"), c("90837")]).is_ok());
        assert!(CptCodes::new(vec![c("90832"), c("90832")]).is_err());
        assert!(CptCodes::new(vec![c("90832"); 9]).is_err());
        assert!(CptCodes::new(vec![]).is_ok());
        let standard = ServiceCodes::standard();
        assert!(
            standard
                .of_service(BillableService::Intake)
                .contains("90791")
        );
        assert_eq!(
            standard
                .of_service(BillableService::Exploration)
                .as_slice()
                .len(),
            1
        );
        assert_eq!(
            standard
                .of_service(BillableService::OngoingCare)
                .as_slice()
                .len(),
            3
        );
    }
}
