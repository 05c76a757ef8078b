//! What an evaluation produces: findings (each a failed check of the
//! catalogue), threats, the verdict and the per-server observations of one
//! TLD, and the collector the checks push findings into.

use std::net::IpAddr;

use serde::Serialize;

use super::catalogue::{CheckId, Severity};
use super::profile::Profile;
use crate::zone::TldKind;

/// One failed check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Check ID (see the catalogue).
    pub check: CheckId,
    /// Severity under the profile in force.
    pub severity: Severity,
    /// The server concerned ("host address"), when the finding is about one.
    pub server: Option<String>,
    /// What was observed.
    pub message: String,
    /// What to fix.
    pub fix: &'static str,
    /// The Zonemaster 4.6.2 message tag that reports the same failure
    /// (e.g. `NOT_ENOUGH_NS_DEL`), when Zonemaster has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zonemaster: Option<&'static str>,
}

/// The verdict for one TLD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No finding of WARNING or above.
    Ok,
    /// Findings, but no threat to DNS stability.
    Degraded,
    /// One of the two conditions of `docs/RULES.md#threat` holds.
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

/// The two conditions that threaten DNS stability (`docs/RULES.md#threat`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
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
pub const THREAT_RULE: &str = "docs/RULES.md#threat; BP §4.3 (threat to the stability of the DNS)";

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
    /// SOA over UDP: whether a NOERROR reply arrived.
    #[serde(default)]
    pub udp_noerror: bool,
    /// SOA over UDP: RTT in ms.
    pub udp_rtt_ms: f64,
    /// SOA over TCP: outcome.
    pub tcp: String,
    /// SOA over TCP: whether a NOERROR reply arrived.
    #[serde(default)]
    pub tcp_noerror: bool,
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
    /// A failure of this machine met while probing: the probe says nothing
    /// about the ccTLD, and a sweep does not judge it
    /// (`docs/RULES.md#local-failures`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_error: Option<String>,
}

/// Collects the findings of enabled checks under a profile.
pub(super) struct Collector<'a> {
    pub(super) profile: &'a Profile,
    pub(super) findings: Vec<Finding>,
}

impl Collector<'_> {
    /// A failure of `check`, carrying its first Zonemaster tag.
    pub(super) fn push(&mut self, check: CheckId, server: Option<String>, message: String) {
        let tag = check.info().zonemaster.first().map(|t| t.tag);
        self.push_tagged(check, tag, server, message);
    }

    /// A failure of `check` that corresponds to Zonemaster tag `tag` (one
    /// of the check's tags in the catalogue). Its severity is the
    /// profile's for the check, else the tag's default.
    pub(super) fn push_tagged(
        &mut self,
        check: CheckId,
        tag: Option<&'static str>,
        server: Option<String>,
        message: String,
    ) {
        if !self.profile.enabled(check) {
            return;
        }
        let info = check.info();
        let entry = tag.and_then(|t| info.zonemaster_tag(t));
        debug_assert!(
            tag.is_none() || entry.is_some(),
            "{check}: tag {tag:?} is not in the catalogue"
        );
        let severity = self
            .profile
            .severity
            .get(&check)
            .copied()
            .or(entry.map(|t| t.severity()))
            .unwrap_or(info.severity);
        self.findings.push(Finding {
            check,
            severity,
            server,
            message: bounded(message),
            fix: info.fix,
            zonemaster: entry.map(|t| t.tag),
        });
    }
}

/// Longest finding message kept (`docs/RULES.md#input-limits`): text that
/// a hostile reply shapes is cut, so that it cannot grow the record.
pub const MAX_MESSAGE_CHARS: usize = 512;

/// `message` cut to [`MAX_MESSAGE_CHARS`] characters.
pub fn bounded(message: String) -> String {
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        return message;
    }
    let mut cut: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    cut.push_str(" … (cut)");
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_bounded() {
        let long = "x".repeat(62_000);
        let cut = bounded(long);
        assert!(
            cut.chars().count() < MAX_MESSAGE_CHARS + 20,
            "{}",
            cut.len()
        );
        assert_eq!(bounded("short".into()), "short");
    }
}
