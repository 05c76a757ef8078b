//! The actions that change the record: each is recorded in the journal
//! and is also an operator subcommand (`rootguard act ...`), so that a
//! whole case can be run from a shell script. This file holds their shape
//! (fields, command-line and JSON forms, the rules each cites); the rules
//! that decide them are in `policy`, their application in `world`.

use crate::time::Timestamp;
use crate::zone::Tld;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::identity::Registration;
pub use crate::policy::Role;
use crate::policy::case::{Application, EntryPath, Member, Outcome, Party, Seat, TribunalGroup};
use crate::policy::complaint::Category;
use crate::policy::gate::{ChangeRequest, Precheck};
use crate::policy::registry::Approved;
use crate::policy::technical::{Measure, SweepFacts};
use crate::policy::{PolicyConfig, section};

/// A command-line value that is neither JSON nor a plain string of the
/// expected form.
#[derive(Debug, thiserror::Error)]
#[error("not a valid value: {0}")]
pub struct JsonArgError(String);

/// Reads a change request from a JSON file named on the command line.
pub fn request_file(path: &str) -> Result<Box<ChangeRequest>, JsonArgError> {
    let text = std::fs::read_to_string(path).map_err(|e| JsonArgError(format!("{path}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| JsonArgError(format!("{path}: {e}")))
}

/// Parses a command-line value as JSON, or as a bare JSON string.
pub fn json_arg<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, JsonArgError> {
    serde_json::from_str(s)
        .or_else(|_| serde_json::from_value(Value::String(s.to_string())))
        .map_err(|e| JsonArgError(e.to_string()))
}
/// Every state change, as recorded in the journal and offered on the
/// command line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, clap::Subcommand)]
#[serde(tag = "action", rename_all = "kebab-case")]
#[command(rename_all = "kebab-case")]
pub enum Action {
    /// Seed the approved delegation record (once).
    #[command(skip)]
    Import {
        /// The approved delegations.
        delegations: Vec<Approved>,
        /// Policy settings in force from now on.
        policy: PolicyConfig,
        /// Appeal window in days (BP §6.4 sets none; default 30).
        appeal_window_days: i64,
        /// The seed zone's authenticity when it was verified
        /// (docs/RULES.md#authentic-root-zone); absent when it was not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authenticity: Option<String>,
        /// The identities registered with the seed: the first operator,
        /// the guard, the configuration's API tokens
        /// (`docs/RULES.md#identities`).
        #[serde(default)]
        identities: Vec<Registration>,
        /// A simulation: the only record whose clock may be set.
        #[serde(default)]
        simulation: bool,
    },
    /// Register an identity (an operator attests it;
    /// `docs/RULES.md#identities`).
    IdentityRegister {
        /// What is registered.
        #[command(flatten)]
        #[serde(flatten)]
        registration: Registration,
    },
    /// Revoke an identity (a lost or compromised credential: revoke, then
    /// register a new identity).
    IdentityRevoke {
        /// The identity.
        #[arg(long = "identity")]
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// The incumbent's administrative or technical contact confirms a
    /// change request with its own credential (`docs/RULES.md#identities`):
    /// the gate counts the confirmations recorded for exactly that request.
    ChangeConfirm {
        /// The change request confirmed (a JSON file, as `gate` reads it).
        #[arg(long, value_parser = request_file)]
        request: Box<ChangeRequest>,
    },
    /// Replace an identity's key or token.
    IdentityRotate {
        /// The identity.
        #[arg(long = "identity")]
        id: String,
        /// The new verifier key.
        #[arg(long = "public-key", id = "public_key")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        /// SHA-256 (hex) of the new bearer token.
        #[arg(long)]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_sha256: Option<String>,
    },
    /// One sweep's facts for a TLD (the guard).
    #[command(skip)]
    Sweep {
        /// The ccTLD.
        tld: String,
        /// What the sweep found.
        facts: SweepFacts,
    },
    /// The rest of one sweep round (the guard): the ccTLDs whose
    /// observations equal their previous ones are counted, not copied
    /// (`docs/RULES.md#technical-complaint`). Their previous observations
    /// apply again; `digest` (SHA-256 over them) lets replay check that.
    /// ccTLDs observed before and not swept now are `dropped`.
    #[command(skip)]
    SweepRound {
        /// How many ccTLDs were observed as before.
        steady: u32,
        /// SHA-256 (hex) of the steady ccTLDs and their observations.
        digest: String,
        /// ccTLDs no longer swept.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        dropped: Vec<String>,
        /// The vantage point was impaired, or fewer healthy vantages than
        /// the quorum reported: the round changes nothing.
        #[serde(default)]
        impaired: bool,
        /// With the quorum rule: how each vantage fared in the window
        /// (`docs/RULES.md#quorum`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window: Option<crate::policy::quorum::WindowRecord>,
    },
    /// The record was converted from an older format (the guard): the old
    /// journal's head hash, kept in the new log.
    #[command(skip)]
    RecordMigrated {
        /// Format version found.
        from: i64,
        /// Format version written.
        to: i64,
        /// The old journal's head hash.
        head: String,
        /// Where the copy of the old file is kept.
        kept: String,
    },
    /// The guard's key was rotated (the guard): the new verifier key, in an
    /// event sealed with the old key (`docs/RULES.md#checkpoints`).
    #[command(skip)]
    GuardKeyRotated {
        /// The new verifier key.
        key: String,
    },
    /// Confirm a proposed suspension (needs a current threat, BP §4.3).
    SuspensionConfirm {
        /// The ccTLD.
        #[arg(long)]
        tld: Tld,
    },
    /// Impose a suspension (needs a current threat; the least measure).
    SuspensionImpose {
        /// The ccTLD.
        #[arg(long)]
        tld: Tld,
        /// `withhold-ds` or `hold-delegation`.
        #[arg(long, value_parser = json_arg::<Measure>)]
        measure: Measure,
    },
    /// Keep an active suspension while the quorum of vantages is lost
    /// (`docs/RULES.md#quorum-review`): only once its review is due.
    SuspensionUphold {
        /// The ccTLD.
        #[arg(long)]
        tld: Tld,
        /// Why it stays.
        #[arg(long)]
        reason: String,
    },
    /// Lift a suspension early.
    SuspensionLift {
        /// The ccTLD.
        #[arg(long)]
        tld: Tld,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Lodge a complaint (anyone, BP §4.1).
    ComplaintLodge {
        /// The ccTLD.
        #[arg(long)]
        tld: Tld,
        /// `technical` or `non-technical`.
        #[arg(long, value_parser = json_arg::<Category>)]
        category: Category,
        /// What it is about.
        #[arg(long)]
        text: String,
    },
    /// Assess a non-technical complaint's seriousness (BP §4.2.2).
    ComplaintAssess {
        /// Complaint number.
        #[arg(long)]
        id: u64,
        /// Serious or not.
        #[arg(long, action = clap::ArgAction::Set)]
        serious: bool,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Inform the ccTLD constituency in writing (BP §4.4).
    ComplaintInform {
        /// Complaint number.
        #[arg(long)]
        id: u64,
        /// The written notice.
        #[arg(long)]
        notice: String,
    },
    /// Ask the manager for an explanation (BP §4.4).
    ComplaintExplain {
        /// Complaint number.
        #[arg(long)]
        id: u64,
        /// The request.
        #[arg(long)]
        request: String,
    },
    /// The manager gives its explanation, recorded as a step (BP §4.4).
    ComplaintExplanation {
        /// Complaint number.
        #[arg(long)]
        id: u64,
        /// The explanation.
        #[arg(long)]
        text: String,
    },
    /// Write a cure instruction with a course and deadline (BP §4.4.1).
    ComplaintCureInstruction {
        /// Complaint number.
        #[arg(long)]
        id: u64,
        /// Suggested course of action.
        #[arg(long)]
        course: String,
        /// Deadline (RFC 3339).
        #[arg(long)]
        deadline: Timestamp,
    },
    /// The manager cures (BP §3 b).
    ComplaintCure {
        /// Complaint number.
        #[arg(long)]
        id: u64,
        /// What was done.
        #[arg(long)]
        statement: String,
    },
    /// The manager answers that the complaint has no merit (BP §3 b).
    ComplaintNoMerit {
        /// Complaint number.
        #[arg(long)]
        id: u64,
        /// The answer.
        #[arg(long)]
        answer: String,
    },
    /// Issue the written failure-to-cure notice (BP §4.4.2).
    ComplaintFailureNotice {
        /// Complaint number.
        #[arg(long)]
        id: u64,
        /// The written notice.
        #[arg(long)]
        notice: String,
    },
    /// Open mediation (BP §5).
    MediationOpen {
        /// Complaint number.
        #[arg(long)]
        id: u64,
    },
    /// Record a mediation session (BP §5).
    MediationSession {
        /// Complaint number.
        #[arg(long)]
        id: u64,
        /// The written record.
        #[arg(long)]
        record: String,
        /// Whether it shows good-faith attempts.
        #[arg(long, action = clap::ArgAction::Set)]
        good_faith: bool,
        /// The incumbent manager's written position.
        #[arg(long, default_value = "")]
        #[serde(default)]
        incumbent_position: String,
        /// The complainant's written position.
        #[arg(long, default_value = "")]
        #[serde(default)]
        complainant_position: String,
    },
    /// Mediation reached agreement.
    MediationResolve {
        /// Complaint number.
        #[arg(long)]
        id: u64,
        /// The terms.
        #[arg(long)]
        terms: String,
    },
    /// Mediation failed (only with good-faith attempts shown, BP §5).
    MediationFail {
        /// Complaint number.
        #[arg(long)]
        id: u64,
    },
    /// Close a technical complaint.
    ComplaintClose {
        /// Complaint number.
        #[arg(long)]
        id: u64,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Open a redelegation case (BP §2, §6, §7).
    CaseOpen {
        /// The ccTLD.
        #[arg(long)]
        tld: Tld,
        /// JSON: `{"path":"proceedings","complaint":N}`, `{"path":"relinquishment","consent":"..."}` or `{"path":"dissolution","evidence":"..."}`.
        #[arg(long, value_parser = json_arg::<EntryPath>)]
        path: EntryPath,
    },
    /// Fill a panel seat (BP §6.1.1).
    CaseAppoint {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// The seat.
        #[arg(long, value_parser = json_arg::<Seat>)]
        seat: Seat,
        /// JSON member: id, name, appointed_by, government_of, declares_no_involvement.
        #[arg(long, value_parser = json_arg::<Member>)]
        member: Member,
    },
    /// Attach IANA's record of previous proceedings (BP §6.3.1 a).
    CasePriorRecord {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// The document.
        #[arg(long)]
        document: String,
    },
    /// Enter a communication in the record (BP §6.3.1 c).
    CaseCommunication {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// The communication.
        #[arg(long)]
        text: String,
    },
    /// Record a party's evidence (BP §6.3.1 e).
    CaseEvidence {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// `incumbent` or `complainant`.
        #[arg(long, value_parser = json_arg::<Party>)]
        party: Party,
        /// Summary.
        #[arg(long)]
        summary: String,
    },
    /// Answer a §6.2 question (a-d).
    CasePrinciple {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// a, b, c or d.
        #[arg(long)]
        question: String,
        /// The answer.
        #[arg(long)]
        answer: String,
    },
    /// Record the panel's written finding on a §6.2 answer that raises a
    /// concern (docs/RULES.md#decision-weighs).
    CaseFinding {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// a, b, c or d.
        #[arg(long)]
        question: String,
        /// Why the decision stands despite the concern.
        #[arg(long)]
        finding: String,
    },
    /// Record a §6.3.2 criterion as considered (a-e, e.1-e.4).
    CaseCriterion {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// The criterion.
        #[arg(long)]
        criterion: String,
        /// Note.
        #[arg(long)]
        note: String,
    },
    /// A panel member votes (BP §6.3.3).
    CaseVote {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// JSON outcome: `{"outcome":"retain"}`, `{"outcome":"redelegate","to":"..."}`, ...
        #[arg(long, value_parser = json_arg::<Outcome>)]
        outcome: Outcome,
    },
    /// Release the decision (5 of 7 votes and every prerequisite).
    CaseDecide {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// The outcome.
        #[arg(long, value_parser = json_arg::<Outcome>)]
        outcome: Outcome,
    },
    /// Appeal a decision within the window (BP §6.4).
    CaseAppeal {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// `incumbent` or `complainant`.
        #[arg(long, value_parser = json_arg::<Party>)]
        party: Party,
    },
    /// Seat a tribunal member (two per group, BP §6.4).
    CaseTribunalSeat {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// `incumbent`, `local-internet-community` or `board`.
        #[arg(long, value_parser = json_arg::<TribunalGroup>)]
        group: TribunalGroup,
        /// JSON member.
        #[arg(long, value_parser = json_arg::<Member>)]
        member: Member,
    },
    /// A tribunal member votes to uphold or overturn.
    CaseTribunalVote {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// Uphold (true) or overturn (false).
        #[arg(long, action = clap::ArgAction::Set)]
        uphold: bool,
    },
    /// Make the decision final after the appeal window.
    CaseFinalize {
        /// Case number.
        #[arg(long)]
        id: u64,
    },
    /// Record an application (BP §7).
    CaseApply {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// JSON application.
        #[arg(long, value_parser = json_arg::<Application>)]
        application: Application,
    },
    /// Solicit public comment for a number of days (BP §7).
    CaseComment {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// Days.
        #[arg(long)]
        days: i64,
    },
    /// Select the new manager (BP §7).
    CaseSelect {
        /// Case number.
        #[arg(long)]
        id: u64,
        /// The applicant.
        #[arg(long)]
        applicant: String,
    },
    /// A change request and its pre-check, decided by the gate.
    #[command(skip)]
    Gate {
        /// The request.
        request: Box<ChangeRequest>,
        /// The pre-check of the proposed delegation.
        precheck: Option<Precheck>,
    },
}

impl Action {
    /// The event kind.
    pub fn kind(&self) -> String {
        let v = serde_json::to_value(self).unwrap_or(Value::Null);
        v.get("action")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string()
    }

    pub(super) fn subject(&self) -> String {
        let v = serde_json::to_value(self).unwrap_or(Value::Null);
        let kind = self.kind();
        if let Some(id) = v.get("id").and_then(Value::as_u64) {
            let what = if kind.starts_with("case") {
                "case"
            } else {
                "complaint"
            };
            return format!("{what}:{id}");
        }
        if let Some(tld) = v.get("tld").and_then(Value::as_str) {
            return format!("tld:{tld}");
        }
        if let Action::Gate { request, .. } | Action::ChangeConfirm { request } = self {
            return format!("tld:{}", request.tld);
        }
        if let Action::SweepRound { .. } = self {
            return "sweeps".into();
        }
        match self {
            Action::IdentityRegister { registration } => {
                return format!("identity:{}", registration.id);
            }
            Action::IdentityRevoke { id, .. } | Action::IdentityRotate { id, .. } => {
                return format!("identity:{id}");
            }
            _ => {}
        }
        if let Action::RecordMigrated { .. } | Action::GuardKeyRotated { .. } = self {
            return "record".into();
        }
        "registry".into()
    }

    /// What only the guard may observe that this action carries, if any
    /// (`docs/RULES.md#observations`): sweep observations, a gate's
    /// pre-check, an applicant's technical qualification or pre-check.
    /// Input (`act`, `batch`, the API) that carries one is refused.
    pub fn carried_observation(&self) -> Option<&'static str> {
        match self {
            Action::Sweep { .. } | Action::SweepRound { .. } => Some("sweep observations"),
            Action::RecordMigrated { .. } => Some("the record's own history"),
            Action::GuardKeyRotated { .. } => Some("the guard's own key"),
            Action::Gate {
                precheck: Some(_), ..
            } => Some("the pre-check of a change request"),
            Action::CaseApply { application, .. }
                if application.technically_qualified || application.precheck.is_some() =>
            {
                Some("an applicant's technical qualification")
            }
            _ => None,
        }
    }

    pub(super) fn section(&self) -> &'static str {
        use crate::policy::{case::section as cs, complaint::section as ps, gate::section as gs};
        match self {
            Action::Import { .. } => section::RECORD,
            Action::IdentityRegister { .. }
            | Action::IdentityRevoke { .. }
            | Action::IdentityRotate { .. } => super::identity::SECTION,
            Action::ChangeConfirm { .. } => crate::policy::gate::section::TECHNICAL,
            Action::RecordMigrated { .. } => section::APPEND_ONLY,
            Action::GuardKeyRotated { .. } => "docs/RULES.md#checkpoints",
            Action::Sweep { .. } | Action::SweepRound { .. } => section::TECHNICAL,
            Action::SuspensionConfirm { .. } | Action::SuspensionImpose { .. } => {
                section::SUSPENSION
            }
            Action::SuspensionLift { .. } => section::SUSPENSION_LIFT,
            Action::SuspensionUphold { .. } => section::QUORUM_REVIEW,
            Action::ComplaintLodge { .. } | Action::ComplaintClose { .. } => ps::LODGE,
            Action::ComplaintAssess { .. }
            | Action::ComplaintInform { .. }
            | Action::ComplaintExplain { .. }
            | Action::ComplaintExplanation { .. } => ps::HANDLING,
            Action::ComplaintCureInstruction { .. }
            | Action::ComplaintCure { .. }
            | Action::ComplaintNoMerit { .. } => ps::CURE,
            Action::ComplaintFailureNotice { .. } => ps::FAILURE,
            Action::MediationOpen { .. }
            | Action::MediationSession { .. }
            | Action::MediationResolve { .. }
            | Action::MediationFail { .. } => ps::MEDIATION,
            Action::CaseOpen { .. } => cs::NO_REDELEGATION_WITHOUT_CURE,
            Action::CaseAppoint { .. } => cs::PANEL,
            Action::CasePriorRecord { .. }
            | Action::CaseCommunication { .. }
            | Action::CaseEvidence { .. } => cs::DELIBERATION,
            Action::CasePrinciple { .. } => cs::PRINCIPLES,
            Action::CaseFinding { .. } => cs::WEIGHS,
            Action::CaseCriterion { .. } => cs::CRITERIA,
            Action::CaseVote { .. } | Action::CaseDecide { .. } => cs::DECISION,
            Action::CaseAppeal { .. }
            | Action::CaseTribunalSeat { .. }
            | Action::CaseTribunalVote { .. }
            | Action::CaseFinalize { .. } => cs::APPEAL,
            Action::CaseApply { .. } | Action::CaseComment { .. } | Action::CaseSelect { .. } => {
                cs::IMPLEMENTATION
            }
            Action::Gate { request: _, .. } => gs::REDELEGATION,
        }
    }

    /// Roles allowed to take this action.
    pub(super) fn roles(&self) -> &'static [Role] {
        match self {
            Action::Sweep { .. }
            | Action::SweepRound { .. }
            | Action::RecordMigrated { .. }
            | Action::GuardKeyRotated { .. } => &[Role::Guard],
            Action::ComplaintLodge { .. } => &[
                Role::Operator,
                Role::Manager,
                Role::Public,
                Role::PanelMember,
                Role::Guard,
            ],
            // Only the ccTLD's own manager cures, answers or explains
            // (docs/RULES.md#cure).
            Action::ComplaintCure { .. }
            | Action::ComplaintNoMerit { .. }
            | Action::ComplaintExplanation { .. } => &[Role::Manager],
            Action::Gate { .. } => &[Role::Operator, Role::Manager],
            // A voluntary relinquishment is opened by the incumbent manager
            // itself; every other case by an operator (docs/RULES.md#case-entry).
            Action::CaseOpen { .. } => &[Role::Operator, Role::Manager],
            // Sessions are recorded by the mediator (docs/RULES.md#mediation).
            Action::MediationSession { .. } => &[Role::Public],
            Action::ChangeConfirm { .. } => &[Role::Manager],
            Action::CaseVote { .. } | Action::CaseTribunalVote { .. } => &[Role::PanelMember],
            _ => &[Role::Operator],
        }
    }

    /// The ccTLD the action concerns, directly or through its complaint
    /// or case, when the record knows it.
    pub(super) fn tld_in(&self, world: &super::World) -> Option<String> {
        let v = serde_json::to_value(self).unwrap_or(Value::Null);
        let kind = self.kind();
        let tld = if let Action::Gate { request, .. } | Action::ChangeConfirm { request } = self {
            Some(request.tld.to_string())
        } else if let Some(t) = v.get("tld").and_then(Value::as_str) {
            Some(t.to_string())
        } else if let Some(id) = v.get("id").and_then(Value::as_u64) {
            if kind.starts_with("case") {
                world.cases.get(&id).map(|c| c.tld.to_string())
            } else {
                world.complaints.get(&id).map(|c| c.tld.to_string())
            }
        } else {
            None
        };
        tld.filter(|t| world.approved.contains_key(t))
    }
}
