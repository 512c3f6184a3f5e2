//! The admin's pages over real HTTP on both engines: the users page (the
//! list with last sign-in, the add form with a role, disable, enable,
//! reset, each secret shown once on the POST's own response), the
//! signing keys (rotation, confirmed) and the checkpoints (issue now);
//! CSRF on every form, POST-redirect-GET, bad input named, other roles
//! refused.

use kapchart_domain::Role;
use kapchart_e2e::api::ApiApp;
use kapchart_e2e::pages::Page;
use kapchart_e2e::*;
use kapchart_store::access::{AccessQuery, AccessRecord};
use serde_json::json;

on_both_engines!(
    the_users_page_adds_disables_enables_and_resets_with_secrets_shown_once,
    bad_input_and_forms_without_the_csrf_token_write_nothing,
    other_roles_are_refused_every_admin_page,
    keys_rotate_only_when_confirmed_and_checkpoints_are_issued_with_the_key_in_use,
);

async fn log(app: &ApiApp) -> Vec<AccessRecord> {
    kapchart_store::access::list(&app.db, &AccessQuery::default())
        .await
        .expect("access log")
}

/// The `su_...` code a page shows.
fn setup_code(page: &Page) -> String {
    let at = page.html.find("su_").expect("a setup code on the page");
    page.html[at..]
        .chars()
        .take_while(|c: &char| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

async fn the_users_page_adds_disables_enables_and_resets_with_secrets_shown_once(url: &str) {
    let app = ApiApp::spawn(url).await;
    let admin = app.signed_in("adm-lee", Role::Admin).await;
    let page = admin.get("/admin/users").await;
    assert_eq!(page.status, 200);
    page.shows("<h1>Users</h1>")
        .shows("adm-lee")
        .shows("Your account")
        .shows("href=\"/admin/keys\"")
        .shows("href=\"/admin/checkpoints\"")
        .shows("<h2 id=\"add\">Add a user</h2>")
        .shows("name=\"csrf\"");
    // The admin's home is this page.
    let home = admin.get("/").await;
    assert_eq!(home.location.as_deref(), Some("/admin/users"));

    // Add: the secrets are on the POST's own response, not cached.
    let before = log(&app).await.len();
    let added = admin
        .post(
            "/admin/users",
            &[
                ("user_id", "t-new"),
                ("display_name", "Dana New"),
                ("role", "therapist"),
            ],
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.html);
    added
        .shows("Shown only this once")
        .shows("kc_")
        .shows("Therapist");
    let code = setup_code(&added);
    assert_eq!(code.len(), 35, "{code}");
    let entries: Vec<AccessRecord> = log(&app).await.into_iter().skip(before).collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].entry.purpose, "accounts: add t-new as therapist");
    assert!(
        entries[0].entry.source.starts_with("web POST /admin/users"),
        "{:?}",
        entries[0].entry
    );
    assert!(!entries[0].entry.purpose.contains(&code));
    // The list shows the account, waiting for its setup, never the code.
    let list = admin.get("/admin/users").await;
    list.shows("t-new")
        .shows("Dana New")
        .shows("Setup code waiting")
        .shows("Never")
        .hides(&code);

    // Disable: POST-redirect-GET with a notice.
    let disabled = admin.post("/admin/users/t-new/disable", &[]).await;
    assert_eq!(disabled.status, 303);
    assert_eq!(
        disabled.location.as_deref(),
        Some("/admin/users?done=disabled&user=t-new")
    );
    admin
        .get("/admin/users?done=disabled&user=t-new")
        .await
        .shows("t-new is disabled")
        .shows("Disabled")
        .shows("action=\"/admin/users/t-new/enable\"");
    // Enable.
    let enabled = admin.post("/admin/users/t-new/enable", &[]).await;
    assert_eq!(
        enabled.location.as_deref(),
        Some("/admin/users?done=enabled&user=t-new")
    );
    admin
        .get("/admin/users?done=enabled&user=t-new")
        .await
        .shows("t-new is enabled again");
    // Reset: a new setup code, shown once.
    let reset = admin.post("/admin/users/t-new/reset", &[]).await;
    assert_eq!(reset.status, 201, "{}", reset.html);
    let new_code = setup_code(&reset);
    assert_ne!(new_code, code);
    reset.hides("kc_");
    let purposes: Vec<String> = log(&app)
        .await
        .into_iter()
        .skip(before)
        .map(|r| r.entry.purpose)
        .collect();
    assert_eq!(purposes.len(), 4, "{purposes:?}");
    assert!(purposes.iter().all(|p| !p.contains(&new_code)));
    // An unknown user: 404, nothing logged.
    let unknown = admin.post("/admin/users/nobody/disable", &[]).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(log(&app).await.len(), before + 4);
    app.stop().await;
}

async fn bad_input_and_forms_without_the_csrf_token_write_nothing(url: &str) {
    let app = ApiApp::spawn(url).await;
    let admin = app.signed_in("adm-lee", Role::Admin).await;
    app.user("t-rivera", Role::Therapist).await;
    let before = log(&app).await.len();
    for (fields, field) in [
        (
            vec![("user_id", "bad id"), ("role", "therapist")],
            "user_id",
        ),
        (vec![("user_id", "t-2"), ("role", "")], "role"),
        (
            vec![
                ("user_id", "t-2"),
                ("role", "therapist"),
                ("display_name", "A\u{0007}"),
            ],
            "display_name",
        ),
    ] {
        let page = admin.post("/admin/users", &fields).await;
        assert_eq!(page.status, 422, "{fields:?}: {}", page.html);
        page.shows(&format!("{field}: "))
            .shows("aria-invalid=\"true\"");
    }
    // What was typed stays in the form.
    admin
        .post("/admin/users", &[("user_id", "t-2"), ("role", "wizard")])
        .await
        .shows("value=\"t-2\"");
    // An existing id: 409, named.
    let taken = admin
        .post(
            "/admin/users",
            &[("user_id", "t-rivera"), ("role", "auditor")],
        )
        .await;
    assert_eq!(taken.status, 409);
    taken.shows("already exists");
    // No CSRF token, or a wrong one: 403 before anything runs.
    for path in [
        "/admin/users",
        "/admin/users/t-rivera/disable",
        "/admin/users/t-rivera/reset",
        "/admin/keys/rotate",
        "/admin/checkpoints",
    ] {
        let page = admin
            .post_raw(
                path,
                &[("user_id", "t-3"), ("role", "admin"), ("confirm", "yes")],
            )
            .await;
        assert_eq!(page.status, 403, "{path}");
        let page = admin
            .post_raw(path, &[("csrf", "wrong"), ("confirm", "yes")])
            .await;
        assert_eq!(page.status, 403, "{path}");
    }
    assert_eq!(log(&app).await.len(), before, "nothing written");
    assert!(
        kapchart_store::signing_keys::published(&app.db)
            .await
            .expect("read")
            .is_empty()
    );
    app.stop().await;
}

async fn other_roles_are_refused_every_admin_page(url: &str) {
    let app = ApiApp::spawn(url).await;
    app.user("t-rivera", Role::Therapist).await;
    for (id, role) in [
        ("t-other", Role::Therapist),
        ("rx-chen", Role::Prescriber),
        ("fd-kim", Role::FrontDesk),
        ("au-smith", Role::Auditor),
    ] {
        let browser = app.signed_in(id, role).await;
        let before = log(&app).await.len();
        for path in ["/admin/users", "/admin/keys", "/admin/checkpoints"] {
            let page = browser.get(path).await;
            assert_eq!(page.status, 403, "{id} {path}");
        }
        for path in [
            "/admin/users/t-rivera/disable",
            "/admin/users/t-rivera/reset",
            "/admin/checkpoints",
        ] {
            let page = browser.post(path, &[]).await;
            assert_eq!(page.status, 403, "{id} {path}");
        }
        let page = browser
            .post("/admin/keys/rotate", &[("confirm", "yes")])
            .await;
        assert_eq!(page.status, 403);
        let page = browser
            .post("/admin/users", &[("user_id", "x-1"), ("role", "admin")])
            .await;
        assert_eq!(page.status, 403);
        assert_eq!(log(&app).await.len(), before, "{id}: nothing written");
        // No admin link in their navigation.
        browser.get("/account").await.hides("/admin/");
    }
    assert!(
        kapchart_store::audit::load_checkpoints(&app.db)
            .await
            .expect("read")
            .is_empty()
    );
    app.stop().await;
}

async fn keys_rotate_only_when_confirmed_and_checkpoints_are_issued_with_the_key_in_use(url: &str) {
    let app = ApiApp::spawn(url).await;
    let token = app.user("t-rivera", Role::Therapist).await;
    let reply = app
        .command(
            &token,
            "client-1",
            "c-1",
            &json!({"RegisterClient": {
                "client_id": "client-1", "name": "Ana Example", "date_of_birth": "1985-03-14",
                "therapist": "t-rivera"}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let admin = app.signed_in("adm-lee", Role::Admin).await;
    admin
        .get("/admin/keys")
        .await
        .shows("No key is published yet")
        .shows("There is no key file yet");
    admin
        .get("/admin/checkpoints")
        .await
        .shows("No checkpoint has been issued yet");

    // Issue a checkpoint: POST-redirect-GET.
    let issued = admin.post("/admin/checkpoints", &[]).await;
    assert_eq!(issued.status, 303, "{}", issued.html);
    assert_eq!(
        issued.location.as_deref(),
        Some("/admin/checkpoints?done=issued&number=1")
    );
    admin
        .get("/admin/checkpoints?done=issued&number=1")
        .await
        .shows("Checkpoint 1 is signed and logged.")
        .shows("<th scope=\"row\">1</th>");
    let first_key = kapchart_store::signing_keys::load_key_file(&app.key_file)
        .expect("read")
        .expect("created by the first checkpoint");
    admin
        .get("/admin/keys")
        .await
        .shows(&kapchart_store::signing_keys::public_hex(&first_key));

    // Rotation needs the confirmation.
    let unconfirmed = admin.post("/admin/keys/rotate", &[]).await;
    assert_eq!(unconfirmed.status, 422);
    unconfirmed
        .shows("confirm: tick the box")
        .shows("aria-invalid=\"true\"");
    assert!(
        kapchart_store::signing_keys::published(&app.db)
            .await
            .expect("read")
            .is_empty()
    );
    app.at(app.now() + chrono::Duration::minutes(1));
    let rotated = admin
        .post("/admin/keys/rotate", &[("confirm", "yes")])
        .await;
    assert_eq!(rotated.status, 303, "{}", rotated.html);
    assert_eq!(
        rotated.location.as_deref(),
        Some("/admin/keys?done=rotated&number=2")
    );
    let keys = kapchart_store::signing_keys::published(&app.db)
        .await
        .expect("read");
    assert_eq!(keys.len(), 2);
    admin
        .get("/admin/keys?done=rotated&number=2")
        .await
        .shows("key 2 signs from now on")
        .shows(&keys[0].public_key)
        .shows(&keys[1].public_key)
        .shows("current");
    let entry = log(&app).await.pop().expect("an entry");
    assert!(
        entry
            .entry
            .purpose
            .starts_with("signing keys: rotate to key 2")
    );
    assert!(
        entry
            .entry
            .source
            .starts_with("web POST /admin/keys/rotate")
    );

    // The next checkpoint is signed by the new key; both verify.
    app.at(app.now() + chrono::Duration::minutes(1));
    let issued = admin.post("/admin/checkpoints", &[]).await;
    assert_eq!(
        issued.location.as_deref(),
        Some("/admin/checkpoints?done=issued&number=2")
    );
    let log_of_checkpoints = kapchart_store::audit::load_checkpoints(&app.db)
        .await
        .expect("read");
    assert_eq!(log_of_checkpoints[0].public_key, keys[0].public_key);
    assert_eq!(log_of_checkpoints[1].public_key, keys[1].public_key);
    let report = kapchart_store::audit::verify(
        &app.db,
        &kapchart_store::audit::VerifyOptions::default(),
        &|_| {},
    )
    .await
    .expect("verified");
    assert!(report.is_intact(), "{:#?}", report.checkpoint_problems);
    app.stop().await;
}
