//! Times the sample practice: `cargo run --release -p kapchart-demo
//! --example timing -- DATABASE_URL [CLIENTS [SEED]]` into a fresh,
//! empty database.

use std::time::Instant;

use chrono::NaiveDate;
use kapchart_demo::{DemoOptions, generate};
use kapchart_store::Database;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: timing DATABASE_URL [CLIENTS [SEED]]")?;
    let clients = args.next().map_or(Ok(40), |s| s.parse())?;
    let seed = args.next().map_or(Ok(1), |s| s.parse())?;
    let options = DemoOptions {
        clients,
        seed,
        start: NaiveDate::from_ymd_opt(2025, 1, 6).ok_or("date")?,
        accounts_by: None,
    };
    let db = Database::open(&url).await?;
    let started = Instant::now();
    let summary = generate(&db, &options, &|_| {}).await?;
    let elapsed = started.elapsed();
    println!(
        "{} clients, seed {}: {} commands, {} events, {} refused in {:.2} s ({:.0} commands/s)",
        summary.clients,
        seed,
        summary.commands,
        summary.events,
        summary.refused,
        elapsed.as_secs_f64(),
        summary.commands as f64 / elapsed.as_secs_f64()
    );
    for (phase, n) in &summary.by_phase {
        println!("  {phase:<13} {n}");
    }
    db.close().await;
    Ok(())
}
