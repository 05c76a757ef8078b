//! Addresses of NS hosts that have no glue in the root zone, looked up with
//! hickory-resolver against a configured resolver (or the system's). This
//! is the only use of a recursive resolver in rootguard.

use std::net::{IpAddr, SocketAddr};

use hickory_net::runtime::TokioRuntimeProvider;
use hickory_resolver::Resolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};

/// Resolves NS host names without glue.
#[derive(Clone)]
pub struct HostResolver {
    inner: Option<Resolver<TokioRuntimeProvider>>,
    error: Option<String>,
}

impl std::fmt::Debug for HostResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostResolver")
            .field("ready", &self.inner.is_some())
            .finish()
    }
}

impl HostResolver {
    /// A resolver that asks `server` (host:port), or the system's
    /// configured resolvers when `None`. A resolver that cannot be set up
    /// is kept as an error and reported for every lookup.
    pub fn new(server: Option<SocketAddr>) -> HostResolver {
        let provider = TokioRuntimeProvider::new();
        let built = match server {
            Some(addr) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                ns.connections = vec![udp, tcp];
                Ok(Resolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    provider,
                ))
            }
            None => Resolver::builder(provider),
        }
        .and_then(|b| b.build());
        match built {
            Ok(r) => HostResolver {
                inner: Some(r),
                error: None,
            },
            Err(e) => HostResolver {
                inner: None,
                error: Some(e.to_string()),
            },
        }
    }

    /// The IPv4 and IPv6 addresses of `host`, or why there are none.
    pub async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        let Some(resolver) = &self.inner else {
            return Err(format!(
                "no resolver for hosts without glue: {}",
                self.error.as_deref().unwrap_or("not configured")
            ));
        };
        match resolver.lookup_ip(host).await {
            Ok(found) => {
                let mut addrs: Vec<IpAddr> = found.iter().collect();
                addrs.sort();
                addrs.dedup();
                if addrs.is_empty() {
                    Err(format!("{host} has no address records"))
                } else {
                    Ok(addrs)
                }
            }
            Err(e) => Err(format!("cannot resolve {host}: {e}")),
        }
    }
}
