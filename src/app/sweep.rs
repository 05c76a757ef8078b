//! The sweep pipeline, the one the command line's `sweep` and the daemon
//! share: probe every watched approved ccTLD (as approved: a withheld DS
//! does not hide the threat it was withheld for), evaluate, judge whether
//! the guard's own vantage point is impaired, and record the findings.

use std::sync::Arc;

use serde::Serialize;

use super::{App, AppError, When};
use crate::checks::report::{RootZoneInfo, run_checks};
use crate::checks::{Profile, ThreatKind, TldReport};
use crate::ledger::Recorded;
use crate::policy::technical::SweepFacts;
use crate::probe::resolve::HostResolver;
use crate::probe::{ProbeConfig, Prober};
use crate::time::Timestamp;
use crate::zone::Delegation;

/// What a sweep did.
#[derive(Clone, Debug, Serialize)]
pub struct SweepSummary {
    /// Whether the vantage point was judged impaired
    /// (`docs/RULES.md#impaired-vantage`).
    pub impaired: bool,
    /// Per-TLD verdicts.
    pub reports: Vec<TldReport>,
    /// The recorded events.
    pub recorded: Vec<Recorded>,
}

/// Fewest ccTLDs a sweep must cover before a majority in total outage
/// says the vantage point is impaired.
pub const IMPAIRMENT_MIN_TLDS: usize = 4;

/// The one impairment rule (`docs/RULES.md#impaired-vantage`): the
/// vantage point is impaired when at least [`IMPAIRMENT_MIN_TLDS`] ccTLDs
/// were swept and more than half of them are in total outage at once, or
/// when every configured canary is in total outage.
pub fn impaired(reports: &[TldReport], canaries: &[String]) -> bool {
    // A ccTLD in total outage, or whose probe met a failure of this
    // machine (docs/RULES.md#local-failures), counts against the vantage.
    let down = |r: &TldReport| {
        r.local_error.is_some() || r.threats.iter().any(|t| t.kind == ThreatKind::TotalOutage)
    };
    let outages = reports.iter().filter(|r| down(r)).count();
    let majority = reports.len() >= IMPAIRMENT_MIN_TLDS && outages * 2 > reports.len();
    let canaries_down = !canaries.is_empty()
        && canaries
            .iter()
            .all(|c| reports.iter().find(|r| r.tld == *c).is_some_and(down));
    majority || canaries_down
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
    /// Probes every watched approved ccTLD (`sweep.tlds`, empty: all),
    /// judges the vantage point with the one impairment rule and records
    /// the sweep. Probing holds no lock; recording runs on a blocking
    /// thread. A cancelled sweep records nothing.
    pub async fn sweep(self: &Arc<Self>, when: When) -> Result<SweepSummary, AppError> {
        // The record's clock and the guard's key, before anything is probed.
        self.check_clock(when)?;
        self.guard_key()?;
        let started = std::time::Instant::now();
        let at = when.probe_time();
        let watched = &self.config.sweep.tlds;
        let delegations: Vec<Delegation> = self
            .world()
            .approved
            .values()
            .filter(|a| watched.is_empty() || watched.contains(&a.tld))
            .map(|a| a.delegation())
            .collect();
        let reports =
            probe_delegations(&delegations, self.config.probe.clone(), &self.profile, at).await;
        let impaired = impaired(&reports, &self.config.sweep.canaries);
        if impaired {
            tracing::error!(
                "VANTAGE POINT IMPAIRED: most monitored ccTLDs or the canaries fail at once; no complaint or suspension until it recovers (docs/RULES.md#impaired-vantage)"
            );
        }
        let observations: Vec<(String, SweepFacts)> = reports
            .iter()
            .map(|r| (r.tld.clone(), SweepFacts::from_report(r, at, impaired)))
            .collect();
        let recorded = self
            .blocking(move |ledger, _| {
                let at = when.record_time(ledger.world().last_at);
                let observations = observations
                    .into_iter()
                    .map(|(t, mut f)| {
                        f.at = at;
                        (t, f)
                    })
                    .collect();
                Ok(ledger.record_sweep(at, impaired, observations)?)
            })
            .await?;
        let changed = recorded
            .iter()
            .any(|r| crate::ledger::changes_state(&r.event));
        self.checkpoint(changed).await?;
        self.metrics
            .observe_sweep(&reports, impaired, started.elapsed().as_secs_f64(), at);
        Ok(SweepSummary {
            impaired,
            reports,
            recorded,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Threat, Verdict};

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
