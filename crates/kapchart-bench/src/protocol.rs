//! The commands the benchmark sends: each client's realistic history (the
//! KAP protocol, about 50 commands) and the measured commands (an outcome
//! measure or a payment with fresh ids).
//!
//! Day 0 is Monday 2025-01-06; client `i` starts on day `i % 180`. The
//! measured commands are issued on day 364, after every history.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use kapchart_domain::{
    Actor, AdjustDose, Administration, BloodPressure, Cents, Clearance, ClientId, Command,
    CommandBody, CommandId, DateRange, Departure, Dosing, Drug, Gad7Score, Icd10Code,
    IssuePrescription, LotNumber, Milligrams, OutcomeMeasure, Payer, PaymentId, PaymentMethod,
    PersonName, Phq9Score, PrescriptionId, RawRecordExploration, RecordConsent, RecordExploration,
    RecordIntake, RecordIntegration, RecordMedicalEvaluation, RecordOngoingCare,
    RecordOutcomeMeasure, RecordPayment, RecordPreparation, RegisterClient, Role, Route,
    ScheduleIntegration, ScheduleSession, SessionCount, SessionId, Suitability, Text, TimeSpan,
    UserId,
};

/// The day the measured commands are issued (after every history).
const BENCH_DAY: i64 = 364;

/// Midnight UTC on day `d`.
fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
        + Duration::days(d)
}

fn date(d: i64) -> NaiveDate {
    day(d).date_naive()
}

/// 20:00 on day `d`: when that day's records are written.
fn evening(d: i64) -> DateTime<Utc> {
    day(d) + Duration::hours(20)
}

fn span(d: i64, from_h: i64, to_h: i64) -> anyhow::Result<TimeSpan> {
    Ok(TimeSpan::new(
        day(d) + Duration::hours(from_h),
        day(d) + Duration::hours(to_h),
    )?)
}

fn sid(s: &str) -> anyhow::Result<SessionId> {
    Ok(SessionId::parse(s)?)
}

fn text(s: &str) -> anyhow::Result<Text> {
    Ok(Text::new(s)?)
}

fn actor(id: &str, role: Role) -> anyhow::Result<Actor> {
    Ok(Actor {
        id: UserId::parse(id)?,
        role,
    })
}

fn therapist() -> anyhow::Result<Actor> {
    actor("t-rivera", Role::Therapist)
}

fn prescriber() -> anyhow::Result<Actor> {
    actor("rx-chen", Role::Prescriber)
}

fn front_desk() -> anyhow::Result<Actor> {
    actor("fd-jones", Role::FrontDesk)
}

/// The staff the sample protocol names, as the practice's accounts.
pub fn staff() -> anyhow::Result<Vec<Actor>> {
    Ok(vec![therapist()?, prescriber()?, front_desk()?])
}

/// The id of client `i`.
pub fn client_id(i: usize) -> String {
    format!("client-{i:05}")
}

/// One command of a history, before it gets its id.
struct Step {
    actor: Actor,
    at: DateTime<Utc>,
    body: CommandBody,
}

fn add(steps: &mut Vec<Step>, actor: &Actor, at: DateTime<Utc>, body: CommandBody) {
    steps.push(Step {
        actor: actor.clone(),
        at,
        body,
    });
}

fn phq9(score: i64, on: i64) -> anyhow::Result<CommandBody> {
    Ok(CommandBody::RecordOutcomeMeasure(RecordOutcomeMeasure {
        measure: OutcomeMeasure::Phq9(Phq9Score::new(score)?),
        administered_on: date(on),
    }))
}

fn gad7(score: i64, on: i64) -> anyhow::Result<CommandBody> {
    Ok(CommandBody::RecordOutcomeMeasure(RecordOutcomeMeasure {
        measure: OutcomeMeasure::Gad7(Gad7Score::new(score)?),
        administered_on: date(on),
    }))
}

fn payment(id: &str, cents: i64, on: i64, session: Option<&str>) -> anyhow::Result<CommandBody> {
    Ok(CommandBody::RecordPayment(RecordPayment {
        payment: PaymentId::parse(id)?,
        amount: Cents::new(cents)?,
        method: PaymentMethod::Card,
        payer: Payer::Client,
        received_on: date(on),
        session: session.map(sid).transpose()?,
    }))
}

fn exploration(session: &str, d: i64, dose: i64) -> anyhow::Result<CommandBody> {
    let s = span(d, 10, 13)?;
    let raw = RawRecordExploration {
        session: sid(session)?,
        span: s,
        administration: Some(Administration {
            drug: Drug::Ketamine,
            route: Route::Sublingual,
            dose: Milligrams::new(dose)?,
            lot_number: LotNumber::new("L-2025-07")?,
            given_at: s.start() + Duration::minutes(15),
        }),
        not_dosed_reason: None,
        bp_before: BloodPressure::new(122, 78)?,
        bp_after: BloodPressure::new(128, 82)?,
        observations: text("calm, reflective; brief nausea at 11:05, resolved; no distress")?,
        adverse_events: vec![],
        discharged_at: s.end() - Duration::minutes(15),
        departure: Departure::Companion,
    };
    Ok(CommandBody::RecordExploration(RecordExploration::try_from(
        raw,
    )?))
}

/// The realistic history of client `i`: `n` commands that all succeed in
/// order. The first 50 follow the protocol (registration, intake, medical
/// evaluation, prescription, consent, baseline measures, preparation, six
/// scheduled explorations each with a scheduled integration, a measure and
/// a payment, a dose adjustment, ongoing care); beyond 50, alternating
/// measures and payments.
pub fn history(i: usize, n: usize) -> anyhow::Result<Vec<Command>> {
    let s = (i % 180) as i64;
    let t = therapist()?;
    let p = prescriber()?;
    let f = front_desk()?;
    let mut steps: Vec<Step> = Vec::with_capacity(n.max(50));

    add(
        &mut steps,
        &f,
        evening(s),
        CommandBody::RegisterClient(RegisterClient {
            client_id: ClientId::parse(&client_id(i))?,
            name: PersonName::new("Alex Example")?,
            date_of_birth: NaiveDate::from_ymd_opt(1960 + (i % 40) as i32, 3, 14)
                .unwrap_or_default(),
            therapist: t.id.clone(),
            prescriber: Some(prescriber()?.id),
        }),
    );
    add(
        &mut steps,
        &t,
        evening(s),
        CommandBody::RecordIntake(RecordIntake {
            session: sid("intake-1")?,
            span: span(s, 9, 10)?,
            finding: Suitability::Suitable,
            diagnoses: vec![Icd10Code::new("F33.1")?],
            notes: text("treatment-resistant depression; two prior SSRIs, one SNRI")?,
        }),
    );
    add(
        &mut steps,
        &p,
        evening(s),
        CommandBody::RecordMedicalEvaluation(RecordMedicalEvaluation {
            evaluated_on: date(s),
            finding: Clearance::Cleared,
            notes: text("no contraindications found; BP 118/76 at rest")?,
        }),
    );
    add(
        &mut steps,
        &p,
        evening(s),
        CommandBody::IssuePrescription(IssuePrescription {
            prescription: PrescriptionId::parse("rx-1")?,
            drug: Drug::Ketamine,
            valid: DateRange::new(date(s - 10), date(s + 360))?,
            dosing: Dosing::new(
                Milligrams::new(100)?,
                Milligrams::new(300)?,
                Milligrams::new(150)?,
                Milligrams::new(50)?,
            )?,
            authorized_sessions: SessionCount::new(8)?,
            instructions: text("sublingual lozenge, hold 15 minutes, then spit")?,
        }),
    );
    add(
        &mut steps,
        &t,
        evening(s),
        CommandBody::RecordConsent(RecordConsent {
            signed_on: date(s),
            form: text("KAP informed consent v3")?,
        }),
    );
    add(&mut steps, &t, evening(s), phq9(19, s)?);
    add(&mut steps, &t, evening(s), gad7(14, s)?);
    add(
        &mut steps,
        &f,
        evening(s),
        payment("pay-intake", 25_000, s, Some("intake-1"))?,
    );
    add(
        &mut steps,
        &t,
        evening(s),
        CommandBody::SchedulePreparation(ScheduleSession {
            session: sid("prep-1")?,
            span: span(s + 3, 10, 11)?,
            therapist: t.id.clone(),
        }),
    );
    add(
        &mut steps,
        &t,
        evening(s + 3),
        CommandBody::RecordPreparation(RecordPreparation {
            session: sid("prep-1")?,
            span: span(s + 3, 10, 11)?,
            intentions: text("reconnect with family; less self-criticism")?,
            aftercare_plan: text("partner drives home; journaling; call on day 2")?,
            notes: text("discussed what to expect, music, eyeshades, set and setting")?,
        }),
    );
    let mut now = s + 3;
    for k in 0..6_i64 {
        let d = s + 7 + 7 * k;
        let x = format!("x{}", k + 1);
        let ig = format!("i{}", k + 1);
        add(
            &mut steps,
            &t,
            evening(now),
            CommandBody::ScheduleExploration(ScheduleSession {
                session: sid(&x)?,
                span: span(d, 10, 13)?,
                therapist: t.id.clone(),
            }),
        );
        let dose = if k < 2 { 150 } else { 200 };
        add(&mut steps, &t, evening(d), exploration(&x, d, dose)?);
        add(
            &mut steps,
            &t,
            evening(d),
            CommandBody::ScheduleIntegration(ScheduleIntegration {
                session: sid(&ig)?,
                span: span(d + 2, 10, 11)?,
                therapist: t.id.clone(),
                exploration: sid(&x)?,
            }),
        );
        add(
            &mut steps,
            &t,
            evening(d + 2),
            CommandBody::RecordIntegration(RecordIntegration {
                session: sid(&ig)?,
                span: span(d + 2, 10, 11)?,
                exploration: sid(&x)?,
                notes: text("integrating insights about grief and self-compassion")?,
            }),
        );
        add(
            &mut steps,
            &t,
            evening(d + 2),
            phq9((17 - 2 * k).max(4), d + 2)?,
        );
        add(
            &mut steps,
            &f,
            evening(d + 2),
            payment(&format!("pay-{x}"), 40_000, d + 2, Some(&x))?,
        );
        if k == 1 {
            add(
                &mut steps,
                &p,
                evening(d + 2),
                CommandBody::AdjustDose(AdjustDose {
                    dose: Milligrams::new(200)?,
                    reason: text("tolerated well, modest effect")?,
                }),
            );
        }
        now = d + 2;
    }
    let oc = s + 49;
    add(
        &mut steps,
        &t,
        evening(oc),
        CommandBody::RecordOngoingCare(RecordOngoingCare {
            session: sid("oc-1")?,
            span: span(oc, 10, 11)?,
            notes: text("maintenance; mood stable, sleeping better")?,
        }),
    );
    add(
        &mut steps,
        &f,
        evening(oc),
        payment("pay-oc-1", 15_000, oc, Some("oc-1"))?,
    );
    add(&mut steps, &t, evening(oc), gad7(6, oc)?);
    let mut extra = 0;
    while steps.len() < n {
        extra += 1;
        if extra % 2 == 1 {
            add(&mut steps, &t, evening(oc), phq9(5, oc)?);
        } else {
            add(
                &mut steps,
                &f,
                evening(oc),
                payment(&format!("pay-extra-{extra}"), 15_000, oc, None)?,
            );
        }
    }
    steps.truncate(n);
    steps
        .into_iter()
        .enumerate()
        .map(|(k, step)| {
            let id = CommandId::parse(&format!("h-{}", k + 1))?;
            Ok(Command::new(id, step.actor, step.at, step.body))
        })
        .collect()
}

/// Client `i`'s history over a whole year: the 50 commands of
/// [`history`], then a weekly ongoing care session (with its payment, and
/// a PHQ-9 every fourth week) until 364 days after the client's start:
/// about 150 commands, for a chart of a client with a year of history.
pub fn year_history(i: usize) -> anyhow::Result<Vec<Command>> {
    let mut commands = history(i, 50)?;
    let s = (i % 180) as i64;
    let t = therapist()?;
    let f = front_desk()?;
    let mut steps: Vec<Step> = Vec::new();
    let mut week = 1;
    let mut d = s + 56;
    while d <= s + 364 {
        week += 1;
        let session = format!("oc-{week}");
        add(
            &mut steps,
            &t,
            evening(d),
            CommandBody::RecordOngoingCare(RecordOngoingCare {
                session: sid(&session)?,
                span: span(d, 10, 11)?,
                notes: text("maintenance; mood stable; reviewed the coping plan")?,
            }),
        );
        add(
            &mut steps,
            &f,
            evening(d),
            payment(&format!("pay-{session}"), 17_500, d, Some(&session))?,
        );
        if week % 4 == 0 {
            add(&mut steps, &t, evening(d), phq9(4 + (week % 5), d)?);
        }
        d += 7;
    }
    let first = commands.len();
    for (k, step) in steps.into_iter().enumerate() {
        let id = CommandId::parse(&format!("h-{}", first + k + 1))?;
        commands.push(Command::new(id, step.actor, step.at, step.body));
    }
    Ok(commands)
}

/// A preparation session `session` with the therapist of the histories,
/// for an hour from `start`, booked by the front desk at `at`.
pub fn booking(session: &str, start: DateTime<Utc>, at: DateTime<Utc>) -> anyhow::Result<Command> {
    let id = CommandId::parse(&format!("book-{session}"))?;
    let body = CommandBody::SchedulePreparation(ScheduleSession {
        session: sid(session)?,
        span: TimeSpan::new(start, start + Duration::hours(1))?,
        therapist: therapist()?.id,
    });
    Ok(Command::new(id, front_desk()?, at, body))
}

/// A measured command: `n` even, a PHQ-9 score by the therapist; odd, a
/// card payment by the front desk with a fresh payment id. `tag` makes the
/// ids unique across figures and writers.
pub fn bench_command(tag: &str, n: u64) -> anyhow::Result<Command> {
    let id = CommandId::parse(&format!("{tag}-{n}"))?;
    let at = evening(BENCH_DAY);
    if n.is_multiple_of(2) {
        let score = (n / 2 % 28) as i64;
        Ok(Command::new(id, therapist()?, at, phq9(score, BENCH_DAY)?))
    } else {
        let cents = 5_000 + (n % 97) as i64 * 100;
        let body = payment(&format!("p{tag}-{n}"), cents, BENCH_DAY, None)?;
        Ok(Command::new(id, front_desk()?, at, body))
    }
}
