//! Sign-in: password, second factor (TOTP), setup codes, sign-out, lockout; the account page.
//!
//! - `GET/POST /setup`: the user id, the one-time setup code `kapchart
//!   user add` or `user reset` printed, and a new password (twice).
//! - `GET/POST /setup/second-factor`: enrolment of the second factor (its
//!   secret shown once, as text, as an `otpauth://` URI and as a QR code),
//!   confirmed by a first code; then the session opens.
//! - `GET/POST /sign-in`: user id, password and the purpose of use; then
//!   `GET/POST /sign-in/second-factor` (a code), or the enrolment above
//!   for a user with a password and no second factor yet.
//! - `POST /sign-out`; `GET /account` and `POST /account/purpose`.
//!
//! Between the steps the browser holds the cookie `kapchart_pending`
//! (HttpOnly, SameSite=Strict, ten minutes; `kapchart_store::credentials::
//! pending`), never a secret in a URL. The first step's forms, posted
//! before there is a session, carry a token that must equal the cookie
//! `kapchart_form` (set with the form, SameSite=Strict), so another site
//! cannot post them; the second step's form carries the pending sign-in's
//! own token. Messages never say whether a user id exists.

mod account;
mod password;
mod second_factor;
mod setup;
mod sign_in;
mod totp;

use axum::Router;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use kapchart_api::{Purpose, Source};
use serde::de::DeserializeOwned;

use crate::page::PageError;
use crate::session::source_of;
use crate::{WebConfig, WebState};

/// The cookie of a sign-in between its steps.
pub const PENDING_COOKIE: &str = "kapchart_pending";

/// The cookie the first step's forms are checked against.
pub const FORM_COOKIE: &str = "kapchart_form";

/// Where a sign-in that is no longer open is sent.
const START_AGAIN: &str = "/sign-in?ended=pending";

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/sign-in", get(sign_in::form).post(sign_in::submit))
        .route(
            "/sign-in/second-factor",
            get(second_factor::verify_form).post(second_factor::verify),
        )
        .route("/setup", get(setup::form).post(setup::submit))
        .route(
            "/setup/second-factor",
            get(second_factor::enroll_form).post(second_factor::enroll),
        )
        .route("/sign-out", post(sign_in::sign_out))
        .route("/account", get(account::page_of))
        .route("/account/purpose", post(account::set_purpose))
}

/// A request as the sign-in pages need it: its headers (cookies) and
/// where it came from, for the access log.
#[derive(Debug)]
pub(crate) struct Visit {
    headers: HeaderMap,
    source: Source,
}

impl Visit {
    /// `web POST /sign-in from 127.0.0.1`.
    fn source(&self) -> String {
        self.source.describe(&[])
    }

    fn cookie(&self, name: &str) -> Option<String> {
        cookie_value(&self.headers, name)
    }
}

impl FromRequestParts<WebState> for Visit {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &WebState) -> Result<Self, PageError> {
        Ok(Visit {
            headers: parts.headers.clone(),
            source: source_of(parts),
        })
    }
}

/// The value of the cookie `name`, if the request has a non-empty one.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: `Path=/; HttpOnly; SameSite=Strict`, `Secure`
/// when configured, living `max_age` seconds (0: deleted).
fn cookie(config: &WebConfig, name: &str, value: &str, max_age: i64) -> String {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// The pending sign-in's cookie.
fn pending_cookie(config: &WebConfig, secret: &str) -> String {
    let life = kapchart_store::credentials::pending::PENDING_LIFETIME.num_seconds();
    cookie(config, PENDING_COOKIE, secret, life)
}

/// The pending sign-in's cookie, taken away.
fn cleared_pending(config: &WebConfig) -> String {
    cookie(config, PENDING_COOKIE, "", 0)
}

/// 32 random bytes in base64url.
fn random_token() -> Result<String, PageError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| PageError::internal("making a form token", &e))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The first step's form token: the one the browser holds if it has a
/// well-formed one, else a new one; with the cookie that keeps it an hour.
fn form_token(config: &WebConfig, visit: &Visit) -> Result<(String, String), PageError> {
    let token = match visit.cookie(FORM_COOKIE) {
        Some(t)
            if t.len() == 43
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            t
        }
        _ => random_token()?,
    };
    let set = cookie(config, FORM_COOKIE, &token, 3600);
    Ok((token, set))
}

/// Refuses a first-step form whose token is not the browser's cookie.
fn check_form_token(visit: &Visit, posted: &str) -> Result<(), PageError> {
    match visit.cookie(FORM_COOKIE) {
        Some(cookie) if !posted.is_empty() && same_secret(&cookie, posted) => Ok(()),
        _ => Err(PageError::forbidden(
            "this form was not sent from a page of this site (form token missing or wrong); reload the page and try again",
        )),
    }
}

/// Compares two secrets in time that depends only on their lengths.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A posted form's fields (each struct defaults missing fields).
fn parse_form<T: DeserializeOwned>(body: &Bytes) -> Result<T, PageError> {
    serde_urlencoded::from_bytes(body).map_err(|_| PageError::bad("the form could not be read"))
}

/// The purposes of use offered, with their labels.
pub const PURPOSES: [(Purpose, &str); 5] = [
    (Purpose::Treatment, "Treatment"),
    (Purpose::Payment, "Payment"),
    (Purpose::Operations, "Operations"),
    (Purpose::Audit, "Audit"),
    (Purpose::ClientRequest, "The client's own request"),
];

/// A purpose of use chosen in a form: `""` is the role's default (`None`);
/// `Err` for anything else that is not a purpose.
fn purpose_choice(text: &str) -> Result<Option<Purpose>, ()> {
    if text.is_empty() {
        return Ok(None);
    }
    PURPOSES
        .iter()
        .find(|(p, _)| p.as_str() == text)
        .map(|(p, _)| Some(*p))
        .ok_or(())
}

/// A purpose in words.
fn purpose_label(purpose: Purpose) -> &'static str {
    PURPOSES
        .iter()
        .find(|(p, _)| *p == purpose)
        .map_or("", |(_, label)| label)
}

/// One option of a purpose `<select>`.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// The options of a purpose `<select>`, `selected` chosen; with the
/// role's default as `""` first when `default` is given.
fn purpose_choices(selected: &str, default: Option<&'static str>) -> Vec<Choice> {
    default
        .map(|label| Choice {
            value: "",
            label,
            selected: selected.is_empty(),
        })
        .into_iter()
        .chain(PURPOSES.iter().map(|(p, label)| Choice {
            value: p.as_str(),
            label,
            selected: p.as_str() == selected,
        }))
        .collect()
}

/// What a locked account is told: that it is locked and for how long.
fn locked_message(until: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (until - now).num_seconds().max(1);
    let minutes = (seconds + 59) / 60;
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    format!("This account is locked after too many failed attempts. Try again in {minutes} {unit}.")
}

/// A response with `status` and `cookies` added.
fn with(mut response: Response, status: StatusCode, cookies: &[String]) -> Response {
    *response.status_mut() = status;
    for c in cookies {
        if let Ok(value) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// A 303 to `to` that sets `cookies`.
fn see_other(to: &str, cookies: &[String]) -> Response {
    with(
        Redirect::to(to).into_response(),
        StatusCode::SEE_OTHER,
        cookies,
    )
}

/// A store error as a page.
fn store_failed(e: kapchart_store::StoreError) -> PageError {
    PageError::internal("the sign-in store", &e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_strict_http_only_and_found() {
        let mut config = WebConfig::default();
        assert_eq!(
            pending_cookie(&config, "kp_x"),
            "kapchart_pending=kp_x; Path=/; HttpOnly; SameSite=Strict; Max-Age=600"
        );
        config.secure_cookies = true;
        assert!(cleared_pending(&config).ends_with("Max-Age=0; Secure"));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "kapchart_session=ks_1; kapchart_pending=kp_2"
                .parse()
                .expect("header"),
        );
        assert_eq!(
            cookie_value(&headers, PENDING_COOKIE).as_deref(),
            Some("kp_2")
        );
        assert_eq!(cookie_value(&headers, FORM_COOKIE), None);
    }

    #[test]
    fn purposes_are_chosen_by_name_or_left_to_the_role() {
        assert_eq!(purpose_choice(""), Ok(None));
        assert_eq!(purpose_choice("audit"), Ok(Some(Purpose::Audit)));
        assert_eq!(purpose_choice("Audit"), Err(()));
        let choices = purpose_choices("payment", Some("Default"));
        assert_eq!(choices.len(), 6);
        assert!(
            choices
                .iter()
                .filter(|c| c.selected)
                .all(|c| c.value == "payment")
        );
        assert_eq!(
            purpose_label(Purpose::ClientRequest),
            "The client's own request"
        );
    }

    #[test]
    fn a_lock_says_how_long_it_lasts() {
        let now = Utc::now();
        assert!(locked_message(now + chrono::Duration::minutes(15), now).contains("15 minutes"));
        assert!(locked_message(now + chrono::Duration::seconds(10), now).contains("1 minute."));
    }
}
