//! `rootguard serve`: the watching daemon until SIGTERM or SIGINT.

use clap::Args;

use super::{CliError, ConfigArgs, Context};

/// Arguments of `rootguard serve`.
#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// HTTP listen address (same as --set http.listen=...).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
}

impl ServeArgs {
    /// Runs the daemon.
    pub async fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let mut config = self.config.load(ctx.store.as_deref())?;
        if let Some(l) = self.listen {
            config.http.listen = l;
        }
        crate::daemon::run(config, shutdown_signal()).await?;
        Ok(0)
    }
}

/// Completes on SIGTERM or SIGINT.
pub(super) async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(t) => t,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
