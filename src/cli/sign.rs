//! Signing a command with the acting identity's key and recording it: sent
//! to the daemon's API when a daemon serves the record (the one writer
//! that holds the guard's key), otherwise recorded by opening the record
//! (`docs/RULES.md#identities`).

use std::sync::Arc;

use super::{CliError, Context};
use crate::app::{App, When};
use crate::ledger::command::sign_command;
use crate::ledger::{Action, Recorded};
use crate::store::checkpoint::SigningKey;
use crate::time::Timestamp;

impl Context {
    /// The acting identity's key (`--key`).
    pub(super) fn identity_key(&self) -> Result<SigningKey, CliError> {
        let Some(file) = &self.key else {
            return Err(CliError::Argument {
                argument: "--key",
                value: String::new(),
                reason: "commands are signed: give the acting identity's key file (`rootguard key new`, registered by an operator; docs/RULES.md#identities)".into(),
            });
        };
        Ok(SigningKey::load(file).map_err(crate::app::AppError::from)?)
    }

    /// The API of the daemon serving the record, when one runs.
    pub(super) fn daemon(&self, app_store: &std::path::Path) -> Result<Option<String>, CliError> {
        crate::daemon::presence::running(app_store).map_err(|message| CliError::Remote {
            url: String::new(),
            status: 0,
            message,
        })
    }
}

/// Signs `action` with `key` and records it through the daemon serving
/// the record, or through `app`.
pub(super) async fn record(
    ctx: &Context,
    app: &Arc<App>,
    key: &SigningKey,
    action: &Action,
) -> Result<Recorded, CliError> {
    let issued = match ctx.when {
        When::At(t) => t,
        When::Now => Timestamp::now(),
    };
    let record = crate::ledger::command::record_id(&app.world());
    let note = sign_command(key, &record, action, issued).map_err(crate::app::AppError::from)?;
    match ctx.daemon(&app.config.store)? {
        Some(url) => {
            let recorded = send(&url, &note).await?;
            if crate::store::is_postgres(&app.config.store) {
                // The leader's address came from the database: its answer
                // counts only once the record holds that very event
                // (docs/RULES.md#replication).
                let (seq, hash) = (recorded.event.seq, recorded.event.hash.clone());
                let held = app
                    .blocking(move |ledger, _| {
                        Ok(ledger.store().event(seq)?.filter(|e| e.hash == hash))
                    })
                    .await?;
                // That very event: this identity's, of this action, recorded
                // after the command was signed (an older event of the record
                // is not an answer to it).
                let ours = held.is_some_and(|e| {
                    e.event.actor == key.name
                        && e.event.kind == action.kind()
                        && Timestamp::parse(&e.event.at)
                            .is_ok_and(|at| at.as_second() >= issued.as_second() - 60)
                });
                if !ours {
                    return Err(CliError::Remote {
                        url,
                        status: 0,
                        message: format!(
                            "answered event {seq}, which the shared record does not hold as this command's: not the record's leader"
                        ),
                    });
                }
            }
            Ok(recorded)
        }
        None => Ok(app.submit_signed(&note, ctx.when).await?),
    }
}

/// Sends a signed command to the daemon at `url`.
async fn send(url: &str, note: &str) -> Result<Recorded, CliError> {
    let remote = |status: u16, message: String| CliError::Remote {
        url: url.to_string(),
        status,
        message,
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| remote(0, e.to_string()))?;
    let response = client
        .post(format!("{url}/api/v1/commands"))
        .header("content-type", "text/plain; charset=utf-8")
        .body(note.to_string())
        .send()
        .await
        .map_err(|e| remote(0, format!("unreachable: {e}")))?;
    let status = response.status().as_u16();
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| remote(status, format!("not a JSON answer: {e}")))?;
    if status != 200 {
        let mut message = body["error"].as_str().unwrap_or("refused").to_string();
        if let Some(section) = body["section"].as_str() {
            message.push_str(&format!(" ({section})"));
        }
        return Err(remote(status, message));
    }
    serde_json::from_value(body).map_err(|e| remote(status, format!("not a recorded event: {e}")))
}
