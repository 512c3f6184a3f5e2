//! What the aggregate needs from the outside world, as a trait.
//!
//! The domain does no I/O: practice settings and the cross-client schedule
//! come in through [`PracticeServices`], implemented at the edges (the store
//! reads settings and the schedule projection from the database).
//! [`InMemoryPractice`] is a plain in-memory implementation for tests and
//! tools that have no database.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::command::Role;
use crate::policy::PracticeSettings;
use crate::types::{ClientId, SessionId, TimeSpan, UserId};

/// A booked session of some client with a therapist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// Whose session.
    pub client: ClientId,
    /// Which session.
    pub session: SessionId,
    /// When.
    pub span: TimeSpan,
}

/// A service the aggregate depends on failed (an internal error, not the
/// user's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("practice service unavailable: {message}")]
pub struct ServiceError {
    message: String,
    unavailable: bool,
}

impl ServiceError {
    /// The service failed.
    pub fn failed(message: impl Into<String>) -> Self {
        ServiceError {
            message: message.into(),
            unavailable: false,
        }
    }

    /// The service could not be reached (its database did not answer): the
    /// same command may succeed when sent again later.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ServiceError {
            message: message.into(),
            unavailable: true,
        }
    }

    /// True when the service could not be reached.
    pub fn is_unavailable(&self) -> bool {
        self.unavailable
    }
}

/// The practice-wide facts a client's record consults when deciding.
#[async_trait]
pub trait PracticeServices: Send + Sync + fmt::Debug {
    /// The practice's settings: every policy and fee schedule version.
    async fn settings(&self) -> Result<Arc<PracticeSettings>, ServiceError>;

    /// The role of an active staff account, or `None` when `user` names no
    /// account or a disabled one. Commands that name a therapist or a
    /// prescriber (registration, referral, bookings) are decided on it.
    async fn staff_role(&self, user: &UserId) -> Result<Option<Role>, ServiceError>;

    /// The therapist's open (scheduled or held) sessions, of any client,
    /// that overlap `span`, read from the schedule projection.
    async fn therapist_bookings(
        &self,
        therapist: &UserId,
        span: &TimeSpan,
    ) -> Result<Vec<Booking>, ServiceError>;
}

/// The aggregate's `Services`: a shared handle to the practice.
pub type Services = Arc<dyn PracticeServices>;

/// An in-memory practice: fixed settings, a staff directory and each
/// therapist's bookings.
#[derive(Debug)]
pub struct InMemoryPractice {
    settings: Arc<PracticeSettings>,
    staff: Mutex<BTreeMap<UserId, Role>>,
    bookings: Mutex<BTreeMap<UserId, Vec<Booking>>>,
}

impl InMemoryPractice {
    /// A practice with these settings, no staff and no bookings.
    pub fn new(settings: PracticeSettings) -> Self {
        Self {
            settings: Arc::new(settings),
            staff: Mutex::new(BTreeMap::new()),
            bookings: Mutex::new(BTreeMap::new()),
        }
    }

    /// Adds (or changes) an active staff member.
    pub fn enrol(&self, user: UserId, role: Role) {
        self.staff
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(user, role);
    }

    /// Removes a staff member (as a disabled account).
    pub fn disable(&self, user: &UserId) {
        self.staff
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(user);
    }

    /// Adds a booking for a therapist.
    pub fn book(&self, therapist: UserId, booking: Booking) {
        self.bookings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(therapist)
            .or_default()
            .push(booking);
    }
}

#[async_trait]
impl PracticeServices for InMemoryPractice {
    async fn settings(&self) -> Result<Arc<PracticeSettings>, ServiceError> {
        Ok(Arc::clone(&self.settings))
    }

    async fn staff_role(&self, user: &UserId) -> Result<Option<Role>, ServiceError> {
        Ok(self
            .staff
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(user)
            .copied())
    }

    async fn therapist_bookings(
        &self,
        therapist: &UserId,
        span: &TimeSpan,
    ) -> Result<Vec<Booking>, ServiceError> {
        let bookings = self
            .bookings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(bookings
            .get(therapist)
            .map(|of_therapist| {
                of_therapist
                    .iter()
                    .filter(|b| b.span.overlaps(span))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }
}
