//! The admin's services over real HTTP on both engines: accounts under
//! `/api/v1/users` (list with last sign-in, add with a role and its
//! one-time secrets, disable, enable, reset), every change in the access
//! log as the command line logs it and no secret in it; refusals of the
//! other roles with stable codes; bad input named by field with nothing
//! written; and signing-key rotation: an old checkpoint still verifies,
//! a new one is signed by the new key, trust passes along the published
//! keys, and a key file replaced without a rotation or a forged key row
//! is caught.

use std::os::unix::fs::PermissionsExt as _;

use kapchart_domain::{Role, UserId};
use kapchart_e2e::api::{ApiApp, Reply};
use kapchart_e2e::*;
use kapchart_store::access::{AccessAction, AccessActor, AccessQuery, AccessRecord};
use kapchart_store::audit::{self, CheckpointRefused, VerifyOptions};
use kapchart_store::signing_keys::{self, KeyError};
use serde_json::{Value, json};

on_both_engines!(
    an_admin_adds_lists_disables_enables_and_resets_users,
    other_roles_are_refused_with_stable_codes_and_nothing_is_written,
    bad_input_is_named_by_field_and_writes_nothing,
    a_rotated_key_keeps_old_checkpoints_verifiable_and_signs_new_ones,
    a_key_file_replaced_without_rotation_or_a_forged_key_is_caught,
);

async fn log(app: &ApiApp) -> Vec<AccessRecord> {
    kapchart_store::access::list(&app.db, &AccessQuery::default())
        .await
        .expect("access log")
}

async fn post(app: &ApiApp, token: Option<&str>, path: &str, body: Option<Value>) -> Reply {
    app.send(
        reqwest::Method::POST,
        path,
        token,
        body.map(|b| serde_json::to_vec(&b).expect("json")),
    )
    .await
}

fn user(list: &Reply, id: &str) -> Value {
    list.body
        .as_array()
        .and_then(|a| a.iter().find(|u| u["user_id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("{id} is not listed: {:#}", list.body))
}

async fn an_admin_adds_lists_disables_enables_and_resets_users(url: &str) {
    let app = ApiApp::spawn(url).await;
    let admin = app.user("adm-lee", Role::Admin).await;
    let list = app.get(&admin, "/api/v1/users").await;
    assert_eq!(list.status, 200, "{list:?}");
    let me = user(&list, "adm-lee");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["disabled"], false);
    assert_eq!(me["last_sign_in_at"], Value::Null);

    // Add: the token and the setup code come back once, never cached.
    let before = log(&app).await.len();
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/users", app.base))
        .bearer_auth(&admin)
        .json(&json!({"user_id": "t-new", "role": "therapist", "display_name": "Dana New"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let added: Value = response.json().await.expect("json");
    let token = added["token"].as_str().expect("token").to_owned();
    let code = added["setup_code"].as_str().expect("setup code").to_owned();
    assert!(token.starts_with("kc_"), "{added:#}");
    assert!(code.starts_with("su_"), "{added:#}");
    assert_eq!(added["user"]["role"], "therapist");
    assert_eq!(added["user"]["display_name"], "Dana New");
    assert_eq!(added["user"]["has_password"], false);
    assert!(added["user"]["setup_code_expires_at"].is_string());
    // The new token authenticates; the admin's list shows the account.
    assert_eq!(
        app.get(
            &token,
            "/api/v1/schedule?purpose=treatment&from=2026-01-05&to=2026-01-06"
        )
        .await
        .status,
        200
    );
    let list = app.get(&admin, "/api/v1/users").await;
    assert_eq!(user(&list, "t-new")["role"], "therapist");

    // The change is logged as the command line logs it, by the admin,
    // from the request; neither secret nor the name is in the log.
    let new_entries: Vec<AccessRecord> = log(&app).await.into_iter().skip(before).collect();
    assert_eq!(new_entries.len(), 1, "{new_entries:#?}");
    let entry = &new_entries[0].entry;
    assert_eq!(entry.action, AccessAction::Add);
    assert_eq!(entry.actor.user_id.as_str(), "adm-lee");
    assert_eq!(entry.purpose, "accounts: add t-new as therapist");
    assert!(
        entry.source.starts_with("api POST /api/v1/users"),
        "{entry:?}"
    );
    for r in log(&app).await {
        let text = format!("{} {}", r.entry.purpose, r.entry.source);
        assert!(!text.contains(&code) && !text.contains(&token) && !text.contains("Dana"));
    }

    // The setup code works once: the user sets a password with it.
    let t_new = UserId::parse("t-new").expect("id");
    kapchart_store::credentials::set_password_with_setup_code(
        &app.db,
        &t_new,
        &code,
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
        "test",
        app.now(),
    )
    .await
    .expect("the setup code sets a password");
    let list = app.get(&admin, "/api/v1/users").await;
    assert_eq!(user(&list, "t-new")["has_password"], true);
    assert_eq!(user(&list, "t-new")["setup_code_expires_at"], Value::Null);

    // Adding the same id again: 409 user_exists, nothing written.
    let before = log(&app).await.len();
    let again = post(
        &app,
        Some(&admin),
        "/api/v1/users",
        Some(json!({"user_id": "t-new", "role": "auditor"})),
    )
    .await;
    assert_eq!(
        (again.status, again.code()),
        (409, "user_exists"),
        "{again:?}"
    );
    assert_eq!(log(&app).await.len(), before);

    // Disable: the token stops working; again is 409; reset refused.
    let disabled = post(&app, Some(&admin), "/api/v1/users/t-new/disable", None).await;
    assert_eq!(disabled.status, 200, "{disabled:?}");
    assert_eq!(disabled.body["disabled"], true);
    assert_eq!(
        app.get(
            &token,
            "/api/v1/schedule?purpose=treatment&from=2026-01-05&to=2026-01-06"
        )
        .await
        .status,
        401
    );
    let again = post(&app, Some(&admin), "/api/v1/users/t-new/disable", None).await;
    assert_eq!((again.status, again.code()), (409, "user_disabled"));
    let refused = post(&app, Some(&admin), "/api/v1/users/t-new/reset", None).await;
    assert_eq!((refused.status, refused.code()), (409, "user_disabled"));
    // An admin does not lock themselves out.
    let own = post(&app, Some(&admin), "/api/v1/users/adm-lee/disable", None).await;
    assert_eq!((own.status, own.code()), (409, "own_account"));

    // Enable: the account is back; its old tokens stay revoked.
    let enabled = post(&app, Some(&admin), "/api/v1/users/t-new/enable", None).await;
    assert_eq!(enabled.status, 200, "{enabled:?}");
    assert_eq!(enabled.body["disabled"], false);
    assert_eq!(
        app.get(
            &token,
            "/api/v1/schedule?purpose=treatment&from=2026-01-05&to=2026-01-06"
        )
        .await
        .status,
        401
    );
    let again = post(&app, Some(&admin), "/api/v1/users/t-new/enable", None).await;
    assert_eq!((again.status, again.code()), (409, "user_not_disabled"));

    // Reset: a new setup code; the password is cleared.
    let reset = post(&app, Some(&admin), "/api/v1/users/t-new/reset", None).await;
    assert_eq!(reset.status, 200, "{reset:?}");
    let new_code = reset.body["setup_code"].as_str().expect("code");
    assert!(new_code.starts_with("su_") && new_code != code);
    let list = app.get(&admin, "/api/v1/users").await;
    assert_eq!(user(&list, "t-new")["has_password"], false);

    // Unknown users: 404.
    let unknown = post(&app, Some(&admin), "/api/v1/users/nobody/disable", None).await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));

    // Each change is in the log, by the admin, in order.
    let purposes: Vec<String> = log(&app)
        .await
        .into_iter()
        .filter(|r| r.entry.actor.user_id.as_str() == "adm-lee")
        .map(|r| r.entry.purpose)
        .collect();
    assert_eq!(
        purposes,
        [
            "accounts: add t-new as therapist",
            "accounts: disable t-new and revoke its tokens",
            "accounts: enable t-new (its API tokens stay revoked)",
            "accounts: reset the password and second factor of t-new, end its web sessions, issue a setup code",
        ]
    );
    app.stop().await;
}

async fn other_roles_are_refused_with_stable_codes_and_nothing_is_written(url: &str) {
    let app = ApiApp::spawn(url).await;
    app.user("t-rivera", Role::Therapist).await;
    let before = log(&app).await.len();
    for (id, role) in [
        ("t-other", Role::Therapist),
        ("rx-chen", Role::Prescriber),
        ("fd-kim", Role::FrontDesk),
        ("au-smith", Role::Auditor),
    ] {
        let token = app.user(id, role).await;
        let before = log(&app).await.len();
        let replies = [
            app.get(&token, "/api/v1/users").await,
            post(
                &app,
                Some(&token),
                "/api/v1/users",
                Some(json!({"user_id": "x-1", "role": "admin"})),
            )
            .await,
            post(&app, Some(&token), "/api/v1/users/t-rivera/disable", None).await,
            post(&app, Some(&token), "/api/v1/users/t-rivera/enable", None).await,
            post(&app, Some(&token), "/api/v1/users/t-rivera/reset", None).await,
        ];
        for reply in replies {
            assert_eq!(
                (reply.status, reply.code()),
                (403, "forbidden"),
                "{id}: {reply:?}"
            );
        }
        assert_eq!(log(&app).await.len(), before, "{id}: nothing logged");
    }
    // No token at all: 401.
    let none = post(&app, None, "/api/v1/users/t-rivera/disable", None).await;
    assert_eq!((none.status, none.code()), (401, "unauthenticated"));
    assert!(
        kapchart_store::accounts::find_user(&app.db, &UserId::parse("x-1").expect("id"))
            .await
            .expect("read")
            .is_none()
    );
    let t = kapchart_store::accounts::find_user(&app.db, &UserId::parse("t-rivera").expect("id"))
        .await
        .expect("read")
        .expect("exists");
    assert!(!t.disabled);
    assert_eq!(
        log(&app).await.len(),
        before + 4,
        "only the four accounts added"
    );
    app.stop().await;
}

async fn bad_input_is_named_by_field_and_writes_nothing(url: &str) {
    let app = ApiApp::spawn(url).await;
    let admin = app.user("adm-lee", Role::Admin).await;
    let before = log(&app).await.len();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"user_id": "bad id!", "role": "therapist"}),
            "user_id",
        ),
        (json!({"user_id": "", "role": "therapist"}), "user_id"),
        (json!({"user_id": "system", "role": "therapist"}), "user_id"),
        (json!({"user_id": "local-bob", "role": "admin"}), "user_id"),
        (json!({"user_id": "t-2", "role": "wizard"}), "role"),
        (json!({"user_id": "t-2"}), "role"),
        (json!({"role": "therapist"}), "user_id"),
        (json!({"user_id": 7, "role": "therapist"}), "user_id"),
        (
            json!({"user_id": "t-2", "role": "therapist", "display_name": "A\u{0007}B"}),
            "display_name",
        ),
        (
            json!({"user_id": "t-2", "role": "therapist", "display_name": "x".repeat(201)}),
            "display_name",
        ),
        (
            json!({"user_id": "t-2", "role": "therapist", "is_admin": true}),
            "is_admin",
        ),
        (json!(["t-2"]), "."),
    ];
    for (body, field) in cases {
        let reply = post(&app, Some(&admin), "/api/v1/users", Some(body.clone())).await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "invalid_input"),
            "{body}: {reply:?}"
        );
        assert_eq!(reply.body["error"]["field"], field, "{body}: {reply:?}");
    }
    let not_json = app
        .send(
            reqwest::Method::POST,
            "/api/v1/users",
            Some(&admin),
            Some(b"{not json".to_vec()),
        )
        .await;
    assert_eq!(
        (not_json.status, not_json.body["error"]["field"].as_str()),
        (400, Some("."))
    );
    let bad_path = post(&app, Some(&admin), "/api/v1/users/b%20d/reset", None).await;
    assert_eq!(
        (bad_path.status, bad_path.body["error"]["field"].as_str()),
        (400, Some("user_id")),
        "{bad_path:?}"
    );
    assert_eq!(log(&app).await.len(), before, "nothing written");
    let list = app.get(&admin, "/api/v1/users").await;
    assert_eq!(list.body.as_array().map(Vec::len), Some(1));
    app.stop().await;
}

fn admin_actor() -> AccessActor {
    AccessActor {
        user_id: UserId::parse("adm-lee").expect("id"),
        role: Role::Admin,
    }
}

/// One registered client (so checkpoints have a head to sign).
async fn one_client(app: &ApiApp) {
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
}

fn intact(report: &audit::VerifyReport) {
    assert!(
        report.is_intact(),
        "{:#?} {:#?}",
        report.findings,
        report.checkpoint_problems
    );
}

async fn verify_trusting(app: &ApiApp, key: Option<[u8; 32]>) -> audit::VerifyReport {
    let options = VerifyOptions {
        public_key: key,
        ..VerifyOptions::default()
    };
    audit::verify(&app.db, &options, &|_| {})
        .await
        .expect("verified")
}

async fn a_rotated_key_keeps_old_checkpoints_verifiable_and_signs_new_ones(url: &str) {
    let app = ApiApp::spawn(url).await;
    one_client(&app).await;
    let old = signing_keys::load_or_create_key_file(&app.key_file).expect("key");
    let old_public = kapchart_audit::public_key_of(&old);
    let first = audit::checkpoint(&app.db, &old, "2026-01-05T20:00:00Z")
        .await
        .expect("checkpoint 1");
    assert_eq!(first.public_key, hex(&old_public));

    app.at(day(1));
    let rotation = signing_keys::rotate(&app.db, &app.key_file, &admin_actor(), "test", day(1))
        .await
        .expect("rotated");
    // The first rotation publishes the retired key from its first
    // checkpoint, and the new key from now, signed over by the old one.
    let retired = rotation.retired.expect("the old key is published");
    assert_eq!(retired.number, 1);
    assert_eq!(retired.public_key, hex(&old_public));
    assert_eq!(retired.in_use_from, "2026-01-05T20:00:00Z");
    assert_eq!(rotation.current.number, 2);
    assert_eq!(rotation.current.in_use_from, "2026-01-06T00:00:00Z");
    let new = signing_keys::load_key_file(&app.key_file)
        .expect("read")
        .expect("exists");
    assert_ne!(new, old, "the key file holds the new key");
    assert_eq!(rotation.current.public_key, signing_keys::public_hex(&new));
    let mode = std::fs::metadata(&app.key_file)
        .expect("exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let published = signing_keys::published(&app.db).await.expect("published");
    assert_eq!(published.len(), 2);
    assert_eq!(
        published[0].in_use_until.as_deref(),
        Some("2026-01-06T00:00:00Z")
    );
    // Logged as a change, by the admin.
    let last = log(&app).await.pop().expect("an entry");
    assert_eq!(last.entry.action, AccessAction::Change);
    assert!(
        last.entry
            .purpose
            .starts_with("signing keys: rotate to key 2"),
        "{last:?}"
    );

    // A new checkpoint is signed by the new key; the old one still verifies.
    let second = audit::checkpoint(&app.db, &new, "2026-01-06T20:00:00Z")
        .await
        .expect("checkpoint 2");
    assert_eq!(second.public_key, signing_keys::public_hex(&new));
    let new_public = kapchart_audit::public_key_of(&new);
    second
        .checkpoint
        .verify(&new_public)
        .expect("signed by the new key");
    assert!(second.checkpoint.verify(&old_public).is_err());
    first
        .checkpoint
        .verify(&old_public)
        .expect("the old one still verifies");
    intact(&verify_trusting(&app, None).await);
    // Trusting the new key trusts the retired one it names, and an
    // auditor who kept the old key trusts the key it handed over to.
    intact(&verify_trusting(&app, Some(new_public)).await);
    intact(&verify_trusting(&app, Some(old_public)).await);
    // A stranger's key trusts neither.
    let stranger = verify_trusting(&app, Some([7; 32])).await;
    assert_eq!(stranger.checkpoint_problems.len(), 2, "{stranger:#?}");

    // The old key can no longer sign.
    let refused = audit::checkpoint(&app.db, &old, "2026-01-06T21:00:00Z").await;
    assert!(
        matches!(
            refused,
            Err(CheckpointRefused::Key(KeyError::NotCurrent { .. }))
        ),
        "{refused:?}"
    );
    // A rotation dated before the latest checkpoint (one taken while it
    // was under way) is refused, and nothing is published.
    let early = signing_keys::rotate(&app.db, &app.key_file, &admin_actor(), "test", day(1)).await;
    assert!(matches!(early, Err(KeyError::TooEarly(_))), "{early:?}");
    assert_eq!(
        signing_keys::load_key_file(&app.key_file).expect("read"),
        Some(new),
        "the key file is unchanged"
    );
    // Only admins rotate.
    let therapist = AccessActor {
        user_id: UserId::parse("t-rivera").expect("id"),
        role: Role::Therapist,
    };
    let refused = signing_keys::rotate(&app.db, &app.key_file, &therapist, "test", day(2)).await;
    assert!(matches!(refused, Err(KeyError::NotAdmin)), "{refused:?}");
    assert_eq!(
        signing_keys::published(&app.db).await.expect("read").len(),
        2
    );
    app.stop().await;
}

async fn a_key_file_replaced_without_rotation_or_a_forged_key_is_caught(url: &str) {
    let app = ApiApp::spawn(url).await;
    one_client(&app).await;
    let old = signing_keys::load_or_create_key_file(&app.key_file).expect("key");
    audit::checkpoint(&app.db, &old, "2026-01-05T20:00:00Z")
        .await
        .expect("checkpoint 1");
    signing_keys::rotate(&app.db, &app.key_file, &admin_actor(), "test", day(1))
        .await
        .expect("rotated");
    let new = signing_keys::load_key_file(&app.key_file)
        .expect("read")
        .expect("exists");

    // A key file replaced by hand: no checkpoint, no rotation.
    std::fs::remove_file(&app.key_file).expect("removed");
    let swapped = signing_keys::load_or_create_key_file(&app.key_file).expect("another key");
    let refused = audit::checkpoint(&app.db, &swapped, "2026-01-06T20:00:00Z").await;
    assert!(
        matches!(
            refused,
            Err(CheckpointRefused::Key(KeyError::NotCurrent { .. }))
        ),
        "{refused:?}"
    );
    let refused =
        signing_keys::rotate(&app.db, &app.key_file, &admin_actor(), "test", day(2)).await;
    assert!(
        matches!(refused, Err(KeyError::NotCurrent { .. })),
        "{refused:?}"
    );
    assert_eq!(
        signing_keys::published(&app.db).await.expect("read").len(),
        2
    );

    // The key in use still signs.
    let second = audit::checkpoint(&app.db, &new, "2026-01-06T20:00:00Z")
        .await
        .expect("checkpoint 2 by the key in use");
    assert_eq!(second.number, 2);
    intact(&verify_trusting(&app, None).await);
    // A published key's time changed in the database: the row no longer
    // matches what its keys signed, and verification says which key.
    let sql = "UPDATE signing_keys SET in_use_from = '2026-01-05T21:00:00Z' WHERE number = 2";
    match &app.db {
        kapchart_store::Database::Postgres(pool) => {
            sqlx::query(sql).execute(pool).await.expect("tampered");
        }
        kapchart_store::Database::Sqlite(pool) => {
            sqlx::query(sql).execute(pool).await.expect("tampered");
        }
    }
    let report = verify_trusting(&app, None).await;
    assert!(!report.is_intact());
    assert!(
        report
            .checkpoint_problems
            .iter()
            .any(|p| p.source == "keys" && p.number == 2 && p.problem.contains("statement")),
        "{report:#?}"
    );
    // Trust no longer passes through the broken row.
    let trusting_new = verify_trusting(&app, Some(kapchart_audit::public_key_of(&new))).await;
    assert!(
        trusting_new
            .checkpoint_problems
            .iter()
            .any(|p| p.number == 1 && p.problem.contains("other than the trusted")),
        "{trusting_new:#?}"
    );
    app.stop().await;
}

fn hex(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}
