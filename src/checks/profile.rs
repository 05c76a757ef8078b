//! Check profiles: a TOML file that changes severities, disables checks and
//! sets the RTT limits. The built-in default profile follows IANA's
//! technical requirements as the catalogue states them. Unknown keys and
//! unknown check IDs are rejected.
//!
//! ```toml
//! name = "loopback lab"
//! disable = ["ADDRESS-SCOPE", "PREFIX-DIVERSITY"]
//! udp_rtt_ms = 500
//! tcp_rtt_ms = 1500
//! [severity]
//! SOA-SERIAL-CONSISTENT = "NOTICE"
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::catalogue::{CheckId, Severity};

/// Why a profile could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("{file}: cannot read profile: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid profile.
    #[error("{file}: invalid profile: {message}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A check profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Name shown in reports.
    #[serde(default = "default_name")]
    pub name: String,
    /// Checks not run.
    #[serde(default)]
    pub disable: BTreeSet<CheckId>,
    /// Severity overrides by check ID.
    #[serde(default)]
    pub severity: BTreeMap<CheckId, Severity>,
    /// UDP RTT limit in ms (ICANN SLA: 500).
    #[serde(default = "default_udp")]
    pub udp_rtt_ms: u64,
    /// TCP RTT limit in ms (ICANN SLA: 1500).
    #[serde(default = "default_tcp")]
    pub tcp_rtt_ms: u64,
}

fn default_name() -> String {
    "default (IANA technical requirements)".into()
}
fn default_udp() -> u64 {
    500
}
fn default_tcp() -> u64 {
    1500
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            name: default_name(),
            disable: BTreeSet::new(),
            severity: BTreeMap::new(),
            udp_rtt_ms: default_udp(),
            tcp_rtt_ms: default_tcp(),
        }
    }
}

impl Profile {
    /// Reads and validates a profile file.
    pub fn from_file(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        Profile::from_toml(&text, path)
    }

    /// Parses and validates a profile; `path` names it in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Profile, ProfileError> {
        let invalid = |message: String| ProfileError::Invalid {
            file: path.to_path_buf(),
            message,
        };
        toml::from_str(text).map_err(|e| invalid(e.to_string()))
    }

    /// Whether check `id` runs.
    pub fn enabled(&self, id: CheckId) -> bool {
        !self.disable.contains(&id)
    }

    /// Severity of check `id` under this profile.
    pub fn severity(&self, id: CheckId) -> Severity {
        self.severity
            .get(&id)
            .copied()
            .unwrap_or(id.default_severity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_and_disables() {
        let p = Profile::from_toml(
            "disable = [\"ADDRESS-SCOPE\"]\n[severity]\nEDNS = \"NOTICE\"\n",
            Path::new("p.toml"),
        )
        .unwrap();
        assert!(!p.enabled(CheckId::AddressScope));
        assert!(p.enabled(CheckId::Edns));
        assert_eq!(p.severity(CheckId::Edns), Severity::Notice);
        assert_eq!(p.severity(CheckId::NsCount), Severity::Error);
    }

    #[test]
    fn unknown_ids_and_keys_are_rejected() {
        let e = Profile::from_toml("disable = [\"NOPE\"]\n", Path::new("p.toml")).unwrap_err();
        assert!(
            e.to_string().contains("p.toml") && e.to_string().contains("NOPE"),
            "{e}"
        );
        let e = Profile::from_toml("udp_rtt = 3\n", Path::new("p.toml")).unwrap_err();
        assert!(e.to_string().contains("udp_rtt"), "{e}");
    }
}
