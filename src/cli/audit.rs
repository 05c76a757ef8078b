//! `rootguard audit verify|export`: the journal's hash chain.

use clap::Subcommand;

use super::output::print_json;
use super::{CliError, Context};
use crate::store::Store;

/// `rootguard audit` subcommands.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain (exit 1 naming the first bad event).
    Verify {
        /// A head hash recorded earlier (e.g. from a previous verify or
        /// export): the chain must still contain it, which detects events
        /// removed from the end.
        #[arg(long)]
        expect_head: Option<String>,
    },
    /// Write the journal as JSON lines to stdout.
    Export,
}

impl AuditCommand {
    /// Runs the subcommand.
    pub fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let store = Store::open(&ctx.store())?;
        match self {
            AuditCommand::Verify { expect_head } => {
                let r = store.verify_with_head(expect_head.as_deref())?;
                print_json(&r)?;
                Ok(if r.first_bad.is_none() { 0 } else { 1 })
            }
            AuditCommand::Export => {
                let mut out = std::io::stdout().lock();
                store.export(&mut out)?;
                Ok(0)
            }
        }
    }
}
