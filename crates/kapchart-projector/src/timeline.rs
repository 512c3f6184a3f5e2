//! The practice's settings over time, as the views count each client
//! event's days: the time zone the practice had when the event was decided
//! and the values of the policy version it was decided under.
//!
//! Read from the practice's own record (a handful of entries) each time
//! events are decoded, so a view rebuilt from the first event counts every
//! day exactly as the incremental projection did: both derive them from
//! stored entries only, never from the settings as they are now.

use chrono::{DateTime, Utc};
use kapchart_domain::{ClientEvent, Policy, PracticeEvent, TimeZoneName};
use kapchart_store::Database;
use kapchart_store::practice::{PracticeEntry, history};
use kapchart_views::{EventMeta, ViewPolicy};

use crate::ProjectorError;

/// The time zones the practice has had, and every policy version it has
/// adopted.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Timeline {
    /// From when (the identity entry's `recorded_at`) each zone applies,
    /// oldest first. Before the first: UTC.
    zones: Vec<(DateTime<Utc>, TimeZoneName)>,
    /// Policy versions adopted after the standard version 1.
    policies: Vec<Policy>,
}

impl Timeline {
    /// The practice record's timeline, from its entries.
    pub(crate) async fn load(db: &Database) -> Result<Self, ProjectorError> {
        Ok(Self::from_entries(&history(db).await?))
    }

    /// The timeline of a record's entries (oldest first).
    pub(crate) fn from_entries(entries: &[PracticeEntry]) -> Self {
        let mut timeline = Timeline::default();
        for entry in entries {
            match &entry.event {
                PracticeEvent::PracticeIdentitySet(e) => {
                    let zone = e.identity.time_zone;
                    if timeline.zones.last().map(|(_, z)| *z) != Some(zone) {
                        timeline.zones.push((entry.recorded_at, zone));
                    }
                }
                PracticeEvent::PolicyAdopted(e) => timeline.policies.push(e.policy.clone()),
                PracticeEvent::ProviderSet(_) | PracticeEvent::FeeScheduleAdopted(_) => {}
            }
        }
        timeline
    }

    /// The practice's time zone at an instant (UTC before it set one).
    pub(crate) fn zone_at(&self, at: DateTime<Utc>) -> TimeZoneName {
        self.zones
            .iter()
            .take_while(|(from, _)| *from <= at)
            .last()
            .map_or(TimeZoneName::UTC, |(_, zone)| *zone)
    }

    /// The values of policy `version` (the standard policy's for version 1
    /// and for a version the record does not hold).
    pub(crate) fn policy(&self, version: u32) -> ViewPolicy {
        self.policies
            .iter()
            .find(|p| p.version == version)
            .map_or_else(ViewPolicy::standard, ViewPolicy::from)
    }

    /// `meta` of `event`, in the zone and under the policy the event was
    /// decided in.
    pub(crate) fn place(&self, meta: EventMeta, event: &ClientEvent) -> EventMeta {
        let decision = event.decision();
        meta.in_practice(
            self.zone_at(decision.decided_at),
            self.policy(decision.policy_version),
        )
    }
}
