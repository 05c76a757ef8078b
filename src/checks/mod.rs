//! Delegation health checks: the catalogue ([`catalogue`]), profiles
//! ([`profile`]) and the evaluation of a probe into findings and a verdict
//! ([`evaluate`]), plus the `rootguard check` report ([`report`]).

pub mod catalogue;
pub mod evaluate;
pub mod profile;
pub mod report;

pub use catalogue::{CATALOGUE, CheckInfo, Severity};
pub use evaluate::{Finding, Threat, ThreatKind, TldReport, Verdict, evaluate};
pub use profile::Profile;
pub use report::{CheckReport, run_checks};
