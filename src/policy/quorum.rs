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

use super::technical::SweepFacts;
use crate::checks::{Family, ThreatKind, TldReport};
use crate::time::Timestamp;

pub use super::technical::Observation;

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

/// Per vantage: on how many of the ccTLDs the quorum decided its
/// observation differs, and how many the quorum decided. A ccTLD it did
/// not observe (left out, or its own failure) counts as differing: a
/// vantage that leaves out what it does not like is impaired like one that
/// reports it wrongly.
pub fn agreement(
    views: &BTreeMap<String, BTreeMap<String, Observation>>,
    decided: &BTreeMap<String, Observation>,
) -> BTreeMap<String, (usize, usize)> {
    views
        .iter()
        .map(|(v, m)| {
            let differing = decided
                .iter()
                .filter(|(t, d)| m.get(*t) != Some(*d))
                .count();
            (v.clone(), (differing, decided.len()))
        })
        .collect()
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
    let decided = view(&healthy, quorum);
    let undecided = healthy.len() < quorum;
    // Every vantage, impaired or not, is judged against the quorum's view:
    // an impaired one that agrees again is healthy in the next window.
    // Without a quorum there is no quorum's view: a healthy vantage is not
    // impaired by disagreeing with a minority, and an impaired one is
    // judged against what every healthy vantage sees (so that two
    // vantages, one impaired, can decide again).
    let reference = if undecided {
        view(&healthy, healthy.len().max(1))
    } else {
        decided.clone()
    };
    let next: BTreeSet<String> = agreement(views, &reference)
        .into_iter()
        .filter(|(v, (differing, compared))| {
            (!undecided || impaired.contains(v))
                && *compared > 0
                && *differing as f64 > IMPAIRED_SHARE * *compared as f64
        })
        .map(|(v, _)| v)
        .collect();
    // A vantage that reported nothing this window keeps its state.
    let next: BTreeSet<String> = next
        .into_iter()
        .chain(impaired.iter().filter(|v| !views.contains_key(*v)).cloned())
        .collect();
    if undecided {
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

/// The view of the `healthy` vantages: per ccTLD, the threat and the
/// families at least `threshold` of them observe.
fn view(
    healthy: &[(&String, &BTreeMap<String, Observation>)],
    threshold: usize,
) -> BTreeMap<String, Observation> {
    let tlds: BTreeSet<&String> = healthy.iter().flat_map(|(_, m)| m.keys()).collect();
    let mut decided: BTreeMap<String, Observation> = BTreeMap::new();
    for tld in tlds {
        let seen: Vec<&Observation> = healthy.iter().filter_map(|(_, m)| m.get(tld)).collect();
        // Observed by fewer than the threshold: not decided either way
        // (neither a threat nor a healthy sweep on a minority's word).
        if seen.len() < threshold {
            continue;
        }
        let mut out = Observation::default();
        for kind in [ThreatKind::TotalOutage, ThreatKind::DnssecBogus] {
            if seen.iter().filter(|o| o.threat == Some(kind)).count() >= threshold {
                out.threat = Some(kind);
                break;
            }
        }
        let families: BTreeSet<Family> = seen
            .iter()
            .flat_map(|o| o.families.iter().copied())
            .collect();
        // Neither a threat nor its absence on fewer than the threshold's
        // word: a ccTLD on which no quorum agrees either way (one healthy
        // vantage sees an outage, the other not) is not judged, so that one
        // vantage cannot lift a suspension or close a complaint by
        // disagreeing when only the quorum is left.
        let mut disputed =
            out.threat.is_none() && seen.iter().filter(|o| o.threat.is_none()).count() < threshold;
        for f in families {
            let with = seen.iter().filter(|o| o.families.contains(&f)).count();
            if with >= threshold {
                out.families.insert(f);
            } else if seen.len() - with < threshold {
                disputed = true;
            }
        }
        if disputed {
            continue;
        }
        decided.insert(tld.clone(), out);
    }
    decided
}

/// Fewest ccTLDs a vantage must report before a majority of them in total
/// outage says the vantage is impaired by itself
/// (`docs/RULES.md#impaired-vantage`).
pub const IMPAIRMENT_MIN_TLDS: usize = 4;

/// The one self-impairment rule (`docs/RULES.md#impaired-vantage`): a
/// vantage is impaired when it reported at least [`IMPAIRMENT_MIN_TLDS`]
/// ccTLDs and more than half of them are in total outage (or not judged
/// because of its own failure), or when every configured canary is.
pub fn self_impaired(facts: &BTreeMap<String, SweepFacts>, canaries: &[String]) -> bool {
    let down = |f: &SweepFacts| f.impaired || f.threat == Some(ThreatKind::TotalOutage);
    let outages = facts.values().filter(|f| down(f)).count();
    let majority = facts.len() >= IMPAIRMENT_MIN_TLDS && outages * 2 > facts.len();
    let canaries_down = !canaries.is_empty()
        && canaries
            .iter()
            .all(|c| facts.get(c.as_str()).is_some_and(down));
    majority || canaries_down
}

/// The status of one name server address as a vantage saw it, for the
/// per-vantage metrics and pages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSeen {
    /// NS host.
    pub host: String,
    /// Address.
    pub address: std::net::IpAddr,
    /// Whether it answered SOA authoritatively with NOERROR over UDP.
    pub udp_up: bool,
    /// Whether it did over TCP.
    pub tcp_up: bool,
    /// UDP round trip in ms.
    pub udp_rtt_ms: f64,
    /// TCP round trip in ms.
    pub tcp_rtt_ms: f64,
}

/// What one vantage reports of one ccTLD in one sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TldSeen {
    /// The facts the technical rules act on (`impaired`: the vantage met a
    /// failure of its own probing this ccTLD).
    pub facts: SweepFacts,
    /// Per name server address.
    #[serde(default)]
    pub servers: Vec<ServerSeen>,
}

impl TldSeen {
    /// What a check report says, at `at`.
    pub fn of(report: &TldReport, at: Timestamp) -> TldSeen {
        TldSeen {
            facts: SweepFacts::from_report(report, at, false),
            servers: report
                .servers
                .iter()
                .map(|s| ServerSeen {
                    host: s.host.clone(),
                    address: s.address,
                    udp_up: s.udp_noerror && s.authoritative,
                    tcp_up: s.tcp_noerror && s.authoritative,
                    udp_rtt_ms: s.udp_rtt_ms,
                    tcp_rtt_ms: s.tcp_rtt_ms,
                })
                .collect(),
        }
    }
}

/// One sweep's report of one vantage.
#[derive(Clone, Debug)]
pub struct VantageReport {
    /// When it swept (its clock).
    pub at: Timestamp,
    /// Per ccTLD.
    pub tlds: BTreeMap<String, TldSeen>,
}

/// How one vantage fared in a window, as recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VantageWindow {
    /// When it swept (its own clock), when it reported in this window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    /// Whether its observations counted in this window.
    #[serde(default)]
    pub counted: bool,
    /// Whether it is impaired after this window (disagreed with the quorum
    /// on more than a tenth of the ccTLDs, or impaired by itself).
    #[serde(default)]
    pub impaired: bool,
    /// ccTLDs on which it differed from the quorum's view.
    #[serde(default)]
    pub differing: u32,
    /// ccTLDs it observed that the quorum decided.
    #[serde(default)]
    pub compared: u32,
}

/// What a window decided, as its round records it
/// (`docs/RULES.md#quorum`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowRecord {
    /// The quorum in force.
    pub quorum: u32,
    /// Whether at least `quorum` healthy vantages reported: otherwise the
    /// window changed nothing.
    pub decided: bool,
    /// Every vantage known to the window (registered or reporting).
    pub vantages: BTreeMap<String, VantageWindow>,
}

/// The outcome of one window: the record of it, and, when it decided, the
/// facts per ccTLD the technical rules act on.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowOutcome {
    /// What the round records.
    pub record: WindowRecord,
    /// Per watched ccTLD, the quorum's facts (`None`: undecided).
    pub facts: Option<Vec<(String, SweepFacts)>>,
    /// The vantages impaired for the next window.
    pub impaired: BTreeSet<String>,
}

/// The inputs of one window besides the observations.
#[derive(Clone, Debug)]
pub struct WindowInput<'a> {
    /// The vantages expected (the guard and every registered vantage):
    /// those that did not report are recorded as silent.
    pub expected: &'a [String],
    /// The quorum.
    pub quorum: usize,
    /// Impaired after the previous window.
    pub impaired: &'a BTreeSet<String>,
    /// Canaries of the self-impairment rule.
    pub canaries: &'a [String],
    /// The watched ccTLDs: one not observed by any healthy vantage is
    /// recorded as not judged.
    pub watched: &'a [String],
    /// The time the decision is recorded at.
    pub at: Timestamp,
}

/// Decides one window from what each vantage reported in it
/// (`docs/RULES.md#quorum`): the quorum's facts per watched ccTLD, the
/// evidence of every vantage that saw a counted finding (named, when
/// there are several), and how each vantage fared.
pub fn decide_window(
    reports: &BTreeMap<String, (Timestamp, BTreeMap<String, SweepFacts>)>,
    input: &WindowInput<'_>,
) -> WindowOutcome {
    // Only the vantages expected now count: a report queued by a vantage
    // revoked since is dropped with it.
    let reports: BTreeMap<String, (Timestamp, BTreeMap<String, SweepFacts>)> = reports
        .iter()
        .filter(|(v, _)| input.expected.contains(*v))
        .map(|(v, r)| (v.clone(), r.clone()))
        .collect();
    let reports = &reports;
    let several = input.expected.len() > 1 || reports.len() > 1;
    // Impaired by the previous window, or by itself in this one.
    let mut excluded: BTreeSet<String> = input.impaired.clone();
    let selfish: BTreeSet<String> = reports
        .iter()
        .filter(|(_, (_, f))| self_impaired(f, input.canaries))
        .map(|(v, _)| v.clone())
        .collect();
    excluded.extend(selfish.iter().cloned());
    let views: BTreeMap<String, BTreeMap<String, Observation>> = reports
        .iter()
        .map(|(v, (_, facts))| {
            let seen = facts
                .iter()
                .filter_map(|(t, f)| Some((t.clone(), Observation::of_facts(f)?)))
                .collect();
            (v.clone(), seen)
        })
        .collect();
    let decision = decide(&views, input.quorum, &excluded);
    let (decided, mut next) = match &decision {
        WindowDecision::Decided { tlds, impaired } => (Some(tlds), impaired.clone()),
        WindowDecision::Undecided { impaired, .. } => (None, impaired.clone()),
    };
    // A vantage impaired by itself stays out until it is not; one that did
    // not report keeps the state it had.
    next.extend(selfish.iter().cloned());
    let stats = decided.map(|d| agreement(&views, d)).unwrap_or_default();
    let mut vantages: BTreeMap<String, VantageWindow> = BTreeMap::new();
    for v in input.expected.iter().chain(reports.keys()) {
        let (differing, compared) = stats.get(v).copied().unwrap_or_default();
        vantages.insert(
            v.clone(),
            VantageWindow {
                at: reports.get(v).map(|(at, _)| *at),
                counted: reports.contains_key(v) && !excluded.contains(v) && decided.is_some(),
                impaired: next.contains(v),
                differing: differing as u32,
                compared: compared as u32,
            },
        );
    }
    let record = WindowRecord {
        quorum: input.quorum.max(1) as u32,
        decided: decided.is_some(),
        vantages,
    };
    let facts = decided.map(|decided| {
        let healthy: Vec<(&String, &BTreeMap<String, SweepFacts>)> = reports
            .iter()
            .filter(|(v, _)| !excluded.contains(*v))
            .map(|(v, (_, f))| (v, f))
            .collect();
        input
            .watched
            .iter()
            .map(|tld| {
                let facts = match decided.get(tld) {
                    None => SweepFacts {
                        at: input.at,
                        impaired: true,
                        ..SweepFacts::default()
                    },
                    Some(d) => merged(tld, d, &healthy, &views, several, input.at),
                };
                (tld.clone(), facts)
            })
            .collect()
    });
    WindowOutcome {
        record,
        facts,
        impaired: next,
    }
}

/// The quorum's facts of one ccTLD: what it decided, with the evidence of
/// each healthy vantage that saw it.
fn merged(
    tld: &str,
    decided: &Observation,
    healthy: &[(&String, &BTreeMap<String, SweepFacts>)],
    views: &BTreeMap<String, BTreeMap<String, Observation>>,
    several: bool,
    at: Timestamp,
) -> SweepFacts {
    use super::technical::MAX_EVIDENCE_LINES;
    let named = |v: &str, line: &str| {
        if several {
            format!("[{v}] {line}")
        } else {
            line.to_string()
        }
    };
    let mut out = SweepFacts {
        at,
        threat: decided.threat,
        ..SweepFacts::default()
    };
    let mut details: Vec<String> = Vec::new();
    for (v, facts) in healthy {
        let Some(f) = facts.get(tld).filter(|f| !f.impaired) else {
            continue;
        };
        if decided.threat.is_some() && f.threat == decided.threat && !f.threat_detail.is_empty() {
            details.push(named(v, &f.threat_detail));
        }
        for family in &decided.families {
            if let Some(lines) = f.findings.get(family) {
                let kept = out.findings.entry(*family).or_default();
                for line in lines {
                    if kept.len() < MAX_EVIDENCE_LINES {
                        kept.push(named(v, line));
                    }
                }
            }
        }
    }
    out.threat_detail = crate::checks::finding::bounded(details.join("; "));
    if several {
        out.vantages = views
            .iter()
            .filter_map(|(v, m)| Some((v.clone(), m.get(tld)?.clone())))
            .collect();
    }
    out
}

/// Whether the suspensions need an operator (`docs/RULES.md#quorum`): the
/// quorum has been lost since `since` for at least `after_secs` at `now`.
pub fn review_due(since: Option<Timestamp>, now: Timestamp, after_secs: i64) -> bool {
    since.is_some_and(|t| now.secs_since(t) >= after_secs.max(0))
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
        // Nor is "no threat" decided on one vantage's word: not judged.
        assert!(!tlds.contains_key("xh"), "{:?}", tlds.get("xh"));
    }

    #[test]
    fn one_hostile_vantage_of_the_last_two_cannot_lift_or_close() {
        // vb is down; the guard sees .xa in outage with a finding, the
        // hostile vc says all is well. Two healthy vantages make the
        // quorum, but they disagree: .xa must not be judged healthy (three
        // such windows would lift its suspension, one would close its
        // complaint), while vc stays healthy (1 of 20 differs).
        let down = facts(Some(ThreatKind::TotalOutage), Some(Family::Reachability));
        let ok = facts(None, None);
        let mut guard: Vec<(&str, SweepFacts)> = vec![("xa", down)];
        let mut hostile: Vec<(&str, SweepFacts)> = vec![("xa", ok.clone())];
        let others: Vec<String> = (0..19).map(|i| format!("t{i}")).collect();
        for t in &others {
            guard.push((t.as_str(), ok.clone()));
            hostile.push((t.as_str(), ok.clone()));
        }
        let r = reports(&[("rootguard", &guard), ("vc", &hostile)]);
        let mut w = names(&["xa"]);
        w.extend(others.iter().cloned());
        let (e, none) = (names(&["rootguard", "vb", "vc"]), BTreeSet::new());
        let out = decide_window(&r, &input(&e, &w, &none));
        let f: BTreeMap<_, _> = out.facts.unwrap().into_iter().collect();
        assert!(
            f["xa"].impaired,
            "judged on one vantage's word: {:?}",
            f["xa"]
        );
        assert!(!f["t0"].impaired);
        // A finding only one of the two sees is not closed either.
        let warned = facts(None, Some(Family::Reachability));
        let r = reports(&[
            ("rootguard", &[("xa", warned)]),
            ("vc", &[("xa", ok.clone())]),
        ]);
        let out = decide_window(&r, &input(&e, &names(&["xa"]), &none));
        let f: BTreeMap<_, _> = out.facts.unwrap().into_iter().collect();
        assert!(f["xa"].impaired, "{:?}", f["xa"]);
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

    fn facts(threat: Option<ThreatKind>, family: Option<Family>) -> SweepFacts {
        let mut f = SweepFacts {
            threat,
            threat_detail: if threat.is_some() {
                "no answer".into()
            } else {
                String::new()
            },
            ..SweepFacts::default()
        };
        if let Some(fam) = family {
            f.findings
                .insert(fam, vec!["ERROR REACH-UDP ns1: timeout".into()]);
        }
        f
    }

    fn reports(
        per: &[(&str, &[(&str, SweepFacts)])],
    ) -> BTreeMap<String, (Timestamp, BTreeMap<String, SweepFacts>)> {
        per.iter()
            .map(|(v, m)| {
                (
                    v.to_string(),
                    (
                        Timestamp::from_second(100),
                        m.iter().map(|(t, f)| (t.to_string(), f.clone())).collect(),
                    ),
                )
            })
            .collect()
    }

    fn input<'a>(
        expected: &'a [String],
        watched: &'a [String],
        impaired: &'a BTreeSet<String>,
    ) -> WindowInput<'a> {
        WindowInput {
            expected,
            quorum: majority(expected.len()),
            impaired,
            canaries: &[],
            watched,
            at: Timestamp::from_second(200),
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn one_vantage_window_is_todays_sweep() {
        let down = facts(Some(ThreatKind::TotalOutage), Some(Family::Reachability));
        let r = reports(&[(
            "rootguard",
            &[("xa", down.clone()), ("xb", facts(None, None))],
        )]);
        let (e, w, none) = (names(&["rootguard"]), names(&["xa", "xb"]), BTreeSet::new());
        let out = decide_window(&r, &input(&e, &w, &none));
        let f: BTreeMap<_, _> = out.facts.unwrap().into_iter().collect();
        assert_eq!(f["xa"].threat, Some(ThreatKind::TotalOutage));
        assert_eq!(
            f["xa"].findings, down.findings,
            "evidence as the probe wrote it"
        );
        assert_eq!(f["xa"].threat_detail, "no answer");
        assert!(
            f["xa"].vantages.is_empty(),
            "no per-vantage map with one vantage"
        );
        assert!(out.record.decided);
        assert_eq!(out.record.quorum, 1);
    }

    #[test]
    fn several_vantages_count_only_what_a_quorum_sees_with_named_evidence() {
        let down = facts(Some(ThreatKind::TotalOutage), Some(Family::Reachability));
        let ok = facts(None, None);
        let r = reports(&[
            ("rootguard", &[("xa", ok.clone()), ("xb", down.clone())]),
            ("vb", &[("xa", down.clone()), ("xb", down.clone())]),
            ("vc", &[("xa", ok.clone()), ("xb", ok.clone())]),
        ]);
        let (e, w, none) = (
            names(&["rootguard", "vb", "vc"]),
            names(&["xa", "xb", "xz"]),
            BTreeSet::new(),
        );
        let out = decide_window(&r, &input(&e, &w, &none));
        let f: BTreeMap<_, _> = out.facts.unwrap().into_iter().collect();
        assert_eq!(f["xa"].threat, None, "one of three");
        assert!(
            f["xa"].findings.is_empty(),
            "a finding one vantage sees does not count"
        );
        assert_eq!(
            f["xa"].vantages["vb"].threat,
            Some(ThreatKind::TotalOutage),
            "but it is kept"
        );
        assert_eq!(
            f["xb"].threat,
            Some(ThreatKind::TotalOutage),
            "two of three"
        );
        assert_eq!(
            f["xb"].threat_detail,
            "[rootguard] no answer; [vb] no answer"
        );
        assert_eq!(f["xb"].findings[&Family::Reachability].len(), 2);
        assert!(f["xb"].findings[&Family::Reachability][0].starts_with("[rootguard] "));
        assert!(f["xz"].impaired, "a ccTLD nobody observed is not judged");
        assert_eq!(out.record.vantages["vb"].differing, 1);
        assert_eq!(out.record.vantages["vc"].differing, 1);
    }

    #[test]
    fn a_vantage_failing_most_tlds_is_out_at_once_and_silent_ones_are_recorded() {
        let down = facts(Some(ThreatKind::TotalOutage), Some(Family::Reachability));
        let ok = facts(None, None);
        let tlds = ["xa", "xb", "xc", "xd"];
        let all_ok: Vec<(&str, SweepFacts)> = tlds.iter().map(|t| (*t, ok.clone())).collect();
        let all_down: Vec<(&str, SweepFacts)> = tlds.iter().map(|t| (*t, down.clone())).collect();
        let r = reports(&[("rootguard", &all_ok), ("vb", &all_down)]);
        let (e, w, none) = (
            names(&["rootguard", "vb", "vc"]),
            names(&tlds),
            BTreeSet::new(),
        );
        let out = decide_window(&r, &input(&e, &w, &none));
        // vb is impaired by itself; vc is silent: one healthy of quorum 2.
        assert!(
            out.facts.is_none(),
            "fewer healthy vantages than the quorum"
        );
        assert!(out.record.vantages["vb"].impaired);
        assert!(!out.record.vantages["vb"].counted);
        assert_eq!(out.record.vantages["vc"].at, None);
        assert!(!out.record.decided);
        // With vc back the window decides, and vb still does not count.
        let r = reports(&[("rootguard", &all_ok), ("vb", &all_down), ("vc", &all_ok)]);
        let out = decide_window(&r, &input(&e, &w, &out.impaired));
        let f = out.facts.unwrap();
        assert!(f.iter().all(|(_, f)| f.threat.is_none()));
        assert!(out.impaired.contains("vb"));
    }

    #[test]
    fn a_report_of_a_vantage_no_longer_expected_does_not_count() {
        // vc's report was queued before the operator revoked its (stolen)
        // key: it is no longer expected, and what it says must not count.
        let down = facts(Some(ThreatKind::TotalOutage), Some(Family::Reachability));
        let ok = facts(None, None);
        let r = reports(&[
            ("rootguard", &[("xa", ok.clone())]),
            ("vb", &[("xa", down.clone())]),
            ("vc", &[("xa", down.clone())]),
        ]);
        let (e, w, none) = (names(&["rootguard", "vb"]), names(&["xa"]), BTreeSet::new());
        let out = decide_window(&r, &input(&e, &w, &none));
        let f: BTreeMap<_, _> = out.facts.unwrap().into_iter().collect();
        assert_eq!(
            f["xa"].threat, None,
            "a revoked vantage's queued report made the quorum"
        );
        assert!(f["xa"].findings.is_empty());
        assert!(!f["xa"].vantages.contains_key("vc"));
        assert!(!out.record.vantages.get("vc").is_some_and(|v| v.counted));
        // Nor does it make a quorum of healthy vantages by itself.
        let r = reports(&[("rootguard", &[("xa", ok.clone())]), ("vc", &[("xa", ok)])]);
        let out = decide_window(&r, &input(&e, &w, &none));
        assert!(out.facts.is_none(), "one expected vantage of quorum 2");
    }

    // A hostile vantage that leaves a rival out to keep its suspension
    // counts that as differing (impaired past a tenth), and a suspension
    // not judged for `quorum_review_secs` needs an operator
    // (World::review_due, per ccTLD).
    #[test]
    fn a_tld_observed_by_fewer_than_quorum_healthy_vantages_is_not_judged() {
        // vc is silent; vb met a failure of its own probing .xa (or says
        // so): only the guard observed .xa, fewer than the quorum (2). Its
        // outage must neither count nor be taken for a healthy sweep (that
        // would lift a suspension on no quorum's word).
        let down = facts(Some(ThreatKind::TotalOutage), Some(Family::Reachability));
        let ok = facts(None, None);
        let local = SweepFacts {
            impaired: true,
            ..SweepFacts::default()
        };
        let r = reports(&[
            ("rootguard", &[("xa", down.clone()), ("xb", ok.clone())]),
            ("vb", &[("xa", local), ("xb", ok.clone())]),
        ]);
        let (e, w, none) = (
            names(&["rootguard", "vb", "vc"]),
            names(&["xa", "xb"]),
            BTreeSet::new(),
        );
        let out = decide_window(&r, &input(&e, &w, &none));
        let f: BTreeMap<_, _> = out.facts.unwrap().into_iter().collect();
        assert!(f["xa"].impaired, "not judged: {:?}", f["xa"]);
        assert_eq!(f["xa"].threat, None);
        assert!(!f["xb"].impaired, "two observed .xb");
        // Omitting .xa altogether is the same.
        let r = reports(&[
            ("rootguard", &[("xa", down), ("xb", ok.clone())]),
            ("vb", &[("xb", ok)]),
        ]);
        let out = decide_window(&r, &input(&e, &w, &none));
        let f: BTreeMap<_, _> = out.facts.unwrap().into_iter().collect();
        assert!(f["xa"].impaired, "not judged: {:?}", f["xa"]);
    }

    #[test]
    fn a_window_without_quorum_impairs_no_healthy_vantage() {
        // The other two vantages are silent for a window; the guard sees
        // findings (common warnings) on 5 of 12 ccTLDs. Without a quorum
        // nothing is decided, and the guard must not be impaired for
        // disagreeing with a "quorum's view" made of nobody.
        let warned = obs(None, &[Family::Reachability]);
        let mut guard: Vec<(String, Observation)> = healthy_tlds(12);
        for (_, o) in guard.iter_mut().take(5) {
            *o = warned.clone();
        }
        let g = as_refs(&guard);
        let v = views(&[("rootguard", &g)]);
        let WindowDecision::Undecided { impaired, .. } = decide(&v, 2, &BTreeSet::new()) else {
            panic!("undecided")
        };
        assert!(impaired.is_empty(), "{impaired:?}");
        // Two vantages, one impaired: it rejoins once it sees what the
        // healthy one sees, findings included.
        let v = views(&[("rootguard", &g), ("vb", &g)]);
        let WindowDecision::Undecided { impaired, .. } =
            decide(&v, 2, &BTreeSet::from(["vb".to_string()]))
        else {
            panic!("undecided")
        };
        assert!(impaired.is_empty(), "{impaired:?}");
        let WindowDecision::Decided { impaired, .. } = decide(&v, 2, &impaired) else {
            panic!("decided again")
        };
        assert!(impaired.is_empty());
        // One that still disagrees stays out.
        let cut: Vec<(String, Observation)> = guard
            .iter()
            .map(|(t, _)| (t.clone(), obs(Some(ThreatKind::TotalOutage), &[])))
            .collect();
        let c = as_refs(&cut);
        let v = views(&[("rootguard", &g), ("vb", &c)]);
        let WindowDecision::Undecided { impaired, .. } =
            decide(&v, 2, &BTreeSet::from(["vb".to_string()]))
        else {
            panic!("undecided")
        };
        assert_eq!(impaired, BTreeSet::from(["vb".to_string()]));
    }

    #[test]
    fn the_review_falls_due_after_the_configured_time() {
        let since = Some(Timestamp::from_second(1000));
        assert!(!review_due(None, Timestamp::from_second(99_999), 1800));
        assert!(!review_due(since, Timestamp::from_second(2799), 1800));
        assert!(review_due(since, Timestamp::from_second(2800), 1800));
    }
}
