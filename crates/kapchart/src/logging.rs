//! Tracing setup: logs go to stderr, never stdout (stdout carries data).
//!
//! Level: `-v` info, `-vv` debug, `-vvv` trace. Without `-v`, `RUST_LOG` is
//! used when set; otherwise the level is warn.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// The filter used when neither `-v` nor `RUST_LOG` says otherwise.
pub const DEFAULT_FILTER: &str = "warn";

/// Where the log filter came from, so an unusable `RUST_LOG` can be reported
/// once logging works.
#[derive(Debug)]
pub struct FilterChoice {
    /// The filter to install.
    pub filter: EnvFilter,
    /// Set when `RUST_LOG` was given but could not be parsed.
    pub rejected_rust_log: Option<String>,
}

/// Chooses the log filter from the `-v` count and the value of `RUST_LOG`.
#[must_use]
pub fn choose_filter(verbose: u8, rust_log: Option<&str>) -> FilterChoice {
    let level = match verbose {
        0 => None,
        1 => Some("info"),
        2 => Some("debug"),
        _ => Some("trace"),
    };
    if let Some(level) = level {
        return FilterChoice {
            filter: EnvFilter::new(level),
            rejected_rust_log: None,
        };
    }
    match rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        None => FilterChoice {
            filter: EnvFilter::new(DEFAULT_FILTER),
            rejected_rust_log: None,
        },
        Some(directives) => match EnvFilter::try_new(directives) {
            Ok(filter) => FilterChoice {
                filter,
                rejected_rust_log: None,
            },
            Err(err) => FilterChoice {
                filter: EnvFilter::new(DEFAULT_FILTER),
                rejected_rust_log: Some(err.to_string()),
            },
        },
    }
}

/// Installs the global tracing subscriber, writing to stderr.
///
/// Does nothing if a subscriber is already installed.
pub fn init(verbose: u8) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let choice = choose_filter(verbose, rust_log.as_deref());
    let installed = tracing_subscriber::fmt()
        .with_env_filter(choice.filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .is_ok();
    if installed && let Some(err) = choice.rejected_rust_log {
        tracing::warn!("ignoring RUST_LOG, which is not a valid filter: {err}");
    }
}

#[cfg(test)]
mod tests {
    use tracing::level_filters::LevelFilter;

    use super::*;

    fn max_level(verbose: u8, rust_log: Option<&str>) -> Option<LevelFilter> {
        choose_filter(verbose, rust_log).filter.max_level_hint()
    }

    #[test]
    fn default_is_warn() {
        assert_eq!(max_level(0, None), Some(LevelFilter::WARN));
        assert_eq!(max_level(0, Some("  ")), Some(LevelFilter::WARN));
    }

    #[test]
    fn verbose_count_raises_the_level_and_beats_rust_log() {
        assert_eq!(max_level(1, None), Some(LevelFilter::INFO));
        assert_eq!(max_level(2, Some("error")), Some(LevelFilter::DEBUG));
        assert_eq!(max_level(3, None), Some(LevelFilter::TRACE));
        assert_eq!(max_level(9, None), Some(LevelFilter::TRACE));
    }

    #[test]
    fn rust_log_is_honoured_without_verbose() {
        assert_eq!(max_level(0, Some("debug")), Some(LevelFilter::DEBUG));
        assert_eq!(max_level(0, Some("error")), Some(LevelFilter::ERROR));
    }

    #[test]
    fn invalid_rust_log_falls_back_to_warn_and_is_reported() {
        let choice = choose_filter(0, Some("kapchart=notalevel"));
        assert_eq!(choice.filter.max_level_hint(), Some(LevelFilter::WARN));
        assert!(choice.rejected_rust_log.is_some());
    }
}
