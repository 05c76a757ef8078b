//! `rootguard vantage`: a probe-only vantage point until SIGTERM or SIGINT
//! (`docs/RULES.md#quorum`).

use clap::Args;

use super::{CliError, ConfigArgs, Context};

/// Arguments of `rootguard vantage`.
#[derive(Args)]
pub struct VantageArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Run one round (learn, probe, send), print the daemon's answer and exit.
    #[arg(long)]
    once: bool,
}

impl VantageArgs {
    /// Runs the vantage.
    pub async fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let config = self.config.load(ctx.store.as_deref())?;
        let vantage = crate::daemon::vantage::Vantage::new(config)?;
        if self.once {
            let round = vantage.round().await?;
            super::output::print_json(&round)?;
            return Ok(0);
        }
        vantage.run(super::serve::shutdown_signal()).await;
        Ok(0)
    }
}
