//! Zone transfer (AXFR, RFC 5936) of the root zone over TCP with
//! hickory-net, for the daemon's `zone.axfr` source. Each message's records
//! are parsed into `domain` records, so that the transferred zone is
//! verified exactly like a zone file.

use std::net::SocketAddr;
use std::time::Duration;

use futures::StreamExt;
use hickory_net::client::{Client, ClientHandle};
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::tcp::TcpClientStream;
use hickory_proto::rr::Name;

use super::{Outcome, parse_reply};
use crate::zone::{Rr, Zone};

/// Why a zone transfer failed.
#[derive(Debug, thiserror::Error)]
#[error("AXFR from {server}: {reason}")]
pub struct TransferError {
    /// The server.
    pub server: SocketAddr,
    /// What went wrong.
    pub reason: String,
}

/// Transfers the root zone from `server`; the closing SOA is dropped.
pub async fn axfr_root(
    server: SocketAddr,
    timeout: Duration,
    limits: crate::zone::ZoneLimits,
) -> Result<Zone, TransferError> {
    let fail = |reason: String| TransferError { server, reason };
    let work = async {
        let provider = TokioRuntimeProvider::new();
        let (connect, sender) = TcpClientStream::new(server, None, Some(timeout), provider);
        let stream = connect
            .await
            .map_err(|e| fail(format!("cannot connect: {e}")))?;
        let (mut client, background) = Client::<TokioRuntimeProvider>::new(stream, sender);
        tokio::spawn(background);
        let mut responses = client.zone_transfer(Name::root(), None);
        let mut records: Vec<Rr> = Vec::new();
        while let Some(response) = responses.next().await {
            let response = response.map_err(|e| fail(e.to_string()))?;
            match parse_reply(response.as_buffer()) {
                Outcome::Reply(reply) if reply.is_noerror() => {
                    records.extend(reply.answer);
                    if records.len() > limits.max_records {
                        return Err(fail(format!(
                            "more than {} records (zone.max_records; docs/RULES.md#input-limits)",
                            limits.max_records
                        )));
                    }
                }
                Outcome::Reply(reply) => {
                    return Err(fail(format!("refused with {}", reply.rcode)));
                }
                other => return Err(fail(other.describe())),
            }
        }
        // The transfer ends with the SOA it began with (RFC 5936 §2.2).
        if records.len() > 1
            && records.last().map(|r| r.rtype()) == Some(domain::base::iana::Rtype::SOA)
        {
            records.pop();
        }
        let name = format!("AXFR from {server}");
        tokio::task::spawn_blocking(move || Zone::from_records(records, &name))
            .await
            .map_err(|e| fail(e.to_string()))?
            .map_err(|e| fail(e.to_string()))
    };
    tokio::time::timeout(timeout * 20, work)
        .await
        .unwrap_or_else(|_| Err(fail("timed out".into())))
}
