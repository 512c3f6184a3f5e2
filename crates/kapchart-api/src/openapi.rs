//! The OpenAPI document, generated from the handlers and types by utoipa.
//! `tests/openapi.rs` keeps docs/openapi.json equal to it.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::command_schema::OneCommand;
use crate::{admin, audit_api, commands, error, fhir, health, practice, reads};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kapchart",
        description = "The clinical record of a Ketamine-Assisted Psychotherapy practice: commands to each client's hash-chained record, and role-checked reads, each written to the access log."
    ),
    paths(
        commands::post_command,
        reads::chart,
        reads::history,
        reads::billing,
        reads::superbill,
        reads::schedule,
        reads::report,
        reads::verification,
        practice::get_practice,
        practice::get_history,
        practice::post_command,
        audit_api::checkpoints,
        audit_api::bundle,
        fhir::fhir,
        audit_api::access_log,
        admin::list,
        admin::add,
        admin::disable,
        admin::enable,
        admin::reset,
        health::healthz,
        health::readyz,
    ),
    components(schemas(
        crate::command_schema::CommandRequest,
        commands::CommandReply,
        commands::WrittenEvent,
        reads::Purpose,
        reads::ReportName,
        reads::ViewRow,
        reads::ClientRows,
        reads::History,
        reads::ReportReply,
        reads::Verification,
        reads::AccessLogStatus,
        crate::command_schema::practice::PracticeCommandRequest,
        practice::PracticeReply,
        practice::PracticeHistoryEntry,
        audit_api::Checkpoints,
        audit_api::BundleReply,
        fhir::FhirBundleReply,
        audit_api::AccessLog,
        audit_api::AccessLogEntry,
        admin::UserSummary,
        admin::NewUser,
        admin::AddedUser,
        admin::SetupCodeReply,
        error::ErrorBody,
        error::ErrorDetail,
        health::Health,
        health::Readiness,
        health::Check,
    )),
    modifiers(&BearerAuth, &Unavailable, &OneCommand),
    tags(
        (name = "commands", description = "Commands to a client's record"),
        (name = "records", description = "Reads of one client's record (logged)"),
        (name = "reports", description = "Reports across clients (each client shown is logged)"),
        (name = "audit", description = "Integrity of the record"),
        (name = "practice", description = "The practice's settings as a history (changed by admins)"),
        (name = "admin", description = "Accounts, by admins (each change logged)"),
        (name = "health", description = "Probes for an orchestrator (no token, no client data)"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every operation under `/api/v1` (but the document itself) may be
/// answered 503 `unavailable` with `Retry-After` while the database does
/// not answer (docs/reliability.md).
struct Unavailable;

impl Modify for Unavailable {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

        let response = ResponseBuilder::new()
            .description(
                "The database does not answer (`unavailable`); try again after `Retry-After` seconds",
            )
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some("Seconds to wait before trying again"))
                    .build(),
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        for (path, item) in &mut openapi.paths.paths {
            if !path.starts_with("/api/v1/") || path == "/api/v1/openapi.json" {
                continue;
            }
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                operation
                    .responses
                    .responses
                    .entry("503".to_owned())
                    .or_insert_with(|| response.clone().into());
            }
        }
    }
}

/// A link: its name, the operation it leads to, what it is.
type Link = (&'static str, &'static str, &'static str);

/// Links from a response to the operations its ids lead to (OpenAPI link
/// objects): a command applied to a client leads to that client's next
/// command and reads; an account added, to its admin operations. A client
/// generated from the document, or schemathesis's stateful phase
/// (scripts/schemathesis.sh), follows them. Each is (route, status, the
/// `id` expression, [(link name, operationId, description)]).
const LINKS: &[(&str, &str, &str, &[Link])] = &[
    (
        "/api/v1/clients/{id}/commands",
        "200",
        "$request.path.id",
        &[
            (
                "next_command",
                "post_client_command",
                "the client's next command",
            ),
            ("chart", "chart", "the client's chart"),
            ("history", "history", "the client's history"),
            ("billing", "billing", "the client's billing"),
            ("superbill", "superbill", "the client's superbill"),
            ("bundle", "bundle", "the client's verifiable bundle"),
            ("fhir", "fhir", "the client's FHIR export"),
        ],
    ),
    (
        "/api/v1/users",
        "201",
        "$response.body#/user/user_id",
        &[
            ("disable", "disable", "disable the account"),
            ("enable", "enable", "enable the account"),
            ("reset", "reset", "a new setup code for the account"),
        ],
    ),
];

/// Adds [`LINKS`] to the document. Written into the JSON, not through
/// utoipa's `Link`, which (utoipa 5.5) serializes `operationId` as
/// `operation_id`, a name OpenAPI does not know.
fn add_links(doc: &mut serde_json::Value) {
    for (route, status, id, links) in LINKS {
        let response = &mut doc["paths"][*route]["post"]["responses"][*status];
        if !response.is_object() {
            continue;
        }
        for (name, operation, description) in *links {
            response["links"][*name] = serde_json::json!({
                "operationId": operation,
                "parameters": {"id": id},
                "description": format!("{description}: `id` is {id}"),
            });
        }
    }
}

/// The document as a JSON value.
pub fn document_json() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(serde_json::Value::Null);
    add_links(&mut doc);
    doc
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<serde_json::Value> {
    Json(document_json())
}
