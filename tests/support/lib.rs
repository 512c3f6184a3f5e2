//! Shared helpers for the end-to-end tests in `tests/`.
//!
//! [`Chart`] drives one client's [`ClientRecord`] exactly as cqrs-es does in
//! event-store mode: handle the command on the current state, keep the
//! events only when the command succeeds. A refused command leaves the
//! record and its history untouched, which every test can check.
//!
//! Times: day 0 is Monday 2026-01-05. `chart.on(d)` moves "now" to 20:00
//! UTC on day `d`; sessions recorded "today" run in the morning.

pub mod api;
pub mod pages;
pub mod settings;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use kapchart_domain::*;

/// Runs each named scenario, an `async fn(url: &str)`, as two tests: on a
/// fresh PostgreSQL database and on a fresh SQLite file (a module per
/// scenario with `postgres` and `sqlite` in it).
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = kapchart_testkit::postgres().await;
                super::$name(&db.url).await;
                db.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = kapchart_testkit::sqlite();
                super::$name(&db.url).await;
                db.cleanup().await;
            }
        }
    )*};
}

/// The id of the client every [`Chart`] registers.
pub const CLIENT: &str = "client-1";

/// Midnight UTC on day `d` (day 0 = 2026-01-05).
pub fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
        .single()
        .expect("valid base date")
        + Duration::days(d)
}

/// The calendar date of day `d`.
pub fn date(d: i64) -> NaiveDate {
    day(d).date_naive()
}

/// A span on day `d` from `from` to `to` (hours, may be fractional via minutes).
pub fn span(d: i64, from_h: i64, to_h: i64) -> TimeSpan {
    TimeSpan::new(
        day(d) + Duration::hours(from_h),
        day(d) + Duration::hours(to_h),
    )
    .expect("test span is valid")
}

/// Parses an id or panics (test data).
pub fn sid(s: &str) -> SessionId {
    SessionId::parse(s).expect("valid session id")
}

/// Checked text (test data).
pub fn text(s: &str) -> Text {
    Text::new(s).expect("valid text")
}

/// Milligrams (test data).
pub fn mg(n: i64) -> Milligrams {
    Milligrams::new(n).expect("valid dose")
}

/// Blood pressure (test data).
pub fn bp(s: i64, d: i64) -> BloodPressure {
    BloodPressure::new(s, d).expect("valid blood pressure")
}

fn actor(id: &str, role: Role) -> Actor {
    Actor {
        id: UserId::parse(id).expect("valid user id"),
        role,
    }
}

/// The client's therapist.
pub fn therapist() -> Actor {
    actor("t-rivera", Role::Therapist)
}
/// A second therapist.
pub fn other_therapist() -> Actor {
    actor("t-okafor", Role::Therapist)
}
/// The client's prescriber.
pub fn prescriber() -> Actor {
    actor("rx-chen", Role::Prescriber)
}
/// Another prescriber (not the client's).
pub fn other_prescriber() -> Actor {
    actor("rx-patel", Role::Prescriber)
}
/// Front desk.
pub fn front_desk() -> Actor {
    actor("fd-jones", Role::FrontDesk)
}
/// Auditor.
pub fn auditor() -> Actor {
    actor("au-smith", Role::Auditor)
}
/// Admin.
pub fn admin() -> Actor {
    actor("ad-root", Role::Admin)
}

/// Every test actor, as the practice's active accounts.
pub fn staff() -> Vec<Actor> {
    vec![
        therapist(),
        other_therapist(),
        prescriber(),
        other_prescriber(),
        front_desk(),
        auditor(),
        admin(),
    ]
}

/// An in-memory practice with `settings` and every test actor enrolled.
pub fn practice_with(settings: PracticeSettings) -> InMemoryPractice {
    let practice = InMemoryPractice::new(settings);
    for a in staff() {
        practice.enrol(a.id, a.role);
    }
    practice
}

/// One client's record under test.
#[derive(Debug)]
pub struct Chart {
    /// The aggregate's current state.
    pub record: ClientRecord,
    /// Every event committed, in order (sequence = index + 1).
    pub events: Vec<ClientEvent>,
    /// The practice (settings, other clients' bookings).
    pub practice: Arc<InMemoryPractice>,
    /// "Now": the issued_at of the next command.
    pub now: DateTime<Utc>,
    next_command: u64,
}

impl Default for Chart {
    fn default() -> Self {
        Self::with_settings(PracticeSettings::standard())
    }
}

impl Chart {
    /// A new, unregistered record with standard practice settings, on day 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new record with the given settings.
    pub fn with_settings(settings: PracticeSettings) -> Self {
        Self {
            record: ClientRecord::default(),
            events: Vec::new(),
            practice: Arc::new(practice_with(settings)),
            now: day(0) + Duration::hours(20),
            next_command: 0,
        }
    }

    /// Moves "now" to 20:00 on day `d`.
    pub fn on(&mut self, d: i64) -> &mut Self {
        self.now = day(d) + Duration::hours(20);
        self
    }

    /// A fresh command id.
    pub fn command_id(&mut self) -> CommandId {
        self.next_command += 1;
        CommandId::parse(&format!("cmd-{}", self.next_command)).expect("valid command id")
    }

    /// A command by `actor` issued now, with a fresh id.
    pub fn command(&mut self, actor: Actor, body: CommandBody) -> Command {
        let id = self.command_id();
        Command::new(id, actor, self.now, body)
    }

    /// Runs a command as cqrs-es does: decide on the current state, commit
    /// the events only on success. Returns the new events.
    pub async fn run(&mut self, command: Command) -> Result<Vec<ClientEvent>, ClientError> {
        let services: Services = self.practice.clone();
        let mut next = self.record.clone();
        let sink = EventSink::<ClientRecord>::default();
        let before = self.events.len();
        next.handle(command, &services, &sink).await?;
        let new = sink.collect().await;
        assert_eq!(self.events.len(), before);
        self.events.extend(new.iter().cloned());
        self.record = next;
        Ok(new)
    }

    /// Issues `body` as `actor`, now, with a fresh command id.
    pub async fn exec(
        &mut self,
        actor: Actor,
        body: CommandBody,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let command = self.command(actor, body);
        self.run(command).await
    }

    /// Like [`Chart::exec`], with override reasons for the given rules.
    pub async fn exec_overriding(
        &mut self,
        actor: Actor,
        body: CommandBody,
        rules: &[Rule],
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let mut command = self.command(actor, body);
        for rule in rules {
            command = command.with_override(*rule, text("clinical judgement, see note"));
        }
        self.run(command).await
    }

    /// Issues a command that must succeed and produce one event.
    pub async fn ok(&mut self, actor: Actor, body: CommandBody) -> ClientEvent {
        let name = body.name();
        match self.exec(actor, body).await {
            Ok(mut events) if events.len() == 1 => events.remove(0),
            Ok(events) => panic!("{name}: expected one event, got {}", events.len()),
            Err(err) => panic!("{name} refused: {err}"),
        }
    }

    /// Rebuilds a record from the committed events, as a store would.
    pub fn replay(&self) -> ClientRecord {
        let mut record = ClientRecord::default();
        for event in &self.events {
            record.apply(event.clone());
        }
        record
    }

    // ---- the protocol, step by step (each must succeed) ----

    /// Registers the client (front desk).
    pub async fn register(&mut self) -> &mut Self {
        self.ok(front_desk(), register_client()).await;
        self
    }

    /// Intake today, found suitable.
    pub async fn intake_suitable(&mut self) -> &mut Self {
        let d = self.today();
        self.ok(
            therapist(),
            intake("intake-1", span(d, 9, 10), Suitability::Suitable),
        )
        .await;
        self
    }

    /// Medical evaluation today, cleared.
    pub async fn medically_cleared(&mut self) -> &mut Self {
        let today = self.now.date_naive();
        self.ok(prescriber(), medical(today, Clearance::Cleared))
            .await;
        self
    }

    /// The standard prescription: 100–300 mg, starting 150, step 50, 8
    /// sessions, valid days -10 to 360.
    pub async fn prescribed(&mut self) -> &mut Self {
        self.ok(prescriber(), standard_prescription("rx-1")).await;
        self
    }

    /// Consent signed today.
    pub async fn consented(&mut self) -> &mut Self {
        let today = self.now.date_naive();
        self.ok(therapist(), consent(today)).await;
        self
    }

    /// A preparation session held today 10:00–11:00.
    pub async fn prepared(&mut self, session: &str) -> &mut Self {
        let d = self.today();
        self.ok(therapist(), preparation(session, span(d, 10, 11)))
            .await;
        self
    }

    /// Registered, intake suitable, cleared, prescribed, consented and one
    /// preparation held, all on day 0.
    pub async fn ready_for_exploration() -> Self {
        let mut chart = Self::new();
        chart.on(0);
        chart.register().await;
        chart.intake_suitable().await;
        chart.medically_cleared().await;
        chart.prescribed().await;
        chart.consented().await;
        chart.prepared("prep-1").await;
        chart
    }

    /// The day index of "now".
    pub fn today(&self) -> i64 {
        (self.now - day(0)).num_days()
    }

    /// An exploration held today 10:00–13:00 with `dose` mg (pre-dose BP
    /// 120/80), recorded by the therapist; then, if `integrate`, an
    /// integration two days later. Moves "now" accordingly.
    pub async fn explore(
        &mut self,
        session: &str,
        dose: i64,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let d = self.today();
        self.exec(
            therapist(),
            exploration(session, d, Some(dose), bp(120, 80)),
        )
        .await
    }

    /// Records an integration for `exploration` today 10:00–11:00.
    pub async fn integrate(
        &mut self,
        session: &str,
        exploration: &str,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let d = self.today();
        self.exec(
            therapist(),
            integration(session, span(d, 10, 11), exploration),
        )
        .await
    }
}

/// Asserts a command was refused by `rule`, and returns the refusal message.
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(result: Result<T, ClientError>, rule: Rule) -> String {
    match result {
        Err(ClientError::Refused(r)) => {
            assert_eq!(
                r.rule, rule,
                "refused by {} ({}), expected {}",
                r.rule, r.message, rule
            );
            assert!(!r.message.is_empty(), "refusal without a message");
            r.message
        }
        other => panic!("expected refusal by {rule}, got {other:?}"),
    }
}

/// Asserts a command succeeded with one event, and returns it.
#[track_caller]
pub fn assert_allowed(result: Result<Vec<ClientEvent>, ClientError>) -> ClientEvent {
    match result {
        Ok(mut events) if events.len() == 1 => events.remove(0),
        other => panic!("expected one event, got {other:?}"),
    }
}

// ---- command bodies ----

/// RegisterClient for [`CLIENT`], therapist t-rivera.
pub fn register_client() -> CommandBody {
    CommandBody::RegisterClient(RegisterClient {
        client_id: ClientId::parse(CLIENT).expect("valid client id"),
        name: PersonName::new("Alex Example").expect("valid name"),
        date_of_birth: NaiveDate::from_ymd_opt(1985, 3, 14).expect("valid date"),
        therapist: therapist().id,
        prescriber: Some(prescriber().id),
    })
}

/// AuthorizeOverride of the BP rule, `id` for `session`, valid until day
/// `until`, with an optional ceiling (issued by the client's prescriber).
pub fn authorize_bp(
    id: &str,
    session: &str,
    until: i64,
    ceiling: Option<BloodPressure>,
) -> CommandBody {
    CommandBody::AuthorizeOverride(AuthorizeOverride {
        authorization: AuthorizationId::parse(id).expect("valid authorization id"),
        rule: Rule::ExplorationBloodPressureAboveThreshold,
        session: sid(session),
        valid_until: date(until),
        ceiling,
        reason: text("asymptomatic, repeat reading lower after rest; proceed"),
    })
}

/// An override of the BP rule referencing authorization `id`.
pub fn bp_override(id: &str) -> Override {
    Override {
        rule: Rule::ExplorationBloodPressureAboveThreshold,
        reason: text("prescriber reviewed; rechecked after rest"),
        authorization: Some(AuthorizationId::parse(id).expect("valid authorization id")),
    }
}

/// RecordIntake.
pub fn intake(session: &str, span: TimeSpan, finding: Suitability) -> CommandBody {
    CommandBody::RecordIntake(RecordIntake {
        session: sid(session),
        span,
        finding,
        diagnoses: vec![Icd10Code::new("F33.1").expect("valid code")],
        notes: text("treatment-resistant depression; prior SSRIs"),
    })
}

/// RecordMedicalEvaluation.
pub fn medical(on: NaiveDate, finding: Clearance) -> CommandBody {
    CommandBody::RecordMedicalEvaluation(RecordMedicalEvaluation {
        evaluated_on: on,
        finding,
        notes: text("no contraindications found"),
    })
}

/// IssuePrescription with explicit bounds.
#[allow(clippy::too_many_arguments)]
pub fn prescription(
    id: &str,
    valid_from: i64,
    valid_until: i64,
    min: i64,
    max: i64,
    starting: i64,
    step: i64,
    sessions: i64,
) -> CommandBody {
    CommandBody::IssuePrescription(IssuePrescription {
        prescription: PrescriptionId::parse(id).expect("valid id"),
        drug: Drug::Ketamine,
        valid: DateRange::new(date(valid_from), date(valid_until)).expect("valid range"),
        dosing: Dosing::new(mg(min), mg(max), mg(starting), mg(step)).expect("valid dosing"),
        authorized_sessions: SessionCount::new(sessions).expect("valid count"),
        instructions: text("sublingual lozenge, hold 15 minutes"),
    })
}

/// The standard prescription: 100–300 mg, starting 150, step 50, 8
/// sessions, valid days -10 to 360.
pub fn standard_prescription(id: &str) -> CommandBody {
    prescription(id, -10, 360, 100, 300, 150, 50, 8)
}

/// RecordConsent.
pub fn consent(on: NaiveDate) -> CommandBody {
    CommandBody::RecordConsent(RecordConsent {
        signed_on: on,
        form: text("KAP informed consent v3"),
    })
}

fn schedule(session: &str, span: TimeSpan, therapist: &Actor) -> ScheduleSession {
    ScheduleSession {
        session: sid(session),
        span,
        therapist: therapist.id.clone(),
    }
}

/// SchedulePreparation with t-rivera.
pub fn schedule_preparation(session: &str, span: TimeSpan) -> CommandBody {
    CommandBody::SchedulePreparation(schedule(session, span, &therapist()))
}

/// ScheduleExploration with t-rivera.
pub fn schedule_exploration(session: &str, span: TimeSpan) -> CommandBody {
    CommandBody::ScheduleExploration(schedule(session, span, &therapist()))
}

/// ScheduleIntegration with t-rivera.
pub fn schedule_integration(session: &str, span: TimeSpan, exploration: &str) -> CommandBody {
    CommandBody::ScheduleIntegration(ScheduleIntegration {
        session: sid(session),
        span,
        therapist: therapist().id,
        exploration: sid(exploration),
    })
}

/// RecordPreparation.
pub fn preparation(session: &str, span: TimeSpan) -> CommandBody {
    CommandBody::RecordPreparation(RecordPreparation {
        session: sid(session),
        span,
        intentions: text("reconnect with family"),
        aftercare_plan: text("partner drives home; journaling"),
        notes: text("discussed what to expect"),
    })
}

/// RecordExploration on day `d`, 10:00–13:00, dose at 10:15 (sublingual,
/// lot L-2026-01) if `dose` is given, discharged 12:45.
pub fn exploration(
    session: &str,
    d: i64,
    dose: Option<i64>,
    bp_before: BloodPressure,
) -> CommandBody {
    exploration_with(session, d, dose.map(|n| (n, Route::Sublingual)), bp_before)
}

/// RecordExploration with an explicit route.
pub fn exploration_with(
    session: &str,
    d: i64,
    dose: Option<(i64, Route)>,
    bp_before: BloodPressure,
) -> CommandBody {
    exploration_in(session, span(d, 10, 13), dose, bp_before)
}

/// RecordExploration held over `s`, dose 15 minutes in (lot L-2026-01) if
/// `dose` is given, discharged 15 minutes before the end.
pub fn exploration_in(
    session: &str,
    s: TimeSpan,
    dose: Option<(i64, Route)>,
    bp_before: BloodPressure,
) -> CommandBody {
    let raw = RawRecordExploration {
        session: sid(session),
        span: s,
        administration: dose.map(|(n, route)| Administration {
            drug: Drug::Ketamine,
            route,
            dose: mg(n),
            lot_number: LotNumber::new("L-2026-01").expect("valid lot"),
            given_at: s.start() + Duration::minutes(15),
        }),
        not_dosed_reason: dose
            .is_none()
            .then(|| text("client declined the dose today")),
        bp_before,
        bp_after: bp(125, 82),
        observations: text("calm, reflective; no distress"),
        adverse_events: vec![],
        discharged_at: s.end() - Duration::minutes(15),
        departure: Departure::Companion,
    };
    CommandBody::RecordExploration(RecordExploration::try_from(raw).expect("valid exploration"))
}

/// RecordIntegration.
pub fn integration(session: &str, span: TimeSpan, exploration: &str) -> CommandBody {
    CommandBody::RecordIntegration(RecordIntegration {
        session: sid(session),
        span,
        exploration: sid(exploration),
        notes: text("integrating insights about grief"),
    })
}

/// AdjustDose.
pub fn adjust_dose(dose: i64) -> CommandBody {
    CommandBody::AdjustDose(AdjustDose {
        dose: mg(dose),
        reason: text("tolerated well, modest effect"),
    })
}

/// RecordOutcomeMeasure.
pub fn outcome(measure: OutcomeMeasure, on: NaiveDate) -> CommandBody {
    CommandBody::RecordOutcomeMeasure(RecordOutcomeMeasure {
        measure,
        administered_on: on,
    })
}

/// RecordOngoingCare.
pub fn ongoing_care(session: &str, span: TimeSpan) -> CommandBody {
    CommandBody::RecordOngoingCare(RecordOngoingCare {
        session: sid(session),
        span,
        notes: text("maintenance; mood stable"),
    })
}

/// RecordExternalTreatment (IV at an affiliate).
pub fn external_treatment(on: NaiveDate) -> CommandBody {
    CommandBody::RecordExternalTreatment(RecordExternalTreatment {
        treated_on: on,
        provider: text("Affiliate Infusion Center"),
        route: Route::Intravenous,
        dose: Some(mg(35)),
        notes: text("IV series at affiliate"),
    })
}

/// CancelSession.
pub fn cancel(session: &str) -> CommandBody {
    CommandBody::CancelSession(CancelSession {
        session: sid(session),
        reason: CancelReason::ClientRequest,
        note: None,
    })
}

/// RecordNoShow.
pub fn no_show(session: &str) -> CommandBody {
    CommandBody::RecordNoShow(RecordNoShow {
        session: sid(session),
    })
}

/// RecordPayment (card, by the client).
pub fn payment(id: &str, cents: i64, on: NaiveDate) -> CommandBody {
    let json = serde_json::json!({
        "payment": id, "amount": cents, "method": "card", "payer": "client",
        "received_on": on,
    });
    CommandBody::RecordPayment(serde_json::from_value(json).expect("valid payment"))
}

/// AmendEntry.
pub fn amend(entry: u64) -> CommandBody {
    CommandBody::AmendEntry(AmendEntry {
        entry,
        reason: text("transcription error"),
        corrected_content: text("observations: calm, reflective; mild nausea at 11:00"),
    })
}

/// DischargeClient.
pub fn discharge(on: NaiveDate) -> CommandBody {
    CommandBody::DischargeClient(DischargeClient {
        discharged_on: on,
        reason: DischargeReason::CareComplete,
        summary: text("protocol complete; PHQ-9 down from 19 to 6"),
    })
}

/// A practice whose commands go through cqrs-es into a real store
/// (PostgreSQL or SQLite), with the chain. "Now" is shared by the commands
/// and the store's clock, so `recorded_at` is deterministic.
pub struct StoredPractice {
    /// The database.
    pub db: kapchart_store::Database,
    /// The command side.
    pub cqrs: kapchart_store::ClientCqrs,
    /// Settings and other clients' bookings.
    pub practice: Arc<InMemoryPractice>,
    now: Arc<std::sync::Mutex<DateTime<Utc>>>,
    next_command: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for StoredPractice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredPractice").finish_non_exhaustive()
    }
}

impl StoredPractice {
    /// Opens (and migrates) the database at `url`, on day 0.
    pub async fn open(url: &str) -> Self {
        let db = kapchart_store::Database::open(url)
            .await
            .expect("test database opens");
        let now = Arc::new(std::sync::Mutex::new(day(0) + Duration::hours(20)));
        let clock_now = Arc::clone(&now);
        let clock: kapchart_store::Clock =
            Arc::new(move || *clock_now.lock().unwrap_or_else(|p| p.into_inner()));
        let practice = Arc::new(practice_with(PracticeSettings::standard()));
        let services: Services = practice.clone();
        let cqrs = db.client_cqrs(clock, services);
        Self {
            db,
            cqrs,
            practice,
            now,
            next_command: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Moves "now" to 20:00 on day `d`.
    pub fn on(&self, d: i64) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = day(d) + Duration::hours(20);
    }

    /// "Now".
    pub fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A command by `actor`, now, with a fresh id.
    pub fn command(&self, actor: Actor, body: CommandBody) -> Command {
        let n = self
            .next_command
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let id = CommandId::parse(&format!("cmd-{n}")).expect("valid command id");
        Command::new(id, actor, self.now(), body)
    }

    /// Runs a command for `client` through cqrs-es and the store.
    pub async fn run(
        &self,
        client: &str,
        command: Command,
    ) -> Result<(), cqrs_es::AggregateError<ClientError>> {
        let metadata = kapchart_store::command_metadata(&command);
        self.cqrs
            .execute_with_metadata(client, command, metadata)
            .await
    }

    /// Issues `body` as `actor` for `client`; panics when refused.
    pub async fn ok(&self, client: &str, actor: Actor, body: CommandBody) {
        let name = body.name();
        let command = self.command(actor, body);
        if let Err(e) = self.run(client, command).await {
            panic!("{name} for {client} refused: {e}");
        }
    }

    /// Registers `client` and takes it through intake, clearance,
    /// prescription, consent, preparation and `explorations` dosed
    /// explorations (each integrated two days later), starting on day
    /// `start`. Leaves "now" after the last step.
    pub async fn treat(&self, client: &str, start: i64, explorations: i64) {
        self.on(start);
        let register = match register_client() {
            CommandBody::RegisterClient(mut r) => {
                r.client_id = ClientId::parse(client).expect("valid client id");
                CommandBody::RegisterClient(r)
            }
            other => other,
        };
        self.ok(client, front_desk(), register).await;
        self.ok(
            client,
            therapist(),
            intake("intake-1", span(start, 9, 10), Suitability::Suitable),
        )
        .await;
        self.ok(
            client,
            prescriber(),
            medical(date(start), Clearance::Cleared),
        )
        .await;
        self.ok(client, prescriber(), standard_prescription("rx-1"))
            .await;
        self.ok(client, therapist(), consent(date(start))).await;
        self.ok(
            client,
            therapist(),
            preparation("prep-1", span(start, 10, 11)),
        )
        .await;
        for k in 0..explorations {
            let d = start + 7 + 7 * k;
            let x = format!("x{}", k + 1);
            self.on(d);
            self.ok(
                client,
                therapist(),
                exploration(&x, d, Some(150), bp(120, 80)),
            )
            .await;
            self.on(d + 2);
            self.ok(
                client,
                therapist(),
                integration(&format!("i{}", k + 1), span(d + 2, 10, 11), &x),
            )
            .await;
        }
    }
}
