//! Every view and report after the full protocol, against hand-computed
//! expectations.
//!
//! Client 1 goes through the whole protocol exactly as in
//! `protocol_scenario.rs` (intake, evaluation, prescription, consent,
//! preparation, eight explorations each integrated two days later with the
//! dose raised gradually, outcome measures, ongoing care, an amendment,
//! payments and discharge). Client 2, with the same therapist, has what a
//! compliance report must catch: a preparation booked and held at the same
//! time as client 1's (a double-booking that slipped past the command-time
//! check), a blood pressure override by the prescriber, explorations too
//! close together, a late integration, a treatment at an affiliate, a
//! no-show, a cancellation and a payment for one session. Fees come from the
//! practice page: $175 intake, preparation, integration and ongoing care;
//! $550 exploration.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use kapchart_domain::*;
use kapchart_e2e::*;
use kapchart_views::{
    AccountRow, AdministrationRow, ChargeRow, ChartRow, EntryRow, EventMeta, NextStep, Period,
    ProgressRow, ReportKind, Row, RowData, SessionRow, Table, ViewName, ViewState, build_report,
    chart_as_of, kinds,
};
use serde_json::{Value, json};

const CLIENT_2: &str = "client-2";

fn phq9(n: i64) -> OutcomeMeasure {
    OutcomeMeasure::Phq9(Phq9Score::new(n).expect("valid score"))
}

fn gad7(n: i64) -> OutcomeMeasure {
    OutcomeMeasure::Gad7(Gad7Score::new(n).expect("valid score"))
}

/// RegisterClient for another client id and name.
fn register_as(client: &str, name: &str) -> CommandBody {
    match register_client() {
        CommandBody::RegisterClient(mut r) => {
            r.client_id = ClientId::parse(client).expect("valid client id");
            r.name = PersonName::new(name).expect("valid name");
            CommandBody::RegisterClient(r)
        }
        other => other,
    }
}

/// A payment for one session.
fn payment_for(id: &str, cents: i64, on: chrono::NaiveDate, session: &str) -> CommandBody {
    let json = json!({
        "payment": id, "amount": cents, "method": "card", "payer": "client",
        "received_on": on, "session": session,
    });
    CommandBody::RecordPayment(serde_json::from_value(json).expect("valid payment"))
}

/// Client 1: the full protocol of `protocol_scenario.rs`. Returns the chart
/// and the sequence of the amended entry (the third exploration).
async fn full_protocol() -> (Chart, u64) {
    let mut c = Chart::new();
    c.on(0);
    c.ok(front_desk(), register_client()).await;
    c.ok(
        therapist(),
        intake("intake", span(0, 9, 10), Suitability::Suitable),
    )
    .await;
    c.ok(therapist(), outcome(phq9(19), date(0))).await;
    c.ok(therapist(), outcome(gad7(15), date(0))).await;
    c.on(2);
    c.ok(prescriber(), medical(date(2), Clearance::Cleared))
        .await;
    c.ok(
        prescriber(),
        prescription("rx-1", 0, 180, 100, 250, 100, 50, 8),
    )
    .await;
    c.on(3);
    c.ok(therapist(), consent(date(3))).await;
    c.on(4);
    c.ok(
        front_desk(),
        schedule_preparation("prep-1", span(7, 10, 11)),
    )
    .await;
    c.on(7);
    c.ok(therapist(), preparation("prep-1", span(7, 10, 11)))
        .await;
    let doses = [100, 150, 150, 200, 200, 250, 250, 250];
    let mut last = 100;
    for (k, dose) in doses.into_iter().enumerate() {
        let e = 14 + 10 * k as i64;
        let x = format!("x{}", k + 1);
        let i = format!("i{}", k + 1);
        c.on(e - 5);
        if dose != last {
            c.ok(prescriber(), adjust_dose(dose)).await;
            last = dose;
        }
        c.ok(front_desk(), schedule_exploration(&x, span(e, 10, 13)))
            .await;
        c.on(e);
        c.ok(therapist(), exploration(&x, e, Some(dose), bp(122, 78)))
            .await;
        c.ok(
            front_desk(),
            schedule_integration(&i, span(e + 2, 10, 11), &x),
        )
        .await;
        c.on(e + 2);
        c.ok(therapist(), integration(&i, span(e + 2, 10, 11), &x))
            .await;
        c.ok(
            front_desk(),
            payment(&format!("pay-{}", k + 1), 72_500, date(e + 2)),
        )
        .await;
        if k == 3 {
            c.ok(therapist(), outcome(phq9(12), date(e + 2))).await;
        }
    }
    c.on(100);
    c.ok(therapist(), outcome(phq9(6), date(100))).await;
    c.ok(
        therapist(),
        outcome(
            OutcomeMeasure::Pcl5(Pcl5Score::new(10).expect("valid")),
            date(100),
        ),
    )
    .await;
    c.ok(
        therapist(),
        outcome(
            OutcomeMeasure::BdiIi(BdiIiScore::new(8).expect("valid")),
            date(100),
        ),
    )
    .await;
    c.ok(therapist(), ongoing_care("care-1", span(100, 10, 11)))
        .await;
    c.on(114);
    c.ok(therapist(), ongoing_care("care-2", span(114, 10, 11)))
        .await;
    let third = c
        .events
        .iter()
        .position(
            |e| matches!(e, ClientEvent::ExplorationRecorded(x) if x.session.as_str() == "x3"),
        )
        .expect("x3 recorded") as u64
        + 1;
    c.ok(therapist(), amend(third)).await;
    c.on(130);
    c.ok(therapist(), discharge(date(130))).await;
    c.ok(front_desk(), payment("pay-final", 70_000, date(130)))
        .await;
    (c, third)
}

/// Client 2: what the compliance report must catch.
async fn eventful_client() -> Chart {
    let mut c = Chart::new();
    c.on(0);
    c.ok(front_desk(), register_as(CLIENT_2, "Sam Sample"))
        .await;
    c.ok(
        therapist(),
        intake("intake", span(0, 11, 12), Suitability::Suitable),
    )
    .await;
    c.ok(therapist(), outcome(phq9(20), date(0))).await;
    c.ok(therapist(), outcome(gad7(12), date(0))).await;
    c.on(1);
    c.ok(prescriber(), medical(date(1), Clearance::Cleared))
        .await;
    c.ok(prescriber(), standard_prescription("rx-1")).await;
    c.ok(therapist(), consent(date(1))).await;
    // Booked over client 1's prep-1 (day 7, 10:00–11:00, same therapist):
    // the in-memory practice knows no other client's bookings, as a race
    // past the schedule projection would not.
    c.on(2);
    c.ok(
        front_desk(),
        schedule_preparation("prep-2", span(7, 10, 11)),
    )
    .await;
    c.on(7);
    c.ok(therapist(), preparation("prep-2", span(7, 10, 11)))
        .await;
    // Pre-dose 150/95: the prescriber's override, given through the
    // therapist.
    c.on(10);
    c.ok(prescriber(), authorize_bp("auth-x1", "x1", 10, None))
        .await;
    let mut high_bp = c.command(therapist(), exploration("x1", 10, Some(150), bp(150, 95)));
    high_bp.overrides.push(Override {
        rule: Rule::ExplorationBloodPressureAboveThreshold,
        reason: text("prescriber reviewed; rechecked 138/88"),
        authorization: Some(AuthorizationId::parse("auth-x1").expect("valid id")),
    });
    c.run(high_bp).await.expect("override accepted");
    c.on(12);
    c.ok(therapist(), integration("i1", span(12, 10, 11), "x1"))
        .await;
    // Five days after x1: too soon, passed with a reason.
    c.on(15);
    c.exec_overriding(
        therapist(),
        exploration("x2", 15, Some(200), bp(120, 80)),
        &[Rule::ExplorationTooSoon],
    )
    .await
    .expect("too soon, overridden");
    // Nine days after x2: late, passed with a reason.
    c.on(24);
    c.exec_overriding(
        therapist(),
        integration("i2", span(24, 14, 15), "x2"),
        &[Rule::IntegrationLate],
    )
    .await
    .expect("late, overridden");
    c.on(25);
    c.ok(therapist(), outcome(phq9(9), date(25))).await;
    c.on(26);
    c.ok(therapist(), external_treatment(date(26))).await;
    c.ok(front_desk(), payment_for("pay-x1", 50_000, date(26), "x1"))
        .await;
    c.ok(front_desk(), schedule_exploration("x3", span(40, 14, 17)))
        .await;
    c.ok(
        front_desk(),
        schedule_preparation("prep-3", span(45, 14, 15)),
    )
    .await;
    c.on(40);
    c.ok(front_desk(), no_show("x3")).await;
    c.on(41);
    c.ok(front_desk(), cancel("prep-3")).await;
    c.ok(front_desk(), schedule_exploration("x4", span(60, 14, 17)))
        .await;
    c
}

/// What the store's feed would give: each event with its metadata. The
/// store records an event when its command is decided, so `recorded_at` is
/// the decision's time here.
fn feed(
    client: &str,
    events: &[ClientEvent],
    first_position: i64,
) -> Vec<(EventMeta, ClientEvent)> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            (
                EventMeta::new(
                    client,
                    i as u64 + 1,
                    first_position + i as i64,
                    e.decision().decided_at,
                ),
                e.clone(),
            )
        })
        .collect()
}

fn project(view: ViewName, client: &str, feed: &[(EventMeta, ClientEvent)]) -> ViewState {
    let mut state = view.new_state(client);
    for (meta, event) in feed {
        state.apply(event, meta);
    }
    state
}

struct Practice {
    amended: u64,
    clients: Vec<(String, Vec<(EventMeta, ClientEvent)>)>,
}

impl Practice {
    async fn new() -> Practice {
        let (one, amended) = full_protocol().await;
        let two = eventful_client().await;
        let feed_one = feed(CLIENT, &one.events, 1);
        let feed_two = feed(CLIENT_2, &two.events, 1 + one.events.len() as i64);
        Practice {
            amended,
            clients: vec![
                (CLIENT.to_owned(), feed_one),
                (CLIENT_2.to_owned(), feed_two),
            ],
        }
    }

    fn feed(&self, client: &str) -> &[(EventMeta, ClientEvent)] {
        &self
            .clients
            .iter()
            .find(|(c, _)| c == client)
            .expect("known client")
            .1
    }

    fn rows(&self, view: ViewName, client: &str) -> Vec<Row> {
        project(view, client, self.feed(client)).rows()
    }

    /// Every client's rows of every view, as the store would hold them.
    fn all_rows(&self) -> Vec<(String, Row)> {
        let mut out = Vec::new();
        for (client, feed) in &self.clients {
            for view in ViewName::ALL {
                for row in project(view, client, feed).rows() {
                    out.push((client.clone(), row));
                }
            }
        }
        out
    }

    fn report(&self, kind: ReportKind, period: Period, client: Option<&str>) -> Table {
        build_report(kind, period, client, &self.all_rows()).expect("report builds")
    }
}

fn of_kind<T: RowData>(rows: &[Row], kind: &str) -> Vec<T> {
    assert_eq!(kind, T::KIND);
    rows.iter()
        .filter(|r| r.kind == kind)
        .map(|r| {
            r.parse()
                .unwrap_or_else(|| panic!("{kind} row {} parses", r.key))
        })
        .collect()
}

/// A table as text: a header line, then one line per row, cells separated
/// by " | " (strings bare, null empty).
fn render(table: &Table) -> String {
    let mut out = table.columns.join(" | ");
    out.push('\n');
    for row in &table.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect();
        out.push_str(&cells.join(" | "));
        out.push('\n');
    }
    out
}

fn period(from: i64, to: i64) -> Period {
    Period::new(Some(date(from)), Some(date(to))).expect("valid period")
}

// ---- schedule ----

#[tokio::test]
async fn schedule_view_after_the_full_protocol() {
    let p = Practice::new().await;
    let rows = p.rows(ViewName::Schedule, CLIENT);
    let sessions: Vec<SessionRow> = of_kind(&rows, kinds::SESSION);
    // Intake, one preparation, eight explorations, eight integrations, two
    // ongoing care sessions: all held.
    assert_eq!(sessions.len(), 20);
    assert!(sessions.iter().all(|s| s.status == SessionStatus::Held));
    let count = |k: SessionKind| sessions.iter().filter(|s| s.kind == k).count();
    assert_eq!(
        [
            count(SessionKind::Intake),
            count(SessionKind::Preparation),
            count(SessionKind::Exploration),
            count(SessionKind::Integration),
            count(SessionKind::OngoingCare),
        ],
        [1, 1, 8, 8, 2]
    );
    let x3 = sessions.iter().find(|s| s.session == "x3").expect("x3");
    assert_eq!(
        (x3.start, x3.end, x3.minutes),
        (
            day(34) + Duration::hours(10),
            day(34) + Duration::hours(13),
            180
        )
    );
    assert!(x3.scheduled_sequence.is_some() && x3.recorded_sequence > x3.scheduled_sequence);
    let i3 = sessions.iter().find(|s| s.session == "i3").expect("i3");
    assert_eq!(i3.integrates.as_deref(), Some("x3"));
    // The intake was recorded without being booked.
    let intake = sessions
        .iter()
        .find(|s| s.session == "intake")
        .expect("intake");
    assert_eq!(intake.scheduled_sequence, None);
    assert_eq!(intake.recorded_sequence, Some(2));

    let progress: Vec<ProgressRow> = of_kind(&rows, kinds::PROGRESS);
    assert_eq!(
        progress,
        [ProgressRow {
            client_id: CLIENT.into(),
            therapist: Some("t-rivera".into()),
            prescriber: Some("rx-chen".into()),
            phase: Phase::Discharged,
            preparations_held: 1,
            explorations_held: 8,
            explorations_dosed: 8,
            prescription: Some("rx-1".into()),
            prescription_valid_until: Some(date(180)),
            explorations_authorized: Some(8),
            explorations_used: Some(8),
            sessions_left: Some(0),
            current_dose_mg: Some(250),
            last_dose_mg: Some(250),
            integration_pending: false,
            integration_pending_for: None,
            integration_due_by: None,
            next_due_step: NextStep::None,
            next_exploration_from: None,
            upcoming_sessions: 0,
            discharged: true,
            discharged_on: Some(date(130)),
        }]
    );

    // Client 2: two explorations in, one booked (x3 was missed, prep-3
    // cancelled), the next exploration due a week after x2.
    let progress: Vec<ProgressRow> =
        of_kind(&p.rows(ViewName::Schedule, CLIENT_2), kinds::PROGRESS);
    assert_eq!(
        progress,
        [ProgressRow {
            client_id: CLIENT_2.into(),
            therapist: Some("t-rivera".into()),
            prescriber: Some("rx-chen".into()),
            phase: Phase::Protocol,
            preparations_held: 1,
            explorations_held: 2,
            explorations_dosed: 2,
            prescription: Some("rx-1".into()),
            prescription_valid_until: Some(date(360)),
            explorations_authorized: Some(8),
            explorations_used: Some(2),
            sessions_left: Some(6),
            current_dose_mg: Some(200),
            last_dose_mg: Some(200),
            integration_pending: false,
            integration_pending_for: None,
            integration_due_by: None,
            next_due_step: NextStep::Exploration,
            next_exploration_from: Some(date(22)),
            upcoming_sessions: 1,
            discharged: false,
            discharged_on: None,
        }]
    );
}

#[tokio::test]
async fn progress_shows_a_pending_integration_and_its_due_date() {
    let p = Practice::new().await;
    // Client 1 just after x1 (day 14), before i1.
    let feed = p.feed(CLIENT);
    let upto = feed
        .iter()
        .position(|(_, e)| matches!(e, ClientEvent::ExplorationRecorded(_)))
        .expect("x1")
        + 1;
    let rows = project(ViewName::Schedule, CLIENT, &feed[..upto]).rows();
    let progress: Vec<ProgressRow> = of_kind(&rows, kinds::PROGRESS);
    let row = &progress[0];
    assert_eq!(row.phase, Phase::Protocol);
    assert!(row.integration_pending);
    assert_eq!(row.integration_pending_for.as_deref(), Some("x1"));
    assert_eq!(row.integration_due_by, Some(date(21)));
    assert_eq!(row.next_due_step, NextStep::Integration);
    assert_eq!(
        (row.current_dose_mg, row.sessions_left),
        (Some(100), Some(7))
    );
}

#[tokio::test]
async fn schedule_report_flags_the_double_booking_across_clients() {
    let p = Practice::new().await;
    let table = p.report(ReportKind::Schedule, Period::all(), None);
    // 20 sessions of client 1, 9 of client 2 (intake, prep-2, x1, i1, x2,
    // i2, x3 missed, prep-3 cancelled, x4 booked).
    assert_eq!(table.rows.len(), 29);
    let col = |name: &str| {
        table
            .columns
            .iter()
            .position(|c| *c == name)
            .expect("column")
    };
    let flagged: Vec<(Value, Value, Value, Value)> = table
        .rows
        .iter()
        .filter(|r| r[col("double_booked")] == json!(true))
        .map(|r| {
            (
                r[col("day")].clone(),
                r[col("client_id")].clone(),
                r[col("session")].clone(),
                r[col("conflicts")].clone(),
            )
        })
        .collect();
    let d7 = json!(date(7).to_string());
    assert_eq!(
        flagged,
        [
            (
                d7.clone(),
                json!(CLIENT),
                json!("prep-1"),
                json!("client-2/prep-2")
            ),
            (
                d7,
                json!(CLIENT_2),
                json!("prep-2"),
                json!("client-1/prep-1")
            ),
        ]
    );
    // Sessions per therapist and day: ordered by day, then therapist and
    // start.
    let days: Vec<&Value> = table.column("day");
    let mut sorted = days.clone();
    sorted.sort_by_key(|v| v.as_str().map(str::to_owned));
    assert_eq!(days, sorted);

    // Upcoming from day 50: what is still to come on that day or later.
    let upcoming = p.report(
        ReportKind::Schedule,
        Period::new(Some(date(50)), None).expect("period"),
        None,
    );
    let open: Vec<(&Value, &Value)> = upcoming
        .rows
        .iter()
        .filter(|r| r[col("status")] == json!("scheduled"))
        .map(|r| (&r[col("client_id")], &r[col("session")]))
        .collect();
    assert_eq!(open, [(&json!(CLIENT_2), &json!("x4"))]);
    assert_eq!(upcoming.rows.len(), 11);

    // One client's report still shows the conflict with the other client.
    let mine = p.report(ReportKind::Schedule, period(7, 7), Some(CLIENT));
    assert_eq!(mine.rows.len(), 1);
    assert_eq!(mine.column("conflicts"), [&json!("client-2/prep-2")]);

    insta::assert_snapshot!("schedule_report", render(&table));
}

// ---- chart ----

#[tokio::test]
async fn chart_view_shows_every_entry_with_its_amendments_beside_it() {
    let p = Practice::new().await;
    let feed = p.feed(CLIENT);
    let rows = p.rows(ViewName::Chart, CLIENT);
    let entries: Vec<EntryRow> = of_kind(&rows, kinds::ENTRY);
    assert_eq!(entries.len(), 61);
    for (entry, (meta, event)) in entries.iter().zip(feed) {
        assert_eq!(entry.sequence, meta.sequence);
        assert_eq!(entry.recorded_at, meta.recorded_at);
        assert_eq!(entry.event_type, event.type_name());
    }
    // The amended entry keeps its content as recorded, with the amendment
    // beside it; the amendment names what it amends.
    let amended = &entries[p.amended as usize - 1];
    assert_eq!(amended.event_type, "ExplorationRecorded");
    assert_eq!(amended.content["session"], json!("x3"));
    assert_eq!(
        amended.content["observations"],
        json!("calm, reflective; no distress")
    );
    assert_eq!(amended.amendments.len(), 1);
    let amendment = &amended.amendments[0];
    assert_eq!(amendment.sequence, 59);
    assert_eq!(amendment.recorded_at, day(114) + Duration::hours(20));
    assert_eq!(amendment.amended_by, "t-rivera");
    assert_eq!(amendment.reason, "transcription error");
    assert_eq!(
        amendment.corrected_content,
        "observations: calm, reflective; mild nausea at 11:00"
    );
    assert_eq!(entries[58].amends, Some(p.amended));
    assert_eq!(
        entries.iter().filter(|e| !e.amendments.is_empty()).count(),
        1
    );

    let chart: Vec<ChartRow> = of_kind(&rows, kinds::CHART);
    let chart = &chart[0];
    assert_eq!(chart.phase, Phase::Discharged);
    let doses: Vec<u32> = chart.doses.iter().map(|d| d.dose_mg).collect();
    assert_eq!(doses, [100, 150, 150, 200, 200, 250, 250, 250]);
    assert_eq!(chart.doses[2].stamp.sequence, p.amended);
    assert_eq!(chart.doses[2].stamp.amendments, amended.amendments);
    assert!(
        chart
            .doses
            .iter()
            .all(|d| d.lot_number == "L-2026-01" && d.route == Route::Sublingual)
    );
    assert_eq!(chart.blood_pressure.len(), 8);
    let adjustments: Vec<(u32, u32)> = chart
        .dose_adjustments
        .iter()
        .map(|a| (a.from_mg, a.to_mg))
        .collect();
    assert_eq!(adjustments, [(100, 150), (150, 200), (200, 250)]);
    let outcomes: Vec<(&str, u8)> = chart
        .outcome_measures
        .iter()
        .map(|o| (o.instrument.as_str(), o.score))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("phq9", 19),
            ("gad7", 15),
            ("phq9", 12),
            ("phq9", 6),
            ("pcl5", 10),
            ("bdi_ii", 8)
        ]
    );
    assert_eq!(chart.sessions.len(), 20);
    let rx = chart.prescription.as_ref().expect("prescription");
    assert_eq!(
        (rx.used_sessions, rx.ordered_mg, rx.authorized_sessions),
        (8, 250, 8)
    );
    assert_eq!(
        chart.intake.as_ref().map(|i| i.diagnoses.clone()),
        Some(vec!["F33.1".to_owned()])
    );
    assert_eq!(
        chart.discharge.as_ref().map(|d| d.discharged_on),
        Some(date(130))
    );
    assert_eq!((chart.entries, chart.amendments), (61, 1));

    insta::assert_json_snapshot!(
        "chart_current",
        rows.iter()
            .find(|r| r.kind == kinds::CHART)
            .expect("chart row")
    );
}

/// The chart shows the prescriber's authorization beside the dose that
/// used it, and the prescriber the client is referred to now.
#[tokio::test]
async fn chart_view_shows_authorizations_and_the_current_referral() {
    let p = Practice::new().await;
    let rows = p.rows(ViewName::Chart, CLIENT_2);
    let entries: Vec<EntryRow> = of_kind(&rows, kinds::ENTRY);
    let chart: Vec<ChartRow> = of_kind(&rows, kinds::CHART);
    let chart = &chart[0];
    assert_eq!(chart.authorizations.len(), 1);
    let a = &chart.authorizations[0];
    assert_eq!(a.authorization, "auth-x1");
    assert_eq!(a.session, "x1");
    assert_eq!(a.prescriber, "rx-chen");
    let used_by = a.used_by.expect("used by the dose");
    let dose = entries
        .iter()
        .find(|e| e.sequence == used_by)
        .expect("the entry that used it");
    assert_eq!(dose.event_type, "ExplorationRecorded");
    assert_eq!(dose.overrides[0].authorization.as_deref(), Some("auth-x1"));
    assert_eq!(chart.prescriber.as_deref(), Some("rx-chen"));
}

/// A referral after registration moves the chart's prescriber.
#[tokio::test]
async fn chart_view_follows_the_latest_referral() {
    let mut c = Chart::new();
    c.ok(front_desk(), register_client()).await;
    c.ok(
        therapist(),
        CommandBody::ReferClient(ReferClient {
            prescriber: other_prescriber().id,
            note: None,
        }),
    )
    .await;
    let rows = project(ViewName::Chart, CLIENT, &feed(CLIENT, &c.events, 1)).rows();
    let chart: Vec<ChartRow> = of_kind(&rows, kinds::CHART);
    assert_eq!(chart[0].prescriber.as_deref(), Some("rx-patel"));
    let registration = chart[0].registration.as_ref().expect("registered");
    assert_eq!(registration.prescriber.as_deref(), Some("rx-chen"));
}

#[tokio::test]
async fn chart_as_of_a_past_time_shows_only_what_was_recorded_by_then() {
    let p = Practice::new().await;
    let feed = p.feed(CLIENT);
    let as_of: DateTime<Utc> = day(50) + Duration::hours(20);
    let rows = chart_as_of(CLIENT, feed.iter().map(|(m, e)| (m, e)), as_of);

    let entries: Vec<EntryRow> = of_kind(&rows, kinds::ENTRY);
    let recorded_by_then = feed.iter().filter(|(m, _)| m.recorded_at <= as_of).count();
    // Registration to x5's booking on day 49: 33 entries.
    assert_eq!(recorded_by_then, 33);
    assert_eq!(entries.len(), recorded_by_then);
    assert!(entries.iter().all(|e| e.recorded_at <= as_of));
    // The amendment of x3 came on day 114: not shown as of day 50.
    assert!(entries.iter().all(|e| e.amendments.is_empty()));

    let chart: Vec<ChartRow> = of_kind(&rows, kinds::CHART);
    let chart = &chart[0];
    assert_eq!(chart.phase, Phase::Protocol);
    let doses: Vec<u32> = chart.doses.iter().map(|d| d.dose_mg).collect();
    assert_eq!(doses, [100, 150, 150, 200]);
    assert_eq!(chart.outcome_measures.len(), 3);
    assert_eq!(chart.discharge, None);
    let x5 = chart
        .sessions
        .iter()
        .find(|s| s.session == "x5")
        .expect("x5 booked");
    assert_eq!(x5.status, SessionStatus::Scheduled);
    assert!(chart.sessions.iter().all(|s| s.session != "x6"));
    assert_eq!(
        chart.prescription.as_ref().map(|rx| rx.used_sessions),
        Some(4)
    );

    // The same as folding the events recorded by then, and not what the
    // chart shows now.
    let mut state = ViewName::Chart.new_state(CLIENT);
    for (meta, event) in feed.iter().filter(|(m, _)| m.recorded_at <= as_of) {
        state.apply(event, meta);
    }
    // (less the summary row, which is for lists).
    let mut folded = state.rows();
    folded.retain(|r| r.kind != kapchart_views::kinds::SUMMARY);
    assert_eq!(rows, folded);
    assert_ne!(rows, p.rows(ViewName::Chart, CLIENT));
}

// ---- billing ----

#[tokio::test]
async fn billing_view_charges_the_fee_table_and_balances_to_zero() {
    let p = Practice::new().await;
    let rows = p.rows(ViewName::Billing, CLIENT);
    let charges: Vec<ChargeRow> = of_kind(&rows, kinds::CHARGE);
    assert_eq!(charges.len(), 20);
    let line = |service: BillableService| -> Vec<(i64, Option<&str>, u32, bool, u32)> {
        charges
            .iter()
            .filter(|c| c.service == service)
            .map(|c| {
                (
                    c.amount_cents,
                    c.cpt_code.as_deref(),
                    c.units,
                    c.insurance_billable,
                    c.fee_schedule_version,
                )
            })
            .collect()
    };
    // $175 intake (90791), preparation, integrations and ongoing care
    // (60 minutes: 90837), all insurance billable; $550 explorations
    // (3 hours of 0820T), self-pay.
    assert_eq!(
        line(BillableService::Intake),
        [(17_500, Some("90791"), 1, true, 1)]
    );
    assert_eq!(
        line(BillableService::Preparation),
        [(17_500, Some("90837"), 1, true, 1)]
    );
    assert_eq!(
        line(BillableService::Exploration),
        vec![(55_000, Some("0820T"), 3, false, 1); 8]
    );
    assert_eq!(
        line(BillableService::Integration),
        vec![(17_500, Some("90837"), 1, true, 1); 8]
    );
    assert_eq!(
        line(BillableService::OngoingCare),
        vec![(17_500, Some("90837"), 1, true, 1); 2]
    );
    let x1 = charges
        .iter()
        .find(|c| c.session == "x1")
        .expect("x1 charge");
    assert_eq!(
        (x1.service_date, x1.therapist.as_str(), x1.minutes),
        (date(14), "t-rivera", 180)
    );

    // 175 + 175 + 8 × 550 + 8 × 175 + 2 × 175 = 6,500.00, paid by eight
    // payments of 725.00 and one of 700.00.
    let accounts: Vec<AccountRow> = of_kind(&rows, kinds::ACCOUNT);
    assert_eq!(
        accounts,
        [AccountRow {
            client_id: CLIENT.into(),
            name: Some("Alex Example".into()),
            date_of_birth: Some(chrono::NaiveDate::from_ymd_opt(1985, 3, 14).expect("date")),
            therapist: Some("t-rivera".into()),
            diagnoses: vec!["F33.1".into()],
            charges: 20,
            charges_cents: Some(17_500 + 17_500 + 8 * 55_000 + 8 * 17_500 + 2 * 17_500),
            payments: 9,
            payments_cents: Some(8 * 72_500 + 70_000),
            balance_cents: Some(0),
        }]
    );
    assert_eq!(accounts[0].charges_cents, Some(650_000));

    // Client 2: intake, preparation, two explorations, two integrations;
    // 500.00 paid against x1.
    let two: Vec<AccountRow> = of_kind(&p.rows(ViewName::Billing, CLIENT_2), kinds::ACCOUNT);
    assert_eq!(
        (
            two[0].charges_cents,
            two[0].payments_cents,
            two[0].balance_cents
        ),
        (Some(4 * 17_500 + 2 * 55_000), Some(50_000), Some(130_000))
    );
}

#[tokio::test]
async fn billing_report_totals_and_balances_per_client() {
    let p = Practice::new().await;
    let table = p.report(ReportKind::Billing, Period::all(), None);
    let col = |name: &str| {
        table
            .columns
            .iter()
            .position(|c| *c == name)
            .expect("column")
    };
    let totals: Vec<Vec<Value>> = table
        .rows
        .iter()
        .filter(|r| r[col("line")] == json!("total"))
        .map(|r| {
            vec![
                r[col("client_id")].clone(),
                r[col("charge_cents")].clone(),
                r[col("payment_cents")].clone(),
                r[col("balance_cents")].clone(),
            ]
        })
        .collect();
    assert_eq!(
        totals,
        [
            vec![json!(CLIENT), json!(650_000), json!(650_000), json!(0)],
            vec![
                json!(CLIENT_2),
                json!(180_000),
                json!(50_000),
                json!(130_000)
            ],
        ]
    );
    // 20 charges, 9 payments and a total for client 1; 6, 1 and a total
    // for client 2.
    assert_eq!(table.rows.len(), 30 + 8);

    // Days 14–16 for client 1: x1 and i1 charged, pay-1 received, on a
    // balance of 350.00 carried in (intake and preparation).
    let part = p.report(ReportKind::Billing, period(14, 16), Some(CLIENT));
    let lines: Vec<(Value, Value, Value)> = part
        .rows
        .iter()
        .map(|r| {
            (
                r[col("line")].clone(),
                r[col("reference")].clone(),
                r[col("balance_cents")].clone(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (json!("charge"), json!("x1"), json!(35_000 + 55_000)),
            (json!("charge"), json!("i1"), json!(90_000 + 17_500)),
            (json!("payment"), json!("pay-1"), json!(107_500 - 72_500)),
            (json!("total"), Value::Null, json!(35_000)),
        ]
    );
    let total = part.rows.last().expect("total");
    assert_eq!(
        (&total[col("charge_cents")], &total[col("payment_cents")]),
        (&json!(72_500), &json!(72_500))
    );
    insta::assert_snapshot!("billing_report", render(&table));
}

#[tokio::test]
async fn superbill_per_client_and_period() {
    let p = Practice::new().await;
    let table = p.report(ReportKind::Superbill, Period::all(), Some(CLIENT_2));
    let col = |name: &str| {
        table
            .columns
            .iter()
            .position(|c| *c == name)
            .expect("column")
    };
    let lines: Vec<Vec<Value>> = table
        .rows
        .iter()
        .map(|r| {
            [
                "line",
                "date",
                "place_of_service",
                "cpt_code",
                "units",
                "fee_cents",
                "paid_cents",
                "reference",
            ]
            .iter()
            .map(|c| r[col(c)].clone())
            .collect()
        })
        .collect();
    let n = Value::Null;
    let d = |x: i64| json!(date(x).to_string());
    assert_eq!(
        lines,
        [
            vec![
                json!("service"),
                d(0),
                json!("11"),
                json!("90791"),
                json!(1),
                json!(17_500),
                json!(0),
                json!("intake")
            ],
            vec![
                json!("service"),
                d(7),
                json!("11"),
                json!("90837"),
                json!(1),
                json!(17_500),
                json!(0),
                json!("prep-2")
            ],
            vec![
                json!("service"),
                d(10),
                json!("11"),
                json!("0820T"),
                json!(3),
                json!(55_000),
                json!(50_000),
                json!("x1")
            ],
            vec![
                json!("service"),
                d(12),
                json!("11"),
                json!("90837"),
                json!(1),
                json!(17_500),
                json!(0),
                json!("i1")
            ],
            vec![
                json!("service"),
                d(15),
                json!("11"),
                json!("0820T"),
                json!(3),
                json!(55_000),
                json!(0),
                json!("x2")
            ],
            vec![
                json!("service"),
                d(24),
                json!("11"),
                json!("90837"),
                json!(1),
                json!(17_500),
                json!(0),
                json!("i2")
            ],
            vec![
                json!("total"),
                n.clone(),
                n.clone(),
                n.clone(),
                n.clone(),
                json!(180_000),
                json!(50_000),
                n.clone()
            ],
        ]
    );
    assert!(
        table
            .rows
            .iter()
            .all(|r| r[col("client_name")] == json!("Sam Sample")
                && r[col("diagnosis_codes")] == json!("F33.1")
                && r[col("date_of_birth")] == json!("1985-03-14"))
    );

    // Client 1 in days 100–130: two ongoing care sessions, the final
    // payment (not tied to a session).
    let late = p.report(ReportKind::Superbill, period(100, 130), Some(CLIENT));
    insta::assert_snapshot!("superbill_client_1_days_100_130", render(&late));
    let total = late.rows.last().expect("total");
    assert_eq!(
        (&total[col("fee_cents")], &total[col("paid_cents")]),
        (&json!(35_000), &json!(70_000))
    );
}

#[tokio::test]
async fn a_fee_schedule_change_does_not_reprice_past_sessions() {
    let client = "client-3";
    let mut c = Chart::new();
    c.on(0);
    c.ok(front_desk(), register_as(client, "Kim Case")).await;
    c.intake_suitable().await;
    c.medically_cleared().await;
    c.prescribed().await;
    c.consented().await;
    c.prepared("prep-1").await;
    c.on(7);
    c.explore("x1", 150).await.expect("x1");
    c.on(9);
    c.integrate("i1", "x1").await.expect("i1");
    let before = project(ViewName::Billing, client, &feed(client, &c.events, 1)).rows();

    // The admin adds fee schedule version 2, in force from day 20:
    // explorations $600, integrations $200.
    let mut v2 = FeeSchedule::standard();
    v2.version = 2;
    v2.effective_from = date(20);
    v2.exploration = Cents::dollars(600);
    v2.integration = Cents::dollars(200);
    let settings =
        PracticeSettings::new(vec![Policy::standard()], vec![FeeSchedule::standard(), v2])
            .expect("valid settings");
    c.practice = Arc::new(kapchart_e2e::practice_with(settings));
    c.on(21);
    c.explore("x2", 150).await.expect("x2");
    c.on(23);
    c.integrate("i2", "x2").await.expect("i2");

    // Rebuilt from the first event, after the change.
    let after = project(ViewName::Billing, client, &feed(client, &c.events, 1)).rows();
    let charges: Vec<ChargeRow> = of_kind(&after, kinds::CHARGE);
    let priced: Vec<(&str, i64, u32)> = charges
        .iter()
        .map(|c| (c.session.as_str(), c.amount_cents, c.fee_schedule_version))
        .collect();
    assert_eq!(
        priced,
        [
            ("i1", 17_500, 1),
            ("i2", 20_000, 2),
            ("intake-1", 17_500, 1),
            ("prep-1", 17_500, 1),
            ("x1", 55_000, 1),
            ("x2", 60_000, 2),
        ]
    );
    // The rows of the sessions held before the change are exactly as they
    // were.
    for row in before.iter().filter(|r| r.kind == kinds::CHARGE) {
        assert!(after.contains(row), "{} was repriced", row.key);
    }
    let account: Vec<AccountRow> = of_kind(&after, kinds::ACCOUNT);
    assert_eq!(
        account[0].charges_cents,
        Some(3 * 17_500 + 55_000 + 20_000 + 60_000)
    );
}

// ---- compliance ----

#[tokio::test]
async fn controlled_substance_log() {
    let p = Practice::new().await;
    let one: Vec<AdministrationRow> =
        of_kind(&p.rows(ViewName::Compliance, CLIENT), kinds::ADMINISTRATION);
    let log: Vec<_> = one
        .iter()
        .map(|a| {
            (
                a.date,
                a.dose_mg,
                a.lot_number.as_deref(),
                a.prescriber.as_deref(),
                a.monitoring_clinician.as_deref(),
            )
        })
        .collect();
    let doses = [100, 150, 150, 200, 200, 250, 250, 250];
    let expected: Vec<_> = doses
        .iter()
        .enumerate()
        .map(|(k, mg)| {
            (
                date(14 + 10 * k as i64),
                Some(*mg),
                Some("L-2026-01"),
                Some("rx-chen"),
                Some("t-rivera"),
            )
        })
        .collect();
    assert_eq!(log, expected);
    assert!(one.iter().all(|a| a.route == Route::Sublingual
        && a.drug == Some(Drug::Ketamine)
        && a.prescription.as_deref() == Some("rx-1")));
    assert_eq!(
        one[0].given_at,
        Some(day(14) + Duration::minutes(10 * 60 + 15))
    );

    let table = p.report(ReportKind::ControlledSubstances, Period::all(), None);
    // Eight doses for client 1, two for client 2 and its IV treatment at
    // the affiliate, by date.
    assert_eq!(table.rows.len(), 11);
    let col = |name: &str| {
        table
            .columns
            .iter()
            .position(|c| *c == name)
            .expect("column")
    };
    let external: Vec<Vec<Value>> = table
        .rows
        .iter()
        .filter(|r| r[col("setting")] == json!("external"))
        .map(|r| {
            [
                "date",
                "client_id",
                "route",
                "dose_mg",
                "provider",
                "lot_number",
            ]
            .iter()
            .map(|c| r[col(c)].clone())
            .collect()
        })
        .collect();
    assert_eq!(
        external,
        [vec![
            json!(date(26).to_string()),
            json!(CLIENT_2),
            json!("intravenous"),
            json!(35),
            json!("Affiliate Infusion Center"),
            Value::Null
        ]]
    );
    let dates: Vec<&Value> = table.column("date");
    let mut sorted = dates.clone();
    sorted.sort_by_key(|v| v.as_str().map(str::to_owned));
    assert_eq!(dates, sorted);
    insta::assert_snapshot!("controlled_substances_report", render(&table));
}

#[tokio::test]
async fn protocol_adherence_lists_every_override() {
    let p = Practice::new().await;
    // Client 1 kept the protocol: ten days apart, integrated within two
    // days, eight of eight authorized explorations.
    let clean = p.report(ReportKind::Protocol, Period::all(), Some(CLIENT));
    assert!(clean.rows.is_empty(), "{}", render(&clean));

    let table = p.report(ReportKind::Protocol, Period::all(), None);
    let col = |name: &str| {
        table
            .columns
            .iter()
            .position(|c| *c == name)
            .expect("column")
    };
    let found: Vec<Vec<Value>> = table
        .rows
        .iter()
        .map(|r| {
            [
                "day",
                "client_id",
                "finding",
                "rule",
                "overridden",
                "reason",
                "authorized_by",
                "detail",
                "session",
                "related_session",
                "days",
            ]
            .iter()
            .map(|c| r[col(c)].clone())
            .collect()
        })
        .collect();
    let d = |x: i64| json!(date(x).to_string());
    let n = Value::Null;
    assert_eq!(
        found,
        [
            vec![
                d(10),
                json!(CLIENT_2),
                json!("bp_above_threshold"),
                json!("exploration.bp_above_threshold"),
                json!(true),
                json!("prescriber reviewed; rechecked 138/88"),
                json!("rx-chen"),
                json!("pre-dose blood pressure 150/95 is above the threshold 140/90"),
                json!("x1"),
                n.clone(),
                n.clone(),
            ],
            vec![
                d(15),
                json!(CLIENT_2),
                json!("short_spacing"),
                json!("exploration.too_soon"),
                json!(true),
                json!("clinical judgement, see note"),
                json!("t-rivera"),
                json!("explorations are to be at least 7 days apart"),
                json!("x2"),
                json!("x1"),
                json!(5),
            ],
            vec![
                d(24),
                json!(CLIENT_2),
                json!("late_integration"),
                json!("integration.late"),
                json!(true),
                json!("clinical judgement, see note"),
                json!("t-rivera"),
                json!("the integration is more than 7 days after its exploration"),
                json!("i2"),
                json!("x2"),
                json!(9),
            ],
        ]
    );
    // A period around the late integration only.
    let late = p.report(ReportKind::Protocol, period(20, 30), None);
    assert_eq!(late.column("finding"), [&json!("late_integration")]);
}

#[tokio::test]
async fn outcomes_change_from_baseline_and_practice_means() {
    let p = Practice::new().await;
    let table = p.report(ReportKind::Outcomes, Period::all(), None);
    let n = Value::Null;
    let d = |x: i64| json!(date(x).to_string());
    // Client 1: PHQ-9 19 → 6; GAD-7, PCL-5 and BDI-II measured once.
    // Client 2: PHQ-9 20 → 9; GAD-7 once. Practice: PHQ-9 n = 2, baseline
    // (19 + 20) / 2 = 19.50, latest (6 + 9) / 2 = 7.50, change
    // (-13 - 11) / 2 = -12.00.
    let expected: Vec<Vec<Value>> = vec![
        vec![
            json!("client"),
            json!(CLIENT),
            json!("phq9"),
            n.clone(),
            d(0),
            d(100),
            json!(19),
            json!(6),
            json!(-13),
            n.clone(),
            n.clone(),
            n.clone(),
        ],
        vec![
            json!("client"),
            json!(CLIENT),
            json!("gad7"),
            n.clone(),
            d(0),
            d(0),
            json!(15),
            json!(15),
            n.clone(),
            n.clone(),
            n.clone(),
            n.clone(),
        ],
        vec![
            json!("client"),
            json!(CLIENT),
            json!("pcl5"),
            n.clone(),
            d(100),
            d(100),
            json!(10),
            json!(10),
            n.clone(),
            n.clone(),
            n.clone(),
            n.clone(),
        ],
        vec![
            json!("client"),
            json!(CLIENT),
            json!("bdi_ii"),
            n.clone(),
            d(100),
            d(100),
            json!(8),
            json!(8),
            n.clone(),
            n.clone(),
            n.clone(),
            n.clone(),
        ],
        vec![
            json!("client"),
            json!(CLIENT_2),
            json!("phq9"),
            n.clone(),
            d(0),
            d(25),
            json!(20),
            json!(9),
            json!(-11),
            n.clone(),
            n.clone(),
            n.clone(),
        ],
        vec![
            json!("client"),
            json!(CLIENT_2),
            json!("gad7"),
            n.clone(),
            d(0),
            d(0),
            json!(12),
            json!(12),
            n.clone(),
            n.clone(),
            n.clone(),
            n.clone(),
        ],
        vec![
            json!("practice"),
            n.clone(),
            json!("phq9"),
            json!(2),
            n.clone(),
            n.clone(),
            n.clone(),
            n.clone(),
            n.clone(),
            json!("19.50"),
            json!("7.50"),
            json!("-12.00"),
        ],
    ];
    assert_eq!(table.rows, expected);
    assert_eq!(
        table.columns,
        [
            "scope",
            "client_id",
            "instrument",
            "n",
            "baseline_on",
            "latest_on",
            "baseline",
            "latest",
            "change",
            "mean_baseline",
            "mean_latest",
            "mean_change"
        ]
    );

    // Up to day 50: client 1's latest PHQ-9 is the one on day 46 (12);
    // client 2's is day 25 (9). Means (19 + 20) / 2, (12 + 9) / 2 = 10.50,
    // (-7 - 11) / 2 = -9.00.
    let mid = p.report(
        ReportKind::Outcomes,
        Period::new(None, Some(date(50))).expect("period"),
        None,
    );
    let practice = mid.rows.last().expect("practice row");
    assert_eq!(
        &practice[9..],
        [json!("19.50"), json!("10.50"), json!("-9.00")]
    );
}

// ---- every report ----

#[tokio::test]
async fn every_report_over_an_empty_period_is_an_empty_table() {
    let p = Practice::new().await;
    // Nothing happens to either client between day 200 and day 210, nor
    // before they were registered.
    for empty in [
        period(200, 210),
        Period::new(None, Some(date(-1))).expect("period"),
    ] {
        for kind in ReportKind::ALL {
            let table = p.report(kind, empty, None);
            assert_eq!(table.columns, kind.columns(), "{kind}");
            assert!(table.rows.is_empty(), "{kind}: {}", render(&table));
            let serialized = serde_json::to_value(&table).expect("serializes");
            assert_eq!(serialized["rows"], json!([]));
        }
    }
    // And an unknown client's reports are empty too.
    for kind in ReportKind::ALL {
        assert!(
            p.report(kind, Period::all(), Some("client-9"))
                .rows
                .is_empty()
        );
    }
}

#[tokio::test]
async fn views_built_in_batches_with_stored_state_equal_one_pass() {
    let p = Practice::new().await;
    for (client, feed) in &p.clients {
        for view in ViewName::ALL {
            let one_pass = project(view, client, feed);
            // Batches of 7, each state stored as JSON and read back, with
            // every batch retried once (at-least-once delivery).
            let mut stored = view.new_state(client).to_json();
            for batch in feed.chunks(7) {
                for _attempt in 0..2 {
                    let mut state = ViewState::from_json(&stored).expect("stored state reads back");
                    for (meta, event) in batch {
                        state.apply(event, meta);
                    }
                    stored = state.to_json();
                }
            }
            let batched = ViewState::from_json(&stored).expect("reads back");
            assert_eq!(batched, one_pass, "{client} {view}");
            assert_eq!(batched.rows(), one_pass.rows());
            assert_eq!(batched.last_sequence(), feed.len() as u64);
        }
    }
}

#[tokio::test]
async fn no_floating_point_numbers_anywhere() {
    fn floats(v: &Value) -> usize {
        match v {
            Value::Number(n) => usize::from(n.is_f64()),
            Value::Array(a) => a.iter().map(floats).sum(),
            Value::Object(o) => o.values().map(floats).sum(),
            _ => 0,
        }
    }
    let p = Practice::new().await;
    let rows = p.all_rows();
    assert!(rows.iter().all(|(_, r)| floats(&r.data) == 0));
    for kind in ReportKind::ALL {
        let table = p.report(kind, Period::all(), None);
        assert_eq!(
            floats(&serde_json::to_value(&table).expect("serializes")),
            0,
            "{kind}"
        );
    }
}
