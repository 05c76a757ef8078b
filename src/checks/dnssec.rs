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
    /// Servers that answered the DNSKEY query authoritatively.
    pub dnskey_answers: usize,
    /// Why each server's chain failed.
    pub evidence: Vec<String>,
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
    for r in &d.ds {
        if !matches!(r.digest_type, 2 | 4) {
            let what = if r.digest_type == 1 {
                "SHA-1, deprecated"
            } else {
                "unknown"
            };
            c.push(
                CheckId::DsDigestAlgorithm,
                None,
                format!(
                    "DS {} uses digest type {} ({what})",
                    r.key_tag, r.digest_type
                ),
            );
        }
        if !matches!(r.algorithm, 8 | 10 | 13 | 14 | 15 | 16) {
            c.push(
                CheckId::DsKeyAlgorithm,
                None,
                format!(
                    "DS {} names algorithm {}, which must not be used for signing",
                    r.key_tag, r.algorithm
                ),
            );
        }
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
    let ds: Vec<Ds<Bytes>> = d.ds.iter().filter_map(to_ds).collect();
    let mut secure_somewhere = false;
    let mut dnskey_answers = 0;
    let mut bogus_evidence: Vec<String> = Vec::new();
    if !d.ds.is_empty() {
        ds_records(d, c);
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
                    c.push(
                        CheckId::SignatureExpiry,
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
                c.push(CheckId::DsMatchesDnskey, who.clone(), msg);
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
                        c.push(
                            CheckId::SignatureExpiry,
                            who.clone(),
                            format!(
                                "RRSIG SOA by key {} is outside its validity period",
                                sig.key_tag()
                            ),
                        );
                    }
                }
                let soa_set = Canonical::of(&soa_rrs);
                let ok = sigs.iter().take(MAX_SIGNATURES_PER_RRSET).any(|sig| {
                    verify_rrsig_within(sig, &soa_set, keys.iter().copied(), at, &budget).is_ok()
                });
                if !ok {
                    let msg = if sigs.is_empty() {
                        "the SOA carries no RRSIG".to_string()
                    } else {
                        "no SOA signature verifies with the DNSKEY RRset".to_string()
                    };
                    c.push(CheckId::SoaSigned, who.clone(), msg);
                }
            }
        }
    }
    Outcome {
        secure: secure_somewhere,
        dnskey_answers,
        evidence: bogus_evidence,
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
