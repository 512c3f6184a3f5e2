//! Lists of clients, as services: a therapist's clients (those assigned to
//! them) and a prescriber's (those referred to them), each with its
//! current clinical state and protocol progress. Like every read of
//! [`crate::service`], a list checks the caller's role, and appends one
//! access-log entry per client it holds (in one transaction) before it
//! returns anything; a client it does not log is not in it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use kapchart_domain::{ClientId, Policy, Role};
use kapchart_store::access::{AccessAction, AccessEntry, DataCategory};
use kapchart_views::{ChartRow, ProgressRow, ViewName, kinds};
use serde::Serialize;

use crate::error::ApiError;
use crate::reads::Purpose;
use crate::source::Source;
use crate::{AppState, Caller};

/// One client of a list: the chart's current clinical state (the `chart`
/// row of docs/reports.md; it holds no billing data) and the schedule's
/// protocol progress (the `progress` row).
#[derive(Debug, Clone, Serialize)]
pub struct ClientSummary {
    /// The client.
    pub client_id: ClientId,
    /// Where the client stands: registration, assessments, prescription,
    /// doses, blood pressure, outcome measures, sessions, discharge.
    pub chart: ChartRow,
    /// Protocol progress: explorations, sessions left, what is due next.
    /// `None` only while the schedule view has not yet seen the
    /// registration.
    pub progress: Option<ProgressRow>,
}

impl AppState {
    /// The clients of the calling therapist (assigned to them) or
    /// prescriber (referred to them), by client id; with `only`, just
    /// those of them named there. One access-log entry per client
    /// returned, appended (in one transaction) before anything is
    /// returned; its categories are what the client's summary holds
    /// ([`summary_categories`]).
    ///
    /// A client is listed when the chart as read names the caller, so a
    /// referral that lands while the list is read never shows a client
    /// the caller no longer holds.
    ///
    /// # Errors
    /// 403 for other roles; 500 if the views cannot be read or the access
    /// entries cannot be written (then nothing is returned).
    pub async fn read_my_clients(
        &self,
        caller: &Caller,
        source: &Source,
        purpose: Purpose,
        only: Option<&BTreeSet<ClientId>>,
    ) -> Result<Vec<ClientSummary>, ApiError> {
        let field: fn(&ChartRow) -> Option<&str> = match caller.role {
            Role::Therapist => |c| c.therapist.as_deref(),
            Role::Prescriber => |c| c.prescriber.as_deref(),
            _ => {
                return Err(ApiError::Forbidden(
                    "a list of one's clients is for therapists and prescribers",
                ));
            }
        };
        self.current(&[ViewName::Chart, ViewName::Schedule]).await?;
        let me = caller.user_id.as_str();
        let mut charts: BTreeMap<String, ChartRow> = BTreeMap::new();
        for (client, row) in self
            .view_rows(ViewName::Chart, &[kinds::CHART], None)
            .await?
        {
            if only.is_some_and(|only| !only.iter().any(|c| c.as_str() == client)) {
                continue;
            }
            let chart: ChartRow = row
                .parse()
                .ok_or_else(|| ApiError::internal("a chart row of the view", &"unreadable"))?;
            if field(&chart) == Some(me) {
                charts.insert(client, chart);
            }
        }
        let mut progress: BTreeMap<String, ProgressRow> = BTreeMap::new();
        for (client, row) in self
            .view_rows(ViewName::Schedule, &[kinds::PROGRESS], None)
            .await?
        {
            if charts.contains_key(&client) {
                let p: ProgressRow = row.parse().ok_or_else(|| {
                    ApiError::internal("a progress row of the view", &"unreadable")
                })?;
                progress.insert(client, p);
            }
        }
        let mut list = Vec::with_capacity(charts.len());
        for (client, chart) in charts {
            let client_id = ClientId::parse(&client)
                .map_err(|e| ApiError::internal("a chart row's client id", &e))?;
            list.push(ClientSummary {
                client_id,
                progress: progress.remove(&client),
                chart,
            });
        }
        let at = self.now();
        let described = source.describe(&[]);
        let entries: Vec<AccessEntry> = list
            .iter()
            .map(|c| AccessEntry {
                at,
                actor: caller.access_actor(),
                action: AccessAction::Query,
                client_id: Some(c.client_id.clone()),
                categories: summary_categories(c),
                source: described.clone(),
                purpose: purpose.as_str().to_owned(),
            })
            .collect();
        kapchart_store::access::append_all(self.db(), &entries)
            .await
            .map_err(|e| ApiError::internal("appending to the access log", &e))?;
        Ok(list)
    }

    /// The practice's clinical policy in force at `at` (thresholds and
    /// windows the pages judge flags against): configuration, not client
    /// data.
    pub fn policy_at(&self, at: DateTime<Utc>) -> Option<Policy> {
        self.inner.settings.policy_at(at).cloned()
    }
}

/// The categories of data (ASTM E2147-18 7.1.9) a client's summary holds:
/// `demographics` always (it names the client); `dosing` with a
/// prescription, a dose, a dose adjustment or an authorization; `notes`
/// with any clinical finding (assessments, consent, blood pressure,
/// outcome measures, adverse events, external treatments, discharge).
pub fn summary_categories(summary: &ClientSummary) -> Vec<DataCategory> {
    let c = &summary.chart;
    let mut out = BTreeSet::from([DataCategory::Demographics]);
    let dosing = c.prescription.is_some()
        || !c.doses.is_empty()
        || !c.dose_adjustments.is_empty()
        || !c.authorizations.is_empty()
        || !c.external_treatments.is_empty();
    if dosing {
        out.insert(DataCategory::Dosing);
    }
    let notes = c.intake.is_some()
        || c.medical_evaluation.is_some()
        || c.consent.is_some()
        || !c.blood_pressure.is_empty()
        || !c.outcome_measures.is_empty()
        || !c.adverse_events.is_empty()
        || !c.external_treatments.is_empty()
        || c.discharge.is_some();
    if notes {
        out.insert(DataCategory::Notes);
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn summary(extra: serde_json::Value) -> ClientSummary {
        let mut chart = json!({
            "client_id": "c-1", "phase": "assessment", "therapist": "t-1",
            "prescriber": null, "registration": null, "intake": null,
            "medical_evaluation": null, "prescription": null, "consent": null,
            "doses": [], "dose_adjustments": [], "authorizations": [],
            "blood_pressure": [], "outcome_measures": [], "sessions": [],
            "adverse_events": [], "external_treatments": [], "discharge": null,
            "entries": 1, "amendments": 0,
        });
        if let (Some(chart), serde_json::Value::Object(extra)) = (chart.as_object_mut(), extra) {
            chart.extend(extra);
        }
        ClientSummary {
            client_id: ClientId::parse("c-1").expect("id"),
            chart: serde_json::from_value(chart).expect("a chart row"),
            progress: None,
        }
    }

    #[test]
    fn a_summary_logs_what_it_holds() {
        use DataCategory::{Demographics, Dosing, Notes};
        assert_eq!(summary_categories(&summary(json!({}))), [Demographics]);
        let outcome = json!({"outcome_measures": [{
            "instrument": "phq9", "score": 12, "administered_on": "2026-01-05",
            "sequence": 2, "recorded_at": "2026-01-05T10:00:00Z", "amendments": []
        }]});
        assert_eq!(summary_categories(&summary(outcome)), [Demographics, Notes]);
        let adjusted = json!({"dose_adjustments": [{
            "prescription": "rx-1", "from_mg": 100, "to_mg": 150,
            "sequence": 3, "recorded_at": "2026-01-05T10:00:00Z", "amendments": []
        }]});
        assert_eq!(
            summary_categories(&summary(adjusted)),
            [Demographics, Dosing]
        );
    }
}
