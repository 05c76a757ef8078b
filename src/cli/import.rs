//! `rootguard import`: seed the approved delegation record (once).

use std::path::PathBuf;

use clap::Args;

use super::output::emit;
use super::{CliError, ConfigArgs, Context};
use crate::app::seed::SeedCheck;
use crate::ledger::Settings;
use crate::ledger::identity::{Kind, Registration};
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
    /// The least time a cure instruction gives the manager, in days
    /// (docs/RULES.md#durations).
    #[arg(long, default_value_t = 30)]
    min_cure_days: i64,
    /// The shortest public comment period, in days (docs/RULES.md#durations).
    #[arg(long, default_value_t = 30)]
    min_comment_days: i64,
    /// The shortest appeal window, in days (docs/RULES.md#durations).
    #[arg(long, default_value_t = 14)]
    min_appeal_window_days: i64,
    /// How long, in seconds, the quorum of vantages may be lost before
    /// each active suspension needs an operator (docs/RULES.md#quorum-review).
    #[arg(long, default_value_t = 1800)]
    quorum_review_secs: i64,
    /// Trust anchor file with DS or DNSKEY records for '.' (default: the built-in IANA root KSKs).
    #[arg(long)]
    trust_anchor: Option<PathBuf>,
    /// Seed from a zone that is not verified (labs, tests). Recorded as
    /// such: a daemon with zone.require_authentic refuses the record.
    #[arg(long)]
    no_verify: bool,
    /// The first operator's identity name (docs/RULES.md#identities).
    #[arg(long)]
    operator: String,
    /// The first operator's verifier key, or its `.pub` file (`rootguard key new`).
    #[arg(long)]
    operator_key: String,
    /// The natural person behind the first operator (default: the name).
    #[arg(long)]
    operator_person: Option<String>,
    /// Create a simulation: the only kind of record whose clock may be
    /// set (--now); it says so in every output, page and metric.
    #[arg(long)]
    simulation: bool,
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
                min_cure_days: self.min_cure_days,
                min_comment_days: self.min_comment_days,
                min_appeal_window_days: self.min_appeal_window_days,
                quorum_review_secs: self.quorum_review_secs,
            },
            appeal_window_days: self.appeal_window_days,
            simulation: self.simulation,
        };
        let operator = Registration {
            id: self.operator.clone(),
            kind: Kind::Operator,
            tlds: Vec::new(),
            person: self.operator_person.unwrap_or(self.operator),
            key: Some(super::key::verifier_key(
                "--operator-key",
                &self.operator_key,
            )?),
            token_sha256: None,
            body: None,
            of: None,
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
                operator,
                ctx.when,
            )
            .await?;
        emit(&format!(
            "event {}: {}{}\n",
            r.event.seq,
            r.result,
            if self.simulation { " [simulation]" } else { "" }
        ))?;
        Ok(0)
    }
}
