//! `rootguard zone summary`: the figures an operator checks first about a
//! root zone file: serial, TLD and ccTLD counts, NS-per-ccTLD distribution,
//! ccTLDs with DS, and authenticity.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::verify::{AuthStatus, Authenticity};
use super::{TldKind, ZoneIndex};

/// Summary of one root zone.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The file.
    pub source: String,
    /// SOA serial.
    pub serial: u32,
    /// Delegated TLDs.
    pub tlds: usize,
    /// Delegated ccTLDs (ASCII + IDN).
    pub cctlds: usize,
    /// ASCII ccTLDs.
    pub cctlds_ascii: usize,
    /// IDN ccTLDs (needs a registry file to be known).
    pub cctlds_idn: usize,
    /// Number of NS per ccTLD -> how many ccTLDs have that many.
    pub ns_per_cctld: BTreeMap<usize, usize>,
    /// ccTLDs with a DS set.
    pub cctlds_with_ds: usize,
    /// Authenticity of the file (`None` when not checked).
    pub authenticity: Option<Authenticity>,
}

impl Summary {
    /// Summarises an index and its authenticity report.
    pub fn new(source: &str, index: &ZoneIndex, authenticity: Option<Authenticity>) -> Summary {
        let mut ns_per_cctld = BTreeMap::new();
        let mut ascii = 0;
        let mut idn = 0;
        let mut with_ds = 0;
        for d in index.cctlds() {
            *ns_per_cctld.entry(d.ns.len()).or_insert(0) += 1;
            match d.kind {
                TldKind::CountryCodeIdn => idn += 1,
                _ => ascii += 1,
            }
            if !d.ds.is_empty() {
                with_ds += 1;
            }
        }
        Summary {
            source: source.to_string(),
            serial: index.serial,
            tlds: index.delegations.len(),
            cctlds: ascii + idn,
            cctlds_ascii: ascii,
            cctlds_idn: idn,
            ns_per_cctld,
            cctlds_with_ds: with_ds,
            authenticity,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "zone:            {}", self.source)?;
        writeln!(f, "serial:          {}", self.serial)?;
        writeln!(f, "TLDs:            {}", self.tlds)?;
        writeln!(
            f,
            "ccTLDs:          {} ({} ASCII, {} IDN)",
            self.cctlds, self.cctlds_ascii, self.cctlds_idn
        )?;
        writeln!(f, "ccTLDs with DS:  {}", self.cctlds_with_ds)?;
        writeln!(f, "NS per ccTLD:")?;
        for (n, count) in &self.ns_per_cctld {
            writeln!(f, "  {n:>2} NS: {count} ccTLDs")?;
        }
        let Some(a) = &self.authenticity else {
            return writeln!(f, "authenticity:    not checked (--no-verify)");
        };
        let status = match a.status {
            AuthStatus::Verified => "verified",
            AuthStatus::Failed => "FAILED",
            AuthStatus::Incomplete => "incomplete",
            AuthStatus::Unsigned => "unsigned",
        };
        writeln!(
            f,
            "authenticity:    {status} at {} (anchor: {}, key tags {:?}; DNSKEY RRset trusted: {})",
            super::verify::rfc3339(a.at),
            a.anchor,
            a.anchor_key_tags,
            a.dnskey_trusted
        )?;
        writeln!(
            f,
            "  signatures:    {} of {} verify; {} of {} RRsets that must be signed lack a valid signature",
            a.signatures_valid, a.signatures, a.rrsets_unsigned, a.rrsets_to_sign
        )?;
        for fail in &a.failures {
            writeln!(
                f,
                "  FAIL {} {} key {}: {}",
                fail.owner, fail.rtype, fail.key_tag, fail.reason
            )?;
        }
        if a.failures_total > a.failures.len() {
            writeln!(
                f,
                "  ... and {} more failures",
                a.failures_total - a.failures.len()
            )?;
        }
        writeln!(
            f,
            "  ZONEMD:        {:?}: {}",
            a.zonemd.outcome, a.zonemd.detail
        )
    }
}
