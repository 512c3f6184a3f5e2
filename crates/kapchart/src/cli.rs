//! Command-line definitions (clap derive). The `--help` text is generated
//! from the doc comments here.

use std::io::IsTerminal as _;

use chrono::NaiveDate;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use kapchart_domain::{Role, UserId};
use kapchart_store::access::AccessSort;

use crate::database_url::{DatabaseUrl, DatabaseUrlParser, redact_urls_in_text};
use crate::exit::EXIT_STATUS_HELP;

/// Database used when neither `--database-url` nor `DATABASE_URL` is given.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://kapchart.db";

/// Signing key file used when neither `--key-file` nor `KAPCHART_KEY_FILE` is given.
pub const DEFAULT_KEY_FILE: &str = "kapchart-signing.key";

/// Address `kapchart serve` listens on by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// kapchart: the clinical record of a Ketamine-Assisted Psychotherapy practice.
///
/// Every clinical fact is an immutable event in a per-client, hash-chained
/// history; schedules, billing and compliance reports are projections of it.
#[derive(Debug, Parser)]
#[command(name = "kapchart", version, propagate_version = true, after_help = EXIT_STATUS_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after any subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Database to use: sqlite:PATH, sqlite://PATH, postgres://... or
    /// postgresql://...
    ///
    /// A password in the URL is never printed.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        hide_env_values = true,
        value_name = "URL",
        default_value = DEFAULT_DATABASE_URL,
        value_parser = DatabaseUrlParser,
    )]
    pub database_url: DatabaseUrl,

    /// File holding the Ed25519 key that signs checkpoints (64 hex digits),
    /// kept outside the database. Created on first use by `checkpoint` and
    /// `export`; `verify` trusts its public key.
    #[arg(
        long,
        global = true,
        env = "KAPCHART_KEY_FILE",
        value_name = "PATH",
        default_value = DEFAULT_KEY_FILE,
    )]
    pub key_file: PathBuf,

    /// More log output on stderr: -v info, -vv debug, -vvv trace.
    ///
    /// Without -v the level comes from RUST_LOG, or is warn.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API.
    ///
    /// Serves the JSON API under /api/v1 (docs/api.md) that therapists,
    /// prescribers, front desk, auditors and admins work through, and keeps
    /// the views current beside it. Every read of a client's record is
    /// written to the access log. The first start on a database with no
    /// accounts creates `admin` and prints its token once on stdout.
    Serve(ServeArgs),

    /// Apply the database schema (idempotent).
    ///
    /// Creates or upgrades the event store, the projections and the access
    /// log in the database named by --database-url.
    Migrate,

    /// Verify the integrity of the record.
    ///
    /// Recomputes every client's SHA-256 hash chain and reports, with its
    /// aggregate and sequence, any changed, deleted, inserted, reordered or
    /// renumbered event. Against a checkpoint it also detects truncated tails,
    /// removed clients, rollbacks and bad signatures. With --bundle it checks
    /// one exported client record offline, with no database.
    Verify(VerifyArgs),

    /// Sign a checkpoint of every client's chain head.
    ///
    /// Builds the RFC 6962 Merkle tree over the chain heads and signs the
    /// checkpoint statement with the practice's Ed25519 key. With
    /// --public-key it only prints the public key.
    Checkpoint(CheckpointArgs),

    /// Export one client's record.
    ///
    /// A bundle holds the client's hash-chained entries, a signed checkpoint
    /// and the inclusion proof, enough to verify the record with no other
    /// client's data. A new checkpoint is taken first when the latest one
    /// does not hold the client's current head. --format fhir gives the
    /// record as a FHIR R4 Bundle instead (docs/fhir.md). The export is
    /// written to the access log first; --output files are readable by
    /// their owner only (0600).
    Export(ExportArgs),

    /// Run a report for a date range.
    ///
    /// Reports are read from the views, caught up with the event store
    /// first; the access report reads the access log. Every report but the
    /// access report is a read of each client it shows: written to the
    /// access log, as the operating-system user running kapchart, before
    /// it is shown.
    Report(ReportArgs),

    /// Rebuild the views from the event store, without downtime.
    ///
    /// New views are built from the first event beside the current ones,
    /// caught up, and switched in one transaction; reports read the current
    /// views until then.
    Rebuild(RebuildArgs),

    /// Back up the database into FILE, readable by its owner only (0600).
    ///
    /// SQLite: a consistent copy through SQLite's online backup API, also
    /// while `kapchart serve` runs. PostgreSQL: pg_dump's custom format
    /// (pg_dump from PATH or /usr/lib/postgresql/*/bin). The signing key
    /// file is not in it: keep a copy of it apart (docs/reliability.md).
    Backup(crate::backup::BackupArgs),

    /// Restore a backup into the database of --database-url, then verify
    /// it.
    ///
    /// Writes only into an empty database unless --force. Whether the
    /// backup was current or stale: `kapchart verify --checkpoint` with the
    /// latest checkpoint kept elsewhere says what is missing, by client.
    Restore(crate::backup::RestoreArgs),

    /// Fill the database with a realistic sample practice.
    ///
    /// Deterministic for a given --seed.
    Demo(DemoArgs),

    /// Manage user accounts and API tokens.
    ///
    /// Changes to users and their roles are written to the access log.
    #[command(subcommand)]
    User(UserCommand),

    /// The practice's settings: its identity, providers, policy and fee
    /// schedule versions, kept as a hash-chained record of their own.
    ///
    /// The same services as the API's /api/v1/practice (docs/api.md "The
    /// practice's settings"). Changes act as the operating-system user
    /// running kapchart (`local-NAME`, role admin).
    #[command(subcommand)]
    Practice(PracticeAction),
}

/// Arguments of `kapchart serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (IP:PORT).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// Sign a web session out after this many minutes without a request,
    /// until the practice adopts a policy of its own (its
    /// `idle_sign_out_minutes` then rules; docs/api.md "The practice's
    /// settings").
    #[arg(long, value_name = "MINUTES", default_value_t = 15, value_parser = clap::value_parser!(u16).range(1..=720))]
    pub idle_sign_out: u16,

    /// The practice's time zone (IANA name, e.g. America/Los_Angeles):
    /// the pages show dates and times in it until the practice's record
    /// sets its identity, whose time zone then rules.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub time_zone: chrono_tz::Tz,

    /// Mark session cookies Secure: set this when kapchart is reached over
    /// HTTPS (a proxy in front of it terminating TLS).
    #[arg(long)]
    pub secure_cookies: bool,
}

impl ServeArgs {
    /// How the pages are served.
    pub fn web_config(&self) -> kapchart_web::WebConfig {
        kapchart_web::WebConfig {
            idle_limit: chrono::Duration::minutes(i64::from(self.idle_sign_out)),
            secure_cookies: self.secure_cookies,
            time_zone: self.time_zone,
        }
    }
}

/// Arguments of `kapchart verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Verify only this client's chain.
    #[arg(long, value_name = "ID", conflicts_with = "bundle")]
    pub client: Option<String>,

    /// Also check the database against this checkpoint statement, kept
    /// elsewhere (detects truncation, removal and rollback), and say
    /// whether the database is current or behind it (a stale backup:
    /// what is missing, by client).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,

    /// Verify an exported client bundle offline instead of the database.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// Trust this Ed25519 public key (64 hex digits) for checkpoint
    /// signatures.
    #[arg(long, value_name = "HEX", value_parser = parse_public_key)]
    pub public_key: Option<String>,

    /// Print the findings as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `kapchart checkpoint`.
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// Print the checkpoint public key (hex) instead of signing a checkpoint.
    #[arg(long, conflicts_with_all = ["rotate_key", "list_keys"])]
    pub public_key: bool,

    /// Rotate the signing key instead of signing a checkpoint: a new key
    /// replaces the key file (0600), and its public key is published in
    /// the database beside the retired ones, signed by both, so every
    /// earlier checkpoint still verifies. Prints the published keys as
    /// JSON. The old secret key is gone afterwards.
    #[arg(long, conflicts_with = "list_keys")]
    pub rotate_key: bool,

    /// Print the published public keys (JSON: each with the time it was
    /// in use) instead of signing a checkpoint.
    #[arg(long)]
    pub list_keys: bool,
}

/// Arguments of `kapchart export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The client whose record is exported.
    #[arg(long, value_name = "ID")]
    pub client: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Bundle)]
    pub format: ExportFormat,

    /// Write to this file instead of stdout, readable and writable by its
    /// owner only (mode 0600, also when it existed).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Why the record is exported, written to the access log with the
    /// export (e.g. audit, client_request, legal).
    #[arg(long, value_name = "TEXT", default_value = "audit")]
    pub purpose: String,
}

/// Formats of `kapchart export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Verifiable bundle: entries, signed checkpoint, public key, inclusion
    /// proof.
    Bundle,
    /// The client's entries as plain JSON.
    Json,
    /// The client's record as a FHIR R4 Bundle (docs/fhir.md): Patient,
    /// Practitioners with their NPIs, Encounters, the prescription, each
    /// dose, blood pressures and outcome measures, consent, a Provenance
    /// per event with its chain hash, and an AuditEvent per access-log
    /// entry about the client (this export's the last).
    Fhir,
}

/// Arguments of `kapchart report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Which report to run.
    #[arg(value_enum)]
    pub report: ReportName,

    /// First day included (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_iso_date)]
    pub from: Option<NaiveDate>,

    /// Last day included (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_iso_date)]
    pub to: Option<NaiveDate>,

    /// Only this client (a superbill is usually for one client).
    #[arg(long, value_name = "ID")]
    pub client: Option<String>,

    /// Output format. Column names are stable (docs/reports.md).
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Why the report is run, written to the access log with each client
    /// the report shows (default: operations; not for the access report).
    #[arg(long, value_name = "TEXT")]
    pub purpose: Option<String>,

    /// Order of the access report's lines (access only; default: time):
    /// time, client, user, role, action, category, source or purpose.
    #[arg(long, value_name = "FIELD", value_parser = PossibleValuesParser::new(AccessSort::NAMES).try_map(|s| s.parse::<AccessSort>()))]
    pub sort: Option<AccessSort>,
}

/// Reports of `kapchart report` (columns in docs/reports.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportName {
    /// Sessions per therapist and day, double-bookings flagged.
    Schedule,
    /// Charges at the fee in force on each session's date, payments and
    /// balance per client.
    Billing,
    /// Per client and period: services with CPT codes, amounts, payments.
    Superbill,
    /// Every ketamine administration: date, client, dose, route, lot,
    /// prescriber, monitoring clinician.
    ControlledSubstances,
    /// Protocol adherence: overrides, late integrations, short spacing,
    /// explorations beyond authorization.
    Protocol,
    /// Outcome measures: change from baseline per client and mean change
    /// per instrument.
    Outcomes,
    /// The access log: every read of a client's record and every account
    /// change, with time, client, user, role, action, categories of data,
    /// where from and purpose (--sort orders it by any of them).
    Access,
}

/// Output formats of `kapchart report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Aligned columns for a terminal.
    Table,
    /// CSV with one header row.
    Csv,
    /// A JSON array of objects keyed by column name.
    Json,
}

/// Arguments of `kapchart rebuild`.
#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Rebuild only this view (default: all): schedule, chart, billing or
    /// compliance.
    #[arg(long, value_name = "NAME", value_parser = PossibleValuesParser::new(["schedule", "chart", "billing", "compliance"]))]
    pub view: Option<String>,
}

/// Arguments of `kapchart demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of sample clients.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 40,
        value_parser = clap::value_parser!(u32).range(1..),
    )]
    pub clients: u32,

    /// Seed of the random generator.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,

    /// First day of the year of history (YYYY-MM-DD). The practice is the
    /// same for the same seed and start.
    #[arg(long, value_name = "DATE", default_value = DEFAULT_DEMO_START, value_parser = parse_iso_date)]
    pub start: NaiveDate,
}

/// First day of the demo's year of history unless `--start` is given.
pub const DEFAULT_DEMO_START: &str = "2025-11-03";

/// Subcommands of `kapchart user`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user account, its first API token and its setup code.
    ///
    /// Stdout has two lines: the API token, then the one-time setup code
    /// with which the user sets a password and a second factor on the web
    /// pages (`/setup`; it works once, for 72 hours). Only their SHA-256
    /// is stored, so neither can be shown again. The command line acts as
    /// the operating-system user running it, as `local-NAME` (role admin):
    /// whoever runs it has the database itself. The change is written to
    /// the access log.
    Add(UserAddArgs),

    /// List user accounts: id, role, display name and status (no tokens).
    List,

    /// Issue a new API token for a user; it is printed once on stdout.
    ///
    /// Earlier tokens stay valid until they expire (90 days after issue) or
    /// the user is disabled.
    Token(UserNameArg),

    /// Disable a user account and revoke its tokens.
    Disable(UserNameArg),

    /// Reset a user's web sign-in: clear the password and second factor,
    /// end their web sessions, and print a new setup code on stdout.
    ///
    /// For a forgotten password or a lost phone. The code works once, for
    /// 72 hours; API tokens are untouched. The change is written to the
    /// access log.
    Reset(UserNameArg),
}

/// Arguments of `kapchart user add`.
#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// The user's id: the id the record shows as actor (e.g. t-0001): 1 to
    /// 64 ASCII letters, digits, '-' and '_', starting with a letter or
    /// digit. `system` and ids starting with `local-` are reserved.
    #[arg(long, value_name = "ID", value_parser = parse_user_id)]
    pub name: UserId,

    /// The user's role: therapist, prescriber, front_desk, auditor or admin.
    #[arg(long, value_parser = PossibleValuesParser::new(Role::NAMES).try_map(|s| s.parse::<Role>()))]
    pub role: Role,

    /// The person's full name, shown to admins (never written to logs or
    /// the access log).
    #[arg(long, value_name = "NAME")]
    pub display_name: Option<String>,
}

/// The subcommands of `kapchart practice`.
#[derive(Debug, Subcommand)]
pub enum PracticeAction {
    /// Print the settings as JSON: the identity, the time zone, the
    /// providers, every policy and fee schedule version, and the versions
    /// in force now.
    Show,

    /// Print the practice record's entries as JSON, each with its chain
    /// hash and the previous entry's.
    History,

    /// Apply one change, read as JSON from FILE (`-` for stdin): `{"id":
    /// ..., "body": {"AdoptFeeSchedule": {...}}}`, as POST
    /// /api/v1/practice/commands takes it (also `SetPracticeIdentity`,
    /// `SetProvider`, `AdoptPolicy`; docs/domain.md lists their fields).
    ///
    /// A change never takes effect before it is made; the same id with the
    /// same change is applied once. Prints the entries written as JSON; a
    /// refused change writes nothing and exits 2 naming the field or rule.
    Change(PracticeChangeArgs),
}

/// Arguments of `kapchart practice change`.
#[derive(Debug, Args)]
pub struct PracticeChangeArgs {
    /// The JSON file holding the change, or `-` for stdin.
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,
}

/// A user named on the command line.
#[derive(Debug, Args)]
pub struct UserNameArg {
    /// The user's id (as given to `user add --name`).
    #[arg(long, value_name = "ID", value_parser = parse_user_id)]
    pub name: UserId,
}

impl Command {
    /// The subcommand as typed on the command line, e.g. `serve` or
    /// `user add`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Serve(_) => "serve",
            Self::Migrate => "migrate",
            Self::Verify(_) => "verify",
            Self::Checkpoint(_) => "checkpoint",
            Self::Export(_) => "export",
            Self::Report(_) => "report",
            Self::Rebuild(_) => "rebuild",
            Self::Backup(_) => "backup",
            Self::Restore(_) => "restore",
            Self::Demo(_) => "demo",
            Self::User(user) => match user {
                UserCommand::Add(_) => "user add",
                UserCommand::List => "user list",
                UserCommand::Token(_) => "user token",
                UserCommand::Disable(_) => "user disable",
                UserCommand::Reset(_) => "user reset",
            },
            Self::Practice(action) => match action {
                PracticeAction::Show => "practice show",
                PracticeAction::History => "practice history",
                PracticeAction::Change(_) => "practice change",
            },
        }
    }
}

/// Parses the process arguments, or prints clap's message and exits: 0 for
/// `--help`/`--version`, 2 for usage errors. Passwords of any URLs in an
/// error message are redacted first.
#[must_use]
pub fn parse_or_exit() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if err.use_stderr() => {
            let rendered = err.render();
            let text = if std::io::stderr().is_terminal() {
                rendered.ansi().to_string()
            } else {
                rendered.to_string()
            };
            eprint!("{}", redact_urls_in_text(&text));
            std::process::exit(err.exit_code());
        }
        // --help and --version go to stdout as clap prints them.
        Err(err) => err.exit(),
    }
}

/// A user id (`kapchart_domain::UserId`).
fn parse_user_id(s: &str) -> Result<UserId, String> {
    UserId::parse(s).map_err(|e| e.to_string())
}

/// Checks an Ed25519 public key given as 64 hex digits; returns it in
/// lowercase.
fn parse_public_key(s: &str) -> Result<String, String> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err("expected an Ed25519 public key as 64 hex digits".to_owned())
    }
}

/// A calendar date written exactly YYYY-MM-DD.
fn parse_iso_date(s: &str) -> Result<NaiveDate, String> {
    const EXPECTED: &str = "expected a date as YYYY-MM-DD";
    let shape_ok = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(EXPECTED.to_owned());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("{EXPECTED} ({e})"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn command_names_match_the_clap_subcommands() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("kapchart").chain(args.iter().copied()))
                .expect("valid arguments")
        };
        let cases: [(&[&str], &str); 15] = [
            (&["serve"], "serve"),
            (&["backup", "b.db"], "backup"),
            (&["restore", "b.db"], "restore"),
            (&["migrate"], "migrate"),
            (&["verify"], "verify"),
            (&["checkpoint"], "checkpoint"),
            (&["export", "--client", "c1"], "export"),
            (&["report", "billing"], "report"),
            (&["rebuild"], "rebuild"),
            (&["demo"], "demo"),
            (
                &["user", "add", "--name", "ann", "--role", "front_desk"],
                "user add",
            ),
            (&["user", "list"], "user list"),
            (&["user", "token", "--name", "ann"], "user token"),
            (&["user", "disable", "--name", "ann"], "user disable"),
            (&["user", "reset", "--name", "ann"], "user reset"),
        ];
        for (args, name) in cases {
            assert_eq!(parse(args).command.name(), name, "{args:?}");
        }
    }

    #[test]
    fn defaults() {
        let cli = Cli::try_parse_from(["kapchart", "demo"]).expect("valid arguments");
        let Command::Demo(demo) = cli.command else {
            panic!("expected demo, got {:?}", cli.command);
        };
        assert_eq!((demo.clients, demo.seed), (40, 1));
        assert_eq!(cli.global.verbose, 0);

        let cli = Cli::try_parse_from(["kapchart", "serve"]).expect("valid arguments");
        let Command::Serve(serve) = cli.command else {
            panic!("expected serve, got {:?}", cli.command);
        };
        assert_eq!(serve.listen.to_string(), DEFAULT_LISTEN);
    }

    #[test]
    fn global_options_are_accepted_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "kapchart",
            "migrate",
            "-vv",
            "--database-url",
            "postgres://u:secret@h/db",
        ])
        .expect("valid arguments");
        assert_eq!(cli.global.verbose, 2);
        assert_eq!(cli.global.database_url.as_str(), "postgres://u:secret@h/db");
        assert!(!format!("{cli:?}").contains("secret"));
    }

    #[test]
    fn public_keys_must_be_64_hex_digits() {
        let key = "AB".repeat(32);
        assert_eq!(parse_public_key(&key), Ok("ab".repeat(32)));
        assert!(parse_public_key(&"ab".repeat(31)).is_err());
        assert!(parse_public_key(&format!("{}zz", "ab".repeat(31))).is_err());
    }

    #[test]
    fn dates_must_exist() {
        for ok in ["2024-02-29", "2000-02-29", "2025-12-31", "2025-01-01"] {
            assert_eq!(parse_iso_date(ok).map(|d| d.to_string()), Ok(ok.to_owned()));
        }
        for bad in [
            "2025-02-29",
            "1900-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-04-31",
            "2025-04-00",
            "2025-4-01",
            "20250401",
            "2025-04-01T00:00:00Z",
            "+025-04-01",
        ] {
            assert!(parse_iso_date(bad).is_err(), "{bad}");
        }
    }
}
