//! Sign-in over real HTTP on both engines, as a browser without
//! JavaScript does it: a setup code, a password, a second factor (TOTP)
//! enrolled with a code computed here from the secret the page shows,
//! sign-in, the purpose of use, sign-out and idle sign-out, enrolment
//! after a password alone, and posts without their tokens; every event in
//! the access log. The refusals (wrong passwords, lockout, setup codes,
//! replayed codes) are in `pages_signin_refusals.rs`.

use kapchart_domain::Role;
use kapchart_e2e::api::ApiApp;
use kapchart_e2e::*;
use kapchart_store::access::{self, AccessAction};

#[path = "signin_common/mod.rs"]
mod common;
use common::*;

on_both_engines!(
    a_new_user_sets_up_signs_in_changes_purpose_and_signs_out,
    posts_without_their_tokens_are_refused,
    a_password_without_a_second_factor_leads_to_enrolment,
    an_idle_sign_out_is_logged_as_a_sign_out,
);

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
