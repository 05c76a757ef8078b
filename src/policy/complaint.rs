//! Complaints lodged by any party (BP §4.1), technical or not (§4.2), and
//! the non-technical path to mediation (§4.2.2, §4.4, §4.4.1, §4.4.2, §5).
//!
//! ```text
//!  Lodged --assess--> not serious: Dismissed
//!    |
//!    | serious
//!    v          written notice               (optional)              cure instruction
//!  Assessed ---------------------> Informed ----------> Explanation ----------------------+
//!                    (§4.4)           |      requested                 (course, deadline) |
//!                                     +---------------------------------------------------+
//!                                                                                         v
//!          manager cures: Cured  <------------------------------------------------- CureInstructed
//!                                                                                         |
//!     "no merit" answer, or deadline passed: written failure-to-cure notice (§4.4.2)     |
//!                                                                                         v
//!  Resolved <-- agreement -- Mediation (sessions on record, §5) <-- opened -- FailureToCureNoticed
//!                               |
//!                               +-- fails only upon good-faith attempts shown --> MediationFailed
//! ```
//!
//! A technical complaint lodged by a party is closed by an operator once
//! resolved; those the guard lodges itself live in [`super::technical`].

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

use super::Refusal;

/// Sections cited by this machine.
pub mod section {
    /// Lodging.
    pub const LODGE: &str = "docs/RULES.md#complaint; BP §4.1, §4.2";
    /// Non-technical handling: seriousness, notice, explanation.
    pub const HANDLING: &str = "docs/RULES.md#complaint; BP §4.2.2, §4.4";
    /// Cure instruction.
    pub const CURE: &str = "docs/RULES.md#cure; BP §4.4.1";
    /// Failure to cure.
    pub const FAILURE: &str = "docs/RULES.md#failure-to-cure; BP §4.4.2";
    /// Mediation.
    pub const MEDIATION: &str = "docs/RULES.md#mediation; BP §5";
}

/// Technical or not (BP §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// About the technical operation of the ccTLD (§4.2.1).
    Technical,
    /// About anything else (§4.2.2).
    NonTechnical,
}

/// A mediation session on record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// When.
    pub at: Timestamp,
    /// The written record of the session.
    pub record: String,
    /// Whether the record shows good-faith attempts by the parties.
    pub good_faith: bool,
    /// The registered mediator who recorded it.
    #[serde(default)]
    pub mediator: Option<String>,
    /// The incumbent manager's written position.
    #[serde(default)]
    pub incumbent_position: String,
    /// The complainant's written position.
    #[serde(default)]
    pub complainant_position: String,
}

impl Session {
    /// Whether the session shows good faith, was held by a registered
    /// mediator and records both parties' written positions
    /// (`docs/RULES.md#mediation`).
    pub fn counts(&self) -> bool {
        self.good_faith
            && self.mediator.is_some()
            && !self.incumbent_position.trim().is_empty()
            && !self.complainant_position.trim().is_empty()
    }
}

/// Where a complaint stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "kebab-case")]
pub enum Stage {
    /// Lodged, not yet assessed.
    Lodged,
    /// Found not serious.
    Dismissed,
    /// Found serious.
    Assessed,
    /// The ccTLD constituency was informed in writing.
    Informed,
    /// The manager was asked for an explanation.
    ExplanationRequested,
    /// The manager gave its explanation.
    Explained,
    /// A cure instruction was written.
    CureInstructed {
        /// The suggested course of action.
        course: String,
        /// Deadline (Unix seconds).
        deadline: Timestamp,
        /// The manager answered that the complaint has no merit.
        no_merit: Option<String>,
    },
    /// The manager cured.
    Cured,
    /// A written failure-to-cure notice was issued.
    FailureToCureNoticed,
    /// Mediation is under way.
    Mediation,
    /// Mediation reached agreement.
    Resolved,
    /// Mediation failed, with good-faith attempts shown.
    MediationFailed,
    /// A technical complaint closed by an operator.
    Closed,
}

/// A complaint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    /// Complaint number.
    pub id: u64,
    /// The ccTLD.
    pub tld: String,
    /// Technical or not.
    pub category: Category,
    /// Who lodged it.
    pub lodged_by: String,
    /// What it says.
    pub text: String,
    /// Stage.
    pub stage: Stage,
    /// Written notices, explanations and answers, in order.
    pub record: Vec<String>,
    /// Mediation sessions.
    pub sessions: Vec<Session>,
    /// The session records, each by its SHA-256 and size
    /// (`docs/RULES.md#documents`).
    #[serde(default)]
    pub documents: Vec<super::case::Document>,
}

fn refuse<T>(reason: impl Into<String>, section: &str) -> Result<T, Refusal> {
    Err(Refusal::new(reason, section))
}

impl Complaint {
    /// Lodges a complaint; anyone may (§4.1), but it must say something.
    pub fn lodge(
        id: u64,
        tld: &str,
        category: Category,
        by: &str,
        text: &str,
    ) -> Result<Complaint, Refusal> {
        if text.trim().is_empty() {
            return refuse("a complaint must state what it is about", section::LODGE);
        }
        Ok(Complaint {
            id,
            tld: tld.to_string(),
            category,
            lodged_by: by.to_string(),
            text: text.to_string(),
            stage: Stage::Lodged,
            record: Vec::new(),
            sessions: Vec::new(),
            documents: Vec::new(),
        })
    }

    fn wrong(&self, what: &str, section: &str) -> Refusal {
        Refusal::new(
            format!("complaint {} is {:?}: cannot {what}", self.id, self.stage),
            section,
        )
    }

    fn non_technical(&self, what: &str, section: &str) -> Result<(), Refusal> {
        if self.category == Category::NonTechnical {
            Ok(())
        } else {
            refuse(
                format!("complaint {} is technical: cannot {what}", self.id),
                section,
            )
        }
    }

    fn next(&self, stage: Stage, note: Option<String>) -> Complaint {
        let mut c = self.clone();
        c.stage = stage;
        c.record.extend(note);
        c
    }

    /// Assesses seriousness (§4.2.2).
    pub fn assess(&self, serious: bool, reason: &str) -> Result<Complaint, Refusal> {
        self.non_technical("be assessed", section::HANDLING)?;
        if self.stage != Stage::Lodged {
            return Err(self.wrong("be assessed", section::HANDLING));
        }
        let stage = if serious {
            Stage::Assessed
        } else {
            Stage::Dismissed
        };
        Ok(self.next(stage, Some(format!("seriousness: {serious}: {reason}"))))
    }

    /// Informs the ccTLD constituency in writing (§4.4).
    pub fn inform_constituency(&self, notice: &str) -> Result<Complaint, Refusal> {
        if self.stage != Stage::Assessed {
            return Err(self.wrong("inform the constituency", section::HANDLING));
        }
        if notice.trim().is_empty() {
            return refuse(
                "the notice to the constituency must be written",
                section::HANDLING,
            );
        }
        Ok(self.next(
            Stage::Informed,
            Some(format!("notice to the constituency: {notice}")),
        ))
    }

    /// Asks the manager for an explanation (§4.4).
    pub fn request_explanation(&self, request: &str) -> Result<Complaint, Refusal> {
        if self.stage != Stage::Informed {
            return Err(self.wrong("request an explanation", section::HANDLING));
        }
        Ok(self.next(
            Stage::ExplanationRequested,
            Some(format!("explanation requested: {request}")),
        ))
    }

    /// Writes a cure instruction with a suggested course and a deadline (§4.4.1).
    /// The deadline lies at least `min_days` after `at`, so that the
    /// opportunity to cure is real (`docs/RULES.md#durations`).
    pub fn instruct_cure(
        &self,
        course: &str,
        deadline: Timestamp,
        at: Timestamp,
        min_days: i64,
    ) -> Result<Complaint, Refusal> {
        if !matches!(
            self.stage,
            Stage::Informed | Stage::ExplanationRequested | Stage::Explained
        ) {
            return Err(self.wrong("instruct a cure", section::CURE));
        }
        let earliest = at.plus_days(min_days.max(1));
        if deadline < earliest {
            return refuse(
                format!(
                    "the cure deadline is less than {} days away (earliest {earliest}): the manager must have a real opportunity to cure",
                    min_days.max(1)
                ),
                super::section::DURATIONS,
            );
        }
        if course.trim().is_empty() {
            return refuse(
                "a cure instruction must suggest a course of action",
                section::CURE,
            );
        }
        Ok(self.next(
            Stage::CureInstructed {
                course: course.to_string(),
                deadline,
                no_merit: None,
            },
            Some(format!(
                "cure instruction: {course} (deadline {})",
                deadline
            )),
        ))
    }

    /// The manager's explanation, recorded as a step (§4.4).
    pub fn explain(&self, explanation: &str) -> Result<Complaint, Refusal> {
        if self.stage != Stage::ExplanationRequested {
            return Err(self.wrong("receive the manager's explanation", section::HANDLING));
        }
        if explanation.trim().is_empty() {
            return refuse(
                "the manager's explanation must not be empty",
                section::HANDLING,
            );
        }
        Ok(self.next(
            Stage::Explained,
            Some(format!("manager's explanation: {explanation}")),
        ))
    }

    /// The manager cures.
    pub fn cure(&self, statement: &str) -> Result<Complaint, Refusal> {
        if !matches!(self.stage, Stage::CureInstructed { .. }) {
            return Err(self.wrong("be cured", section::CURE));
        }
        Ok(self.next(Stage::Cured, Some(format!("cured: {statement}"))))
    }

    /// The manager answers that the complaint has no merit (BP §3 b).
    pub fn answer_no_merit(&self, answer: &str) -> Result<Complaint, Refusal> {
        let Stage::CureInstructed {
            course, deadline, ..
        } = &self.stage
        else {
            return Err(self.wrong("receive a no-merit answer", section::CURE));
        };
        if answer.trim().is_empty() {
            return refuse("a no-merit answer must say why", section::CURE);
        }
        Ok(self.next(
            Stage::CureInstructed {
                course: course.clone(),
                deadline: *deadline,
                no_merit: Some(answer.to_string()),
            },
            Some(format!("manager: no merit: {answer}")),
        ))
    }

    /// Issues the written failure-to-cure notice (§4.4.2): only after a
    /// refusal (no-merit answer) or once the deadline has passed.
    pub fn notice_failure_to_cure(
        &self,
        notice: &str,
        at: Timestamp,
    ) -> Result<Complaint, Refusal> {
        let Stage::CureInstructed {
            deadline, no_merit, ..
        } = &self.stage
        else {
            return Err(self.wrong("receive a failure-to-cure notice", section::FAILURE));
        };
        if no_merit.is_none() && at <= *deadline {
            return refuse(
                format!(
                    "the manager has until {} to cure and has not refused",
                    deadline
                ),
                section::FAILURE,
            );
        }
        if notice.trim().is_empty() {
            return refuse(
                "the failure-to-cure notice must be written",
                section::FAILURE,
            );
        }
        Ok(self.next(
            Stage::FailureToCureNoticed,
            Some(format!("failure-to-cure notice: {notice}")),
        ))
    }

    /// Opens mediation; only a failure-to-cure notice may (§4.4.2, §5).
    pub fn open_mediation(&self) -> Result<Complaint, Refusal> {
        if self.stage != Stage::FailureToCureNoticed {
            return Err(self.wrong(
                "go to mediation (only a failure-to-cure notice opens mediation)",
                section::MEDIATION,
            ));
        }
        Ok(self.next(Stage::Mediation, Some("mediation opened".into())))
    }

    /// Records a mediation session.
    pub fn record_session(&self, session: Session) -> Result<Complaint, Refusal> {
        if self.stage != Stage::Mediation {
            return Err(self.wrong("record a mediation session", section::MEDIATION));
        }
        if session.record.trim().is_empty() {
            return refuse(
                "a mediation session needs a written record",
                section::MEDIATION,
            );
        }
        let doc = super::case::Document::of("mediation session record", &session.record)?;
        let mut c = self.clone();
        c.documents.push(doc);
        c.sessions.push(session);
        Ok(c)
    }

    /// Mediation reached agreement.
    pub fn resolve(&self, terms: &str) -> Result<Complaint, Refusal> {
        if self.stage != Stage::Mediation {
            return Err(self.wrong("be resolved by mediation", section::MEDIATION));
        }
        Ok(self.next(Stage::Resolved, Some(format!("resolved: {terms}"))))
    }

    /// Mediation failed: only upon a showing of good-faith attempts (§5).
    pub fn fail_mediation(&self) -> Result<Complaint, Refusal> {
        if self.stage != Stage::Mediation {
            return Err(self.wrong("fail mediation", section::MEDIATION));
        }
        if !self.sessions.iter().any(Session::counts) {
            return refuse(
                "mediation fails only upon a showing of good-faith attempts: no session on record held by a registered mediator shows one with both parties' written positions",
                section::MEDIATION,
            );
        }
        Ok(self.next(Stage::MediationFailed, Some("mediation failed".into())))
    }

    /// Closes a technical complaint once resolved.
    pub fn close(&self, reason: &str) -> Result<Complaint, Refusal> {
        if self.category != Category::Technical || self.stage != Stage::Lodged {
            return Err(self.wrong("be closed", section::LODGE));
        }
        Ok(self.next(Stage::Closed, Some(format!("closed: {reason}"))))
    }

    /// Whether mediation failed (the precondition of proceedings, §6).
    pub fn mediation_failed(&self) -> bool {
        self.stage == Stage::MediationFailed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forty days, in seconds: a deadline beyond the 30-day minimum.
    const D: i64 = 40 * 86_400;
    fn ts(s: i64) -> crate::time::Timestamp {
        crate::time::Timestamp::from_second(s)
    }

    pub(crate) fn to_failed_mediation() -> Complaint {
        let c = Complaint::lodge(
            7,
            "xa",
            Category::NonTechnical,
            "citizen",
            "registry refuses local registrants",
        )
        .unwrap();
        let c = c.assess(true, "affects the community").unwrap();
        let c = c.inform_constituency("letter 1").unwrap();
        let c = c.request_explanation("please explain").unwrap();
        let c = c
            .instruct_cure("publish a registration policy", ts(D), ts(0), 30)
            .unwrap();
        let c = c.answer_no_merit("we disagree").unwrap();
        let c = c
            .notice_failure_to_cure("notice 1", crate::time::Timestamp::from_second(500))
            .unwrap();
        let c = c.open_mediation().unwrap();
        let c = c
            .record_session(Session {
                at: crate::time::Timestamp::from_second(0),
                record: "both attended".into(),
                good_faith: true,
                mediator: Some("med".into()),
                incumbent_position: "ours".into(),
                complainant_position: "theirs".into(),
            })
            .unwrap();
        c.fail_mediation().unwrap()
    }

    #[test]
    fn the_full_path_reaches_failed_mediation() {
        assert!(to_failed_mediation().mediation_failed());
    }

    #[test]
    fn steps_cannot_be_skipped() {
        let c = Complaint::lodge(1, "xa", Category::NonTechnical, "a", "x").unwrap();
        assert!(c.instruct_cure("c", ts(D), ts(0), 30).is_err());
        assert!(c.open_mediation().is_err());
        let c = c
            .assess(true, "r")
            .unwrap()
            .inform_constituency("n")
            .unwrap();
        let c = c.instruct_cure("course", ts(D), ts(0), 30).unwrap();
        // Before the deadline and without refusal, no failure notice.
        let e = c
            .notice_failure_to_cure("n", crate::time::Timestamp::from_second(10))
            .unwrap_err();
        assert!(e.section.contains("§4.4.2"), "{e}");
        let f = c.notice_failure_to_cure("n", ts(D + 1)).unwrap();
        let m = f.open_mediation().unwrap();
        let e = m.fail_mediation().unwrap_err();
        assert!(e.reason.contains("good-faith"), "{e}");
        let m = m
            .record_session(Session {
                at: crate::time::Timestamp::from_second(0),
                record: "no-show".into(),
                good_faith: false,
                mediator: Some("med".into()),
                incumbent_position: "ours".into(),
                complainant_position: "theirs".into(),
            })
            .unwrap();
        assert!(m.fail_mediation().is_err());
        assert!(c.cure("done").unwrap().stage == Stage::Cured);
    }

    #[test]
    fn dismissed_and_technical_complaints() {
        let c = Complaint::lodge(1, "xa", Category::NonTechnical, "a", "x").unwrap();
        assert_eq!(c.assess(false, "trivial").unwrap().stage, Stage::Dismissed);
        assert!(Complaint::lodge(1, "xa", Category::NonTechnical, "a", " ").is_err());
        let t = Complaint::lodge(2, "xa", Category::Technical, "a", "slow").unwrap();
        assert!(t.assess(true, "r").is_err());
        assert_eq!(t.close("fixed").unwrap().stage, Stage::Closed);
    }

    #[test]
    fn every_other_refusal() {
        let c = Complaint::lodge(1, "xa", Category::NonTechnical, "a", "x").unwrap();
        assert!(
            c.inform_constituency("n").is_err(),
            "inform before assessment"
        );
        assert!(c.request_explanation("r").is_err());
        assert!(c.cure("done").is_err());
        assert!(c.answer_no_merit("no").is_err());
        assert!(
            c.notice_failure_to_cure("n", crate::time::Timestamp::from_second(0))
                .is_err()
        );
        assert!(c.resolve("t").is_err());
        assert!(c.fail_mediation().is_err());
        assert!(
            c.close("x").is_err(),
            "non-technical complaints are not simply closed"
        );
        let a = c.assess(true, "r").unwrap();
        assert!(a.assess(true, "again").is_err());
        assert!(
            a.inform_constituency(" ").is_err(),
            "notice must be written"
        );
        let i = a.inform_constituency("n").unwrap();
        assert!(
            i.instruct_cure(" ", ts(D), ts(0), 30).is_err(),
            "a course must be suggested"
        );
        let m = i
            .instruct_cure("c", ts(D), ts(0), 30)
            .unwrap()
            .notice_failure_to_cure("n", ts(D + 1))
            .unwrap()
            .open_mediation()
            .unwrap();
        assert!(
            m.record_session(Session {
                at: crate::time::Timestamp::from_second(0),
                record: " ".into(),
                good_faith: true,
                mediator: Some("med".into()),
                incumbent_position: "ours".into(),
                complainant_position: "theirs".into()
            })
            .is_err()
        );
        assert_eq!(m.resolve("agreed").unwrap().stage, Stage::Resolved);
    }

    #[test]
    fn the_opportunity_to_cure_is_real() {
        let i = Complaint::lodge(1, "xa", Category::NonTechnical, "a", "x")
            .unwrap()
            .assess(true, "r")
            .unwrap()
            .inform_constituency("n")
            .unwrap();
        let now = ts(1_800_000_000);
        // A deadline in the past, or sooner than the minimum: refused.
        for deadline in [ts(0), now, now.plus_days(29)] {
            let e = i.instruct_cure("c", deadline, now, 30).unwrap_err();
            assert!(e.section.contains("#durations"), "{e}");
        }
        let c = i.instruct_cure("c", now.plus_days(30), now, 30).unwrap();
        // A failure-to-cure notice one second later: refused.
        assert!(
            c.notice_failure_to_cure("n", ts(now.as_second() + 1))
                .is_err()
        );
        // The explanation is a step of its own, and never empty.
        let e = i.request_explanation("why?").unwrap();
        assert!(e.explain(" ").is_err());
        let x = e.explain("we lacked staff").unwrap();
        assert_eq!(x.stage, Stage::Explained);
        assert!(x.record.last().unwrap().contains("we lacked staff"));
        assert!(x.instruct_cure("c", now.plus_days(31), now, 30).is_ok());
    }
}
