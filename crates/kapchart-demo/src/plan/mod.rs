//! The plan: who the practice's clients are, where each stands at the end of
//! the year, and every command that gets them there, each with the time it
//! is issued and whether the rules are meant to refuse it.
//!
//! Planning is pure and deterministic: the same options give the same plan.
//! Each client follows the protocol with a planner that mirrors the rules it
//! needs (prescription coverage and sessions left, dose steps, spacing,
//! integration window), books every session from its therapist's calendar,
//! and positions the client's registration so the year ends with the client
//! at the intended stage.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kapchart_domain::{
    Actor, AmendEntry, Booking, ClientId, CommandBody, Override, ParseError, PersonName,
    RegisterClient, Rule, SessionId, Text, TimeSpan, UserId,
};

use crate::calendar::Calendar;
use crate::rng::Rng;
use crate::words::{FRONT_DESK, PRESCRIBERS, THERAPISTS};

mod client;

use client::Planner;

/// Days of history: the plan's commands are all issued before day 365.
pub(crate) const HISTORY_DAYS: i64 = 365;

/// A plan that could not be made (a bug in the planner, or a practice too
/// small for its clients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlanError(pub(crate) String);

impl From<ParseError> for PlanError {
    fn from(e: ParseError) -> Self {
        PlanError(format!("a generated value was refused: {e}"))
    }
}

type Res<T> = Result<T, PlanError>;

/// One command of a client's script.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// When it is issued (the command's `issued_at`, and `recorded_at`).
    pub(crate) at: DateTime<Utc>,
    /// Who issues it.
    pub(crate) actor: Actor,
    /// What.
    pub(crate) body: CommandBody,
    /// Override reasons it carries.
    pub(crate) overrides: Vec<Override>,
    /// `Some(rule)`: deliberately refused by `rule`.
    pub(crate) expect: Option<Rule>,
    /// The therapist's booking it makes, registered with the practice once
    /// the command succeeds.
    pub(crate) booking: Option<(UserId, Booking)>,
}

/// One client's commands, in the order they are issued.
#[derive(Debug, Clone)]
pub(crate) struct Script {
    /// The client.
    pub(crate) client_id: ClientId,
    /// Its commands.
    pub(crate) steps: Vec<Step>,
}

/// Where a client is meant to stand at the end of the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Archetype {
    /// Registered, nothing else yet.
    RegisteredOnly,
    /// One of the two assessments done.
    Assessment,
    /// The intake found KAP not suitable; not yet discharged.
    NotSuitableIntake,
    /// The medical evaluation did not clear the client; not yet discharged.
    NotSuitableMedical,
    /// Found not suitable and discharged.
    DischargedNotSuitable,
    /// Cleared, preparing.
    Preparation,
    /// Some explorations done (early: 1–3; else 4 to one short of the plan).
    MidProtocol { early: bool },
    /// Protocol complete, in ongoing care.
    OngoingCare,
    /// Protocol and ongoing care complete, discharged.
    DischargedAfterCare,
    /// Stopped part-way by choice and discharged.
    Dropout,
}

impl Archetype {
    /// Still in care at the end of the year: their last activity is recent.
    fn open(self) -> bool {
        !matches!(
            self,
            Archetype::DischargedNotSuitable | Archetype::DischargedAfterCare | Archetype::Dropout
        )
    }
}

/// Variants a client is made to show, so that a small practice still has
/// every kind of entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Force {
    step_refusal: bool,
    early_refusal: bool,
    bp_override: bool,
    late_override: bool,
    amendment: bool,
}

impl Force {
    const NONE: Force = Force {
        step_refusal: false,
        early_refusal: false,
        bp_override: false,
        late_override: false,
        amendment: false,
    };
}

/// The first clients of every practice, most important first: together they
/// put a client at every stage and show every kind of entry.
const COVERAGE: [(Archetype, Force); 11] = [
    (
        Archetype::MidProtocol { early: false },
        Force {
            bp_override: true,
            amendment: true,
            ..Force::NONE
        },
    ),
    (
        Archetype::DischargedAfterCare,
        Force {
            step_refusal: true,
            amendment: true,
            ..Force::NONE
        },
    ),
    (
        Archetype::OngoingCare,
        Force {
            late_override: true,
            ..Force::NONE
        },
    ),
    (
        Archetype::MidProtocol { early: true },
        Force {
            early_refusal: true,
            ..Force::NONE
        },
    ),
    (Archetype::Preparation, Force::NONE),
    (Archetype::NotSuitableIntake, Force::NONE),
    (Archetype::DischargedNotSuitable, Force::NONE),
    (Archetype::Assessment, Force::NONE),
    (Archetype::RegisteredOnly, Force::NONE),
    (Archetype::NotSuitableMedical, Force::NONE),
    (Archetype::DischargedAfterCare, Force::NONE),
];

/// The mix of the practice's other clients.
const MIX: [(Archetype, u64); 11] = [
    (Archetype::RegisteredOnly, 2),
    (Archetype::Assessment, 3),
    (Archetype::NotSuitableIntake, 1),
    (Archetype::NotSuitableMedical, 1),
    (Archetype::DischargedNotSuitable, 3),
    (Archetype::Preparation, 3),
    (Archetype::MidProtocol { early: true }, 4),
    (Archetype::MidProtocol { early: false }, 5),
    (Archetype::OngoingCare, 6),
    (Archetype::DischargedAfterCare, 7),
    (Archetype::Dropout, 2),
];

/// The practice's staff.
#[derive(Debug)]
pub(crate) struct Staff {
    pub(crate) therapists: Vec<UserId>,
    pub(crate) prescribers: Vec<UserId>,
    pub(crate) front_desk: Vec<UserId>,
}

impl Staff {
    /// Three therapists, and one more for every 20 clients past 60 (named
    /// from the list, then `t-0013`, `t-0014`…, so that a large practice
    /// has calendars enough); two prescribers; two at the front desk.
    pub(crate) fn new(clients: u32) -> Res<Self> {
        let therapists = (clients as usize).div_ceil(20).max(3);
        let ids = |names: &[&str]| -> Res<Vec<UserId>> {
            names
                .iter()
                .map(|s| UserId::parse(s).map_err(PlanError::from))
                .collect()
        };
        let mut therapist_ids = ids(&THERAPISTS[..therapists.min(THERAPISTS.len())])?;
        for n in THERAPISTS.len()..therapists {
            therapist_ids.push(UserId::parse(&format!("t-{:04}", n + 1)).map_err(PlanError::from)?);
        }
        Ok(Self {
            therapists: therapist_ids,
            prescribers: ids(PRESCRIBERS)?,
            front_desk: ids(FRONT_DESK)?,
        })
    }
}

/// The sample practice: every client's script, clients numbered in the order
/// they registered.
pub(crate) fn plan(clients: u32, seed: u64, start: NaiveDate) -> Res<Vec<Script>> {
    let n = clients as usize;
    let mut rng = Rng::new(seed, 0);
    let staff = Staff::new(clients)?;
    let mut kinds: Vec<(Archetype, Force)> = (0..n)
        .map(|i| match COVERAGE.get(i) {
            Some(kind) => *kind,
            None => (rng.weighted(&MIX), Force::NONE),
        })
        .collect();
    rng.shuffle(&mut kinds);

    let mut calendar = Calendar::new(start);
    let mut drafts = Vec::with_capacity(n);
    for (i, (archetype, force)) in kinds.into_iter().enumerate() {
        let who = Assignment {
            client: i,
            therapist: rng.below(staff.therapists.len() as u64) as usize,
            prescriber: rng.below(staff.prescribers.len() as u64) as usize,
            force,
        };
        let trajectory = Rng::new(seed, 1 + i as u64);
        drafts.push(plan_client(
            &mut calendar,
            &staff,
            &mut rng,
            trajectory,
            who,
            archetype,
            start,
        )?);
    }

    // Number clients in the order they registered.
    let mut order: Vec<usize> = (0..drafts.len()).collect();
    order.sort_by_key(|&i| (drafts[i].steps.first().map(|s| s.at), i));
    let width = n.to_string().len().max(3);
    let cutoff = midnight(start) + Duration::days(HISTORY_DAYS);
    order
        .into_iter()
        .enumerate()
        .map(|(number, i)| {
            let id = ClientId::parse(&format!("client-{:0width$}", number + 1))?;
            finish(&drafts[i], id, cutoff)
        })
        .collect()
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

#[derive(Debug, Clone, Copy)]
struct Assignment {
    client: usize,
    therapist: usize,
    prescriber: usize,
    force: Force,
}

/// Plans one client: a dry run measures how long the trajectory takes, then
/// the registration is placed so that an open client's last activity falls
/// in the last days of the year and a closed one's anywhere in it. A plan
/// that overruns the year is moved earlier and made again.
fn plan_client(
    calendar: &mut Calendar,
    staff: &Staff,
    rng: &mut Rng,
    trajectory: Rng,
    who: Assignment,
    archetype: Archetype,
    start: NaiveDate,
) -> Res<Draft> {
    let last_day = HISTORY_DAYS - 1;
    let cutoff = midnight(start) + Duration::days(HISTORY_DAYS);
    let mut dry = Planner::new(
        calendar.of_therapist(who.therapist),
        staff,
        trajectory.clone(),
        who,
        start,
    );
    dry.run(archetype, 0)?;
    let duration = dry.day_of(dry.last_required());
    let mut reg = match archetype {
        Archetype::RegisteredOnly => last_day - rng.range(0, 20),
        a if a.open() => last_day - duration - rng.range(0, 3),
        _ => rng.range(0, (last_day - duration - 1).max(0)),
    }
    .max(0);
    let mut attempt = 0;
    loop {
        let mut planner = Planner::new(
            calendar.of_therapist(who.therapist),
            staff,
            trajectory.clone(),
            who,
            start,
        );
        planner.run(archetype, reg)?;
        let last = planner.last_required();
        attempt += 1;
        if last < cutoff || reg == 0 || attempt >= 8 {
            calendar.merge(planner.calendar);
            return Ok(Draft {
                register: planner.register.ok_or_else(|| {
                    PlanError("a client's plan does not register the client".to_owned())
                })?,
                steps: planner.steps,
            });
        }
        let over = (last - cutoff).num_days() + 1;
        reg = (reg - over - 1).max(0);
    }
}

/// What a client's registration says, filled in once the client's id is
/// known.
#[derive(Debug, Clone)]
struct RegisterTemplate {
    name: PersonName,
    date_of_birth: NaiveDate,
    therapist: UserId,
    prescriber: Option<UserId>,
}

#[derive(Debug, Clone)]
enum Body {
    Register,
    Command(CommandBody),
    /// An amendment of the entry planned at `target` (its sequence number
    /// is known once the script's order is).
    Amend {
        target: usize,
        reason: Text,
        corrected: Text,
    },
}

#[derive(Debug, Clone)]
struct DraftStep {
    at: DateTime<Utc>,
    actor: Actor,
    body: Body,
    overrides: Vec<Override>,
    expect: Option<Rule>,
    booking: Option<(UserId, SessionId, TimeSpan)>,
    /// Issued out of the main sequence (a payment from an insurer weeks
    /// later, an amendment days later): valid at any later time, and left
    /// out when it would fall after the year.
    deferred: bool,
}

#[derive(Debug, Clone)]
struct Draft {
    register: RegisterTemplate,
    steps: Vec<DraftStep>,
}

/// Orders a client's planned commands by time, drops those after the year,
/// and resolves amendments to the sequence numbers their targets will have.
fn finish(draft: &Draft, client_id: ClientId, cutoff: DateTime<Utc>) -> Res<Script> {
    let steps = &draft.steps;
    let mut order: Vec<usize> = (0..steps.len()).collect();
    order.sort_by_key(|&k| (steps[k].at, k));
    order.retain(|&k| steps[k].at < cutoff);
    let mut sequence_of = vec![0_u64; steps.len()];
    let mut sequence = 0;
    for &k in &order {
        if steps[k].expect.is_none() {
            sequence += 1;
            sequence_of[k] = sequence;
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for &k in &order {
        let s = &steps[k];
        let body = match &s.body {
            Body::Register => CommandBody::RegisterClient(RegisterClient {
                client_id: client_id.clone(),
                name: draft.register.name.clone(),
                date_of_birth: draft.register.date_of_birth,
                therapist: draft.register.therapist.clone(),
                prescriber: draft.register.prescriber.clone(),
            }),
            Body::Command(body) => body.clone(),
            Body::Amend {
                target,
                reason,
                corrected,
            } => {
                let entry = sequence_of[*target];
                if entry == 0 || steps[*target].at >= s.at {
                    return Err(PlanError(
                        "an amendment does not follow the entry it amends".to_owned(),
                    ));
                }
                CommandBody::AmendEntry(AmendEntry {
                    entry,
                    reason: reason.clone(),
                    corrected_content: corrected.clone(),
                })
            }
        };
        out.push(Step {
            at: s.at,
            actor: s.actor.clone(),
            body,
            overrides: s.overrides.clone(),
            expect: s.expect,
            booking: s.booking.as_ref().map(|(therapist, session, span)| {
                (
                    therapist.clone(),
                    Booking {
                        client: client_id.clone(),
                        session: session.clone(),
                        span: *span,
                    },
                )
            }),
        });
    }
    Ok(Script {
        client_id,
        steps: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 6).expect("valid date")
    }

    #[test]
    fn plans_are_deterministic_and_inside_the_year() {
        let a = plan(40, 3, start()).expect("plan");
        let b = plan(40, 3, start()).expect("plan");
        assert_eq!(a.len(), 40);
        let cutoff = midnight(start()) + Duration::days(HISTORY_DAYS);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.client_id, y.client_id);
            assert_eq!(x.steps.len(), y.steps.len());
            for (s, t) in x.steps.iter().zip(&y.steps) {
                assert_eq!((s.at, &s.body, s.expect), (t.at, &t.body, t.expect));
            }
            assert!(x.steps.windows(2).all(|w| w[0].at <= w[1].at));
            assert!(
                x.steps
                    .iter()
                    .all(|s| s.at >= midnight(start()) && s.at < cutoff)
            );
            assert!(matches!(x.steps[0].body, CommandBody::RegisterClient(_)));
        }
    }

    #[test]
    fn no_two_bookings_of_a_therapist_overlap() {
        for seed in 0..6 {
            let scripts = plan(60, seed, start()).expect("plan");
            let mut bookings: Vec<(UserId, TimeSpan, ClientId)> = Vec::new();
            for s in &scripts {
                for step in &s.steps {
                    if let Some((t, b)) = &step.booking {
                        bookings.push((t.clone(), b.span, b.client.clone()));
                    }
                }
            }
            for (i, a) in bookings.iter().enumerate() {
                for b in &bookings[i + 1..] {
                    assert!(
                        !(a.0 == b.0 && a.1.overlaps(&b.1)),
                        "seed {seed}: {a:?} and {b:?} overlap"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod variety {
    use std::collections::BTreeSet;

    use kapchart_domain::OutcomeMeasure;

    use super::*;

    /// Every kind of entry the demo is meant to show occurs in a large
    /// practice (and, being planned, is then checked by the real rules in
    /// the integration tests and `generate`).
    #[test]
    fn a_large_practice_shows_every_variant() {
        let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("valid date");
        let mut refusals = BTreeSet::new();
        let mut overrides = BTreeSet::new();
        let mut seen = BTreeSet::new();
        for seed in 1..=2 {
            for script in plan(150, seed, start).expect("plan") {
                for step in &script.steps {
                    if let Some(rule) = step.expect {
                        refusals.insert(rule.code());
                        continue;
                    }
                    for o in &step.overrides {
                        overrides.insert(o.rule.code());
                    }
                    let kind = match &step.body {
                        CommandBody::RecordExploration(x) if x.administration().is_none() => {
                            "not dosed".to_owned()
                        }
                        CommandBody::IssuePrescription(p) if p.prescription.as_str() != "rx-1" => {
                            "renewal".to_owned()
                        }
                        CommandBody::DischargeClient(d) => format!("discharge {:?}", d.reason),
                        CommandBody::RecordExternalTreatment(t) => {
                            format!("external {:?}", t.route)
                        }
                        CommandBody::RecordOutcomeMeasure(m) => match m.measure {
                            OutcomeMeasure::Phq9(_) => "phq9",
                            OutcomeMeasure::Gad7(_) => "gad7",
                            OutcomeMeasure::Pcl5(_) => "pcl5",
                            OutcomeMeasure::BdiIi(_) => "bdi_ii",
                        }
                        .to_owned(),
                        CommandBody::RecordPayment(p) => format!("payment {:?}", p.payer),
                        other => other.name().to_owned(),
                    };
                    seen.insert(kind);
                }
            }
        }
        for rule in [
            Rule::ExplorationNoPreparation,
            Rule::ExplorationTooSoon,
            Rule::TherapistDoubleBooked,
            Rule::ExplorationBloodPressureAboveThreshold,
            Rule::IntegrationLate,
            Rule::DoseStepTooLarge,
        ] {
            assert!(
                refusals.contains(rule.code()),
                "no refusal by {rule}: {refusals:?}"
            );
        }
        for rule in [
            Rule::ExplorationTooSoon,
            Rule::IntegrationLate,
            Rule::ExplorationBloodPressureAboveThreshold,
        ] {
            assert!(overrides.contains(rule.code()), "no override of {rule}");
        }
        for kind in [
            "not dosed",
            "renewal",
            "discharge NotSuitable",
            "discharge CareComplete",
            "discharge ClientChoice",
            "external Intravenous",
            "external Intramuscular",
            "phq9",
            "gad7",
            "pcl5",
            "bdi_ii",
            "payment Client",
            "payment Insurer",
            "CancelSession",
            "RecordNoShow",
            "AmendEntry",
            "AdjustDose",
            "RecordOngoingCare",
        ] {
            assert!(seen.contains(kind), "no {kind}: {seen:?}");
        }
    }
}
