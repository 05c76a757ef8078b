//! The rules of `docs/RULES.md`, as pure state machines: facts
//! and a time in, a new state or a typed refusal out. No I/O happens here;
//! `store` records every transition as an event and the daemon feeds
//! sweeps in.
//!
//! - [`complaint`]: complaints and the non-technical path to mediation
//!   (BP §4, §5).
//! - [`case`]: redelegation cases (BP §2, §6, §7).
//! - [`gate`]: classification and decision of change requests.
//! - [`quorum`]: the observations of several vantage points decided by a
//!   quorum (`docs/RULES.md#quorum`).
//! - [`registry`]: the approved delegation record, effective delegations
//!   and drift.
//! - [`technical`]: technical complaints and temporary suspensions
//!   (`docs/RULES.md#technical-complaint` to `#impaired-vantage`;
//!   BP §4.2.1, §4.3).

pub mod case;
pub mod complaint;
pub mod gate;
pub mod quorum;
pub mod registry;
pub mod role;
pub mod technical;
pub mod territory;

use serde::{Deserialize, Serialize};

pub use role::Role;

/// Sections of the rules that decisions cite.
pub mod section {
    /// Anyone may lodge a complaint.
    pub const COMPLAINT: &str = "docs/RULES.md#complaint; BP §4.1";
    /// Technical complaints.
    pub const TECHNICAL: &str = "docs/RULES.md#technical-complaint; BP §4.2.1";
    /// What threatens DNS stability.
    pub const THREAT: &str = "docs/RULES.md#threat; BP §4.3";
    /// A persisting threat justifies a temporary suspension, least measure.
    pub const SUSPENSION: &str = "docs/RULES.md#suspension; BP §4.3";
    /// A suspension lasts only while the threat lasts.
    pub const SUSPENSION_LIFT: &str = "docs/RULES.md#suspension-lift; BP §4.3";
    /// A suspension is never a redelegation.
    pub const NOT_REDELEGATION: &str = "docs/RULES.md#suspension-not-redelegation; BP §4.3";
    /// Nobody imposes, confirms or extends a suspension without a current threat.
    pub const NEEDS_THREAT: &str = "docs/RULES.md#suspension-needs-threat; BP §4.3";
    /// Durations: positive and at least their configured minimum.
    pub const DURATIONS: &str = "docs/RULES.md#durations; BP §4.4.1, §6.4, §7";
    /// An imposition needs a threat persisting for K sweeps up to now and
    /// an open technical complaint; K new sweeps after an early lift.
    pub const PERSISTS: &str = "docs/RULES.md#suspension-persists; BP §4.3";
    /// The approved delegation record.
    pub const RECORD: &str = "docs/RULES.md#record";
    /// Nothing recorded is lost or rewritten.
    pub const APPEND_ONLY: &str = "docs/RULES.md#append-only";
    /// Who may act.
    pub const ACTORS: &str = "docs/RULES.md#actors";
    /// Impaired vantage point.
    pub const VANTAGE: &str = "docs/RULES.md#impaired-vantage";
    /// Suspensions while the quorum of vantages is lost.
    pub const QUORUM_REVIEW: &str = "docs/RULES.md#quorum-review";
    /// The quorum of vantages.
    pub const QUORUM: &str = "docs/RULES.md#quorum";
}

/// A transition the rules do not allow, with the section that forbids it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("refused: {reason} ({section})")]
pub struct Refusal {
    /// Why.
    pub reason: String,
    /// The rules applied.
    pub section: String,
}

impl Refusal {
    /// A refusal citing `section`.
    pub fn new(reason: impl Into<String>, section: &str) -> Refusal {
        Refusal {
            reason: reason.into(),
            section: section.to_string(),
        }
    }
}

/// Policy settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// K: consecutive sweeps a finding (or threat) must persist before a
    /// complaint is lodged (or a suspension justified). Default 3.
    pub persist_sweeps: u32,
    /// R: consecutive sweeps without the threat before a suspension is
    /// lifted. Default 3.
    pub clear_sweeps: u32,
    /// Whether the guard imposes a justified suspension itself (true) or
    /// proposes it to an operator (false).
    pub auto_suspend: bool,
    /// The least time, in days, a cure instruction gives the manager: its
    /// deadline lies at least this far in the future
    /// (`docs/RULES.md#durations`). Default 30.
    pub min_cure_days: i64,
    /// The shortest public comment period in days (`docs/RULES.md#durations`).
    /// Default 30.
    pub min_comment_days: i64,
    /// The shortest appeal window in days (`docs/RULES.md#durations`).
    /// Default 14.
    pub min_appeal_window_days: i64,
    /// How long, in seconds, the quorum of vantages may be lost before
    /// every active suspension needs an operator to uphold or lift it
    /// (`docs/RULES.md#quorum-review`). Default 1800.
    pub quorum_review_secs: i64,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            persist_sweeps: 3,
            clear_sweeps: 3,
            auto_suspend: true,
            min_cure_days: 30,
            min_comment_days: 30,
            min_appeal_window_days: 14,
            quorum_review_secs: 1800,
        }
    }
}

impl PolicyConfig {
    /// Refuses a duration of `days` below `min` (and any duration that is
    /// not positive) for `what` (`docs/RULES.md#durations`).
    pub fn duration(what: &str, days: i64, min: i64) -> Result<(), Refusal> {
        let min = min.max(1);
        if days < min {
            return Err(Refusal::new(
                format!(
                    "{what} of {days} days is shorter than the configured minimum of {min} days"
                ),
                section::DURATIONS,
            ));
        }
        Ok(())
    }
}
