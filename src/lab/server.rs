//! The lab's authoritative name server: a hickory-server `RequestHandler`
//! that answers from in-memory child zones and injects the faults of
//! [`Faults`](super::spec::Faults) (silence, REFUSED/SERVFAIL, AA=0, serial
//! drift, TC=1, malformed replies, spoofed IDs or questions, upward
//! referrals, no EDNS, open recursion, delays, other NS sets or addresses).
//! The same handler, given a host table, is the lab's resolver for NS hosts
//! without glue.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hickory_net::xfer::Protocol;
use hickory_proto::op::{Edns, Header, HeaderCounts, LowerQuery, Metadata, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, NS, NULL, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, BinEncodable, BinEncoder};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::{MessageResponseBuilder, Queries};

use super::spec::Faults;
use crate::zone::Rr;

/// One child zone as the lab serves it.
#[derive(Debug, Default)]
pub struct ChildZone {
    /// Apex, lower case with trailing dot.
    pub apex: String,
    /// RRsets by (owner, type).
    pub rrsets: HashMap<(String, RecordType), Vec<Record>>,
    /// RRSIGs by (owner, covered type).
    pub rrsigs: HashMap<(String, RecordType), Vec<Record>>,
    /// Owner names that exist.
    pub names: HashSet<String>,
}

impl ChildZone {
    /// Builds a zone from `domain` records (RRSIGs included).
    pub fn from_records(apex: &str, records: &[Rr]) -> ChildZone {
        let mut zone = ChildZone {
            apex: apex.to_string(),
            ..Default::default()
        };
        for rr in records {
            let Some(record) = to_hickory(rr) else {
                continue;
            };
            let owner = lower(&record.name);
            zone.names.insert(owner.clone());
            if let RData::DNSSEC(hickory_proto::dnssec::rdata::DNSSECRData::RRSIG(sig)) =
                &record.data
            {
                let covered = sig.input().type_covered;
                zone.rrsigs
                    .entry((owner, covered))
                    .or_default()
                    .push(record);
            } else {
                let rtype = record.record_type();
                zone.rrsets.entry((owner, rtype)).or_default().push(record);
            }
        }
        zone
    }
}

/// Converts a `domain` record to a hickory record through its wire form.
pub fn to_hickory(rr: &Rr) -> Option<Record> {
    let mut buf: Vec<u8> = Vec::new();
    rr.compose(&mut buf).ok()?;
    let mut decoder = BinDecoder::new(&buf);
    Record::read(&mut decoder).ok()
}

fn lower(name: &Name) -> String {
    let mut s = name.to_ascii().to_ascii_lowercase();
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// A child zone that can be replaced while serving (a key roll).
pub type ZoneSlot = Arc<RwLock<Arc<ChildZone>>>;

/// The request handler of one lab address.
pub struct LabHandler {
    /// Zones served at this address.
    pub zones: Vec<ZoneSlot>,
    /// Faults, changeable while serving.
    pub faults: Arc<RwLock<Faults>>,
    /// When set, this handler is the lab resolver answering for these hosts.
    pub hosts: Option<Arc<HashMap<String, Vec<IpAddr>>>>,
}

impl LabHandler {
    fn zone_for(&self, qname: &str) -> Option<Arc<ChildZone>> {
        self.zones
            .iter()
            .map(|slot| match slot.read() {
                Ok(z) => z.clone(),
                Err(p) => p.into_inner().clone(),
            })
            .filter(|z| qname == z.apex || qname.ends_with(&format!(".{}", z.apex)))
            .max_by_key(|z| z.apex.len())
    }
}

/// What to put in a reply.
#[derive(Default)]
struct Answer {
    rcode: Option<ResponseCode>,
    aa: bool,
    ra: bool,
    tc: bool,
    answers: Vec<Record>,
    authorities: Vec<Record>,
    additionals: Vec<Record>,
}

fn header_info(request: &Request) -> ResponseInfo {
    ResponseInfo::from(Header {
        metadata: Metadata::response_from_request(&request.metadata),
        counts: HeaderCounts::default(),
    })
}

fn parse_rcode(s: &str) -> ResponseCode {
    match s.to_ascii_uppercase().as_str() {
        "SERVFAIL" => ResponseCode::ServFail,
        "REFUSED" => ResponseCode::Refused,
        "NXDOMAIN" => ResponseCode::NXDomain,
        "FORMERR" => ResponseCode::FormErr,
        "NOTIMP" => ResponseCode::NotImp,
        _ => ResponseCode::ServFail,
    }
}

impl LabHandler {
    fn answer(&self, query: &LowerQuery, rd: bool, dnssec: bool, faults: &Faults) -> Answer {
        let qname = lower(query.original().name());
        let qtype = query.query_type();
        if let Some(hosts) = &self.hosts {
            let mut out = Answer {
                ra: true,
                ..Default::default()
            };
            match hosts.get(&qname) {
                Some(addrs) => {
                    for a in addrs {
                        let rdata = match (a, qtype) {
                            (IpAddr::V4(v4), RecordType::A) => RData::A(A(*v4)),
                            (IpAddr::V6(v6), RecordType::AAAA) => RData::AAAA(AAAA(*v6)),
                            _ => continue,
                        };
                        out.answers.push(Record::from_rdata(
                            query.original().name().clone(),
                            300,
                            rdata,
                        ));
                    }
                }
                None => out.rcode = Some(ResponseCode::NXDomain),
            }
            return out;
        }
        if let Some(rcode) = &faults.rcode {
            return Answer {
                rcode: Some(parse_rcode(rcode)),
                ..Default::default()
            };
        }
        let Some(zone) = self.zone_for(&qname) else {
            if rd && faults.open_recursion {
                let root = Name::root();
                let soa = SOA::new(
                    Name::from_ascii("a.root-servers.net.").unwrap_or_else(|_| root.clone()),
                    Name::from_ascii("nstld.verisign-grs.com.").unwrap_or_else(|_| root.clone()),
                    1,
                    1800,
                    900,
                    604800,
                    86400,
                );
                return Answer {
                    ra: true,
                    answers: vec![Record::from_rdata(root, 86400, RData::SOA(soa))],
                    ..Default::default()
                };
            }
            return Answer {
                rcode: Some(ResponseCode::Refused),
                ..Default::default()
            };
        };
        if faults.upward_referral {
            let mut out = Answer::default();
            if let Ok(root_ns) = Name::from_ascii("a.root-servers.net.") {
                out.authorities.push(Record::from_rdata(
                    Name::root(),
                    518400,
                    RData::NS(NS(root_ns)),
                ));
            }
            return out;
        }
        let mut out = Answer {
            aa: !faults.not_authoritative,
            ..Default::default()
        };
        let key = (qname.clone(), qtype);
        let with_sigs =
            |out: &mut Vec<Record>, key: &(String, RecordType), records: Vec<Record>| {
                out.extend(records);
                if dnssec && let Some(sigs) = zone.rrsigs.get(key) {
                    out.extend(sigs.iter().cloned());
                }
            };
        let mut records: Option<Vec<Record>> = zone.rrsets.get(&key).cloned();
        if qtype == RecordType::NS
            && qname == zone.apex
            && let Some(ns) = &faults.ns
        {
            records = Some(
                ns.iter()
                    .filter_map(|n| Name::from_ascii(n).ok())
                    .map(|n| {
                        Record::from_rdata(query.original().name().clone(), 3600, RData::NS(NS(n)))
                    })
                    .collect(),
            );
        }
        if let (Some(addr), Some(recs)) = (faults.host_address, records.as_mut()) {
            for r in recs.iter_mut() {
                match (addr, &r.data) {
                    (IpAddr::V4(v4), RData::A(_)) => r.data = RData::A(A(v4)),
                    (IpAddr::V6(v6), RData::AAAA(_)) => r.data = RData::AAAA(AAAA(v6)),
                    _ => {}
                }
            }
        }
        if faults.serial_offset != 0
            && let Some(recs) = records.as_mut()
        {
            for r in recs.iter_mut() {
                if let RData::SOA(soa) = &mut r.data {
                    soa.serial = soa.serial.wrapping_add(faults.serial_offset);
                }
            }
        }
        match records {
            Some(recs) => with_sigs(&mut out.answers, &key, recs),
            None => {
                if !zone.names.contains(&qname) {
                    out.rcode = Some(ResponseCode::NXDomain);
                }
                let soa_key = (zone.apex.clone(), RecordType::SOA);
                if let Some(soa) = zone.rrsets.get(&soa_key) {
                    with_sigs(&mut out.authorities, &soa_key, soa.clone());
                }
            }
        }
        out
    }
}

#[async_trait::async_trait]
impl RequestHandler for LabHandler {
    async fn handle_request<R: ResponseHandler, T: hickory_net::runtime::Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let faults = match self.faults.read() {
            Ok(f) => f.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if faults.silent || faults.drop_from.contains(&request.src().ip()) {
            return header_info(request);
        }
        if faults.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.delay_ms)).await;
        }
        let Ok(info) = request.request_info() else {
            let response = MessageResponseBuilder::new(&request.queries, None)
                .error_msg(&request.metadata, ResponseCode::FormErr);
            return response_handle
                .send_response(response)
                .await
                .unwrap_or_else(|_| header_info(request));
        };
        let query = info.query.clone();
        let dnssec = request.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok);
        let edns = match (&request.edns, faults.no_edns) {
            (Some(req), false) => {
                let mut e = Edns::new();
                e.set_max_payload(1232).set_dnssec_ok(req.flags().dnssec_ok);
                Some(e)
            }
            _ => None,
        };
        let ans = self.answer(&query, request.metadata.recursion_desired, dnssec, &faults);
        let mut meta = Metadata::response_from_request(&request.metadata);
        meta.authoritative = ans.aa;
        // An open resolver says so on every reply, as a recursive server does.
        meta.recursion_available = ans.ra || faults.open_recursion;
        if let Some(rcode) = ans.rcode {
            meta.response_code = rcode;
        }

        let udp = request.protocol() == Protocol::Udp;
        // A forged reply racing the real one is an attack on UDP; over TCP
        // the server itself would be broken, so spoofing is UDP only.
        if udp && (faults.spoof_id || faults.spoof_question) {
            let mut spoof = meta;
            spoof.response_code = ResponseCode::NXDomain;
            spoof.authoritative = true;
            let other;
            let queries = if faults.spoof_question {
                let name = Name::from_ascii(format!("poison.{}", query.original().name()))
                    .unwrap_or_else(|_| Name::root());
                let mut encoded = Vec::new();
                let _ =
                    Query::query(name, query.query_type()).emit(&mut BinEncoder::new(&mut encoded));
                match Queries::read(&mut BinDecoder::new(&encoded), 1) {
                    Ok(q) => {
                        other = q;
                        &other
                    }
                    Err(_) => &request.queries,
                }
            } else {
                spoof.id = spoof.id.wrapping_add(0x5555);
                &request.queries
            };
            let response =
                MessageResponseBuilder::new(queries, edns.as_ref()).build_no_records(spoof);
            let _ = response_handle.clone().send_response(response).await;
        }

        let malformed;
        let empty: Vec<Record> = Vec::new();
        let (answers, authorities, additionals) = if faults.malformed {
            malformed = vec![Record::from_rdata(
                query.original().name().clone(),
                300,
                RData::Unknown {
                    code: RecordType::A,
                    rdata: NULL::with(vec![1, 2, 3]),
                },
            )];
            (&malformed, &empty, &empty)
        } else if faults.truncate_udp && udp {
            meta.truncation = true;
            (&empty, &empty, &empty)
        } else {
            (&ans.answers, &ans.authorities, &ans.additionals)
        };
        let _ = ans.tc;
        let response = MessageResponseBuilder::new(&request.queries, edns.as_ref()).build(
            meta,
            answers.iter(),
            authorities.iter(),
            std::iter::empty(),
            additionals.iter(),
        );
        response_handle
            .send_response(response)
            .await
            .unwrap_or_else(|_| header_info(request))
    }
}
