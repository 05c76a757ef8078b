//! Validation of DNS data that arrives as text from outside the root zone
//! file: name server host names and DS records in change requests. Every
//! such name is parsed by the `domain` crate and must be a host name
//! (RFC 1035 §2.3.1 letters, digits and hyphens; RFC 1123 §2.1), so no
//! octet that could end a line or a token of a zone file ever reaches the
//! record; every DS digest must be hexadecimal of exactly the length its
//! digest type produces (RFC 4034 §5.1.4, RFC 4509, RFC 5933, RFC 6605).
//! Rule: `docs/RULES.md#change-request-data`.

use std::str::FromStr;

use domain::base::Name;
use domain::base::name::ToLabelIter;

use super::DsRecord;

/// The rule every refusal of this module cites.
pub const RULE: &str = "docs/RULES.md#change-request-data";

/// Longest name accepted, in presentation format without the final dot
/// (RFC 1035 §2.3.4: 255 octets on the wire).
const MAX_NAME_TEXT: usize = 253;

/// Why a piece of DNS data is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// A host name is not a valid DNS host name.
    #[error("{input}: not a valid host name: {reason} (RFC 1035 §2.3.1, RFC 1123 §2.1; {RULE})")]
    HostName {
        /// The input, quoted and shortened.
        input: String,
        /// What is wrong.
        reason: String,
    },
    /// A DS record's digest does not fit its digest type.
    #[error("DS {key_tag} {algorithm} {digest_type}: {reason} (RFC 4034 §5.1.4; {RULE})")]
    Ds {
        /// Key tag.
        key_tag: u16,
        /// Algorithm.
        algorithm: u8,
        /// Digest type.
        digest_type: u8,
        /// What is wrong.
        reason: String,
    },
}

/// Shows untrusted input safely in a message: Rust's debug quoting (every
/// control character escaped), shortened to 80 characters.
pub fn quoted(input: &str) -> String {
    let mut s: String = input.chars().take(80).collect();
    if s.len() < input.len() {
        s.push('…');
    }
    format!("{s:?}")
}

/// Parses a name server host name and returns its key form: lower case,
/// absolute (trailing dot). Refuses anything the `domain` crate does not
/// parse as an absolute name of at least two labels, and any label that is
/// not letters, digits and inner hyphens.
pub fn host_name(input: &str) -> Result<String, DataError> {
    let bad = |reason: &str| DataError::HostName {
        input: quoted(input),
        reason: reason.to_string(),
    };
    let text = input.strip_suffix('.').unwrap_or(input);
    if text.is_empty() {
        return Err(bad("empty"));
    }
    if text.len() > MAX_NAME_TEXT {
        return Err(bad("longer than 253 characters"));
    }
    if !text.is_ascii() {
        return Err(bad(
            "not ASCII (write internationalised labels as A-labels, xn--)",
        ));
    }
    let name = Name::<Vec<u8>>::from_str(&format!("{text}."))
        .map_err(|e| bad(&format!("does not parse as a domain name: {e}")))?;
    let mut labels = 0;
    let mut key = String::with_capacity(text.len() + 1);
    for label in name.iter_labels() {
        if label.is_root() {
            break;
        }
        labels += 1;
        let octets = label.as_slice();
        if octets.len() > 63 {
            return Err(bad("a label is longer than 63 octets"));
        }
        if !octets
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        {
            return Err(bad(
                "a label holds a character other than a letter, a digit or a hyphen",
            ));
        }
        if octets.first() == Some(&b'-') || octets.last() == Some(&b'-') {
            return Err(bad("a label begins or ends with a hyphen"));
        }
        for &b in octets {
            key.push(b.to_ascii_lowercase() as char);
        }
        key.push('.');
    }
    if labels < 2 {
        return Err(bad("a name server host name has at least two labels"));
    }
    // RFC 1123 §2.1: a host name never has the form of a dotted-decimal
    // address; its top-level label is alphabetic.
    let last = key.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            "the top-level label is numeric (an address, not a host name)",
        ));
    }
    Ok(key)
}

/// A name server host name, validated by [`host_name`] and kept in key
/// form (lower case, absolute). Deserializing one validates it, so a
/// request that holds an invalid name is refused as a whole.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostName(String);

impl HostName {
    /// Parses and normalises a host name.
    pub fn parse(input: &str) -> Result<HostName, DataError> {
        host_name(input).map(HostName)
    }

    /// The key form (lower case, trailing dot).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for HostName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&self.0)
    }
}

impl std::ops::Deref for HostName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for HostName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for HostName {
    type Err = DataError;
    fn from_str(s: &str) -> Result<HostName, DataError> {
        HostName::parse(s)
    }
}

impl serde::Serialize for HostName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for HostName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<HostName, D::Error> {
        let s = String::deserialize(d)?;
        HostName::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Whether `host` (key form) lies under `tld` (label, no dot): in-domain,
/// so the root zone must carry its glue (RFC 9471).
pub fn in_domain(host: &str, tld: &str) -> bool {
    host.len() > tld.len() + 2 && host.ends_with(&format!(".{tld}."))
}

/// The digest length in octets of a DS digest type, for the types with a
/// published length; `None` for unassigned or unknown types.
pub fn digest_len(digest_type: u8) -> Option<usize> {
    match digest_type {
        1 => Some(20), // SHA-1, RFC 4034
        2 => Some(32), // SHA-256, RFC 4509
        3 => Some(32), // GOST R 34.11-94, RFC 5933
        4 => Some(48), // SHA-384, RFC 6605
        _ => None,
    }
}

/// Validates a DS record from outside and returns it with its digest in
/// upper-case hex, the form the record keeps.
pub fn ds_record(ds: &DsRecord) -> Result<DsRecord, DataError> {
    let bad = |reason: String| DataError::Ds {
        key_tag: ds.key_tag,
        algorithm: ds.algorithm,
        digest_type: ds.digest_type,
        reason,
    };
    let Some(len) = digest_len(ds.digest_type) else {
        return Err(bad(format!(
            "digest type {} is not one of 1 (SHA-1), 2 (SHA-256), 3 (GOST), 4 (SHA-384)",
            ds.digest_type
        )));
    };
    if !ds.digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(format!(
            "digest {} is not hexadecimal",
            quoted(&ds.digest)
        )));
    }
    if ds.digest.len() != 2 * len {
        return Err(bad(format!(
            "digest has {} hex digits; digest type {} needs {}",
            ds.digest.len(),
            ds.digest_type,
            2 * len
        )));
    }
    if ds.algorithm == 0 {
        return Err(bad("algorithm 0 is reserved".into()));
    }
    Ok(DsRecord {
        digest: ds.digest.to_ascii_uppercase(),
        ..ds.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(host_name("NS1.Example.XA").unwrap(), "ns1.example.xa.");
        assert_eq!(host_name("ns1.xa.").unwrap(), "ns1.xa.");
        assert_eq!(host_name("xn--p1ai.ns.ru").unwrap(), "xn--p1ai.ns.ru.");
        for bad in [
            "",
            ".",
            "xa",
            "ns1.xa.\nxb. 172800 IN NS ns.attacker.example.",
            "ns1.xa. xb.",
            "ns1\\010.xa.",
            "ns1\\.xa.",
            "ns_1.xa.",
            "-ns.xa.",
            "ns-.xa.",
            "ns..xa.",
            "ns1.xa..",
            "nś.xa.",
            "ns;comment.xa",
            "\"ns\".xa",
            "@",
            "*.xa.",
            "127.0.0.1",
            "ns.123",
        ] {
            let e = host_name(bad).expect_err(bad);
            assert!(e.to_string().contains(RULE), "{e}");
            assert!(!e.to_string().contains('\n'), "message quotes input: {e}");
        }
        let long = format!("{}.xa.", ["a"; 130].join("."));
        assert!(host_name(&long).is_err());
        let label = format!("{}.xa.", "a".repeat(64));
        assert!(host_name(&label).is_err());
    }

    #[test]
    fn in_domain_hosts() {
        assert!(in_domain("ns1.xa.", "xa"));
        assert!(in_domain("a.b.xa.", "xa"));
        assert!(!in_domain("xa.", "xa"));
        assert!(!in_domain("ns1.xb.", "xa"));
        assert!(!in_domain("ns1.bxa.", "xa"));
    }

    #[test]
    fn ds_digests() {
        let ds = |dt: u8, digest: &str| DsRecord {
            key_tag: 1,
            algorithm: 13,
            digest_type: dt,
            digest: digest.into(),
        };
        assert_eq!(
            ds_record(&ds(2, &"ab".repeat(32))).unwrap().digest,
            "AB".repeat(32)
        );
        assert!(ds_record(&ds(4, &"0".repeat(96))).is_ok());
        assert!(ds_record(&ds(1, &"0".repeat(40))).is_ok());
        for (dt, digest) in [
            (2, "00".to_string()),
            (2, "0".repeat(63)),
            (2, format!("{}\nxb. 1 IN NS x.", "0".repeat(64))),
            (2, format!("{} ", "0".repeat(63))),
            (2, "g".repeat(64)),
            (4, "0".repeat(64)),
            (9, "0".repeat(64)),
            (0, String::new()),
        ] {
            let e = ds_record(&ds(dt, &digest)).expect_err(&digest);
            assert!(!e.to_string().contains('\n'), "{e}");
        }
        let zero_alg = DsRecord {
            algorithm: 0,
            ..ds(2, &"0".repeat(64))
        };
        assert!(ds_record(&zero_alg).is_err());
    }
}
