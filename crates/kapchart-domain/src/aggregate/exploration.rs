//! Explorations and their integrations, dose adjustments, and the
//! prescriber's authorizations past prescriber-override rules.

use super::*;

impl ClientRecord {
    /// A prescriber-override rule was hit: pass it only when the command's
    /// override for it references an authorization that the client's
    /// current prescriber recorded on this record, for this rule and
    /// session, unused, still valid on the session's date, and whose
    /// ceiling (if any) the reading does not exceed.
    pub(super) fn authorized_override(
        &self,
        ctx: &mut Ctx<'_>,
        rule: Rule,
        finding: String,
        session: &SessionId,
        day: NaiveDate,
        reading: BloodPressure,
    ) -> Result<(), ClientError> {
        let Some(ov) = ctx.command.overrides.iter().find(|o| o.rule == rule) else {
            return refuse(
                rule,
                format!(
                    "{finding}; needs the client's prescriber's authorization for this session (AuthorizeOverride), referenced by an override"
                ),
            );
        };
        let not_authorized = |message: String| refuse(Rule::OverrideNotAuthorized, message);
        let Some(id) = &ov.authorization else {
            return not_authorized(format!(
                "an override of {rule} must reference the authorization the client's prescriber recorded on this record"
            ));
        };
        let Some(a) = self.authorizations.get(id) else {
            return not_authorized(format!("authorization {id} does not exist in this record"));
        };
        if a.rule != rule {
            return not_authorized(format!("authorization {id} is for {}, not {rule}", a.rule));
        }
        if &a.session != session {
            return not_authorized(format!(
                "authorization {id} covers session {}, not {session}",
                a.session
            ));
        }
        if a.used {
            return not_authorized(format!("authorization {id} was already used"));
        }
        if day > a.valid_until {
            return not_authorized(format!(
                "authorization {id} was valid until {}",
                a.valid_until
            ));
        }
        if self.prescriber.as_ref() != Some(&a.prescriber) {
            return not_authorized(format!(
                "authorization {id} was given by a prescriber the client is no longer referred to"
            ));
        }
        if let Some(ceiling) = a.ceiling
            && reading.is_above(ceiling)
        {
            return not_authorized(format!(
                "pre-dose blood pressure {reading} is above the ceiling {ceiling} that authorization {id} allows"
            ));
        }
        ctx.overrides.push(AppliedOverride {
            rule,
            reason: ov.reason.clone(),
            authorized_by: a.prescriber.clone(),
            authorization: Some(id.clone()),
            finding,
        });
        Ok(())
    }

    /// The hard stops before any exploration, scheduled or recorded.
    pub(super) fn check_exploration_preconditions(
        &self,
        day: NaiveDate,
    ) -> Result<&ActivePrescription, ClientError> {
        if self.intake != Some(Suitability::Suitable) {
            return refuse(
                Rule::ExplorationIntakeNotSuitable,
                "exploration needs an intake that found the client suitable",
            );
        }
        if self.medical != Some(Clearance::Cleared) {
            return refuse(
                Rule::ExplorationMedicalNotCleared,
                "exploration needs a medical evaluation that cleared the client",
            );
        }
        if !self.consent {
            return refuse(
                Rule::ExplorationNoConsent,
                "exploration needs signed informed consent on file",
            );
        }
        if self.preparations_held == 0 {
            return refuse(
                Rule::ExplorationNoPreparation,
                "exploration needs at least one completed preparation session",
            );
        }
        match &self.prescription {
            Some(rx) if rx.valid.contains(day) => Ok(rx),
            Some(rx) => refuse(
                Rule::PrescriptionNoneActive,
                format!(
                    "prescription {} does not cover the session's date (valid {} to {})",
                    rx.id,
                    rx.valid.from(),
                    rx.valid.until()
                ),
            ),
            None => refuse(
                Rule::PrescriptionNoneActive,
                "exploration needs an active prescription",
            ),
        }
    }

    pub(super) fn check_spacing(
        &self,
        ctx: &mut Ctx<'_>,
        start: DateTime<Utc>,
        others: &[DateTime<Utc>],
    ) -> Result<(), ClientError> {
        let min_days = ctx.policy.min_days_between_explorations;
        let min = i64::from(min_days);
        if others.iter().any(|&o| ctx.days_between(start, o) < min) {
            ctx.stop(
                Rule::ExplorationTooSoon,
                format!("explorations are to be at least {min_days} days apart"),
            )?;
        }
        Ok(())
    }

    pub(super) fn check_protocol_maximum(
        &self,
        ctx: &mut Ctx<'_>,
        count: usize,
    ) -> Result<(), ClientError> {
        let max = ctx.policy.max_explorations;
        if count >= usize::from(max) {
            ctx.stop(
                Rule::ExplorationBeyondProtocolMaximum,
                format!("the protocol maximum of {max} dosed explorations is reached"),
            )?;
        }
        Ok(())
    }

    /// Open (scheduled, not yet held) explorations, except one session.
    pub(super) fn open_explorations(&self, except: Option<&SessionId>) -> Vec<&SessionState> {
        self.sessions
            .iter()
            .filter(|(id, s)| {
                s.kind == SessionKind::Exploration
                    && s.status == SessionStatus::Scheduled
                    && Some(*id) != except
            })
            .map(|(_, s)| s)
            .collect()
    }

    /// Decides `ScheduleExploration`.
    pub(super) async fn decide_schedule_exploration(
        &self,
        ctx: &mut Ctx<'_>,
        services: &Services,
        c: &ScheduleSession,
    ) -> Result<ClientEvent, ClientError> {
        let rx = self.check_exploration_preconditions(ctx.local_date(c.span.start()))?;
        let pending = self.open_explorations(None);
        if u32::from(rx.used) + pending.len() as u32 >= u32::from(rx.authorized) {
            return refuse(
                Rule::ExplorationNoSessionsLeft,
                format!(
                    "prescription {} authorizes {} dosed explorations: {} recorded, {} scheduled",
                    rx.id,
                    rx.authorized,
                    rx.used,
                    pending.len()
                ),
            );
        }
        self.check_new_session(&c.session, &c.span)?;
        let others: Vec<DateTime<Utc>> = self
            .explorations
            .iter()
            .filter(|x| x.dose.is_some())
            .map(|x| x.start)
            .chain(pending.iter().map(|s| s.span.start()))
            .collect();
        self.check_spacing(ctx, c.span.start(), &others)?;
        self.check_protocol_maximum(ctx, self.dosed_explorations() + pending.len())?;
        self.check_therapist_free(services, c).await?;
        Ok(ClientEvent::SessionScheduled(self.scheduled(
            ctx.decision(),
            c,
            SessionKind::Exploration,
            None,
        )))
    }

    /// Decides `RecordExploration`.
    pub(super) fn decide_record_exploration(
        &self,
        ctx: &mut Ctx<'_>,
        c: &RecordExploration,
    ) -> Result<ClientEvent, ClientError> {
        let actor = ctx.command.actor.id.clone();
        let d = ctx.decision();
        ctx.held_in_past(c.span())?;
        let session_day = ctx.local_date(c.span().start());
        let rx = self.check_exploration_preconditions(session_day)?;
        self.check_hold(c.session(), SessionKind::Exploration, c.span())?;
        if let Some(a) = c.administration() {
            if rx.used >= rx.authorized {
                return refuse(
                    Rule::ExplorationNoSessionsLeft,
                    format!(
                        "prescription {} authorizes {} dosed explorations and all are used",
                        rx.id, rx.authorized
                    ),
                );
            }
            if a.route != Route::Sublingual {
                return refuse(
                    Rule::DoseRouteNotInPractice,
                    "in-practice doses are sublingual; record IV or IM treatment at an affiliate as external",
                );
            }
            check_dose(rx, a.dose)?;
            if let Some(prev) = self.explorations.iter().rev().find(|x| x.dose.is_some())
                && !prev.integrated
            {
                return refuse(
                    Rule::ExplorationPreviousNotIntegrated,
                    format!(
                        "the previous exploration ({}) has no integration recorded",
                        prev.session
                    ),
                );
            }
            let threshold = ctx.policy.bp_threshold;
            if c.bp_before().is_above(threshold) {
                self.authorized_override(
                    ctx,
                    Rule::ExplorationBloodPressureAboveThreshold,
                    format!(
                        "pre-dose blood pressure {} is above the threshold {threshold}",
                        c.bp_before()
                    ),
                    c.session(),
                    session_day,
                    c.bp_before(),
                )?;
            }
            let previous: Vec<DateTime<Utc>> = self
                .explorations
                .iter()
                .filter(|x| x.dose.is_some())
                .map(|x| x.start)
                .collect();
            self.check_spacing(ctx, c.span().start(), &previous)?;
            self.check_protocol_maximum(ctx, self.dosed_explorations())?;
        }
        Ok(ClientEvent::ExplorationRecorded(ExplorationRecorded {
            decision: d,
            session: c.session().clone(),
            span: *c.span(),
            therapist: actor,
            prescription: c.administration().map(|_| rx.id.clone()),
            administration: c.administration().cloned(),
            not_dosed_reason: c.not_dosed_reason().cloned(),
            bp_before: c.bp_before(),
            bp_after: c.bp_after(),
            observations: c.observations().clone(),
            adverse_events: c.adverse_events().to_vec(),
            discharged_at: c.discharged_at(),
            departure: c.departure(),
            charge: ctx.charge(BillableService::Exploration, c.span())?,
        }))
    }

    /// Decides `ScheduleIntegration`.
    pub(super) async fn decide_schedule_integration(
        &self,
        ctx: &mut Ctx<'_>,
        services: &Services,
        c: &ScheduleIntegration,
    ) -> Result<ClientEvent, ClientError> {
        let d = ctx.decision();
        let known = self
            .sessions
            .get(&c.exploration)
            .is_some_and(|s| s.kind == SessionKind::Exploration);
        if !known {
            return refuse(
                Rule::IntegrationUnknownExploration,
                format!("{} is not an exploration of this client", c.exploration),
            );
        }
        let s = ScheduleSession {
            session: c.session.clone(),
            span: c.span,
            therapist: c.therapist.clone(),
        };
        self.check_new_session(&s.session, &s.span)?;
        self.check_therapist_free(services, &s).await?;
        Ok(ClientEvent::SessionScheduled(self.scheduled(
            d,
            &s,
            SessionKind::Integration,
            Some(c.exploration.clone()),
        )))
    }

    /// Decides `RecordIntegration`.
    pub(super) fn decide_record_integration(
        &self,
        ctx: &mut Ctx<'_>,
        c: &RecordIntegration,
    ) -> Result<ClientEvent, ClientError> {
        let actor = ctx.command.actor.id.clone();
        ctx.held_in_past(&c.span)?;
        let Some(x) = self
            .explorations
            .iter()
            .find(|x| x.session == c.exploration)
        else {
            return refuse(
                Rule::IntegrationUnknownExploration,
                format!(
                    "{} is not a recorded exploration of this client",
                    c.exploration
                ),
            );
        };
        if c.span.start() < x.start {
            return Err(ClientError::invalid(
                "span.start",
                "an integration comes after its exploration",
            ));
        }
        self.check_hold(&c.session, SessionKind::Integration, &c.span)?;
        let window = i64::from(ctx.policy.integration_window_days);
        if ctx.days_between(c.span.start(), x.start) > window {
            ctx.stop(
                Rule::IntegrationLate,
                format!(
                    "the integration is more than {} days after its exploration",
                    ctx.policy.integration_window_days
                ),
            )?;
        }
        Ok(ClientEvent::IntegrationRecorded(IntegrationRecorded {
            decision: ctx.decision(),
            session: c.session.clone(),
            span: c.span,
            therapist: actor,
            exploration: c.exploration.clone(),
            notes: c.notes.clone(),
            charge: ctx.charge(BillableService::Integration, &c.span)?,
        }))
    }

    /// Decides `AdjustDose`.
    pub(super) fn decide_adjust_dose(
        &self,
        ctx: &mut Ctx<'_>,
        c: &AdjustDose,
    ) -> Result<ClientEvent, ClientError> {
        let d = ctx.decision();
        let Some(rx) = self
            .prescription
            .as_ref()
            .filter(|rx| rx.valid.until() >= ctx.today())
        else {
            return refuse(
                Rule::PrescriptionNoneActive,
                "there is no current prescription to adjust",
            );
        };
        check_dose(rx, c.dose)?;
        Ok(ClientEvent::DoseAdjusted(DoseAdjusted {
            decision: d,
            prescription: rx.id.clone(),
            from: rx.ordered,
            to: c.dose,
            reason: c.reason.clone(),
        }))
    }

    /// Decides `AuthorizeOverride`.
    pub(super) fn decide_authorize_override(
        &self,
        ctx: &mut Ctx<'_>,
        c: &AuthorizeOverride,
    ) -> Result<ClientEvent, ClientError> {
        let d = ctx.decision();
        if c.rule.severity() != Severity::PrescriberOverride {
            return Err(ClientError::invalid(
                "rule",
                format!(
                    "{} is not a prescriber-override rule (soft stops are passed with an override reason)",
                    c.rule
                ),
            ));
        }
        if self.authorizations.contains_key(&c.authorization) {
            return refuse(
                Rule::IdInUse,
                format!("authorization id {} is already used", c.authorization),
            );
        }
        if c.valid_until < ctx.today() {
            return Err(ClientError::invalid(
                "valid_until",
                "must not be in the past",
            ));
        }
        if let Some(s) = self.sessions.get(&c.session) {
            if s.kind != SessionKind::Exploration {
                return refuse(
                    Rule::SessionKindMismatch,
                    format!(
                        "session {} is a {} session, not exploration",
                        c.session,
                        s.kind.as_str()
                    ),
                );
            }
            if s.status != SessionStatus::Scheduled {
                return refuse(
                    Rule::SessionNotOpen,
                    format!("session {} is already {}", c.session, status_word(s.status)),
                );
            }
        }
        Ok(ClientEvent::OverrideAuthorized(OverrideAuthorized {
            decision: d,
            authorization: c.authorization.clone(),
            rule: c.rule,
            session: c.session.clone(),
            valid_until: c.valid_until,
            ceiling: c.ceiling,
            reason: c.reason.clone(),
        }))
    }
}

/// Range and step checks for a dose, against the prescription.
pub(super) fn check_dose(rx: &ActivePrescription, dose: Milligrams) -> Result<(), ClientError> {
    let dosing = &rx.dosing;
    if !dosing.allows(dose) {
        return refuse(
            Rule::DoseOutsideRange,
            format!(
                "{dose} is outside prescription {}'s range {}–{}",
                rx.id,
                dosing.min().get(),
                dosing.max()
            ),
        );
    }
    let reference = rx.reference_dose();
    if dose.distance(reference) > dosing.max_step().get() {
        return refuse(
            Rule::DoseStepTooLarge,
            format!(
                "{dose} is more than {} from the last dose {reference}",
                dosing.max_step()
            ),
        );
    }
    Ok(())
}
