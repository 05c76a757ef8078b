//! The [`Tld`] value: a top-level domain label in the one form every map
//! of rootguard uses, lower case, without a dot, internationalised labels
//! as A-labels. Input may be in any case, end with a dot, or be a U-label
//! (`РФ.` becomes `xn--p1ai`); anything that is not a DNS label is refused.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A top-level domain label, normalised.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tld(String);

/// Why a text is not a top-level domain label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input}: not a top-level domain label: {reason}")]
pub struct TldError {
    /// The input, quoted and shortened.
    pub input: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl Tld {
    /// Parses and normalises a TLD given as text.
    pub fn parse(input: &str) -> Result<Tld, TldError> {
        let bad = |reason| TldError {
            input: super::host::quoted(input),
            reason,
        };
        let text = input.strip_suffix('.').unwrap_or(input);
        if text.is_empty() {
            return Err(bad("empty"));
        }
        if text.len() > 253 {
            return Err(bad("too long"));
        }
        let ascii = if text.is_ascii() {
            text.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii_strict(text)
                .map_err(|_| bad("not a valid internationalised label"))?
        };
        if ascii.contains('.') {
            return Err(bad("more than one label"));
        }
        let ok = !ascii.is_empty()
            && ascii.len() <= 63
            && ascii
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !ascii.starts_with('-')
            && !ascii.ends_with('-');
        if !ok {
            return Err(bad(
                "a label is letters, digits and inner hyphens, at most 63 characters",
            ));
        }
        Ok(Tld(ascii))
    }

    /// The label (lower case, no dot).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The label as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Tld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl FromStr for Tld {
    type Err = TldError;
    fn from_str(s: &str) -> Result<Tld, TldError> {
        Tld::parse(s)
    }
}

impl AsRef<str> for Tld {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Tld {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Tld {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Tld {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Tld {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Serialize for Tld {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Tld {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tld, D::Error> {
        let s = String::deserialize(d)?;
        Tld::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_tld_are_one_value() {
        for s in ["xa", "XA", "xa.", "Xa."] {
            assert_eq!(Tld::parse(s).unwrap().as_str(), "xa");
        }
        assert_eq!(Tld::parse("рф").unwrap().as_str(), "xn--p1ai");
        assert_eq!(Tld::parse("РФ.").unwrap().as_str(), "xn--p1ai");
        assert_eq!(Tld::parse("XN--P1AI").unwrap().as_str(), "xn--p1ai");
        assert_eq!(Tld::parse("中国").unwrap().as_str(), "xn--fiqs8s");
    }

    #[test]
    fn garbage_is_refused() {
        for s in [
            "", ".", "xa..", "a.b", "xa\nxb", "x a", "-xa", "xa-", "x_a", "<img>", "xa;",
        ] {
            let e = Tld::parse(s).expect_err(s);
            assert!(!e.to_string().contains('\n'), "{e}");
        }
        assert!(Tld::parse(&"a".repeat(64)).is_err());
        assert!(Tld::parse(&"a".repeat(1000)).is_err());
    }

    #[test]
    fn serde_normalises() {
        let t: Tld = serde_json::from_str("\"XA.\"").unwrap();
        assert_eq!(t, "xa");
        assert!(serde_json::from_str::<Tld>("\"a b\"").is_err());
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"xa\"");
    }
}
