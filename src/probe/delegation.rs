//! Probing one TLD's delegation: every address of every NS host is asked,
//! all at once, for the TLD's SOA over UDP and TCP, its NS set, its DNSKEY
//! set (when the root holds DS for it), the host's own address records (for
//! in-bailiwick hosts, to compare with glue), and one recursive query to
//! detect open recursion. Because everything runs concurrently, a silent
//! server costs one timeout, not a sum of timeouts.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use futures::future::join_all;
use hickory_proto::rr::RecordType;

use super::resolve::HostResolver;
use super::{Exchange, Prober, QueryFlags, Transport};
use crate::zone::Delegation;

/// Everything asked of one address of one NS host.
#[derive(Clone, Debug)]
pub struct AddressProbe {
    /// NS host name.
    pub host: String,
    /// The address probed.
    pub address: IpAddr,
    /// Whether the address came from glue (otherwise from the resolver).
    pub from_glue: bool,
    /// SOA over UDP.
    pub soa_udp: Exchange,
    /// SOA over TCP.
    pub soa_tcp: Exchange,
    /// NS over UDP.
    pub ns: Exchange,
    /// DNSKEY over UDP with DO (only when the TLD has DS).
    pub dnskey: Option<Exchange>,
    /// A and AAAA of the host itself (only for in-bailiwick hosts).
    pub host_addresses: Vec<Exchange>,
    /// `. SOA` with RD=1, to detect open recursion.
    pub recursion: Exchange,
}

/// The probe of one TLD's delegation.
#[derive(Clone, Debug)]
pub struct DelegationProbe {
    /// The delegation as published in the root zone.
    pub delegation: Delegation,
    /// NS hosts for which no address could be found, with the reason.
    pub unresolved: Vec<(String, String)>,
    /// Addresses probed.
    pub servers: Vec<AddressProbe>,
    /// Wall time of the whole probe in milliseconds.
    pub elapsed_ms: f64,
}

impl DelegationProbe {
    /// The first failure of this machine met while probing, if any
    /// (`docs/RULES.md#local-failures`): the probe then says nothing about
    /// the ccTLD.
    pub fn local_error(&self) -> Option<String> {
        self.servers.iter().find_map(|s| {
            [&s.soa_udp, &s.soa_tcp, &s.ns, &s.recursion]
                .into_iter()
                .chain(s.dnskey.as_ref())
                .chain(&s.host_addresses)
                .find_map(|e| match &e.outcome {
                    super::Outcome::LocalError(m) => Some(format!("{} {}: {m}", s.host, s.address)),
                    _ => None,
                })
        })
    }
}

/// Probes every address of every NS host of `delegation` concurrently.
pub async fn probe_delegation(
    prober: &Prober,
    resolver: &HostResolver,
    delegation: &Delegation,
) -> DelegationProbe {
    let started = Instant::now();
    let lookups = delegation.ns.iter().map(|host| async move {
        let glue = delegation.glue_of(host);
        if !glue.is_empty() {
            (host.clone(), Ok((glue.to_vec(), true)))
        } else {
            (
                host.clone(),
                resolver.lookup(host).await.map(|a| (a, false)),
            )
        }
    });
    let mut targets = Vec::new();
    let mut unresolved = Vec::new();
    for (host, result) in join_all(lookups).await {
        match result {
            Ok((addrs, from_glue)) => {
                for a in addrs {
                    targets.push((host.clone(), a, from_glue));
                }
            }
            Err(reason) => unresolved.push((host, reason)),
        }
    }
    let has_ds = !delegation.ds.is_empty();
    let apex = format!("{}.", delegation.tld);
    let port = prober.config().port;
    let probes = targets.into_iter().map(|(host, address, from_glue)| {
        let apex = apex.clone();
        async move {
            let server = SocketAddr::new(address, port);
            let dnssec = QueryFlags {
                rd: false,
                dnssec_ok: has_ds,
            };
            let plain = QueryFlags::default();
            let in_bailiwick = delegation.in_bailiwick(&host);
            let host_queries = async {
                if in_bailiwick {
                    let (a, aaaa) = futures::join!(
                        prober.query(server, &host, RecordType::A, Transport::Udp, plain),
                        prober.query(server, &host, RecordType::AAAA, Transport::Udp, plain)
                    );
                    vec![a, aaaa]
                } else {
                    Vec::new()
                }
            };
            let dnskey = async {
                if has_ds {
                    Some(
                        prober
                            .query(server, &apex, RecordType::DNSKEY, Transport::Udp, dnssec)
                            .await,
                    )
                } else {
                    None
                }
            };
            let (soa_udp, soa_tcp, ns, dnskey, host_addresses, recursion) = futures::join!(
                prober.query(server, &apex, RecordType::SOA, Transport::Udp, dnssec),
                prober.query(server, &apex, RecordType::SOA, Transport::Tcp, dnssec),
                prober.query(server, &apex, RecordType::NS, Transport::Udp, plain),
                dnskey,
                host_queries,
                prober.query(
                    server,
                    ".",
                    RecordType::SOA,
                    Transport::Udp,
                    QueryFlags {
                        rd: true,
                        dnssec_ok: false
                    }
                ),
            );
            AddressProbe {
                host,
                address,
                from_glue,
                soa_udp,
                soa_tcp,
                ns,
                dnskey,
                host_addresses,
                recursion,
            }
        }
    });
    let servers = join_all(probes).await;
    DelegationProbe {
        delegation: delegation.clone(),
        unresolved,
        servers,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}
