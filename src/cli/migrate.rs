//! `rootguard migrate`: converts a record written in an older format,
//! keeping a copy of the old file and recording its head hash in the log.

use clap::Args;

use super::output::print_json;
use super::{CliError, Context};
use crate::ledger::Ledger;

/// Arguments of `rootguard migrate`.
#[derive(Args)]
pub struct MigrateArgs {}

impl MigrateArgs {
    /// Converts the record named by `--store`.
    pub fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let (ledger, migrated) =
            Ledger::migrate(&ctx.store()).map_err(crate::app::AppError::from)?;
        let report = ledger.store().verify()?;
        print_json(&serde_json::json!({
            "migrated": migrated,
            "events": report.events,
            "first_bad": report.first_bad,
        }))?;
        Ok(if report.first_bad.is_none() { 0 } else { 1 })
    }
}
