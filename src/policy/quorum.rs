//! The quorum of vantage points (`docs/RULES.md#quorum`): what several
//! vantages observed of the ccTLDs in one sweep window, decided into the
//! facts the technical rules act on. A threat or a family of findings
//! counts only when at least `quorum` healthy vantages observe it; a
//! vantage that disagrees with the quorum on more than a tenth of the
//! ccTLDs is impaired and does not count until it agrees again; with fewer
//! than `quorum` healthy vantages the window decides nothing.
//!
//! Pure: observations in, a decision out. The daemon gathers the
//! observations (its own probe is one vantage) and records the decision.
//!
//! ```text
//!   observations of a window ──► healthy vantages ≥ quorum? ──no──► Undecided
//!                                      │ yes                       (nothing changes)
//!                                      ▼
//!                      per ccTLD: threat / family seen by ≥ quorum
//!                                      │
//!                                      ▼
//!                 vantages disagreeing on > 10 % ──► impaired next window
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::checks::{Family, Severity, ThreatKind, TldReport};

/// What one vantage observed of one ccTLD.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The threat it saw, if any.
    pub threat: Option<ThreatKind>,
    /// The families with a finding of WARNING or above.
    pub families: BTreeSet<Family>,
}

impl Observation {
    /// The observation a check report makes; `None` when the probe met a
    /// failure of the vantage itself (`docs/RULES.md#local-failures`),
    /// which says nothing about the ccTLD.
    pub fn of(report: &TldReport) -> Option<Observation> {
        if report.local_error.is_some() {
            return None;
        }
        Some(Observation {
            threat: report.threats.first().map(|t| t.kind),
            families: report
                .findings
                .iter()
                .filter(|f| f.severity >= Severity::Warning)
                .map(|f| f.check.family())
                .collect(),
        })
    }
}

/// The default quorum: a majority of all `vantages` (1 with one vantage).
pub fn majority(vantages: usize) -> usize {
    vantages / 2 + 1
}

/// A vantage disagreeing with the quorum on more than this share of the
/// ccTLDs it observed is impaired.
pub const IMPAIRED_SHARE: f64 = 0.10;

/// What a window decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WindowDecision {
    /// Fewer than `quorum` healthy vantages reported: nothing changes, no
    /// complaint, no suspension, no lift.
    Undecided {
        /// The healthy vantages that reported.
        healthy: usize,
        /// The quorum needed.
        quorum: usize,
        /// Impaired vantages for the next window.
        impaired: BTreeSet<String>,
    },
    /// The quorum's view of every ccTLD observed.
    Decided {
        /// Per ccTLD: the threat and families a quorum saw.
        tlds: BTreeMap<String, Observation>,
        /// Impaired vantages for the next window.
        impaired: BTreeSet<String>,
    },
}

/// Decides one window: `views` holds, per vantage, its observation of each
/// ccTLD; `impaired` the vantages impaired after the previous window.
pub fn decide(
    views: &BTreeMap<String, BTreeMap<String, Observation>>,
    quorum: usize,
    impaired: &BTreeSet<String>,
) -> WindowDecision {
    let quorum = quorum.max(1);
    let healthy: Vec<(&String, &BTreeMap<String, Observation>)> = views
        .iter()
        .filter(|(v, _)| !impaired.contains(*v))
        .collect();
    let tlds: BTreeSet<&String> = healthy.iter().flat_map(|(_, m)| m.keys()).collect();
    let mut decided: BTreeMap<String, Observation> = BTreeMap::new();
    for tld in tlds {
        let seen: Vec<&Observation> = healthy.iter().filter_map(|(_, m)| m.get(tld)).collect();
        let mut out = Observation::default();
        for kind in [ThreatKind::TotalOutage, ThreatKind::DnssecBogus] {
            if seen.iter().filter(|o| o.threat == Some(kind)).count() >= quorum {
                out.threat = Some(kind);
                break;
            }
        }
        let families: BTreeSet<Family> = seen
            .iter()
            .flat_map(|o| o.families.iter().copied())
            .collect();
        for f in families {
            if seen.iter().filter(|o| o.families.contains(&f)).count() >= quorum {
                out.families.insert(f);
            }
        }
        decided.insert(tld.clone(), out);
    }
    // Every vantage, impaired or not, is judged against the quorum's view:
    // an impaired one that agrees again is healthy in the next window.
    let next: BTreeSet<String> = views
        .iter()
        .filter(|(_, m)| {
            let compared = m.keys().filter(|t| decided.contains_key(*t)).count();
            let differing = m
                .iter()
                .filter(|(t, o)| decided.get(*t).is_some_and(|d| d != *o))
                .count();
            compared > 0 && differing as f64 > IMPAIRED_SHARE * compared as f64
        })
        .map(|(v, _)| v.clone())
        .collect();
    // A vantage that reported nothing this window keeps its state.
    let next: BTreeSet<String> = next
        .into_iter()
        .chain(impaired.iter().filter(|v| !views.contains_key(*v)).cloned())
        .collect();
    if healthy.len() < quorum {
        return WindowDecision::Undecided {
            healthy: healthy.len(),
            quorum,
            impaired: next,
        };
    }
    WindowDecision::Decided {
        tlds: decided,
        impaired: next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(threat: Option<ThreatKind>, families: &[Family]) -> Observation {
        Observation {
            threat,
            families: families.iter().copied().collect(),
        }
    }

    fn views(
        per: &[(&str, &[(&str, Observation)])],
    ) -> BTreeMap<String, BTreeMap<String, Observation>> {
        per.iter()
            .map(|(v, m)| {
                (
                    v.to_string(),
                    m.iter().map(|(t, o)| (t.to_string(), o.clone())).collect(),
                )
            })
            .collect()
    }

    fn as_refs(v: &[(String, Observation)]) -> Vec<(&str, Observation)> {
        v.iter().map(|(t, o)| (t.as_str(), o.clone())).collect()
    }

    fn healthy_tlds(n: usize) -> Vec<(String, Observation)> {
        (0..n)
            .map(|i| (format!("t{i}"), Observation::default()))
            .collect()
    }

    #[test]
    fn majority_is_one_for_one_vantage() {
        assert_eq!(majority(1), 1);
        assert_eq!(majority(2), 2);
        assert_eq!(majority(3), 2);
        assert_eq!(majority(4), 3);
    }

    #[test]
    fn one_vantage_alone_decides_as_today() {
        let outage = obs(Some(ThreatKind::TotalOutage), &[Family::Reachability]);
        let v = views(&[("guard", &[("xg", outage.clone())])]);
        let WindowDecision::Decided { tlds, impaired } = decide(&v, 1, &BTreeSet::new()) else {
            panic!("decided")
        };
        assert_eq!(tlds["xg"], outage);
        assert!(impaired.is_empty());
    }

    #[test]
    fn a_threat_seen_by_one_of_three_does_not_count() {
        let outage = obs(Some(ThreatKind::TotalOutage), &[Family::Reachability]);
        let ok = Observation::default();
        let v = views(&[
            ("a", &[("xc", outage.clone())]),
            ("b", &[("xc", ok.clone())]),
            ("c", &[("xc", ok.clone())]),
        ]);
        let WindowDecision::Decided { tlds, .. } = decide(&v, 2, &BTreeSet::new()) else {
            panic!("decided")
        };
        assert_eq!(
            tlds["xc"], ok,
            "no threat, no finding on one network's word"
        );
    }

    #[test]
    fn a_threat_seen_by_all_counts() {
        let outage = obs(Some(ThreatKind::TotalOutage), &[Family::Reachability]);
        let v = views(&[
            ("a", &[("xg", outage.clone())]),
            ("b", &[("xg", outage.clone())]),
            ("c", &[("xg", outage.clone())]),
        ]);
        let WindowDecision::Decided { tlds, .. } = decide(&v, 2, &BTreeSet::new()) else {
            panic!("decided")
        };
        assert_eq!(tlds["xg"], outage);
    }

    #[test]
    fn different_threat_kinds_do_not_add_up() {
        let v = views(&[
            ("a", &[("xh", obs(Some(ThreatKind::TotalOutage), &[]))]),
            ("b", &[("xh", obs(Some(ThreatKind::DnssecBogus), &[]))]),
            ("c", &[("xh", Observation::default())]),
        ]);
        let WindowDecision::Decided { tlds, .. } = decide(&v, 2, &BTreeSet::new()) else {
            panic!("decided")
        };
        assert_eq!(tlds["xh"].threat, None);
    }

    #[test]
    fn a_vantage_cut_off_from_everything_is_impaired_and_changes_nothing() {
        let outage = obs(Some(ThreatKind::TotalOutage), &[Family::Reachability]);
        let good = healthy_tlds(20);
        let bad: Vec<(String, Observation)> = good
            .iter()
            .map(|(t, _)| (t.clone(), outage.clone()))
            .collect();
        let (g, b) = (as_refs(&good), as_refs(&bad));
        let v = views(&[("a", &g), ("b", &g), ("cut", &b)]);
        let WindowDecision::Decided { tlds, impaired } = decide(&v, 2, &BTreeSet::new()) else {
            panic!("decided")
        };
        assert!(tlds.values().all(|o| *o == Observation::default()));
        assert_eq!(impaired, BTreeSet::from(["cut".to_string()]));
        // Next window it does not count; once it agrees again it is healthy.
        let v = views(&[("a", &g), ("b", &g), ("cut", &g)]);
        let WindowDecision::Decided { impaired, .. } = decide(&v, 2, &impaired) else {
            panic!("decided")
        };
        assert!(impaired.is_empty());
    }

    #[test]
    fn fewer_healthy_vantages_than_the_quorum_decide_nothing() {
        let g = [("xa", Observation::default())];
        // Two of three killed: one left, quorum two.
        let v = views(&[("a", &g)]);
        assert!(matches!(
            decide(&v, 2, &BTreeSet::new()),
            WindowDecision::Undecided {
                healthy: 1,
                quorum: 2,
                ..
            }
        ));
        // Or one impaired and one missing.
        let v = views(&[("a", &g), ("b", &g)]);
        assert!(matches!(
            decide(&v, 2, &BTreeSet::from(["b".to_string()])),
            WindowDecision::Undecided { healthy: 1, .. }
        ));
    }

    #[test]
    fn one_vantage_killed_the_others_go_on() {
        let outage = obs(Some(ThreatKind::TotalOutage), &[]);
        let v = views(&[
            ("a", &[("xg", outage.clone())]),
            ("b", &[("xg", outage.clone())]),
        ]);
        let WindowDecision::Decided { tlds, impaired } = decide(&v, 2, &BTreeSet::new()) else {
            panic!("decided")
        };
        assert_eq!(tlds["xg"].threat, Some(ThreatKind::TotalOutage));
        assert!(impaired.is_empty());
    }

    #[test]
    fn a_local_failure_is_no_observation() {
        let report = TldReport {
            tld: "xa".into(),
            kind: crate::zone::TldKind::CountryCode,
            verdict: crate::checks::Verdict::Threat,
            threats: vec![],
            findings: vec![],
            servers: vec![],
            probe_ms: 0.0,
            local_error: Some("no descriptors".into()),
        };
        assert_eq!(Observation::of(&report), None);
    }
}
