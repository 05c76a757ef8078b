//! Lab DNSSEC keys and signatures: deterministic Ed25519 keys (RFC 8080)
//! derived from the TLD and a key generation number, so that a committed
//! lab root zone's DS stays valid, and a rolled key (a new generation) makes
//! the DS bogus on purpose.

use bytes::Bytes;
use domain::base::iana::{Class, DigestAlgorithm, Rtype, SecurityAlgorithm};
use domain::base::{Record, Ttl};
use domain::rdata::dnssec::Timestamp;
use domain::rdata::{Dnskey, Rrsig, ZoneRecordData};
use ring::signature::{Ed25519KeyPair, KeyPair};

use crate::zone::index::hex_upper;
use crate::zone::verify::{ds_digest, signed_data};
use crate::zone::{Dname, DsRecord, Rr};

/// A lab signing key (a CSK: flags 257, signs every RRset).
pub struct LabKey {
    pair: Ed25519KeyPair,
    owner: Dname,
    dnskey: Dnskey<Bytes>,
}

impl std::fmt::Debug for LabKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LabKey({} tag {})", self.owner, self.dnskey.key_tag())
    }
}

impl LabKey {
    /// The key of `tld` (label, no dot) at `generation`.
    pub fn derive(tld: &str, generation: u32) -> LabKey {
        let seed = ring::digest::digest(
            &ring::digest::SHA256,
            format!(
                "rootguard lab key|{}|{generation}",
                tld.to_ascii_lowercase()
            )
            .as_bytes(),
        );
        let pair = Ed25519KeyPair::from_seed_unchecked(seed.as_ref()).expect("32-byte seed");
        let dnskey = Dnskey::new(
            257,
            3,
            SecurityAlgorithm::ED25519,
            Bytes::copy_from_slice(pair.public_key().as_ref()),
        )
        .expect("Ed25519 key fits");
        let owner: Dname = format!("{}.", tld.trim_end_matches('.'))
            .parse()
            .expect("TLD label is a valid name");
        LabKey {
            pair,
            owner,
            dnskey,
        }
    }

    /// The key tag.
    pub fn key_tag(&self) -> u16 {
        self.dnskey.key_tag()
    }

    /// The DNSKEY record.
    pub fn dnskey_rr(&self, ttl: u32) -> Rr {
        Record::new(
            self.owner.clone(),
            Class::IN,
            Ttl::from_secs(ttl),
            ZoneRecordData::Dnskey(self.dnskey.clone()),
        )
    }

    /// The SHA-256 DS for this key (RFC 4509).
    pub fn ds(&self) -> DsRecord {
        self.ds_with(2)
    }

    /// The DS of this key with digest type `digest_type` (1 SHA-1, 2
    /// SHA-256, 4 SHA-384; any other gives an empty digest, for tests of
    /// DS records nobody can match).
    pub fn ds_with(&self, digest_type: u8) -> DsRecord {
        let digest = ds_digest(
            &self.owner,
            &self.dnskey,
            DigestAlgorithm::from_int(digest_type),
        )
        .unwrap_or_default();
        DsRecord {
            key_tag: self.key_tag(),
            algorithm: SecurityAlgorithm::ED25519.to_int(),
            digest_type,
            digest: hex_upper(&digest),
        }
    }

    /// Signs `rrset` (one owner and type), valid from `inception` to
    /// `expiration` (Unix seconds).
    pub fn sign(&self, rrset: &[&Rr], inception: u32, expiration: u32) -> Option<Rr> {
        let first = rrset.first()?;
        let labels = (first.owner().label_count() - 1) as u8;
        let rrsig = |signature: Bytes| {
            Rrsig::new(
                first.rtype(),
                SecurityAlgorithm::ED25519,
                labels,
                first.ttl(),
                Timestamp::from(expiration),
                Timestamp::from(inception),
                self.key_tag(),
                self.owner.clone(),
                signature,
            )
            .ok()
        };
        let data = signed_data(&rrsig(Bytes::new())?, rrset);
        let sig = rrsig(Bytes::copy_from_slice(self.pair.sign(&data).as_ref()))?;
        Some(Record::new(
            first.owner().clone(),
            Class::IN,
            first.ttl(),
            ZoneRecordData::Rrsig(sig),
        ))
    }
}

/// Whether records of `rtype` are signed in a lab zone.
pub fn signable(rtype: Rtype) -> bool {
    rtype != Rtype::RRSIG
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::verify::verify_rrsig;

    #[test]
    fn keys_are_deterministic_and_generations_differ() {
        assert_eq!(LabKey::derive("xa", 1).ds(), LabKey::derive("XA", 1).ds());
        assert_ne!(LabKey::derive("xa", 1).ds(), LabKey::derive("xa", 2).ds());
    }

    #[test]
    fn signatures_verify() {
        let key = LabKey::derive("xa", 1);
        let dnskey = key.dnskey_rr(3600);
        let sig = key.sign(&[&dnskey], 1_000, 2_000_000_000).unwrap();
        let ZoneRecordData::Rrsig(rrsig) = sig.data() else {
            panic!()
        };
        let ZoneRecordData::Dnskey(k) = dnskey.data() else {
            panic!()
        };
        assert_eq!(
            verify_rrsig(rrsig, &[&dnskey], [k], 1_700_000_000),
            Ok(key.key_tag())
        );
        let other = LabKey::derive("xa", 2);
        let ZoneRecordData::Dnskey(k2) = other.dnskey_rr(1).into_data() else {
            panic!()
        };
        assert!(verify_rrsig(rrsig, &[&dnskey], [&k2], 1_700_000_000).is_err());
    }
}
