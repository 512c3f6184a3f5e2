//! Registration, referral and the two assessments (intake, medical
//! evaluation), the prescription, consent and preparation.

use super::*;

impl ClientRecord {
    pub(super) fn check_intake_for_preparation(&self) -> Result<(), ClientError> {
        if self.intake != Some(Suitability::Suitable) {
            return refuse(
                Rule::PreparationIntakeNotSuitable,
                "preparation needs an intake that found the client suitable",
            );
        }
        Ok(())
    }

    /// Decides `RegisterClient`.
    pub(super) async fn decide_register_client(
        &self,
        ctx: &mut Ctx<'_>,
        services: &Services,
        c: &RegisterClient,
    ) -> Result<ClientEvent, ClientError> {
        let d = ctx.decision();
        ctx.not_in_future("date_of_birth", c.date_of_birth)?;
        Self::check_staff(services, &c.therapist, Role::Therapist).await?;
        if let Some(p) = &c.prescriber {
            Self::check_staff(services, p, Role::Prescriber).await?;
        }
        Ok(ClientEvent::ClientRegistered(ClientRegistered {
            decision: d,
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            date_of_birth: c.date_of_birth,
            therapist: c.therapist.clone(),
            prescriber: c.prescriber.clone(),
        }))
    }

    /// Decides `ReferClient`.
    pub(super) async fn decide_refer_client(
        &self,
        ctx: &mut Ctx<'_>,
        services: &Services,
        c: &ReferClient,
    ) -> Result<ClientEvent, ClientError> {
        let d = ctx.decision();
        if self.prescriber.as_ref() == Some(&c.prescriber) {
            return refuse(
                Rule::ReferralUnchanged,
                format!("the client is already referred to {}", c.prescriber),
            );
        }
        Self::check_staff(services, &c.prescriber, Role::Prescriber).await?;
        Ok(ClientEvent::ClientReferred(ClientReferred {
            decision: d,
            prescriber: c.prescriber.clone(),
            previous: self.prescriber.clone(),
            note: c.note.clone(),
        }))
    }

    /// Decides `RecordIntake`.
    pub(super) fn decide_record_intake(
        &self,
        ctx: &mut Ctx<'_>,
        c: &RecordIntake,
    ) -> Result<ClientEvent, ClientError> {
        let actor = ctx.command.actor.id.clone();
        let d = ctx.decision();
        ctx.held_in_past(&c.span)?;
        self.check_hold(&c.session, SessionKind::Intake, &c.span)?;
        Ok(ClientEvent::IntakeRecorded(IntakeRecorded {
            decision: d,
            session: c.session.clone(),
            span: c.span,
            therapist: actor,
            finding: c.finding,
            diagnoses: c.diagnoses.clone(),
            notes: c.notes.clone(),
            charge: ctx.charge(BillableService::Intake, &c.span)?,
        }))
    }

    /// Decides `RecordMedicalEvaluation`.
    pub(super) fn decide_record_medical_evaluation(
        &self,
        ctx: &mut Ctx<'_>,
        c: &RecordMedicalEvaluation,
    ) -> Result<ClientEvent, ClientError> {
        let actor = ctx.command.actor.id.clone();
        let d = ctx.decision();
        ctx.not_in_future("evaluated_on", c.evaluated_on)?;
        Ok(ClientEvent::MedicalEvaluationRecorded(
            MedicalEvaluationRecorded {
                decision: d,
                prescriber: actor,
                evaluated_on: c.evaluated_on,
                finding: c.finding,
                notes: c.notes.clone(),
            },
        ))
    }

    /// Decides `IssuePrescription`.
    pub(super) fn decide_issue_prescription(
        &self,
        ctx: &mut Ctx<'_>,
        c: &IssuePrescription,
    ) -> Result<ClientEvent, ClientError> {
        let actor = ctx.command.actor.id.clone();
        let d = ctx.decision();
        if self.medical != Some(Clearance::Cleared) {
            return refuse(
                Rule::PrescriptionMedicalNotCleared,
                "a prescription needs a medical evaluation that cleared the client",
            );
        }
        if self.prescription_ids.contains(&c.prescription) {
            return refuse(
                Rule::IdInUse,
                format!("prescription id {} is already used", c.prescription),
            );
        }
        Ok(ClientEvent::PrescriptionIssued(PrescriptionIssued {
            decision: d,
            prescription: c.prescription.clone(),
            prescriber: actor,
            drug: c.drug,
            valid: c.valid,
            dosing: c.dosing,
            authorized_sessions: c.authorized_sessions,
            instructions: c.instructions.clone(),
            supersedes: self.prescription.as_ref().map(|p| p.id.clone()),
        }))
    }

    /// Decides `RecordConsent`.
    pub(super) fn decide_record_consent(
        &self,
        ctx: &mut Ctx<'_>,
        c: &RecordConsent,
    ) -> Result<ClientEvent, ClientError> {
        let d = ctx.decision();
        ctx.not_in_future("signed_on", c.signed_on)?;
        Ok(ClientEvent::ConsentRecorded(ConsentRecorded {
            decision: d,
            signed_on: c.signed_on,
            form: c.form.clone(),
        }))
    }

    /// Decides `SchedulePreparation`.
    pub(super) async fn decide_schedule_preparation(
        &self,
        ctx: &mut Ctx<'_>,
        services: &Services,
        c: &ScheduleSession,
    ) -> Result<ClientEvent, ClientError> {
        let d = ctx.decision();
        self.check_intake_for_preparation()?;
        self.check_new_session(&c.session, &c.span)?;
        self.check_therapist_free(services, c).await?;
        Ok(ClientEvent::SessionScheduled(self.scheduled(
            d,
            c,
            SessionKind::Preparation,
            None,
        )))
    }

    /// Decides `RecordPreparation`.
    pub(super) fn decide_record_preparation(
        &self,
        ctx: &mut Ctx<'_>,
        c: &RecordPreparation,
    ) -> Result<ClientEvent, ClientError> {
        let actor = ctx.command.actor.id.clone();
        let d = ctx.decision();
        ctx.held_in_past(&c.span)?;
        self.check_intake_for_preparation()?;
        self.check_hold(&c.session, SessionKind::Preparation, &c.span)?;
        Ok(ClientEvent::PreparationRecorded(PreparationRecorded {
            decision: d,
            session: c.session.clone(),
            span: c.span,
            therapist: actor,
            intentions: c.intentions.clone(),
            aftercare_plan: c.aftercare_plan.clone(),
            notes: c.notes.clone(),
            charge: ctx.charge(BillableService::Preparation, &c.span)?,
        }))
    }
}
