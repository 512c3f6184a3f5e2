//! A form as a page: the view of each field (inputs, label, hint, the
//! problem beside it), the overrides offered, the error summary.

use askama::Template;
use chrono::NaiveDate;
use kapchart_domain::input::{EARLIEST_DATE, LATEST_DATE};
use kapchart_domain::{Rule, Severity};

use super::build::{Filled, Problem, Target, input_names};
use super::spec::{Field, Kind, Spec};
use crate::page::Layout;

/// An active staff account offered by a staff field: (id, shown as).
pub(crate) type StaffChoice = (String, String);

/// The form page.
#[derive(Template)]
#[template(path = "forms/form.html")]
pub(crate) struct FormPage {
    pub layout: Layout,
    pub action: String,
    pub intro: &'static str,
    pub command_id: String,
    pub return_to: Option<String>,
    pub client: InputView,
    pub client_error: Option<String>,
    pub fields: Vec<FieldView>,
    pub overrides: Vec<OverrideView>,
    pub problems: Vec<ProblemView>,
    pub submit: &'static str,
}

/// One field.
#[derive(Debug)]
pub(crate) struct FieldView {
    /// The legend of a section that opens before this field.
    pub opens: Option<&'static str>,
    /// Whether a section closes after this field.
    pub closes: bool,
    /// Rendered as a fieldset with a legend (several inputs).
    pub group: bool,
    pub label: &'static str,
    pub required: bool,
    pub hint: &'static str,
    pub hint_id: String,
    pub error: Option<String>,
    pub error_id: String,
    pub inputs: Vec<InputView>,
}

/// One input, select or textarea.
#[derive(Debug)]
pub(crate) struct InputView {
    pub id: String,
    pub name: String,
    /// Its own label (in a group: "Start"; alone: the field's label).
    pub label: String,
    /// `input`, `select` or `textarea`.
    pub tag: &'static str,
    /// For `input`: text, date, time, number.
    pub input_type: &'static str,
    pub value: String,
    pub required: bool,
    pub invalid: bool,
    pub described_by: String,
    /// Further attributes: (name, value).
    pub attrs: Vec<(&'static str, String)>,
    pub options: Vec<OptionView>,
}

/// One option of a select.
#[derive(Debug)]
pub(crate) struct OptionView {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// An override offered or given.
#[derive(Debug)]
pub(crate) struct OverrideView {
    pub index: usize,
    pub rule: &'static str,
    pub about: String,
    pub prescriber: bool,
    pub reason: String,
    pub reason_error: Option<String>,
    pub authorization: String,
    pub authorization_error: Option<String>,
}

/// One line of the error summary, linking to its field when it has one.
#[derive(Debug)]
pub(crate) struct ProblemView {
    pub href: Option<String>,
    pub text: String,
}

/// The id of an input.
fn input_id(name: &str) -> String {
    format!("f-{}", name.replace('_', "-"))
}

/// What the page of `spec` needs besides the spec and what was typed.
#[derive(Debug)]
pub(crate) struct Context {
    pub layout: Layout,
    pub staff_therapists: Vec<StaffChoice>,
    pub staff_prescribers: Vec<StaffChoice>,
}

/// Renders `spec`'s form holding `filled`, with `problems`.
pub(crate) fn page(
    spec: &Spec,
    filled: &Filled,
    problems: &[Problem],
    context: Context,
) -> FormPage {
    let message_for = |target: &Target| {
        let messages: Vec<&str> = problems
            .iter()
            .filter(|p| &p.target == target)
            .map(|p| p.message.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join(" "))
    };
    let client_error = message_for(&Target::Client);
    let client = InputView {
        id: input_id(super::build::CLIENT_FIELD),
        name: super::build::CLIENT_FIELD.to_owned(),
        label: "Client id".to_owned(),
        tag: "input",
        input_type: "text",
        value: filled.client_id.clone(),
        required: true,
        invalid: client_error.is_some(),
        described_by: "f-client-id-hint f-client-id-error".to_owned(),
        attrs: vec![
            ("maxlength", "64".to_owned()),
            ("autocomplete", "off".to_owned()),
            ("spellcheck", "false".to_owned()),
        ],
        options: Vec::new(),
    };
    let fields = spec
        .fields
        .iter()
        .filter(|f| !matches!(f.kind, Kind::TheClient))
        .map(|f| {
            let mut view = field_view(f, filled, message_for(&Target::Field(f.name)), &context);
            view.opens = spec
                .sections
                .iter()
                .find(|(first, _, _)| *first == f.name)
                .map(|(_, _, legend)| *legend);
            view.closes = spec.sections.iter().any(|(_, last, _)| *last == f.name);
            view
        })
        .collect();
    let overrides = filled
        .overrides
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let rule = Rule::from_code(&o.rule)?;
            let prescriber = rule.severity() == Severity::PrescriberOverride;
            Some(OverrideView {
                index: i,
                rule: rule.code(),
                about: if prescriber {
                    format!(
                        "{}: {}. It is passed only with the authorization the client's prescriber recorded for this session (Authorize an override): enter its id and your reason.",
                        rule.code(),
                        rule.summary()
                    )
                } else {
                    format!(
                        "{}: {}. This is a soft stop: you may go past it with a reason, which is recorded on the entry and flagged in compliance reports.",
                        rule.code(),
                        rule.summary()
                    )
                },
                prescriber,
                reason: o.reason.clone(),
                reason_error: message_for(&Target::OverrideReason(i)),
                authorization: o.authorization.clone(),
                authorization_error: message_for(&Target::OverrideAuthorization(i)),
            })
        })
        .collect();
    let problem_views = problems
        .iter()
        .map(|p| ProblemView {
            href: anchor(spec, &p.target).map(|a| format!("#{a}")),
            text: match &p.target {
                Target::Field(name) => match (spec.field(name), section_of(spec, name)) {
                    (Some(f), Some(legend)) => {
                        format!("{legend}, {}: {}", lower(f.label), p.message)
                    }
                    (Some(f), None) => format!("{}: {}", f.label, p.message),
                    (None, _) => p.message.clone(),
                },
                Target::Client => format!("Client id: {}", p.message),
                _ => p.message.clone(),
            },
        })
        .collect();
    FormPage {
        layout: context.layout,
        action: format!("/act/{}", spec.segment),
        intro: spec.intro,
        command_id: filled.command_id.clone(),
        return_to: filled.return_to.clone(),
        client,
        client_error,
        fields,
        overrides,
        problems: problem_views,
        submit: spec.title,
    }
}

/// The legend of the section field `name` is in, if any.
pub(crate) fn section_of(spec: &Spec, name: &str) -> Option<&'static str> {
    let mut open: Option<(&str, &'static str)> = None;
    for field in spec.fields {
        if let Some((_, last, legend)) = spec
            .sections
            .iter()
            .find(|(first, _, _)| *first == field.name)
        {
            open = Some((last, legend));
        }
        let current = open;
        if let Some((last, _)) = open
            && last == field.name
        {
            open = None;
        }
        if field.name == name {
            return current.map(|(_, legend)| legend);
        }
    }
    None
}

/// "What happened" → "what happened".
fn lower(label: &str) -> String {
    let mut chars = label.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Where a problem's link goes: its field's first input.
fn anchor(spec: &Spec, target: &Target) -> Option<String> {
    match target {
        Target::General => None,
        Target::Client => Some(input_id(super::build::CLIENT_FIELD)),
        Target::Field(name) => spec
            .field(name)
            .and_then(|f| input_names(f).first().map(|n| input_id(n))),
        Target::OverrideReason(i) => Some(format!("f-override-reason-{i}")),
        Target::OverrideAuthorization(i) => Some(format!("f-override-authorization-{i}")),
    }
}

fn date_attrs() -> Vec<(&'static str, String)> {
    vec![
        ("min", EARLIEST_DATE.to_string()),
        ("max", LATEST_DATE.to_string()),
    ]
}

fn field_view(
    field: &Field,
    filled: &Filled,
    error: Option<String>,
    context: &Context,
) -> FieldView {
    let base = input_id(field.name);
    let hint_id = format!("{base}-hint");
    let error_id = format!("{base}-error");
    let described_by = match (field.hint.is_empty(), error.is_some()) {
        (false, true) => format!("{hint_id} {error_id}"),
        (false, false) => hint_id.clone(),
        (true, true) => error_id.clone(),
        (true, false) => String::new(),
    };
    let invalid = error.is_some();
    let input = |name: String, label: String, input_type: &'static str, attrs| InputView {
        id: input_id(&name),
        value: filled.get(&name).to_owned(),
        name,
        label,
        tag: "input",
        input_type,
        required: field.required,
        invalid,
        described_by: described_by.clone(),
        attrs,
        options: Vec::new(),
    };
    let label = field.label.to_owned();
    let (group, inputs) = match field.kind {
        Kind::Span { .. } => {
            let names = input_names(field);
            let parts = [("Day", "date"), ("Start", "time"), ("End", "time")];
            let inputs = names
                .into_iter()
                .zip(parts)
                .map(|(name, (l, t))| {
                    let attrs = if t == "date" {
                        date_attrs()
                    } else {
                        Vec::new()
                    };
                    input(name, l.to_owned(), t, attrs)
                })
                .collect();
            (true, inputs)
        }
        Kind::Bp => {
            let names = input_names(field);
            let parts = [("Systolic (mmHg)", 40, 300), ("Diastolic (mmHg)", 20, 200)];
            let inputs = names
                .into_iter()
                .zip(parts)
                .map(|(name, (l, min, max))| {
                    let attrs = vec![
                        ("min", min.to_string()),
                        ("max", max.to_string()),
                        ("step", "1".to_owned()),
                        ("inputmode", "numeric".to_owned()),
                    ];
                    input(name, l.to_owned(), "number", attrs)
                })
                .collect();
            (true, inputs)
        }
        Kind::Date { .. } => (
            false,
            vec![input(field.name.to_owned(), label, "date", date_attrs())],
        ),
        Kind::TimeOf { .. } => (
            false,
            vec![input(field.name.to_owned(), label, "time", Vec::new())],
        ),
        Kind::Int { min, max } => {
            let attrs = vec![
                ("min", min.to_string()),
                ("max", max.to_string()),
                ("step", "1".to_owned()),
                ("inputmode", "numeric".to_owned()),
            ];
            (
                false,
                vec![input(field.name.to_owned(), label, "number", attrs)],
            )
        }
        Kind::Money => {
            let attrs = vec![
                ("inputmode", "decimal".to_owned()),
                ("autocomplete", "off".to_owned()),
            ];
            (
                false,
                vec![input(field.name.to_owned(), label, "text", attrs)],
            )
        }
        Kind::Text => {
            let mut i = input(
                field.name.to_owned(),
                label,
                "text",
                vec![("rows", "4".to_owned())],
            );
            i.tag = "textarea";
            (false, vec![i])
        }
        Kind::Select(options) => {
            let value = filled.get(field.name);
            let mut i = input(field.name.to_owned(), label, "text", Vec::new());
            i.tag = "select";
            i.options = options_with(
                options
                    .iter()
                    .map(|(v, l)| ((*v).to_owned(), (*l).to_owned())),
                value,
                false,
            );
            (false, vec![i])
        }
        Kind::Staff(role) => {
            let value = filled.get(field.name);
            let staff = match role {
                kapchart_domain::Role::Prescriber => &context.staff_prescribers,
                _ => &context.staff_therapists,
            };
            let mut i = input(field.name.to_owned(), label, "text", Vec::new());
            i.tag = "select";
            i.options = options_with(staff.iter().cloned(), value, !field.required);
            (false, vec![i])
        }
        Kind::NewId(_) | Kind::Id | Kind::Codes | Kind::Line => {
            let attrs = match field.kind {
                Kind::Line => vec![("maxlength", "200".to_owned())],
                _ => vec![
                    (
                        "maxlength",
                        if matches!(field.kind, Kind::Codes) {
                            "200"
                        } else {
                            "64"
                        }
                        .to_owned(),
                    ),
                    ("autocomplete", "off".to_owned()),
                    ("spellcheck", "false".to_owned()),
                ],
            };
            (
                false,
                vec![input(field.name.to_owned(), label, "text", attrs)],
            )
        }
        Kind::TheClient => (false, Vec::new()),
    };
    FieldView {
        opens: None,
        closes: false,
        group,
        label: field.label,
        required: field.required,
        hint: field.hint,
        hint_id,
        error,
        error_id,
        inputs,
    }
}

/// Options with `value` selected; a value that is not among them (a
/// staff member no longer active) is kept as an option of its own, and an
/// optional field gets an empty first option.
fn options_with(
    options: impl Iterator<Item = (String, String)>,
    value: &str,
    optional: bool,
) -> Vec<OptionView> {
    let mut out: Vec<OptionView> = Vec::new();
    if optional {
        out.push(OptionView {
            value: String::new(),
            label: "None".to_owned(),
            selected: value.is_empty(),
        });
    }
    for (v, l) in options {
        out.push(OptionView {
            selected: v == value,
            value: v,
            label: l,
        });
    }
    if !value.is_empty() && !out.iter().any(|o| o.value == value) {
        out.push(OptionView {
            value: value.to_owned(),
            label: format!("{value} (not an active account)"),
            selected: true,
        });
    }
    out
}

/// The forms a role may open, for the index page.
#[derive(Template)]
#[template(path = "forms/index.html")]
pub(crate) struct IndexPage {
    pub layout: Layout,
    pub client: Option<String>,
    pub forms: Vec<(String, &'static str, &'static str)>,
}

/// Today as `YYYY-MM-DD`.
pub(crate) fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::spec::all;

    #[test]
    fn sections_run_from_a_field_to_a_later_one() {
        for spec in all() {
            for (first, last, legend) in spec.sections {
                let at = |name: &str| spec.fields.iter().position(|f| f.name == name);
                let (Some(a), Some(b)) = (at(first), at(last)) else {
                    panic!("{}: section {legend} names no field", spec.segment)
                };
                assert!(a <= b, "{}: section {legend}", spec.segment);
                assert_eq!(section_of(spec, first), Some(*legend));
                assert_eq!(section_of(spec, last), Some(*legend));
            }
        }
        let x = crate::forms::spec::find("record-exploration").expect("form");
        assert_eq!(section_of(x, "dose"), Some("Dose given"));
        assert_eq!(section_of(x, "observations"), None);
    }
}
