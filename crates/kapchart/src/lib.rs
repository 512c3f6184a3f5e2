//! The `kapchart` command-line program.
//!
//! `main.rs` only parses arguments, sets up logging and maps the result of
//! [`run`] to an exit status; everything else lives here so it can be tested
//! and grown one subcommand at a time (see [`commands`]).

pub mod backup;
pub mod checkpoint_status;
pub mod cli;
pub mod commands;
pub mod database_url;
pub mod error;
pub mod exit;
pub mod keys;
pub mod local_user;
pub mod logging;
pub mod practice;
pub mod report;
pub mod reports;
pub mod serve;

pub use cli::{Cli, Command, PracticeAction, UserCommand};
pub use error::CommandError;

/// Runs the parsed command line.
///
/// # Errors
///
/// Returns the subcommand's [`CommandError`]; its
/// [`exit_code`](CommandError::exit_code) is the process exit status.
pub fn run(cli: Cli) -> commands::CommandResult {
    let Cli { global, command } = cli;
    tracing::debug!(
        command = command.name(),
        database = %global.database_url,
        "dispatching subcommand"
    );
    match &command {
        Command::Serve(args) => serve::serve(&global, args),
        Command::Migrate => commands::migrate(&global),
        Command::Verify(args) => commands::verify(&global, args),
        Command::Checkpoint(args) => commands::checkpoint(&global, args),
        Command::Export(args) => commands::export(&global, args),
        Command::Report(args) => reports::report(&global, args),
        Command::Rebuild(args) => commands::rebuild(&global, args),
        Command::Backup(args) => backup::backup(&global, args),
        Command::Restore(args) => backup::restore(&global, args),
        Command::Demo(args) => commands::demo(&global, args),
        Command::User(UserCommand::Add(args)) => commands::user_add(&global, args),
        Command::User(UserCommand::List) => commands::user_list(&global),
        Command::User(UserCommand::Token(args)) => commands::user_token(&global, args),
        Command::User(UserCommand::Disable(args)) => commands::user_disable(&global, args),
        Command::User(UserCommand::Reset(args)) => commands::user_reset(&global, args),
        Command::Practice(PracticeAction::Show) => practice::show(&global),
        Command::Practice(PracticeAction::History) => practice::history(&global),
        Command::Practice(PracticeAction::Change(args)) => practice::change(&global, args),
    }
}
