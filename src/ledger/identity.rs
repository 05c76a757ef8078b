//! Who may change the record (`docs/RULES.md#identities`): every actor is
//! an [`Identity`] registered in the record by an operator, of one
//! [`Kind`], holding a credential: an Ed25519 key (C2SP signed-note
//! format) with which it signs its commands on the command line, and/or
//! the SHA-256 of a bearer token for the HTTP API. The actor and the role
//! of every event come from the credential, never from a flag.
//!
//! Signed commands are in `command`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::policy::registry::Approved;
use crate::policy::{Refusal, Role};
use crate::time::Timestamp;

/// The rule identities implement.
pub const SECTION: &str = "docs/RULES.md#identities";

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
    /// For an appointing body: which body it is
    /// (`docs/RULES.md#appointments`).
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// For a territory's government or local Internet community: the
    /// territory (a name or ISO 3166-1 code).
    #[arg(long = "of")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
}

/// The bodies that appoint panel and tribunal seats besides IANA (whose
/// operators appoint its two seats and the trusted third party) and the
/// incumbent manager (`docs/RULES.md#appointments`; BP §6.1.1, §6.4).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Body {
    /// A territory's local Internet community.
    LocalInternetCommunity,
    /// A territory's government (or public authority).
    Government,
    /// The ccTLD constituency.
    CctldConstituency,
    /// The Board.
    Board,
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

/// The active identity holding bearer token hash `sha256`.
pub fn by_token<'a>(
    identities: &'a BTreeMap<String, Identity>,
    sha256: &str,
) -> Option<&'a Identity> {
    identities.values().find(|i| {
        i.active()
            && i.registration
                .token_sha256
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(sha256))
    })
}

/// Checks a registration against the record's identities and approved
/// ccTLDs: a unique valid name, one identity per person, credentials of
/// the right form and not anybody else's, ccTLDs only for the kinds that
/// act for one. `replacing` names the identity a rotation replaces.
pub fn check_registration(
    identities: &BTreeMap<String, Identity>,
    approved: &BTreeMap<String, Approved>,
    r: &Registration,
    replacing: Option<&str>,
) -> Result<(), Refusal> {
    if !valid_name(&r.id) {
        return refused(format!(
            "{:?} is not a valid identity name: 1 to 64 letters, digits, '-', '_' or '.'",
            r.id
        ));
    }
    if replacing.is_none() && identities.contains_key(&r.id) {
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
            if !approved.contains_key(t.as_str()) {
                return refused(format!(
                    ".{t} is not a ccTLD in the approved delegation record"
                ));
            }
        }
    } else if !r.tlds.is_empty() {
        return refused(format!("a {} does not act for a ccTLD", r.kind));
    }
    match (r.kind, r.body) {
        (Kind::AppointingBody, None) => {
            return refused("an appointing body says which body it is: give --body");
        }
        (Kind::AppointingBody, Some(Body::Government | Body::LocalInternetCommunity))
            if r.of
                .as_deref()
                .is_none_or(|o| o.trim().is_empty() || o.len() > 200) =>
        {
            return refused(
                "a territory's government or local Internet community names its territory: give --of",
            );
        }
        (Kind::AppointingBody, _) => {}
        (_, Some(_)) => return refused(format!("a {} is not an appointing body", r.kind)),
        _ => {}
    }
    if r.kind != Kind::AppointingBody && r.of.is_some() {
        return refused(format!("--of is for appointing bodies, not a {}", r.kind));
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
    for other in identities.values() {
        if Some(other.registration.id.as_str()) == replacing
            || other.registration.id == r.id
            || !other.active()
        {
            continue;
        }
        if other
            .registration
            .person
            .trim()
            .eq_ignore_ascii_case(person)
        {
            return refused(format!(
                "{person:?} already has the identity {:?}: one natural person is one identity",
                other.registration.id
            ));
        }
        if r.key.is_some() && other.registration.key == r.key {
            return refused(format!("that key belongs to {:?}", other.registration.id));
        }
        if let (Some(a), Some(b)) = (&r.token_sha256, &other.registration.token_sha256)
            && a.eq_ignore_ascii_case(b)
        {
            return refused(format!("that token belongs to {:?}", other.registration.id));
        }
    }
    Ok(())
}

/// Whether revoking `id` would leave no active operator.
pub fn last_operator(identities: &BTreeMap<String, Identity>, id: &str) -> bool {
    let operators: BTreeSet<&str> = identities
        .values()
        .filter(|i| i.active() && i.registration.kind == Kind::Operator)
        .map(|i| i.registration.id.as_str())
        .collect();
    operators.len() == 1 && operators.contains(id)
}
