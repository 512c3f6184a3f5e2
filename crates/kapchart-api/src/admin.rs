//! The admin's services on [`AppState`] — accounts, signing keys and
//! checkpoints — shared by the JSON handlers under `/api/v1/users` and
//! the admin's pages.
//!
//! Only the admin role may use them: the caller's role is the one the
//! store holds for the token's or the session's account, read on every
//! request (auth.rs, kapchart-web's session.rs), never taken from a
//! request. Every account change and every key rotation is appended to
//! the access log in the transaction that makes it, as the command
//! line's `kapchart user ...` does, with the request as made for source.
//! Setup codes and tokens are returned once and never logged.
//!
//! Assignment: a client's therapist and prescriber are part of the
//! client's record (`RegisterClient`, `ReferClient`), decided by the
//! record's rules; accounts hold no assignment, so none is changed here.

use std::path::PathBuf;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use chrono::{DateTime, SecondsFormat, Utc};
use kapchart_domain::{Role, UserId};
use kapchart_store::accounts::AccountError;
use kapchart_store::audit::{CheckpointFile, CheckpointRefused};
use kapchart_store::credentials::{self, AccountState};
use kapchart_store::signing_keys::{self, KeyError, PublishedKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::source::Source;

/// An account as the admin sees it: no token, hash or secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserSummary {
    /// The user id (the id the record names as actor).
    pub user_id: String,
    /// `therapist`, `prescriber`, `front_desk`, `auditor` or `admin`.
    pub role: String,
    /// The person's name, if given.
    pub display_name: Option<String>,
    /// True once disabled (tokens revoked, no sign-in).
    pub disabled: bool,
    /// When the account was created (RFC 3339 UTC).
    pub created_at: String,
    /// The last completed sign-in to the web pages (RFC 3339 UTC).
    pub last_sign_in_at: Option<String>,
    /// True once a web password is set.
    pub has_password: bool,
    /// True once a second factor is enrolled.
    pub has_second_factor: bool,
    /// Locked after failed attempts until then, if that is still ahead.
    pub locked_until: Option<String>,
    /// When the unused setup code expires, if one is waiting.
    pub setup_code_expires_at: Option<String>,
}

/// `POST /api/v1/users`: a new account.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 1 to 64 ASCII letters, digits, `-` and `_`, starting with a letter
    /// or digit; `system` and ids starting with `local-` are reserved.
    pub user_id: String,
    /// `therapist`, `prescriber`, `front_desk`, `auditor` or `admin`.
    pub role: String,
    /// The person's full name (shown to admins, never logged).
    #[serde(default)]
    pub display_name: Option<String>,
}

/// A new account with its secrets, each shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AddedUser {
    /// The account.
    pub user: UserSummary,
    /// Its first API token (only its SHA-256 is kept).
    pub token: String,
    /// When the token expires.
    pub token_expires_at: String,
    /// Its one-time setup code for the web pages (`/setup`).
    pub setup_code: String,
    /// When the setup code expires.
    pub setup_code_expires_at: String,
}

/// A reset's new setup code, shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SetupCodeReply {
    /// Whose.
    pub user_id: String,
    /// The one-time setup code.
    pub setup_code: String,
    /// When it expires.
    pub setup_code_expires_at: String,
}

/// The published signing keys and the key file's.
#[derive(Debug, Clone)]
pub struct KeysView {
    /// Every published key, oldest first.
    pub published: Vec<PublishedKey>,
    /// The key file's public key (hex), if the file exists.
    pub key_file_public_key: Option<String>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl UserSummary {
    fn of(state: AccountState, now: DateTime<Utc>) -> Self {
        UserSummary {
            user_id: state.account.user_id.to_string(),
            role: state.account.role.as_str().to_owned(),
            display_name: state.account.display_name,
            disabled: state.account.disabled,
            created_at: rfc3339(state.account.created_at),
            last_sign_in_at: state.last_sign_in_at.map(rfc3339),
            has_password: state.has_password,
            has_second_factor: state.has_second_factor,
            locked_until: state.locked_until.filter(|t| *t > now).map(rfc3339),
            setup_code_expires_at: state
                .setup_code_expires_at
                .filter(|t| *t > now)
                .map(rfc3339),
        }
    }
}

/// Admins only.
fn must_be_admin(caller: &Caller) -> Result<(), ApiError> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only admins manage accounts, signing keys and checkpoints",
        ))
    }
}

/// A user id as typed, or a 400 naming `field`.
///
/// # Errors
/// 400 naming `field`.
pub fn parse_user_id(field: &str, text: &str) -> Result<UserId, ApiError> {
    UserId::parse(text.trim()).map_err(|e| ApiError::bad(field, e.to_string()))
}

/// A role as typed, or a 400 naming `role`.
///
/// # Errors
/// 400 naming `role`.
pub fn parse_role(text: &str) -> Result<Role, ApiError> {
    text.trim().parse::<Role>().map_err(|_| {
        ApiError::bad(
            "role",
            "must be one of therapist, prescriber, front_desk, auditor, admin",
        )
    })
}

/// The store's account errors in the API's table.
fn account_error(e: AccountError) -> ApiError {
    match e {
        AccountError::UnknownUser(_) => ApiError::NotFound("no user with this id"),
        AccountError::AlreadyExists(u) => ApiError::Conflict {
            code: "user_exists",
            message: format!("a user with id {u} already exists"),
        },
        AccountError::Disabled(u) => ApiError::Conflict {
            code: "user_disabled",
            message: format!("user {u} is disabled; enable it first"),
        },
        AccountError::NotDisabled(u) => ApiError::Conflict {
            code: "user_not_disabled",
            message: format!("user {u} is not disabled"),
        },
        AccountError::Reserved(_) => ApiError::bad(
            "user_id",
            "is reserved for kapchart's own entries in the access log (system, local-...)",
        ),
        AccountError::NotAdmin(_) => ApiError::Forbidden("only admins manage accounts"),
        AccountError::Invalid { field, rule } => ApiError::bad(field, rule),
        other => ApiError::internal("changing an account", &other),
    }
}

/// The signing-key errors in the API's table.
fn key_error(e: KeyError) -> ApiError {
    match e {
        KeyError::NotAdmin => ApiError::Forbidden("only admins rotate the signing key"),
        KeyError::NotCurrent { .. } => ApiError::Conflict {
            code: "key_not_current",
            message: e.to_string(),
        },
        KeyError::TooEarly(_) => ApiError::Concurrent,
        other => ApiError::internal("the signing key", &other),
    }
}

impl AppState {
    /// The key file checkpoints are signed with, if `kapchart serve` gave
    /// one.
    fn key_file(&self) -> Result<&PathBuf, ApiError> {
        self.inner.key_file.get().ok_or_else(|| {
            ApiError::internal("signing keys", &"the server was started without a key file")
        })
    }

    /// Every account with its sign-in state (admins).
    ///
    /// # Errors
    /// 403 for anyone but an admin.
    pub async fn list_users(&self, caller: &Caller) -> Result<Vec<UserSummary>, ApiError> {
        must_be_admin(caller)?;
        let now = self.now();
        let states = credentials::roster(self.db())
            .await
            .map_err(|e| ApiError::internal("listing accounts", &e))?;
        Ok(states
            .into_iter()
            .map(|s| UserSummary::of(s, now))
            .collect())
    }

    /// One account with its sign-in state (admins).
    async fn user_summary(&self, user: &UserId) -> Result<UserSummary, ApiError> {
        let now = self.now();
        credentials::roster(self.db())
            .await
            .map_err(|e| ApiError::internal("listing accounts", &e))?
            .into_iter()
            .find(|s| s.account.user_id == *user)
            .map(|s| UserSummary::of(s, now))
            .ok_or(ApiError::NotFound("no user with this id"))
    }

    /// Adds an account with its first token and its setup code (admins),
    /// as `kapchart user add`; logged as `add`.
    ///
    /// # Errors
    /// 400 naming `user_id`, `role` or `display_name`; 403; 409
    /// `user_exists`.
    pub async fn add_user(
        &self,
        caller: &Caller,
        source: &Source,
        input: &NewUser,
    ) -> Result<AddedUser, ApiError> {
        must_be_admin(caller)?;
        let user = parse_user_id("user_id", &input.user_id)?;
        let role = parse_role(&input.role)?;
        let display_name = input
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let (account, issued, setup) = credentials::add_user_with_setup_code(
            self.db(),
            &user,
            role,
            display_name,
            &caller.access_actor(),
            &source.describe(&[]),
            self.now(),
        )
        .await
        .map_err(account_error)?;
        Ok(AddedUser {
            user: self.user_summary(&account.user_id).await?,
            token: issued.token,
            token_expires_at: rfc3339(issued.expires_at),
            setup_code: setup.code,
            setup_code_expires_at: rfc3339(setup.expires_at),
        })
    }

    /// Disables an account and revokes its tokens (admins), as `kapchart
    /// user disable`; its web sessions end at their next request.
    ///
    /// # Errors
    /// 403; 404; 409 `user_disabled`.
    pub async fn disable_user(
        &self,
        caller: &Caller,
        source: &Source,
        user: &UserId,
    ) -> Result<UserSummary, ApiError> {
        must_be_admin(caller)?;
        if *user == caller.user_id {
            return Err(ApiError::Conflict {
                code: "own_account",
                message: "an admin does not disable their own account".into(),
            });
        }
        kapchart_store::accounts::disable_user_from(
            self.db(),
            user,
            &caller.access_actor(),
            &source.describe(&[]),
            self.now(),
        )
        .await
        .map_err(account_error)?;
        self.user_summary(user).await
    }

    /// Enables a disabled account again (admins); its tokens stay revoked.
    ///
    /// # Errors
    /// 403; 404; 409 `user_not_disabled`.
    pub async fn enable_user(
        &self,
        caller: &Caller,
        source: &Source,
        user: &UserId,
    ) -> Result<UserSummary, ApiError> {
        must_be_admin(caller)?;
        credentials::enable_user(
            self.db(),
            user,
            &caller.access_actor(),
            &source.describe(&[]),
            self.now(),
        )
        .await
        .map_err(account_error)?;
        self.user_summary(user).await
    }

    /// Resets an account's password and second factor and issues a new
    /// setup code (admins), as `kapchart user reset`.
    ///
    /// # Errors
    /// 403; 404; 409 `user_disabled`.
    pub async fn reset_user(
        &self,
        caller: &Caller,
        source: &Source,
        user: &UserId,
    ) -> Result<SetupCodeReply, ApiError> {
        must_be_admin(caller)?;
        let setup = credentials::reset(
            self.db(),
            user,
            &caller.access_actor(),
            &source.describe(&[]),
            self.now(),
        )
        .await
        .map_err(account_error)?;
        Ok(SetupCodeReply {
            user_id: user.to_string(),
            setup_code: setup.code,
            setup_code_expires_at: rfc3339(setup.expires_at),
        })
    }

    /// The published signing keys and the key file's public key (admins).
    ///
    /// # Errors
    /// 403; a key file that cannot be read is a server fault.
    pub async fn signing_keys(&self, caller: &Caller) -> Result<KeysView, ApiError> {
        must_be_admin(caller)?;
        let published = signing_keys::published(self.db())
            .await
            .map_err(|e| ApiError::internal("reading the published keys", &e))?;
        let key_file_public_key = signing_keys::load_key_file(self.key_file()?)
            .map_err(|e| ApiError::internal("reading the key file", &e))?
            .map(|k| signing_keys::public_hex(&k));
        Ok(KeysView {
            published,
            key_file_public_key,
        })
    }

    /// Rotates the signing key (admins): see
    /// [`kapchart_store::signing_keys::rotate`]; logged as `change`.
    ///
    /// # Errors
    /// 403; 409 `key_not_current` when the key file was replaced without a
    /// rotation; 409 `concurrent_update` when rotated within the same
    /// second.
    pub async fn rotate_key(
        &self,
        caller: &Caller,
        source: &Source,
    ) -> Result<signing_keys::Rotation, ApiError> {
        must_be_admin(caller)?;
        signing_keys::rotate(
            self.db(),
            self.key_file()?,
            &caller.access_actor(),
            &source.describe(&[]),
            self.now(),
        )
        .await
        .map_err(key_error)
    }

    /// The checkpoint log, newest first (admins).
    ///
    /// # Errors
    /// 403.
    pub async fn checkpoints(&self, caller: &Caller) -> Result<Vec<CheckpointFile>, ApiError> {
        must_be_admin(caller)?;
        let mut log = kapchart_store::audit::load_checkpoints(self.db())
            .await
            .map_err(|e| ApiError::internal("reading the checkpoint log", &e))?;
        log.reverse();
        Ok(log)
    }

    /// Verifies everything and signs a checkpoint now (admins), as
    /// `kapchart checkpoint`.
    ///
    /// # Errors
    /// 403; 409 `record_not_intact` when verification finds anything (no
    /// checkpoint vouches for a damaged log); 409 `key_not_current`.
    pub async fn issue_checkpoint(&self, caller: &Caller) -> Result<CheckpointFile, ApiError> {
        must_be_admin(caller)?;
        let secret = signing_keys::load_or_create_key_file(self.key_file()?)
            .map_err(|e| ApiError::internal("reading the key file", &e))?;
        let issued_at = rfc3339(self.now());
        kapchart_store::audit::checkpoint(self.db(), &secret, &issued_at)
            .await
            .map_err(|e| match e {
                CheckpointRefused::NotIntact(report) => ApiError::Conflict {
                    code: "record_not_intact",
                    message: format!(
                        "no checkpoint taken: verification found {} chain findings and {} checkpoint problems",
                        report.findings.len(),
                        report.checkpoint_problems.len()
                    ),
                },
                CheckpointRefused::Key(e) => key_error(e),
                CheckpointRefused::Store(e) => ApiError::internal("taking a checkpoint", &e),
            })
    }
}

/// A reply that holds a secret shown once is never cached.
fn no_store() -> [(HeaderName, HeaderValue); 1] {
    [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))]
}

/// The user id of a path, or a 400 naming it.
fn user_of_path(path: Result<Path<String>, PathRejection>) -> Result<UserId, ApiError> {
    let Path(id) = path.map_err(|_| ApiError::bad("user_id", "not a valid path segment"))?;
    parse_user_id("user_id", &id)
}

/// A JSON body, or a 400 naming the field.
fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = crate::commands::body_bytes(body)?;
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::bad(".", "not a JSON object"))?;
    if let Some(object) = value.as_object() {
        for (name, v) in object {
            let known = ["user_id", "role", "display_name"].contains(&name.as_str());
            if !known {
                return Err(ApiError::bad(name.clone(), "unknown field"));
            }
            let ok = v.is_string() || (name == "display_name" && v.is_null());
            if !ok {
                return Err(ApiError::bad(name.clone(), "must be a string"));
            }
        }
        for required in ["user_id", "role"] {
            if !object.contains_key(required) {
                return Err(ApiError::bad(required, "is required"));
            }
        }
    } else {
        return Err(ApiError::bad(".", "not a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| ApiError::bad(".", e.to_string()))
}

/// Every account with its role, status and last sign-in (admins).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "admin",
    responses(
        (status = 200, description = "Every account, by user id", body = Vec<UserSummary>),
        (status = 401, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<UserSummary>>, ApiError> {
    state.list_users(&caller).await.map(Json)
}

/// Adds an account with a role (admins): its first API token and its
/// one-time setup code are in the reply, shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "admin",
    request_body = NewUser,
    responses(
        (status = 201, description = "Added; the token and setup code are shown this once", body = AddedUser),
        (status = 400, description = "Malformed: the field is named", body = crate::ErrorBody),
        (status = 401, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody),
        (status = 409, description = "`user_exists`", body = crate::ErrorBody),
        (status = 413, description = "Body too large", body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, [(HeaderName, HeaderValue); 1], Json<AddedUser>), ApiError> {
    must_be_admin(&caller)?;
    let input: NewUser = json_body(body)?;
    let added = state.add_user(&caller, &source, &input).await?;
    Ok((StatusCode::CREATED, no_store(), Json(added)))
}

/// Disables an account and revokes its tokens (admins).
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/disable",
    tag = "admin",
    params(("id" = String, Path, description = "The user id")),
    responses(
        (status = 200, description = "Disabled", body = UserSummary),
        (status = 400, body = crate::ErrorBody),
        (status = 401, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody),
        (status = 404, body = crate::ErrorBody),
        (status = 409, description = "`user_disabled`, `own_account`", body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<UserSummary>, ApiError> {
    must_be_admin(&caller)?;
    let user = user_of_path(path)?;
    state.disable_user(&caller, &source, &user).await.map(Json)
}

/// Enables a disabled account (admins); its tokens stay revoked.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/enable",
    tag = "admin",
    params(("id" = String, Path, description = "The user id")),
    responses(
        (status = 200, description = "Enabled", body = UserSummary),
        (status = 400, body = crate::ErrorBody),
        (status = 401, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody),
        (status = 404, body = crate::ErrorBody),
        (status = 409, description = "`user_not_disabled`", body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<UserSummary>, ApiError> {
    must_be_admin(&caller)?;
    let user = user_of_path(path)?;
    state.enable_user(&caller, &source, &user).await.map(Json)
}

/// Resets an account's web password and second factor (admins): a new
/// one-time setup code, shown this once; its web sessions end.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/reset",
    tag = "admin",
    params(("id" = String, Path, description = "The user id")),
    responses(
        (status = 200, description = "Reset; the setup code is shown this once", body = SetupCodeReply),
        (status = 400, body = crate::ErrorBody),
        (status = 401, body = crate::ErrorBody),
        (status = 403, body = crate::ErrorBody),
        (status = 404, body = crate::ErrorBody),
        (status = 409, description = "`user_disabled`", body = crate::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    source: Source,
    path: Result<Path<String>, PathRejection>,
) -> Result<([(HeaderName, HeaderValue); 1], Json<SetupCodeReply>), ApiError> {
    must_be_admin(&caller)?;
    let user = user_of_path(path)?;
    let reply = state.reset_user(&caller, &source, &user).await?;
    Ok((no_store(), Json(reply)))
}
