//! The web pages of a running [`ApiApp`] as a signed-in browser sees them,
//! over real HTTP, for the tests in `tests/pages*.rs`: a [`PageClient`]
//! holds a session cookie and its CSRF token and follows no redirects, so
//! a test sees each 303 and where it leads.
//!
//! The session is opened in the store directly (the step the sign-in flow
//! takes once a password and second factor are proved), so page tests do
//! not depend on the sign-in pages; the sign-in flow has tests of its own.

use kapchart_domain::{Role, UserId};
use kapchart_store::web_sessions;

use crate::api::ApiApp;

/// A page's reply.
#[derive(Debug, Clone)]
pub struct Page {
    /// The HTTP status.
    pub status: u16,
    /// `Location` of a redirect.
    pub location: Option<String>,
    /// The HTML.
    pub html: String,
}

impl Page {
    /// Asserts the page holds `text`.
    #[track_caller]
    pub fn shows(&self, text: &str) -> &Self {
        assert!(
            self.html.contains(text),
            "the page ({}) does not show {text:?}:\n{}",
            self.status,
            self.html
        );
        self
    }

    /// Asserts the page does not hold `text`.
    #[track_caller]
    pub fn hides(&self, text: &str) -> &Self {
        assert!(
            !self.html.contains(text),
            "the page ({}) shows {text:?}:\n{}",
            self.status,
            self.html
        );
        self
    }
}

/// A download's reply: the page (status, body as text) and its headers.
#[derive(Debug, Clone)]
pub struct Download {
    /// Status and body.
    pub page: Page,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Disposition`.
    pub disposition: Option<String>,
}

/// A browser signed in to the pages of an [`ApiApp`].
#[derive(Debug, Clone)]
pub struct PageClient {
    base: String,
    http: reqwest::Client,
    cookie: String,
    /// The session's CSRF token (every form post carries it).
    pub csrf: String,
}

impl ApiApp {
    /// A browser signed in as `id` (an existing account, see
    /// [`ApiApp::user`]) with the purpose of use `purpose`.
    pub async fn browser(&self, id: &str, purpose: &str) -> PageClient {
        let user = UserId::parse(id).expect("valid user id");
        let opened = web_sessions::open(&self.db, &user, purpose, self.now())
            .await
            .expect("session opened");
        PageClient {
            base: self.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookie: format!("{}={}", kapchart_web::session::COOKIE, opened.secret),
            csrf: opened.csrf,
        }
    }

    /// Creates an account with `role` and signs a browser in as it with
    /// the role's default purpose.
    pub async fn signed_in(&self, id: &str, role: Role) -> PageClient {
        self.user(id, role).await;
        let purpose = kapchart_web::session::default_purpose(role);
        self.browser(id, purpose.as_str()).await
    }
}

impl PageClient {
    /// `GET path`.
    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("the server answers");
        read(response).await
    }

    /// `GET path` as a download: the reply with its `Content-Type` and
    /// `Content-Disposition`.
    pub async fn download(&self, path: &str) -> Download {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("the server answers");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type");
        let disposition = header("content-disposition");
        let page = read(response).await;
        Download {
            page,
            content_type,
            disposition,
        }
    }

    /// Posts the form `fields` to `path` with the session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut all: Vec<(&str, &str)> = vec![(kapchart_web::session::CSRF_FIELD, &self.csrf)];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly `fields` to `path` (no CSRF token unless given).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(fields)
            .send()
            .await
            .expect("the server answers");
        read(response).await
    }
}

async fn read(response: reqwest::Response) -> Page {
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
