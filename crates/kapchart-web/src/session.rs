//! The signed-in session of a browser: its cookie, its CSRF token, and
//! idle sign-out.
//!
//! The cookie `kapchart_session` holds the session's secret
//! ([`kapchart_store::web_sessions`]): `HttpOnly`, `SameSite=Strict`,
//! `Path=/`, and `Secure` when [`WebConfig::secure_cookies`] is set.
//! [`SignedIn`] extracts the caller of a page from it; a request with no
//! live session is sent to the sign-in page. Every form posts the
//! session's CSRF token in the field `csrf`; [`CsrfForm`] refuses a post
//! without the right one (403) before the handler runs.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use kapchart_api::{Caller, Purpose, Source};
use kapchart_store::access::{AccessAction, AccessActor, AccessEntry, DataCategory};
use kapchart_store::web_sessions::{self, Lookup};
use serde::de::DeserializeOwned;

use crate::page::PageError;
use crate::{WebConfig, WebState};

/// The session cookie's name.
pub const COOKIE: &str = "kapchart_session";

/// The field every form carries its CSRF token in.
pub const CSRF_FIELD: &str = "csrf";

/// A signed-in user, from a live session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Who, in which role: the same caller the API's services take.
    pub caller: Caller,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// The purpose of use chosen at sign-in.
    pub purpose: Purpose,
    /// The person's name, for the page header.
    pub display_name: Option<String>,
    /// The request as made, for the access log.
    pub source: Source,
}

/// The `Set-Cookie` value that gives the browser a session.
pub fn session_cookie(config: &WebConfig, secret: &str) -> String {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The `Set-Cookie` value that takes the session away.
pub fn cleared_cookie(config: &WebConfig) -> String {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

/// The session secret the request's cookie holds, if any.
pub fn cookie_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The request as made, for the access log: `web GET /clients/c-1 from
/// 127.0.0.1`.
pub fn source_of(parts: &Parts) -> Source {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    Source::new("web", parts.method.as_str(), parts.uri.path(), peer)
}

/// Parses a purpose as stored in the session.
pub fn parse_purpose(text: &str) -> Option<Purpose> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

/// Why there is no signed-in user: answered by a redirect to sign in.
#[derive(Debug)]
pub enum NotSignedIn {
    /// No session, or an ended one.
    Missing,
    /// The session was idle too long and has been ended.
    Idle,
    /// The session store failed.
    Failed(PageError),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::Missing => Redirect::to("/sign-in").into_response(),
            NotSignedIn::Idle => Redirect::to("/sign-in?ended=idle").into_response(),
            NotSignedIn::Failed(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<WebState> for SignedIn {
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, NotSignedIn> {
        let secret = cookie_secret(&parts.headers).ok_or(NotSignedIn::Missing)?;
        let now = state.app.now();
        // The practice's settings as they stand (a change by another
        // process included): the idle limit and the time zone follow them.
        state
            .app
            .settings()
            .await
            .map_err(|e| NotSignedIn::Failed(PageError::from(e)))?;
        let found = web_sessions::find(state.app.db(), &secret, now, state.idle_limit())
            .await
            .map_err(|e| NotSignedIn::Failed(PageError::internal("finding a session", &e)))?;
        match found {
            Lookup::Active(session) => {
                let purpose = parse_purpose(&session.purpose)
                    .unwrap_or_else(|| default_purpose(session.account.role));
                Ok(SignedIn {
                    caller: Caller {
                        user_id: session.account.user_id,
                        role: session.account.role,
                    },
                    csrf: session.csrf,
                    purpose,
                    display_name: session.account.display_name,
                    source: source_of(parts),
                })
            }
            Lookup::EndedIdle(user) => {
                let role = kapchart_store::accounts::find_user(state.app.db(), &user)
                    .await
                    .ok()
                    .flatten()
                    .map(|a| a.role);
                if let Some(role) = role {
                    log_idle_sign_out(state, &source_of(parts), user, role).await;
                }
                Err(NotSignedIn::Idle)
            }
            Lookup::None => Err(NotSignedIn::Missing),
        }
    }
}

/// Appends the idle sign-out of `user` to the access log: action
/// `sign_out`, as a sign-out by the user (kapchart-web's sign-in pages),
/// with the purpose `sign-out: idle`.
async fn log_idle_sign_out(
    state: &WebState,
    source: &Source,
    user: kapchart_domain::UserId,
    role: kapchart_domain::Role,
) {
    let entry = AccessEntry {
        at: state.app.now(),
        actor: AccessActor {
            user_id: user,
            role,
        },
        action: AccessAction::SignOut,
        client_id: None,
        categories: vec![DataCategory::Accounts],
        source: source.describe(&[]),
        purpose: "sign-out: idle".to_owned(),
    };
    if let Err(e) = kapchart_store::access::append(state.app.db(), &entry).await {
        tracing::error!(error = %e, "logging an idle sign-out");
    }
}

/// The purpose of use a role's pages default to.
pub fn default_purpose(role: kapchart_domain::Role) -> Purpose {
    use kapchart_domain::Role;
    match role {
        Role::Therapist | Role::Prescriber => Purpose::Treatment,
        Role::FrontDesk => Purpose::Payment,
        Role::Auditor => Purpose::Audit,
        Role::Admin => Purpose::Operations,
    }
}

/// A form posted by a signed-in user with the session's CSRF token: the
/// user and the form's fields (without the token).
#[derive(Debug)]
pub struct CsrfForm<T> {
    /// Who posted it.
    pub user: SignedIn,
    /// The fields.
    pub form: T,
}

/// Why a posted form was not taken.
#[derive(Debug)]
pub enum FormRejection {
    /// Not signed in.
    NotSignedIn(NotSignedIn),
    /// Anything else, as a page.
    Page(PageError),
}

impl IntoResponse for FormRejection {
    fn into_response(self) -> Response {
        match self {
            FormRejection::NotSignedIn(n) => n.into_response(),
            FormRejection::Page(p) => p.into_response(),
        }
    }
}

impl<T> FromRequest<WebState> for CsrfForm<T>
where
    T: DeserializeOwned,
{
    type Rejection = FormRejection;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, FormRejection> {
        let (mut parts, body) = req.into_parts();
        let user = SignedIn::from_request_parts(&mut parts, state)
            .await
            .map_err(FormRejection::NotSignedIn)?;
        let bytes = axum::body::to_bytes(body, kapchart_api::BODY_LIMIT)
            .await
            .map_err(|_| FormRejection::Page(PageError::bad("the form is too large")))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| FormRejection::Page(PageError::bad("the form could not be read")))?;
        let token = pairs
            .iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.as_str());
        if !token.is_some_and(|t| constant_time_eq(t.as_bytes(), user.csrf.as_bytes())) {
            return Err(FormRejection::Page(PageError::forbidden(
                "this form was not sent from a page of this session (CSRF token missing or wrong); reload the page and try again",
            )));
        }
        let fields: Vec<(String, String)> =
            pairs.into_iter().filter(|(k, _)| k != CSRF_FIELD).collect();
        let form: T = serde_urlencoded::from_str(&encode_pairs(&fields))
            .map_err(|e| FormRejection::Page(PageError::bad(format!("the form: {e}"))))?;
        Ok(CsrfForm { user, form })
    }
}

fn encode_pairs(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// Compares two secrets in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; kapchart_session=ks_abc; b=2".parse().expect("header"),
        );
        assert_eq!(cookie_secret(&headers).as_deref(), Some("ks_abc"));
        headers.insert(header::COOKIE, "kapchart_session=".parse().expect("header"));
        assert_eq!(cookie_secret(&headers), None);
    }

    #[test]
    fn the_cookie_is_strict_and_http_only() {
        let mut config = WebConfig::default();
        assert_eq!(
            session_cookie(&config, "ks_x"),
            "kapchart_session=ks_x; Path=/; HttpOnly; SameSite=Strict"
        );
        config.secure_cookies = true;
        assert!(session_cookie(&config, "ks_x").ends_with("; Secure"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
