//! `rootguard zone summary|diff`: root zone files.

use std::path::PathBuf;

use clap::Subcommand;

use super::CliError;
use super::args::parse_signature_time;
use super::output::{emit, print_json};
use crate::zone::summary::Summary;
use crate::zone::verify::{TrustAnchor, verify_zone};
use crate::zone::{Registry, Zone, ZoneIndex, diff};

/// `rootguard zone` subcommands.
#[derive(Subcommand)]
pub enum ZoneCommand {
    /// Serial, TLD and ccTLD counts, NS distribution, DS, authenticity.
    Summary {
        /// Root zone file.
        file: PathBuf,
        /// Registry file, to recognise IDN ccTLDs.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Trust anchor file with DS or DNSKEY records for '.' (default: built-in root KSKs).
        #[arg(long)]
        trust_anchor: Option<PathBuf>,
        /// Verify as of this time (RFC 3339); default now.
        #[arg(long)]
        at: Option<String>,
        /// Parse and index only; do not verify signatures or ZONEMD.
        #[arg(long)]
        no_verify: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Delegation differences between two root zone files.
    Diff {
        /// The older file.
        old: PathBuf,
        /// The newer file.
        new: PathBuf,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

impl ZoneCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<u8, CliError> {
        match self {
            ZoneCommand::Summary {
                file,
                registry,
                trust_anchor,
                at,
                no_verify,
                json,
            } => {
                let at = match at {
                    Some(a) => parse_signature_time("--at", &a)?,
                    None => crate::time::Timestamp::now(),
                }
                .signature_time_clamped();
                let zone = Zone::from_file(&file)?;
                let registry = registry.as_deref().map(Registry::from_file).transpose()?;
                let anchor = match trust_anchor {
                    Some(p) => TrustAnchor::from_file(&p)?,
                    None => TrustAnchor::builtin(at),
                };
                let index = ZoneIndex::build(&zone, registry.as_ref());
                let auth = (!no_verify).then(|| verify_zone(&zone, &anchor, at));
                let summary = Summary::new(&zone.source, &index, auth);
                if json {
                    print_json(&summary)?;
                } else {
                    emit(&summary.to_string())?;
                }
            }
            ZoneCommand::Diff { old, new, json } => {
                let old = ZoneIndex::build(&Zone::from_file(&old)?, None);
                let new = ZoneIndex::build(&Zone::from_file(&new)?, None);
                let d = diff::diff(&old, &new);
                if json {
                    print_json(&d)?;
                } else {
                    emit(&d.to_string())?;
                }
            }
        }
        Ok(0)
    }
}
