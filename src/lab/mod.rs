//! The lab: in-process authoritative name servers (hickory-server) on
//! loopback addresses, serving child zones derived from a lab root zone,
//! with per-host fault injection. Tests, benchmarks and the demo use it;
//! it never binds anything but loopback.
//!
//! A lab directory holds `root.zone` (the lab's root zone: delegations and
//! glue on 127.0.0.0/8) and, optionally, `lab.toml` ([`LabSpec`]). Child
//! zones are generated from the delegations: SOA, the NS set, addresses of
//! in-bailiwick hosts, and, for TLDs with DS, a DNSKEY and signatures by a
//! deterministic Ed25519 key ([`sign::LabKey`]).

pub mod derive;
pub mod server;
pub mod sign;
pub mod simulate;
pub mod spec;

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hickory_server::Server;

use crate::checks::report::{CheckError, CheckOptions, CheckReport, check};
use crate::zone::{Delegation, Rr, Zone, ZoneIndex, parse_records};
pub use server::{ChildZone, LabHandler, ZoneSlot};
pub use sign::LabKey;
pub use spec::{Faults, LabError, LabSpec, TldSpec};

/// A running lab.
pub struct Lab {
    /// The lab definition.
    pub spec: LabSpec,
    /// The lab root zone's delegations.
    pub index: ZoneIndex,
    /// Faults per NS host, shared with the running servers.
    faults: HashMap<String, Arc<RwLock<Faults>>>,
    /// Child zones by TLD, shared with the running servers.
    zones: HashMap<String, ZoneSlot>,
    /// Addresses of every NS host.
    host_addrs: BTreeMap<String, Vec<IpAddr>>,
    /// Addresses served.
    pub addresses: Vec<IpAddr>,
    servers: Vec<Server<LabHandler>>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("port", &self.spec.port)
            .field("addresses", &self.addresses.len())
            .finish()
    }
}

/// Reads a lab directory: `root.zone` and, when present, `lab.toml`.
pub fn load_dir(dir: &Path) -> Result<(LabSpec, Zone), LabError> {
    let spec_path = dir.join("lab.toml");
    let spec = if spec_path.exists() {
        LabSpec::from_file(&spec_path)?
    } else {
        LabSpec::default()
    };
    let zone = Zone::from_file(&dir.join("root.zone"))?;
    Ok((spec, zone))
}

/// Signature validity used for lab zones: from a day ago to 30 days ahead.
fn validity() -> (u32, u32) {
    let now = crate::time::Timestamp::now().signature_time_clamped();
    (now.saturating_sub(86_400), now.saturating_add(30 * 86_400))
}

/// Builds the child zone records for one delegation.
pub fn child_records(
    d: &Delegation,
    spec: &LabSpec,
    host_addrs: &BTreeMap<String, Vec<IpAddr>>,
) -> Result<Vec<Rr>, LabError> {
    let tld = &d.tld;
    let settings = spec.tld.get(tld).cloned().unwrap_or_default();
    let serial = settings.serial.unwrap_or(1);
    let primary =
        d.ns.first()
            .cloned()
            .unwrap_or_else(|| format!("ns1.{tld}."));
    let mut text =
        format!("{tld}. 3600 IN SOA {primary} hostmaster.{tld}. {serial} 7200 900 1209600 300\n");
    for ns in &d.ns {
        text.push_str(&format!("{tld}. 3600 IN NS {ns}\n"));
    }
    for host in d.ns.iter().filter(|h| d.in_bailiwick(h)) {
        for a in host_addrs.get(host).into_iter().flatten() {
            let t = if a.is_ipv4() { "A" } else { "AAAA" };
            text.push_str(&format!("{host} 3600 IN {t} {a}\n"));
        }
    }
    let mut records = parse_records(text.as_bytes(), Path::new("lab child zone"))?;
    let signed = settings.signed.unwrap_or(!d.ds.is_empty());
    if signed {
        let key = LabKey::derive(tld, settings.key_generation.unwrap_or(1));
        records.push(key.dnskey_rr(3600));
        let (inception, expiration) = validity();
        let mut sets: BTreeMap<(String, u16), Vec<&Rr>> = BTreeMap::new();
        for rr in &records {
            sets.entry((crate::zone::name_key(rr.owner()), rr.rtype().to_int()))
                .or_default()
                .push(rr);
        }
        let expired: Vec<String> = settings
            .expired_signatures
            .iter()
            .map(|t| t.to_ascii_uppercase())
            .collect();
        let corrupt: Vec<String> = settings
            .corrupt_signatures
            .iter()
            .map(|t| t.to_ascii_uppercase())
            .collect();
        let sigs: Vec<Rr> = sets
            .values()
            .filter_map(|set| {
                let rtype = set[0].rtype().to_string();
                if expired.contains(&rtype) {
                    // Valid for a day, ten days ago.
                    key.sign(
                        set,
                        inception.saturating_sub(10 * 86_400),
                        inception.saturating_sub(9 * 86_400),
                    )
                } else if corrupt.contains(&rtype) {
                    key.sign(set, inception, expiration)
                        .map(|rr| corrupted(&rr))
                } else {
                    key.sign(set, inception, expiration)
                }
            })
            .collect();
        // Junk signatures over the DNSKEY RRset first (a hostile server).
        if settings.junk_dnskey_signatures > 0
            && let Some(real) = sigs.iter().find(|rr| {
                matches!(rr.data(), domain::rdata::ZoneRecordData::Rrsig(s)
                    if s.type_covered() == domain::base::iana::Rtype::DNSKEY)
            })
            && let domain::rdata::ZoneRecordData::Rrsig(s) = real.data()
        {
            for i in 0..settings.junk_dnskey_signatures {
                let mut junk = s.signature().to_vec();
                let n = junk.len();
                junk[n - 1] ^= 1 + (i % 255) as u8;
                junk[0] ^= (i / 255) as u8;
                if let Some(rr) = with_signature(real, junk) {
                    records.push(rr);
                }
            }
        }
        records.extend(sigs);
    }
    Ok(records)
}

/// `rr` (an RRSIG) with the last octet of its signature flipped.
fn corrupted(rr: &Rr) -> Rr {
    let domain::rdata::ZoneRecordData::Rrsig(s) = rr.data() else {
        return rr.clone();
    };
    let mut sig = s.signature().to_vec();
    if let Some(last) = sig.last_mut() {
        *last ^= 0xff;
    }
    with_signature(rr, sig).unwrap_or_else(|| rr.clone())
}

/// `rr` (an RRSIG) with its signature octets replaced by `signature`.
fn with_signature(rr: &Rr, signature: Vec<u8>) -> Option<Rr> {
    let domain::rdata::ZoneRecordData::Rrsig(s) = rr.data() else {
        return None;
    };
    let sig = domain::rdata::Rrsig::new(
        s.type_covered(),
        s.algorithm(),
        s.labels(),
        s.original_ttl(),
        s.expiration(),
        s.inception(),
        s.key_tag(),
        s.signer_name().clone(),
        bytes::Bytes::from(signature),
    )
    .ok()?;
    Some(domain::base::Record::new(
        rr.owner().clone(),
        rr.class(),
        rr.ttl(),
        domain::rdata::ZoneRecordData::Rrsig(sig),
    ))
}

impl Lab {
    /// Starts serving the lab defined by `spec` and the lab root `zone`.
    pub async fn start(spec: LabSpec, zone: &Zone) -> Result<Lab, LabError> {
        let index = ZoneIndex::build(zone, None);
        // Addresses of every NS host: glue, else the lab's host table.
        let mut host_addrs: BTreeMap<String, Vec<IpAddr>> = BTreeMap::new();
        for d in index.delegations.values() {
            for host in &d.ns {
                let addrs = if d.glue_of(host).is_empty() {
                    spec.hosts.get(host).cloned().unwrap_or_default()
                } else {
                    d.glue_of(host).to_vec()
                };
                for a in &addrs {
                    if !a.is_loopback() {
                        return Err(LabError::NotLoopback {
                            host: host.clone(),
                            address: *a,
                        });
                    }
                }
                host_addrs.entry(host.clone()).or_insert(addrs);
            }
        }
        let mut per_address: BTreeMap<IpAddr, (String, Vec<ZoneSlot>)> = BTreeMap::new();
        let mut zones: HashMap<String, ZoneSlot> = HashMap::new();
        for d in index.delegations.values() {
            let apex = format!("{}.", d.tld);
            let child: ZoneSlot = Arc::new(RwLock::new(Arc::new(ChildZone::from_records(
                &apex,
                &child_records(d, &spec, &host_addrs)?,
            ))));
            zones.insert(d.tld.clone(), child.clone());
            for host in &d.ns {
                for a in host_addrs.get(host).into_iter().flatten() {
                    per_address
                        .entry(*a)
                        .or_insert_with(|| (host.clone(), Vec::new()))
                        .1
                        .push(child.clone());
                }
            }
        }
        let mut faults: HashMap<String, Arc<RwLock<Faults>>> = HashMap::new();
        for host in host_addrs.keys() {
            let f = spec.server.get(host).cloned().unwrap_or_default();
            faults.insert(host.clone(), Arc::new(RwLock::new(f)));
        }
        let mut lab = Lab {
            spec,
            index,
            faults,
            zones,
            host_addrs: host_addrs.clone(),
            addresses: Vec::new(),
            servers: Vec::new(),
        };
        for (address, (host, zones)) in per_address {
            let shared = lab.faults[&host].clone();
            let tcp = !shared.read().map(|f| f.tcp_refused).unwrap_or(false);
            let handler = LabHandler {
                zones,
                faults: shared,
                hosts: None,
            };
            lab.serve(address, handler, tcp).await?;
        }
        if let Some(resolver) = lab.spec.resolver {
            if !resolver.is_loopback() {
                return Err(LabError::NotLoopback {
                    host: "resolver".into(),
                    address: resolver,
                });
            }
            let hosts: HashMap<String, Vec<IpAddr>> = host_addrs.into_iter().collect();
            let handler = LabHandler {
                zones: Vec::new(),
                faults: Arc::new(RwLock::new(Faults::default())),
                hosts: Some(Arc::new(hosts)),
            };
            lab.serve(resolver, handler, true).await?;
        }
        Ok(lab)
    }

    async fn serve(
        &mut self,
        address: IpAddr,
        handler: LabHandler,
        tcp: bool,
    ) -> Result<(), LabError> {
        let port = self.spec.port;
        let addr = SocketAddr::new(address, port);
        let udp = tokio::net::UdpSocket::bind(addr)
            .await
            .map_err(|source| LabError::Bind {
                address,
                port,
                transport: "UDP",
                source,
            })?;
        let mut server = Server::new(handler);
        server.register_socket(udp);
        if tcp {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| LabError::Bind {
                    address,
                    port,
                    transport: "TCP",
                    source,
                })?;
            server.register_listener(listener, Duration::from_secs(10), 64);
        }
        self.addresses.push(address);
        self.servers.push(server);
        Ok(())
    }

    /// Replaces the faults of NS host `host` while serving (TCP listening
    /// is fixed at start). Returns false for an unknown host.
    pub fn set_faults(&self, host: &str, faults: Faults) -> bool {
        let key = crate::zone::fqdn(host);
        match self.faults.get(&key) {
            Some(shared) => {
                match shared.write() {
                    Ok(mut f) => *f = faults,
                    Err(poisoned) => *poisoned.into_inner() = faults,
                }
                true
            }
            None => false,
        }
    }

    /// Re-signs the child zone of `tld` with key `generation` while
    /// serving (a key roll: with a generation the root's DS does not name,
    /// the TLD becomes DNSSEC-bogus). Returns false for an unknown TLD or
    /// a zone that cannot be built (logged).
    pub fn set_key_generation(&mut self, tld: &str, generation: u32) -> bool {
        let tld = tld.trim_end_matches('.').to_ascii_lowercase();
        let (Some(d), Some(slot)) = (self.index.delegations.get(&tld), self.zones.get(&tld)) else {
            return false;
        };
        self.spec.tld.entry(tld.clone()).or_default().key_generation = Some(generation);
        let records = match child_records(d, &self.spec, &self.host_addrs) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("lab zone of .{tld} cannot be built: {e}");
                return false;
            }
        };
        let zone = Arc::new(ChildZone::from_records(&format!("{tld}."), &records));
        match slot.write() {
            Ok(mut z) => *z = zone,
            Err(p) => *p.into_inner() = zone,
        }
        true
    }

    /// The lab resolver's address, if it runs one.
    pub fn resolver(&self) -> Option<SocketAddr> {
        self.spec
            .resolver
            .map(|a| SocketAddr::new(a, self.spec.port))
    }

    /// Stops every server.
    pub async fn shutdown(mut self) {
        for server in &mut self.servers {
            let _ = server.shutdown_gracefully().await;
        }
    }
}

/// Why `check --lab` failed.
#[derive(Debug, thiserror::Error)]
pub enum LabCheckError {
    /// The lab could not be started.
    #[error(transparent)]
    Lab(#[from] LabError),
    /// The check failed.
    #[error(transparent)]
    Check(#[from] CheckError),
}

/// `rootguard check --lab DIR`: serves the lab in `dir` in-process while
/// checking. Defaults taken from the lab: its `root.zone`, its port, its
/// resolver for hosts without glue and its `profile.toml`.
pub async fn check_in_lab(
    dir: &Path,
    mut opts: CheckOptions,
) -> Result<CheckReport, LabCheckError> {
    let (spec, lab_zone) = load_dir(dir)?;
    if opts.port.is_none() {
        opts.port = Some(spec.port);
    }
    let lab = Lab::start(spec, &lab_zone).await?;
    if opts.probe.resolver.is_none() {
        opts.probe.resolver = lab.resolver();
    }
    if opts.profile.is_none() && dir.join("profile.toml").exists() {
        opts.profile = Some(dir.join("profile.toml"));
    }
    if opts.root_zone.is_none() {
        opts.root_zone = Some(dir.join("root.zone"));
    }
    let report = check(&opts).await;
    lab.shutdown().await;
    Ok(report?)
}
