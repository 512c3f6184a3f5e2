//! `/setup`: a user sets their password with the one-time setup code an
//! admin gave them (`kapchart user add` or `user reset`), then enrols the
//! second factor.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use kapchart_domain::UserId;
use kapchart_store::credentials::{self, CredentialError, Failure, Stage, pending};
use serde::Deserialize;

use super::{
    Visit, check_form_token, form_token, parse_form, password, pending_cookie, see_other,
    store_failed, totp, with,
};
use crate::WebState;
use crate::page::{Layout, PageError, render};
use crate::session;

#[derive(Template)]
#[template(path = "signin/setup.html")]
struct SetupPage {
    layout: Layout,
    user_id: String,
    error: Option<String>,
    user_id_error: Option<String>,
    setup_code_error: Option<&'static str>,
    password_error: Option<&'static str>,
    confirm_error: Option<&'static str>,
}

/// What went wrong with a setup form, by field.
#[derive(Debug, Default)]
struct Problems {
    error: Option<String>,
    user_id: Option<String>,
    setup_code: Option<&'static str>,
    password: Option<&'static str>,
    confirm: Option<&'static str>,
}

impl Problems {
    fn any(&self) -> bool {
        self.error.is_some()
            || self.user_id.is_some()
            || self.setup_code.is_some()
            || self.password.is_some()
            || self.confirm.is_some()
    }
}

fn page(
    state: &WebState,
    visit: &Visit,
    user_id: &str,
    problems: Problems,
) -> Result<Response, PageError> {
    let (token, set) = form_token(&state.config, visit)?;
    let mut layout = Layout::public("Set your password");
    layout.csrf = token;
    let status = if problems.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = SetupPage {
        layout,
        user_id: user_id.chars().take(64).collect(),
        error: problems.error,
        user_id_error: problems.user_id,
        setup_code_error: problems.setup_code,
        password_error: problems.password,
        confirm_error: problems.confirm,
    };
    Ok(with(render(&page)?, status, &[set]))
}

/// `GET /setup`.
pub(super) async fn form(
    State(state): State<WebState>,
    visit: Visit,
) -> Result<Response, PageError> {
    page(&state, &visit, "", Problems::default())
}

/// The setup form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SetupFields {
    csrf: String,
    user_id: String,
    setup_code: String,
    password: String,
    password_confirm: String,
}

/// `POST /setup`: checks the fields, then the setup code; hashes the
/// password (argon2id, on a blocking thread) and stores it, using the
/// code up; opens the pending sign-in that enrols the second factor.
pub(super) async fn submit(
    State(state): State<WebState>,
    visit: Visit,
    body: Bytes,
) -> Result<Response, PageError> {
    let fields: SetupFields = parse_form(&body)?;
    check_form_token(&visit, &fields.csrf)?;
    let typed_id = fields.user_id.trim();
    let mut problems = Problems::default();
    let user = match UserId::parse(typed_id) {
        Ok(user) => Some(user),
        Err(e) => {
            problems.user_id = Some(e.message);
            None
        }
    };
    if fields.setup_code.trim().is_empty() {
        problems.setup_code = Some("is required");
    }
    problems.password = password::rule_broken(typed_id, &fields.password);
    if problems.password.is_none() && fields.password_confirm != fields.password {
        problems.confirm = Some("does not match the new password");
    }
    let Some(user) = user.filter(|_| !problems.any()) else {
        return page(&state, &visit, &fields.user_id, problems);
    };
    let db = state.app.db();
    let now = state.app.now();
    let source = visit.source();
    let found = credentials::find(db, &user).await.map_err(store_failed)?;
    let refused = || {
        Problems {
        error: Some(
            "The user id or setup code is wrong, or the code was used or has expired. Ask your administrator for a new one (kapchart user reset)."
                .to_owned(),
        ),
        ..Problems::default()
    }
    };
    if !found
        .as_ref()
        .is_some_and(|c| c.setup_code_matches(&fields.setup_code, now))
    {
        let account = found.map(|c| c.account);
        let failure = if account.is_some() {
            Failure::WrongSetupCode
        } else {
            Failure::UnknownUser
        };
        credentials::record_failure(db, account.as_ref(), failure, &source, now)
            .await
            .map_err(store_failed)?;
        return page(&state, &visit, &fields.user_id, refused());
    }
    let phc = password::hash(fields.password).await?;
    let account = match credentials::set_password_with_setup_code(
        db,
        &user,
        &fields.setup_code,
        &phc,
        &source,
        now,
    )
    .await
    {
        Ok(account) => account,
        Err(CredentialError::Store(e)) => return Err(store_failed(e)),
        // Used in another browser in the meantime.
        Err(_) => return page(&state, &visit, &fields.user_id, refused()),
    };
    let purpose = session::default_purpose(account.role);
    let secret = totp::new_secret()?;
    let opened = pending::open(
        db,
        &account.user_id,
        Stage::Enroll,
        purpose.as_str(),
        Some(&secret),
        now,
    )
    .await
    .map_err(store_failed)?;
    Ok(see_other(
        "/setup/second-factor",
        &[pending_cookie(&state.config, &opened.secret)],
    ))
}
