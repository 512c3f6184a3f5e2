//! End to end (issue 10, item 8): the files kapchart writes that hold PHI
//! are readable and writable by their owner only (0600), like the signing
//! key: a SQLite database created by `migrate` (and its `-wal` and `-shm`
//! companions; `serve_command.rs` checks them while the server runs), an
//! existing looser one once kapchart opens it, and `export --output`.

#[macro_use]
mod common;

use std::os::unix::fs::PermissionsExt as _;

use common::*;

on_both_engines!(an_export_file_is_private_whether_new_or_not);

fn loosen(path: &std::path::Path) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
}

#[test]
fn a_new_sqlite_database_is_private() {
    let env = Env::sqlite();
    assert!(!env.path("practice.db").exists());
    env.run(&["migrate"]).ok();
    assert_eq!(mode(&env.path("practice.db")), 0o600);
}

#[test]
fn a_looser_sqlite_database_is_made_private_when_opened() {
    let env = Env::sqlite();
    env.run(&["migrate"]).ok();
    let db = env.path("practice.db");
    loosen(&db);
    // Companions left behind by an earlier, looser database.
    for name in ["practice.db-wal", "practice.db-shm"] {
        std::fs::write(env.path(name), b"").expect("write");
        loosen(&env.path(name));
    }
    assert_eq!(mode(&db), 0o644);
    env.run(&["verify"]).ok();
    assert_eq!(mode(&db), 0o600);
    // SQLite removes its companions when the last connection closes; any
    // left are private.
    for name in ["practice.db-wal", "practice.db-shm"] {
        let path = env.path(name);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }
}

async fn an_export_file_is_private_whether_new_or_not(env: &Env) {
    env.run(&["demo", "--clients", "1"]).ok();
    for format in ["bundle", "json"] {
        let new = env.path(&format!("new-{format}.json"));
        let new_arg = new.display().to_string();
        env.run(&[
            "export",
            "--client",
            "client-001",
            "--format",
            format,
            "--output",
            &new_arg,
        ])
        .ok();
        assert_eq!(mode(&new), 0o600, "{format}");
        // An existing, world-readable and longer file: replaced, private.
        let old = env.path(&format!("old-{format}.json"));
        std::fs::write(&old, "x".repeat(10_000_000)).expect("write");
        loosen(&old);
        let old_arg = old.display().to_string();
        env.run(&[
            "export",
            "--client",
            "client-001",
            "--format",
            format,
            "--output",
            &old_arg,
        ])
        .ok();
        assert_eq!(mode(&old), 0o600, "{format}");
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&old).expect("read"))
                .expect("the export, and nothing else");
        assert!(written.is_object() || written.is_array(), "{format}");
    }
}
