//! The probes an orchestrator asks, without a token: `GET /healthz` (the
//! process is alive) and `GET /readyz` (it can serve: the database
//! answers, its schema is the one this build embeds, and the views are
//! close to the feed). They read no client data, so they append nothing
//! to the access log, and their answers hold no PHI: check names, counts
//! and bounds.
//!
//! [`unavailable_on_failure`] is the API's guard for an outage: a 500
//! answered while the database does not answer becomes 503
//! `unavailable`, whatever error carried the failure.

use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kapchart_projector::Generation;
use kapchart_store::{Cursor, MigrationState};
use kapchart_views::ViewName;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;

/// How long each readiness check may take before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The most feed events a view may lack while the server counts as ready.
pub const READY_LAG: i64 = 1_000;

/// `GET /healthz`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `alive`.
    pub status: &'static str,
}

/// `GET /readyz`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` (200) or `not_ready` (503).
    pub status: &'static str,
    /// The names of the checks that failed (empty when ready):
    /// `database`, `migrations`, `projector`. While the database does not
    /// answer, only `database` (the others are `skipped`).
    pub failed: Vec<&'static str>,
    /// Every check, in order.
    pub checks: Vec<Check>,
}

/// One readiness check.
#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    /// `database`, `migrations` or `projector`.
    pub name: &'static str,
    /// `ok`, `failed` or `skipped` (not run: the database does not answer).
    pub status: &'static str,
    /// What was found, in words (no PHI: counts and bounds).
    pub detail: String,
}

impl Check {
    fn new(name: &'static str, ok: bool, detail: impl Into<String>) -> Self {
        Check {
            name,
            status: if ok { "ok" } else { "failed" },
            detail: detail.into(),
        }
    }
}

/// `GET /healthz`: the process is alive (200, always).
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses((status = 200, description = "The process is alive", body = Health))
)]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "alive" })
}

/// `GET /readyz`: 200 when the database answers within
/// [`CHECK_TIMEOUT`], every embedded migration is applied (and no other),
/// and no view lacks more than [`READY_LAG`] feed events; otherwise 503,
/// naming the checks that failed.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "Not ready: `failed` names the checks", body = Readiness),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let readiness = readiness(&state).await;
    let status = if readiness.status == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness)).into_response()
}

/// Runs the readiness checks.
pub async fn readiness(state: &AppState) -> Readiness {
    let mut checks = Vec::with_capacity(3);
    let database = match bounded(state.db().ping()).await {
        Some(Ok(())) => Check::new("database", true, "answered"),
        Some(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            Check::new("database", false, "the database does not answer")
        }
        None => Check::new(
            "database",
            false,
            format!("no answer within {} s", CHECK_TIMEOUT.as_secs()),
        ),
    };
    let reachable = database.status == "ok";
    checks.push(database);
    if reachable {
        checks.push(migrations(state).await);
        checks.push(projector(state).await);
    } else {
        for name in ["migrations", "projector"] {
            checks.push(Check {
                name,
                status: "skipped",
                detail: "not checked: the database does not answer".to_owned(),
            });
        }
    }
    let failed: Vec<&'static str> = checks
        .iter()
        .filter(|c| c.status == "failed")
        .map(|c| c.name)
        .collect();
    Readiness {
        status: if checks.iter().all(|c| c.status == "ok") {
            "ready"
        } else {
            "not_ready"
        },
        failed,
        checks,
    }
}

async fn migrations(state: &AppState) -> Check {
    let name = "migrations";
    match bounded(state.db().migration_state()).await {
        Some(Ok(MigrationState::Current)) => Check::new(name, true, "current"),
        Some(Ok(MigrationState::Pending(n))) => Check::new(
            name,
            false,
            format!("{n} migrations not applied; run `kapchart migrate`"),
        ),
        Some(Ok(MigrationState::Dirty(version))) => {
            Check::new(name, false, format!("migration {version} failed part-way"))
        }
        Some(Ok(MigrationState::Unknown(n))) => Check::new(
            name,
            false,
            format!("{n} applied migrations are not this build's (another version migrated it)"),
        ),
        Some(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the migrations cannot be read");
            Check::new(name, false, "the applied migrations cannot be read")
        }
        None => Check::new(
            name,
            false,
            format!("no answer within {} s", CHECK_TIMEOUT.as_secs()),
        ),
    }
}

/// The largest number of feed events a view's active generation lacks (a
/// view without one yet lacks every event).
async fn projector(state: &AppState) -> Check {
    let name = "projector";
    let lag = async {
        let projector = state.projector();
        let generations = projector.generations().await?;
        let mut behind = 0_i64;
        for view in ViewName::ALL {
            let active = generations
                .iter()
                .find(|g| g.view == view && g.status == "active")
                .cloned()
                .unwrap_or(Generation {
                    view,
                    generation: 0,
                    status: "active".to_owned(),
                    cursor: Cursor::START,
                    events: 0,
                    format: 0,
                });
            behind = behind.max(projector.lag(&active).await?);
        }
        Ok::<i64, kapchart_projector::ProjectorError>(behind)
    };
    match bounded(lag).await {
        Some(Ok(behind)) if behind <= READY_LAG => Check::new(
            name,
            true,
            format!("the views lack {behind} events (bound {READY_LAG})"),
        ),
        Some(Ok(behind)) => Check::new(
            name,
            false,
            format!("the views lack {behind} events (bound {READY_LAG})"),
        ),
        Some(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the views' lag cannot be read");
            Check::new(name, false, "the views' lag cannot be read")
        }
        None => Check::new(
            name,
            false,
            format!("no answer within {} s", CHECK_TIMEOUT.as_secs()),
        ),
    }
}

async fn bounded<T>(check: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(CHECK_TIMEOUT, check).await.ok()
}

/// Middleware: a 500 answered while the database does not answer (a
/// bounded `SELECT 1` fails) is answered 503 `unavailable` with
/// `Retry-After` instead. The error table classifies the store's errors
/// by type; this covers a failure whose error lost its type on the way
/// (a service the record consults, a connection that broke mid-request).
pub async fn unavailable_on_failure(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    match bounded(state.db().ping()).await {
        Some(Ok(())) => response,
        _ => ApiError::Unavailable.into_response(),
    }
}
