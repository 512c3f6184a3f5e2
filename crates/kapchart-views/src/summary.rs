//! The client's chart as the lists need it (row kind `summary` of the
//! chart view, key `current`): the current state of [`ChartRow`] without
//! the history no list shows, so a page of a therapist's or prescriber's
//! clients reads a few kilobytes per client, not the whole year.
//!
//! Kept: registration, intake, medical evaluation, prescription, consent,
//! every dose, dose adjustment, authorization, blood pressure, adverse
//! event, treatment at an affiliate and the discharge (the prescriber's
//! list shows the dosing and BP history). Trimmed: `sessions` holds only
//! the sessions still scheduled, and `outcome_measures` only the latest of
//! each instrument. `entries` and `amendments` count the whole record.

use serde::{Deserialize, Serialize};

use crate::chart::ChartRow;
use kapchart_domain::SessionStatus;

/// A [`ChartRow`] trimmed for lists (see the module's documentation).
/// Serialized as the chart row it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChartSummary(pub ChartRow);

impl ChartSummary {
    /// The summary of the chart's current state.
    pub fn of(chart: &ChartRow) -> Self {
        let mut summary = chart.clone();
        summary
            .sessions
            .retain(|s| s.status == SessionStatus::Scheduled);
        // The latest of each instrument: by day, then by entry.
        let mut latest: Vec<crate::chart::OutcomeItem> = Vec::new();
        for o in &chart.outcome_measures {
            match latest.iter_mut().find(|l| l.instrument == o.instrument) {
                Some(l) => {
                    if (o.administered_on, o.stamp.sequence) > (l.administered_on, l.stamp.sequence)
                    {
                        *l = o.clone();
                    }
                }
                None => latest.push(o.clone()),
            }
        }
        summary.outcome_measures = latest;
        ChartSummary(summary)
    }

    /// The trimmed chart.
    pub fn into_chart(self) -> ChartRow {
        self.0
    }
}
