//! End to end, on both engines (issue 10): `kapchart report` is a read of
//! every client it shows, logged as the operating-system user before
//! anything is shown; CSV output never hands a spreadsheet a formula.

#[macro_use]
mod common;

use common::*;
use serde_json::{Value, json};

on_both_engines!(
    a_report_of_client_data_is_logged_as_the_os_user_before_it_is_shown,
    csv_reports_neutralize_formulas,
);

/// The access log, as `report access --format json` lists it.
/// The access log's entries about a client's record (the demo's account
/// changes left out).
fn access_log(env: &Env) -> Vec<Value> {
    env.run(&["report", "access", "--format", "json"])
        .ok()
        .json()
        .as_array()
        .expect("an array")
        .iter()
        .filter(|e| !e["client_id"].is_null())
        .cloned()
        .collect()
}

fn clients_in(report: &Value) -> Vec<String> {
    let mut clients: Vec<String> = report
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|r| r["client_id"].as_str().map(str::to_owned))
        .collect();
    clients.sort_unstable();
    clients.dedup();
    clients
}

async fn a_report_of_client_data_is_logged_as_the_os_user_before_it_is_shown(env: &Env) {
    env.run(&["demo", "--clients", "3", "--seed", "7"]).ok();
    assert!(access_log(env).is_empty(), "the demo reads nothing");

    // One client's superbill, on the terminal: a query, one entry.
    let superbill = [
        "report",
        "superbill",
        "--client",
        "client-001",
        "--from",
        "2025-01-01",
        "--to",
        "2027-12-31",
    ];
    let shown = env.run(&superbill).ok();
    assert!(shown.stdout.contains("client-001"), "{shown:#?}");
    let log = access_log(env);
    assert_eq!(log.len(), 1, "{log:#?}");
    let entry = &log[0];
    assert_eq!(entry["client_id"], "client-001");
    assert_eq!(entry["user_id"], CLI_USER_ID);
    assert_eq!(entry["role"], "admin");
    assert_eq!(entry["action"], "query");
    assert_eq!(entry["categories"], "billing;demographics");
    assert_eq!(
        entry["source"],
        "cli report superbill --client client-001 --from 2025-01-01 --to 2027-12-31"
    );
    assert_eq!(entry["purpose"], "operations");

    // Every client a CSV report shows: an export each, with the purpose
    // given, in one go.
    let billing = env
        .run(&[
            "report",
            "billing",
            "--format",
            "json",
            "--purpose",
            "payment",
        ])
        .ok()
        .json();
    let shown = clients_in(&billing);
    assert_eq!(shown.len(), 3, "{billing:#}");
    env.run(&[
        "report",
        "controlled-substances",
        "--format",
        "csv",
        "--purpose",
        "audit",
    ])
    .ok();
    let log = access_log(env);
    let billing_reads: Vec<&Value> = log
        .iter()
        .filter(|e| e["source"] == "cli report billing")
        .collect();
    let mut logged: Vec<String> = billing_reads
        .iter()
        .map(|e| e["client_id"].as_str().expect("a client").to_owned())
        .collect();
    logged.sort_unstable();
    assert_eq!(logged, shown, "one entry per client shown");
    assert!(
        billing_reads
            .iter()
            .all(|e| e["action"] == "export" && e["purpose"] == "payment")
    );
    let dosing: Vec<&Value> = log
        .iter()
        .filter(|e| e["source"] == "cli report controlled-substances")
        .collect();
    assert!(!dosing.is_empty(), "{log:#?}");
    assert!(
        dosing
            .iter()
            .all(|e| e["categories"] == "demographics;dosing" && e["action"] == "export")
    );

    // A report that shows no client logs nothing; nor does the access
    // report, which takes no purpose.
    let before = access_log(env).len();
    env.run(&[
        "report",
        "billing",
        "--from",
        "1990-01-01",
        "--to",
        "1990-12-31",
    ])
    .ok();
    assert_eq!(access_log(env).len(), before);
    env.run(&["report", "access", "--purpose", "audit"])
        .fails_quietly(EX_USAGE, &["--purpose"]);

    // A purpose the log refuses: nothing is shown, nothing is logged.
    env.run(&["report", "billing", "--purpose", " "])
        .fails_quietly(EX_USAGE, &["--purpose"]);
    env.run(&["report", "billing", "--client", "not an id"])
        .fails_quietly(EX_USAGE, &["--client"]);
    assert_eq!(access_log(env).len(), before);

    // Without USER or LOGNAME, or with a name that is no user id, the OS
    // user is named by the real user id.
    let uid = {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(env.dir.path())
            .expect("the working dir")
            .uid()
    };
    let args = ["report", "superbill", "--client", "client-002"];
    let mut no_name = env.command(&args);
    no_name.env_remove("USER");
    env.run_command(&args, &mut no_name).ok();
    let mut odd_name = env.command(&args);
    odd_name.env("USER", "alice.smith").env("LOGNAME", "x y");
    env.run_command(&args, &mut odd_name).ok();
    let mut logname = env.command(&args);
    logname.env_remove("USER").env("LOGNAME", "bob");
    env.run_command(&args, &mut logname).ok();
    let users: Vec<Value> = access_log(env)
        .iter()
        .filter(|e| {
            e["client_id"] == "client-002"
                && e["source"] == "cli report superbill --client client-002"
        })
        .map(|e| e["user_id"].clone())
        .collect();
    assert_eq!(
        users,
        [
            json!(format!("local-uid-{uid}")),
            json!(format!("local-uid-{uid}")),
            json!("local-bob"),
        ]
    );
}

/// A client registered under a name that is a spreadsheet formula.
const FORMULA_NAME: &str = "=HYPERLINK(\"http://x\",\"y\")";

async fn csv_reports_neutralize_formulas(env: &Env) {
    let register = json!({"RegisterClient": {
        "client_id": "client-x",
        "name": FORMULA_NAME,
        "date_of_birth": "1984-03-09",
        "therapist": "t-rivera",
    }});
    let pay = json!({"RecordPayment": {
        "payment": "pay-1", "amount": 1250, "method": "card", "payer": "client",
        "received_on": "2025-11-03",
    }});
    record(
        &env.url,
        &[
            ("client-x", "cmd-1", "fd-jones", "front_desk", register),
            ("client-x", "cmd-2", "fd-jones", "front_desk", pay),
        ],
    )
    .await;
    // Each line of a CSV report as (column, cell) pairs.
    let cells = |args: &[&str]| -> Vec<Vec<(String, String)>> {
        let run = env.run(args).ok();
        let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
        let header = reader.headers().expect("a header").clone();
        reader
            .records()
            .map(|r| {
                let r = r.expect("valid CSV");
                header
                    .iter()
                    .zip(r.iter())
                    .map(|(h, c)| (h.to_owned(), c.to_owned()))
                    .collect()
            })
            .collect()
    };
    let cell = |line: &[(String, String)], column: &str| -> String {
        line.iter()
            .find(|(h, _)| h == column)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| panic!("no {column} in {line:?}"))
    };
    // The superbill names the client: the name is text, not a formula.
    let superbill = cells(&["report", "superbill", "--format", "csv"]);
    assert!(!superbill.is_empty());
    for line in &superbill {
        assert_eq!(
            cell(line, "client_name"),
            format!("'{FORMULA_NAME}"),
            "{line:?}"
        );
        assert!(line.iter().all(|(_, c)| !c.starts_with('=')), "{line:?}");
    }
    // The billing report's negative balance stays a number.
    let billing = cells(&["report", "billing", "--format", "csv"]);
    let total = billing.last().expect("a total line");
    assert_eq!(cell(total, "balance_cents"), "-1250", "{total:?}");
    // JSON and the terminal table show the name as it is.
    let json = env
        .run(&["report", "superbill", "--format", "json"])
        .ok()
        .json();
    assert_eq!(json[0]["client_name"], FORMULA_NAME);
    // The access report's text cells too (a purpose is the caller's text).
    env.run(&[
        "report",
        "billing",
        "--purpose",
        "@SUM(1+1)*cmd|' /C calc'!A0",
    ])
    .ok();
    let access = cells(&["report", "access", "--format", "csv"]);
    assert!(
        access
            .iter()
            .any(|line| cell(line, "purpose") == "'@SUM(1+1)*cmd|' /C calc'!A0"),
        "{access:?}"
    );
}
