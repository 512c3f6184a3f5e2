//! The sign-in's refusals over real HTTP on both engines: a wrong password
//! then the right one, five failures lock the account until the lock ends
//! (bearer tokens still work), used and expired setup codes and bad new
//! passwords, replayed second-factor codes; each in the access log.

use chrono::Duration;
use kapchart_domain::{Role, UserId};
use kapchart_e2e::api::ApiApp;
use kapchart_e2e::*;
use kapchart_store::access::{AccessAction, AccessActor};
use kapchart_store::credentials;

#[path = "signin_common/mod.rs"]
mod common;
use common::*;

on_both_engines!(
    a_wrong_password_then_the_right_one,
    five_failures_lock_the_account_until_the_lock_ends,
    used_and_expired_setup_codes_and_bad_passwords_are_refused,
    a_replayed_code_is_refused,
);

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
        Some("/audit"),
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
    assert_eq!(page.location.as_deref(), Some("/audit"));
    let replays = events(&app)
        .await
        .into_iter()
        .filter(|(_, _, purpose)| purpose.contains("used before"))
        .count();
    assert_eq!(replays, 2);
    app.stop().await;
}
