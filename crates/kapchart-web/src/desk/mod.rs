//! The front desk's pages: the calendar per therapist and day (or week)
//! with a booking form, every client with their balance, a client's
//! billing, and the superbill as a print-ready page and as CSV.
//!
//! | route | page | read (service) | logged as |
//! | --- | --- | --- | --- |
//! | `GET /desk?day=` or `?week=` | calendar | `read_schedule` | `query`, each client shown |
//! | `GET /desk/book?...` | booking form; 303 to the schedule form | none | — |
//! | `GET /desk/register` | 303 to `/act/register-client` | none | — |
//! | `GET /desk/clients` | every client and balance | `read_accounts` | `query`, each client |
//! | `GET /clients/{id}/billing` | charges, payments, balance | `read_billing` | `query` |
//! | `GET /clients/{id}/superbill` | print-ready superbill | `read_superbill` | `print` |
//! | `GET /clients/{id}/superbill.csv` | superbill as CSV | `read_superbill` | `export` |
//!
//! Front desk reads no clinical data: every page here is built only from
//! what these services return, and they return no notes, doses or
//! measures.

mod billing;
mod calendar;
mod format;
mod superbill;

use axum::Router;
use axum::routing::get;
use kapchart_domain::{ClientId, Role};

use crate::WebState;
use crate::page::PageError;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/desk", get(calendar::calendar))
        .route("/desk/book", get(calendar::book))
        .route("/desk/register", get(calendar::register))
        .route("/desk/clients", get(billing::clients))
        .route("/clients/{id}/billing", get(billing::billing))
        .route("/clients/{id}/superbill", get(superbill::page))
        .route("/clients/{id}/superbill.csv", get(superbill::csv))
}

/// The client id of a path, or a 400 that names it.
fn client_of_path(id: &str) -> Result<ClientId, PageError> {
    ClientId::parse(id).map_err(|e| PageError::bad(format!("client id in the address: {e}")))
}

/// A staff member as pages name them (staff data, not a client's record).
#[derive(Debug, Clone)]
struct Staff {
    /// Their user id.
    id: String,
    /// Their role.
    role: Role,
    /// Display name and id, or the id alone.
    name: String,
    /// False once the account is disabled.
    active: bool,
}

/// The practice's accounts, active or not.
async fn staff_of(state: &WebState) -> Result<Vec<Staff>, PageError> {
    let accounts = kapchart_store::accounts::list_users(state.app.db())
        .await
        .map_err(|e| PageError::internal("listing accounts", &e))?;
    Ok(accounts
        .into_iter()
        .map(|a| {
            let id = a.user_id.to_string();
            let name = match &a.display_name {
                Some(n) if !n.trim().is_empty() => format!("{} ({id})", n.trim()),
                _ => id.clone(),
            };
            Staff {
                id,
                role: a.role,
                name,
                active: !a.disabled,
            }
        })
        .collect())
}

/// The name a page gives staff member `id`: from `staff`, else the id.
fn staff_name(staff: &[Staff], id: &str) -> String {
    staff
        .iter()
        .find(|s| s.id == id)
        .map_or_else(|| id.to_owned(), |s| s.name.clone())
}
