//! End to end: the real `kapchart` binary backs a practice up, restores
//! the backup into another database, and `verify --checkpoint` tells a
//! current backup from a stale one, on SQLite (the online backup API) and
//! on PostgreSQL (pg_dump and pg_restore). A SQLite backup taken while
//! `kapchart serve` takes commands restores to a database that verifies
//! intact.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

// Each engine's test makes its own target database: no on_both_engines.
#[allow(unused_macros)]
mod common;

use common::*;

fn register(client: &str) -> Value {
    json!({"RegisterClient": {
        "client_id": client,
        "name": "Alex Example",
        "date_of_birth": "1984-03-09",
        "therapist": "t-rivera",
    }})
}

fn outcome(score: i64) -> Value {
    json!({"RecordOutcomeMeasure": {
        "measure": {"instrument": "phq9", "score": score},
        "administered_on": "2025-11-03",
    }})
}

/// A password the tests put in the PostgreSQL URLs (the local server
/// trusts its clients, so it is not checked): it must never be shown.
const PASSWORD: &str = "kc-backup-secret-7f3";

/// `url` with [`PASSWORD`] as its password, unless it has one.
fn with_password(url: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("a PostgreSQL URL");
    if parsed.password().is_none() {
        parsed
            .set_password(Some(PASSWORD))
            .expect("a URL with a host");
    }
    parsed.into()
}

/// The checkpoint's `issued_at`.
fn issued_at(checkpoint: &Value) -> String {
    checkpoint["checkpoint"]["statement"]["issued_at"]
        .as_str()
        .expect("issued_at")
        .to_owned()
}

/// Asserts no output of `run` holds the test password.
fn no_password(run: &Run) {
    assert!(!run.all().contains(PASSWORD), "{run:#?}");
}

async fn stale_and_current_backups(env: &Env, target: &str) {
    let ext = if env.engine == "sqlite" { "db" } else { "dump" };
    let (b1, b2) = (format!("b1.{ext}"), format!("b2.{ext}"));
    let on_target = |args: &[&str]| {
        let mut all = vec!["--database-url", target];
        all.extend_from_slice(args);
        let run = env.run(&all);
        no_password(&run);
        run
    };

    // Two clients, a checkpoint, a backup.
    record(
        &env.url,
        &[
            (
                "client-a",
                "a1",
                "fd-jones",
                "front_desk",
                register("client-a"),
            ),
            ("client-a", "a2", "t-rivera", "therapist", outcome(14)),
            (
                "client-b",
                "b1",
                "fd-jones",
                "front_desk",
                register("client-b"),
            ),
            ("client-b", "b2", "t-rivera", "therapist", outcome(9)),
        ],
    )
    .await;
    let run = env.run(&["checkpoint"]).ok();
    env.write("cp1.json", &run.stdout);
    let t1 = issued_at(&run.json());
    let run = env.run(&["backup", &b1]).ok();
    no_password(&run);
    assert!(
        run.stdout.ends_with(&format!(
            " to {b1} (readable by its owner only): 4 events of 2 clients; its latest checkpoint is number 1, of {t1}\n"
        )),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains("the signing key (kapchart-signing.key) is not in the backup"),
        "{run:#?}"
    );
    assert_eq!(mode(&env.path(&b1)), 0o600);
    assert!(!env.path(&format!("{b1}.partial")).exists());
    // An existing backup is replaced only when asked.
    let run = env.run(&["backup", &b1]);
    run.fails_quietly(EX_USAGE, &[&b1, "exists", "--force"]);

    // More commands, a second checkpoint.
    record(
        &env.url,
        &[
            ("client-a", "a3", "t-rivera", "therapist", outcome(12)),
            ("client-a", "a4", "t-rivera", "therapist", outcome(10)),
            (
                "client-c",
                "c1",
                "fd-jones",
                "front_desk",
                register("client-c"),
            ),
        ],
    )
    .await;
    let run = env.run(&["checkpoint"]).ok();
    env.write("cp2.json", &run.stdout);
    let t2 = issued_at(&run.json());

    // The first backup restored into an empty database verifies intact.
    let run = on_target(&["restore", &b1]).ok();
    assert!(
        run.stdout
            .contains(": 4 events of 2 clients; its latest checkpoint is number 1")
            && run.stdout.ends_with("verified: intact\n"),
        "{run:#?}"
    );
    if env.engine == "sqlite" {
        assert_eq!(mode(&env.path("restored.db")), 0o600);
    }

    // Against the checkpoint it was taken after: current.
    let run = on_target(&["verify", "--checkpoint", "cp1.json"]).ok();
    assert_eq!(
        run.stdout.lines().next(),
        Some(
            format!(
                "This database holds everything the checkpoint of {t1} (number 1) covers (current): 2 clients at or past their checkpointed entry."
            )
            .as_str()
        ),
        "{run:#?}"
    );

    // Against the later checkpoint: stale, and what is missing by client.
    let run = on_target(&["verify", "--checkpoint", "cp2.json"]);
    run.fails(EX_FAILURE, &["not intact"]);
    let words: Vec<&str> = run
        .finding_lines()
        .into_iter()
        .filter(|l| !l.starts_with("ClientRecord/"))
        .collect();
    assert_eq!(
        words,
        [
            format!(
                "This database is behind the checkpoint of {t2} (number 2): it looks like a stale backup (rolled back). Missing 3 events of 2 clients, by client:"
            )
            .as_str(),
            "  client client-a: 2 events (sequence 3\u{2013}4)",
            "  client client-c: absent (all 1 event, sequence 1)",
            format!(
                "Anything recorded after {t2} is unknown to that checkpoint and may be missing too."
            )
            .as_str(),
        ],
        "{run:#?}"
    );
    let report = on_target(&["verify", "--checkpoint", "cp2.json", "--json"]).json();
    assert_eq!(report["checkpoint"]["status"], "behind", "{report:#}");
    assert_eq!(report["checkpoint"]["clients"], 3, "{report:#}");
    assert_eq!(
        report["checkpoint"]["missing"],
        json!([
            {"client": "client-a", "events": 2, "from_sequence": 3, "to_sequence": 4, "absent": false},
            {"client": "client-c", "events": 1, "from_sequence": 1, "to_sequence": 1, "absent": true},
        ]),
        "{report:#}"
    );

    // A database that holds a record is not overwritten unasked.
    on_target(&["restore", &b1]).fails_quietly(EX_USAGE, &["is not empty", "--force"]);

    // A current backup replaces it with --force, and is current.
    env.run(&["backup", &b2]).ok();
    let run = on_target(&["restore", "--force", &b2]).ok();
    assert!(
        run.stdout
            .contains(": 7 events of 3 clients; its latest checkpoint is number 2"),
        "{run:#?}"
    );
    let report = on_target(&["verify", "--checkpoint", "cp2.json", "--json"])
        .ok()
        .json();
    assert_eq!(report["checkpoint"]["status"], "current", "{report:#}");
    assert_eq!(report["checkpoint"]["missing"], json!([]), "{report:#}");

    // Each backup is in the source's access log, an export of every
    // record by the local user; the restored log holds the backup it came
    // from, then the restore.
    let about_all = |log: &Value| -> Vec<(String, String, String)> {
        log.as_array()
            .expect("an array")
            .iter()
            .filter(|e| {
                e["client_id"].is_null()
                    && e["source"].as_str().is_some_and(|s| s.starts_with("cli "))
            })
            .map(|e| {
                assert_eq!(e["user_id"], CLI_USER_ID, "{e}");
                assert_eq!(e["categories"], "billing;demographics;dosing;notes", "{e}");
                let field = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                (field("action"), field("source"), field("purpose"))
            })
            .collect()
    };
    let backup = (
        "export".to_owned(),
        "cli backup".to_owned(),
        "operations: a backup of every client's record".to_owned(),
    );
    let restore = (
        "change".to_owned(),
        "cli restore".to_owned(),
        "operations: every client's record restored from a backup".to_owned(),
    );
    let source_log = env
        .run(&["report", "access", "--format", "json"])
        .ok()
        .json();
    assert_eq!(about_all(&source_log), [backup.clone(), backup.clone()]);
    let restored_log = on_target(&["report", "access", "--format", "json"])
        .ok()
        .json();
    assert_eq!(about_all(&restored_log), [backup.clone(), backup, restore]);

    // A file that is no backup, or one of the other engine.
    env.write("notes.txt", "not a backup\n");
    on_target(&["restore", "notes.txt"]).fails_quietly(EX_USAGE, &["is not a kapchart backup"]);
    let (other_url, says) = if env.engine == "sqlite" {
        ("postgres://u:p@127.0.0.1:1/none", "is a SQLite backup")
    } else {
        ("sqlite://elsewhere.db", "is a PostgreSQL backup")
    };
    env.run(&["--database-url", other_url, "restore", &b1])
        .fails_quietly(EX_USAGE, &[says]);
}

#[tokio::test]
async fn stale_and_current_backups_sqlite() {
    let env = Env::sqlite();
    let target = format!("sqlite://{}", env.path("restored.db").display());
    stale_and_current_backups(&env, &target).await;
}

#[tokio::test]
async fn stale_and_current_backups_postgres() {
    let source = kapchart_testkit::postgres().await;
    let target = kapchart_testkit::postgres().await;
    let env = Env::postgres(&with_password(&source.url));
    stale_and_current_backups(&env, &with_password(&target.url)).await;
    source.cleanup().await;
    target.cleanup().await;
}

/// Commands sent most: a bound on the writer.
const MAX_COMMANDS: u64 = 3000;

/// How long any one wait may take.
const BOUND: Duration = Duration::from_secs(60);

/// `kapchart serve` on a fresh database: the process, its base URL and
/// the admin's token it prints on its first start. Its stderr is drained.
fn start_serve(env: &Env) -> (Child, String, String) {
    let mut cmd = env.command(&["serve", "--listen", "127.0.0.1:0"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("kapchart serve starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let (base, _) = wait_until_listening(&mut stderr);
    let mut admin = String::new();
    stdout.read_line(&mut admin).expect("the admin's token");
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (child, base, admin.trim().to_owned())
}

/// Through the running server, as the front desk: registers clients
/// `live-0`, `live-1`, ... one at a time until `stop` (or
/// [`MAX_COMMANDS`]), counting the acknowledged ones in `acknowledged`.
async fn register_until(
    base: String,
    admin: String,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicU64>,
) {
    let http = reqwest::Client::builder()
        .timeout(BOUND)
        .build()
        .expect("an HTTP client");
    add_user(&http, &base, &admin, "t-rivera", "therapist").await;
    let desk = add_user(&http, &base, &admin, "fd-jones", "front_desk").await;
    for k in 0..MAX_COMMANDS {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let client = format!("live-{k}");
        let response = http
            .post(format!("{base}/api/v1/clients/{client}/commands"))
            .bearer_auth(&desk)
            .json(&json!({ "id": format!("reg-{k}"), "body": register(&client) }))
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status().as_u16(), 200, "registering {client}");
        acknowledged.fetch_add(1, Ordering::SeqCst);
    }
}

/// Waits until `condition` holds, for at most [`BOUND`].
fn wait_for(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + BOUND;
    while !condition() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::yield_now();
    }
    true
}

/// `kapchart serve` takes commands, one after the other, while backups
/// are taken; a backup restores into a database that verifies intact and
/// holds the record as of one commit.
#[test]
fn a_sqlite_backup_taken_while_the_server_writes_restores_intact() {
    let env = Env::sqlite();
    let (mut server, base, admin) = start_serve(&env);
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(register_until(base, admin, stop, acknowledged));
        })
    };
    assert!(
        wait_for(|| acknowledged.load(Ordering::SeqCst) >= 20 || writer.is_finished()),
        "the server took commands"
    );
    // Backups until one ran from start to end while the server took
    // commands (a bounded number of tries).
    let mut taken = None;
    for attempt in 0..5 {
        let file = format!("live{attempt}.db");
        let before = acknowledged.load(Ordering::SeqCst);
        let run = env.run(&["backup", &file]).ok();
        let after = acknowledged.load(Ordering::SeqCst);
        if after > before {
            taken = Some((file, run.stdout, before, after));
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    writer.join().expect("the writer ends");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    assert_eq!(server.wait().expect("serve exits").code(), Some(EX_OK));
    let (file, said, before, after) = taken.expect("a backup ran while the server took commands");

    // Each registration is one event of one client; one command at a time
    // may have committed without its answer read yet.
    let copied: u64 = said
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the events backed up, in {said:?}"));
    eprintln!(
        "{file}: the server had acknowledged {before} commands before, {after} after; the copy holds {copied}"
    );
    assert!(
        (before..=after + 1).contains(&copied),
        "{before} <= {copied} <= {after} + 1"
    );
    assert!(
        said.contains(&format!("{copied} events of {copied} clients")),
        "{said}"
    );

    let target = format!("sqlite://{}", env.path("restored.db").display());
    let run = env.run(&["--database-url", &target, "restore", &file]).ok();
    assert!(
        run.stdout
            .contains(&format!(": {copied} events of {copied} clients; "))
            && run.stdout.ends_with("verified: intact\n"),
        "{run:#?}"
    );
    let report = env
        .run(&["--database-url", &target, "verify", "--json"])
        .ok()
        .json();
    assert_eq!(report["intact"], true, "{report:#}");
}

#[test]
fn nothing_is_backed_up_from_or_restored_out_of_what_is_not_a_database() {
    let env = Env::sqlite();
    // The database file does not exist yet: nothing is made.
    env.run(&["backup", "b.db"])
        .fails_quietly(EX_USAGE, &["no database file at", "practice.db"]);
    assert!(!env.path("b.db").exists() && !env.path("b.db.partial").exists());
    env.run(&["--database-url", "sqlite::memory:", "backup", "b.db"])
        .fails_quietly(EX_USAGE, &["in-memory"]);
    // A file with SQLite's header and nothing behind it is refused, and
    // the target is not created.
    let mut damaged = b"SQLite format 3\0".to_vec();
    damaged.extend([0xA5_u8; 200]);
    std::fs::write(env.path("damaged.db"), damaged).expect("written");
    env.run(&["restore", "damaged.db"])
        .fails_quietly(EX_FAILURE, &["damaged.db is damaged"]);
    assert!(!env.path("practice.db").exists());
}
