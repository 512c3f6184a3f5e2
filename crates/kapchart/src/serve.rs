//! `kapchart serve`: the JSON API, with the projector keeping the views
//! current beside it.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use chrono::Utc;
use kapchart_api::AppState;
use kapchart_domain::PracticeSettings;
use kapchart_projector::Projector;
use kapchart_store::system_clock;

use crate::cli::{GlobalArgs, ServeArgs};
use crate::commands::{CommandResult, open, runtime};
use crate::error::CommandError;

/// How often the projector looks for events written by other processes;
/// commands served here wake it at once.
const POLL: Duration = Duration::from_secs(1);

/// `kapchart serve`.
pub fn serve(global: &GlobalArgs, args: &ServeArgs) -> CommandResult {
    runtime()?.block_on(async {
        let db = open(global).await?;
        // Bound first: a server that cannot listen creates no account.
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| CommandError::Usage(format!("--listen {}: {e}", args.listen)))?;
        if let Some((account, issued)) = kapchart_store::accounts::bootstrap_admin(&db, Utc::now())
            .await
            .context("creating the first admin account")?
        {
            // Data to stdout (the token, once), words to stderr.
            println!("{}", issued.token);
            eprintln!(
                "kapchart: created the admin account `{}`; its token (printed above) is shown \
                 only once and expires {}",
                account.user_id,
                issued.expires_at.format("%Y-%m-%d")
            );
        }
        let address = listener.local_addr().context("reading the bound address")?;
        let projector = Projector::new(db.clone());
        let state = AppState::new(
            db.clone(),
            projector.clone(),
            PracticeSettings::standard(),
            system_clock(),
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let views = {
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                projector
                    .run(POLL, async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    })
                    .await;
            })
        };
        eprintln!("kapchart: listening on http://{address}");
        tracing::info!(%address, engine = db.engine(), "serving");
        kapchart_api::serve(listener, state, shutdown_signal())
            .await
            .map_err(|e| CommandError::Failed(anyhow!(e).context("serving")))?;
        let _ = stop.send(true);
        let _ = views.await;
        db.close().await;
        eprintln!("kapchart: stopped");
        Ok(())
    })
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
