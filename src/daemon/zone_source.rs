//! The daemon's root zone source: a file, re-read when its modification
//! time changes, or a server to transfer it from (AXFR), when its SOA
//! serial changes. A zone that cannot be read, or (with
//! `zone.require_authentic`) whose signatures or ZONEMD do not verify, is
//! refused with an alarm and the last good one is kept.

use std::path::PathBuf;
use std::time::SystemTime;

pub use crate::app::ZoneStatus;
use crate::config::ZoneConfig;
use crate::time::Timestamp;
use crate::zone::authentic::authenticate;
use crate::zone::{Registry, Zone, ZoneIndex};

/// Why a download of the root zone failed.
#[derive(Debug, thiserror::Error)]
#[error("{url}: {reason}")]
pub struct DownloadError {
    /// The URL.
    pub url: String,
    /// What went wrong.
    pub reason: String,
}

/// Where the root zone comes from (one of `zone.file`, `zone.axfr`,
/// `zone.url`; the file wins when several are set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file, re-read when its modification time changes.
    File(PathBuf),
    /// A server to transfer the zone from (AXFR) when its serial changes.
    Axfr(std::net::SocketAddr),
    /// An HTTPS URL, downloaded every cycle, adopted when its serial changes.
    Url {
        /// The URL.
        url: String,
        /// An extra CA certificate (PEM).
        ca_file: Option<PathBuf>,
    },
    /// Nothing configured: the record is watched without a published zone.
    None,
}

impl Origin {
    /// The origin `config` names.
    pub fn of(config: &ZoneConfig) -> Origin {
        match (&config.file, config.axfr, &config.url) {
            (Some(f), _, _) => Origin::File(f.clone()),
            (None, Some(a), _) => Origin::Axfr(a),
            (None, None, Some(u)) => Origin::Url {
                url: u.clone(),
                ca_file: config.ca_file.clone(),
            },
            (None, None, None) => Origin::None,
        }
    }
}

/// Watches the configured root zone source.
pub struct ZoneSource {
    origin: Origin,
    limits: crate::zone::ZoneLimits,
    last_serial: Option<u32>,
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
            origin: Origin::of(config),
            limits: config.limits(),
            last_serial: None,
            registry: config.registry.clone(),
            trust_anchor: config.trust_anchor.clone(),
            require_authentic: config.require_authentic,
            seen: None,
            index: None,
        }
    }

    /// Re-reads the file (or transfers the zone) when it changed; returns
    /// the new status (when a zone was loaded) and an alarm (when one was
    /// refused).
    pub async fn refresh(&mut self, at: Timestamp) -> (Option<ZoneStatus>, Option<String>) {
        if let Origin::File(file) = self.origin.clone() {
            let mtime = std::fs::metadata(&file).and_then(|m| m.modified()).ok();
            if mtime.is_some() && mtime == self.seen {
                return (None, None);
            }
            self.seen = mtime;
            let limits = self.limits;
            let parsed =
                tokio::task::spawn_blocking(move || Zone::from_file_within(&file, &limits)).await;
            return match parsed {
                Ok(Ok(zone)) => self.accept(zone, at).await,
                Ok(Err(e)) => (
                    None,
                    Some(format!("root zone refused, keeping the last good one: {e}")),
                ),
                Err(e) => (
                    None,
                    Some(format!("root zone refused, keeping the last good one: {e}")),
                ),
            };
        }
        if let Origin::Url { url, ca_file } = self.origin.clone() {
            return match download(&url, ca_file.as_deref(), self.limits).await {
                Ok(zone) if Some(zone.serial) == self.last_serial => (None, None),
                Ok(zone) => {
                    let serial = zone.serial;
                    let result = self.accept(zone, at).await;
                    if result.0.is_some() {
                        self.last_serial = Some(serial);
                    }
                    result
                }
                Err(e) => (
                    None,
                    Some(format!(
                        "root zone download failed, keeping the last good one: {e}"
                    )),
                ),
            };
        }
        let Origin::Axfr(server) = self.origin else {
            return (None, None);
        };
        let prober = crate::probe::Prober::new(crate::probe::ProbeConfig {
            port: server.port(),
            ..Default::default()
        });
        let soa = prober
            .query(
                server,
                ".",
                hickory_proto::rr::RecordType::SOA,
                crate::probe::Transport::Tcp,
                Default::default(),
            )
            .await;
        let serial = soa.outcome.reply().and_then(|r| {
            r.answer.iter().find_map(|rr| match rr.data() {
                domain::rdata::ZoneRecordData::Soa(s) => Some(s.serial().into_int()),
                _ => None,
            })
        });
        if serial.is_some() && serial == self.last_serial {
            return (None, None);
        }
        match crate::probe::xfr::axfr_root(server, std::time::Duration::from_secs(10), self.limits)
            .await
        {
            Ok(zone) => {
                let result = self.accept(zone, at).await;
                if result.0.is_some() {
                    self.last_serial = serial;
                }
                result
            }
            Err(e) => (
                None,
                Some(format!(
                    "root zone transfer failed, keeping the last good one: {e}"
                )),
            ),
        }
    }

    /// Verifies and adopts `zone` (on a blocking thread: signature
    /// verification is CPU work), or refuses it with the reason.
    async fn accept(&mut self, zone: Zone, at: Timestamp) -> (Option<ZoneStatus>, Option<String>) {
        let anchor = self.trust_anchor.clone();
        let registry = self.registry.clone();
        let required = self.require_authentic;
        let outcome = tokio::task::spawn_blocking(move || {
            let authenticity = authenticate(&zone, anchor.as_deref(), required, at)
                .map_err(|e| format!("{e}; refused, keeping the last good one"))?;
            let registry = registry
                .as_deref()
                .map(Registry::from_file)
                .transpose()
                .map_err(|e| format!("{e}; root zone refused, keeping the last good one"))?;
            let index = ZoneIndex::build(&zone, registry.as_ref());
            Ok::<_, String>((zone.source, zone.serial, authenticity, index))
        })
        .await;
        match outcome {
            Ok(Ok((source, serial, authenticity, index))) => {
                self.index = Some(index);
                (
                    Some(ZoneStatus {
                        source,
                        serial,
                        authenticity,
                        loaded_at: at,
                    }),
                    None,
                )
            }
            Ok(Err(alarm)) => (None, Some(alarm)),
            Err(e) => (None, Some(format!("root zone check failed: {e}"))),
        }
    }

    /// The index of the zone in use, if one was adopted.
    pub fn index(&self) -> Option<&ZoneIndex> {
        self.index.as_ref()
    }
}

/// Downloads and parses the zone at `url` (HTTPS only), trusting
/// `ca_file` besides the system's roots.
async fn download(
    url: &str,
    ca_file: Option<&std::path::Path>,
    limits: crate::zone::ZoneLimits,
) -> Result<Zone, DownloadError> {
    let fail = |reason: String| DownloadError {
        url: url.to_string(),
        reason,
    };
    if !url.starts_with("https://") {
        return Err(fail("only https:// URLs are accepted".into()));
    }
    let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60));
    if let Some(ca) = ca_file {
        let pem = std::fs::read(ca).map_err(|e| fail(format!("{}: {e}", ca.display())))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| fail(format!("{}: {e}", ca.display())))?;
        builder = builder.add_root_certificate(cert);
    }
    let client = builder.build().map_err(|e| fail(e.to_string()))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    // Read at most max_bytes (docs/RULES.md#input-limits), whatever the
    // server says the length is.
    let mut response = response;
    let mut body: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
        if body.len() as u64 + chunk.len() as u64 > limits.max_bytes {
            return Err(fail(format!(
                "more than {} bytes (zone.max_bytes; docs/RULES.md#input-limits)",
                limits.max_bytes
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let name = url.to_string();
    tokio::task::spawn_blocking(move || {
        Zone::from_bytes_within(&body, std::path::Path::new(&name), &limits)
    })
    .await
    .map_err(|e| fail(e.to_string()))?
    .map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::registry::{Drift, drift};

    #[tokio::test]
    async fn an_unverifiable_zone_is_refused_and_the_last_good_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("root.zone");
        let good = ". 1 IN SOA a. b. 1 1 1 1 1\nxa. 1 IN NS ns1.xa.\nns1.xa. 1 IN A 192.0.2.1\n";
        std::fs::write(&file, good).unwrap();
        let mut lenient = ZoneSource::new(&ZoneConfig {
            file: Some(file.clone()),
            ..Default::default()
        });
        let (status, alarm) = lenient
            .refresh(crate::time::Timestamp::from_second(1_800_000_000))
            .await;
        assert!(alarm.is_none() && status.unwrap().serial == 1);

        let mut strict = ZoneSource::new(&ZoneConfig {
            file: Some(file.clone()),
            require_authentic: true,
            ..Default::default()
        });
        let (status, alarm) = strict
            .refresh(crate::time::Timestamp::from_second(1_800_000_000))
            .await;
        assert!(status.is_none());
        assert!(
            alarm
                .unwrap()
                .contains("refused, keeping the last good one")
        );

        // A good zone, then a broken file: the broken one is refused, the index kept.
        let world = crate::ledger::World::default();
        std::fs::write(&file, "this is not a zone\n").unwrap();
        // Make sure the modification time differs.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(later)
            .unwrap();
        let (status, alarm) = lenient
            .refresh(crate::time::Timestamp::from_second(1_800_000_100))
            .await;
        assert!(status.is_none());
        assert!(alarm.unwrap().contains("root.zone:1"));
        assert!(lenient.index.is_some(), "the last good zone is kept");
        // Drift is computed against the kept zone (an empty record approves nothing).
        assert_eq!(
            drift(&world.approved, &world.measures(), lenient.index().unwrap()),
            vec![Drift::NotApproved { tld: "xa".into() }]
        );
    }
}
