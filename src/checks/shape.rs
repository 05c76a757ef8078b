//! The shape of a delegation: NS count, resolvability, distinct and
//! globally routable addresses, network diversity, and the size of the
//! root's referral. All but resolvability need only the root zone, so they
//! also run without probing ([`check_static`], `rootguard check --static`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::catalogue::CheckId;
use super::finding::Collector;
use crate::probe::DelegationProbe;
use crate::zone::Delegation;

/// Runs the shape checks of `probe`'s delegation, on the addresses the
/// probe found (glue, or the resolver's for hosts without glue).
pub(super) fn check(probe: &DelegationProbe, c: &mut Collector<'_>) {
    for (host, reason) in &probe.unresolved {
        c.push(CheckId::NsResolvable, None, format!("{host}: {reason}"));
    }
    let addresses: Vec<(&str, IpAddr)> = probe
        .servers
        .iter()
        .map(|s| (s.host.as_str(), s.address))
        .collect();
    check_addresses(&probe.delegation, &addresses, true, c);
}

/// Runs the shape checks that need only the root zone: the NS count, and,
/// on the glue addresses, distinct and routable addresses and the referral
/// size. Not network diversity: the root zone holds addresses for some
/// out-of-bailiwick hosts only, so the glue alone would misjudge it.
pub(super) fn check_static(d: &Delegation, c: &mut Collector<'_>) {
    let addresses: Vec<(&str, IpAddr)> =
        d.ns.iter()
            .flat_map(|h| d.glue_of(h).iter().map(move |a| (h.as_str(), *a)))
            .collect();
    check_addresses(d, &addresses, false, c);
}

fn check_addresses(
    d: &Delegation,
    addresses: &[(&str, IpAddr)],
    diversity: bool,
    c: &mut Collector<'_>,
) {
    if d.ns.len() < 2 {
        c.push(
            CheckId::NsCount,
            None,
            format!(
                "the root zone lists {} NS host(s); at least 2 are required",
                d.ns.len()
            ),
        );
    }
    let mut by_addr: BTreeMap<IpAddr, BTreeSet<&str>> = BTreeMap::new();
    for (host, addr) in addresses {
        by_addr.entry(*addr).or_default().insert(host);
    }
    for (addr, hosts) in &by_addr {
        if hosts.len() > 1 {
            let names: Vec<&str> = hosts.iter().copied().collect();
            c.push(
                CheckId::NsDistinctAddresses,
                None,
                format!("{addr} is shared by {}", names.join(", ")),
            );
        }
    }
    for addr in by_addr.keys() {
        if !is_global(addr) {
            let hosts: Vec<&str> = by_addr[addr].iter().copied().collect();
            c.push(
                CheckId::AddressScope,
                Some(format!("{} {addr}", hosts.join(","))),
                format!("{addr} is not globally routable"),
            );
        }
    }
    let v4: BTreeSet<[u8; 3]> = by_addr
        .keys()
        .filter_map(|a| match a {
            IpAddr::V4(v) => Some([v.octets()[0], v.octets()[1], v.octets()[2]]),
            _ => None,
        })
        .collect();
    let v6: BTreeSet<[u16; 3]> = by_addr
        .keys()
        .filter_map(|a| match a {
            IpAddr::V6(v) => Some([v.segments()[0], v.segments()[1], v.segments()[2]]),
            _ => None,
        })
        .collect();
    let n4 = by_addr.keys().filter(|a| a.is_ipv4()).count();
    let n6 = by_addr.keys().filter(|a| a.is_ipv6()).count();
    if diversity && n4 >= 2 && v4.len() < 2 {
        c.push(
            CheckId::PrefixDiversity,
            None,
            format!("all {n4} IPv4 addresses are in one /24"),
        );
    }
    if diversity && n6 >= 2 && v6.len() < 2 {
        c.push(
            CheckId::PrefixDiversity,
            None,
            format!("all {n6} IPv6 addresses are in one /48"),
        );
    }
    let size = referral_size(d, addresses);
    if size.is_none() {
        c.push(
            CheckId::ReferralSize,
            None,
            format!(
                "a referral with the {} NS records cannot even be encoded (more than 65,535 octets or a bad name)",
                d.ns.len()
            ),
        );
    }
    if let Some(size) = size
        && size > REFERRAL_LIMIT
    {
        c.push(
            CheckId::ReferralSize,
            None,
            format!(
                "a referral for a maximum-length name with the {} NS records and the first A and AAAA record is {size} octets (> {REFERRAL_LIMIT})",
                d.ns.len()
            ),
        );
    }
}

/// Whether an address is globally routable (what `IpAddr::is_global` will
/// say once stable, by the IANA special-purpose registries).
pub fn is_global(addr: &IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_broadcast()
                || a.is_documentation()
                || a.is_unspecified()
                || a.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240)
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || a.to_ipv4_mapped().is_some())
        }
    }
}

/// The UDP payload a referral must fit without EDNS (RFC 1035 §4.2.1).
pub const REFERRAL_LIMIT: usize = 512;

/// Size of the root's referral for a maximum-length name under the TLD, as
/// Zonemaster's DELEGATION03 builds it (`docs/RULES.md#technical-checks`):
/// every NS record of the delegation, the first A and the first AAAA
/// record among `addresses` (the least glue a resolver needs to go on),
/// a query name of 255 octets, no EDNS, names compressed. `None` when it
/// cannot be encoded.
pub fn referral_size(d: &Delegation, addresses: &[(&str, IpAddr)]) -> Option<usize> {
    use hickory_proto::op::{Message, OpCode, Query};
    use hickory_proto::rr::rdata::{A, AAAA, NS};
    use hickory_proto::rr::{Name, RData, Record, RecordType};
    let tld = Name::from_ascii(format!("{}.", d.tld)).ok()?;
    // Fill the name up to 255 octets in wire form.
    let mut room = 255 - (d.tld.len() + 2);
    let mut labels: Vec<String> = Vec::new();
    while room > 1 {
        let len = (room - 1).min(63);
        labels.push("x".repeat(len));
        room -= len + 1;
    }
    let qname = Name::from_ascii(format!("{}.{}.", labels.join("."), d.tld)).ok()?;
    let mut msg = Message::response(0, OpCode::Query);
    msg.add_query(Query::query(qname, RecordType::NS));
    for ns in &d.ns {
        let host = Name::from_ascii(ns).ok()?;
        msg.add_authority(Record::from_rdata(tld.clone(), 172800, RData::NS(NS(host))));
    }
    let first_v4 = addresses.iter().find(|(_, a)| a.is_ipv4());
    let first_v6 = addresses.iter().find(|(_, a)| a.is_ipv6());
    for (host, a) in first_v4.into_iter().chain(first_v6) {
        let host = Name::from_ascii(host).ok()?;
        let rdata = match a {
            IpAddr::V4(v4) => RData::A(A(*v4)),
            IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
        };
        msg.add_additional(Record::from_rdata(host, 172800, rdata));
    }
    msg.to_vec().ok().map(|v| v.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Profile;
    use crate::probe::{AddressProbe, Exchange, Outcome, Transport};
    use crate::zone::TldKind;
    use hickory_proto::rr::RecordType;

    #[test]
    fn global_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "100.64.0.1",
            "192.0.2.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "2001:db8::1",
        ] {
            assert!(!is_global(&a.parse().unwrap()), "{a}");
        }
        for a in ["194.0.9.1", "2001:678:c::1", "8.8.8.8"] {
            assert!(is_global(&a.parse().unwrap()), "{a}");
        }
    }

    /// The referral by hand, as DELEGATION03 of Zonemaster 4.6.2 counts
    /// it: header, question, NS records (owner compressed to the question's
    /// TLD, host names uncompressed unless they end in the TLD), one A and
    /// one AAAA record whose owners point into an NS record.
    fn by_hand(tld: &str, hosts: &[&str], v4: bool, v6: bool) -> usize {
        let question = 255 + 4;
        let ns: usize = hosts
            .iter()
            .map(|h| {
                let wire = h.len() + 1; // labels with length octets, root octet
                let rdata = if let Some(prefix) = h.strip_suffix(&format!(".{tld}.")) {
                    prefix.len() + 1 + 2 // labels before the TLD, then a pointer
                } else {
                    wire
                };
                2 + 10 + rdata
            })
            .sum();
        12 + question + ns + usize::from(v4) * (2 + 10 + 4) + usize::from(v6) * (2 + 10 + 16)
    }

    #[test]
    fn referral_size_counts_every_ns_and_one_address_of_each_family() {
        let mut d = Delegation {
            tld: "xa".into(),
            kind: TldKind::CountryCode,
            ns: vec!["ns1.xa.".into(), "ns2.xa.".into()],
            glue: Default::default(),
            ds: vec![],
        };
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let glue = [
            ("ns1.xa.", v4),
            ("ns1.xa.", v6),
            ("ns2.xa.", v4),
            ("ns2.xa.", v6),
        ];
        let small = referral_size(&d, &glue).unwrap();
        assert_eq!(small, by_hand("xa", &["ns1.xa.", "ns2.xa."], true, true));
        assert!(small < REFERRAL_LIMIT, "{small}");
        // More addresses do not grow the referral: only the first of each family counts.
        let mut many: Vec<(&str, IpAddr)> = glue.to_vec();
        many.extend([("ns1.xa.", "192.0.2.2".parse().unwrap()); 10]);
        assert_eq!(referral_size(&d, &many), Some(small));
        // Without IPv6, one AAAA record less.
        assert_eq!(
            referral_size(&d, &glue[..1]).unwrap(),
            by_hand("xa", &["ns1.xa.", "ns2.xa."], true, false)
        );
        // More NS names do.
        let hosts: Vec<String> = (0..13)
            .map(|i| format!("a-very-long-name-server-host-name-{i}.example.net."))
            .collect();
        d.ns.extend(hosts.iter().cloned());
        let mut all: Vec<&str> = vec!["ns1.xa.", "ns2.xa."];
        all.extend(hosts.iter().map(String::as_str));
        let big = referral_size(&d, &glue).unwrap();
        assert!(big > REFERRAL_LIMIT, "{big}");
        assert!(big <= by_hand("xa", &all, true, true), "{big}");
    }

    /// A referral past 64 KiB (hickory stops writing records there) still
    /// fails the check, never passes.
    #[test]
    fn an_unencodable_referral_fails() {
        let d = Delegation {
            tld: "xa".into(),
            kind: TldKind::CountryCode,
            ns: (0..3000)
                .map(|i| format!("{}.h{i}.", "n".repeat(60)))
                .collect(),
            glue: Default::default(),
            ds: vec![],
        };
        assert!(referral_size(&d, &[]).is_none_or(|n| n > REFERRAL_LIMIT));
        let profile = Profile::default();
        let mut c = Collector {
            profile: &profile,
            findings: Vec::new(),
        };
        check_static(&d, &mut c);
        assert!(
            c.findings.iter().any(|f| f.check == CheckId::ReferralSize),
            "{:?}",
            c.findings.iter().map(|f| f.check).collect::<Vec<_>>()
        );
    }

    fn silent(address: &str) -> AddressProbe {
        let address: IpAddr = address.parse().unwrap();
        let e = Exchange {
            server: std::net::SocketAddr::new(address, 53),
            qname: "xa.".into(),
            qtype: RecordType::SOA,
            transport: Transport::Udp,
            rtt_ms: 1.0,
            retried_over_tcp: false,
            outcome: Outcome::Timeout,
        };
        AddressProbe {
            host: "ns.xa.".into(),
            address,
            from_glue: true,
            soa_udp: e.clone(),
            soa_tcp: e.clone(),
            ns: e.clone(),
            dnskey: None,
            host_addresses: vec![],
            recursion: e,
        }
    }

    fn scope_findings(addresses: &[&str]) -> usize {
        let probe = DelegationProbe {
            delegation: Delegation {
                tld: "xa".into(),
                kind: TldKind::CountryCode,
                ns: vec!["ns.xa.".into()],
                glue: Default::default(),
                ds: vec![],
            },
            unresolved: vec![],
            servers: addresses.iter().map(|a| silent(a)).collect(),
            elapsed_ms: 1.0,
        };
        let profile = Profile::default();
        let mut c = Collector {
            profile: &profile,
            findings: Vec::new(),
        };
        check(&probe, &mut c);
        c.findings
            .iter()
            .filter(|f| f.check == CheckId::AddressScope)
            .count()
    }

    #[test]
    fn address_scope_passes_for_global_and_fails_for_special_addresses() {
        assert_eq!(scope_findings(&["194.0.9.1", "2001:678:c::1"]), 0);
        assert_eq!(scope_findings(&["194.0.9.1", "10.0.0.1", "fd00::53"]), 2);
    }
}
