//! The root zone: parsing a zone file in presentation format, indexing its
//! delegations, diffing two zones and verifying their authenticity
//! (DNSSEC signatures and ZONEMD).
//!
//! Parsing uses NLnet Labs' `domain` crate (`zonefile` feature), which reads
//! every record type a signed root zone carries (SOA, NS, A, AAAA, DS, DNSKEY,
//! RRSIG, NSEC, ZONEMD). Records are kept as `domain` records so that the
//! verifier can rebuild their canonical wire form (RFC 4034 §6).

pub mod diff;
pub mod index;
pub mod registry;
pub mod summary;
pub mod verify;

use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use domain::base::iana::{Class, Rtype};
use domain::base::name::FlattenInto;
use domain::base::{Name, Record, ToName};
use domain::rdata::ZoneRecordData;
use domain::zonefile::inplace::{Entry, Zonefile};

pub use index::{Delegation, DsRecord, TldKind, ZoneIndex};
pub use registry::Registry;

/// An absolute domain name as stored in a [`Zone`].
pub type Dname = Name<Bytes>;
/// Record data as stored in a [`Zone`].
pub type Rdata = ZoneRecordData<Bytes, Dname>;
/// One resource record of a [`Zone`].
pub type Rr = Record<Dname, Rdata>;

/// Why a zone file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ZoneError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read zone file: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid presentation format (RFC 1035 §5).
    #[error("{file}:{line}: {message} (RFC 1035 §5 presentation format)")]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The line (1-based) where parsing stopped.
        line: usize,
        /// What the parser expected or found.
        message: String,
    },
    /// `$INCLUDE` is not followed for a root zone.
    #[error("{file}: $INCLUDE is not supported in a root zone file")]
    Include {
        /// The file.
        file: PathBuf,
    },
    /// The file has no SOA record at the root apex.
    #[error("{file}: no SOA record at the apex '.': not a root zone (RFC 1035 §5.2)")]
    NoSoa {
        /// The file.
        file: PathBuf,
    },
    /// A record belongs to a class other than IN.
    #[error("{file}: record {owner} {rtype} has class {class}, expected IN")]
    Class {
        /// The file.
        file: PathBuf,
        /// The record's owner.
        owner: String,
        /// The record's type.
        rtype: String,
        /// The record's class.
        class: String,
    },
}

/// A parsed root zone.
#[derive(Clone)]
pub struct Zone {
    /// Where the zone came from (a file name, for messages).
    pub source: String,
    /// All records, in file order.
    pub records: Vec<Rr>,
    /// The SOA serial.
    pub serial: u32,
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Zone")
            .field("source", &self.source)
            .field("records", &self.records.len())
            .field("serial", &self.serial)
            .finish()
    }
}

impl Zone {
    /// Reads and parses a root zone file.
    pub fn from_file(path: &Path) -> Result<Zone, ZoneError> {
        let data = std::fs::read(path).map_err(|source| ZoneError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        Zone::from_bytes(&data, path)
    }

    /// Parses a root zone from memory; `path` names it in errors.
    pub fn from_bytes(data: &[u8], path: &Path) -> Result<Zone, ZoneError> {
        let file = path.to_path_buf();
        let records = parse_records(data, path)?;
        let serial = records
            .iter()
            .find_map(|rr| match rr.data() {
                ZoneRecordData::Soa(soa) if rr.owner().is_root() => Some(soa.serial().into_int()),
                _ => None,
            })
            .ok_or_else(|| ZoneError::NoSoa { file: file.clone() })?;
        Ok(Zone {
            source: path.display().to_string(),
            records,
            serial,
        })
    }

    /// Records of type `rtype` owned by `owner`.
    pub fn rrset<'a>(
        &'a self,
        owner: &'a Dname,
        rtype: Rtype,
    ) -> impl Iterator<Item = &'a Rr> + 'a {
        self.records
            .iter()
            .filter(move |rr| rr.rtype() == rtype && rr.owner().name_eq(owner))
    }
}

/// Parses presentation-format records (origin `.`, class IN); `path` names
/// the input in errors.
pub fn parse_records(data: &[u8], path: &Path) -> Result<Vec<Rr>, ZoneError> {
    let file = path.to_path_buf();
    let mut zonefile = Zonefile::with_capacity(data.len());
    zonefile.extend_from_slice(data);
    zonefile.set_origin(Name::root_bytes());
    let mut records: Vec<Rr> = Vec::with_capacity(data.len() / 64);
    loop {
        let entry = match zonefile.next_entry() {
            Ok(Some(entry)) => entry,
            Ok(None) => break,
            Err(err) => return Err(syntax_error(&file, &err.to_string())),
        };
        match entry {
            Entry::Record(record) => {
                let rr: Rr = record.flatten_into();
                if rr.class() != Class::IN {
                    return Err(ZoneError::Class {
                        file,
                        owner: rr.owner().to_string(),
                        rtype: rr.rtype().to_string(),
                        class: rr.class().to_string(),
                    });
                }
                records.push(rr);
            }
            Entry::Include { .. } => return Err(ZoneError::Include { file }),
        }
    }
    Ok(records)
}

/// Turns the parser's "line:col: message" into a typed syntax error. When
/// the failing token ends its line the parser already stands at column 1 of
/// the next line; the error is then reported on the line before.
fn syntax_error(file: &Path, text: &str) -> ZoneError {
    let mut parts = text.splitn(3, ':');
    let line: Option<usize> = parts.next().and_then(|l| l.trim().parse().ok());
    let col: Option<usize> = parts.next().and_then(|c| c.trim().parse().ok());
    let message = parts.next().unwrap_or(text).trim().to_string();
    let line = match (line, col) {
        (Some(l), Some(1)) if l > 1 => l - 1,
        (Some(l), _) => l,
        _ => 0,
    };
    ZoneError::Syntax {
        file: file.to_path_buf(),
        line,
        message,
    }
}

/// Lower-case, absolute form of a name given in presentation format.
pub fn fqdn(name: &str) -> String {
    let mut s = name.to_ascii_lowercase();
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// Formats a name as lower-case presentation format with a trailing dot.
pub fn name_key(name: &impl ToName) -> String {
    let mut s = name.to_name::<Vec<u8>>().to_string().to_ascii_lowercase();
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_small_zone() {
        let text = b". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 2026010100 1800 900 604800 86400\n\
. 518400 IN NS a.root-servers.net.\n\
xa. 172800 IN NS ns1.xa.\n\
ns1.xa. 172800 IN A 127.0.0.1\n";
        let zone = Zone::from_bytes(text, Path::new("t.zone")).unwrap();
        assert_eq!(zone.serial, 2026010100);
        assert_eq!(zone.records.len(), 4);
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let text = b". 86400 IN SOA a. b. 1 2 3 4 5\nxa. 172800 IN A not-an-address\n";
        let err = Zone::from_bytes(text, Path::new("bad.zone")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("bad.zone:2:"), "{msg}");
    }

    #[test]
    fn missing_soa_is_refused() {
        let err = Zone::from_bytes(b"xa. 1 IN NS ns.xa.\n", Path::new("n.zone")).unwrap_err();
        assert!(matches!(err, ZoneError::NoSoa { .. }));
    }
}
