//! Arguments shared by several commands: probe settings, where the
//! configuration comes from, and times.

use std::path::{Path, PathBuf};

use clap::Args;

use super::CliError;
use crate::config::Config;
use crate::probe::ProbeConfig;
use crate::time::Timestamp;

/// Where the configuration comes from.
#[derive(Args, Default)]
pub struct ConfigArgs {
    /// Configuration file (TOML).
    #[arg(long, env = "ROOTGUARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Override one key: `section.key=value` (repeatable).
    #[arg(long = "set")]
    pub sets: Vec<String>,
}

impl ConfigArgs {
    /// Loads the configuration: defaults < file < `ROOTGUARD_*` < `--set`,
    /// with `store` (the `--store` option) last.
    pub fn load(&self, store: Option<&Path>) -> Result<Config, CliError> {
        let mut sets = self.sets.clone();
        if let Some(s) = store {
            sets.push(format!("store={:?}", s.display().to_string()));
        }
        Ok(Config::load(
            self.config.as_deref(),
            std::env::vars(),
            &sets,
        )?)
    }
}

/// Probe settings shared by the commands that probe; each given one
/// overrides the configuration's.
#[derive(Args)]
pub struct ProbeArgs {
    /// Port of the name servers (default 53; with --lab the lab's port).
    #[arg(long)]
    pub dns_port: Option<u16>,
    /// Resolver (ip:port) for NS hosts without glue (default: the system's, or the lab's).
    #[arg(long)]
    pub resolver: Option<std::net::SocketAddr>,
    /// UDP time budget per query in ms, retries included (default 2000).
    #[arg(long)]
    pub udp_timeout_ms: Option<u64>,
    /// TCP time budget per query in ms (default 3000).
    #[arg(long)]
    pub tcp_timeout_ms: Option<u64>,
    /// Queries in flight at once (default 512).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Source address of every query (default: the system's choice).
    #[arg(long)]
    pub source: Option<std::net::IpAddr>,
}

impl ProbeArgs {
    /// Applies the given settings to `c`.
    pub fn apply(&self, c: &mut ProbeConfig) {
        if let Some(p) = self.dns_port {
            c.port = p;
        }
        if let Some(r) = self.resolver {
            c.resolver = Some(r);
        }
        if let Some(t) = self.udp_timeout_ms {
            c.udp_timeout_ms = t;
        }
        if let Some(t) = self.tcp_timeout_ms {
            c.tcp_timeout_ms = t;
        }
        if let Some(n) = self.concurrency {
            c.concurrency = n;
        }
        if let Some(a) = self.source {
            c.source = Some(a);
        }
    }

    /// The probe settings: defaults with the given ones applied.
    pub fn config(&self) -> ProbeConfig {
        let mut c = ProbeConfig::default();
        self.apply(&mut c);
        c
    }
}

/// Parses an RFC 3339 time given as `argument`.
pub fn parse_time(argument: &'static str, value: &str) -> Result<Timestamp, CliError> {
    Timestamp::parse(value).map_err(|e| CliError::Argument {
        argument,
        value: value.to_string(),
        reason: e.to_string(),
    })
}

/// Parses an RFC 3339 time used to evaluate DNSSEC signatures, whose
/// times are 32-bit (RFC 4034 §3.1.5): refused outside their range rather
/// than truncated.
pub fn parse_signature_time(argument: &'static str, value: &str) -> Result<Timestamp, CliError> {
    let t = parse_time(argument, value)?;
    t.signature_time().map_err(|e| CliError::Argument {
        argument,
        value: value.to_string(),
        reason: e.to_string(),
    })?;
    Ok(t)
}
