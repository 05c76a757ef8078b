//! `rootguard batch`: record actions read from standard input, one JSON
//! action a line; each acknowledged event is printed once durably
//! committed. A refused action is reported and the batch goes on (exit 3
//! at the end); a line that is not an action stops it.

use clap::Args;

use super::output::emit;
use super::{CliError, ConfigArgs, Context};
use crate::app::AppError;
use crate::ledger::{Action, LedgerError};

/// Arguments of `rootguard batch`.
#[derive(Args)]
pub struct BatchArgs {
    #[command(flatten)]
    config: ConfigArgs,
}

impl BatchArgs {
    /// Records every line.
    pub async fn run(self, ctx: &Context) -> Result<u8, CliError> {
        use std::io::BufRead;
        let key = ctx.identity_key()?;
        let app = ctx.app(&self.config, None, None)?;
        let mut refused = false;
        for (n, line) in std::io::stdin().lock().lines().enumerate() {
            let line = line.map_err(|source| CliError::Io {
                what: "reading standard input",
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            // A line that is not JSON of an action stops the batch; one whose
            // values are not valid (a bad time, an invalid name) is refused
            // like any refusal, and the batch goes on.
            let action: Action = match serde_json::from_str(&line) {
                Ok(a) => a,
                Err(e) if e.classify() == serde_json::error::Category::Data => {
                    refused = true;
                    eprintln!("stdin:{}: not a valid action: {e}", n + 1);
                    continue;
                }
                Err(e) => {
                    return Err(CliError::Input {
                        line: n + 1,
                        reason: format!("not an action: {e}"),
                    });
                }
            };
            match super::sign::record(ctx, &app, &key, &action).await {
                Ok(r) => emit(&format!(
                    "{}\n",
                    serde_json::json!({"seq": r.event.seq, "kind": r.event.event.kind})
                ))?,
                Err(CliError::App(
                    e @ (AppError::Ledger(LedgerError::Refused(_) | LedgerError::Invalid(_))
                    | AppError::Invalid(_)
                    | AppError::Observation { .. }
                    | AppError::Confirmations),
                )) => {
                    refused = true;
                    eprintln!("stdin:{}: {e}", n + 1);
                }
                Err(
                    e @ CliError::Remote {
                        status: 400..=499, ..
                    },
                ) => {
                    refused = true;
                    eprintln!("stdin:{}: {e}", n + 1);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(if refused { 3 } else { 0 })
    }
}
