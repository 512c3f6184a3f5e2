//! The front desk's reads beyond one client: every client's account
//! (name, date of birth, therapist, charges, payments, balance), and what
//! a read of a client's record is logged as ([`ReadAction`]).
//!
//! Like the services of `service.rs`, each checks the caller's role and
//! appends an access-log entry for every client it returns, in one
//! transaction, before returning anything.

use kapchart_domain::ClientId;
use kapchart_store::access::{AccessAction, DataCategory};
use kapchart_views::{AccountRow, ViewName, kinds};

use crate::error::ApiError;
use crate::reads::Purpose;
use crate::source::Source;
use crate::{AppState, Caller};

/// What a read of a client's record is, for the access log (ASTM
/// E2147-18 7.1.8): shown on a screen, printed, or exported to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAction {
    /// Shown (a page, an API reply).
    Query,
    /// A page made to be printed (a superbill): logged as printed when it
    /// is sent, since the server cannot see the printer.
    Print,
    /// A file meant to leave kapchart (CSV).
    Export,
}

impl From<ReadAction> for AccessAction {
    fn from(action: ReadAction) -> Self {
        match action {
            ReadAction::Query => AccessAction::Query,
            ReadAction::Print => AccessAction::Print,
            ReadAction::Export => AccessAction::Export,
        }
    }
}

/// What each account read discloses: who the client is and their billing.
const ACCOUNT_CATEGORIES: &[DataCategory] = &[DataCategory::Demographics, DataCategory::Billing];

impl AppState {
    /// Every client's account (the `billing` view's `account` rows: name,
    /// date of birth, therapist, ICD-10 codes, charges, payments and
    /// balance), by client id, for front desk and auditors. Every client
    /// returned is logged (`demographics`, `billing`).
    ///
    /// # Errors
    /// 403 for other roles; 500 if the view cannot be read or the access
    /// entries cannot be written (then nothing is returned).
    pub async fn read_accounts(
        &self,
        caller: &Caller,
        source: &Source,
        purpose: Purpose,
    ) -> Result<Vec<AccountRow>, ApiError> {
        caller.may_read_billing()?;
        self.current(&[ViewName::Billing]).await?;
        let rows = self
            .view_rows(ViewName::Billing, &[kinds::ACCOUNT], None)
            .await?;
        let mut accounts = rows
            .into_iter()
            .map(|(_, row)| serde_json::from_value::<AccountRow>(row.data))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiError::internal("reading an account row", &e))?;
        accounts.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        let clients = accounts
            .iter()
            .map(|a| ClientId::parse(&a.client_id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ApiError::internal("an account row's client id", &e))?;
        self.log_reads(
            caller,
            clients,
            ACCOUNT_CATEGORIES,
            &source.describe(&[]),
            purpose,
            ReadAction::Query,
        )
        .await?;
        Ok(accounts)
    }
}
