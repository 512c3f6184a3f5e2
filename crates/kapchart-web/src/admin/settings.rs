//! `/admin/settings`: the practice's settings as its record holds them
//! (identity, time zone, providers, every policy and fee schedule version
//! with what is in force and what is scheduled) and the record's history,
//! with a form per change: set the identity, set a provider, adopt a
//! policy version, adopt a fee schedule version.
//!
//! Each form's values are built into the change's JSON and parsed with
//! [`PracticeCommandRequest::parse`], so the domain's checked parsers name
//! a bad field; the change goes through [`kapchart_api::AppState::execute_practice`]
//! like an API call. Each form carries a command id made when it is
//! rendered: a resubmission applies once. A refusal re-renders the page
//! with the message and the typed values kept; a change redirects (303).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use kapchart_api::{PracticeCommandRequest, PracticeHistoryEntry, PracticeReply};
use kapchart_domain::{Cents, FeeSchedule, Policy};
use serde::Deserialize;
use serde_json::json;

mod form;

use self::form::{Fields, FormError, SERVICES, Which, body_of, refusal, text};
use super::admin_only;
use crate::WebState;
use crate::forms::command_id;
use crate::page::{Layout, PageError, render};
use crate::session::{CsrfForm, SignedIn};

/// An input as the template shows it.
struct Input {
    id: String,
    name: String,
    label: String,
    hint: &'static str,
    kind: &'static str,
    value: String,
    invalid: bool,
}

/// A form as the template shows it.
struct Form {
    key: &'static str,
    title: &'static str,
    intro: &'static str,
    submit: &'static str,
    command_id: String,
    inputs: Vec<Input>,
    error: Option<String>,
}

struct ProviderRow {
    user: String,
    role: String,
    name: String,
    credentials: String,
    npi: String,
    licence: String,
    active: &'static str,
}

struct PolicyRow {
    version: u32,
    effective_from: String,
    bp_threshold: String,
    min_days: u16,
    window: u16,
    max: u16,
    idle: u16,
    status: String,
}

struct FeeRow {
    version: u32,
    effective_from: String,
    services: Vec<(String, String)>,
    status: String,
}

struct HistoryRow {
    sequence: u64,
    recorded_at: String,
    who: String,
    event_type: String,
    hash: String,
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    layout: Layout,
    /// The identity as `(label, value)` pairs, once set.
    identity: Vec<(&'static str, String)>,
    time_zone: String,
    providers: Vec<ProviderRow>,
    policies: Vec<PolicyRow>,
    fee_schedules: Vec<FeeRow>,
    history: Vec<HistoryRow>,
    forms: Vec<Form>,
}

/// `?done=...` after a change.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    done: Option<String>,
}

/// A time in the practice's time zone.
fn shown(state: &WebState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.time_zone())
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// An amount as typed in the form: `175.00`.
fn dollars(c: Cents) -> String {
    format!("{}.{:02}", c.get() / 100, c.get() % 100)
}

fn codes_text(codes: &kapchart_domain::CptCodes) -> String {
    codes
        .as_slice()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The values a form opens with: the settings as they stand.
fn opening(which: Which, reply: &PracticeReply) -> Fields {
    let mut f = Fields::new();
    let mut put = |k: &str, v: String| {
        f.insert(k.to_owned(), v);
    };
    match which {
        Which::Identity => {
            if let Some(id) = &reply.identity {
                put("name", id.name.to_string());
                put("line1", id.address.line1.to_string());
                let line2 = id.address.line2.as_ref().map(ToString::to_string);
                put("line2", line2.unwrap_or_default());
                put("city", id.address.city.to_string());
                put("state", id.address.state.to_string());
                put("zip", id.address.zip.to_string());
                put("phone", id.phone.to_string());
                put("npi", id.npi.to_string());
                put("tax_id", id.tax_id.to_string());
                put("place_of_service", id.place_of_service.to_string());
            }
            put("time_zone", reply.time_zone.clone());
        }
        Which::Provider => {
            put("role", "therapist".to_owned());
            put("active", "yes".to_owned());
        }
        Which::Policy => {
            if let Some(p) = reply.policies.last() {
                put("bp_systolic", p.bp_threshold.systolic().to_string());
                put("bp_diastolic", p.bp_threshold.diastolic().to_string());
                put(
                    "min_days_between_explorations",
                    p.min_days_between_explorations.to_string(),
                );
                put(
                    "integration_window_days",
                    p.integration_window_days.to_string(),
                );
                put("max_explorations", p.max_explorations.to_string());
                put("idle_sign_out_minutes", p.idle_sign_out_minutes.to_string());
            }
        }
        Which::Fees => {
            if let Some(s) = reply.fee_schedules.last() {
                for (service, key) in billable(s) {
                    put(&format!("fee_{key}"), dollars(service.0));
                    put(&format!("codes_{key}"), service.1);
                }
            }
        }
    }
    f
}

/// Each service's fee and codes (as text), with its key.
fn billable(s: &FeeSchedule) -> Vec<((Cents, String), &'static str)> {
    let c = &s.codes;
    vec![
        ((s.intake, codes_text(&c.intake)), "intake"),
        ((s.preparation, codes_text(&c.preparation)), "preparation"),
        ((s.exploration, codes_text(&c.exploration)), "exploration"),
        ((s.integration, codes_text(&c.integration)), "integration"),
        (
            (s.ongoing_care, codes_text(&c.ongoing_care)),
            "ongoing_care",
        ),
    ]
}

fn form_of(which: Which, values: &Fields, error: Option<&FormError>) -> Result<Form, PageError> {
    let error = error.filter(|e| e.form == which);
    let command_id = match values.get("command_id").filter(|c| !c.is_empty()) {
        Some(id) => id.clone(),
        None => command_id()?,
    };
    let inputs: Vec<Input> = which
        .inputs()
        .into_iter()
        .map(|(name, label, hint, kind)| Input {
            id: format!("{}-{name}", which.key()),
            invalid: error.is_some_and(|e| e.input.as_deref() == Some(name.as_str())),
            value: values.get(&name).cloned().unwrap_or_default(),
            name,
            label,
            hint,
            kind,
        })
        .collect();
    let error = error.map(|e| {
        let label = e
            .input
            .as_deref()
            .and_then(|i| inputs.iter().find(|x| x.name == i))
            .map(|x| x.label.clone());
        match label {
            Some(l) => format!("{l}: {}", e.message),
            None => e.message.clone(),
        }
    });
    Ok(Form {
        key: which.key(),
        title: which.title(),
        intro: which.intro(),
        submit: which.submit(),
        command_id,
        inputs,
        error,
    })
}

async fn page(
    state: &WebState,
    user: &SignedIn,
    notice: Option<String>,
    typed: Option<(Fields, FormError)>,
) -> Result<Response, PageError> {
    let reply = state.app.read_practice().await?;
    let history = state.app.read_practice_history(&user.caller).await?;
    let now = state.app.now();
    let tz = state.time_zone();
    let today = now.with_timezone(&tz).date_naive();
    let status = typed.as_ref().map_or(StatusCode::OK, |(_, e)| e.status);
    let mut forms = Vec::new();
    for which in Which::ALL {
        let form = match &typed {
            Some((values, e)) if e.form == which => form_of(which, values, Some(e))?,
            _ => form_of(which, &opening(which, &reply), None)?,
        };
        forms.push(form);
    }
    let policies = reply
        .policies
        .iter()
        .rev()
        .map(|p| policy_row(state, p, reply.policy_in_force, now))
        .collect();
    let fee_schedules = reply
        .fee_schedules
        .iter()
        .rev()
        .map(|f| fee_row(f, reply.fee_schedule_in_force, today))
        .collect();
    let page = SettingsPage {
        layout: Layout::new("Settings", user, "/admin/settings").with_notice(notice),
        identity: identity_rows(&reply),
        time_zone: reply.time_zone.clone(),
        providers: reply.providers.iter().map(provider_row).collect(),
        policies,
        fee_schedules,
        history: history
            .iter()
            .rev()
            .map(|h| history_row(state, h))
            .collect(),
        forms,
    };
    let mut response = render(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

fn identity_rows(reply: &PracticeReply) -> Vec<(&'static str, String)> {
    let Some(id) = &reply.identity else {
        return Vec::new();
    };
    let a = &id.address;
    let address = [
        Some(a.line1.to_string()),
        a.line2.as_ref().map(ToString::to_string),
        Some(format!("{}, {} {}", a.city, a.state, a.zip)),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    vec![
        ("Name", id.name.to_string()),
        ("Address", address),
        ("Phone", id.phone.to_string()),
        ("Organizational NPI", id.npi.to_string()),
        ("Tax id", id.tax_id.to_string()),
        ("Place of service", id.place_of_service.to_string()),
    ]
}

fn provider_row(p: &kapchart_domain::Provider) -> ProviderRow {
    ProviderRow {
        user: p.user.to_string(),
        role: crate::page::role_name(p.role.role()).to_owned(),
        name: p.name.as_str().to_owned(),
        credentials: p.credentials.to_string(),
        npi: p.npi.to_string(),
        licence: format!("{} ({})", p.licence.number, p.licence.state),
        active: if p.active { "Yes" } else { "No (former)" },
    }
}

fn policy_row(state: &WebState, p: &Policy, in_force: u32, now: DateTime<Utc>) -> PolicyRow {
    let from = shown(state, p.effective_from);
    let status = if p.version == in_force {
        "In force".to_owned()
    } else if p.effective_from > now {
        format!("Scheduled: takes effect on {from}")
    } else {
        "Superseded".to_owned()
    };
    PolicyRow {
        version: p.version,
        effective_from: from,
        bp_threshold: p.bp_threshold.to_string(),
        min_days: p.min_days_between_explorations,
        window: p.integration_window_days,
        max: p.max_explorations,
        idle: p.idle_sign_out_minutes,
        status,
    }
}

fn fee_row(f: &FeeSchedule, in_force: u32, today: NaiveDate) -> FeeRow {
    let status = if f.version == in_force {
        "In force".to_owned()
    } else if f.effective_from > today {
        format!("Scheduled: takes effect on {}", f.effective_from)
    } else {
        "Superseded".to_owned()
    };
    let names = SERVICES.iter().map(|(_, name)| *name);
    FeeRow {
        version: f.version,
        effective_from: f.effective_from.to_string(),
        services: names
            .zip(billable(f))
            .map(|(name, ((fee, codes), _))| {
                let codes = if codes.is_empty() {
                    "no codes".to_owned()
                } else {
                    codes
                };
                (name.to_owned(), format!("{fee} ({codes})"))
            })
            .collect(),
        status,
    }
}

fn history_row(state: &WebState, h: &PracticeHistoryEntry) -> HistoryRow {
    HistoryRow {
        sequence: h.sequence,
        recorded_at: shown(state, h.recorded_at),
        who: h.event.decision().actor.id.to_string(),
        event_type: h.event_type.clone(),
        hash: h.hash.clone(),
    }
}

/// `GET /admin/settings`.
pub(super) async fn settings(
    State(state): State<WebState>,
    user: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    admin_only(&user)?;
    let notice = match done.done.as_deref() {
        Some("identity") => Some("The practice's identity is set.".to_owned()),
        Some("provider") => Some("The provider is set.".to_owned()),
        Some("policy") => Some("The policy version is adopted.".to_owned()),
        Some("fees") => Some("The fee schedule version is adopted.".to_owned()),
        _ => None,
    };
    page(&state, &user, notice, None).await
}

/// Builds, parses and executes one form's change: 303 to the page, or
/// the page again with the message and the typed values.
async fn submit(
    state: WebState,
    form: CsrfForm<Fields>,
    which: Which,
) -> Result<Response, PageError> {
    let user = form.user;
    admin_only(&user)?;
    let mut fields = form.form;
    if text(&fields, "command_id").is_empty() {
        fields.insert("command_id".into(), command_id()?);
    }
    let outcome = match body_of(which, &fields, state.time_zone()) {
        Err(e) => Err(Ok(e)),
        Ok(body) => {
            let request = json!({
                "id": text(&fields, "command_id"),
                "body": { which.command(): body },
            });
            match PracticeCommandRequest::parse(&request.to_string()) {
                Ok(request) => state
                    .app
                    .execute_practice(&user.caller, request)
                    .await
                    .map(|_| ())
                    .map_err(|e| refusal(which, e)),
                Err(e) => Err(refusal(which, e)),
            }
        }
    };
    match outcome {
        Ok(()) => {
            Ok(Redirect::to(&format!("/admin/settings?done={}", which.key())).into_response())
        }
        Err(Ok(e)) => page(&state, &user, None, Some((fields, e))).await,
        Err(Err(e)) => Err(e),
    }
}

/// `POST /admin/settings/identity`.
pub(super) async fn identity(
    State(state): State<WebState>,
    form: CsrfForm<Fields>,
) -> Result<Response, PageError> {
    submit(state, form, Which::Identity).await
}

/// `POST /admin/settings/provider`.
pub(super) async fn provider(
    State(state): State<WebState>,
    form: CsrfForm<Fields>,
) -> Result<Response, PageError> {
    submit(state, form, Which::Provider).await
}

/// `POST /admin/settings/policy`.
pub(super) async fn policy(
    State(state): State<WebState>,
    form: CsrfForm<Fields>,
) -> Result<Response, PageError> {
    submit(state, form, Which::Policy).await
}

/// `POST /admin/settings/fees`.
pub(super) async fn fees(
    State(state): State<WebState>,
    form: CsrfForm<Fields>,
) -> Result<Response, PageError> {
    submit(state, form, Which::Fees).await
}
