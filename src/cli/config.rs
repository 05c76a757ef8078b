//! `rootguard config`: print the effective configuration.

use clap::Args;

use super::output::emit;
use super::{CliError, ConfigArgs, Context};

/// Arguments of `rootguard config`.
#[derive(Args)]
pub struct ConfigCommand {
    #[command(flatten)]
    config: ConfigArgs,
    /// HTTP listen address (same as --set http.listen=...).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
}

impl ConfigCommand {
    /// Prints it.
    pub fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let mut config = self.config.load(ctx.store.as_deref())?;
        if let Some(l) = self.listen {
            config.http.listen = l;
        }
        emit(&config.to_toml())?;
        Ok(0)
    }
}
