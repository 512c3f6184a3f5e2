//! The error a subcommand returns, carrying the process exit status.

use std::fmt;

use crate::exit::{EX_FAILURE, EX_USAGE};

/// Why a subcommand did not succeed. `main` prints it as one line on stderr,
/// prefixed with `kapchart: `, and exits with [`CommandError::exit_code`].
#[derive(Debug)]
pub enum CommandError {
    /// The subcommand ran and failed, or found the record not intact
    /// (exit status [`EX_FAILURE`]).
    Failed(anyhow::Error),
    /// The command could not run: bad input it was given, or the database
    /// could not be reached (exit status [`EX_USAGE`]). The message names
    /// what is wrong and never holds a password.
    Usage(String),
}

impl CommandError {
    /// The process exit status for this error.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Failed(_) => EX_FAILURE,
            Self::Usage(_) => EX_USAGE,
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(err) => write!(f, "{err:#}"),
            Self::Usage(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for CommandError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Usage(_) => None,
            Self::Failed(err) => Some(err.as_ref()),
        }
    }
}

impl From<anyhow::Error> for CommandError {
    fn from(err: anyhow::Error) -> Self {
        Self::Failed(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_show_the_whole_cause_chain_and_exit_1() {
        let err = CommandError::from(anyhow::anyhow!("disk full").context("writing export"));
        assert_eq!(err.exit_code(), 1);
        assert_eq!(err.to_string(), "writing export: disk full");
    }
}
