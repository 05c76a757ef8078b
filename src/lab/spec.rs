//! The definition of a lab: `lab.toml` beside a lab root zone (`root.zone`).
//! It says which port the lab's name servers use, which TLDs are signed and
//! with which key generation, what faults each NS host injects, and the
//! addresses of NS hosts that have no glue (served by the lab's resolver).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Faults one NS host injects. Each defaults to off; several may combine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Never answer (UDP or TCP): every query times out.
    pub silent: bool,
    /// Never answer queries from these source addresses (a network path
    /// that loses them): a vantage bound to one of them sees silence,
    /// the others are answered.
    pub drop_from: Vec<IpAddr>,
    /// Do not listen on TCP: connections are refused.
    pub tcp_refused: bool,
    /// Answer every query with this rcode (`REFUSED`, `SERVFAIL`, ...).
    pub rcode: Option<String>,
    /// Clear the AA flag (a lame, non-authoritative answer).
    pub not_authoritative: bool,
    /// Serve the SOA serial plus this offset.
    pub serial_offset: u32,
    /// Set TC=1 on every UDP reply (the client must ask over TCP).
    pub truncate_udp: bool,
    /// Send a reply that cannot be parsed.
    pub malformed: bool,
    /// First send a reply with a wrong message ID (and NXDOMAIN), then the
    /// real one: a client must ignore the first.
    pub spoof_id: bool,
    /// First send a reply for another question (and NXDOMAIN), then the
    /// real one: a client must ignore the first.
    pub spoof_question: bool,
    /// Answer with an upward referral to the root instead of data.
    pub upward_referral: bool,
    /// Never include an OPT record (no EDNS0).
    pub no_edns: bool,
    /// An open resolver: RA=1 on every reply, and recursive queries for
    /// names outside its zones answered.
    pub open_recursion: bool,
    /// Delay every answer by this many milliseconds.
    pub delay_ms: u64,
    /// Serve this NS set instead of the delegation's.
    pub ns: Option<Vec<String>>,
    /// Serve this address for in-bailiwick host names instead of the glue.
    pub host_address: Option<IpAddr>,
}

/// The response codes a lab server can be told to answer with.
pub const LAB_RCODES: &[&str] = &["SERVFAIL", "REFUSED", "NXDOMAIN", "FORMERR", "NOTIMP"];

/// Per-TLD lab settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TldSpec {
    /// Sign the child zone (default: when the lab root zone has DS for it).
    pub signed: Option<bool>,
    /// Key generation the child zone is signed with (default 1). The lab
    /// root zone's DS names generation 1; another generation makes the
    /// TLD DNSSEC-bogus.
    pub key_generation: Option<u32>,
    /// SOA serial of the child zone (default 1).
    pub serial: Option<u32>,
    /// Record types (e.g. `"SOA"`, `"DNSKEY"`) whose signatures are made
    /// already expired.
    pub expired_signatures: Vec<String>,
    /// Record types (e.g. `"SOA"`) whose signatures are served with one
    /// byte of the signature flipped: in their validity period, but
    /// invalid.
    pub corrupt_signatures: Vec<String>,
    /// A hostile server (KeyTrap): this many junk signatures over the
    /// DNSKEY RRset, by the zone's own key tag, served before the real one.
    pub junk_dnskey_signatures: u32,
}

/// A lab definition (`lab.toml`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabSpec {
    /// UDP and TCP port of every lab name server.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Address of the lab's resolver, which answers for NS hosts without
    /// glue (listed in `hosts`).
    #[serde(default)]
    pub resolver: Option<IpAddr>,
    /// Per-TLD settings, by label.
    #[serde(default)]
    pub tld: BTreeMap<String, TldSpec>,
    /// Faults per NS host name (with trailing dot).
    #[serde(default)]
    pub server: BTreeMap<String, Faults>,
    /// Addresses of NS hosts without glue.
    #[serde(default)]
    pub hosts: BTreeMap<String, Vec<IpAddr>>,
}

fn default_port() -> u16 {
    5300
}

impl Default for LabSpec {
    fn default() -> Self {
        LabSpec {
            port: default_port(),
            resolver: None,
            tld: BTreeMap::new(),
            server: BTreeMap::new(),
            hosts: BTreeMap::new(),
        }
    }
}

/// Why a lab could not be loaded or started.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A file could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `lab.toml` is not valid.
    #[error("{file}: invalid lab definition: {message}")]
    Spec {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The lab root zone is not valid.
    #[error(transparent)]
    Zone(#[from] crate::zone::ZoneError),
    /// An address outside loopback: the lab serves only on this machine.
    #[error(
        "lab address {address} of {host} is not a loopback address (127.0.0.0/8 or ::1); the lab serves only on loopback"
    )]
    NotLoopback {
        /// The NS host.
        host: String,
        /// The address.
        address: IpAddr,
    },
    /// A socket could not be bound.
    #[error("cannot bind lab server {address} port {port} ({transport}): {source}")]
    Bind {
        /// Address.
        address: IpAddr,
        /// Port.
        port: u16,
        /// UDP or TCP.
        transport: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl LabSpec {
    /// Reads `lab.toml`; unknown keys are rejected.
    pub fn from_file(path: &Path) -> Result<LabSpec, LabError> {
        let text = std::fs::read_to_string(path).map_err(|source| LabError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        let mut spec: LabSpec = toml::from_str(&text).map_err(|e| LabError::Spec {
            file: path.to_path_buf(),
            message: e.to_string(),
        })?;
        spec.normalise();
        for (host, f) in &spec.server {
            if let Some(r) = &f.rcode
                && !LAB_RCODES.contains(&r.to_ascii_uppercase().as_str())
            {
                return Err(LabError::Spec {
                    file: path.to_path_buf(),
                    message: format!(
                        "server {host:?}: rcode {r:?} is not one of {}",
                        LAB_RCODES.join(", ")
                    ),
                });
            }
        }
        Ok(spec)
    }

    /// Lower-cases host names and makes them absolute.
    pub fn normalise(&mut self) {
        use crate::zone::fqdn;
        self.server = std::mem::take(&mut self.server)
            .into_iter()
            .map(|(k, mut v)| {
                if let Some(ns) = &mut v.ns {
                    for n in ns.iter_mut() {
                        *n = fqdn(n);
                    }
                }
                (fqdn(&k), v)
            })
            .collect();
        self.hosts = std::mem::take(&mut self.hosts)
            .into_iter()
            .map(|(k, v)| (fqdn(&k), v))
            .collect();
        self.tld = std::mem::take(&mut self.tld)
            .into_iter()
            .map(|(k, v)| (k.trim_end_matches('.').to_ascii_lowercase(), v))
            .collect();
    }
}

/// Whether `addr` is a loopback address.
pub fn is_loopback(addr: &IpAddr) -> bool {
    addr.is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let mut spec: LabSpec = toml::from_str(
            r#"
port = 5300
[tld.XA]
key_generation = 2
[server."NS1.xa"]
silent = true
ns = ["ns1.xa", "ns9.xa."]
[hosts]
"ns.example" = ["127.0.0.9"]
"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        spec.normalise();
        assert_eq!(spec.port, 5300);
        assert_eq!(spec.tld["xa"].key_generation, Some(2));
        assert!(spec.server["ns1.xa."].silent);
        assert_eq!(spec.server["ns1.xa."].ns.as_ref().unwrap()[0], "ns1.xa.");
        assert_eq!(spec.hosts["ns.example."].len(), 1);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = toml::from_str::<LabSpec>("[server.\"ns1.xa.\"]\nsilentt = true\n").unwrap_err();
        assert!(err.to_string().contains("silentt"), "{err}");
    }
}
