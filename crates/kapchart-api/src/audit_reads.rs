//! The auditor's reads, as services shared by the JSON handlers and the
//! pages: verification of every chain and of the access log, the
//! checkpoint log, a client's complete history, a client's verifiable
//! bundle, and the access log itself.
//!
//! A history and a bundle are reads of a client's record: each appends
//! its access-log entry (`query`, `export`) before returning. Verification,
//! the checkpoint log and the access log show ids, sequences and hashes,
//! not records, and are not logged (as `kapchart verify` and `kapchart
//! report access`, docs/access-log.md).

use kapchart_audit::Bundle;
use kapchart_domain::{ClientId, Role};
use kapchart_store::access::{AccessQuery, AccessRecord, AccessVerifyReport};
use kapchart_store::audit::{self, CheckpointFile, ExportError, VerifyReport};
use kapchart_store::{CLIENT_RECORD, FeedEvent};
use serde_json::Value;

use crate::desk_reads::ReadAction;
use crate::disclosure::history_categories;
use crate::error::ApiError;
use crate::reads::Purpose;
use crate::source::Source;
use crate::{AppState, Caller};

/// What a verification run found: the record's chains and checkpoints,
/// and the access log's own chain.
#[derive(Debug, Clone)]
pub struct VerificationRun {
    /// Every client's chain and the checkpoint log (with each chain's
    /// current head in `heads`).
    pub record: VerifyReport,
    /// The access log's chain and head.
    pub access_log: AccessVerifyReport,
}

impl VerificationRun {
    /// True when nothing is wrong anywhere.
    pub fn is_intact(&self) -> bool {
        self.record.is_intact() && self.access_log.is_intact()
    }
}

/// Verification, the checkpoint log: auditors and admins.
fn may_verify(caller: &Caller) -> Result<(), ApiError> {
    if matches!(caller.role, Role::Auditor | Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "verification is run by auditors and admins",
        ))
    }
}

impl AppState {
    /// Verifies every client's hash chain, the checkpoint log (each
    /// checkpoint under the key stored with it, and the chains against the
    /// latest) and the access log's chain (auditors and admins). Not
    /// logged: it shows ids, sequences and hashes.
    ///
    /// # Errors
    /// 403 for other roles; 500 if the database cannot be read.
    pub async fn read_verification(&self, caller: &Caller) -> Result<VerificationRun, ApiError> {
        may_verify(caller)?;
        let record = audit::verify(self.db(), &audit::VerifyOptions::default(), &|_| {})
            .await
            .map_err(|e| ApiError::internal("verifying", &e))?;
        let access_log = kapchart_store::access::verify(self.db())
            .await
            .map_err(|e| ApiError::internal("verifying the access log", &e))?;
        Ok(VerificationRun { record, access_log })
    }

    /// Every checkpoint issued, oldest first, each with its signed
    /// statement, public key and head leaves (auditors and admins). Not
    /// logged: it holds ids, sequences and hashes.
    ///
    /// # Errors
    /// 403 for other roles; 500 if the log cannot be read.
    pub async fn read_checkpoints(&self, caller: &Caller) -> Result<Vec<CheckpointFile>, ApiError> {
        may_verify(caller)?;
        audit::load_checkpoints(self.db())
            .await
            .map_err(|e| ApiError::internal("reading the checkpoint log", &e))
    }

    /// A client's complete history exactly as hash-chained, every entry
    /// with its hashes and feed position (auditors). Logged as a `query`
    /// with the categories of the entries sent.
    ///
    /// # Errors
    /// 403 for other roles, 404 for an unregistered client.
    pub async fn read_history(
        &self,
        caller: &Caller,
        source: &Source,
        client: &ClientId,
        purpose: Purpose,
    ) -> Result<Vec<FeedEvent>, ApiError> {
        caller.must_be_auditor()?;
        self.registered(client).await?;
        let events = self
            .inner
            .repository
            .events_of(CLIENT_RECORD, client.as_str(), 0)
            .await
            .map_err(|e| ApiError::internal("reading a history", &e))?;
        let entries: Vec<Value> = events.iter().map(|e| e.stored.to_json()).collect();
        self.log_read(
            caller,
            client,
            &history_categories(&entries),
            &source.describe(&[]),
            purpose,
        )
        .await?;
        Ok(events)
    }

    /// The client's verifiable bundle (docs/audit-format.md) as of the
    /// latest checkpoint that holds the client: its entries up to the head
    /// in that checkpoint, the signed checkpoint, the public key and the
    /// inclusion proof (auditors). Signs nothing and writes nothing but
    /// its access-log entry, an `export` with the categories of the
    /// entries in it.
    ///
    /// # Errors
    /// 403 for other roles, 404 for an unregistered client or one no
    /// checkpoint holds yet.
    pub async fn export_client_bundle(
        &self,
        caller: &Caller,
        source: &Source,
        client: &ClientId,
        purpose: Purpose,
    ) -> Result<Bundle, ApiError> {
        caller.must_be_auditor()?;
        self.registered(client).await?;
        let bundle = audit::bundle_at_latest_checkpoint(self.db(), client.as_str())
            .await
            .map_err(|e| match e {
                ExportError::UnknownClient => ApiError::NotFound("no such client"),
                ExportError::NotCheckpointed => {
                    ApiError::NotFound("no checkpoint holds this client's record yet")
                }
                other => ApiError::internal("building a bundle", &other),
            })?;
        let entries: Vec<Value> = bundle.entries.iter().map(|e| e.to_json()).collect();
        self.log_read_as(
            caller,
            client,
            &history_categories(&entries),
            &source.describe(&[]),
            purpose,
            ReadAction::Export,
        )
        .await?;
        Ok(bundle)
    }

    /// The access log's entries that `query` asks for, in its order
    /// (auditors). Not logged: it lists who read which record, not the
    /// record.
    ///
    /// # Errors
    /// 400 for a period with `from` after `to`, 403 for other roles, 500
    /// if the log cannot be read.
    pub async fn read_access_log(
        &self,
        caller: &Caller,
        query: &AccessQuery,
    ) -> Result<Vec<AccessRecord>, ApiError> {
        caller.must_be_auditor()?;
        crate::reads::period(query.from, query.to)?;
        // The period's days are the practice's local days.
        let zone = self.settings().await?.time_zone();
        kapchart_store::access::list_in_zone(self.db(), query, zone)
            .await
            .map_err(|e| ApiError::internal("reading the access log", &e))
    }
}
