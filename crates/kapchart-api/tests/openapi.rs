//! docs/openapi.json is the document the code generates, and
//! docs/commands.md the commands' page written from it: these tests fail
//! when they differ. After changing the API, regenerate both with
//! `KAPCHART_UPDATE_OPENAPI=1 cargo test -p kapchart-api --test openapi`
//! and review the diff.

use std::path::PathBuf;

fn committed() -> PathBuf {
    crate_dir().join("../../docs/openapi.json")
}

/// This crate's folder, as cargo names it when it runs the tests: a path
/// compiled in would name wherever the test binary was built, e.g. the
/// fresh clone `.ci/run` builds in this checkout's target directory.
fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

#[test]
fn docs_openapi_json_is_the_generated_document() {
    let generated = kapchart_api::openapi::document_json();
    let mut text = serde_json::to_string_pretty(&generated).expect("serializes");
    text.push('\n');
    let path = committed();
    if std::env::var_os("KAPCHART_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &text).expect("docs/openapi.json written");
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "docs/openapi.json differs from the document the code generates; run \
         KAPCHART_UPDATE_OPENAPI=1 cargo test -p kapchart-api --test openapi"
    );
}

#[test]
fn docs_commands_md_is_the_generated_page() {
    let text = kapchart_api::command_schema::markdown::document();
    let path = crate_dir().join("../../docs/commands.md");
    if std::env::var_os("KAPCHART_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &text).expect("docs/commands.md written");
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "docs/commands.md differs from the page the code writes; run \
         KAPCHART_UPDATE_OPENAPI=1 cargo test -p kapchart-api --test openapi"
    );
}

#[test]
fn every_route_is_documented_with_its_errors() {
    let doc = kapchart_api::openapi::document_json();
    let paths = doc["paths"].as_object().expect("paths");
    for route in [
        "/api/v1/clients/{id}/commands",
        "/api/v1/clients/{id}/chart",
        "/api/v1/clients/{id}/history",
        "/api/v1/clients/{id}/billing",
        "/api/v1/clients/{id}/superbill",
        "/api/v1/schedule",
        "/api/v1/reports/{name}",
        "/api/v1/verification",
        "/api/v1/checkpoints",
        "/api/v1/clients/{id}/bundle",
        "/api/v1/access-log",
    ] {
        let operations = paths[route]
            .as_object()
            .unwrap_or_else(|| panic!("{route}"));
        for (method, operation) in operations {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.contains_key("401"), "{method} {route}: 401");
            assert!(
                operation["security"].is_array(),
                "{method} {route}: bearer security"
            );
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

/// Operation ids are unique (OpenAPI requires it), and every link names
/// an operation of the document and only parameters that operation takes,
/// so a client (or schemathesis's stateful phase) can follow it.
#[test]
fn operation_ids_are_unique_and_links_lead_to_real_operations() {
    let doc = kapchart_api::openapi::document_json();
    let mut operations = std::collections::BTreeMap::new();
    for (route, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {route}: an operationId"));
            let earlier = operations.insert(id.to_owned(), operation.clone());
            assert!(earlier.is_none(), "operationId {id} is used twice");
        }
    }
    let mut links = 0;
    for (route, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let responses = operation["responses"].as_object().expect("responses");
            for (status, response) in responses {
                let Some(found) = response["links"].as_object() else {
                    continue;
                };
                for (name, link) in found {
                    let target = link["operationId"].as_str().unwrap_or_default();
                    let to = operations.get(target).unwrap_or_else(|| {
                        panic!("{method} {route} {status} link {name}: {target}")
                    });
                    let takes: Vec<&str> = to["parameters"]
                        .as_array()
                        .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
                        .unwrap_or_default();
                    for parameter in link["parameters"].as_object().expect("parameters").keys() {
                        assert!(
                            takes.contains(&parameter.as_str()),
                            "{method} {route} {status} link {name}: {target} takes no {parameter}"
                        );
                    }
                    links += 1;
                }
            }
        }
    }
    // The client command's reply leads to the client's next command and
    // reads; an added account to its admin operations.
    assert_eq!(links, 10);
    let next = &doc["paths"]["/api/v1/clients/{id}/commands"]["post"]["responses"]["200"]["links"]
        ["next_command"];
    assert_eq!(next["operationId"], "post_client_command");
    assert_eq!(next["parameters"]["id"], "$request.path.id");
}
