//! A form for every command each role issues, posted through the API's
//! command service (`AppState::execute`), so a form meets exactly the
//! API's parser, bounds, roles and rules.
//!
//! - `GET /act`: the forms of the signed-in user's role (`?client=ID`).
//! - `GET /act/{segment}`: the form of one command ([`crate::page::COMMANDS`]
//!   lists the segments). The query pre-fills it: `client`, any field by
//!   its input name (`session`, `therapist`, `exploration`, ...), `day` and
//!   `time` (the session's day and start), `sequence` (the entry to amend),
//!   and `return_to`, a local path to go to after success.
//! - `POST /act/{segment}` (with the session's CSRF token): builds the
//!   command's JSON from the fields ([`build`]), parses it with
//!   [`kapchart_api::CommandRequest::parse`] and executes it. Success is a
//!   303 to `return_to`, or to the client's page (`?done=SEGMENT`). A
//!   problem re-renders the form with what was typed, an error summary and
//!   each message beside its field ([`problems`]); a refusal by a soft stop
//!   or a prescriber-override rule offers the override.
//!
//! The forms are declared, one [`spec::Spec`] per command, in
//! [`assessment`], [`sessions`] and [`record`]; [`render`] turns a spec and
//! what was typed into the page.

mod assessment;
mod build;
pub(crate) use build::parse_cents;
mod problems;
mod record;
mod render;
mod sessions;
pub(crate) mod spec;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{Duration, NaiveDate};
use kapchart_api::CommandRequest;
use kapchart_domain::{ClientId, Role};

use self::build::{Filled, OverrideInput, Problem, input_names, local_path};
use self::render::{Context, IndexPage, StaffChoice, day_text};
use self::spec::{Kind, Spec};
use crate::WebState;
use crate::page::{Layout, PageError, form_path, render, role_name};
use crate::session::{CsrfForm, SignedIn};

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/act", get(index))
        .route("/act/{segment}", get(show).post(submit))
}

/// The query of a page, as pairs (an unreadable query is no query).
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

/// `GET /act`: the forms of the user's role.
async fn index(user: SignedIn, RawQuery(query): RawQuery) -> Result<Response, PageError> {
    let client = query_pairs(query.as_deref())
        .into_iter()
        .find(|(k, _)| k == "client")
        .map(|(_, v)| v)
        .filter(|c| ClientId::parse(c).is_ok());
    let forms = spec::all()
        .filter(|s| s.is_for(user.caller.role))
        .map(|s| {
            let href = match &client {
                Some(c) => form_path(s.segment, c),
                None => format!("/act/{}", s.segment),
            };
            (href, s.title, s.intro)
        })
        .collect();
    render(&IndexPage {
        layout: Layout::new("Record something", &user, ""),
        client,
        forms,
    })
}

/// The form of `segment`, if `user`'s role uses it.
fn form_for(segment: &str, user: &SignedIn) -> Result<&'static Spec, PageError> {
    let spec = spec::find(segment).ok_or_else(|| PageError::not_found("there is no such form"))?;
    if !spec.is_for(user.caller.role) {
        let roles: Vec<&str> = spec.roles().iter().map(|r| role_name(*r)).collect();
        return Err(PageError::forbidden(format!(
            "this form is for the roles {}; the {} role does not issue this command",
            roles.join(", "),
            role_name(user.caller.role)
        )));
    }
    Ok(spec)
}

/// `GET /act/{segment}`: the empty (or pre-filled) form.
async fn show(
    State(state): State<WebState>,
    user: SignedIn,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let spec = form_for(&segment, &user)?;
    let today = state
        .app
        .now()
        .with_timezone(&state.time_zone())
        .date_naive();
    let filled = opening(spec, &query_pairs(query.as_deref()), &user, today)?;
    let page = render::page(spec, &filled, &[], context(&state, spec, &user).await?);
    render(&page)
}

/// `POST /act/{segment}`: the command, or the form again with its problems.
async fn submit(
    State(state): State<WebState>,
    Path(segment): Path<String>,
    CsrfForm { user, form }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let spec = form_for(&segment, &user)?;
    let mut filled = Filled::from_pairs(form);
    let tz = state.time_zone();
    let built = match build::request(spec, &filled, tz) {
        Ok(built) => built,
        Err(problems) => {
            return again(
                &state,
                spec,
                &user,
                &filled,
                &problems,
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let executed = match CommandRequest::parse(&built.json) {
        Ok(request) => match ClientId::parse(&filled.client_id) {
            Ok(client) => state
                .app
                .execute(&user.caller, &client, request)
                .await
                .map(|_| client),
            Err(e) => Err(kapchart_api::ApiError::bad("client_id", e.to_string())),
        },
        Err(e) => Err(e),
    };
    let error = match executed {
        Ok(client) => {
            return Ok(Redirect::to(&done_path(spec, &user, &client, &filled)).into_response());
        }
        Err(error) => error,
    };
    let status = error.status_and_code().0;
    let outcome = problems::from_api(spec, Some(&built), &filled.overrides, &error);
    if let Some(rule) = outcome.overridable {
        filled.overrides.push(OverrideInput {
            rule: rule.code().to_owned(),
            ..OverrideInput::default()
        });
    }
    if outcome.new_command_id {
        filled.command_id = command_id()?;
    }
    again(&state, spec, &user, &filled, &outcome.problems, status).await
}

/// Where a form goes once its command is recorded.
fn done_path(spec: &Spec, user: &SignedIn, client: &ClientId, filled: &Filled) -> String {
    if let Some(back) = &filled.return_to {
        return back.clone();
    }
    match user.caller.role {
        Role::FrontDesk => format!("/clients/{client}/billing?done={}", spec.segment),
        _ => format!("/clients/{client}?done={}", spec.segment),
    }
}

/// The form again, as typed, with its problems, answered with `status`.
async fn again(
    state: &WebState,
    spec: &'static Spec,
    user: &SignedIn,
    filled: &Filled,
    problems: &[Problem],
    status: StatusCode,
) -> Result<Response, PageError> {
    let page = render::page(spec, filled, problems, context(state, spec, user).await?);
    let mut response = render(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// The layout and the staff a form offers.
async fn context(state: &WebState, spec: &Spec, user: &SignedIn) -> Result<Context, PageError> {
    let mut context = Context {
        layout: Layout::new(spec.title, user, ""),
        staff_therapists: Vec::new(),
        staff_prescribers: Vec::new(),
    };
    if spec.fields.iter().any(|f| matches!(f.kind, Kind::Staff(_))) {
        let accounts = kapchart_store::accounts::list_users(state.app.db())
            .await
            .map_err(|e| PageError::internal("listing staff for a form", &e))?;
        for account in accounts.into_iter().filter(|a| !a.disabled) {
            let shown: StaffChoice = (
                account.user_id.to_string(),
                match &account.display_name {
                    Some(name) => format!("{name} ({})", account.user_id),
                    None => account.user_id.to_string(),
                },
            );
            match account.role {
                Role::Therapist => context.staff_therapists.push(shown),
                Role::Prescriber => context.staff_prescribers.push(shown),
                _ => {}
            }
        }
    }
    Ok(context)
}

/// A random command id: a resubmission of the same rendered form is then
/// applied once.
pub(crate) fn command_id() -> Result<String, PageError> {
    Ok(format!("web-{}", random_text(24)?))
}

/// `len` random lowercase letters and digits.
fn random_text(len: usize) -> Result<String, PageError> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0_u8; len];
    getrandom::fill(&mut bytes).map_err(|e| PageError::internal("no randomness for a form", &e))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

/// The form as it opens: a fresh command id, suggested ids, today's dates,
/// a therapist's own id, then whatever the query pre-fills.
fn opening(
    spec: &Spec,
    query: &[(String, String)],
    user: &SignedIn,
    today: NaiveDate,
) -> Result<Filled, PageError> {
    let mut filled = Filled {
        command_id: command_id()?,
        ..Filled::default()
    };
    let mut set = |name: String, value: String| {
        filled.values.insert(name, value);
    };
    for field in spec.fields {
        match field.kind {
            // A new record's id, suggested (the query may name another).
            Kind::TheClient => filled.client_id = format!("c-{}", random_text(6)?),
            Kind::NewId(prefix) => set(
                field.name.to_owned(),
                format!("{prefix}-{}", random_text(6)?),
            ),
            Kind::Date { today: true } => set(field.name.to_owned(), day_text(today)),
            Kind::Span { .. } => set(format!("{}_date", field.name), day_text(today)),
            Kind::Select(options) => {
                if let Some((first, _)) = options.first() {
                    set(field.name.to_owned(), (*first).to_owned());
                }
            }
            Kind::Staff(Role::Therapist) if user.caller.role == Role::Therapist => {
                set(field.name.to_owned(), user.caller.user_id.to_string());
            }
            _ => {}
        }
    }
    let inputs: Vec<String> = spec.fields.iter().flat_map(input_names).collect();
    let span = spec.fields.iter().find_map(|f| match f.kind {
        Kind::Span { minutes } => Some((f.name, minutes)),
        _ => None,
    });
    let first_date = spec
        .fields
        .iter()
        .find(|f| matches!(f.kind, Kind::Date { .. }))
        .map(|f| f.name);
    for (key, value) in query {
        match key.as_str() {
            "client" | build::CLIENT_FIELD => filled.client_id = value.trim().to_owned(),
            build::RETURN_TO_FIELD => filled.return_to = local_path(value),
            "day" => match (span, first_date) {
                (Some((name, _)), _) => set_value(&mut filled, format!("{name}_date"), value),
                (None, Some(name)) => set_value(&mut filled, name.to_owned(), value),
                (None, None) => {}
            },
            "time" => {
                if let Some((name, minutes)) = span {
                    set_value(&mut filled, format!("{name}_start"), value);
                    if let Ok(start) = build::parse_time(value.trim()) {
                        let end = start + Duration::minutes(minutes);
                        filled
                            .values
                            .entry(format!("{name}_end"))
                            .or_insert_with(|| end.format("%H:%M").to_string());
                    }
                }
            }
            "sequence" if inputs.iter().any(|i| i == "entry") => {
                set_value(&mut filled, "entry".to_owned(), value);
            }
            other if inputs.iter().any(|i| i == other) => {
                set_value(&mut filled, other.to_owned(), value);
            }
            _ => {}
        }
    }
    Ok(filled)
}

fn set_value(filled: &mut Filled, name: String, value: &str) {
    filled.values.insert(name, value.trim().to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::COMMANDS;

    #[test]
    fn every_command_has_one_form_and_every_form_a_command() {
        for (segment, command, _) in COMMANDS {
            let spec = spec::find(segment).unwrap_or_else(|| panic!("no form for {segment}"));
            assert_eq!(spec.command, *command, "{segment}");
        }
        assert_eq!(spec::all().count(), COMMANDS.len());
    }

    #[test]
    fn input_names_are_unique_within_a_form() {
        for spec in spec::all() {
            let mut names: Vec<String> = spec.fields.iter().flat_map(input_names).collect();
            names.push(build::CLIENT_FIELD.to_owned());
            let count = names.len();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), count, "{}", spec.segment);
        }
    }
}
