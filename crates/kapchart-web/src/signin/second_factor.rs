//! The second step of a sign-in: `/setup/second-factor` enrols a new
//! second factor and `/sign-in/second-factor` checks a code of the
//! enrolled one. Both end by opening the session and sending the browser
//! to the role's home page.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kapchart_store::credentials::{self, CredentialError, Failure, Pending, Stage, pending};
use kapchart_store::web_sessions;
use serde::Deserialize;

use super::{
    START_AGAIN, Visit, cleared_pending, parse_form, same_secret, see_other, store_failed, totp,
    with,
};
use crate::WebState;
use crate::page::{Layout, PageError, home_of, render};
use crate::session;

/// What the enrolment page shows of the new second factor.
#[derive(Debug)]
struct Enrolment {
    secret: String,
    uri: String,
    qr: Option<String>,
}

#[derive(Template)]
#[template(path = "signin/second_factor.html")]
struct SecondFactorPage {
    layout: Layout,
    action: &'static str,
    enrolment: Option<Enrolment>,
    error: Option<String>,
}

fn path_of(stage: Stage) -> &'static str {
    match stage {
        Stage::Enroll => "/setup/second-factor",
        Stage::Verify => "/sign-in/second-factor",
    }
}

/// The pending sign-in of the browser, if it still is open.
async fn pending_of(state: &WebState, visit: &Visit) -> Result<Option<Pending>, PageError> {
    let Some(secret) = visit.cookie(super::PENDING_COOKIE) else {
        return Ok(None);
    };
    pending::find(state.app.db(), &secret, state.app.now())
        .await
        .map_err(store_failed)
}

/// The page of `pending`'s second step.
fn page(pending: &Pending, error: Option<String>) -> Result<Response, PageError> {
    let (title, enrolment) = match (pending.stage, pending.totp_secret.as_deref()) {
        (Stage::Enroll, Some(secret)) => {
            let uri = totp::uri(secret, pending.user_id.as_str()).ok_or_else(|| {
                PageError::internal("making a setup link", &"the TOTP secret is not base32")
            })?;
            let qr = totp::qr_svg(&uri);
            (
                "Set up your second factor",
                Some(Enrolment {
                    secret: secret.to_owned(),
                    uri,
                    qr,
                }),
            )
        }
        _ => ("Second factor", None),
    };
    let mut layout = Layout::public(title);
    layout.csrf.clone_from(&pending.csrf);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = SecondFactorPage {
        layout,
        action: path_of(pending.stage),
        enrolment,
        error,
    };
    Ok(with(render(&page)?, status, &[]))
}

async fn show(state: WebState, visit: Visit, stage: Stage) -> Result<Response, PageError> {
    match pending_of(&state, &visit).await? {
        None => Ok(see_other(START_AGAIN, &[cleared_pending(&state.config)])),
        Some(p) if p.stage != stage => Ok(see_other(path_of(p.stage), &[])),
        Some(p) => page(&p, None),
    }
}

/// `GET /setup/second-factor`.
pub(super) async fn enroll_form(
    State(state): State<WebState>,
    visit: Visit,
) -> Result<Response, PageError> {
    show(state, visit, Stage::Enroll).await
}

/// `GET /sign-in/second-factor`.
pub(super) async fn verify_form(
    State(state): State<WebState>,
    visit: Visit,
) -> Result<Response, PageError> {
    show(state, visit, Stage::Verify).await
}

/// The second step's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CodeFields {
    csrf: String,
    code: String,
}

/// `POST /setup/second-factor`.
pub(super) async fn enroll(
    State(state): State<WebState>,
    visit: Visit,
    body: Bytes,
) -> Result<Response, PageError> {
    submit(state, visit, body, Stage::Enroll).await
}

/// `POST /sign-in/second-factor`.
pub(super) async fn verify(
    State(state): State<WebState>,
    visit: Visit,
    body: Bytes,
) -> Result<Response, PageError> {
    submit(state, visit, body, Stage::Verify).await
}

/// Checks the code, completes the sign-in (refusing a replayed code),
/// opens the session.
async fn submit(
    state: WebState,
    visit: Visit,
    body: Bytes,
    stage: Stage,
) -> Result<Response, PageError> {
    let fields: CodeFields = parse_form(&body)?;
    let start_again = || Ok(see_other(START_AGAIN, &[cleared_pending(&state.config)]));
    let Some(pending) = pending_of(&state, &visit).await? else {
        return start_again();
    };
    if !same_secret(&fields.csrf, &pending.csrf) {
        return Err(PageError::forbidden(
            "this form was not sent from this sign-in's page (form token missing or wrong); start again",
        ));
    }
    if pending.stage != stage {
        return Ok(see_other(path_of(pending.stage), &[]));
    }
    let db = state.app.db();
    let now = state.app.now();
    let source = visit.source();
    let Some(creds) = credentials::find(db, &pending.user_id)
        .await
        .map_err(store_failed)?
        .filter(|c| !c.account.disabled)
    else {
        return start_again();
    };
    let account = &creds.account;
    let locked = |until| -> Result<Response, PageError> {
        let page =
            super::sign_in::locked_page(&state, &visit, account.user_id.as_str(), until, now)?;
        Ok(with(
            page,
            StatusCode::UNPROCESSABLE_ENTITY,
            &[cleared_pending(&state.config)],
        ))
    };
    if let Some(until) = creds.locked_at(now) {
        credentials::record_failure(db, Some(account), Failure::WhileLocked, &source, now)
            .await
            .map_err(store_failed)?;
        return locked(until);
    }
    let secret = match stage {
        Stage::Enroll => pending.totp_secret.as_deref(),
        Stage::Verify => creds.totp_secret.as_deref(),
    };
    let Some(secret) = secret else {
        return start_again();
    };
    let refused = match totp::check(secret, &fields.code, now) {
        None => (
            Failure::WrongCode,
            "The code is wrong. Type the 6 digits your authenticator app shows now.",
        ),
        Some(step) => {
            match credentials::complete_sign_in(db, &pending, account, step, &source, now).await {
                Ok(()) => {
                    let opened = web_sessions::open(db, &account.user_id, &pending.purpose, now)
                        .await
                        .map_err(store_failed)?;
                    return Ok(see_other(
                        home_of(account.role),
                        &[
                            session::session_cookie(&state.config, &opened.secret),
                            cleared_pending(&state.config),
                        ],
                    ));
                }
                Err(CredentialError::Replayed) => (
                    Failure::ReplayedCode,
                    "This code was used already. Wait for the next code and type that one.",
                ),
                Err(CredentialError::Stale | CredentialError::SetupCodeRefused) => {
                    return start_again();
                }
                Err(CredentialError::Store(e)) => return Err(store_failed(e)),
            }
        }
    };
    let (failure, message) = refused;
    match credentials::record_failure(db, Some(account), failure, &source, now)
        .await
        .map_err(store_failed)?
    {
        Some(until) => locked(until),
        None => page(&pending, Some(message.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stage_has_its_page() {
        assert_eq!(path_of(Stage::Enroll), "/setup/second-factor");
        assert_eq!(path_of(Stage::Verify), "/sign-in/second-factor");
    }
}
