//! kapchart's JSON API, under `/api/v1`.
//!
//! - `POST /api/v1/clients/{id}/commands`: one command to one client's
//!   record, idempotent by its command id; one command per record at a
//!   time (`locks.rs`).
//! - Reads of a client's record (chart, history, billing, superbill,
//!   bundle, FHIR R4 Bundle: [`fhir`]), the schedule, reports, the
//!   verification status, the checkpoint log and the access log, each
//!   allowed by role and assignment, and each read of a client's record
//!   appended to the access log before the data is sent.
//! - The admin's accounts under `/api/v1/users` ([`admin`]): list, add
//!   with a role, disable, enable, reset the web sign-in.
//! - `GET /api/v1/openapi.json`: the OpenAPI document, generated from this
//!   code ([`openapi`]).
//! - `GET /healthz` and `GET /readyz`: the probes of an orchestrator, no
//!   token ([`health`]).
//!
//! Every error goes through one table ([`error`]); nothing a client sends
//! can cause a 5xx. While the database does not answer, requests are
//! answered 503 `unavailable` with `Retry-After`, within the pool's
//! acquire timeout. The actor of a command and its time come from the
//! token and the server's clock, never from the body.

pub mod admin;
mod audit_api;
mod audit_reads;
mod auth;
pub mod command_schema;
mod commands;
mod desk_reads;
pub mod disclosure;
pub mod error;
pub mod fhir;
pub mod health;
mod limit;
mod lists;
mod locks;
pub mod openapi;
mod practice;
mod query;
mod reads;
mod service;
mod source;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use cqrs_es::persist::PersistedEventStore;
use kapchart_domain::{ClientRecord, Services};
use kapchart_projector::{ProjectedPractice, Projector};
use kapchart_store::practice::{PracticeCqrs, SettingsSource};
use kapchart_store::{ClientCqrs, ClientStore, Clock, Database, EventRepository};

pub use audit_reads::VerificationRun;
pub use auth::Caller;
pub use commands::{CommandReply, CommandRequest, WrittenEvent};
pub use desk_reads::ReadAction;
pub use error::{ApiError, ErrorBody};
pub use lists::{ClientSummary, summary_categories};
pub use practice::{PracticeCommandRequest, PracticeHistoryEntry, PracticeReply};
pub use reads::{ClientRows, Purpose, ReportReply, ViewRow};
pub use source::Source;

/// The largest request body accepted, in bytes (413 above it).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Everything a handler needs, shared.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    cqrs: ClientCqrs,
    store: ClientStore,
    repository: EventRepository,
    projector: Projector,
    clock: Clock,
    locks: locks::RecordLocks,
    settings: SettingsSource,
    practice: PracticeCqrs,
    /// The checkpoint signing key's file (kept outside the database).
    key_file: std::sync::OnceLock<std::path::PathBuf>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("engine", &self.inner.db.engine())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The state over `db`, with the settings its practice record holds,
    /// time from `clock`, and views kept by `projector` (woken after each
    /// command).
    pub fn new(db: Database, projector: Projector, clock: Clock) -> Self {
        let settings = SettingsSource::new(db.clone());
        let services: Services =
            Arc::new(ProjectedPractice::new(projector.clone(), settings.clone()));
        let cqrs = db.client_cqrs(Arc::clone(&clock), services);
        let practice = db.practice_cqrs(Arc::clone(&clock));
        let repository = db.repository(Arc::clone(&clock));
        let store = PersistedEventStore::new_event_store(repository.clone());
        Self {
            inner: Arc::new(Inner {
                db,
                cqrs,
                store,
                repository,
                projector,
                clock,
                locks: locks::RecordLocks::default(),
                settings,
                practice,
                key_file: std::sync::OnceLock::new(),
            }),
        }
    }

    /// With the file that holds the checkpoint signing key (`kapchart
    /// serve --key-file`): the admin's checkpoints and key rotation use
    /// it. Set once; a second call changes nothing.
    #[must_use]
    pub fn with_key_file(self, path: std::path::PathBuf) -> Self {
        let _ = self.inner.key_file.set(path);
        self
    }

    /// The database.
    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    /// Now, by the server's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    fn projector(&self) -> &Projector {
        &self.inner.projector
    }

    /// A client's record as it stands (every event replayed).
    async fn record(&self, client: &str) -> Result<ClientRecord, ApiError> {
        use cqrs_es::{AggregateContext as _, EventStore as _};
        let mut context = self
            .inner
            .store
            .load_aggregate(client)
            .await
            .map_err(|e| ApiError::internal("loading a client record", &e))?;
        Ok(context.aggregate().clone())
    }
}

/// The API's routes with its own answers to an unknown route (404) and a
/// wrong method (405), as JSON.
pub fn router(state: AppState) -> Router {
    routes(state)
        .fallback(|| async { ApiError::NotFound("no such route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// The API's routes, for merging with the pages' (whose fallback answers
/// paths under `/api/` as [`router`] does).
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route(
            "/api/v1/clients/{id}/commands",
            post(commands::post_command),
        )
        .route("/api/v1/clients/{id}/chart", get(reads::chart))
        .route("/api/v1/clients/{id}/history", get(reads::history))
        .route("/api/v1/clients/{id}/billing", get(reads::billing))
        .route("/api/v1/clients/{id}/superbill", get(reads::superbill))
        .route("/api/v1/schedule", get(reads::schedule))
        .route("/api/v1/reports/{name}", get(reads::report))
        .route("/api/v1/verification", get(reads::verification))
        .route("/api/v1/practice", get(practice::get_practice))
        .route("/api/v1/practice/history", get(practice::get_history))
        .route("/api/v1/practice/commands", post(practice::post_command))
        .route("/api/v1/checkpoints", get(audit_api::checkpoints))
        .route("/api/v1/clients/{id}/bundle", get(audit_api::bundle))
        .route("/api/v1/clients/{id}/fhir", get(fhir::fhir))
        .route("/api/v1/access-log", get(audit_api::access_log))
        .route("/api/v1/users", get(admin::list).post(admin::add))
        .route("/api/v1/users/{id}/disable", post(admin::disable))
        .route("/api/v1/users/{id}/enable", post(admin::enable))
        .route("/api/v1/users/{id}/reset", post(admin::reset))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(limit::refuse_large_bodies))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            health::unavailable_on_failure,
        ))
        .with_state(state)
}

/// Serves `app` (the API's [`router`], perhaps merged with the pages')
/// on `listener` until `shutdown` resolves, with each request's peer
/// address known to the access log.
///
/// # Errors
/// The listener failed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
