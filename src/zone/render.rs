//! Writing delegations as zone file text. Every record is built as a typed
//! `domain` record (owner name, class, TTL, record data) and printed by the
//! `domain` crate's zone file formatter, never by joining strings, so no
//! text from a change request can add a line or a record to the output.
//! Rule: `docs/RULES.md#change-request-data`.

use std::fmt::Write;
use std::net::IpAddr;
use std::str::FromStr;

use domain::base::iana::{Class, DigestAlgorithm, SecurityAlgorithm};
use domain::base::zonefile_fmt::{DisplayKind, ZonefileFmt};
use domain::base::{Name, Record, Ttl};
use domain::rdata::{A, Aaaa, Ds, Ns};

use super::Delegation;
use super::host::{self, DataError};

/// TTL of NS and glue records in the root zone (two days).
pub const DELEGATION_TTL: u32 = 172_800;
/// TTL of DS records in the root zone (one day).
pub const DS_TTL: u32 = 86_400;

type OwnedName = Name<Vec<u8>>;

/// The owner name of a delegation: the TLD label.
fn owner(tld: &str) -> Result<OwnedName, DataError> {
    let label = super::Tld::parse(tld).map_err(|e| DataError::HostName {
        input: host::quoted(tld),
        reason: e.reason.to_string(),
    })?;
    absolute(&format!("{label}."), tld)
}

/// A name server host name (validated as a host name).
fn host(text: &str) -> Result<OwnedName, DataError> {
    absolute(&host::host_name(text)?, text)
}

fn absolute(key: &str, input: &str) -> Result<OwnedName, DataError> {
    OwnedName::from_str(key).map_err(|e| DataError::HostName {
        input: host::quoted(input),
        reason: e.to_string(),
    })
}

fn line(out: &mut String, record: &impl ZonefileFmt) {
    let _ = writeln!(out, "{}", record.display_zonefile(DisplayKind::Simple));
}

/// Appends the records of one delegation (NS, DS, and the glue of its
/// in-domain NS hosts) to `out`, one record a line. Nothing is appended
/// when any of its data is not valid DNS data.
pub fn delegation(out: &mut String, d: &Delegation) -> Result<(), DataError> {
    let owner = owner(&d.tld)?;
    let mut text = String::new();
    let ttl = Ttl::from_secs(DELEGATION_TTL);
    for ns in &d.ns {
        let rr = Record::new(owner.clone(), Class::IN, ttl, Ns::new(host(ns)?));
        line(&mut text, &rr);
    }
    for ds in &d.ds {
        let ds = host::ds_record(ds)?;
        let digest: Vec<u8> = (0..ds.digest.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&ds.digest[i..i + 2], 16).ok())
            .collect();
        let data = Ds::new(
            ds.key_tag,
            SecurityAlgorithm::from_int(ds.algorithm),
            DigestAlgorithm::from_int(ds.digest_type),
            digest,
        )
        .map_err(|e| DataError::Ds {
            key_tag: ds.key_tag,
            algorithm: ds.algorithm,
            digest_type: ds.digest_type,
            reason: e.to_string(),
        })?;
        line(
            &mut text,
            &Record::new(owner.clone(), Class::IN, Ttl::from_secs(DS_TTL), data),
        );
    }
    for (h, addrs) in &d.glue {
        // Glue is published only for in-domain hosts of the NS set; other
        // entries are ignored before they are judged.
        if !d.ns.contains(h) || !host::in_domain(h, &d.tld) {
            continue;
        }
        let host = host(h)?;
        for addr in addrs {
            match addr {
                IpAddr::V4(a) => line(
                    &mut text,
                    &Record::new(host.clone(), Class::IN, ttl, A::new(*a)),
                ),
                IpAddr::V6(a) => line(
                    &mut text,
                    &Record::new(host.clone(), Class::IN, ttl, Aaaa::new(*a)),
                ),
            }
        }
    }
    out.push_str(&text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::{DsRecord, TldKind};
    use std::collections::BTreeMap;

    fn xa() -> Delegation {
        Delegation {
            tld: "xa".into(),
            kind: TldKind::CountryCode,
            ns: vec!["ns.other.example.".into(), "ns1.xa.".into()],
            glue: BTreeMap::from([
                ("ns1.xa.".into(), vec!["127.0.0.1".parse().unwrap()]),
                (
                    "ns.other.example.".into(),
                    vec!["127.0.0.2".parse().unwrap()],
                ),
            ]),
            ds: vec![DsRecord {
                key_tag: 7,
                algorithm: 15,
                digest_type: 2,
                digest: "ab".repeat(32),
            }],
        }
    }

    #[test]
    fn records_in_presentation_format() {
        let mut out = String::new();
        delegation(&mut out, &xa()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            vec![
                "xa. 172800 IN NS ns.other.example.",
                "xa. 172800 IN NS ns1.xa.",
                &format!("xa. 86400 IN DS 7 15 2 {}", "AB".repeat(32)),
                "ns1.xa. 172800 IN A 127.0.0.1",
            ]
        );
    }

    #[test]
    fn glue_outside_the_ns_set_is_ignored_whatever_it_holds() {
        let mut d = xa();
        d.glue
            .insert("weird_host.example.\nxb. 1 IN NS x.".into(), vec![]);
        let mut out = String::new();
        delegation(&mut out, &d).unwrap();
        assert_eq!(out.lines().count(), 4, "{out}");
    }

    #[test]
    fn invalid_data_writes_nothing() {
        for mutate in [
            |d: &mut Delegation| d.ns.push("ns1.xa.\nxb. 172800 IN NS evil.example.".into()),
            |d: &mut Delegation| d.ds[0].digest.push_str("\nxb. 1 IN NS evil."),
            |d: &mut Delegation| d.tld = "xa.\nxb".into(),
            |d: &mut Delegation| d.ns.push("xc.".into()),
        ] {
            let mut d = xa();
            mutate(&mut d);
            let mut out = String::new();
            assert!(delegation(&mut out, &d).is_err());
            assert!(out.is_empty(), "{out}");
        }
    }
}
