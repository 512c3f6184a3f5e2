//! Who may act on a client: the roles each command allows, a therapist's
//! assignment, a prescriber's referral, the staff a command names.

use super::*;

impl ClientRecord {
    /// Therapists act on the clients assigned to them (and register
    /// clients to themselves); prescribers on the clients referred to them.
    /// An unknown client answers like another's, so the refusal tells
    /// nothing about which records exist.
    pub(super) fn check_access(&self, command: &Command) -> Result<(), ClientError> {
        let actor = &command.actor;
        match actor.role {
            Role::Therapist => {
                if let CommandBody::RegisterClient(c) = &command.body {
                    if c.therapist != actor.id {
                        return refuse(
                            Rule::ClientNotAssigned,
                            "a therapist registers clients to themselves",
                        );
                    }
                    return Ok(());
                }
                if self.therapist.as_ref() != Some(&actor.id) {
                    return refuse(Rule::ClientNotAssigned, Rule::ClientNotAssigned.summary());
                }
            }
            Role::Prescriber => {
                if self.prescriber.as_ref() != Some(&actor.id) {
                    return refuse(Rule::ClientNotReferred, Rule::ClientNotReferred.summary());
                }
            }
            Role::FrontDesk | Role::Auditor | Role::Admin => {}
        }
        Ok(())
    }

    /// A user named by a command as therapist or prescriber must be an
    /// active account of that role.
    pub(super) async fn check_staff(
        services: &Services,
        user: &UserId,
        role: Role,
    ) -> Result<(), ClientError> {
        if services.staff_role(user).await? == Some(role) {
            Ok(())
        } else {
            refuse(
                Rule::StaffUnknown,
                format!("{user} is not an active {} account", role.as_str()),
            )
        }
    }
}

/// Roles that may issue a command.
pub(super) fn permitted_roles(body: &CommandBody) -> &'static [Role] {
    roles_issuing(body.name()).unwrap_or(&[])
}

/// The roles that may issue the command named `command` (`RecordIntake`),
/// or `None` for a name that is no command: the one table of who issues
/// what, read by the record and by the pages that offer the forms.
pub fn roles_issuing(command: &str) -> Option<&'static [Role]> {
    use Role::*;
    Some(match command {
        "RegisterClient" | "ReferClient" => &[FrontDesk, Therapist],
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
        _ => return None,
    })
}

/// Roles that may amend an entry of a given event type: those that may
/// record it.
pub(super) fn amending_roles(event_type: &str) -> &'static [Role] {
    use Role::*;
    match event_type {
        "ClientRegistered" | "ClientReferred" => &[FrontDesk, Therapist],
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

pub(super) fn role_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}
