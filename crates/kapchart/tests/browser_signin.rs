//! Sign-in in a real browser (headless Chromium over WebDriver) against
//! `kapchart serve`: an account made by `kapchart user add` sets its
//! password with the one-time setup code, enrols its second factor (TOTP)
//! and lands on its home page; signs out; a wrong password and a wrong
//! code are refused on the page; signs in again with password and a fresh
//! code. axe-core runs on every page; screenshots of each are written to
//! target/browser-screenshots/; the access log holds the sign-ins and the
//! sign-out.

mod browser;

use browser::{Browser, PASSWORD, Practice, totp_code, wrong_totp_code};
use kapchart_domain::Role;
use kapchart_store::access::AccessAction;

#[tokio::test]
async fn a_therapist_sets_a_password_enrols_totp_signs_out_and_in_again() {
    let practice = Practice::sqlite();
    let user = practice.create_user("t-rivera", "therapist");
    let browser = Browser::open(&practice).await;
    let home = kapchart_web::page::home_of(Role::Therapist);

    // Without a session: the sign-in page.
    browser.goto("/").await;
    assert_eq!(browser.path().await, "/sign-in");
    browser.axe("sign-in").await;
    browser.screenshot("sign-in").await;

    // First sign-in: the setup code, a new password twice.
    browser.goto("/setup").await;
    browser.axe("setup").await;
    browser.screenshot("setup").await;
    browser.fill("user_id", "t-rivera").await;
    browser.fill("setup_code", user.setup_code()).await;
    browser.fill("password", PASSWORD).await;
    browser.fill("password_confirm", PASSWORD).await;
    browser.submit().await;

    // The second factor: the secret to put in an authenticator app, and a
    // first code from it. A wrong code is refused on the page.
    assert_eq!(browser.path().await, "/setup/second-factor");
    browser.axe("setup-second-factor").await;
    browser.screenshot("setup-second-factor").await;
    let secret: String = browser
        .text("#totp-secret")
        .await
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(
        secret.len() >= 26
            && secret
                .chars()
                .all(|c| matches!(c, 'A'..='Z' | '2'..='7' | '=')),
        "a base32 secret of 128 bits or more: {secret:?}"
    );
    browser.fill("code", &wrong_totp_code(&secret)).await;
    browser.submit().await;
    assert_eq!(browser.path().await, "/setup/second-factor");
    assert!(
        browser.field_error("code").await.is_some(),
        "the wrong code is marked on its field: {}",
        browser.describe().await
    );
    browser.axe("setup-second-factor-refused").await;
    browser.screenshot("setup-second-factor-refused").await;
    browser.fill("code", &totp_code(&secret).await).await;
    browser.submit().await;

    // Signed in: the therapist's home, with the header naming them.
    assert_eq!(browser.path().await, home);
    assert!(browser.text("header").await.contains("t-rivera"));
    browser.axe("therapist-home-after-setup").await;
    browser.screenshot("therapist-home-after-setup").await;

    // Sign out: back to the sign-in page; the session is gone.
    browser.click_button("Sign out").await;
    assert!(browser.path().await.starts_with("/sign-in"));
    browser.axe("signed-out").await;
    browser.screenshot("signed-out").await;
    browser.goto(home).await;
    assert!(
        browser.path().await.starts_with("/sign-in"),
        "no session after signing out"
    );

    // A wrong password is refused, and says so on the page.
    browser.goto("/sign-in").await;
    browser.fill("user_id", "t-rivera").await;
    browser.fill("password", "not the password at all").await;
    browser.submit().await;
    assert!(browser.path().await.starts_with("/sign-in"));
    assert!(!browser.path().await.starts_with("/sign-in/second-factor"));
    assert!(
        browser.exists("[role=alert]").await,
        "{}",
        browser.describe().await
    );
    browser.axe("sign-in-refused").await;
    browser.screenshot("sign-in-refused").await;

    // Password and a fresh code (the next step's: a code is used once).
    browser.goto("/sign-in").await;
    browser.fill("user_id", "t-rivera").await;
    browser.fill("password", PASSWORD).await;
    browser.submit().await;
    assert_eq!(browser.path().await, "/sign-in/second-factor");
    browser.axe("sign-in-second-factor").await;
    browser.screenshot("sign-in-second-factor").await;
    browser.fill("code", &totp_code(&secret).await).await;
    browser.submit().await;
    assert_eq!(browser.path().await, home);
    browser.close().await;

    // The access log holds both sign-ins, the two refusals (the wrong code,
    // the wrong password) and the sign-out, each by t-rivera from the page
    // that did it.
    let log = practice.access_log().await;
    let by_rivera: Vec<(AccessAction, &str)> = log
        .iter()
        .filter(|r| r.entry.actor.user_id.as_str() == "t-rivera")
        .map(|r| (r.entry.action, r.entry.source.as_str()))
        .collect();
    let count = |action: AccessAction, source: &str| {
        by_rivera
            .iter()
            .filter(|(a, s)| *a == action && s.starts_with(source))
            .count()
    };
    assert_eq!(
        count(AccessAction::SignIn, "web POST /setup/second-factor"),
        1,
        "{by_rivera:#?}"
    );
    assert_eq!(
        count(AccessAction::SignIn, "web POST /sign-in/second-factor"),
        1,
        "{by_rivera:#?}"
    );
    assert_eq!(
        count(AccessAction::SignInFailed, "web POST /setup/second-factor"),
        1,
        "{by_rivera:#?}"
    );
    assert_eq!(
        count(AccessAction::SignInFailed, "web POST /sign-in"),
        1,
        "{by_rivera:#?}"
    );
    assert_eq!(
        count(AccessAction::SignOut, "web POST /sign-out"),
        1,
        "{by_rivera:#?}"
    );
}
