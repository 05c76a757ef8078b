//! The daemon's root zone source: a file, re-read when its modification
//! time changes. A zone that cannot be read, or (with
//! `zone.require_authentic`) whose signatures or ZONEMD do not verify, is
//! refused with an alarm and the last good one is kept.

use std::path::PathBuf;
use std::time::SystemTime;

use serde::Serialize;

use crate::config::ZoneConfig;
use crate::ledger::World;
use crate::policy::registry::{Drift, drift};
use crate::zone::verify::{AuthStatus, TrustAnchor, ZonemdOutcome, verify_zone};
use crate::zone::{Registry, Zone, ZoneIndex};

/// The root zone in use.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneStatus {
    /// The file.
    pub source: String,
    /// SOA serial.
    pub serial: u32,
    /// Authenticity status.
    pub authenticity: String,
    /// When it was loaded (RFC 3339).
    pub loaded_at: String,
}

/// Watches the configured zone file.
pub struct ZoneSource {
    file: Option<PathBuf>,
    registry: Option<PathBuf>,
    trust_anchor: Option<PathBuf>,
    require_authentic: bool,
    seen: Option<SystemTime>,
    index: Option<ZoneIndex>,
}

impl ZoneSource {
    /// A source for `config`.
    pub fn new(config: &ZoneConfig) -> ZoneSource {
        ZoneSource {
            file: config.file.clone(),
            registry: config.registry.clone(),
            trust_anchor: config.trust_anchor.clone(),
            require_authentic: config.require_authentic,
            seen: None,
            index: None,
        }
    }

    /// Re-reads the file when it changed; returns the new status (when a
    /// zone was loaded) and an alarm (when one was refused).
    pub fn refresh(&mut self, at: i64) -> (Option<ZoneStatus>, Option<String>) {
        let Some(file) = self.file.clone() else {
            return (None, None);
        };
        let mtime = std::fs::metadata(&file).and_then(|m| m.modified()).ok();
        if mtime.is_some() && mtime == self.seen {
            return (None, None);
        }
        self.seen = mtime;
        let zone = match Zone::from_file(&file) {
            Ok(z) => z,
            Err(e) => {
                return (
                    None,
                    Some(format!("root zone refused, keeping the last good one: {e}")),
                );
            }
        };
        let anchor = match &self.trust_anchor {
            Some(p) => match TrustAnchor::from_file(p) {
                Ok(a) => a,
                Err(e) => return (None, Some(format!("trust anchor unusable: {e}"))),
            },
            None => TrustAnchor::builtin(at as u32),
        };
        let auth = verify_zone(&zone, &anchor, at as u32);
        let authentic =
            auth.status == AuthStatus::Verified && auth.zonemd.outcome != ZonemdOutcome::Mismatch;
        if self.require_authentic && !authentic {
            return (
                None,
                Some(format!(
                    "root zone {} serial {} refused, keeping the last good one: signatures {:?}, ZONEMD {:?} ({})",
                    file.display(),
                    zone.serial,
                    auth.status,
                    auth.zonemd.outcome,
                    auth.failures
                        .first()
                        .map(|f| f.reason.clone())
                        .unwrap_or(auth.zonemd.detail.clone())
                )),
            );
        }
        let registry = self
            .registry
            .as_deref()
            .and_then(|p| Registry::from_file(p).ok());
        self.index = Some(ZoneIndex::build(&zone, registry.as_ref()));
        (
            Some(ZoneStatus {
                source: file.display().to_string(),
                serial: zone.serial,
                authenticity: format!("{:?}, ZONEMD {:?}", auth.status, auth.zonemd.outcome),
                loaded_at: crate::policy::rfc3339(at),
            }),
            None,
        )
    }

    /// Drift of the zone in use against the record.
    pub fn drift(&self, world: &World) -> Vec<Drift> {
        match &self.index {
            Some(index) => drift(&world.approved, &world.measures(), index),
            None => Vec::new(),
        }
    }
}
