//! Authenticity of a root zone and of signed answers: DNSSEC signature
//! verification (RFC 4034, RFC 4035 §5.3) against a trust anchor at a given
//! time, DS-to-DNSKEY matching (RFC 4034 §5.1.4), and ZONEMD verification
//! (RFC 8976, scheme SIMPLE with SHA-384 or SHA-512).
//!
//! The primitives here ([`verify_rrsig`], [`ds_matches_key`]) are shared with
//! the delegation checks, so that a zone file and a probed answer are judged
//! by the same code.

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use domain::base::iana::{DigestAlgorithm, Rtype, SecurityAlgorithm};
use domain::base::{CanonicalOrd, ToName};
use domain::crypto::common::{DigestBuilder, DigestType, PublicKey};
use domain::rdata::{Dnskey, Ds, Rrsig, ZoneRecordData};
use rayon::prelude::*;
use serde::Serialize;

use super::index::hex_upper;
use super::{Dname, Rr, Zone, ZoneError, name_key, parse_records};

/// One built-in root trust anchor, as published by IANA in
/// `root-anchors.xml`, with its validity window (Unix seconds).
struct BuiltinAnchor {
    key_tag: u16,
    digest: &'static str,
    valid_from: u32,
    valid_until: Option<u32>,
}

/// The root KSKs IANA has published (KSK-2010, KSK-2017, KSK-2024), all
/// algorithm 8 with SHA-256 digests. At a given time the anchor is the set of
/// those valid then, as a validator configured from `root-anchors.xml` would
/// have it.
const BUILTIN_ANCHORS: &[BuiltinAnchor] = &[
    BuiltinAnchor {
        key_tag: 19036,
        digest: "49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5",
        valid_from: 1_279_152_000,        // 2010-07-15
        valid_until: Some(1_547_164_800), // 2019-01-11
    },
    BuiltinAnchor {
        key_tag: 20326,
        digest: "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
        valid_from: 1_485_993_600, // 2017-02-02
        valid_until: None,
    },
    BuiltinAnchor {
        key_tag: 38696,
        digest: "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
        valid_from: 1_721_260_800, // 2024-07-18
        valid_until: None,
    },
];

/// A trust anchor for the root: DS records and/or DNSKEY records for `.`.
#[derive(Clone, Debug, Default)]
pub struct TrustAnchor {
    /// Where the anchor came from (for reports).
    pub source: String,
    /// Trusted DS records.
    pub ds: Vec<Ds<Bytes>>,
    /// Trusted DNSKEY records.
    pub keys: Vec<Dnskey<Bytes>>,
}

impl TrustAnchor {
    /// The built-in root anchor as valid at `at` (Unix seconds).
    pub fn builtin(at: u32) -> TrustAnchor {
        let ds = BUILTIN_ANCHORS
            .iter()
            .filter(|a| a.valid_from <= at && a.valid_until.is_none_or(|u| at < u))
            .map(|a| {
                Ds::new(
                    a.key_tag,
                    SecurityAlgorithm::RSASHA256,
                    DigestAlgorithm::SHA256,
                    Bytes::from(decode_hex(a.digest)),
                )
                .expect("built-in anchor digest fits")
            })
            .collect();
        TrustAnchor {
            source: "built-in IANA root anchors".into(),
            ds,
            keys: Vec::new(),
        }
    }

    /// Reads DS and/or DNSKEY records for `.` from a presentation-format
    /// file (records for other owners are an error).
    pub fn from_file(path: &Path) -> Result<TrustAnchor, ZoneError> {
        let data = std::fs::read(path).map_err(|source| ZoneError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        let mut anchor = TrustAnchor {
            source: path.display().to_string(),
            ..Default::default()
        };
        for rr in parse_records(&data, path)? {
            if !rr.owner().is_root() {
                return Err(ZoneError::Syntax {
                    file: path.to_path_buf(),
                    line: 0,
                    message: format!(
                        "trust anchor record for {} is not for the root '.'",
                        rr.owner()
                    ),
                });
            }
            match rr.into_data() {
                ZoneRecordData::Ds(ds) => anchor.ds.push(ds),
                ZoneRecordData::Dnskey(key) => anchor.keys.push(key),
                _ => {}
            }
        }
        if anchor.ds.is_empty() && anchor.keys.is_empty() {
            return Err(ZoneError::Syntax {
                file: path.to_path_buf(),
                line: 0,
                message: "no DS or DNSKEY record for '.' in trust anchor file".into(),
            });
        }
        Ok(anchor)
    }

    /// Whether `key` (owned by the root) is trusted by this anchor.
    pub fn trusts(&self, key: &Dnskey<Bytes>) -> bool {
        self.keys.iter().any(|k| k == key)
            || self
                .ds
                .iter()
                .any(|ds| ds_matches_key(ds, &Dname::root_bytes(), key))
    }

    /// Key tags named by this anchor.
    pub fn key_tags(&self) -> Vec<u16> {
        let mut tags: Vec<u16> = self.ds.iter().map(|d| d.key_tag()).collect();
        tags.extend(self.keys.iter().map(|k| k.key_tag()));
        tags.sort();
        tags.dedup();
        tags
    }
}

/// Why a signature did not verify.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum SigError {
    /// No DNSKEY with the signature's key tag and algorithm.
    #[error("no DNSKEY with key tag {key_tag} and algorithm {algorithm} (RFC 4035 §5.3.1)")]
    NoKey {
        /// Key tag named by the RRSIG.
        key_tag: u16,
        /// Algorithm named by the RRSIG.
        algorithm: u8,
    },
    /// The validity window does not contain the validation time.
    #[error(
        "signature not valid at this time: inception {inception}, expiration {expiration} (RFC 4035 §5.3.1)"
    )]
    Window {
        /// Inception (RFC 3339).
        inception: String,
        /// Expiration (RFC 3339).
        expiration: String,
    },
    /// The algorithm is not supported.
    #[error("unsupported algorithm {0} (RFC 8624)")]
    Algorithm(u8),
    /// The signature does not verify.
    #[error("signature does not verify with key {0} (RFC 4035 §5.3.3)")]
    Bad(u16),
    /// Validating it would exceed the limits on validation work.
    #[error("not validated: {0} (docs/RULES.md#validation-limits)")]
    Limit(String),
}

/// Keys with the same tag and algorithm tried for one signature (after
/// identical keys are collapsed): KeyTrap, CVE-2023-50387.
pub const MAX_KEYS_PER_SIGNATURE: usize = 4;
/// Signatures tried over one RRset (CVE-2023-50387).
pub const MAX_SIGNATURES_PER_RRSET: usize = 8;
/// Distinct keys considered in one DNSKEY RRset.
pub const MAX_KEYS_PER_RRSET: usize = 32;
/// Cryptographic verifications for all the replies of one probe.
pub const MAX_VALIDATIONS_PER_PROBE: usize = 64;

/// A budget of cryptographic signature verifications, shared by the
/// threads of one validation (`docs/RULES.md#validation-limits`).
#[derive(Debug)]
pub struct Budget {
    max: usize,
    spent: std::sync::atomic::AtomicUsize,
}

impl Budget {
    /// At most `max` verifications.
    pub fn new(max: usize) -> Budget {
        Budget {
            max,
            spent: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// No limit but the per-signature and per-RRset ones (zone files).
    pub fn unlimited() -> Budget {
        Budget::new(usize::MAX)
    }

    fn spend(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.spent
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Verifications attempted so far.
    pub fn spent(&self) -> usize {
        self.spent.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The canonical, sorted, de-duplicated RDATA of one RRset (RFC 4034 §6.3),
/// built once and shared by every signature over it.
pub struct Canonical<'a> {
    first: Option<&'a Rr>,
    rdatas: Vec<Vec<u8>>,
}

impl<'a> Canonical<'a> {
    /// The canonical form of `rrset` (records of one owner and type).
    pub fn of(rrset: &[&'a Rr]) -> Canonical<'a> {
        let mut rdatas: Vec<Vec<u8>> = rrset
            .iter()
            .map(|rr| {
                use domain::base::rdata::ComposeRecordData;
                let mut r = Vec::new();
                let _ = rr.data().compose_canonical_len_rdata(&mut r);
                r
            })
            .collect();
        // Canonical RR order (RFC 4034 §6.3): by RDATA as left-justified
        // octets; the RDLENGTH prefix is excluded from the comparison.
        rdatas.sort_by(|a, b| a[2..].cmp(&b[2..]));
        rdatas.dedup();
        Canonical {
            first: rrset.first().copied(),
            rdatas,
        }
    }
}

/// Whether `at` (Unix seconds) lies within the RRSIG's window, by RFC 4034
/// §3.1.5 serial number arithmetic.
pub fn in_window(sig: &Rrsig<Bytes, Dname>, at: u32) -> bool {
    let inception = sig.inception().into_int();
    let expiration = sig.expiration().into_int();
    (at.wrapping_sub(inception) as i32) >= 0 && (expiration.wrapping_sub(at) as i32) >= 0
}

/// Verifies `sig` over `rrset` with one of `keys`, at `at` (Unix seconds).
/// `rrset` must hold the records the signature covers (same owner, type).
pub fn verify_rrsig<'a>(
    sig: &Rrsig<Bytes, Dname>,
    rrset: &[&Rr],
    keys: impl IntoIterator<Item = &'a Dnskey<Bytes>>,
    at: u32,
) -> Result<u16, SigError> {
    verify_rrsig_within(sig, &Canonical::of(rrset), keys, at, &Budget::unlimited())
}

/// Like [`verify_rrsig`] with the RRset's canonical form built once, and
/// within limits (`docs/RULES.md#validation-limits`): identical keys are
/// collapsed, at most [`MAX_KEYS_PER_SIGNATURE`] keys with the
/// signature's tag and algorithm are tried, and each attempt spends one
/// verification of `budget`.
pub fn verify_rrsig_within<'a>(
    sig: &Rrsig<Bytes, Dname>,
    rrset: &Canonical<'_>,
    keys: impl IntoIterator<Item = &'a Dnskey<Bytes>>,
    at: u32,
    budget: &Budget,
) -> Result<u16, SigError> {
    if !in_window(sig, at) {
        return Err(SigError::Window {
            inception: rfc3339(sig.inception().into_int()),
            expiration: rfc3339(sig.expiration().into_int()),
        });
    }
    let mut candidates: Vec<&Dnskey<Bytes>> = Vec::new();
    for key in keys {
        if key.key_tag() != sig.key_tag() || key.algorithm() != sig.algorithm() {
            continue;
        }
        if !candidates.contains(&key) {
            candidates.push(key);
        }
    }
    if candidates.is_empty() {
        return Err(SigError::NoKey {
            key_tag: sig.key_tag(),
            algorithm: sig.algorithm().to_int(),
        });
    }
    let signed = signed_data_canonical(sig, rrset);
    for key in candidates.iter().take(MAX_KEYS_PER_SIGNATURE) {
        if !budget.spend() {
            return Err(SigError::Limit(format!(
                "more than {} signature verifications",
                budget.max
            )));
        }
        let public = PublicKey::from_dnskey(key)
            .map_err(|_| SigError::Algorithm(sig.algorithm().to_int()))?;
        if public.verify(&signed, sig.signature().as_ref()).is_ok() {
            return Ok(key.key_tag());
        }
    }
    if candidates.len() > MAX_KEYS_PER_SIGNATURE {
        return Err(SigError::Limit(format!(
            "{} distinct keys share key tag {}; at most {MAX_KEYS_PER_SIGNATURE} are tried",
            candidates.len(),
            sig.key_tag()
        )));
    }
    Err(SigError::Bad(sig.key_tag()))
}

/// The signed data of RFC 4034 §3.1.8.1 / RFC 4035 §5.3.2: RRSIG RDATA
/// without the signature, then the RRset in canonical form and order, with
/// the RRSIG's original TTL.
pub fn signed_data(sig: &Rrsig<Bytes, Dname>, rrset: &[&Rr]) -> Vec<u8> {
    signed_data_canonical(sig, &Canonical::of(rrset))
}

/// [`signed_data`] from an RRset's canonical form.
pub fn signed_data_canonical(sig: &Rrsig<Bytes, Dname>, rrset: &Canonical<'_>) -> Vec<u8> {
    use domain::base::wire::Compose;
    let mut buf: Vec<u8> = Vec::with_capacity(512);
    let _ = sig.type_covered().compose(&mut buf);
    let _ = sig.algorithm().compose(&mut buf);
    let _ = sig.labels().compose(&mut buf);
    let _ = sig.original_ttl().compose(&mut buf);
    let _ = sig.expiration().compose(&mut buf);
    let _ = sig.inception().compose(&mut buf);
    let _ = sig.key_tag().compose(&mut buf);
    let _ = sig.signer_name().compose_canonical(&mut buf);
    let rdatas = &rrset.rdatas;
    let Some(first) = rrset.first else {
        return buf;
    };
    let mut owner = Vec::new();
    let labels = usize::from(sig.labels());
    let owner_labels = first.owner().label_count() - 1;
    if labels < owner_labels {
        // Wildcard expansion (RFC 4035 §5.3.2).
        owner.extend_from_slice(b"\x01*");
        if let Some(suffix) = first.owner().iter_suffixes().nth(owner_labels - labels) {
            let _ = suffix.compose_canonical(&mut owner);
        }
    } else {
        let _ = first.owner().compose_canonical(&mut owner);
    }
    for rdata in rdatas {
        buf.extend_from_slice(&owner);
        let _ = first.rtype().compose(&mut buf);
        let _ = first.class().compose(&mut buf);
        let _ = sig.original_ttl().compose(&mut buf);
        buf.extend_from_slice(rdata);
    }
    buf
}

/// Whether `ds` (owned by `owner`) is a digest of `key` (RFC 4034 §5.1.4).
pub fn ds_matches_key(ds: &Ds<Bytes>, owner: &Dname, key: &Dnskey<Bytes>) -> bool {
    if ds.key_tag() != key.key_tag() || ds.algorithm() != key.algorithm() {
        return false;
    }
    ds_digest(owner, key, ds.digest_type()).is_some_and(|d| d == ds.digest().as_ref())
}

/// The DS digest of `key` owned by `owner` with `digest_type`, if supported.
pub fn ds_digest(
    owner: &Dname,
    key: &Dnskey<Bytes>,
    digest_type: DigestAlgorithm,
) -> Option<Vec<u8>> {
    use domain::base::rdata::ComposeRecordData;
    let kind = match digest_type {
        DigestAlgorithm::SHA1 => DigestType::Sha1,
        DigestAlgorithm::SHA256 => DigestType::Sha256,
        DigestAlgorithm::SHA384 => DigestType::Sha384,
        _ => return None,
    };
    let mut buf = Vec::new();
    let _ = owner.compose_canonical(&mut buf);
    let _ = key.compose_canonical_rdata(&mut buf);
    let mut builder = DigestBuilder::new(kind);
    builder.update(&buf);
    Some(builder.finish().as_ref().to_vec())
}

/// Overall authenticity of a zone file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthStatus {
    /// Every RRset that must be signed carries a signature that verifies
    /// under the trust anchor, and no signature fails.
    Verified,
    /// Some signature fails, or the DNSKEY RRset is not trusted.
    Failed,
    /// No signature fails, but some RRsets that must be signed carry none
    /// (a stripped copy): authenticity cannot be established.
    Incomplete,
    /// The zone carries no signatures at all.
    Unsigned,
}

/// One signature that did not verify.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureFailure {
    /// Owner of the RRset.
    pub owner: String,
    /// Type covered.
    pub rtype: String,
    /// Key tag of the signature.
    pub key_tag: u16,
    /// Why it failed.
    pub reason: String,
}

/// ZONEMD verification outcome (RFC 8976 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ZonemdOutcome {
    /// A ZONEMD digest matches the zone.
    Verified,
    /// No supported ZONEMD digest matches.
    Mismatch,
    /// The zone has no ZONEMD record.
    Absent,
    /// The zone has ZONEMD but it cannot be verified (see the detail).
    NotVerifiable,
}

/// ZONEMD status with its explanation.
#[derive(Clone, Debug, Serialize)]
pub struct ZonemdStatus {
    /// Outcome.
    pub outcome: ZonemdOutcome,
    /// Human-readable explanation.
    pub detail: String,
}

/// The authenticity report of a zone file.
#[derive(Clone, Debug, Serialize)]
pub struct Authenticity {
    /// Overall status.
    pub status: AuthStatus,
    /// Validation time, Unix seconds.
    pub at: u32,
    /// Trust anchor source.
    pub anchor: String,
    /// Key tags the anchor names.
    pub anchor_key_tags: Vec<u16>,
    /// Whether the apex DNSKEY RRset is signed by an anchored key.
    pub dnskey_trusted: bool,
    /// RRSIG records in the zone.
    pub signatures: usize,
    /// Of those, how many verify.
    pub signatures_valid: usize,
    /// Cryptographic verifications attempted (bounded by the limits of
    /// docs/RULES.md#validation-limits).
    pub verifications: usize,
    /// RRsets that must be signed (apex data; DS and NSEC at delegations).
    pub rrsets_to_sign: usize,
    /// Of those, how many carry no verifying signature.
    pub rrsets_unsigned: usize,
    /// The first failures (at most 50), in zone order.
    pub failures: Vec<SignatureFailure>,
    /// Total failures.
    pub failures_total: usize,
    /// ZONEMD.
    pub zonemd: ZonemdStatus,
}

/// Whether an RRset at `owner` of `rtype` is authoritative data that a
/// signed root zone signs: everything at the apex, DS and NSEC at
/// delegation points (RFC 4035 §2.2); not delegation NS nor glue.
fn must_be_signed(owner: &Dname, rtype: Rtype) -> bool {
    if rtype == Rtype::RRSIG {
        return false;
    }
    owner.is_root() || (owner.label_count() == 2 && (rtype == Rtype::DS || rtype == Rtype::NSEC))
}

/// Verifies every signature of `zone` against `anchor` at `at` (Unix
/// seconds), then its ZONEMD.
pub fn verify_zone(zone: &Zone, anchor: &TrustAnchor, at: u32) -> Authenticity {
    // Group RRsets by (owner, type), keeping zone order of first appearance.
    let mut rrsets: HashMap<(String, Rtype), Vec<&Rr>> = HashMap::new();
    let mut order: Vec<(String, Rtype)> = Vec::new();
    let mut sigs: Vec<(&Rr, &Rrsig<Bytes, Dname>)> = Vec::new();
    for rr in &zone.records {
        if let ZoneRecordData::Rrsig(sig) = rr.data() {
            sigs.push((rr, sig));
            continue;
        }
        let key = (name_key(rr.owner()), rr.rtype());
        let entry = rrsets.entry(key.clone()).or_default();
        if entry.is_empty() {
            order.push(key);
        }
        entry.push(rr);
    }
    let apex_keys: Vec<Dnskey<Bytes>> = rrsets
        .get(&(".".to_string(), Rtype::DNSKEY))
        .into_iter()
        .flatten()
        .filter_map(|rr| match rr.data() {
            ZoneRecordData::Dnskey(k) => Some(k.clone()),
            _ => None,
        })
        .collect();
    let anchored: Vec<Dnskey<Bytes>> = apex_keys
        .iter()
        .filter(|k| anchor.trusts(k))
        .cloned()
        .collect();

    // The DNSKEY RRset must verify with an anchored key; only then are the
    // other apex keys trusted (RFC 4035 §5.2).
    let dnskey_set = rrsets
        .get(&(".".to_string(), Rtype::DNSKEY))
        .cloned()
        .unwrap_or_default();
    // Each RRset's canonical form is built once (O(N log N) for the zone),
    // and at most MAX_SIGNATURES_PER_RRSET signatures over one RRset are
    // tried (docs/RULES.md#validation-limits).
    let canonical: HashMap<&(String, Rtype), Canonical<'_>> = rrsets
        .iter()
        .map(|(k, set)| (k, Canonical::of(set)))
        .collect();
    let mut per_rrset: HashMap<(String, Rtype), usize> = HashMap::new();
    let within_limit: Vec<bool> = sigs
        .iter()
        .map(|(rr, sig)| {
            let n = per_rrset
                .entry((name_key(rr.owner()), sig.type_covered()))
                .or_default();
            *n += 1;
            *n <= MAX_SIGNATURES_PER_RRSET
        })
        .collect();
    let budget = Budget::unlimited();
    let dnskey_canonical = Canonical::of(&dnskey_set);
    let dnskey_trusted = sigs.iter().zip(&within_limit).any(|((rr, sig), ok)| {
        *ok && rr.owner().is_root()
            && sig.type_covered() == Rtype::DNSKEY
            && verify_rrsig_within(sig, &dnskey_canonical, anchored.iter(), at, &budget).is_ok()
    });
    let zone_keys: Vec<Dnskey<Bytes>> = if dnskey_trusted {
        apex_keys.clone()
    } else {
        Vec::new()
    };

    let results: Vec<Result<(), SigError>> = sigs
        .par_iter()
        .zip(within_limit.par_iter())
        .map(|((rr, sig), ok)| {
            if !ok {
                return Err(SigError::Limit(format!(
                    "more than {MAX_SIGNATURES_PER_RRSET} signatures over one RRset"
                )));
            }
            let key = (name_key(rr.owner()), sig.type_covered());
            let Some(set) = canonical.get(&key) else {
                return Err(SigError::NoKey {
                    key_tag: sig.key_tag(),
                    algorithm: sig.algorithm().to_int(),
                });
            };
            let keys: &[Dnskey<Bytes>] = if sig.type_covered() == Rtype::DNSKEY {
                &anchored
            } else {
                &zone_keys
            };
            verify_rrsig_within(sig, set, keys.iter(), at, &budget).map(|_| ())
        })
        .collect();

    let mut signed_ok: std::collections::HashSet<(String, Rtype)> =
        std::collections::HashSet::new();
    let mut failures = Vec::new();
    let mut failures_total = 0;
    let mut valid = 0;
    for ((rr, sig), result) in sigs.iter().zip(results) {
        match result {
            Ok(()) => {
                valid += 1;
                signed_ok.insert((name_key(rr.owner()), sig.type_covered()));
            }
            Err(err) => {
                failures_total += 1;
                if failures.len() < 50 {
                    failures.push(SignatureFailure {
                        owner: name_key(rr.owner()),
                        rtype: sig.type_covered().to_string(),
                        key_tag: sig.key_tag(),
                        reason: err.to_string(),
                    });
                }
            }
        }
    }
    let to_sign: Vec<&(String, Rtype)> = order
        .iter()
        .filter(|(owner, rtype)| {
            let set = &rrsets[&(owner.clone(), *rtype)];
            must_be_signed(set[0].owner(), *rtype)
        })
        .collect();
    let unsigned = to_sign.iter().filter(|k| !signed_ok.contains(*k)).count();
    let status = if sigs.is_empty() {
        AuthStatus::Unsigned
    } else if failures_total > 0 || !dnskey_trusted {
        AuthStatus::Failed
    } else if unsigned > 0 {
        AuthStatus::Incomplete
    } else {
        AuthStatus::Verified
    };
    let zonemd = verify_zonemd(zone, status, unsigned);
    Authenticity {
        status,
        at,
        anchor: anchor.source.clone(),
        anchor_key_tags: anchor.key_tags(),
        dnskey_trusted,
        signatures: sigs.len(),
        signatures_valid: valid,
        verifications: budget.spent(),
        rrsets_to_sign: to_sign.len(),
        rrsets_unsigned: unsigned,
        failures,
        failures_total,
        zonemd,
    }
}

/// Verifies the apex ZONEMD of `zone` (RFC 8976 §4), given the outcome of
/// signature verification: a ZONEMD is only meaningful over a complete,
/// authentic zone.
fn verify_zonemd(zone: &Zone, auth: AuthStatus, unsigned: usize) -> ZonemdStatus {
    let zonemds: Vec<_> = zone
        .records
        .iter()
        .filter(|rr| rr.owner().is_root())
        .filter_map(|rr| match rr.data() {
            ZoneRecordData::Zonemd(z) => Some(z.clone()),
            _ => None,
        })
        .collect();
    if zonemds.is_empty() {
        return ZonemdStatus {
            outcome: ZonemdOutcome::Absent,
            detail: "the zone carries no ZONEMD record (RFC 8976)".into(),
        };
    }
    match auth {
        AuthStatus::Incomplete => {
            return ZonemdStatus {
                outcome: ZonemdOutcome::NotVerifiable,
                detail: format!(
                    "not verifiable: {unsigned} RRsets that must be signed carry no RRSIG \
                     (the file was stripped of signatures), so the digest, which covers \
                     them, cannot match"
                ),
            };
        }
        AuthStatus::Failed => {
            return ZonemdStatus {
                outcome: ZonemdOutcome::NotVerifiable,
                detail: "not verified: the zone's DNSSEC signatures do not verify, so its \
                         ZONEMD record cannot be trusted (RFC 8976 §4 step 3)"
                    .into(),
            };
        }
        AuthStatus::Unsigned | AuthStatus::Verified => {}
    }
    let mut notes = Vec::new();
    let mut supported = false;
    let mut canonical: Option<Vec<u8>> = None;
    for z in &zonemds {
        if z.serial().into_int() != zone.serial {
            notes.push(format!(
                "ZONEMD serial {} differs from SOA serial {}",
                z.serial(),
                zone.serial
            ));
            continue;
        }
        if z.scheme().to_int() != 1 {
            notes.push(format!("unsupported scheme {}", z.scheme().to_int()));
            continue;
        }
        let kind = match z.algorithm().to_int() {
            1 => &ring::digest::SHA384,
            2 => &ring::digest::SHA512,
            other => {
                notes.push(format!("unsupported hash algorithm {other}"));
                continue;
            }
        };
        supported = true;
        let data = canonical.get_or_insert_with(|| zonemd_input(zone));
        let digest = ring::digest::digest(kind, data);
        if digest.as_ref() == z.digest().as_ref() {
            return ZonemdStatus {
                outcome: ZonemdOutcome::Verified,
                detail: format!(
                    "ZONEMD serial {} scheme 1 hash {} matches",
                    z.serial(),
                    z.algorithm().to_int()
                ),
            };
        }
        notes.push(format!(
            "hash {} digest {} does not match computed {}",
            z.algorithm().to_int(),
            hex_upper(z.digest().as_ref()),
            hex_upper(digest.as_ref())
        ));
    }
    ZonemdStatus {
        outcome: if supported {
            ZonemdOutcome::Mismatch
        } else {
            ZonemdOutcome::NotVerifiable
        },
        detail: notes.join("; "),
    }
}

/// The RFC 8976 §3.3 SIMPLE-scheme input: every RR in canonical form and
/// order, duplicates removed, except the apex ZONEMD RRset and the RRSIGs
/// that cover it.
fn zonemd_input(zone: &Zone) -> Vec<u8> {
    let mut rrs: Vec<&Rr> = zone
        .records
        .iter()
        .filter(|rr| {
            if !rr.owner().is_root() {
                return true;
            }
            match rr.data() {
                ZoneRecordData::Zonemd(_) => false,
                ZoneRecordData::Rrsig(sig) => sig.type_covered() != Rtype::ZONEMD,
                _ => true,
            }
        })
        .collect();
    rrs.par_sort_by(|a, b| a.canonical_cmp(b));
    rrs.dedup_by(|a, b| a.canonical_cmp(b) == std::cmp::Ordering::Equal);
    let mut buf = Vec::with_capacity(zone.records.len() * 128);
    for rr in rrs {
        let _ = rr.compose_canonical(&mut buf);
    }
    buf
}

/// Decodes hex (upper or lower case); panics are impossible for the
/// built-in constants and other input is checked by callers.
fn decode_hex(s: &str) -> Vec<u8> {
    s.as_bytes()
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap_or("00"), 16).unwrap_or(0))
        .collect()
}

/// Formats an RRSIG time (Unix seconds) as RFC 3339.
pub fn rfc3339(secs: u32) -> String {
    crate::time::Timestamp::from_second(i64::from(secs)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root zone whose SOA carries `sigs` signatures by its key (junk
    /// signature bytes), and `keys` copies of DNSKEYs sharing one tag.
    fn hostile_zone(sigs: usize, same_tag_keys: usize) -> Zone {
        let key = "AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=";
        let mut text = String::from(
            ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400\n",
        );
        text.push_str(&format!(". 86400 IN DNSKEY 257 3 8 {key}\n"));
        // Same-tag keys: the same key text with the flags changed keeps
        // the tag close; exact duplicates must collapse.
        for _ in 0..same_tag_keys {
            text.push_str(&format!(". 86400 IN DNSKEY 257 3 8 {key}\n"));
        }
        let base = Zone::from_bytes(text.as_bytes(), std::path::Path::new("hostile")).unwrap();
        let tag = base
            .records
            .iter()
            .find_map(|rr| match rr.data() {
                ZoneRecordData::Dnskey(k) => Some(k.key_tag()),
                _ => None,
            })
            .unwrap();
        let junk = "A".repeat(344);
        for i in 0..sigs {
            text.push_str(&format!(
                ". 86400 IN RRSIG DNSKEY 8 0 86400 20300101000000 20200101000000 {tag} . {}{}=\n",
                &junk[..340],
                ["AAA", "AAB", "AAC", "AAD"][i % 4]
            ));
        }
        Zone::from_bytes(text.as_bytes(), std::path::Path::new("hostile")).unwrap()
    }

    #[test]
    fn validation_work_is_bounded_keytrap() {
        let zone = hostile_zone(8_000, 300);
        // The key is anchored, so every signature over the DNSKEY RRset is
        // a real verification attempt.
        let dnskey = zone
            .records
            .iter()
            .find_map(|rr| match rr.data() {
                ZoneRecordData::Dnskey(k) => Some(k.clone()),
                _ => None,
            })
            .unwrap();
        let anchor = TrustAnchor {
            keys: vec![dnskey],
            ..Default::default()
        };
        let auth = verify_zone(&zone, &anchor, 1_800_000_000);
        assert_eq!(auth.signatures, 8_000);
        assert!(
            auth.verifications <= MAX_SIGNATURES_PER_RRSET * MAX_KEYS_PER_SIGNATURE,
            "{} verifications for 8,000 signatures over one RRset",
            auth.verifications
        );
        assert_eq!(auth.status, AuthStatus::Failed);
        assert!(
            auth.failures
                .iter()
                .any(|f| f.reason.contains("validation-limits"))
        );
        assert!(auth.verifications > 0, "the anchored key was tried");
    }

    #[test]
    fn builtin_anchor_depends_on_time() {
        // 2018-01-31: KSK-2010 and KSK-2017.
        assert_eq!(
            TrustAnchor::builtin(1_517_356_800).key_tags(),
            vec![19036, 20326]
        );
        // 2026: KSK-2017 and KSK-2024.
        assert_eq!(
            TrustAnchor::builtin(1_790_000_000).key_tags(),
            vec![20326, 38696]
        );
    }

    #[test]
    fn must_sign_rules() {
        let root = Dname::root_bytes();
        let tld: Dname = "xa.".parse().unwrap();
        let host: Dname = "ns.xa.".parse().unwrap();
        assert!(must_be_signed(&root, Rtype::NS));
        assert!(must_be_signed(&tld, Rtype::DS));
        assert!(!must_be_signed(&tld, Rtype::NS));
        assert!(!must_be_signed(&host, Rtype::A));
    }
}
