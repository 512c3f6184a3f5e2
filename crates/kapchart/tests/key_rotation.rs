//! End to end: `kapchart checkpoint --rotate-key` with the real binary on
//! both engines: the new key replaces the key file (0600), the published
//! keys list both with their times, the old checkpoint still verifies and
//! the next is signed by the new key, under either key trusted; a key
//! file replaced by hand is refused; the rotation is in the access log.

use serde_json::{Value, json};

#[macro_use]
mod common;

use common::*;

on_both_engines!(rotating_the_key_keeps_every_checkpoint_verifiable);

async fn rotating_the_key_keeps_every_checkpoint_verifiable(env: &Env) {
    record(
        &env.url,
        &[(
            "client-a",
            "cmd-a1",
            "fd-jones",
            "front_desk",
            json!({"RegisterClient": {"client_id": "client-a", "name": "Alex Example",
                   "date_of_birth": "1984-03-09", "therapist": "t-rivera"}}),
        )],
    )
    .await;
    let first = env.run(&["checkpoint"]).ok().json();
    let old_key = first["public_key"].as_str().expect("key").to_owned();
    // Nothing is published before the first rotation.
    assert_eq!(
        env.run(&["checkpoint", "--list-keys"]).ok().json(),
        json!([])
    );

    let run = env.run(&["checkpoint", "--rotate-key"]).ok();
    assert!(run.stderr.contains("rotated the signing key"), "{run:#?}");
    let keys = run.json();
    let keys = keys.as_array().expect("an array");
    assert_eq!(keys.len(), 2, "{keys:#?}");
    assert_eq!(keys[0]["public_key"], old_key.as_str());
    assert_eq!(
        keys[0]["in_use_from"],
        first["checkpoint"]["statement"]["issued_at"]
    );
    assert_eq!(keys[0]["in_use_until"], keys[1]["in_use_from"]);
    assert_eq!(keys[1]["in_use_until"], Value::Null);
    assert_eq!(keys[1]["previous_key"], old_key.as_str());
    let new_key = keys[1]["public_key"].as_str().expect("key").to_owned();
    assert_ne!(new_key, old_key);
    assert_eq!(
        env.public_key(DEFAULT_KEY_FILE),
        new_key,
        "the file holds the new key"
    );
    assert_eq!(mode(&env.path(DEFAULT_KEY_FILE)), 0o600);

    // The next checkpoint is signed by the new key; everything verifies,
    // trusting either key.
    let second = env.run(&["checkpoint"]).ok().json();
    assert_eq!(second["public_key"], new_key.as_str());
    for trusted in [&new_key, &old_key] {
        let run = env.run(&["verify", "--public-key", trusted]).ok();
        assert!(
            run.stdout.contains(", 2 checkpoints and ") && run.stdout.ends_with(": intact\n"),
            "{run:#?}"
        );
    }
    // A key trusted that is none of them flags both.
    let stranger = "ab".repeat(32);
    env.run(&["verify", "--public-key", &stranger])
        .fails(EX_FAILURE, &["not intact"]);

    // A key file replaced by hand: checkpoints and rotations refused.
    std::fs::remove_file(env.path(DEFAULT_KEY_FILE)).expect("removed");
    env.run(&["checkpoint"])
        .fails(EX_FAILURE, &["not the published key in use"]);
    env.run(&["checkpoint", "--rotate-key"])
        .fails(EX_FAILURE, &["not the published key in use"]);
    assert_eq!(
        env.run(&["checkpoint", "--list-keys"])
            .ok()
            .json()
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // The rotation is in the access log, by the command line's user.
    let report = env
        .run(&["report", "access", "--format", "json"])
        .ok()
        .json();
    let rotations: Vec<&Value> = report
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| {
            r.to_string().contains("signing keys: rotate to key 2")
                && r.to_string().contains(CLI_USER_ID)
        })
        .collect();
    assert_eq!(rotations.len(), 1, "{report:#}");
}
