//! The catalogue of delegation checks: stable IDs, what each tests, its
//! default severity, the IANA technical requirement and the Zonemaster
//! message tags it corresponds to. IDs never change meaning; new checks get
//! new IDs.
//!
//! The Zonemaster tags are those of the engine Debian 12 ships (Zonemaster
//! engine 4.6.2, zonemaster-cli 5.0.2), with their levels in that engine's
//! default profile. A finding carries the tag it corresponds to, so an
//! operator can compare a rootguard report with a Zonemaster one line by
//! line; `tests/it/zonemaster.rs` runs both on the lab and fails on any
//! disagreement the README's table of deliberate differences does not
//! list.

use serde::{Deserialize, Serialize};

/// How serious a failed check is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// Worth knowing; does not degrade the verdict.
    Notice,
    /// A recommendation is not met: the TLD is degraded.
    Warning,
    /// A requirement is not met: the TLD is degraded.
    Error,
    /// Resolution of the TLD is at risk. The verdict `threat` is decided by
    /// the two conditions of `docs/RULES.md#threat` alone, not by this severity.
    Critical,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Notice => "NOTICE",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
            Severity::Critical => "CRITICAL",
        })
    }
}

/// A check's stable identifier. Only the checks of the catalogue exist:
/// an unknown ID cannot be represented, and parsing one fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckId {
    /// `NS-COUNT`.
    NsCount,
    /// `NS-RESOLVABLE`.
    NsResolvable,
    /// `NS-DISTINCT-ADDRESSES`.
    NsDistinctAddresses,
    /// `ADDRESS-SCOPE`.
    AddressScope,
    /// `PREFIX-DIVERSITY`.
    PrefixDiversity,
    /// `REACH-UDP`.
    ReachUdp,
    /// `REACH-TCP`.
    ReachTcp,
    /// `AUTHORITATIVE`.
    Authoritative,
    /// `SOA-SERIAL-CONSISTENT`.
    SoaSerialConsistent,
    /// `NS-SET-CONSISTENT`.
    NsSetConsistent,
    /// `PARENT-CHILD-NS`.
    ParentChildNs,
    /// `GLUE-MATCH`.
    GlueMatch,
    /// `REFERRAL-SIZE`.
    ReferralSize,
    /// `OPEN-RECURSION`.
    OpenRecursion,
    /// `EDNS`.
    Edns,
    /// `UDP-RTT`.
    UdpRtt,
    /// `TCP-RTT`.
    TcpRtt,
    /// `DS-DIGEST-ALGORITHM`.
    DsDigestAlgorithm,
    /// `DS-KEY-ALGORITHM`.
    DsKeyAlgorithm,
    /// `DS-MATCHES-DNSKEY`.
    DsMatchesDnskey,
    /// `DNSKEY-SIGNED`.
    DnskeySigned,
    /// `SOA-SIGNED`.
    SoaSigned,
    /// `SIGNATURE-EXPIRY`.
    SignatureExpiry,
}

impl CheckId {
    /// Every check, in catalogue order.
    pub const ALL: [CheckId; 23] = [
        CheckId::NsCount,
        CheckId::NsResolvable,
        CheckId::NsDistinctAddresses,
        CheckId::AddressScope,
        CheckId::PrefixDiversity,
        CheckId::ReachUdp,
        CheckId::ReachTcp,
        CheckId::Authoritative,
        CheckId::SoaSerialConsistent,
        CheckId::NsSetConsistent,
        CheckId::ParentChildNs,
        CheckId::GlueMatch,
        CheckId::ReferralSize,
        CheckId::OpenRecursion,
        CheckId::Edns,
        CheckId::UdpRtt,
        CheckId::TcpRtt,
        CheckId::DsDigestAlgorithm,
        CheckId::DsKeyAlgorithm,
        CheckId::DsMatchesDnskey,
        CheckId::DnskeySigned,
        CheckId::SoaSigned,
        CheckId::SignatureExpiry,
    ];

    /// The stable identifier text (e.g. `NS-COUNT`).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::NsCount => "NS-COUNT",
            CheckId::NsResolvable => "NS-RESOLVABLE",
            CheckId::NsDistinctAddresses => "NS-DISTINCT-ADDRESSES",
            CheckId::AddressScope => "ADDRESS-SCOPE",
            CheckId::PrefixDiversity => "PREFIX-DIVERSITY",
            CheckId::ReachUdp => "REACH-UDP",
            CheckId::ReachTcp => "REACH-TCP",
            CheckId::Authoritative => "AUTHORITATIVE",
            CheckId::SoaSerialConsistent => "SOA-SERIAL-CONSISTENT",
            CheckId::NsSetConsistent => "NS-SET-CONSISTENT",
            CheckId::ParentChildNs => "PARENT-CHILD-NS",
            CheckId::GlueMatch => "GLUE-MATCH",
            CheckId::ReferralSize => "REFERRAL-SIZE",
            CheckId::OpenRecursion => "OPEN-RECURSION",
            CheckId::Edns => "EDNS",
            CheckId::UdpRtt => "UDP-RTT",
            CheckId::TcpRtt => "TCP-RTT",
            CheckId::DsDigestAlgorithm => "DS-DIGEST-ALGORITHM",
            CheckId::DsKeyAlgorithm => "DS-KEY-ALGORITHM",
            CheckId::DsMatchesDnskey => "DS-MATCHES-DNSKEY",
            CheckId::DnskeySigned => "DNSKEY-SIGNED",
            CheckId::SoaSigned => "SOA-SIGNED",
            CheckId::SignatureExpiry => "SIGNATURE-EXPIRY",
        }
    }

    /// The catalogue entry.
    pub fn info(self) -> &'static CheckInfo {
        &CATALOGUE[self as usize]
    }

    /// The family of findings the check belongs to.
    pub fn family(self) -> Family {
        self.info().family
    }

    /// Default severity of a failure.
    pub fn default_severity(self) -> Severity {
        self.info().severity
    }

    /// What the manager should do when it fails.
    pub fn fix(self) -> &'static str {
        self.info().fix
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A check ID that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown check ID {0:?} (see `rootguard checks` for the catalogue)")]
pub struct UnknownCheck(pub String);

impl std::str::FromStr for CheckId {
    type Err = UnknownCheck;
    fn from_str(s: &str) -> Result<CheckId, UnknownCheck> {
        CheckId::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCheck(s.to_string()))
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CheckId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CheckId, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A family of findings: one complaint track each
/// (`docs/RULES.md#technical-complaint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Servers unreachable, lame or unresolvable.
    Reachability,
    /// Servers disagree with each other or with the root zone.
    Consistency,
    /// DNSSEC chain and signatures.
    Dnssec,
    /// Shape of the delegation (count, addresses, diversity, referral).
    Delegation,
    /// Service quality (recursion, EDNS, RTT).
    Service,
}

/// One check of the catalogue.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CheckInfo {
    /// Stable identifier.
    pub id: CheckId,
    /// The family of findings it belongs to (one complaint track each).
    pub family: Family,
    /// What it tests.
    pub tests: &'static str,
    /// Default severity of a failure.
    pub severity: Severity,
    /// The Zonemaster 4.6.2 message tags that report the same failure
    /// (empty: Zonemaster has no such test).
    pub zonemaster: &'static [ZonemasterTag],
    /// Corresponding IANA technical requirement.
    pub iana: &'static str,
    /// What the manager should do when it fails.
    pub fix: &'static str,
}

/// A Zonemaster message tag a check corresponds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ZonemasterTag {
    /// The test case that emits it (e.g. `DELEGATION03`).
    pub case: &'static str,
    /// The message tag (e.g. `REFERRAL_SIZE_TOO_LARGE`).
    pub tag: &'static str,
    /// Its level in Zonemaster 4.6.2's default profile.
    pub level: Severity,
    /// rootguard's default severity for a finding with this tag, when it
    /// differs from Zonemaster's (each difference is listed, with its
    /// reason, in the README's table of deliberate differences).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ours: Option<Severity>,
}

impl ZonemasterTag {
    /// rootguard's default severity for a finding with this tag.
    pub fn severity(&self) -> Severity {
        self.ours.unwrap_or(self.level)
    }
}

const fn zm(case: &'static str, tag: &'static str, level: Severity) -> ZonemasterTag {
    ZonemasterTag {
        case,
        tag,
        level,
        ours: None,
    }
}

const fn zm_ours(
    case: &'static str,
    tag: &'static str,
    level: Severity,
    ours: Severity,
) -> ZonemasterTag {
    ZonemasterTag {
        case,
        tag,
        level,
        ours: Some(ours),
    }
}

use Severity::{Critical, Error, Notice, Warning};

impl CheckInfo {
    /// The Zonemaster test cases its tags come from, e.g.
    /// `DELEGATION04 / CONNECTIVITY01`, or `—` when there is none.
    pub fn zonemaster_cases(&self) -> String {
        let mut cases: Vec<&str> = Vec::new();
        for t in self.zonemaster {
            if !cases.contains(&t.case) {
                cases.push(t.case);
            }
        }
        if cases.is_empty() {
            "—".into()
        } else {
            cases.join(" / ")
        }
    }

    /// The entry for Zonemaster tag `tag`, if the check maps it.
    pub fn zonemaster_tag(&self, tag: &str) -> Option<&'static ZonemasterTag> {
        self.zonemaster.iter().find(|t| t.tag == tag)
    }
}

macro_rules! check {
    ($id:expr, $family:expr, $sev:ident, $zm:expr, $iana:expr, $tests:expr, $fix:expr) => {
        CheckInfo {
            id: $id,
            family: $family,
            tests: $tests,
            severity: $sev,
            zonemaster: $zm,
            iana: $iana,
            fix: $fix,
        }
    };
}

/// Every check rootguard runs, in report order.
pub const CATALOGUE: &[CheckInfo] = &[
    check!(
        CheckId::NsCount,
        Family::Delegation,
        Error,
        &[zm("DELEGATION01", "NOT_ENOUGH_NS_DEL", Error)],
        "Minimum number of name servers (two)",
        "The delegation lists at least two NS hosts.",
        "Delegate to at least two name servers."
    ),
    check!(
        CheckId::NsResolvable,
        Family::Reachability,
        Error,
        &[
            zm("NAMESERVER06", "CAN_NOT_BE_RESOLVED", Error),
            zm("NAMESERVER06", "NO_RESOLUTION", Error)
        ],
        "Name servers must be resolvable",
        "Every NS host of the delegation has an address: glue in the root zone, or an answer from the resolver for out-of-bailiwick hosts.",
        "Publish A/AAAA records for every NS host (glue for in-bailiwick hosts)."
    ),
    check!(
        CheckId::NsDistinctAddresses,
        Family::Delegation,
        Error,
        &[zm("DELEGATION02", "DEL_NS_SAME_IP", Error)],
        "Name servers must be distinct",
        "No two NS hosts share an IP address.",
        "Give each name server its own address."
    ),
    check!(
        CheckId::AddressScope,
        Family::Delegation,
        Error,
        &[zm("ADDRESS01", "NAMESERVER_IP_PRIVATE_NETWORK", Error)],
        "Name server addresses must be globally routable",
        "Every name server address is globally routable (not private, loopback, link-local, documentation or otherwise reserved).",
        "Use publicly routable addresses for all name servers."
    ),
    check!(
        CheckId::PrefixDiversity,
        Family::Delegation,
        Warning,
        &[],
        "Network diversity",
        "The IPv4 addresses span more than one /24 and the IPv6 addresses more than one /48. A rootguard check: Zonemaster 4.6.2 has no CONNECTIVITY04, and its CONNECTIVITY03 judges AS diversity, which needs an AS lookup that cannot work offline.",
        "Place name servers in different networks."
    ),
    check!(
        CheckId::ReachUdp,
        Family::Reachability,
        Error,
        &[
            zm_ours("CONNECTIVITY01", "CN01_NO_RESPONSE_UDP", Warning, Error),
            zm_ours(
                "CONNECTIVITY01",
                "CN01_NO_RESPONSE_SOA_QUERY_UDP",
                Warning,
                Error
            )
        ],
        "Name servers must answer over UDP",
        "Each name server address answers a SOA query over UDP port 53.",
        "Make the server answer DNS over UDP; check firewalls and the server process."
    ),
    check!(
        CheckId::ReachTcp,
        Family::Reachability,
        Error,
        &[
            zm_ours("CONNECTIVITY02", "CN02_NO_RESPONSE_TCP", Warning, Error),
            zm_ours(
                "CONNECTIVITY02",
                "CN02_NO_RESPONSE_SOA_QUERY_TCP",
                Warning,
                Error
            )
        ],
        "Name servers must answer over TCP (RFC 7766)",
        "Each name server address answers a SOA query over TCP port 53.",
        "Allow DNS over TCP port 53 and make the server answer it."
    ),
    check!(
        CheckId::Authoritative,
        Family::Reachability,
        Error,
        &[
            zm_ours("DELEGATION04", "IS_NOT_AUTHORITATIVE", Warning, Error),
            zm_ours(
                "CONNECTIVITY01",
                "CN01_UNEXPECTED_RCODE_SOA_QUERY_UDP",
                Warning,
                Error
            ),
            zm_ours(
                "CONNECTIVITY01",
                "CN01_MISSING_SOA_RECORD_UDP",
                Warning,
                Error
            ),
            zm_ours(
                "CONNECTIVITY01",
                "CN01_UNEXPECTED_RCODE_NS_QUERY_UDP",
                Warning,
                Error
            ),
            zm_ours(
                "CONNECTIVITY01",
                "CN01_MISSING_NS_RECORD_UDP",
                Warning,
                Error
            ),
            zm_ours(
                "CONNECTIVITY01",
                "CN01_NS_RECORD_NOT_AA_UDP",
                Warning,
                Error
            ),
            zm_ours(
                "CONNECTIVITY02",
                "CN02_UNEXPECTED_RCODE_SOA_QUERY_TCP",
                Warning,
                Error
            ),
            zm_ours(
                "CONNECTIVITY02",
                "CN02_MISSING_SOA_RECORD_TCP",
                Warning,
                Error
            ),
        ],
        "Name servers must be authoritative (no lame delegation)",
        "Each name server answers SOA and NS for the TLD with AA set; REFUSED, SERVFAIL, a non-authoritative answer or an upward referral is lame.",
        "Load the TLD zone on the server and answer authoritatively."
    ),
    check!(
        CheckId::SoaSerialConsistent,
        Family::Consistency,
        Warning,
        &[zm("CONSISTENCY01", "MULTIPLE_SOA_SERIALS", Warning)],
        "Name servers should serve the same zone version",
        "All name servers return the same SOA serial.",
        "Fix zone transfers so that every server has the current version."
    ),
    check!(
        CheckId::NsSetConsistent,
        Family::Consistency,
        Error,
        &[zm_ours("CONSISTENCY04", "MULTIPLE_NS_SET", Notice, Error)],
        "NS sets must be consistent",
        "All name servers return the same NS set.",
        "Serve the same NS RRset from every server."
    ),
    check!(
        CheckId::ParentChildNs,
        Family::Consistency,
        Error,
        &[
            zm("DELEGATION07", "EXTRA_NAME_PARENT", Error),
            zm_ours("DELEGATION07", "EXTRA_NAME_CHILD", Notice, Error),
            zm("DELEGATION07", "TOTAL_NAME_MISMATCH", Error)
        ],
        "Parent and child NS sets must match",
        "The NS set in the root zone equals the NS set the TLD's servers return, in both directions.",
        "Make the TLD's apex NS set and the root zone delegation list the same hosts (submit a change request or fix the zone)."
    ),
    check!(
        CheckId::GlueMatch,
        Family::Consistency,
        Error,
        &[
            zm("CONSISTENCY05", "IN_BAILIWICK_ADDR_MISMATCH", Error),
            zm_ours("CONSISTENCY05", "EXTRA_ADDRESS_CHILD", Notice, Error)
        ],
        "Glue must match the child's address records",
        "For in-bailiwick NS hosts, the glue addresses in the root zone equal the A/AAAA records the TLD serves.",
        "Make the zone's A/AAAA records for the name servers match the glue (or request a glue change)."
    ),
    check!(
        CheckId::ReferralSize,
        Family::Delegation,
        Warning,
        &[zm("DELEGATION03", "REFERRAL_SIZE_TOO_LARGE", Warning)],
        "The referral must fit in 512 octets",
        "A root referral for a maximum-length name under the TLD, with every NS record and the first A and AAAA glue record (Zonemaster's DELEGATION03), fits a 512-octet UDP reply without EDNS.",
        "Use fewer or shorter name server names, or fewer glue addresses."
    ),
    check!(
        CheckId::OpenRecursion,
        Family::Service,
        Error,
        &[zm("NAMESERVER01", "IS_A_RECURSOR", Error)],
        "Name servers must not offer open recursion",
        "A recursive query for a name outside the TLD is not answered with recursion available.",
        "Disable recursion on authoritative servers."
    ),
    check!(
        CheckId::Edns,
        Family::Service,
        Warning,
        &[
            zm("NAMESERVER02", "NO_EDNS_SUPPORT", Warning),
            zm_ours("NAMESERVER02", "EDNS_RESPONSE_WITHOUT_EDNS", Error, Warning)
        ],
        "EDNS0 support (RFC 6891)",
        "Each name server answers an EDNS0 query with an OPT record (a NOERROR answer without OPT ignores EDNS0; FORMERR without OPT does not support it).",
        "Upgrade or configure the server to support EDNS0."
    ),
    check!(
        CheckId::UdpRtt,
        Family::Service,
        Warning,
        &[],
        "ICANN SLA: UDP round trip within 500 ms",
        "UDP round-trip time to each name server is at most the profile's limit (500 ms).",
        "Move servers closer to users or add anycast capacity."
    ),
    check!(
        CheckId::TcpRtt,
        Family::Service,
        Warning,
        &[],
        "ICANN SLA: TCP round trip within 1500 ms",
        "TCP round-trip time (connection included) to each name server is at most the profile's limit (1500 ms).",
        "Improve TCP handling capacity and latency."
    ),
    check!(
        CheckId::DsDigestAlgorithm,
        Family::Dnssec,
        Error,
        &[
            zm("DNSSEC01", "DS01_DS_ALGO_DEPRECATED", Error),
            zm("DNSSEC01", "DS01_DS_ALGO_NOT_DS", Error),
            zm("DNSSEC01", "DS01_DS_ALGO_RESERVED", Error)
        ],
        "DS digest types must be allowed (RFC 8624)",
        "Every DS uses digest type 2 (SHA-256) or 4 (SHA-384); SHA-1 (1) and GOST (3) must not be used (RFC 8624), 0 is not a digest, others are unassigned.",
        "Submit DS records with SHA-256 digests."
    ),
    check!(
        CheckId::DsKeyAlgorithm,
        Family::Dnssec,
        Warning,
        &[
            zm("DNSSEC05", "ALGORITHM_NOT_RECOMMENDED", Warning),
            zm("DNSSEC05", "ALGORITHM_DEPRECATED", Error),
            zm("DNSSEC05", "ALGORITHM_RESERVED", Error),
            zm("DNSSEC05", "ALGORITHM_UNASSIGNED", Error),
            zm("DNSSEC05", "ALGORITHM_PRIVATE", Error),
            zm("DNSSEC05", "ALGORITHM_NOT_ZONE_SIGN", Error)
        ],
        "DNSSEC algorithms should be recommended ones (RFC 8624)",
        "Every DS names an algorithm RFC 8624 recommends for signing (8, 13, 14, 15, 16); 5, 7 and 10 are not recommended, others must not be used. Zonemaster's DNSSEC05 judges the child's DNSKEY algorithms instead, so the two are compared only where the DS and the keys name the same algorithms.",
        "Sign with an allowed algorithm (ECDSA P-256 or RSA/SHA-256 are common) and update the DS."
    ),
    check!(
        CheckId::DsMatchesDnskey,
        Family::Dnssec,
        Critical,
        &[
            zm_ours(
                "DNSSEC02",
                "DS02_NO_VALID_DNSKEY_FOR_ANY_DS",
                Error,
                Critical
            ),
            zm_ours("DNSSEC02", "DS02_NO_MATCH_DS_DNSKEY", Error, Critical),
            zm_ours("DNSSEC07", "DS_BUT_NOT_DNSKEY", Error, Critical)
        ],
        "DS must match a DNSKEY of the child",
        "Some DS in the root zone is the digest of a DNSKEY the TLD's servers return.",
        "Submit a DS that matches the current KSK, or publish the key the DS names."
    ),
    check!(
        CheckId::DnskeySigned,
        Family::Dnssec,
        Critical,
        &[zm_ours(
            "DNSSEC02",
            "DS02_DNSKEY_NOT_SIGNED_BY_ANY_DS",
            Error,
            Critical
        )],
        "The DNSKEY RRset must be signed by the key the DS names",
        "The DNSKEY RRset carries a valid signature by a key that a DS matches.",
        "Sign the DNSKEY RRset with the KSK the DS points to."
    ),
    check!(
        CheckId::SoaSigned,
        Family::Dnssec,
        Error,
        &[
            zm("DNSSEC09", "DS09_MISSING_RRSIG_IN_RESPONSE", Error),
            zm("DNSSEC09", "DS09_RRSIG_NOT_VALID_BY_DNSKEY", Error),
            zm("DNSSEC09", "DS09_NO_MATCHING_DNSKEY", Error)
        ],
        "The SOA must be validly signed",
        "The SOA RRset carries a valid signature by a key of the DNSKEY RRset.",
        "Re-sign the zone."
    ),
    check!(
        CheckId::SignatureExpiry,
        Family::Dnssec,
        Error,
        &[
            zm("DNSSEC08", "DS08_DNSKEY_RRSIG_EXPIRED", Error),
            zm("DNSSEC08", "DS08_DNSKEY_RRSIG_NOT_YET_VALID", Error),
            zm("DNSSEC09", "DS09_SOA_RRSIG_EXPIRED", Error),
            zm("DNSSEC09", "DS09_SOA_RRSIG_NOT_YET_VALID", Error)
        ],
        "Signatures must be within their validity period",
        "RRSIGs over SOA and DNSKEY are neither expired nor not yet valid.",
        "Re-sign the zone; check the signer's clock and re-signing schedule."
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_documented() {
        assert_eq!(CATALOGUE.len(), CheckId::ALL.len());
        for (i, id) in CheckId::ALL.into_iter().enumerate() {
            assert_eq!(CATALOGUE[i].id, id, "catalogue order");
            assert_eq!(id.info().id, id);
            assert_eq!(id.as_str().parse::<CheckId>(), Ok(id));
        }
        assert!("NOPE".parse::<CheckId>().is_err());
        for c in CATALOGUE {
            assert!(!c.tests.is_empty() && !c.fix.is_empty() && !c.iana.is_empty());
            // The check's default is that of its first Zonemaster tag.
            if let Some(first) = c.zonemaster.first() {
                assert_eq!(c.severity, first.severity(), "{}", c.id);
            }
            for t in c.zonemaster {
                assert!(
                    t.case
                        .chars()
                        .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit())
                );
                assert!(
                    t.tag
                        .chars()
                        .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_')
                );
                assert_ne!(
                    t.ours,
                    Some(t.level),
                    "{}: ours only when it differs",
                    t.tag
                );
            }
        }
    }
}
