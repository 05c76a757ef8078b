//! Signed observations of registered vantages (`docs/RULES.md#quorum`):
//! the only observations the record accepts from outside the guard. A
//! vantage sends an [`Envelope`]: its observations as JSON text (the
//! payload) and a C2SP signed note over
//!
//! ```text
//! rootguard-observations/v1
//! rootguard+1a2b3c4d
//! 2026-11-25T10:00:00Z
//! sha256:0f1e...
//! ```
//!
//! (the record, the time of its sweep, the payload's SHA-256), signed by
//! the vantage's registered key, exactly one signature. Requests of a
//! vantage (`GET /api/v1/delegations`) carry a note of the same form with
//! the request line in place of the digest. Every ccTLD must be one the
//! record approves, every piece of evidence is bounded, and a vantage
//! speaks only for itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::command::{record_id, sha256_hex, verify_note};
use super::identity::Kind;
use super::world::World;
use crate::policy::Refusal;
use crate::policy::quorum::TldSeen;
use crate::policy::section::QUORUM;
use crate::store::checkpoint::{CheckpointError, SigningKey};
use crate::time::Timestamp;

/// The first line of a signed observation's text.
pub const OBSERVATIONS_HEADER: &str = "rootguard-observations/v1";

/// The first line of a vantage's signed request.
pub const REQUEST_HEADER: &str = "rootguard-request/v1";

/// The request line of `GET /api/v1/delegations`.
pub const DELEGATIONS_REQUEST: &str = "GET /api/v1/delegations";

/// The largest envelope accepted.
pub const MAX_OBSERVATION_BYTES: usize = 8 * 1024 * 1024;

/// Most name server addresses reported per ccTLD.
pub const MAX_SERVERS: usize = 64;

/// How far ahead of the guard's clock a vantage's time may be.
pub const MAX_FUTURE_SECS: i64 = 60;

/// What a vantage sends: the payload (its observations, JSON text, by
/// ccTLD) and the signed note over its digest.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The signed note.
    pub note: String,
    /// The observations, JSON text.
    pub payload: String,
}

/// Observations whose signature verified.
#[derive(Clone, Debug)]
pub struct Opened {
    /// The vantage that signed them.
    pub vantage: String,
    /// When it swept (its clock).
    pub at: Timestamp,
    /// Per ccTLD.
    pub tlds: BTreeMap<String, TldSeen>,
}

fn refused<T>(reason: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal::new(reason, QUORUM))
}

/// Signs the observations `tlds` of a sweep at `at` for the record
/// `record` with the vantage's `key`: the envelope to send, as JSON.
pub fn sign_observations(
    key: &SigningKey,
    record: &str,
    at: Timestamp,
    tlds: &BTreeMap<String, TldSeen>,
) -> Result<String, CheckpointError> {
    let payload =
        serde_json::to_string(tlds).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    let digest = sha256_hex(payload.as_bytes());
    let note = key.sign_text(&format!(
        "{OBSERVATIONS_HEADER}\n{record}\n{at}\nsha256:{digest}\n"
    ))?;
    serde_json::to_string(&Envelope { note, payload })
        .map_err(|e| CheckpointError::Malformed(e.to_string()))
}

/// Signs a request of a vantage (`line`, e.g. [`DELEGATIONS_REQUEST`]) at
/// `at`: the note, hex-encoded for the `Rootguard-Signature` header.
pub fn sign_request(
    key: &SigningKey,
    record: &str,
    at: Timestamp,
    line: &str,
) -> Result<String, CheckpointError> {
    let note = key.sign_text(&format!("{REQUEST_HEADER}\n{record}\n{at}\n{line}\n"))?;
    Ok(hex::encode(note))
}

/// The registered, active vantage that signed `note`, and its text's
/// lines after the header.
fn open_note(
    note: &str,
    world: &World,
    header: &str,
    what: &str,
) -> Result<(String, [String; 3]), Refusal> {
    let (name, text) = verify_note(note, world, what)?;
    let kind = world.identities.get(&name).map(|i| i.registration.kind);
    if kind != Some(Kind::Vantage) {
        return refused(format!(
            "{name:?} is not a registered vantage: only vantages send observations"
        ));
    }
    let lines: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
    let [h, record, at, last] = lines.as_slice() else {
        return refused(format!(
            "a signed {what}'s text is {header:?}, the record, a time and one more line"
        ));
    };
    if *h != header {
        return refused(format!("a signed {what}'s text starts with {header:?}"));
    }
    let this = record_id(world);
    if *record != this {
        return refused(format!(
            "the {what} was signed for the record {record:?}, not this one ({this:?})"
        ));
    }
    Ok((name, [record.to_string(), at.to_string(), last.to_string()]))
}

/// Checks the time of a vantage's note against the guard's clock `now`:
/// at most `max_age` seconds old and never more than a minute ahead.
fn fresh(at: &str, now: Timestamp, max_age: i64, what: &str) -> Result<Timestamp, Refusal> {
    let at = Timestamp::parse(at)
        .map_err(|e| Refusal::new(format!("the {what}'s time: {e}"), QUORUM))?;
    let age = now.secs_since(at);
    if age > max_age {
        return refused(format!(
            "stale {what}: made at {at}, {age} s before the guard's clock ({now}); at most {max_age} s"
        ));
    }
    if -age > MAX_FUTURE_SECS {
        return refused(format!(
            "the {what} is from the future: made at {at}, {} s after the guard's clock ({now})",
            -age
        ));
    }
    Ok(at)
}

/// Verifies a vantage's request `line` from the hex-encoded note of its
/// `Rootguard-Signature` header: the vantage's name.
pub fn open_request(
    header: &str,
    world: &World,
    now: Timestamp,
    line: &str,
) -> Result<String, Refusal> {
    if header.len() > 16 * 1024 {
        return refused("a signed request is at most 8 KiB (16 KiB of hex)");
    }
    let bytes = hex::decode(header.trim())
        .map_err(|_| Refusal::new("the Rootguard-Signature header is not hex", QUORUM))?;
    let note = String::from_utf8(bytes)
        .map_err(|_| Refusal::new("a signed request is UTF-8 text", QUORUM))?;
    let (name, [_, at, asked]) = open_note(&note, world, REQUEST_HEADER, "request")?;
    fresh(&at, now, super::command::COMMAND_FRESH_SECS, "request")?;
    if asked != line {
        return refused(format!(
            "the request was signed for {asked:?}, not {line:?}"
        ));
    }
    Ok(name)
}

/// Verifies and checks an envelope from a vantage at the guard's clock
/// `now`; observations older than `max_age` seconds are stale.
pub fn open_observations(
    body: &[u8],
    world: &World,
    now: Timestamp,
    max_age: i64,
) -> Result<Opened, Refusal> {
    if body.len() > MAX_OBSERVATION_BYTES {
        return refused(format!(
            "observations are at most {MAX_OBSERVATION_BYTES} bytes ({} sent)",
            body.len()
        ));
    }
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
        Refusal::new(
            format!(
                "line {} column {}: not an observations envelope ({{\"note\", \"payload\"}}): {e}",
                e.line(),
                e.column()
            ),
            QUORUM,
        )
    })?;
    let (vantage, [_, at, digest]) =
        open_note(&envelope.note, world, OBSERVATIONS_HEADER, "observation")?;
    let at = fresh(&at, now, max_age, "observation")?;
    let found = format!("sha256:{}", sha256_hex(envelope.payload.as_bytes()));
    if digest != found {
        return refused(format!(
            "the observations are not those signed: the note names {digest}, the payload is {found}"
        ));
    }
    let mut tlds: BTreeMap<String, TldSeen> =
        serde_json::from_str(&envelope.payload).map_err(|e| {
            Refusal::new(
                format!("observations line {} column {}: {e}", e.line(), e.column()),
                QUORUM,
            )
        })?;
    for (tld, seen) in tlds.iter_mut() {
        check_seen(tld, seen, world, &vantage)?;
        seen.facts.at = at;
    }
    Ok(Opened { vantage, at, tlds })
}

/// One ccTLD's observation: approved, bounded, about the vantage only.
fn check_seen(tld: &str, seen: &TldSeen, world: &World, vantage: &str) -> Result<(), Refusal> {
    use crate::checks::finding::MAX_MESSAGE_CHARS;
    use crate::policy::technical::MAX_EVIDENCE_LINES;
    if !world.approved.contains_key(tld) {
        return refused(format!(
            "{vantage:?} reports .{tld}, which is not an approved delegation of this record"
        ));
    }
    let f = &seen.facts;
    if !f.vantages.is_empty() {
        return refused(format!(
            "{vantage:?} reports what other vantages saw of .{tld}: a vantage speaks for itself"
        ));
    }
    let long = |s: &str| s.chars().count() > MAX_MESSAGE_CHARS;
    if long(&f.threat_detail)
        || f.findings
            .values()
            .any(|lines| lines.len() > MAX_EVIDENCE_LINES || lines.iter().any(|l| long(l)))
    {
        return refused(format!(
            "{vantage:?}'s evidence for .{tld} is too long: at most {MAX_EVIDENCE_LINES} lines of {MAX_MESSAGE_CHARS} characters per family"
        ));
    }
    if f.threat.is_some() && f.impaired {
        return refused(format!(
            "{vantage:?} reports a threat to .{tld} from a probe it says failed locally"
        ));
    }
    if seen.servers.len() > MAX_SERVERS
        || seen.servers.iter().any(|s| {
            s.host.len() > 255
                || !(s.udp_rtt_ms.is_finite() && s.tcp_rtt_ms.is_finite())
                || s.udp_rtt_ms < 0.0
                || s.tcp_rtt_ms < 0.0
        })
    {
        return refused(format!(
            "{vantage:?}'s server list for .{tld} is not valid: at most {MAX_SERVERS} addresses, host names of at most 255 octets, round trips finite and not negative"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::identity::{Identity, Registration};
    use crate::policy::registry::Approved;
    use crate::policy::technical::SweepFacts;

    fn world_with(dir: &std::path::Path) -> (World, SigningKey, SigningKey) {
        let guard = SigningKey::create(&dir.join("guard.key"), "rootguard").unwrap();
        let vb = SigningKey::create(&dir.join("vb.key"), "vb").unwrap();
        let alice = SigningKey::create(&dir.join("alice.key"), "alice").unwrap();
        let mut w = World::default();
        for (id, kind, key) in [
            ("rootguard", Kind::Guard, &guard),
            ("vb", Kind::Vantage, &vb),
            ("alice", Kind::Complainant, &alice),
        ] {
            w.identities.insert(
                id.into(),
                Identity {
                    registration: Registration {
                        id: id.into(),
                        kind,
                        tlds: Vec::new(),
                        person: id.into(),
                        key: Some(key.verifier_key.clone()),
                        token_sha256: None,
                        body: None,
                        of: None,
                    },
                    attested_by: "op".into(),
                    registered: Timestamp::from_second(0),
                    revoked: None,
                },
            );
        }
        w.approved.insert(
            "xa".into(),
            Approved {
                tld: "xa".into(),
                kind: crate::zone::TldKind::CountryCode,
                manager: "m".into(),
                admin_contact: Default::default(),
                tech_contact: Default::default(),
                ns: vec!["ns1.xa.".into()],
                glue: Default::default(),
                ds: Vec::new(),
            },
        );
        (w, vb, alice)
    }

    fn seen(threat: bool) -> BTreeMap<String, TldSeen> {
        let mut facts = SweepFacts::default();
        if threat {
            facts.threat = Some(crate::checks::ThreatKind::TotalOutage);
        }
        BTreeMap::from([(
            "xa".to_string(),
            TldSeen {
                facts,
                servers: Vec::new(),
            },
        )])
    }

    fn refused_with(r: Result<Opened, Refusal>, text: &str) {
        match r {
            Ok(o) => panic!("accepted from {}, expected refusal {text:?}", o.vantage),
            Err(e) => assert!(e.reason.contains(text), "{e}"),
        }
    }

    #[test]
    fn only_a_registered_vantage_signing_for_this_record_is_heard() {
        let dir = tempfile::tempdir().unwrap();
        let (w, vb, alice) = world_with(dir.path());
        let now = Timestamp::from_second(1_800_000_000);
        let record = record_id(&w);
        let body = sign_observations(&vb, &record, now, &seen(true)).unwrap();
        let o = open_observations(body.as_bytes(), &w, now, 120).unwrap();
        assert_eq!(o.vantage, "vb");
        assert_eq!(
            o.tlds["xa"].facts.at, now,
            "the note's time, not the payload's"
        );
        // Another identity's key: not a vantage.
        let b = sign_observations(&alice, &record, now, &seen(true)).unwrap();
        refused_with(
            open_observations(b.as_bytes(), &w, now, 120),
            "not a registered vantage",
        );
        // An unregistered key named like the vantage.
        let fake = SigningKey::create(&dir.path().join("fake.key"), "vb").unwrap();
        let b = sign_observations(&fake, &record, now, &seen(true)).unwrap();
        refused_with(
            open_observations(b.as_bytes(), &w, now, 120),
            "does not verify",
        );
        // Signed for another record.
        let b = sign_observations(&vb, "rootguard+00000000", now, &seen(true)).unwrap();
        refused_with(
            open_observations(b.as_bytes(), &w, now, 120),
            "not this one",
        );
        // Stale, and from the future.
        let old = Timestamp::from_second(now.as_second() - 121);
        let b = sign_observations(&vb, &record, old, &seen(true)).unwrap();
        refused_with(open_observations(b.as_bytes(), &w, now, 120), "stale");
        let ahead = Timestamp::from_second(now.as_second() + 61);
        let b = sign_observations(&vb, &record, ahead, &seen(true)).unwrap();
        refused_with(open_observations(b.as_bytes(), &w, now, 120), "future");
        // A revoked vantage.
        let mut revoked = w.clone();
        revoked.identities.get_mut("vb").unwrap().revoked = Some(now);
        refused_with(
            open_observations(body.as_bytes(), &revoked, now, 120),
            "revoked",
        );
    }

    #[test]
    fn the_payload_is_the_one_signed_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let (w, vb, _) = world_with(dir.path());
        let now = Timestamp::from_second(1_800_000_000);
        let record = record_id(&w);
        // The payload swapped under a good note.
        let good: Envelope =
            serde_json::from_str(&sign_observations(&vb, &record, now, &seen(false)).unwrap())
                .unwrap();
        let swapped = Envelope {
            note: good.note.clone(),
            payload: serde_json::to_string(&seen(true)).unwrap(),
        };
        let b = serde_json::to_vec(&swapped).unwrap();
        refused_with(open_observations(&b, &w, now, 120), "not those signed");
        // Garbage, and a huge body.
        refused_with(
            open_observations(b"\x00\xffnot json", &w, now, 120),
            "not an observations envelope",
        );
        let huge = vec![b' '; MAX_OBSERVATION_BYTES + 1];
        refused_with(open_observations(&huge, &w, now, 120), "at most");
        // Another ccTLD than the record approves.
        let mut other = seen(true);
        let v = other.remove("xa").unwrap();
        other.insert("zz".into(), v);
        let b = sign_observations(&vb, &record, now, &other).unwrap();
        refused_with(
            open_observations(b.as_bytes(), &w, now, 120),
            "not an approved delegation",
        );
        // Speaking for other vantages.
        let mut others = seen(false);
        others.get_mut("xa").unwrap().facts.vantages.insert(
            "vc".into(),
            crate::policy::technical::Observation::default(),
        );
        let b = sign_observations(&vb, &record, now, &others).unwrap();
        refused_with(
            open_observations(b.as_bytes(), &w, now, 120),
            "speaks for itself",
        );
        // Evidence beyond the bounds.
        let mut long = seen(false);
        long.get_mut("xa").unwrap().facts.findings.insert(
            crate::checks::Family::Reachability,
            vec!["x".repeat(10_000)],
        );
        let b = sign_observations(&vb, &record, now, &long).unwrap();
        refused_with(open_observations(b.as_bytes(), &w, now, 120), "too long");
        // Unknown fields are refused, not ignored.
        let odd = Envelope {
            payload: r#"{"xa":{"facts":{"at":"2027-01-15T08:00:00Z","impaired":false,"findings":{},"threat":null,"threat_detail":""},"servers":[],"extra":1}}"#.into(),
            note: String::new(),
        };
        let digest = sha256_hex(odd.payload.as_bytes());
        let note = vb
            .sign_text(&format!(
                "{OBSERVATIONS_HEADER}\n{record}\n{now}\nsha256:{digest}\n"
            ))
            .unwrap();
        let b = serde_json::to_vec(&Envelope { note, ..odd }).unwrap();
        refused_with(open_observations(&b, &w, now, 120), "unknown field");
    }

    #[test]
    fn a_request_is_signed_for_its_line_by_a_vantage() {
        let dir = tempfile::tempdir().unwrap();
        let (w, vb, alice) = world_with(dir.path());
        let now = Timestamp::from_second(1_800_000_000);
        let record = record_id(&w);
        let h = sign_request(&vb, &record, now, DELEGATIONS_REQUEST).unwrap();
        assert_eq!(
            open_request(&h, &w, now, DELEGATIONS_REQUEST).unwrap(),
            "vb"
        );
        assert!(open_request(&h, &w, now, "GET /api/v1/other").is_err());
        let h = sign_request(&alice, &record, now, DELEGATIONS_REQUEST).unwrap();
        assert!(open_request(&h, &w, now, DELEGATIONS_REQUEST).is_err());
        assert!(open_request("zz", &w, now, DELEGATIONS_REQUEST).is_err());
        let old = Timestamp::from_second(now.as_second() - 3600);
        let h = sign_request(&vb, &record, old, DELEGATIONS_REQUEST).unwrap();
        assert!(open_request(&h, &w, now, DELEGATIONS_REQUEST).is_err());
    }
}
