//! Commands through cqrs-es into the real stores: the events land with
//! their chain, refused commands leave nothing, and the record rebuilt from
//! the store is the one the handler decided on.

use kapchart_domain::*;
use kapchart_e2e::*;
use kapchart_store::audit::{VerifyOptions, verify};

async fn protocol_is_stored_with_an_intact_chain(url: &str) {
    let p = StoredPractice::open(url).await;
    p.treat("client-a", 0, 3).await;
    p.treat("client-b", 1, 1).await;

    // A refused command leaves no row.
    let before =
        p.db.repository(kapchart_store::system_clock())
            .events_of(kapchart_store::CLIENT_RECORD, "client-a", 0)
            .await
            .expect("load");
    let refused = p
        .run(
            "client-a",
            p.command(
                therapist(),
                exploration("x-bad", 40, Some(300), bp(120, 80)),
            ),
        )
        .await;
    assert!(refused.is_err());
    let after =
        p.db.repository(kapchart_store::system_clock())
            .events_of(kapchart_store::CLIENT_RECORD, "client-a", 0)
            .await
            .expect("load");
    assert_eq!(before, after);

    // Metadata carries who, which command and when it was recorded.
    let first = &after[0].stored.entry;
    assert_eq!(first.metadata["actor_role"], "front_desk");
    assert_eq!(first.metadata["command_id"], "cmd-1");
    assert_eq!(first.metadata["recorded_at"], "2026-01-05T20:00:00.000000Z");

    // The record loaded back from the store replays to the same phase.
    let mut record = ClientRecord::default();
    for e in &after {
        let event: ClientEvent =
            serde_json::from_value(e.stored.entry.payload.clone()).expect("event parses");
        cqrs_es::Aggregate::apply(&mut record, event);
    }
    assert_eq!(record.phase(), Phase::Protocol);
    assert_eq!(record.dosed_explorations(), 3);

    let report = verify(&p.db, &VerifyOptions::default(), &|_| {})
        .await
        .expect("verify runs");
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.aggregates, 2);
    assert_eq!(report.rows, after.len() as u64 + 8);
}

#[tokio::test]
async fn protocol_is_stored_with_an_intact_chain_postgres() {
    let db = kapchart_testkit::postgres().await;
    protocol_is_stored_with_an_intact_chain(&db.url).await;
    db.cleanup().await;
}

#[tokio::test]
async fn protocol_is_stored_with_an_intact_chain_sqlite() {
    let db = kapchart_testkit::sqlite();
    protocol_is_stored_with_an_intact_chain(&db.url).await;
    db.cleanup().await;
}
