//! The delegation index of a root zone: for every TLD its NS names, the glue
//! addresses of each NS host, and its DS set, plus the ccTLD classification
//! (a two-letter ASCII label, or an `xn--` label the registry lists as
//! `country-code`; see `../shared/rootzone/README.md`).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use domain::rdata::ZoneRecordData;
use serde::{Deserialize, Serialize};

use super::{Registry, Zone, name_key};

/// The kind of a TLD, as far as the guard is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TldKind {
    /// A country-code TLD with a two-letter ASCII label (ISO 3166-1 shaped).
    CountryCode,
    /// An internationalised country-code TLD (`xn--` label listed as
    /// `country-code` in the registry).
    CountryCodeIdn,
    /// Any other TLD (generic, sponsored, infrastructure, ...).
    Other,
}

impl TldKind {
    /// Classifies a TLD label (lower case, no dot).
    pub fn classify(label: &str, registry: Option<&Registry>) -> TldKind {
        if label.len() == 2 && label.bytes().all(|b| b.is_ascii_alphabetic()) {
            TldKind::CountryCode
        } else if label.starts_with("xn--") && registry.is_some_and(|r| r.is_country_code(label)) {
            TldKind::CountryCodeIdn
        } else {
            TldKind::Other
        }
    }

    /// Whether this is a ccTLD (ASCII or IDN).
    pub fn is_cctld(self) -> bool {
        matches!(self, TldKind::CountryCode | TldKind::CountryCodeIdn)
    }
}

/// A DS record (RFC 4034 §5) in a comparable, printable form.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct DsRecord {
    /// Key tag of the DNSKEY it points to.
    pub key_tag: u16,
    /// DNSSEC algorithm number.
    pub algorithm: u8,
    /// Digest type number (1 SHA-1, 2 SHA-256, 4 SHA-384).
    pub digest_type: u8,
    /// Digest, upper-case hex.
    pub digest: String,
}

impl std::fmt::Display for DsRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.key_tag, self.algorithm, self.digest_type, self.digest
        )
    }
}

/// One TLD's delegation as published in the root zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    /// TLD label, lower case, no trailing dot.
    pub tld: String,
    /// Classification.
    pub kind: TldKind,
    /// NS host names (lower case, trailing dot), sorted.
    pub ns: Vec<String>,
    /// Glue addresses per NS host that has any in the zone.
    pub glue: BTreeMap<String, Vec<IpAddr>>,
    /// DS set, sorted.
    pub ds: Vec<DsRecord>,
}

impl Delegation {
    /// Whether `host` is inside this TLD (in-bailiwick, so glue is required).
    pub fn in_bailiwick(&self, host: &str) -> bool {
        host.ends_with(&format!(".{}.", self.tld))
    }

    /// Glue addresses of `host` (empty when it has none).
    pub fn glue_of(&self, host: &str) -> &[IpAddr] {
        self.glue.get(host).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// The delegations of a root zone.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ZoneIndex {
    /// SOA serial of the indexed zone.
    pub serial: u32,
    /// Delegations by TLD label.
    pub delegations: BTreeMap<String, Delegation>,
}

impl ZoneIndex {
    /// Indexes `zone`, classifying IDN ccTLDs with `registry` when given.
    pub fn build(zone: &Zone, registry: Option<&Registry>) -> ZoneIndex {
        let mut addresses: HashMap<String, Vec<IpAddr>> = HashMap::new();
        let mut delegations: BTreeMap<String, Delegation> = BTreeMap::new();
        for rr in &zone.records {
            match rr.data() {
                ZoneRecordData::A(a) => addresses
                    .entry(name_key(rr.owner()))
                    .or_default()
                    .push(IpAddr::V4(a.addr())),
                ZoneRecordData::Aaaa(a) => addresses
                    .entry(name_key(rr.owner()))
                    .or_default()
                    .push(IpAddr::V6(a.addr())),
                ZoneRecordData::Ns(ns) if rr.owner().label_count() == 2 => {
                    delegation(&mut delegations, rr.owner(), registry)
                        .ns
                        .push(name_key(ns.nsdname()));
                }
                ZoneRecordData::Ds(ds) if rr.owner().label_count() == 2 => {
                    delegation(&mut delegations, rr.owner(), registry)
                        .ds
                        .push(DsRecord {
                            key_tag: ds.key_tag(),
                            algorithm: ds.algorithm().to_int(),
                            digest_type: ds.digest_type().to_int(),
                            digest: hex_upper(ds.digest().as_ref()),
                        });
                }
                _ => {}
            }
        }
        for d in delegations.values_mut() {
            d.ns.sort();
            d.ns.dedup();
            d.ds.sort();
            d.ds.dedup();
            for host in &d.ns {
                if let Some(addrs) = addresses.get(host) {
                    let mut addrs = addrs.clone();
                    addrs.sort();
                    addrs.dedup();
                    d.glue.insert(host.clone(), addrs);
                }
            }
        }
        // A TLD with DS but no NS is not a delegation: drop it.
        delegations.retain(|_, d| !d.ns.is_empty());
        ZoneIndex {
            serial: zone.serial,
            delegations,
        }
    }

    /// The ccTLD delegations.
    pub fn cctlds(&self) -> impl Iterator<Item = &Delegation> {
        self.delegations.values().filter(|d| d.kind.is_cctld())
    }

    /// Looks a TLD up by label, with or without a trailing dot, any case.
    pub fn get(&self, tld: &str) -> Option<&Delegation> {
        let key = tld.trim_end_matches('.').to_ascii_lowercase();
        self.delegations.get(&key)
    }
}

fn delegation<'a>(
    map: &'a mut BTreeMap<String, Delegation>,
    owner: &super::Dname,
    registry: Option<&Registry>,
) -> &'a mut Delegation {
    let tld = name_key(owner).trim_end_matches('.').to_string();
    map.entry(tld.clone()).or_insert_with(|| Delegation {
        kind: TldKind::classify(&tld, registry),
        tld,
        ns: Vec::new(),
        glue: BTreeMap::new(),
        ds: Vec::new(),
    })
}

/// Upper-case hex of `data`.
pub fn hex_upper(data: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        let _ = write!(s, "{b:02X}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const ZONE: &str = ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 2026010100 1800 900 604800 86400
xa. 172800 IN NS ns1.xa.
xa. 172800 IN NS ns.example.net.
xa. 86400 IN DS 12345 13 2 ABCDEF0123
ns1.xa. 172800 IN A 127.0.0.1
ns1.xa. 172800 IN AAAA ::1
shop. 172800 IN NS ns1.shop.
xn--p1ai. 172800 IN NS ns1.xn--p1ai.
";

    #[test]
    fn indexes_delegations() {
        let zone = Zone::from_bytes(ZONE.as_bytes(), Path::new("t")).unwrap();
        let idx = ZoneIndex::build(&zone, None);
        let xa = idx.get("XA.").unwrap();
        assert_eq!(xa.kind, TldKind::CountryCode);
        assert_eq!(xa.ns, vec!["ns.example.net.", "ns1.xa."]);
        assert_eq!(xa.glue_of("ns1.xa.").len(), 2);
        assert!(xa.glue_of("ns.example.net.").is_empty());
        assert!(xa.in_bailiwick("ns1.xa."));
        assert!(!xa.in_bailiwick("ns.example.net."));
        assert_eq!(xa.ds[0].to_string(), "12345 13 2 ABCDEF0123");
        assert_eq!(idx.get("shop").unwrap().kind, TldKind::Other);
        // Without a registry an xn-- label is not known to be a ccTLD.
        assert_eq!(idx.get("xn--p1ai").unwrap().kind, TldKind::Other);
        assert_eq!(idx.cctlds().count(), 1);
    }

    #[test]
    fn registry_classifies_idn() {
        let zone = Zone::from_bytes(ZONE.as_bytes(), Path::new("t")).unwrap();
        let reg = Registry::from_slice(
            br#"{"tlds":{"xn--p1ai":{"type":"country-code"}}}"#,
            Path::new("r"),
        )
        .unwrap();
        let idx = ZoneIndex::build(&zone, Some(&reg));
        assert_eq!(idx.get("xn--p1ai").unwrap().kind, TldKind::CountryCodeIdn);
    }
}
