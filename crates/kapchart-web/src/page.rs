//! What every page shares: the layout (header, navigation by role,
//! sign-out, main landmark), the error page, and how a rendered template
//! becomes a response.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use kapchart_api::ApiError;
use kapchart_domain::Role;

use crate::session::SignedIn;

/// One link of the navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Where it goes.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
    /// True on the page it leads to (`aria-current="page"`).
    pub current: bool,
}

/// What the layout needs of every page.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The page's title (also its `<h1>`).
    pub title: String,
    /// The signed-in user, if any: name or id, and role.
    pub user: Option<LayoutUser>,
    /// The navigation of the user's role.
    pub nav: Vec<NavLink>,
    /// The session's CSRF token (for the sign-out form).
    pub csrf: String,
    /// A message for the top of the page (after a redirect), if any.
    pub notice: Option<String>,
}

/// The signed-in user, as the header shows them.
#[derive(Debug, Clone)]
pub struct LayoutUser {
    /// Their name, or their id.
    pub name: String,
    /// Their role, in words.
    pub role: &'static str,
}

impl Layout {
    /// The layout of a page titled `title` for `user`, with `current`
    /// the path of the navigation link that is this page.
    pub fn new(title: impl Into<String>, user: &SignedIn, current: &str) -> Self {
        Layout {
            title: title.into(),
            user: Some(LayoutUser {
                name: user
                    .display_name
                    .clone()
                    .unwrap_or_else(|| user.caller.user_id.to_string()),
                role: role_name(user.caller.role),
            }),
            nav: nav_of(user.caller.role)
                .iter()
                .map(|(href, label)| NavLink {
                    href,
                    label,
                    current: *href == current,
                })
                .collect(),
            csrf: user.csrf.clone(),
            notice: None,
        }
    }

    /// The layout of a page for someone not signed in.
    pub fn public(title: impl Into<String>) -> Self {
        Layout {
            title: title.into(),
            user: None,
            nav: Vec::new(),
            csrf: String::new(),
            notice: None,
        }
    }

    /// With a notice at the top.
    #[must_use]
    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }
}

/// A role in words.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Therapist => "Therapist",
        Role::Prescriber => "Prescriber",
        Role::FrontDesk => "Front desk",
        Role::Auditor => "Auditor",
        Role::Admin => "Admin",
    }
}

/// The navigation of a role: (path, label).
pub fn nav_of(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Therapist => &[
            ("/therapist", "Today and this week"),
            ("/therapist/clients", "My clients"),
            ("/act/register-client", "Register a client"),
            ("/account", "Account"),
        ],
        Role::Prescriber => &[("/prescriber", "Referred clients"), ("/account", "Account")],
        Role::FrontDesk => &[
            ("/desk", "Calendar"),
            ("/desk/clients", "Clients and billing"),
            ("/act/register-client", "Register a client"),
            ("/account", "Account"),
        ],
        Role::Auditor => &[
            ("/audit", "Verification"),
            ("/audit/access", "Access log"),
            (
                "/audit/reports/controlled-substances",
                "Controlled substances",
            ),
            ("/audit/reports/protocol", "Protocol adherence"),
            ("/account", "Account"),
        ],
        Role::Admin => &[
            ("/admin/users", "Users"),
            ("/admin/keys", "Signing keys"),
            ("/admin/checkpoints", "Checkpoints"),
            ("/admin/settings", "Settings"),
            ("/account", "Account"),
        ],
    }
}

/// The home page of a role.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Therapist => "/therapist",
        Role::Prescriber => "/prescriber",
        Role::FrontDesk => "/desk",
        Role::Auditor => "/audit",
        Role::Admin => "/admin/users",
    }
}

/// A page that failed: a status and a message that names the field or
/// rule and never a client's data.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl PageError {
    /// A malformed request (400).
    pub fn bad(message: impl Into<String>) -> Self {
        PageError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_input",
            message: message.into(),
        }
    }

    /// Not for this user (403).
    pub fn forbidden(message: impl Into<String>) -> Self {
        PageError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: message.into(),
        }
    }

    /// No such page (404).
    pub fn not_found(message: impl Into<String>) -> Self {
        PageError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }

    /// A route that does not take this method (405).
    pub fn method_not_allowed() -> Self {
        PageError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
            message: "This page does not take this method.".to_owned(),
        }
    }

    /// A server fault: logged, and answered without its details (500);
    /// a database that does not answer is 503 `unavailable`, as the
    /// API's error table says (`kapchart_api::error::database_unavailable`).
    pub fn internal<E: std::fmt::Display + std::any::Any>(
        context: &'static str,
        error: &E,
    ) -> Self {
        if kapchart_api::error::database_unavailable(error) {
            tracing::warn!(%error, "{context}: the database is unavailable");
            return PageError::from(ApiError::Unavailable);
        }
        tracing::error!(%error, "{context}");
        PageError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "The server failed; the details are in its log.".to_owned(),
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        let (status, code) = e.status_and_code();
        let message = match &e {
            ApiError::Internal => "The server failed; the details are in its log.".to_owned(),
            ApiError::Unavailable => {
                "The database is not answering; try again in a few seconds.".to_owned()
            }
            other => other.to_string(),
        };
        PageError {
            status,
            code,
            message,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = match self.status.canonical_reason() {
            Some(reason) => format!("{} {reason}", self.status.as_u16()),
            None => self.status.as_u16().to_string(),
        };
        let page = ErrorPage {
            layout: Layout::public(title),
            code: self.code,
            message: &self.message,
        };
        let mut response = match page.render() {
            Ok(html) => (self.status, no_store(), Html(html)).into_response(),
            Err(_) => (self.status, self.message).into_response(),
        };
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(kapchart_api::error::RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// Headers of every page: never cached (a page may hold PHI).
pub fn no_store() -> [(header::HeaderName, HeaderValue); 1] {
    [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))]
}

/// A rendered template as a response (200, not cached).
///
/// # Errors
/// A template that fails to render is a server fault.
pub fn render(template: &impl Template) -> Result<Response, PageError> {
    let html = template
        .render()
        .map_err(|e| PageError::internal("rendering a page", &e))?;
    Ok((no_store(), Html(html)).into_response())
}

/// Every command's form, by its path segment under `/act/` (the command's
/// name in kebab case), with what a page says once it is done.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    // (path segment, command name, done notice)
    (
        "register-client",
        "RegisterClient",
        "The client is registered.",
    ),
    ("record-intake", "RecordIntake", "The intake is recorded."),
    ("refer-client", "ReferClient", "The referral is recorded."),
    (
        "record-medical-evaluation",
        "RecordMedicalEvaluation",
        "The medical evaluation is recorded.",
    ),
    (
        "issue-prescription",
        "IssuePrescription",
        "The prescription is recorded.",
    ),
    (
        "record-consent",
        "RecordConsent",
        "The consent is recorded.",
    ),
    (
        "schedule-preparation",
        "SchedulePreparation",
        "The preparation session is booked.",
    ),
    (
        "record-preparation",
        "RecordPreparation",
        "The preparation session is recorded.",
    ),
    (
        "schedule-exploration",
        "ScheduleExploration",
        "The exploration session is booked.",
    ),
    (
        "record-exploration",
        "RecordExploration",
        "The exploration session is recorded.",
    ),
    (
        "schedule-integration",
        "ScheduleIntegration",
        "The integration session is booked.",
    ),
    (
        "record-integration",
        "RecordIntegration",
        "The integration session is recorded.",
    ),
    (
        "adjust-dose",
        "AdjustDose",
        "The dose adjustment is recorded.",
    ),
    (
        "authorize-override",
        "AuthorizeOverride",
        "The authorization is recorded.",
    ),
    (
        "record-outcome-measure",
        "RecordOutcomeMeasure",
        "The outcome measure is recorded.",
    ),
    (
        "record-ongoing-care",
        "RecordOngoingCare",
        "The ongoing care session is recorded.",
    ),
    (
        "record-external-treatment",
        "RecordExternalTreatment",
        "The external treatment is recorded.",
    ),
    (
        "cancel-session",
        "CancelSession",
        "The session is cancelled.",
    ),
    ("record-no-show", "RecordNoShow", "The no-show is recorded."),
    (
        "record-payment",
        "RecordPayment",
        "The payment is recorded.",
    ),
    ("amend-entry", "AmendEntry", "The amendment is recorded."),
    (
        "discharge-client",
        "DischargeClient",
        "The client is discharged.",
    ),
];

/// What a page says after the form `done` (a path segment of
/// [`COMMANDS`], from `?done=`) succeeded; nothing for anything else.
pub fn done_notice(done: Option<&str>) -> Option<String> {
    let done = done?;
    COMMANDS
        .iter()
        .find(|(segment, _, _)| *segment == done)
        .map(|(_, _, notice)| (*notice).to_owned())
}

/// The path of a command's form for `client`: `/act/record-intake?client=c-1`.
pub fn form_path(segment: &str, client: &str) -> String {
    format!("/act/{segment}?client={client}")
}
