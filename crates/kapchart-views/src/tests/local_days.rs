//! The practice's local dates: every day a view files a row under or
//! counts with is the practice's local date in the zone the event was
//! decided in, across both 2026 daylight-saving changes of
//! America/Los_Angeles (8 March, clocks forward at 10:00 UTC; 1 November,
//! back at 09:00 UTC).

use kapchart_domain::TimeZoneName;

use super::*;

fn la() -> TimeZoneName {
    TimeZoneName::parse("America/Los_Angeles").expect("an IANA zone")
}

/// A span given in UTC instants.
fn utc_span(start: &str, end: &str) -> Value {
    json!({"start": start, "end": end})
}

fn booked(session: &str, kind: &str, start: &str, end: &str) -> ClientEvent {
    event(
        "SessionScheduled",
        FD,
        "2026-02-01T18:00:00Z",
        json!({"session": session, "kind": kind, "span": utc_span(start, end),
               "therapist": "t-rivera", "exploration": null}),
        json!([]),
    )
}

/// The client's record up to an exploration dosed on the evening of
/// Sunday 1 March, Pacific time (2 March in UTC), and its integration on
/// the morning of Monday 9 March, after the clocks went forward.
fn evening_exploration() -> Vec<ClientEvent> {
    let mut events: Vec<ClientEvent> = record("c-1").into_iter().take(6).collect();
    events.push(event(
        "ExplorationRecorded",
        TH,
        "2026-03-02T07:30:00Z",
        json!({
            "session": "x1", "span": utc_span("2026-03-02T04:00:00Z", "2026-03-02T07:00:00Z"),
            "therapist": "t-rivera", "prescription": "rx-1",
            "administration": {"drug": "ketamine", "route": "sublingual", "dose": 100,
                               "lot_number": "L-1", "given_at": "2026-03-02T04:15:00Z"},
            "not_dosed_reason": null,
            "bp_before": {"systolic": 122, "diastolic": 78},
            "bp_after": {"systolic": 125, "diastolic": 82},
            "observations": "calm", "adverse_events": [],
            "discharged_at": "2026-03-02T06:45:00Z", "departure": "companion",
            "charge": charge("exploration", 55_000, "2026-03-01"),
        }),
        json!([]),
    ));
    events
}

fn integration_on_9_march() -> ClientEvent {
    event(
        "IntegrationRecorded",
        TH,
        "2026-03-09T18:00:00Z",
        json!({"session": "i1", "span": utc_span("2026-03-09T16:00:00Z", "2026-03-09T17:00:00Z"),
               "therapist": "t-rivera", "exploration": "x1", "notes": "integrating",
               "charge": charge("integration", 17_500, "2026-03-09")}),
        json!([]),
    )
}

/// Folds `events` as decided in `zone` under `policy`.
fn fold_in(
    view: ViewName,
    events: &[ClientEvent],
    zone: TimeZoneName,
    policy: ViewPolicy,
) -> ViewState {
    let mut state = view.new_state("c-1");
    for (i, e) in events.iter().enumerate() {
        state.apply(e, &meta("c-1", i as u64 + 1, e).in_practice(zone, policy));
    }
    state
}

fn rows_of<T: RowData>(state: &ViewState) -> Vec<(Option<NaiveDate>, T)> {
    state
        .rows()
        .into_iter()
        .filter_map(|r| r.parse::<T>().map(|t| (r.day, t)))
        .collect()
}

#[test]
fn sessions_are_filed_on_the_local_date_they_start_on() {
    // 21:00 on Saturday 7 March in Los Angeles is 05:00 on Sunday 8 March
    // in UTC; the other two straddle the autumn change.
    let events = vec![
        booked(
            "p1",
            "preparation",
            "2026-03-08T05:00:00Z",
            "2026-03-08T06:00:00Z",
        ),
        booked(
            "p2",
            "preparation",
            "2026-11-01T07:30:00Z",
            "2026-11-01T08:30:00Z",
        ),
        booked(
            "p3",
            "preparation",
            "2026-11-02T07:30:00Z",
            "2026-11-02T08:30:00Z",
        ),
    ];
    let days = |zone| {
        rows_of::<SessionRow>(&fold_in(
            ViewName::Schedule,
            &events,
            zone,
            ViewPolicy::standard(),
        ))
        .into_iter()
        .map(|(day, s)| {
            assert_eq!(day, Some(s.date), "a session row is filed under its date");
            (s.session, s.date)
        })
        .collect::<Vec<_>>()
    };
    assert_eq!(
        days(la()),
        [
            ("p1".to_owned(), d("2026-03-07")),
            ("p2".to_owned(), d("2026-11-01")),
            ("p3".to_owned(), d("2026-11-01")),
        ]
    );
    assert_eq!(
        days(TimeZoneName::UTC),
        [
            ("p1".to_owned(), d("2026-03-08")),
            ("p2".to_owned(), d("2026-11-01")),
            ("p3".to_owned(), d("2026-11-02")),
        ]
    );

    // The schedule report's periods are local days too.
    let state = fold_in(ViewName::Schedule, &events, la(), ViewPolicy::standard());
    let rows = with_client("c-1", state.rows());
    let period = Period::new(Some(d("2026-03-07")), Some(d("2026-03-07"))).expect("a period");
    let table = build_report(ReportKind::Schedule, period, None, &rows).expect("the schedule");
    let session = table
        .columns
        .iter()
        .position(|c| *c == "session")
        .expect("a column");
    let day = table
        .columns
        .iter()
        .position(|c| *c == "day")
        .expect("a column");
    let sessions: Vec<&Value> = table.rows.iter().map(|r| &r[session]).collect();
    assert_eq!(sessions, [&json!("p1")]);
    assert_eq!(table.rows[0][day], json!("2026-03-07"));
}

#[test]
fn due_dates_administrations_and_late_integrations_count_local_days() {
    let events = evening_exploration();
    let schedule = fold_in(ViewName::Schedule, &events, la(), ViewPolicy::standard());
    let progress: ProgressRow = rows_of(&schedule).remove(0).1;
    // Dosed on Sunday 1 March locally: due within 7 days, by 8 March.
    assert_eq!(progress.integration_due_by, Some(d("2026-03-08")));
    let in_utc = fold_in(
        ViewName::Schedule,
        &events,
        TimeZoneName::UTC,
        ViewPolicy::standard(),
    );
    let progress_utc: ProgressRow = rows_of(&in_utc).remove(0).1;
    assert_eq!(progress_utc.integration_due_by, Some(d("2026-03-09")));

    let chart = fold_in(ViewName::Chart, &events, la(), ViewPolicy::standard());
    let chart: ChartRow = rows_of(&chart).remove(0).1;
    assert_eq!(chart.doses[0].date, d("2026-03-01"));
    assert_eq!(chart.blood_pressure[0].date, d("2026-03-01"));

    let mut with_integration = events.clone();
    with_integration.push(integration_on_9_march());
    let compliance = fold_in(
        ViewName::Compliance,
        &with_integration,
        la(),
        ViewPolicy::standard(),
    );
    let administrations: Vec<AdministrationRow> =
        rows_of(&compliance).into_iter().map(|(_, a)| a).collect();
    assert_eq!(administrations[0].date, d("2026-03-01"));
    // Sunday 1 March to Monday 9 March is 8 local days: late, with no
    // override on record. In UTC dates it would be 7, on time.
    let late = |state: &ViewState| -> Vec<Option<i64>> {
        rows_of::<AdherenceRow>(state)
            .into_iter()
            .filter(|(_, a)| a.finding == Finding::LateIntegration)
            .map(|(_, a)| a.days)
            .collect()
    };
    assert_eq!(late(&compliance), [Some(8)]);
    let compliance_utc = fold_in(
        ViewName::Compliance,
        &with_integration,
        TimeZoneName::UTC,
        ViewPolicy::standard(),
    );
    assert!(late(&compliance_utc).is_empty());
}

#[test]
fn the_policy_an_event_was_decided_under_sets_the_windows() {
    let events = evening_exploration();
    let wider = ViewPolicy {
        integration_window_days: 10,
        ..ViewPolicy::standard()
    };
    let schedule = fold_in(ViewName::Schedule, &events, la(), wider);
    let progress: ProgressRow = rows_of(&schedule).remove(0).1;
    assert_eq!(progress.integration_due_by, Some(d("2026-03-11")));

    let mut with_integration = events.clone();
    with_integration.push(integration_on_9_march());
    let compliance = fold_in(ViewName::Compliance, &with_integration, la(), wider);
    assert!(
        rows_of::<AdherenceRow>(&compliance)
            .iter()
            .all(|(_, a)| a.finding != Finding::LateIntegration),
        "8 days is within a 10-day window"
    );
}
