//! The rules of `../shared/spec/POLICY.md`, as pure state machines: facts
//! and a time in, a new state or a typed refusal out. No I/O happens here;
//! `store` records every transition as an event and the daemon feeds
//! sweeps in.
//!
//! - [`complaint`]: complaints and the non-technical path to mediation
//!   (BP §4, §5).
//! - [`case`]: redelegation cases (BP §2, §6, §7).
//! - [`gate`]: classification and decision of change requests.
//! - [`registry`]: the approved delegation record, effective delegations
//!   and drift.
//! - [`technical`]: technical complaints and temporary suspensions
//!   (BP §4.2.1, §4.3; POLICY.md "Technical complaints and temporary
//!   suspension", points 1-6).

pub mod case;
pub mod complaint;
pub mod gate;
pub mod registry;
pub mod role;
pub mod technical;

use serde::{Deserialize, Serialize};

pub use role::Role;

/// Sections of the rules that decisions cite.
pub mod section {
    /// Anyone may lodge a complaint.
    pub const COMPLAINT: &str = "BP §4.1";
    /// Technical complaints.
    pub const TECHNICAL: &str = "BP §4.2.1; POLICY.md technical point 1";
    /// What threatens DNS stability.
    pub const THREAT: &str = "BP §4.3; POLICY.md technical point 2";
    /// A persisting threat justifies a temporary suspension, least measure.
    pub const SUSPENSION: &str = "BP §4.3; POLICY.md technical point 3";
    /// A suspension lasts only while the threat lasts.
    pub const SUSPENSION_LIFT: &str = "BP §4.3; POLICY.md technical point 4";
    /// A suspension is never a redelegation.
    pub const NOT_REDELEGATION: &str = "BP §4.3; POLICY.md technical point 5";
    /// Impaired vantage point.
    pub const VANTAGE: &str = "POLICY.md technical point 6";
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
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            persist_sweeps: 3,
            clear_sweeps: 3,
            auto_suspend: true,
        }
    }
}

/// Formats Unix seconds as RFC 3339.
pub fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| secs.to_string())
}
