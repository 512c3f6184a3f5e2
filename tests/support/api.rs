//! The HTTP API on a random port over a fresh database, for the tests in
//! `tests/api*.rs`: real HTTP, a real database, the server's clock set by
//! the test (as [`crate::StoredPractice`] does).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use kapchart_domain::{Role, UserId};
use kapchart_projector::Projector;
use kapchart_store::Database;
use kapchart_store::access::AccessActor;
use serde_json::Value;

use crate::day;

/// A running API.
pub struct ApiApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The database it serves.
    pub db: Database,
    http: reqwest::Client,
    /// How the pages are served (idle limit, cookies, time zone).
    pub web_config: kapchart_web::WebConfig,
    /// The checkpoint signing key's file (created on first use), in a
    /// directory of its own removed with the app.
    pub key_file: std::path::PathBuf,
    _key_dir: tempfile::TempDir,
    now: Arc<Mutex<DateTime<Utc>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for ApiApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiApp")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// A response: status and JSON body (`Null` when the body is not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Reply {
    /// The stable error code of an error reply.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl ApiApp {
    /// Serves the API over the (migrated) database at `url`, on day 0 at
    /// 20:00, on a random port.
    pub async fn spawn(url: &str) -> Self {
        let db = Database::open(url).await.expect("test database opens");
        let now = Arc::new(Mutex::new(day(0) + Duration::hours(20)));
        let clock_now = Arc::clone(&now);
        let clock: kapchart_store::Clock =
            Arc::new(move || *clock_now.lock().unwrap_or_else(|p| p.into_inner()));
        let projector = Projector::new(db.clone());
        let key_dir = tempfile::tempdir().expect("a directory for the key file");
        let key_file = key_dir.path().join("signing.key");
        let state = kapchart_api::AppState::new(db.clone(), projector, clock)
            .with_key_file(key_file.clone());
        // The API and the pages, merged as `kapchart serve` merges them.
        let web_config = kapchart_web::WebConfig::default();
        let app = kapchart_web::app(kapchart_web::WebState::new(state, web_config.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let address: SocketAddr = listener.local_addr().expect("bound");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(kapchart_api::serve(listener, app, async move {
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{address}"),
            db,
            http: reqwest::Client::new(),
            web_config,
            key_file,
            _key_dir: key_dir,
            now,
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Moves the server's "now" to 20:00 on day `d`.
    pub fn on(&self, d: i64) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = day(d) + Duration::hours(20);
    }

    /// The server's "now".
    pub fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves the server's "now" to `at`.
    pub fn at(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    /// Creates a user and returns its bearer token.
    pub async fn user(&self, id: &str, role: Role) -> String {
        let user = UserId::parse(id).expect("valid user id");
        let by = AccessActor {
            user_id: UserId::parse("test-admin").expect("valid"),
            role: Role::Admin,
        };
        let now = *self.now.lock().unwrap_or_else(|p| p.into_inner());
        let (_, issued) = kapchart_store::accounts::add_user(&self.db, &user, role, None, &by, now)
            .await
            .expect("user added");
        issued.token
    }

    /// Sends a request with an optional token and raw body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("a body");
        Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// `GET path` as `token`.
    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    /// Posts command `id` with `body` (a `CommandBody`'s JSON) to
    /// `client`'s record as `token`.
    pub async fn command(&self, token: &str, client: &str, id: &str, body: &Value) -> Reply {
        let request = serde_json::json!({ "id": id, "body": body });
        self.send(
            reqwest::Method::POST,
            &format!("/api/v1/clients/{client}/commands"),
            Some(token),
            Some(serde_json::to_vec(&request).expect("json")),
        )
        .await
    }

    /// Posts each `(token, command id, body)` to `client`'s record in
    /// order; every one must be applied.
    pub async fn commands_ok(&self, client: &str, steps: &[(&str, &str, Value)]) {
        for (token, id, b) in steps {
            ok(&self.command(token, client, id, b).await, id);
        }
    }

    /// Events in the store.
    pub async fn events(&self) -> i64 {
        const SQL: &str = "SELECT count(*) FROM events";
        match &self.db {
            Database::Postgres(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await,
            Database::Sqlite(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await,
        }
        .expect("count events")
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.db.close().await;
    }
}

/// A command body as the API takes it: its JSON.
pub fn body(b: kapchart_domain::CommandBody) -> Value {
    serde_json::to_value(b).expect("command JSON")
}

/// Asserts a 200 reply; `what` names the step in the failure.
#[track_caller]
pub fn ok(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 200, "{what}: {}", reply.body);
}

/// The practice's staff as accounts of a running API: each role's bearer
/// token (the ids are the test actors' of `crate::staff`).
#[derive(Debug)]
pub struct Staff {
    /// `t-rivera`, the client's therapist.
    pub therapist: String,
    /// `t-okafor`, another therapist.
    pub other_therapist: String,
    /// `rx-chen`, the client's prescriber.
    pub prescriber: String,
    /// `rx-patel`, another prescriber.
    pub other_prescriber: String,
    /// `fd-jones`, front desk.
    pub front_desk: String,
    /// `au-smith`, auditor.
    pub auditor: String,
    /// `ad-root`, admin.
    pub admin: String,
}

impl ApiApp {
    /// Creates every test actor's account and returns their tokens.
    pub async fn staff(&self) -> Staff {
        Staff {
            therapist: self.user("t-rivera", Role::Therapist).await,
            other_therapist: self.user("t-okafor", Role::Therapist).await,
            prescriber: self.user("rx-chen", Role::Prescriber).await,
            other_prescriber: self.user("rx-patel", Role::Prescriber).await,
            front_desk: self.user("fd-jones", Role::FrontDesk).await,
            auditor: self.user("au-smith", Role::Auditor).await,
            admin: self.user("ad-root", Role::Admin).await,
        }
    }
}
