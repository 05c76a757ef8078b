//! `rootguard demo`: the demo lab watched by the daemon (the `lab`
//! feature).

use std::path::PathBuf;

use clap::Args;

use super::{CliError, Context};

/// Arguments of `rootguard demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Lab directory.
    #[arg(long, default_value = "zones/lab")]
    lab: PathBuf,
    /// HTTP listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Seconds between sweeps.
    #[arg(long, default_value_t = 10)]
    sweep_secs: u64,
    /// Seconds until .xg's servers go silent.
    #[arg(long, default_value_t = 20)]
    silent_after: u64,
    /// Seconds until .xh rolls to a key its DS does not name.
    #[arg(long, default_value_t = 30)]
    key_roll_after: u64,
    /// Seconds until .xh's manager fixes its DS.
    #[arg(long, default_value_t = 90)]
    ds_fix_after: u64,
    /// Seconds until .xg's servers come back.
    #[arg(long, default_value_t = 120)]
    servers_back_after: u64,
}

impl DemoArgs {
    /// Runs the demo until Ctrl-C.
    pub async fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let store = ctx.store.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("rootguard-demo-{}.sqlite", std::process::id()))
        });
        let listen = self.listen;
        eprintln!(
            "rootguard demo: API at http://{listen}/api/v1/tlds, metrics at http://{listen}/metrics; Ctrl-C to stop"
        );
        let timeline = crate::daemon::demo::Timeline {
            sweep_secs: self.sweep_secs,
            silent_after: self.silent_after,
            key_roll_after: self.key_roll_after,
            ds_fix_after: self.ds_fix_after,
            servers_back_after: self.servers_back_after,
        };
        crate::daemon::demo::run(&self.lab, &store, listen, timeline, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        Ok(0)
    }
}
