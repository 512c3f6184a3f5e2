//! `/sign-in` (user id, password, purpose of use) and `/sign-out`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use kapchart_domain::UserId;
use kapchart_store::access::{self, AccessAction, AccessActor, AccessEntry, DataCategory};
use kapchart_store::credentials::{self, Failure, Stage, pending};
use kapchart_store::web_sessions::{self, Ending};
use serde::Deserialize;

use super::{
    Choice, Visit, check_form_token, form_token, locked_message, parse_form, password,
    pending_cookie, purpose_choice, purpose_choices, see_other, store_failed, totp, with,
};
use crate::WebState;
use crate::page::{Layout, PageError, render};
use crate::session::{self, CsrfForm};

#[derive(Template)]
#[template(path = "signin/sign_in.html")]
struct SignInPage {
    layout: Layout,
    user_id: String,
    error: Option<String>,
    purpose_error: Option<&'static str>,
    purposes: Vec<Choice>,
}

/// The label of the `""` purpose.
const ROLE_DEFAULT: &str = "My role's usual purpose";

/// `?ended=` of `GET /sign-in`.
#[derive(Debug, Deserialize)]
pub(super) struct Ended {
    ended: Option<String>,
}

/// The sign-in form, with what was typed (never the password) and what
/// went wrong.
fn page(
    state: &WebState,
    visit: &Visit,
    user_id: &str,
    purpose: &str,
    error: Option<String>,
    purpose_error: Option<&'static str>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let (token, set) = form_token(&state.config, visit)?;
    let mut layout = Layout::public("Sign in").with_notice(notice);
    layout.csrf = token;
    let status = if error.is_some() || purpose_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = SignInPage {
        layout,
        user_id: user_id.chars().take(64).collect(),
        error,
        purpose_error,
        purposes: purpose_choices(purpose, Some(ROLE_DEFAULT)),
    };
    Ok(with(render(&page)?, status, &[set]))
}

/// The sign-in form saying the account `user_id` is locked until `until`.
pub(super) fn locked_page(
    state: &WebState,
    visit: &Visit,
    user_id: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Response, PageError> {
    let message = locked_message(until, now);
    page(state, visit, user_id, "", Some(message), None, None)
}

/// `GET /sign-in`: the form; `?ended=idle`, `sign_out` or `pending` say
/// why the user is here.
pub(super) async fn form(
    State(state): State<WebState>,
    visit: Visit,
    Query(ended): Query<Ended>,
) -> Result<Response, PageError> {
    let notice = match ended.ended.as_deref() {
        Some("idle") => Some(format!(
            "You were signed out after {} minutes without activity. Sign in again to go on.",
            state.idle_limit().num_minutes()
        )),
        Some("sign_out") => Some("You are signed out.".to_owned()),
        Some("pending") => Some(
            "That sign-in is no longer open: it lasts 10 minutes and is used once. Sign in again."
                .to_owned(),
        ),
        _ => None,
    };
    page(&state, &visit, "", "", None, None, notice)
}

/// The sign-in form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SignInFields {
    csrf: String,
    user_id: String,
    password: String,
    purpose: String,
}

/// `POST /sign-in`: checks the password (argon2 on a blocking thread,
/// also for unknown user ids), then opens the pending sign-in and sends
/// the browser to the second factor (or to its enrolment).
pub(super) async fn submit(
    State(state): State<WebState>,
    visit: Visit,
    body: Bytes,
) -> Result<Response, PageError> {
    let fields: SignInFields = parse_form(&body)?;
    check_form_token(&visit, &fields.csrf)?;
    let db = state.app.db();
    let now = state.app.now();
    let refuse = |error: Option<String>, purpose_error: Option<&'static str>| {
        page(
            &state,
            &visit,
            &fields.user_id,
            &fields.purpose,
            error,
            purpose_error,
            None,
        )
    };
    let Ok(purpose) = purpose_choice(&fields.purpose) else {
        return refuse(None, Some("choose one of the purposes listed"));
    };
    let found = match UserId::parse(fields.user_id.trim()) {
        Ok(user) => credentials::find(db, &user).await.map_err(store_failed)?,
        Err(_) => None,
    };
    let source = visit.source();
    if let Some(c) = &found
        && let Some(until) = c.locked_at(now)
    {
        credentials::record_failure(db, Some(&c.account), Failure::WhileLocked, &source, now)
            .await
            .map_err(store_failed)?;
        return refuse(Some(locked_message(until, now)), None);
    }
    let phc = found
        .as_ref()
        .filter(|c| !c.account.disabled)
        .and_then(|c| c.password_phc.clone());
    let matches = password::verify(phc, fields.password.clone()).await;
    let creds = match found {
        Some(c) if matches && !c.account.disabled => c,
        found => {
            let failure = match &found {
                None => Failure::UnknownUser,
                Some(c) if c.account.disabled => Failure::Disabled,
                Some(c) if c.password_phc.is_none() => Failure::NoPassword,
                Some(_) => Failure::WrongPassword,
            };
            let account = found.as_ref().map(|c| &c.account);
            let locked = credentials::record_failure(db, account, failure, &source, now)
                .await
                .map_err(store_failed)?;
            let message = locked.map_or_else(
                || "The user id or password is wrong.".to_owned(),
                |until| locked_message(until, now),
            );
            return refuse(Some(message), None);
        }
    };
    let account = &creds.account;
    let purpose = purpose.unwrap_or_else(|| session::default_purpose(account.role));
    let (stage, secret, next) = if creds.totp_secret.is_some() {
        (Stage::Verify, None, "/sign-in/second-factor")
    } else {
        (
            Stage::Enroll,
            Some(totp::new_secret()?),
            "/setup/second-factor",
        )
    };
    let opened = pending::open(
        db,
        &account.user_id,
        stage,
        purpose.as_str(),
        secret.as_deref(),
        now,
    )
    .await
    .map_err(store_failed)?;
    Ok(see_other(
        next,
        &[pending_cookie(&state.config, &opened.secret)],
    ))
}

/// The sign-out form has no fields but its CSRF token.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoFields {}

/// `POST /sign-out`: logs the sign-out, ends the session, clears the
/// cookie.
pub(super) async fn sign_out(
    State(state): State<WebState>,
    headers: HeaderMap,
    form: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let user = form.user;
    let now = state.app.now();
    log_sign_out(
        &state,
        &user.caller.user_id,
        user.caller.role,
        &user.source.describe(&[]),
        "sign-out: by the user",
        now,
    )
    .await?;
    if let Some(secret) = session::cookie_secret(&headers) {
        web_sessions::close(state.app.db(), &secret, now, Ending::SignOut)
            .await
            .map_err(store_failed)?;
    }
    Ok(see_other(
        "/sign-in?ended=sign_out",
        &[session::cleared_cookie(&state.config)],
    ))
}

/// Appends a sign-out (`sign_out`, category `accounts`) to the access log.
///
/// # Errors
/// A server fault when the log cannot be written.
pub(crate) async fn log_sign_out(
    state: &WebState,
    user: &UserId,
    role: kapchart_domain::Role,
    source: &str,
    purpose: &str,
    at: DateTime<Utc>,
) -> Result<(), PageError> {
    let entry = AccessEntry {
        at,
        actor: AccessActor {
            user_id: user.clone(),
            role,
        },
        action: AccessAction::SignOut,
        client_id: None,
        categories: vec![DataCategory::Accounts],
        source: source.to_owned(),
        purpose: purpose.to_owned(),
    };
    access::append(state.app.db(), &entry)
        .await
        .map(drop)
        .map_err(|e| PageError::internal("logging a sign-out", &e))
}
