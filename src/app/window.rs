//! The sweep window (`docs/RULES.md#quorum`): what the guard's own probe
//! and the registered vantages reported since the last window closed, on
//! the guard's clock. Each vantage's reports queue in arrival order; a
//! window takes the oldest of each, so a report arriving after its window
//! closed counts for the next one. A vantage's sweep time must move
//! forward (a replay is refused) and be recent (a stale report is
//! refused); at most [`MAX_QUEUED`] reports of one vantage wait.
//!
//! ```text
//!   POST /api/v1/observations ──► verified ──► queue[vantage] ──┐
//!   the guard's own probe ─────────────────► queue[rootguard] ─┤
//!                                                               ▼
//!         all expected reported, or the interval ended ──► close: decide, record
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Mutex;

use crate::policy::Refusal;
use crate::policy::section::QUORUM;
use crate::time::Timestamp;

/// The vantage name of the guard's own probe.
pub const GUARD_VANTAGE: &str = "rootguard";

/// Most reports of one vantage waiting for windows.
pub const MAX_QUEUED: usize = 2;

pub use crate::policy::quorum::VantageReport;

#[derive(Debug, Default)]
struct Inner {
    queues: BTreeMap<String, VecDeque<(std::time::Instant, VantageReport)>>,
    /// The latest sweep time accepted from each vantage.
    last_at: BTreeMap<String, Timestamp>,
    /// Impaired after the last window.
    impaired: BTreeSet<String>,
    /// The reports the last window decided on.
    latest: BTreeMap<String, VantageReport>,
}

/// Most envelopes read and checked at once (`POST /api/v1/observations`):
/// anyone may send one, and each may be
/// [`crate::ledger::observation::MAX_OBSERVATION_BYTES`] long, so a flood
/// of them is refused before its bodies are read, not buffered.
pub const MAX_UPLOADS: usize = 8;

/// The open window and the state carried between windows.
#[derive(Debug)]
pub struct Windows {
    inner: Mutex<Inner>,
    /// Woken on every accepted report.
    pub arrived: tokio::sync::Notify,
    /// Envelopes being read and checked ([`MAX_UPLOADS`]).
    pub uploads: tokio::sync::Semaphore,
}

impl Default for Windows {
    fn default() -> Windows {
        Windows {
            inner: Mutex::default(),
            arrived: tokio::sync::Notify::new(),
            uploads: tokio::sync::Semaphore::new(MAX_UPLOADS),
        }
    }
}

impl Windows {
    /// Windows resuming from the record's last window: each vantage's
    /// last sweep time and whether it is impaired.
    pub fn resume(
        vantages: &BTreeMap<String, crate::policy::quorum::VantageWindow>,
        last_at: &BTreeMap<String, Timestamp>,
    ) -> Windows {
        let w = Windows::default();
        w.reset(vantages, last_at);
        w
    }

    /// Starts again from the record's last window (an instance elected
    /// leader of a shared record continues where the last leader left).
    pub fn reset(
        &self,
        vantages: &BTreeMap<String, crate::policy::quorum::VantageWindow>,
        last_at: &BTreeMap<String, Timestamp>,
    ) {
        {
            let mut inner = self.lock();
            *inner = Inner::default();
            inner.last_at = last_at.clone();
            for (v, state) in vantages {
                if let Some(at) = state.at {
                    let last = inner.last_at.entry(v.clone()).or_insert(at);
                    *last = (*last).max(at);
                }
                if state.impaired {
                    inner.impaired.insert(v.clone());
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Queues a report of `vantage`; refuses one that is not newer than
    /// the last accepted (a replay) or with too many waiting. Returns how
    /// many reports of the vantage wait before it (0: the open window).
    pub fn offer(&self, vantage: &str, report: VantageReport) -> Result<usize, Refusal> {
        let mut inner = self.lock();
        // The guard's own probe is not input: its clock (or a script's)
        // is the record's.
        if vantage != GUARD_VANTAGE
            && let Some(last) = inner.last_at.get(vantage)
            && report.at <= *last
        {
            return Err(Refusal::new(
                format!(
                    "replayed observations: {vantage:?} already reported a sweep at {last}, and this one is of {}",
                    report.at
                ),
                QUORUM,
            ));
        }
        let queue = inner.queues.entry(vantage.to_string()).or_default();
        if queue.len() >= MAX_QUEUED {
            return Err(Refusal::new(
                format!(
                    "{vantage:?} has {MAX_QUEUED} sweeps waiting for windows: it sweeps faster than the guard's interval"
                ),
                QUORUM,
            ));
        }
        let ahead = queue.len();
        let at = report.at;
        queue.push_back((std::time::Instant::now(), report));
        inner.last_at.insert(vantage.to_string(), at);
        drop(inner);
        self.arrived.notify_waiters();
        Ok(ahead)
    }

    /// Whether every vantage of `expected` has a report in the open window.
    pub fn complete(&self, expected: &[String]) -> bool {
        let inner = self.lock();
        expected
            .iter()
            .all(|v| inner.queues.get(v).is_some_and(|q| !q.is_empty()))
    }

    /// Closes the open window: the oldest waiting report of each vantage,
    /// and when the last of them arrived.
    pub fn take(&self) -> (BTreeMap<String, VantageReport>, Option<std::time::Instant>) {
        let mut inner = self.lock();
        let mut out = BTreeMap::new();
        let mut last: Option<std::time::Instant> = None;
        for (v, q) in inner.queues.iter_mut() {
            if let Some((arrived, r)) = q.pop_front() {
                last = Some(last.map_or(arrived, |l| l.max(arrived)));
                out.insert(v.clone(), r);
            }
        }
        inner.queues.retain(|_, q| !q.is_empty());
        (out, last)
    }

    /// The vantages impaired after the last window.
    pub fn impaired(&self) -> BTreeSet<String> {
        self.lock().impaired.clone()
    }

    /// Stores what the window just closed decided on.
    pub fn closed(&self, impaired: BTreeSet<String>, reports: BTreeMap<String, VantageReport>) {
        let mut inner = self.lock();
        inner.impaired = impaired;
        inner.latest = reports;
    }

    /// The reports the last window decided on.
    pub fn latest(&self) -> BTreeMap<String, VantageReport> {
        self.lock().latest.clone()
    }

    /// The vantages with a report waiting, and the time of the oldest.
    pub fn waiting(&self) -> BTreeMap<String, Timestamp> {
        self.lock()
            .queues
            .iter()
            .filter_map(|(v, q)| Some((v.clone(), q.front()?.1.at)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(at: i64) -> VantageReport {
        VantageReport {
            at: Timestamp::from_second(at),
            tlds: BTreeMap::new(),
        }
    }

    #[test]
    fn a_replay_is_refused_and_a_late_report_waits_for_the_next_window() {
        let w = Windows::default();
        assert_eq!(w.offer("b", report(100)).unwrap(), 0);
        let e = w.offer("b", report(100)).unwrap_err();
        assert!(e.reason.contains("replayed"), "{e}");
        assert!(w.offer("b", report(90)).is_err(), "older is a replay too");
        // A second sweep in the same window waits for the next one.
        assert_eq!(w.offer("b", report(160)).unwrap(), 1);
        assert!(w.offer("b", report(220)).is_err(), "at most two wait");
        let expected = vec!["b".to_string(), GUARD_VANTAGE.to_string()];
        assert!(!w.complete(&expected));
        w.offer(GUARD_VANTAGE, report(101)).unwrap();
        assert!(w.complete(&expected));
        let (first, _) = w.take();
        assert_eq!(first["b"].at, Timestamp::from_second(100));
        assert_eq!(first.len(), 2);
        let (second, _) = w.take();
        assert_eq!(second["b"].at, Timestamp::from_second(160));
        assert!(w.take().0.is_empty());
    }

    #[test]
    fn resuming_keeps_the_last_times_and_impairment() {
        let mut v = BTreeMap::new();
        v.insert(
            "b".to_string(),
            crate::policy::quorum::VantageWindow {
                at: Some(Timestamp::from_second(500)),
                impaired: true,
                ..Default::default()
            },
        );
        let w = Windows::resume(&v, &BTreeMap::new());
        assert!(
            w.offer("b", report(400)).is_err(),
            "replay across a restart"
        );
        assert!(w.impaired().contains("b"));
        // A vantage silent in the last window keeps its last time.
        let last = BTreeMap::from([("c".to_string(), Timestamp::from_second(700))]);
        let w = Windows::resume(&v, &last);
        assert!(
            w.offer("c", report(650)).is_err(),
            "replay of a silent vantage"
        );
        assert!(w.offer("c", report(701)).is_ok());
    }
}
