//! One client's plan: the protocol step by step, with the rules' view of
//! the record kept alongside (prescription coverage and sessions left, the
//! dose ordered, dosed explorations for spacing), sessions booked from the
//! therapist's calendar, and the variants (cancellations, no-shows,
//! overrides, deliberate refusals, amendments, payments) drawn at random.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use kapchart_domain::{
    Actor, AdjustDose, Administration, AdverseEvent, AdverseSeverity, AuthorizationId,
    AuthorizeOverride, BdiIiScore, BloodPressure, CancelReason, CancelSession, Cents, Clearance,
    CommandBody, DateRange, Departure, DischargeClient, DischargeReason, Dosing, Drug, Gad7Score,
    Icd10Code, IssuePrescription, LotNumber, Milligrams, OutcomeMeasure, Override, Payer,
    PaymentId, PaymentMethod, Pcl5Score, PersonName, Phq9Score, PrescriptionId,
    RawRecordExploration, RecordConsent, RecordExploration, RecordExternalTreatment, RecordIntake,
    RecordIntegration, RecordMedicalEvaluation, RecordNoShow, RecordOngoingCare,
    RecordOutcomeMeasure, RecordPayment, RecordPreparation, ReferClient, Role, Route, Rule,
    ScheduleIntegration, ScheduleSession, SessionCount, SessionId, Suitability, Text, TimeSpan,
    UserId,
};

use crate::calendar::{Calendar, SLOTS, SlotKey, SlotKind};
use crate::rng::Rng;
use crate::words::*;

use super::{
    Archetype, Assignment, Body, DraftStep, Force, PlanError, RegisterTemplate, Res, Staff,
    midnight,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Therapist,
    Prescriber,
    FrontDesk,
}

/// How far a client in preparation has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrepStage {
    /// The first preparation is booked.
    Booked,
    /// One held, a second booked.
    SecondBooked,
    /// Prepared, the first exploration booked.
    ExplorationBooked,
    /// All the way.
    Full,
}

/// The prescription in force, as the planner tracks it.
#[derive(Debug, Clone)]
struct Rx {
    until: i64,
    min: i64,
    max: i64,
    step: i64,
    authorized: i64,
    used: i64,
    ordered: i64,
}

/// An instrument's name, baseline range, end range for responders and for
/// partial responders, and maximum score.
type CoursePlan = (&'static str, (i64, i64), (i64, i64), (i64, i64), i64);

/// A score's course: baseline and end of treatment.
#[derive(Debug, Clone, Copy)]
struct Course {
    baseline: i64,
    end: i64,
    max: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Instrument {
    Phq9,
    Gad7,
    Pcl5,
    BdiIi,
}

/// A booked exploration.
#[derive(Debug, Clone)]
struct Booked {
    session: SessionId,
    span: TimeSpan,
    key: SlotKey,
    day: i64,
    at: DateTime<Utc>,
    too_soon: bool,
}

/// Plans one client's commands.
pub(super) struct Planner<'s> {
    staff: &'s Staff,
    pub(super) calendar: Calendar,
    rng: Rng,
    who: Assignment,
    day0: DateTime<Utc>,
    pub(super) steps: Vec<DraftStep>,
    last_at: DateTime<Utc>,
    pub(super) register: Option<RegisterTemplate>,
    /// Referred to the prescriber after registration (`ReferClient`).
    referred_later: bool,
    counters: BTreeMap<&'static str, u32>,
    /// Scheduled sessions not yet held or cancelled, with their slots.
    open: BTreeMap<SessionId, SlotKey>,
    // The client's profile.
    insured: bool,
    ptsd: bool,
    courses: BTreeMap<&'static str, Course>,
    target_dose: i64,
    last_phq: i64,
    // The record as far as the rules need it.
    rx: Option<Rx>,
    rx_count: u32,
    dosed_days: Vec<i64>,
    moderate_adverse_last: bool,
    // Forced variants still to show.
    force: Force,
}

impl<'s> Planner<'s> {
    pub(super) fn new(
        calendar: Calendar,
        staff: &'s Staff,
        rng: Rng,
        who: Assignment,
        start: NaiveDate,
    ) -> Self {
        let responder = rng.chance(70);
        let mut courses = BTreeMap::new();
        let plans: [CoursePlan; 4] = [
            ("phq9", (15, 24), (3, 9), (10, 15), 27),
            ("gad7", (8, 18), (2, 7), (8, 12), 21),
            ("pcl5", (38, 62), (12, 30), (33, 45), 80),
            ("bdi_ii", (20, 38), (5, 13), (15, 24), 63),
        ];
        for (name, base, good, partial, max) in plans {
            let end = if responder { good } else { partial };
            let baseline = rng.range(base.0, base.1);
            let end = rng.range(end.0, end.1);
            courses.insert(name, Course { baseline, end, max });
        }
        let insured = rng.chance(55);
        let ptsd = rng.chance(30);
        let bdi = rng.chance(25);
        if !ptsd {
            courses.remove("pcl5");
        }
        if !bdi {
            courses.remove("bdi_ii");
        }
        let day0 = midnight(start);
        Self {
            staff,
            calendar,
            rng,
            who,
            day0,
            steps: Vec::new(),
            last_at: day0,
            register: None,
            referred_later: false,
            counters: BTreeMap::new(),
            open: BTreeMap::new(),
            insured,
            ptsd,
            courses,
            target_dose: 0,
            last_phq: 0,
            rx: None,
            rx_count: 0,
            dosed_days: Vec::new(),
            moderate_adverse_last: false,
            force: who.force,
        }
    }

    // ---- time ----

    fn t(&self, day: i64, minute: i64) -> DateTime<Utc> {
        self.day0 + Duration::days(day) + Duration::minutes(minute)
    }

    pub(super) fn day_of(&self, at: DateTime<Utc>) -> i64 {
        (at.date_naive() - self.day0.date_naive()).num_days()
    }

    fn date(&self, day: i64) -> NaiveDate {
        self.calendar.date(day)
    }

    fn weekday(&self, day: i64) -> i64 {
        self.calendar.weekday_from(day)
    }

    fn minutes(&self, lo: i64, hi: i64) -> Duration {
        Duration::minutes(self.rng.range(lo, hi))
    }

    /// The time of the last command of the main sequence.
    pub(super) fn last_required(&self) -> DateTime<Utc> {
        self.steps
            .iter()
            .filter(|s| !s.deferred)
            .map(|s| s.at)
            .max()
            .unwrap_or(self.day0)
    }

    // ---- people ----

    fn therapist_id(&self) -> UserId {
        self.staff.therapists[self.who.therapist].clone()
    }

    fn prescriber_id(&self) -> UserId {
        self.staff.prescribers[self.who.prescriber].clone()
    }

    fn actor(&self, who: Who) -> Actor {
        match who {
            Who::Therapist => Actor {
                id: self.therapist_id(),
                role: Role::Therapist,
            },
            Who::Prescriber => Actor {
                id: self.prescriber_id(),
                role: Role::Prescriber,
            },
            Who::FrontDesk => Actor {
                id: self.rng.pick(&self.staff.front_desk).clone(),
                role: Role::FrontDesk,
            },
        }
    }

    // ---- steps ----

    /// Adds a command of the main sequence, issued no earlier than the one
    /// before it. Returns its index.
    fn push(&mut self, at: DateTime<Utc>, who: Who, body: Body) -> usize {
        let at = at.max(self.last_at);
        self.last_at = at;
        self.add(at, who, body, false)
    }

    /// Adds a command outside the main sequence (see [`DraftStep::deferred`]).
    fn push_deferred(&mut self, at: DateTime<Utc>, who: Who, body: Body) -> usize {
        self.add(at, who, body, true)
    }

    fn add(&mut self, at: DateTime<Utc>, who: Who, body: Body, deferred: bool) -> usize {
        let actor = self.actor(who);
        self.steps.push(DraftStep {
            at,
            actor,
            body,
            overrides: Vec::new(),
            expect: None,
            booking: None,
            deferred,
        });
        self.steps.len() - 1
    }

    fn cmd(&mut self, at: DateTime<Utc>, who: Who, body: CommandBody) -> usize {
        self.push(at, who, Body::Command(body))
    }

    /// A command the rules are meant to refuse by `rule`.
    fn refused(&mut self, at: DateTime<Utc>, who: Who, body: CommandBody, rule: Rule) -> usize {
        let i = self.cmd(at, who, body);
        self.steps[i].expect = Some(rule);
        i
    }

    fn at_of(&self, step: usize) -> DateTime<Utc> {
        self.steps[step].at
    }

    fn override_with(
        &mut self,
        step: usize,
        rule: Rule,
        reason: &str,
        authorization: Option<AuthorizationId>,
    ) -> Res<()> {
        self.steps[step].overrides.push(Override {
            rule,
            reason: Text::new(reason)?,
            authorization,
        });
        Ok(())
    }

    /// Whether the client is referred to a prescriber yet.
    fn referred(&self) -> bool {
        self.referred_later
            || self
                .register
                .as_ref()
                .is_some_and(|r| r.prescriber.is_some())
    }

    /// The command at `step` books `span` in `key` for the therapist.
    fn book(&mut self, step: usize, session: &SessionId, span: TimeSpan, key: SlotKey) {
        self.steps[step].booking = Some((self.therapist_id(), session.clone(), span));
        let at = self.at_of(step);
        self.calendar.booked(key, at);
    }

    fn next_id(&mut self, prefix: &'static str) -> u32 {
        let n = self.counters.entry(prefix).or_insert(0);
        *n += 1;
        *n
    }

    fn session_id(&mut self, prefix: &'static str) -> Res<SessionId> {
        let n = self.next_id(prefix);
        Ok(SessionId::parse(&format!("{prefix}-{n}"))?)
    }

    fn take(&mut self, kind: SlotKind, earliest: i64) -> Res<SlotKey> {
        let earliest = earliest.max(self.day_of(self.last_at) + 1);
        self.calendar
            .take(
                &self.rng,
                self.who.therapist,
                kind,
                earliest,
                self.who.client,
            )
            .ok_or_else(|| {
                PlanError(
                    "no free session within a year: the practice has too few therapists".to_owned(),
                )
            })
    }

    /// A session within the slot: starting up to `offset` minutes late
    /// (multiples of 5), lasting `len` minutes (multiples of 5).
    fn span_in(&mut self, key: SlotKey, offset: i64, len: (i64, i64)) -> Res<TimeSpan> {
        let (slot_start, slot_len, _) = SLOTS[key.2];
        let off = 5 * self.rng.range(0, offset / 5);
        let length = (5 * self.rng.range(len.0 / 5, len.1 / 5)).min(slot_len - off);
        let start = self.t(key.1, slot_start + off);
        Ok(TimeSpan::new(start, start + Duration::minutes(length))?)
    }

    fn text(&self, s: &str) -> Res<Text> {
        Ok(Text::new(s)?)
    }

    fn pick_text(&self, items: &[&str]) -> Res<Text> {
        let s = *self.rng.pick(items);
        self.text(s)
    }

    // ---- the protocol ----

    pub(super) fn run(&mut self, archetype: Archetype, reg: i64) -> Res<()> {
        use Archetype::*;
        let reg_day = self.weekday(reg);
        self.register(reg_day)?;
        if archetype == RegisteredOnly {
            return Ok(());
        }
        let full = matches!(
            archetype,
            Preparation | MidProtocol { .. } | OngoingCare | DischargedAfterCare | Dropout
        );
        let first_day = reg_day + self.rng.range(3, 10);
        let medical_first =
            (archetype == Assessment && self.rng.chance(30)) || (full && self.rng.chance(25));
        let (intake_day, medical_day);
        if medical_first {
            let md = self.weekday(first_day);
            let notes = self.pick_text(MEDICAL_CLEARED)?;
            self.medical(md, Clearance::Cleared, notes)?;
            self.prescribe(md)?;
            if archetype == Assessment {
                return Ok(());
            }
            intake_day = self.intake(md + self.rng.range(1, 7), Suitability::Suitable)?;
            medical_day = md;
        } else {
            let intake_unsuitable = archetype == NotSuitableIntake
                || (archetype == DischargedNotSuitable && self.rng.chance(50));
            let finding = if intake_unsuitable {
                Suitability::NotSuitable
            } else {
                Suitability::Suitable
            };
            intake_day = self.intake(first_day, finding)?;
            if intake_unsuitable {
                if archetype == DischargedNotSuitable {
                    let day = intake_day + self.rng.range(3, 12);
                    self.discharge_not_suitable(day, Who::Therapist)?;
                }
                return Ok(());
            }
            if archetype == Assessment {
                return Ok(());
            }
            let md = self.weekday(intake_day + self.rng.range(2, 10));
            if matches!(archetype, NotSuitableMedical | DischargedNotSuitable) {
                let notes = self.pick_text(MEDICAL_NOT_CLEARED)?;
                self.medical(md, Clearance::NotCleared, notes)?;
                if archetype == DischargedNotSuitable {
                    let day = md + self.rng.range(2, 10);
                    self.discharge_not_suitable(day, Who::Prescriber)?;
                }
                return Ok(());
            }
            let md = if self.rng.chance(8) {
                // Not cleared at first; cleared on re-evaluation.
                let notes = self.text(MEDICAL_REASSESS_FIRST)?;
                self.medical(md, Clearance::NotCleared, notes)?;
                let again = self.weekday(md + self.rng.range(28, 45));
                let notes = self.text(MEDICAL_REASSESS_SECOND)?;
                self.medical(again, Clearance::Cleared, notes)?;
                again
            } else {
                let notes = self.pick_text(MEDICAL_CLEARED)?;
                self.medical(md, Clearance::Cleared, notes)?;
                md
            };
            self.prescribe(md)?;
            medical_day = md;
        }

        let consent_day = self.weekday(intake_day.max(medical_day) + self.rng.range(0, 2));
        self.consent(consent_day)?;

        let stage = if archetype == Preparation {
            *self.rng.pick(&[
                PrepStage::Booked,
                PrepStage::SecondBooked,
                PrepStage::ExplorationBooked,
            ])
        } else {
            PrepStage::Full
        };
        let Some((prep_day, prep_at)) = self.preparation(consent_day, stage)? else {
            return Ok(());
        };
        let n = self.rng.weighted(&[(6_i64, 30), (7, 20), (8, 50)]);
        let stop_after = match archetype {
            Preparation => 0,
            MidProtocol { early: true } => self.rng.range(1, 3),
            MidProtocol { early: false } => self.rng.range(4, n - 1),
            Dropout => self.rng.range(2, 4),
            _ => n,
        };
        let Some((last_day, last_at)) =
            self.protocol(archetype, n, stop_after, prep_day, prep_at)?
        else {
            return Ok(());
        };

        // End of protocol: every instrument again, then ongoing care.
        self.measures(last_at + Duration::minutes(3), last_day, 100, true)?;
        let sessions = if archetype == OngoingCare {
            self.rng.range(1, 4)
        } else {
            self.rng.range(2, 5)
        };
        let last_care = self.ongoing_care(last_day, sessions)?;
        if archetype == OngoingCare {
            return Ok(());
        }
        let day = self.weekday(last_care + self.rng.range(0, 10));
        let at = self.t(day, self.rng.range(16 * 60, 18 * 60));
        self.measure(Instrument::Phq9, at, day, 100)?;
        let baseline = self.courses.get("phq9").map_or(0, |c| c.baseline);
        let summary = format!(
            "Completed {n} ketamine-assisted explorations with integration and {sessions} ongoing care sessions. PHQ-9 from {baseline} at intake to {} at discharge. Relapse-prevention plan agreed; may return for booster sessions.",
            self.last_phq
        );
        let discharge = self.discharge(
            day,
            at,
            Who::Therapist,
            DischargeReason::CareComplete,
            &summary,
        )?;
        if self.rng.chance(10) {
            let later = self.t(self.weekday(day + self.rng.range(1, 5)), 10 * 60);
            let reason = self.text("Discharge summary omitted the medication plan.")?;
            let corrected = self.text(&format!(
                "{summary} Medication plan: continue sertraline with primary care; no ketamine prescribed after discharge."
            ))?;
            self.push_deferred(
                later,
                Who::Therapist,
                Body::Amend {
                    target: discharge,
                    reason,
                    corrected,
                },
            );
        }
        Ok(())
    }

    fn register(&mut self, day: i64) -> Res<()> {
        let at = self.t(day, self.rng.range(9 * 60, 16 * 60));
        let first = *self.rng.pick(FIRST_NAMES);
        let last = *self.rng.pick(LAST_NAMES);
        let age = self.rng.range(21, 72);
        let date_of_birth =
            self.date(day) - Duration::days(age * 365 + age / 4 + self.rng.range(0, 364));
        let referred = self.rng.chance(60);
        self.register = Some(RegisterTemplate {
            name: PersonName::new(&format!("{first} {last}"))?,
            date_of_birth,
            therapist: self.therapist_id(),
            prescriber: referred.then(|| self.prescriber_id()),
        });
        let who = if self.rng.chance(85) {
            Who::FrontDesk
        } else {
            Who::Therapist
        };
        let registration = self.push(at, who, Body::Register);
        if self.rng.chance(6) {
            // The front desk corrects a typo in the date of birth a few days later.
            let later = self.t(self.weekday(day + self.rng.range(2, 6)), 11 * 60);
            let reason = self.text("Registration checked against the client's ID at the intake visit: middle initial missing.")?;
            let initial = *self.rng.pick(&["A", "J", "M", "R", "S"]);
            let corrected = self.text(&format!(
                "name: {first} {initial}. {last}; date of birth {date_of_birth} confirmed"
            ))?;
            self.push_deferred(
                later,
                Who::FrontDesk,
                Body::Amend {
                    target: registration,
                    reason,
                    corrected,
                },
            );
        }
        Ok(())
    }

    fn intake(&mut self, earliest: i64, finding: Suitability) -> Res<i64> {
        let key = self.take(SlotKind::Short, earliest)?;
        let span = self.span_in(key, 0, (60, 60))?;
        let at = span.end() + self.minutes(10, 40);
        let session = self.session_id("intake")?;
        let mut diagnoses = Vec::new();
        if self.ptsd {
            diagnoses.push(*self.rng.pick(&["F43.10", "F43.12"]));
            if self.rng.chance(50) {
                diagnoses.push("F33.1");
            }
        } else {
            diagnoses.push(self.rng.weighted(&[("F33.1", 70), ("F32.2", 30)]));
            if self.rng.chance(40) {
                diagnoses.push("F41.1");
            }
        }
        let diagnoses = diagnoses
            .into_iter()
            .map(Icd10Code::new)
            .collect::<Result<Vec<_>, _>>()?;
        let notes = match finding {
            Suitability::NotSuitable => self.pick_text(INTAKE_NOT_SUITABLE)?,
            Suitability::Suitable if self.ptsd => self.pick_text(INTAKE_PTSD)?,
            Suitability::Suitable => self.pick_text(INTAKE_DEPRESSION)?,
        };
        let step = self.cmd(
            at,
            Who::Therapist,
            CommandBody::RecordIntake(RecordIntake {
                session: session.clone(),
                span,
                finding,
                diagnoses,
                notes: notes.clone(),
            }),
        );
        self.book(step, &session, span, key);
        let at = self.at_of(step);
        self.measures(at + Duration::minutes(2), key.1, 0, true)?;
        self.pay(&session, 17_500, at)?;
        if self.rng.chance(6) {
            let later = self.t(self.weekday(key.1 + 1), 8 * 60 + 30);
            let reason = self.text("Late entry: collateral history from the client's psychiatrist received after the intake.")?;
            let corrected = self.text(&format!(
                "{} Addendum: psychiatrist confirms two prior adequate antidepressant trials and no history of mania.",
                notes.as_str()
            ))?;
            self.push_deferred(
                later,
                Who::Therapist,
                Body::Amend {
                    target: step,
                    reason,
                    corrected,
                },
            );
        }
        Ok(key.1)
    }

    fn medical(&mut self, day: i64, finding: Clearance, notes: Text) -> Res<()> {
        let at = self.t(day, self.rng.range(10 * 60, 15 * 60));
        if !self.referred() {
            // Referred by the therapist or the front desk before the
            // prescriber sees the client: only the referred prescriber
            // may evaluate.
            let who = if self.rng.chance(50) {
                Who::Therapist
            } else {
                Who::FrontDesk
            };
            let note = self.text(REFERRAL_NOTE)?;
            self.cmd(
                at - Duration::days(self.rng.range(2, 5)),
                who,
                CommandBody::ReferClient(ReferClient {
                    prescriber: self.prescriber_id(),
                    note: Some(note),
                }),
            );
            self.referred_later = true;
        }
        let step = self.cmd(
            at,
            Who::Prescriber,
            CommandBody::RecordMedicalEvaluation(RecordMedicalEvaluation {
                evaluated_on: self.date(day),
                finding,
                notes,
            }),
        );
        let at = self.at_of(step);
        if finding == Clearance::Cleared && self.rng.chance(10) {
            let treated = self.date(day - self.rng.range(120, 700));
            let provider = self.pick_text(EXTERNAL_PROVIDER)?;
            let dose = Milligrams::new(self.rng.range(7, 12) * 5)?;
            let notes = self.text("Prior series of six IV ketamine infusions at an affiliate, reported by the client with records received; partial, short-lived response.")?;
            self.cmd(
                at + Duration::minutes(5),
                Who::Prescriber,
                CommandBody::RecordExternalTreatment(RecordExternalTreatment {
                    treated_on: treated,
                    provider,
                    route: Route::Intravenous,
                    dose: Some(dose),
                    notes,
                }),
            );
        }
        if self.rng.chance(5) {
            let later = self.t(self.weekday(day + self.rng.range(1, 3)), 9 * 60);
            let reason = self.text("Medication list incomplete at the evaluation.")?;
            let corrected = self.text("Addendum: also takes lamotrigine 100 mg daily (started by psychiatrist last year); may blunt the ketamine response, discussed with the client. Clearance unchanged.")?;
            self.push_deferred(
                later,
                Who::Prescriber,
                Body::Amend {
                    target: step,
                    reason,
                    corrected,
                },
            );
        }
        Ok(())
    }

    fn prescribe(&mut self, day: i64) -> Res<()> {
        let at = self.last_at + self.minutes(10, 30);
        let min = *self.rng.pick(&[50_i64, 75, 100]);
        let max = *self.rng.pick(&[200_i64, 250, 300]);
        let starting = *self.rng.pick(&[100_i64, 125, 150]);
        let step = *self.rng.pick(&[25_i64, 50]);
        let authorized = self.rng.range(6, 8);
        self.target_dose = (starting + 25 * self.rng.range(1, 4)).min(max);
        self.issue(at, day, (min, max, starting, step), authorized)
    }

    fn issue(
        &mut self,
        at: DateTime<Utc>,
        day: i64,
        (min, max, starting, step): (i64, i64, i64, i64),
        authorized: i64,
    ) -> Res<()> {
        self.rx_count += 1;
        let until = day + 180;
        let body = CommandBody::IssuePrescription(IssuePrescription {
            prescription: PrescriptionId::parse(&format!("rx-{}", self.rx_count))?,
            drug: Drug::Ketamine,
            valid: DateRange::new(self.date(day), self.date(until))?,
            dosing: Dosing::new(
                Milligrams::new(min)?,
                Milligrams::new(max)?,
                Milligrams::new(starting)?,
                Milligrams::new(step)?,
            )?,
            authorized_sessions: SessionCount::new(authorized)?,
            instructions: self.pick_text(INSTRUCTIONS)?,
        });
        self.cmd(at, Who::Prescriber, body);
        self.rx = Some(Rx {
            until,
            min,
            max,
            step,
            authorized,
            used: 0,
            ordered: starting,
        });
        Ok(())
    }

    /// Renews the prescription (same bounds, starting at the dose now
    /// ordered) when it will not cover `day` or has no sessions left.
    fn ensure_rx(&mut self, at: DateTime<Utc>, day: i64, remaining: i64) -> Res<()> {
        let Some(rx) = self.rx.clone() else {
            return Err(PlanError(
                "exploration planned without a prescription".to_owned(),
            ));
        };
        if rx.until >= day + 7 && rx.used < rx.authorized {
            return Ok(());
        }
        let today = self.day_of(at.max(self.last_at));
        let authorized = (remaining + self.rng.range(0, 1)).clamp(1, 52);
        self.issue(at, today, (rx.min, rx.max, rx.ordered, rx.step), authorized)
    }

    fn consent(&mut self, day: i64) -> Res<()> {
        let at = self.t(day, self.rng.range(9 * 60, 12 * 60));
        let who = if self.rng.chance(70) {
            Who::Therapist
        } else {
            Who::Prescriber
        };
        let form = self.pick_text(CONSENT_FORMS)?;
        self.cmd(
            at,
            who,
            CommandBody::RecordConsent(RecordConsent {
                signed_on: self.date(day),
                form,
            }),
        );
        Ok(())
    }

    fn schedule_preparation(
        &mut self,
        at: DateTime<Utc>,
        earliest: i64,
    ) -> Res<(SessionId, TimeSpan, SlotKey, usize)> {
        let at = at.max(self.last_at);
        let key = self.take(SlotKind::Short, earliest.max(self.day_of(at) + 1))?;
        let span = self.span_in(key, 5, (45, 55))?;
        let session = self.session_id("prep")?;
        let body = CommandBody::SchedulePreparation(ScheduleSession {
            session: session.clone(),
            span,
            therapist: self.therapist_id(),
        });
        let step = self.cmd(at, Who::FrontDesk, body);
        self.book(step, &session, span, key);
        self.open.insert(session.clone(), key);
        Ok((session, span, key, step))
    }

    /// Preparation: booked, perhaps rebooked, held; a second one sometimes.
    /// Returns the day and time of the last one held, or `None` when the
    /// client stops at `stage`.
    fn preparation(&mut self, after: i64, stage: PrepStage) -> Res<Option<(i64, DateTime<Utc>)>> {
        let day = self.weekday(after);
        let at = self.t(day, self.rng.range(12 * 60, 17 * 60));
        let earliest = day + self.rng.range(2, 7);
        let (mut session, mut span, mut key, step) = self.schedule_preparation(at, earliest)?;
        if self.rng.chance(10) {
            // The front desk tries to book the first exploration too: not
            // before a preparation has been held.
            let attempt_day = self.weekday(key.1 + 7);
            let start = self.t(attempt_day, SLOTS[0].0);
            let body = CommandBody::ScheduleExploration(ScheduleSession {
                session: SessionId::parse("expl-1")?,
                span: TimeSpan::new(start, start + Duration::minutes(170))?,
                therapist: self.therapist_id(),
            });
            let at = self.at_of(step) + Duration::minutes(2);
            self.refused(at, Who::FrontDesk, body, Rule::ExplorationNoPreparation);
        }
        if stage == PrepStage::Booked {
            return Ok(None);
        }
        if self.rng.chance(10) {
            let at = self.cancel_before(&session, key, CancelReason::ClientRequest)?;
            let (s, sp, k, _) =
                self.schedule_preparation(at + Duration::minutes(3), key.1 + self.rng.range(2, 5))?;
            (session, span, key) = (s, sp, k);
        }
        let mut held = self.hold_preparation(&session, span, key)?;
        if stage == PrepStage::SecondBooked || self.rng.chance(35) {
            let at = held.1 + self.minutes(5, 15);
            let (s, sp, k, _) = self.schedule_preparation(at, held.0 + self.rng.range(5, 10))?;
            if stage == PrepStage::SecondBooked {
                return Ok(None);
            }
            held = self.hold_preparation(&s, sp, k)?;
        }
        Ok(Some(held))
    }

    fn hold_preparation(
        &mut self,
        session: &SessionId,
        span: TimeSpan,
        key: SlotKey,
    ) -> Res<(i64, DateTime<Utc>)> {
        let at = span.end() + self.minutes(10, 40);
        let body = CommandBody::RecordPreparation(RecordPreparation {
            session: session.clone(),
            span,
            intentions: self.pick_text(INTENTIONS)?,
            aftercare_plan: self.pick_text(AFTERCARE)?,
            notes: self.pick_text(PREP_NOTES)?,
        });
        let step = self.cmd(at, Who::Therapist, body);
        self.open.remove(session);
        let at = self.at_of(step);
        self.pay(session, 17_500, at)?;
        Ok((key.1, at))
    }

    /// Cancels an open session a day or two before it; returns when.
    fn cancel_before(
        &mut self,
        session: &SessionId,
        key: SlotKey,
        reason: CancelReason,
    ) -> Res<DateTime<Utc>> {
        let mut day = key.1 - self.rng.range(1, 2);
        while self.calendar.is_weekend(day) {
            day -= 1;
        }
        let day = day.max(self.day_of(self.last_at));
        let at = self.t(day, self.rng.range(8 * 60, 8 * 60 + 50));
        let at = at.max(self.last_at + Duration::minutes(5));
        let note = if self.rng.chance(70) {
            Some(self.pick_text(CANCEL_NOTES)?)
        } else {
            None
        };
        let step = self.cmd(
            at,
            Who::FrontDesk,
            CommandBody::CancelSession(CancelSession {
                session: session.clone(),
                reason,
                note,
            }),
        );
        let at = self.at_of(step);
        self.calendar.released(key, at);
        self.open.remove(session);
        Ok(at)
    }

    /// Explorations with their integrations, until `stop_after` (the client
    /// stays mid-protocol or drops out) or all `n` (returns the last
    /// integration's day and time).
    fn protocol(
        &mut self,
        archetype: Archetype,
        n: i64,
        stop_after: i64,
        prep_day: i64,
        prep_at: DateTime<Utc>,
    ) -> Res<Option<(i64, DateTime<Utc>)>> {
        let mut k = 0_i64;
        let mut sched_at = prep_at + self.minutes(5, 30);
        let mut earliest = prep_day + self.rng.range(4, 12);
        loop {
            // Book (and rebook) exploration k + 1 until it is held dosed.
            let mut adjusted = k == 0;
            let (booked, record_step, record_at) = loop {
                let b = self.schedule_exploration(sched_at, earliest, n - k)?;
                if stop_after == 0 {
                    return Ok(None);
                }
                if !adjusted {
                    adjusted = true;
                    let mut at = b.at + self.minutes(60, 240);
                    if at.time() > chrono::NaiveTime::from_hms_opt(18, 0, 0).unwrap_or_default() {
                        // Next working morning, before the clinic opens.
                        let day = self.weekday(self.day_of(at) + 1);
                        at = self.t(day, self.rng.range(7 * 60 + 45, 8 * 60 + 45));
                    }
                    self.adjust_dose(at)?;
                }
                if self.rng.chance(5) {
                    let reason = *self
                        .rng
                        .pick(&[CancelReason::ClientRequest, CancelReason::Clinical]);
                    let at = self.cancel_before(&b.session, b.key, reason)?;
                    sched_at = at + Duration::minutes(3);
                    earliest = b.day + self.rng.range(2, 7);
                    continue;
                }
                if self.rng.chance(2) {
                    let at = b.span.start() + Duration::minutes(30);
                    let step = self.cmd(
                        at,
                        Who::FrontDesk,
                        CommandBody::RecordNoShow(RecordNoShow {
                            session: b.session.clone(),
                        }),
                    );
                    self.open.remove(&b.session);
                    sched_at = self.at_of(step) + Duration::minutes(60);
                    earliest = b.day + self.rng.range(3, 7);
                    continue;
                }
                let (dosed, step, at) = self.record_exploration(&b)?;
                if dosed {
                    break (b, step, at);
                }
                sched_at = at + Duration::minutes(10);
                earliest = b.day + self.rng.range(2, 5);
            };
            k += 1;
            if k == stop_after
                && matches!(archetype, Archetype::MidProtocol { .. })
                && self.rng.chance(40)
            {
                // Just explored; the integration is booked.
                self.book_integration(&booked, record_at)?;
                return Ok(None);
            }
            let (iday, iat) = self.integration(&booked, record_at)?;
            if [2, 4, 6].contains(&k) && k < n {
                self.measures(iat + Duration::minutes(2), iday, k * 100 / n, k == 4)?;
            }
            if k == 1 && (std::mem::take(&mut self.force.amendment) || self.rng.chance(15)) {
                self.amend_exploration(record_step, iat + Duration::minutes(4))?;
            }
            if k == n {
                return Ok(Some((iday, iat)));
            }
            sched_at = iat + self.minutes(5, 20);
            let extra =
                self.rng
                    .weighted(&[(0_i64, 50), (1, 15), (2, 10), (3, 10), (5, 8), (7, 7)]);
            earliest = (booked.day + 7 + extra).max(iday + 1);
            if k == stop_after {
                match archetype {
                    Archetype::MidProtocol { .. }
                        if self.force.early_refusal || self.rng.chance(70) =>
                    {
                        self.schedule_exploration(sched_at, earliest, n - k)?;
                    }
                    Archetype::Dropout => {
                        let mut when = sched_at;
                        if self.rng.chance(60) {
                            when = self.schedule_exploration(sched_at, earliest, n - k)?.at;
                        }
                        let day = self.weekday(self.day_of(when) + self.rng.range(1, 4));
                        let at = self.t(day, self.rng.range(15 * 60, 18 * 60));
                        let summary = *self.rng.pick(DROPOUT_SUMMARIES);
                        self.discharge(
                            day,
                            at,
                            Who::Therapist,
                            DischargeReason::ClientChoice,
                            summary,
                        )?;
                    }
                    _ => {}
                }
                return Ok(None);
            }
        }
    }

    /// Books exploration k + 1 (`remaining` still planned), renewing the
    /// prescription first when needed; sometimes after a refused attempt
    /// (too soon, or a slot another client holds), sometimes deliberately
    /// early with an override.
    fn schedule_exploration(
        &mut self,
        at: DateTime<Utc>,
        earliest: i64,
        remaining: i64,
    ) -> Res<Booked> {
        let at = at.max(self.last_at);
        let earliest = earliest.max(self.day_of(at) + 1);
        self.ensure_rx(at, earliest + 21, remaining)?;
        let last_dosed = self.dosed_days.last().copied();

        let mut too_soon = false;
        let mut key = None;
        if let Some(last) = last_dosed
            && self.rng.chance(4)
        {
            // Six (or five) days after the last, with an override.
            for gap in [6, 5] {
                let day = last + gap;
                if day > self.day_of(at)
                    && let Some(k) = self.calendar.take_on(
                        self.who.therapist,
                        SlotKind::Long,
                        day,
                        self.who.client,
                    )
                {
                    key = Some(k);
                    too_soon = true;
                    break;
                }
            }
        }
        let key = match key {
            Some(k) => k,
            None => self.take(SlotKind::Long, earliest)?,
        };
        self.ensure_rx(at, key.1, remaining)?;
        let span = self.span_in(key, 10, (150, 170))?;
        let session = self.session_id("expl")?;
        let therapist = self.therapist_id();
        let mut at = at;

        if let Some(last) = last_dosed
            && !too_soon
        {
            let early_day = self.weekday(last + self.rng.range(3, 5));
            let forced = self.force.early_refusal;
            if (forced || self.rng.chance(6)) && early_day > self.day_of(at) && early_day < last + 7
            {
                self.force.early_refusal = false;
                let slot = if self.rng.chance(50) { 0 } else { 2 };
                let start = self.t(early_day, SLOTS[slot].0);
                let body = CommandBody::ScheduleExploration(ScheduleSession {
                    session: session.clone(),
                    span: TimeSpan::new(start, start + Duration::minutes(170))?,
                    therapist: therapist.clone(),
                });
                let step = self.refused(at, Who::FrontDesk, body, Rule::ExplorationTooSoon);
                at = self.at_of(step) + self.minutes(2, 6);
            } else if self.rng.chance(10)
                && let Some(other) = (earliest..=key.1).find_map(|day| {
                    self.calendar.held_by_other(
                        self.who.therapist,
                        SlotKind::Long,
                        day,
                        self.who.client,
                        at,
                    )
                })
            {
                // The front desk first tries the client's preferred day, at
                // a time another client already has.
                let (start, len, _) = SLOTS[other.2];
                let start = self.t(other.1, start);
                let body = CommandBody::ScheduleExploration(ScheduleSession {
                    session: session.clone(),
                    span: TimeSpan::new(start, start + Duration::minutes(len))?,
                    therapist: therapist.clone(),
                });
                let step = self.refused(at, Who::FrontDesk, body, Rule::TherapistDoubleBooked);
                at = self.at_of(step) + self.minutes(2, 6);
            }
        }

        let body = CommandBody::ScheduleExploration(ScheduleSession {
            session: session.clone(),
            span,
            therapist,
        });
        let step = self.cmd(at, Who::FrontDesk, body);
        if too_soon {
            self.override_with(step, Rule::ExplorationTooSoon, TOO_SOON_REASON, None)?;
        }
        self.book(step, &session, span, key);
        self.open.insert(session.clone(), key);
        Ok(Booked {
            session,
            span,
            key,
            day: key.1,
            at: self.at_of(step),
            too_soon,
        })
    }

    /// The prescriber adjusts the dose ordered for the next exploration:
    /// up one step towards the target, down after a rough session.
    fn adjust_dose(&mut self, at: DateTime<Utc>) -> Res<()> {
        let Some(rx) = self.rx.clone() else {
            return Ok(());
        };
        let ordered = rx.ordered;
        let (want, reason) = if self.moderate_adverse_last && ordered - 25 >= rx.min {
            (ordered - 25, DOSE_DOWN_REASON)
        } else if ordered < self.target_dose && (self.force.step_refusal || self.rng.chance(75)) {
            let up = rx
                .step
                .min(self.target_dose - ordered)
                .min(rx.max - ordered);
            (ordered + up, *self.rng.pick(DOSE_UP_REASONS))
        } else {
            return Ok(());
        };
        if want == ordered {
            return Ok(());
        }
        let mut at = at;
        if want > ordered && (std::mem::take(&mut self.force.step_refusal) || self.rng.chance(8)) {
            let big = ordered + rx.step + 25;
            let rule = if big > rx.max {
                Rule::DoseOutsideRange
            } else {
                Rule::DoseStepTooLarge
            };
            let body = CommandBody::AdjustDose(AdjustDose {
                dose: Milligrams::new(big)?,
                reason: self.text(DOSE_TOO_BIG_REASON)?,
            });
            let step = self.refused(at, Who::Prescriber, body, rule);
            at = self.at_of(step) + self.minutes(5, 15);
        }
        let body = CommandBody::AdjustDose(AdjustDose {
            dose: Milligrams::new(want)?,
            reason: self.text(reason)?,
        });
        self.cmd(at, Who::Prescriber, body);
        if let Some(rx) = self.rx.as_mut() {
            rx.ordered = want;
        }
        Ok(())
    }

    /// Records a booked exploration: dosed (returns true) or, now and then,
    /// not dosed. Returns the record's step and time.
    fn record_exploration(&mut self, b: &Booked) -> Res<(bool, usize, DateTime<Utc>)> {
        let span = b.span;
        let at = span.end() + self.minutes(10, 30);
        let departure = self.rng.weighted(&[
            (Departure::Companion, 55),
            (Departure::TaxiOrRideshare, 35),
            (Departure::PublicTransport, 5),
            (Departure::Walked, 5),
        ]);
        let discharged_at = span.end() - self.minutes(0, 5);
        self.open.remove(&b.session);

        if self.rng.chance(3) {
            let by_bp = self.rng.chance(50);
            let (before, reason) = if by_bp {
                (BloodPressure::new(168, 104)?, NOT_DOSED_BP)
            } else {
                (self.normal_bp()?, NOT_DOSED_ILL)
            };
            let raw = RawRecordExploration {
                session: b.session.clone(),
                span,
                administration: None,
                not_dosed_reason: Some(self.text(reason)?),
                bp_before: before,
                bp_after: before,
                observations: self.text("No dose given. Vitals rechecked; client went home with the companion arranged for the day.")?,
                adverse_events: Vec::new(),
                discharged_at,
                departure,
            };
            let step = self.cmd(
                at,
                Who::Therapist,
                CommandBody::RecordExploration(RecordExploration::try_from(raw)?),
            );
            let at = self.at_of(step);
            self.pay(&b.session, 55_000, at)?;
            return Ok((false, step, at));
        }

        let Some(rx) = self.rx.clone() else {
            return Err(PlanError(
                "exploration recorded without a prescription".to_owned(),
            ));
        };
        let high = std::mem::take(&mut self.force.bp_override) || self.rng.chance(7);
        let before = if high {
            BloodPressure::new(self.rng.range(142, 154), self.rng.range(84, 94))?
        } else {
            self.normal_bp()?
        };
        let after = BloodPressure::new(
            i64::from(before.systolic()) + self.rng.range(4, 16),
            i64::from(before.diastolic()) + self.rng.range(2, 8),
        )?;
        let mut adverse_events = Vec::new();
        self.moderate_adverse_last = false;
        if self.rng.chance(14) {
            let (description, moderate) = *self.rng.pick(ADVERSE);
            self.moderate_adverse_last = moderate == 1;
            adverse_events.push(AdverseEvent {
                description: self.text(description)?,
                severity: if moderate == 1 {
                    AdverseSeverity::Moderate
                } else {
                    AdverseSeverity::Mild
                },
            });
        }
        let given_at = span.start() + self.minutes(15, 25);
        let date = self.date(b.day);
        let lot = format!(
            "KT{:02}{:02}-{}",
            date.year() % 100,
            date.month(),
            if date.day() <= 15 { 'A' } else { 'B' }
        );
        let observations = *self.rng.pick(OBSERVATIONS);
        let raw = RawRecordExploration {
            session: b.session.clone(),
            span,
            administration: Some(Administration {
                drug: Drug::Ketamine,
                route: Route::Sublingual,
                dose: Milligrams::new(rx.ordered)?,
                lot_number: LotNumber::new(&lot)?,
                given_at,
            }),
            not_dosed_reason: None,
            bp_before: before,
            bp_after: after,
            observations: self.text(observations)?,
            adverse_events,
            discharged_at,
            departure,
        };
        let body = CommandBody::RecordExploration(RecordExploration::try_from(raw)?);
        let mut at = at;
        let authorization = if high {
            Some(AuthorizationId::parse(&format!("bp-{}", b.session))?)
        } else {
            None
        };
        let refused_first = high && self.rng.chance(40);
        if let Some(id) = &authorization {
            // The prescriber, consulted by phone when the pre-dose reading
            // comes in (or only once the record refused the dose),
            // authorizes this session's dose with their own credential.
            let when = if refused_first {
                let step = self.refused(
                    at,
                    Who::Therapist,
                    body.clone(),
                    Rule::ExplorationBloodPressureAboveThreshold,
                );
                if b.too_soon {
                    self.override_with(step, Rule::ExplorationTooSoon, TOO_SOON_REASON, None)?;
                }
                self.at_of(step) + self.minutes(8, 15)
            } else {
                span.start() + self.minutes(5, 12)
            };
            let step = self.cmd(
                when,
                Who::Prescriber,
                CommandBody::AuthorizeOverride(AuthorizeOverride {
                    authorization: id.clone(),
                    rule: Rule::ExplorationBloodPressureAboveThreshold,
                    session: b.session.clone(),
                    valid_until: span.date(),
                    ceiling: Some(BloodPressure::new(160, 100)?),
                    reason: self.text(BP_OVERRIDE_REASON)?,
                }),
            );
            // The dose is recorded once the session has ended.
            at = at.max(self.at_of(step) + self.minutes(3, 8));
        }
        let step = self.cmd(at, Who::Therapist, body);
        if b.too_soon {
            self.override_with(step, Rule::ExplorationTooSoon, TOO_SOON_REASON, None)?;
        }
        if high {
            self.override_with(
                step,
                Rule::ExplorationBloodPressureAboveThreshold,
                BP_PROCEED_REASON,
                authorization,
            )?;
        }
        if let Some(rx) = self.rx.as_mut() {
            rx.used += 1;
        }
        self.dosed_days.push(b.day);
        let at = self.at_of(step);
        self.pay(&b.session, 55_000, at)?;
        Ok((true, step, at))
    }

    fn normal_bp(&self) -> Res<BloodPressure> {
        Ok(BloodPressure::new(
            self.rng.range(108, 136),
            self.rng.range(66, 86),
        )?)
    }

    /// Books the integration of an exploration: a day to three later, or
    /// (deliberately, with an override at recording) more than a week.
    fn book_integration(
        &mut self,
        x: &Booked,
        after: DateTime<Utc>,
    ) -> Res<(SessionId, TimeSpan, SlotKey, bool)> {
        let late = std::mem::take(&mut self.force.late_override) || self.rng.chance(4);
        let earliest = if late {
            x.day + 8
        } else {
            x.day + 1 + self.rng.weighted(&[(0_i64, 40), (1, 35), (2, 20), (3, 5)])
        };
        let at = after + self.minutes(3, 15);
        let (session, span, key) = self.schedule_integration(at, earliest, &x.session)?;
        Ok((session, span, key, late))
    }

    fn schedule_integration(
        &mut self,
        at: DateTime<Utc>,
        earliest: i64,
        exploration: &SessionId,
    ) -> Res<(SessionId, TimeSpan, SlotKey)> {
        let at = at.max(self.last_at);
        let key = self.take(SlotKind::Short, earliest.max(self.day_of(at) + 1))?;
        let span = self.span_in(key, 5, (45, 55))?;
        let session = self.session_id("integ")?;
        let body = CommandBody::ScheduleIntegration(ScheduleIntegration {
            session: session.clone(),
            span,
            therapist: self.therapist_id(),
            exploration: exploration.clone(),
        });
        let step = self.cmd(at, Who::FrontDesk, body);
        self.book(step, &session, span, key);
        self.open.insert(session.clone(), key);
        Ok((session, span, key))
    }

    /// Books and holds the integration of an exploration. Returns the day
    /// and time it was recorded.
    fn integration(&mut self, x: &Booked, after: DateTime<Utc>) -> Res<(i64, DateTime<Utc>)> {
        let (mut session, mut span, mut key, intended_late) = self.book_integration(x, after)?;
        if !intended_late && self.rng.chance(3) {
            let at = span.start() + Duration::minutes(20);
            let step = self.cmd(
                at,
                Who::FrontDesk,
                CommandBody::RecordNoShow(RecordNoShow {
                    session: session.clone(),
                }),
            );
            self.open.remove(&session);
            let at = self.at_of(step) + Duration::minutes(30);
            (session, span, key) = self.schedule_integration(at, key.1 + 1, &x.session)?;
        }
        let late = key.1 - x.day > 7;
        let at = span.end() + self.minutes(10, 40);
        let body = CommandBody::RecordIntegration(RecordIntegration {
            session: session.clone(),
            span,
            exploration: x.session.clone(),
            notes: self.pick_text(INTEGRATION_NOTES)?,
        });
        let mut at = at;
        let reason = if intended_late {
            *self.rng.pick(LATE_REASONS)
        } else {
            LATE_AUTO_REASON
        };
        if late && self.rng.chance(35) {
            let step = self.refused(at, Who::Therapist, body.clone(), Rule::IntegrationLate);
            at = self.at_of(step) + self.minutes(3, 10);
        }
        let step = self.cmd(at, Who::Therapist, body);
        if late {
            self.override_with(step, Rule::IntegrationLate, reason, None)?;
        }
        self.open.remove(&session);
        let at = self.at_of(step);
        self.pay(&session, 17_500, at)?;
        Ok((key.1, at))
    }

    fn amend_exploration(&mut self, target: usize, at: DateTime<Utc>) -> Res<()> {
        let original = match &self.steps[target].body {
            Body::Command(CommandBody::RecordExploration(x)) => {
                x.observations().as_str().to_owned()
            }
            _ => {
                return Err(PlanError(
                    "amendment target is not an exploration".to_owned(),
                ));
            }
        };
        let reason = self.text("Late entry: vital signs at 40 minutes were on the paper monitoring sheet and not transcribed.")?;
        let corrected = self.text(&format!(
            "{original} Late entry: BP 150/92 at 40 minutes, asymptomatic; 134/84 at 60 minutes without intervention."
        ))?;
        self.push(
            at,
            Who::Therapist,
            Body::Amend {
                target,
                reason,
                corrected,
            },
        );
        Ok(())
    }

    fn ongoing_care(&mut self, after: i64, sessions: i64) -> Res<i64> {
        let mut prev = after;
        for j in 1..=sessions {
            let key = self.take(SlotKind::Short, prev + self.rng.range(14, 28))?;
            let span = self.span_in(key, 5, (45, 55))?;
            let at = span.end() + self.minutes(10, 40);
            let session = self.session_id("care")?;
            let body = CommandBody::RecordOngoingCare(RecordOngoingCare {
                session: session.clone(),
                span,
                notes: self.pick_text(CARE_NOTES)?,
            });
            let step = self.cmd(at, Who::Therapist, body);
            self.book(step, &session, span, key);
            let at = self.at_of(step);
            self.pay(&session, 17_500, at)?;
            if j % 2 == 0 {
                self.measure(Instrument::Phq9, at + Duration::minutes(2), key.1, 100)?;
            }
            if self.rng.chance(4) {
                let treated = self.date(key.1 - self.rng.range(2, 10));
                let provider = self.pick_text(EXTERNAL_PROVIDER)?;
                let dose = Milligrams::new(self.rng.range(8, 15) * 5)?;
                let notes = self.text("Booster IM ketamine at an affiliate during a depressive dip, reported by the client; tolerated well. Not an in-practice dose.")?;
                self.cmd(
                    at + Duration::minutes(5),
                    Who::Therapist,
                    CommandBody::RecordExternalTreatment(RecordExternalTreatment {
                        treated_on: treated,
                        provider,
                        route: Route::Intramuscular,
                        dose: Some(dose),
                        notes,
                    }),
                );
            }
            prev = key.1;
        }
        Ok(prev)
    }

    fn discharge_not_suitable(&mut self, day: i64, who: Who) -> Res<()> {
        let day = self.weekday(day);
        let at = self.t(day, self.rng.range(14 * 60, 17 * 60));
        let summary = *self.rng.pick(DISCHARGE_NOT_SUITABLE);
        self.discharge(day, at, who, DischargeReason::NotSuitable, summary)?;
        Ok(())
    }

    fn discharge(
        &mut self,
        day: i64,
        at: DateTime<Utc>,
        who: Who,
        reason: DischargeReason,
        summary: &str,
    ) -> Res<usize> {
        let body = CommandBody::DischargeClient(DischargeClient {
            discharged_on: self.date(day),
            reason,
            summary: self.text(summary)?,
        });
        let step = self.cmd(at, who, body);
        let at = self.at_of(step);
        for (_, key) in std::mem::take(&mut self.open) {
            self.calendar.released(key, at);
        }
        Ok(step)
    }

    // ---- outcome measures ----

    /// The instruments of the client's profile (`all`), or PHQ-9 only, at
    /// `progress` percent of the way from baseline to the end of treatment.
    fn measures(&mut self, at: DateTime<Utc>, day: i64, progress: i64, all: bool) -> Res<()> {
        self.measure(Instrument::Phq9, at, day, progress)?;
        if all {
            self.measure(Instrument::Gad7, at, day, progress)?;
            if self.courses.contains_key("pcl5") {
                self.measure(Instrument::Pcl5, at, day, progress)?;
            }
            if self.courses.contains_key("bdi_ii") {
                self.measure(Instrument::BdiIi, at, day, progress)?;
            }
        }
        Ok(())
    }

    fn measure(
        &mut self,
        instrument: Instrument,
        at: DateTime<Utc>,
        day: i64,
        progress: i64,
    ) -> Res<()> {
        let name = match instrument {
            Instrument::Phq9 => "phq9",
            Instrument::Gad7 => "gad7",
            Instrument::Pcl5 => "pcl5",
            Instrument::BdiIi => "bdi_ii",
        };
        let Some(course) = self.courses.get(name).copied() else {
            return Ok(());
        };
        let noise = if progress == 0 {
            0
        } else {
            self.rng.range(-2, 2) * course.max / 27
        };
        let score = (course.baseline + (course.end - course.baseline) * progress / 100 + noise)
            .clamp(0, course.max);
        let measure = match instrument {
            Instrument::Phq9 => {
                self.last_phq = score;
                OutcomeMeasure::Phq9(Phq9Score::new(score)?)
            }
            Instrument::Gad7 => OutcomeMeasure::Gad7(Gad7Score::new(score)?),
            Instrument::Pcl5 => OutcomeMeasure::Pcl5(Pcl5Score::new(score)?),
            Instrument::BdiIi => OutcomeMeasure::BdiIi(BdiIiScore::new(score)?),
        };
        let step = self.cmd(
            at,
            Who::Therapist,
            CommandBody::RecordOutcomeMeasure(RecordOutcomeMeasure {
                measure,
                administered_on: self.date(day),
            }),
        );
        if instrument == Instrument::Phq9 && progress == 0 && self.rng.chance(5) {
            let later = self.t(self.weekday(day + self.rng.range(2, 6)), 9 * 60 + 15);
            let reason = self.text("PHQ-9 items mis-added when scored at intake.")?;
            let corrected = self.text(&format!(
                "PHQ-9 total score: {} (item scores re-added; item 9 scored 0).",
                (score + 1).min(27)
            ))?;
            self.push_deferred(
                later,
                Who::Therapist,
                Body::Amend {
                    target: step,
                    reason,
                    corrected,
                },
            );
        }
        Ok(())
    }

    // ---- payments ----

    /// Payment for a session: the client pays the fee (explorations are
    /// self-pay), or a copay with the insurer paying the rest weeks later;
    /// now and then nothing is paid yet.
    fn pay(&mut self, session: &SessionId, fee: i64, after: DateTime<Utc>) -> Res<()> {
        if self.rng.chance(6) {
            return Ok(());
        }
        let at = after + self.minutes(2, 15);
        if fee == 55_000 || !self.insured {
            let method = self.rng.weighted(&[
                (PaymentMethod::Card, 80),
                (PaymentMethod::Check, 10),
                (PaymentMethod::Cash, 5),
                (PaymentMethod::BankTransfer, 5),
            ]);
            self.payment(at, fee, method, Payer::Client, session, false)?;
        } else {
            let copay = *self.rng.pick(&[2_000_i64, 2_500, 3_000, 4_000]);
            self.payment(
                at,
                copay,
                PaymentMethod::Card,
                Payer::Client,
                session,
                false,
            )?;
            let day = self.weekday(self.day_of(at) + self.rng.range(14, 40));
            let later = self.t(day, self.rng.range(9 * 60, 12 * 60));
            self.payment(
                later,
                fee - copay,
                PaymentMethod::BankTransfer,
                Payer::Insurer,
                session,
                true,
            )?;
        }
        Ok(())
    }

    fn payment(
        &mut self,
        at: DateTime<Utc>,
        cents: i64,
        method: PaymentMethod,
        payer: Payer,
        session: &SessionId,
        deferred: bool,
    ) -> Res<()> {
        let n = self.next_id("pay");
        let at = if deferred { at } else { at.max(self.last_at) };
        let body = CommandBody::RecordPayment(RecordPayment {
            payment: PaymentId::parse(&format!("pay-{n}"))?,
            amount: Cents::new(cents)?,
            method,
            payer,
            received_on: at.date_naive(),
            session: Some(session.clone()),
        });
        if deferred {
            self.push_deferred(at, Who::FrontDesk, Body::Command(body));
        } else {
            self.cmd(at, Who::FrontDesk, body);
        }
        Ok(())
    }
}
