//! `kapchart-bench-pages`: the latency (p50/p99) of kapchart's web pages
//! under 16 concurrent signed-in sessions, each beside the JSON API's read
//! of the same data, measured in the same run against one `kapchart
//! serve`. The target (issue 11): a page within 1.5 times the API read.
//!
//! 1. **Setup (not measured).** Database `kapchart_bench_pages`, dropped
//!    and created afresh, gets kapchart's migrations, the accounts of the
//!    histories' therapist (`t-rivera`), prescriber and front desk
//!    (`fd-jones`) with a bearer token each, and `--clients` clients, each
//!    with a year of history through the real command path
//!    (`protocol::year_history`: the protocol, then weekly ongoing care
//!    for the rest of the year; about 150 entries) and the therapist's week:
//!    25 preparation sessions booked this week (Monday to Friday, five a
//!    day, each for another client). `kapchart serve --listen
//!    127.0.0.1:0` is started on it as a child process (killed at the end,
//!    also on an error or Ctrl-C), and its views are left to catch up.
//!    Then `--connections` web sessions are opened for each of the two users
//!    through `kapchart_store::web_sessions::open`, the step the sign-in
//!    pages take once the password and second factor are proved.
//! 2. **Figures.** Per read, two figures interleaved in `--slices` slices
//!    (`load::interleaved`): `--connections` tasks in this process, each
//!    holding one session (the page) or the user's token (the API), each
//!    sending a GET, reading the whole reply and sending the next, to a
//!    client picked at random (the same sequence for both figures). Any
//!    reply but 200 fails the run. The reads:
//!    - the chart of a client with a year of history: `GET /clients/{id}`
//!      as the therapist, beside `GET /api/v1/clients/{id}/chart`;
//!    - the therapist's week: `GET /therapist`, beside `GET
//!      /api/v1/schedule?from=MONDAY&to=SUNDAY`;
//!    - the client's billing as the front desk: `GET /clients/{id}/billing`,
//!      beside `GET /api/v1/clients/{id}/billing`;
//!    - the front desk's calendar of Monday: `GET /desk?day=MONDAY`,
//!      beside `GET /api/v1/schedule?from=MONDAY&to=MONDAY`.
//!
//!    A page that the server does not serve (404: a build without that
//!    page) is reported as such and not measured; every other failure
//!    stops the run.
//!
//! Progress goes to stderr, results (a Markdown table) to stdout.

use kapchart_bench::load::{self, Job, Op};
use kapchart_bench::protocol;
use kapchart_bench::serve::{
    ServeProcess, database_url, kapchart_binary, load_average, wait_until_idle,
};
use kapchart_bench::stats::Figure;
use kapchart_bench::stores::{self, Server};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use chrono::{DateTime, Datelike as _, Duration as Days, NaiveDate, Utc};
use clap::Parser;
use kapchart_domain::{Role, UserId};
use kapchart_store::Database;

/// The database `kapchart serve` serves.
const DB: &str = "kapchart_bench_pages";

/// The therapist of the histories, and the front desk.
const THERAPIST: &str = "t-rivera";
const FRONT_DESK: &str = "fd-jones";

/// The seed of the client picks (the same for a page and its API read).
const SEED: u64 = 0x6b61_7063_6861_7274;

/// Page latency (p50/p99) under concurrent signed-in sessions, beside the
/// JSON API's read of the same data in the same run.
///
/// Creates the database kapchart_bench_pages (clients with a year of
/// history, a therapist's booked week), serves it with a `kapchart serve`
/// child process, opens web sessions in the store, and measures each page
/// beside its API read, interleaved. Progress goes to stderr, a Markdown
/// table to stdout. Needs a release build of kapchart (`cargo build
/// --release -p kapchart -p kapchart-bench`).
#[derive(Debug, Parser)]
#[command(name = "kapchart-bench-pages", version)]
struct Cli {
    /// The PostgreSQL server: a postgres:// URL of a role allowed to create
    /// databases.
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,

    /// Clients, each with a year of history, all the therapist's.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(25..=99_999))]
    clients: u32,

    /// Concurrent sessions (tasks), for the pages and for the API alike.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
    connections: u32,

    /// Measured seconds of each figure (page or API), over all slices.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,

    /// Slices each figure is cut into, alternating page and API.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    slices: u32,

    /// Warm-up before each figure's first slice, in seconds.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=600))]
    warmup: u64,

    /// The kapchart binary to serve with [default: `kapchart` beside this
    /// program, i.e. target/release/kapchart].
    #[arg(long, value_name = "PATH")]
    kapchart: Option<PathBuf>,

    /// Keep the database at the end (for inspection).
    #[arg(long)]
    keep_database: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(&cli).await {
        Ok(table) => {
            print!("{table}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kapchart-bench-pages: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn note(message: &str) {
    eprintln!("kapchart-bench-pages: {message}");
}

/// Sets up, measures (until done, failed or Ctrl-C), and drops the
/// database whatever happened.
async fn run(cli: &Cli) -> anyhow::Result<String> {
    let kapchart = kapchart_binary(cli.kapchart.as_deref())?;
    let server = Server::new(&cli.database_url)?;
    let mut admin = server.admin().await?;
    stores::recreate(&mut admin, &[DB]).await?;
    let result = tokio::select! {
        r = measure(cli, &server, &mut admin, &kapchart) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    if !cli.keep_database {
        match server.admin().await {
            Ok(mut admin) => {
                if let Err(e) = stores::drop_database(&mut admin, DB).await {
                    eprintln!("warning: {e:#}");
                }
            }
            Err(e) => eprintln!("warning: the database was not dropped: {e:#}"),
        }
    }
    result
}

/// Midnight UTC of the Monday of `now`'s week (the server's time zone is
/// UTC).
fn monday_of(now: DateTime<Utc>) -> DateTime<Utc> {
    let day = now.date_naive();
    let monday = day - Days::days(i64::from(day.weekday().num_days_from_monday()));
    monday.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// The accounts, every client's year, and the therapist's week. Returns
/// the therapist's and the front desk's bearer tokens.
async fn setup(
    server: &Server,
    clients: usize,
    monday: DateTime<Utc>,
) -> anyhow::Result<(String, String)> {
    const TASKS: usize = 16;
    let pool = server.setup_pool(DB, TASKS as u32 + 2).await?;
    let db = Database::Postgres(pool.clone());
    db.migrate().await?;
    let by = kapchart_store::access::AccessActor {
        user_id: UserId::parse(kapchart_store::accounts::LOCAL_ADMIN)?,
        role: Role::Admin,
    };
    let mut tokens = Vec::new();
    for (id, role) in [
        (THERAPIST, Role::Therapist),
        ("rx-chen", Role::Prescriber),
        (FRONT_DESK, Role::FrontDesk),
    ] {
        let (_, issued) = kapchart_store::accounts::add_user(
            &db,
            &UserId::parse(id)?,
            role,
            None,
            &by,
            Utc::now(),
        )
        .await
        .with_context(|| format!("adding the account {id}"))?;
        tokens.push(issued.token);
    }
    let cqrs = Arc::new(db.client_cqrs(kapchart_store::system_clock(), stores::services()));
    let per_client = protocol::year_history(0)?.len();
    stores::fill_with(
        "setup",
        Arc::clone(&cqrs),
        clients,
        clients * per_client,
        protocol::year_history,
        TASKS,
    )
    .await?;
    // The week: Monday to Friday, five sessions a day, each another
    // client's.
    let hours = [9, 10, 11, 13, 14];
    for d in 0..5_i64 {
        for (h, hour) in hours.iter().enumerate() {
            let k = (d as usize) * hours.len() + h;
            let start = monday + Days::days(d) + Days::hours(*hour);
            let command = protocol::booking(&format!("wk-{d}-{hour}"), start, Utc::now())?;
            stores::execute(&cqrs, &protocol::client_id(k % clients), command).await?;
        }
    }
    pool.close().await;
    let desk = tokens.pop().context("the front desk's token")?;
    tokens.truncate(1);
    let therapist = tokens.pop().context("the therapist's token")?;
    Ok((therapist, desk))
}

/// One read: a page and the API's read of the same data, as one user.
#[derive(Debug)]
struct Read {
    /// What is read, in words.
    what: &'static str,
    /// The user (a web session each task, or their token).
    user: &'static str,
    /// The page's path for client `i` (pages of no client ignore it).
    page: fn(usize, &Dates) -> String,
    /// The API's path for client `i`.
    api: fn(usize, &Dates) -> String,
}

/// The days the reads name.
#[derive(Debug)]
struct Dates {
    monday: NaiveDate,
    sunday: NaiveDate,
}

fn reads() -> Vec<Read> {
    vec![
        Read {
            what: "chart of a client with a year of history (therapist)",
            user: THERAPIST,
            page: |i, _| format!("/clients/{}", protocol::client_id(i)),
            api: |i, _| {
                format!(
                    "/api/v1/clients/{}/chart?purpose=treatment",
                    protocol::client_id(i)
                )
            },
        },
        Read {
            what: "therapist's week (therapist)",
            user: THERAPIST,
            page: |_, _| "/therapist".to_owned(),
            api: |_, d| {
                format!(
                    "/api/v1/schedule?purpose=treatment&from={}&to={}",
                    d.monday, d.sunday
                )
            },
        },
        Read {
            what: "client's billing (front desk)",
            user: FRONT_DESK,
            page: |i, _| format!("/clients/{}/billing", protocol::client_id(i)),
            api: |i, _| {
                format!(
                    "/api/v1/clients/{}/billing?purpose=payment",
                    protocol::client_id(i)
                )
            },
        },
        Read {
            what: "calendar of a day (front desk)",
            user: FRONT_DESK,
            page: |_, d| format!("/desk?day={}", d.monday),
            api: |_, d| {
                format!(
                    "/api/v1/schedule?purpose=payment&from={}&to={}",
                    d.monday, d.monday
                )
            },
        },
    ]
}

/// What one read came to.
#[derive(Debug)]
enum Outcome {
    /// Both figures, page first.
    Measured {
        page_path: String,
        api_path: String,
        page: Box<Figure>,
        api: Box<Figure>,
    },
    /// The server has no such page (404).
    NotServed { page_path: String },
}

/// A GET sent by each task with its own header (a session cookie or the
/// bearer token), to the path of a client picked at random.
fn get_op(
    http: &reqwest::Client,
    base: &str,
    headers: Vec<(&'static str, String)>,
    path: impl Fn(usize) -> String + Send + Sync + 'static,
    clients: usize,
) -> Op {
    let http = http.clone();
    let base = base.to_owned();
    let headers = Arc::new(headers);
    Arc::new(move |w, n| {
        let http = http.clone();
        let url = format!("{base}{}", path(load::pick(SEED, w, n, clients)));
        let (name, value) = headers[w % headers.len()].clone();
        Box::pin(async move {
            let reply = http
                .get(&url)
                .header(name, value)
                .send()
                .await
                .with_context(|| format!("GET {url}"))?;
            let status = reply.status();
            let body = reply.bytes().await.with_context(|| format!("GET {url}"))?;
            anyhow::ensure!(
                status == reqwest::StatusCode::OK,
                "GET {url}: {status} ({} bytes)",
                body.len()
            );
            Ok((1, 0))
        })
    })
}

/// Everything the figures need.
struct Bench<'a> {
    cli: &'a Cli,
    http: reqwest::Client,
    base: String,
    clients: usize,
    dates: Dates,
    /// Per user: one session cookie per task, and the bearer token.
    cookies: Vec<(&'static str, Vec<String>)>,
    tokens: Vec<(&'static str, String)>,
}

impl Bench<'_> {
    fn cookies_of(&self, user: &str) -> anyhow::Result<Vec<(&'static str, String)>> {
        let (_, cookies) = self
            .cookies
            .iter()
            .find(|(u, _)| *u == user)
            .with_context(|| format!("no sessions of {user}"))?;
        Ok(cookies.iter().map(|c| ("cookie", c.clone())).collect())
    }

    fn token_of(&self, user: &str) -> anyhow::Result<Vec<(&'static str, String)>> {
        let (_, token) = self
            .tokens
            .iter()
            .find(|(u, _)| *u == user)
            .with_context(|| format!("no token of {user}"))?;
        Ok(vec![("authorization", format!("Bearer {token}"))])
    }

    /// One GET of `path` with `header`: its status.
    async fn probe(&self, path: &str, header: &(&'static str, String)) -> anyhow::Result<u16> {
        let reply = self
            .http
            .get(format!("{}{path}", self.base))
            .header(header.0, &header.1)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        Ok(reply.status().as_u16())
    }

    async fn measure(&self, read: &Read) -> anyhow::Result<Outcome> {
        let page_path = (read.page)(0, &self.dates);
        let api_path = (read.api)(0, &self.dates);
        let cookies = self.cookies_of(read.user)?;
        let token = self.token_of(read.user)?;
        match self.probe(&page_path, &cookies[0]).await? {
            200 => {}
            404 => return Ok(Outcome::NotServed { page_path }),
            other => bail!("GET {page_path} as {}: {other}", read.user),
        }
        let status = self.probe(&api_path, &token[0]).await?;
        anyhow::ensure!(status == 200, "GET {api_path} as {}: {status}", read.user);
        let dates = Arc::new(Dates {
            monday: self.dates.monday,
            sunday: self.dates.sunday,
        });
        let (page_of, api_of) = (read.page, read.api);
        let d = Arc::clone(&dates);
        let page_op = get_op(
            &self.http,
            &self.base,
            cookies,
            move |i| page_of(i, &d),
            self.clients,
        );
        let api_op = get_op(
            &self.http,
            &self.base,
            token,
            move |i| api_of(i, &dates),
            self.clients,
        );
        let tasks = self.cli.connections as usize;
        let mut jobs = [
            Job::new(format!("page {page_path}"), tasks, page_op),
            Job::new(format!("API {api_path}"), tasks, api_op),
        ];
        let figures = load::interleaved(
            &mut jobs,
            self.cli.slices,
            Duration::from_secs(self.cli.warmup),
            Duration::from_secs(self.cli.seconds),
        )
        .await?;
        let [page, api]: [Figure; 2] = figures
            .try_into()
            .map_err(|_| anyhow!("two figures expected"))?;
        note(&format!(
            "{}: page p50 {:.2} ms p99 {:.2} ms; API p50 {:.2} ms p99 {:.2} ms",
            read.what, page.p50_ms, page.p99_ms, api.p50_ms, api.p99_ms
        ));
        Ok(Outcome::Measured {
            page_path,
            api_path,
            page: Box::new(page),
            api: Box::new(api),
        })
    }
}

async fn measure(
    cli: &Cli,
    server: &Server,
    admin: &mut sqlx::PgConnection,
    kapchart: &Path,
) -> anyhow::Result<String> {
    let clients = cli.clients as usize;
    let load_before = load_average();
    let pg_version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut *admin)
        .await?;
    let monday = monday_of(Utc::now());
    let started = Instant::now();
    let (therapist_token, desk_token) = setup(server, clients, monday).await?;
    let url = database_url(&cli.database_url, DB)?;
    let db = Database::open(&url)
        .await
        .with_context(|| format!("opening {DB}"))?;
    let events: i64 = match &db {
        Database::Postgres(pool) => sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(pool)
            .await
            .context("counting events")?,
        Database::Sqlite(_) => bail!("the benchmark's database is not PostgreSQL"),
    };
    note(&format!(
        "{DB}: {clients} clients, {events} events, written in {:.0} s",
        started.elapsed().as_secs_f64()
    ));

    let mut serve = ServeProcess::start(kapchart, &url).await?;
    note(&format!(
        "kapchart serve (pid {}) listening on http://{}; waiting for its views to catch up",
        serve.pid, serve.address
    ));
    wait_until_idle(serve.pid).await?;

    // The sessions, opened as the sign-in pages open them.
    let mut cookies = Vec::new();
    for (user, purpose) in [(THERAPIST, "treatment"), (FRONT_DESK, "payment")] {
        let mut of_user = Vec::new();
        for _ in 0..cli.connections {
            let opened =
                kapchart_store::web_sessions::open(&db, &UserId::parse(user)?, purpose, Utc::now())
                    .await
                    .with_context(|| format!("opening a session of {user}"))?;
            of_user.push(format!(
                "{}={}",
                kapchart_web::session::COOKIE,
                opened.secret
            ));
        }
        cookies.push((user, of_user));
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(cli.connections as usize * 2)
        .build()
        .context("an HTTP client")?;
    let sunday = monday + Days::days(6);
    let bench = Bench {
        cli,
        http,
        base: format!("http://{}", serve.address),
        clients,
        dates: Dates {
            monday: monday.date_naive(),
            sunday: sunday.date_naive(),
        },
        cookies,
        tokens: vec![(THERAPIST, therapist_token), (FRONT_DESK, desk_token)],
    };
    let mut outcomes = Vec::new();
    let mut failed = None;
    for read in reads() {
        match bench.measure(&read).await {
            Ok(o) => outcomes.push((read, o)),
            Err(e) => {
                failed = Some(e.context(read.what));
                break;
            }
        }
        serve.check_running()?;
    }
    let stopped = serve.stop().await;
    db.close().await;
    if let Some(e) = failed {
        return Err(e);
    }
    stopped?;
    let mut out = String::new();
    report(
        &mut out,
        cli,
        &outcomes,
        &Notes {
            pg_version,
            load_before,
            load_after: load_average(),
            events,
            monday: monday.date_naive(),
        },
    )?;
    Ok(out)
}

/// What the report says of the run besides the figures.
#[derive(Debug)]
struct Notes {
    pg_version: String,
    load_before: String,
    load_after: String,
    events: i64,
    monday: NaiveDate,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// The command line as given, for the record.
fn command_line() -> String {
    std::iter::once("kapchart-bench-pages".to_owned())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The page is within `TARGET` times the API read, at p50 and at p99.
const TARGET: f64 = 1.5;

fn report(
    out: &mut String,
    cli: &Cli,
    outcomes: &[(Read, Outcome)],
    notes: &Notes,
) -> std::fmt::Result {
    use std::fmt::Write as _;
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    writeln!(out, "# kapchart-bench-pages\n")?;
    writeln!(out, "command: `{}`  ", command_line())?;
    writeln!(
        out,
        "machine: {cores} cores shared by PostgreSQL {}, the server and this process; \
         load average (1 5 15 min) {} before, {} after  ",
        notes.pg_version, notes.load_before, notes.load_after
    )?;
    writeln!(
        out,
        "data: {} clients of {THERAPIST}, each with a year of history ({} events in all), \
         25 sessions booked in the week of {}; {} concurrent sessions (tasks) per figure, \
         each with its own web session or the user's token; {} s per figure in {} \
         interleaved slices after {} s warm-up\n",
        cli.clients,
        notes.events,
        notes.monday,
        cli.connections,
        cli.seconds,
        cli.slices,
        cli.warmup,
    )?;
    writeln!(
        out,
        "| read | page | page p50 / p99 ms | page req/s | API | API p50 / p99 ms | API req/s \
         | page / API p50 | page / API p99 | target: page ≤ {TARGET}x API |"
    )?;
    writeln!(out, "|---|---|---:|---:|---|---:|---:|---:|---:|---|")?;
    for (read, outcome) in outcomes {
        match outcome {
            Outcome::Measured {
                page_path,
                api_path,
                page,
                api,
            } => {
                let (r50, r99) = (
                    ratio(page.p50_ms, api.p50_ms),
                    ratio(page.p99_ms, api.p99_ms),
                );
                let met = if r50 <= TARGET && r99 <= TARGET {
                    "met"
                } else {
                    "**not met**"
                };
                writeln!(
                    out,
                    "| {} | `{page_path}` | {:.2} / {:.2} | {:.0} | `{api_path}` | {:.2} / {:.2} \
                     | {:.0} | {r50:.2} | {r99:.2} | {met} |",
                    read.what,
                    page.p50_ms,
                    page.p99_ms,
                    page.per_sec,
                    api.p50_ms,
                    api.p99_ms,
                    api.per_sec,
                )?;
            }
            Outcome::NotServed { page_path } => writeln!(
                out,
                "| {} | `{page_path}` | not served by this build (404) | | | | | | | |",
                read.what
            )?,
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "Paths shown for client 0; each task asks for clients picked at random out of {}. \
         Machine CPU busy during each figure: {}.",
        cli.clients,
        outcomes
            .iter()
            .filter_map(|(read, o)| match o {
                Outcome::Measured { page, api, .. } => Some(format!(
                    "{} page {:.0}% / API {:.0}%",
                    read.what,
                    page.machine_cpu_busy_pct.unwrap_or(0.0),
                    api.machine_cpu_busy_pct.unwrap_or(0.0)
                )),
                Outcome::NotServed { .. } => None,
            })
            .collect::<Vec<_>>()
            .join("; ")
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_week_starts_on_monday() {
        let wednesday = DateTime::parse_from_rfc3339("2026-12-09T15:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(
            monday_of(wednesday).to_rfc3339(),
            "2026-12-07T00:00:00+00:00"
        );
        let monday = DateTime::parse_from_rfc3339("2026-12-07T00:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(monday_of(monday), monday);
    }

    #[test]
    fn each_read_names_a_page_and_the_api_read_of_the_same_data() {
        let dates = Dates {
            monday: NaiveDate::from_ymd_opt(2026, 12, 7).expect("date"),
            sunday: NaiveDate::from_ymd_opt(2026, 12, 13).expect("date"),
        };
        let paths: Vec<(String, String)> = reads()
            .iter()
            .map(|r| ((r.page)(3, &dates), (r.api)(3, &dates)))
            .collect();
        assert_eq!(
            paths[0],
            (
                "/clients/client-00003".to_owned(),
                "/api/v1/clients/client-00003/chart?purpose=treatment".to_owned()
            )
        );
        assert_eq!(
            paths[1].1,
            "/api/v1/schedule?purpose=treatment&from=2026-12-07&to=2026-12-13"
        );
        assert_eq!(paths[3].0, "/desk?day=2026-12-07");
    }

    #[test]
    fn a_year_of_history_spans_a_year() {
        let commands = protocol::year_history(0).expect("history");
        assert!(commands.len() > 140, "{}", commands.len());
        let first = commands.first().expect("a command").issued_at;
        let last = commands.last().expect("a command").issued_at;
        assert!((last - first).num_days() >= 360, "{first} to {last}");
    }
}
