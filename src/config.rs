//! The one immutable configuration of `rootguard serve`: built-in defaults,
//! overridden by a TOML file, then by `ROOTGUARD_*` environment variables
//! (`ROOTGUARD_SECTION_KEY`, e.g. `ROOTGUARD_HTTP_LISTEN`), then by
//! `--set section.key=value` on the command line. Unknown keys are refused
//! at every layer, naming the key and where it came from.
//! `rootguard config` prints the effective configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::policy::PolicyConfig;
use crate::probe::ProbeConfig;

/// Environment variables of rootguard that are not configuration keys.
pub const NON_CONFIG_ENV: &[&str] = &[
    "ROOTGUARD_LOG",
    "ROOTGUARD_KEY",
    "ROOTGUARD_NOW",
    "ROOTGUARD_CONFIG",
];

/// Why the configuration is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read configuration: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A layer is not valid.
    #[error("{origin}: {message}")]
    Invalid {
        /// Which layer (file name, environment variable, --set).
        origin: String,
        /// What is wrong.
        message: String,
    },
}

/// Where the root zone comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZoneConfig {
    /// A root zone file, re-read when it changes.
    pub file: Option<PathBuf>,
    /// Or a server to transfer the root zone from (AXFR, RFC 5936),
    /// when its SOA serial changes.
    pub axfr: Option<SocketAddr>,
    /// Or an HTTPS URL to download the root zone from every cycle (adopted
    /// when its serial changes).
    pub url: Option<String>,
    /// Extra CA certificate (PEM) trusted for `url`.
    pub ca_file: Option<PathBuf>,
    /// Registry file (tld-managers.json format) for IDN ccTLDs, managers, contacts.
    pub registry: Option<PathBuf>,
    /// Trust anchor file (DS or DNSKEY for `.`); default the built-in IANA anchors.
    pub trust_anchor: Option<PathBuf>,
    /// Refuse a signed zone whose signatures or ZONEMD do not verify (keep the last good one).
    pub require_authentic: bool,
    /// Largest root zone accepted, in bytes (file, download or transfer).
    pub max_bytes: Option<u64>,
    /// Most records in a root zone accepted.
    pub max_records: Option<usize>,
}

impl ZoneConfig {
    /// The limits on a root zone read from this source
    /// (`docs/RULES.md#input-limits`).
    pub fn limits(&self) -> crate::zone::ZoneLimits {
        let d = crate::zone::ZoneLimits::default();
        crate::zone::ZoneLimits {
            max_bytes: self.max_bytes.unwrap_or(d.max_bytes),
            max_records: self.max_records.unwrap_or(d.max_records),
        }
    }
}

/// Sweep settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SweepConfig {
    /// Seconds between sweeps.
    pub interval_secs: u64,
    /// ccTLDs to watch (empty: every approved ccTLD).
    pub tlds: Vec<String>,
    /// Canary ccTLDs: when all of them are in total outage at once, the
    /// vantage point is impaired.
    pub canaries: Vec<String>,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            interval_secs: 60,
            tlds: Vec::new(),
            canaries: Vec::new(),
        }
    }
}

/// The quorum of vantage points (`docs/RULES.md#quorum`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuorumConfig {
    /// How many healthy vantages must observe a threat or a finding in
    /// one window for it to count; 0 (the default): a majority of all
    /// vantages (the guard and every registered vantage).
    pub quorum: usize,
}

/// A probe-only vantage process (`rootguard vantage`,
/// `docs/RULES.md#quorum`): it probes what the daemon approves and sends
/// its signed observations to it. The probe settings are `[probe]`'s and
/// the interval `[sweep]`'s.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VantageConfig {
    /// The daemon's base URL, e.g. `http://192.0.2.10:8053`.
    pub daemon: Option<String>,
    /// The vantage's signing key (`rootguard key new --identity NAME`);
    /// its name is the vantage's registered identity.
    pub key: Option<PathBuf>,
}

/// A bearer token, configured by its SHA-256 hash (never the token).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it (recorded as the actor).
    pub name: String,
    /// SHA-256 of the token, lower-case hex.
    pub sha256: String,
    /// `operator`, `manager` or `panel-member`.
    pub role: crate::policy::Role,
    /// The kind of identity registered for it when the daemon seeds a new
    /// record (default: the role's; `admin-contact` and `tech-contact` have
    /// the manager role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<crate::ledger::Kind>,
    /// For managers: the ccTLDs they manage.
    #[serde(default)]
    pub tlds: Vec<String>,
    /// For panel members: the case they sit on.
    #[serde(default)]
    pub case: Option<u64>,
}

/// HTTP settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Listen address (port 0: any free port, printed at start).
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Time limit of one request, in seconds.
    pub request_timeout_secs: u64,
    /// Time a client has to send a request's headers, in seconds.
    pub header_read_timeout_secs: u64,
    /// Connections served at once (never more than half the process's
    /// descriptor limit: the rest is kept for probes and the store).
    pub max_connections: usize,
    /// Change requests one identity may submit per hour.
    pub change_requests_per_hour: u32,
    /// The URL this instance announces as its API when it leads a shared
    /// (PostgreSQL) record: where followers send writers and where
    /// vantages and the command line find it (default: `http://` and the
    /// listen address, loopback when it listens on all addresses;
    /// `docs/RULES.md#replication`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertise: Option<String>,
    /// Bearer tokens.
    pub tokens: Vec<TokenConfig>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit_bytes: 64 * 1024,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            max_connections: 1024,
            change_requests_per_hour: 60,
            advertise: None,
            tokens: Vec::new(),
        }
    }
}

/// The configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The record: a SQLite file, or a PostgreSQL database shared by
    /// several instances (`postgres://user:password@host:port/database`;
    /// `docs/RULES.md#replication`).
    pub store: PathBuf,
    /// Root zone source.
    pub zone: ZoneConfig,
    /// Sweeps.
    pub sweep: SweepConfig,
    /// Probing.
    pub probe: ProbeConfig,
    /// Check profile file (default: built-in, IANA's requirements).
    pub profile: Option<PathBuf>,
    /// Policy settings used when the record is seeded.
    pub policy: PolicyConfig,
    /// Appeal window in days, used when the record is seeded.
    pub appeal_window_days: i64,
    /// Where to write the effective delegations as a zone file.
    pub effective_zone: Option<PathBuf>,
    /// The guard's signing key for checkpoints (created, mode 0600, when
    /// missing; default: the store's path with `.key` appended).
    pub guard_key: Option<PathBuf>,
    /// HTTP.
    pub http: HttpConfig,
    /// The quorum of vantage points.
    pub quorum: QuorumConfig,
    /// A probe-only vantage process.
    pub vantage: VantageConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            store: PathBuf::from("rootguard.sqlite"),
            zone: ZoneConfig::default(),
            sweep: SweepConfig::default(),
            probe: ProbeConfig::default(),
            profile: None,
            policy: PolicyConfig::default(),
            appeal_window_days: 30,
            effective_zone: None,
            guard_key: None,
            http: HttpConfig::default(),
            quorum: QuorumConfig::default(),
            vantage: VantageConfig::default(),
        }
    }
}

fn invalid(origin: &str, message: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        origin: origin.to_string(),
        message: message.to_string(),
    }
}

/// Sets `path` (dotted) in `table` to `value`.
fn set(
    table: &mut toml::Table,
    path: &[&str],
    value: toml::Value,
    origin: &str,
) -> Result<(), ConfigError> {
    let (last, parents) = path
        .split_last()
        .ok_or_else(|| invalid(origin, "empty key"))?;
    let mut t = table;
    for p in parents {
        t = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| invalid(origin, format!("{p} is not a section")))?;
    }
    t.insert(last.to_string(), value);
    Ok(())
}

/// Parses a value given as text: TOML when it parses, else a string.
fn value_of(text: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_string()))
}

/// Merges `over` into `base`, section by section.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

impl Config {
    /// Builds the effective configuration from the file (if any), the
    /// environment and `--set` overrides.
    pub fn load(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
        sets: &[String],
    ) -> Result<Config, ConfigError> {
        let defaults =
            toml::Table::try_from(Config::default()).map_err(|e| invalid("defaults", e))?;
        let mut table = defaults;
        let check = |t: &toml::Table, origin: &str| -> Result<(), ConfigError> {
            Config::deserialize(toml::Value::Table(t.clone()))
                .map(|_| ())
                .map_err(|e| invalid(origin, e))
        };
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                file: path.to_path_buf(),
                source,
            })?;
            let origin = path.display().to_string();
            let parsed: toml::Table = toml::from_str(&text).map_err(|e| invalid(&origin, e))?;
            check(&parsed, &origin)?;
            merge(&mut table, parsed);
        }
        let mut env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("ROOTGUARD_") && !NON_CONFIG_ENV.contains(&k.as_str()))
            .collect();
        env.sort();
        for (k, v) in env {
            let key = k["ROOTGUARD_".len()..].to_ascii_lowercase();
            let path: Vec<&str> = match key.split_once('_') {
                Some((section, rest)) if table.get(section).is_some_and(toml::Value::is_table) => {
                    vec![section, rest]
                }
                _ => vec![key.as_str()],
            };
            let mut probe = table.clone();
            set(&mut probe, &path, value_of(&v), &k)?;
            check(&probe, &format!("environment variable {k}"))?;
            table = probe;
        }
        for s in sets {
            let origin = format!("--set {s}");
            let (k, v) = s
                .split_once('=')
                .ok_or_else(|| invalid(&origin, "expected section.key=value"))?;
            let path: Vec<&str> = k.trim().split('.').collect();
            let mut probe = table.clone();
            set(&mut probe, &path, value_of(v.trim()), &origin)?;
            check(&probe, &origin)?;
            table = probe;
        }
        let mut config = Config::deserialize(toml::Value::Table(table))
            .map_err(|e| invalid("configuration", e))?;
        config.check_tokens()?;
        Ok(config)
    }

    /// Token entries must be usable: a name, the SHA-256 of the token as 64
    /// hexadecimal digits, no hash twice (one token, one identity), and a
    /// manager's ccTLDs (normalised).
    fn check_tokens(&mut self) -> Result<(), ConfigError> {
        let mut seen = std::collections::BTreeSet::new();
        for (i, t) in self.http.tokens.iter_mut().enumerate() {
            let origin = format!("http.tokens[{i}] ({:?})", t.name);
            if t.name.trim().is_empty() || t.name.chars().any(char::is_control) {
                return Err(invalid(
                    &origin,
                    "a token needs a name without control characters",
                ));
            }
            if t.sha256.len() != 64 || !t.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(
                    &origin,
                    "sha256 must be the SHA-256 of the token as 64 hexadecimal digits (sha256sum of a token of at least 32 random characters)",
                ));
            }
            t.sha256 = t.sha256.to_ascii_lowercase();
            if !seen.insert(t.sha256.clone()) {
                return Err(invalid(&origin, "the same token hash is given twice"));
            }
            if t.role == crate::policy::Role::Manager && t.tlds.is_empty() {
                return Err(invalid(
                    &origin,
                    "a manager's token lists the ccTLDs it manages (tlds)",
                ));
            }
            for tld in t.tlds.iter_mut() {
                *tld = crate::zone::Tld::parse(tld)
                    .map_err(|e| invalid(&origin, e))?
                    .into_string();
            }
        }
        Ok(())
    }

    /// The guard's key file: `guard_key`, or the store's path with `.key`
    /// appended.
    pub fn guard_key_path(&self) -> PathBuf {
        self.guard_key.clone().unwrap_or_else(|| {
            let mut p = self.store.clone().into_os_string();
            p.push(".key");
            PathBuf::from(p)
        })
    }

    /// The configuration as TOML (a PostgreSQL URL without its password).
    pub fn to_toml(&self) -> String {
        let mut shown = self.clone();
        if crate::store::is_postgres(&shown.store) {
            shown.store = PathBuf::from(crate::store::redact(&shown.store.display().to_string()));
        }
        toml::to_string_pretty(&shown)
            .unwrap_or_else(|e| format!("# cannot print the configuration: {e}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_override_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "store = \"file.sqlite\"\n[sweep]\ninterval_secs = 30\n[http]\nlisten = \"127.0.0.1:9000\"\n").unwrap();
        let env = vec![
            (
                "ROOTGUARD_SWEEP_INTERVAL_SECS".to_string(),
                "20".to_string(),
            ),
            ("ROOTGUARD_LOG".to_string(), "debug".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let c = Config::load(Some(&file), env, &["http.listen=127.0.0.1:0".to_string()]).unwrap();
        assert_eq!(c.store, PathBuf::from("file.sqlite"));
        assert_eq!(c.sweep.interval_secs, 20, "environment over file");
        assert_eq!(c.http.listen.port(), 0, "--set over environment");
        assert_eq!(c.probe.port, 53, "default kept");
        let back: Config = toml::from_str(&c.to_toml()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn unknown_keys_are_refused_naming_their_origin() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[sweep]\nintervall = 3\n").unwrap();
        let e = Config::load(Some(&file), vec![], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.toml") && e.contains("intervall"), "{e}");
        let e = Config::load(None, vec![("ROOTGUARD_HTTP_LISTN".into(), "x".into())], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("ROOTGUARD_HTTP_LISTN"), "{e}");
        let e = Config::load(None, vec![], &["sweep.interval_secs=soon".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--set sweep.interval_secs=soon"), "{e}");
        assert!(Config::load(None, vec![], &["nokey".into()]).is_err());
    }
}
