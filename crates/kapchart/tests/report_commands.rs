//! End to end: `kapchart report` and `kapchart rebuild` on a sample
//! practice written by `kapchart demo`, on a fresh SQLite file and a fresh
//! PostgreSQL database: every report in every format, empty periods, bad
//! input (one line, exit 2), and rebuilds that change nothing a report shows.

#[macro_use]
mod common;

use common::*;
use kapchart_views::ReportKind;

on_both_engines!(
    every_report_in_every_format,
    a_rebuild_changes_no_report,
    bad_report_input_is_one_line_and_exit_2,
);

fn records(csv_text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .collect::<Result<_, _>>()
        .expect("valid CSV")
}

async fn every_report_in_every_format(env: &Env) {
    env.run(&["demo", "--clients", "4", "--seed", "11"]).ok();
    for kind in ReportKind::ALL {
        let name = kind.as_str();
        let csv_run = env.run(&["report", name, "--format", "csv"]).ok();
        let header = csv_run.stdout.lines().next().unwrap_or_default();
        assert_eq!(header, kind.columns().join(","), "{name}");
        let rows = records(&csv_run.stdout);
        let json = env.run(&["report", name, "--format", "json"]).ok().json();
        let objects = json.as_array().expect("an array");
        assert_eq!(objects.len(), rows.len(), "{name}: CSV and JSON agree");
        if let Some(first) = objects.first() {
            let keys: Vec<&str> = first
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .collect();
            let mut columns = kind.columns().to_vec();
            columns.sort_unstable();
            assert_eq!(keys, columns, "{name}: keyed by column");
        }
        let table = env.run(&["report", name]).ok();
        assert!(
            table.stdout.starts_with(kind.columns()[0]),
            "{name}: {}",
            table.stdout
        );
        if kind != ReportKind::Protocol {
            assert!(!rows.is_empty(), "{name}: a year of practice has rows");
        }
        // A period before the practice opened: the header and nothing else.
        let empty = env
            .run(&[
                "report",
                name,
                "--from",
                "1990-01-01",
                "--to",
                "1990-12-31",
                "--format",
                "csv",
            ])
            .ok();
        assert_eq!(empty.stdout, format!("{header}\n"), "{name}");
    }
    // One client's superbill holds that client only.
    let billing = env
        .run(&["report", "billing", "--format", "json"])
        .ok()
        .json();
    let client = billing[0]["client_id"]
        .as_str()
        .expect("a client")
        .to_owned();
    let superbill = env
        .run(&[
            "report",
            "superbill",
            "--client",
            &client,
            "--format",
            "json",
        ])
        .ok()
        .json();
    let lines = superbill.as_array().expect("an array");
    assert!(!lines.is_empty(), "{client} has a superbill");
    assert!(
        lines.iter().all(|l| l["client_id"] == client.as_str()),
        "{superbill:#}"
    );
}

async fn a_rebuild_changes_no_report(env: &Env) {
    env.run(&["demo", "--clients", "3", "--seed", "5"]).ok();
    let reports = |env: &Env| -> Vec<String> {
        ReportKind::ALL
            .iter()
            .map(|k| {
                env.run(&["report", k.as_str(), "--format", "csv"])
                    .ok()
                    .stdout
            })
            .collect()
    };
    let before = reports(env);
    let rebuilt = env.run(&["rebuild"]).ok();
    for view in ["schedule", "chart", "billing", "compliance"] {
        assert!(
            rebuilt
                .stdout
                .contains(&format!("rebuilt {view} (generation 2)")),
            "{}",
            rebuilt.stdout
        );
    }
    assert!(rebuilt.stdout.contains(" events/s)"), "{}", rebuilt.stdout);
    assert_eq!(reports(env), before);
    let one = env.run(&["rebuild", "--view", "billing"]).ok();
    assert!(
        one.stdout.starts_with("rebuilt billing (generation 3)\n"),
        "{}",
        one.stdout
    );
    assert_eq!(reports(env), before);
}

async fn bad_report_input_is_one_line_and_exit_2(env: &Env) {
    env.run(&[
        "report",
        "billing",
        "--from",
        "2026-02-01",
        "--to",
        "2026-01-01",
    ])
    .fails_quietly(EX_USAGE, &["2026-02-01", "2026-01-01"]);
    for args in [
        &["report", "invoices"][..],
        &["report", "billing", "--format", "xml"],
        &["report", "billing", "--from", "2026-02-30"],
        &["rebuild", "--view", "ledger"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, Some(EX_USAGE), "{run:#?}");
        assert!(run.stderr.starts_with("error: invalid value"), "{run:#?}");
        assert_eq!(run.stdout, "", "{run:#?}");
    }
}
