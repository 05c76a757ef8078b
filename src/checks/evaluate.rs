//! Turning a [`DelegationProbe`] into findings and a verdict.
//!
//! The verdict is `threat` exactly when one of the two conditions of
//! `docs/RULES.md#threat` (BP §4.3) holds: no delegated name server answers authoritatively over
//! any transport (total outage or lameness), or the TLD is DNSSEC-bogus (the
//! root holds DS records and none matches a DNSKEY whose DNSKEY RRset
//! carries a currently valid signature by that key). The threat test does
//! not depend on the profile. Otherwise the verdict is `degraded` when any
//! enabled check fails with severity WARNING or above, else `ok`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use domain::base::iana::Rtype;
use domain::rdata::ZoneRecordData;

use super::catalogue::{CheckId, Severity};
use super::finding::{
    Collector, ServerStatus, THREAT_RULE, Threat, ThreatKind, TldReport, Verdict,
};
use super::profile::Profile;
use super::reply::{authoritative, label, lame_reason, records, soa_reply, soa_serial};
use super::{dnssec, shape};
use crate::probe::{DelegationProbe, Exchange, Transport};
use crate::time::Timestamp;
use crate::zone::name_key;

/// Evaluates a probe under `profile` at `at`.
pub fn evaluate(probe: &DelegationProbe, profile: &Profile, at: Timestamp) -> TldReport {
    // DNSSEC signature times are 32-bit (RFC 4034 §3.1.5).
    let at = at.signature_time_clamped();
    let d = &probe.delegation;
    let apex = format!("{}.", d.tld);
    let mut c = Collector {
        profile,
        findings: Vec::new(),
    };
    shape::check(probe, &mut c);
    let statuses = servers(probe, &apex, &mut c);
    consistency(probe, &apex, &statuses, &mut c);
    let dnssec = dnssec::check(probe, &apex, at, &mut c);
    let threats = threats(probe, &statuses, &dnssec);
    let verdict = verdict(&threats, &c.findings);
    TldReport {
        tld: d.tld.clone(),
        kind: d.kind,
        verdict,
        threats,
        findings: c.findings,
        servers: statuses,
        probe_ms: (probe.elapsed_ms * 10.0).round() / 10.0,
        local_error: probe.local_error(),
    }
}

/// The checks that need only the root zone (`rootguard check --static`):
/// NS count, distinct and routable glue addresses, the referral size, and
/// the DS digest types and algorithms. No name server is asked,
/// so the verdict is at most `degraded`: a threat needs a probe.
pub fn evaluate_static(d: &crate::zone::Delegation, profile: &Profile) -> TldReport {
    let mut c = Collector {
        profile,
        findings: Vec::new(),
    };
    shape::check_static(d, &mut c);
    dnssec::ds_records(d, &mut c);
    let verdict = verdict(&[], &c.findings);
    TldReport {
        tld: d.tld.clone(),
        kind: d.kind,
        verdict,
        threats: Vec::new(),
        findings: c.findings,
        servers: Vec::new(),
        probe_ms: 0.0,
        local_error: None,
    }
}

/// `threat` when there is a threat, else `degraded` when a finding is of
/// WARNING or above, else `ok`.
fn verdict(threats: &[Threat], findings: &[super::finding::Finding]) -> Verdict {
    if !threats.is_empty() {
        Verdict::Threat
    } else if findings.iter().any(|f| f.severity >= Severity::Warning) {
        Verdict::Degraded
    } else {
        Verdict::Ok
    }
}

/// Per-server reachability, authority, EDNS, recursion and RTT.
fn servers(probe: &DelegationProbe, apex: &str, c: &mut Collector<'_>) -> Vec<ServerStatus> {
    let apex = apex.to_string();
    let profile = c.profile;
    let mut statuses = Vec::new();
    for s in &probe.servers {
        let who = Some(label(s));
        match &s.soa_udp.outcome {
            o if o.reply().is_none() => c.push_tagged(
                CheckId::ReachUdp,
                Some(
                    if s.ns.transport == crate::probe::Transport::Udp
                        && s.ns.outcome.reply().is_none()
                    {
                        "CN01_NO_RESPONSE_UDP"
                    } else {
                        "CN01_NO_RESPONSE_SOA_QUERY_UDP"
                    },
                ),
                who.clone(),
                format!("no UDP answer to {apex} SOA: {}", o.describe()),
            ),
            _ => {}
        }
        match &s.soa_tcp.outcome {
            o if o.reply().is_none() => c.push(
                CheckId::ReachTcp,
                who.clone(),
                format!("no TCP answer to {apex} SOA: {}", o.describe()),
            ),
            _ => {}
        }
        let mut lame = Vec::new();
        let mut lame_tag = None;
        for (e, rtype) in [
            (&s.soa_udp, Rtype::SOA),
            (&s.soa_tcp, Rtype::SOA),
            (&s.ns, Rtype::NS),
        ] {
            if let Some(reply) = e.outcome.reply()
                && let Some(reason) = lame_reason(reply, &apex, rtype)
            {
                // The Zonemaster tag of the first lame answer: an error
                // rcode (CONNECTIVITY01), an answer without the SOA (an
                // upward referral), or AA=0 (DELEGATION04).
                lame_tag.get_or_insert(lame_tag_of(reply, rtype, e.transport));
                let text = format!("{reason} over {}", e.transport);
                if !lame.contains(&text) {
                    lame.push(text);
                }
            }
        }
        if !lame.is_empty() {
            c.push_tagged(
                CheckId::Authoritative,
                lame_tag,
                who.clone(),
                format!("lame: {}", lame.join("; ")),
            );
        }
        if let Some(r) = s.soa_udp.outcome.reply() {
            // NAMESERVER02: FORMERR without OPT is no EDNS support at all;
            // NOERROR without OPT ignores EDNS. Other rcodes are lameness
            // (AUTHORITATIVE), not an EDNS failure.
            if !r.edns && r.rcode == domain::base::iana::OptRcode::FORMERR {
                c.push_tagged(
                    CheckId::Edns,
                    Some("NO_EDNS_SUPPORT"),
                    who.clone(),
                    "answered FORMERR without an OPT record to an EDNS0 query".into(),
                );
            } else if !r.edns && r.is_noerror() {
                c.push_tagged(
                    CheckId::Edns,
                    Some("EDNS_RESPONSE_WITHOUT_EDNS"),
                    who.clone(),
                    "the reply to an EDNS0 query carried no OPT record".into(),
                );
            }
            if s.soa_udp.rtt_ms > profile.udp_rtt_ms as f64 {
                c.push(
                    CheckId::UdpRtt,
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
                CheckId::TcpRtt,
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
                CheckId::OpenRecursion,
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
            udp_noerror: s.soa_udp.outcome.is_noerror(),
            udp_rtt_ms: rtt_of(&s.soa_udp),
            tcp: s.soa_tcp.outcome.describe(),
            tcp_noerror: s.soa_tcp.outcome.is_noerror(),
            tcp_rtt_ms: rtt_of(&s.soa_tcp),
            authoritative: auth.is_some_and(|r| authoritative(r, &apex, Rtype::SOA)),
            serial: auth.and_then(|r| soa_serial(r, &apex)),
        });
    }

    statuses
}

/// Consistency between servers, and with the parent.
fn consistency(
    probe: &DelegationProbe,
    apex: &str,
    statuses: &[ServerStatus],
    c: &mut Collector<'_>,
) {
    let d = &probe.delegation;
    let apex = apex.to_string();
    let serials: BTreeMap<u32, Vec<String>> = probe
        .servers
        .iter()
        .zip(statuses)
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
            CheckId::SoaSerialConsistent,
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
            CheckId::NsSetConsistent,
            None,
            format!("servers return different NS sets: {}", parts.join("; ")),
        );
    }
    // DELEGATION07 compares the root's NS set with the union of the sets
    // the servers return (their differences are NS-SET-CONSISTENT).
    if !ns_sets.is_empty() {
        let parent: BTreeSet<&String> = d.ns.iter().collect();
        let child: BTreeSet<&String> = ns_sets.keys().flatten().collect();
        let who: Vec<&String> = ns_sets.values().flatten().collect();
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
            let tag = if only_parent.len() == parent.len() && only_child.len() == child.len() {
                "TOTAL_NAME_MISMATCH"
            } else if only_parent.is_empty() {
                "EXTRA_NAME_CHILD"
            } else {
                "EXTRA_NAME_PARENT"
            };
            let who: Vec<&str> = who.iter().map(|s| s.as_str()).collect();
            c.push_tagged(
                CheckId::ParentChildNs,
                Some(tag),
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
            let tag = if child.is_superset(&glue) {
                "EXTRA_ADDRESS_CHILD"
            } else {
                "IN_BAILIWICK_ADDR_MISMATCH"
            };
            c.push_tagged(
                CheckId::GlueMatch,
                Some(tag),
                None,
                format!(
                    "{host}: glue [{}] but the TLD serves [{}]",
                    g.join(" "),
                    ch.join(" ")
                ),
            );
        }
    }
}

/// The threats, by `docs/RULES.md#threat` alone.
fn threats(
    probe: &DelegationProbe,
    statuses: &[ServerStatus],
    dnssec: &dnssec::Outcome,
) -> Vec<Threat> {
    let d = &probe.delegation;
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
    } else if !d.ds.is_empty() && !dnssec.secure && !dnssec.insecure {
        let detail = if dnssec.dnskey_answers == 0 {
            "the root holds DS records but no server returned the DNSKEY RRset".to_string()
        } else {
            dnssec.evidence.join("; ")
        };
        threats.push(Threat {
            kind: ThreatKind::DnssecBogus,
            detail,
            rule: THREAT_RULE,
        });
    }
    threats
}

/// The Zonemaster tag of a lame answer to `rtype` over `transport`: an
/// error rcode or a missing record (CONNECTIVITY01/02), or AA=0
/// (DELEGATION04 for SOA, CONNECTIVITY01 for NS).
fn lame_tag_of(reply: &crate::probe::Reply, rtype: Rtype, transport: Transport) -> &'static str {
    let ns = rtype == Rtype::NS;
    let tcp = transport == Transport::Tcp;
    match (!reply.is_noerror(), reply.aa, ns, tcp) {
        (true, _, true, _) => "CN01_UNEXPECTED_RCODE_NS_QUERY_UDP",
        (true, _, false, true) => "CN02_UNEXPECTED_RCODE_SOA_QUERY_TCP",
        (true, _, false, false) => "CN01_UNEXPECTED_RCODE_SOA_QUERY_UDP",
        (false, true, true, _) => "CN01_MISSING_NS_RECORD_UDP",
        (false, true, false, true) => "CN02_MISSING_SOA_RECORD_TCP",
        (false, true, false, false) => "CN01_MISSING_SOA_RECORD_UDP",
        (false, false, true, _) => "CN01_NS_RECORD_NOT_AA_UDP",
        (false, false, false, _) => "IS_NOT_AUTHORITATIVE",
    }
}

fn rtt_of(e: &Exchange) -> f64 {
    (e.rtt_ms * 10.0).round() / 10.0
}
