//! Sign-in: password, second factor (TOTP), setup codes, sign-out, lockout; the account page.

use axum::Router;

use crate::WebState;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
}
