//! Reading probe replies: authoritative answers, lameness, the records and
//! signatures of an answer.

use bytes::Bytes;
use domain::base::iana::Rtype;
use domain::rdata::{Rrsig, ZoneRecordData};

use crate::probe::{AddressProbe, Reply};
use crate::zone::{Dname, Rr, name_key};

pub(super) fn label(s: &AddressProbe) -> String {
    format!("{} {}", s.host, s.address)
}

pub(super) fn soa_serial(reply: &Reply, apex: &str) -> Option<u32> {
    reply.answer.iter().find_map(|rr| match rr.data() {
        ZoneRecordData::Soa(soa) if name_key(rr.owner()) == apex => Some(soa.serial().into_int()),
        _ => None,
    })
}

/// Whether a SOA/NS reply is an authoritative answer for `apex` of `rtype`.
pub(super) fn authoritative(reply: &Reply, apex: &str, rtype: Rtype) -> bool {
    reply.is_noerror()
        && reply.aa
        && reply
            .answer
            .iter()
            .any(|rr| rr.rtype() == rtype && name_key(rr.owner()) == apex)
}

/// Why a reply is lame, if it is.
pub(super) fn lame_reason(reply: &Reply, apex: &str, rtype: Rtype) -> Option<String> {
    if !reply.is_noerror() {
        return Some(format!("answered {} to {apex} {rtype}", reply.rcode));
    }
    let upward = reply.answer.is_empty()
        && reply.authority.iter().any(|rr| {
            rr.rtype() == Rtype::NS && {
                let owner = name_key(rr.owner());
                owner != apex && (owner == "." || apex.ends_with(&format!(".{owner}")))
            }
        });
    if upward {
        return Some(format!(
            "upward referral instead of an answer to {apex} {rtype}"
        ));
    }
    if !reply.aa {
        return Some(format!("non-authoritative answer (AA=0) to {apex} {rtype}"));
    }
    if !authoritative(reply, apex, rtype) {
        return Some(format!("no {rtype} record for {apex} in the answer"));
    }
    None
}

pub(super) fn soa_reply(s: &AddressProbe) -> Option<&Reply> {
    [&s.soa_udp, &s.soa_tcp]
        .into_iter()
        .filter_map(|e| e.outcome.reply())
        .find(|r| r.is_noerror() && r.aa)
}

pub(super) fn records<'a>(
    reply: &'a Reply,
    apex: &'a str,
    rtype: Rtype,
) -> impl Iterator<Item = &'a Rr> + 'a {
    reply
        .answer
        .iter()
        .filter(move |rr| rr.rtype() == rtype && name_key(rr.owner()) == apex)
}

pub(super) fn rrsigs<'a>(
    reply: &'a Reply,
    covered: Rtype,
) -> impl Iterator<Item = &'a Rrsig<Bytes, Dname>> + 'a {
    reply.answer.iter().filter_map(move |rr| match rr.data() {
        ZoneRecordData::Rrsig(sig) if sig.type_covered() == covered => Some(sig),
        _ => None,
    })
}
