//! The `--database-url` value: which store to use, checked at parse time.
//!
//! Accepted forms:
//! - `sqlite:PATH`, `sqlite://PATH`, `sqlite::memory:` (the embedded default)
//! - `postgres://...` and `postgresql://...`
//!
//! A URL may carry a password. Nothing in this module ever prints one: the
//! `Debug` and `Display` forms are redacted, and parse errors name at most the
//! scheme, never the rest of the value.

use std::ffi::OsStr;
use std::fmt;
use std::str::FromStr;

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;

/// What replaces a password in anything that is shown.
const REDACTED: &str = "***";

/// The kind of store a [`DatabaseUrl`] points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseKind {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL, the production store.
    Postgres,
}

/// A database URL whose scheme has been checked.
///
/// [`DatabaseUrl::as_str`] gives the full URL (with any password) for
/// connecting; `Display` and `Debug` give a redacted form safe to log.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    kind: DatabaseKind,
}

impl DatabaseUrl {
    /// Parses and checks a database URL.
    ///
    /// # Errors
    ///
    /// Returns a [`DatabaseUrlError`] if the scheme is missing or unsupported
    /// or the URL names no database. The error never contains the URL.
    pub fn parse(url: &str) -> Result<Self, DatabaseUrlError> {
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(DatabaseUrlError::MissingScheme);
        };
        if !is_scheme(scheme) {
            return Err(DatabaseUrlError::MissingScheme);
        }
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                let path = path.split(['?', '#']).next().unwrap_or_default();
                if path.is_empty() {
                    return Err(DatabaseUrlError::MissingSqlitePath);
                }
                DatabaseKind::Sqlite
            }
            "postgres" | "postgresql" => {
                if !rest.starts_with("//") {
                    return Err(DatabaseUrlError::PostgresWithoutSlashes);
                }
                DatabaseKind::Postgres
            }
            _ => return Err(DatabaseUrlError::UnsupportedScheme(scheme.to_owned())),
        };
        Ok(Self {
            url: url.to_owned(),
            kind,
        })
    }

    /// The kind of store this URL points at.
    #[must_use]
    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// The full URL, including any password. Use it to connect; never log it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The URL with any password replaced by `***`, safe to show.
    #[must_use]
    pub fn redacted(&self) -> String {
        redact_url(&self.url)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseUrl")
            .field("url", &self.redacted())
            .field("kind", &self.kind)
            .finish()
    }
}

impl FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why a database URL was refused. Its message never contains the URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrlError {
    /// The value does not start with `SCHEME:`.
    MissingScheme,
    /// The scheme is well-formed but not one kapchart supports.
    UnsupportedScheme(String),
    /// `sqlite:` with no database path.
    MissingSqlitePath,
    /// `postgres:` or `postgresql:` not followed by `//`.
    PostgresWithoutSlashes,
}

impl fmt::Display for DatabaseUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingScheme => f.write_str("the URL has no scheme; expected ")?,
            Self::UnsupportedScheme(scheme) => {
                write!(f, "unsupported scheme '{scheme}'; expected ")?;
            }
            Self::MissingSqlitePath => {
                return f.write_str(
                    "the sqlite URL names no database file \
                     (e.g. sqlite://kapchart.db or sqlite::memory:)",
                );
            }
            Self::PostgresWithoutSlashes => {
                return f
                    .write_str("a PostgreSQL URL must start with postgres:// or postgresql://");
            }
        }
        f.write_str("sqlite:PATH, sqlite://PATH, postgres://... or postgresql://...")
    }
}

impl std::error::Error for DatabaseUrlError {}

/// The clap value parser for `--database-url`.
///
/// Unlike a plain `FromStr` parser, its errors do not echo the rejected value,
/// which may hold a password.
#[derive(Clone, Copy, Debug, Default)]
pub struct DatabaseUrlParser;

impl TypedValueParser for DatabaseUrlParser {
    type Value = DatabaseUrl;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let arg_name = arg.map_or_else(|| "--database-url <URL>".to_owned(), ToString::to_string);
        let reason = match value.to_str() {
            None => "the value is not valid UTF-8".to_owned(),
            Some(url) => match DatabaseUrl::parse(url) {
                Ok(parsed) => return Ok(parsed),
                Err(err) => err.to_string(),
            },
        };
        let mut cmd = cmd.clone();
        Err(cmd.error(
            ErrorKind::ValueValidation,
            format!("invalid value for '{arg_name}': {reason}"),
        ))
    }
}

/// RFC 3986: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`, kept short so an
/// error message never repeats a long token.
fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && s.len() <= 32
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Redacts the password of one URL: the userinfo after its first `:` and a
/// `password=` query parameter. Errs toward hiding: everything between the
/// first `:` after `//` and the last `@` before the query is replaced.
fn redact_url(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return redact_query(url);
    };
    let (head, rest) = url.split_at(start);
    let (before_query, query) = match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match before_query.rfind('@') {
        Some(at) => {
            let (userinfo, host_and_path) = before_query.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _password)) => format!("{user}:{REDACTED}{host_and_path}"),
                None => before_query.to_owned(),
            }
        }
        None => before_query.to_owned(),
    };
    format!("{head}{authority}{}", redact_query(query))
}

/// Replaces the value of every `password=` parameter in a query string.
fn redact_query(s: &str) -> String {
    let Some(q) = s.find('?') else {
        return s.to_owned();
    };
    let (path, query) = s.split_at(q + 1);
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                format!("{key}={REDACTED}")
            }
            _ => param.to_owned(),
        })
        .collect();
    format!("{path}{}", params.join("&"))
}

/// Redacts passwords of any URLs inside free text, e.g. a clap usage error
/// that repeats a mistyped argument. A URL token runs from its scheme to the
/// next whitespace or quote.
#[must_use]
pub fn redact_urls_in_text(text: &str) -> String {
    let is_boundary = |c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '`' | '<' | '>');
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    for c in text.chars() {
        if is_boundary(c) {
            out.push_str(&redact_token(&token));
            token.clear();
            out.push(c);
        } else {
            token.push(c);
        }
    }
    out.push_str(&redact_token(&token));
    out
}

fn redact_token(token: &str) -> String {
    if token.contains("://") || token.contains('?') {
        redact_url(token)
    } else {
        token.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_supported_schemes() {
        let cases = [
            ("sqlite://kapchart.db", DatabaseKind::Sqlite),
            ("sqlite:kapchart.db", DatabaseKind::Sqlite),
            ("sqlite::memory:", DatabaseKind::Sqlite),
            (
                "sqlite:///var/lib/kapchart/kapchart.db",
                DatabaseKind::Sqlite,
            ),
            ("SQLite://kapchart.db", DatabaseKind::Sqlite),
            (
                "postgres://kapchart@localhost/kapchart",
                DatabaseKind::Postgres,
            ),
            (
                "postgresql://u:p@db.example:5432/kapchart",
                DatabaseKind::Postgres,
            ),
            ("postgres://", DatabaseKind::Postgres),
        ];
        for (url, kind) in cases {
            let parsed = DatabaseUrl::parse(url).expect(url);
            assert_eq!(parsed.kind(), kind, "{url}");
            assert_eq!(parsed.as_str(), url);
        }
    }

    #[test]
    fn refuses_other_schemes_and_malformed_urls() {
        let cases = [
            (
                "mysql://x",
                DatabaseUrlError::UnsupportedScheme("mysql".into()),
            ),
            (
                "postgress://u:secret@h/db",
                DatabaseUrlError::UnsupportedScheme("postgress".into()),
            ),
            ("kapchart.db", DatabaseUrlError::MissingScheme),
            ("", DatabaseUrlError::MissingScheme),
            ("//u:secret@h/db", DatabaseUrlError::MissingScheme),
            ("1db:x", DatabaseUrlError::MissingScheme),
            ("sqlite:", DatabaseUrlError::MissingSqlitePath),
            ("sqlite://", DatabaseUrlError::MissingSqlitePath),
            ("sqlite://?mode=rwc", DatabaseUrlError::MissingSqlitePath),
            (
                "postgres:u:secret@h/db",
                DatabaseUrlError::PostgresWithoutSlashes,
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(DatabaseUrl::parse(url), Err(expected), "{url:?}");
        }
    }

    #[test]
    fn errors_never_contain_the_password() {
        for url in [
            "postgress://u:secret@h/db",
            "mysql://u:secret@h/db",
            "postgres:u:secret@h/db",
            "secret",
            "u:secret@h/db",
        ] {
            let err = DatabaseUrl::parse(url).expect_err(url).to_string();
            assert!(!err.contains("secret"), "{url:?} -> {err}");
        }
    }

    #[test]
    fn display_and_debug_hide_the_password() {
        let url =
            DatabaseUrl::parse("postgres://u:secret@h:5432/db?sslmode=require").expect("valid URL");
        assert_eq!(
            url.to_string(),
            "postgres://u:***@h:5432/db?sslmode=require"
        );
        let debug = format!("{url:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(debug.contains("postgres://u:***@h:5432/db"), "{debug}");
        assert!(url.as_str().contains("secret"));
    }

    #[test]
    fn redaction_covers_awkward_passwords_and_query_parameters() {
        let cases = [
            ("postgres://u:p@ss/w@h/db", "postgres://u:***@h/db"),
            (
                "postgres://h/db?user=u&password=secret",
                "postgres://h/db?user=u&password=***",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("sqlite://kapchart.db", "sqlite://kapchart.db"),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_url(url), expected, "{url}");
        }
    }

    #[test]
    fn redacts_urls_inside_free_text() {
        let text = "error: unexpected argument 'postgres://u:secret@h/db' found\n\
                    tip: also mysql://root:hunter2@x and x?password=pw";
        let redacted = redact_urls_in_text(text);
        for secret in ["secret", "hunter2", "=pw"] {
            assert!(!redacted.contains(secret), "{redacted}");
        }
        assert!(
            redacted.contains("'postgres://u:***@h/db' found\n"),
            "{redacted}"
        );
        assert_eq!(redact_urls_in_text("no urls here"), "no urls here");
    }
}
