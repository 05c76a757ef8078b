//! `rootguard gate REQUEST.json`: decide a change request (exit 0 allowed,
//! 1 blocked, 3 bad input).

use std::path::PathBuf;

use clap::Args;

use super::output::{emit, print_json};
use super::{CliError, ConfigArgs, Context, ProbeArgs};
use crate::app::gate::read_request;

/// Arguments of `rootguard gate`.
#[derive(Args)]
pub struct GateArgs {
    /// The request (JSON, docs/change-request.schema.json).
    request: PathBuf,
    #[command(flatten)]
    probe: ProbeArgs,
    /// Check profile for the pre-check (TOML).
    #[arg(long)]
    profile: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

impl GateArgs {
    /// Decides the request.
    pub async fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let key = ctx.identity_key()?;
        let app = ctx.app(&self.config, Some(&self.probe), self.profile.as_deref())?;
        let req = read_request(&self.request)?;
        let action = crate::ledger::Action::Gate {
            request: Box::new(req),
            precheck: None,
        };
        let r = super::sign::record(ctx, &app, &key, &action).await?;
        let d: crate::policy::gate::GateDecision =
            serde_json::from_value(r.result["decision"].clone()).map_err(|e| {
                crate::app::AppError::from(crate::ledger::LedgerError::Replay {
                    seq: r.event.seq,
                    kind: "gate".into(),
                    reason: e.to_string(),
                })
            })?;
        if self.json {
            print_json(&serde_json::json!({"event": r.event.seq, "decision": d}))?;
        } else {
            let mut text = format!(
                "{} ({:?}), recorded as event {}\n",
                if d.allowed { "ALLOWED" } else { "BLOCKED" },
                d.kind,
                r.event.seq
            );
            for x in &d.reasons {
                text.push_str(&format!("  - {} [{}]\n", x.text, x.section));
            }
            emit(&text)?;
        }
        Ok(if d.allowed { 0 } else { 1 })
    }
}
