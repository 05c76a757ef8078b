//! Signed commands (`docs/RULES.md#identities`): a command is a C2SP
//! signed note whose text is
//!
//! ```text
//! rootguard-command/v1
//! 2026-11-25T10:00:00Z
//! {"action":"complaint-cure","id":1,"statement":"..."}
//! ```
//!
//! signed by the acting identity's key. It is verified against the key the
//! record holds for that identity before anything is decided; it must be
//! fresh ([`COMMAND_FRESH_SECS`] around the record's clock) and is
//! accepted once (its digest is kept for the freshness window).

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
    /// SHA-256 (hex) of the signed note.
    pub digest: String,
}

/// Signs `action` at `issued_at` with `key`: the signed note to send.
pub fn sign_command(
    key: &SigningKey,
    action: &Action,
    issued_at: Timestamp,
) -> Result<String, crate::store::checkpoint::CheckpointError> {
    let json = serde_json::to_string(action)
        .map_err(|e| crate::store::checkpoint::CheckpointError::Malformed(e.to_string()))?;
    key.sign_text(&format!("{COMMAND_HEADER}\n{issued_at}\n{json}\n"))
}

/// SHA-256 (hex) of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// The largest signed command accepted.
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

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
    // The signer's name is the first word of the first signature line.
    let name = note
        .lines()
        .find_map(|l| l.strip_prefix("\u{2014} "))
        .and_then(|l| l.split(' ').next())
        .unwrap_or_default();
    let Some(identity) = world.identities.get(name) else {
        return refused(format!(
            "the command is not signed by a registered identity (signer {name:?})"
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
        .map_err(|e| Refusal::new(format!("not a signed command: {e}"), SECTION))?;
    let list = signed_note::VerifierList::new(vec![Box::new(verifier)]);
    parsed.verify(&list).map_err(|e| {
        Refusal::new(
            format!("the signature of the command does not verify with the key of {name:?}: {e}"),
            SECTION,
        )
    })?;
    let text = String::from_utf8_lossy(parsed.text()).to_string();
    let mut lines = text.splitn(3, '\n');
    let (Some(COMMAND_HEADER), Some(at), Some(json)) = (lines.next(), lines.next(), lines.next())
    else {
        return refused(format!(
            "a signed command's text starts with {COMMAND_HEADER:?}, a time and the action"
        ));
    };
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
    let digest = sha256_hex(note.as_bytes());
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
