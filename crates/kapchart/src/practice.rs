//! `kapchart practice`: the practice's settings record from the command
//! line, through the same services as the API's `/api/v1/practice` (one
//! set of rules, one reply shape).

use std::io::Read as _;
use std::sync::Arc;

use anyhow::Context as _;
use kapchart_api::{ApiError, AppState, Caller, PracticeCommandRequest};
use kapchart_domain::Role;
use kapchart_projector::Projector;

use crate::cli::{GlobalArgs, PracticeChangeArgs};
use crate::commands::{CommandResult, open, runtime};
use crate::error::CommandError;

/// The API's services over the database of `global`.
async fn services(global: &GlobalArgs) -> Result<AppState, CommandError> {
    let db = open(global).await?;
    let projector = Projector::new(db.clone());
    Ok(AppState::new(db, projector, Arc::new(chrono::Utc::now)))
}

/// A refusal or a bad field is the input's fault (exit 2); anything else
/// is a failure (exit 1).
fn api_error(e: ApiError) -> CommandError {
    match e {
        ApiError::Internal => CommandError::Failed(anyhow::anyhow!(
            "the practice's record could not be read or written (see the log)"
        )),
        ApiError::Refused { rule, message } => CommandError::Usage(format!("{rule}: {message}")),
        other => CommandError::Usage(other.to_string()),
    }
}

fn print_json(value: &impl serde::Serialize) -> CommandResult {
    let text = serde_json::to_string_pretty(value).context("writing JSON")?;
    println!("{text}");
    Ok(())
}

/// `kapchart practice show`: the settings with every version, as JSON.
pub fn show(global: &GlobalArgs) -> CommandResult {
    runtime()?.block_on(async {
        let state = services(global).await?;
        let reply = state.read_practice().await;
        state.db().close().await;
        print_json(&reply.map_err(api_error)?)
    })
}

/// `kapchart practice history`: the record's entries with their hashes.
pub fn history(global: &GlobalArgs) -> CommandResult {
    let actor = crate::local_user::actor()?;
    runtime()?.block_on(async {
        let state = services(global).await?;
        let caller = Caller {
            user_id: actor.user_id,
            role: Role::Admin,
        };
        let reply = state.read_practice_history(&caller).await;
        state.db().close().await;
        print_json(&reply.map_err(api_error)?)
    })
}

/// `kapchart practice change`: one change, as the operating-system user
/// running kapchart (`local-NAME`, an admin: whoever runs it has the
/// database itself).
pub fn change(global: &GlobalArgs, args: &PracticeChangeArgs) -> CommandResult {
    let text = if args.file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CommandError::Usage(format!("reading the change from stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(&args.file)
            .map_err(|e| CommandError::Usage(format!("reading {}: {e}", args.file.display())))?
    };
    let request = PracticeCommandRequest::parse(&text).map_err(api_error)?;
    let actor = crate::local_user::actor()?;
    runtime()?.block_on(async {
        let state = services(global).await?;
        let caller = Caller {
            user_id: actor.user_id,
            role: Role::Admin,
        };
        let reply = state.execute_practice(&caller, request).await;
        state.db().close().await;
        print_json(&reply.map_err(api_error)?)
    })
}
