//! `rootguard check`: probe a set of TLDs concurrently, evaluate them and
//! report as a readable table or as JSON with a stable schema
//! (`rootguard.check/1`, documented in the README). Exit status: 0 when
//! every TLD is ok, 1 when the worst is degraded, 2 when any is a threat,
//! 3 for bad input.

use std::fmt::{self, Write as _};
use std::time::Instant;

use futures::future::join_all;
use serde::Serialize;

use super::evaluate::evaluate;
use super::finding::{TldReport, Verdict};
use super::profile::Profile;
use crate::probe::{DelegationProbe, Prober, probe_delegation, resolve::HostResolver};
use crate::time::Timestamp;
use crate::zone::Delegation;

/// The schema identifier of the JSON report.
pub const SCHEMA: &str = "rootguard.check/1";

/// The root zone a report was made from.
#[derive(Clone, Debug, Serialize)]
pub struct RootZoneInfo {
    /// File name.
    pub source: String,
    /// SOA serial.
    pub serial: u32,
}

/// Counts of verdicts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    /// TLDs ok.
    pub ok: usize,
    /// TLDs degraded.
    pub degraded: usize,
    /// TLDs under threat.
    pub threat: usize,
}

/// The whole report of one `rootguard check` run.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// Schema identifier.
    pub schema: &'static str,
    /// When the checks ran (RFC 3339).
    pub checked_at: Timestamp,
    /// The root zone used.
    pub root_zone: RootZoneInfo,
    /// Profile name.
    pub profile: String,
    /// Worst verdict over all TLDs.
    pub verdict: Verdict,
    /// Verdict counts.
    pub counts: Counts,
    /// Queries sent.
    pub queries: usize,
    /// Wall time in ms.
    pub elapsed_ms: f64,
    /// Per-TLD results, in TLD order.
    pub tlds: Vec<TldReport>,
}

impl CheckReport {
    /// Exit status for the report: 0 ok, 1 degraded, 2 threat.
    pub fn exit_code(&self) -> u8 {
        match self.verdict {
            Verdict::Ok => 0,
            Verdict::Degraded => 1,
            Verdict::Threat => 2,
        }
    }
}

/// Queries a probe sent.
pub fn query_count(p: &DelegationProbe) -> usize {
    p.servers
        .iter()
        .map(|s| {
            4 + usize::from(s.dnskey.is_some())
                + s.host_addresses.len()
                + usize::from(s.soa_udp.retried_over_tcp)
        })
        .sum()
}

/// Probes and evaluates every delegation concurrently.
pub async fn run_checks(
    prober: &Prober,
    resolver: &HostResolver,
    delegations: &[Delegation],
    profile: &Profile,
    at: Timestamp,
    root_zone: RootZoneInfo,
) -> CheckReport {
    let started = Instant::now();
    let probes = join_all(
        delegations
            .iter()
            .map(|d| probe_delegation(prober, resolver, d)),
    )
    .await;
    let queries = probes.iter().map(query_count).sum();
    // Evaluation (signature verification, within its limits) is CPU work:
    // it runs on a blocking thread, not on the async workers.
    let owned = profile.clone();
    let tlds: Vec<TldReport> = match tokio::task::spawn_blocking(move || {
        let tlds: Vec<TldReport> = probes.iter().map(|p| evaluate(p, &owned, at)).collect();
        tlds
    })
    .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("evaluating the probes failed: {e}");
            Vec::new()
        }
    };
    assemble(tlds, profile, at, root_zone, queries, started)
}

/// The report of evaluated TLDs.
fn assemble(
    tlds: Vec<TldReport>,
    profile: &Profile,
    at: Timestamp,
    root_zone: RootZoneInfo,
    queries: usize,
    started: Instant,
) -> CheckReport {
    let mut counts = Counts::default();
    for t in &tlds {
        match t.verdict {
            Verdict::Ok => counts.ok += 1,
            Verdict::Degraded => counts.degraded += 1,
            Verdict::Threat => counts.threat += 1,
        }
    }
    CheckReport {
        schema: SCHEMA,
        checked_at: at,
        root_zone,
        profile: profile.name.clone(),
        verdict: tlds.iter().map(|t| t.verdict).max().unwrap_or(Verdict::Ok),
        counts,
        queries,
        elapsed_ms: (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0,
        tlds,
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "rootguard check: root zone {} (serial {}), profile {}, at {}",
            self.root_zone.source, self.root_zone.serial, self.profile, self.checked_at
        )?;
        writeln!(
            f,
            "{:<14} {:<9} {:>8} {:>9}  SERVERS",
            "TLD", "VERDICT", "FINDINGS", "PROBE ms"
        )?;
        for t in &self.tlds {
            let up = t.servers.iter().filter(|s| s.authoritative).count();
            writeln!(
                f,
                "{:<14} {:<9} {:>8} {:>9.1}  {up}/{} answer authoritatively",
                t.tld,
                t.verdict.to_string(),
                t.findings.len(),
                t.probe_ms,
                t.servers.len()
            )?;
        }
        for t in self
            .tlds
            .iter()
            .filter(|t| !t.findings.is_empty() || !t.threats.is_empty())
        {
            writeln!(f)?;
            writeln!(f, "== {}. : {} ==", t.tld, t.verdict)?;
            for th in &t.threats {
                writeln!(f, "  THREAT {:?}: {}", th.kind, th.detail)?;
                writeln!(f, "         rule: {}", th.rule)?;
            }
            for fi in &t.findings {
                let mut line = String::new();
                let _ = write!(line, "  {:<8} {:<22}", fi.severity.to_string(), fi.check);
                if let Some(s) = &fi.server {
                    let _ = write!(line, " [{s}]");
                }
                writeln!(f, "{line} {}", fi.message)?;
                writeln!(f, "  {:<31} fix: {}", "", fi.fix)?;
            }
        }
        writeln!(f)?;
        writeln!(
            f,
            "{} TLDs: {} ok, {} degraded, {} threat; {} queries in {:.0} ms; verdict {}",
            self.tlds.len(),
            self.counts.ok,
            self.counts.degraded,
            self.counts.threat,
            self.queries,
            self.elapsed_ms,
            self.verdict
        )
    }
}

/// Why `rootguard check` could not run (bad input: exit status 3).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The root zone could not be read.
    #[error(transparent)]
    Zone(#[from] crate::zone::ZoneError),
    /// The registry file could not be read.
    #[error(transparent)]
    Registry(#[from] crate::zone::registry::RegistryError),
    /// The profile could not be read.
    #[error(transparent)]
    Profile(#[from] super::profile::ProfileError),
    /// A TLD named on the command line is not delegated in the root zone.
    #[error("{tld}: not delegated in root zone {zone} (serial {serial})")]
    UnknownTld {
        /// The TLD.
        tld: String,
        /// The root zone file.
        zone: String,
        /// Its serial.
        serial: u32,
    },
    /// A TLD named on the command line is not a label.
    #[error(transparent)]
    BadTld(#[from] crate::zone::tld::TldError),
    /// Nothing to check.
    #[error("no TLD to check: name TLDs or use --all-cctlds")]
    NoTlds,
    /// No root zone given.
    #[error("no root zone: give --root-zone FILE or --lab DIR")]
    NoRootZone,
}

/// Options of `rootguard check`.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// TLDs to check.
    pub tlds: Vec<String>,
    /// Check every ccTLD of the root zone.
    pub all_cctlds: bool,
    /// Root zone file.
    pub root_zone: Option<std::path::PathBuf>,
    /// Registry file, to classify IDN ccTLDs.
    pub registry: Option<std::path::PathBuf>,
    /// Profile file (default: built-in).
    pub profile: Option<std::path::PathBuf>,
    /// Probe settings.
    pub probe: crate::probe::ProbeConfig,
    /// Override of the probe port.
    pub port: Option<u16>,
    /// Evaluation time; default now.
    pub at: Option<Timestamp>,
    /// Run only the checks that need the root zone alone, without probing
    /// ([`super::evaluate::evaluate_static`]).
    pub statics: bool,
}

/// Runs `rootguard check`: loads the root zone, selects the TLDs, probes
/// and evaluates them.
pub async fn check(opts: &CheckOptions) -> Result<CheckReport, CheckError> {
    use crate::zone::{Registry, Zone, ZoneIndex};
    let mut probe_cfg = opts.probe.clone();
    let zone_path = opts.root_zone.clone().ok_or(CheckError::NoRootZone)?;
    if let Some(port) = opts.port {
        probe_cfg.port = port;
    }
    let zone = Zone::from_file(&zone_path)?;
    let registry = opts
        .registry
        .as_deref()
        .map(Registry::from_file)
        .transpose()?;
    let profile = match &opts.profile {
        Some(p) => Profile::from_file(p)?,
        None => Profile::default(),
    };
    let index = ZoneIndex::build(&zone, registry.as_ref());
    let mut chosen: Vec<Delegation> = Vec::new();
    if opts.all_cctlds {
        chosen.extend(index.cctlds().cloned());
    }
    for given in &opts.tlds {
        let tld = crate::zone::Tld::parse(given)?;
        match index.get(tld.as_str()) {
            Some(d) => {
                if !chosen.iter().any(|c| c.tld == d.tld) {
                    chosen.push(d.clone());
                }
            }
            None => {
                return Err(CheckError::UnknownTld {
                    tld: tld.to_string(),
                    zone: zone.source.clone(),
                    serial: zone.serial,
                });
            }
        }
    }
    if chosen.is_empty() {
        return Err(CheckError::NoTlds);
    }
    chosen.sort_by(|a, b| a.tld.cmp(&b.tld));
    let at = opts.at.unwrap_or_else(Timestamp::now);
    let info = RootZoneInfo {
        source: zone.source.clone(),
        serial: zone.serial,
    };
    if opts.statics {
        return Ok(static_checks(&chosen, &profile, at, info));
    }
    let resolver = HostResolver::new(probe_cfg.resolver);
    let prober = Prober::new(probe_cfg);
    let report = run_checks(&prober, &resolver, &chosen, &profile, at, info).await;
    Ok(report)
}

/// The static checks of every delegation (no probe, no query).
pub fn static_checks(
    delegations: &[Delegation],
    profile: &Profile,
    at: Timestamp,
    root_zone: RootZoneInfo,
) -> CheckReport {
    let started = Instant::now();
    let tlds: Vec<TldReport> = delegations
        .iter()
        .map(|d| super::evaluate::evaluate_static(d, profile))
        .collect();
    assemble(tlds, profile, at, root_zone, 0, started)
}
