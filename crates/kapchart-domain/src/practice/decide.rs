//! Deciding a practice command: admins only, then the command's own rules.
//! A change never applies before it is made, and versions follow each
//! other in time.

use super::*;
use crate::command::Role;

fn refuse<T>(rule: Rule, message: impl Into<String>) -> Result<T, PracticeError> {
    Err(PracticeError::refuse(rule, message))
}

impl PracticeRecord {
    /// The one event `command` appends, or why it is refused. Idempotency
    /// is checked before (in `handle`).
    pub(super) fn decide(
        &self,
        command: PracticeCommand,
        fingerprint: String,
    ) -> Result<PracticeEvent, PracticeError> {
        if command.actor.role != Role::Admin {
            return refuse(
                Rule::SettingsAdminOnly,
                format!(
                    "{} may be issued by admin, not {}",
                    command.body.name(),
                    command.actor.role.as_str()
                ),
            );
        }
        let decision = SettingsDecision {
            command_id: command.id,
            command_fingerprint: fingerprint,
            actor: command.actor,
            decided_at: command.issued_at,
        };
        match command.body {
            PracticeCommandBody::SetPracticeIdentity(identity) => {
                if let Some(p) = self.providers.values().find(|p| p.npi == identity.npi) {
                    return refuse(
                        Rule::SettingsNpiInUse,
                        format!(
                            "npi: {} is provider {}'s individual NPI; the practice's is its organizational NPI",
                            identity.npi, p.user
                        ),
                    );
                }
                Ok(PracticeEvent::PracticeIdentitySet(PracticeIdentitySet {
                    decision,
                    identity,
                }))
            }
            PracticeCommandBody::SetProvider(provider) => {
                self.check_provider_npi(&provider)?;
                Ok(PracticeEvent::ProviderSet(ProviderSet {
                    decision,
                    provider,
                }))
            }
            PracticeCommandBody::AdoptPolicy(c) => {
                let policy = self.adopt_policy(&decision, c)?;
                Ok(PracticeEvent::PolicyAdopted(PolicyAdopted {
                    decision,
                    policy,
                }))
            }
            PracticeCommandBody::AdoptFeeSchedule(c) => {
                let fee_schedule = self.adopt_fee_schedule(&decision, c)?;
                Ok(PracticeEvent::FeeScheduleAdopted(FeeScheduleAdopted {
                    decision,
                    fee_schedule,
                }))
            }
        }
    }

    /// A provider's NPI is theirs alone: not another provider's, not the
    /// practice's organizational NPI.
    fn check_provider_npi(&self, provider: &Provider) -> Result<(), PracticeError> {
        if let Some(other) = self
            .providers
            .values()
            .find(|o| o.npi == provider.npi && o.user != provider.user)
        {
            return refuse(
                Rule::SettingsNpiInUse,
                format!(
                    "npi: {} is already provider {}'s NPI",
                    provider.npi, other.user
                ),
            );
        }
        if self
            .identity
            .as_ref()
            .is_some_and(|i| i.npi == provider.npi)
        {
            return refuse(
                Rule::SettingsNpiInUse,
                format!(
                    "npi: {} is the practice's organizational NPI; a provider's is their individual NPI",
                    provider.npi
                ),
            );
        }
        Ok(())
    }

    fn adopt_policy(
        &self,
        decision: &SettingsDecision,
        c: AdoptPolicy,
    ) -> Result<Policy, PracticeError> {
        let latest = self.latest_policy();
        let policy = Policy {
            version: latest.version + 1,
            effective_from: c.effective_from,
            bp_threshold: c.bp_threshold,
            min_days_between_explorations: c.min_days_between_explorations,
            integration_window_days: c.integration_window_days,
            max_explorations: c.max_explorations,
            idle_sign_out_minutes: c.idle_sign_out_minutes,
        };
        if let Some((field, rule)) = policy.out_of_range() {
            return refuse(Rule::SettingsOutOfRange, format!("{field} {rule}"));
        }
        if policy.effective_from < decision.decided_at {
            return refuse(
                Rule::SettingsRetroactive,
                format!(
                    "effective_from: a policy applies from when it is adopted ({}) or later, never before",
                    decision.decided_at.to_rfc3339()
                ),
            );
        }
        if policy.effective_from <= latest.effective_from {
            return refuse(
                Rule::SettingsNotIncreasing,
                format!(
                    "effective_from must be after that of policy version {} ({})",
                    latest.version,
                    latest.effective_from.to_rfc3339()
                ),
            );
        }
        Ok(policy)
    }

    fn adopt_fee_schedule(
        &self,
        decision: &SettingsDecision,
        c: AdoptFeeSchedule,
    ) -> Result<FeeSchedule, PracticeError> {
        let latest = self.latest_fee_schedule();
        // The practice's day, in its time zone: a day already begun keeps
        // the fees it began with.
        let today = decision
            .decided_at
            .with_timezone(&self.time_zone().tz())
            .date_naive();
        if c.effective_from <= today {
            return refuse(
                Rule::SettingsRetroactive,
                format!(
                    "effective_from: a fee schedule applies from a day after the day it is adopted ({today}, the practice's date), never from a day already begun"
                ),
            );
        }
        if c.effective_from <= latest.effective_from {
            return refuse(
                Rule::SettingsNotIncreasing,
                format!(
                    "effective_from must be after that of fee schedule version {} ({})",
                    latest.version, latest.effective_from
                ),
            );
        }
        Ok(FeeSchedule {
            version: latest.version + 1,
            effective_from: c.effective_from,
            intake: c.intake.fee,
            preparation: c.preparation.fee,
            exploration: c.exploration.fee,
            integration: c.integration.fee,
            ongoing_care: c.ongoing_care.fee,
            codes: c.codes(),
        })
    }
}
