//! One handler per subcommand. Each is a stub until it is implemented: it
//! returns [`CommandError::NotAvailable`] without touching the database.
//!
//! To implement a subcommand, replace the body of its handler; `run` in
//! `lib.rs` needs no change unless the arguments change shape.

use crate::cli::{
    CheckpointArgs, DemoArgs, ExportArgs, GlobalArgs, ReportArgs, ServeArgs, UserAddArgs,
    UserNameArg, VerifyArgs,
};
use crate::error::CommandError;

/// What every handler returns.
pub type CommandResult = Result<(), CommandError>;

fn not_available(command: &'static str) -> CommandResult {
    Err(CommandError::NotAvailable { command })
}

/// `kapchart serve`.
pub fn serve(_global: &GlobalArgs, _args: &ServeArgs) -> CommandResult {
    not_available("serve")
}

/// `kapchart migrate`.
pub fn migrate(_global: &GlobalArgs) -> CommandResult {
    not_available("migrate")
}

/// `kapchart verify`.
pub fn verify(_global: &GlobalArgs, _args: &VerifyArgs) -> CommandResult {
    not_available("verify")
}

/// `kapchart checkpoint`.
pub fn checkpoint(_global: &GlobalArgs, _args: &CheckpointArgs) -> CommandResult {
    not_available("checkpoint")
}

/// `kapchart export`.
pub fn export(_global: &GlobalArgs, _args: &ExportArgs) -> CommandResult {
    not_available("export")
}

/// `kapchart report`.
pub fn report(_global: &GlobalArgs, _args: &ReportArgs) -> CommandResult {
    not_available("report")
}

/// `kapchart rebuild`.
pub fn rebuild(_global: &GlobalArgs) -> CommandResult {
    not_available("rebuild")
}

/// `kapchart demo`.
pub fn demo(_global: &GlobalArgs, _args: &DemoArgs) -> CommandResult {
    not_available("demo")
}

/// `kapchart user add`.
pub fn user_add(_global: &GlobalArgs, _args: &UserAddArgs) -> CommandResult {
    not_available("user add")
}

/// `kapchart user list`.
pub fn user_list(_global: &GlobalArgs) -> CommandResult {
    not_available("user list")
}

/// `kapchart user token`.
pub fn user_token(_global: &GlobalArgs, _args: &UserNameArg) -> CommandResult {
    not_available("user token")
}

/// `kapchart user disable`.
pub fn user_disable(_global: &GlobalArgs, _args: &UserNameArg) -> CommandResult {
    not_available("user disable")
}
