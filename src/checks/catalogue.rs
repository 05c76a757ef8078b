//! The catalogue of delegation checks: stable IDs, what each tests, its
//! default severity, and the Zonemaster test case and IANA technical
//! requirement it corresponds to. IDs never change meaning; new checks get
//! new IDs.

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
    /// POLICY.md's two conditions alone, not by this severity.
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

/// One check of the catalogue.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CheckInfo {
    /// Stable identifier.
    pub id: &'static str,
    /// What it tests.
    pub tests: &'static str,
    /// Default severity of a failure.
    pub severity: Severity,
    /// Corresponding Zonemaster test case.
    pub zonemaster: &'static str,
    /// Corresponding IANA technical requirement.
    pub iana: &'static str,
    /// What the manager should do when it fails.
    pub fix: &'static str,
}

macro_rules! check {
    ($id:expr, $sev:ident, $zm:expr, $iana:expr, $tests:expr, $fix:expr) => {
        CheckInfo {
            id: $id,
            tests: $tests,
            severity: Severity::$sev,
            zonemaster: $zm,
            iana: $iana,
            fix: $fix,
        }
    };
}

/// Every check rootguard runs, in report order.
pub const CATALOGUE: &[CheckInfo] = &[
    check!(
        "NS-COUNT",
        Error,
        "DELEGATION01",
        "Minimum number of name servers (two)",
        "The delegation lists at least two NS hosts.",
        "Delegate to at least two name servers."
    ),
    check!(
        "NS-RESOLVABLE",
        Error,
        "BASIC01 / DELEGATION06",
        "Name servers must be resolvable",
        "Every NS host has an address: glue in the root zone, or an answer from the resolver for out-of-bailiwick hosts.",
        "Publish A/AAAA records for every NS host (glue for in-bailiwick hosts)."
    ),
    check!(
        "NS-DISTINCT-ADDRESSES",
        Error,
        "DELEGATION02",
        "Name servers must be distinct",
        "No two NS hosts share an IP address.",
        "Give each name server its own address."
    ),
    check!(
        "ADDRESS-SCOPE",
        Error,
        "ADDRESS01",
        "Name server addresses must be globally routable",
        "Every name server address is globally routable (not private, loopback, link-local, documentation or otherwise reserved).",
        "Use publicly routable addresses for all name servers."
    ),
    check!(
        "PREFIX-DIVERSITY",
        Warning,
        "CONNECTIVITY04",
        "Network diversity",
        "The IPv4 addresses span more than one /24 and the IPv6 addresses more than one /48.",
        "Place name servers in different networks."
    ),
    check!(
        "REACH-UDP",
        Error,
        "CONNECTIVITY01",
        "Name servers must answer over UDP",
        "Each name server address answers a SOA query over UDP port 53.",
        "Make the server answer DNS over UDP; check firewalls and the server process."
    ),
    check!(
        "REACH-TCP",
        Error,
        "CONNECTIVITY02",
        "Name servers must answer over TCP (RFC 7766)",
        "Each name server address answers a SOA query over TCP port 53.",
        "Allow DNS over TCP port 53 and make the server answer it."
    ),
    check!(
        "AUTHORITATIVE",
        Error,
        "DELEGATION04",
        "Name servers must be authoritative (no lame delegation)",
        "Each name server answers SOA and NS for the TLD with AA set; REFUSED, SERVFAIL, a non-authoritative answer or an upward referral is lame.",
        "Load the TLD zone on the server and answer authoritatively."
    ),
    check!(
        "SOA-SERIAL-CONSISTENT",
        Warning,
        "CONSISTENCY01",
        "Name servers should serve the same zone version",
        "All name servers return the same SOA serial.",
        "Fix zone transfers so that every server has the current version."
    ),
    check!(
        "NS-SET-CONSISTENT",
        Error,
        "CONSISTENCY04",
        "NS sets must be consistent",
        "All name servers return the same NS set.",
        "Serve the same NS RRset from every server."
    ),
    check!(
        "PARENT-CHILD-NS",
        Error,
        "DELEGATION07 / CONSISTENCY04",
        "Parent and child NS sets must match",
        "The NS set in the root zone equals the NS set the TLD's servers return, in both directions.",
        "Make the TLD's apex NS set and the root zone delegation list the same hosts (submit a change request or fix the zone)."
    ),
    check!(
        "GLUE-MATCH",
        Error,
        "CONSISTENCY05",
        "Glue must match the child's address records",
        "For in-bailiwick NS hosts, the glue addresses in the root zone equal the A/AAAA records the TLD serves.",
        "Make the zone's A/AAAA records for the name servers match the glue (or request a glue change)."
    ),
    check!(
        "REFERRAL-SIZE",
        Error,
        "DELEGATION03",
        "The referral must fit in 512 octets",
        "A root referral for a maximum-length name under the TLD, with all required glue, fits a 512-octet UDP reply without truncation.",
        "Use fewer or shorter name server names, or fewer glue addresses."
    ),
    check!(
        "OPEN-RECURSION",
        Error,
        "NAMESERVER01",
        "Name servers must not offer open recursion",
        "A recursive query for a name outside the TLD is not answered with recursion available.",
        "Disable recursion on authoritative servers."
    ),
    check!(
        "EDNS",
        Warning,
        "NAMESERVER02",
        "EDNS0 support (RFC 6891)",
        "Each name server answers an EDNS0 query with an OPT record.",
        "Upgrade or configure the server to support EDNS0."
    ),
    check!(
        "UDP-RTT",
        Warning,
        "—",
        "ICANN SLA: UDP round trip within 500 ms",
        "UDP round-trip time to each name server is at most the profile's limit (500 ms).",
        "Move servers closer to users or add anycast capacity."
    ),
    check!(
        "TCP-RTT",
        Warning,
        "—",
        "ICANN SLA: TCP round trip within 1500 ms",
        "TCP round-trip time (connection included) to each name server is at most the profile's limit (1500 ms).",
        "Improve TCP handling capacity and latency."
    ),
    check!(
        "DS-DIGEST-ALGORITHM",
        Warning,
        "DNSSEC01",
        "DS digest types must be allowed (RFC 8624)",
        "Every DS uses digest type 2 (SHA-256) or 4 (SHA-384); SHA-1 is deprecated, others unknown.",
        "Submit DS records with SHA-256 digests."
    ),
    check!(
        "DS-KEY-ALGORITHM",
        Error,
        "DNSSEC05",
        "DNSSEC algorithms must be allowed (RFC 8624)",
        "Every DS names an algorithm that may be used for signing (8, 10, 13, 14, 15, 16).",
        "Sign with an allowed algorithm (ECDSA P-256 or RSA/SHA-256 are common) and update the DS."
    ),
    check!(
        "DS-MATCHES-DNSKEY",
        Critical,
        "DNSSEC02",
        "DS must match a DNSKEY of the child",
        "Some DS in the root zone is the digest of a DNSKEY the TLD's servers return.",
        "Submit a DS that matches the current KSK, or publish the key the DS names."
    ),
    check!(
        "DNSKEY-SIGNED",
        Critical,
        "DNSSEC08",
        "The DNSKEY RRset must be signed by the key the DS names",
        "The DNSKEY RRset carries a valid signature by a key that a DS matches.",
        "Sign the DNSKEY RRset with the KSK the DS points to."
    ),
    check!(
        "SOA-SIGNED",
        Error,
        "DNSSEC09",
        "The SOA must be validly signed",
        "The SOA RRset carries a valid signature by a key of the DNSKEY RRset.",
        "Re-sign the zone."
    ),
    check!(
        "SIGNATURE-EXPIRY",
        Error,
        "DNSSEC04",
        "Signatures must be within their validity period",
        "RRSIGs over SOA and DNSKEY are neither expired nor not yet valid.",
        "Re-sign the zone; check the signer's clock and re-signing schedule."
    ),
];

/// Looks a check up by ID.
pub fn info(id: &str) -> Option<&'static CheckInfo> {
    CATALOGUE.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_documented() {
        let mut ids: Vec<&str> = CATALOGUE.iter().map(|c| c.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
        for c in CATALOGUE {
            assert!(!c.tests.is_empty() && !c.fix.is_empty() && !c.iana.is_empty());
        }
    }
}
