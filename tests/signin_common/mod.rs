//! Helpers shared by the sign-in tests (`pages_signin.rs`,
//! `pages_signin_refusals.rs`): a browser that keeps its own cookies and
//! follows no redirects, the steps of setup and sign-in, TOTP codes
//! computed from the secret the page shows, and the access log's events.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use kapchart_domain::{Role, UserId};
use kapchart_e2e::api::ApiApp;
use kapchart_e2e::pages::Page;
use kapchart_store::access::{self, AccessAction, AccessActor, AccessQuery, AccessRecord};
use kapchart_store::credentials;

/// The password every test user chooses.
pub const PASSWORD: &str = "correct horse battery staple";

/// A browser: its own cookie jar, no redirects followed.
pub struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new(app: &ApiApp) -> Self {
        Browser {
            base: app.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    pub async fn read(&mut self, response: reqwest::Response) -> Page {
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().expect("ASCII cookie");
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
                assert!(set.contains(attribute), "{attribute} missing: {set}");
            }
            let (pair, _) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        let html = response.text().await.expect("a body");
        Page {
            status,
            location,
            html,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("the server answers");
        self.read(response).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(fields)
            .send()
            .await
            .expect("the server answers");
        self.read(response).await
    }

    /// Gets `path`, then posts its form (with the page's CSRF token) to
    /// `action`.
    pub async fn submit(&mut self, path: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.html);
        let csrf = between(&page.html, "name=\"csrf\" value=\"", "\"");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }
}

/// The text between `start` and the next `end` in `html`.
#[track_caller]
pub fn between(html: &str, start: &str, end: &str) -> String {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in:\n{html}"))
        + start.len();
    let len = html[from..].find(end).expect("the end");
    html[from..from + len].to_owned()
}

/// The current code of the second factor `secret` at `at`.
pub fn code(secret: &str, at: DateTime<Utc>) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).expect("base32"))
        .build()
        .expect("a valid TOTP")
        .generate(u64::try_from(at.timestamp()).expect("after 1970"))
        .to_string()
}

/// Creates `id` with `role` as an admin would, and returns its API token
/// and setup code.
pub async fn add(app: &ApiApp, id: &str, role: Role) -> (String, String) {
    let by = AccessActor {
        user_id: UserId::parse("test-admin").expect("id"),
        role: Role::Admin,
    };
    let user = UserId::parse(id).expect("id");
    let (_, token, setup) =
        credentials::add_user_with_setup_code(&app.db, &user, role, None, &by, "test", app.now())
            .await
            .expect("user added");
    (token.token, setup.code)
}

/// Sets `id`'s password with `setup_code` in `browser`: the browser is
/// then on the enrolment page.
pub async fn set_password(browser: &mut Browser, id: &str, setup_code: &str) {
    let page = browser
        .submit(
            "/setup",
            "/setup",
            &[
                ("user_id", id),
                ("setup_code", setup_code),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.html);
    assert_eq!(page.location.as_deref(), Some("/setup/second-factor"));
    assert!(browser.has_cookie("kapchart_pending"));
}

/// Enrols the second factor shown on the enrolment page; returns its
/// secret and the page the last post answered.
pub async fn enrol(app: &ApiApp, browser: &mut Browser) -> (String, Page) {
    let page = browser.get("/setup/second-factor").await;
    assert_eq!(page.status, 200, "{}", page.html);
    let secret = between(&page.html, "id=\"totp-secret\">", "<");
    page.shows("otpauth://totp/kapchart:")
        .shows("<svg role=\"img\"")
        .shows("for=\"code\"");
    let csrf = between(&page.html, "name=\"csrf\" value=\"", "\"");
    let done = browser
        .post(
            "/setup/second-factor",
            &[("csrf", &csrf), ("code", &code(&secret, app.now()))],
        )
        .await;
    (secret, done)
}

/// A user `id` who has set a password and enrolled a second factor;
/// returns the API token and the second factor's secret. The clock moves
/// on a step, so the next code is a new one.
pub async fn enrolled(app: &ApiApp, id: &str, role: Role) -> (String, String) {
    let (token, setup_code) = add(app, id, role).await;
    let mut browser = Browser::new(app);
    set_password(&mut browser, id, &setup_code).await;
    let (secret, done) = enrol(app, &mut browser).await;
    assert_eq!(done.status, 303, "{}", done.html);
    next_step(app);
    (token, secret)
}

/// Moves the server's clock to the next 30-second step.
pub fn next_step(app: &ApiApp) {
    app.at(app.now() + Duration::seconds(30));
}

/// Posts the sign-in form; the page it answers.
pub async fn sign_in(browser: &mut Browser, id: &str, password: &str, purpose: &str) -> Page {
    browser
        .submit(
            "/sign-in",
            "/sign-in",
            &[
                ("user_id", id),
                ("password", password),
                ("purpose", purpose),
            ],
        )
        .await
}

/// Posts a code on the second-factor page; the page it answers.
pub async fn second_factor(browser: &mut Browser, code: &str) -> Page {
    browser
        .submit(
            "/sign-in/second-factor",
            "/sign-in/second-factor",
            &[("code", code)],
        )
        .await
}

/// A full sign-in of an enrolled user: the page the code's post answered.
pub async fn full_sign_in(app: &ApiApp, browser: &mut Browser, id: &str, secret: &str) -> Page {
    let page = sign_in(browser, id, PASSWORD, "").await;
    assert_eq!(page.status, 303, "{}", page.html);
    assert_eq!(page.location.as_deref(), Some("/sign-in/second-factor"));
    second_factor(browser, &code(secret, app.now())).await
}

pub async fn log(app: &ApiApp) -> Vec<AccessRecord> {
    access::list(&app.db, &AccessQuery::default())
        .await
        .expect("access log")
}

/// (user, action, purpose) of every entry.
pub async fn events(app: &ApiApp) -> Vec<(String, AccessAction, String)> {
    log(app)
        .await
        .into_iter()
        .map(|r| {
            (
                r.entry.actor.user_id.to_string(),
                r.entry.action,
                r.entry.purpose,
            )
        })
        .collect()
}

pub fn event(user: &str, action: AccessAction, purpose: &str) -> (String, AccessAction, String) {
    (user.to_owned(), action, purpose.to_owned())
}
