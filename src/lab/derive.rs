//! Deriving a lab from any root zone: the same TLDs, NS names and counts,
//! with every NS host moved to its own loopback address (127.x.y.z, IPv4
//! only: AAAA glue is dropped, since loopback offers a single IPv6
//! address), DS records replaced by those of the lab keys, and hosts
//! without glue answered by the lab resolver. `rootguard lab derive` writes
//! the result as a lab directory; the sweep benchmark serves it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr};

use super::sign::LabKey;
use super::spec::LabSpec;
use crate::zone::ZoneIndex;

/// The `i`-th lab address: 127.(1 + i/256).(i%256).1, each host in a /24
/// of its own (so network diversity holds as in the real zone); beyond
/// 64,768 hosts the last octet is used too.
pub fn lab_address(i: usize) -> Ipv4Addr {
    let net = i % 64_768;
    let host = (i / 64_768 % 250) as u8 + 1;
    Ipv4Addr::new(127, (1 + net / 256) as u8, (net % 256) as u8, host)
}

/// A derived lab: its definition and its root zone text.
#[derive(Clone, Debug)]
pub struct DerivedLab {
    /// `lab.toml`.
    pub spec: LabSpec,
    /// `root.zone`.
    pub root_zone: String,
    /// Number of NS hosts given an address.
    pub hosts: usize,
}

/// Derives a lab from `index` keeping only the TLDs `keep` selects.
pub fn derive(
    index: &ZoneIndex,
    port: u16,
    keep: impl Fn(&crate::zone::Delegation) -> bool,
) -> DerivedLab {
    let chosen: Vec<_> = index.delegations.values().filter(|d| keep(d)).collect();
    let hosts: BTreeSet<&String> = chosen.iter().flat_map(|d| d.ns.iter()).collect();
    let addr: BTreeMap<&String, Ipv4Addr> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (*h, lab_address(i)))
        .collect();
    let mut spec = LabSpec {
        port,
        resolver: Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 53))),
        ..Default::default()
    };
    let mut text = String::new();
    let _ = writeln!(
        text,
        "; lab derived by rootguard from root zone serial {}: NS hosts on loopback, lab DS keys",
        index.serial
    );
    let _ = writeln!(
        text,
        ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. {} 1800 900 604800 86400",
        index.serial
    );
    let mut glue_written = BTreeSet::new();
    for d in &chosen {
        for ns in &d.ns {
            let _ = writeln!(text, "{}. 172800 IN NS {ns}", d.tld);
        }
        if !d.ds.is_empty() {
            let ds = LabKey::derive(&d.tld, 1).ds();
            let _ = writeln!(text, "{}. 86400 IN DS {ds}", d.tld);
        }
        for ns in &d.ns {
            let had_glue = d.glue_of(ns).iter().any(IpAddr::is_ipv4);
            if had_glue {
                if glue_written.insert(ns.clone()) {
                    let _ = writeln!(text, "{ns} 172800 IN A {}", addr[ns]);
                }
            } else {
                spec.hosts.insert(ns.clone(), vec![IpAddr::V4(addr[ns])]);
            }
        }
    }
    // A host may have glue under one TLD and none under another: glue wins.
    spec.hosts.retain(|h, _| !glue_written.contains(h));
    DerivedLab {
        spec,
        root_zone: text,
        hosts: hosts.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::Zone;
    use std::path::Path;

    #[test]
    fn addresses_are_loopback_and_distinct() {
        let a: BTreeSet<Ipv4Addr> = (0..5000).map(lab_address).collect();
        assert_eq!(a.len(), 5000);
        assert!(
            a.iter()
                .all(|x| x.is_loopback() && x.octets()[3] != 0 && x.octets()[3] != 255)
        );
    }

    #[test]
    fn derives_same_shape() {
        let zone = Zone::from_bytes(
            b". 1 IN SOA a. b. 7 1 1 1 1
xa. 1 IN NS ns1.xa.
xa. 1 IN NS ns.example.com.
xa. 1 IN DS 1 8 2 AA
ns1.xa. 1 IN A 192.0.2.1
ns1.xa. 1 IN AAAA 2001:db8::1
",
            Path::new("t"),
        )
        .unwrap();
        let idx = ZoneIndex::build(&zone, None);
        let lab = derive(&idx, 5300, |d| d.kind.is_cctld());
        let lab_zone = Zone::from_bytes(lab.root_zone.as_bytes(), Path::new("lab")).unwrap();
        let lab_idx = ZoneIndex::build(&lab_zone, None);
        let xa = lab_idx.get("xa").unwrap();
        assert_eq!(xa.ns, idx.get("xa").unwrap().ns);
        assert!(xa.glue_of("ns1.xa.")[0].is_loopback());
        assert_eq!(xa.glue_of("ns1.xa.").len(), 1, "AAAA glue dropped");
        assert_eq!(xa.ds[0], LabKey::derive("xa", 1).ds());
        assert!(lab.spec.hosts.contains_key("ns.example.com."));
    }
}
