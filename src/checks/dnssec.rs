//! DNSSEC checks of a delegation: DS algorithms, DS matching a served
//! DNSKEY, the DNSKEY RRset signed by that key, the SOA signed, signature
//! validity periods; and whether the TLD is DNSSEC-bogus (`docs/RULES.md#threat`).

use bytes::Bytes;
use domain::base::iana::{DigestAlgorithm, Rtype, SecurityAlgorithm};
use domain::rdata::{Dnskey, Ds, ZoneRecordData};

use super::catalogue::CheckId;
use super::finding::Collector;
use super::reply::{authoritative, label, records, rrsigs};
use crate::probe::DelegationProbe;
use crate::zone::verify::{
    Budget, Canonical, MAX_KEYS_PER_RRSET, MAX_SIGNATURES_PER_RRSET, MAX_VALIDATIONS_PER_PROBE,
    ds_matches_key, in_window, verify_rrsig_within,
};
use crate::zone::{Dname, DsRecord, Rr};

/// What the DNSSEC checks found, for the threat test.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// Some server returned a DNSKEY RRset that a DS matches and that key
    /// validly signs.
    pub secure: bool,
    /// No DS of the root is usable (none, or only unsupported digest types
    /// or algorithms): the TLD is insecure, never bogus.
    pub insecure: bool,
    /// Servers that answered the DNSKEY query authoritatively.
    pub dnskey_answers: usize,
    /// Why each server's chain failed.
    pub evidence: Vec<String>,
}

/// The algorithms this validator verifies (ring, through `domain`).
pub const VERIFIABLE_ALGORITHMS: [u8; 7] = [5, 7, 8, 10, 13, 14, 15];

/// Whether a DS can take part in validation: a digest type it can compute
/// (SHA-1, SHA-256, SHA-384) and an algorithm it can verify.
pub fn usable(r: &DsRecord) -> bool {
    matches!(r.digest_type, 1 | 2 | 4) && VERIFIABLE_ALGORITHMS.contains(&r.algorithm)
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

/// The checks of the root's DS records alone: digest types and
/// algorithms (they need no probe; `rootguard check --static` runs them).
pub(super) fn ds_records(d: &crate::zone::Delegation, c: &mut Collector<'_>) {
    let mut keys_seen = std::collections::BTreeSet::new();
    for r in &d.ds {
        // DNSSEC01 of Zonemaster 4.6.2, by digest type (RFC 8624 §3.3).
        let digest = match r.digest_type {
            2 | 4 => None,
            0 => Some(("DS01_DS_ALGO_NOT_DS", "0 is not a digest type")),
            1 => Some(("DS01_DS_ALGO_DEPRECATED", "SHA-1, must not be used")),
            3 => Some((
                "DS01_DS_ALGO_DEPRECATED",
                "GOST R 34.11-94, must not be used",
            )),
            _ => Some(("DS01_DS_ALGO_RESERVED", "unassigned")),
        };
        if let Some((tag, what)) = digest {
            c.push_tagged(
                CheckId::DsDigestAlgorithm,
                Some(tag),
                None,
                format!(
                    "DS {} uses digest type {} ({what})",
                    r.key_tag, r.digest_type
                ),
            );
        }
        // One finding per key: several DS (digest types) of one key name it once.
        let first_of_key = keys_seen.insert((r.key_tag, r.algorithm));
        if let Some((tag, what)) = algorithm_verdict(r.algorithm).filter(|_| first_of_key) {
            c.push_tagged(
                CheckId::DsKeyAlgorithm,
                Some(tag),
                None,
                format!(
                    "DS {} names algorithm {}, which {what}",
                    r.key_tag, r.algorithm
                ),
            );
        }
    }
}

/// What RFC 8624 §3.1 says of signing with `algorithm`, as the Zonemaster
/// 4.6.2 DNSSEC05 tag of that algorithm; `None` when it is recommended
/// (8, 13, 14, 15, 16).
pub fn algorithm_verdict(algorithm: u8) -> Option<(&'static str, &'static str)> {
    match algorithm {
        8 | 13..=16 => None,
        5 | 7 | 10 => Some((
            "ALGORITHM_NOT_RECOMMENDED",
            "is not recommended for signing",
        )),
        1 | 3 | 6 | 12 => Some(("ALGORITHM_DEPRECATED", "must not be used for signing")),
        0 | 2 | 252 => Some(("ALGORITHM_NOT_ZONE_SIGN", "is not a zone signing algorithm")),
        253 | 254 => Some(("ALGORITHM_PRIVATE", "is for private use")),
        17..=122 => Some(("ALGORITHM_UNASSIGNED", "is unassigned")),
        _ => Some(("ALGORITHM_RESERVED", "is reserved")),
    }
}

/// Runs the DNSSEC checks (only when the root holds DS for the TLD).
pub(super) fn check(
    probe: &DelegationProbe,
    apex: &str,
    at: u32,
    c: &mut Collector<'_>,
) -> Outcome {
    let d = &probe.delegation;
    let apex = apex.to_string();
    // Only DS records this validator can use count (RFC 4035 §5.2, RFC
    // 6840 §5.2): with none, a validating resolver treats the TLD as
    // insecure, not bogus, and so does the guard.
    let ds: Vec<Ds<Bytes>> =
        d.ds.iter()
            .filter(|r| usable(r))
            .filter_map(to_ds)
            .collect();
    let mut secure_somewhere = false;
    let mut dnskey_answers = 0;
    let mut bogus_evidence: Vec<String> = Vec::new();
    if !d.ds.is_empty() {
        ds_records(d, c);
    }
    if ds.is_empty() {
        return Outcome {
            secure: false,
            insecure: true,
            dnskey_answers,
            evidence: bogus_evidence,
        };
    }
    {
        let owner: Dname = match apex.parse() {
            Ok(n) => n,
            Err(_) => Dname::root_bytes(),
        };
        // Bounded validation work (docs/RULES.md#validation-limits): a
        // budget per server, so that one hostile server cannot use up the
        // work that validates the others; and at most 16 servers validated.
        for s in probe.servers.iter().take(16) {
            let budget = Budget::new(MAX_VALIDATIONS_PER_PROBE / 4);
            let who = Some(label(s));
            let Some(reply) = s.dnskey.as_ref().and_then(|e| e.outcome.reply()) else {
                continue;
            };
            if !(reply.is_noerror() && reply.aa) {
                continue;
            }
            dnskey_answers += 1;
            let key_rrs: Vec<&Rr> = records(reply, &apex, Rtype::DNSKEY).collect();
            let mut keys: Vec<&Dnskey<Bytes>> = Vec::new();
            for k in key_rrs.iter().filter_map(|rr| match rr.data() {
                ZoneRecordData::Dnskey(k) => Some(k),
                _ => None,
            }) {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            if keys.len() > MAX_KEYS_PER_RRSET {
                let msg = format!(
                    "the DNSKEY RRset holds {} distinct keys; more than {MAX_KEYS_PER_RRSET} are not validated (docs/RULES.md#validation-limits)",
                    keys.len()
                );
                bogus_evidence.push(format!("{}: {msg}", label(s)));
                c.push(CheckId::DnskeySigned, who.clone(), msg);
                continue;
            }
            let key_set = Canonical::of(&key_rrs);
            for sig in rrsigs(reply, Rtype::DNSKEY) {
                if !in_window(sig, at) {
                    let (tag, what) = window_tag(sig, at, "DS08_DNSKEY_RRSIG");
                    c.push_tagged(
                        CheckId::SignatureExpiry,
                        Some(tag),
                        who.clone(),
                        format!("RRSIG DNSKEY by key {} {what}", sig.key_tag()),
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
                // A key with a DS's tag but another digest is DS02_NO_MATCH_DS_DNSKEY.
                let tag = if keys.is_empty() {
                    "DS_BUT_NOT_DNSKEY"
                } else if keys
                    .iter()
                    .any(|k| d.ds.iter().any(|x| x.key_tag == k.key_tag()))
                {
                    "DS02_NO_MATCH_DS_DNSKEY"
                } else {
                    "DS02_NO_VALID_DNSKEY_FOR_ANY_DS"
                };
                c.push_tagged(CheckId::DsMatchesDnskey, Some(tag), who.clone(), msg);
                continue;
            }
            let mut errors = Vec::new();
            let signed_by_matched = rrsigs(reply, Rtype::DNSKEY)
                .take(MAX_SIGNATURES_PER_RRSET)
                .any(|sig| {
                    match verify_rrsig_within(sig, &key_set, matched.iter().copied(), at, &budget) {
                        Ok(_) => true,
                        Err(e) => {
                            errors.push(e.to_string());
                            false
                        }
                    }
                });
            let total = rrsigs(reply, Rtype::DNSKEY).count();
            if !signed_by_matched && total > MAX_SIGNATURES_PER_RRSET {
                errors.push(format!(
                    "{} more signatures over the RRset were not tried (docs/RULES.md#validation-limits)",
                    total - MAX_SIGNATURES_PER_RRSET
                ));
            }
            errors.dedup();
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
                c.push(CheckId::DnskeySigned, who.clone(), msg);
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
                        let (tag, what) = window_tag(sig, at, "DS09_SOA_RRSIG");
                        c.push_tagged(
                            CheckId::SignatureExpiry,
                            Some(tag),
                            who.clone(),
                            format!("RRSIG SOA by key {} {what}", sig.key_tag()),
                        );
                    }
                }
                let soa_set = Canonical::of(&soa_rrs);
                let ok = sigs.iter().take(MAX_SIGNATURES_PER_RRSET).any(|sig| {
                    verify_rrsig_within(sig, &soa_set, keys.iter().copied(), at, &budget).is_ok()
                });
                // A signature outside its validity period is SIGNATURE-EXPIRY
                // (DNSSEC09's DS09_SOA_RRSIG_EXPIRED), not also SOA-SIGNED.
                let only_out_of_window =
                    !sigs.is_empty() && sigs.iter().all(|sig| !in_window(sig, at));
                if !ok && !only_out_of_window {
                    let (tag, msg) = if sigs.is_empty() {
                        ("DS09_MISSING_RRSIG_IN_RESPONSE", "the SOA carries no RRSIG")
                    } else if !sigs
                        .iter()
                        .any(|sig| keys.iter().any(|k| k.key_tag() == sig.key_tag()))
                    {
                        (
                            "DS09_NO_MATCHING_DNSKEY",
                            "no SOA signature names a key of the DNSKEY RRset",
                        )
                    } else {
                        (
                            "DS09_RRSIG_NOT_VALID_BY_DNSKEY",
                            "no SOA signature verifies with the DNSKEY RRset",
                        )
                    };
                    c.push_tagged(CheckId::SoaSigned, Some(tag), who.clone(), msg.into());
                }
            }
        }
    }
    Outcome {
        secure: secure_somewhere,
        insecure: false,
        dnskey_answers,
        evidence: bogus_evidence,
    }
}

/// The Zonemaster tag (`{prefix}_EXPIRED` or `{prefix}_NOT_YET_VALID`) and
/// the words for a signature outside its validity period at `at`.
fn window_tag(
    sig: &domain::rdata::Rrsig<Bytes, Dname>,
    at: u32,
    prefix: &str,
) -> (&'static str, &'static str) {
    let not_yet = (at.wrapping_sub(sig.inception().into_int()) as i32) < 0;
    match (prefix, not_yet) {
        ("DS08_DNSKEY_RRSIG", false) => ("DS08_DNSKEY_RRSIG_EXPIRED", "has expired"),
        ("DS08_DNSKEY_RRSIG", true) => ("DS08_DNSKEY_RRSIG_NOT_YET_VALID", "is not yet valid"),
        (_, false) => ("DS09_SOA_RRSIG_EXPIRED", "has expired"),
        (_, true) => ("DS09_SOA_RRSIG_NOT_YET_VALID", "is not yet valid"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
