//! The command line: one file per subcommand, each an argument type with
//! its own `run`. The binary (`main.rs`) parses [`Cli`], calls
//! [`Cli::run`] and exits with the status it returns or with
//! [`CliError::exit_code`].
//!
//! Exit statuses: 0 ok, 1 degraded / blocked / a difference found,
//! 2 threat, 3 bad input, 4 a failure of this machine.

mod act;
mod args;
mod audit;
mod backup;
mod batch;
mod check;
mod checks;
mod config;
#[cfg(feature = "lab")]
mod demo;
mod drift;
mod gate;
mod import;
mod key;
#[cfg(feature = "lab")]
mod lab;
mod migrate;
mod output;
mod serve;
mod show;
mod sign;
mod sweep;
mod vantage;
mod zone;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::app::{App, AppError, When};
pub use args::{ConfigArgs, ProbeArgs};

/// rootguard: a DNS root zone delegation guard for ccTLDs.
#[derive(Parser)]
#[command(version, about)]
pub struct Cli {
    /// The record: one SQLite file (default rootguard.sqlite; for `serve`,
    /// the configuration's `store`).
    #[arg(long, global = true, env = "ROOTGUARD_STORE")]
    store: Option<PathBuf>,
    /// The acting identity's key file (from `rootguard key new`, registered
    /// by an operator): commands are signed with it, and the actor and
    /// role recorded are that identity's (docs/RULES.md#identities).
    #[arg(
        long = "key",
        id = "identity_key",
        global = true,
        env = "ROOTGUARD_KEY"
    )]
    key: Option<PathBuf>,
    /// The time of the action (RFC 3339): only for a record created as a
    /// simulation (`import --simulation`); every other record keeps the
    /// system clock.
    #[arg(long, global = true, env = "ROOTGUARD_NOW")]
    now: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Probe TLDs' name servers and report findings (exit 0 ok, 1 degraded, 2 threat, 3 bad input).
    Check(check::CheckArgs),
    /// Root zone files: summary and diff.
    #[command(subcommand)]
    Zone(zone::ZoneCommand),
    /// Demo and test labs of in-process name servers on loopback.
    #[cfg(feature = "lab")]
    #[command(subcommand)]
    Lab(lab::LabCommand),
    /// Seed the approved delegation record from a root zone and a registry file (once).
    Import(import::ImportArgs),
    /// Record a governance action (identities, complaints, mediation, cases, suspensions), signed with --key.
    Act(Box<act::ActArgs>),
    /// Identity keys: `key new` creates one (the private key file, mode 0600, and its verifier key).
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Record actions read from stdin, one JSON action a line (as `act`
    /// takes them, e.g. {"action":"complaint-lodge","tld":"xa",...}); each
    /// acknowledged event is printed once durably committed.
    Batch(batch::BatchArgs),
    /// Probe every approved ccTLD once and feed the findings to the rules.
    Sweep(sweep::SweepArgs),
    /// Decide a change request (exit 0 allowed, 1 blocked, 3 bad input).
    Gate(gate::GateArgs),
    /// Unauthorised differences between a root zone and the record (exit 1 when any).
    Drift(drift::DriftArgs),
    /// Show recorded state as JSON: `complaint N`, `case N`, `tld X`, `decisions`, `all`.
    Show(show::ShowArgs),
    /// The journal: verify the hash chain, or export it as JSON lines.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Convert a record written in an older format (keeps a copy of the old file).
    Migrate(migrate::MigrateArgs),
    /// A consistent copy of the record while others write (the key file is not copied).
    Backup(backup::BackupArgs),
    /// Run the watching daemon: sweeps, rules, HTTP API, metrics (SIGTERM/SIGINT stop it cleanly).
    Serve(serve::ServeArgs),
    /// Run a probe-only vantage point reporting to a daemon (docs/RULES.md#quorum).
    Vantage(vantage::VantageArgs),
    /// The demo: the lab in zones/lab served in-process, watched by the daemon (http://127.0.0.1:8080/).
    #[cfg(feature = "lab")]
    Demo(demo::DemoArgs),
    /// Print the effective configuration (defaults < file < ROOTGUARD_* < --set).
    Config(config::ConfigCommand),
    /// Print the check catalogue.
    Checks(checks::ChecksArgs),
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An application operation failed.
    #[error(transparent)]
    App(#[from] AppError),
    /// `rootguard check` failed.
    #[error(transparent)]
    Check(#[from] crate::checks::report::CheckError),
    /// A zone, registry or trust anchor file could not be read.
    #[error(transparent)]
    Zone(#[from] crate::zone::ZoneError),
    /// A registry file could not be read.
    #[error(transparent)]
    Registry(#[from] crate::zone::registry::RegistryError),
    /// The configuration is not usable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The daemon failed.
    #[error(transparent)]
    Daemon(#[from] crate::daemon::DaemonError),
    /// The vantage failed.
    #[error(transparent)]
    Vantage(#[from] crate::daemon::vantage::VantageError),
    /// The lab failed.
    #[cfg(feature = "lab")]
    #[error(transparent)]
    Lab(#[from] crate::lab::LabError),
    /// `check --lab` failed.
    #[cfg(feature = "lab")]
    #[error(transparent)]
    LabCheck(#[from] crate::lab::LabCheckError),
    /// The demo failed.
    #[cfg(feature = "lab")]
    #[error(transparent)]
    Demo(#[from] crate::daemon::demo::DemoError),
    /// The record's store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// An argument is not valid.
    #[error("{argument} {value:?}: {reason}")]
    Argument {
        /// The argument.
        argument: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A line read from standard input is not valid.
    #[error("stdin:{line}: {reason}")]
    Input {
        /// Line number (1-based).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The daemon serving the record refused (HTTP 4xx) or failed a
    /// command sent to it.
    #[error("the daemon at {url}: {message}")]
    Remote {
        /// Its API.
        url: String,
        /// The HTTP status (0: unreachable).
        status: u16,
        /// What it said.
        message: String,
    },
    /// Writing output or reading input failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The error.
        source: std::io::Error,
    },
}

impl CliError {
    /// The exit status: 3 for bad input, 4 for a failure of this machine.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::App(e) => e.exit_code(),
            CliError::Daemon(e) => e.exit_code(),
            CliError::Vantage(e) => e.exit_code(),
            #[cfg(feature = "lab")]
            CliError::Lab(e) => lab_exit_code(e),
            #[cfg(feature = "lab")]
            CliError::LabCheck(crate::lab::LabCheckError::Lab(e)) => lab_exit_code(e),
            #[cfg(feature = "lab")]
            CliError::Demo(crate::daemon::demo::DemoError::Lab(e)) => lab_exit_code(e),
            #[cfg(feature = "lab")]
            CliError::Demo(crate::daemon::demo::DemoError::Daemon(e)) => e.exit_code(),
            CliError::Store(crate::store::StoreError::NeedsMigration { .. }) => 3,
            CliError::Store(_) | CliError::Io { .. } => 4,
            CliError::Remote { status, .. } => {
                if (400..500).contains(status) {
                    3
                } else {
                    4
                }
            }
            _ => 3,
        }
    }
}

#[cfg(feature = "lab")]
fn lab_exit_code(e: &crate::lab::LabError) -> u8 {
    match e {
        crate::lab::LabError::Bind { .. } => 4,
        _ => 3,
    }
}

/// The options every command shares.
pub(crate) struct Context {
    store: Option<PathBuf>,
    key: Option<PathBuf>,
    when: When,
}

impl Context {
    /// The time of the action, from `--now` or the system clock.
    fn when(now: Option<&str>) -> Result<When, CliError> {
        match now {
            Some(s) => Ok(When::At(args::parse_time("--now", s)?)),
            None => Ok(When::Now),
        }
    }

    /// The record file.
    fn store(&self) -> PathBuf {
        self.store
            .clone()
            .unwrap_or_else(|| PathBuf::from("rootguard.sqlite"))
    }

    /// The application on the record, configured by `config` (a file,
    /// `ROOTGUARD_*`, `--set`), with `--store`, the probe arguments and
    /// the profile given on the command line taking precedence.
    fn app(
        &self,
        config: &ConfigArgs,
        probe: Option<&ProbeArgs>,
        profile: Option<&std::path::Path>,
    ) -> Result<Arc<App>, CliError> {
        // `--store` wins; otherwise the configuration's `store` (default
        // rootguard.sqlite).
        let mut c = config.load(self.store.as_deref())?;
        if let Some(p) = probe {
            p.apply(&mut c.probe);
        }
        if let Some(p) = profile {
            c.profile = Some(p.to_path_buf());
        }
        Ok(App::open(c)?)
    }
}

impl Cli {
    /// Runs the command; returns its exit status.
    pub async fn run(self) -> Result<u8, CliError> {
        let ctx = Context {
            when: Context::when(self.now.as_deref())?,
            store: self.store,
            key: self.key,
        };
        match self.command {
            Command::Check(a) => a.run().await,
            Command::Zone(a) => a.run(),
            #[cfg(feature = "lab")]
            Command::Lab(a) => a.run().await,
            Command::Import(a) => a.run(&ctx).await,
            Command::Act(a) => a.run(&ctx).await,
            Command::Key(a) => a.run(),
            Command::Batch(a) => a.run(&ctx).await,
            Command::Sweep(a) => a.run(&ctx).await,
            Command::Gate(a) => a.run(&ctx).await,
            Command::Drift(a) => a.run(&ctx).await,
            Command::Show(a) => a.run(&ctx),
            Command::Audit(a) => a.run(&ctx),
            Command::Backup(a) => a.run(&ctx),
            Command::Migrate(a) => a.run(&ctx).await,
            Command::Serve(a) => a.run(&ctx).await,
            Command::Vantage(a) => a.run(&ctx).await,
            #[cfg(feature = "lab")]
            Command::Demo(a) => a.run(&ctx).await,
            Command::Config(a) => a.run(&ctx),
            Command::Checks(a) => a.run(),
        }
    }
}
