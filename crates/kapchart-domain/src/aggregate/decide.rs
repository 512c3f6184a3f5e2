//! Deciding a command: the checks every command meets (role, access,
//! registration, discharge) and dispatch to the command's own rules.

use super::*;

/// What one command is being decided with.
pub(super) struct Ctx<'a> {
    pub(super) command: &'a Command,
    pub(super) policy: &'a Policy,
    pub(super) settings: &'a PracticeSettings,
    pub(super) overrides: Vec<AppliedOverride>,
}

impl Ctx<'_> {
    pub(super) fn actor(&self) -> &Actor {
        &self.command.actor
    }

    /// The practice's date when the command is issued ("today", in the
    /// practice's time zone).
    pub(super) fn today(&self) -> NaiveDate {
        self.local_date(self.command.issued_at)
    }

    /// The practice's date at an instant.
    pub(super) fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        self.settings.local_date(at)
    }

    /// Whole calendar days between two instants, counted in the practice's
    /// local dates, whatever the hour: Monday 10:00 to next Monday 09:00 is
    /// 7 days, across a daylight-saving change too.
    pub(super) fn days_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        (self.local_date(a) - self.local_date(b)).num_days().abs()
    }

    /// A soft stop was hit: pass it when the command carries an override
    /// reason for it, else refuse. (Prescriber-override rules are passed
    /// only through an authorization on the record:
    /// `ClientRecord::authorized_override`.)
    pub(super) fn stop(&mut self, rule: Rule, finding: String) -> Result<(), ClientError> {
        debug_assert_eq!(rule.severity(), Severity::Soft);
        let Some(ov) = self.command.overrides.iter().find(|o| o.rule == rule) else {
            return Err(ClientError::refuse(
                rule,
                format!("{finding}; resend with an override reason to proceed"),
            ));
        };
        if ov.authorization.is_some() {
            return Err(ClientError::invalid(
                "overrides.authorization",
                format!(
                    "{rule} is passed with a reason alone; authorizations are for prescriber-override rules"
                ),
            ));
        }
        self.overrides.push(AppliedOverride {
            rule,
            reason: ov.reason.clone(),
            authorized_by: self.actor().id.clone(),
            authorization: None,
            finding,
        });
        Ok(())
    }

    pub(super) fn decision(&self) -> Decision {
        Decision {
            command_id: self.command.id.clone(),
            command_fingerprint: String::new(),
            actor: self.command.actor.clone(),
            decided_at: self.command.issued_at,
            policy_version: self.policy.version,
            overrides: self.overrides.clone(),
        }
    }

    pub(super) fn charge(
        &self,
        service: BillableService,
        span: &TimeSpan,
    ) -> Result<Charge, ClientError> {
        // The date of service is the practice's date the session starts on.
        let day = self.local_date(span.start());
        let fees = self
            .settings
            .fees_on(day)
            .ok_or(ClientError::NoFeeSchedule)?;
        Ok(Charge {
            service,
            amount: fees.fee(service),
            fee_schedule_version: fees.version,
            service_date: day,
        })
    }

    /// A session is recorded only once it has ended.
    pub(super) fn held_in_past(&self, span: &TimeSpan) -> Result<(), ClientError> {
        if span.end() > self.command.issued_at {
            return Err(ClientError::invalid(
                "span.end",
                "a session is recorded only after it has ended",
            ));
        }
        Ok(())
    }

    pub(super) fn not_in_future(
        &self,
        field: &'static str,
        day: NaiveDate,
    ) -> Result<(), ClientError> {
        if day > self.today() {
            return Err(ClientError::invalid(field, "must not be in the future"));
        }
        Ok(())
    }
}

pub(super) fn refuse<T>(rule: Rule, message: impl Into<String>) -> Result<T, ClientError> {
    Err(ClientError::refuse(rule, message))
}

impl ClientRecord {
    pub(super) async fn decide(
        &self,
        command: Command,
        fingerprint: String,
        settings: &PracticeSettings,
        services: &Services,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let roles = permitted_roles(&command.body);
        if !roles.contains(&command.actor.role) {
            return refuse(
                Rule::RoleNotPermitted,
                format!(
                    "{} may be issued by {}, not {}",
                    command.body.name(),
                    role_list(roles),
                    command.actor.role.as_str()
                ),
            );
        }
        // Who may act on this client is decided here, on the same state
        // the command is decided on: no race with a registration or a
        // referral can slip between a check and the decision.
        self.check_access(&command)?;
        match (&command.body, self.is_registered()) {
            (CommandBody::RegisterClient(_), true) => {
                return refuse(
                    Rule::ClientAlreadyRegistered,
                    "the client is already registered",
                );
            }
            (CommandBody::RegisterClient(_), false) | (_, true) => {}
            (_, false) => {
                return refuse(Rule::ClientNotRegistered, "the client is not registered");
            }
        }
        let allowed_after_discharge = matches!(
            command.body,
            CommandBody::AmendEntry(_) | CommandBody::RecordPayment(_)
        );
        if self.discharged && !allowed_after_discharge {
            return refuse(
                Rule::ClientDischarged,
                "the client is discharged: only amendments and payments can be recorded",
            );
        }
        let policy = settings
            .policy_at(command.issued_at)
            .ok_or(ClientError::NoPolicy)?;
        let mut ctx = Ctx {
            command: &command,
            policy,
            settings,
            overrides: Vec::new(),
        };
        let mut event = self.decide_body(&mut ctx, services).await?;
        // Overrides are collected while deciding; stamp them and the
        // fingerprint on the one event the command produces.
        let decision = match &mut event {
            ClientEvent::ClientRegistered(e) => &mut e.decision,
            ClientEvent::IntakeRecorded(e) => &mut e.decision,
            ClientEvent::ClientReferred(e) => &mut e.decision,
            ClientEvent::MedicalEvaluationRecorded(e) => &mut e.decision,
            ClientEvent::PrescriptionIssued(e) => &mut e.decision,
            ClientEvent::ConsentRecorded(e) => &mut e.decision,
            ClientEvent::SessionScheduled(e) => &mut e.decision,
            ClientEvent::PreparationRecorded(e) => &mut e.decision,
            ClientEvent::ExplorationRecorded(e) => &mut e.decision,
            ClientEvent::IntegrationRecorded(e) => &mut e.decision,
            ClientEvent::DoseAdjusted(e) => &mut e.decision,
            ClientEvent::OverrideAuthorized(e) => &mut e.decision,
            ClientEvent::OutcomeMeasureRecorded(e) => &mut e.decision,
            ClientEvent::OngoingCareRecorded(e) => &mut e.decision,
            ClientEvent::ExternalTreatmentRecorded(e) => &mut e.decision,
            ClientEvent::SessionCancelled(e) => &mut e.decision,
            ClientEvent::NoShowRecorded(e) => &mut e.decision,
            ClientEvent::PaymentRecorded(e) => &mut e.decision,
            ClientEvent::EntryAmended(e) => &mut e.decision,
            ClientEvent::ClientDischarged(e) => &mut e.decision,
        };
        *decision = ctx.decision();
        decision.command_fingerprint = fingerprint;
        Ok(vec![event])
    }

    async fn decide_body(
        &self,
        ctx: &mut Ctx<'_>,
        services: &Services,
    ) -> Result<ClientEvent, ClientError> {
        let command = ctx.command;
        Ok(match &command.body {
            CommandBody::RegisterClient(c) => self.decide_register_client(ctx, services, c).await?,
            CommandBody::RecordIntake(c) => self.decide_record_intake(ctx, c)?,
            CommandBody::ReferClient(c) => self.decide_refer_client(ctx, services, c).await?,
            CommandBody::RecordMedicalEvaluation(c) => {
                self.decide_record_medical_evaluation(ctx, c)?
            }
            CommandBody::IssuePrescription(c) => self.decide_issue_prescription(ctx, c)?,
            CommandBody::RecordConsent(c) => self.decide_record_consent(ctx, c)?,
            CommandBody::SchedulePreparation(c) => {
                self.decide_schedule_preparation(ctx, services, c).await?
            }
            CommandBody::RecordPreparation(c) => self.decide_record_preparation(ctx, c)?,
            CommandBody::ScheduleExploration(c) => {
                self.decide_schedule_exploration(ctx, services, c).await?
            }
            CommandBody::RecordExploration(c) => self.decide_record_exploration(ctx, c)?,
            CommandBody::ScheduleIntegration(c) => {
                self.decide_schedule_integration(ctx, services, c).await?
            }
            CommandBody::RecordIntegration(c) => self.decide_record_integration(ctx, c)?,
            CommandBody::AdjustDose(c) => self.decide_adjust_dose(ctx, c)?,
            CommandBody::AuthorizeOverride(c) => self.decide_authorize_override(ctx, c)?,
            CommandBody::RecordOutcomeMeasure(c) => self.decide_record_outcome_measure(ctx, c)?,
            CommandBody::RecordOngoingCare(c) => self.decide_record_ongoing_care(ctx, c)?,
            CommandBody::RecordExternalTreatment(c) => {
                self.decide_record_external_treatment(ctx, c)?
            }
            CommandBody::CancelSession(c) => self.decide_cancel_session(ctx, c)?,
            CommandBody::RecordNoShow(c) => self.decide_record_no_show(ctx, c)?,
            CommandBody::RecordPayment(c) => self.decide_record_payment(ctx, c)?,
            CommandBody::AmendEntry(c) => self.decide_amend_entry(ctx, c)?,
            CommandBody::DischargeClient(c) => self.decide_discharge_client(ctx, c)?,
        })
    }
}
