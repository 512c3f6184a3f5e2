//! The front desk's pages: the calendar per therapist and day, clients' billing and balances, the superbill (print and CSV).

use axum::Router;

use crate::WebState;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
}
