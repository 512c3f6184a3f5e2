//! Sign-in over real HTTP on both engines, as a browser without
//! JavaScript does it: a setup code, a password, a second factor (TOTP)
//! enrolled with a code computed here from the secret the page shows,
//! sign-in, sign-out, the purpose of use, lockout after five failures,
//! refused setup codes, replayed codes and CSRF-less posts; and every
//! event in the access log. The browser keeps its own cookies and
//! follows no redirects, so each 303 and each `Set-Cookie` is seen.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use kapchart_domain::{Role, UserId};
use kapchart_e2e::api::ApiApp;
use kapchart_e2e::pages::Page;
use kapchart_e2e::*;
use kapchart_store::access::{self, AccessAction, AccessActor, AccessQuery, AccessRecord};
use kapchart_store::credentials;

on_both_engines!(
    a_new_user_sets_up_signs_in_changes_purpose_and_signs_out,
    a_wrong_password_then_the_right_one,
    five_failures_lock_the_account_until_the_lock_ends,
    used_and_expired_setup_codes_and_bad_passwords_are_refused,
    a_replayed_code_is_refused,
    posts_without_their_tokens_are_refused,
    a_password_without_a_second_factor_leads_to_enrolment,
    an_idle_sign_out_is_logged_as_a_sign_out,
);

/// The password every test user chooses.
const PASSWORD: &str = "correct horse battery staple";

/// A browser: its own cookie jar, no redirects followed.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn new(app: &ApiApp) -> Self {
        Browser {
            base: app.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
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

    async fn get(&mut self, path: &str) -> Page {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("the server answers");
        self.read(response).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
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
    async fn submit(&mut self, path: &str, action: &str, fields: &[(&str, &str)]) -> Page {
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
fn between(html: &str, start: &str, end: &str) -> String {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in:\n{html}"))
        + start.len();
    let len = html[from..].find(end).expect("the end");
    html[from..from + len].to_owned()
}

/// The current code of the second factor `secret` at `at`.
fn code(secret: &str, at: DateTime<Utc>) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).expect("base32"))
        .build()
        .expect("a valid TOTP")
        .generate(u64::try_from(at.timestamp()).expect("after 1970"))
        .to_string()
}

/// Creates `id` with `role` as an admin would, and returns its API token
/// and setup code.
async fn add(app: &ApiApp, id: &str, role: Role) -> (String, String) {
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
async fn set_password(browser: &mut Browser, id: &str, setup_code: &str) {
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
async fn enrol(app: &ApiApp, browser: &mut Browser) -> (String, Page) {
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
async fn enrolled(app: &ApiApp, id: &str, role: Role) -> (String, String) {
    let (token, setup_code) = add(app, id, role).await;
    let mut browser = Browser::new(app);
    set_password(&mut browser, id, &setup_code).await;
    let (secret, done) = enrol(app, &mut browser).await;
    assert_eq!(done.status, 303, "{}", done.html);
    next_step(app);
    (token, secret)
}

/// Moves the server's clock to the next 30-second step.
fn next_step(app: &ApiApp) {
    app.at(app.now() + Duration::seconds(30));
}

/// Posts the sign-in form; the page it answers.
async fn sign_in(browser: &mut Browser, id: &str, password: &str, purpose: &str) -> Page {
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
async fn second_factor(browser: &mut Browser, code: &str) -> Page {
    browser
        .submit(
            "/sign-in/second-factor",
            "/sign-in/second-factor",
            &[("code", code)],
        )
        .await
}

/// A full sign-in of an enrolled user: the page the code's post answered.
async fn full_sign_in(app: &ApiApp, browser: &mut Browser, id: &str, secret: &str) -> Page {
    let page = sign_in(browser, id, PASSWORD, "").await;
    assert_eq!(page.status, 303, "{}", page.html);
    assert_eq!(page.location.as_deref(), Some("/sign-in/second-factor"));
    second_factor(browser, &code(secret, app.now())).await
}

async fn log(app: &ApiApp) -> Vec<AccessRecord> {
    access::list(&app.db, &AccessQuery::default())
        .await
        .expect("access log")
}

/// (user, action, purpose) of every entry.
async fn events(app: &ApiApp) -> Vec<(String, AccessAction, String)> {
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

fn event(user: &str, action: AccessAction, purpose: &str) -> (String, AccessAction, String) {
    (user.to_owned(), action, purpose.to_owned())
}

async fn a_new_user_sets_up_signs_in_changes_purpose_and_signs_out(url: &str) {
    let app = ApiApp::spawn(url).await;
    let (_, setup_code) = add(&app, "t-rivera", Role::Therapist).await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/setup").await;
    form.shows("<h1>Set your password</h1>")
        .shows("for=\"setup_code\"")
        .shows("for=\"password_confirm\"");
    set_password(&mut browser, "t-rivera", &setup_code).await;
    let (secret, done) = enrol(&app, &mut browser).await;
    assert_eq!(done.status, 303, "{}", done.html);
    assert_eq!(done.location.as_deref(), Some("/therapist"));
    assert!(browser.has_cookie("kapchart_session"));
    assert!(
        !browser.has_cookie("kapchart_pending"),
        "the pending cookie is cleared"
    );
    assert_eq!(
        browser.get("/").await.location.as_deref(),
        Some("/therapist")
    );

    // The account page, and a change of purpose.
    let account = browser.get("/account").await;
    assert_eq!(account.status, 200);
    account
        .shows("t-rivera")
        .shows("Therapist")
        .shows("<dd id=\"purpose-now\">Treatment</dd>")
        .shows("Last sign-in")
        .hides(&secret);
    let changed = browser
        .submit("/account", "/account/purpose", &[("purpose", "payment")])
        .await;
    assert_eq!(changed.status, 303);
    assert_eq!(
        changed.location.as_deref(),
        Some("/account?changed=purpose")
    );
    browser
        .get("/account?changed=purpose")
        .await
        .shows("<dd id=\"purpose-now\">Payment</dd>")
        .shows("The purpose of use is now: Payment.");
    let bad = browser
        .submit("/account", "/account/purpose", &[("purpose", "curiosity")])
        .await;
    assert_eq!(bad.status, 422);
    bad.shows("Purpose of use: choose one of the purposes listed")
        .shows("aria-invalid=\"true\"");

    // Sign out, then sign in again with a new code and a purpose chosen.
    let out = browser.submit("/account", "/sign-out", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/sign-in?ended=sign_out"));
    assert!(!browser.has_cookie("kapchart_session"));
    assert_eq!(browser.get("/").await.location.as_deref(), Some("/sign-in"));
    browser
        .get("/sign-in?ended=sign_out")
        .await
        .shows("You are signed out.")
        .shows("<option value=\"client_request\">");
    next_step(&app);
    let page = sign_in(&mut browser, "t-rivera", PASSWORD, "operations").await;
    assert_eq!(page.location.as_deref(), Some("/sign-in/second-factor"));
    let page = second_factor(&mut browser, &code(&secret, app.now())).await;
    assert_eq!(page.status, 303, "{}", page.html);
    assert_eq!(page.location.as_deref(), Some("/therapist"));
    browser
        .get("/account")
        .await
        .shows("<dd id=\"purpose-now\">Operations</dd>");

    assert_eq!(
        events(&app).await,
        [
            event(
                "test-admin",
                AccessAction::Add,
                "accounts: add t-rivera as therapist"
            ),
            event(
                "t-rivera",
                AccessAction::Change,
                "accounts: t-rivera sets a password with a setup code"
            ),
            event(
                "t-rivera",
                AccessAction::Change,
                "accounts: t-rivera enrols a second factor (TOTP)"
            ),
            event(
                "t-rivera",
                AccessAction::SignIn,
                "sign-in: password and second factor; purpose of use treatment"
            ),
            event(
                "t-rivera",
                AccessAction::Change,
                "session: purpose of use changed from treatment to payment"
            ),
            event("t-rivera", AccessAction::SignOut, "sign-out: by the user"),
            event(
                "t-rivera",
                AccessAction::SignIn,
                "sign-in: password and second factor; purpose of use operations"
            ),
        ]
    );
    let all = log(&app).await;
    assert!(
        all.iter()
            .skip(1)
            .all(|r| r.entry.source.starts_with("web POST /"))
    );
    let text = format!("{all:?}");
    for secret_text in [PASSWORD, &secret, &setup_code[3..]] {
        assert!(!text.contains(secret_text), "no secrets in the log");
    }
    let verified = access::verify(&app.db).await.expect("verifies");
    assert!(verified.is_intact(), "{verified:?}");
    app.stop().await;
}

async fn a_wrong_password_then_the_right_one(url: &str) {
    let app = ApiApp::spawn(url).await;
    let (_, secret) = enrolled(&app, "rx-chen", Role::Prescriber).await;
    let mut browser = Browser::new(&app);
    let wrong = sign_in(&mut browser, "rx-chen", "not the password at all", "").await;
    assert_eq!(wrong.status, 422);
    wrong
        .shows("The user id or password is wrong.")
        .shows("value=\"rx-chen\"")
        .hides("not the password at all");
    assert!(!browser.has_cookie("kapchart_pending"));
    // An unknown id and a malformed one are answered alike.
    for id in ["rx-nobody", "<script>"] {
        let unknown = sign_in(&mut browser, id, PASSWORD, "").await;
        assert_eq!(unknown.status, 422, "{id}");
        unknown
            .shows("The user id or password is wrong.")
            .hides("<script>");
    }
    let bad_purpose = sign_in(&mut browser, "rx-chen", PASSWORD, "curiosity").await;
    assert_eq!(bad_purpose.status, 422);
    bad_purpose.shows("Purpose of use: choose one of the purposes listed");
    let page = full_sign_in(&app, &mut browser, "rx-chen", &secret).await;
    assert_eq!(page.location.as_deref(), Some("/prescriber"));
    let user = UserId::parse("rx-chen").expect("id");
    let creds = credentials::find(&app.db, &user)
        .await
        .expect("readable")
        .expect("the account");
    assert_eq!(creds.failed_attempts, 0, "a sign-in starts the count again");

    let failures: Vec<_> = events(&app)
        .await
        .into_iter()
        .filter(|(_, action, _)| *action == AccessAction::SignInFailed)
        .collect();
    assert_eq!(
        failures,
        [
            event(
                "rx-chen",
                AccessAction::SignInFailed,
                "sign-in failed: wrong password"
            ),
            event(
                "system",
                AccessAction::SignInFailed,
                "sign-in failed: unknown user id"
            ),
            event(
                "system",
                AccessAction::SignInFailed,
                "sign-in failed: unknown user id"
            ),
        ]
    );
    let text = format!("{:?}", log(&app).await);
    assert!(
        !text.contains("rx-nobody") && !text.contains("script"),
        "nothing typed is logged"
    );
    app.stop().await;
}

async fn five_failures_lock_the_account_until_the_lock_ends(url: &str) {
    let app = ApiApp::spawn(url).await;
    let (token, secret) = enrolled(&app, "t-okafor", Role::Therapist).await;
    let start = log(&app).await.len();
    let mut browser = Browser::new(&app);
    // Three wrong passwords, then the right one and two wrong codes.
    for _ in 0..3 {
        let page = sign_in(&mut browser, "t-okafor", "wrong password 123", "").await;
        page.shows("The user id or password is wrong.");
    }
    let page = sign_in(&mut browser, "t-okafor", PASSWORD, "").await;
    assert_eq!(page.location.as_deref(), Some("/sign-in/second-factor"));
    let page = second_factor(&mut browser, "000000").await;
    assert_eq!(page.status, 422);
    page.shows("The code is wrong.")
        .shows("aria-invalid=\"true\"");
    let page = second_factor(&mut browser, "999999").await;
    assert_eq!(page.status, 422);
    page.shows("This account is locked after too many failed attempts. Try again in 15 minutes.");
    assert!(
        !browser.has_cookie("kapchart_pending"),
        "the pending sign-in ends"
    );

    // Locked: the right password is refused too, and says for how long.
    app.at(app.now() + Duration::minutes(10));
    let page = sign_in(&mut browser, "t-okafor", PASSWORD, "").await;
    assert_eq!(page.status, 422);
    page.shows("locked").shows("Try again in 5 minutes.");
    // An unknown id is still told only that something is wrong.
    sign_in(&mut browser, "t-nobody", PASSWORD, "")
        .await
        .shows("The user id or password is wrong.")
        .hides("locked");
    // The API's bearer token keeps working.
    let reply = app.get(&token, "/api/v1/schedule?purpose=operations").await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    // The lock ends after 15 minutes.
    app.at(app.now() + Duration::minutes(5));
    let page = full_sign_in(&app, &mut browser, "t-okafor", &secret).await;
    assert_eq!(page.status, 303, "{}", page.html);
    assert_eq!(page.location.as_deref(), Some("/therapist"));

    let mine: Vec<(AccessAction, String)> = events(&app)
        .await
        .into_iter()
        .skip(start)
        .filter(|(user, action, _)| {
            user == "t-okafor"
                && matches!(
                    action,
                    AccessAction::SignIn | AccessAction::SignInFailed | AccessAction::Lock
                )
        })
        .map(|(_, action, purpose)| (action, purpose))
        .collect();
    let wrong = |p: &str| (AccessAction::SignInFailed, p.to_owned());
    assert_eq!(
        mine[..3],
        [
            wrong("sign-in failed: wrong password"),
            wrong("sign-in failed: wrong password"),
            wrong("sign-in failed: wrong password")
        ]
    );
    assert_eq!(mine[3], wrong("sign-in failed: wrong second-factor code"));
    assert_eq!(mine[4], wrong("sign-in failed: wrong second-factor code"));
    assert_eq!(mine[5].0, AccessAction::Lock);
    assert!(
        mine[5]
            .1
            .starts_with("lock: 5 failed attempts in a row; locked until 2026-01-05T20:"),
        "{mine:#?}"
    );
    assert_eq!(mine[6], wrong("sign-in refused: account locked"));
    assert_eq!(mine[7].0, AccessAction::SignIn, "{mine:#?}");
    assert_eq!(mine.len(), 8, "{mine:#?}");
    app.stop().await;
}

async fn used_and_expired_setup_codes_and_bad_passwords_are_refused(url: &str) {
    let app = ApiApp::spawn(url).await;
    let (_, setup_code) = add(&app, "fd-jones", Role::FrontDesk).await;
    let mut browser = Browser::new(&app);
    let before = log(&app).await.len();
    // Bad passwords, each named on its field; nothing is written.
    for (id, password, confirm, says) in [
        (
            "fd-jones",
            "short",
            "short",
            "New password: must be at least 12 characters long",
        ),
        (
            "fd-jones-desk1",
            "FD-JONES-DESK1",
            "FD-JONES-DESK1",
            "New password: must not be your user id",
        ),
        (
            "fd-jones",
            PASSWORD,
            "something else entirely",
            "New password again: does not match the new password",
        ),
    ] {
        let page = browser
            .submit(
                "/setup",
                "/setup",
                &[
                    ("user_id", id),
                    ("setup_code", &setup_code),
                    ("password", password),
                    ("password_confirm", confirm),
                ],
            )
            .await;
        assert_eq!(page.status, 422, "{says}");
        page.shows(says)
            .shows("aria-invalid=\"true\"")
            .hides(password);
    }
    let page = browser
        .submit(
            "/setup",
            "/setup",
            &[
                ("user_id", "fd jones"),
                ("setup_code", ""),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    page.shows("User id: ").shows("Setup code: is required");
    assert_eq!(log(&app).await.len(), before, "form errors write nothing");

    // The code works once.
    set_password(&mut browser, "fd-jones", &setup_code).await;
    let mut other = Browser::new(&app);
    let used = other
        .submit(
            "/setup",
            "/setup",
            &[
                ("user_id", "fd-jones"),
                ("setup_code", &setup_code),
                ("password", "another good password"),
                ("password_confirm", "another good password"),
            ],
        )
        .await;
    assert_eq!(used.status, 422);
    used.shows("The user id or setup code is wrong, or the code was used or has expired.");
    assert!(!other.has_cookie("kapchart_pending"));

    // A new code expires after 72 hours.
    let by = AccessActor {
        user_id: UserId::parse("test-admin").expect("id"),
        role: Role::Admin,
    };
    let user = UserId::parse("fd-jones").expect("id");
    let fresh = credentials::reset(&app.db, &user, &by, "test", app.now())
        .await
        .expect("reset");
    // The reset ended the pending enrolment of the first browser.
    let page = browser.get("/setup/second-factor").await;
    assert_eq!(page.location.as_deref(), Some("/sign-in?ended=pending"));
    app.at(app.now() + Duration::hours(72));
    let expired = other
        .submit(
            "/setup",
            "/setup",
            &[
                ("user_id", "fd-jones"),
                ("setup_code", &fresh.code),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(expired.status, 422);
    expired.shows("has expired");

    let setup_failures = events(&app)
        .await
        .into_iter()
        .filter(|(_, action, _)| *action == AccessAction::SignInFailed)
        .collect::<Vec<_>>();
    assert_eq!(
        setup_failures,
        [
            event(
                "fd-jones",
                AccessAction::SignInFailed,
                "setup failed: wrong, used or expired setup code"
            ),
            event(
                "fd-jones",
                AccessAction::SignInFailed,
                "setup failed: wrong, used or expired setup code"
            ),
        ]
    );
    app.stop().await;
}

async fn a_replayed_code_is_refused(url: &str) {
    let app = ApiApp::spawn(url).await;
    let (_, secret) = enrolled(&app, "au-smith", Role::Auditor).await;
    let mut browser = Browser::new(&app);
    let used = code(&secret, app.now());
    let page = full_sign_in(&app, &mut browser, "au-smith", &secret).await;
    assert_eq!(
        page.location.as_deref(),
        Some("/account"),
        "an auditor's home"
    );
    // A second sign-in in the same 30 seconds, with the same code.
    let mut second = Browser::new(&app);
    let page = sign_in(&mut second, "au-smith", PASSWORD, "audit").await;
    assert_eq!(page.location.as_deref(), Some("/sign-in/second-factor"));
    let page = second_factor(&mut second, &used).await;
    assert_eq!(page.status, 422);
    page.shows("This code was used already.");
    assert!(!second.has_cookie("kapchart_session"));
    // The code of the step before is older still: refused too.
    let older = code(&secret, app.now() - Duration::seconds(30));
    second_factor(&mut second, &older)
        .await
        .shows("This code was used already.");
    next_step(&app);
    let page = second_factor(&mut second, &code(&secret, app.now())).await;
    assert_eq!(page.location.as_deref(), Some("/account"));
    let replays = events(&app)
        .await
        .into_iter()
        .filter(|(_, _, purpose)| purpose.contains("used before"))
        .count();
    assert_eq!(replays, 2);
    app.stop().await;
}

async fn posts_without_their_tokens_are_refused(url: &str) {
    let app = ApiApp::spawn(url).await;
    let (_, secret) = enrolled(&app, "t-rivera", Role::Therapist).await;
    let mut browser = Browser::new(&app);
    // The first step's form needs the token of its cookie.
    browser.get("/sign-in").await;
    let page = browser
        .post(
            "/sign-in",
            &[
                ("user_id", "t-rivera"),
                ("password", PASSWORD),
                ("purpose", ""),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    let page = browser
        .post(
            "/sign-in",
            &[
                ("csrf", "forged"),
                ("user_id", "t-rivera"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(!browser.has_cookie("kapchart_pending"));
    // The second step's form needs the pending sign-in's token.
    sign_in(&mut browser, "t-rivera", PASSWORD, "").await;
    let page = browser
        .post(
            "/sign-in/second-factor",
            &[("code", &code(&secret, app.now()))],
        )
        .await;
    assert_eq!(page.status, 403);
    let page = second_factor(&mut browser, &code(&secret, app.now())).await;
    assert_eq!(page.location.as_deref(), Some("/therapist"));
    // Sign-out needs the session's token.
    let page = browser.post("/sign-out", &[]).await;
    assert_eq!(page.status, 403);
    assert_eq!(
        browser.get("/").await.location.as_deref(),
        Some("/therapist"),
        "still signed in"
    );
    let sign_outs = events(&app)
        .await
        .into_iter()
        .filter(|(_, action, _)| *action == AccessAction::SignOut)
        .count();
    assert_eq!(sign_outs, 0);
    // Without any cookie, the second step starts again.
    let mut stranger = Browser::new(&app);
    let page = stranger
        .post("/sign-in/second-factor", &[("code", "123456")])
        .await;
    assert_eq!(page.location.as_deref(), Some("/sign-in?ended=pending"));
    stranger
        .get("/sign-in?ended=pending")
        .await
        .shows("That sign-in is no longer open");
    app.stop().await;
}

async fn a_password_without_a_second_factor_leads_to_enrolment(url: &str) {
    let app = ApiApp::spawn(url).await;
    let (_, setup_code) = add(&app, "fd-jones", Role::FrontDesk).await;
    let mut abandoned = Browser::new(&app);
    set_password(&mut abandoned, "fd-jones", &setup_code).await;
    // The enrolment was left; signing in with the password goes to it.
    let mut browser = Browser::new(&app);
    let page = sign_in(&mut browser, "fd-jones", PASSWORD, "").await;
    assert_eq!(page.location.as_deref(), Some("/setup/second-factor"));
    assert_eq!(
        browser
            .get("/sign-in/second-factor")
            .await
            .location
            .as_deref(),
        Some("/setup/second-factor"),
        "the verify step sends to the enrolment"
    );
    let (_, done) = enrol(&app, &mut browser).await;
    assert_eq!(done.location.as_deref(), Some("/desk"));
    // The abandoned enrolment can no longer enrol another secret.
    let page = abandoned.get("/setup/second-factor").await;
    assert_eq!(page.status, 200);
    let other_secret = between(&page.html, "id=\"totp-secret\">", "<");
    let csrf = between(&page.html, "name=\"csrf\" value=\"", "\"");
    let page = abandoned
        .post(
            "/setup/second-factor",
            &[("csrf", &csrf), ("code", &code(&other_secret, app.now()))],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/sign-in?ended=pending"));
    assert!(!abandoned.has_cookie("kapchart_session"));
    app.stop().await;
}

async fn an_idle_sign_out_is_logged_as_a_sign_out(url: &str) {
    let app = ApiApp::spawn(url).await;
    let (_, secret) = enrolled(&app, "t-rivera", Role::Therapist).await;
    let mut browser = Browser::new(&app);
    full_sign_in(&app, &mut browser, "t-rivera", &secret).await;
    app.at(app.now() + app.web_config.idle_limit);
    let page = browser.get("/").await;
    assert_eq!(page.location.as_deref(), Some("/sign-in?ended=idle"));
    browser
        .get("/sign-in?ended=idle")
        .await
        .shows("You were signed out after 15 minutes without activity.");
    let last = events(&app).await.pop().expect("entries");
    assert_eq!(
        last,
        event("t-rivera", AccessAction::SignOut, "sign-out: idle")
    );
    app.stop().await;
}
