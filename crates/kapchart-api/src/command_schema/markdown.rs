//! docs/commands.md, written from the OpenAPI document's command schemas
//! and the [`examples`](super::examples): each command's fields (type,
//! required, bounds, meaning), who may issue it, and one example request.
//! `tests/openapi.rs` keeps the file equal to what this writes.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::examples::{CLIENT, Example, examples, practice_examples};

/// docs/commands.md as the code describes it.
pub fn document() -> String {
    write(
        &crate::openapi::document_json(),
        &examples(),
        &practice_examples(),
    )
}

/// The page for an OpenAPI document `doc`, the examples of a client's
/// commands and those of the practice's.
pub fn write(doc: &Value, examples: &[Example], practice: &[Example]) -> String {
    let schemas = &doc["components"]["schemas"];
    let mut out = String::new();
    out.push_str(HEADER);
    out.push_str(
        "\nA field that does not parse is a 400 `invalid_input` naming it, e.g.\n\
         `body.RecordPayment.amount`; a missing field names the command\n\
         (`body.RecordPayment`) and says `` missing field `amount` ``; an unknown\n\
         field is refused. docs/domain.md describes what each command means\n\
         for the record and the rules that may refuse it (422).\n",
    );

    out.push_str("\n## A client's record\n\n");
    out.push_str(
        "`POST /api/v1/clients/{id}/commands` with a bearer token takes one JSON object:\n\n",
    );
    section(
        &mut out,
        schemas,
        "CommandRequest",
        "CommandBody",
        examples,
        &format!("/api/v1/clients/{CLIENT}/commands"),
    );

    out.push_str("\n## The practice's record\n\n");
    out.push_str(
        "`POST /api/v1/practice/commands` with an admin's bearer token takes one JSON object:\n\n",
    );
    section(
        &mut out,
        schemas,
        "PracticeCommandRequest",
        "PracticeCommandBody",
        practice,
        "/api/v1/practice/commands",
    );

    out.push_str("\n## Value types\n\n");
    out.push_str(
        "The types the tables name. Each is checked as the field is parsed; a value outside \
         it is a 400 `invalid_input` naming the field.\n\n",
    );
    out.push_str("| type | JSON | bounds | meaning |\n| --- | --- | --- | --- |\n");
    for name in VALUE_TYPES {
        let schema = &schemas[*name];
        let _ = writeln!(
            out,
            "| <a id=\"{}\"></a>`{name}` | {} | {} | {} |",
            name.to_lowercase(),
            json_type(schemas, schema),
            bounds(schema, true),
            cell(schema["description"].as_str().unwrap_or("")),
        );
    }
    out
}

/// The request's fields, the commands of `body`, and each command's
/// fields and example, posted to `path`.
fn section(
    out: &mut String,
    schemas: &Value,
    request: &str,
    body: &str,
    examples: &[Example],
    path: &str,
) {
    table(out, schemas, &schemas[request], "");
    out.push_str("\n| command | issued by | what it does |\n| --- | --- | --- |\n");
    let variants = body_variants(schemas, body);
    for (name, description) in &variants {
        let _ = writeln!(
            out,
            "| [`{name}`](#{}) | {} | {} |",
            name.to_lowercase(),
            roles(name),
            cell(description)
        );
    }
    for (name, _) in &variants {
        let _ = writeln!(out, "\n### {name}\n");
        let reference = body_schema(schemas, body, name);
        let schema = resolve(schemas, &reference);
        if let Some(d) = schema["description"].as_str() {
            let _ = writeln!(out, "{}\n", one_line(d));
        }
        let _ = writeln!(out, "Issued by: {}.\n", roles(name));
        table(out, schemas, schema, "");
        if let Some(example) = examples.iter().find(|e| e.command == name) {
            let _ = writeln!(
                out,
                "\nExample: {} Posted by `{}` ({}) at `{}` to `{path}`:\n",
                example.note,
                example.user,
                example.role.as_str().replace('_', " "),
                example.at,
            );
            let json = serde_json::to_string_pretty(&example.request).unwrap_or_default();
            let _ = writeln!(out, "```json\n{json}\n```");
        }
    }
}

const HEADER: &str = "# Commands

<!-- Generated from the OpenAPI document's command schemas and the examples in
crates/kapchart-api/src/command_schema/ by
`KAPCHART_UPDATE_OPENAPI=1 cargo test -p kapchart-api --test openapi`;
tests/openapi.rs fails when this file differs. Do not edit by hand. -->

Every command a client's record takes, and the admins' commands to the
practice's record, with their fields as the server parses them (the same
wire types the OpenAPI document, docs/openapi.json, is generated from) and
one example request each. The examples are in an order one record accepts
them: `tests/api_command_examples.rs` posts every one, in
this order, as the user named and at the time shown (the server's clock),
to a live server, and expects each to be applied (200): a session is
recorded after it ends, a day is not in the future, an authorization is not
already expired.
";

/// The value types listed at the end, in this order.
const VALUE_TYPES: &[&str] = &[
    "Id",
    "Text",
    "Label",
    "PersonName",
    "Date",
    "DateTime",
    "Milligrams",
    "PaymentCents",
    "EntryNumber",
    "SessionCount",
    "LotNumber",
    "Icd10Code",
    "OutcomeMeasure",
    "RuleCode",
    "Suitability",
    "Clearance",
    "Drug",
    "Route",
    "AdverseSeverity",
    "Departure",
    "CancelReason",
    "PaymentMethod",
    "Payer",
    "DischargeReason",
    "PracticeNameText",
    "AddressText",
    "UsStateCode",
    "Zip",
    "Phone",
    "NpiNumber",
    "EinNumber",
    "PlaceOfServiceCode",
    "TimeZone",
    "ProviderRoleName",
    "CredentialsText",
    "LicenceNumberText",
    "CptCodeList",
    "FeeCents",
    "MinDaysBetweenExplorations",
    "IntegrationWindowDays",
    "MaxExplorations",
    "IdleSignOutMinutes",
];

/// The command names of the `oneOf` of `body` (`CommandBody`,
/// `PracticeCommandBody`), with their descriptions.
pub fn body_variants(schemas: &Value, body: &str) -> Vec<(String, String)> {
    schemas[body]["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let (name, _) = v["properties"].as_object()?.iter().next()?;
            let description = v["description"].as_str().unwrap_or("").to_owned();
            Some((name.clone(), description))
        })
        .collect()
}

/// The schema (a `$ref`) of command `name`'s fields in `body`'s `oneOf`.
pub fn body_schema(schemas: &Value, body: &str, name: &str) -> Value {
    schemas[body]["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|v| v["properties"].get(name).cloned())
        .unwrap_or(Value::Null)
}

/// A schema with `$ref`s followed (to the component named).
pub fn resolve<'a>(schemas: &'a Value, schema: &'a Value) -> &'a Value {
    match ref_name(schema) {
        Some(name) => resolve(schemas, &schemas[name]),
        None => schema,
    }
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// An optional field's schema is `oneOf [null, schema]`: the schema.
fn unwrap_nullable(schema: &Value) -> &Value {
    match schema["oneOf"].as_array() {
        Some(options) if options.len() == 2 && options[0]["type"] == "null" => &options[1],
        _ => schema,
    }
}

/// The rows of an object schema's fields (required first, in declaration
/// order; then the optional ones), its nested objects' fields flattened
/// under `prefix.`.
fn rows(schemas: &Value, object: &Value, prefix: &str, out: &mut Vec<[String; 5]>) {
    let empty = Map::new();
    let properties = object["properties"].as_object().unwrap_or(&empty);
    let required: Vec<&str> = object["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut names: Vec<&str> = required.clone();
    names.extend(
        properties
            .keys()
            .map(String::as_str)
            .filter(|k| !required.contains(k)),
    );
    for name in names {
        let Some(field) = properties.get(name) else {
            continue;
        };
        let field = unwrap_nullable(field);
        let path = format!("{prefix}{name}");
        let description = field["description"].as_str().unwrap_or("");
        let (item, path_more) = match field["type"].as_str() {
            Some("array") => (&field["items"], "[]"),
            _ => (field, ""),
        };
        let target = resolve(schemas, item);
        let is_object = target["type"] == "object" && target["properties"].is_object();
        let mut kind = json_type(schemas, item);
        if !path_more.is_empty() {
            kind = format!("array of {kind}");
        }
        out.push([
            format!("`{path}`"),
            kind,
            if required.contains(&name) {
                "yes"
            } else {
                "no"
            }
            .to_owned(),
            if is_object {
                String::new()
            } else {
                field_bounds(schemas, item)
            },
            cell(description),
        ]);
        if is_object {
            rows(schemas, target, &format!("{path}{path_more}."), out);
        }
    }
}

fn table(out: &mut String, schemas: &Value, object: &Value, prefix: &str) {
    let mut all = Vec::new();
    rows(schemas, object, prefix, &mut all);
    out.push_str(
        "| field | type | required | bounds | meaning |\n| --- | --- | --- | --- | --- |\n",
    );
    for row in all {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
}

/// The JSON type of a schema: the value type's name (linked) and its JSON
/// type and format.
fn json_type(schemas: &Value, schema: &Value) -> String {
    let target = resolve(schemas, schema);
    let mut kind = match (target["type"].as_str(), target["format"].as_str()) {
        (Some(t), Some(f)) => format!("{t} ({f})"),
        (Some(t), None) => t.to_owned(),
        (None, _) if target["oneOf"].is_array() => "object (one of)".to_owned(),
        _ => "any".to_owned(),
    };
    if let Some(name) = ref_name(schema) {
        let linked = if VALUE_TYPES.contains(&name) {
            format!("[`{name}`](#{})", name.to_lowercase())
        } else {
            format!("`{name}`")
        };
        kind = format!("{linked}: {kind}");
    }
    kind
}

/// A field's bounds: its type's, or a link to its type when they are long
/// or said in words only.
fn field_bounds(schemas: &Value, schema: &Value) -> String {
    let target = resolve(schemas, schema);
    let long_enum = target["enum"].as_array().is_some_and(|v| v.len() > 10);
    let long_pattern = target["pattern"].as_str().is_some_and(|p| p.len() > 60);
    let words = bounds(target, false);
    match ref_name(schema) {
        Some(name)
            if VALUE_TYPES.contains(&name) && (long_enum || long_pattern || words.is_empty()) =>
        {
            let shown = if long_enum { String::new() } else { words };
            let link = format!("see [`{name}`](#{})", name.to_lowercase());
            if shown.is_empty() {
                link
            } else {
                format!("{shown}; {link}")
            }
        }
        _ => words,
    }
}

/// A schema's bounds in words: its values, range, length and (when
/// `patterns`, or when short) its pattern.
fn bounds(schema: &Value, patterns: bool) -> String {
    let mut parts = Vec::new();
    if let Some(values) = schema["enum"].as_array() {
        let names: Vec<String> = values
            .iter()
            .filter_map(Value::as_str)
            .map(|v| format!("`{v}`"))
            .collect();
        parts.push(format!("one of {}", names.join(", ")));
    }
    match (schema.get("minimum"), schema.get("maximum")) {
        (Some(lo), Some(hi)) => parts.push(format!("{lo} to {hi}")),
        (Some(lo), None) => parts.push(format!("at least {lo}")),
        (None, Some(hi)) => parts.push(format!("at most {hi}")),
        (None, None) => {}
    }
    match (schema.get("minLength"), schema.get("maxLength")) {
        (Some(lo), Some(hi)) => parts.push(format!("{lo} to {hi} characters")),
        (None, Some(hi)) => parts.push(format!("at most {hi} characters")),
        _ => {}
    }
    if let Some(n) = schema.get("maxItems") {
        parts.push(format!("at most {n} items"));
    }
    if schema["uniqueItems"] == true {
        parts.push("none twice".to_owned());
    }
    if let Some(pattern) = schema["items"]["pattern"].as_str() {
        parts.push(format!("each matching `{pattern}`"));
    }
    if let Some(pattern) = schema["pattern"].as_str()
        && (patterns || pattern.len() <= 60)
    {
        parts.push(format!("pattern `{pattern}`"));
    }
    if parts.is_empty() && schema["oneOf"].is_array() {
        parts.push("see the type".to_owned());
    }
    cell(&parts.join("; "))
}

/// Roles that may issue the command, as the domain decides (the
/// practice's commands: admins).
fn roles(command: &str) -> String {
    kapchart_domain::roles_issuing(command)
        .map(|roles| {
            roles
                .iter()
                .map(|r| r.as_str().replace('_', " "))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_else(|| "admin".to_owned())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text for a table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}
