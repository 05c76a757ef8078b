//! The root zone: parsing a zone file in presentation format, indexing its
//! delegations, diffing two zones and verifying their authenticity
//! (DNSSEC signatures and ZONEMD).
//!
//! Parsing uses NLnet Labs' `domain` crate (`zonefile` feature), which reads
//! every record type a signed root zone carries (SOA, NS, A, AAAA, DS, DNSKEY,
//! RRSIG, NSEC, ZONEMD). Records are kept as `domain` records so that the
//! verifier can rebuild their canonical wire form (RFC 4034 §6).

pub mod authentic;
pub mod diff;
pub mod host;
pub mod index;
pub mod registry;
pub mod render;
pub mod summary;
pub mod tld;
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
pub use tld::Tld;

/// An absolute domain name as stored in a [`Zone`].
pub type Dname = Name<Bytes>;
/// Record data as stored in a [`Zone`].
pub type Rdata = ZoneRecordData<Bytes, Dname>;
/// One resource record of a [`Zone`].
pub type Rr = Record<Dname, Rdata>;

/// Limits on a root zone read from outside (`docs/RULES.md#input-limits`):
/// well above today's root zone (about 2.2 MB and 22,000 records signed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ZoneLimits {
    /// Largest zone in bytes.
    pub max_bytes: u64,
    /// Most records.
    pub max_records: usize,
}

impl Default for ZoneLimits {
    fn default() -> Self {
        ZoneLimits {
            max_bytes: 32 * 1024 * 1024,
            max_records: 250_000,
        }
    }
}

impl ZoneLimits {
    /// Refuses more than `max_bytes`.
    pub fn check_bytes(&self, file: &Path, len: u64) -> Result<(), ZoneError> {
        if len > self.max_bytes {
            return Err(ZoneError::TooLarge {
                file: file.to_path_buf(),
                what: format!("{len} bytes"),
                limit: format!("{} bytes", self.max_bytes),
            });
        }
        Ok(())
    }

    /// Refuses more than `max_records`.
    pub fn check_records(&self, file: &Path, n: usize) -> Result<(), ZoneError> {
        if n > self.max_records {
            return Err(ZoneError::TooLarge {
                file: file.to_path_buf(),
                what: format!("{n} records"),
                limit: format!("{} records", self.max_records),
            });
        }
        Ok(())
    }
}

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
    /// The zone exceeds the configured limits.
    #[error(
        "{file}: {what} exceed the limit of {limit} (zone.max_bytes, zone.max_records; docs/RULES.md#input-limits)"
    )]
    TooLarge {
        /// The file or source.
        file: PathBuf,
        /// What was found.
        what: String,
        /// The limit.
        limit: String,
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
        Zone::from_file_within(path, &ZoneLimits::default())
    }

    /// Reads and parses a root zone file within `limits`
    /// (`docs/RULES.md#input-limits`): a larger file is refused before it
    /// is read.
    pub fn from_file_within(path: &Path, limits: &ZoneLimits) -> Result<Zone, ZoneError> {
        let io = |source| ZoneError::Io {
            file: path.to_path_buf(),
            source,
        };
        let len = std::fs::metadata(path).map_err(io)?.len();
        limits.check_bytes(path, len)?;
        let data = std::fs::read(path).map_err(io)?;
        Zone::from_bytes_within(&data, path, limits)
    }

    /// Parses a root zone from memory within `limits`.
    pub fn from_bytes_within(
        data: &[u8],
        path: &Path,
        limits: &ZoneLimits,
    ) -> Result<Zone, ZoneError> {
        limits.check_bytes(path, data.len() as u64)?;
        // Every record takes at least one line: refuse before parsing what
        // cannot be within the record limit.
        let lines = data.iter().filter(|b| **b == b'\n').count();
        if lines > limits.max_records.saturating_mul(4) {
            return Err(ZoneError::TooLarge {
                file: path.to_path_buf(),
                what: format!("{lines} lines"),
                limit: format!("{} records", limits.max_records),
            });
        }
        let zone = Zone::from_bytes(data, path)?;
        limits.check_records(path, zone.records.len())?;
        Ok(zone)
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

    /// A zone from records obtained otherwise (a zone transfer); `source`
    /// names it in messages.
    pub fn from_records(records: Vec<Rr>, source: &str) -> Result<Zone, ZoneError> {
        let serial = records
            .iter()
            .find_map(|rr| match rr.data() {
                ZoneRecordData::Soa(soa) if rr.owner().is_root() => Some(soa.serial().into_int()),
                _ => None,
            })
            .ok_or_else(|| ZoneError::NoSoa {
                file: PathBuf::from(source),
            })?;
        Ok(Zone {
            source: source.to_string(),
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
///
/// A large file without directives, parentheses or quotes (a root zone as
/// IANA publishes it: one record a line) is cut at record boundaries into
/// one part per core and the parts are parsed in parallel. A part only
/// starts at a line with its own owner and TTL, so no record depends on
/// the one before it; if any part fails, the whole file is parsed again in
/// order, so that errors name the right line.
pub fn parse_records(data: &[u8], path: &Path) -> Result<Vec<Rr>, ZoneError> {
    use rayon::prelude::*;
    let parts = split_points(data, rayon::current_num_threads());
    if parts.len() > 2 {
        let chunks: Vec<&[u8]> = parts.windows(2).map(|w| &data[w[0]..w[1]]).collect();
        let parsed: Result<Vec<Vec<Rr>>, ZoneError> = chunks
            .par_iter()
            .map(|chunk| parse_sequential(chunk, path))
            .collect();
        if let Ok(parsed) = parsed {
            return Ok(parsed.concat());
        }
    }
    parse_sequential(data, path)
}

/// Offsets where `data` may be cut into `n` independently parseable parts
/// (always starting with 0 and ending with `data.len()`), or just those two
/// when it is small or uses constructs that make lines depend on each other.
fn split_points(data: &[u8], n: usize) -> Vec<usize> {
    const MIN_PART: usize = 256 * 1024;
    let mut points = vec![0];
    let dependent = data.iter().any(|&b| matches!(b, b'(' | b'"' | b'$'));
    if n > 1 && data.len() >= 2 * MIN_PART && !dependent {
        let step = data.len() / n;
        for k in 1..n {
            let mut pos = (k * step).max(*points.last().unwrap_or(&0));
            while let Some(nl) = data[pos..].iter().position(|&b| b == b'\n') {
                let start = pos + nl + 1;
                if start >= data.len() {
                    break;
                }
                let end = data[start..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(data.len(), |e| start + e);
                if self_contained(&data[start..end]) {
                    points.push(start);
                    break;
                }
                pos = start;
            }
        }
    }
    points.push(data.len());
    points.dedup();
    points
}

/// Whether a line starts a record with its own owner and TTL.
fn self_contained(line: &[u8]) -> bool {
    if line
        .first()
        .is_none_or(|b| b.is_ascii_whitespace() || *b == b';')
    {
        return false;
    }
    let mut tokens = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|t| !t.is_empty());
    let _owner = tokens.next();
    let digits = |t: &[u8]| !t.is_empty() && t.iter().all(u8::is_ascii_digit);
    match (tokens.next(), tokens.next()) {
        (Some(t), _) if digits(t) => true,
        (Some(class), Some(t)) => class.eq_ignore_ascii_case(b"IN") && digits(t),
        _ => false,
    }
}

/// Parses records in file order.
fn parse_sequential(data: &[u8], path: &Path) -> Result<Vec<Rr>, ZoneError> {
    let file = path.to_path_buf();
    let mut zonefile = Zonefile::with_capacity(data.len());
    zonefile.extend_from_slice(data);
    zonefile.set_origin(Name::root_bytes());
    let mut records: Vec<Rr> = Vec::with_capacity(data.len() / 64);
    loop {
        // The zone file parser (domain) asserts on some malformed
        // directives (e.g. `$INCLUDE "a b` unterminated): a panic there is
        // a syntax error of this file, never a crash of the guard.
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| zonefile.next_entry()));
        let entry = match next {
            Ok(Ok(Some(entry))) => entry,
            Ok(Ok(None)) => break,
            Ok(Err(err)) => return Err(syntax_error(&file, &err.to_string())),
            Err(_) => {
                return Err(syntax_error(
                    &file,
                    "a malformed entry or directive the zone file parser cannot read",
                ));
            }
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

/// Formats a name as lower-case presentation format with a trailing dot
/// (RFC 4343 case-insensitive form; octets outside letters, digits, `-`
/// and `_` escaped as `\DDD`, RFC 1035 §5.1). This is the key every map of
/// names in rootguard uses.
pub fn name_key(name: &impl ToName) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(32);
    for label in name.iter_labels() {
        if label.is_root() {
            break;
        }
        for &b in label.as_slice() {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                s.push(b.to_ascii_lowercase() as char);
            } else {
                let _ = write!(s, "\\{b:03}");
            }
        }
        s.push('.');
    }
    if s.is_empty() {
        s.push('.');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directive_the_parser_chokes_on_is_a_syntax_error() {
        // Found by the zone fuzz target: domain 0.12 asserts on it.
        let data = b"$INCLUDE \"; A small rot zone f\"or CLI tests: two ccTLDs, one gene.\n. ";
        let e = Zone::from_bytes(data, Path::new("bad.zone")).unwrap_err();
        assert!(e.to_string().contains("bad.zone"), "{e}");
    }

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
    fn parallel_parse_equals_sequential() {
        let mut text = String::from(". 86400 IN SOA a. b. 1 2 3 4 5\n");
        for i in 0..40_000 {
            text.push_str(&format!("x{i}. 172800 IN NS ns{i}.example.\n"));
            // Records without their own TTL must stay with their predecessor.
            text.push_str(&format!("ns{i}.x{i}. IN A 192.0.2.{}\n", i % 250));
        }
        let data = text.as_bytes();
        let points = split_points(data, 4);
        assert!(points.len() > 2, "{points:?}");
        for p in &points[1..points.len() - 1] {
            assert!(self_contained(&data[*p..*p + 20]), "bad cut at {p}");
        }
        let parallel = parse_records(data, Path::new("p")).unwrap();
        let sequential = parse_sequential(data, Path::new("p")).unwrap();
        assert_eq!(parallel.len(), sequential.len());
        assert!(
            parallel
                .iter()
                .zip(&sequential)
                .all(|(a, b)| a == b && a.ttl() == b.ttl())
        );
    }

    #[test]
    fn name_keys_are_lower_case_and_escaped() {
        let n: Dname = "Ns1.Example.COM.".parse().unwrap();
        assert_eq!(name_key(&n), "ns1.example.com.");
        assert_eq!(name_key(&Dname::root_bytes()), ".");
        let odd: Dname = "a\\.b.xa.".parse().unwrap();
        assert_eq!(name_key(&odd), "a\\046b.xa.");
    }

    #[test]
    fn zones_beyond_the_limits_are_refused_before_parsing() {
        let mut text = String::from(
            ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400\n",
        );
        for i in 0..100 {
            text.push_str(&format!("x{i}. 172800 IN NS ns.x{i}.\n"));
        }
        let path = Path::new("big.zone");
        let ok = ZoneLimits {
            max_bytes: 1 << 20,
            max_records: 1000,
        };
        assert_eq!(
            Zone::from_bytes_within(text.as_bytes(), path, &ok)
                .unwrap()
                .records
                .len(),
            101
        );
        let bytes = ZoneLimits {
            max_bytes: 100,
            ..ok
        };
        let e = Zone::from_bytes_within(text.as_bytes(), path, &bytes).unwrap_err();
        assert!(e.to_string().contains("input-limits"), "{e}");
        let records = ZoneLimits {
            max_records: 50,
            ..ok
        };
        assert!(Zone::from_bytes_within(text.as_bytes(), path, &records).is_err());
        let records = ZoneLimits {
            max_records: 10,
            ..ok
        };
        assert!(
            Zone::from_bytes_within(text.as_bytes(), path, &records).is_err(),
            "refused by lines"
        );
    }

    #[test]
    fn missing_soa_is_refused() {
        let err = Zone::from_bytes(b"xa. 1 IN NS ns.xa.\n", Path::new("n.zone")).unwrap_err();
        assert!(matches!(err, ZoneError::NoSoa { .. }));
    }
}
