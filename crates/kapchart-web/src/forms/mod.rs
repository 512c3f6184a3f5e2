//! A form for every command each role issues, posted through the API's command service.

use axum::Router;

use crate::WebState;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
}
