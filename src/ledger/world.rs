//! The policy state of everything, as derived from the journal, and the
//! application of one action to it through the rules of `policy`.

use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use crate::policy::Role;
use crate::policy::case::{Case, EntryPath, Member};
use crate::policy::complaint::{Complaint, Session};
use crate::policy::gate::{ChangeRequest, GateDecision, decide};
use crate::policy::registry::Approved;
use crate::policy::technical::{Effect, Measure, SweepFacts, TldTechnical};
use crate::policy::{PolicyConfig, Refusal, section};

use super::action::Action;
use super::identity::{Identity, Kind};

/// Settings recorded with the import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Policy settings.
    pub policy: PolicyConfig,
    /// Appeal window in days.
    pub appeal_window_days: i64,
    /// A simulation (`import --simulation`): the only kind of record whose
    /// clock may be set (`--now`); it says so everywhere.
    #[serde(default)]
    pub simulation: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            policy: PolicyConfig::default(),
            appeal_window_days: 30,
            simulation: false,
        }
    }
}

/// The policy state of everything, as derived from the journal.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct World {
    /// Settings.
    pub settings: Settings,
    /// Whether the record has been seeded.
    pub seeded: bool,
    /// The seed zone's authenticity, when it was verified.
    #[serde(default)]
    pub seed_authenticity: Option<String>,
    /// The approved delegations.
    pub approved: BTreeMap<String, Approved>,
    /// Technical state per ccTLD.
    pub technical: BTreeMap<String, TldTechnical>,
    /// Complaints.
    pub complaints: BTreeMap<u64, Complaint>,
    /// Cases.
    pub cases: BTreeMap<u64, Case>,
    /// Gate decisions, by event number.
    pub decisions: BTreeMap<i64, (ChangeRequest, GateDecision)>,
    /// The latest observation of each swept ccTLD (its time is the latest
    /// sweep's).
    #[serde(default)]
    pub observed: BTreeMap<String, SweepFacts>,
    /// ccTLDs swept explicitly since the last sweep round.
    #[serde(default)]
    pub round: BTreeSet<String>,
    /// Registered identities, by name (`docs/RULES.md#identities`).
    #[serde(default)]
    pub identities: BTreeMap<String, Identity>,
    /// Confirmations of change requests by the incumbent's contacts, by
    /// the request's digest ([`ChangeRequest::digest`]).
    #[serde(default)]
    pub confirmations: BTreeMap<String, Confirmation>,
    /// Signed commands accepted within the freshness window: digest and
    /// signing time (a command counts once).
    #[serde(default)]
    pub commands: BTreeMap<String, Timestamp>,
    /// How each vantage fared in the latest window
    /// (`docs/RULES.md#quorum`).
    #[serde(default)]
    pub vantages: BTreeMap<String, crate::policy::quorum::VantageWindow>,
    /// The latest sweep time accepted from each vantage, kept across
    /// windows it was silent in: a replay is refused after a restart too.
    #[serde(default)]
    pub vantage_last_at: BTreeMap<String, Timestamp>,
    /// Since when the windows decide nothing (fewer healthy vantages than
    /// the quorum), if they do not.
    #[serde(default)]
    pub quorum_lost_since: Option<Timestamp>,
    /// When an operator upheld each suspension while the quorum was lost
    /// (`docs/RULES.md#quorum-review`).
    #[serde(default)]
    pub upheld: BTreeMap<String, Timestamp>,
    /// Since when each ccTLD has not been judged (observed by fewer healthy
    /// vantages than the quorum, or only by probes that failed locally).
    #[serde(default)]
    pub unjudged_since: BTreeMap<String, Timestamp>,
    /// Time of the latest event (Unix seconds).
    pub last_at: Timestamp,
}

/// What a seat belongs to (`docs/RULES.md#appointments`).
#[derive(Clone, Copy, Debug)]
enum Appointer {
    /// A panel seat.
    Seat(crate::policy::case::Seat),
    /// A tribunal group.
    Tribunal(crate::policy::case::TribunalGroup),
}

/// The confirmations recorded for one change request
/// (`docs/RULES.md#identities`): each by the contact's own identity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The ccTLD.
    pub tld: String,
    /// The administrative contact's identity, when it confirmed.
    #[serde(default)]
    pub admin_contact: Option<String>,
    /// The technical contact's identity, when it confirmed.
    #[serde(default)]
    pub tech_contact: Option<String>,
}

fn refused<T>(reason: impl Into<String>, section: &str) -> Result<T, Refusal> {
    Err(Refusal::new(reason, section))
}

/// Whether two observations of a ccTLD are the same (their times aside).
pub fn same_observation(a: &SweepFacts, b: &SweepFacts) -> bool {
    a.impaired == b.impaired
        && a.findings == b.findings
        && a.threat == b.threat
        && a.threat_detail == b.threat_detail
        && a.vantages == b.vantages
}

/// Whether an effect leaves nothing new to record: evidence repeated, a
/// suspension re-assessed, a sweep ignored.
pub fn steady_effect(e: &Effect) -> bool {
    matches!(
        e,
        Effect::EvidenceAppended { .. }
            | Effect::SuspensionReassessed { .. }
            | Effect::SweepIgnored
    )
}

/// SHA-256 (hex) over steady ccTLDs and their observations, times aside.
pub fn steady_digest<'a>(items: impl Iterator<Item = (&'a str, &'a SweepFacts)>) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for (tld, facts) in items {
        let mut f = facts.clone();
        f.at = Timestamp::from_second(0);
        ctx.update(tld.as_bytes());
        ctx.update(b"\n");
        ctx.update(serde_json::to_string(&f).unwrap_or_default().as_bytes());
        ctx.update(b"\n");
    }
    hex::encode(ctx.finish())
}

impl World {
    /// Whether the active suspension of `tld` needs an operator to uphold
    /// or lift it at `now` (`docs/RULES.md#quorum-review`): the quorum has
    /// been lost for the configured time and no operator upheld it since.
    pub fn review_due(&self, tld: &str, now: Timestamp) -> bool {
        let active = self
            .technical
            .get(tld)
            .is_some_and(|t| t.active_measure().is_some());
        let since = self.unjudged_since_for(tld);
        active
            && crate::policy::quorum::review_due(
                since,
                now,
                self.settings.policy.quorum_review_secs,
            )
            && self
                .upheld
                .get(tld)
                .zip(since)
                .is_none_or(|(u, since)| *u < since)
    }

    /// Notes whether `tld` was judged at `at`: a judged ccTLD's review
    /// clock and upholding end.
    fn note_judged(&mut self, tld: &str, unjudged: bool, at: Timestamp) {
        if unjudged {
            self.unjudged_since.entry(tld.to_string()).or_insert(at);
        } else {
            self.unjudged_since.remove(tld);
            if self.quorum_lost_since.is_none() {
                self.upheld.remove(tld);
            }
        }
    }

    /// Since when `tld` has not been judged: the quorum lost, or the ccTLD
    /// itself not observed by a quorum, whichever began first.
    pub fn unjudged_since_for(&self, tld: &str) -> Option<Timestamp> {
        match (
            self.quorum_lost_since,
            self.unjudged_since.get(tld).copied(),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Refuses a seat for anyone but an active identity of `kind`: panel
    /// and tribunal members vote with their own credentials
    /// (`docs/RULES.md#identities`).
    fn seated(&self, id: &str, kind: Kind) -> Result<(), Refusal> {
        match self.identities.get(id) {
            Some(i) if i.active() && i.registration.kind == kind => Ok(()),
            _ => refused(
                format!(
                    "{id:?} is not a registered, active {kind}: register the member's identity first"
                ),
                super::identity::SECTION,
            ),
        }
    }

    /// Refuses anyone but a registered manager (the identity's scope to
    /// the complaint's ccTLD is checked before the rules are applied):
    /// only the ccTLD's own manager cures, answers "no merit" or explains
    /// (`docs/RULES.md#cure`).
    fn own_manager(&self, actor: &str) -> Result<(), Refusal> {
        match self.identities.get(actor) {
            Some(i) if i.active() && i.registration.kind == Kind::Manager => Ok(()),
            _ => refused(
                format!(
                    "{actor:?} is not the ccTLD's registered manager: only the manager itself cures, answers or explains"
                ),
                crate::policy::complaint::section::CURE,
            ),
        }
    }

    /// Refuses a seat whose appointer is not the seat's body
    /// (`docs/RULES.md#appointments`; BP §6.1.1, §6.4): the territory's
    /// local Internet community and government, the ccTLD constituency,
    /// the incumbent manager, IANA (an operator) twice and for the trusted
    /// third party, the Board. The trusted third party is none of the
    /// case's parties.
    fn appointer(&self, case: &Case, to: Appointer, member: &Member) -> Result<(), Refusal> {
        use super::identity::Body;
        use crate::policy::case::{Seat, TribunalGroup};
        let section = crate::policy::case::section::APPOINTMENTS;
        let Some(a) = self
            .identities
            .get(&member.appointed_by)
            .filter(|i| i.active())
        else {
            return refused(
                "the appointer is not a registered, active identity: each seat is appointed by its body's own identity",
                section,
            );
        };
        let r = &a.registration;
        let body = |b: Body| r.kind == Kind::AppointingBody && r.body == Some(b);
        let of_territory = r.of.as_deref().is_some_and(|o| case.in_territory(o));
        let manager = r.kind == Kind::Manager && r.tlds.iter().any(|t| *t == *case.tld);
        let ok = match to {
            Appointer::Seat(Seat::LocalInternetCommunity)
            | Appointer::Tribunal(TribunalGroup::LocalInternetCommunity) => {
                body(Body::LocalInternetCommunity) && of_territory
            }
            Appointer::Seat(Seat::Government) => {
                body(Body::Government)
                    && member
                        .government_of
                        .as_deref()
                        .zip(r.of.as_deref())
                        .is_some_and(|(g, o)| g.trim().eq_ignore_ascii_case(o.trim()))
            }
            Appointer::Seat(Seat::CctldConstituency) => body(Body::CctldConstituency),
            Appointer::Seat(Seat::Manager) | Appointer::Tribunal(TribunalGroup::Incumbent) => {
                manager
            }
            Appointer::Seat(Seat::Iana1 | Seat::Iana2 | Seat::TrustedThirdParty) => {
                r.kind == Kind::Operator
            }
            Appointer::Tribunal(TribunalGroup::Board) => body(Body::Board),
        };
        if !ok {
            return refused(
                format!(
                    "{:?} ({}) does not appoint this seat: it belongs to its own body",
                    r.id, r.kind
                ),
                section,
            );
        }
        if let Appointer::Seat(Seat::TrustedThirdParty) = to {
            let person = self
                .identities
                .get(&member.id)
                .map(|i| i.registration.person.trim().to_lowercase())
                .unwrap_or_default();
            let complainant = match &case.path {
                EntryPath::Proceedings { complaint } => {
                    self.complaints.get(complaint).map(|c| c.lodged_by.clone())
                }
                _ => None,
            };
            let norm = |x: &str| x.trim().to_lowercase();
            let complainant_person = complainant
                .as_deref()
                .and_then(|c| self.identities.get(c))
                .map(|i| norm(&i.registration.person));
            let party = [norm(&case.incumbent)]
                .into_iter()
                .chain(complainant.as_deref().map(norm))
                .chain(complainant_person)
                .any(|p| !p.is_empty() && (p == person || p == norm(&member.name)));
            if party {
                return refused(
                    "the trusted third party is one of the case's parties (the incumbent's side or the complainant)",
                    section,
                );
            }
        }
        Ok(())
    }

    /// The guard's verifier key recorded in the state, if any.
    pub fn guard_key(&self) -> Option<&str> {
        self.identities
            .values()
            .find(|i| i.registration.kind == Kind::Guard)
            .and_then(|i| i.registration.key.as_deref())
    }

    /// The active identity holding bearer token hash `sha256`.
    pub fn identity_by_token(&self, sha256: &str) -> Option<&Identity> {
        super::identity::by_token(&self.identities, sha256)
    }

    /// The measures in force, by ccTLD.
    pub fn measures(&self) -> BTreeMap<String, Measure> {
        self.technical
            .iter()
            .filter_map(|(t, s)| s.active_measure().map(|m| (t.clone(), m)))
            .collect()
    }

    fn approved(&self, tld: &str) -> Result<&Approved, Refusal> {
        self.approved.get(tld).ok_or_else(|| {
            Refusal::new(
                format!("{tld} is not a ccTLD in the approved delegation record"),
                section::RECORD,
            )
        })
    }

    fn complaint(&self, id: u64) -> Result<&Complaint, Refusal> {
        self.complaints
            .get(&id)
            .ok_or_else(|| Refusal::new(format!("no complaint {id}"), section::COMPLAINT))
    }

    fn case(&self, id: u64) -> Result<&Case, Refusal> {
        self.cases.get(&id).ok_or_else(|| {
            Refusal::new(
                format!("no case {id}"),
                crate::policy::case::section::NO_REDELEGATION_WITHOUT_CURE,
            )
        })
    }

    /// Applies `action` by `actor` at `at`; returns the new
    /// world and a JSON description of the result.
    pub fn apply(
        &self,
        actor: &str,
        role: Role,
        action: &Action,
        at: Timestamp,
    ) -> Result<(World, Value), Refusal> {
        if !action.roles().contains(&role) {
            return refused(
                format!("the {role} role may not take the {} action", action.kind()),
                section::ACTORS,
            );
        }
        if at < self.last_at {
            return refused(
                format!(
                    "time must not run backwards in the record: {} is before the latest event ({})",
                    at, self.last_at
                ),
                "docs/RULES.md#append-only",
            );
        }
        if !matches!(action, Action::RecordMigrated { .. })
            && self.seeded == matches!(action, Action::Import { .. })
        {
            return refused(
                if self.seeded {
                    "the record is already seeded: it changes only through allowed change requests and suspensions"
                } else {
                    "the record has not been seeded yet: run `rootguard import` first"
                },
                section::RECORD,
            );
        }
        let mut w = self.clone();
        w.last_at = at;
        let window = self.settings.appeal_window_days;
        let result = match action {
            Action::Import {
                delegations,
                policy,
                appeal_window_days,
                authenticity,
                identities,
                simulation,
            } => {
                PolicyConfig::duration(
                    "the appeal window",
                    *appeal_window_days,
                    policy.min_appeal_window_days,
                )?;
                for (what, days) in [
                    ("the minimum cure time", policy.min_cure_days),
                    ("the minimum comment period", policy.min_comment_days),
                ] {
                    PolicyConfig::duration(what, days, 1)?;
                }
                w.seeded = true;
                w.seed_authenticity = authenticity.clone();
                w.settings = Settings {
                    policy: policy.clone(),
                    appeal_window_days: *appeal_window_days,
                    simulation: *simulation,
                };
                w.approved = delegations
                    .iter()
                    .map(|a| (a.tld.clone(), a.clone()))
                    .collect();
                if !identities.iter().any(|r| r.kind == Kind::Operator) {
                    return refused(
                        "the import registers the first operator: give --operator and --operator-key",
                        super::identity::SECTION,
                    );
                }
                for r in identities {
                    if r.kind == Kind::Guard {
                        if w.identities
                            .values()
                            .any(|i| i.registration.kind == Kind::Guard)
                        {
                            return refused("one guard identity", super::identity::SECTION);
                        }
                    } else {
                        super::identity::check_registration(&w.identities, &w.approved, r, None)?;
                    }
                    w.identities.insert(
                        r.id.clone(),
                        Identity {
                            registration: r.clone(),
                            attested_by: actor.to_string(),
                            registered: at,
                            revoked: None,
                        },
                    );
                }
                json!({"seeded": delegations.len(), "identities": identities.len(), "simulation": simulation})
            }
            Action::GuardKeyRotated { key } => {
                let Some(guard) = self
                    .identities
                    .values()
                    .find(|i| i.registration.kind == Kind::Guard)
                    .cloned()
                else {
                    return refused("the record has no guard identity", super::identity::SECTION);
                };
                if signed_note::StandardVerifier::new(key).is_err()
                    || key.split('+').next() != Some(guard.registration.id.as_str())
                    || guard.registration.key.as_deref() == Some(key.as_str())
                {
                    return refused(
                        format!(
                            "{key:?} is not a new verifier key named {:?}",
                            guard.registration.id
                        ),
                        super::identity::SECTION,
                    );
                }
                let mut next = guard.clone();
                next.registration.key = Some(key.clone());
                w.identities.insert(guard.registration.id.clone(), next);
                json!({"guard_key": key})
            }
            Action::IdentityRegister { registration } => {
                super::identity::check_registration(
                    &self.identities,
                    &self.approved,
                    registration,
                    None,
                )?;
                w.identities.insert(
                    registration.id.clone(),
                    Identity {
                        registration: registration.clone(),
                        attested_by: actor.to_string(),
                        registered: at,
                        revoked: None,
                    },
                );
                json!({"identity": registration.id, "kind": registration.kind})
            }
            Action::IdentityRevoke { id, reason } => {
                let Some(i) = self.identities.get(id) else {
                    return refused(format!("no identity {id:?}"), super::identity::SECTION);
                };
                if !i.active() {
                    return refused(
                        format!("{id:?} is already revoked"),
                        super::identity::SECTION,
                    );
                }
                if i.registration.kind == Kind::Guard {
                    return refused(
                        "the guard's key is rotated, not revoked",
                        super::identity::SECTION,
                    );
                }
                if super::identity::last_operator(&self.identities, id) {
                    return refused(
                        format!("{id:?} is the last operator: register another one first"),
                        super::identity::SECTION,
                    );
                }
                if reason.trim().is_empty() {
                    return refused("a revocation says why", super::identity::SECTION);
                }
                let mut next = i.clone();
                next.revoked = Some(at);
                w.identities.insert(id.clone(), next);
                json!({"identity": id, "revoked": at})
            }
            Action::IdentityRotate {
                id,
                key,
                token_sha256,
            } => {
                let Some(i) = self.identities.get(id) else {
                    return refused(format!("no identity {id:?}"), super::identity::SECTION);
                };
                if !i.active() || i.registration.kind == Kind::Guard {
                    return refused(
                        format!("{id:?} is revoked or the guard: register a new identity"),
                        super::identity::SECTION,
                    );
                }
                if key.is_none() && token_sha256.is_none() {
                    return refused(
                        "a rotation gives a new key (--public-key) or token hash (--token-sha256)",
                        super::identity::SECTION,
                    );
                }
                let mut next = i.clone();
                if key.is_some() {
                    next.registration.key = key.clone();
                }
                if token_sha256.is_some() {
                    next.registration.token_sha256 = token_sha256.clone();
                }
                super::identity::check_registration(
                    &self.identities,
                    &self.approved,
                    &next.registration,
                    Some(id),
                )?;
                w.identities.insert(id.clone(), next);
                json!({"identity": id, "rotated": true})
            }
            Action::Sweep { tld, facts } => {
                self.approved(tld)?;
                let state = self.technical.get(tld).cloned().unwrap_or_default();
                let (next, effects) = state.sweep(facts, &self.settings.policy);
                w.technical.insert(tld.clone(), next);
                w.observed.insert(tld.clone(), facts.clone());
                w.round.insert(tld.clone());
                w.note_judged(tld, facts.impaired, at);
                json!({"effects": effects})
            }
            Action::RecordMigrated { from, to, head, .. } => {
                json!({"migrated": {"from": from, "to": to, "head": head}})
            }
            Action::SweepRound {
                steady,
                digest,
                dropped,
                impaired,
                window,
            } => {
                w.round.clear();
                if let Some(window) = window {
                    w.vantages = window.vantages.clone();
                    for (v, state) in &window.vantages {
                        if let Some(t) = state.at {
                            let last = w.vantage_last_at.entry(v.clone()).or_insert(t);
                            *last = (*last).max(t);
                        }
                    }
                    if window.decided {
                        w.quorum_lost_since = None;
                        let unjudged = w.unjudged_since.clone();
                        w.upheld.retain(|t, _| unjudged.contains_key(t));
                    } else if w.quorum_lost_since.is_none() {
                        w.quorum_lost_since = Some(at);
                    }
                }
                if *impaired {
                    json!({"impaired": true})
                } else {
                    for d in dropped {
                        w.observed.remove(d);
                        w.unjudged_since.remove(d);
                    }
                    let steady_tlds: Vec<String> = w
                        .observed
                        .keys()
                        .filter(|t| !self.round.contains(*t))
                        .cloned()
                        .collect();
                    let found = steady_digest(
                        steady_tlds
                            .iter()
                            .filter_map(|t| w.observed.get(t).map(|f| (t.as_str(), f))),
                    );
                    if steady_tlds.len() != *steady as usize || found != *digest {
                        return refused(
                            format!(
                                "the sweep round's {steady} steady ccTLDs (digest {digest}) are not the {} the record holds (digest {found})",
                                steady_tlds.len()
                            ),
                            section::TECHNICAL,
                        );
                    }
                    for t in steady_tlds {
                        let Some(facts) = w.observed.get_mut(&t) else {
                            continue;
                        };
                        facts.at = at;
                        let facts = facts.clone();
                        w.note_judged(&t, facts.impaired, at);
                        let state = w.technical.get(&t).cloned().unwrap_or_default();
                        let (next, effects) = state.sweep(&facts, &w.settings.policy);
                        // A round carries only steady ccTLDs; anything else
                        // must be its own event (a forged round is refused).
                        if !effects.iter().all(steady_effect) {
                            return refused(
                                format!(
                                    "the sweep round would change the state of .{t} without an event of its own"
                                ),
                                section::TECHNICAL,
                            );
                        }
                        w.technical.insert(t, next);
                    }
                    json!({"steady": steady})
                }
            }
            Action::SuspensionConfirm { tld } => {
                let policy = &self.settings.policy;
                w.update_technical(tld, |t| t.confirm(at, policy))?
            }
            Action::SuspensionImpose { tld, measure } => {
                let policy = &self.settings.policy;
                w.update_technical(tld, |t| t.impose(*measure, at, policy))?
            }
            Action::SuspensionUphold { tld, reason } => {
                self.approved(tld)?;
                let active = self
                    .technical
                    .get(tld.as_str())
                    .and_then(|t| t.active_measure());
                let Some(measure) = active else {
                    return refused(
                        format!(".{tld} has no active suspension to uphold"),
                        section::QUORUM_REVIEW,
                    );
                };
                if !self.review_due(tld, at) {
                    return refused(
                        format!(
                            "the suspension of .{tld} needs no review: {}",
                            match self.unjudged_since_for(tld) {
                                Some(t) => format!(
                                    "it has not been judged by a quorum of vantages since {t}, less than {} s",
                                    self.settings.policy.quorum_review_secs
                                ),
                                None => "a quorum of vantages judges it".to_string(),
                            }
                        ),
                        section::QUORUM_REVIEW,
                    );
                }
                if reason.trim().is_empty() || reason.len() > 4096 {
                    return refused(
                        "upholding a suspension needs a reason of 1 to 4096 bytes",
                        section::QUORUM_REVIEW,
                    );
                }
                w.upheld.insert(tld.to_string(), at);
                json!({"upheld": tld, "measure": measure, "reason": reason})
            }
            Action::SuspensionLift { tld, reason } => {
                w.update_technical(tld, |t| t.lift(reason))?
            }
            Action::ComplaintLodge {
                tld,
                category,
                text,
            } => {
                self.approved(tld)?;
                let id = self.complaints.len() as u64 + 1;
                w.complaints
                    .insert(id, Complaint::lodge(id, tld, *category, actor, text)?);
                json!({"complaint": id})
            }
            Action::ComplaintAssess {
                id,
                serious,
                reason,
            } => w.update_complaint(*id, |c| c.assess(*serious, reason))?,
            Action::ComplaintInform { id, notice } => {
                w.update_complaint(*id, |c| c.inform_constituency(notice))?
            }
            Action::ComplaintExplain { id, request } => {
                w.update_complaint(*id, |c| c.request_explanation(request))?
            }
            Action::ComplaintCureInstruction {
                id,
                course,
                deadline,
            } => {
                let min = self.settings.policy.min_cure_days;
                w.update_complaint(*id, |c| c.instruct_cure(course, *deadline, at, min))?
            }
            Action::ComplaintExplanation { id, text } => {
                self.own_manager(actor)?;
                w.update_complaint(*id, |c| c.explain(text))?
            }
            Action::ComplaintCure { id, statement } => {
                self.own_manager(actor)?;
                w.update_complaint(*id, |c| c.cure(statement))?
            }
            Action::ComplaintNoMerit { id, answer } => {
                self.own_manager(actor)?;
                w.update_complaint(*id, |c| c.answer_no_merit(answer))?
            }
            Action::ComplaintFailureNotice { id, notice } => {
                w.update_complaint(*id, |c| c.notice_failure_to_cure(notice, at))?
            }
            Action::MediationOpen { id } => w.update_complaint(*id, |c| c.open_mediation())?,
            Action::MediationSession {
                id,
                record,
                good_faith,
                incumbent_position,
                complainant_position,
            } => {
                match self.identities.get(actor) {
                    Some(i) if i.active() && i.registration.kind == Kind::Mediator => {}
                    _ => {
                        return refused(
                            format!(
                                "{actor:?} is not a registered mediator: only a mediator records mediation sessions"
                            ),
                            crate::policy::complaint::section::MEDIATION,
                        );
                    }
                }
                w.update_complaint(*id, |c| {
                    c.record_session(Session {
                        at,
                        record: record.clone(),
                        good_faith: *good_faith,
                        mediator: Some(actor.to_string()),
                        incumbent_position: incumbent_position.clone(),
                        complainant_position: complainant_position.clone(),
                    })
                })?
            }
            Action::MediationResolve { id, terms } => {
                w.update_complaint(*id, |c| c.resolve(terms))?
            }
            Action::MediationFail { id } => w.update_complaint(*id, |c| c.fail_mediation())?,
            Action::ComplaintClose { id, reason } => {
                w.update_complaint(*id, |c| c.close(reason))?
            }
            Action::CaseOpen { tld, path } => {
                let a = self.approved(tld)?;
                match path {
                    EntryPath::Relinquishment { .. } => self.own_manager(actor).map_err(|_| {
                        Refusal::new(
                            format!("a voluntary relinquishment of .{tld} is the incumbent manager's own signed consent: {actor:?} is not its registered manager"),
                            crate::policy::case::section::IMPLEMENTATION,
                        )
                    })?,
                    _ if role != Role::Operator => {
                        return refused(
                            "only an operator opens proceedings or a case upon death or dissolution",
                            section::ACTORS,
                        );
                    }
                    _ => {}
                }
                let mediation_failed = match path {
                    EntryPath::Proceedings { complaint } => {
                        let c = self.complaint(*complaint)?;
                        if *tld != *c.tld {
                            return refused(
                                format!("complaint {complaint} is about .{}, not .{tld}", c.tld),
                                crate::policy::case::section::NO_REDELEGATION_WITHOUT_CURE,
                            );
                        }
                        c.mediation_failed()
                    }
                    _ => false,
                };
                if let Some(open) = self
                    .cases
                    .values()
                    .find(|c| *tld == *c.tld && c.completed().is_none())
                {
                    return refused(
                        format!("case {} for .{tld} is still open", open.id),
                        crate::policy::case::section::NO_REDELEGATION_WITHOUT_CURE,
                    );
                }
                let id = self.cases.len() as u64 + 1;
                // The territory is the ccTLD's own, never the contacts'
                // (docs/RULES.md#territories).
                let Some(t) = crate::policy::territory::of(tld) else {
                    return refused(
                        format!("no territory is known for .{tld} (zones/territories.tsv)"),
                        crate::policy::case::section::TERRITORIES,
                    );
                };
                let territory = t.name.clone();
                let mut case = Case::open(
                    id,
                    tld,
                    &territory,
                    &a.manager,
                    path.clone(),
                    mediation_failed,
                )?;
                case.territory_waived = t.waived();
                w.cases.insert(id, case);
                json!({"case": id, "territory": territory})
            }
            Action::CaseAppoint { id, seat, member } => {
                let case = self.case(*id)?;
                self.appointer(case, Appointer::Seat(*seat), member)?;
                let r = w.update_case(*id, |c| c.appoint(*seat, member.clone()))?;
                self.seated(&member.id, Kind::PanelMember)?;
                r
            }
            Action::CasePriorRecord { id, document } => {
                w.update_case(*id, |c| c.attach_prior_record(document))?
            }
            Action::CaseCommunication { id, text } => {
                w.update_case(*id, |c| c.enter_communication(text))?
            }
            Action::CaseEvidence { id, party, summary } => {
                w.update_case(*id, |c| c.present_evidence(*party, summary))?
            }
            Action::CasePrinciple {
                id,
                question,
                answer,
            } => w.update_case(*id, |c| c.answer_principle(question, answer))?,
            Action::CaseFinding {
                id,
                question,
                finding,
            } => w.update_case(*id, |c| c.record_finding(question, finding))?,
            Action::CaseCriterion {
                id,
                criterion,
                note,
            } => w.update_case(*id, |c| c.consider_criterion(criterion, note))?,
            Action::CaseVote { id, outcome } => {
                w.update_case(*id, |c| c.vote(actor, outcome.clone()))?
            }
            Action::CaseDecide { id, outcome } => {
                w.update_case(*id, |c| c.release_decision(outcome.clone(), at))?
            }
            Action::CaseAppeal { id, party } => {
                w.update_case(*id, |c| c.appeal(*party, at, window))?
            }
            Action::CaseTribunalSeat { id, group, member } => {
                let case = self.case(*id)?;
                self.appointer(case, Appointer::Tribunal(*group), member)?;
                let r = w.update_case(*id, |c| c.seat_tribunal(*group, member.clone()))?;
                self.seated(&member.id, Kind::TribunalMember)?;
                r
            }
            Action::CaseTribunalVote { id, uphold } => {
                w.update_case(*id, |c| c.tribunal_vote(actor, *uphold, at))?
            }
            Action::CaseFinalize { id } => w.update_case(*id, |c| c.finalize(at, window))?,
            Action::CaseApply { id, application } => {
                w.update_case(*id, |c| c.apply(application.clone()))?
            }
            Action::CaseComment { id, days } => {
                PolicyConfig::duration(
                    "the public comment period",
                    *days,
                    self.settings.policy.min_comment_days,
                )?;
                w.update_case(*id, |c| c.open_comment(at, *days))?
            }
            Action::CaseSelect { id, applicant } => {
                w.update_case(*id, |c| c.select(applicant, at))?
            }
            Action::ChangeConfirm { request } => {
                self.approved(&request.tld)?;
                let kind = self.identities.get(actor).map(|i| i.registration.kind);
                let digest = request.digest();
                let mut c = self
                    .confirmations
                    .get(&digest)
                    .cloned()
                    .unwrap_or(Confirmation {
                        tld: request.tld.to_string(),
                        ..Confirmation::default()
                    });
                match kind {
                    Some(Kind::AdminContact) => c.admin_contact = Some(actor.to_string()),
                    Some(Kind::TechContact) => c.tech_contact = Some(actor.to_string()),
                    _ => {
                        return refused(
                            format!(
                                "{actor:?} is not a registered administrative or technical contact: only the incumbent's contacts confirm a change"
                            ),
                            super::identity::SECTION,
                        );
                    }
                }
                w.confirmations.insert(digest.clone(), c.clone());
                json!({"request": digest, "confirmed": c})
            }
            Action::Gate { request, precheck } => {
                let a = self.approved(&request.tld)?;
                // Confirmations are those the contacts recorded for
                // exactly this request, never the request's own word.
                let digest = request.digest();
                let confirmed = self.confirmations.get(&digest).cloned().unwrap_or_default();
                let mut request = request.clone();
                request.confirmations = crate::policy::gate::Confirmations {
                    admin_contact: confirmed.admin_contact.is_some(),
                    tech_contact: confirmed.tech_contact.is_some(),
                };
                let request = &request;
                let cases: Vec<&Case> = self
                    .cases
                    .values()
                    .filter(|c| request.tld == c.tld.as_str())
                    .collect();
                let decision = decide(request, a, precheck.as_ref(), &cases);
                if decision.allowed {
                    if request.changes_manager(a) {
                        // The case that authorised it is used up
                        // (docs/RULES.md#gate-bound).
                        let new_manager = request.applied_to(a).manager;
                        if let Some(c) = w.cases.values_mut().find(|c| {
                            *c.tld == *request.tld.as_str()
                                && !c.implemented
                                && c.incumbent == a.manager
                                && c.completed() == Some(Some(new_manager.as_str()))
                        }) {
                            c.implemented = true;
                        }
                    }
                    w.approved
                        .insert(request.tld.to_string(), request.applied_to(a));
                    // A confirmation authorises one change.
                    w.confirmations.remove(&digest);
                }
                json!({"decision": decision, "confirmed_by": confirmed})
            }
        };
        Ok((w, result))
    }

    /// Applies an operator's suspension action to a TLD's technical state.
    fn update_technical(
        &mut self,
        tld: &str,
        f: impl FnOnce(
            &TldTechnical,
        ) -> Result<(TldTechnical, crate::policy::technical::Effect), Refusal>,
    ) -> Result<Value, Refusal> {
        self.approved(tld)?;
        let (next, effect) = f(&self.technical.get(tld).cloned().unwrap_or_default())?;
        self.technical.insert(tld.to_string(), next);
        Ok(json!({"effects": [effect]}))
    }

    /// Keeps a gate decision under its event number.
    pub(super) fn note_decision(&mut self, seq: i64, action: &Action, result: &Value) {
        if let Action::Gate { request, .. } = action
            && let Some(d) = result
                .get("decision")
                .and_then(|d| serde_json::from_value::<GateDecision>(d.clone()).ok())
        {
            self.decisions.insert(seq, ((**request).clone(), d));
        }
    }

    fn update_complaint(
        &mut self,
        id: u64,
        f: impl FnOnce(&Complaint) -> Result<Complaint, Refusal>,
    ) -> Result<Value, Refusal> {
        let next = f(self.complaint(id)?)?;
        let stage = serde_json::to_value(&next.stage).unwrap_or(Value::Null);
        self.complaints.insert(id, next);
        Ok(json!({"complaint": id, "stage": stage}))
    }

    fn update_case(
        &mut self,
        id: u64,
        f: impl FnOnce(&Case) -> Result<Case, Refusal>,
    ) -> Result<Value, Refusal> {
        let next = f(self.case(id)?)?;
        let stage = serde_json::to_value(&next.stage).unwrap_or(Value::Null);
        let remaining = next.remaining_steps();
        self.cases.insert(id, next);
        Ok(json!({"case": id, "stage": stage, "remaining": remaining}))
    }
}
