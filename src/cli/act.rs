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
        let app = ctx.app(&self.config, Some(&self.probe), self.profile.as_deref())?;
        let r = app
            .submit_input(&ctx.actor, ctx.role, ctx.when, self.action)
            .await?;
        if self.json {
            print_json(&r)?;
        } else {
            emit(&format!(
                "event {} {}: {}\n",
                r.event.seq, r.event.event.kind, r.result
            ))?;
        }
        Ok(0)
    }
}
