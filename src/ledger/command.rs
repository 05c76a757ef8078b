//! Signed commands (`docs/RULES.md#identities`): a command is a C2SP
//! signed note whose text is
//!
//! ```text
//! rootguard-command/v1
//! rootguard+1a2b3c4d
//! 2026-11-25T10:00:00Z
//! {"action":"complaint-cure","id":1,"statement":"..."}
//! ```
//!
//! signed by the acting identity's key, exactly one signature. The second
//! line names the record (its guard's key: [`record_id`]), so that a
//! command signed for one record is refused by every other. It is
//! verified against the key the record holds for that identity before
//! anything is decided; it must be fresh ([`COMMAND_FRESH_SECS`] around the
//! record's clock) and is accepted once (the digest of its signed text is
//! kept for the freshness window).

use super::action::Action;
use super::identity::SECTION;
use super::world::World;
use crate::policy::Refusal;
use crate::store::checkpoint::SigningKey;
use crate::time::Timestamp;

/// The first line of a signed command's text.
pub const COMMAND_HEADER: &str = "rootguard-command/v1";

/// How far a signed command's time may be from the record's clock, and
/// how long its digest is kept against a replay.
pub const COMMAND_FRESH_SECS: i64 = 300;

fn refused<T>(reason: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal::new(reason, SECTION))
}

/// A command whose signature verified.
#[derive(Clone, Debug)]
pub struct Command {
    /// The identity that signed it.
    pub identity: String,
    /// What it asks.
    pub action: Action,
    /// When it was signed (by the signer's clock).
    pub issued_at: Timestamp,
    /// SHA-256 (hex) of the signed text.
    pub digest: String,
}

/// The record a command is for: the name and key hash of the record's
/// guard key (`rootguard+1a2b3c4d`), or `unsealed` before it has one.
pub fn record_id(world: &World) -> String {
    world
        .identities
        .values()
        .find(|i| i.registration.kind == super::identity::Kind::Guard)
        .and_then(|i| i.registration.key.as_deref())
        .map(|k| k.splitn(3, '+').take(2).collect::<Vec<_>>().join("+"))
        .unwrap_or_else(|| "unsealed".into())
}

/// Signs `action` for the record `record` ([`record_id`]) at `issued_at`
/// with `key`: the signed note to send.
pub fn sign_command(
    key: &SigningKey,
    record: &str,
    action: &Action,
    issued_at: Timestamp,
) -> Result<String, crate::store::checkpoint::CheckpointError> {
    let json = serde_json::to_string(action)
        .map_err(|e| crate::store::checkpoint::CheckpointError::Malformed(e.to_string()))?;
    key.sign_text(&format!(
        "{COMMAND_HEADER}\n{record}\n{issued_at}\n{json}\n"
    ))
}

/// SHA-256 (hex) of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// The largest signed command accepted.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// Verifies a signed note (`what`: "command", "observation", "request")
/// against the keys the record holds: exactly one signature, by the active
/// key of a registered identity. Returns the signer's name and the text.
pub fn verify_note(note: &str, world: &World, what: &str) -> Result<(String, String), Refusal> {
    // Exactly one signature: its signer's name is its first word.
    let signatures: Vec<&str> = note
        .rsplit_once("\n\n")
        .map(|(_, sigs)| {
            sigs.lines()
                .filter_map(|l| l.strip_prefix("\u{2014} "))
                .collect()
        })
        .unwrap_or_default();
    if signatures.len() != 1 {
        return refused(format!(
            "a signed {what} carries exactly one signature, its signer's ({} found)",
            signatures.len()
        ));
    }
    let name = signatures[0].split(' ').next().unwrap_or_default();
    let Some(identity) = world.identities.get(name) else {
        return refused(format!(
            "the {what} is not signed by a registered identity (signer {name:?})"
        ));
    };
    if !identity.active() {
        return refused(format!("the identity {name:?} is revoked"));
    }
    let Some(key) = &identity.registration.key else {
        return refused(format!("the identity {name:?} has no key registered"));
    };
    let verifier = signed_note::StandardVerifier::new(key)
        .map_err(|e| Refusal::new(format!("the key of {name:?}: {e}"), SECTION))?;
    let parsed = signed_note::Note::from_bytes(note.as_bytes())
        .map_err(|e| Refusal::new(format!("not a signed {what}: {e}"), SECTION))?;
    let list = signed_note::VerifierList::new(vec![Box::new(verifier)]);
    parsed.verify(&list).map_err(|e| {
        Refusal::new(
            format!("the signature of the {what} does not verify with the key of {name:?}: {e}"),
            SECTION,
        )
    })?;
    let text = String::from_utf8_lossy(parsed.text()).to_string();
    Ok((name.to_string(), text))
}

/// Verifies a signed command against the keys the record holds; `now`
/// is the record's clock. Refuses a command that is not signed by the
/// active key of the identity it names, too old or too new, or seen
/// before.
pub fn open_command(note: &str, world: &World, now: Timestamp) -> Result<Command, Refusal> {
    if note.len() > MAX_COMMAND_BYTES {
        return refused(format!(
            "a signed command is at most {MAX_COMMAND_BYTES} bytes"
        ));
    }
    let (name, text) = verify_note(note, world, "command")?;
    let name = name.as_str();
    let mut lines = text.splitn(4, '\n');
    let (Some(COMMAND_HEADER), Some(record), Some(at), Some(json)) =
        (lines.next(), lines.next(), lines.next(), lines.next())
    else {
        return refused(format!(
            "a signed command's text starts with {COMMAND_HEADER:?}, the record, a time and the action"
        ));
    };
    let this = record_id(world);
    if record != this {
        return refused(format!(
            "the command was signed for the record {record:?}, not this one ({this:?})"
        ));
    }
    let issued_at = Timestamp::parse(at)
        .map_err(|e| Refusal::new(format!("the command's time: {e}"), SECTION))?;
    let off = now.secs_since(issued_at);
    if !(-60..=COMMAND_FRESH_SECS).contains(&off) {
        return refused(format!(
            "the command was signed at {issued_at}, {off} s from the record's clock ({now}): at most {COMMAND_FRESH_SECS} s old, never from the future; sign it again"
        ));
    }
    let action: Action = serde_json::from_str(json.trim_end())
        .map_err(|e| Refusal::new(format!("the command's action: {e}"), SECTION))?;
    // The digest of who signed what: a note with other signature lines
    // added is the same command; the same text signed by another identity
    // is another command.
    let digest = sha256_hex(format!("{name}\n{text}").as_bytes());
    if world.commands.contains_key(&digest) {
        return refused("this signed command was already accepted: a command counts once");
    }
    Ok(Command {
        identity: name.to_string(),
        action,
        issued_at,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::identity::{Identity, Kind, Registration};

    fn world_with(dir: &std::path::Path) -> (World, SigningKey) {
        let guard = SigningKey::create(&dir.join("guard.key"), "rootguard").unwrap();
        let alice = SigningKey::create(&dir.join("alice.key"), "alice").unwrap();
        let mut w = World::default();
        for (id, kind, key) in [
            ("rootguard", Kind::Guard, &guard),
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
        (w, alice)
    }

    #[test]
    fn a_command_counts_once_for_one_record_with_one_signature() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, alice) = world_with(dir.path());
        let now = Timestamp::from_second(1_800_000_000);
        let action = Action::MediationOpen { id: 1 };
        let note = sign_command(&alice, &record_id(&w), &action, now).unwrap();
        let c = open_command(&note, &w, now).unwrap();
        assert_eq!(c.identity, "alice");
        // Seen: the same text with another signature line added is the
        // same command, and a second signature is refused anyway.
        w.commands.insert(c.digest.clone(), now);
        assert!(open_command(&note, &w, now).is_err());
        let other = SigningKey::create(&dir.path().join("x.key"), "x").unwrap();
        let extra = other.sign_text("x\n").unwrap();
        let extra_line = extra.lines().last().unwrap();
        let doubled = format!("{note}{extra_line}\n");
        let e = open_command(&doubled, &w, now).unwrap_err();
        assert!(e.reason.contains("exactly one signature"), "{e:?}");
        w.commands.clear();
        // The same text signed by another identity is another command.
        let bob = SigningKey::create(&dir.path().join("bob.key"), "bob").unwrap();
        let mut bob_identity = w.identities["alice"].clone();
        bob_identity.registration.id = "bob".into();
        bob_identity.registration.key = Some(bob.verifier_key.clone());
        w.identities.insert("bob".into(), bob_identity);
        w.commands.insert(c.digest.clone(), now);
        let by_bob = sign_command(&bob, &record_id(&w), &action, now).unwrap();
        assert!(open_command(&by_bob, &w, now).is_ok());
        w.commands.clear();
        // Signed for another record: refused.
        let elsewhere = sign_command(&alice, "rootguard+00000000", &action, now).unwrap();
        let e = open_command(&elsewhere, &w, now).unwrap_err();
        assert!(e.reason.contains("signed for the record"), "{e:?}");
        // Stale, or from the future: refused.
        let old = sign_command(&alice, &record_id(&w), &action, now.plus_secs(-301)).unwrap();
        assert!(open_command(&old, &w, now).is_err());
        let future = sign_command(&alice, &record_id(&w), &action, now.plus_secs(61)).unwrap();
        assert!(open_command(&future, &w, now).is_err());
        // Garbage and huge input: refused, never a panic.
        for bad in ["", "\n\n", "rootguard-command/v1\n", &"x".repeat(70_000)] {
            assert!(open_command(bad, &w, now).is_err());
        }
    }
}
