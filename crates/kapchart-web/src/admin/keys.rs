//! `/admin/keys` (the published public keys; rotation, confirmed) and
//! `/admin/checkpoints` (the checkpoint log; issue one now).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kapchart_api::ApiError;
use serde::Deserialize;

use super::{admin_only, shown_text};
use crate::WebState;
use crate::page::{Layout, PageError, render};
use crate::session::{CsrfForm, SignedIn};

/// A published key as the page shows it.
struct KeyRow {
    number: u64,
    key_id: String,
    public_key: String,
    from: String,
    until: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysPage {
    layout: Layout,
    keys: Vec<KeyRow>,
    key_file_public_key: Option<String>,
    /// The key file's key is published (and so in use).
    key_file_published: bool,
    error: Option<String>,
}

/// `?done=rotated` after a rotation.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    done: Option<String>,
    number: Option<u64>,
}

async fn keys_page(
    state: &WebState,
    user: &SignedIn,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let view = state.app.signing_keys(&user.caller).await?;
    let last = view.published.last().map(|k| k.number);
    let key_file_published = view
        .key_file_public_key
        .as_ref()
        .is_some_and(|k| view.published.iter().any(|p| &p.public_key == k));
    let keys = view
        .published
        .iter()
        .rev()
        .map(|k| KeyRow {
            number: k.number,
            key_id: k.key_id.clone(),
            public_key: k.public_key.clone(),
            from: shown_text(state, &k.in_use_from),
            until: k
                .in_use_until
                .as_deref()
                .map_or_else(|| "in use".to_owned(), |t| shown_text(state, t)),
            current: Some(k.number) == last,
        })
        .collect();
    let page = KeysPage {
        layout: Layout::new("Signing keys", user, "/admin/keys").with_notice(notice),
        keys,
        key_file_public_key: view.key_file_public_key,
        key_file_published,
        error,
    };
    let mut response = render(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /admin/keys`.
pub(super) async fn keys(
    State(state): State<WebState>,
    user: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    admin_only(&user)?;
    let notice = match (done.done.as_deref(), done.number) {
        (Some("rotated"), Some(n)) => Some(format!(
            "The signing key is rotated: key {n} signs from now on; the retired key stays published."
        )),
        _ => None,
    };
    keys_page(&state, &user, notice, None, StatusCode::OK).await
}

/// The rotation form: the confirmation box.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RotateFields {
    confirm: Option<String>,
}

/// `POST /admin/keys/rotate`: rotates when confirmed; 303 to the keys.
pub(super) async fn rotate(
    State(state): State<WebState>,
    form: CsrfForm<RotateFields>,
) -> Result<Response, PageError> {
    let user = form.user;
    admin_only(&user)?;
    if form.form.confirm.as_deref() != Some("yes") {
        return keys_page(
            &state,
            &user,
            None,
            Some("confirm: tick the box to confirm the rotation".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match state.app.rotate_key(&user.caller, &user.source).await {
        Ok(rotation) => Ok(Redirect::to(&format!(
            "/admin/keys?done=rotated&number={}",
            rotation.current.number
        ))
        .into_response()),
        Err(e @ (ApiError::Conflict { .. } | ApiError::Concurrent)) => {
            let (status, _) = e.status_and_code();
            keys_page(&state, &user, None, Some(e.to_string()), status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A checkpoint as the page shows it.
struct CheckpointRow {
    number: u64,
    issued_at: String,
    tree_size: u64,
    root_hash: String,
    key_id: String,
}

#[derive(Template)]
#[template(path = "admin/checkpoints.html")]
struct CheckpointsPage {
    layout: Layout,
    checkpoints: Vec<CheckpointRow>,
    error: Option<String>,
}

async fn checkpoints_page(
    state: &WebState,
    user: &SignedIn,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let log = state.app.checkpoints(&user.caller).await?;
    let checkpoints = log
        .into_iter()
        .map(|c| CheckpointRow {
            number: c.number,
            issued_at: shown_text(state, &c.checkpoint.statement.issued_at),
            tree_size: c.checkpoint.statement.tree_size,
            root_hash: c.checkpoint.statement.root_hash.to_hex(),
            key_id: c.checkpoint.statement.key_id.clone(),
        })
        .collect();
    let page = CheckpointsPage {
        layout: Layout::new("Checkpoints", user, "/admin/checkpoints").with_notice(notice),
        checkpoints,
        error,
    };
    let mut response = render(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /admin/checkpoints`.
pub(super) async fn checkpoints(
    State(state): State<WebState>,
    user: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    admin_only(&user)?;
    let notice = match (done.done.as_deref(), done.number) {
        (Some("issued"), Some(n)) => Some(format!("Checkpoint {n} is signed and logged.")),
        _ => None,
    };
    checkpoints_page(&state, &user, notice, None, StatusCode::OK).await
}

/// No fields beyond the CSRF token.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoFields {}

/// `POST /admin/checkpoints`: verifies and signs a checkpoint now; 303.
pub(super) async fn issue(
    State(state): State<WebState>,
    form: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let user = form.user;
    admin_only(&user)?;
    match state.app.issue_checkpoint(&user.caller).await {
        Ok(c) => Ok(Redirect::to(&format!(
            "/admin/checkpoints?done=issued&number={}",
            c.number
        ))
        .into_response()),
        Err(e @ ApiError::Conflict { .. }) => {
            let (status, _) = e.status_and_code();
            checkpoints_page(&state, &user, None, Some(e.to_string()), status).await
        }
        Err(e) => Err(e.into()),
    }
}
