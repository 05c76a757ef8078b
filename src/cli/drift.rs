//! `rootguard drift`: unauthorised differences between a root zone and the
//! record (`docs/RULES.md#drift`; exit 1 when any).

use std::path::PathBuf;

use clap::Args;

use super::output::print_json;
use super::{CliError, ConfigArgs, Context};
use crate::zone::{Registry, Zone, ZoneIndex};

/// Arguments of `rootguard drift`.
#[derive(Args)]
pub struct DriftArgs {
    /// Root zone file.
    #[arg(long)]
    root_zone: PathBuf,
    /// Registry file, to recognise IDN ccTLDs.
    #[arg(long)]
    registry: Option<PathBuf>,
}

impl DriftArgs {
    /// Compares.
    pub async fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let app = ctx.app(&ConfigArgs::default(), None, None)?;
        let zone = Zone::from_file(&self.root_zone)?;
        let registry = self
            .registry
            .as_deref()
            .map(Registry::from_file)
            .transpose()?;
        let d = app.drift(&ZoneIndex::build(&zone, registry.as_ref()));
        print_json(&d)?;
        Ok(if d.is_empty() { 0 } else { 1 })
    }
}
