//! `rootguard lab serve|derive|ds`: labs of in-process name servers on
//! loopback (the `lab` feature).

use std::path::PathBuf;

use clap::Subcommand;

use super::CliError;
use super::output::emit;
use crate::lab::{Lab, LabKey, derive, load_dir};
use crate::zone::{Registry, Zone, ZoneIndex};

/// `rootguard lab` subcommands.
#[derive(Subcommand)]
pub enum LabCommand {
    /// Serve a lab directory (root.zone, lab.toml) until interrupted.
    Serve {
        /// Lab directory.
        dir: PathBuf,
    },
    /// Derive a lab from a root zone: same TLDs and NS names, hosts on loopback.
    Derive {
        /// Root zone file.
        root_zone: PathBuf,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Registry file, to include IDN ccTLDs.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Port of the lab's servers.
        #[arg(long, default_value_t = 5300)]
        port: u16,
        /// Include every TLD, not only ccTLDs.
        #[arg(long)]
        all_tlds: bool,
    },
    /// Record DAYS simulated days of 60 s sweeps over a root zone's ccTLDs
    /// into a NEW record created as a simulation (the only place
    /// observations are synthesised); prints what it recorded as JSON.
    Simulate {
        /// The new record file (its guard key STORE.key and an operator key
        /// STORE.operator.key are created beside it).
        store: PathBuf,
        /// Days of sweeps.
        #[arg(long, default_value_t = 1)]
        days: i64,
        /// Root zone whose ccTLDs are swept (default: the demo lab's).
        #[arg(long)]
        root_zone: Option<PathBuf>,
        /// Registry file (managers, contacts, IDN ccTLDs).
        #[arg(long)]
        registry: Option<PathBuf>,
    },
    /// Print the DS record of a lab TLD's key.
    Ds {
        /// TLD label.
        tld: String,
        /// Key generation.
        #[arg(long, default_value_t = 1)]
        generation: u32,
        /// Digest type (1 SHA-1, 2 SHA-256, 4 SHA-384).
        #[arg(long, default_value = "2", value_parser = ["1", "2", "4"])]
        digest_type: String,
    },
}

fn write(path: PathBuf, data: &[u8]) -> Result<(), CliError> {
    std::fs::write(&path, data).map_err(|source| CliError::Io {
        what: "writing the lab",
        source: std::io::Error::new(source.kind(), format!("{}: {source}", path.display())),
    })
}

impl LabCommand {
    /// Runs the subcommand.
    pub async fn run(self) -> Result<u8, CliError> {
        match self {
            LabCommand::Serve { dir } => {
                let (spec, zone) = load_dir(&dir)?;
                let lab = Lab::start(spec, &zone).await?;
                eprintln!(
                    "lab {}: {} addresses on port {}; Ctrl-C to stop",
                    dir.display(),
                    lab.addresses.len(),
                    lab.spec.port
                );
                let stopped = tokio::signal::ctrl_c().await;
                lab.shutdown().await;
                stopped.map_err(|source| CliError::Io {
                    what: "waiting for Ctrl-C",
                    source,
                })?;
            }
            LabCommand::Derive {
                root_zone,
                out,
                registry,
                port,
                all_tlds,
            } => {
                let zone = Zone::from_file(&root_zone)?;
                let registry = registry.as_deref().map(Registry::from_file).transpose()?;
                let index = ZoneIndex::build(&zone, registry.as_ref());
                let lab = derive::derive(&index, port, |d| all_tlds || d.kind.is_cctld());
                std::fs::create_dir_all(&out).map_err(|source| CliError::Io {
                    what: "creating the lab directory",
                    source,
                })?;
                let spec = toml::to_string(&lab.spec).map_err(|e| CliError::Io {
                    what: "writing lab.toml",
                    source: std::io::Error::other(e),
                })?;
                write(out.join("root.zone"), lab.root_zone.as_bytes())?;
                write(out.join("lab.toml"), spec.as_bytes())?;
                write(
                    out.join("profile.toml"),
                    b"name = \"loopback lab\"\ndisable = [\"ADDRESS-SCOPE\"]\n",
                )?;
                eprintln!("lab written to {}: {} NS hosts", out.display(), lab.hosts);
            }
            LabCommand::Simulate {
                store,
                days,
                root_zone,
                registry,
            } => {
                let zone = root_zone.unwrap_or_else(|| PathBuf::from("zones/lab/root.zone"));
                let report = tokio::task::spawn_blocking(move || {
                    crate::lab::simulate::simulate(&store, &zone, registry.as_deref(), days, |d| {
                        eprintln!("simulated day {d}")
                    })
                })
                .await
                .map_err(crate::app::AppError::from)?
                .map_err(|e| match e {
                    crate::lab::simulate::SimulateError::App(a) => CliError::App(a),
                    other => CliError::Argument {
                        argument: "STORE",
                        value: String::new(),
                        reason: other.to_string(),
                    },
                })?;
                super::output::print_json(&report)?;
            }
            LabCommand::Ds {
                tld,
                generation,
                digest_type,
            } => {
                let tld = tld.trim_end_matches('.').to_ascii_lowercase();
                emit(&format!(
                    "{tld}. 86400 IN DS {}\n",
                    LabKey::derive(&tld, generation).ds_with(digest_type.parse().unwrap_or(2))
                ))?;
            }
        }
        Ok(0)
    }
}
