//! Accounts, tokens and the access log on real databases: a fresh
//! PostgreSQL database and a fresh SQLite file per test.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use kapchart_audit::{Hash, canonical_json};
use kapchart_domain::{ClientId, Role, UserId};
use kapchart_store::Database;
use kapchart_store::StoreError;
use kapchart_store::access::{
    self, AccessAction, AccessActor, AccessEntry, AccessQuery, AccessRecord, AccessSort,
    DataCategory,
};
use kapchart_store::accounts::{self, AccountError, TOKEN_LIFETIME};

macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn postgres() {
                let db = kapchart_testkit::postgres().await;
                super::$name(&db.url).await;
                db.cleanup().await;
            }

            #[tokio::test]
            async fn sqlite() {
                let db = kapchart_testkit::sqlite();
                super::$name(&db.url).await;
                db.cleanup().await;
            }
        }
    )*};
}

on_both_engines!(
    a_new_users_token_authenticates_as_that_user_and_role,
    unknown_expired_and_malformed_tokens_do_not_authenticate,
    disabling_a_user_revokes_every_token,
    a_second_add_of_the_same_id_writes_nothing,
    refused_changes_write_nothing,
    bootstrap_creates_one_admin_on_an_empty_database_only,
    concurrent_bootstraps_create_exactly_one_admin,
    only_token_hashes_are_stored,
    appends_chain_and_verify_clean,
    a_changed_entry_is_found_at_its_sequence,
    a_deleted_entry_is_found_at_the_next_sequence,
    swapped_entries_are_found_at_their_sequences,
    concurrent_appends_make_one_gapless_chain,
    list_filters_by_client_and_period,
    list_sorts_by_each_field,
    account_changes_are_in_the_access_log,
    invalid_entries_are_refused_and_write_nothing,
    append_all_chains_every_entry_or_none,
);

// ---------------------------------------------------------------------------
// Helpers

fn t(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, day, hour, 0, 0)
        .single()
        .expect("valid instant")
}

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}

fn client(id: &str) -> ClientId {
    ClientId::parse(id).expect("valid client id")
}

fn admin() -> AccessActor {
    AccessActor {
        user_id: user("a-0001"),
        role: Role::Admin,
    }
}

fn read(actor: &str, role: Role, client_id: &str, at: DateTime<Utc>) -> AccessEntry {
    AccessEntry {
        at,
        actor: AccessActor {
            user_id: user(actor),
            role,
        },
        action: AccessAction::Query,
        client_id: Some(client(client_id)),
        categories: vec![DataCategory::Notes, DataCategory::Dosing],
        source: format!("api GET /api/v1/clients/{client_id}/chart from 127.0.0.1"),
        purpose: "treatment".to_owned(),
    }
}

async fn open(url: &str) -> Database {
    Database::open(url).await.expect("database opens")
}

async fn exec(db: &Database, sql: &str) -> u64 {
    match db {
        Database::Postgres(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Database::Sqlite(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn count(db: &Database, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match db {
        Database::Postgres(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await,
    }
    .expect("counts")
}

async fn counts(db: &Database) -> [i64; 3] {
    [
        count(db, "users").await,
        count(db, "tokens").await,
        count(db, "access_log").await,
    ]
}

async fn all(db: &Database) -> Vec<AccessRecord> {
    access::list(db, &AccessQuery::default())
        .await
        .expect("lists")
}

/// (sequence, kind code) of every finding.
async fn findings(db: &Database) -> Vec<(u64, &'static str)> {
    access::verify(db)
        .await
        .expect("verify runs")
        .findings
        .iter()
        .map(|f| (f.sequence, f.kind.code()))
        .collect()
}

async fn five_reads(db: &Database) -> Vec<AccessRecord> {
    let mut out = Vec::new();
    for (i, c) in ["c-1", "c-2", "c-1", "c-3", "c-2"].into_iter().enumerate() {
        let hour = u32::try_from(i).expect("small") + 8;
        out.push(
            access::append(db, &read("t-0001", Role::Therapist, c, t(5, hour)))
                .await
                .expect("appends"),
        );
    }
    out
}

// ---------------------------------------------------------------------------
// Accounts and tokens

async fn a_new_users_token_authenticates_as_that_user_and_role(url: &str) {
    let db = open(url).await;
    let (account, issued) = accounts::add_user(
        &db,
        &user("t-0001"),
        Role::Therapist,
        Some("Ann Lee"),
        &admin(),
        t(5, 9),
    )
    .await
    .expect("adds");
    assert_eq!(account.user_id, user("t-0001"));
    assert_eq!(account.role, Role::Therapist);
    assert_eq!(account.display_name.as_deref(), Some("Ann Lee"));
    assert!(!account.disabled);
    assert_eq!(account.created_at, t(5, 9));
    assert!(issued.token.starts_with("kc_"), "token shape");
    assert_eq!(issued.token.len(), 46);
    assert_eq!(issued.expires_at, t(5, 9) + TOKEN_LIFETIME);

    accounts::add_user(
        &db,
        &user("p-0001"),
        Role::Prescriber,
        None,
        &admin(),
        t(5, 9),
    )
    .await
    .expect("adds another");

    let found = accounts::authenticate(&db, &issued.token, t(6, 9))
        .await
        .expect("authenticates")
        .expect("a known token");
    assert_eq!(found, account);

    // A second token works too, for the same account.
    let second = accounts::issue_token(&db, &user("t-0001"), &admin(), t(6, 9))
        .await
        .expect("issues");
    assert_ne!(second.token, issued.token);
    let again = accounts::authenticate(&db, &second.token, t(6, 10))
        .await
        .expect("authenticates")
        .expect("a known token");
    assert_eq!(again.user_id, user("t-0001"));

    let listed = accounts::list_users(&db).await.expect("lists");
    let ids: Vec<(&str, Role)> = listed
        .iter()
        .map(|a| (a.user_id.as_str(), a.role))
        .collect();
    assert_eq!(
        ids,
        [("p-0001", Role::Prescriber), ("t-0001", Role::Therapist)]
    );
}

async fn unknown_expired_and_malformed_tokens_do_not_authenticate(url: &str) {
    let db = open(url).await;
    let (_, issued) = accounts::add_user(
        &db,
        &user("f-0001"),
        Role::FrontDesk,
        None,
        &admin(),
        t(5, 9),
    )
    .await
    .expect("adds");
    let at = t(6, 9);
    // Same shape, unknown.
    let mut unknown = issued.token.clone();
    let last = if unknown.ends_with('A') { "B" } else { "A" };
    unknown.replace_range(45.., last);
    for token in [
        unknown.as_str(),
        "",
        "kc_",
        "Bearer x",
        &issued.token[3..],
        &format!("{} ", issued.token),
        &issued.token.to_uppercase(),
    ] {
        assert_eq!(
            accounts::authenticate(&db, token, at)
                .await
                .expect("answers"),
            None,
            "{token:?}"
        );
    }
    // Valid until, not at, its expiry.
    let just_before = issued.expires_at - Duration::microseconds(1);
    assert!(
        accounts::authenticate(&db, &issued.token, just_before)
            .await
            .expect("answers")
            .is_some()
    );
    for late in [issued.expires_at, issued.expires_at + Duration::days(1)] {
        assert_eq!(
            accounts::authenticate(&db, &issued.token, late)
                .await
                .expect("answers"),
            None,
            "expired at {late}"
        );
    }
}

async fn disabling_a_user_revokes_every_token(url: &str) {
    let db = open(url).await;
    let id = user("t-0002");
    let (_, first) = accounts::add_user(&db, &id, Role::Therapist, None, &admin(), t(5, 9))
        .await
        .expect("adds");
    let second = accounts::issue_token(&db, &id, &admin(), t(5, 10))
        .await
        .expect("issues");
    accounts::disable_user(&db, &id, &admin(), t(5, 11))
        .await
        .expect("disables");
    for token in [&first.token, &second.token] {
        assert_eq!(
            accounts::authenticate(&db, token, t(5, 12))
                .await
                .expect("answers"),
            None
        );
    }
    assert_eq!(
        count(&db, "tokens WHERE revoked_at IS NULL").await,
        0,
        "every token revoked"
    );
    let listed = accounts::list_users(&db).await.expect("lists");
    assert!(listed[0].disabled);

    let before = counts(&db).await;
    assert!(matches!(
        accounts::issue_token(&db, &id, &admin(), t(5, 12)).await,
        Err(AccountError::Disabled(u)) if u == id
    ));
    assert!(matches!(
        accounts::disable_user(&db, &id, &admin(), t(5, 12)).await,
        Err(AccountError::Disabled(u)) if u == id
    ));
    let nobody = user("nobody");
    assert!(matches!(
        accounts::issue_token(&db, &nobody, &admin(), t(5, 12)).await,
        Err(AccountError::UnknownUser(u)) if u == nobody
    ));
    assert!(matches!(
        accounts::disable_user(&db, &nobody, &admin(), t(5, 12)).await,
        Err(AccountError::UnknownUser(u)) if u == nobody
    ));
    assert_eq!(counts(&db).await, before, "refusals write nothing");
}

async fn a_second_add_of_the_same_id_writes_nothing(url: &str) {
    let db = open(url).await;
    let id = user("t-0003");
    let (_, issued) = accounts::add_user(&db, &id, Role::Therapist, None, &admin(), t(5, 9))
        .await
        .expect("adds");
    assert_eq!(counts(&db).await, [1, 1, 1]);
    let again =
        accounts::add_user(&db, &id, Role::Admin, Some("Someone"), &admin(), t(5, 10)).await;
    match again {
        Err(e @ AccountError::AlreadyExists(_)) => {
            assert!(e.is_user_error());
            assert_eq!(e.to_string(), "a user with id t-0003 already exists");
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(counts(&db).await, [1, 1, 1], "nothing written");
    let account = accounts::authenticate(&db, &issued.token, t(5, 11))
        .await
        .expect("answers")
        .expect("still valid");
    assert_eq!(account.role, Role::Therapist, "the role is unchanged");
}

async fn refused_changes_write_nothing(url: &str) {
    let db = open(url).await;
    let therapist = AccessActor {
        user_id: user("t-0001"),
        role: Role::Therapist,
    };
    let r = accounts::add_user(&db, &user("x-1"), Role::Admin, None, &therapist, t(5, 9)).await;
    assert!(
        matches!(r, Err(AccountError::NotAdmin(Role::Therapist))),
        "{r:?}"
    );
    for reserved in ["local-admin", "local-alice", "local-uid-1000", "system"] {
        let r =
            accounts::add_user(&db, &user(reserved), Role::Admin, None, &admin(), t(5, 9)).await;
        assert!(matches!(r, Err(AccountError::Reserved(_))), "{r:?}");
    }
    let r = accounts::add_user(
        &db,
        &user("x-2"),
        Role::Auditor,
        Some("Line\nbreak"),
        &admin(),
        t(5, 9),
    )
    .await;
    match r {
        Err(e @ AccountError::Invalid { field, .. }) => {
            assert_eq!(field, "display_name");
            assert!(!e.to_string().contains("Line"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let r = accounts::add_user_from(
        &db,
        &user("x-3"),
        Role::Auditor,
        None,
        &admin(),
        "  ",
        t(5, 9),
    )
    .await;
    assert!(
        matches!(
            r,
            Err(AccountError::Invalid {
                field: "source",
                ..
            })
        ),
        "{r:?}"
    );
    assert_eq!(counts(&db).await, [0, 0, 0]);
}

async fn bootstrap_creates_one_admin_on_an_empty_database_only(url: &str) {
    let db = open(url).await;
    let (account, issued) = accounts::bootstrap_admin(&db, t(5, 9))
        .await
        .expect("bootstraps")
        .expect("an empty database gets an admin");
    assert_eq!(account.user_id.as_str(), "admin");
    assert_eq!(account.role, Role::Admin);
    let found = accounts::authenticate(&db, &issued.token, t(5, 10))
        .await
        .expect("answers")
        .expect("the admin's token works");
    assert_eq!(found, account);
    assert!(
        accounts::bootstrap_admin(&db, t(5, 11))
            .await
            .expect("answers")
            .is_none()
    );
    assert_eq!(counts(&db).await, [1, 1, 1]);
    let log = all(&db).await;
    assert_eq!(log[0].entry.actor.user_id.as_str(), "system");
    assert_eq!(log[0].entry.action, AccessAction::Add);
    assert_eq!(log[0].entry.purpose, "accounts: add admin as admin");

    // A database with any user, admin or not, is not bootstrapped.
    exec(&db, "DELETE FROM tokens").await;
    exec(&db, "DELETE FROM users").await;
    accounts::add_user(&db, &user("t-9"), Role::Therapist, None, &admin(), t(5, 12))
        .await
        .expect("adds");
    assert!(
        accounts::bootstrap_admin(&db, t(5, 13))
            .await
            .expect("answers")
            .is_none()
    );
}

async fn concurrent_bootstraps_create_exactly_one_admin(url: &str) {
    // Separate pools, as two servers starting at once would have.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let db = open(url).await;
        tasks.push(tokio::spawn(async move {
            accounts::bootstrap_admin(&db, t(5, 9)).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        if task
            .await
            .expect("task ends")
            .expect("bootstraps")
            .is_some()
        {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let db = open(url).await;
    assert_eq!(counts(&db).await, [1, 1, 1]);
    assert!(access::verify(&db).await.expect("verifies").is_intact());
}

async fn only_token_hashes_are_stored(url: &str) {
    let db = open(url).await;
    let (_, first) = accounts::add_user(
        &db,
        &user("t-0004"),
        Role::Therapist,
        None,
        &admin(),
        t(5, 9),
    )
    .await
    .expect("adds");
    let second = accounts::issue_token(&db, &user("t-0004"), &admin(), t(5, 10))
        .await
        .expect("issues");
    let rows: Vec<(String, String, String, String, Option<String>)> = {
        let sql = "SELECT token_hash, user_id, created_at, expires_at, revoked_at FROM tokens \
                   ORDER BY created_at";
        match &db {
            Database::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
            Database::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
        }
        .expect("reads")
    };
    assert_eq!(rows.len(), 2);
    for (row, issued) in rows.iter().zip([&first, &second]) {
        assert_eq!(row.0, Hash::sha256(issued.token.as_bytes()).to_hex());
        let columns = [&row.0, &row.1, &row.2, &row.3];
        for token in [&first.token, &second.token] {
            let secret = &token[3..];
            assert!(
                columns.iter().all(|c| !c.contains(secret)),
                "a token is stored in plaintext"
            );
        }
    }
    // Nor anywhere in the access log.
    for record in all(&db).await {
        let text = serde_json::to_string(&record).expect("json");
        assert!(!text.contains(&first.token[3..]) && !text.contains(&second.token[3..]));
    }
}

// ---------------------------------------------------------------------------
// The access log

async fn appends_chain_and_verify_clean(url: &str) {
    let db = open(url).await;
    let report = access::verify(&db).await.expect("verifies");
    assert_eq!(report.entries, 0);
    assert_eq!(report.head, None);
    assert!(report.is_intact());

    let appended = five_reads(&db).await;
    let stored = all(&db).await;
    assert_eq!(stored, appended, "what append returned is what is stored");
    let mut prev = "0".repeat(64);
    for (i, r) in stored.iter().enumerate() {
        assert_eq!(r.sequence, i as u64 + 1);
        assert_eq!(r.prev_hash, prev, "link of {}", r.sequence);
        let bytes = canonical_json(&r.to_hashed_json()).expect("canonical");
        assert_eq!(r.hash, Hash::sha256(&bytes).to_hex());
        // Categories are stored sorted by name.
        assert_eq!(
            r.entry.categories,
            [DataCategory::Dosing, DataCategory::Notes]
        );
        prev = r.hash.clone();
    }
    let report = access::verify(&db).await.expect("verifies");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, 5);
    let head = report.head.expect("a head");
    assert_eq!((head.sequence, head.hash), (5, prev));
}

async fn a_changed_entry_is_found_at_its_sequence(url: &str) {
    let db = open(url).await;
    five_reads(&db).await;
    assert_eq!(
        exec(
            &db,
            "UPDATE access_log SET purpose = 'payment' WHERE sequence = 2"
        )
        .await,
        1
    );
    assert_eq!(findings(&db).await, [(2, "hash_mismatch")]);
    let report = access::verify(&db).await.expect("verifies");
    assert!(!report.is_intact());
    assert!(
        report.findings[0]
            .to_string()
            .starts_with("access log sequence 2: hash_mismatch"),
        "{}",
        report.findings[0]
    );
    // The time, the client and the categories are hashed too.
    exec(
        &db,
        "UPDATE access_log SET purpose = 'treatment' WHERE sequence = 2",
    )
    .await;
    assert_eq!(findings(&db).await, []);
    for (sql, sequence) in [
        (
            "UPDATE access_log SET at = '2026-01-05T07:00:00.000000Z' WHERE sequence = 1",
            1,
        ),
        (
            "UPDATE access_log SET client_id = 'c-9' WHERE sequence = 3",
            3,
        ),
        (
            "UPDATE access_log SET categories = 'dosing' WHERE sequence = 4",
            4,
        ),
    ] {
        exec(&db, sql).await;
        assert!(
            findings(&db).await.contains(&(sequence, "hash_mismatch")),
            "{sql}"
        );
    }
}

async fn a_deleted_entry_is_found_at_the_next_sequence(url: &str) {
    let db = open(url).await;
    five_reads(&db).await;
    assert_eq!(
        exec(&db, "DELETE FROM access_log WHERE sequence = 3").await,
        1
    );
    assert_eq!(
        findings(&db).await,
        [(4, "sequence_gap"), (4, "broken_link")]
    );
    // The first entry gone: the chain has no genesis.
    exec(&db, "DELETE FROM access_log WHERE sequence = 1").await;
    assert!(findings(&db).await.contains(&(2, "first_not_genesis")));
}

async fn swapped_entries_are_found_at_their_sequences(url: &str) {
    let db = open(url).await;
    five_reads(&db).await;
    exec(
        &db,
        "UPDATE access_log SET sequence = 1000 WHERE sequence = 3",
    )
    .await;
    exec(&db, "UPDATE access_log SET sequence = 3 WHERE sequence = 2").await;
    exec(
        &db,
        "UPDATE access_log SET sequence = 2 WHERE sequence = 1000",
    )
    .await;
    let found = findings(&db).await;
    for expected in [
        (2, "hash_mismatch"),
        (2, "broken_link"),
        (3, "hash_mismatch"),
        (3, "broken_link"),
        (4, "broken_link"),
    ] {
        assert!(found.contains(&expected), "{expected:?} in {found:?}");
    }
    assert!(found.iter().all(|(s, _)| (2..=4).contains(s)), "{found:?}");
}

async fn concurrent_appends_make_one_gapless_chain(url: &str) {
    let db = open(url).await;
    let mut tasks = Vec::new();
    for i in 0..20_u32 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let entry = read("t-0001", Role::Therapist, &format!("c-{i}"), t(5, 9));
            access::append(&db, &entry).await
        }));
    }
    let mut sequences = Vec::new();
    for task in tasks {
        sequences.push(task.await.expect("task ends").expect("appends").sequence);
    }
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=20).collect::<Vec<u64>>());
    let report = access::verify(&db).await.expect("verifies");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, 20);
    let stored = all(&db).await;
    let mut clients: Vec<&str> = stored
        .iter()
        .filter_map(|r| r.entry.client_id.as_ref().map(ClientId::as_str))
        .collect();
    clients.sort_unstable();
    clients.dedup();
    assert_eq!(clients.len(), 20, "every append stored once");
}

async fn list_filters_by_client_and_period(url: &str) {
    let db = open(url).await;
    let midnight = Utc
        .with_ymd_and_hms(2026, 1, 6, 0, 0, 0)
        .single()
        .expect("valid");
    let last_micro = Utc
        .with_ymd_and_hms(2026, 1, 6, 23, 59, 59)
        .single()
        .expect("valid")
        + Duration::microseconds(999_999);
    for (c, at) in [
        ("c-1", t(5, 23)),
        ("c-1", midnight),
        ("c-2", t(6, 12)),
        ("c-1", last_micro),
        ("c-1", t(7, 0)),
    ] {
        access::append(&db, &read("t-0001", Role::Therapist, c, at))
            .await
            .expect("appends");
    }
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 1, d);
    let sequences = |q: AccessQuery| {
        let db = db.clone();
        async move {
            access::list(&db, &q)
                .await
                .expect("lists")
                .iter()
                .map(|r| r.sequence)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        sequences(AccessQuery {
            client: Some(client("c-1")),
            ..AccessQuery::default()
        })
        .await,
        [1, 2, 4, 5]
    );
    assert_eq!(
        sequences(AccessQuery {
            from: day(6),
            to: day(6),
            ..AccessQuery::default()
        })
        .await,
        [2, 3, 4]
    );
    assert_eq!(
        sequences(AccessQuery {
            client: Some(client("c-1")),
            from: day(6),
            to: day(6),
            ..AccessQuery::default()
        })
        .await,
        [2, 4]
    );
    assert_eq!(
        sequences(AccessQuery {
            from: day(7),
            ..AccessQuery::default()
        })
        .await,
        [5]
    );
    assert_eq!(
        sequences(AccessQuery {
            to: day(5),
            ..AccessQuery::default()
        })
        .await,
        [1]
    );
    assert_eq!(
        sequences(AccessQuery {
            client: Some(client("c-404")),
            ..AccessQuery::default()
        })
        .await,
        Vec::<u64>::new()
    );

    // The practice's local days: in Los Angeles (UTC-8 in January) 6
    // January runs from 08:00 UTC on the 6th to 08:00 UTC on the 7th.
    let la = kapchart_domain::TimeZoneName::parse("America/Los_Angeles").expect("a zone");
    let local = |from: Option<NaiveDate>, to: Option<NaiveDate>| {
        let db = db.clone();
        async move {
            let q = AccessQuery {
                from,
                to,
                ..AccessQuery::default()
            };
            access::list_in_zone(&db, &q, la)
                .await
                .expect("lists")
                .iter()
                .map(|r| r.sequence)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(local(day(6), day(6)).await, [3, 4, 5]);
    assert_eq!(local(day(5), day(5)).await, [1, 2]);
    assert_eq!(local(None, day(5)).await, [1, 2]);
}

async fn list_sorts_by_each_field(url: &str) {
    let db = open(url).await;
    let entries = [
        // Appended out of time order on purpose.
        AccessEntry {
            purpose: "treatment".into(),
            ..read("t-0002", Role::Therapist, "c-2", t(7, 9))
        },
        AccessEntry {
            action: AccessAction::Export,
            categories: vec![DataCategory::Billing],
            source: "cli export".into(),
            purpose: "audit".into(),
            ..read("a-0009", Role::Auditor, "c-3", t(5, 9))
        },
        AccessEntry {
            action: AccessAction::Print,
            categories: vec![DataCategory::Demographics],
            purpose: "payment".into(),
            ..read("f-0001", Role::FrontDesk, "c-1", t(6, 9))
        },
        AccessEntry {
            action: AccessAction::Change,
            client_id: None,
            categories: vec![DataCategory::Accounts],
            source: "cli user disable".into(),
            purpose: "operations".into(),
            ..read("local-admin", Role::Admin, "c-1", t(8, 9))
        },
    ];
    for e in &entries {
        access::append(&db, e).await.expect("appends");
    }
    let order = |sort: AccessSort| {
        let db = db.clone();
        async move {
            access::list(
                &db,
                &AccessQuery {
                    sort,
                    ..AccessQuery::default()
                },
            )
            .await
            .expect("lists")
            .iter()
            .map(|r| r.sequence)
            .collect::<Vec<_>>()
        }
    };
    let cases: [(AccessSort, [u64; 4]); 8] = [
        (AccessSort::Time, [2, 3, 1, 4]),
        (AccessSort::Client, [4, 3, 1, 2]),
        (AccessSort::User, [2, 3, 4, 1]),
        (AccessSort::Role, [4, 2, 3, 1]),
        (AccessSort::Action, [4, 2, 3, 1]),
        (AccessSort::Category, [4, 2, 3, 1]),
        (AccessSort::Source, [3, 1, 2, 4]),
        (AccessSort::Purpose, [2, 4, 3, 1]),
    ];
    for (sort, expected) in cases {
        assert_eq!(order(sort).await, expected, "{sort:?}");
    }
    assert_eq!(AccessSort::default(), AccessSort::Time);

    // Filtered by user (7.1.7), alone and with a client, in any order.
    let of = |user_id: &str, client_id: Option<&str>, sort: AccessSort| {
        let db = db.clone();
        let q = AccessQuery {
            user: Some(user(user_id)),
            client: client_id.map(client),
            sort,
            ..AccessQuery::default()
        };
        async move {
            access::list(&db, &q)
                .await
                .expect("lists")
                .iter()
                .map(|r| r.sequence)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(of("a-0009", None, AccessSort::Time).await, [2]);
    assert_eq!(of("local-admin", None, AccessSort::Client).await, [4]);
    assert_eq!(of("f-0001", Some("c-1"), AccessSort::Source).await, [3]);
    assert_eq!(
        of("f-0001", Some("c-2"), AccessSort::Time).await,
        Vec::<u64>::new()
    );
    assert_eq!(
        of("t-0404", None, AccessSort::Time).await,
        Vec::<u64>::new()
    );
}

async fn account_changes_are_in_the_access_log(url: &str) {
    let db = open(url).await;
    let id = user("t-0005");
    accounts::add_user_from(
        &db,
        &id,
        Role::Therapist,
        Some("Ann Lee"),
        &admin(),
        "cli user add",
        t(5, 9),
    )
    .await
    .expect("adds");
    accounts::issue_token_from(&db, &id, &admin(), "cli user token", t(5, 10))
        .await
        .expect("issues");
    accounts::disable_user(&db, &id, &admin(), t(5, 11))
        .await
        .expect("disables");
    // A refused change leaves no entry.
    let _ = accounts::disable_user(&db, &id, &admin(), t(5, 12)).await;
    let log = all(&db).await;
    let got: Vec<(AccessAction, &str, &str)> = log
        .iter()
        .map(|r| {
            (
                r.entry.action,
                r.entry.source.as_str(),
                r.entry.purpose.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                AccessAction::Add,
                "cli user add",
                "accounts: add t-0005 as therapist"
            ),
            (
                AccessAction::Change,
                "cli user token",
                "accounts: issue a token to t-0005"
            ),
            (
                AccessAction::Change,
                "unspecified",
                "accounts: disable t-0005 and revoke its tokens"
            ),
        ]
    );
    for r in &log {
        assert_eq!(r.entry.actor, admin());
        assert_eq!(r.entry.client_id, None);
        assert_eq!(r.entry.categories, [DataCategory::Accounts]);
        let text = serde_json::to_string(r).expect("json");
        assert!(!text.contains("Ann"), "no display name in the log: {text}");
    }
    assert!(access::verify(&db).await.expect("verifies").is_intact());
}

async fn invalid_entries_are_refused_and_write_nothing(url: &str) {
    let db = open(url).await;
    let good = read("t-0001", Role::Therapist, "c-1", t(5, 9));
    let cases: [(&str, AccessEntry); 4] = [
        (
            "purpose",
            AccessEntry {
                purpose: String::new(),
                ..good.clone()
            },
        ),
        (
            "purpose",
            AccessEntry {
                purpose: "treatment\r\nforged line".into(),
                ..good.clone()
            },
        ),
        (
            "source",
            AccessEntry {
                source: " ".into(),
                ..good.clone()
            },
        ),
        (
            "categories",
            AccessEntry {
                categories: vec![],
                ..good.clone()
            },
        ),
    ];
    for (field, entry) in cases {
        match access::append(&db, &entry).await {
            Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert_eq!(count(&db, "access_log").await, 0);
    access::append(&db, &good).await.expect("a good entry");
    assert_eq!(count(&db, "access_log").await, 1);
}

/// Several entries in one transaction (a report's reads): chained in
/// order; one invalid entry writes none of them.
async fn append_all_chains_every_entry_or_none(url: &str) {
    let db = open(url).await;
    let entries: Vec<AccessEntry> = ["c-1", "c-2", "c-3"]
        .iter()
        .map(|c| read("au-0001", Role::Auditor, c, t(6, 10)))
        .collect();
    let mut bad = entries.clone();
    bad[2].purpose = String::new();
    match access::append_all(&db, &bad).await {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "purpose"),
        other => panic!("{other:?}"),
    }
    assert_eq!(count(&db, "access_log").await, 0, "all or nothing");

    let records = access::append_all(&db, &entries).await.expect("appended");
    let sequences: Vec<u64> = records.iter().map(|r| r.sequence).collect();
    assert_eq!(sequences, [1, 2, 3]);
    assert_eq!(records[0].prev_hash, Hash::ZERO.to_hex());
    assert_eq!(records[1].prev_hash, records[0].hash);
    assert_eq!(records[2].prev_hash, records[1].hash);
    assert_eq!(all(&db).await, records);
    assert!(access::verify(&db).await.expect("verify").is_intact());
    assert!(
        access::append_all(&db, &[])
            .await
            .expect("nothing")
            .is_empty()
    );
    assert_eq!(count(&db, "access_log").await, 3);
}
