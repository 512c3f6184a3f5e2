//! [`ReportKind::days_read`]: a report built only from the rows its
//! period's days need is the report built from every row, for every
//! report, every period over the fixtures' days (open ends included) and
//! every choice of client. This is what lets a store read a past period's
//! report without reading what was recorded after it.

use super::*;

/// Two clients' records across January and February 2026: the short
/// record, and one with a later payment for an earlier session, a second
/// score, and sessions booked against the first client's therapist.
fn rows() -> Vec<(String, Row)> {
    let first = record("client-1");
    let mut second = record("client-2");
    second.push(payment("pay-late", 20_000, "2026-02-10", Some("x2")));
    second.push(payment("pay-early", 5_000, "2026-01-09", None));
    second.push(event(
        "OutcomeMeasureRecorded",
        TH,
        "2026-02-09T20:00:00Z",
        json!({"measure": {"instrument": "phq9", "score": 7}, "administered_on": "2026-02-09"}),
        json!([]),
    ));
    second.push(scheduled(
        "late-prep",
        "preparation",
        "2026-02-12",
        10,
        11,
        "t-rivera",
    ));
    let mut rows = Vec::new();
    for (client, events) in [("client-1", &first), ("client-2", &second)] {
        for view in ViewName::ALL {
            rows.extend(with_client(client, fold(view, client, events).rows()));
        }
    }
    rows
}

/// The rows a store reading only `kind`'s sources over their days gives.
fn read(kind: ReportKind, period: Period, rows: &[(String, Row)]) -> Vec<(String, Row)> {
    rows.iter()
        .filter(|(_, row)| {
            kind.sources()
                .iter()
                .any(|(_, k)| *k == row.kind && kind.days_read(k, period).holds(row.day))
        })
        .cloned()
        .collect()
}

#[test]
fn a_report_built_from_the_days_it_reads_is_the_report_of_every_row() {
    let rows = rows();
    let days: Vec<Option<NaiveDate>> = std::iter::once(None)
        .chain(
            d("2026-01-03")
                .iter_days()
                .take(45)
                .step_by(2)
                .chain(d("2026-01-04").iter_days().take(44).step_by(5))
                .map(Some),
        )
        .collect();
    let mut checked = 0;
    let mut left_out = [0usize; ReportKind::ALL.len()];
    for (k, kind) in ReportKind::ALL.into_iter().enumerate() {
        for from in &days {
            for to in &days {
                let Ok(period) = Period::new(*from, *to) else {
                    continue;
                };
                let needed = read(kind, period, &rows);
                left_out[k] += rows.len() - needed.len();
                for client in [None, Some("client-1"), Some("client-2")] {
                    let all = build_report(kind, period, client, &rows).unwrap();
                    let some = build_report(kind, period, client, &needed).unwrap();
                    assert_eq!(some, all, "{kind} from {from:?} to {to:?} for {client:?}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 6 * 500, "{checked} reports compared");
    // Each report's sources and days leave rows out (and are not every
    // row under another name).
    for (k, kind) in ReportKind::ALL.into_iter().enumerate() {
        assert!(left_out[k] > 0, "{kind} read every row of every period");
    }
}

#[test]
fn the_days_read_follow_each_reports_rules() {
    let period = Period::new(Some(d("2026-02-01")), Some(d("2026-02-28"))).unwrap();
    let span = |first: Option<&str>, last: Option<&str>| DaySpan {
        first: first.map(d),
        last: last.map(d),
    };
    let cases = [
        (
            ReportKind::Schedule,
            kinds::SESSION,
            span(Some("2026-01-31"), Some("2026-03-01")),
        ),
        (
            ReportKind::Billing,
            kinds::CHARGE,
            span(None, Some("2026-02-28")),
        ),
        (
            ReportKind::Billing,
            kinds::PAYMENT,
            span(None, Some("2026-02-28")),
        ),
        (
            ReportKind::Superbill,
            kinds::CHARGE,
            span(Some("2026-02-01"), Some("2026-02-28")),
        ),
        (ReportKind::Superbill, kinds::PAYMENT, DaySpan::ALL),
        (ReportKind::Superbill, kinds::ACCOUNT, DaySpan::ALL),
        (
            ReportKind::Outcomes,
            kinds::OUTCOME,
            span(None, Some("2026-02-28")),
        ),
        (
            ReportKind::ControlledSubstances,
            kinds::ADMINISTRATION,
            span(Some("2026-02-01"), Some("2026-02-28")),
        ),
        (
            ReportKind::Protocol,
            kinds::ADHERENCE,
            span(Some("2026-02-01"), Some("2026-02-28")),
        ),
    ];
    for (kind, row_kind, expected) in cases {
        assert_eq!(
            kind.days_read(row_kind, period),
            expected,
            "{kind} {row_kind}"
        );
    }
    // Open periods read every day, and a row filed under no day is read
    // only when both ends are open.
    for kind in ReportKind::ALL {
        for (_, row_kind) in kind.sources() {
            assert_eq!(kind.days_read(row_kind, Period::all()), DaySpan::ALL);
        }
    }
    assert!(DaySpan::ALL.holds(None));
    assert!(!span(None, Some("2026-02-28")).holds(None));
    assert!(span(None, Some("2026-02-28")).holds(Some(d("2026-02-28"))));
    assert!(!span(None, Some("2026-02-28")).holds(Some(d("2026-03-01"))));
    assert!(!span(Some("2026-02-01"), None).holds(Some(d("2026-01-31"))));
}
