//! The sweep pipeline, the one the command line's `sweep` and the daemon
//! share: probe every watched approved ccTLD (as approved: a withheld DS
//! does not hide the threat it was withheld for), evaluate, judge whether
//! the guard's own vantage point is impaired, and record the findings.

use std::sync::Arc;

use serde::Serialize;

use std::collections::BTreeMap;

use super::window::{GUARD_VANTAGE, VantageReport};
use super::{App, AppError, When};
use crate::checks::report::{RootZoneInfo, run_checks};
use crate::checks::{Profile, TldReport};
use crate::ledger::Recorded;
use crate::policy::quorum::{TldSeen, WindowInput, WindowRecord, decide_window, majority};
use crate::policy::technical::SweepFacts;
use crate::probe::resolve::HostResolver;
use crate::probe::{ProbeConfig, Prober};
use crate::time::Timestamp;
use crate::zone::Delegation;

/// What a sweep did.
#[derive(Clone, Debug, Serialize)]
pub struct SweepSummary {
    /// Whether the window decided nothing: the guard's vantage point was
    /// impaired, or fewer healthy vantages than the quorum reported
    /// (`docs/RULES.md#impaired-vantage`, `#quorum`).
    pub impaired: bool,
    /// The guard's own per-TLD verdicts.
    pub reports: Vec<TldReport>,
    /// How each vantage fared in the window.
    pub window: WindowRecord,
    /// The recorded events.
    pub recorded: Vec<Recorded>,
}

pub use crate::policy::quorum::IMPAIRMENT_MIN_TLDS;

/// The one impairment rule (`docs/RULES.md#impaired-vantage`), applied to
/// the guard's own reports: see [`crate::policy::quorum::self_impaired`].
pub fn impaired(reports: &[TldReport], canaries: &[String]) -> bool {
    let facts: BTreeMap<String, SweepFacts> = reports
        .iter()
        .map(|r| {
            (
                r.tld.clone(),
                SweepFacts::from_report(r, Timestamp::from_second(0), false),
            )
        })
        .collect();
    crate::policy::quorum::self_impaired(&facts, canaries)
}

/// Probes delegations and evaluates them at `at` (no record is touched).
pub async fn probe_delegations(
    delegations: &[Delegation],
    probe: ProbeConfig,
    profile: &Profile,
    at: Timestamp,
) -> Vec<TldReport> {
    let resolver = HostResolver::new(probe.resolver);
    let prober = Prober::new(probe);
    run_checks(
        &prober,
        &resolver,
        delegations,
        profile,
        at,
        RootZoneInfo {
            source: "approved delegation record".into(),
            serial: 0,
        },
    )
    .await
    .tlds
}

impl App {
    /// The vantages a window expects (`docs/RULES.md#quorum`): the guard's
    /// own probe and every active registered vantage.
    pub fn expected_vantages(&self) -> Vec<String> {
        std::iter::once(GUARD_VANTAGE.to_string())
            .chain(
                self.world()
                    .identities
                    .values()
                    .filter(|i| i.active() && i.registration.kind == crate::ledger::Kind::Vantage)
                    .map(|i| i.registration.id.clone()),
            )
            .collect()
    }

    /// The quorum in force: `quorum.quorum`, or a majority of the
    /// expected vantages.
    pub fn quorum(&self) -> usize {
        match self.config.quorum.quorum {
            0 => majority(self.expected_vantages().len()),
            q => q,
        }
    }

    /// The oldest sweep time a vantage's observations may have: two sweep
    /// intervals before now.
    pub fn observation_max_age(&self) -> i64 {
        2 * self.config.sweep.interval_secs.max(1) as i64
    }

    /// The watched approved ccTLDs (`sweep.tlds`, empty: all).
    fn watched(&self) -> Vec<crate::zone::Delegation> {
        let watched = &self.config.sweep.tlds;
        self.world()
            .approved
            .values()
            .filter(|a| watched.is_empty() || watched.contains(&a.tld))
            .map(|a| a.delegation())
            .collect()
    }

    /// The guard's own probe of every watched approved ccTLD, as its
    /// report in the open window. Probing holds no lock.
    pub async fn probe_own(self: &Arc<Self>, when: When) -> Result<Vec<TldReport>, AppError> {
        // The record's clock and the guard's key, before anything is probed.
        self.check_clock(when)?;
        self.guard_key()?;
        let at = when.probe_time();
        let delegations = self.watched();
        let reports =
            probe_delegations(&delegations, self.config.probe.clone(), &self.profile, at).await;
        let tlds = reports
            .iter()
            .map(|r| (r.tld.clone(), TldSeen::of(r, at)))
            .collect();
        self.windows
            .offer(GUARD_VANTAGE, VantageReport { at, tlds })
            .map_err(|r| AppError::Ledger(crate::ledger::LedgerError::Refused(r)))?;
        Ok(reports)
    }

    /// Accepts the signed observations of a registered vantage
    /// (`POST /api/v1/observations`) into the open window, or the next
    /// when it already has one; the signature is checked on a blocking
    /// thread.
    pub async fn accept_observations(
        self: &Arc<Self>,
        body: bytes::Bytes,
    ) -> Result<(String, usize), AppError> {
        // Only the leader keeps windows: a follower sends the vantage on
        // (docs/RULES.md#replication).
        self.refuse_if_following().await?;
        let world = self.world();
        let max_age = self.observation_max_age();
        let opened = tokio::task::spawn_blocking(move || {
            crate::ledger::observation::open_observations(&body, &world, Timestamp::now(), max_age)
        })
        .await?;
        let queued = opened.and_then(|o| {
            let vantage = o.vantage.clone();
            let report = VantageReport {
                at: o.at,
                tlds: o.tlds,
            };
            self.windows
                .offer(&vantage, report)
                .map(|ahead| (vantage, ahead))
        });
        let outcome = if queued.is_ok() {
            "accepted"
        } else {
            "refused"
        };
        self.metrics
            .observations
            .with_label_values(&[outcome])
            .inc();
        queued.map_err(|refusal| {
            tracing::warn!("observations refused: {refusal}");
            AppError::Ledger(crate::ledger::LedgerError::Refused(refusal))
        })
    }

    /// Closes the open window (`docs/RULES.md#quorum`): decides on the
    /// oldest report of each vantage and records the decision in one
    /// transaction on a blocking thread. `own` is the guard's own reports
    /// (for the metrics and the summary); `started` when its sweep began.
    pub async fn close_window(
        self: &Arc<Self>,
        when: When,
        own: Vec<TldReport>,
        started: std::time::Instant,
    ) -> Result<SweepSummary, AppError> {
        let (taken, last_arrival) = self.windows.take();
        let expected = self.expected_vantages();
        let quorum = self.quorum();
        let before = self.windows.impaired();
        let watched: Vec<String> = self.watched().into_iter().map(|d| d.tld).collect();
        let reports: BTreeMap<String, (Timestamp, BTreeMap<String, SweepFacts>)> = taken
            .iter()
            .map(|(v, r)| {
                let facts = r
                    .tlds
                    .iter()
                    .map(|(t, s)| (t.clone(), s.facts.clone()))
                    .collect();
                (v.clone(), (r.at, facts))
            })
            .collect();
        let outcome = decide_window(
            &reports,
            &WindowInput {
                expected: &expected,
                quorum,
                impaired: &before,
                canaries: &self.config.sweep.canaries,
                watched: &watched,
                at: when.probe_time(),
            },
        );
        let impaired = outcome.facts.is_none();
        if impaired {
            tracing::error!(
                "NO QUORUM: {} of the {quorum} healthy vantages needed reported; no complaint, suspension or lift (docs/RULES.md#quorum, #impaired-vantage)",
                outcome
                    .record
                    .vantages
                    .values()
                    .filter(|v| v.at.is_some() && !v.impaired)
                    .count()
            );
        }
        for (v, state) in &outcome.record.vantages {
            if state.impaired && !before.contains(v) {
                tracing::error!(
                    "VANTAGE {v} IMPAIRED: it disagrees with the quorum on {} of {} ccTLDs, or most of what it probes fails at once; its observations do not count until it agrees again (docs/RULES.md#quorum)",
                    state.differing,
                    state.compared
                );
            }
        }
        let record = outcome.record.clone();
        let facts = outcome.facts.unwrap_or_default();
        let window = record.clone();
        let recorded = self
            .blocking(move |ledger, _| {
                let at = when.record_time(ledger.world().last_at);
                let observations = facts
                    .into_iter()
                    .map(|(t, mut f)| {
                        f.at = at;
                        (t, f)
                    })
                    .collect();
                Ok(ledger.record_sweep(at, impaired, observations, Some(window))?)
            })
            .await?;
        self.windows.closed(outcome.impaired, taken.clone());
        if let Some(last) = last_arrival {
            let secs = last.elapsed().as_secs_f64();
            self.metrics.window_decision.observe(secs);
            tracing::info!(
                "window decided ({} of {} vantages reported, {} events) {:.1} ms after its last report arrived",
                taken.len(),
                expected.len(),
                recorded.len(),
                secs * 1000.0
            );
        }
        let changed = recorded
            .iter()
            .any(|r| crate::ledger::changes_state(&r.event));
        self.checkpoint_committed(changed).await;
        self.metrics.observe_sweep(
            &own,
            impaired,
            started.elapsed().as_secs_f64(),
            when.probe_time(),
        );
        self.metrics.observe_window(&taken, &record);
        Ok(SweepSummary {
            impaired,
            reports: own,
            window: record,
            recorded,
        })
    }

    /// One sweep and its window at once (the command line's `sweep`): the
    /// guard's own probe, with the reports of vantages that arrived.
    pub async fn sweep(self: &Arc<Self>, when: When) -> Result<SweepSummary, AppError> {
        let started = std::time::Instant::now();
        let own = self.probe_own(when).await?;
        self.close_window(when, own, started).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Threat, ThreatKind, Verdict};

    fn report(tld: &str, outage: bool) -> TldReport {
        TldReport {
            tld: tld.into(),
            kind: crate::zone::TldKind::CountryCode,
            verdict: if outage { Verdict::Threat } else { Verdict::Ok },
            threats: if outage {
                vec![Threat {
                    kind: ThreatKind::TotalOutage,
                    detail: String::new(),
                    rule: "",
                }]
            } else {
                vec![]
            },
            findings: vec![],
            servers: vec![],
            probe_ms: 0.0,
            local_error: None,
        }
    }

    #[test]
    fn impairment_by_majority_or_by_canaries() {
        let most = [
            report("a", true),
            report("b", true),
            report("c", true),
            report("d", false),
        ];
        assert!(impaired(&most, &[]));
        let few = [
            report("a", true),
            report("b", false),
            report("c", false),
            report("d", false),
        ];
        assert!(!impaired(&few, &[]));
        assert!(!impaired(&most[..2], &[]), "too few TLDs to judge");
        let canaries = vec!["b".to_string(), "c".to_string()];
        let both_down = [
            report("a", false),
            report("b", true),
            report("c", true),
            report("d", false),
            report("e", false),
        ];
        assert!(impaired(&both_down, &canaries));
        assert!(!impaired(&few, &canaries));
        let unknown = vec!["zz".to_string()];
        assert!(!impaired(&few, &unknown), "a canary not swept is not down");
    }
}
