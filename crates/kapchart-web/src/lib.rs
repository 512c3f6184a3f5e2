//! kapchart's web pages for the practice's staff, served by `kapchart
//! serve` beside the JSON API.
//!
//! Every page is rendered on the server from a template checked at compile
//! time (askama), styled by one stylesheet embedded in the binary, and
//! works without JavaScript: plain links and forms, POST-redirect-GET.
//! Pages read and write through the API crate's services
//! ([`kapchart_api::AppState`]: `read_chart`, `execute`, ...), so a page
//! meets the same roles, rules and access log as the API; no page reads
//! the database for a client's record on its own.
//!
//! - [`session`]: the signed-in session (cookie), its CSRF token, idle
//!   sign-out.
//! - [`page`]: the layout every page shares and the error page.
//! - `signin`: password, second factor, setup codes, sign-out, lockout.
//! - `clinical`: the therapist's and prescriber's pages and the chart.
//! - `forms`: a form for every command.
//! - `desk`: the front desk's calendar, billing and superbills.
//! - `audit`: the auditor's pages: verification, complete histories and
//!   bundles, the access log report, the compliance reports.
//! - `admin`: the admin's users, signing keys and checkpoints.

mod admin;
mod audit;
mod clinical;
mod desk;
mod forms;
pub mod page;
pub mod session;
mod signin;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kapchart_api::AppState;

/// The stylesheet, embedded.
pub const STYLESHEET: &str = include_str!("../static/kapchart.css");

/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/static/kapchart.css";

/// How the pages are served.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// A session unused this long is signed out (HIPAA 164.312(a)(2)(iii)).
    pub idle_limit: chrono::Duration,
    /// Cookies are `Secure` (set when kapchart is served over TLS, or
    /// behind a proxy that terminates it).
    pub secure_cookies: bool,
    /// The practice's time zone: every date and time is shown in it.
    pub time_zone: chrono_tz::Tz,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            idle_limit: chrono::Duration::minutes(15),
            secure_cookies: false,
            time_zone: chrono_tz::UTC,
        }
    }
}

/// The pages' state: the API's services and how pages are served.
#[derive(Debug, Clone)]
pub struct WebState {
    /// The services the API also uses.
    pub app: AppState,
    /// How the pages are served.
    pub config: Arc<WebConfig>,
}

impl WebState {
    /// The pages over `app`'s services.
    pub fn new(app: AppState, config: WebConfig) -> Self {
        WebState {
            app,
            config: Arc::new(config),
        }
    }

    /// The practice's time zone, every date and time on a page is shown
    /// in: its record's once the practice's identity is set, until then
    /// the configured one ([`WebConfig::time_zone`]).
    pub fn time_zone(&self) -> chrono_tz::Tz {
        let settings = self.app.settings_known();
        if settings.identity().is_some() {
            settings.time_zone().tz()
        } else {
            self.config.time_zone
        }
    }

    /// The schedule's days to read for the local days `first` to `last`
    /// of the pages' time zone: the same days when the pages' zone is the
    /// record's (the schedule files sessions under the record's local
    /// dates), else one more on each side, for the page to keep what
    /// starts on its own days (a practice that has not set its identity,
    /// served with another time zone).
    pub fn schedule_days(
        &self,
        first: chrono::NaiveDate,
        last: chrono::NaiveDate,
    ) -> (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>) {
        if self.app.settings_known().time_zone().tz() == self.time_zone() {
            (Some(first), Some(last))
        } else {
            (first.pred_opt(), last.succ_opt())
        }
    }

    /// How long an unused session lasts: the idle sign-out of the policy
    /// in force once the practice has adopted a policy of its own, until
    /// then the configured one ([`WebConfig::idle_limit`]).
    pub fn idle_limit(&self) -> chrono::Duration {
        let settings = self.app.settings_known();
        match settings.policy_at(self.app.now()) {
            Some(policy) if policy.version > 1 => {
                chrono::Duration::minutes(i64::from(policy.idle_sign_out_minutes))
            }
            _ => self.config.idle_limit,
        }
    }
}

/// Everything `kapchart serve` answers: the API's routes and the pages'.
/// An unknown path or a wrong method gets the API's JSON error under
/// `/api/`, and an error page elsewhere.
pub fn app(state: WebState) -> Router {
    kapchart_api::routes(state.app.clone())
        .merge(router(state))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(security_headers))
}

/// Headers on every answer: no page may be framed by another site
/// (clickjacking a form), no plugin or `<base>` may be injected, forms
/// post only here, content types are taken as sent, and no address of a
/// page (which may name a client) leaks to another site as a referrer.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if is_api(&uri) {
        kapchart_api::ApiError::NotFound("no such route").into_response()
    } else {
        page::PageError::not_found("There is no such page.").into_response()
    }
}

async fn method_not_allowed(uri: axum::http::Uri) -> Response {
    if is_api(&uri) {
        kapchart_api::ApiError::MethodNotAllowed.into_response()
    } else {
        page::PageError::method_not_allowed().into_response()
    }
}

fn is_api(uri: &axum::http::Uri) -> bool {
    uri.path() == "/api" || uri.path().starts_with("/api/")
}

/// The pages' routes alone.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(home))
        .route(STYLESHEET_PATH, get(stylesheet))
        .merge(signin::routes())
        .merge(clinical::routes())
        .merge(forms::routes())
        .merge(desk::routes())
        .merge(audit::routes())
        .merge(admin::routes())
        .with_state(state)
}

/// `/`: a signed-in user's home page by role, else the sign-in page.
async fn home(user: session::SignedIn) -> Redirect {
    Redirect::to(page::home_of(user.caller.role))
}

async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        STYLESHEET,
    )
        .into_response()
}
