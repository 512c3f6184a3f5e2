//! Lists of clients, as services: a therapist's clients (those assigned to
//! them) and a prescriber's (those referred to them), each with its
//! current clinical state and protocol progress. Like every read of
//! [`crate::service`], a list checks the caller's role, and appends one
//! access-log entry per client it holds (in one transaction) before it
//! returns anything; a client it does not log is not in it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use kapchart_domain::{ClientId, Policy, Role};
use kapchart_store::access::{AccessAction, AccessEntry, DataCategory};
use kapchart_views::{ChartRow, ChartSummary, ProgressRow, ReportKind, ViewName};
use serde::Serialize;

use crate::disclosure::{clients_of, report_categories};
use crate::error::ApiError;
use crate::reads::{Purpose, ReportReply, period_chosen, report_reply};
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
    /// doses, blood pressure, discharge; of the sessions only those still
    /// scheduled, of the outcome measures the latest of each instrument
    /// (the chart's `summary` row, [`kapchart_views::ChartSummary`]).
    pub chart: ChartRow,
    /// Protocol progress: explorations, sessions left, what is due next.
    pub progress: ProgressRow,
}

impl AppState {
    /// The clients of the calling therapist (assigned to them) or
    /// prescriber (referred to them), by client id; with `only`, just
    /// those of them named there. One access-log entry per client
    /// returned, appended (in one transaction) before anything is
    /// returned; its categories are what the client's summary holds
    /// ([`summary_categories`]).
    ///
    /// A client is listed when both its progress row and its chart row,
    /// as read, name the caller, so a referral that lands while the list
    /// is read never shows a client the caller no longer holds. The
    /// progress rows (small) find the candidates; each chart row is read
    /// by its key.
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
        own_client_field(caller.role)?;
        self.current(&[ViewName::Chart, ViewName::Schedule]).await?;
        let list = self.my_clients_as_is(caller, only).await?;
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

    /// A therapist's week (or any period): their own sessions of the
    /// schedule report and the summaries of the clients in it (those
    /// still assigned to them), as one read: one access-log entry per
    /// client shown, with the categories of both, appended before
    /// anything is returned. `from` and `to` are the practice's local days.
    ///
    /// # Errors
    /// 403 for any role but therapists; 400 for a bad period; 500 if the
    /// views cannot be read or the entries cannot be written.
    pub async fn read_my_schedule(
        &self,
        caller: &Caller,
        source: &Source,
        purpose: Purpose,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<(ReportReply, Vec<ClientSummary>), ApiError> {
        if caller.role != Role::Therapist {
            return Err(ApiError::Forbidden(
                "one's own schedule with its clients is for therapists",
            ));
        }
        // Both views caught up once, for the schedule and the summaries.
        self.current(&[ViewName::Schedule, ViewName::Chart]).await?;
        let table = self.schedule_table_as_is(caller, from, to).await?;
        let shown: BTreeSet<ClientId> = clients_of(&table)
            .iter()
            .map(|c| ClientId::parse(c))
            .collect::<Result<_, _>>()
            .map_err(|e| ApiError::internal("a report row's client id", &e))?;
        let summaries = if shown.is_empty() {
            Vec::new()
        } else {
            self.my_clients_as_is(caller, Some(&shown)).await?
        };
        let at = self.now();
        let described = source.describe(&period_chosen(from, to));
        let entries: Vec<AccessEntry> = shown
            .iter()
            .map(|client| {
                let mut categories: BTreeSet<DataCategory> =
                    report_categories(ReportKind::Schedule)
                        .iter()
                        .copied()
                        .collect();
                if let Some(summary) = summaries.iter().find(|s| s.client_id == *client) {
                    categories.extend(summary_categories(summary));
                }
                AccessEntry {
                    at,
                    actor: caller.access_actor(),
                    action: AccessAction::Query,
                    client_id: Some(client.clone()),
                    categories: categories.into_iter().collect(),
                    source: described.clone(),
                    purpose: purpose.as_str().to_owned(),
                }
            })
            .collect();
        kapchart_store::access::append_all(self.db(), &entries)
            .await
            .map_err(|e| ApiError::internal("appending to the access log", &e))?;
        Ok((report_reply("schedule", &table), summaries))
    }

    /// [`read_my_clients`](Self::read_my_clients) without the access log
    /// and without catching the views up: only for services that log what
    /// they return, after catching the chart and schedule views up.
    async fn my_clients_as_is(
        &self,
        caller: &Caller,
        only: Option<&BTreeSet<ClientId>>,
    ) -> Result<Vec<ClientSummary>, ApiError> {
        let field = own_client_field(caller.role)?;
        let me = caller.user_id.as_str();
        // The small progress rows find the caller's clients; their chart
        // summaries (the chart without the history no list shows) are then
        // read together by key (one query, not one per client), and each
        // kept only if it, too, names the caller. Both are parsed straight
        // from their stored text.
        let keys: Option<Vec<&str>> = only.map(|o| o.iter().map(ClientId::as_str).collect());
        let progress_rows = self
            .data_of_clients::<ProgressRow>(ViewName::Schedule, keys.as_deref())
            .await?;
        let mut mine: BTreeMap<String, ProgressRow> = BTreeMap::new();
        for (client, progress) in progress_rows {
            let named = match caller.role {
                Role::Therapist => progress.therapist.as_deref(),
                _ => progress.prescriber.as_deref(),
            };
            if named == Some(me) {
                mine.insert(client, progress);
            }
        }
        let keys: Vec<&str> = mine.keys().map(String::as_str).collect();
        let summaries = self
            .data_of_clients::<ChartSummary>(ViewName::Chart, Some(&keys))
            .await?;
        let mut list = Vec::with_capacity(summaries.len());
        for (client, summary) in summaries {
            let Some(progress) = mine.remove(&client) else {
                continue;
            };
            let chart = summary.into_chart();
            if field(&chart) != Some(me) {
                continue;
            }
            let client_id = ClientId::parse(&client)
                .map_err(|e| ApiError::internal("a chart row's client id", &e))?;
            list.push(ClientSummary {
                client_id,
                chart,
                progress,
            });
        }
        Ok(list)
    }

    /// The practice's clinical policy in force at `at` (thresholds and
    /// windows the pages judge flags against): configuration, not client
    /// data.
    pub fn policy_at(&self, at: DateTime<Utc>) -> Option<Policy> {
        self.settings_known().policy_at(at).cloned()
    }
}

/// Which field of a chart names the caller's clients: the therapist's or
/// the prescriber's.
///
/// # Errors
/// 403 for any other role.
fn own_client_field(role: Role) -> Result<fn(&ChartRow) -> Option<&str>, ApiError> {
    match role {
        Role::Therapist => Ok(|c| c.therapist.as_deref()),
        Role::Prescriber => Ok(|c| c.prescriber.as_deref()),
        _ => Err(ApiError::Forbidden(
            "a list of one's clients is for therapists and prescribers",
        )),
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
            progress: serde_json::from_value(json!({
                "client_id": "c-1", "therapist": "t-1", "prescriber": null,
                "phase": "assessment", "preparations_held": 0, "explorations_held": 0,
                "explorations_dosed": 0, "prescription": null,
                "prescription_valid_until": null, "explorations_authorized": null,
                "explorations_used": null, "sessions_left": null, "current_dose_mg": null,
                "last_dose_mg": null, "integration_pending": false,
                "integration_pending_for": null, "integration_due_by": null,
                "next_due_step": "intake", "next_exploration_from": null,
                "upcoming_sessions": 0, "discharged": false, "discharged_on": null,
            }))
            .expect("a progress row"),
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
