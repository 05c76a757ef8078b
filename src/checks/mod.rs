//! Delegation health checks: the catalogue ([`catalogue`]), profiles
//! ([`profile`]), the evaluation of a probe into findings and a verdict
//! ([`evaluate`], with the delegation-shape checks in [`shape`] and the
//! DNSSEC checks in `dnssec`), and the `rootguard check` report
//! ([`report`]).

pub mod catalogue;
mod dnssec;
pub mod evaluate;
pub mod finding;
pub mod profile;
mod reply;
pub mod report;
pub mod shape;

pub use catalogue::{CATALOGUE, CheckId, CheckInfo, Family, Severity};
pub use evaluate::evaluate;
pub use finding::{Finding, ServerStatus, Threat, ThreatKind, TldReport, Verdict};
pub use profile::Profile;
pub use report::{CheckReport, run_checks};
