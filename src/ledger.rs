//! The governance ledger: the policy state of every ccTLD, complaint, case
//! and change request, derived by replaying the journal in `store`, and the
//! one way to change it: [`Ledger::submit`] an [`Action`], which the
//! policy machines accept (and the journal records) or refuse.
//!
//! Each [`Action`] is also an operator subcommand (`rootguard act ...`), so
//! that a whole case can be run from a shell script. Refusals are recorded
//! where the rules say so (suspension requests without a threat, BP §4.3);
//! gate decisions are always recorded; other refusals write nothing.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::policy::case::{
    Application, Case, EntryPath, Member, Outcome, Party, Seat, TribunalGroup,
};
use crate::policy::complaint::{Category, Complaint, Session};
use crate::policy::gate::{ChangeRequest, GateDecision, Precheck, RequestKind, decide};
use crate::policy::registry::Approved;
use crate::policy::technical::{Measure, SweepFacts, TldTechnical};
use crate::policy::{PolicyConfig, Refusal, section};
use crate::store::{Event, NewEvent, Store, StoreError};

/// Why an action was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The rules refuse it.
    #[error("{0}")]
    Refused(Refusal),
    /// The input is not valid (bad input, never recorded).
    #[error(transparent)]
    Invalid(#[from] crate::policy::gate::InvalidRequest),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The journal does not replay: it was written by rules this build
    /// does not share, or tampered with.
    #[error("journal event {seq} ({kind}) does not replay: {reason}")]
    Replay {
        /// Event.
        seq: i64,
        /// Kind.
        kind: String,
        /// Why.
        reason: String,
    },
}

/// Roles of actors (POLICY.md "The actors").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// IANA staff.
    Operator,
    /// Manager of a ccTLD.
    Manager,
    /// Member of a panel or tribunal.
    PanelMember,
    /// Anyone.
    Public,
    /// The guard itself.
    Guard,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Operator => "operator",
            Role::Manager => "manager",
            Role::PanelMember => "panel-member",
            Role::Public => "public",
            Role::Guard => "guard",
        })
    }
}

/// Parses a command-line value as JSON, or as a bare JSON string.
pub fn json_arg<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, String> {
    serde_json::from_str(s)
        .or_else(|_| serde_json::from_value(Value::String(s.to_string())))
        .map_err(|e| format!("not a valid value: {e}"))
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
    },
    /// One sweep's facts for a TLD (the guard).
    #[command(skip)]
    Sweep {
        /// The ccTLD.
        tld: String,
        /// What the sweep found.
        facts: SweepFacts,
    },
    /// Confirm a proposed suspension (needs a current threat, BP §4.3).
    SuspensionConfirm {
        /// The ccTLD.
        #[arg(long)]
        tld: String,
    },
    /// Impose a suspension (needs a current threat; the least measure).
    SuspensionImpose {
        /// The ccTLD.
        #[arg(long)]
        tld: String,
        /// `withhold-ds` or `hold-delegation`.
        #[arg(long, value_parser = json_arg::<Measure>)]
        measure: Measure,
    },
    /// Lift a suspension early.
    SuspensionLift {
        /// The ccTLD.
        #[arg(long)]
        tld: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Lodge a complaint (anyone, BP §4.1).
    ComplaintLodge {
        /// The ccTLD.
        #[arg(long)]
        tld: String,
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
        deadline: String,
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
        tld: String,
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

    fn subject(&self) -> String {
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
        if let Action::Gate { request, .. } = self {
            return format!("tld:{}", request.tld);
        }
        "registry".into()
    }

    fn section(&self) -> &'static str {
        use crate::policy::{case::section as cs, complaint::section as ps, gate::section as gs};
        match self {
            Action::Import { .. } => "POLICY.md: the delegation record",
            Action::Sweep { .. } => section::TECHNICAL,
            Action::SuspensionConfirm { .. } | Action::SuspensionImpose { .. } => {
                section::SUSPENSION
            }
            Action::SuspensionLift { .. } => section::SUSPENSION_LIFT,
            Action::ComplaintLodge { .. } | Action::ComplaintClose { .. } => ps::LODGE,
            Action::ComplaintAssess { .. }
            | Action::ComplaintInform { .. }
            | Action::ComplaintExplain { .. } => ps::HANDLING,
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
    fn roles(&self) -> &'static [Role] {
        match self {
            Action::Sweep { .. } => &[Role::Guard],
            Action::ComplaintLodge { .. } => &[
                Role::Operator,
                Role::Manager,
                Role::Public,
                Role::PanelMember,
                Role::Guard,
            ],
            Action::ComplaintCure { .. }
            | Action::ComplaintNoMerit { .. }
            | Action::Gate { .. } => &[Role::Operator, Role::Manager],
            Action::CaseVote { .. } | Action::CaseTribunalVote { .. } => &[Role::PanelMember],
            _ => &[Role::Operator],
        }
    }

    /// Whether refusals of this action are themselves recorded.
    fn refusal_recorded(&self) -> bool {
        matches!(
            self,
            Action::SuspensionConfirm { .. } | Action::SuspensionImpose { .. }
        )
    }
}

/// Settings recorded with the import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Policy settings.
    pub policy: PolicyConfig,
    /// Appeal window in days.
    pub appeal_window_days: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            policy: PolicyConfig::default(),
            appeal_window_days: 30,
        }
    }
}

/// The policy state of everything, as derived from the journal.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct World {
    /// Settings.
    pub settings: Settings,
    /// Whether the record has been seeded.
    pub seeded: bool,
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
    /// Time of the latest event (Unix seconds).
    pub last_at: i64,
}

fn refused<T>(reason: impl Into<String>, section: &str) -> Result<T, Refusal> {
    Err(Refusal::new(reason, section))
}

fn parse_time(s: &str) -> Result<i64, Refusal> {
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|e| Refusal::new(format!("{s:?} is not an RFC 3339 time: {e}"), "RFC 3339"))
}

impl World {
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
                "POLICY.md: the delegation record",
            )
        })
    }

    fn complaint(&self, id: u64) -> Result<&Complaint, Refusal> {
        self.complaints
            .get(&id)
            .ok_or_else(|| Refusal::new(format!("no complaint {id}"), "BP §4.1"))
    }

    fn case(&self, id: u64) -> Result<&Case, Refusal> {
        self.cases
            .get(&id)
            .ok_or_else(|| Refusal::new(format!("no case {id}"), "BP §6"))
    }

    /// Applies `action` by `actor` at `at` (Unix seconds); returns the new
    /// world and a JSON description of the result.
    pub fn apply(
        &self,
        actor: &str,
        role: Role,
        action: &Action,
        at: i64,
    ) -> Result<(World, Value), Refusal> {
        if !action.roles().contains(&role) {
            return refused(
                format!("the {role} role may not take the {} action", action.kind()),
                "POLICY.md: the actors",
            );
        }
        if at < self.last_at {
            return refused(
                format!(
                    "time must not run backwards in the record: {} is before the latest event ({})",
                    crate::policy::rfc3339(at),
                    crate::policy::rfc3339(self.last_at)
                ),
                "append-only record",
            );
        }
        if self.seeded == matches!(action, Action::Import { .. }) {
            return refused(
                if self.seeded {
                    "the record is already seeded: it changes only through allowed change requests and suspensions"
                } else {
                    "the record has not been seeded yet: run `rootguard import` first"
                },
                "POLICY.md: the delegation record",
            );
        }
        let mut w = self.clone();
        w.last_at = at;
        let now = crate::policy::rfc3339(at);
        let window = self.settings.appeal_window_days;
        let result = match action {
            Action::Import {
                delegations,
                policy,
                appeal_window_days,
            } => {
                w.seeded = true;
                w.settings = Settings {
                    policy: policy.clone(),
                    appeal_window_days: *appeal_window_days,
                };
                w.approved = delegations
                    .iter()
                    .map(|a| (a.tld.clone(), a.clone()))
                    .collect();
                json!({"seeded": delegations.len()})
            }
            Action::Sweep { tld, facts } => {
                self.approved(tld)?;
                let state = self.technical.get(tld).cloned().unwrap_or_default();
                let (next, effects) = state.sweep(facts, &self.settings.policy);
                w.technical.insert(tld.clone(), next);
                json!({"effects": effects})
            }
            Action::SuspensionConfirm { tld } => w.update_technical(tld, |t| t.confirm(&now))?,
            Action::SuspensionImpose { tld, measure } => {
                w.update_technical(tld, |t| t.impose(*measure, &now))?
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
                let deadline = parse_time(deadline)?;
                w.update_complaint(*id, |c| c.instruct_cure(course, deadline))?
            }
            Action::ComplaintCure { id, statement } => {
                w.update_complaint(*id, |c| c.cure(statement))?
            }
            Action::ComplaintNoMerit { id, answer } => {
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
            } => w.update_complaint(*id, |c| {
                c.record_session(Session {
                    at: now.clone(),
                    record: record.clone(),
                    good_faith: *good_faith,
                })
            })?,
            Action::MediationResolve { id, terms } => {
                w.update_complaint(*id, |c| c.resolve(terms))?
            }
            Action::MediationFail { id } => w.update_complaint(*id, |c| c.fail_mediation())?,
            Action::ComplaintClose { id, reason } => {
                w.update_complaint(*id, |c| c.close(reason))?
            }
            Action::CaseOpen { tld, path } => {
                let a = self.approved(tld)?;
                let mediation_failed = match path {
                    EntryPath::Proceedings { complaint } => {
                        let c = self.complaint(*complaint)?;
                        if c.tld != *tld {
                            return refused(
                                format!("complaint {complaint} is about .{}, not .{tld}", c.tld),
                                "BP §6",
                            );
                        }
                        c.mediation_failed()
                    }
                    _ => false,
                };
                if let Some(open) = self
                    .cases
                    .values()
                    .find(|c| c.tld == *tld && c.completed().is_none())
                {
                    return refused(
                        format!("case {} for .{tld} is still open", open.id),
                        "BP §6",
                    );
                }
                let id = self.cases.len() as u64 + 1;
                let territory = if a.admin_contact.country.is_empty() {
                    tld.to_uppercase()
                } else {
                    a.admin_contact.country.clone()
                };
                w.cases.insert(
                    id,
                    Case::open(
                        id,
                        tld,
                        &territory,
                        &a.manager,
                        path.clone(),
                        mediation_failed,
                    )?,
                );
                json!({"case": id, "territory": territory})
            }
            Action::CaseAppoint { id, seat, member } => {
                w.update_case(*id, |c| c.appoint(*seat, member.clone()))?
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
                w.update_case(*id, |c| c.seat_tribunal(*group, member.clone()))?
            }
            Action::CaseTribunalVote { id, uphold } => {
                w.update_case(*id, |c| c.tribunal_vote(actor, *uphold, at))?
            }
            Action::CaseFinalize { id } => w.update_case(*id, |c| c.finalize(at, window))?,
            Action::CaseApply { id, application } => {
                w.update_case(*id, |c| c.apply(application.clone()))?
            }
            Action::CaseComment { id, days } => {
                w.update_case(*id, |c| c.open_comment(at, *days))?
            }
            Action::CaseSelect { id, applicant } => {
                w.update_case(*id, |c| c.select(applicant, at))?
            }
            Action::Gate { request, precheck } => {
                let a = self.approved(&request.tld)?;
                let cases: Vec<&Case> = self
                    .cases
                    .values()
                    .filter(|c| c.tld == request.tld)
                    .collect();
                let decision = decide(request, a, precheck.as_ref(), &cases);
                if decision.allowed {
                    w.approved
                        .insert(request.tld.clone(), request.applied_to(a));
                }
                json!({"decision": decision})
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
    fn note_decision(&mut self, seq: i64, action: &Action, result: &Value) {
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

/// What [`Ledger::submit`] recorded.
#[derive(Clone, Debug, Serialize)]
pub struct Recorded {
    /// The journal event.
    pub event: Event,
    /// The result.
    pub result: Value,
}

/// The journal plus the state derived from it.
pub struct Ledger {
    store: Store,
    world: World,
    /// The last journal event applied to `world`.
    seen: i64,
}

/// Applies one journal event to `world` (refusal records change nothing).
fn replay(world: &mut World, e: &Event) -> Result<(), LedgerError> {
    if e.event.kind == "refused" {
        return Ok(());
    }
    let fail = |reason: String| LedgerError::Replay {
        seq: e.seq,
        kind: e.event.kind.clone(),
        reason,
    };
    let action: Action = serde_json::from_value(
        e.event
            .payload
            .get("action")
            .cloned()
            .unwrap_or(Value::Null),
    )
    .map_err(|err| fail(err.to_string()))?;
    let role: Role = serde_json::from_value(Value::String(e.event.role.clone()))
        .map_err(|err| fail(err.to_string()))?;
    let at = parse_time(&e.event.at).map_err(|r| fail(r.to_string()))?;
    let (next, result) = world
        .apply(&e.event.actor, role, &action, at)
        .map_err(|r| fail(r.to_string()))?;
    *world = next;
    world.note_decision(e.seq, &action, &result);
    Ok(())
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("store", &self.store)
            .finish()
    }
}

impl Ledger {
    /// Opens the store and replays the journal.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let store = Store::open(path)?;
        let mut world = World::default();
        let mut seen = 0;
        for e in store.events()? {
            replay(&mut world, &e)?;
            seen = e.seq;
        }
        Ok(Ledger { store, world, seen })
    }

    /// The current state.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The journal.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Applies and records an action; a refusal writes nothing, except
    /// where the rules say refusals are recorded. Under the write lock, the
    /// events other writers appended since are applied first, so that
    /// several processes on one record decide on the same state.
    pub fn submit(
        &mut self,
        actor: &str,
        role: Role,
        at: i64,
        action: Action,
    ) -> Result<Recorded, LedgerError> {
        // Change requests are validated as DNS data before anything is
        // decided (docs/RULES.md#change-request-data).
        let action = match action {
            Action::Gate { request, precheck } => {
                let approved = self.world.approved.get(&request.tld);
                Action::Gate {
                    request: Box::new(crate::policy::gate::validate(&request, approved)?),
                    precheck,
                }
            }
            other => other,
        };
        let when = crate::policy::rfc3339(at);
        let Ledger { store, world, seen } = self;
        let mut applied: Option<(World, Value)> = None;
        let appended = store.append_after(*seen, |fresh| {
            for e in &fresh {
                replay(world, e)?;
                *seen = e.seq;
            }
            let (next, result) = world
                .apply(actor, role, &action, at)
                .map_err(LedgerError::Refused)?;
            let section = match (&action, result.get("decision")) {
                (Action::Gate { .. }, Some(d)) => {
                    let kind: Option<RequestKind> = d
                        .get("kind")
                        .and_then(|k| serde_json::from_value(k.clone()).ok());
                    match kind {
                        Some(RequestKind::TechnicalChange) => {
                            crate::policy::gate::section::TECHNICAL
                        }
                        Some(RequestKind::Redelegation) => {
                            crate::policy::gate::section::REDELEGATION
                        }
                        _ => crate::policy::gate::section::OTHER,
                    }
                }
                _ => action.section(),
            };
            let event = NewEvent {
                at: when.clone(),
                actor: actor.to_string(),
                role: role.to_string(),
                kind: action.kind(),
                subject: action.subject(),
                section: section.to_string(),
                payload: json!({"action": action, "result": result}),
            };
            applied = Some((next, result));
            Ok::<NewEvent, LedgerError>(event)
        })?;
        match appended {
            Ok(event) => {
                let (next, result) = applied.unwrap_or_default();
                *world = next;
                world.note_decision(event.seq, &action, &result);
                *seen = event.seq;
                Ok(Recorded { event, result })
            }
            Err(LedgerError::Refused(refusal)) => {
                if action.refusal_recorded() {
                    let record = NewEvent {
                        at: when,
                        actor: actor.to_string(),
                        role: role.to_string(),
                        kind: "refused".into(),
                        subject: action.subject(),
                        section: refusal.section.clone(),
                        payload: json!({"action": action, "refusal": refusal}),
                    };
                    let appended = store.append_after(*seen, |fresh| {
                        for e in &fresh {
                            replay(world, e)?;
                            *seen = e.seq;
                        }
                        Ok::<NewEvent, LedgerError>(record)
                    })?;
                    *seen = appended?.seq;
                }
                Err(LedgerError::Refused(refusal))
            }
            Err(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::case::{ProposedDelegation, Stage};
    use crate::policy::gate::Confirmations;
    use proptest::prelude::*;

    const DAY: i64 = 86_400;

    use crate::policy::gate::tests::approved;

    fn member(id: &str, gov: Option<&str>, ttp: bool) -> Member {
        Member {
            id: id.into(),
            name: id.into(),
            appointed_by: "x".into(),
            government_of: gov.map(str::to_string),
            declares_no_involvement: ttp,
        }
    }

    fn gate(to: &str) -> Action {
        Action::Gate {
            request: Box::new(ChangeRequest {
                tld: "xa".into(),
                submitted_by: "x".into(),
                on_behalf_of: to.into(),
                manager: Some(to.into()),
                ns: None,
                glue: None,
                ds: None,
                admin_contact: None,
                tech_contact: None,
                confirmations: Confirmations::default(),
            }),
            precheck: None,
        }
    }

    type Step = (&'static str, Role, Action);

    /// Every step of the ordinary path, in order, each one day apart.
    fn script() -> Vec<Step> {
        use Action::*;
        let op = |a: Action| ("op", Role::Operator, a);
        let redelegate = Outcome::Redelegate {
            to: "New NIC".into(),
        };
        let mut s: Vec<Step> = vec![
            (
                "citizen",
                Role::Public,
                ComplaintLodge {
                    tld: "xa".into(),
                    category: Category::NonTechnical,
                    text: "t".into(),
                },
            ),
            op(ComplaintAssess {
                id: 1,
                serious: true,
                reason: "r".into(),
            }),
            op(ComplaintInform {
                id: 1,
                notice: "n".into(),
            }),
            op(ComplaintCureInstruction {
                id: 1,
                course: "c".into(),
                deadline: "2026-01-03T00:00:00Z".into(),
            }),
            (
                "old",
                Role::Manager,
                ComplaintNoMerit {
                    id: 1,
                    answer: "no".into(),
                },
            ),
            op(ComplaintFailureNotice {
                id: 1,
                notice: "n".into(),
            }),
            op(MediationOpen { id: 1 }),
            op(MediationSession {
                id: 1,
                record: "r".into(),
                good_faith: true,
            }),
            op(MediationFail { id: 1 }),
            op(CaseOpen {
                tld: "xa".into(),
                path: EntryPath::Proceedings { complaint: 1 },
            }),
        ];
        for (i, seat) in crate::policy::case::SEATS.iter().enumerate() {
            let gov = (*seat == Seat::Government).then_some("Examplia");
            let ttp = *seat == Seat::TrustedThirdParty;
            s.push(op(CaseAppoint {
                id: 1,
                seat: *seat,
                member: member(&format!("p{i}"), gov, ttp),
            }));
        }
        s.push(op(CasePriorRecord {
            id: 1,
            document: "d".into(),
        }));
        s.push(op(CaseEvidence {
            id: 1,
            party: Party::Incumbent,
            summary: "e".into(),
        }));
        s.push(op(CaseEvidence {
            id: 1,
            party: Party::Complainant,
            summary: "e".into(),
        }));
        for q in ["a", "b", "c", "d"] {
            s.push(op(CasePrinciple {
                id: 1,
                question: q.into(),
                answer: "no".into(),
            }));
        }
        for c in ["a", "b", "c", "d", "e", "e.1", "e.2", "e.3", "e.4"] {
            s.push(op(CaseCriterion {
                id: 1,
                criterion: c.into(),
                note: "n".into(),
            }));
        }
        for p in ["p0", "p1", "p2", "p3", "p4"] {
            s.push((
                p,
                Role::PanelMember,
                CaseVote {
                    id: 1,
                    outcome: redelegate.clone(),
                },
            ));
        }
        s.push(op(CaseDecide {
            id: 1,
            outcome: redelegate,
        }));
        s.push(op(CaseFinalize { id: 1 }));
        s.push(op(CaseApply {
            id: 1,
            application: Application {
                applicant: "New NIC".into(),
                admin_contact_country: "Examplia".into(),
                proposed: Some(ProposedDelegation {
                    ns: vec!["ns1.xa.".into()],
                    glue: BTreeMap::new(),
                    ds: vec![],
                }),
                technically_qualified: true,
                precheck: None,
                financial_backing: true,
                capacity: true,
            },
        }));
        s.push(op(CaseComment { id: 1, days: 3 }));
        s.push(op(CaseSelect {
            id: 1,
            applicant: "New NIC".into(),
        }));
        s.push(("new", Role::Manager, gate("New NIC")));
        s
    }

    fn seeded() -> World {
        let (w, _) = World::default()
            .apply(
                "op",
                Role::Operator,
                &Action::Import {
                    delegations: vec![approved()],
                    policy: PolicyConfig::default(),
                    appeal_window_days: 30,
                },
                0,
            )
            .unwrap();
        w
    }

    /// Runs steps; the clock jumps 40 days before the finalisation and the
    /// selection so that windows can pass. Returns the world and whether
    /// each gate was allowed.
    fn run(steps: &[Step]) -> (World, Vec<(String, bool)>, Vec<String>) {
        let mut w = seeded();
        let mut at = 0;
        let mut gates = Vec::new();
        let mut violations = Vec::new();
        for (actor, role, action) in steps {
            at += if matches!(
                action,
                Action::CaseFinalize { .. } | Action::CaseSelect { .. }
            ) {
                40 * DAY
            } else {
                DAY
            };
            if let Ok((next, result)) = w.apply(actor, *role, action, at) {
                w = next;
                if let Action::Gate { request, .. } = action {
                    let allowed = result["decision"]["allowed"].as_bool().unwrap_or(false);
                    let to = request.manager.clone().unwrap_or_default();
                    if allowed
                        && !w
                            .cases
                            .values()
                            .any(|c| c.tld == "xa" && c.completed() == Some(Some(to.as_str())))
                    {
                        violations.push(format!(
                            "gate allowed {to} without a completed case selecting it"
                        ));
                    }
                    gates.push((to, allowed));
                }
                violations.extend(invariants(&w));
            }
        }
        (w, gates, violations)
    }

    /// What must hold of every completed redelegation.
    fn invariants(w: &World) -> Vec<String> {
        let mut v = Vec::new();
        for c in w.cases.values() {
            let Some(Some(manager)) = c.completed() else {
                continue;
            };
            let mut need = |ok: bool, what: &str| {
                if !ok {
                    v.push(format!(
                        "case {} completed for {manager} without {what}",
                        c.id
                    ));
                }
            };
            if let EntryPath::Proceedings { complaint } = &c.path {
                need(
                    w.complaints
                        .get(complaint)
                        .is_some_and(|x| x.mediation_failed()),
                    "failed mediation",
                );
                need(c.panel.len() == 7, "a full panel");
                need(c.prior_record.is_some(), "the prior record");
                need(c.evidence_from.len() == 2, "evidence from both sides");
                need(c.principles.len() == 4, "§6.2 answers");
                need(c.criteria.len() == 9, "§6.3.2 criteria");
                let fin = c.final_outcome.clone();
                need(
                    fin.as_ref().is_some_and(|o| o.redelegates()),
                    "a redelegating final decision",
                );
                need(
                    c.votes
                        .values()
                        .filter(|o| Some(*o) == fin.as_ref())
                        .count()
                        >= 5,
                    "5 of 7 votes",
                );
            }
            need(c.comment_closes.is_some(), "public comment");
            need(
                c.disqualifications(manager).is_empty(),
                "a qualified applicant",
            );
        }
        v
    }

    #[test]
    fn roles_times_and_references_are_checked() {
        let w = seeded();
        let lodge = Action::ComplaintLodge {
            tld: "xa".into(),
            category: Category::NonTechnical,
            text: "t".into(),
        };
        let (w, _) = w.apply("citizen", Role::Public, &lodge, 10).unwrap();
        let assess = Action::ComplaintAssess {
            id: 1,
            serious: true,
            reason: "r".into(),
        };
        assert!(
            w.apply("citizen", Role::Public, &assess, 11)
                .unwrap_err()
                .reason
                .contains("public role")
        );
        assert!(
            w.apply("op", Role::Operator, &assess, 5)
                .unwrap_err()
                .reason
                .contains("backwards")
        );
        let other = Action::ComplaintAssess {
            id: 9,
            serious: true,
            reason: "r".into(),
        };
        assert!(
            w.apply("op", Role::Operator, &other, 11)
                .unwrap_err()
                .reason
                .contains("no complaint 9")
        );
        let unknown = Action::ComplaintLodge {
            tld: "zz".into(),
            category: Category::Technical,
            text: "t".into(),
        };
        assert!(
            w.apply("op", Role::Operator, &unknown, 11)
                .unwrap_err()
                .reason
                .contains("zz is not a ccTLD")
        );
        let vote = Action::CaseVote {
            id: 1,
            outcome: Outcome::Retain,
        };
        assert!(
            w.apply("p1", Role::Operator, &vote, 11).is_err(),
            "operators do not vote"
        );
        let import = Action::Import {
            delegations: vec![],
            policy: PolicyConfig::default(),
            appeal_window_days: 30,
        };
        assert!(
            w.apply("op", Role::Operator, &import, 11)
                .unwrap_err()
                .reason
                .contains("already seeded")
        );
        // Proceedings need the complaint of the same TLD, and one open case at a time.
        let case = Action::CaseOpen {
            tld: "xa".into(),
            path: EntryPath::Relinquishment {
                consent: "letter".into(),
            },
        };
        let (w2, _) = w.apply("op", Role::Operator, &case, 12).unwrap();
        assert!(
            w2.apply("op", Role::Operator, &case, 13)
                .unwrap_err()
                .reason
                .contains("still open")
        );
    }

    #[test]
    fn two_writers_on_one_record_decide_on_the_same_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sqlite");
        let mut a = Ledger::open(&path).unwrap();
        let import = Action::Import {
            delegations: vec![approved()],
            policy: PolicyConfig::default(),
            appeal_window_days: 30,
        };
        a.submit("op", Role::Operator, 1, import).unwrap();
        let mut b = Ledger::open(&path).unwrap();
        let lodge = Action::ComplaintLodge {
            tld: "xa".into(),
            category: Category::NonTechnical,
            text: "t".into(),
        };
        assert_eq!(
            a.submit("x", Role::Public, 2, lodge.clone())
                .unwrap()
                .result["complaint"],
            1
        );
        // b opened before a's complaint; it catches up under the write lock.
        assert_eq!(
            b.submit("y", Role::Public, 3, lodge).unwrap().result["complaint"],
            2
        );
        let assess = Action::ComplaintAssess {
            id: 1,
            serious: true,
            reason: "r".into(),
        };
        b.submit("op", Role::Operator, 4, assess.clone()).unwrap();
        // a has not seen the assessment: it is refused on the fresh state, not the stale one.
        let err = a.submit("op", Role::Operator, 5, assess).unwrap_err();
        assert!(err.to_string().contains("Assessed"), "{err}");
        assert_eq!(a.world(), Ledger::open(&path).unwrap().world());
        assert!(a.store().verify().unwrap().first_bad.is_none());
    }

    #[test]
    fn the_full_script_completes_and_the_gate_allows_only_then() {
        let (w, gates, violations) = run(&script());
        assert!(violations.is_empty(), "{violations:?}");
        assert!(matches!(w.cases[&1].stage, Stage::Completed { .. }));
        assert_eq!(gates, vec![("New NIC".to_string(), true)]);
        assert_eq!(w.approved["xa"].manager, "New NIC");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Random omissions, swaps and premature gate requests never yield
        /// a completed redelegation without each required step, nor an
        /// allowed manager change without a completed case selecting it.
        #[test]
        fn no_shortcut_to_redelegation(
            keep in prop::collection::vec(prop::bool::weighted(0.93), 48),
            swaps in prop::collection::vec((0usize..48, 0usize..48), 0..4),
            gates in prop::collection::vec((0usize..48, prop::bool::ANY), 0..4),
        ) {
            let mut steps = script();
            let n = steps.len();
            for (a, b) in swaps {
                steps.swap(a % n, b % n);
            }
            let mut kept: Vec<Step> = steps.into_iter().zip(keep.iter().chain(std::iter::repeat(&true))).filter(|(_, k)| **k).map(|(s, _)| s).collect();
            for (pos, other) in gates {
                let to = if other { "Other NIC" } else { "New NIC" };
                let p = pos.min(kept.len());
                kept.insert(p, ("x", Role::Manager, gate(to)));
            }
            let (_, gates, violations) = run(&kept);
            prop_assert!(violations.is_empty(), "{:?}", violations);
            prop_assert!(gates.iter().all(|(to, allowed)| !allowed || to == "New NIC"));
        }
    }
}
