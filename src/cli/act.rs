//! `rootguard act ACTION`: record one governance action.

use std::path::PathBuf;

use clap::Args;

use super::output::{emit, print_json};
use super::{CliError, ConfigArgs, Context, ProbeArgs};
use crate::ledger::Action;

/// Arguments of `rootguard act`.
#[derive(Args)]
pub struct ActArgs {
    /// JSON output.
    #[arg(long)]
    json: bool,
    /// Probe settings for the pre-check of an applicant's proposed delegation.
    #[command(flatten)]
    probe: ProbeArgs,
    /// Check profile for that pre-check (TOML).
    #[arg(long)]
    profile: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    action: Action,
}

impl ActArgs {
    /// Records the action.
    pub async fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let key = ctx.identity_key()?;
        let app = ctx.app(&self.config, Some(&self.probe), self.profile.as_deref())?;
        let r = super::sign::record(ctx, &app, &key, &self.action).await?;
        if self.json {
            print_json(&r)?;
        } else {
            emit(&format!(
                "event {} {} by {} ({}){}: {}\n",
                r.event.seq,
                r.event.event.kind,
                r.event.event.actor,
                r.event.event.role,
                if app.world().settings.simulation {
                    " [simulation]"
                } else {
                    ""
                },
                r.result
            ))?;
        }
        Ok(0)
    }
}
