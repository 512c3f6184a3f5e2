//! The OpenAPI document's command schemas against the parser they are
//! generated beside: the `oneOf` names exactly the domain's commands, every
//! example's fields are in the schema, and every bound the schema states
//! (required fields, unknown fields, integer ranges, lengths, dates,
//! enumerations) is where the server's parser puts it. Each refusal is also
//! compared with the domain's own parser of the same JSON: the wire types
//! must agree with it, field path and message. The practice's commands
//! (`PracticeCommandBody`) are held to the same.

use kapchart_api::command_schema::examples::{Example, examples, practice_examples};
use kapchart_api::command_schema::markdown::{body_schema, body_variants, resolve};
use kapchart_api::command_schema::practice::PracticeCommandRequest;
use kapchart_api::command_schema::values::variants;
use kapchart_api::{ApiError, CommandRequest};
use serde_json::{Value, json};

fn document() -> Value {
    kapchart_api::openapi::document_json()
}

/// Whether a request is a practice command (its body is tagged by one).
fn is_practice(request: &Value) -> bool {
    let tag = request["body"]
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_default();
    variants::<kapchart_domain::PracticeCommandBody>().contains(&tag.as_str())
}

/// The body's schema component of an example's kind.
fn body_of(request: &Value) -> &'static str {
    if is_practice(request) {
        "PracticeCommandBody"
    } else {
        "CommandBody"
    }
}

/// The API's answer to a request: the parsed body's JSON, or the refusal's
/// field and message.
fn api(request: &Value) -> Result<Value, (String, String)> {
    let text = request.to_string();
    let parsed = if is_practice(request) {
        PracticeCommandRequest::parse(&text).map(|p| serde_json::to_value(p.body))
    } else {
        CommandRequest::parse(&text).map(|p| serde_json::to_value(p.body))
    };
    match parsed {
        Ok(body) => Ok(body.expect("serializes")),
        Err(ApiError::BadRequest { field, message }) => Err((field, message)),
        Err(other) => panic!("not a 400: {other:?}"),
    }
}

/// The domain's own parser's answer to the request's body, its paths
/// under `body.` as the API names them.
fn domain(request: &Value) -> Result<Value, (String, String)> {
    let text = request["body"].to_string();
    let parsed = if is_practice(request) {
        kapchart_domain::parse_json::<kapchart_domain::PracticeCommandBody>(&text)
            .map(|b| serde_json::to_value(b).expect("serializes"))
    } else {
        kapchart_domain::parse_json::<kapchart_domain::CommandBody>(&text)
            .map(|b| serde_json::to_value(b).expect("serializes"))
    };
    parsed.map_err(|e| {
        let field = if e.field == "." {
            "body".to_owned()
        } else {
            format!("body.{}", e.field)
        };
        (field, e.message)
    })
}

/// Parses with both and requires the same answer.
#[track_caller]
fn both(request: &Value) -> Result<Value, (String, String)> {
    let ours = api(request);
    assert_eq!(
        ours,
        domain(request),
        "the API and the domain differ on {request}"
    );
    ours
}

/// A leaf of an example: its JSON pointer, its path as a refusal names it,
/// and its schema (references followed, `null` options dropped).
struct Leaf {
    pointer: String,
    path: String,
    schema: Value,
}

fn unwrap_nullable(schema: &Value) -> &Value {
    match schema["oneOf"].as_array() {
        Some(o) if o.len() == 2 && o[0]["type"] == "null" => &o[1],
        _ => schema,
    }
}

/// Every object of `value` with its schema (objects, then their leaves),
/// checking that every key of the example is a property of the schema.
fn walk(
    schemas: &Value,
    schema: &Value,
    value: &Value,
    pointer: &str,
    path: &str,
    objects: &mut Vec<Leaf>,
    leaves: &mut Vec<Leaf>,
) {
    let schema = resolve(schemas, unwrap_nullable(schema));
    match value {
        Value::Object(map) if schema["properties"].is_object() => {
            objects.push(Leaf {
                pointer: pointer.to_owned(),
                path: path.to_owned(),
                schema: schema.clone(),
            });
            for (key, v) in map {
                let property = schema["properties"]
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key} is in an example, not in the schema"));
                walk(
                    schemas,
                    property,
                    v,
                    &format!("{pointer}/{key}"),
                    &format!("{path}.{key}"),
                    objects,
                    leaves,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(
                    schemas,
                    &schema["items"],
                    v,
                    &format!("{pointer}/{i}"),
                    &format!("{path}[{i}]"),
                    objects,
                    leaves,
                );
            }
        }
        _ => leaves.push(Leaf {
            pointer: pointer.to_owned(),
            path: path.to_owned(),
            schema: schema.clone(),
        }),
    }
}

/// Each example with the objects and leaves of its body.
fn examples_walked() -> Vec<(Example, Vec<Leaf>, Vec<Leaf>)> {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    examples()
        .into_iter()
        .chain(practice_examples())
        .map(|e| {
            let (mut objects, mut leaves) = (Vec::new(), Vec::new());
            walk(
                schemas,
                &body_schema(schemas, body_of(&e.request), e.command),
                e.fields(),
                &format!("/body/{}", e.command),
                &format!("body.{}", e.command),
                &mut objects,
                &mut leaves,
            );
            (e, objects, leaves)
        })
        .collect()
}

fn with(request: &Value, pointer: &str, value: Value) -> Value {
    let mut changed = request.clone();
    *changed.pointer_mut(pointer).expect("the leaf exists") = value;
    changed
}

#[test]
fn the_one_of_names_exactly_the_domain_commands_and_each_has_one_example() {
    let doc = document();
    let names: Vec<String> = body_variants(&doc["components"]["schemas"], "CommandBody")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let domain: Vec<&str> = variants::<kapchart_domain::CommandBody>().to_vec();
    assert_eq!(names, domain);
    let mut examples: Vec<&str> = examples().iter().map(|e| e.command).collect();
    examples.sort_unstable();
    let mut sorted = domain.clone();
    sorted.sort_unstable();
    assert_eq!(examples, sorted, "one example per command");

    let practice: Vec<String> = body_variants(&doc["components"]["schemas"], "PracticeCommandBody")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        practice,
        variants::<kapchart_domain::PracticeCommandBody>().to_vec()
    );
    let examples: Vec<&str> = practice_examples().iter().map(|e| e.command).collect();
    assert_eq!(
        practice, examples,
        "one example per practice command, in order"
    );
}

#[test]
fn every_example_parses_as_the_domain_parses_it_and_its_fields_are_in_the_schema() {
    let doc = document();
    for (example, objects, _) in examples_walked() {
        let request = if is_practice(&example.request) {
            "PracticeCommandRequest"
        } else {
            "CommandRequest"
        };
        let request_schema = &doc["components"]["schemas"][request]["properties"];
        for key in example.request.as_object().expect("an object").keys() {
            assert!(request_schema.get(key).is_some(), "{key}");
        }
        assert!(!objects.is_empty(), "{}", example.command);
        let parsed =
            both(&example.request).unwrap_or_else(|e| panic!("{}: {e:?}", example.command));
        assert!(parsed.get(example.command).is_some(), "{parsed}");
        if !is_practice(&example.request) {
            assert_eq!(
                CommandRequest::parse(&example.request.to_string())
                    .expect("parses")
                    .overrides
                    .len(),
                example.request["overrides"].as_array().map_or(0, Vec::len)
            );
        }
    }
}

#[test]
fn a_missing_required_field_is_refused_naming_it() {
    let mut checked = 0;
    for (example, objects, _) in examples_walked() {
        for object in &objects {
            for required in object.schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().expect("a name");
                let mut request = example.request.clone();
                let holder = request
                    .pointer_mut(&object.pointer)
                    .and_then(Value::as_object_mut)
                    .expect("the object");
                if holder.remove(name).is_none() {
                    // Optional in the example's own choice (an exploration
                    // without a dose has no administration).
                    continue;
                }
                let (field, message) = both(&request).expect_err(name);
                assert_eq!(field, object.path, "{} without {name}", object.path);
                assert!(
                    message.contains(&format!("missing field `{name}`")),
                    "{} without {name}: {message}",
                    object.path
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 80, "only {checked} required fields checked");
}

#[test]
fn an_optional_field_may_be_left_out() {
    for (example, objects, _) in examples_walked() {
        for object in &objects {
            let required: Vec<&str> = object.schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let keys: Vec<String> = example
                .request
                .pointer(&object.pointer)
                .and_then(Value::as_object)
                .expect("the object")
                .keys()
                .filter(|k| !required.contains(&k.as_str()))
                .cloned()
                .collect();
            for key in keys {
                let mut request = example.request.clone();
                if let Some(o) = request
                    .pointer_mut(&object.pointer)
                    .and_then(Value::as_object_mut)
                {
                    o.remove(&key);
                }
                let answer = both(&request);
                // RecordExploration's `administration` is optional, but an
                // exploration without one needs a `not_dosed_reason`.
                if let Err((field, message)) = answer {
                    assert_eq!(field, "body.RecordExploration", "{key}: {message}");
                    assert!(message.contains("not_dosed_reason"), "{message}");
                }
            }
        }
    }
}

#[test]
fn an_unknown_field_is_refused_naming_it() {
    for (example, objects, _) in examples_walked() {
        for object in &objects {
            let mut request = example.request.clone();
            request
                .pointer_mut(&object.pointer)
                .and_then(Value::as_object_mut)
                .expect("the object")
                .insert("mood".to_owned(), json!("fine"));
            let (field, message) = both(&request).expect_err("unknown field");
            assert_eq!(field, format!("{}.mood", object.path));
            assert!(message.contains("unknown field `mood`"), "{message}");
        }
    }
    // A body naming two commands is refused, as the schema's
    // `additionalProperties: false` on each branch says.
    let mut two = examples()[0].request.clone();
    two["body"]["RecordNoShow"] = json!({ "session": "s-1" });
    assert!(api(&two).is_err());
}

#[test]
fn integer_ranges_are_the_parsers() {
    let mut checked = 0;
    for (example, _, leaves) in examples_walked() {
        for leaf in leaves.iter().filter(|l| l.schema["type"] == "integer") {
            // A policy value's range is the practice record's rule
            // (`settings.out_of_range`, a 422), not the parser's.
            if leaf.schema["description"]
                .as_str()
                .is_some_and(|d| d.contains("settings.out_of_range"))
            {
                assert!(both(&example.request).is_ok());
                continue;
            }
            let (Some(lo), Some(hi)) = (
                leaf.schema["minimum"].as_i64(),
                leaf.schema["maximum"].as_i64(),
            ) else {
                panic!("{}: an integer without a range", leaf.path);
            };
            let parent = leaf.path.rsplit_once('.').map_or("", |(p, _)| p);
            for outside in [lo - 1, hi + 1] {
                let (field, _) = both(&with(&example.request, &leaf.pointer, json!(outside)))
                    .expect_err(&format!("{} = {outside}", leaf.path));
                assert!(
                    field == leaf.path || field == parent,
                    "{} = {outside} refused at {field}",
                    leaf.path
                );
            }
            for inside in [lo, hi] {
                // The value is in range; a check across fields (dosing's
                // order, systolic above diastolic) may still refuse it, at
                // the object.
                if let Err((field, message)) =
                    both(&with(&example.request, &leaf.pointer, json!(inside)))
                {
                    assert!(
                        field == parent && !message.contains(&format!("got {inside}")),
                        "{} = {inside} refused at {field}: {message}",
                        leaf.path
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 16, "only {checked} integers checked");
}

#[test]
fn string_lengths_dates_and_enumerations_are_the_parsers() {
    let mut checked = 0;
    for (example, _, leaves) in examples_walked() {
        for leaf in &leaves {
            let at = |v: Value| both(&with(&example.request, &leaf.pointer, v));
            if let Some(values) = leaf.schema["enum"].as_array() {
                for v in values {
                    assert!(at(v.clone()).is_ok(), "{} = {v}", leaf.path);
                }
                let (field, _) = at(json!("no_such_value")).expect_err(&leaf.path);
                assert_eq!(field, leaf.path);
                checked += 1;
            } else if let Some(max) = leaf.schema["maxLength"].as_u64() {
                let max = usize::try_from(max).expect("small");
                assert!(
                    at(json!("a".repeat(max))).is_ok(),
                    "{} at its length",
                    leaf.path
                );
                let (field, _) = at(json!("a".repeat(max + 1))).expect_err(&leaf.path);
                assert_eq!(field, leaf.path);
                let (field, _) = at(json!(" ")).expect_err(&leaf.path);
                assert_eq!(field, leaf.path, "blank");
                checked += 1;
            } else if leaf.schema["format"] == "date" {
                for day in ["1900-01-01", "2199-12-31"] {
                    if let Err((field, _)) = at(json!(day)) {
                        assert_ne!(field, leaf.path, "{} = {day}", leaf.path);
                    }
                }
                for day in ["1899-12-31", "2200-01-01", "2026-02-30", "05/01/2026"] {
                    let (field, _) = at(json!(day)).expect_err(day);
                    assert_eq!(field, leaf.path, "{day}");
                }
                checked += 1;
            } else if leaf.schema["format"] == "date-time" {
                for at_time in [
                    "1899-12-31T23:59:59Z",
                    "2200-01-01T00:00:00Z",
                    "2026-01-05 10:00",
                ] {
                    let (field, _) = at(json!(at_time)).expect_err(at_time);
                    assert_eq!(field, leaf.path, "{at_time}");
                }
                checked += 1;
            } else if let Some(pattern) = leaf.schema["pattern"].as_str() {
                let (field, _) = at(json!("not valid!")).expect_err(pattern);
                assert_eq!(field, leaf.path, "{pattern}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 80, "only {checked} strings checked");
}

#[test]
fn each_instruments_score_range_is_the_parsers() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let outcome = examples()
        .into_iter()
        .find(|e| e.command == "RecordOutcomeMeasure")
        .expect("an example");
    let branches = schemas["OutcomeMeasure"]["oneOf"]
        .as_array()
        .expect("oneOf");
    assert_eq!(branches.len(), 4);
    for branch in branches {
        let instrument = &branch["properties"]["instrument"]["enum"][0];
        let score = &branch["properties"]["score"];
        let max = score["maximum"].as_i64().expect("a maximum");
        assert_eq!(score["minimum"], 0);
        let at = |s: i64| {
            let measure = json!({ "instrument": instrument, "score": s });
            both(&with(
                &outcome.request,
                "/body/RecordOutcomeMeasure/measure",
                measure,
            ))
        };
        assert!(at(0).is_ok() && at(max).is_ok(), "{instrument} 0..={max}");
        // No other member, in the schema as in the parser.
        assert_eq!(branch["additionalProperties"], false);
        let extra = json!({ "instrument": instrument, "score": 1, "mood": "fine" });
        let (field, message) = both(&with(
            &outcome.request,
            "/body/RecordOutcomeMeasure/measure",
            extra,
        ))
        .expect_err("another member is refused");
        assert!(
            field.starts_with("body.RecordOutcomeMeasure.measure"),
            "{field}"
        );
        assert!(
            message.contains("expected \"instrument\" or \"score\""),
            "{message}"
        );
        for outside in [-1, max + 1] {
            let (field, message) = at(outside).expect_err("out of range");
            assert!(
                field.starts_with("body.RecordOutcomeMeasure.measure"),
                "{field}"
            );
            assert!(message.contains(&format!("got {outside}")), "{message}");
        }
    }
}

/// docs/domain.md's table of commands names every field of every command
/// as the server parses it: `name` when required, `name?` when optional.
#[test]
fn docs_domain_md_names_every_field_as_the_server_parses_it() {
    let path = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("../../docs/domain.md");
    let text = std::fs::read_to_string(path).expect("docs/domain.md");
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "## Commands and the events they append")
        .take_while(|l| !l.starts_with("### "))
        .filter(|l| l.starts_with("| "))
        .collect();
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    for (name, _) in body_variants(schemas, "CommandBody") {
        let row = rows
            .iter()
            .find(|r| r.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("docs/domain.md has no row for {name}"));
        let reference = body_schema(schemas, "CommandBody", &name);
        let schema = resolve(schemas, &reference);
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for field in schema["properties"].as_object().expect("fields").keys() {
            let written = if required.contains(&field.as_str()) {
                format!("`{field}`")
            } else {
                format!("`{field}?`")
            };
            assert!(
                row.contains(&written),
                "{name}: {written} missing in docs/domain.md"
            );
        }
        let optional: Vec<&str> = row
            .split('`')
            .filter_map(|token| token.strip_suffix('?'))
            .collect();
        for field in optional {
            assert!(
                schema["properties"].get(field).is_some() && !required.contains(&field),
                "{name}: docs/domain.md says `{field}?`"
            );
        }
    }
}

/// The request as it was parsed before the wire types: the domain's
/// types whole. The API must refuse what it refuses, first fault first.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct DomainRequest {
    id: kapchart_domain::CommandId,
    #[serde(default)]
    overrides: Vec<kapchart_domain::Override>,
    body: kapchart_domain::CommandBody,
}

#[test]
fn an_explorations_own_checks_are_met_where_the_domain_meets_them() {
    let exploration = examples()
        .into_iter()
        .find(|e| e.command == "RecordExploration")
        .expect("an example");
    // Discharged after the span: refused at the exploration, before the
    // request's missing id is noticed, by both parsers.
    let mut request = with(
        &exploration.request,
        "/body/RecordExploration/discharged_at",
        json!("2026-01-12T14:00:00Z"),
    );
    request.as_object_mut().expect("an object").remove("id");
    let text = request.to_string();
    let ours = match CommandRequest::parse(&text) {
        Err(ApiError::BadRequest { field, message }) => (field, message),
        other => panic!("{other:?}"),
    };
    let theirs = kapchart_domain::parse_json::<DomainRequest>(&text).expect_err("refused");
    assert_eq!(ours, (theirs.field, theirs.message));
    assert_eq!(ours.0, "body.RecordExploration");
    assert!(
        ours.1.contains("discharged_at must lie within span"),
        "{}",
        ours.1
    );
}

/// The phone and EIN patterns of the document take exactly what the
/// domain's parsers take (written without surrounding spaces), so a body
/// a client's validator passes is not refused for them.
#[test]
fn phone_and_ein_patterns_are_the_parsers() {
    let doc = document();
    let pattern = |name: &str| {
        let p = doc["components"]["schemas"][name]["pattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has a pattern"));
        regex::Regex::new(p).expect("a pattern regex reads")
    };
    let phone = pattern("Phone");
    let mut phones = vec![
        "2125550123",
        "12125550123",
        "+1 (212) 555-0123",
        "212.555.0123",
        "(212)555-0123",
        "1-212-555-0123",
        "+1+2+1+2+5+5+5+0+1+2+3",
        "0",
        "",
        "1125550123",
        "2121550123",
        "212555012",
        "212555012345",
        "22125550123",
        "212-555-0123x",
        "+ ()",
    ];
    let generated: Vec<String> = (0..200u64)
        .map(|i| {
            let digits = format!("{:011}", i.wrapping_mul(7_919_113_267) % 100_000_000_000);
            let cut = (i % 11) as usize;
            format!("{} {}", &digits[..cut], &digits[cut..])
        })
        .collect();
    phones.extend(generated.iter().map(String::as_str));
    for raw in phones {
        assert_eq!(
            phone.is_match(raw),
            kapchart_domain::PhoneNumber::parse(raw).is_ok(),
            "phone {raw:?}"
        );
    }
    let ein = pattern("EinNumber");
    for prefix in 0..100 {
        for raw in [
            format!("{prefix:02}-1234567"),
            format!("{prefix:02}1234567"),
            format!("{prefix:02}-123456"),
            format!("{prefix:02}--1234567"),
        ] {
            assert_eq!(
                ein.is_match(&raw),
                kapchart_domain::Ein::parse(&raw).is_ok(),
                "EIN {raw:?}"
            );
        }
    }
}
