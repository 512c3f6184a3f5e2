//! The auditor's pages over real HTTP on both engines: verification at a
//! glance (chains, checkpoint log, access log head), a client's complete
//! history with its hashes, links and amendments, the chart as of an
//! entry, the verifiable bundle and the checkpoint log as downloads, the
//! access log report (filtered, sorted, as CSV) and the compliance
//! reports (as pages and CSV); each view's access-log entries (or none);
//! other roles refused with nothing logged; tampering shown by client
//! and sequence.

use kapchart_audit::{Bundle, public_key_of, verify_bundle};
use kapchart_domain::{ClientId, Role, UserId};
use kapchart_e2e::api::{ApiApp, Staff, body};
use kapchart_e2e::pages::{Download, Page, PageClient};
use kapchart_e2e::*;
use kapchart_store::access::{AccessAction, AccessQuery, AccessRecord, AccessSort, DataCategory};
use kapchart_store::audit::CheckpointFile;
use kapchart_store::{CLIENT_RECORD, Database};
use serde_json::{Value, json};

on_both_engines!(
    verification_shows_chains_checkpoints_and_the_access_log_head,
    a_history_shows_every_entry_with_its_hashes_and_amendments,
    the_bundle_and_the_checkpoints_download,
    the_access_log_report_filters_sorts_and_downloads,
    the_compliance_reports_show_as_pages_and_csv,
    other_roles_are_refused_and_nothing_is_logged,
    tampering_is_shown_by_client_and_sequence,
);

/// The practice's checkpoint key (any fixed 32 bytes).
const SECRET: [u8; 32] = [7; 32];

fn register(client: &str, name: &str, therapist: &str) -> Value {
    json!({"RegisterClient": {
        "client_id": client,
        "name": name,
        "date_of_birth": "1985-03-14",
        "therapist": therapist,
        "prescriber": "rx-chen",
    }})
}

/// `client-1` (t-rivera's, referred to rx-chen) through assessment and
/// preparation on day 0 (entries 1–6), a dosed exploration on day 7
/// (entry 7: 150 mg, lot L-2026-01) and its amendment on day 8 (entry 8
/// amends 7); `client-2` (t-okafor's) registered on day 0. The clock is
/// left on day 8, 20:00 UTC (the practice's time zone is UTC).
async fn practice(app: &ApiApp, s: &Staff) {
    app.on(0);
    app.commands_ok(
        CLIENT,
        &[
            (
                &s.front_desk,
                "c-1",
                register(CLIENT, "Alex Example", "t-rivera"),
            ),
            (
                &s.therapist,
                "c-2",
                body(intake(
                    "intake-1",
                    span(0, 9, 10),
                    kapchart_domain::Suitability::Suitable,
                )),
            ),
            (
                &s.prescriber,
                "c-3",
                body(medical(date(0), kapchart_domain::Clearance::Cleared)),
            ),
            (&s.prescriber, "c-4", body(standard_prescription("rx-1"))),
            (&s.therapist, "c-5", body(consent(date(0)))),
            (
                &s.therapist,
                "c-6",
                body(preparation("prep-1", span(0, 10, 11))),
            ),
        ],
    )
    .await;
    app.commands_ok(
        "client-2",
        &[(
            &s.front_desk,
            "d-1",
            register("client-2", "Blair Sample", "t-okafor"),
        )],
    )
    .await;
    app.on(7);
    app.commands_ok(
        CLIENT,
        &[(
            &s.therapist,
            "c-7",
            body(exploration("expl-1", 7, Some(150), bp(134, 86))),
        )],
    )
    .await;
    app.on(8);
    app.commands_ok(CLIENT, &[(&s.therapist, "c-8", body(amend(7)))])
        .await;
}

/// The integration of expl-1 held on day 15, past the 7-day window, with
/// the override a late integration needs (its reason starts like a
/// spreadsheet formula): entry 9, a protocol finding.
async fn late_integration(app: &ApiApp, s: &Staff) {
    app.on(15);
    let request = json!({
        "id": "c-9",
        "overrides": [{"rule": "integration.late", "reason": "=SUM(1,2) client was ill"}],
        "body": body(integration("integ-1", span(15, 10, 11), "expl-1")),
    });
    let reply = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/clients/{CLIENT}/commands"),
            Some(&s.therapist),
            Some(serde_json::to_vec(&request).expect("json")),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// Checkpoint `issued_at` (RFC 3339 UTC), as an admin issues one.
async fn checkpoint(app: &ApiApp, issued_at: &str) -> CheckpointFile {
    kapchart_store::audit::checkpoint(&app.db, &SECRET, issued_at)
        .await
        .unwrap_or_else(|e| panic!("checkpoint refused: {e}"))
}

/// The access log, oldest first.
async fn log(app: &ApiApp) -> Vec<AccessRecord> {
    kapchart_store::access::list(&app.db, &AccessQuery::default())
        .await
        .expect("access log")
}

/// Gets `path` as `browser` and returns the page with the access-log
/// entries it appended.
async fn viewed(app: &ApiApp, browser: &PageClient, path: &str) -> (Page, Vec<AccessRecord>) {
    let before = log(app).await.len();
    let page = browser.get(path).await;
    let after = log(app).await;
    (page, after.into_iter().skip(before).collect())
}

/// Downloads `path` as `browser` and returns the reply with the
/// access-log entries it appended.
async fn got(app: &ApiApp, browser: &PageClient, path: &str) -> (Download, Vec<AccessRecord>) {
    let before = log(app).await.len();
    let download = browser.download(path).await;
    let after = log(app).await;
    (download, after.into_iter().skip(before).collect())
}

/// Asserts `entries` is one entry by au-smith about `client` with
/// `action`, whose source is the page's request.
#[track_caller]
fn one_entry(entries: &[AccessRecord], client: &str, action: AccessAction, path: &str) {
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let e = &entries[0].entry;
    assert_eq!(e.client_id.as_ref().map(ClientId::as_str), Some(client));
    assert_eq!(e.action, action);
    assert_eq!(e.actor.user_id.as_str(), "au-smith");
    assert_eq!(e.purpose, "audit");
    assert!(
        e.source.starts_with(&format!("web GET {path} from ")),
        "{}",
        e.source
    );
}

/// Stored entries of `client`: (sequence, hash, prev_hash) as hex.
async fn hashes(app: &ApiApp, client: &str) -> Vec<(u64, String, String)> {
    app.db
        .repository(kapchart_store::system_clock())
        .events_of(CLIENT_RECORD, client, 0)
        .await
        .expect("rows load")
        .into_iter()
        .map(|e| {
            (
                e.stored.entry.sequence,
                e.stored.hash.to_hex(),
                e.stored.entry.prev_hash.to_hex(),
            )
        })
        .collect()
}

/// Plain SQL, as an attacker with database access runs it.
async fn sql(app: &ApiApp, postgres: &str, sqlite: &str) -> u64 {
    match &app.db {
        Database::Postgres(pool) => sqlx::query(postgres)
            .execute(pool)
            .await
            .expect("the SQL runs")
            .rows_affected(),
        Database::Sqlite(pool) => sqlx::query(sqlite)
            .execute(pool)
            .await
            .expect("the SQL runs")
            .rows_affected(),
    }
}

async fn verification_shows_chains_checkpoints_and_the_access_log_head(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    practice(&app, &s).await;
    let auditor = app.browser("au-smith", "audit").await;

    // Before any checkpoint.
    let (page, logged) = viewed(&app, &auditor, "/audit").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(
        logged.is_empty(),
        "verification reads no record: {logged:#?}"
    );
    page.shows("<h1>Verification</h1>")
        .shows("<strong>Intact.</strong>")
        .shows("9 entries of 2 clients read and hashed again.")
        .shows("No checkpoint has been issued yet.")
        .shows("2 histories have entries that no checkpoint holds yet.")
        .shows(r#"<a href="/audit/clients/client-1">client-1</a>"#)
        .shows(r#"<a href="/audit" aria-current="page">Verification</a>"#)
        .hides("What failed");
    let client_1 = hashes(&app, CLIENT).await;
    page.shows(&format!("<code>{}</code>", client_1[7].1));

    // A checkpoint, then one more entry for client-1.
    let first = checkpoint(&app, "2026-01-13T21:00:00Z").await;
    late_integration(&app, &s).await;
    // A week later: the first session has gone idle.
    let auditor = app.browser("au-smith", "audit").await;
    let page = auditor.get("/audit").await;
    let root = first.checkpoint.statement.root_hash.to_hex();
    page.shows("<strong>Intact.</strong>")
        .shows("1 history has entries that no checkpoint holds yet.")
        .shows("13 Jan 2026, 21:00")
        .shows(&format!("<code>{root}</code>"))
        .shows(&format!("<code>{}</code>", first.public_key))
        .shows(&format!(
            "<code>{}</code>",
            first.checkpoint.statement.key_id
        ))
        .shows("<td class=\"num\">2</td>")
        .shows("<td>Not yet</td>")
        .shows("<td>Yes</td>");
    // The access log's head as verification reads it.
    let access = kapchart_store::access::verify(&app.db)
        .await
        .expect("verifies");
    let head = access.head.expect("a head");
    page.shows(&format!(
        "entry {}, hash <code>{}</code>",
        head.sequence, head.hash
    ));
    assert_eq!(head.sequence, log(&app).await.len() as u64);
    app.stop().await;
}

async fn a_history_shows_every_entry_with_its_hashes_and_amendments(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    practice(&app, &s).await;
    let auditor = app.browser("au-smith", "audit").await;

    // Found by id from the verification page.
    let found = auditor.get("/audit/clients?client=client-1").await;
    assert_eq!(found.status, 303);
    assert_eq!(found.location.as_deref(), Some("/audit/clients/client-1"));
    let bad = auditor.get("/audit/clients?client=not%20an%20id").await;
    assert_eq!(bad.status, 400);
    bad.shows("client:");

    let path = "/audit/clients/client-1";
    let (page, logged) = viewed(&app, &auditor, path).await;
    assert_eq!(page.status, 200, "{}", page.html);
    one_entry(&logged, CLIENT, AccessAction::Query, path);
    assert_eq!(
        logged[0].entry.categories,
        [
            DataCategory::Billing,
            DataCategory::Demographics,
            DataCategory::Dosing,
            DataCategory::Notes
        ]
    );
    page.shows("<h1>Complete history of client-1</h1>")
        .shows("Every entry's hash matches its content and links to the entry before.")
        .shows("Entry 1: Client registered")
        .shows("Entry 7: Exploration recorded")
        .shows("<code>ExplorationRecorded</code>")
        .shows("<dd>12 Jan 2026, 20:00</dd>")
        .shows("<dd>t-rivera (Therapist)</dd>")
        .shows("<dd>fd-jones (Front desk)</dd>")
        .shows("links to the start of the history")
        .shows("links to entry 6")
        // The amendment beside the entry it amends, and in its own place.
        .shows(r##"<a href="#entry-8">Amended by entry 8</a>, 13 Jan 2026, 20:00, by t-rivera (Therapist). Reason: transcription error."##)
        .shows(r##"<dt>Amends</dt><dd><a href="#entry-7">entry 7</a></dd>"##)
        .shows("L-2026-01")
        .shows("No checkpoint holds this client's history yet")
        .hides("bundle.json");
    for (sequence, hash, prev_hash) in hashes(&app, CLIENT).await {
        page.shows(&format!("id=\"entry-{sequence}\""))
            .shows(&format!("<code>{hash}</code> (matches its content)"))
            .shows(&format!("<code>{prev_hash}</code>: links to"));
    }

    // The chart as it stood after entry 7: logged with its moment.
    let as_of = "/clients/client-1?as_of=2026-01-12T20%3A00%3A00";
    page.shows(&format!("href=\"{as_of}\""));
    let (chart, logged) = viewed(&app, &auditor, as_of).await;
    assert_eq!(chart.status, 200, "{}", chart.html);
    chart.shows("150 mg");
    assert_eq!(logged.len(), 1);
    assert!(
        logged[0]
            .entry
            .source
            .starts_with("web GET /clients/client-1?as_of=2026-01-12T20:00:00Z from "),
        "{}",
        logged[0].entry.source
    );

    // Unknown and malformed clients: nothing logged.
    let (missing, logged) = viewed(&app, &auditor, "/audit/clients/client-404").await;
    assert_eq!(missing.status, 404);
    assert!(logged.is_empty());
    let (bad, logged) = viewed(&app, &auditor, "/audit/clients/bad%20id").await;
    assert_eq!(bad.status, 400);
    bad.shows("client id in the address");
    assert!(logged.is_empty());
    app.stop().await;
}

async fn the_bundle_and_the_checkpoints_download(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    practice(&app, &s).await;
    let auditor = app.browser("au-smith", "audit").await;
    let bundle_path = "/audit/clients/client-1/bundle.json";

    // No checkpoint holds client-1: no bundle, nothing logged.
    let (none, logged) = viewed(&app, &auditor, bundle_path).await;
    assert_eq!(none.status, 404, "{}", none.html);
    none.shows("no checkpoint holds this client");
    assert!(logged.is_empty());

    let file = checkpoint(&app, "2026-01-13T21:00:00Z").await;
    late_integration(&app, &s).await;
    // A week later: the first session has gone idle.
    let auditor = app.browser("au-smith", "audit").await;
    let page = auditor.get("/audit/clients/client-1").await;
    page.shows(&format!("href=\"{bundle_path}\""))
        .shows(
            "The bundle holds entries 1 to 8, as checkpoint 1 issued 13 Jan 2026, 21:00 holds them",
        )
        .shows("Entries after 8 join a bundle once a later checkpoint is issued.");

    // The bundle verifies under the practice's key; logged as an export.
    let (download, logged) = got(&app, &auditor, bundle_path).await;
    assert_eq!(download.page.status, 200, "{}", download.page.html);
    assert_eq!(download.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        download.disposition.as_deref(),
        Some("attachment; filename=\"bundle-client-1.json\"")
    );
    one_entry(&logged, CLIENT, AccessAction::Export, bundle_path);
    let bundle: Bundle = serde_json::from_str(&download.page.html).expect("a bundle");
    let report = verify_bundle(&bundle, &public_key_of(&SECRET)).expect("the bundle verifies");
    assert_eq!(report.entries, 8);
    assert_eq!(bundle.checkpoint, file.checkpoint);

    // The checkpoint log: not a record, not logged.
    let (checkpoints, logged) = got(&app, &auditor, "/audit/checkpoints.json").await;
    assert_eq!(checkpoints.page.status, 200);
    assert!(logged.is_empty());
    assert_eq!(
        checkpoints.disposition.as_deref(),
        Some("attachment; filename=\"checkpoints.json\"")
    );
    let log: Vec<CheckpointFile> =
        serde_json::from_str(&checkpoints.page.html).expect("checkpoints");
    assert_eq!(log, [file]);
    app.stop().await;
}

/// The entry numbers of an access log page, in the order shown.
fn sequences(page: &Page) -> Vec<u64> {
    page.html
        .split("<td class=\"num\">")
        .skip(1)
        .map(|rest| {
            rest[..rest.find('<').expect("a cell ends")]
                .parse()
                .expect("a number")
        })
        .collect()
}

async fn the_access_log_report_filters_sorts_and_downloads(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    practice(&app, &s).await;
    // Reads by three users, of two clients.
    let therapist = app.browser("t-rivera", "treatment").await;
    assert_eq!(therapist.get("/clients/client-1").await.status, 200);
    let desk = app.browser("fd-jones", "payment").await;
    assert_eq!(desk.get("/clients/client-2/billing").await.status, 200);
    let auditor = app.browser("au-smith", "audit").await;
    assert_eq!(auditor.get("/audit/clients/client-2").await.status, 200);
    let day = |d: &str| d.parse().ok();
    let period = "from=2026-01-05&to=2026-01-20";

    for sort in AccessSort::ALL {
        for (client, user) in [
            (None, None),
            (Some("client-2"), None),
            (None, Some("fd-jones")),
            (Some("client-1"), Some("t-rivera")),
        ] {
            let mut path = format!("/audit/access?{period}&sort={}", sort.as_str());
            for (k, v) in [("client", client), ("user", user)] {
                if let Some(v) = v {
                    path.push_str(&format!("&{k}={v}"));
                }
            }
            let (page, logged) = viewed(&app, &auditor, &path).await;
            assert_eq!(page.status, 200, "{path}: {}", page.html);
            assert!(logged.is_empty(), "the report is not logged: {logged:#?}");
            let expected: Vec<u64> = kapchart_store::access::list(
                &app.db,
                &AccessQuery {
                    client: client.map(|c| ClientId::parse(c).expect("id")),
                    user: user.map(|u| UserId::parse(u).expect("id")),
                    from: day("2026-01-05"),
                    to: day("2026-01-20"),
                    sort,
                },
            )
            .await
            .expect("lists")
            .iter()
            .map(|r| r.sequence)
            .collect();
            assert!(!expected.is_empty(), "{path}");
            assert_eq!(sequences(&page), expected, "{path}");
        }
    }
    // The sort links keep the filters; the sorted column says so.
    let page = auditor
        .get(&format!("/audit/access?{period}&user=fd-jones&sort=action"))
        .await;
    page.shows("<th scope=\"col\" aria-sort=\"ascending\"><a href=\"/audit/access?from=2026-01-05&#38;to=2026-01-20&#38;user=fd-jones&#38;sort=action\">Action")
        .shows("href=\"/audit/access?from=2026-01-05&#38;to=2026-01-20&#38;user=fd-jones&#38;sort=source\"")
        .shows("<option value=\"action\" selected>")
        .shows("web GET /clients/client-2/billing from ")
        .hides("t-rivera");

    // The CSV: the columns of `kapchart report access`, the same entries.
    let csv_path = format!("/audit/access.csv?{period}&client=client-1&sort=user");
    let (csv, logged) = got(&app, &auditor, &csv_path).await;
    assert_eq!(csv.page.status, 200);
    assert!(logged.is_empty());
    assert_eq!(csv.content_type.as_deref(), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.disposition.as_deref(),
        Some("attachment; filename=\"access-log-2026-01-05-2026-01-20.csv\"")
    );
    let mut reader = csv::Reader::from_reader(csv.page.html.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .expect("headers")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        headers,
        [
            "sequence",
            "at",
            "client_id",
            "user_id",
            "role",
            "action",
            "categories",
            "source",
            "purpose"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    let page = auditor
        .get(&format!("/audit/access?{period}&client=client-1&sort=user"))
        .await;
    let shown = sequences(&page);
    assert_eq!(
        rows.iter()
            .map(|r| r[0].parse::<u64>().expect("n"))
            .collect::<Vec<_>>(),
        shown
    );
    let therapist_row = rows.iter().find(|r| &r[3] == "t-rivera").expect("a row");
    assert_eq!(&therapist_row[2], "client-1");
    assert_eq!(&therapist_row[5], "query");
    assert!(
        therapist_row[1].ends_with('Z'),
        "UTC: {}",
        &therapist_row[1]
    );

    // Wrong fields are named; nothing is read.
    for (query, field) in [
        ("sort=size", "sort:"),
        ("user=no%20such%20user", "user:"),
        ("client=%3D1", "client:"),
        ("from=2026-02-01&to=2026-01-01", "from:"),
        ("from=yesterday", "from:"),
    ] {
        let page = auditor.get(&format!("/audit/access?{query}")).await;
        assert_eq!(page.status, 400, "{query}");
        page.shows(field);
    }
    app.stop().await;
}

async fn the_compliance_reports_show_as_pages_and_csv(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    practice(&app, &s).await;
    late_integration(&app, &s).await;
    let auditor = app.browser("au-smith", "audit").await;
    let period = "from=2026-01-05&to=2026-01-31";

    for (name, shows, categories) in [
        (
            "controlled-substances",
            vec![
                "<td>L-2026-01</td>",
                "href=\"/audit/clients/client-1#entry-7\"",
                "<td class=\"num\">150</td>",
                "Dose (mg)",
            ],
            vec![DataCategory::Demographics, DataCategory::Dosing],
        ),
        (
            "protocol",
            vec![
                "<td>Late integration</td>",
                "<td>Integration recorded</td>",
                "href=\"/audit/clients/client-1#entry-9\"",
                "<td>integration.late</td>",
                "=SUM(1,2) client was ill",
            ],
            vec![DataCategory::Demographics, DataCategory::Notes],
        ),
    ] {
        let path = format!("/audit/reports/{name}?{period}");
        let (page, logged) = viewed(&app, &auditor, &path).await;
        assert_eq!(page.status, 200, "{}", page.html);
        one_entry(&logged, CLIENT, AccessAction::Query, &path);
        assert_eq!(logged[0].entry.categories, categories);
        page.shows(r#"<a href="/audit/clients/client-1">client-1</a>"#)
            .shows("1 line, 5 January 2026 to 31 January 2026.")
            .shows(&format!(
                "href=\"/audit/reports/{name}.csv?from=2026-01-05&#38;to=2026-01-31\""
            ));
        for text in shows {
            page.shows(text);
        }

        // The CSV is the API's report, written as `kapchart report` writes it.
        let api = app
            .get(
                &s.auditor,
                &format!("/api/v1/reports/{name}?purpose=audit&{period}"),
            )
            .await;
        assert_eq!(api.status, 200, "{}", api.body);
        let columns: Vec<&str> = api.body["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c.as_str().expect("a name"))
            .collect();
        let rows = api.body["rows"].as_array().expect("rows");
        let mut expected = Vec::new();
        kapchart_views::spreadsheet::write_csv(
            &mut expected,
            &columns,
            rows.iter().map(|r| columns.iter().map(move |c| &r[*c])),
        )
        .expect("csv");
        let csv_path = format!("/audit/reports/{name}.csv?{period}");
        let (csv, logged) = got(&app, &auditor, &csv_path).await;
        assert_eq!(csv.page.status, 200);
        one_entry(&logged, CLIENT, AccessAction::Export, &csv_path);
        assert_eq!(csv.page.html.as_bytes(), expected.as_slice());
        assert_eq!(
            csv.disposition.as_deref(),
            Some(format!("attachment; filename=\"{name}-2026-01-05-2026-01-31.csv\"").as_str())
        );
        if name == "protocol" {
            assert!(
                csv.page.html.contains("'=SUM(1,2) client was ill"),
                "{}",
                csv.page.html
            );
        }
    }
    // A period with nothing in it.
    let empty = auditor
        .get("/audit/reports/controlled-substances?from=2026-03-01&to=2026-03-31")
        .await;
    empty.shows("No dose was given in this period.");
    let bad = auditor
        .get("/audit/reports/protocol?from=2026-02-01&to=2026-01-01")
        .await;
    assert_eq!(bad.status, 400);
    app.stop().await;
}

async fn other_roles_are_refused_and_nothing_is_logged(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    practice(&app, &s).await;
    checkpoint(&app, "2026-01-13T21:00:00Z").await;
    let auditor_only = [
        "/audit/clients?client=client-1",
        "/audit/clients/client-1",
        "/audit/clients/client-404",
        "/audit/clients/client-1/bundle.json",
        "/audit/access",
        "/audit/access.csv",
        "/audit/reports/controlled-substances",
        "/audit/reports/controlled-substances.csv",
        "/audit/reports/protocol",
        "/audit/reports/protocol.csv",
    ];
    let verification = ["/audit", "/audit/checkpoints.json"];
    let before = log(&app).await.len();
    for (id, role) in [
        ("t-rivera", Role::Therapist),
        ("rx-chen", Role::Prescriber),
        ("fd-jones", Role::FrontDesk),
        ("ad-root", Role::Admin),
    ] {
        let purpose = kapchart_web::session::default_purpose(role);
        let browser = app.browser(id, purpose.as_str()).await;
        for path in auditor_only {
            let page = browser.get(path).await;
            assert_eq!(page.status, 403, "{id} {path}: {}", page.html);
            page.shows("<h1>403 Forbidden</h1>")
                .hides("Complete history");
        }
        for path in verification {
            let page = browser.get(path).await;
            if role == Role::Admin {
                assert_eq!(page.status, 200, "{path}");
            } else {
                assert_eq!(page.status, 403, "{id} {path}");
            }
        }
        // The auditor's navigation is the auditor's.
        let home = browser.get("/account").await;
        home.hides("href=\"/audit/access\"");
    }
    // Admins verify, but open no history.
    let admin = app.browser("ad-root", "operations").await;
    admin
        .get("/audit")
        .await
        .shows("<strong>Intact.</strong>")
        .hides("href=\"/audit/clients/")
        .hides("/audit/access");
    assert_eq!(log(&app).await.len(), before, "nothing is logged");
    app.stop().await;
}

async fn tampering_is_shown_by_client_and_sequence(url: &str) {
    let app = ApiApp::spawn(url).await;
    let s = app.staff().await;
    practice(&app, &s).await;
    let auditor = app.browser("au-smith", "audit").await;
    assert_eq!(auditor.get("/audit/clients/client-2").await.status, 200);
    // 150 mg becomes 300 mg in client-1's exploration (entry 7), the
    // stored hash left as it was.
    let changed = sql(
        &app,
        "UPDATE events SET payload = jsonb_set(payload::jsonb, \
         '{ExplorationRecorded,administration,dose}', '300'::jsonb) \
         WHERE aggregate_id = 'client-1' AND sequence = 7",
        "UPDATE events SET payload = json_set(payload, \
         '$.ExplorationRecorded.administration.dose', 300) \
         WHERE aggregate_id = 'client-1' AND sequence = 7",
    )
    .await;
    assert_eq!(changed, 1);
    // And an access-log entry's purpose is rewritten.
    let target = log(&app).await.last().expect("an entry").sequence;
    let rewritten = sql(
        &app,
        &format!("UPDATE access_log SET purpose = 'operations' WHERE sequence = {target}"),
        &format!("UPDATE access_log SET purpose = 'operations' WHERE sequence = {target}"),
    )
    .await;
    assert_eq!(rewritten, 1);

    let page = auditor.get("/audit").await;
    assert_eq!(page.status, 200);
    page.shows("<strong>Not intact.</strong>")
        .shows("1 problem in clients' histories")
        .shows("<h2 id=\"failed\">What failed</h2>")
        .shows(r#"<a href="/audit/clients/client-1">client-1, entry 7</a>"#)
        .shows(
            "The entry was changed after it was recorded: its content no longer matches its hash.",
        )
        .shows("<code>hash_mismatch — stored hash")
        .shows(&format!("access log entry {target}"))
        .shows("<strong>Failed: 1 finding</strong>")
        .hides("client-2, entry");

    let history = auditor.get("/audit/clients/client-1").await;
    history
        .shows("<strong>1 entry does not verify</strong>")
        .shows("Entry 7: Exploration recorded <span class=\"badge flag\">Does not verify</span>")
        .shows("<strong>does not match its content</strong>")
        .shows("300");
    app.stop().await;
}
