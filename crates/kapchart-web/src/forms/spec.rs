//! The declarative description of a command's form: which roles use it,
//! its fields, and where each field's value goes in the command's JSON.
//!
//! One [`Spec`] per command (the tables are in `assessment.rs`,
//! `sessions.rs` and `record.rs`, by protocol phase); one handler renders
//! and posts every form ([`super`]). A field names the dotted path of its
//! value in the command's body (`administration.dose`); the path also maps
//! the parser's errors (`body.RecordExploration.administration.dose`) and
//! the domain's (`body.span.end`) back to the field.

use kapchart_domain::Role;

/// One command's form.
#[derive(Debug)]
pub(crate) struct Spec {
    /// The path segment under `/act/` (as in [`crate::page::COMMANDS`]).
    pub segment: &'static str,
    /// The command's name, the body's tag: `RecordExploration`.
    pub command: &'static str,
    /// The page's title.
    pub title: &'static str,
    /// One sentence on what the form records.
    pub intro: &'static str,
    /// Runs of fields shown together in a fieldset: (first field, last
    /// field, legend).
    pub sections: &'static [(&'static str, &'static str, &'static str)],
    /// The fields, in order.
    pub fields: &'static [Field],
}

/// One field of a form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    /// The input's name (composite kinds add suffixes: `span_date`).
    pub name: &'static str,
    /// Dotted path of the value in the command's body; a digit segment is
    /// an index into a list (`adverse_events.0.description`).
    pub path: &'static str,
    /// What the label says.
    pub label: &'static str,
    /// A hint under the label ("" for none).
    pub hint: &'static str,
    /// What kind of value, and so which inputs.
    pub kind: Kind,
    /// Whether a value is needed.
    pub required: bool,
}

/// What a field holds, and so which inputs it renders and how its value
/// becomes JSON.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// A new id of the record (session, prescription, payment,
    /// authorization), suggested as `PREFIX-xxxxxx` when the form opens.
    NewId(&'static str),
    /// An id of something already in the record (a session to cancel, an
    /// exploration to integrate).
    Id,
    /// A short line of text (a name, a label, a lot number).
    Line,
    /// Free text (notes, reasons): a textarea.
    Text,
    /// A calendar day in the practice's time zone, `YYYY-MM-DD`; today's
    /// when the form opens if `today`.
    Date {
        /// Whether the form opens with today's date.
        today: bool,
    },
    /// A session's time: its day, start and end (practice's time zone),
    /// sent as `{start, end}` in UTC. `minutes` is the usual length, used
    /// when a link gives the start only.
    Span {
        /// The usual length of the session, in minutes.
        minutes: i64,
    },
    /// A time of day on the day of the span field named `span` (or the
    /// next day when earlier than the span's start), sent in UTC.
    TimeOf {
        /// The name of the span field whose day it is on.
        span: &'static str,
    },
    /// A whole number within `min..=max` (the domain's bounds).
    Int {
        /// The smallest value.
        min: i64,
        /// The largest value.
        max: i64,
    },
    /// An amount of money typed as dollars and cents (`175.00`), sent as
    /// whole cents: parsed exactly, never through a float.
    Money,
    /// One of fixed choices: (value sent, label shown).
    Select(&'static [(&'static str, &'static str)]),
    /// An active staff account of a role (therapist, prescriber).
    Staff(Role),
    /// A blood pressure: systolic and diastolic, mmHg.
    Bp,
    /// A list of ICD-10 codes, typed separated by commas.
    Codes,
    /// The form's client id, copied into the body (RegisterClient).
    TheClient,
}

impl Kind {
    /// Whether the kind is a choice: its value alone does not make an
    /// optional group present (a dose's route is chosen even when no dose
    /// was given).
    pub(crate) fn is_choice(self) -> bool {
        matches!(self, Kind::Select(_) | Kind::Staff(_))
    }
}

/// Every form, by segment.
pub(crate) fn all() -> impl Iterator<Item = &'static Spec> {
    super::assessment::SPECS
        .iter()
        .chain(super::sessions::SPECS)
        .chain(super::record::SPECS)
}

/// The form of `segment`.
pub(crate) fn find(segment: &str) -> Option<&'static Spec> {
    all().find(|s| s.segment == segment)
}

impl Spec {
    /// The roles that issue this command: the domain's own table
    /// ([`kapchart_domain::roles_issuing`]; the record stays the
    /// authority, this only decides which forms a role is offered).
    pub(crate) fn roles(&self) -> &'static [Role] {
        kapchart_domain::roles_issuing(self.command).unwrap_or(&[])
    }

    /// Whether `role` uses this form.
    pub(crate) fn is_for(&self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    /// The field named `name`.
    pub(crate) fn field(&self, name: &str) -> Option<&'static Field> {
        // `fields` is 'static; the reborrow keeps the lifetime.
        let fields: &'static [Field] = self.fields;
        fields.iter().find(|f| f.name == name)
    }
}

// ---- choices shared by several forms ----

/// The prescriber-override rules, for `AuthorizeOverride` (every rule of
/// that severity; a test keeps the list whole).
pub(crate) const PRESCRIBER_RULES: &[(&str, &str)] = &[(
    "exploration.bp_above_threshold",
    "Pre-dose blood pressure above the practice's threshold",
)];

/// The session's time, the usual first field group of a session form.
pub(crate) const fn span_field(minutes: i64, hint: &'static str) -> Field {
    Field {
        name: "span",
        path: "span",
        label: "When",
        hint,
        kind: Kind::Span { minutes },
        required: true,
    }
}

/// Free-text notes.
pub(crate) const fn notes(path: &'static str, label: &'static str, required: bool) -> Field {
    Field {
        name: path,
        path,
        label,
        hint: "",
        kind: Kind::Text,
        required,
    }
}

#[cfg(test)]
mod tests {
    use kapchart_domain::{BloodPressure, Rule, SessionCount, Severity};

    use super::*;

    #[test]
    fn the_prescriber_rules_are_every_prescriber_override_rule() {
        let mut listed: Vec<&str> = PRESCRIBER_RULES.iter().map(|(code, _)| *code).collect();
        let mut rules: Vec<&str> = Rule::ALL
            .iter()
            .filter(|r| r.severity() == Severity::PrescriberOverride)
            .map(|r| r.code())
            .collect();
        listed.sort_unstable();
        rules.sort_unstable();
        assert_eq!(listed, rules);
    }

    #[test]
    fn every_command_has_one_form_for_the_roles_that_issue_it() {
        for (segment, command, _) in crate::page::COMMANDS {
            let spec = find(segment).unwrap_or_else(|| panic!("no form for {segment}"));
            assert_eq!(spec.command, *command, "{segment}");
            assert!(!spec.roles().is_empty(), "{command}: no role issues it");
        }
        assert_eq!(all().count(), crate::page::COMMANDS.len());
    }

    #[test]
    fn the_inputs_bounds_are_the_domains() {
        // Blood pressure inputs: systolic 40–300, diastolic 20–200.
        assert!(BloodPressure::new(40, 20).is_ok() && BloodPressure::new(300, 200).is_ok());
        assert!(BloodPressure::new(39, 20).is_err() && BloodPressure::new(301, 200).is_err());
        assert!(BloodPressure::new(100, 19).is_err() && BloodPressure::new(250, 201).is_err());
        // Authorized sessions 1–52.
        let rx = find("issue-prescription").expect("form");
        let sessions = rx.field("authorized_sessions").expect("field");
        let Kind::Int { min, max } = sessions.kind else {
            panic!("a number")
        };
        assert!(SessionCount::new(min).is_ok() && SessionCount::new(max).is_ok());
        assert!(SessionCount::new(min - 1).is_err() && SessionCount::new(max + 1).is_err());
        // Scores: the field's hint names each instrument's range.
        let hint = super::super::record::SCORE_HINT;
        for (name, max) in [
            ("PHQ-9", kapchart_domain::Phq9Score::MAX),
            ("GAD-7", kapchart_domain::Gad7Score::MAX),
            ("PCL-5", kapchart_domain::Pcl5Score::MAX),
            ("BDI-II", kapchart_domain::BdiIiScore::MAX),
        ] {
            assert!(hint.contains(&format!("{name} 0–{max}")), "{name}");
        }
    }
}
