//! The `rootguard` binary: parses arguments, starts logging, calls the
//! library and maps the outcome to an exit status (0 ok, 1 degraded,
//! 2 threat, 3 bad input, 4 runtime failure).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use rootguard::checks::report::{CheckOptions, check};
use rootguard::checks::{CATALOGUE, Profile};
use rootguard::lab::{Lab, LabKey, derive, load_dir};
use rootguard::probe::ProbeConfig;
use rootguard::zone::summary::Summary;
use rootguard::zone::verify::{TrustAnchor, verify_zone};
use rootguard::zone::{Registry, Zone, ZoneIndex, diff};

/// rootguard: a DNS root zone delegation guard for ccTLDs.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Probe TLDs' name servers and report findings (exit 0 ok, 1 degraded, 2 threat, 3 bad input).
    Check(CheckArgs),
    /// Root zone files: summary and diff.
    #[command(subcommand)]
    Zone(ZoneCommand),
    /// Demo and test labs of in-process name servers on loopback.
    #[command(subcommand)]
    Lab(LabCommand),
    /// Print the check catalogue.
    Checks {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct CheckArgs {
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
    #[arg(long)]
    lab: Option<PathBuf>,
    /// Port of the name servers (default 53; with --lab the lab's port).
    #[arg(long)]
    dns_port: Option<u16>,
    /// Resolver (ip:port) for NS hosts without glue (default: the system's, or the lab's).
    #[arg(long)]
    resolver: Option<std::net::SocketAddr>,
    /// UDP time budget per query in ms, retries included.
    #[arg(long, default_value_t = 2000)]
    udp_timeout_ms: u64,
    /// TCP time budget per query in ms.
    #[arg(long, default_value_t = 3000)]
    tcp_timeout_ms: u64,
    /// Queries in flight at once.
    #[arg(long, default_value_t = 512)]
    concurrency: usize,
    /// Evaluate signatures as of this time (RFC 3339); default now.
    #[arg(long)]
    at: Option<String>,
    /// JSON output (schema rootguard.check/1).
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum ZoneCommand {
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

#[derive(Subcommand)]
enum LabCommand {
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
    /// Print the DS record of a lab TLD's key.
    Ds {
        /// TLD label.
        tld: String,
        /// Key generation.
        #[arg(long, default_value_t = 1)]
        generation: u32,
    },
}

fn parse_at(at: Option<&str>) -> anyhow::Result<Option<u32>> {
    at.map(|s| {
        s.parse::<jiff::Timestamp>()
            .map(|t| t.as_second() as u32)
            .with_context(|| {
                format!("--at {s:?}: not an RFC 3339 time (e.g. 2018-01-31T00:00:00Z)")
            })
    })
    .transpose()
}

/// Writes to stdout; a closed pipe (`| head`) ends output quietly.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    emit(&(serde_json::to_string_pretty(value)? + "\n"))
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Check(a) => {
            let opts = CheckOptions {
                tlds: a.tlds,
                all_cctlds: a.all_cctlds,
                root_zone: a.root_zone,
                registry: a.registry,
                profile: a.profile,
                lab: a.lab,
                probe: ProbeConfig {
                    udp_timeout_ms: a.udp_timeout_ms,
                    tcp_timeout_ms: a.tcp_timeout_ms,
                    concurrency: a.concurrency,
                    resolver: a.resolver,
                    ..ProbeConfig::default()
                },
                port: a.dns_port,
                at: parse_at(a.at.as_deref())?,
            };
            let report = check(&opts).await?;
            if a.json {
                print_json(&report)?;
            } else {
                emit(&report.to_string())?;
            }
            Ok(report.exit_code())
        }
        Command::Zone(ZoneCommand::Summary {
            file,
            registry,
            trust_anchor,
            at,
            no_verify,
            json,
        }) => {
            let at = parse_at(at.as_deref())?
                .unwrap_or_else(|| jiff::Timestamp::now().as_second() as u32);
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
            Ok(0)
        }
        Command::Zone(ZoneCommand::Diff { old, new, json }) => {
            let old = ZoneIndex::build(&Zone::from_file(&old)?, None);
            let new = ZoneIndex::build(&Zone::from_file(&new)?, None);
            let d = diff::diff(&old, &new);
            if json {
                print_json(&d)?;
            } else {
                emit(&d.to_string())?;
            }
            Ok(0)
        }
        Command::Lab(LabCommand::Serve { dir }) => {
            let (spec, zone) = load_dir(&dir)?;
            let lab = Lab::start(spec, &zone).await?;
            eprintln!(
                "lab {}: {} addresses on port {}; Ctrl-C to stop",
                dir.display(),
                lab.addresses.len(),
                lab.spec.port
            );
            tokio::signal::ctrl_c().await?;
            lab.shutdown().await;
            Ok(0)
        }
        Command::Lab(LabCommand::Derive {
            root_zone,
            out,
            registry,
            port,
            all_tlds,
        }) => {
            let zone = Zone::from_file(&root_zone)?;
            let registry = registry.as_deref().map(Registry::from_file).transpose()?;
            let index = ZoneIndex::build(&zone, registry.as_ref());
            let lab = derive::derive(&index, port, |d| all_tlds || d.kind.is_cctld());
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            std::fs::write(out.join("root.zone"), &lab.root_zone)?;
            std::fs::write(out.join("lab.toml"), toml::to_string(&lab.spec)?)?;
            std::fs::write(
                out.join("profile.toml"),
                "name = \"loopback lab\"\ndisable = [\"ADDRESS-SCOPE\"]\n",
            )?;
            eprintln!("lab written to {}: {} NS hosts", out.display(), lab.hosts);
            Ok(0)
        }
        Command::Lab(LabCommand::Ds { tld, generation }) => {
            let tld = tld.trim_end_matches('.').to_ascii_lowercase();
            emit(&format!(
                "{tld}. 86400 IN DS {}\n",
                LabKey::derive(&tld, generation).ds()
            ))?;
            Ok(0)
        }
        Command::Checks { json } => {
            if json {
                print_json(&CATALOGUE)?;
            } else {
                let p = Profile::default();
                let mut text = String::new();
                for c in CATALOGUE {
                    text.push_str(&format!(
                        "{:<22} {:<8} {:<28} {}\n{:<22} {}\n",
                        c.id,
                        p.severity(c.id).to_string(),
                        c.zonemaster,
                        c.iana,
                        "",
                        c.tests
                    ));
                }
                emit(&text)?;
            }
            Ok(0)
        }
    }
}

/// 4 for failures of this machine (a lab port in use, I/O on stdout),
/// 3 for everything else, which is bad input.
fn exit_code_for(e: &anyhow::Error) -> u8 {
    use rootguard::checks::report::CheckError;
    use rootguard::lab::LabError;
    let bind = |l: &LabError| matches!(l, LabError::Bind { .. });
    let runtime = e.downcast_ref::<LabError>().is_some_and(bind)
        || matches!(e.downcast_ref::<CheckError>(), Some(CheckError::Lab(l)) if bind(l))
        || e.downcast_ref::<std::io::Error>().is_some();
    if runtime { 4 } else { 3 }
}

fn main() -> ExitCode {
    // clap exits with 2 on usage errors, which would read as "threat".
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 3 } else { 0 });
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ROOTGUARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rootguard: cannot start the async runtime: {e}");
            return ExitCode::from(4);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("rootguard: {e:#}");
            ExitCode::from(exit_code_for(&e))
        }
    }
}
