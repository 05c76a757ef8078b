//! `rootguard checks`: the check catalogue.

use clap::Args;

use super::CliError;
use super::output::{emit, print_json};
use crate::checks::{CATALOGUE, Profile};

/// Arguments of `rootguard checks`.
#[derive(Args)]
pub struct ChecksArgs {
    /// JSON output.
    #[arg(long)]
    json: bool,
}

impl ChecksArgs {
    /// Prints the catalogue.
    pub fn run(self) -> Result<u8, CliError> {
        if self.json {
            print_json(&CATALOGUE)?;
            return Ok(0);
        }
        let p = Profile::default();
        let mut text = String::new();
        for c in CATALOGUE {
            text.push_str(&format!(
                "{:<22} {:<8} {:<28} {}\n{:<22} {}\n",
                c.id,
                p.severity(c.id).to_string(),
                c.zonemaster_cases(),
                c.iana,
                "",
                c.tests
            ));
        }
        emit(&text)?;
        Ok(0)
    }
}
