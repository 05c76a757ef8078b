//! `rootguard backup FILE`: a consistent copy of the record, taken while
//! the daemon or another writer runs (SQLite `VACUUM INTO`). The guard's
//! key lives in its own file and is not copied: keep it apart.

use std::path::PathBuf;

use clap::Args;

use super::{CliError, Context};
use crate::store::Store;

/// Arguments of `rootguard backup`.
#[derive(Args)]
pub struct BackupArgs {
    /// The copy to write (must not exist).
    file: PathBuf,
}

impl BackupArgs {
    /// Copies the record.
    pub fn run(self, ctx: &Context) -> Result<u8, CliError> {
        if self.file.exists() {
            return Err(CliError::Argument {
                argument: "backup",
                value: self.file.display().to_string(),
                reason: "exists already; give a new file".into(),
            });
        }
        let store = Store::open(&ctx.store())?;
        store.backup(&self.file)?;
        let copy = Store::open(&self.file)?;
        let report = copy.verify()?;
        if let Some(bad) = report.first_bad {
            return Err(CliError::Argument {
                argument: "backup",
                value: self.file.display().to_string(),
                reason: format!(
                    "the copy does not verify at event {}: {}",
                    bad.seq, bad.reason
                ),
            });
        }
        eprintln!(
            "rootguard: {} events copied to {}",
            report.events,
            self.file.display()
        );
        Ok(0)
    }
}
