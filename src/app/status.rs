//! What the daemon knows besides the record: the latest sweep, the root
//! zone in use, drift and current alarms.

use serde::Serialize;

use crate::checks::TldReport;
use crate::policy::registry::Drift;
use crate::time::Timestamp;

/// The root zone in use.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneStatus {
    /// Where it came from (file, AXFR server or URL).
    pub source: String,
    /// SOA serial.
    pub serial: u32,
    /// Authenticity status.
    pub authenticity: String,
    /// When it was loaded.
    pub loaded_at: Timestamp,
}

/// The latest sweep.
#[derive(Clone, Debug, Serialize)]
pub struct SweepStatus {
    /// When.
    pub at: Timestamp,
    /// Whether the vantage point was impaired.
    pub impaired: bool,
    /// Per-TLD results.
    pub reports: Vec<TldReport>,
}

/// What the daemon knows besides the record.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Status {
    /// The latest sweep.
    pub last_sweep: Option<SweepStatus>,
    /// The root zone in use.
    pub zone: Option<ZoneStatus>,
    /// Drift of the published zone against the record.
    pub drift: Vec<Drift>,
    /// Current alarms.
    pub alarms: Vec<String>,
}
