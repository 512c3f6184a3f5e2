//! Property tests over random command sequences.
//!
//! A generator draws sequences of abstract steps covering every command
//! kind (and every actor role, retries of earlier command ids, other
//! clients' bookings of the therapist, and time moving on between steps),
//! weighted toward the protocol's order so that explorations are often
//! allowed and often refused. After every step the committed events are
//! checked against a shadow model built only from the *accepted events*
//! (never from the aggregate's private state):
//!
//! - no exploration is scheduled or recorded without a suitable intake, a
//!   medical clearance, consent, a preparation held and a prescription
//!   covering the date with sessions left;
//! - no dose outside the prescription or further than its step from the
//!   reference dose, no more dosed explorations than authorized, a dosed
//!   exploration only once the previous dosed one is integrated;
//! - soft stops and the blood-pressure rule carry exactly the overrides
//!   they need, authorized by the right person;
//! - nothing but amendments and payments after discharge; a refused
//!   command leaves no event; a command id is applied once;
//! - the history is contiguous and amendments point backwards.
//!
//! Replaying the events (directly and through their JSON) rebuilds the same
//! record, and the same sequence always produces the same events.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cqrs_es::Aggregate;
use kapchart_domain::*;
use kapchart_e2e::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngAlgorithm, TestCaseError, TestRng, TestRunner};

// ---- practice settings ----

/// One policy version, as the shadow model reads it.
#[derive(Debug, Clone, Copy)]
struct Limits {
    version: u32,
    from: DateTime<Utc>,
    /// Pre-dose blood pressure above this (either number) needs a
    /// prescriber override.
    bp: (u16, u16),
    /// Dosed explorations closer than this many calendar days: soft stop.
    min_days: i64,
    /// Integrations more than this many calendar days after: soft stop.
    window: i64,
    /// Dosed explorations beyond this many: soft stop.
    max: usize,
}

/// One fee schedule version, in cents.
#[derive(Debug, Clone, Copy)]
struct Fees {
    version: u32,
    from: NaiveDate,
    session: i64,
    exploration: i64,
}

/// The practice a sequence runs in.
#[derive(Debug, Clone, Copy)]
enum Practice {
    /// The brief's defaults: 140/90, 7 days apart, 7-day window, 8
    /// explorations; $175 sessions, $550 explorations.
    Standard,
    /// A stricter policy from the start: 130/85, 3 days, 3 days, 3.
    Strict,
    /// The defaults, then the strict policy from day 20 and dearer fees
    /// ($190, $600) for sessions from day 30.
    Changing,
}

impl Practice {
    fn limits(self) -> Vec<Limits> {
        let since_2000 = Utc
            .with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
            .single()
            .expect("valid date");
        let standard = Limits {
            version: 1,
            from: since_2000,
            bp: (140, 90),
            min_days: 7,
            window: 7,
            max: 8,
        };
        let strict = |version, from| Limits {
            version,
            from,
            bp: (130, 85),
            min_days: 3,
            window: 3,
            max: 3,
        };
        match self {
            Practice::Standard => vec![standard],
            Practice::Strict => vec![strict(1, since_2000)],
            Practice::Changing => vec![standard, strict(2, day(20))],
        }
    }

    fn fees(self) -> Vec<Fees> {
        let standard = Fees {
            version: 1,
            from: NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date"),
            session: 17_500,
            exploration: 55_000,
        };
        match self {
            Practice::Standard | Practice::Strict => vec![standard],
            Practice::Changing => vec![
                standard,
                Fees {
                    version: 2,
                    from: date(30),
                    session: 19_000,
                    exploration: 60_000,
                },
            ],
        }
    }

    fn settings(self) -> PracticeSettings {
        let policies = self
            .limits()
            .into_iter()
            .map(|l| Policy {
                version: l.version,
                effective_from: l.from,
                bp_threshold: bp(i64::from(l.bp.0), i64::from(l.bp.1)),
                min_days_between_explorations: l.min_days as u16,
                integration_window_days: l.window as u16,
                max_explorations: l.max as u16,
                idle_sign_out_minutes: 15,
            })
            .collect();
        let fees = self
            .fees()
            .into_iter()
            .map(|f| {
                let session = Cents::new(f.session).expect("valid fee");
                FeeSchedule {
                    version: f.version,
                    effective_from: f.from,
                    intake: session,
                    preparation: session,
                    exploration: Cents::new(f.exploration).expect("valid fee"),
                    integration: session,
                    ongoing_care: session,
                    codes: ServiceCodes::standard(),
                }
            })
            .collect();
        PracticeSettings::new(policies, fees).expect("valid settings")
    }
}

// ---- the abstract steps ----

/// How time moves before a step.
#[derive(Debug, Clone, Copy)]
enum Advance {
    Stay,
    Hours(i64),
    Days(i64),
}

/// Who issues the command: the role the protocol expects, or anyone.
#[derive(Debug, Clone, Copy)]
enum Who {
    Proper,
    Any(usize),
}

/// A session id: a new one, one used before, or a currently open one.
#[derive(Debug, Clone, Copy)]
enum Sess {
    Fresh,
    Used(usize),
    Open(usize),
}

/// The exploration an integration refers to.
#[derive(Debug, Clone, Copy)]
enum ExplRef {
    /// The latest exploration awaiting integration, else the latest.
    Pending,
    Other(Sess),
}

/// When a session is, relative to today: a day offset, and hours later
/// than the kind's usual slot.
#[derive(Debug, Clone, Copy)]
struct When {
    day: i64,
    jitter: i64,
}

/// A dose: relative to the current reference dose, or absolute.
#[derive(Debug, Clone, Copy)]
enum Dose {
    Relative(i64),
    Absolute(i64),
}

/// Who a blood-pressure override names as authorizing it.
#[derive(Debug, Clone, Copy)]
enum BpAuth {
    Missing,
    Unnamed,
    RxPrescriber,
    OtherPrescriber,
    Therapist,
}

/// Overrides a command carries.
#[derive(Debug, Clone, Copy)]
struct Ov {
    /// Reasons for every soft stop (too soon, beyond maximum, late).
    soft: bool,
    bp: BpAuth,
    /// A reason for a hard rule (which must have no effect).
    hard: bool,
}

#[derive(Debug, Clone, Copy)]
struct RxPlan {
    id: usize,
    from: i64,
    days: i64,
    min: i64,
    width: i64,
    start_pct: i64,
    step: i64,
    sessions: i64,
}

#[derive(Debug, Clone, Copy)]
struct ExplorationPlan {
    session: Sess,
    when: When,
    dose: Option<Dose>,
    bp: (i64, i64),
    route: Route,
    ov: Ov,
    adverse: bool,
    departure: usize,
}

#[derive(Debug, Clone, Copy)]
struct IntegrationPlan {
    session: Sess,
    exploration: ExplRef,
    when: When,
    ov: Ov,
}

#[derive(Debug, Clone, Copy)]
enum Act {
    Register {
        dob_in_future: bool,
    },
    Intake {
        session: Sess,
        when: When,
        suitable: bool,
    },
    Medical {
        day: i64,
        cleared: bool,
    },
    Prescribe(RxPlan),
    Consent {
        day: i64,
    },
    SchedulePreparation {
        session: Sess,
        when: When,
        other_therapist: bool,
    },
    RecordPreparation {
        session: Sess,
        when: When,
    },
    ScheduleExploration {
        session: Sess,
        when: When,
        other_therapist: bool,
        ov: Ov,
    },
    RecordExploration(ExplorationPlan),
    ScheduleIntegration {
        session: Sess,
        exploration: ExplRef,
        when: When,
        other_therapist: bool,
    },
    RecordIntegration(IntegrationPlan),
    /// The protocol's next step, chosen from the accepted events: a new
    /// suitable intake or medical clearance when the latest finding is
    /// negative, a new prescription when none covers today (or, if `renew`,
    /// when it is used up), an integration when an exploration awaits one,
    /// else an exploration.
    Cycle {
        exploration: ExplorationPlan,
        integration: IntegrationPlan,
        renew: bool,
    },
    AdjustDose {
        dose: Dose,
    },
    Outcome {
        instrument: usize,
        score: i64,
        day: i64,
    },
    OngoingCare {
        session: Sess,
        when: When,
    },
    External {
        day: i64,
        route: Route,
        dose: Option<i64>,
    },
    Cancel {
        session: Sess,
    },
    NoShow {
        session: Sess,
    },
    Payment {
        id: usize,
        cents: i64,
        day: i64,
        session: Option<Sess>,
    },
    Amend {
        entry: usize,
    },
    Discharge {
        day: i64,
    },
    /// Another client books the therapist (for the double-booking rule).
    Booking {
        when: When,
    },
    /// Sends an earlier command's id again, with the same or another body.
    Retry {
        pick: usize,
        same: bool,
    },
}

#[derive(Debug, Clone, Copy)]
struct Step {
    advance: Advance,
    who: Who,
    act: Act,
}

// ---- strategies ----

fn advance() -> impl Strategy<Value = Advance> {
    prop_oneof![
        6 => Just(Advance::Stay),
        1 => (1i64..=8).prop_map(Advance::Hours),
        4 => (1i64..=3).prop_map(Advance::Days),
        2 => (4i64..=10).prop_map(Advance::Days),
    ]
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![9 => Just(Who::Proper), 1 => (0usize..7).prop_map(Who::Any)]
}

fn sess_new() -> impl Strategy<Value = Sess> {
    prop_oneof![8 => Just(Sess::Fresh), 2 => (0usize..64).prop_map(Sess::Used)]
}

fn sess_held() -> impl Strategy<Value = Sess> {
    prop_oneof![
        6 => Just(Sess::Fresh),
        3 => (0usize..64).prop_map(Sess::Open),
        1 => (0usize..64).prop_map(Sess::Used),
    ]
}

fn sess_existing() -> impl Strategy<Value = Sess> {
    prop_oneof![7 => (0usize..64).prop_map(Sess::Open), 3 => (0usize..64).prop_map(Sess::Used)]
}

fn expl_ref() -> impl Strategy<Value = ExplRef> {
    prop_oneof![8 => Just(ExplRef::Pending), 2 => sess_existing().prop_map(ExplRef::Other)]
}

fn jitter() -> impl Strategy<Value = i64> {
    prop_oneof![8 => Just(0i64), 2 => 1i64..=4]
}

fn when_recorded() -> impl Strategy<Value = When> {
    (
        prop_oneof![12 => Just(0i64), 7 => -3i64..=-1, 1 => 1i64..=2],
        jitter(),
    )
        .prop_map(|(day, jitter)| When { day, jitter })
}

fn when_scheduled() -> impl Strategy<Value = When> {
    (
        prop_oneof![1 => Just(0i64), 8 => 1i64..=10, 1 => 11i64..=30],
        jitter(),
    )
        .prop_map(|(day, jitter)| When { day, jitter })
}

fn past_day() -> impl Strategy<Value = i64> {
    prop_oneof![8 => -3i64..=0, 1 => 1i64..=3]
}

fn dose() -> impl Strategy<Value = Dose> {
    prop_oneof![
        8 => (-25i64..=25).prop_map(Dose::Relative),
        2 => (-80i64..=80).prop_map(Dose::Relative),
        1 => (1i64..=450).prop_map(Dose::Absolute),
    ]
}

fn route() -> impl Strategy<Value = Route> {
    prop_oneof![
        18 => Just(Route::Sublingual),
        1 => Just(Route::Intravenous),
        1 => Just(Route::Intramuscular),
    ]
}

fn ov() -> impl Strategy<Value = Ov> {
    (
        prop::bool::weighted(0.5),
        prop_oneof![
            3 => Just(BpAuth::Missing),
            1 => Just(BpAuth::Unnamed),
            4 => Just(BpAuth::RxPrescriber),
            1 => Just(BpAuth::OtherPrescriber),
            1 => Just(BpAuth::Therapist),
        ],
        prop::bool::weighted(0.1),
    )
        .prop_map(|(soft, bp, hard)| Ov { soft, bp, hard })
}

fn pressure() -> impl Strategy<Value = (i64, i64)> {
    prop_oneof![
        7 => (100i64..=140, 60i64..=90),
        2 => (141i64..=180, 70i64..=110),
        1 => (110i64..=139, 91i64..=99),
    ]
}

/// A prescription a prescriber would write.
fn realistic_rx() -> impl Strategy<Value = RxPlan> {
    (
        0usize..4,
        -7i64..=0,
        60i64..=365,
        50i64..=150,
        100i64..=250,
        10i64..=60,
        25i64..=75,
        1i64..=8,
    )
        .prop_map(
            |(id, from, days, min, width, start_pct, step, sessions)| RxPlan {
                id,
                from,
                days,
                min,
                width,
                start_pct,
                step,
                sessions,
            },
        )
}

/// Any well-formed prescription: short, narrow, late, tiny steps.
fn wild_rx() -> impl Strategy<Value = RxPlan> {
    (
        0usize..4,
        -60i64..=20,
        0i64..=60,
        1i64..=400,
        0i64..=300,
        0i64..=100,
        1i64..=150,
        1i64..=12,
    )
        .prop_map(
            |(id, from, days, min, width, start_pct, step, sessions)| RxPlan {
                id,
                from,
                days,
                min,
                width,
                start_pct,
                step,
                sessions,
            },
        )
}

fn exploration_plan() -> impl Strategy<Value = ExplorationPlan> {
    (
        sess_held(),
        when_recorded(),
        prop_oneof![1 => Just(None), 6 => dose().prop_map(Some)],
        pressure(),
        route(),
        ov(),
        prop::bool::weighted(0.2),
        0usize..4,
    )
        .prop_map(
            |(session, when, dose, bp, route, ov, adverse, departure)| ExplorationPlan {
                session,
                when,
                dose,
                bp,
                route,
                ov,
                adverse,
                departure,
            },
        )
}

fn integration_plan() -> impl Strategy<Value = IntegrationPlan> {
    (sess_held(), expl_ref(), when_recorded(), ov()).prop_map(|(session, exploration, when, ov)| {
        IntegrationPlan {
            session,
            exploration,
            when,
            ov,
        }
    })
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        4 => prop::bool::weighted(0.3).prop_map(|dob_in_future| Act::Register { dob_in_future }),
        6 => (sess_new(), when_recorded(), prop::bool::weighted(0.9))
            .prop_map(|(session, when, suitable)| Act::Intake { session, when, suitable }),
        6 => (past_day(), prop::bool::weighted(0.9))
            .prop_map(|(day, cleared)| Act::Medical { day, cleared }),
        8 => prop_oneof![3 => realistic_rx(), 1 => wild_rx()].prop_map(Act::Prescribe),
        4 => past_day().prop_map(|day| Act::Consent { day }),
        6 => (sess_new(), when_scheduled(), prop::bool::weighted(0.15)).prop_map(
            |(session, when, other_therapist)| Act::SchedulePreparation {
                session,
                when,
                other_therapist,
            }
        ),
        10 => (sess_held(), when_recorded())
            .prop_map(|(session, when)| Act::RecordPreparation { session, when }),
        12 => (sess_new(), when_scheduled(), prop::bool::weighted(0.15), ov()).prop_map(
            |(session, when, other_therapist, ov)| Act::ScheduleExploration {
                session,
                when,
                other_therapist,
                ov,
            }
        ),
        20 => exploration_plan().prop_map(Act::RecordExploration),
        40 => (exploration_plan(), integration_plan(), prop::bool::weighted(0.6)).prop_map(
            |(exploration, integration, renew)| Act::Cycle {
                exploration,
                integration,
                renew,
            }
        ),
        8 => (sess_new(), expl_ref(), when_scheduled(), prop::bool::weighted(0.15)).prop_map(
            |(session, exploration, when, other_therapist)| Act::ScheduleIntegration {
                session,
                exploration,
                when,
                other_therapist,
            }
        ),
        16 => integration_plan().prop_map(Act::RecordIntegration),
        10 => dose().prop_map(|dose| Act::AdjustDose { dose }),
        6 => (0usize..4, 0i64..=80, past_day())
            .prop_map(|(instrument, score, day)| Act::Outcome { instrument, score, day }),
        8 => (sess_held(), when_recorded())
            .prop_map(|(session, when)| Act::OngoingCare { session, when }),
        4 => (past_day(), route(), prop::option::of(1i64..=200))
            .prop_map(|(day, route, dose)| Act::External { day, route, dose }),
        6 => sess_existing().prop_map(|session| Act::Cancel { session }),
        6 => sess_existing().prop_map(|session| Act::NoShow { session }),
        8 => (0usize..6, 1i64..=60_000, past_day(), prop::option::of(sess_existing()))
            .prop_map(|(id, cents, day, session)| Act::Payment { id, cents, day, session }),
        10 => (0usize..256).prop_map(|entry| Act::Amend { entry }),
        1 => past_day().prop_map(|day| Act::Discharge { day }),
        4 => when_scheduled().prop_map(|when| Act::Booking { when }),
        12 => (0usize..256, prop::bool::weighted(0.7))
            .prop_map(|(pick, same)| Act::Retry { pick, same }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    (advance(), who(), act()).prop_map(|(advance, who, act)| Step { advance, who, act })
}

/// A protocol step by the expected role, the same day or a day or two on.
fn proper(act: impl Strategy<Value = Act>) -> impl Strategy<Value = Step> {
    (
        prop_oneof![3 => Just(Advance::Stay), 1 => (1i64..=2).prop_map(Advance::Days)],
        act,
    )
        .prop_map(|(advance, act)| Step {
            advance,
            who: Who::Proper,
            act,
        })
}

/// The protocol's opening (register, intake, medical, prescription,
/// consent, preparation), each step replaced by a random one now and then.
fn opening() -> impl Strategy<Value = Vec<Step>> {
    let today = When { day: 0, jitter: 0 };
    (
        prop_oneof![19 => proper(Just(Act::Register { dob_in_future: false })), 1 => step()],
        prop_oneof![
            19 => proper(Just(Act::Intake { session: Sess::Fresh, when: today, suitable: true })),
            1 => step(),
        ],
        prop_oneof![19 => proper(Just(Act::Medical { day: 0, cleared: true })), 1 => step()],
        prop_oneof![19 => proper(realistic_rx().prop_map(Act::Prescribe)), 1 => step()],
        prop_oneof![19 => proper(Just(Act::Consent { day: 0 })), 1 => step()],
        prop_oneof![
            19 => proper(Just(Act::RecordPreparation { session: Sess::Fresh, when: today })),
            1 => step(),
        ],
    )
        .prop_map(|(a, b, c, d, e, f)| vec![a, b, c, d, e, f])
}

/// Up to 60 steps: the opening, then random steps.
fn steps() -> impl Strategy<Value = Vec<Step>> {
    (opening(), prop::collection::vec(step(), 0..=54)).prop_map(|(mut steps, tail)| {
        steps.extend(tail);
        steps
    })
}

/// A practice and a sequence of steps in it.
#[derive(Debug, Clone)]
struct Scenario {
    practice: Practice,
    steps: Vec<Step>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop_oneof![
            6 => Just(Practice::Standard),
            2 => Just(Practice::Strict),
            2 => Just(Practice::Changing),
        ],
        steps(),
    )
        .prop_map(|(practice, steps)| Scenario { practice, steps })
}

// ---- the shadow model, built from accepted events only ----

#[derive(Debug, Clone)]
struct Rx {
    id: PrescriptionId,
    valid: DateRange,
    dosing: Dosing,
    authorized: u32,
    /// Dosed explorations recorded under it.
    used: u32,
    /// Ordered dose: the starting dose, then the latest adjustment or dose given.
    ordered: Milligrams,
    last_given: Option<Milligrams>,
}

impl Rx {
    fn reference(&self) -> Milligrams {
        self.last_given.unwrap_or(self.ordered)
    }
}

#[derive(Debug, Clone)]
struct Booked {
    kind: SessionKind,
    span: TimeSpan,
    status: SessionStatus,
}

#[derive(Debug, Clone)]
struct Explored {
    session: SessionId,
    start: DateTime<Utc>,
    dose: Option<Milligrams>,
    integrated: bool,
}

#[derive(Debug, Default)]
struct Shadow {
    registered: bool,
    discharged: bool,
    intake: Option<Suitability>,
    medical: Option<Clearance>,
    consent: bool,
    preparations: u32,
    rx: Option<Rx>,
    rx_ids: BTreeSet<PrescriptionId>,
    sessions: BTreeMap<SessionId, Booked>,
    explorations: Vec<Explored>,
    payments: BTreeSet<PaymentId>,
    /// Prescribers' authorizations: session, valid until, prescriber, used.
    authorizations: BTreeMap<AuthorizationId, (SessionId, NaiveDate, UserId, bool)>,
    /// Applied command ids, with their fingerprints.
    commands: BTreeMap<CommandId, String>,
    /// Each entry's event type, and the type whose roles may amend it (an
    /// amendment counts as what it amends).
    entries: Vec<(String, String)>,
    /// Other clients' sessions with a therapist.
    foreign_bookings: Vec<(UserId, TimeSpan)>,
    /// The practice's policy and fee schedule versions.
    limits: Vec<Limits>,
    fees: Vec<Fees>,
}

fn fail(message: String) -> TestCaseError {
    TestCaseError::fail(message)
}

fn mg_i(m: Milligrams) -> i64 {
    i64::from(m.get())
}

/// Calendar days (UTC dates) from `b` to `a`, whatever the hours.
fn calendar_days(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (a.date_naive() - b.date_naive()).num_days()
}

/// The roles that may record an event of this type (docs/domain.md).
fn recording_roles(event_type: &str) -> &'static [Role] {
    use Role::*;
    match event_type {
        "ClientRegistered" => &[FrontDesk, Therapist],
        "IntakeRecorded"
        | "PreparationRecorded"
        | "ExplorationRecorded"
        | "IntegrationRecorded"
        | "OngoingCareRecorded" => &[Therapist],
        "MedicalEvaluationRecorded"
        | "PrescriptionIssued"
        | "DoseAdjusted"
        | "OverrideAuthorized" => &[Prescriber],
        "ConsentRecorded"
        | "OutcomeMeasureRecorded"
        | "ExternalTreatmentRecorded"
        | "ClientDischarged" => &[Therapist, Prescriber],
        "SessionScheduled" | "SessionCancelled" | "NoShowRecorded" => &[Therapist, FrontDesk],
        "PaymentRecorded" => &[FrontDesk],
        _ => &[],
    }
}

fn bp_above(reading: BloodPressure, limits: &Limits) -> bool {
    reading.systolic() > limits.bp.0 || reading.diastolic() > limits.bp.1
}

/// The overrides on a decision are exactly `expected`, each with a finding,
/// soft ones authorized by the actor.
fn check_overrides(decision: &Decision, expected: &BTreeSet<Rule>) -> Result<(), TestCaseError> {
    let got: BTreeSet<Rule> = decision.overrides.iter().map(|o| o.rule).collect();
    prop_assert_eq!(
        got.len(),
        decision.overrides.len(),
        "an override applied twice"
    );
    prop_assert_eq!(
        &got,
        expected,
        "applied overrides differ from the stops hit"
    );
    for o in &decision.overrides {
        prop_assert!(!o.finding.is_empty(), "override without a finding");
        if o.rule != Rule::ExplorationBloodPressureAboveThreshold {
            prop_assert_eq!(&o.authorized_by, &decision.actor.id);
        }
    }
    Ok(())
}

impl Shadow {
    fn new(practice: Practice) -> Self {
        Self {
            limits: practice.limits(),
            fees: practice.fees(),
            ..Self::default()
        }
    }

    /// The policy in force at an instant.
    fn limits_at(&self, at: DateTime<Utc>) -> Result<Limits, TestCaseError> {
        self.limits
            .iter()
            .rev()
            .find(|l| l.from <= at)
            .copied()
            .ok_or_else(|| fail(format!("no policy in force at {at}")))
    }

    /// A charge priced by the fee schedule in force on the session's date.
    fn check_charge(
        &self,
        charge: &Charge,
        service: BillableService,
        span: &TimeSpan,
    ) -> Result<(), TestCaseError> {
        let on = span.start().date_naive();
        let fees = self
            .fees
            .iter()
            .rev()
            .find(|f| f.from <= on)
            .ok_or_else(|| fail(format!("no fee schedule on {on}")))?;
        let cents = match service {
            BillableService::Exploration => fees.exploration,
            _ => fees.session,
        };
        prop_assert_eq!(charge.service, service);
        prop_assert_eq!(charge.amount.get(), cents, "charge on {}", on);
        prop_assert_eq!(charge.fee_schedule_version, fees.version);
        prop_assert_eq!(charge.service_date, on);
        Ok(())
    }

    /// The hard stops before any exploration, scheduled or recorded.
    fn exploration_allowed(&self, date: NaiveDate, what: &str) -> Result<Rx, TestCaseError> {
        prop_assert_eq!(
            self.intake,
            Some(Suitability::Suitable),
            "{} without a suitable intake",
            what
        );
        prop_assert_eq!(
            self.medical,
            Some(Clearance::Cleared),
            "{} without medical clearance",
            what
        );
        prop_assert!(self.consent, "{} without consent", what);
        prop_assert!(self.preparations > 0, "{} without a preparation", what);
        let rx = self
            .rx
            .clone()
            .ok_or_else(|| fail(format!("{what} without a prescription")))?;
        prop_assert!(
            rx.valid.contains(date),
            "{} on {} outside prescription {} ({} to {})",
            what,
            date,
            rx.id,
            rx.valid.from(),
            rx.valid.until()
        );
        Ok(rx)
    }

    fn check_dose(rx: &Rx, dose: Milligrams, what: &str) -> Result<(), TestCaseError> {
        let (min, max, step) = (
            mg_i(rx.dosing.min()),
            mg_i(rx.dosing.max()),
            mg_i(rx.dosing.max_step()),
        );
        let d = mg_i(dose);
        prop_assert!(
            min <= d && d <= max,
            "{}: {} mg outside {}'s range {}-{}",
            what,
            d,
            rx.id,
            min,
            max
        );
        let reference = mg_i(rx.reference());
        prop_assert!(
            (d - reference).abs() <= step,
            "{}: {} mg is more than {} mg from the reference dose {} mg",
            what,
            d,
            step,
            reference
        );
        Ok(())
    }

    fn open_explorations(&self) -> Vec<DateTime<Utc>> {
        self.sessions
            .values()
            .filter(|s| s.kind == SessionKind::Exploration && s.status == SessionStatus::Scheduled)
            .map(|s| s.span.start())
            .collect()
    }

    fn dosed_starts(&self) -> Vec<DateTime<Utc>> {
        self.explorations
            .iter()
            .filter(|x| x.dose.is_some())
            .map(|x| x.start)
            .collect()
    }

    fn no_overlap(&self, id: &SessionId, span: &TimeSpan) -> Result<(), TestCaseError> {
        for (other, s) in &self.sessions {
            let open = matches!(s.status, SessionStatus::Scheduled | SessionStatus::Held);
            let overlaps = s.span.start() < span.end() && span.start() < s.span.end();
            prop_assert!(
                !(other != id && open && overlaps),
                "session {} overlaps the client's session {}",
                id,
                other
            );
        }
        Ok(())
    }

    /// A session held: a new id, or an open scheduled session of the same kind.
    fn hold(
        &mut self,
        id: &SessionId,
        kind: SessionKind,
        span: TimeSpan,
    ) -> Result<(), TestCaseError> {
        if let Some(s) = self.sessions.get(id) {
            prop_assert_eq!(s.kind, kind, "session {} held as another kind", id);
            prop_assert_eq!(
                s.status,
                SessionStatus::Scheduled,
                "session {} held twice",
                id
            );
        }
        self.no_overlap(id, &span)?;
        self.sessions.insert(
            id.clone(),
            Booked {
                kind,
                span,
                status: SessionStatus::Held,
            },
        );
        Ok(())
    }

    fn close(&mut self, id: &SessionId, status: SessionStatus) -> Result<&Booked, TestCaseError> {
        let s = self
            .sessions
            .get_mut(id)
            .ok_or_else(|| fail(format!("session {id} closed but unknown")))?;
        prop_assert_eq!(
            s.status,
            SessionStatus::Scheduled,
            "session {} not open",
            id
        );
        s.status = status;
        Ok(s)
    }

    /// Checks one accepted event (at 1-based `position`) against the
    /// history so far, then folds it in.
    fn check_and_apply(
        &mut self,
        event: &ClientEvent,
        position: usize,
    ) -> Result<(), TestCaseError> {
        let decision = event.decision();
        let what = format!("{} (entry {position})", event.type_name());
        prop_assert!(
            !matches!(decision.actor.role, Role::Auditor | Role::Admin),
            "{} recorded by {:?}",
            what,
            decision.actor.role
        );
        prop_assert!(
            !self.commands.contains_key(&decision.command_id),
            "command id {} in two events",
            decision.command_id
        );
        let limits = self.limits_at(decision.decided_at)?;
        prop_assert_eq!(decision.policy_version, limits.version, "policy version");
        if !matches!(event, ClientEvent::EntryAmended(_)) {
            prop_assert!(
                recording_roles(event.type_name()).contains(&decision.actor.role),
                "{} recorded by {:?}",
                what,
                decision.actor.role
            );
        }
        if let ClientEvent::ClientRegistered(_) = event {
            prop_assert!(!self.registered, "registered twice");
            prop_assert_eq!(position, 1, "registration is not the first entry");
        } else {
            prop_assert!(self.registered, "{} before registration", what);
        }
        if self.discharged {
            prop_assert!(
                matches!(
                    event,
                    ClientEvent::EntryAmended(_) | ClientEvent::PaymentRecorded(_)
                ),
                "{} after discharge",
                what
            );
        }
        let overrides_allowed = matches!(
            event,
            ClientEvent::ExplorationRecorded(_)
                | ClientEvent::IntegrationRecorded(_)
                | ClientEvent::SessionScheduled(_)
        );
        if !overrides_allowed {
            check_overrides(decision, &BTreeSet::new())?;
        }

        let mut amendable = event.type_name().to_owned();
        match event {
            ClientEvent::ClientRegistered(_) => self.registered = true,
            ClientEvent::IntakeRecorded(e) => {
                self.check_charge(&e.charge, BillableService::Intake, &e.span)?;
                self.hold(&e.session, SessionKind::Intake, e.span)?;
                self.intake = Some(e.finding);
            }
            ClientEvent::MedicalEvaluationRecorded(e) => {
                prop_assert!(e.evaluated_on <= decision.decided_at.date_naive());
                self.medical = Some(e.finding);
            }
            ClientEvent::PrescriptionIssued(e) => {
                prop_assert_eq!(
                    self.medical,
                    Some(Clearance::Cleared),
                    "prescription without clearance"
                );
                prop_assert!(
                    !self.rx_ids.contains(&e.prescription),
                    "prescription id reused"
                );
                prop_assert_eq!(&e.supersedes, &self.rx.as_ref().map(|r| r.id.clone()));
                prop_assert_eq!(&e.prescriber, &decision.actor.id);
                prop_assert_eq!(decision.actor.role, Role::Prescriber);
                self.rx_ids.insert(e.prescription.clone());
                self.rx = Some(Rx {
                    id: e.prescription.clone(),
                    valid: e.valid,
                    dosing: e.dosing,
                    authorized: u32::from(e.authorized_sessions.get()),
                    used: 0,
                    ordered: e.dosing.starting(),
                    last_given: None,
                });
            }
            ClientEvent::ConsentRecorded(_) => self.consent = true,
            ClientEvent::SessionScheduled(e) => {
                prop_assert!(
                    !self.sessions.contains_key(&e.session),
                    "session id {} scheduled twice",
                    e.session
                );
                self.no_overlap(&e.session, &e.span)?;
                for (therapist, span) in &self.foreign_bookings {
                    let overlaps = span.start() < e.span.end() && e.span.start() < span.end();
                    prop_assert!(
                        !(therapist == &e.therapist && overlaps),
                        "therapist {} double-booked by session {}",
                        therapist,
                        e.session
                    );
                }
                let mut expected = BTreeSet::new();
                match e.kind {
                    SessionKind::Exploration => {
                        let rx = self.exploration_allowed(e.span.start().date_naive(), &what)?;
                        let pending = self.open_explorations();
                        prop_assert!(
                            rx.used as usize + pending.len() < rx.authorized as usize,
                            "{}: {} authorizes {}, {} used, {} scheduled",
                            what,
                            rx.id,
                            rx.authorized,
                            rx.used,
                            pending.len()
                        );
                        let dosed = self.dosed_starts();
                        if dosed
                            .iter()
                            .chain(&pending)
                            .any(|&o| calendar_days(e.span.start(), o).abs() < limits.min_days)
                        {
                            expected.insert(Rule::ExplorationTooSoon);
                        }
                        if dosed.len() + pending.len() >= limits.max {
                            expected.insert(Rule::ExplorationBeyondProtocolMaximum);
                        }
                        prop_assert_eq!(&e.exploration, &None);
                    }
                    SessionKind::Integration => {
                        let known = e.exploration.as_ref().and_then(|x| self.sessions.get(x));
                        prop_assert!(
                            known.is_some_and(|s| s.kind == SessionKind::Exploration),
                            "{} for an unknown exploration",
                            what
                        );
                    }
                    SessionKind::Preparation => {
                        prop_assert_eq!(self.intake, Some(Suitability::Suitable));
                        prop_assert_eq!(&e.exploration, &None);
                    }
                    SessionKind::Intake | SessionKind::OngoingCare => {
                        return Err(fail(format!("{what}: unexpected kind {:?}", e.kind)));
                    }
                }
                check_overrides(decision, &expected)?;
                self.sessions.insert(
                    e.session.clone(),
                    Booked {
                        kind: e.kind,
                        span: e.span,
                        status: SessionStatus::Scheduled,
                    },
                );
            }
            ClientEvent::PreparationRecorded(e) => {
                prop_assert_eq!(
                    self.intake,
                    Some(Suitability::Suitable),
                    "preparation without a suitable intake"
                );
                self.check_charge(&e.charge, BillableService::Preparation, &e.span)?;
                self.hold(&e.session, SessionKind::Preparation, e.span)?;
                self.preparations += 1;
            }
            ClientEvent::ExplorationRecorded(e) => {
                prop_assert!(
                    e.span.end() <= decision.decided_at,
                    "exploration recorded early"
                );
                self.check_charge(&e.charge, BillableService::Exploration, &e.span)?;
                let rx = self.exploration_allowed(e.span.start().date_naive(), &what)?;
                let mut expected = BTreeSet::new();
                let dose = e.administration.as_ref().map(|a| a.dose);
                if let Some(a) = &e.administration {
                    prop_assert_eq!(
                        a.route,
                        Route::Sublingual,
                        "in-practice dose not sublingual"
                    );
                    prop_assert_eq!(&e.prescription, &Some(rx.id.clone()));
                    prop_assert!(e.not_dosed_reason.is_none());
                    prop_assert!(
                        rx.used < rx.authorized,
                        "{}: {} authorizes {} dosed explorations, {} already given",
                        what,
                        rx.id,
                        rx.authorized,
                        rx.used
                    );
                    Self::check_dose(&rx, a.dose, &what)?;
                    if let Some(prev) = self.explorations.iter().rev().find(|x| x.dose.is_some()) {
                        prop_assert!(
                            prev.integrated,
                            "{}: previous dosed exploration {} not integrated",
                            what,
                            prev.session
                        );
                    }
                    let dosed = self.dosed_starts();
                    if dosed
                        .iter()
                        .any(|&o| calendar_days(e.span.start(), o).abs() < limits.min_days)
                    {
                        expected.insert(Rule::ExplorationTooSoon);
                    }
                    if dosed.len() >= limits.max {
                        expected.insert(Rule::ExplorationBeyondProtocolMaximum);
                    }
                    if bp_above(e.bp_before, &limits) {
                        expected.insert(Rule::ExplorationBloodPressureAboveThreshold);
                        let ov = decision
                            .overrides
                            .iter()
                            .find(|o| o.rule == Rule::ExplorationBloodPressureAboveThreshold)
                            .ok_or_else(|| fail(format!("{what}: high BP without an override")))?;
                        // The override stands on an authorization the
                        // client's prescriber recorded for this session,
                        // unused and still valid; it is now used.
                        let id = ov.authorization.as_ref().ok_or_else(|| {
                            fail(format!("{what}: BP override without an authorization"))
                        })?;
                        let (session, until, by, used) = self
                            .authorizations
                            .get_mut(id)
                            .ok_or_else(|| fail(format!("{what}: unknown authorization {id}")))?;
                        prop_assert_eq!(&*session, &e.session, "authorization of another session");
                        prop_assert!(e.span.date() <= *until, "expired authorization");
                        prop_assert!(!*used, "authorization used twice");
                        prop_assert_eq!(
                            &ov.authorized_by,
                            &*by,
                            "BP override not by the authorizing prescriber"
                        );
                        prop_assert_eq!(
                            &*by,
                            &prescriber().id,
                            "BP override not by the client's prescriber"
                        );
                        *used = true;
                    }
                } else {
                    prop_assert_eq!(&e.prescription, &None);
                    prop_assert!(e.not_dosed_reason.is_some());
                }
                check_overrides(decision, &expected)?;
                self.hold(&e.session, SessionKind::Exploration, e.span)?;
                if let (Some(dose), Some(rx)) = (dose, self.rx.as_mut()) {
                    rx.used += 1;
                    rx.last_given = Some(dose);
                    rx.ordered = dose;
                }
                self.explorations.push(Explored {
                    session: e.session.clone(),
                    start: e.span.start(),
                    dose,
                    integrated: false,
                });
            }
            ClientEvent::IntegrationRecorded(e) => {
                self.check_charge(&e.charge, BillableService::Integration, &e.span)?;
                let x = self
                    .explorations
                    .iter()
                    .find(|x| x.session == e.exploration)
                    .cloned()
                    .ok_or_else(|| fail(format!("{what} for an unrecorded exploration")))?;
                prop_assert!(
                    e.span.start() >= x.start,
                    "integration before its exploration"
                );
                let mut expected = BTreeSet::new();
                if calendar_days(e.span.start(), x.start) > limits.window {
                    expected.insert(Rule::IntegrationLate);
                }
                check_overrides(decision, &expected)?;
                self.hold(&e.session, SessionKind::Integration, e.span)?;
                for x in &mut self.explorations {
                    if x.session == e.exploration {
                        x.integrated = true;
                    }
                }
            }
            ClientEvent::DoseAdjusted(e) => {
                let rx = self
                    .rx
                    .clone()
                    .ok_or_else(|| fail(format!("{what} without a prescription")))?;
                prop_assert_eq!(&e.prescription, &rx.id);
                prop_assert_eq!(e.from, rx.ordered);
                Self::check_dose(&rx, e.to, &what)?;
                if let Some(rx) = self.rx.as_mut() {
                    rx.ordered = e.to;
                }
            }
            ClientEvent::OngoingCareRecorded(e) => {
                prop_assert!(
                    self.explorations.iter().any(|x| x.integrated),
                    "ongoing care before any integrated exploration"
                );
                self.check_charge(&e.charge, BillableService::OngoingCare, &e.span)?;
                self.hold(&e.session, SessionKind::OngoingCare, e.span)?;
            }
            ClientEvent::SessionCancelled(e) => {
                self.close(&e.session, SessionStatus::Cancelled)?;
            }
            ClientEvent::NoShowRecorded(e) => {
                let s = self.close(&e.session, SessionStatus::NoShow)?;
                prop_assert!(
                    s.span.start() <= decision.decided_at,
                    "no-show before the session"
                );
            }
            ClientEvent::PaymentRecorded(e) => {
                prop_assert!(!self.payments.contains(&e.payment), "payment id reused");
                if let Some(s) = &e.session {
                    prop_assert!(
                        self.sessions.contains_key(s),
                        "payment for an unknown session"
                    );
                }
                self.payments.insert(e.payment.clone());
            }
            ClientEvent::EntryAmended(e) => {
                prop_assert!(
                    e.entry >= 1 && e.entry < position as u64,
                    "amendment at {} refers to entry {}",
                    position,
                    e.entry
                );
                let (target, amendable_as) = self.entries[(e.entry - 1) as usize].clone();
                prop_assert_eq!(&e.entry_type, &target, "amendment names another type");
                prop_assert!(
                    recording_roles(&amendable_as).contains(&decision.actor.role),
                    "a {} entry amended by {:?}",
                    amendable_as,
                    decision.actor.role
                );
                amendable = amendable_as;
            }
            ClientEvent::ClientDischarged(e) => {
                let open: BTreeSet<&SessionId> = self
                    .sessions
                    .iter()
                    .filter(|(_, s)| s.status == SessionStatus::Scheduled)
                    .map(|(id, _)| id)
                    .collect();
                let cancelled: BTreeSet<&SessionId> = e.cancelled_sessions.iter().collect();
                prop_assert_eq!(
                    cancelled,
                    open,
                    "discharge cancels exactly the open sessions"
                );
                for s in self.sessions.values_mut() {
                    if s.status == SessionStatus::Scheduled {
                        s.status = SessionStatus::Cancelled;
                    }
                }
                self.discharged = true;
            }
            ClientEvent::OverrideAuthorized(e) => {
                prop_assert_eq!(decision.actor.role, Role::Prescriber);
                prop_assert_eq!(
                    &decision.actor.id,
                    &prescriber().id,
                    "authorized by a prescriber the client is not referred to"
                );
                prop_assert_eq!(e.rule, Rule::ExplorationBloodPressureAboveThreshold);
                prop_assert!(e.valid_until >= decision.decided_at.date_naive());
                prop_assert!(
                    !self.authorizations.contains_key(&e.authorization),
                    "authorization id reused"
                );
                self.authorizations.insert(
                    e.authorization.clone(),
                    (
                        e.session.clone(),
                        e.valid_until,
                        decision.actor.id.clone(),
                        false,
                    ),
                );
            }
            ClientEvent::ClientReferred(_) => {
                return Err(fail("the model refers nobody".to_owned()));
            }
            ClientEvent::OutcomeMeasureRecorded(_) | ClientEvent::ExternalTreatmentRecorded(_) => {}
        }
        self.entries.push((event.type_name().to_owned(), amendable));
        self.commands.insert(
            decision.command_id.clone(),
            decision.command_fingerprint.clone(),
        );
        Ok(())
    }
}

/// The roles that may issue a command (an amendment is further limited
/// to the roles that may record the amended entry).
fn command_roles(command: &str) -> &'static [Role] {
    use Role::*;
    match command {
        "RegisterClient" => &[FrontDesk, Therapist],
        "RecordIntake" | "RecordPreparation" | "RecordExploration" | "RecordIntegration"
        | "RecordOngoingCare" => &[Therapist],
        "RecordMedicalEvaluation" | "IssuePrescription" | "AdjustDose" | "AuthorizeOverride" => {
            &[Prescriber]
        }
        "RecordConsent"
        | "RecordOutcomeMeasure"
        | "RecordExternalTreatment"
        | "DischargeClient" => &[Therapist, Prescriber],
        "SchedulePreparation"
        | "ScheduleExploration"
        | "ScheduleIntegration"
        | "CancelSession"
        | "RecordNoShow" => &[Therapist, FrontDesk],
        "RecordPayment" => &[FrontDesk],
        "AmendEntry" => &[Therapist, Prescriber, FrontDesk],
        _ => &[],
    }
}

/// The event a command produces when accepted.
fn event_for(command: &str) -> &'static str {
    match command {
        "RegisterClient" => "ClientRegistered",
        "RecordIntake" => "IntakeRecorded",
        "RecordMedicalEvaluation" => "MedicalEvaluationRecorded",
        "AuthorizeOverride" => "OverrideAuthorized",
        "IssuePrescription" => "PrescriptionIssued",
        "RecordConsent" => "ConsentRecorded",
        "SchedulePreparation" | "ScheduleExploration" | "ScheduleIntegration" => "SessionScheduled",
        "RecordPreparation" => "PreparationRecorded",
        "RecordExploration" => "ExplorationRecorded",
        "RecordIntegration" => "IntegrationRecorded",
        "AdjustDose" => "DoseAdjusted",
        "RecordOutcomeMeasure" => "OutcomeMeasureRecorded",
        "RecordOngoingCare" => "OngoingCareRecorded",
        "RecordExternalTreatment" => "ExternalTreatmentRecorded",
        "CancelSession" => "SessionCancelled",
        "RecordNoShow" => "NoShowRecorded",
        "RecordPayment" => "PaymentRecorded",
        "AmendEntry" => "EntryAmended",
        "DischargeClient" => "ClientDischarged",
        _ => "?",
    }
}

// ---- running a sequence ----

/// Counts per command kind, for the coverage check.
#[derive(Debug, Default)]
struct Stats {
    tried: BTreeMap<&'static str, usize>,
    accepted: BTreeMap<&'static str, usize>,
    refused: BTreeMap<String, usize>,
    overrides: BTreeMap<Rule, usize>,
    dosed_tried: usize,
    dosed_accepted: usize,
    runs: usize,
    runs_with_dosed: usize,
    most_dosed_in_a_run: usize,
    retried_applied_once: usize,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        for (k, v) in other.tried {
            *self.tried.entry(k).or_default() += v;
        }
        for (k, v) in other.accepted {
            *self.accepted.entry(k).or_default() += v;
        }
        for (k, v) in other.refused {
            *self.refused.entry(k).or_default() += v;
        }
        for (k, v) in other.overrides {
            *self.overrides.entry(k).or_default() += v;
        }
        self.runs += 1;
        if other.dosed_accepted > 0 {
            self.runs_with_dosed += 1;
        }
        self.most_dosed_in_a_run = self.most_dosed_in_a_run.max(other.dosed_accepted);
        self.dosed_tried += other.dosed_tried;
        self.dosed_accepted += other.dosed_accepted;
        self.retried_applied_once += other.retried_applied_once;
    }
}

fn any_actor(i: usize) -> Actor {
    match i % 7 {
        0 => therapist(),
        1 => other_therapist(),
        2 => prescriber(),
        3 => other_prescriber(),
        4 => front_desk(),
        5 => auditor(),
        _ => admin(),
    }
}

/// Stands for the authorization the client's prescriber records just
/// before the exploration that references it (`Run::step`).
const AUTHORIZED: &str = "auth-to-record";

/// A role that may amend an entry of this type (or the therapist).
fn amending_actor(entry_type: Option<&str>) -> Actor {
    match entry_type {
        Some("MedicalEvaluationRecorded" | "PrescriptionIssued" | "DoseAdjusted") => prescriber(),
        Some("SessionScheduled" | "SessionCancelled" | "NoShowRecorded" | "PaymentRecorded") => {
            front_desk()
        }
        _ => therapist(),
    }
}

fn text_of(s: &str) -> Text {
    text(s)
}

/// The slot (start hour, length in hours) of a kind of session.
fn slot(kind: SessionKind) -> (i64, i64) {
    match kind {
        SessionKind::Intake => (7, 1),
        SessionKind::Preparation => (8, 1),
        SessionKind::Exploration => (9, 3),
        SessionKind::Integration => (13, 1),
        SessionKind::OngoingCare => (15, 1),
    }
}

fn exploration_body(
    session: &SessionId,
    s: TimeSpan,
    dose: Option<(i64, Route)>,
    bp_before: BloodPressure,
    adverse: bool,
    departure: usize,
) -> CommandBody {
    let raw = RawRecordExploration {
        session: session.clone(),
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
            .then(|| text_of("blood pressure high; dose deferred")),
        bp_before,
        bp_after: bp(125, 82),
        observations: text_of("calm, reflective"),
        adverse_events: if adverse {
            vec![AdverseEvent {
                description: text_of("transient nausea"),
                severity: AdverseSeverity::Mild,
            }]
        } else {
            vec![]
        },
        discharged_at: s.end() - Duration::minutes(15),
        departure: [
            Departure::Companion,
            Departure::TaxiOrRideshare,
            Departure::PublicTransport,
            Departure::Walked,
        ][departure % 4],
    };
    CommandBody::RecordExploration(RecordExploration::try_from(raw).expect("valid exploration"))
}

struct Run {
    chart: Chart,
    shadow: Shadow,
    issued: Vec<Command>,
    used_sessions: Vec<SessionId>,
    fresh: usize,
    renewals: usize,
    /// Authorizations recorded by the prescriber so far.
    authorizations: usize,
    stats: Stats,
}

impl Run {
    fn new(practice: Practice) -> Self {
        Self {
            chart: Chart::with_settings(practice.settings()),
            shadow: Shadow::new(practice),
            issued: Vec::new(),
            used_sessions: Vec::new(),
            fresh: 0,
            renewals: 0,
            authorizations: 0,
            stats: Stats::default(),
        }
    }

    fn today(&self) -> i64 {
        self.chart.today()
    }

    fn advance(&mut self, advance: Advance) {
        match advance {
            Advance::Stay => {}
            Advance::Hours(h) => self.chart.now += Duration::hours(h),
            Advance::Days(d) => {
                let today = self.today();
                self.chart.on(today + d);
            }
        }
    }

    fn note_session(&mut self, id: &SessionId) {
        if !self.used_sessions.contains(id) {
            self.used_sessions.push(id.clone());
        }
    }

    /// Resolves a session choice to an id and, for an open session, its span.
    fn session(&mut self, s: Sess) -> (SessionId, Option<TimeSpan>) {
        self.session_of(s, None)
    }

    /// Like [`Run::session`], an open session preferably of `kind` and over.
    fn session_of(&mut self, s: Sess, kind: Option<SessionKind>) -> (SessionId, Option<TimeSpan>) {
        let now = self.chart.now;
        let all: Vec<(SessionId, &Booked)> = self
            .shadow
            .sessions
            .iter()
            .filter(|(_, b)| b.status == SessionStatus::Scheduled)
            .map(|(id, b)| (id.clone(), b))
            .collect();
        let over: Vec<_> = all
            .iter()
            .filter(|(_, b)| Some(b.kind) == kind && b.span.end() <= now)
            .cloned()
            .collect();
        // A session being recorded is one that is over; cancelling or
        // marking a no-show takes any open one.
        let candidates = if kind.is_some() { over } else { all };
        let open: Vec<(SessionId, TimeSpan)> =
            candidates.into_iter().map(|(id, b)| (id, b.span)).collect();
        let (id, span) = match s {
            Sess::Open(i) if !open.is_empty() => {
                let (id, span) = open[i % open.len()].clone();
                (id, Some(span))
            }
            Sess::Used(i) if !self.used_sessions.is_empty() => (
                self.used_sessions[i % self.used_sessions.len()].clone(),
                None,
            ),
            _ => {
                self.fresh += 1;
                (sid(&format!("s{}", self.fresh)), None)
            }
        };
        self.note_session(&id);
        (id, span)
    }

    fn exploration(&mut self, r: ExplRef) -> SessionId {
        let explorations = &self.shadow.explorations;
        let latest = explorations
            .iter()
            .rev()
            .find(|x| !x.integrated)
            .or(explorations.last())
            .map(|x| x.session.clone());
        let scheduled = self
            .shadow
            .sessions
            .iter()
            .rev()
            .find(|(_, s)| s.kind == SessionKind::Exploration)
            .map(|(id, _)| id.clone());
        match r {
            ExplRef::Pending => match latest.or(scheduled) {
                Some(id) => id,
                None => self.session(Sess::Fresh).0,
            },
            ExplRef::Other(s) => self.session(s).0,
        }
    }

    fn span_for(&self, kind: SessionKind, when: When) -> TimeSpan {
        let (hour, len) = slot(kind);
        let start = hour + when.jitter;
        span(self.today() + when.day, start, start + len)
    }

    fn date_at(&self, offset: i64) -> NaiveDate {
        date(self.today() + offset)
    }

    fn dose(&self, d: Dose) -> i64 {
        match d {
            Dose::Relative(delta) => {
                let reference = self
                    .shadow
                    .rx
                    .as_ref()
                    .map_or(150, |rx| mg_i(rx.reference()));
                (reference + delta).max(1)
            }
            Dose::Absolute(n) => n.max(1),
        }
    }

    /// The overrides a command carries. A BP override references the
    /// authorization `auth-<session>`: for `RxPrescriber` the client's
    /// prescriber records it just before (see `step`); the other cases
    /// name an authorization that does not exist, or none.
    fn overrides(&self, ov: Ov) -> Vec<Override> {
        let reason = || text_of("clinical judgement, see note");
        let mut out = Vec::new();
        if ov.soft {
            for rule in [
                Rule::ExplorationTooSoon,
                Rule::ExplorationBeyondProtocolMaximum,
                Rule::IntegrationLate,
            ] {
                out.push(Override {
                    rule,
                    reason: reason(),
                    authorization: None,
                });
            }
        }
        let authorization = |id: &str| Some(AuthorizationId::parse(id).expect("valid id"));
        let referenced = match ov.bp {
            BpAuth::Missing => None,
            BpAuth::Unnamed => Some(None),
            BpAuth::RxPrescriber => Some(authorization(AUTHORIZED)),
            BpAuth::OtherPrescriber => Some(authorization("auth-forged")),
            BpAuth::Therapist => Some(authorization("auth-by-therapist")),
        };
        if let Some(authorization) = referenced {
            out.push(Override {
                rule: Rule::ExplorationBloodPressureAboveThreshold,
                reason: reason(),
                authorization,
            });
        }
        if ov.hard {
            out.push(Override {
                rule: Rule::DoseStepTooLarge,
                reason: reason(),
                authorization: None,
            });
        }
        out
    }

    fn schedule(
        &mut self,
        session: Sess,
        kind: SessionKind,
        when: When,
        other: bool,
    ) -> ScheduleSession {
        let (session, _) = self.session(session);
        ScheduleSession {
            session,
            span: self.span_for(kind, when),
            therapist: if other {
                other_therapist().id
            } else {
                therapist().id
            },
        }
    }

    /// Builds the command for a step; `None` when the step is not a command.
    fn command(&mut self, step: &Step) -> Option<Command> {
        let (proper, body, overrides) = match step.act {
            Act::Register { dob_in_future } => {
                let CommandBody::RegisterClient(mut c) = register_client() else {
                    unreachable!("register_client builds RegisterClient")
                };
                if dob_in_future {
                    c.date_of_birth = self.date_at(1);
                }
                (front_desk(), CommandBody::RegisterClient(c), None)
            }
            Act::Intake {
                session,
                when,
                suitable,
            } => {
                let (id, s) = self.session_of(session, Some(SessionKind::Intake));
                let s = s.unwrap_or_else(|| self.span_for(SessionKind::Intake, when));
                let finding = if suitable {
                    Suitability::Suitable
                } else {
                    Suitability::NotSuitable
                };
                (therapist(), intake(id.as_str(), s, finding), None)
            }
            Act::Medical { day, cleared } => {
                let finding = if cleared {
                    Clearance::Cleared
                } else {
                    Clearance::NotCleared
                };
                (prescriber(), medical(self.date_at(day), finding), None)
            }
            Act::Prescribe(p) => {
                let from = self.today() + p.from;
                let max = p.min + p.width;
                let starting = p.min + p.width * p.start_pct / 100;
                let body = prescription(
                    &format!("rx-{}", p.id),
                    from,
                    from + p.days,
                    p.min,
                    max,
                    starting,
                    p.step,
                    p.sessions,
                );
                (prescriber(), body, None)
            }
            Act::Consent { day } => (therapist(), consent(self.date_at(day)), None),
            Act::SchedulePreparation {
                session,
                when,
                other_therapist,
            } => {
                let c = self.schedule(session, SessionKind::Preparation, when, other_therapist);
                (front_desk(), CommandBody::SchedulePreparation(c), None)
            }
            Act::RecordPreparation { session, when } => {
                let (id, s) = self.session_of(session, Some(SessionKind::Preparation));
                let s = s.unwrap_or_else(|| self.span_for(SessionKind::Preparation, when));
                (therapist(), preparation(id.as_str(), s), None)
            }
            Act::ScheduleExploration {
                session,
                when,
                other_therapist,
                ov,
            } => {
                let c = self.schedule(session, SessionKind::Exploration, when, other_therapist);
                (
                    front_desk(),
                    CommandBody::ScheduleExploration(c),
                    Some(self.overrides(ov)),
                )
            }
            Act::Cycle {
                exploration: x,
                integration: i,
                renew,
            } => {
                let awaiting = self.shadow.explorations.iter().any(|x| !x.integrated);
                let today = self.chart.now.date_naive();
                let covered = self.shadow.rx.as_ref().is_some_and(|rx| {
                    rx.valid.contains(today) && (rx.used < rx.authorized || !renew)
                });
                let today_slot = When { day: 0, jitter: 0 };
                let act = if self.shadow.intake != Some(Suitability::Suitable) {
                    Act::Intake {
                        session: Sess::Fresh,
                        when: today_slot,
                        suitable: true,
                    }
                } else if self.shadow.medical != Some(Clearance::Cleared) {
                    Act::Medical {
                        day: 0,
                        cleared: true,
                    }
                } else if !covered {
                    self.renewals += 1;
                    Act::Prescribe(RxPlan {
                        id: 100 + self.renewals,
                        from: 0,
                        days: 120,
                        min: 100,
                        width: 200,
                        start_pct: 25,
                        step: 50,
                        sessions: 3,
                    })
                } else if awaiting {
                    Act::RecordIntegration(IntegrationPlan {
                        exploration: ExplRef::Pending,
                        ..i
                    })
                } else {
                    Act::RecordExploration(x)
                };
                return self.command(&Step { act, ..*step });
            }
            Act::RecordExploration(ExplorationPlan {
                session,
                when,
                dose,
                bp: (systolic, diastolic),
                route,
                ov,
                adverse,
                departure,
            }) => {
                let (id, s) = self.session_of(session, Some(SessionKind::Exploration));
                let s = s.unwrap_or_else(|| self.span_for(SessionKind::Exploration, when));
                let dose = dose.map(|d| (self.dose(d), route));
                let body =
                    exploration_body(&id, s, dose, bp(systolic, diastolic), adverse, departure);
                (therapist(), body, Some(self.overrides(ov)))
            }
            Act::ScheduleIntegration {
                session,
                exploration,
                when,
                other_therapist,
            } => {
                let x = self.exploration(exploration);
                let c = self.schedule(session, SessionKind::Integration, when, other_therapist);
                let body = CommandBody::ScheduleIntegration(ScheduleIntegration {
                    session: c.session,
                    span: c.span,
                    therapist: c.therapist,
                    exploration: x,
                });
                (front_desk(), body, None)
            }
            Act::RecordIntegration(IntegrationPlan {
                session,
                exploration,
                when,
                ov,
            }) => {
                let x = self.exploration(exploration);
                let (id, s) = self.session_of(session, Some(SessionKind::Integration));
                let s = s.unwrap_or_else(|| self.span_for(SessionKind::Integration, when));
                (
                    therapist(),
                    integration(id.as_str(), s, x.as_str()),
                    Some(self.overrides(ov)),
                )
            }
            Act::AdjustDose { dose } => (prescriber(), adjust_dose(self.dose(dose)), None),
            Act::Outcome {
                instrument,
                score,
                day,
            } => {
                let measure = match instrument % 4 {
                    0 => OutcomeMeasure::Phq9(Phq9Score::new(score % 28).expect("score")),
                    1 => OutcomeMeasure::Gad7(Gad7Score::new(score % 22).expect("score")),
                    2 => OutcomeMeasure::Pcl5(Pcl5Score::new(score % 81).expect("score")),
                    _ => OutcomeMeasure::BdiIi(BdiIiScore::new(score % 64).expect("score")),
                };
                (therapist(), outcome(measure, self.date_at(day)), None)
            }
            Act::OngoingCare { session, when } => {
                let (id, s) = self.session_of(session, Some(SessionKind::OngoingCare));
                let s = s.unwrap_or_else(|| self.span_for(SessionKind::OngoingCare, when));
                (therapist(), ongoing_care(id.as_str(), s), None)
            }
            Act::External { day, route, dose } => {
                let body = CommandBody::RecordExternalTreatment(RecordExternalTreatment {
                    treated_on: self.date_at(day),
                    provider: text_of("Affiliate Infusion Center"),
                    route,
                    dose: dose.map(mg),
                    notes: text_of("series at affiliate"),
                });
                (therapist(), body, None)
            }
            Act::Cancel { session } => {
                (front_desk(), cancel(self.session(session).0.as_str()), None)
            }
            Act::NoShow { session } => (
                front_desk(),
                no_show(self.session(session).0.as_str()),
                None,
            ),
            Act::Payment {
                id,
                cents,
                day,
                session,
            } => {
                let session = session.map(|s| self.session(s).0);
                let body = CommandBody::RecordPayment(RecordPayment {
                    payment: PaymentId::parse(&format!("pay-{id}")).expect("valid id"),
                    amount: Cents::new(cents).expect("valid amount"),
                    method: PaymentMethod::Card,
                    payer: Payer::Client,
                    received_on: self.date_at(day),
                    session,
                });
                (front_desk(), body, None)
            }
            Act::Amend { entry } => {
                let entry = (entry % (self.chart.events.len() + 2)) as u64;
                let target = usize::try_from(entry)
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| self.shadow.entries.get(i))
                    .map(|(_, amendable_as)| amendable_as.as_str());
                (amending_actor(target), amend(entry), None)
            }
            Act::Discharge { day } => (therapist(), discharge(self.date_at(day)), None),
            Act::Booking { when } => {
                let s = self.span_for(SessionKind::Exploration, when);
                self.fresh += 1;
                let booking = Booking {
                    client: ClientId::parse("client-2").expect("valid id"),
                    session: sid(&format!("other-{}", self.fresh)),
                    span: s,
                };
                self.chart.practice.book(therapist().id, booking);
                self.shadow.foreign_bookings.push((therapist().id, s));
                return None;
            }
            Act::Retry { pick, same } => {
                if self.issued.is_empty() {
                    return None;
                }
                let n = self.issued.len();
                let mut command = self.issued[pick % n].clone();
                if !same {
                    command.body = self.issued[(pick + 1) % n].body.clone();
                }
                command.issued_at = self.chart.now;
                return Some(command);
            }
        };
        let actor = match step.who {
            Who::Proper => proper,
            Who::Any(i) => any_actor(i),
        };
        let mut command = self.chart.command(actor, body);
        command.overrides = overrides.unwrap_or_default();
        Some(command)
    }

    async fn step(&mut self, step: &Step) -> Result<(), TestCaseError> {
        self.advance(step.advance);
        let retry = matches!(step.act, Act::Retry { .. });
        let Some(mut command) = self.command(step) else {
            return Ok(());
        };
        // A BP override that stands on the prescriber's authorization: the
        // client's prescriber records one for this session first, under a
        // fresh id, and the exploration references it.
        if let CommandBody::RecordExploration(c) = &command.body
            && !retry
        {
            let session = c.session().clone();
            let day = c.span().date().max(self.chart.now.date_naive());
            if let Some(ov) = command.overrides.iter_mut().find(|o| {
                o.authorization
                    .as_ref()
                    .is_some_and(|a| a.as_str() == AUTHORIZED)
            }) {
                self.authorizations += 1;
                let id = AuthorizationId::parse(&format!("auth-{}", self.authorizations))
                    .expect("valid id");
                ov.authorization = Some(id.clone());
                let body = CommandBody::AuthorizeOverride(AuthorizeOverride {
                    authorization: id,
                    rule: Rule::ExplorationBloodPressureAboveThreshold,
                    session,
                    valid_until: day,
                    ceiling: None,
                    reason: text_of("reviewed by phone; proceed"),
                });
                let authorize = self.chart.command(prescriber(), body);
                self.execute(authorize, false).await?;
            }
        }
        self.execute(command, retry).await
    }

    async fn execute(&mut self, command: Command, retry: bool) -> Result<(), TestCaseError> {
        let name = command.body.name();
        let key = if retry { "(retry)" } else { name };
        let dosed = matches!(&command.body, CommandBody::RecordExploration(c) if c.administration().is_some());
        let before = self.chart.events.len();
        let record_before = self.chart.record.clone();
        let fingerprint = command.fingerprint();
        let seen = self.shadow.commands.get(&command.id).cloned();
        self.issued.push(command.clone());
        *self.stats.tried.entry(key).or_default() += 1;
        if dosed && !retry {
            self.stats.dosed_tried += 1;
        }

        // The checks every command meets first, in the documented order:
        // idempotency, role, registration, discharge.
        let role = command.actor.role;
        let expected_refusal = if seen.is_some() {
            None
        } else if !command_roles(name).contains(&role) {
            Some(Rule::RoleNotPermitted)
        } else if role == Role::Therapist
            && command.actor.id != therapist().id
            && (name == "RegisterClient" || self.shadow.registered)
        {
            // The record is assigned to therapist(); registering names
            // therapist() too.
            Some(Rule::ClientNotAssigned)
        } else if role == Role::Therapist && name != "RegisterClient" && !self.shadow.registered {
            Some(Rule::ClientNotAssigned)
        } else if role == Role::Prescriber
            && (!self.shadow.registered || command.actor.id != prescriber().id)
        {
            // Registration refers the client to prescriber().
            Some(Rule::ClientNotReferred)
        } else if name == "RegisterClient" && self.shadow.registered {
            Some(Rule::ClientAlreadyRegistered)
        } else if name != "RegisterClient" && !self.shadow.registered {
            Some(Rule::ClientNotRegistered)
        } else if self.shadow.discharged && !matches!(name, "AmendEntry" | "RecordPayment") {
            Some(Rule::ClientDischarged)
        } else {
            None
        };

        let result = self.chart.run(command.clone()).await;
        if let Some(rule) = expected_refusal {
            prop_assert_eq!(
                result.as_ref().err().and_then(ClientError::rule),
                Some(rule),
                "{} by {:?}: {:?}",
                name,
                role,
                result.as_ref().map(|events| events.len())
            );
        }
        match result {
            Err(err) => {
                let code = err
                    .rule()
                    .map_or_else(|| format!("invalid: {err}"), |r| r.code().to_owned());
                *self.stats.refused.entry(code).or_default() += 1;
                prop_assert!(err.is_user_error(), "internal error: {}", err);
                prop_assert_eq!(
                    self.chart.events.len(),
                    before,
                    "refused command left events"
                );
                prop_assert!(
                    self.chart.record == record_before,
                    "refused command changed the record"
                );
                let reused = seen.as_ref().is_some_and(|f| *f != fingerprint);
                prop_assert_eq!(
                    err.rule() == Some(Rule::CommandIdReused),
                    reused,
                    "{} ({}): {}",
                    name,
                    command.id,
                    err
                );
            }
            Ok(new) => {
                prop_assert_eq!(&self.chart.events[before..], &new[..]);
                if let Some(f) = seen {
                    prop_assert_eq!(f, fingerprint, "a reused command id was accepted");
                    prop_assert!(new.is_empty(), "a retried command was applied twice");
                    prop_assert!(
                        self.chart.record == record_before,
                        "a retry changed the record"
                    );
                    self.stats.retried_applied_once += 1;
                } else {
                    prop_assert_eq!(new.len(), 1, "{} gave {} events", name, new.len());
                    let event = &new[0];
                    prop_assert_eq!(event.type_name(), event_for(name));
                    let d = event.decision();
                    prop_assert_eq!(&d.command_id, &command.id);
                    prop_assert_eq!(&d.command_fingerprint, &fingerprint);
                    prop_assert_eq!(&d.actor, &command.actor);
                    prop_assert_eq!(d.decided_at, command.issued_at);
                    self.shadow.check_and_apply(event, before + 1)?;
                    *self.stats.accepted.entry(key).or_default() += 1;
                    for o in &d.overrides {
                        *self.stats.overrides.entry(o.rule).or_default() += 1;
                    }
                    if dosed && !retry {
                        self.stats.dosed_accepted += 1;
                    }
                }
            }
        }
        prop_assert_eq!(
            self.chart.record.last_sequence(),
            self.chart.events.len() as u64,
            "sequence is not contiguous"
        );
        Ok(())
    }
}

/// Replaying the committed events rebuilds the record.
fn check_replay(chart: &Chart) -> Result<(), TestCaseError> {
    prop_assert!(
        chart.replay() == chart.record,
        "replay differs from the record"
    );
    Ok(())
}

/// Replaying the events through their JSON rebuilds the record.
fn check_json_replay(chart: &Chart) -> Result<(), TestCaseError> {
    let mut record = ClientRecord::default();
    for event in &chart.events {
        let json = serde_json::to_value(event).map_err(|e| fail(e.to_string()))?;
        let back: ClientEvent =
            serde_json::from_value(json.clone()).map_err(|e| fail(format!("{e}: {json}")))?;
        prop_assert_eq!(&back, event);
        record.apply(back);
    }
    prop_assert!(
        record == chart.record,
        "JSON replay differs from the record"
    );
    Ok(())
}

/// Runs a sequence, checking every invariant after every step.
async fn run_checked(scenario: &Scenario) -> Result<Run, TestCaseError> {
    let mut run = Run::new(scenario.practice);
    for (i, step) in scenario.steps.iter().enumerate() {
        run.step(step).await?;
        if i % 15 == 14 {
            check_replay(&run.chart)?;
        }
    }
    check_replay(&run.chart)?;
    check_json_replay(&run.chart)?;
    Ok(run)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime")
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random command sequences never break an invariant, and replaying
    /// their events rebuilds the record.
    #[test]
    fn random_commands_keep_invariants(scenario in scenario()) {
        runtime().block_on(run_checked(&scenario))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// The domain has no clock and no randomness: the same sequence gives
    /// the same events and the same record.
    #[test]
    fn same_commands_same_events(scenario in scenario()) {
        let rt = runtime();
        let first = rt.block_on(run_checked(&scenario))?;
        let second = rt.block_on(run_checked(&scenario))?;
        prop_assert_eq!(&first.chart.events, &second.chart.events);
        prop_assert!(first.chart.record == second.chart.record);
    }
}

/// The generator is not vacuous: over a fixed sample, every command kind
/// is accepted sometimes, dosed explorations often succeed, and the
/// interesting refusals and overrides all happen.
#[test]
fn generator_covers_allowed_and_refused_outcomes() {
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = scenario();
    let rt = runtime();
    let mut stats = Stats::default();
    for _ in 0..200 {
        let scenario = strategy
            .new_tree(&mut runner)
            .expect("generate a sequence")
            .current();
        let run = rt.block_on(run_checked(&scenario)).unwrap_or_else(|e| {
            panic!("invariant broken (see random_commands_keep_invariants): {e}")
        });
        stats.merge(run.stats);
    }

    for kind in [
        "RegisterClient",
        "RecordIntake",
        "RecordMedicalEvaluation",
        "IssuePrescription",
        "RecordConsent",
        "SchedulePreparation",
        "RecordPreparation",
        "ScheduleExploration",
        "RecordExploration",
        "ScheduleIntegration",
        "RecordIntegration",
        "AdjustDose",
        "RecordOutcomeMeasure",
        "RecordOngoingCare",
        "RecordExternalTreatment",
        "CancelSession",
        "RecordNoShow",
        "RecordPayment",
        "AmendEntry",
        "DischargeClient",
    ] {
        let tried = stats.tried.get(kind).copied().unwrap_or(0);
        let accepted = stats.accepted.get(kind).copied().unwrap_or(0);
        assert!(accepted > 0, "{kind}: none of {tried} accepted");
        assert!(accepted < tried, "{kind}: all {tried} accepted");
    }
    assert!(
        stats.dosed_accepted >= 150 && stats.dosed_accepted * 5 >= stats.dosed_tried,
        "too few dosed explorations accepted: {} of {}",
        stats.dosed_accepted,
        stats.dosed_tried
    );
    assert!(
        stats.runs_with_dosed * 2 >= stats.runs,
        "only {} of {} sequences give a dose",
        stats.runs_with_dosed,
        stats.runs
    );
    assert!(
        stats.retried_applied_once > 0,
        "no retry of an applied command"
    );
    for rule in [
        Rule::ExplorationNoConsent,
        Rule::ExplorationNoPreparation,
        Rule::ExplorationIntakeNotSuitable,
        Rule::ExplorationMedicalNotCleared,
        Rule::PrescriptionNoneActive,
        Rule::ExplorationNoSessionsLeft,
        Rule::ExplorationPreviousNotIntegrated,
        Rule::ExplorationBloodPressureAboveThreshold,
        Rule::OverrideNotAuthorized,
        Rule::ExplorationTooSoon,
        Rule::IntegrationLate,
        Rule::DoseOutsideRange,
        Rule::DoseStepTooLarge,
        Rule::DoseRouteNotInPractice,
        Rule::ClientDischarged,
        Rule::RoleNotPermitted,
        Rule::CommandIdReused,
        Rule::SessionOverlap,
        Rule::TherapistDoubleBooked,
        Rule::AmendmentUnknownEntry,
    ] {
        assert!(
            stats.refused.contains_key(rule.code()),
            "never refused by {rule}"
        );
    }
    for rule in [
        Rule::ExplorationTooSoon,
        Rule::ExplorationBeyondProtocolMaximum,
        Rule::IntegrationLate,
        Rule::ExplorationBloodPressureAboveThreshold,
    ] {
        assert!(
            stats.overrides.contains_key(&rule),
            "{rule} never overridden"
        );
    }
}
