//! `rootguard sweep`: probe every approved ccTLD once and feed the
//! findings to the rules, through the same pipeline and impairment rule as
//! the daemon (`docs/RULES.md#impaired-vantage`; canaries from the
//! configuration's `sweep.canaries`).

use std::path::PathBuf;

use clap::Args;

use super::output::{emit, print_json};
use super::{CliError, ConfigArgs, Context, ProbeArgs};

/// Arguments of `rootguard sweep`.
#[derive(Args)]
pub struct SweepArgs {
    #[command(flatten)]
    probe: ProbeArgs,
    /// Check profile (TOML).
    #[arg(long)]
    profile: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

impl SweepArgs {
    /// Sweeps once.
    pub async fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let app = ctx.app(&self.config, Some(&self.probe), self.profile.as_deref())?;
        // Every write goes through the one process that holds the guard's
        // key: a daemon serving the record sweeps it itself.
        if let Some(url) = ctx.daemon(&app.config.store)? {
            return Err(CliError::Remote {
                url,
                status: 409,
                message: "a daemon serves this record and sweeps it itself; a second sweeper is refused (docs/RULES.md#identities)".into(),
            });
        }
        let s = app.sweep(ctx.when).await?;
        if self.json {
            print_json(&s)?;
            return Ok(0);
        }
        let mut text = format!(
            "sweep of {} ccTLDs{}\n",
            s.reports.len(),
            if s.impaired {
                " (vantage point IMPAIRED: no complaint or suspension)"
            } else {
                ""
            }
        );
        for r in &s.recorded {
            for e in r.result["effects"].as_array().into_iter().flatten() {
                text.push_str(&format!("  {} {}\n", r.event.event.subject, e));
            }
        }
        emit(&text)?;
        Ok(0)
    }
}
