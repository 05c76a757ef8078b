//! Redelegation cases (`docs/RULES.md#case-entry` to `#implementation`;
//! BP §2, §3, §6, §7).
//!
//! ```text
//!  open: proceedings (complaint whose mediation failed, BP §2, §5)
//!    |
//!    v                    7 seats valid            >= 5 of 7 votes, §6.2 a-d answered,
//!  Empanelling --------------------------> Deliberating ---- §6.3.2 criteria, record, ----> Decided
//!    ^              (§6.1.1, ITU Res. 102)        evidence of both sides (§6.3.1, §6.3.3)   |   |
//!    |                                                                                      |   | appeal within
//!    | tribunal overturns (4 of 6): new panel                                  window over  |   | the window (§6.4)
//!    +---------------------------------------------------------- Appealed <-----------------|---+
//!                      upheld, or short of 4 of 6: decision stands |                        |
//!                                                                  v                        v
//!  open: relinquishment (consent) ----------------------------> decision final <------------+
//!  open: dissolution (evidence)  -----+                           |           |
//!                                     v                 redelegates         retains
//!                                Implementation <-----------------+           |
//!                   applications, public comment, selection (§7)             |
//!                                     |                                      v
//!                                     +------------ new manager selected --> Completed
//! ```
//!
//! Records are private while the case runs and open to the parties on
//! completion or on appeal (§6.3.4); the tribunal's record becomes public
//! when the appeal is over.

use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Refusal;

/// Sections cited by this machine.
pub mod section {
    /// No redelegation without non-performance shown and a chance to cure.
    pub const NO_REDELEGATION_WITHOUT_CURE: &str = "docs/RULES.md#case-entry; BP §2, §5, §6";
    /// Panel composition.
    pub const PANEL: &str = "docs/RULES.md#panel; BP §6.1.1";
    /// Government seat: only the territory's own government.
    pub const GOVERNMENT: &str =
        "docs/RULES.md#government-seat; BP §6.1.1; ITU Resolution 102 (recognizing further i)";
    /// Deliberations.
    pub const DELIBERATION: &str = "docs/RULES.md#deliberation; BP §6.3.1";
    /// Principles to answer before a decision.
    pub const PRINCIPLES: &str = "docs/RULES.md#deliberation; BP §6.2";
    /// Criteria to consider.
    pub const CRITERIA: &str = "docs/RULES.md#deliberation; BP §6.3.2";
    /// Decisions and voting.
    pub const DECISION: &str = "docs/RULES.md#decision; BP §6.3.3";
    /// Records.
    pub const RECORDS: &str = "docs/RULES.md#records-private; BP §6.3.4";
    /// Decisions weigh what they record.
    pub const WEIGHS: &str = "docs/RULES.md#decision-weighs; BP §6.2, §6.3.2, §6.3.3, §7";
    /// Documents: non-empty, kept with their SHA-256 and size.
    pub const DOCUMENTS: &str = "docs/RULES.md#documents; BP §6.3.1";
    /// Each seat is appointed by its own body.
    pub const APPOINTMENTS: &str = "docs/RULES.md#appointments; BP §6.1.1, §6.4";
    /// The territory comes from the ccTLD.
    pub const TERRITORIES: &str = "docs/RULES.md#territories; BP §6.1.1, §7; ITU Resolution 102";
    /// Appeals.
    pub const APPEAL: &str = "docs/RULES.md#appeal; BP §6.4";
    /// Implementation.
    pub const IMPLEMENTATION: &str = "docs/RULES.md#implementation; BP §7";
}

/// How a case began.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "path", rename_all = "kebab-case")]
pub enum EntryPath {
    /// Ordinary path: a complaint whose mediation failed.
    Proceedings {
        /// The complaint.
        complaint: u64,
    },
    /// Voluntary relinquishment by the incumbent, with written consent.
    Relinquishment {
        /// Reference to the written consent.
        consent: String,
    },
    /// Death or dissolution of the manager, with evidence.
    Dissolution {
        /// Reference to the evidence.
        evidence: String,
    },
}

/// The seven seats of a Dispute Resolution Body (BP §6.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Seat {
    /// Appointed by the local Internet community.
    LocalInternetCommunity,
    /// Appointed by the territory's own government.
    Government,
    /// Appointed by the ccTLD constituency.
    CctldConstituency,
    /// Appointed by the manager.
    Manager,
    /// First IANA seat.
    Iana1,
    /// Second IANA seat.
    Iana2,
    /// Trusted third party chosen by IANA.
    TrustedThirdParty,
}

/// All seats.
pub const SEATS: [Seat; 7] = [
    Seat::LocalInternetCommunity,
    Seat::Government,
    Seat::CctldConstituency,
    Seat::Manager,
    Seat::Iana1,
    Seat::Iana2,
    Seat::TrustedThirdParty,
];

/// A panel or tribunal member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Identifier (unique within the case).
    pub id: String,
    /// Name.
    pub name: String,
    /// Who appointed the member.
    pub appointed_by: String,
    /// For the government seat: the country whose government appointed.
    #[serde(default)]
    pub government_of: Option<String>,
    /// For the trusted third party: a declaration of no involvement with
    /// the territory or the manager.
    #[serde(default)]
    pub declares_no_involvement: bool,
}

/// Decision outcomes (BP §6.3.3).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// (a) the incumbent retains the delegation.
    Retain,
    /// (b) redelegation to the complainant's alternative.
    Redelegate {
        /// The alternative manager.
        to: String,
    },
    /// (c) either of the above with modifications.
    Modified {
        /// Whether it redelegates.
        redelegate: bool,
        /// The modifications.
        terms: String,
    },
    /// (d) restrictions and conditions on the incumbent.
    Conditions {
        /// The restrictions and conditions.
        terms: String,
    },
}

impl Outcome {
    /// Whether the outcome moves the delegation to a new manager.
    pub fn redelegates(&self) -> bool {
        matches!(
            self,
            Outcome::Redelegate { .. }
                | Outcome::Modified {
                    redelegate: true,
                    ..
                }
        )
    }
}

/// A party to the dispute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    /// The incumbent manager.
    Incumbent,
    /// The complainant.
    Complainant,
}

/// Appeals Tribunal seat groups (BP §6.4): two seats each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TribunalGroup {
    /// Chosen by the incumbent.
    Incumbent,
    /// Chosen by the local Internet community.
    LocalInternetCommunity,
    /// Chosen by the Board.
    Board,
}

/// An applicant's qualifications (BP §7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// The applicant (the prospective manager).
    pub applicant: String,
    /// Country of its administrative contact.
    pub admin_contact_country: String,
    /// The applicant's proposed delegation (NS, glue, DS), which the guard
    /// pre-checks.
    #[serde(default)]
    pub proposed: Option<ProposedDelegation>,
    /// Whether the proposed delegation passed the guard's checks with no
    /// threat. Set by the guard's pre-check; input that carries it is
    /// refused (docs/RULES.md#observations).
    #[serde(default)]
    pub technically_qualified: bool,
    /// The pre-check's summary.
    #[serde(default)]
    pub precheck: Option<String>,
    /// The administrative contact the applicant would have
    /// (`docs/RULES.md#gate-bound`).
    #[serde(default)]
    pub admin_contact: Option<super::registry::ContactRecord>,
    /// The technical contact the applicant would have.
    #[serde(default)]
    pub tech_contact: Option<super::registry::ContactRecord>,
    /// Evidence of financial backing.
    pub financial_backing: bool,
    /// Evidence of operational capacity.
    pub capacity: bool,
}

/// A proposed delegation: what an applicant would run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposedDelegation {
    /// NS host names (validated as host names when submitted,
    /// docs/RULES.md#change-request-data; kept as given, so that a record
    /// written before that check still reads).
    pub ns: Vec<String>,
    /// Glue per NS host.
    #[serde(default)]
    pub glue: BTreeMap<String, Vec<std::net::IpAddr>>,
    /// DS records.
    #[serde(default)]
    pub ds: Vec<crate::zone::DsRecord>,
}

/// Where the case stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum Stage {
    /// Seats are being filled.
    Empanelling,
    /// The panel deliberates and votes.
    Deliberating,
    /// A decision was released; the appeal window runs.
    Decided {
        /// The outcome.
        outcome: Outcome,
        /// When released.
        at: Timestamp,
    },
    /// Under appeal.
    Appealed {
        /// The outcome appealed.
        outcome: Outcome,
        /// Who appealed.
        by: Party,
    },
    /// Applications, public comment and selection.
    Implementation,
    /// Completed (`docs/RULES.md#implementation`: decision final and, if it redelegates, the
    /// new manager selected).
    Completed {
        /// The new manager, when the case redelegates.
        new_manager: Option<String>,
    },
}

/// A redelegation case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Case number.
    pub id: u64,
    /// The ccTLD.
    pub tld: String,
    /// The territory (country) of the ccTLD.
    pub territory: String,
    /// The incumbent manager.
    pub incumbent: String,
    /// How it began.
    pub path: EntryPath,
    /// Stage.
    pub stage: Stage,
    /// Panels empanelled so far.
    pub panels: u32,
    /// Current panel.
    pub panel: BTreeMap<Seat, Member>,
    /// IANA's record of previous proceedings attached (§6.3.1 a).
    pub prior_record: Option<String>,
    /// Communications entered in the record (§6.3.1 c).
    pub communications: Vec<String>,
    /// Parties that have presented evidence (§6.3.1 e).
    pub evidence_from: BTreeSet<Party>,
    /// Answers to the §6.2 questions a-d.
    pub principles: BTreeMap<String, String>,
    /// §6.3.2 criteria recorded as considered (a-e, e.1-e.4).
    pub criteria: BTreeMap<String, String>,
    /// Votes of the current panel by member ID.
    pub votes: BTreeMap<String, Outcome>,
    /// Tribunal members by group.
    pub tribunal: BTreeMap<String, (TribunalGroup, Member)>,
    /// Tribunal votes by member ID: true upholds.
    pub tribunal_votes: BTreeMap<String, bool>,
    /// The final outcome, once final.
    pub final_outcome: Option<Outcome>,
    /// Applications by applicant.
    pub applications: BTreeMap<String, Application>,
    /// Public comment period end (Unix seconds), once opened.
    pub comment_closes: Option<Timestamp>,
    /// Whether the record is open to the parties (§6.3.4).
    pub record_open_to_parties: bool,
    /// Whether the tribunal's record is public.
    pub tribunal_record_public: bool,
    /// The records of tribunals whose appeal is over and that overturned
    /// the decision (their members and votes), public
    /// (`docs/RULES.md#records-private`).
    #[serde(default)]
    pub past_tribunals: Vec<PastTribunal>,
    /// Whether the redelegation the case authorised has been allowed by
    /// the gate: a case authorises one redelegation
    /// (`docs/RULES.md#gate-bound`).
    #[serde(default)]
    pub implemented: bool,
    /// The documents entered in the record (prior record, evidence,
    /// consent, death or dissolution evidence), each by its SHA-256 and
    /// size (`docs/RULES.md#documents`).
    #[serde(default)]
    pub documents: Vec<Document>,
    /// Written findings on §6.2 answers that raise a concern, by question:
    /// why the decision stands despite it (`docs/RULES.md#decision-weighs`).
    #[serde(default)]
    pub findings: BTreeMap<String, String>,
    /// Whether the territory has no government or residents of its own, so
    /// that the government seat stays vacant and the administrative
    /// contact need not reside there (`docs/RULES.md#territories`).
    #[serde(default)]
    pub territory_waived: bool,
}

fn refuse<T>(reason: impl Into<String>, section: &str) -> Result<T, Refusal> {
    Err(Refusal::new(reason, section))
}

const PRINCIPLES: [&str; 4] = ["a", "b", "c", "d"];
const CRITERIA: [&str; 5] = ["a", "b", "c", "d", "e"];
const ALTERNATIVE_CRITERIA: [&str; 4] = ["e.1", "e.2", "e.3", "e.4"];

/// The record of a tribunal whose appeal is over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastTribunal {
    /// Members by ID, with their group.
    pub members: BTreeMap<String, (TribunalGroup, Member)>,
    /// Votes by member ID: true upholds.
    pub votes: BTreeMap<String, bool>,
}

/// A document entered in a record: what it is, its SHA-256 (hex) and size
/// in bytes (`docs/RULES.md#documents`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// What the document is.
    pub what: String,
    /// SHA-256 of its text, hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

impl Document {
    /// The document `what` with text `text`; refused when empty.
    pub fn of(what: &str, text: &str) -> Result<Document, Refusal> {
        if text.trim().is_empty() {
            return refuse(format!("the {what} must not be empty"), section::DOCUMENTS);
        }
        Ok(Document {
            what: what.to_string(),
            sha256: hex::encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes())),
            size: text.len() as u64,
        })
    }
}

/// Whether a §6.2 answer raises a concern: `Some(true)` when it begins
/// with "yes" (the decision would cause an injustice, disadvantage the
/// community, breach the law or threaten the DNS), `Some(false)` with
/// "no", `None` otherwise.
pub fn concern(answer: &str) -> Option<bool> {
    let first: String = answer
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphabetic())
        .collect::<String>()
        .to_lowercase();
    match first.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

impl Case {
    fn new(
        id: u64,
        tld: &str,
        territory: &str,
        incumbent: &str,
        path: EntryPath,
        stage: Stage,
    ) -> Case {
        Case {
            id,
            tld: tld.to_string(),
            territory: territory.to_string(),
            incumbent: incumbent.to_string(),
            path,
            stage,
            panels: 0,
            panel: BTreeMap::new(),
            prior_record: None,
            communications: Vec::new(),
            evidence_from: BTreeSet::new(),
            principles: BTreeMap::new(),
            criteria: BTreeMap::new(),
            votes: BTreeMap::new(),
            tribunal: BTreeMap::new(),
            tribunal_votes: BTreeMap::new(),
            final_outcome: None,
            applications: BTreeMap::new(),
            comment_closes: None,
            record_open_to_parties: false,
            tribunal_record_public: false,
            implemented: false,
            past_tribunals: Vec::new(),
            documents: Vec::new(),
            findings: BTreeMap::new(),
            territory_waived: false,
        }
    }

    /// Opens a case on the ordinary path; refused unless the complaint's
    /// mediation failed (non-performance shown, cure offered: BP §2, §5).
    pub fn open(
        id: u64,
        tld: &str,
        territory: &str,
        incumbent: &str,
        path: EntryPath,
        mediation_failed: bool,
    ) -> Result<Case, Refusal> {
        let stage = match &path {
            EntryPath::Proceedings { complaint } => {
                if !mediation_failed {
                    return refuse(
                        format!(
                            "complaint {complaint} has not reached failed mediation: no redelegation proceedings without a showing of non-performance, an opportunity to cure and failed mediation"
                        ),
                        section::NO_REDELEGATION_WITHOUT_CURE,
                    );
                }
                Stage::Empanelling
            }
            EntryPath::Relinquishment { consent } if consent.trim().is_empty() => {
                return refuse(
                    "voluntary relinquishment needs the incumbent's written consent",
                    section::IMPLEMENTATION,
                );
            }
            EntryPath::Dissolution { evidence } if evidence.trim().is_empty() => {
                return refuse(
                    "death or dissolution of the manager needs evidence",
                    section::IMPLEMENTATION,
                );
            }
            _ => Stage::Implementation,
        };
        let document = match &path {
            EntryPath::Relinquishment { consent } => {
                Some(Document::of("incumbent's written consent", consent)?)
            }
            EntryPath::Dissolution { evidence } => {
                Some(Document::of("evidence of death or dissolution", evidence)?)
            }
            EntryPath::Proceedings { .. } => None,
        };
        let mut case = Case::new(id, tld, territory, incumbent, path, stage);
        case.documents.extend(document);
        if case.stage == Stage::Empanelling {
            case.panels = 1;
        }
        Ok(case)
    }

    fn wrong_stage(&self, what: &str, section: &str) -> Refusal {
        Refusal::new(
            format!("case {} is {}: cannot {what}", self.id, self.stage_name()),
            section,
        )
    }

    fn expect(&self, ok: bool, what: &str, section: &str) -> Result<(), Refusal> {
        if ok {
            Ok(())
        } else {
            Err(self.wrong_stage(what, section))
        }
    }

    /// The territory of the case's ccTLD (`docs/RULES.md#territories`).
    pub fn territory_of(&self) -> Option<&'static super::territory::Territory> {
        super::territory::of(&self.tld)
    }

    /// Whether `country` is the case's territory.
    pub fn in_territory(&self, country: &str) -> bool {
        match self.territory_of() {
            Some(t) => t.is(country),
            None => country.trim().eq_ignore_ascii_case(self.territory.trim()),
        }
    }

    /// Whether `country`'s government is another country's than the
    /// territory's (ITU Resolution 102).
    fn foreign_government(&self, country: &str) -> bool {
        match self.territory_of() {
            Some(t) => t.foreign(country),
            None => !country.trim().eq_ignore_ascii_case(self.territory.trim()),
        }
    }

    /// The seats this case fills: all seven, or six when the government
    /// seat stays vacant (`docs/RULES.md#territories`).
    fn seats_to_fill(&self) -> usize {
        if self.territory_waived {
            SEATS.len() - 1
        } else {
            SEATS.len()
        }
    }

    /// A short name of the stage.
    pub fn stage_name(&self) -> &'static str {
        match self.stage {
            Stage::Empanelling => "empanelling",
            Stage::Deliberating => "deliberating",
            Stage::Decided { .. } => "decided",
            Stage::Appealed { .. } => "under appeal",
            Stage::Implementation => "in implementation",
            Stage::Completed { .. } => "completed",
        }
    }

    /// Fills a panel seat, validating it (BP §6.1.1; ITU Res. 102).
    pub fn appoint(&self, seat: Seat, member: Member) -> Result<Case, Refusal> {
        self.expect(
            self.stage == Stage::Empanelling,
            "appoint panel members",
            section::PANEL,
        )?;
        if self.panel.contains_key(&seat) {
            return refuse(format!("seat {seat:?} is already filled"), section::PANEL);
        }
        if self.panel.values().any(|m| m.id == member.id) {
            return refuse(
                format!("{} already holds a seat", member.id),
                section::PANEL,
            );
        }
        if let Some(country) = member.government_of.as_deref()
            && seat != Seat::Government
            && self.foreign_government(country)
        {
            return refuse(
                format!(
                    "no seat is filled by an appointee of another country's government than {}'s",
                    self.territory
                ),
                section::GOVERNMENT,
            );
        }
        match seat {
            Seat::Government if self.territory_waived => {
                return refuse(
                    format!(
                        "{} has no government or no residents of its own: the government seat stays vacant",
                        self.territory
                    ),
                    section::TERRITORIES,
                );
            }
            Seat::Government => {
                let country = member.government_of.as_deref().unwrap_or("");
                let allowed = match self.territory_of() {
                    Some(t) => t
                        .seat_government()
                        .and_then(super::territory::by_code)
                        .is_some_and(|g| g.is(country)),
                    None => country.eq_ignore_ascii_case(&self.territory),
                };
                if !allowed {
                    return refuse(
                        format!(
                            "the government seat can only be filled by the public authority of {} (or its administering state where it has none of its own)",
                            self.territory,
                        ),
                        section::GOVERNMENT,
                    );
                }
            }
            Seat::TrustedThirdParty if !member.declares_no_involvement => {
                return refuse(
                    "the trusted third party must declare no involvement with the territory or the manager",
                    section::PANEL,
                );
            }
            _ => {}
        }
        let mut next = self.clone();
        next.panel.insert(seat, member);
        if next.panel.len() == next.seats_to_fill() {
            next.stage = Stage::Deliberating;
        }
        Ok(next)
    }

    /// Attaches IANA's record of previous proceedings (§6.3.1 a).
    pub fn attach_prior_record(&self, document: &str) -> Result<Case, Refusal> {
        self.expect(
            self.stage == Stage::Deliberating,
            "attach the prior record",
            section::DELIBERATION,
        )?;
        let doc = Document::of("IANA's record of previous proceedings", document)?;
        let mut next = self.clone();
        next.prior_record = Some(document.to_string());
        next.documents.push(doc);
        Ok(next)
    }

    /// Enters a communication in the record (§6.3.1 b, c).
    pub fn enter_communication(&self, text: &str) -> Result<Case, Refusal> {
        self.expect(
            matches!(self.stage, Stage::Deliberating | Stage::Empanelling),
            "enter communications",
            section::DELIBERATION,
        )?;
        let mut next = self.clone();
        next.communications.push(text.to_string());
        Ok(next)
    }

    /// Records that a party presented its evidence (§6.3.1 e).
    pub fn present_evidence(&self, party: Party, summary: &str) -> Result<Case, Refusal> {
        self.expect(
            self.stage == Stage::Deliberating,
            "receive evidence",
            section::DELIBERATION,
        )?;
        let doc = Document::of(&format!("evidence from the {party:?}"), summary)?;
        let mut next = self.clone();
        next.documents.push(doc);
        next.evidence_from.insert(party);
        next.communications
            .push(format!("evidence from {party:?}: {summary}"));
        Ok(next)
    }

    /// Records the answer to a §6.2 question (`a`-`d`).
    pub fn answer_principle(&self, question: &str, answer: &str) -> Result<Case, Refusal> {
        self.expect(
            self.stage == Stage::Deliberating,
            "answer §6.2 questions",
            section::PRINCIPLES,
        )?;
        if !PRINCIPLES.contains(&question) {
            return refuse("§6.2 has questions a-d, nothing else", section::PRINCIPLES);
        }
        if answer.trim().is_empty() {
            return refuse("an answer must not be empty", section::PRINCIPLES);
        }
        if concern(answer).is_none() {
            return refuse(
                "a §6.2 answer begins with \"yes\" or \"no\" (yes: the decision would cause an injustice, disadvantage the community, breach the law or threaten the DNS)",
                section::WEIGHS,
            );
        }
        let mut next = self.clone();
        next.principles
            .insert(question.to_string(), answer.to_string());
        Ok(next)
    }

    /// Records a §6.3.2 criterion (`a`-`e`, `e.1`-`e.4`) as considered.
    pub fn consider_criterion(&self, criterion: &str, note: &str) -> Result<Case, Refusal> {
        self.expect(
            self.stage == Stage::Deliberating,
            "record §6.3.2 criteria",
            section::CRITERIA,
        )?;
        if !CRITERIA.contains(&criterion) && !ALTERNATIVE_CRITERIA.contains(&criterion) {
            return refuse(
                "§6.3.2 has criteria a-e and e.1-e.4, nothing else",
                section::CRITERIA,
            );
        }
        if note.trim().is_empty() {
            return refuse(
                "a criterion is recorded with a note of how it was considered",
                section::CRITERIA,
            );
        }
        let mut next = self.clone();
        next.criteria
            .insert(criterion.to_string(), note.to_string());
        Ok(next)
    }

    /// Records the panel's written finding on a §6.2 answer that raises a
    /// concern: why a decision that redelegates stands despite it
    /// (`docs/RULES.md#decision-weighs`).
    pub fn record_finding(&self, question: &str, finding: &str) -> Result<Case, Refusal> {
        self.expect(
            self.stage == Stage::Deliberating,
            "record a finding on a §6.2 answer",
            section::WEIGHS,
        )?;
        if self
            .principles
            .get(question)
            .is_none_or(|a| concern(a) != Some(true))
        {
            return refuse(
                "a finding answers a §6.2 answer that raises a concern; that question has none",
                section::WEIGHS,
            );
        }
        if finding.trim().is_empty() {
            return refuse("a finding must be written", section::WEIGHS);
        }
        let mut next = self.clone();
        next.findings
            .insert(question.to_string(), finding.to_string());
        Ok(next)
    }

    /// A panel member votes for an outcome, once.
    pub fn vote(&self, member: &str, outcome: Outcome) -> Result<Case, Refusal> {
        self.expect(self.stage == Stage::Deliberating, "vote", section::DECISION)?;
        if !self.panel.values().any(|m| m.id == member) {
            return refuse(
                format!("{member} is not a member of the panel of case {}", self.id),
                section::DECISION,
            );
        }
        if self.votes.contains_key(member) {
            return refuse(
                format!("{member} has already voted in case {}", self.id),
                section::DECISION,
            );
        }
        let mut next = self.clone();
        next.votes.insert(member.to_string(), outcome);
        Ok(next)
    }

    /// What is still missing before a decision with `outcome` may be
    /// released (empty when none).
    pub fn missing_for_decision(&self, outcome: &Outcome) -> Vec<String> {
        let mut missing = Vec::new();
        if self.prior_record.is_none() {
            missing.push(format!(
                "IANA's prior record is not attached ({})",
                section::DELIBERATION
            ));
        }
        for p in [Party::Incumbent, Party::Complainant] {
            if !self.evidence_from.contains(&p) {
                missing.push(format!(
                    "no evidence from the {p:?} on record ({})",
                    section::DELIBERATION
                ));
            }
        }
        for q in PRINCIPLES {
            if !self.principles.contains_key(q) {
                missing.push(format!(
                    "§6.2 question {q}) unanswered ({})",
                    section::PRINCIPLES
                ));
            }
        }
        let mut needed: Vec<&str> = CRITERIA.to_vec();
        if outcome.redelegates() {
            needed.extend(ALTERNATIVE_CRITERIA);
        }
        for c in needed {
            if !self.criteria.contains_key(c) {
                missing.push(format!(
                    "§6.3.2 criterion {c}) not recorded as considered ({})",
                    section::CRITERIA
                ));
            }
        }
        if outcome.redelegates() {
            for (q, a) in &self.principles {
                if concern(a) == Some(true)
                    && self.findings.get(q).is_none_or(|f| f.trim().is_empty())
                {
                    missing.push(format!(
                        "the §6.2 answer to {q}) says the redelegation would cause harm and no written finding says why it stands ({})",
                        section::WEIGHS
                    ));
                }
            }
        }
        let votes = self.votes.values().filter(|o| *o == outcome).count();
        if votes < 5 {
            missing.push(format!(
                "{votes} of 7 votes for this outcome; two-thirds of all members, 5 votes, are required ({})",
                section::DECISION
            ));
        }
        missing
    }

    /// Releases the decision: refused while anything is missing.
    pub fn release_decision(&self, outcome: Outcome, at: Timestamp) -> Result<Case, Refusal> {
        self.expect(
            self.stage == Stage::Deliberating,
            "release a decision",
            section::DECISION,
        )?;
        let missing = self.missing_for_decision(&outcome);
        if !missing.is_empty() {
            return refuse(
                format!("the decision cannot be released: {}", missing.join("; ")),
                section::DECISION,
            );
        }
        let mut next = self.clone();
        next.stage = Stage::Decided { outcome, at };
        Ok(next)
    }

    /// A party appeals within the window (§6.4).
    pub fn appeal(&self, by: Party, at: Timestamp, window_days: i64) -> Result<Case, Refusal> {
        let Stage::Decided {
            outcome,
            at: decided,
        } = &self.stage
        else {
            return Err(self.wrong_stage("be appealed", section::APPEAL));
        };
        let closes = decided.plus_days(window_days);
        if at > closes {
            return refuse(
                format!(
                    "the appeal window of {window_days} days closed at {}",
                    closes
                ),
                section::APPEAL,
            );
        }
        let mut next = self.clone();
        next.stage = Stage::Appealed {
            outcome: outcome.clone(),
            by,
        };
        next.record_open_to_parties = true;
        Ok(next)
    }

    /// Seats a tribunal member; two per group (§6.4).
    pub fn seat_tribunal(&self, group: TribunalGroup, member: Member) -> Result<Case, Refusal> {
        self.expect(
            matches!(self.stage, Stage::Appealed { .. }),
            "seat a tribunal",
            section::APPEAL,
        )?;
        if self.tribunal.values().filter(|(g, _)| *g == group).count() >= 2 {
            return refuse(
                format!("the {group:?} group already has its two seats"),
                section::APPEAL,
            );
        }
        if self.tribunal.contains_key(&member.id) {
            return refuse(
                format!("{} already sits on the tribunal", member.id),
                section::APPEAL,
            );
        }
        if self.panel.values().any(|m| m.id == member.id) {
            return refuse(
                format!(
                    "{} sat on the panel of case {}: never on its tribunal",
                    member.id, self.id
                ),
                section::APPEAL,
            );
        }
        if let Some(country) = member.government_of.as_deref()
            && self.foreign_government(country)
        {
            return refuse(
                format!(
                    "no tribunal seat is filled by an appointee of another country's government than {}'s",
                    self.territory
                ),
                section::GOVERNMENT,
            );
        }
        let mut next = self.clone();
        next.tribunal.insert(member.id.clone(), (group, member));
        Ok(next)
    }

    /// A tribunal member votes to uphold (true) or overturn (false), once;
    /// the appeal concludes as soon as the outcome is settled (§6.4).
    pub fn tribunal_vote(
        &self,
        member: &str,
        uphold: bool,
        at: Timestamp,
    ) -> Result<Case, Refusal> {
        let Stage::Appealed { outcome, .. } = &self.stage else {
            return Err(self.wrong_stage("take tribunal votes", section::APPEAL));
        };
        if self.tribunal.len() < 6 {
            return refuse(
                format!("the tribunal has {} of 6 members", self.tribunal.len()),
                section::APPEAL,
            );
        }
        if !self.tribunal.contains_key(member) {
            return refuse(
                format!(
                    "{member} is not a member of the tribunal of case {}",
                    self.id
                ),
                section::APPEAL,
            );
        }
        if self.tribunal_votes.contains_key(member) {
            return refuse(
                format!("{member} has already voted on the appeal"),
                section::APPEAL,
            );
        }
        let mut next = self.clone();
        next.tribunal_votes.insert(member.to_string(), uphold);
        let ups = next.tribunal_votes.values().filter(|v| **v).count();
        let downs = next.tribunal_votes.len() - ups;
        if downs >= 4 {
            // Overturned: a new Dispute Resolution Body is empanelled.
            next.stage = Stage::Empanelling;
            next.panels += 1;
            next.panel.clear();
            next.votes.clear();
            next.principles.clear();
            next.criteria.clear();
            next.evidence_from.clear();
            next.prior_record = None;
            next.tribunal_record_public = true;
            next.past_tribunals.push(PastTribunal {
                members: std::mem::take(&mut next.tribunal),
                votes: std::mem::take(&mut next.tribunal_votes),
            });
        } else if ups >= 4 || next.tribunal_votes.len() == 6 {
            // Upheld, or short of four either way: the decision stands.
            let outcome = outcome.clone();
            next.tribunal_record_public = true;
            next = next.make_final(outcome, at);
        }
        Ok(next)
    }

    /// Makes the decision final once the appeal window has passed unused.
    pub fn finalize(&self, at: Timestamp, window_days: i64) -> Result<Case, Refusal> {
        let Stage::Decided {
            outcome,
            at: decided,
        } = &self.stage
        else {
            return Err(self.wrong_stage("be made final", section::APPEAL));
        };
        if at <= decided.plus_days(window_days) {
            return refuse(
                format!(
                    "the appeal window is open until {}",
                    decided.plus_days(window_days)
                ),
                section::APPEAL,
            );
        }
        Ok(self.make_final(outcome.clone(), at))
    }

    fn make_final(&self, outcome: Outcome, _at: Timestamp) -> Case {
        let mut next = self.clone();
        next.stage = if outcome.redelegates() {
            Stage::Implementation
        } else {
            next.record_open_to_parties = true;
            Stage::Completed { new_manager: None }
        };
        next.final_outcome = Some(outcome);
        next
    }

    /// Records an application (§7).
    pub fn apply(&self, application: Application) -> Result<Case, Refusal> {
        self.expect(
            self.stage == Stage::Implementation,
            "take applications",
            section::IMPLEMENTATION,
        )?;
        let mut next = self.clone();
        next.applications
            .insert(application.applicant.clone(), application);
        Ok(next)
    }

    /// Opens the public comment period (§7).
    pub fn open_comment(&self, at: Timestamp, days: i64) -> Result<Case, Refusal> {
        self.expect(
            self.stage == Stage::Implementation,
            "solicit public comment",
            section::IMPLEMENTATION,
        )?;
        if self.comment_closes.is_some() {
            return refuse(
                "the public comment period is already open",
                section::IMPLEMENTATION,
            );
        }
        let mut next = self.clone();
        next.comment_closes = Some(at.plus_days(days));
        Ok(next)
    }

    /// Why `applicant` does not qualify (empty when it does).
    pub fn disqualifications(&self, applicant: &str) -> Vec<String> {
        let Some(a) = self.applications.get(applicant) else {
            return vec![format!("{applicant} has not applied")];
        };
        let mut out = Vec::new();
        if !self.territory_waived && !self.in_territory(&a.admin_contact_country) {
            out.push(format!(
                "administrative contact in {}, not in {}",
                a.admin_contact_country, self.territory
            ));
        }
        if !a.technically_qualified {
            out.push(
                "proposed name servers have not passed the guard's checks without a threat".into(),
            );
        }
        if !a.financial_backing {
            out.push("no evidence of financial backing".into());
        }
        if !a.capacity {
            out.push("no evidence of capacity".into());
        }
        out
    }

    /// The operator selects the new manager after public comment (§7); the
    /// case is then completed.
    pub fn select(&self, applicant: &str, at: Timestamp) -> Result<Case, Refusal> {
        self.expect(
            self.stage == Stage::Implementation,
            "select a manager",
            section::IMPLEMENTATION,
        )?;
        match self.comment_closes {
            None => {
                return refuse(
                    "public comment has not been solicited",
                    section::IMPLEMENTATION,
                );
            }
            Some(closes) if at < closes => {
                return refuse(
                    format!("the public comment period runs until {}", closes),
                    section::IMPLEMENTATION,
                );
            }
            _ => {}
        }
        let problems = self.disqualifications(applicant);
        if !problems.is_empty() {
            return refuse(
                format!("{applicant} does not qualify: {}", problems.join("; ")),
                section::IMPLEMENTATION,
            );
        }
        if let Some(Outcome::Redelegate { to }) = &self.final_outcome
            && to != applicant
        {
            return refuse(
                format!(
                    "the decision redelegates to {to}: {applicant} is not the alternative it named"
                ),
                section::WEIGHS,
            );
        }
        let mut next = self.clone();
        next.stage = Stage::Completed {
            new_manager: Some(applicant.to_string()),
        };
        next.record_open_to_parties = true;
        Ok(next)
    }

    /// What remains before the case is completed, each step with its
    /// section (empty when completed).
    pub fn remaining_steps(&self) -> Vec<String> {
        let later_decision = [
            format!(
                "deliberation with the prior record, both sides' evidence, §6.2 answers and §6.3.2 criteria on record ({}, {}, {})",
                section::DELIBERATION,
                section::PRINCIPLES,
                section::CRITERIA
            ),
            format!(
                "a decision by at least 5 of 7 members ({})",
                section::DECISION
            ),
            format!(
                "the appeal window passed or the appeal concluded ({})",
                section::APPEAL
            ),
        ];
        let implementation = format!(
            "implementation: qualified applications, public comment, selection of the new manager ({})",
            section::IMPLEMENTATION
        );
        let mut steps = Vec::new();
        match &self.stage {
            Stage::Empanelling => {
                steps.push(format!(
                    "{} of 7 panel seats filled ({})",
                    self.panel.len(),
                    section::PANEL
                ));
                steps.extend(later_decision);
                steps.push(implementation);
            }
            Stage::Deliberating => {
                let probe = Outcome::Redelegate { to: String::new() };
                steps.extend(self.missing_for_decision(&probe));
                steps.push(format!("a decision released ({})", section::DECISION));
                steps.push(later_decision[2].clone());
                steps.push(implementation);
            }
            Stage::Decided { outcome, .. } | Stage::Appealed { outcome, .. } => {
                steps.push(later_decision[2].clone());
                if outcome.redelegates() {
                    steps.push(implementation);
                }
            }
            Stage::Implementation => {
                if self.comment_closes.is_none() {
                    steps.push(format!(
                        "public comment solicited ({})",
                        section::IMPLEMENTATION
                    ));
                }
                steps.push(format!(
                    "a qualified applicant selected ({})",
                    section::IMPLEMENTATION
                ));
            }
            Stage::Completed { .. } => {}
        }
        steps
    }

    /// Whether the case is completed, and with which new manager.
    pub fn completed(&self) -> Option<Option<&str>> {
        match &self.stage {
            Stage::Completed { new_manager } => Some(new_manager.as_deref()),
            _ => None,
        }
    }

    /// Whether a reader in `role` may see the case's record (§6.3.4):
    /// operators always; parties once completed or under appeal.
    pub fn record_visible_to_parties(&self) -> bool {
        self.record_open_to_parties
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn member(id: &str) -> Member {
        Member {
            id: id.into(),
            name: id.to_uppercase(),
            appointed_by: "someone".into(),
            government_of: None,
            declares_no_involvement: false,
        }
    }

    pub(crate) fn full_panel(case: &Case) -> Case {
        let mut c = case.clone();
        for (i, seat) in SEATS.iter().enumerate() {
            let mut m = member(&format!("p{i}"));
            if *seat == Seat::Government {
                m.government_of = Some(case.territory.clone());
            }
            if *seat == Seat::TrustedThirdParty {
                m.declares_no_involvement = true;
            }
            c = c.appoint(*seat, m).unwrap();
        }
        c
    }

    pub(crate) fn ready(case: &Case) -> Case {
        let mut c = full_panel(case).attach_prior_record("IANA file 1").unwrap();
        c = c
            .present_evidence(Party::Incumbent, "annual reports")
            .unwrap();
        c = c
            .present_evidence(Party::Complainant, "outage logs")
            .unwrap();
        for q in PRINCIPLES {
            c = c.answer_principle(q, "no").unwrap();
        }
        for k in CRITERIA.iter().chain(ALTERNATIVE_CRITERIA.iter()) {
            c = c.consider_criterion(k, "considered").unwrap();
        }
        c
    }

    fn open() -> Case {
        Case::open(
            1,
            "xa",
            "Examplia",
            "Old NIC",
            EntryPath::Proceedings { complaint: 7 },
            true,
        )
        .unwrap()
    }

    fn redelegate() -> Outcome {
        Outcome::Redelegate {
            to: "New NIC".into(),
        }
    }

    #[test]
    fn proceedings_need_failed_mediation_and_other_paths_need_documents() {
        let e = Case::open(
            1,
            "xa",
            "Examplia",
            "Old",
            EntryPath::Proceedings { complaint: 7 },
            false,
        )
        .unwrap_err();
        assert!(e.section.contains("§2"), "{e}");
        let c = Case::open(
            1,
            "xa",
            "Examplia",
            "Old",
            EntryPath::Relinquishment {
                consent: "letter".into(),
            },
            false,
        )
        .unwrap();
        assert_eq!(c.stage, Stage::Implementation);
        assert!(
            Case::open(
                1,
                "xa",
                "E",
                "O",
                EntryPath::Dissolution {
                    evidence: " ".into()
                },
                false
            )
            .is_err()
        );
    }

    #[test]
    fn panel_seats_are_validated() {
        let c = open();
        let mut foreign = member("g");
        foreign.government_of = Some("Otherland".into());
        let e = c.appoint(Seat::Government, foreign).unwrap_err();
        assert!(e.section.contains("ITU Resolution 102"), "{e}");
        assert!(c.appoint(Seat::TrustedThirdParty, member("t")).is_err());
        let c2 = c.appoint(Seat::Iana1, member("x")).unwrap();
        assert!(c2.appoint(Seat::Iana1, member("y")).is_err(), "seat taken");
        assert!(
            c2.appoint(Seat::Iana2, member("x")).is_err(),
            "one seat per person"
        );
        assert_eq!(full_panel(&c).stage, Stage::Deliberating);
    }

    #[test]
    fn decisions_need_five_votes_and_every_prerequisite() {
        let c = full_panel(&open());
        let mut v = c.clone();
        for i in 0..5 {
            v = v.vote(&format!("p{i}"), redelegate()).unwrap();
        }
        let e = v
            .release_decision(redelegate(), crate::time::Timestamp::from_second(0))
            .unwrap_err();
        assert!(e.reason.contains("§6.2 question a)"), "{e}");
        assert!(e.reason.contains("prior record"), "{e}");
        assert!(e.reason.contains("criterion e.1)"), "{e}");
        // Four votes are not enough.
        let mut r = ready(&open());
        for i in 0..4 {
            r = r.vote(&format!("p{i}"), redelegate()).unwrap();
        }
        r = r.vote("p4", Outcome::Retain).unwrap();
        let e = r
            .release_decision(redelegate(), crate::time::Timestamp::from_second(0))
            .unwrap_err();
        assert!(e.reason.contains("4 of 7 votes"), "{e}");
        assert!(
            r.vote("p0", Outcome::Retain)
                .unwrap_err()
                .reason
                .contains("already voted")
        );
        assert!(
            r.vote("stranger", Outcome::Retain)
                .unwrap_err()
                .reason
                .contains("not a member")
        );
        let r = r.vote("p5", redelegate()).unwrap();
        let d = r
            .release_decision(redelegate(), crate::time::Timestamp::from_second(1000))
            .unwrap();
        assert!(matches!(d.stage, Stage::Decided { .. }));
        assert!(!d.record_open_to_parties);
    }

    fn decided(at: i64) -> Case {
        let mut r = ready(&open());
        for i in 0..5 {
            r = r.vote(&format!("p{i}"), redelegate()).unwrap();
        }
        r.release_decision(redelegate(), crate::time::Timestamp::from_second(at))
            .unwrap()
    }

    #[test]
    fn appeals_respect_the_window_and_the_tribunal_majority() {
        let d = decided(0);
        assert!(
            d.appeal(
                Party::Incumbent,
                crate::time::Timestamp::from_second(31 * 86_400),
                30
            )
            .unwrap_err()
            .section
            .contains("§6.4")
        );
        assert!(
            d.finalize(crate::time::Timestamp::from_second(10), 30)
                .is_err(),
            "window still open"
        );
        let a = d
            .appeal(
                Party::Incumbent,
                crate::time::Timestamp::from_second(86_400),
                30,
            )
            .unwrap();
        assert!(a.record_open_to_parties);
        let mut t = a.clone();
        for (i, g) in [
            TribunalGroup::Incumbent,
            TribunalGroup::Incumbent,
            TribunalGroup::LocalInternetCommunity,
            TribunalGroup::LocalInternetCommunity,
            TribunalGroup::Board,
            TribunalGroup::Board,
        ]
        .iter()
        .enumerate()
        {
            t = t.seat_tribunal(*g, member(&format!("t{i}"))).unwrap();
        }
        assert!(t.seat_tribunal(TribunalGroup::Board, member("t9")).is_err());
        // 3 uphold, 3 overturn: the decision stands.
        let mut s = t.clone();
        for i in 0..6 {
            s = s
                .tribunal_vote(
                    &format!("t{i}"),
                    i < 3,
                    crate::time::Timestamp::from_second(0),
                )
                .unwrap();
        }
        assert_eq!(s.stage, Stage::Implementation);
        assert!(s.tribunal_record_public);
        // 4 overturn: a new panel.
        let mut o = t.clone();
        for i in 0..4 {
            o = o
                .tribunal_vote(
                    &format!("t{i}"),
                    false,
                    crate::time::Timestamp::from_second(0),
                )
                .unwrap();
        }
        assert_eq!(o.stage, Stage::Empanelling);
        assert_eq!(o.panels, 2);
        // The overturning tribunal's record is kept, and public.
        assert!(o.tribunal_record_public && o.tribunal.is_empty());
        assert_eq!(o.past_tribunals.len(), 1);
        assert_eq!(o.past_tribunals[0].members.len(), 6);
        assert_eq!(o.past_tribunals[0].votes.len(), 4);
    }

    #[test]
    fn implementation_needs_comment_and_a_qualified_applicant() {
        let f = decided(0)
            .finalize(crate::time::Timestamp::from_second(31 * 86_400), 30)
            .unwrap();
        assert_eq!(f.stage, Stage::Implementation);
        let good = Application {
            applicant: "New NIC".into(),
            admin_contact_country: "Examplia".into(),
            admin_contact: None,
            tech_contact: None,
            proposed: None,
            technically_qualified: true,
            precheck: None,
            financial_backing: true,
            capacity: true,
        };
        let abroad = Application {
            applicant: "Far NIC".into(),
            admin_contact_country: "Otherland".into(),
            admin_contact: None,
            tech_contact: None,
            ..good.clone()
        };
        let f = f.apply(good).unwrap().apply(abroad).unwrap();
        assert!(
            f.select("New NIC", crate::time::Timestamp::from_second(0))
                .unwrap_err()
                .reason
                .contains("public comment")
        );
        let f = f
            .open_comment(crate::time::Timestamp::from_second(100), 14)
            .unwrap();
        assert!(
            f.select("New NIC", crate::time::Timestamp::from_second(101))
                .unwrap_err()
                .reason
                .contains("runs until")
        );
        let late = 100 + 15 * 86_400;
        assert!(
            f.select("Far NIC", crate::time::Timestamp::from_second(late))
                .unwrap_err()
                .reason
                .contains("not in Examplia")
        );
        let done = f
            .select("New NIC", crate::time::Timestamp::from_second(late))
            .unwrap();
        assert_eq!(done.completed(), Some(Some("New NIC")));
        assert!(done.record_visible_to_parties());
    }

    #[test]
    fn retaining_the_incumbent_completes_without_implementation() {
        let mut r = ready(&open());
        for i in 0..7 {
            r = r.vote(&format!("p{i}"), Outcome::Retain).unwrap();
        }
        let d = r
            .release_decision(Outcome::Retain, crate::time::Timestamp::from_second(0))
            .unwrap();
        let f = d
            .finalize(crate::time::Timestamp::from_second(31 * 86_400), 30)
            .unwrap();
        assert_eq!(f.completed(), Some(None));
    }

    #[test]
    fn every_other_refusal() {
        let c = open();
        // Wrong stage for each deliberation step while empanelling.
        assert!(c.attach_prior_record("d").is_err());
        assert!(c.present_evidence(Party::Incumbent, "e").is_err());
        assert!(c.answer_principle("a", "x").is_err());
        assert!(c.consider_criterion("a", "x").is_err());
        assert!(c.vote("p0", Outcome::Retain).is_err());
        assert!(
            c.release_decision(Outcome::Retain, crate::time::Timestamp::from_second(0))
                .is_err()
        );
        assert!(
            c.appeal(Party::Incumbent, crate::time::Timestamp::from_second(0), 30)
                .is_err()
        );
        assert!(
            c.finalize(crate::time::Timestamp::from_second(0), 30)
                .is_err()
        );
        assert!(
            c.apply(Application {
                applicant: "a".into(),
                admin_contact_country: "Examplia".into(),
                admin_contact: None,
                tech_contact: None,
                proposed: None,
                technically_qualified: true,
                precheck: None,
                financial_backing: true,
                capacity: true,
            })
            .is_err()
        );
        assert!(
            c.open_comment(crate::time::Timestamp::from_second(0), 1)
                .is_err()
        );
        assert!(
            c.select("a", crate::time::Timestamp::from_second(0))
                .is_err()
        );
        assert!(c.seat_tribunal(TribunalGroup::Board, member("t")).is_err());
        assert!(
            c.tribunal_vote("t", true, crate::time::Timestamp::from_second(0))
                .is_err()
        );
        // Invalid questions, criteria, answers.
        let d = full_panel(&c);
        assert!(
            d.answer_principle("e", "x")
                .unwrap_err()
                .reason
                .contains("a-d")
        );
        assert!(d.answer_principle("a", " ").is_err());
        assert!(
            d.consider_criterion("f", "x")
                .unwrap_err()
                .reason
                .contains("e.1-e.4")
        );
        assert!(
            d.appoint(Seat::Iana1, member("z")).is_err(),
            "no appointments while deliberating"
        );
        // Tribunal: not before six are seated; members only; once each.
        let a = decided(0)
            .appeal(
                Party::Complainant,
                crate::time::Timestamp::from_second(1),
                30,
            )
            .unwrap();
        let a = a.seat_tribunal(TribunalGroup::Board, member("t0")).unwrap();
        assert!(
            a.tribunal_vote("t0", true, crate::time::Timestamp::from_second(0))
                .unwrap_err()
                .reason
                .contains("1 of 6")
        );
        assert!(
            a.seat_tribunal(TribunalGroup::Incumbent, member("t0"))
                .is_err(),
            "one seat per person"
        );
        let mut t = a.clone();
        for (i, g) in [
            TribunalGroup::Board,
            TribunalGroup::Incumbent,
            TribunalGroup::Incumbent,
            TribunalGroup::LocalInternetCommunity,
            TribunalGroup::LocalInternetCommunity,
        ]
        .iter()
        .enumerate()
        {
            t = t.seat_tribunal(*g, member(&format!("t{}", i + 1))).unwrap();
        }
        assert!(
            t.tribunal_vote("outsider", true, crate::time::Timestamp::from_second(0))
                .is_err()
        );
        let t = t
            .tribunal_vote("t0", true, crate::time::Timestamp::from_second(0))
            .unwrap();
        assert!(
            t.tribunal_vote("t0", false, crate::time::Timestamp::from_second(0))
                .unwrap_err()
                .reason
                .contains("already voted")
        );
        // Implementation: comment once; only applicants can be selected.
        let f = decided(0)
            .finalize(crate::time::Timestamp::from_second(31 * 86_400), 30)
            .unwrap()
            .open_comment(crate::time::Timestamp::from_second(0), 1)
            .unwrap();
        assert!(
            f.open_comment(crate::time::Timestamp::from_second(0), 1)
                .is_err()
        );
        assert!(
            f.select("nobody", crate::time::Timestamp::from_second(10 * 86_400))
                .unwrap_err()
                .reason
                .contains("has not applied")
        );
        // A completed case accepts nothing more.
        let done = Case::open(
            2,
            "xa",
            "Examplia",
            "Old",
            EntryPath::Dissolution {
                evidence: "registry".into(),
            },
            false,
        )
        .unwrap();
        assert_eq!(done.stage, Stage::Implementation);
        assert!(done.enter_communication("x").is_err());
    }

    fn voted(c: &Case, outcome: &Outcome) -> Case {
        let mut c = c.clone();
        for m in ["p0", "p1", "p2", "p3", "p4"] {
            c = c.vote(m, outcome.clone()).unwrap();
        }
        c
    }

    #[test]
    fn a_redelegation_is_refused_while_a_6_2_answer_says_it_harms_unless_a_finding_says_why() {
        let t = crate::time::Timestamp::from_second(0);
        let mut c = full_panel(&open())
            .attach_prior_record("IANA file 1")
            .unwrap();
        c = c.present_evidence(Party::Incumbent, "e").unwrap();
        c = c.present_evidence(Party::Complainant, "e").unwrap();
        // An answer that is neither yes nor no is refused.
        assert!(c.answer_principle("a", "perhaps").is_err());
        for q in PRINCIPLES {
            c = c.answer_principle(q, "Yes: it would").unwrap();
        }
        // Empty criterion notes are refused.
        assert!(c.consider_criterion("a", " ").is_err());
        for k in CRITERIA.iter().chain(ALTERNATIVE_CRITERIA.iter()) {
            c = c.consider_criterion(k, "considered").unwrap();
        }
        let c = voted(&c, &redelegate());
        let e = c.release_decision(redelegate(), t).unwrap_err();
        assert!(e.reason.contains("no written finding"), "{e}");
        // A finding answers only a concern, and must be written.
        assert!(c.record_finding("a", " ").is_err());
        let mut f = c.clone();
        for q in ["a", "b", "c"] {
            f = f
                .record_finding(q, "the incumbent's harm outweighs it")
                .unwrap();
        }
        assert!(
            f.release_decision(redelegate(), t).is_err(),
            "d) still unanswered"
        );
        let f = f.record_finding("d", "the new servers pass").unwrap();
        assert!(f.release_decision(redelegate(), t).is_ok());
        let ok = ready(&open());
        assert!(ok.record_finding("a", "x").is_err(), "no concern to answer");
    }

    #[test]
    fn the_selection_is_the_alternative_the_outcome_named() {
        let t = crate::time::Timestamp::from_second(0);
        let c = voted(&ready(&open()), &redelegate())
            .release_decision(redelegate(), t)
            .unwrap()
            .finalize(t.plus_days(31), 30)
            .unwrap();
        let app = |who: &str| Application {
            applicant: who.into(),
            admin_contact_country: "Examplia".into(),
            admin_contact: None,
            tech_contact: None,
            proposed: None,
            technically_qualified: true,
            precheck: None,
            financial_backing: true,
            capacity: true,
        };
        let c = c
            .apply(app("New NIC"))
            .unwrap()
            .apply(app("Third NIC"))
            .unwrap()
            .open_comment(t, 30)
            .unwrap();
        let e = c.select("Third NIC", t.plus_days(31)).unwrap_err();
        assert!(e.reason.contains("not the alternative"), "{e}");
        assert!(c.select("New NIC", t.plus_days(31)).is_ok());
    }

    #[test]
    fn seats_follow_the_territory_of_the_cctld() {
        // Another country's government appoints no seat (ITU Res. 102).
        let c = open();
        let mut foreign = member("f1");
        foreign.government_of = Some("Otherland".into());
        let e = c
            .appoint(Seat::LocalInternetCommunity, foreign.clone())
            .unwrap_err();
        assert!(e.section.contains("ITU Resolution 102"), "{e}");
        let e = c.appoint(Seat::Government, foreign).unwrap_err();
        assert!(e.section.contains("ITU Resolution 102"), "{e}");
        // A territory without a government: the seat stays vacant, the
        // panel is complete with six, five votes still decide.
        let mut aq = Case::open(
            2,
            "aq",
            "Antarctica",
            "Antarctica Network Information Centre",
            EntryPath::Proceedings { complaint: 7 },
            true,
        )
        .unwrap();
        aq.territory_waived = crate::policy::territory::of("aq").unwrap().waived();
        let mut gov = member("g");
        gov.government_of = Some("New Zealand".into());
        let e = aq.appoint(Seat::Government, gov).unwrap_err();
        assert!(e.reason.contains("stays vacant"), "{e}");
        let mut p = aq.clone();
        for (i, seat) in SEATS.iter().enumerate() {
            if *seat == Seat::Government {
                continue;
            }
            let mut m = member(&format!("a{i}"));
            m.declares_no_involvement = *seat == Seat::TrustedThirdParty;
            p = p.appoint(*seat, m).unwrap();
        }
        assert_eq!(p.stage, Stage::Deliberating);
        // A dependent territory: its own authority, not the administering
        // state, fills the government seat.
        let pr = Case::open(
            3,
            "pr",
            "Puerto Rico",
            "Gauss Research Laboratory",
            EntryPath::Proceedings { complaint: 7 },
            true,
        )
        .unwrap();
        let mut us = member("u");
        us.government_of = Some("United States of America (the)".into());
        assert!(pr.appoint(Seat::Government, us).is_err());
        let mut own = member("o");
        own.government_of = Some("Puerto Rico".into());
        assert!(pr.appoint(Seat::Government, own).is_ok());
    }

    #[test]
    fn a_panel_member_never_sits_on_the_tribunal_of_its_case() {
        let t = crate::time::Timestamp::from_second(0);
        let c = voted(&ready(&open()), &Outcome::Retain)
            .release_decision(Outcome::Retain, t)
            .unwrap()
            .appeal(Party::Complainant, t, 30)
            .unwrap();
        let e = c
            .seat_tribunal(TribunalGroup::Board, member("p0"))
            .unwrap_err();
        assert!(e.reason.contains("never on its tribunal"), "{e}");
        let mut foreign = member("t9");
        foreign.government_of = Some("Otherland".into());
        assert!(c.seat_tribunal(TribunalGroup::Board, foreign).is_err());
        assert!(c.seat_tribunal(TribunalGroup::Board, member("t1")).is_ok());
    }

    #[test]
    fn documents_are_non_empty_and_kept_by_digest_and_size() {
        let c = full_panel(&open());
        assert!(c.attach_prior_record(" ").is_err());
        assert!(c.present_evidence(Party::Incumbent, "").is_err());
        let c = c.attach_prior_record("IANA file 1").unwrap();
        let d = c.documents.last().unwrap();
        assert_eq!(d.size, 11);
        assert_eq!(
            d.sha256,
            hex::encode(ring::digest::digest(&ring::digest::SHA256, b"IANA file 1"))
        );
        let r = Case::open(
            2,
            "xa",
            "Examplia",
            "Old NIC",
            EntryPath::Relinquishment {
                consent: "signed letter".into(),
            },
            false,
        )
        .unwrap();
        assert_eq!(r.documents[0].size, 13);
    }
}
