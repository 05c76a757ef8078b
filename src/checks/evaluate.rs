//! Turning a [`DelegationProbe`] into findings and a verdict.
//!
//! The verdict is `threat` exactly when one of the two conditions of
//! POLICY.md ("Technical complaints and temporary suspension", point 2;
//! BP §4.3) holds: no delegated name server answers authoritatively over
//! any transport (total outage or lameness), or the TLD is DNSSEC-bogus (the
//! root holds DS records and none matches a DNSKEY whose DNSKEY RRset
//! carries a currently valid signature by that key). The threat test does
//! not depend on the profile. Otherwise the verdict is `degraded` when any
//! enabled check fails with severity WARNING or above, else `ok`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use bytes::Bytes;
use domain::base::iana::{DigestAlgorithm, Rtype, SecurityAlgorithm};
use domain::rdata::{Dnskey, Ds, Rrsig, ZoneRecordData};
use serde::Serialize;

use super::catalogue::{Severity, info};
use super::profile::Profile;
use crate::probe::{AddressProbe, DelegationProbe, Exchange, Reply};
use crate::zone::verify::{ds_matches_key, in_window, verify_rrsig};
use crate::zone::{Delegation, Dname, DsRecord, Rr, TldKind, name_key};

/// One failed check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Check ID (see the catalogue).
    pub check: &'static str,
    /// Severity under the profile in force.
    pub severity: Severity,
    /// The server concerned ("host address"), when the finding is about one.
    pub server: Option<String>,
    /// What was observed.
    pub message: String,
    /// What to fix.
    pub fix: &'static str,
}

/// The verdict for one TLD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No finding of WARNING or above.
    Ok,
    /// Findings, but no threat to DNS stability.
    Degraded,
    /// One of POLICY.md's two threat conditions holds.
    Threat,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Ok => "ok",
            Verdict::Degraded => "degraded",
            Verdict::Threat => "threat",
        })
    }
}

/// The two conditions that threaten DNS stability (POLICY.md point 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThreatKind {
    /// No delegated name server answers authoritatively over any transport.
    TotalOutage,
    /// DS at the root, and none matches a validly self-signed DNSKEY.
    DnssecBogus,
}

/// A threat with its evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Threat {
    /// Which condition.
    pub kind: ThreatKind,
    /// Evidence.
    pub detail: String,
    /// The rule applied.
    pub rule: &'static str,
}

/// The rule text cited by threats.
pub const THREAT_RULE: &str =
    "POLICY.md technical complaints point 2; BP §4.3 (threat to the stability of the DNS)";

/// Per-address observations for the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServerStatus {
    /// NS host.
    pub host: String,
    /// Address.
    pub address: IpAddr,
    /// Whether the address is glue.
    pub from_glue: bool,
    /// SOA over UDP: outcome.
    pub udp: String,
    /// SOA over UDP: RTT in ms.
    pub udp_rtt_ms: f64,
    /// SOA over TCP: outcome.
    pub tcp: String,
    /// SOA over TCP: RTT in ms.
    pub tcp_rtt_ms: f64,
    /// Whether it answered SOA authoritatively over some transport.
    pub authoritative: bool,
    /// SOA serial served.
    pub serial: Option<u32>,
}

/// The check result for one TLD.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TldReport {
    /// TLD label.
    pub tld: String,
    /// Classification.
    pub kind: TldKind,
    /// Verdict.
    pub verdict: Verdict,
    /// Threats (empty unless the verdict is `threat`).
    pub threats: Vec<Threat>,
    /// Failed checks.
    pub findings: Vec<Finding>,
    /// Per-address observations.
    pub servers: Vec<ServerStatus>,
    /// Wall time of the probe in ms.
    pub probe_ms: f64,
}

struct Collector<'a> {
    profile: &'a Profile,
    findings: Vec<Finding>,
}

impl Collector<'_> {
    fn push(&mut self, check: &'static str, server: Option<String>, message: String) {
        if !self.profile.enabled(check) {
            return;
        }
        let fix = info(check).map(|c| c.fix).unwrap_or("");
        self.findings.push(Finding {
            check,
            severity: self.profile.severity(check),
            server,
            message,
            fix,
        });
    }
}

fn label(s: &AddressProbe) -> String {
    format!("{} {}", s.host, s.address)
}

fn soa_serial(reply: &Reply, apex: &str) -> Option<u32> {
    reply.answer.iter().find_map(|rr| match rr.data() {
        ZoneRecordData::Soa(soa) if name_key(rr.owner()) == apex => Some(soa.serial().into_int()),
        _ => None,
    })
}

/// Whether a SOA/NS reply is an authoritative answer for `apex` of `rtype`.
fn authoritative(reply: &Reply, apex: &str, rtype: Rtype) -> bool {
    reply.is_noerror()
        && reply.aa
        && reply
            .answer
            .iter()
            .any(|rr| rr.rtype() == rtype && name_key(rr.owner()) == apex)
}

/// Why a reply is lame, if it is.
fn lame_reason(reply: &Reply, apex: &str, rtype: Rtype) -> Option<String> {
    if !reply.is_noerror() {
        return Some(format!("answered {} to {apex} {rtype}", reply.rcode));
    }
    let upward = reply.answer.is_empty()
        && reply.authority.iter().any(|rr| {
            rr.rtype() == Rtype::NS && {
                let owner = name_key(rr.owner());
                owner != apex && (owner == "." || apex.ends_with(&format!(".{owner}")))
            }
        });
    if upward {
        return Some(format!(
            "upward referral instead of an answer to {apex} {rtype}"
        ));
    }
    if !reply.aa {
        return Some(format!("non-authoritative answer (AA=0) to {apex} {rtype}"));
    }
    if !authoritative(reply, apex, rtype) {
        return Some(format!("no {rtype} record for {apex} in the answer"));
    }
    None
}

fn soa_reply(s: &AddressProbe) -> Option<&Reply> {
    [&s.soa_udp, &s.soa_tcp]
        .into_iter()
        .filter_map(|e| e.outcome.reply())
        .find(|r| r.is_noerror() && r.aa)
}

fn records<'a>(reply: &'a Reply, apex: &'a str, rtype: Rtype) -> impl Iterator<Item = &'a Rr> + 'a {
    reply
        .answer
        .iter()
        .filter(move |rr| rr.rtype() == rtype && name_key(rr.owner()) == apex)
}

fn rrsigs<'a>(
    reply: &'a Reply,
    covered: Rtype,
) -> impl Iterator<Item = &'a Rrsig<Bytes, Dname>> + 'a {
    reply.answer.iter().filter_map(move |rr| match rr.data() {
        ZoneRecordData::Rrsig(sig) if sig.type_covered() == covered => Some(sig),
        _ => None,
    })
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

/// Converts a DS of the index into a `domain` DS.
pub fn to_ds(ds: &DsRecord) -> Option<Ds<Bytes>> {
    let digest: Option<Vec<u8>> = (0..ds.digest.len())
        .step_by(2)
        .map(|i| {
            ds.digest
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    Ds::new(
        ds.key_tag,
        SecurityAlgorithm::from_int(ds.algorithm),
        DigestAlgorithm::from_int(ds.digest_type),
        Bytes::from(digest?),
    )
    .ok()
}

/// Size of the root's referral for a maximum-length name under the TLD,
/// with all in-domain glue (RFC 9471), without EDNS; `None` when it cannot
/// be encoded.
pub fn referral_size(d: &Delegation) -> Option<usize> {
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
    msg.add_query(Query::query(qname, RecordType::A));
    for ns in &d.ns {
        let host = Name::from_ascii(ns).ok()?;
        msg.add_authority(Record::from_rdata(tld.clone(), 172800, RData::NS(NS(host))));
    }
    for ns in d.ns.iter().filter(|h| d.in_bailiwick(h)) {
        let host = Name::from_ascii(ns).ok()?;
        for a in d.glue_of(ns) {
            let rdata = match a {
                IpAddr::V4(v4) => RData::A(A(*v4)),
                IpAddr::V6(v6) => RData::AAAA(AAAA(*v6)),
            };
            msg.add_additional(Record::from_rdata(host.clone(), 172800, rdata));
        }
    }
    msg.to_vec().ok().map(|v| v.len())
}

fn rtt_of(e: &Exchange) -> f64 {
    (e.rtt_ms * 10.0).round() / 10.0
}

/// Evaluates a probe under `profile` at `at` (Unix seconds).
pub fn evaluate(probe: &DelegationProbe, profile: &Profile, at: u32) -> TldReport {
    let d = &probe.delegation;
    let apex = format!("{}.", d.tld);
    let mut c = Collector {
        profile,
        findings: Vec::new(),
    };

    // Delegation shape.
    if d.ns.len() < 2 {
        c.push(
            "NS-COUNT",
            None,
            format!(
                "the root zone lists {} NS host(s); at least 2 are required",
                d.ns.len()
            ),
        );
    }
    for (host, reason) in &probe.unresolved {
        c.push("NS-RESOLVABLE", None, format!("{host}: {reason}"));
    }
    let mut by_addr: BTreeMap<IpAddr, BTreeSet<&str>> = BTreeMap::new();
    for s in &probe.servers {
        by_addr.entry(s.address).or_default().insert(&s.host);
    }
    for (addr, hosts) in &by_addr {
        if hosts.len() > 1 {
            let names: Vec<&str> = hosts.iter().copied().collect();
            c.push(
                "NS-DISTINCT-ADDRESSES",
                None,
                format!("{addr} is shared by {}", names.join(", ")),
            );
        }
    }
    for addr in by_addr.keys() {
        if !is_global(addr) {
            let hosts: Vec<&str> = by_addr[addr].iter().copied().collect();
            c.push(
                "ADDRESS-SCOPE",
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
    if n4 >= 2 && v4.len() < 2 {
        c.push(
            "PREFIX-DIVERSITY",
            None,
            format!("all {n4} IPv4 addresses are in one /24"),
        );
    }
    if n6 >= 2 && v6.len() < 2 {
        c.push(
            "PREFIX-DIVERSITY",
            None,
            format!("all {n6} IPv6 addresses are in one /48"),
        );
    }
    if let Some(size) = referral_size(d)
        && size > 512
    {
        c.push("REFERRAL-SIZE", None, format!("a referral for a maximum-length name with all in-domain glue is {size} octets (> 512)"));
    }

    // Per-server reachability, authority, EDNS, recursion, RTT.
    let mut statuses = Vec::new();
    for s in &probe.servers {
        let who = Some(label(s));
        match &s.soa_udp.outcome {
            o if o.reply().is_none() => c.push(
                "REACH-UDP",
                who.clone(),
                format!("no UDP answer to {apex} SOA: {}", o.describe()),
            ),
            _ => {}
        }
        match &s.soa_tcp.outcome {
            o if o.reply().is_none() => c.push(
                "REACH-TCP",
                who.clone(),
                format!("no TCP answer to {apex} SOA: {}", o.describe()),
            ),
            _ => {}
        }
        let mut lame = Vec::new();
        for (e, rtype) in [
            (&s.soa_udp, Rtype::SOA),
            (&s.soa_tcp, Rtype::SOA),
            (&s.ns, Rtype::NS),
        ] {
            if let Some(reason) = e.outcome.reply().and_then(|r| lame_reason(r, &apex, rtype)) {
                let text = format!("{reason} over {}", e.transport);
                if !lame.contains(&text) {
                    lame.push(text);
                }
            }
        }
        if !lame.is_empty() {
            c.push(
                "AUTHORITATIVE",
                who.clone(),
                format!("lame: {}", lame.join("; ")),
            );
        }
        if let Some(r) = s.soa_udp.outcome.reply() {
            if !r.edns {
                c.push(
                    "EDNS",
                    who.clone(),
                    "the reply to an EDNS0 query carried no OPT record".into(),
                );
            }
            if s.soa_udp.rtt_ms > profile.udp_rtt_ms as f64 {
                c.push(
                    "UDP-RTT",
                    who.clone(),
                    format!(
                        "UDP round trip {:.0} ms > {} ms",
                        s.soa_udp.rtt_ms, profile.udp_rtt_ms
                    ),
                );
            }
        }
        if s.soa_tcp.outcome.reply().is_some() && s.soa_tcp.rtt_ms > profile.tcp_rtt_ms as f64 {
            c.push(
                "TCP-RTT",
                who.clone(),
                format!(
                    "TCP round trip {:.0} ms > {} ms",
                    s.soa_tcp.rtt_ms, profile.tcp_rtt_ms
                ),
            );
        }
        if let Some(r) = s.recursion.outcome.reply()
            && r.ra
            && r.is_noerror()
            && !r.answer.is_empty()
        {
            c.push(
                "OPEN-RECURSION",
                who.clone(),
                "answered a recursive query for '. SOA' with recursion available".into(),
            );
        }
        let auth = soa_reply(s);
        statuses.push(ServerStatus {
            host: s.host.clone(),
            address: s.address,
            from_glue: s.from_glue,
            udp: s.soa_udp.outcome.describe()
                + if s.soa_udp.retried_over_tcp {
                    " (TC=1, retried over TCP)"
                } else {
                    ""
                },
            udp_rtt_ms: rtt_of(&s.soa_udp),
            tcp: s.soa_tcp.outcome.describe(),
            tcp_rtt_ms: rtt_of(&s.soa_tcp),
            authoritative: auth.is_some_and(|r| authoritative(r, &apex, Rtype::SOA)),
            serial: auth.and_then(|r| soa_serial(r, &apex)),
        });
    }

    // Consistency between servers, and with the parent.
    let serials: BTreeMap<u32, Vec<String>> = probe
        .servers
        .iter()
        .zip(&statuses)
        .filter_map(|(s, st)| st.serial.map(|n| (n, label(s))))
        .fold(BTreeMap::new(), |mut m, (n, l)| {
            m.entry(n).or_insert_with(Vec::new).push(l);
            m
        });
    if serials.len() > 1 {
        let parts: Vec<String> = serials
            .iter()
            .map(|(n, who)| format!("{n} from {}", who.join(", ")))
            .collect();
        c.push(
            "SOA-SERIAL-CONSISTENT",
            None,
            format!("servers disagree on the SOA serial: {}", parts.join("; ")),
        );
    }
    let mut ns_sets: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for s in &probe.servers {
        if let Some(r) =
            s.ns.outcome
                .reply()
                .filter(|r| authoritative(r, &apex, Rtype::NS))
        {
            let mut set: Vec<String> = records(r, &apex, Rtype::NS)
                .filter_map(|rr| match rr.data() {
                    ZoneRecordData::Ns(ns) => Some(name_key(ns.nsdname())),
                    _ => None,
                })
                .collect();
            set.sort();
            set.dedup();
            ns_sets.entry(set).or_default().push(label(s));
        }
    }
    if ns_sets.len() > 1 {
        let parts: Vec<String> = ns_sets
            .iter()
            .map(|(set, who)| format!("[{}] from {}", set.join(" "), who.join(", ")))
            .collect();
        c.push(
            "NS-SET-CONSISTENT",
            None,
            format!("servers return different NS sets: {}", parts.join("; ")),
        );
    }
    for (set, who) in &ns_sets {
        let parent: BTreeSet<&String> = d.ns.iter().collect();
        let child: BTreeSet<&String> = set.iter().collect();
        let only_parent: Vec<&str> = parent.difference(&child).map(|s| s.as_str()).collect();
        let only_child: Vec<&str> = child.difference(&parent).map(|s| s.as_str()).collect();
        let mut parts = Vec::new();
        if !only_parent.is_empty() {
            parts.push(format!(
                "in the root zone but not in the TLD's NS set: {}",
                only_parent.join(" ")
            ));
        }
        if !only_child.is_empty() {
            parts.push(format!(
                "in the TLD's NS set but not in the root zone: {}",
                only_child.join(" ")
            ));
        }
        if !parts.is_empty() {
            c.push(
                "PARENT-CHILD-NS",
                None,
                format!("{} (as served by {})", parts.join("; "), who.join(", ")),
            );
        }
    }
    for host in
        d.ns.iter()
            .filter(|h| d.in_bailiwick(h) && !d.glue_of(h).is_empty())
    {
        let mut child: BTreeSet<IpAddr> = BTreeSet::new();
        let mut answered = false;
        for s in probe.servers.iter().filter(|s| &s.host == host) {
            for e in &s.host_addresses {
                if let Some(r) = e.outcome.reply().filter(|r| r.is_noerror() && r.aa) {
                    answered = true;
                    for rr in r.answer.iter().filter(|rr| name_key(rr.owner()) == *host) {
                        match rr.data() {
                            ZoneRecordData::A(a) => {
                                child.insert(IpAddr::V4(a.addr()));
                            }
                            ZoneRecordData::Aaaa(a) => {
                                child.insert(IpAddr::V6(a.addr()));
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        if !answered {
            continue;
        }
        let glue: BTreeSet<IpAddr> = d.glue_of(host).iter().copied().collect();
        if glue != child {
            let g: Vec<String> = glue.iter().map(|a| a.to_string()).collect();
            let ch: Vec<String> = child.iter().map(|a| a.to_string()).collect();
            c.push(
                "GLUE-MATCH",
                None,
                format!(
                    "{host}: glue [{}] but the TLD serves [{}]",
                    g.join(" "),
                    ch.join(" ")
                ),
            );
        }
    }

    // DNSSEC.
    let ds: Vec<Ds<Bytes>> = d.ds.iter().filter_map(to_ds).collect();
    let mut secure_somewhere = false;
    let mut dnskey_answers = 0;
    let mut bogus_evidence: Vec<String> = Vec::new();
    if !d.ds.is_empty() {
        for r in &d.ds {
            if !matches!(r.digest_type, 2 | 4) {
                let what = if r.digest_type == 1 {
                    "SHA-1, deprecated"
                } else {
                    "unknown"
                };
                c.push(
                    "DS-DIGEST-ALGORITHM",
                    None,
                    format!(
                        "DS {} uses digest type {} ({what})",
                        r.key_tag, r.digest_type
                    ),
                );
            }
            if !matches!(r.algorithm, 8 | 10 | 13 | 14 | 15 | 16) {
                c.push(
                    "DS-KEY-ALGORITHM",
                    None,
                    format!(
                        "DS {} names algorithm {}, which must not be used for signing",
                        r.key_tag, r.algorithm
                    ),
                );
            }
        }
        let owner: Dname = match apex.parse() {
            Ok(n) => n,
            Err(_) => Dname::root_bytes(),
        };
        for s in &probe.servers {
            let who = Some(label(s));
            let Some(reply) = s.dnskey.as_ref().and_then(|e| e.outcome.reply()) else {
                continue;
            };
            if !(reply.is_noerror() && reply.aa) {
                continue;
            }
            dnskey_answers += 1;
            let key_rrs: Vec<&Rr> = records(reply, &apex, Rtype::DNSKEY).collect();
            let keys: Vec<&Dnskey<Bytes>> = key_rrs
                .iter()
                .filter_map(|rr| match rr.data() {
                    ZoneRecordData::Dnskey(k) => Some(k),
                    _ => None,
                })
                .collect();
            for sig in rrsigs(reply, Rtype::DNSKEY) {
                if !in_window(sig, at) {
                    c.push(
                        "SIGNATURE-EXPIRY",
                        who.clone(),
                        format!(
                            "RRSIG DNSKEY by key {} is outside its validity period",
                            sig.key_tag()
                        ),
                    );
                }
            }
            let matched: Vec<&Dnskey<Bytes>> = keys
                .iter()
                .copied()
                .filter(|k| ds.iter().any(|x| ds_matches_key(x, &owner, k)))
                .collect();
            if matched.is_empty() {
                let tags: Vec<String> = keys.iter().map(|k| k.key_tag().to_string()).collect();
                let msg = if keys.is_empty() {
                    "no DNSKEY records returned, but the root holds DS".to_string()
                } else {
                    format!(
                        "no DS matches a served DNSKEY (DS key tags {:?}, DNSKEY key tags [{}])",
                        d.ds.iter().map(|x| x.key_tag).collect::<Vec<_>>(),
                        tags.join(", ")
                    )
                };
                bogus_evidence.push(format!("{}: {msg}", label(s)));
                c.push("DS-MATCHES-DNSKEY", who.clone(), msg);
                continue;
            }
            let mut errors = Vec::new();
            let signed_by_matched = rrsigs(reply, Rtype::DNSKEY).any(|sig| {
                match verify_rrsig(sig, &key_rrs, matched.iter().copied(), at) {
                    Ok(_) => true,
                    Err(e) => {
                        errors.push(e.to_string());
                        false
                    }
                }
            });
            if !signed_by_matched {
                let msg = if errors.is_empty() {
                    "the DNSKEY RRset carries no signature by the key the DS names".to_string()
                } else {
                    format!(
                        "no valid DNSKEY signature by the key the DS names: {}",
                        errors.join("; ")
                    )
                };
                bogus_evidence.push(format!("{}: {msg}", label(s)));
                c.push("DNSKEY-SIGNED", who.clone(), msg);
                continue;
            }
            secure_somewhere = true;
            if let Some(soa) = s
                .soa_udp
                .outcome
                .reply()
                .filter(|r| authoritative(r, &apex, Rtype::SOA))
            {
                let soa_rrs: Vec<&Rr> = records(soa, &apex, Rtype::SOA).collect();
                let sigs: Vec<_> = rrsigs(soa, Rtype::SOA).collect();
                for sig in &sigs {
                    if !in_window(sig, at) {
                        c.push(
                            "SIGNATURE-EXPIRY",
                            who.clone(),
                            format!(
                                "RRSIG SOA by key {} is outside its validity period",
                                sig.key_tag()
                            ),
                        );
                    }
                }
                let ok = sigs
                    .iter()
                    .any(|sig| verify_rrsig(sig, &soa_rrs, keys.iter().copied(), at).is_ok());
                if !ok {
                    let msg = if sigs.is_empty() {
                        "the SOA carries no RRSIG".to_string()
                    } else {
                        "no SOA signature verifies with the DNSKEY RRset".to_string()
                    };
                    c.push("SOA-SIGNED", who.clone(), msg);
                }
            }
        }
    }

    // Threats, by POLICY.md point 2 alone.
    let mut threats = Vec::new();
    let answering = statuses.iter().filter(|s| s.authoritative).count();
    if answering == 0 {
        let detail = if probe.servers.is_empty() {
            "no NS host has an address to query".to_string()
        } else {
            let parts: Vec<String> = statuses
                .iter()
                .map(|s| format!("{} {}: UDP {}, TCP {}", s.host, s.address, s.udp, s.tcp))
                .collect();
            format!(
                "none of {} server addresses answered authoritatively: {}",
                statuses.len(),
                parts.join("; ")
            )
        };
        threats.push(Threat {
            kind: ThreatKind::TotalOutage,
            detail,
            rule: THREAT_RULE,
        });
    } else if !d.ds.is_empty() && !secure_somewhere {
        let detail = if dnskey_answers == 0 {
            "the root holds DS records but no server returned the DNSKEY RRset".to_string()
        } else {
            bogus_evidence.join("; ")
        };
        threats.push(Threat {
            kind: ThreatKind::DnssecBogus,
            detail,
            rule: THREAT_RULE,
        });
    }
    let verdict = if !threats.is_empty() {
        Verdict::Threat
    } else if c.findings.iter().any(|f| f.severity >= Severity::Warning) {
        Verdict::Degraded
    } else {
        Verdict::Ok
    };
    TldReport {
        tld: d.tld.clone(),
        kind: d.kind,
        verdict,
        threats,
        findings: c.findings,
        servers: statuses,
        probe_ms: (probe.elapsed_ms * 10.0).round() / 10.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn referral_size_grows_with_glue() {
        let mut d = Delegation {
            tld: "xa".into(),
            kind: TldKind::CountryCode,
            ns: vec!["ns1.xa.".into(), "ns2.xa.".into()],
            glue: Default::default(),
            ds: vec![],
        };
        let small = referral_size(&d).unwrap();
        assert!(small < 512, "{small}");
        for i in 0..13 {
            let host = format!("a-very-long-name-server-host-name-{i}.xa.");
            d.ns.push(host.clone());
            d.glue.insert(
                host,
                vec!["2001:db8::1".parse().unwrap(), "192.0.2.1".parse().unwrap()],
            );
        }
        assert!(referral_size(&d).unwrap() > 512);
    }

    #[test]
    fn ds_conversion_round_trips() {
        let r = DsRecord {
            key_tag: 1,
            algorithm: 13,
            digest_type: 2,
            digest: "ABCD".into(),
        };
        let ds = to_ds(&r).unwrap();
        assert_eq!(ds.digest().as_ref(), &[0xab, 0xcd]);
        assert!(
            to_ds(&DsRecord {
                digest: "XYZ".into(),
                ..r
            })
            .is_none()
        );
    }
}
