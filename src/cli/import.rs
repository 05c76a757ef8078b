//! `rootguard import`: seed the approved delegation record (once).

use std::path::PathBuf;

use clap::Args;

use super::output::emit;
use super::{CliError, ConfigArgs, Context};
use crate::app::seed::SeedCheck;
use crate::ledger::Settings;
use crate::policy::PolicyConfig;

/// Arguments of `rootguard import`.
#[derive(Args)]
pub struct ImportArgs {
    /// Root zone file.
    #[arg(long)]
    root_zone: PathBuf,
    /// Registry file (tld-managers.json format): managers and contacts.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// K: sweeps a finding or threat must persist (default 3).
    #[arg(long, default_value_t = 3)]
    persist_sweeps: u32,
    /// R: clear sweeps before a suspension is lifted (default 3).
    #[arg(long, default_value_t = 3)]
    clear_sweeps: u32,
    /// Propose justified suspensions to an operator instead of imposing them.
    #[arg(long)]
    propose_suspensions: bool,
    /// Appeal window in days (docs/RULES.md#appeal; the source sets none).
    #[arg(long, default_value_t = 30)]
    appeal_window_days: i64,
    /// Trust anchor file with DS or DNSKEY records for '.' (default: the built-in IANA root KSKs).
    #[arg(long)]
    trust_anchor: Option<PathBuf>,
    /// Seed from a zone that is not verified (labs, tests). Recorded as
    /// such: a daemon with zone.require_authentic refuses the record.
    #[arg(long)]
    no_verify: bool,
}

impl ImportArgs {
    /// Seeds the record.
    pub async fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let app = ctx.app(&ConfigArgs::default(), None, None)?;
        let settings = Settings {
            policy: PolicyConfig {
                persist_sweeps: self.persist_sweeps,
                clear_sweeps: self.clear_sweeps,
                auto_suspend: !self.propose_suspensions,
            },
            appeal_window_days: self.appeal_window_days,
        };
        let r = app
            .import(
                &self.root_zone,
                self.registry.as_deref(),
                settings,
                SeedCheck {
                    skip: self.no_verify,
                    trust_anchor: self.trust_anchor,
                },
                &ctx.actor,
                ctx.when,
            )
            .await?;
        emit(&format!("event {}: {}\n", r.event.seq, r.result))?;
        Ok(0)
    }
}
