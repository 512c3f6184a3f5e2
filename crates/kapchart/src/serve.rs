//! `kapchart serve`: the JSON API and the staff's web pages, with the
//! projector keeping the views current beside them.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use chrono::Utc;
use kapchart_api::AppState;
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
        let state = AppState::new(db.clone(), projector.clone(), system_clock())
            // The admin's checkpoints and key rotation sign with --key-file.
            .with_key_file(global.key_file.clone());
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
        // Installed before the server says it listens: a signal that comes
        // at once still stops it cleanly.
        let shutdown = shutdown_signal();
        eprintln!("kapchart: listening on http://{address}");
        tracing::info!(%address, engine = db.engine(), "serving");
        let pages = kapchart_web::WebState::new(state.clone(), args.web_config());
        let app = kapchart_web::app(pages);
        kapchart_api::serve(listener, app, shutdown)
            .await
            .map_err(|e| CommandError::Failed(anyhow!(e).context("serving")))?;
        let _ = stop.send(true);
        let _ = views.await;
        db.close().await;
        eprintln!("kapchart: stopped");
        Ok(())
    })
}

/// Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled. A handler that cannot be
/// installed never fires.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        async fn fired(signal: Option<Signal>) {
            match signal {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        let interrupt = fired(signal(SignalKind::interrupt()).ok());
        let terminate = fired(signal(SignalKind::terminate()).ok());
        async move {
            tokio::select! {
                () = interrupt => {}
                () = terminate => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
