//! The client record counts days as the practice's local dates, in the
//! time zone of its identity, and takes its policy and fees from the
//! practice's record: tested in Los Angeles across the daylight-saving
//! changes of 2026 (clocks forward on March 8, back on November 1).
//!
//! Each case is also run with UTC days where they would differ, to show
//! the local date decides.

use chrono::Duration;
use kapchart_domain::*;
use kapchart_e2e::settings::*;
use kapchart_e2e::*;

/// A span in Los Angeles local time on one day, `h1:m1`–`h2:m2`.
fn la_span(y: i32, mo: u32, d: u32, (h1, m1): (u32, u32), (h2, m2): (u32, u32)) -> TimeSpan {
    TimeSpan::new(local(LA, y, mo, d, h1, m1), local(LA, y, mo, d, h2, m2)).expect("valid span")
}

/// The settings of a practice in Los Angeles that has adopted nothing else.
async fn la_settings() -> PracticeSettings {
    let mut book = Book::at(local(LA, 2026, 1, 1, 9, 0));
    book.ok(identity_in(LA)).await;
    book.settings()
}

/// Registered, intake suitable, cleared, prescribed (valid 2025-12-26 to
/// 2026-12-31), consented and one preparation held, all on 2026-01-05.
async fn ready(settings: PracticeSettings) -> Chart {
    let mut chart = Chart::with_settings(settings);
    chart.on(0);
    chart.register().await;
    chart.intake_suitable().await;
    chart.medically_cleared().await;
    chart.prescribed().await;
    chart.consented().await;
    chart.prepared("prep-1").await;
    chart
}

fn dosed(session: &str, span: TimeSpan, bp_before: BloodPressure) -> CommandBody {
    exploration_in(session, span, Some((150, Route::Sublingual)), bp_before)
}

fn charge_of(event: &ClientEvent) -> &Charge {
    event.charge().expect("the event carries a charge")
}

/// An exploration on Sunday March 1 and its integration; then a second
/// exploration on Saturday March 7 at 18:00 in Los Angeles, which is
/// Sunday March 8 02:00 UTC: 7 UTC dates after the first, 6 local ones.
async fn second_exploration_on_saturday_evening(
    settings: PracticeSettings,
) -> (Chart, Result<Vec<ClientEvent>, ClientError>) {
    let mut chart = ready(settings).await;
    chart.now = local(LA, 2026, 3, 1, 14, 0);
    chart
        .ok(
            therapist(),
            dosed("x1", la_span(2026, 3, 1, (10, 0), (13, 0)), bp(120, 80)),
        )
        .await;
    chart.now = local(LA, 2026, 3, 3, 12, 0);
    chart
        .ok(
            therapist(),
            integration("int-1", la_span(2026, 3, 3, (10, 0), (11, 0)), "x1"),
        )
        .await;
    chart.now = local(LA, 2026, 3, 8, 10, 0);
    let saturday = la_span(2026, 3, 7, (18, 0), (21, 0));
    assert_eq!(saturday.start().date_naive(), ymd(2026, 3, 8));
    let result = chart
        .exec(therapist(), dosed("x2", saturday, bp(120, 80)))
        .await;
    (chart, result)
}

#[tokio::test]
async fn spacing_counts_local_days_across_the_spring_change() {
    let (mut chart, result) = second_exploration_on_saturday_evening(la_settings().await).await;
    let before = chart.events.clone();
    let message = assert_refused(result, Rule::ExplorationTooSoon);
    assert!(message.contains("7 days"), "{message}");
    assert_eq!(chart.events, before);

    // Sunday March 8, after the clocks went forward: 7 local days.
    chart.now = local(LA, 2026, 3, 8, 14, 0);
    let event = chart
        .ok(
            therapist(),
            dosed("x2", la_span(2026, 3, 8, (10, 0), (13, 0)), bp(120, 80)),
        )
        .await;
    assert!(event.decision().overrides.is_empty());
    assert_eq!(charge_of(&event).service_date, ymd(2026, 3, 8));

    // Counted in UTC dates, the Saturday evening session was 7 days on.
    let (_, utc) = second_exploration_on_saturday_evening(PracticeSettings::standard()).await;
    let event = assert_allowed(utc);
    assert_eq!(charge_of(&event).service_date, ymd(2026, 3, 8));
}

#[tokio::test]
async fn scheduling_spacing_counts_local_days() {
    let mut chart = ready(la_settings().await).await;
    chart.now = local(LA, 2026, 2, 20, 12, 0);
    chart
        .ok(
            therapist(),
            schedule_exploration("x1", la_span(2026, 3, 1, (10, 0), (13, 0))),
        )
        .await;
    let saturday = la_span(2026, 3, 7, (18, 0), (21, 0));
    assert_refused(
        chart
            .exec(therapist(), schedule_exploration("x2", saturday))
            .await,
        Rule::ExplorationTooSoon,
    );
    chart
        .ok(
            therapist(),
            schedule_exploration("x2", la_span(2026, 3, 8, (9, 0), (12, 0))),
        )
        .await;
}

/// An exploration on Saturday October 24 at 18:00 in Los Angeles (Sunday
/// 01:00 UTC), and its integration on Sunday November 1 at 10:00, after
/// the clocks went back: 8 local days, 7 UTC ones.
async fn integration_after_the_autumn_change(
    settings: PracticeSettings,
) -> (Chart, Result<Vec<ClientEvent>, ClientError>) {
    let mut chart = ready(settings).await;
    chart.now = local(LA, 2026, 10, 24, 22, 0);
    let saturday = la_span(2026, 10, 24, (18, 0), (21, 0));
    assert_eq!(saturday.start().date_naive(), ymd(2026, 10, 25));
    chart
        .ok(therapist(), dosed("x1", saturday, bp(120, 80)))
        .await;
    chart.now = local(LA, 2026, 11, 1, 12, 0);
    let result = chart
        .exec(
            therapist(),
            integration("int-1", la_span(2026, 11, 1, (10, 0), (11, 0)), "x1"),
        )
        .await;
    (chart, result)
}

#[tokio::test]
async fn integration_window_counts_local_days_across_the_autumn_change() {
    let (mut chart, result) = integration_after_the_autumn_change(la_settings().await).await;
    let message = assert_refused(result, Rule::IntegrationLate);
    assert!(message.contains("7 days"), "{message}");

    // Saturday October 31, 7 local days on: within the window.
    let event = chart
        .ok(
            therapist(),
            integration("int-1", la_span(2026, 10, 31, (10, 0), (11, 0)), "x1"),
        )
        .await;
    assert!(event.decision().overrides.is_empty());

    let (_, utc) = integration_after_the_autumn_change(PracticeSettings::standard()).await;
    assert!(assert_allowed(utc).decision().overrides.is_empty());
}

#[tokio::test]
async fn fees_of_a_late_evening_session_are_those_of_its_local_date() {
    // On March 1 the practice adopts new fees from March 8.
    let mut book = Book::at(local(LA, 2026, 3, 1, 9, 0));
    book.ok(identity_in(LA)).await;
    book.ok(adopt_fees(ymd(2026, 3, 8), 600)).await;
    let mut chart = ready(book.settings()).await;

    // Saturday March 7, 18:00–19:00 in Los Angeles: March 8 in UTC, but
    // the practice's March 7, so the fees of version 1.
    chart.now = local(LA, 2026, 3, 8, 12, 0);
    let evening = la_span(2026, 3, 7, (18, 0), (19, 0));
    assert_eq!(evening.start().date_naive(), ymd(2026, 3, 8));
    let event = chart.ok(therapist(), preparation("prep-2", evening)).await;
    let charge = charge_of(&event);
    assert_eq!(
        (
            charge.fee_schedule_version,
            charge.amount,
            charge.service_date
        ),
        (1, Cents::dollars(175), ymd(2026, 3, 7))
    );
    // Sunday March 8, the first day of version 2 (clocks went forward at
    // 02:00 that night).
    let morning = la_span(2026, 3, 8, (9, 0), (10, 0));
    let event = chart.ok(therapist(), preparation("prep-3", morning)).await;
    let charge = charge_of(&event);
    assert_eq!(
        (
            charge.fee_schedule_version,
            charge.amount,
            charge.service_date
        ),
        (2, Cents::dollars(200), ymd(2026, 3, 8))
    );
}

#[tokio::test]
async fn a_fee_change_prices_sessions_by_their_date_and_never_reprices() {
    let mut book = Book::at(local(LA, 2026, 3, 1, 9, 0));
    book.ok(identity_in(LA)).await;
    let mut chart = ready(book.settings()).await;
    chart.now = local(LA, 2026, 3, 2, 12, 0);
    let event = chart
        .ok(
            therapist(),
            preparation("prep-2", la_span(2026, 3, 2, (9, 0), (10, 0))),
        )
        .await;
    assert_eq!(charge_of(&event).amount, Cents::dollars(175));
    let recorded = chart.events.clone();

    // On March 3 the practice adopts new fees from March 9; the chart is
    // decided with the new settings from then on.
    book.now = local(LA, 2026, 3, 3, 9, 0);
    book.ok(adopt_fees(ymd(2026, 3, 9), 600)).await;
    chart.practice = std::sync::Arc::new(practice_with(book.settings()));

    // A session held March 5, recorded March 10: the fees of its date.
    chart.now = local(LA, 2026, 3, 10, 12, 0);
    let event = chart
        .ok(
            therapist(),
            preparation("prep-3", la_span(2026, 3, 5, (9, 0), (10, 0))),
        )
        .await;
    let charge = charge_of(&event);
    assert_eq!(
        (charge.fee_schedule_version, charge.amount),
        (1, Cents::dollars(175))
    );
    // A session held March 9: the new fees.
    let event = chart
        .ok(
            therapist(),
            preparation("prep-4", la_span(2026, 3, 9, (9, 0), (10, 0))),
        )
        .await;
    let charge = charge_of(&event);
    assert_eq!(
        (charge.fee_schedule_version, charge.amount),
        (2, Cents::dollars(200))
    );
    // What was recorded before the change is as it was.
    assert_eq!(&chart.events[..recorded.len()], &recorded[..]);
    assert_eq!(chart.replay(), chart.record);
    // And a fee change for a day already begun is refused.
    book.now = local(LA, 2026, 3, 12, 23, 30);
    assert_settings_refused(
        book.exec(admin(), adopt_fees(ymd(2026, 3, 12), 700)).await,
        Rule::SettingsRetroactive,
    );
}

#[tokio::test]
async fn a_policy_change_applies_to_decisions_after_it_only() {
    // On March 1 at 09:00 the practice adopts a 130/85 threshold from
    // local midnight that night.
    let mut book = Book::at(local(LA, 2026, 3, 1, 9, 0));
    book.ok(identity_in(LA)).await;
    let midnight = local(LA, 2026, 3, 2, 0, 0);
    book.ok(adopt_policy(midnight)).await;
    let mut chart = ready(book.settings()).await;
    assert!(
        chart
            .events
            .iter()
            .all(|e| e.decision().policy_version == 1)
    );

    // Recorded at 23:59 on March 1: version 1 (140/90) decides, 135/85 passes.
    chart.now = midnight - Duration::minutes(1);
    let event = chart
        .ok(
            therapist(),
            dosed("x1", la_span(2026, 3, 1, (10, 0), (13, 0)), bp(135, 85)),
        )
        .await;
    assert_eq!(event.decision().policy_version, 1);
    assert!(event.decision().overrides.is_empty());

    // From midnight on, version 2 decides.
    chart.now = midnight;
    let event = chart.ok(therapist(), consent(ymd(2026, 3, 2))).await;
    assert_eq!(event.decision().policy_version, 2);
    chart.now = local(LA, 2026, 3, 3, 12, 0);
    chart
        .ok(
            therapist(),
            integration("int-1", la_span(2026, 3, 3, (10, 0), (11, 0)), "x1"),
        )
        .await;
    chart.now = local(LA, 2026, 3, 8, 14, 0);
    let before = chart.events.clone();
    assert_refused(
        chart
            .exec(
                therapist(),
                dosed("x2", la_span(2026, 3, 8, (10, 0), (13, 0)), bp(135, 85)),
            )
            .await,
        Rule::ExplorationBloodPressureAboveThreshold,
    );
    assert_eq!(chart.events, before);
    // The decisions made before keep the version they were made under.
    assert_eq!(chart.events[6].decision().policy_version, 1);
    assert_eq!(chart.replay(), chart.record);
}

#[tokio::test]
async fn today_is_the_practices_date() {
    // 19:00 on Saturday March 7 in Los Angeles is March 8 in UTC: a consent
    // signed "on March 8" is in the practice's future.
    let mut chart = ready(la_settings().await).await;
    chart.now = local(LA, 2026, 3, 7, 19, 0);
    let result = chart.exec(therapist(), consent(ymd(2026, 3, 8))).await;
    assert!(
        matches!(
            result,
            Err(ClientError::Invalid {
                field: "signed_on",
                ..
            })
        ),
        "{result:?}"
    );
    chart.ok(therapist(), consent(ymd(2026, 3, 7))).await;

    let mut utc = ready(PracticeSettings::standard()).await;
    utc.now = chart.now;
    utc.ok(therapist(), consent(ymd(2026, 3, 8))).await;
}
