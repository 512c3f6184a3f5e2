//! `/admin/users`: every account with its role, status and last sign-in;
//! add an account with a role; disable, enable, reset the web sign-in.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kapchart_api::ApiError;
use kapchart_api::admin::{NewUser, UserSummary, parse_user_id};
use kapchart_domain::{Role, UserId};
use serde::Deserialize;

use super::{admin_only, shown_text};
use crate::WebState;
use crate::page::{Layout, PageError, render, role_name};
use crate::session::{CsrfForm, SignedIn};

/// One account as the list shows it.
struct Row {
    user_id: String,
    name: String,
    role: &'static str,
    status: String,
    disabled: bool,
    last_sign_in: String,
    sign_in: &'static str,
    own: bool,
}

/// A role offered by the add form.
struct RoleChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    rows: Vec<Row>,
    roles: Vec<RoleChoice>,
    form: AddFields,
    /// The field in error and why.
    error: Option<FieldError>,
}

/// A field of the add form in error.
struct FieldError {
    /// `user_id`, `display_name` or `role`.
    field: String,
    /// Why.
    message: String,
}

impl FieldError {
    fn on(&self, field: &str) -> bool {
        self.field == field
    }
}

#[derive(Template)]
#[template(path = "admin/secret.html")]
struct SecretPage {
    layout: Layout,
    user_id: String,
    role: Option<&'static str>,
    token: Option<String>,
    token_expires: Option<String>,
    setup_code: String,
    setup_code_expires: String,
}

/// The add form's fields, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct AddFields {
    user_id: String,
    display_name: String,
    role: String,
}

/// `?done=...&user=...` after a change.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Done {
    done: Option<String>,
    user: Option<String>,
}

fn row_of(state: &WebState, user: &SignedIn, u: UserSummary) -> Row {
    let role = u.role.parse::<Role>().map_or("Unknown", role_name);
    let status = if u.disabled {
        "Disabled".to_owned()
    } else if let Some(until) = &u.locked_until {
        format!("Locked until {}", shown_text(state, until))
    } else {
        "Active".to_owned()
    };
    let sign_in = match (u.has_password, u.has_second_factor) {
        _ if u.setup_code_expires_at.is_some() => "Setup code waiting",
        (true, true) => "Password and second factor",
        (true, false) => "Password; no second factor yet",
        _ => "Not set up",
    };
    Row {
        own: u.user_id == user.caller.user_id.as_str(),
        name: u.display_name.clone().unwrap_or_default(),
        last_sign_in: u
            .last_sign_in_at
            .as_deref()
            .map_or_else(|| "Never".to_owned(), |t| shown_text(state, t)),
        user_id: u.user_id,
        role,
        status,
        disabled: u.disabled,
        sign_in,
    }
}

async fn page(
    state: &WebState,
    user: &SignedIn,
    form: AddFields,
    notice: Option<String>,
    error: Option<FieldError>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let users = state.app.list_users(&user.caller).await?;
    let rows = users.into_iter().map(|u| row_of(state, user, u)).collect();
    let roles = Role::NAMES
        .iter()
        .filter_map(|name| name.parse::<Role>().ok())
        .map(|r| RoleChoice {
            value: r.as_str(),
            label: role_name(r),
            selected: form.role == r.as_str(),
        })
        .collect();
    let page = UsersPage {
        layout: Layout::new("Users", user, "/admin/users").with_notice(notice),
        rows,
        roles,
        form,
        error,
    };
    let mut response = render(&page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /admin/users`.
pub(super) async fn list(
    State(state): State<WebState>,
    user: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    admin_only(&user)?;
    let who = done
        .user
        .as_deref()
        .and_then(|u| UserId::parse(u).ok())
        .map(|u| u.to_string());
    let notice = match (done.done.as_deref(), who) {
        (Some("disabled"), Some(u)) => Some(format!(
            "{u} is disabled: their API tokens are revoked and they cannot sign in."
        )),
        (Some("enabled"), Some(u)) => Some(format!(
            "{u} is enabled again. Their API tokens stay revoked; reset their sign-in if in doubt."
        )),
        _ => None,
    };
    page(
        &state,
        &user,
        AddFields::default(),
        notice,
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/users`: adds the account and shows its token and setup
/// code once, on this response (never cached, never in an address).
pub(super) async fn add(
    State(state): State<WebState>,
    form: CsrfForm<AddFields>,
) -> Result<Response, PageError> {
    let user = form.user;
    admin_only(&user)?;
    let fields = form.form;
    let input = NewUser {
        user_id: fields.user_id.clone(),
        role: fields.role.clone(),
        display_name: Some(fields.display_name.clone()),
    };
    let added = match state.app.add_user(&user.caller, &user.source, &input).await {
        Ok(added) => added,
        Err(ApiError::BadRequest { field, message }) => {
            let error = Some(FieldError { field, message });
            return page(
                &state,
                &user,
                fields,
                None,
                error,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(e @ ApiError::Conflict { .. }) => {
            let error = Some(FieldError {
                field: "user_id".to_owned(),
                message: e.to_string(),
            });
            return page(&state, &user, fields, None, error, StatusCode::CONFLICT).await;
        }
        Err(e) => return Err(e.into()),
    };
    let page = SecretPage {
        layout: Layout::new("User added", &user, "/admin/users"),
        role: added.user.role.parse::<Role>().ok().map(role_name),
        user_id: added.user.user_id,
        token: Some(added.token),
        token_expires: Some(shown_text(&state, &added.token_expires_at)),
        setup_code: added.setup_code,
        setup_code_expires: shown_text(&state, &added.setup_code_expires_at),
    };
    created(render(&page)?)
}

/// A page holding a secret: 201 Created, never cached (render sets
/// `no-store`).
fn created(mut response: Response) -> Result<Response, PageError> {
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

fn user_of_path(path: Result<Path<String>, PathRejection>) -> Result<UserId, PageError> {
    let Path(id) = path.map_err(|_| PageError::bad("user id in the address"))?;
    parse_user_id("user_id", &id)
        .map_err(|e| PageError::bad(format!("user id in the address: {e}")))
}

/// No fields beyond the CSRF token.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoFields {}

/// `POST /admin/users/{id}/disable`: 303 to the list.
pub(super) async fn disable(
    State(state): State<WebState>,
    path: Result<Path<String>, PathRejection>,
    form: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let user = form.user;
    admin_only(&user)?;
    let target = user_of_path(path)?;
    state
        .app
        .disable_user(&user.caller, &user.source, &target)
        .await?;
    Ok(see_other(&format!(
        "/admin/users?done=disabled&user={target}"
    )))
}

/// `POST /admin/users/{id}/enable`: 303 to the list.
pub(super) async fn enable(
    State(state): State<WebState>,
    path: Result<Path<String>, PathRejection>,
    form: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let user = form.user;
    admin_only(&user)?;
    let target = user_of_path(path)?;
    state
        .app
        .enable_user(&user.caller, &user.source, &target)
        .await?;
    Ok(see_other(&format!(
        "/admin/users?done=enabled&user={target}"
    )))
}

/// `POST /admin/users/{id}/reset`: the new setup code, shown once on
/// this response.
pub(super) async fn reset(
    State(state): State<WebState>,
    path: Result<Path<String>, PathRejection>,
    form: CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let user = form.user;
    admin_only(&user)?;
    let target = user_of_path(path)?;
    let reply = state
        .app
        .reset_user(&user.caller, &user.source, &target)
        .await?;
    let page = SecretPage {
        layout: Layout::new("Sign-in reset", &user, "/admin/users"),
        user_id: reply.user_id,
        role: None,
        token: None,
        token_expires: None,
        setup_code: reply.setup_code,
        setup_code_expires: shown_text(&state, &reply.setup_code_expires_at),
    };
    created(render(&page)?)
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}
