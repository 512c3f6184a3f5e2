//! The therapist's and prescriber's pages: their days and weeks, their clients, the client chart with its outcome plot.

use axum::Router;

use crate::WebState;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
}
