//! Direct, non-recursive queries to a TLD's name servers over UDP and TCP.
//!
//! One [`Prober`] holds one long-lived hickory-net runtime provider (for
//! TCP), a global concurrency limit and the timeouts and retry budget. Every
//! query is sent with RD=0 (unless a check asks for recursion on purpose),
//! EDNS0 and, where DNSSEC matters, the DO bit. UDP queries go out on a
//! connected socket (hickory-proto encodes them), so that an ICMP port
//! unreachable is reported at once as "port unreachable" and only silence
//! waits out the budget. A UDP answer with TC=1 is asked again over TCP
//! (RFC 7766 §5). Replies whose ID or question do not match the query are
//! ignored or never trusted; a reply that cannot be parsed is recorded as
//! malformed.
//!
//! What comes back is an [`Exchange`]: transport, RTT, rcode, the AA, TC and
//! RA flags, and the answer sections as `domain` records for the checks.

pub mod delegation;
pub mod resolve;
pub mod xfr;

use domain::base::iana::OptRcode;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use domain::base::name::FlattenInto;
use domain::base::{Message as DomainMessage, ParsedName};
use domain::rdata::ZoneRecordData;
use futures::StreamExt;
use hickory_net::NetError;
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::tcp::TcpClientStream;
use hickory_net::xfer::DnsHandle;
use hickory_proto::op::{DnsRequest, DnsRequestOptions, Query};
use hickory_proto::rr::{Name, RecordType};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::zone::Rr;

pub use delegation::{AddressProbe, DelegationProbe, probe_delegation};

/// Transport of one query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// UDP (RFC 1035 §4.2.1).
    Udp,
    /// TCP (RFC 7766).
    Tcp,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        })
    }
}

/// Probe settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbeConfig {
    /// Port the name servers listen on (53; a lab uses another).
    pub port: u16,
    /// Total time budget for one UDP query, retries included.
    pub udp_timeout_ms: u64,
    /// UDP retries within that budget.
    pub udp_retries: u8,
    /// Time budget for one TCP query, connection set-up included.
    pub tcp_timeout_ms: u64,
    /// Queries in flight at once, over all servers.
    pub concurrency: usize,
    /// Resolver used only for NS hosts without glue (host:port); `None`
    /// uses the system's resolver configuration.
    pub resolver: Option<SocketAddr>,
    /// Source address of every query (a vantage point binds its own);
    /// `None` lets the system choose.
    pub source: Option<std::net::IpAddr>,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            port: 53,
            udp_timeout_ms: 2000,
            udp_retries: 2,
            tcp_timeout_ms: 3000,
            concurrency: 512,
            resolver: None,
            source: None,
        }
    }
}

impl ProbeConfig {
    /// Refuses a `source` that is not an address of this machine (it could
    /// never send a query: every probe would be a local failure).
    pub fn check_source(&self) -> Result<(), String> {
        match self.source {
            None => Ok(()),
            Some(ip) => std::net::UdpSocket::bind((ip, 0))
                .map(|_| ())
                .map_err(|e| format!("probe.source = {ip} is not an address of this machine: {e}")),
        }
    }
}

/// A reply that was received and parsed.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Response code (RFC 1035 §4.1.1, extended by EDNS, RFC 6891 §6.1.3).
    pub rcode: OptRcode,
    /// Authoritative answer flag.
    pub aa: bool,
    /// Truncation flag.
    pub tc: bool,
    /// Recursion available flag.
    pub ra: bool,
    /// Whether the reply carried an OPT record (EDNS0, RFC 6891).
    pub edns: bool,
    /// Size of the reply in octets.
    pub size: usize,
    /// The question the reply answers (name lower case, type), if any.
    pub question: Option<(String, u16)>,
    /// Answer section.
    pub answer: Vec<Rr>,
    /// Authority section.
    pub authority: Vec<Rr>,
    /// Additional section (without OPT).
    pub additional: Vec<Rr>,
}

impl Reply {
    /// Whether the rcode is NOERROR.
    pub fn is_noerror(&self) -> bool {
        self.rcode == OptRcode::NOERROR
    }
}

/// What became of one query.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// A reply arrived.
    Reply(Box<Reply>),
    /// Nothing usable arrived within the time budget.
    Timeout,
    /// The TCP connection was refused (RST).
    Refused,
    /// A UDP query was answered by ICMP port unreachable: nothing listens
    /// on port 53 there.
    PortUnreachable,
    /// A reply arrived but could not be parsed.
    Malformed(String),
    /// Any other network error.
    Error(String),
    /// A failure of this machine (no descriptor, no buffer, no memory, no
    /// local address): says nothing about the server
    /// (`docs/RULES.md#local-failures`).
    LocalError(String),
}

impl Outcome {
    /// The reply, if one arrived.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Outcome::Reply(r) => Some(r),
            _ => None,
        }
    }

    /// Whether a NOERROR reply arrived.
    pub fn is_noerror(&self) -> bool {
        self.reply().is_some_and(Reply::is_noerror)
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Reply(r) => format!(
                "{}{}{}",
                r.rcode,
                if r.aa { " AA" } else { "" },
                if r.tc { " TC" } else { "" }
            ),
            Outcome::Timeout => "timeout".into(),
            Outcome::Refused => "connection refused".into(),
            Outcome::PortUnreachable => "port unreachable".into(),
            Outcome::Malformed(e) => format!("malformed reply ({e})"),
            Outcome::Error(e) => format!("error ({e})"),
            Outcome::LocalError(e) => format!("local error ({e})"),
        }
    }
}

/// One query and its outcome.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// Server address.
    pub server: SocketAddr,
    /// Query name.
    pub qname: String,
    /// Query type.
    pub qtype: RecordType,
    /// Transport that produced the outcome.
    pub transport: Transport,
    /// Round-trip time in milliseconds (of the final exchange).
    pub rtt_ms: f64,
    /// Whether a UDP reply had TC=1 and this is the TCP re-query.
    pub retried_over_tcp: bool,
    /// What happened.
    pub outcome: Outcome,
}

/// Flags of one query.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueryFlags {
    /// Recursion desired (only the open-recursion check sets it).
    pub rd: bool,
    /// DNSSEC OK.
    pub dnssec_ok: bool,
}

/// Sends queries; cheap to clone.
#[derive(Clone)]
pub struct Prober {
    provider: TokioRuntimeProvider,
    config: Arc<ProbeConfig>,
    limit: Arc<Semaphore>,
}

impl std::fmt::Debug for Prober {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prober")
            .field("config", &self.config)
            .finish()
    }
}

impl Prober {
    /// A prober with one runtime provider and the given settings. Must be
    /// called within a Tokio runtime.
    pub fn new(config: ProbeConfig) -> Prober {
        let permits = config.concurrency.max(1);
        Prober {
            provider: TokioRuntimeProvider::new(),
            config: Arc::new(config),
            limit: Arc::new(Semaphore::new(permits)),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ProbeConfig {
        &self.config
    }

    /// Sends one query; over UDP, a TC=1 reply is asked again over TCP.
    pub async fn query(
        &self,
        server: SocketAddr,
        qname: &str,
        qtype: RecordType,
        transport: Transport,
        flags: QueryFlags,
    ) -> Exchange {
        let first = self
            .query_once(server, qname, qtype, transport, flags)
            .await;
        if transport == Transport::Udp && first.outcome.reply().is_some_and(|r| r.tc) {
            let mut again = self
                .query_once(server, qname, qtype, Transport::Tcp, flags)
                .await;
            again.retried_over_tcp = true;
            return again;
        }
        first
    }

    async fn query_once(
        &self,
        server: SocketAddr,
        qname: &str,
        qtype: RecordType,
        transport: Transport,
        flags: QueryFlags,
    ) -> Exchange {
        let _permit = self.limit.acquire().await;
        let started = Instant::now();
        let outcome = match Name::from_ascii(qname) {
            Ok(name) => self.send(server, name, qtype, transport, flags).await,
            Err(e) => Outcome::Error(format!("bad query name {qname}: {e}")),
        };
        let outcome = check_question(outcome, qname, qtype);
        Exchange {
            server,
            qname: qname.to_string(),
            qtype,
            transport,
            rtt_ms: started.elapsed().as_secs_f64() * 1000.0,
            retried_over_tcp: false,
            outcome,
        }
    }

    async fn send(
        &self,
        server: SocketAddr,
        name: Name,
        qtype: RecordType,
        transport: Transport,
        flags: QueryFlags,
    ) -> Outcome {
        match transport {
            Transport::Udp => {
                let budget = Duration::from_millis(self.config.udp_timeout_ms);
                let interval = Duration::from_millis(
                    (self.config.udp_timeout_ms / (u64::from(self.config.udp_retries) + 1)).max(50),
                );
                let mut msg = hickory_proto::op::Message::query();
                msg.metadata.recursion_desired = flags.rd;
                let asked = (crate::zone::fqdn(&name.to_ascii()), u16::from(qtype));
                msg.add_query(Query::query(name, qtype));
                let mut edns = hickory_proto::op::Edns::new();
                edns.set_max_payload(1232).set_dnssec_ok(flags.dnssec_ok);
                msg.set_edns(edns);
                let id = msg.metadata.id;
                match msg.to_vec() {
                    Ok(wire) => {
                        udp_exchange(
                            server,
                            self.config.source,
                            &wire,
                            (id, &asked),
                            interval,
                            tokio::time::Instant::now() + budget,
                        )
                        .await
                    }
                    Err(e) => Outcome::Error(format!("cannot encode the query: {e}")),
                }
            }
            Transport::Tcp => {
                let mut options = DnsRequestOptions::default();
                options.recursion_desired = flags.rd;
                options.use_edns = true;
                options.edns_payload_len = 1232;
                options.edns_set_dnssec_ok = flags.dnssec_ok;
                let request = DnsRequest::from_query(Query::query(name, qtype), options);
                let budget = Duration::from_millis(self.config.tcp_timeout_ms);
                let work = async {
                    let exchange = match TcpClientStream::exchange(
                        server,
                        self.config
                            .source
                            .filter(|a| a.is_ipv4() == server.is_ipv4())
                            .map(|a| SocketAddr::new(a, 0)),
                        budget,
                        Some(8),
                        self.provider.clone(),
                    )
                    .await
                    {
                        Ok(e) => e,
                        Err(e) => return classify(Err(e)),
                    };
                    let mut stream = exchange.send(request);
                    match stream.next().await {
                        Some(result) => classify(result),
                        // hickory-net ends the stream without an item on timeout.
                        None => Outcome::Timeout,
                    }
                };
                tokio::time::timeout(budget, work)
                    .await
                    .unwrap_or(Outcome::Timeout)
            }
        }
    }
}

/// One UDP query on a connected socket (RFC 1035 §4.2.1), resent every
/// `interval` until the caller's budget ends. A connected socket receives
/// only the server's datagrams, and sees an ICMP port unreachable as
/// ECONNREFUSED: reported at once as [`Outcome::PortUnreachable`], where an
/// unconnected socket would wait out the budget. Datagrams with another
/// message ID or for another question (`asked`: name key and type) are
/// ignored while the real reply is awaited (RFC 5452 §9.1).
async fn udp_exchange(
    server: SocketAddr,
    source: Option<std::net::IpAddr>,
    wire: &[u8],
    (id, asked): (u16, &(String, u16)),
    interval: Duration,
    budget_end: tokio::time::Instant,
) -> Outcome {
    let local: SocketAddr = match source.filter(|a| a.is_ipv4() == server.is_ipv4()) {
        Some(a) => SocketAddr::new(a, 0),
        None if server.is_ipv4() => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        None => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = match tokio::net::UdpSocket::bind(local).await {
        Ok(s) => s,
        Err(e) => return Outcome::LocalError(format!("cannot open a UDP socket: {e}")),
    };
    if let Err(e) = socket.connect(server).await {
        return udp_error(e);
    }
    // We advertise 1232 octets (EDNS0); a larger datagram is cut and
    // fails to parse, which is what it deserves.
    let mut buf = vec![0u8; 4096];
    // The last unparsable datagram with our ID, reported if nothing better
    // arrives within the budget.
    let mut malformed: Option<String> = None;
    loop {
        if tokio::time::Instant::now() >= budget_end {
            return malformed.map_or(Outcome::Timeout, Outcome::Malformed);
        }
        if let Err(e) = socket.send(wire).await {
            return udp_error(e);
        }
        let deadline = (tokio::time::Instant::now() + interval).min(budget_end);
        loop {
            match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
                // Resend after the interval.
                Err(_) => break,
                Ok(Err(e)) => return udp_error(e),
                // Ours: the ID, and QR=1 (not an echo of the query).
                Ok(Ok(n))
                    if n >= 3
                        && u16::from_be_bytes([buf[0], buf[1]]) == id
                        && buf[2] & 0x80 != 0 =>
                {
                    match parse_reply(&buf[..n]) {
                        Outcome::Reply(r) if r.question.as_ref() == Some(asked) => {
                            return Outcome::Reply(r);
                        }
                        // Another question: a forgery or a stray; keep listening.
                        Outcome::Reply(_) => continue,
                        Outcome::Malformed(e) => {
                            malformed = Some(e);
                            continue;
                        }
                        other => return other,
                    }
                }
                // A datagram with another ID (or too short): not ours.
                Ok(Ok(_)) => continue,
            }
        }
    }
}

fn udp_error(e: std::io::Error) -> Outcome {
    if is_local(&e) {
        Outcome::LocalError(e.to_string())
    } else if e.kind() == std::io::ErrorKind::ConnectionRefused {
        Outcome::PortUnreachable
    } else {
        Outcome::Error(e.to_string())
    }
}

/// Refuses a reply whose question is not the one asked (RFC 5452 §4.1):
/// [`udp_exchange`] already ignores such datagrams and waits on; over TCP
/// hickory-net matches by ID alone, so the question is checked here for
/// every transport.
fn check_question(outcome: Outcome, qname: &str, qtype: RecordType) -> Outcome {
    let Outcome::Reply(reply) = &outcome else {
        return outcome;
    };
    let asked = (crate::zone::fqdn(qname), u16::from(qtype));
    match &reply.question {
        Some(q) if *q == asked => outcome,
        Some((name, t)) => Outcome::Error(format!(
            "reply for another question ({name} type {t}), not trusted"
        )),
        None => Outcome::Error("reply without a question section, not trusted".into()),
    }
}

/// Whether an I/O error is a failure of this machine rather than of the
/// network or the server: out of descriptors (EMFILE, ENFILE), buffers
/// (ENOBUFS), memory (ENOMEM) or local addresses (EADDRNOTAVAIL).
/// Not ENETUNREACH: an ICMP net unreachable from a router on the path
/// gives it too, so it may be the network's doing.
pub fn is_local(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 | 24 | 105 | 12 | 99))
        || e.kind() == std::io::ErrorKind::OutOfMemory
}

fn classify(result: Result<hickory_proto::op::DnsResponse, NetError>) -> Outcome {
    match result {
        Ok(response) => parse_reply(response.as_buffer()),
        Err(NetError::Timeout) => Outcome::Timeout,
        Err(NetError::Io(e)) if is_local(&e) => Outcome::LocalError(e.to_string()),
        Err(NetError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Outcome::Refused
        }
        Err(NetError::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut => Outcome::Timeout,
        Err(NetError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Outcome::Error("connection closed without a reply".into())
        }
        Err(e @ NetError::Proto(_)) => Outcome::Malformed(e.to_string()),
        Err(e) => Outcome::Error(e.to_string()),
    }
}

/// Parses a reply's wire form into a [`Reply`] with `domain` records.
pub fn parse_reply(wire: &[u8]) -> Outcome {
    let msg = match DomainMessage::from_octets(Bytes::copy_from_slice(wire)) {
        Ok(m) => m,
        Err(e) => return Outcome::Malformed(e.to_string()),
    };
    let header = msg.header();
    let mut reply = Reply {
        rcode: msg.opt_rcode(),
        aa: header.aa(),
        tc: header.tc(),
        ra: header.ra(),
        edns: msg.opt().is_some(),
        size: wire.len(),
        question: msg
            .first_question()
            .map(|q| (crate::zone::name_key(q.qname()), q.qtype().to_int())),
        answer: Vec::new(),
        authority: Vec::new(),
        additional: Vec::new(),
    };
    let sections = match msg.sections() {
        Ok(s) => s,
        Err(e) => return Outcome::Malformed(e.to_string()),
    };
    let (_q, answer, authority, additional) = sections;
    for (section, out) in [
        (answer, &mut reply.answer),
        (authority, &mut reply.authority),
        (additional, &mut reply.additional),
    ] {
        for rr in section {
            let rr = match rr {
                Ok(rr) => rr,
                Err(e) => return Outcome::Malformed(e.to_string()),
            };
            if rr.rtype() == domain::base::iana::Rtype::OPT {
                continue;
            }
            match rr.into_record::<ZoneRecordData<Bytes, ParsedName<Bytes>>>() {
                Ok(Some(record)) => out.push(record.flatten_into()),
                Ok(None) => {}
                Err(e) => return Outcome::Malformed(e.to_string()),
            }
        }
    }
    Outcome::Reply(Box::new(reply))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Message, OpCode};

    fn reply_for(name: &str, qtype: RecordType) -> Outcome {
        let mut msg = Message::response(7, OpCode::Query);
        msg.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
        parse_reply(&msg.to_vec().unwrap())
    }

    #[test]
    fn replies_for_another_question_are_not_trusted() {
        let ok = check_question(reply_for("XA.", RecordType::SOA), "xa.", RecordType::SOA);
        assert!(ok.reply().is_some());
        let other = check_question(
            reply_for("poison.xa.", RecordType::SOA),
            "xa.",
            RecordType::SOA,
        );
        assert!(
            matches!(&other, Outcome::Error(e) if e.contains("not trusted")),
            "{other:?}"
        );
        let wrong_type = check_question(reply_for("xa.", RecordType::NS), "xa.", RecordType::SOA);
        assert!(wrong_type.reply().is_none());
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(matches!(parse_reply(&[1, 2, 3]), Outcome::Malformed(_)));
    }

    /// A port nobody listens on answers with ICMP port unreachable: the
    /// probe says so at once, not after the UDP budget; a bound but silent
    /// socket is a real timeout; datagrams with another ID, for another
    /// question, without QR or unparsable are ignored while the real reply
    /// is awaited.
    #[tokio::test]
    async fn port_unreachable_is_reported_at_once_and_silence_is_a_timeout() {
        let prober = Prober::new(ProbeConfig {
            udp_timeout_ms: 1500,
            ..ProbeConfig::default()
        });
        let flags = QueryFlags::default();
        let free = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let closed = free.local_addr().unwrap();
        drop(free);
        let e = prober
            .query(closed, "xa.", RecordType::SOA, Transport::Udp, flags)
            .await;
        assert!(
            matches!(e.outcome, Outcome::PortUnreachable),
            "{:?}",
            e.outcome
        );
        assert!(e.rtt_ms < 500.0, "{} ms", e.rtt_ms);
        assert_eq!(e.outcome.describe(), "port unreachable");

        let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let e = prober
            .query(
                silent.local_addr().unwrap(),
                "xa.",
                RecordType::SOA,
                Transport::Udp,
                flags,
            )
            .await;
        assert!(matches!(e.outcome, Outcome::Timeout), "{:?}", e.outcome);
        assert!(e.rtt_ms >= 1400.0, "{} ms", e.rtt_ms);

        // A server that first sends a datagram with a wrong ID, then the reply.
        let server = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            let query = hickory_proto::op::Message::from_vec(&buf[..n]).unwrap();
            let mut reply = hickory_proto::op::Message::response(query.id, OpCode::Query);
            reply.add_queries(query.queries.clone());
            reply.metadata.authoritative = true;
            let mut spoof = reply.clone();
            spoof.metadata.id = query.id.wrapping_add(1);
            spoof.metadata.response_code = hickory_proto::op::ResponseCode::NXDomain;
            // The right ID for another question: a forgery that guessed the ID.
            let mut forged = hickory_proto::op::Message::response(query.id, OpCode::Query);
            forged.add_query(Query::query(
                Name::from_ascii("poison.xa.").unwrap(),
                RecordType::SOA,
            ));
            let id = query.id.to_be_bytes();
            let garbage = [id[0], id[1], 0x80, 0xff];
            // Then the query echoed back (QR=0), garbage with the right ID,
            // and at last the reply.
            for datagram in [
                spoof.to_vec().unwrap(),
                forged.to_vec().unwrap(),
                buf[..n].to_vec(),
                garbage.to_vec(),
                reply.to_vec().unwrap(),
            ] {
                server.send_to(&datagram, from).await.unwrap();
            }
        });
        let e = prober
            .query(addr, "xa.", RecordType::SOA, Transport::Udp, flags)
            .await;
        let reply = e.outcome.reply().expect("the real reply");
        assert!(reply.is_noerror() && reply.aa, "{:?}", e.outcome);
    }
}
