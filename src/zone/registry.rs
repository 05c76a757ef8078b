//! The registry file: IANA's Root Zone Database in the JSON format of
//! `../shared/rootzone/tld-managers.json` (per TLD: type, manager, contacts,
//! name servers). rootguard reads it to classify IDN ccTLDs (an `xn--` label
//! whose type is `country-code`) and, later, to seed the approved delegation
//! record (`docs/RULES.md#record`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why a registry file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file could not be read.
    #[error("{file}: cannot read registry file: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a registry in the expected JSON format.
    #[error(
        "{file}:{line}:{column}: not a registry file (expected an object with a \"tlds\" map): {message}"
    )]
    Json {
        /// The file.
        file: PathBuf,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
        /// What serde_json found.
        message: String,
    },
}

/// A postal party (manager) as listed by IANA.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Party {
    /// Name of the organisation.
    #[serde(default)]
    pub name: Option<String>,
    /// Address lines; the last one is the country.
    #[serde(default)]
    pub address: Vec<String>,
}

/// An administrative or technical contact as listed by IANA.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Contact {
    /// Contact name.
    #[serde(default)]
    pub name: Option<String>,
    /// Organisation.
    #[serde(default)]
    pub organisation: Option<String>,
    /// Address lines; the last one is the country.
    #[serde(default)]
    pub address: Vec<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
}

impl Contact {
    /// The country of the contact: the last address line, if any.
    pub fn country(&self) -> Option<&str> {
        self.address.last().map(String::as_str)
    }
}

/// One TLD's entry in the registry.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct RegistryEntry {
    /// IANA type: `country-code`, `generic`, `sponsored`, ...
    #[serde(rename = "type")]
    pub tld_type: String,
    /// The manager (BP §1).
    #[serde(default)]
    pub manager: Option<Party>,
    /// Administrative contact.
    #[serde(default)]
    pub admin_contact: Option<Contact>,
    /// Technical contact.
    #[serde(default)]
    pub tech_contact: Option<Contact>,
}

#[derive(Deserialize)]
struct RegistryFile {
    tlds: BTreeMap<String, RegistryEntry>,
}

/// The registry: TLD label (lower case, no dot) to entry.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// Entries by TLD label.
    pub tlds: BTreeMap<String, RegistryEntry>,
}

impl Registry {
    /// Reads a registry file.
    pub fn from_file(path: &Path) -> Result<Registry, RegistryError> {
        let data = std::fs::read(path).map_err(|source| RegistryError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        Registry::from_slice(&data, path)
    }

    /// Parses a registry from memory; `path` names it in errors.
    pub fn from_slice(data: &[u8], path: &Path) -> Result<Registry, RegistryError> {
        let file: RegistryFile = serde_json::from_slice(data).map_err(|e| RegistryError::Json {
            file: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let tlds = file
            .tlds
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        Ok(Registry { tlds })
    }

    /// Whether the registry lists `tld` with type `country-code`.
    pub fn is_country_code(&self, tld: &str) -> bool {
        self.tlds
            .get(tld)
            .is_some_and(|e| e.tld_type == "country-code")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_types() {
        let json = br#"{"tlds": {"xn--p1ai": {"type": "country-code", "manager": {"name": "CC", "address": ["Moscow", "Russian Federation"]}, "extra": 1},
                         "xn--abc": {"type": "generic"}}}"#;
        let reg = Registry::from_slice(json, Path::new("r.json")).unwrap();
        assert!(reg.is_country_code("xn--p1ai"));
        assert!(!reg.is_country_code("xn--abc"));
        assert!(!reg.is_country_code("zz"));
    }

    #[test]
    fn bad_json_names_file_and_position() {
        let err = Registry::from_slice(b"{\"tlds\": [", Path::new("r.json")).unwrap_err();
        assert!(err.to_string().starts_with("r.json:1:"), "{err}");
    }
}
