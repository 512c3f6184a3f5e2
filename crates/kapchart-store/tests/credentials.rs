//! The web sign-in's credentials on real databases (a fresh PostgreSQL
//! database and a fresh SQLite file per test), under concurrency: failed
//! attempts racing each other lock the account once, a pending sign-in
//! completed twice at once signs in once, a step is accepted once, and
//! only hashes of setup codes and pending secrets are stored.

use chrono::{DateTime, Duration, TimeZone, Utc};
use kapchart_domain::{Role, UserId};
use kapchart_store::Database;
use kapchart_store::access::{self, AccessAction, AccessActor, AccessQuery};
use kapchart_store::accounts::Account;
use kapchart_store::credentials::{
    self, CredentialError, Failure, LOCK_DURATION, MAX_FAILED_ATTEMPTS, Stage, pending,
};

macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let db = kapchart_testkit::postgres().await;
                super::$name(&db.url).await;
                db.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = kapchart_testkit::sqlite();
                super::$name(&db.url).await;
                db.cleanup().await;
            }
        }
    )*};
}

on_both_engines!(
    racing_failures_lock_the_account_once,
    a_pending_sign_in_completes_once,
    a_step_is_accepted_once_and_a_lock_ends_pending_sign_ins,
    only_hashes_of_codes_and_pending_secrets_are_stored,
);

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 20, minute, 0)
        .single()
        .expect("valid instant")
}

/// An account with a password and a second factor, ready to sign in.
async fn enrolled(db: &Database, id: &str) -> Account {
    let admin = AccessActor {
        user_id: UserId::parse("ad-root").expect("id"),
        role: Role::Admin,
    };
    let user = UserId::parse(id).expect("id");
    let (account, _, setup) = credentials::add_user_with_setup_code(
        db,
        &user,
        Role::Therapist,
        None,
        &admin,
        "test",
        at(0),
    )
    .await
    .expect("added");
    credentials::set_password_with_setup_code(db, &user, &setup.code, "$argon2id$x", "test", at(0))
        .await
        .expect("password set");
    let opened = pending::open(
        db,
        &user,
        Stage::Enroll,
        "treatment",
        Some("JBSWY3DPEHPK3PXP"),
        at(0),
    )
    .await
    .expect("pending");
    let found = pending::find(db, &opened.secret, at(0))
        .await
        .expect("readable")
        .expect("open");
    credentials::complete_sign_in(db, &found, &account, 100, "test", at(0))
        .await
        .expect("enrolled");
    account
}

async fn actions(db: &Database) -> Vec<AccessAction> {
    access::list(db, &AccessQuery::default())
        .await
        .expect("log")
        .into_iter()
        .map(|r| r.entry.action)
        .collect()
}

async fn racing_failures_lock_the_account_once(url: &str) {
    let db = Database::open(url).await.expect("opens");
    let account = enrolled(&db, "t-rivera").await;
    let racers = (0..8).map(|_| {
        let (db, account) = (db.clone(), account.clone());
        tokio::spawn(async move {
            credentials::record_failure(&db, Some(&account), Failure::WrongPassword, "test", at(1))
                .await
                .expect("recorded")
        })
    });
    let mut locks = Vec::new();
    for racer in racers.collect::<Vec<_>>() {
        locks.push(racer.await.expect("joins"));
    }
    let until = at(1) + LOCK_DURATION;
    assert!(
        locks.iter().all(|l| l.is_none() || *l == Some(until)),
        "{locks:?}"
    );
    let log = actions(&db).await;
    assert_eq!(
        log.iter().filter(|a| **a == AccessAction::Lock).count(),
        1,
        "{log:?}"
    );
    assert_eq!(
        log.iter()
            .filter(|a| **a == AccessAction::SignInFailed)
            .count(),
        8
    );
    let creds = credentials::find(&db, &account.user_id)
        .await
        .expect("readable")
        .expect("the account");
    assert_eq!(creds.locked_at(at(1)), Some(until));
    assert_eq!(creds.locked_at(until), None, "the lock ends");
    // The three after the fifth were refused as locked and not counted.
    assert_eq!(creds.failed_attempts, 0);
    let refused = access::list(&db, &AccessQuery::default())
        .await
        .expect("log")
        .into_iter()
        .filter(|r| r.entry.purpose == Failure::WhileLocked.purpose())
        .count();
    assert_eq!(
        refused,
        8 - usize::try_from(MAX_FAILED_ATTEMPTS).expect("small")
    );
    assert!(access::verify(&db).await.expect("verifies").is_intact());
    db.close().await;
}

async fn a_pending_sign_in_completes_once(url: &str) {
    let db = Database::open(url).await.expect("opens");
    let account = enrolled(&db, "t-rivera").await;
    let opened = pending::open(
        &db,
        &account.user_id,
        Stage::Verify,
        "treatment",
        None,
        at(2),
    )
    .await
    .expect("pending");
    let found = pending::find(&db, &opened.secret, at(2))
        .await
        .expect("readable")
        .expect("open");
    let racers: Vec<_> = (0..4)
        .map(|i| {
            let (db, account, found) = (db.clone(), account.clone(), found.clone());
            tokio::spawn(async move {
                credentials::complete_sign_in(&db, &found, &account, 200 + i, "test", at(2)).await
            })
        })
        .collect();
    let mut done = 0;
    for racer in racers {
        match racer.await.expect("joins") {
            Ok(()) => done += 1,
            Err(CredentialError::Stale) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(done, 1, "one sign-in");
    assert_eq!(
        pending::find(&db, &opened.secret, at(2))
            .await
            .expect("readable"),
        None,
        "used up"
    );
    let sign_ins = actions(&db)
        .await
        .into_iter()
        .filter(|a| *a == AccessAction::SignIn)
        .count();
    assert_eq!(sign_ins, 2, "the enrolment's and this one");
    db.close().await;
}

async fn a_step_is_accepted_once_and_a_lock_ends_pending_sign_ins(url: &str) {
    let db = Database::open(url).await.expect("opens");
    let account = enrolled(&db, "t-rivera").await;
    let verify = |minute| {
        let (db, user) = (db.clone(), account.user_id.clone());
        async move {
            let opened = pending::open(&db, &user, Stage::Verify, "audit", None, at(minute))
                .await
                .expect("pending");
            let found = pending::find(&db, &opened.secret, at(minute))
                .await
                .expect("readable")
                .expect("open");
            (opened, found)
        }
    };
    // Step 100 was the enrolment's: it and earlier ones are refused.
    for step in [99, 100] {
        let (_, found) = verify(3).await;
        assert!(matches!(
            credentials::complete_sign_in(&db, &found, &account, step, "test", at(3)).await,
            Err(CredentialError::Replayed)
        ));
    }
    let (_, found) = verify(3).await;
    credentials::complete_sign_in(&db, &found, &account, 101, "test", at(3))
        .await
        .expect("a later step");
    let creds = credentials::find(&db, &account.user_id)
        .await
        .expect("readable")
        .expect("the account");
    assert_eq!(creds.totp_last_step, Some(101));
    assert_eq!(creds.last_sign_in_at, Some(at(3)));
    assert_eq!(creds.previous_sign_in_at, Some(at(0)));

    // A lock ends every pending sign-in of the account.
    let (opened, _) = verify(4).await;
    for _ in 0..MAX_FAILED_ATTEMPTS {
        credentials::record_failure(&db, Some(&account), Failure::WrongCode, "test", at(4))
            .await
            .expect("recorded");
    }
    assert_eq!(
        pending::find(&db, &opened.secret, at(4))
            .await
            .expect("readable"),
        None
    );
    // Pending sign-ins expire after ten minutes.
    let (opened, _) = verify(5).await;
    assert!(
        pending::find(&db, &opened.secret, at(5) + Duration::minutes(10))
            .await
            .expect("readable")
            .is_none()
    );
    db.close().await;
}

async fn only_hashes_of_codes_and_pending_secrets_are_stored(url: &str) {
    let db = Database::open(url).await.expect("opens");
    let admin = AccessActor {
        user_id: UserId::parse("ad-root").expect("id"),
        role: Role::Admin,
    };
    let user = UserId::parse("fd-jones").expect("id");
    let (_, _, setup) = credentials::add_user_with_setup_code(
        &db,
        &user,
        Role::FrontDesk,
        None,
        &admin,
        "test",
        at(0),
    )
    .await
    .expect("added");
    let opened = pending::open(&db, &user, Stage::Verify, "payment", None, at(0))
        .await
        .expect("pending");
    const DUMP: &str = "SELECT COALESCE(setup_code_hash, '') FROM credentials \
                        UNION ALL SELECT pending_hash FROM sign_in_pending";
    let stored: Vec<String> = match &db {
        Database::Postgres(pool) => sqlx::query_scalar(DUMP).fetch_all(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(DUMP).fetch_all(pool).await,
    }
    .expect("dump");
    assert_eq!(stored.len(), 2);
    for value in &stored {
        assert_eq!(value.len(), 64, "a SHA-256: {value}");
        assert!(!value.contains(&setup.code[3..]) && !value.contains(&opened.secret[3..]));
    }
    db.close().await;
}
