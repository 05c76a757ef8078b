//! Who may change the record (`docs/RULES.md#identities`): every actor is
//! an [`Identity`] registered in the record by an operator, of one
//! [`Kind`], holding a credential: an Ed25519 key (C2SP signed-note
//! format) with which it signs its commands on the command line, and/or
//! the SHA-256 of a bearer token for the HTTP API. The actor and the role
//! of every event come from the credential, never from a flag.
//!
//! A signed command is a C2SP signed note whose text is
//!
//! ```text
//! rootguard-command/v1
//! 2026-11-25T10:00:00Z
//! {"action":"complaint-cure","id":1,"statement":"..."}
//! ```
//!
//! signed by the identity's key. It is verified against the key the
//! record holds for that identity before anything is decided; it must be
//! fresh ([`COMMAND_FRESH_SECS`] around the record's clock) and is
//! accepted once (its digest is kept for the freshness window).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::action::Action;
use super::world::World;
use crate::policy::{Refusal, Role};
use crate::store::checkpoint::SigningKey;
use crate::time::Timestamp;

/// The rule identities implement.
pub const SECTION: &str = "docs/RULES.md#identities";

/// The first line of a signed command's text.
pub const COMMAND_HEADER: &str = "rootguard-command/v1";

/// How far a signed command's time may be from the record's clock, and
/// how long its digest is kept against a replay.
pub const COMMAND_FRESH_SECS: i64 = 300;

/// What an identity is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// IANA staff.
    Operator,
    /// The manager of one or more ccTLDs.
    Manager,
    /// A ccTLD's administrative contact.
    AdminContact,
    /// A ccTLD's technical contact.
    TechContact,
    /// Someone who lodges complaints.
    Complainant,
    /// A mediator (BP §5).
    Mediator,
    /// An applicant in a redelegation case.
    Applicant,
    /// A body that appoints panel or tribunal seats (a territory's
    /// government, its local Internet community, the ccTLD constituency,
    /// the Board, IANA's trusted third party).
    AppointingBody,
    /// A member of a case's panel.
    PanelMember,
    /// A member of a case's tribunal.
    TribunalMember,
    /// A vantage point that probes for the guard.
    Vantage,
    /// The guard itself.
    Guard,
}

impl Kind {
    /// The role the rules give this kind.
    pub fn role(self) -> Role {
        match self {
            Kind::Operator => Role::Operator,
            Kind::Manager | Kind::AdminContact | Kind::TechContact => Role::Manager,
            Kind::PanelMember | Kind::TribunalMember => Role::PanelMember,
            Kind::Guard => Role::Guard,
            Kind::Complainant
            | Kind::Mediator
            | Kind::Applicant
            | Kind::AppointingBody
            | Kind::Vantage => Role::Public,
        }
    }

    /// Whether identities of this kind act for named ccTLDs only.
    pub fn scoped(self) -> bool {
        matches!(
            self,
            Kind::Manager | Kind::AdminContact | Kind::TechContact | Kind::Applicant
        )
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = serde_json::to_value(self).unwrap_or_default();
        f.write_str(v.as_str().unwrap_or("unknown"))
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
            format!(
                "{s:?} is not a kind of identity: operator, manager, admin-contact, tech-contact, complainant, mediator, applicant, appointing-body, panel-member, tribunal-member, vantage or guard"
            )
        })
    }
}

/// What an operator registers (`rootguard act identity-register`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
pub struct Registration {
    /// The identity's name (also its key's name), e.g. `alice-iana`.
    #[arg(long = "identity")]
    pub id: String,
    /// Its kind.
    #[arg(long)]
    pub kind: Kind,
    /// The ccTLDs it acts for (managers, contacts, applicants).
    #[arg(long = "tld")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlds: Vec<crate::zone::Tld>,
    /// The natural person (or body) behind it: one person, one identity.
    #[arg(long)]
    pub person: String,
    /// Its verifier key (`NAME+HASH+BASE64`, from `rootguard key new`).
    #[arg(long = "public-key", id = "public_key")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// SHA-256 (hex) of its bearer token for the HTTP API.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_sha256: Option<String>,
}

/// A registered identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// What was registered.
    #[serde(flatten)]
    pub registration: Registration,
    /// The operator who attested it.
    pub attested_by: String,
    /// When.
    pub registered: Timestamp,
    /// When it was revoked, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Timestamp>,
}

impl Identity {
    /// Its role.
    pub fn role(&self) -> Role {
        self.registration.kind.role()
    }

    /// Whether it may act (not revoked).
    pub fn active(&self) -> bool {
        self.revoked.is_none()
    }

    /// Whether it acts for `tld` (always, for an unscoped kind).
    pub fn acts_for(&self, tld: &str) -> bool {
        !self.registration.kind.scoped() || self.registration.tlds.iter().any(|t| t == tld)
    }
}

fn refused<T>(reason: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal::new(reason, SECTION))
}

/// Checks a key given as a verifier key: well formed, named after the
/// identity.
fn check_key(id: &str, key: &str) -> Result<(), Refusal> {
    if let Err(e) = signed_note::StandardVerifier::new(key) {
        return refused(format!(
            "the key of {id:?} is not a verifier key (NAME+HASH+BASE64 from `rootguard key new`): {e}"
        ));
    }
    if key.split('+').next() != Some(id) {
        return refused(format!(
            "the key of {id:?} is named {:?}: a key carries its identity's name",
            key.split('+').next().unwrap_or_default()
        ));
    }
    Ok(())
}

fn check_token(id: &str, hash: &str) -> Result<(), Refusal> {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return refused(format!(
            "the token hash of {id:?} is not a SHA-256 in hex (64 hex digits)"
        ));
    }
    Ok(())
}

/// Whether `id` is a valid identity name: 1 to 64 characters of letters,
/// digits, `-`, `_` and `.` (it is also the key's name).
pub fn valid_name(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl World {
    /// The active identity holding bearer token hash `sha256`.
    pub fn identity_by_token(&self, sha256: &str) -> Option<&Identity> {
        self.identities.values().find(|i| {
            i.active()
                && i.registration
                    .token_sha256
                    .as_deref()
                    .is_some_and(|h| h.eq_ignore_ascii_case(sha256))
        })
    }

    /// Checks a registration against the record: a unique valid name,
    /// one identity per person, credentials of the right form and not
    /// anybody else's, ccTLDs only for the kinds that act for one.
    pub(super) fn check_registration(
        &self,
        r: &Registration,
        replacing: Option<&str>,
    ) -> Result<(), Refusal> {
        if !valid_name(&r.id) {
            return refused(format!(
                "{:?} is not a valid identity name: 1 to 64 letters, digits, '-', '_' or '.'",
                r.id
            ));
        }
        if replacing.is_none() && self.identities.contains_key(&r.id) {
            return refused(format!("the identity {:?} is already registered", r.id));
        }
        let person = r.person.trim();
        if person.is_empty() || person.len() > 200 || person.chars().any(char::is_control) {
            return refused(format!(
                "the person behind {:?} must be named (at most 200 characters)",
                r.id
            ));
        }
        if r.kind == Kind::Guard {
            return refused("the guard's identity is registered by the import only");
        }
        if r.kind.scoped() {
            if r.tlds.is_empty() {
                return refused(format!("a {} acts for named ccTLDs: give --tld", r.kind));
            }
            for t in &r.tlds {
                if !self.approved.contains_key(t.as_str()) {
                    return refused(format!(
                        ".{t} is not a ccTLD in the approved delegation record"
                    ));
                }
            }
        } else if !r.tlds.is_empty() {
            return refused(format!("a {} does not act for a ccTLD", r.kind));
        }
        if r.key.is_none() && r.token_sha256.is_none() {
            return refused(format!(
                "{:?} needs a credential: a key (--public-key) or a token hash (--token-sha256)",
                r.id
            ));
        }
        if let Some(k) = &r.key {
            check_key(&r.id, k)?;
        }
        if let Some(h) = &r.token_sha256 {
            check_token(&r.id, h)?;
        }
        for other in self.identities.values() {
            if Some(other.registration.id.as_str()) == replacing
                || other.registration.id == r.id
                || !other.active()
            {
                continue;
            }
            if other.registration.person.trim().eq_ignore_ascii_case(person) {
                return refused(format!(
                    "{person:?} already has the identity {:?}: one natural person is one identity",
                    other.registration.id
                ));
            }
            if r.key.is_some() && other.registration.key == r.key {
                return refused(format!(
                    "that key belongs to {:?}",
                    other.registration.id
                ));
            }
            if let (Some(a), Some(b)) = (&r.token_sha256, &other.registration.token_sha256)
                && a.eq_ignore_ascii_case(b)
            {
                return refused(format!(
                    "that token belongs to {:?}",
                    other.registration.id
                ));
            }
        }
        Ok(())
    }

    /// Whether revoking `id` would leave no active operator.
    pub(super) fn last_operator(&self, id: &str) -> bool {
        let operators: BTreeSet<&str> = self
            .identities
            .values()
            .filter(|i| i.active() && i.registration.kind == Kind::Operator)
            .map(|i| i.registration.id.as_str())
            .collect();
        operators.len() == 1 && operators.contains(id)
    }
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
