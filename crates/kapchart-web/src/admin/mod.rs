//! The admin's pages: accounts, signing keys, checkpoints and the
//! practice's settings, over the
//! API crate's admin services (`kapchart_api::admin`), so a page and an
//! API call meet the same role check and write the same access-log entry.
//!
//! | route | page | service | logged as |
//! | --- | --- | --- | --- |
//! | `GET /admin/users` | every account, last sign-in, add form | `list_users` | — |
//! | `POST /admin/users` | adds; the token and setup code shown once | `add_user` | `add` |
//! | `POST /admin/users/{id}/disable` | 303 to the list | `disable_user` | `change` |
//! | `POST /admin/users/{id}/enable` | 303 to the list | `enable_user` | `change` |
//! | `POST /admin/users/{id}/reset` | the new setup code shown once | `reset_user` | `change` |
//! | `GET /admin/keys` | published public keys, rotate form | `signing_keys` | — |
//! | `POST /admin/keys/rotate` | rotates (confirmation required); 303 | `rotate_key` | `change` |
//! | `GET /admin/checkpoints` | the checkpoint log, issue form | `checkpoints` | — |
//! | `POST /admin/checkpoints` | issues a checkpoint; 303 | `issue_checkpoint` | — |
//! | `GET /admin/settings` | the practice's settings, every version, the record's history; a form per change | `read_practice`, `read_practice_history` | — |
//! | `POST /admin/settings/{identity,provider,policy,fees}` | one change; 303 | `execute_practice` | — |
//!
//! Every form carries the session's CSRF token. Changes answer with a
//! 303 to the list (POST-redirect-GET), except the two that create a
//! secret shown once (a new account's token and setup code, a reset's
//! setup code): those are rendered on the POST's own response, with
//! `Cache-Control: no-store`, and never put in an address, a notice or a
//! log, so a reload cannot show them again.

mod keys;
mod settings;
mod users;

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use kapchart_domain::Role;

use crate::WebState;
use crate::page::PageError;
use crate::session::SignedIn;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/admin/users", get(users::list).post(users::add))
        .route("/admin/users/{id}/disable", post(users::disable))
        .route("/admin/users/{id}/enable", post(users::enable))
        .route("/admin/users/{id}/reset", post(users::reset))
        .route("/admin/keys", get(keys::keys))
        .route("/admin/keys/rotate", post(keys::rotate))
        .route(
            "/admin/checkpoints",
            get(keys::checkpoints).post(keys::issue),
        )
        .route("/admin/settings", get(settings::settings))
        .route("/admin/settings/identity", post(settings::identity))
        .route("/admin/settings/provider", post(settings::provider))
        .route("/admin/settings/policy", post(settings::policy))
        .route("/admin/settings/fees", post(settings::fees))
}

/// Admins only: the pages refuse other roles before calling a service
/// (which refuses them too).
fn admin_only(user: &SignedIn) -> Result<(), PageError> {
    if user.caller.role == Role::Admin {
        Ok(())
    } else {
        Err(PageError::forbidden(
            "These pages are for admins: accounts, signing keys, checkpoints and the practice's settings.",
        ))
    }
}

/// A time as the pages show it: in the practice's time zone.
fn shown(state: &WebState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.time_zone())
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// An RFC 3339 time from a service, shown in the practice's time zone
/// (as given when it does not parse).
fn shown_text(state: &WebState, text: &str) -> String {
    DateTime::parse_from_rfc3339(text)
        .map_or_else(|_| text.to_owned(), |t| shown(state, t.with_timezone(&Utc)))
}
