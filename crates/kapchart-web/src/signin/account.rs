//! `/account`: who is signed in, in which role, for which purpose of use,
//! and when they last signed in; the purpose can be changed here.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use kapchart_store::access::{self, AccessAction, AccessActor, AccessEntry, DataCategory};
use kapchart_store::{credentials, web_sessions};
use serde::Deserialize;

use super::{
    Choice, purpose_choice, purpose_choices, purpose_label, see_other, store_failed, with,
};
use crate::WebState;
use crate::page::{Layout, PageError, render, role_name};
use crate::session::{self, CsrfForm, SignedIn};

#[derive(Template)]
#[template(path = "signin/account.html")]
struct AccountPage {
    layout: Layout,
    user_id: String,
    display_name: Option<String>,
    role: &'static str,
    purpose: &'static str,
    last_sign_in: Option<String>,
    previous_sign_in: Option<String>,
    purposes: Vec<Choice>,
    error: Option<&'static str>,
}

/// `?changed=purpose` after a change.
#[derive(Debug, Deserialize)]
pub(super) struct Changed {
    changed: Option<String>,
}

async fn page(
    state: &WebState,
    user: &SignedIn,
    notice: Option<String>,
    error: Option<&'static str>,
) -> Result<Response, PageError> {
    let found = credentials::find(state.app.db(), &user.caller.user_id)
        .await
        .map_err(store_failed)?;
    let shown = |t: Option<DateTime<Utc>>| {
        t.map(|t| {
            t.with_timezone(&state.time_zone())
                .format("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
    };
    let page = AccountPage {
        layout: Layout::new("Your account", user, "/account").with_notice(notice),
        user_id: user.caller.user_id.to_string(),
        display_name: user.display_name.clone(),
        role: role_name(user.caller.role),
        purpose: purpose_label(user.purpose),
        last_sign_in: shown(found.as_ref().and_then(|c| c.last_sign_in_at)),
        previous_sign_in: shown(found.as_ref().and_then(|c| c.previous_sign_in_at)),
        purposes: purpose_choices(user.purpose.as_str(), None),
        error,
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(with(render(&page)?, status, &[]))
}

/// `GET /account`.
pub(super) async fn page_of(
    State(state): State<WebState>,
    user: SignedIn,
    Query(changed): Query<Changed>,
) -> Result<Response, PageError> {
    let notice = (changed.changed.as_deref() == Some("purpose")).then(|| {
        format!(
            "The purpose of use is now: {}.",
            purpose_label(user.purpose)
        )
    });
    page(&state, &user, notice, None).await
}

/// The purpose form's field.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PurposeFields {
    purpose: String,
}

/// `POST /account/purpose`: changes the session's purpose of use and
/// logs the change.
pub(super) async fn set_purpose(
    State(state): State<WebState>,
    headers: HeaderMap,
    form: CsrfForm<PurposeFields>,
) -> Result<Response, PageError> {
    let user = form.user;
    let chosen = match purpose_choice(&form.form.purpose) {
        Ok(Some(p)) => p,
        Ok(None) => session::default_purpose(user.caller.role),
        Err(()) => {
            return page(
                &state,
                &user,
                None,
                Some("choose one of the purposes listed"),
            )
            .await;
        }
    };
    let secret = session::cookie_secret(&headers)
        .ok_or_else(|| PageError::forbidden("no session cookie"))?;
    let entry = AccessEntry {
        at: state.app.now(),
        actor: AccessActor {
            user_id: user.caller.user_id.clone(),
            role: user.caller.role,
        },
        action: AccessAction::Change,
        client_id: None,
        categories: vec![DataCategory::Accounts],
        source: user.source.describe(&[]),
        purpose: format!(
            "session: purpose of use changed from {} to {}",
            user.purpose.as_str(),
            chosen.as_str()
        ),
    };
    access::append(state.app.db(), &entry)
        .await
        .map_err(|e| PageError::internal("logging a change of purpose", &e))?;
    web_sessions::set_purpose(state.app.db(), &secret, chosen.as_str())
        .await
        .map_err(store_failed)?;
    Ok(see_other("/account?changed=purpose", &[]))
}
