//! Outcome measures, ongoing care, external treatment, cancellations and
//! no-shows, payments, amendments and discharge.

use super::*;

impl ClientRecord {
    /// Decides `RecordOutcomeMeasure`.
    pub(super) fn decide_record_outcome_measure(
        &self,
        ctx: &mut Ctx<'_>,
        c: &RecordOutcomeMeasure,
    ) -> Result<ClientEvent, ClientError> {
        let d = ctx.decision();
        ctx.not_in_future("administered_on", c.administered_on)?;
        Ok(ClientEvent::OutcomeMeasureRecorded(
            OutcomeMeasureRecorded {
                decision: d,
                measure: c.measure,
                administered_on: c.administered_on,
            },
        ))
    }

    /// Decides `RecordOngoingCare`.
    pub(super) fn decide_record_ongoing_care(
        &self,
        ctx: &mut Ctx<'_>,
        c: &RecordOngoingCare,
    ) -> Result<ClientEvent, ClientError> {
        let actor = ctx.command.actor.id.clone();
        let d = ctx.decision();
        ctx.held_in_past(&c.span)?;
        if !self.explorations.iter().any(|x| x.integrated) {
            return refuse(
                Rule::OngoingCareProtocolNotStarted,
                "ongoing care follows at least one integrated exploration",
            );
        }
        self.check_hold(&c.session, SessionKind::OngoingCare, &c.span)?;
        Ok(ClientEvent::OngoingCareRecorded(OngoingCareRecorded {
            decision: d,
            session: c.session.clone(),
            span: c.span,
            therapist: actor,
            notes: c.notes.clone(),
            charge: ctx.charge(BillableService::OngoingCare, &c.span)?,
        }))
    }

    /// Decides `RecordExternalTreatment`.
    pub(super) fn decide_record_external_treatment(
        &self,
        ctx: &mut Ctx<'_>,
        c: &RecordExternalTreatment,
    ) -> Result<ClientEvent, ClientError> {
        let d = ctx.decision();
        ctx.not_in_future("treated_on", c.treated_on)?;
        Ok(ClientEvent::ExternalTreatmentRecorded(
            ExternalTreatmentRecorded {
                decision: d,
                treated_on: c.treated_on,
                provider: c.provider.clone(),
                route: c.route,
                dose: c.dose,
                notes: c.notes.clone(),
            },
        ))
    }

    /// Decides `CancelSession`.
    pub(super) fn decide_cancel_session(
        &self,
        ctx: &mut Ctx<'_>,
        c: &CancelSession,
    ) -> Result<ClientEvent, ClientError> {
        let d = ctx.decision();
        self.open_session(&c.session)?;
        Ok(ClientEvent::SessionCancelled(SessionCancelled {
            decision: d,
            session: c.session.clone(),
            reason: c.reason,
            note: c.note.clone(),
        }))
    }

    /// Decides `RecordNoShow`.
    pub(super) fn decide_record_no_show(
        &self,
        ctx: &mut Ctx<'_>,
        c: &RecordNoShow,
    ) -> Result<ClientEvent, ClientError> {
        let command = ctx.command;
        let d = ctx.decision();
        let s = self.open_session(&c.session)?;
        if command.issued_at < s.span.start() {
            return refuse(
                Rule::SessionNotStarted,
                format!("session {} has not started yet", c.session),
            );
        }
        Ok(ClientEvent::NoShowRecorded(NoShowRecorded {
            decision: d,
            session: c.session.clone(),
        }))
    }

    /// Decides `RecordPayment`.
    pub(super) fn decide_record_payment(
        &self,
        ctx: &mut Ctx<'_>,
        c: &RecordPayment,
    ) -> Result<ClientEvent, ClientError> {
        let d = ctx.decision();
        ctx.not_in_future("received_on", c.received_on)?;
        if self.payment_ids.contains(&c.payment) {
            return refuse(
                Rule::IdInUse,
                format!("payment id {} is already used", c.payment),
            );
        }
        if let Some(s) = &c.session
            && !self.sessions.contains_key(s)
        {
            return refuse(
                Rule::SessionUnknown,
                format!("session {s} does not exist for this client"),
            );
        }
        Ok(ClientEvent::PaymentRecorded(PaymentRecorded {
            decision: d,
            payment: c.payment.clone(),
            amount: c.amount,
            method: c.method,
            payer: c.payer,
            received_on: c.received_on,
            session: c.session.clone(),
        }))
    }

    /// Decides `AmendEntry`.
    pub(super) fn decide_amend_entry(
        &self,
        ctx: &mut Ctx<'_>,
        c: &AmendEntry,
    ) -> Result<ClientEvent, ClientError> {
        let command = ctx.command;
        let d = ctx.decision();
        let Some(target) = self.entry(c.entry) else {
            return refuse(
                Rule::AmendmentUnknownEntry,
                format!(
                    "entry {} does not exist (this record has {} entries)",
                    c.entry, self.last_sequence
                ),
            );
        };
        let roles = amending_roles(&target.amendable_as);
        if !roles.contains(&command.actor.role) && !command.actor.role.reads_clinical_records() {
            // Not even which kind of entry it is.
            return refuse(
                Rule::RoleNotPermitted,
                format!(
                    "entry {} is not one that {} may amend",
                    c.entry,
                    command.actor.role.as_str()
                ),
            );
        }
        if !roles.contains(&command.actor.role) {
            return refuse(
                Rule::RoleNotPermitted,
                format!(
                    "a {} entry may be amended by {}, not {}",
                    target.event_type,
                    role_list(roles),
                    command.actor.role.as_str()
                ),
            );
        }
        Ok(ClientEvent::EntryAmended(EntryAmended {
            decision: d,
            entry: c.entry,
            entry_type: target.event_type.clone(),
            reason: c.reason.clone(),
            corrected_content: c.corrected_content.clone(),
        }))
    }

    /// Decides `DischargeClient`.
    pub(super) fn decide_discharge_client(
        &self,
        ctx: &mut Ctx<'_>,
        c: &DischargeClient,
    ) -> Result<ClientEvent, ClientError> {
        let d = ctx.decision();
        ctx.not_in_future("discharged_on", c.discharged_on)?;
        let cancelled = self
            .sessions
            .iter()
            .filter(|(_, s)| s.status == SessionStatus::Scheduled)
            .map(|(id, _)| id.clone())
            .collect();
        Ok(ClientEvent::ClientDischarged(ClientDischarged {
            decision: d,
            discharged_on: c.discharged_on,
            reason: c.reason,
            summary: c.summary.clone(),
            cancelled_sessions: cancelled,
        }))
    }
}
