//! The command service's errors as problems on the form: a parser's
//! field path (`body.RecordExploration.administration.dose`) or a
//! refusing rule (`dose.outside_range`) mapped to the field it is about.

use kapchart_api::ApiError;
use kapchart_domain::{Rule, Severity};

use super::build::{Built, OverrideInput, Problem, Target};
use super::spec::Spec;

/// What an error from the command service means for the form.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The problems to show.
    pub problems: Vec<Problem>,
    /// A rule the user may go past with an override (a soft stop or a
    /// prescriber-override rule), if that refused the command.
    pub overridable: Option<Rule>,
    /// Whether the form needs a new command id (its id is spent on other
    /// content).
    pub new_command_id: bool,
}

/// Maps `error` (from parsing or executing the request `built` from the
/// form of `spec` with `overrides`) to problems on the form.
pub(crate) fn from_api(
    spec: &Spec,
    built: Option<&Built>,
    overrides: &[OverrideInput],
    error: &ApiError,
) -> Outcome {
    let mut outcome = Outcome {
        problems: Vec::new(),
        overridable: None,
        new_command_id: false,
    };
    match error {
        ApiError::BadRequest { field, message } => {
            if field == "id" {
                outcome.new_command_id = true;
                outcome.problems.push(Problem::new(
                    Target::General,
                    "The form's command id is not valid; it has been renewed. Send the form again.",
                ));
            } else {
                let target = field_target(spec, built, field, message);
                outcome
                    .problems
                    .push(Problem::new(target, capitalized(message)));
            }
        }
        ApiError::Refused { rule, message } => {
            let rule = Rule::from_code(rule);
            let target = rule.map_or(Target::General, |r| rule_target(spec, overrides, r));
            let text = match rule {
                Some(r) => format!("{} (rule {})", capitalized(message), r.code()),
                None => capitalized(message),
            };
            match rule {
                Some(r) if is_overridable(r) && !overrides.iter().any(|o| o.rule == r.code()) => {
                    outcome.overridable = Some(r);
                    outcome.problems.push(Problem::new(
                        Target::OverrideReason(overrides.len()),
                        format!("{text}. To go past it, give your reason in the override below."),
                    ));
                }
                _ => outcome.problems.push(Problem::new(target, text)),
            }
        }
        ApiError::CommandIdReused(message) => {
            outcome.new_command_id = true;
            outcome.problems.push(Problem::new(
                Target::General,
                format!(
                    "{} This form was already sent with other content; check it, then send it again to record it as a new entry.",
                    capitalized(message)
                ),
            ));
        }
        ApiError::Internal => outcome.problems.push(Problem::new(
            Target::General,
            "The server failed; the details are in its log. Try again.",
        )),
        other => outcome.problems.push(Problem::new(
            Target::General,
            capitalized(&other.to_string()),
        )),
    }
    outcome
}

/// Soft stops and prescriber-override rules may be gone past.
pub(crate) fn is_overridable(rule: Rule) -> bool {
    matches!(
        rule.severity(),
        Severity::Soft | Severity::PrescriberOverride
    )
}

fn capitalized(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The field a parser or domain error names: `body.RecordExploration.x.y`
/// (the parser) or `body.x.y` (the domain) or `overrides.0.reason`.
fn field_target(spec: &Spec, built: Option<&Built>, field: &str, message: &str) -> Target {
    let rest = field.strip_prefix("body.").unwrap_or(field);
    if rest == "body" || rest == "." || rest.is_empty() {
        return mentioned(spec, message);
    }
    if let Some(o) = rest.strip_prefix("overrides") {
        let index = o
            .trim_start_matches('.')
            .split('.')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        return if o.contains("authorization") {
            Target::OverrideAuthorization(index)
        } else {
            Target::OverrideReason(index)
        };
    }
    let path = match rest.strip_prefix(spec.command) {
        Some("") => return mentioned(spec, message),
        Some(p) => p.trim_start_matches('.'),
        None => rest,
    };
    if path == "client_id" {
        return Target::Client;
    }
    let sent: Vec<(String, &'static str)> = match built {
        Some(b) => b.sent.clone(),
        None => spec
            .fields
            .iter()
            .map(|f| (f.path.to_owned(), f.name))
            .collect(),
    };
    let related = |sent_path: &str| {
        sent_path == path
            || path.starts_with(&format!("{sent_path}."))
            || sent_path.starts_with(&format!("{path}."))
    };
    if let Some((_, name)) = sent.iter().find(|(p, _)| related(p)) {
        return client_or_field(spec, name);
    }
    // A field not sent (left empty): by the spec's paths.
    spec.fields.iter().find(|f| related(f.path)).map_or_else(
        || mentioned(spec, message),
        |f| client_or_field(spec, f.name),
    )
}

fn client_or_field(spec: &Spec, name: &'static str) -> Target {
    match spec.field(name) {
        Some(f) if matches!(f.kind, super::spec::Kind::TheClient) => Target::Client,
        _ => Target::Field(name),
    }
}

/// The field whose path a whole-command message mentions first
/// ("not_dosed_reason is required when ...").
fn mentioned(spec: &Spec, message: &str) -> Target {
    spec.fields
        .iter()
        .filter_map(|f| message.find(f.path).map(|at| (at, f.name)))
        .min_by_key(|(at, _)| *at)
        .map_or(Target::General, |(_, name)| Target::Field(name))
}

/// The field a refusing rule is about, when the form has it.
fn rule_target(spec: &Spec, overrides: &[OverrideInput], rule: Rule) -> Target {
    if rule == Rule::OverrideNotAuthorized {
        let index = overrides
            .iter()
            .position(|o| {
                Rule::from_code(&o.rule)
                    .is_some_and(|r| r.severity() == Severity::PrescriberOverride)
            })
            .unwrap_or(0);
        return if overrides.is_empty() {
            Target::General
        } else {
            Target::OverrideAuthorization(index)
        };
    }
    if matches!(
        rule,
        Rule::ClientNotRegistered | Rule::ClientAlreadyRegistered
    ) {
        return Target::Client;
    }
    let paths: &[&str] = match rule {
        Rule::DoseOutsideRange | Rule::DoseStepTooLarge => &["administration.dose", "dose"],
        Rule::DoseRouteNotInPractice => &["administration.route"],
        Rule::ExplorationBloodPressureAboveThreshold => &["bp_before"],
        Rule::TherapistDoubleBooked
        | Rule::SessionOverlap
        | Rule::IntegrationLate
        | Rule::ExplorationTooSoon => &["span"],
        Rule::SessionUnknown
        | Rule::SessionNotOpen
        | Rule::SessionKindMismatch
        | Rule::SessionNotStarted => &["session"],
        Rule::IdInUse => &["session", "prescription", "payment", "authorization"],
        Rule::IntegrationUnknownExploration => &["exploration"],
        Rule::AmendmentUnknownEntry => &["entry"],
        Rule::StaffUnknown => &["therapist", "prescriber"],
        Rule::ReferralUnchanged => &["prescriber"],
        _ => &[],
    };
    paths
        .iter()
        .find_map(|p| spec.fields.iter().find(|f| f.path == *p))
        .map_or(Target::General, |f| Target::Field(f.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::spec::find;

    #[test]
    fn parser_paths_find_their_fields() {
        let spec = find("record-exploration").expect("spec");
        let t = |field: &str, message: &str| field_target(spec, None, field, message);
        assert_eq!(
            t("body.RecordExploration.administration.dose", "x"),
            Target::Field("dose")
        );
        assert_eq!(
            t("body.RecordExploration.span.end", "x"),
            Target::Field("span")
        );
        assert_eq!(t("body.span.end", "x"), Target::Field("span"));
        assert_eq!(
            t("body.RecordExploration.bp_before", "x"),
            Target::Field("bp_before")
        );
        assert_eq!(
            t(
                "body.RecordExploration",
                "exploration: discharged_at must be after administration.given_at"
            ),
            Target::Field("discharged_at")
        );
        assert_eq!(
            t(
                "body.RecordExploration",
                "exploration: not_dosed_reason is required when no administration is recorded"
            ),
            Target::Field("not_dosed_reason")
        );
        assert_eq!(t("overrides.0.reason", "x"), Target::OverrideReason(0));
        let register = find("register-client").expect("spec");
        assert_eq!(
            field_target(register, None, "body.RegisterClient.client_id", "x"),
            Target::Client
        );
    }

    #[test]
    fn refusals_find_their_fields() {
        let spec = find("schedule-exploration").expect("spec");
        assert_eq!(
            rule_target(spec, &[], Rule::TherapistDoubleBooked),
            Target::Field("span")
        );
        assert_eq!(
            rule_target(spec, &[], Rule::IdInUse),
            Target::Field("session")
        );
        assert_eq!(
            rule_target(spec, &[], Rule::ExplorationNoConsent),
            Target::General
        );
    }
}
