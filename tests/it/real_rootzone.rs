//! The real root zone files in `../shared/rootzone/` parse, index and (the
//! 2018 signed file) verify. Every test skips, saying so, when the folder is
//! absent (a user's fresh clone has no `../shared`).

use std::path::{Path, PathBuf};

use rootguard::zone::verify::{AuthStatus, TrustAnchor, ZonemdOutcome, verify_zone};
use rootguard::zone::{Registry, Zone, ZoneIndex};

fn shared(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/rootzone")
        .join(name);
    if p.exists() {
        Some(p)
    } else {
        crate::support::real_data();
        crate::support::skip(format!("{} is absent", p.display()))
    }
}

/// 2018-01-31T00:00:00Z, inside the 2018 file's signature window.
const AT_2018: u32 = 1_517_356_800;

fn signed_2018_zone_verifies_completely() {
    let Some(path) = shared("root-2018013000-signed.zone") else {
        return;
    };
    let zone = Zone::from_file(&path).unwrap();
    assert_eq!(zone.serial, 2018013000);
    let auth = verify_zone(&zone, &TrustAnchor::builtin(AT_2018), AT_2018);
    // `grep -c RRSIG` says 4489, but that counts NSEC bitmaps naming RRSIG;
    // the file holds 2945 RRSIG records (ldns-verify-zone agrees).
    assert_eq!(auth.signatures, 2945);
    assert_eq!(auth.failures_total, 0, "{:?}", auth.failures);
    assert_eq!(auth.signatures_valid, 2945);
    assert!(auth.dnskey_trusted);
    assert_eq!(auth.rrsets_unsigned, 0);
    assert_eq!(auth.status, AuthStatus::Verified);
    assert_eq!(auth.zonemd.outcome, ZonemdOutcome::Absent);
}

fn signed_2018_zone_fails_outside_window() {
    let Some(path) = shared("root-2018013000-signed.zone") else {
        return;
    };
    let zone = Zone::from_file(&path).unwrap();
    let at = AT_2018 + 30 * 86400;
    let auth = verify_zone(&zone, &TrustAnchor::builtin(at), at);
    assert_eq!(auth.status, AuthStatus::Failed);
    assert!(
        auth.failures[0].reason.contains("not valid at this time"),
        "{:?}",
        auth.failures[0]
    );
}

fn flipped_byte_in_signature_or_ds_is_caught() {
    let Some(path) = shared("root-2018013000-signed.zone") else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    // Flip one base64 character of the RRSIG over the SOA (second record).
    let soa_sig = text.find("IN\tRRSIG\tSOA").unwrap();
    let line_end = soa_sig + text[soa_sig..].find('\n').unwrap();
    let pos = line_end - 10;
    let mut bytes = text.clone().into_bytes();
    bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
    let zone = Zone::from_bytes(&bytes, Path::new("flipped-sig.zone")).unwrap();
    let auth = verify_zone(&zone, &TrustAnchor::builtin(AT_2018), AT_2018);
    assert_eq!(auth.status, AuthStatus::Failed);
    assert_eq!(auth.failures_total, 1);
    assert_eq!(auth.failures[0].rtype, "SOA");

    // Flip one hex digit of the first DS digest.
    let ds = text.find("IN\tDS\t").unwrap();
    let line_end = ds + text[ds..].find('\n').unwrap();
    let pos = line_end - 1;
    let mut bytes = text.into_bytes();
    bytes[pos] = if bytes[pos] == b'0' { b'1' } else { b'0' };
    let zone = Zone::from_bytes(&bytes, Path::new("flipped-ds.zone")).unwrap();
    let auth = verify_zone(&zone, &TrustAnchor::builtin(AT_2018), AT_2018);
    assert_eq!(auth.status, AuthStatus::Failed);
    assert_eq!(auth.failures_total, 1);
    assert_eq!(auth.failures[0].rtype, "DS");
}

fn zone_2026_indexes_309_cctlds_and_explains_zonemd() {
    let Some(path) = shared("root-2026082201.zone") else {
        return;
    };
    let Some(reg) = shared("tld-managers.json") else {
        return;
    };
    let registry = Registry::from_file(&reg).unwrap();
    let zone = Zone::from_file(&path).unwrap();
    let idx = ZoneIndex::build(&zone, Some(&registry));
    assert_eq!(idx.delegations.len(), 1438);
    let cc: Vec<_> = idx.cctlds().collect();
    assert_eq!(cc.len(), 309);
    assert_eq!(cc.iter().filter(|d| d.tld.starts_with("xn--")).count(), 61);
    assert_eq!(cc.iter().filter(|d| !d.ds.is_empty()).count(), 221);
    let at = 1_787_616_000; // 2026-08-25
    let auth = verify_zone(&zone, &TrustAnchor::builtin(at), at);
    assert!(
        auth.dnskey_trusted,
        "KSK-2017/KSK-2024 sign the 2026 DNSKEY RRset"
    );
    assert_eq!(auth.status, AuthStatus::Incomplete, "{:?}", auth.failures);
    assert_eq!(auth.zonemd.outcome, ZonemdOutcome::NotVerifiable);
    assert!(
        auth.zonemd.detail.contains("stripped"),
        "{}",
        auth.zonemd.detail
    );
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::sync(
            "real_rootzone::signed_2018_zone_verifies_completely",
            signed_2018_zone_verifies_completely,
        ),
        crate::support::sync(
            "real_rootzone::signed_2018_zone_fails_outside_window",
            signed_2018_zone_fails_outside_window,
        ),
        crate::support::sync(
            "real_rootzone::flipped_byte_in_signature_or_ds_is_caught",
            flipped_byte_in_signature_or_ds_is_caught,
        ),
        crate::support::sync(
            "real_rootzone::zone_2026_indexes_309_cctlds_and_explains_zonemd",
            zone_2026_indexes_309_cctlds_and_explains_zonemd,
        ),
    ]
}
