//! Exit statuses of the `kapchart` binary.
//!
//! The values follow BSD `sysexits.h` where one fits; 2 is what clap uses
//! for usage errors. [`EXIT_STATUS_HELP`] documents them in `--help`; a unit
//! test keeps the two in step.

/// The command did what was asked.
pub const EX_OK: u8 = 0;

/// The command ran and failed (generic failure).
pub const EX_FAILURE: u8 = 1;

/// Usage error: unknown subcommand, unknown flag, or a bad flag value
/// (including an unsupported `--database-url`). Produced by clap.
pub const EX_USAGE: u8 = 2;

/// The "Exit status" section shown at the end of `--help`.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0   success
  1   the command ran and failed; for verify: the record is not intact
  2   usage error (unknown subcommand, bad flag or value, unreadable input
      file) or the database cannot be reached

Logs go to stderr (default level warn; -v info, -vv debug, -vvv trace; \
RUST_LOG is honoured when -v is not given). Data goes to stdout.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_text_documents_every_exit_status() {
        for code in [EX_OK, EX_FAILURE, EX_USAGE] {
            let line = format!("\n  {code:<4}");
            assert!(
                EXIT_STATUS_HELP.contains(&line),
                "exit status {code} is not documented in EXIT_STATUS_HELP"
            );
        }
    }
}
