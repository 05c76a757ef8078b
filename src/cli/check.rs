//! `rootguard check`: probe TLDs and report (exit 0 ok, 1 degraded,
//! 2 threat, 3 bad input).

use std::path::PathBuf;

use clap::Args;

use super::CliError;
use super::args::{ProbeArgs, parse_signature_time};
use super::output::{emit, print_json};
use crate::checks::report::{CheckOptions, check};

/// Arguments of `rootguard check`.
#[derive(Args)]
pub struct CheckArgs {
    /// TLDs to check (labels, e.g. `fr` or `xn--p1ai`).
    tlds: Vec<String>,
    /// Check every ccTLD of the root zone.
    #[arg(long)]
    all_cctlds: bool,
    /// Root zone file (default with --lab: the lab's root.zone).
    #[arg(long)]
    root_zone: Option<PathBuf>,
    /// Registry file (tld-managers.json format), to recognise IDN ccTLDs.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Check profile (TOML).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Serve this lab directory in-process while checking.
    #[cfg(feature = "lab")]
    #[arg(long)]
    lab: Option<PathBuf>,
    #[command(flatten)]
    probe: ProbeArgs,
    /// Evaluate signatures as of this time (RFC 3339); default now.
    #[arg(long)]
    at: Option<String>,
    /// Run only the checks that need the root zone alone (NS count, glue
    /// addresses, referral size, DS digest and algorithm), without probing.
    #[arg(long = "static")]
    statics: bool,
    /// JSON output (schema rootguard.check/1).
    #[arg(long)]
    json: bool,
}

impl CheckArgs {
    /// Runs the check.
    pub async fn run(self) -> Result<u8, CliError> {
        let opts = CheckOptions {
            tlds: self.tlds,
            all_cctlds: self.all_cctlds,
            root_zone: self.root_zone,
            registry: self.registry,
            profile: self.profile,
            probe: self.probe.config(),
            port: self.probe.dns_port,
            at: self
                .at
                .as_deref()
                .map(|a| parse_signature_time("--at", a))
                .transpose()?,
            statics: self.statics,
        };
        #[cfg(feature = "lab")]
        let report = match self.lab {
            Some(dir) => crate::lab::check_in_lab(&dir, opts).await?,
            None => check(&opts).await?,
        };
        #[cfg(not(feature = "lab"))]
        let report = check(&opts).await?;
        if self.json {
            print_json(&report)?;
        } else {
            emit(&report.to_string())?;
        }
        Ok(report.exit_code())
    }
}
