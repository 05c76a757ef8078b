//! Whether a root zone may be adopted: its signatures verify against the
//! trust anchor at the time of reading and its ZONEMD verifies
//! (`docs/RULES.md#authentic-root-zone`; the root zone carries ZONEMD
//! since December 2023). The daemon applies this
//! one test to the zone that seeds the record and to every later one.

use std::path::Path;

use super::verify::{AuthStatus, TrustAnchor, ZonemdOutcome, verify_zone};
use super::{Zone, ZoneError};
use crate::time::Timestamp;

/// Why a zone is not adopted.
#[derive(Debug, thiserror::Error)]
pub enum NotAuthentic {
    /// The configured trust anchor cannot be read.
    #[error("trust anchor unusable: {0}")]
    Anchor(#[from] ZoneError),
    /// The zone's signatures or ZONEMD do not verify.
    #[error(
        "root zone {source_name} serial {serial} is not authentic: signatures {status:?}, ZONEMD {zonemd:?} ({reason}) (docs/RULES.md#authentic-root-zone)"
    )]
    Failed {
        /// Where the zone came from.
        source_name: String,
        /// Its SOA serial.
        serial: u32,
        /// Signature status.
        status: AuthStatus,
        /// ZONEMD outcome.
        zonemd: ZonemdOutcome,
        /// The first failure.
        reason: String,
    },
}

/// Verifies `zone` at `at` against `trust_anchor` (a file
/// of DS or DNSKEY records for `.`) or the built-in IANA anchors. Returns
/// the authenticity status to report; when `required`, a zone that does
/// not verify is refused.
pub fn authenticate(
    zone: &Zone,
    trust_anchor: Option<&Path>,
    required: bool,
    at: Timestamp,
) -> Result<String, NotAuthentic> {
    let at = at.signature_time_clamped();
    let anchor = match trust_anchor {
        Some(p) => TrustAnchor::from_file(p)?,
        None => TrustAnchor::builtin(at),
    };
    let auth = verify_zone(zone, &anchor, at);
    // Signatures do not cover delegation NS records and glue (RFC 4035
    // §2.2); only ZONEMD does (RFC 8976). So an authentic root zone has
    // both, and a verified ZONEMD is required: a copy with its ZONEMD
    // stripped could carry any NS set or glue.
    let authentic =
        auth.status == AuthStatus::Verified && auth.zonemd.outcome == ZonemdOutcome::Verified;
    if required && !authentic {
        return Err(NotAuthentic::Failed {
            source_name: zone.source.clone(),
            serial: zone.serial,
            status: auth.status,
            zonemd: auth.zonemd.outcome,
            reason: auth
                .failures
                .first()
                .map(|f| f.reason.clone())
                .unwrap_or(auth.zonemd.detail.clone()),
        });
    }
    Ok(format!(
        "{:?}, ZONEMD {:?}",
        auth.status, auth.zonemd.outcome
    ))
}
