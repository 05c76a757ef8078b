//! `rootguard show`: recorded state as JSON.

use clap::Args;

use super::output::print_json;
use super::{CliError, Context};
use crate::ledger::Ledger;

/// Arguments of `rootguard show`.
#[derive(Args)]
pub struct ShowArgs {
    /// What to show: complaint, case, tld, decisions or all.
    what: String,
    /// Its number or label.
    #[arg(id = "label", value_name = "KEY")]
    key: Option<String>,
}

impl ShowArgs {
    fn key(&self) -> Result<&str, CliError> {
        self.key.as_deref().ok_or_else(|| CliError::Argument {
            argument: "show",
            value: self.what.clone(),
            reason: "give a number or label".into(),
        })
    }

    fn number(&self) -> Result<u64, CliError> {
        let k = self.key()?;
        k.parse().map_err(|_| CliError::Argument {
            argument: "show",
            value: format!("{} {k}", self.what),
            reason: "not a number".into(),
        })
    }

    /// Prints the state.
    pub fn run(self, ctx: &Context) -> Result<u8, CliError> {
        // The guard's key (when this user may read it) verifies every
        // event's seal and the snapshot.
        let config = super::ConfigArgs::default().load(Some(&ctx.store()))?;
        let ledger = Ledger::open_sealed(&ctx.store(), Some(&config.guard_key_path()))
            .map_err(crate::app::AppError::from)?;
        let w = ledger.world();
        let json = |v: serde_json::Result<serde_json::Value>| {
            v.map_err(|e| CliError::Io {
                what: "writing JSON",
                source: e.into(),
            })
        };
        let value = match self.what.as_str() {
            "complaint" => json(serde_json::to_value(w.complaints.get(&self.number()?)))?,
            "case" => json(serde_json::to_value(w.cases.get(&self.number()?)))?,
            "tld" => {
                let k = crate::zone::Tld::parse(self.key()?)
                    .map_err(|e| CliError::Argument {
                        argument: "show tld",
                        value: self.key.clone().unwrap_or_default(),
                        reason: e.to_string(),
                    })?
                    .into_string();
                serde_json::json!({"approved": w.approved.get(&k), "technical": w.technical.get(&k)})
            }
            "decisions" => json(serde_json::to_value(&w.decisions))?,
            "all" => json(serde_json::to_value(w))?,
            other => {
                return Err(CliError::Argument {
                    argument: "show",
                    value: other.to_string(),
                    reason: "expected complaint, case, tld, decisions or all".into(),
                });
            }
        };
        print_json(&value)?;
        Ok(0)
    }
}
