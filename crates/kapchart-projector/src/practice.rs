//! The practice as a client's record consults it on a database: settings,
//! the staff accounts (who is an active therapist or prescriber), and each
//! therapist's bookings read from the schedule view.
//!
//! The brief's cross-client rule: a therapist is not double-booked, judged
//! against the schedule projection at command time. The view is caught up
//! first, so every command committed before this one is seen; two bookings
//! racing on different clients can both pass, and the schedule report
//! flags the double-booking that results.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Days;
use kapchart_domain::{
    Booking, ClientId, PracticeServices, PracticeSettings, Role, ServiceError, SessionId, TimeSpan,
    UserId,
};
use kapchart_views::{DaySpan, SessionRow, ViewName, kinds};

use kapchart_store::practice::SettingsSource;

use crate::{Projector, ProjectorError};

/// [`PracticeServices`] over a database: the settings its practice
/// record holds, the staff accounts and the schedule view.
#[derive(Debug, Clone)]
pub struct ProjectedPractice {
    projector: Projector,
    settings: SettingsSource,
}

impl ProjectedPractice {
    /// The practice of `projector`'s database, its settings read through
    /// `settings`. Only the schedule view is caught up before a booking is
    /// judged.
    pub fn new(projector: Projector, settings: SettingsSource) -> Self {
        Self {
            projector: projector.only(&[ViewName::Schedule]),
            settings,
        }
    }
}

/// How long a booking waits for committed events the feed still holds back.
const CATCH_UP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

/// The schedule view could not be read: unavailable when its database did
/// not answer (the command may be sent again), failed otherwise.
fn unreadable(what: &str, unavailable: bool) -> ServiceError {
    let message = format!("the schedule view could not be read ({what})");
    if unavailable {
        ServiceError::unavailable(message)
    } else {
        ServiceError::failed(message)
    }
}

fn projector_unavailable(e: &ProjectorError) -> bool {
    matches!(e, ProjectorError::Store(s) if s.is_unavailable())
}

#[async_trait]
impl PracticeServices for ProjectedPractice {
    async fn settings(&self) -> Result<Arc<PracticeSettings>, ServiceError> {
        // The settings as the practice's record holds them when the
        // command is decided: a change committed before it is in force.
        self.settings.current().await.map_err(|e| {
            tracing::error!(error = %e, "reading the practice's settings failed");
            let message = "the practice's settings could not be read";
            if e.is_unavailable() {
                ServiceError::unavailable(message)
            } else {
                ServiceError::failed(message)
            }
        })
    }

    async fn staff_role(&self, user: &UserId) -> Result<Option<Role>, ServiceError> {
        let account = kapchart_store::accounts::find_user(self.projector.database(), user)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "staff check: reading the accounts failed");
                let message = "the staff accounts could not be read";
                if e.is_unavailable() {
                    ServiceError::unavailable(message)
                } else {
                    ServiceError::failed(message)
                }
            })?;
        Ok(account.filter(|a| !a.disabled).map(|a| a.role))
    }

    async fn therapist_bookings(
        &self,
        therapist: &UserId,
        span: &TimeSpan,
    ) -> Result<Vec<Booking>, ServiceError> {
        // Every booking committed before this command is seen, even while
        // another transaction anywhere on the server holds the feed back
        // (PostgreSQL's horizon is cluster-wide): wait for those, within a
        // bound. A booking still held back after it is a race the schedule
        // report flags.
        let behind = self
            .projector
            .catch_up_fully(CATCH_UP_PATIENCE)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "double-booking check: catch-up failed");
                unreadable("catch-up", projector_unavailable(&e))
            })?;
        if behind > 0 {
            tracing::warn!(
                behind,
                "double-booking check: the schedule view is still behind committed events"
            );
        }
        // Sessions are filed under the day they start: one that overlaps
        // the span starts at most a day before it (no session is that long).
        let first = span
            .start()
            .date_naive()
            .checked_sub_days(Days::new(1))
            .unwrap_or(chrono::NaiveDate::MIN);
        let last = span.end().date_naive();
        let rows = self
            .projector
            .rows_within(
                ViewName::Schedule,
                kinds::SESSION,
                None,
                DaySpan {
                    first: Some(first),
                    last: Some(last),
                },
            )
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "double-booking check: reading the view failed");
                unreadable("query", projector_unavailable(&e))
            })?;
        let mut bookings = Vec::new();
        for (_, row) in rows {
            let session: SessionRow =
                serde_json::from_value(row.data).map_err(|_| unreadable("a session row", false))?;
            if session.therapist != therapist.as_str()
                || !session.is_open()
                || !(session.start < span.end() && span.start() < session.end)
            {
                continue;
            }
            bookings.push(Booking {
                client: ClientId::parse(&session.client_id)
                    .map_err(|_| unreadable("a client id", false))?,
                session: SessionId::parse(&session.session)
                    .map_err(|_| unreadable("a session id", false))?,
                span: TimeSpan::new(session.start, session.end)
                    .map_err(|_| unreadable("a session time", false))?,
            });
        }
        Ok(bookings)
    }
}
