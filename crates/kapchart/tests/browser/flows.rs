//! What a person does to get in: set a password and enrol the second
//! factor with the setup code `kapchart user add` printed, sign in with
//! password and TOTP code; and, for tests of other pages, a session
//! opened in the store directly.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kapchart_domain::{Role, UserId};
use kapchart_store::Database;
use kapchart_store::web_sessions;

use super::{Browser, Practice};

/// A password the sign-in pages accept.
pub const PASSWORD: &str = "correct horse battery staple 4271";

/// The TOTP step, in seconds (RFC 6238's default, as the pages use).
const STEP: u64 = 30;

/// First sign-in with a setup code: `/setup` (user id, setup code, new
/// password twice), then `/setup/second-factor`, which shows the TOTP
/// secret (base32, in `#totp-secret`) and takes a first code. Returns the
/// secret (for [`sign_in`]). Fails naming the page if a step is refused.
pub async fn sign_up(browser: &Browser, id: &str, setup_code: &str, password: &str) -> String {
    browser.goto("/setup").await;
    browser.fill("user_id", id).await;
    browser.fill("setup_code", setup_code).await;
    browser.fill("password", password).await;
    browser.fill("password_confirm", password).await;
    browser.submit().await;
    let path = browser.path().await;
    assert!(
        path.starts_with("/setup/second-factor"),
        "the setup form did not lead to /setup/second-factor: {}",
        browser.describe().await
    );
    let secret: String = browser
        .text("#totp-secret")
        .await
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=' && *c != '-')
        .collect::<String>()
        .to_uppercase();
    let code = totp_code(&secret).await;
    browser.fill("code", &code).await;
    browser.submit().await;
    assert_signed_in(browser, "enrolling the second factor").await;
    secret
}

/// Signs in at `/sign-in` with the purpose the form offers by default,
/// then `/sign-in/second-factor` with a fresh TOTP code.
pub async fn sign_in(browser: &Browser, id: &str, password: &str, secret: &str) {
    sign_in_for(browser, id, password, secret, None).await;
}

/// Signs in with the purpose of use `purpose` (e.g. `treatment`), or the
/// form's default.
pub async fn sign_in_for(
    browser: &Browser,
    id: &str,
    password: &str,
    secret: &str,
    purpose: Option<&str>,
) {
    browser.goto("/sign-in").await;
    browser.fill("user_id", id).await;
    browser.fill("password", password).await;
    if let Some(purpose) = purpose {
        browser.fill("purpose", purpose).await;
    }
    browser.submit().await;
    assert!(
        browser.path().await.starts_with("/sign-in/second-factor"),
        "the password did not lead to /sign-in/second-factor: {}",
        browser.describe().await
    );
    let code = totp_code(secret).await;
    browser.fill("code", &code).await;
    browser.submit().await;
    assert_signed_in(browser, "signing in").await;
}

/// Signs `browser` in as `id` (an existing account of `role`) by opening a
/// session in the store, as the sign-in pages do once password and code
/// are proved: for tests of other pages that need not go through the
/// sign-in pages each time. The purpose is the role's default.
pub async fn sign_in_through_store(browser: &Browser, practice: &Practice, id: &str, role: &str) {
    let role: Role = role.parse().expect("a role");
    let user = UserId::parse(id).expect("a user id");
    let purpose = kapchart_web::session::default_purpose(role);
    let db = Database::open(practice.database_url())
        .await
        .expect("the practice's database opens");
    let opened = web_sessions::open(&db, &user, purpose.as_str(), chrono::Utc::now())
        .await
        .expect("a session opens");
    db.close().await;
    browser.set_session_cookie(&opened.secret).await;
}

/// A TOTP code (SHA-1, 6 digits, 30 s) of the base32 `secret` that the
/// server takes now. A code is used once: when this secret's code of the
/// current step was already handed out (a sign-in right after enrolling),
/// this gives the next step's, which the server also accepts (one step of
/// clock drift either side, RFC 6238 section 5.2); only a third code
/// within one step waits for the step to pass.
pub async fn totp_code(secret: &str) -> String {
    static USED: Mutex<Option<HashMap<String, u64>>> = Mutex::new(None);
    let totp = totp_of(secret);
    loop {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("the clock is after 1970");
        let step = now.as_secs() / STEP;
        {
            let mut used = USED.lock().expect("used codes");
            let used = used.get_or_insert_with(HashMap::new);
            let next = used.get(secret).map_or(step, |last| (*last + 1).max(step));
            if next <= step + 1 {
                used.insert(secret.to_owned(), next);
                return totp.generate(next * STEP).to_string();
            }
        }
        let next = Duration::from_secs((step + 1) * STEP);
        tokio::time::sleep(next.saturating_sub(now) + Duration::from_millis(20)).await;
    }
}

/// The TOTP code of the base32 `secret` at `unix_seconds` (not marked as
/// used), e.g. to type a code that is wrong now: one unlike the codes of
/// the steps before, at and after now.
pub fn totp_code_at(secret: &str, unix_seconds: u64) -> String {
    totp_of(secret).generate(unix_seconds).to_string()
}

/// A six-digit code that no authenticator shows for `secret` now (nor one
/// step either side, which a server may also take).
pub fn wrong_totp_code(secret: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs();
    let near: Vec<String> = [now - STEP, now, now + STEP]
        .iter()
        .map(|t| totp_code_at(secret, *t))
        .collect();
    (0..=9)
        .map(|d| d.to_string().repeat(6))
        .find(|code| !near.contains(code))
        .expect("ten candidates, at most three taken")
}

fn totp_of(secret: &str) -> totp_rs::Totp {
    let bytes = totp_rs::Secret::try_from_base32(secret)
        .unwrap_or_else(|e| panic!("the TOTP secret {secret:?} is not base32: {e:?}"));
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(STEP)
        .with_secret(bytes)
        .build_noncompliant()
}

/// Fails unless the browser left the sign-in and setup pages.
async fn assert_signed_in(browser: &Browser, what: &str) {
    let path = browser.path().await;
    assert!(
        !path.starts_with("/sign-in") && !path.starts_with("/setup"),
        "{what} did not sign in: {}",
        browser.describe().await
    );
}
