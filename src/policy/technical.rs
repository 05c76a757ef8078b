//! Technical complaints and temporary suspensions of one TLD, driven by
//! health sweeps (`docs/RULES.md#technical-complaint`, `#threat`,
//! `#suspension`, `#suspension-needs-threat`, `#suspension-lift`,
//! `#suspension-not-redelegation`, `#impaired-vantage`; BP §4.2.1, §4.3).
//!
//! Complaints: one track per finding family.
//!
//! ```text
//!            finding                finding, n+1 = K
//!   Clear ----------> Pending(n) ---------------------> Open ----+ finding:
//!     ^                   |          (complaint lodged   |  ^    | evidence
//!     |   clear sweep     |           by the guard)      |  +----+ appended
//!     +-------------------+                              |
//!     +--------------------- clear sweep: closed --------+
//! ```
//!
//! Suspension: one per TLD. Only the two threats of point 2 count.
//!
//! ```text
//!          threat              threat, n+1 = K         auto_suspend
//!   None --------> Pending(n) -----------------+-----------------------> Active(measure)
//!    ^  no threat      |                       |                          |   ^  threat: reassessed,
//!    +-----------------+                       | otherwise                |   |  clear count reset
//!    ^                                         v                          |   |
//!    |       R clear sweeps: withdrawn     Proposed --operator confirms-->+   |
//!    +-------------------------------------    |    (threat current)      |   |
//!    +------------------------------------------------ R clear sweeps ----+   |
//!    +------------------------------------------------ operator lifts ----+
//! ```
//!
//! A sweep from an impaired vantage point (point 6) changes nothing: it
//! opens no complaint, justifies no suspension and does not count towards
//! lifting one. Nobody can impose, confirm or extend a suspension without a
//! threat in the latest sweep (point 4); the measure is always the least
//! that removes the threat, `withhold-ds` for DNSSEC-bogus and
//! `hold-delegation` for a total outage (point 3), and never alters the
//! delegation otherwise (point 5).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{PolicyConfig, Refusal, section};
pub use crate::checks::Family;
use crate::checks::{ThreatKind, TldReport};
use crate::time::Timestamp;

/// The suspension measure (`docs/RULES.md#suspension`): the least that removes the threat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Measure {
    /// Publish the delegation without its DS records.
    WithholdDs,
    /// Do not publish the delegation.
    HoldDelegation,
}

impl Measure {
    /// The least measure for a threat.
    pub fn for_threat(kind: ThreatKind) -> Measure {
        match kind {
            ThreatKind::DnssecBogus => Measure::WithholdDs,
            ThreatKind::TotalOutage => Measure::HoldDelegation,
        }
    }
}

/// What one sweep found for one TLD.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepFacts {
    /// When (RFC 3339).
    pub at: Timestamp,
    /// Whether the guard's vantage point was impaired during the sweep.
    pub impaired: bool,
    /// Failing findings by family, as evidence lines.
    pub findings: BTreeMap<Family, Vec<String>>,
    /// The threat, if one of the two conditions held.
    pub threat: Option<ThreatKind>,
    /// Evidence of the threat.
    pub threat_detail: String,
    /// With several vantage points: what each observed of the ccTLD in the
    /// window this fact was decided in (`docs/RULES.md#quorum`); a vantage
    /// that met a failure of its own is absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vantages: BTreeMap<String, Observation>,
}

/// What one vantage observed of one ccTLD (`docs/RULES.md#quorum`): the
/// threat and the families of its findings of WARNING or above.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The threat it saw, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat: Option<ThreatKind>,
    /// The families with a finding of WARNING or above.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
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
                .filter(|f| f.severity >= crate::checks::Severity::Warning)
                .map(|f| f.check.family())
                .collect(),
        })
    }

    /// The observation sweep facts make; `None` when they are not judged
    /// (the vantage's own failure).
    pub fn of_facts(facts: &SweepFacts) -> Option<Observation> {
        if facts.impaired {
            return None;
        }
        Some(Observation {
            threat: facts.threat,
            families: facts.findings.keys().copied().collect(),
        })
    }
}

impl SweepFacts {
    /// Facts from a check report. A ccTLD whose probe met a failure of this machine is not judged
    /// (`docs/RULES.md#local-failures`): its facts count as impaired.
    pub fn from_report(report: &TldReport, at: Timestamp, impaired: bool) -> SweepFacts {
        let impaired = impaired || report.local_error.is_some();
        let mut findings: BTreeMap<Family, Vec<String>> = BTreeMap::new();
        // Only a finding of WARNING or above counts toward a complaint
        // (docs/RULES.md#technical-complaint): a NOTICE is worth knowing.
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity >= crate::checks::Severity::Warning)
        {
            let server = f
                .server
                .as_deref()
                .map(|s| format!(" [{s}]"))
                .unwrap_or_default();
            let lines = findings.entry(f.check.family()).or_default();
            // Evidence is bounded (docs/RULES.md#input-limits).
            if lines.len() < MAX_EVIDENCE_LINES {
                lines.push(format!("{} {}{server}: {}", f.severity, f.check, f.message));
            }
        }
        let detail = report
            .threats
            .iter()
            .map(|t| t.detail.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        SweepFacts {
            at,
            impaired,
            findings,
            threat: report.threats.first().map(|t| t.kind),
            threat_detail: crate::checks::finding::bounded(detail),
            vantages: BTreeMap::new(),
        }
    }
}

/// Most evidence lines kept per family and sweep
/// (`docs/RULES.md#input-limits`).
pub const MAX_EVIDENCE_LINES: usize = 32;

/// One complaint track.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Track {
    /// Findings seen for `sweeps` consecutive sweeps, not yet K.
    Pending {
        /// Consecutive sweeps with the finding.
        sweeps: u32,
        /// First seen.
        since: Timestamp,
    },
    /// A complaint lodged by the guard is open.
    Open {
        /// When it was lodged.
        opened: Timestamp,
        /// Sweeps with the finding since.
        sweeps: u32,
    },
}

/// The suspension state of a TLD.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Suspension {
    /// No threat seen.
    #[default]
    None,
    /// A threat seen for `sweeps` consecutive sweeps, not yet K.
    Pending {
        /// The threat.
        kind: ThreatKind,
        /// Consecutive sweeps with it.
        sweeps: u32,
        /// First seen.
        since: Timestamp,
    },
    /// Justified and proposed to an operator.
    Proposed {
        /// The threat.
        kind: ThreatKind,
        /// The measure proposed.
        measure: Measure,
        /// When proposed.
        since: Timestamp,
        /// Consecutive sweeps without the threat.
        clear_sweeps: u32,
    },
    /// In force.
    Active {
        /// The threat.
        kind: ThreatKind,
        /// The measure.
        measure: Measure,
        /// When imposed.
        since: Timestamp,
        /// Consecutive sweeps without the threat.
        clear_sweeps: u32,
    },
}

/// The technical state of one TLD.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TldTechnical {
    /// Complaint tracks by family (absent: clear).
    pub tracks: BTreeMap<Family, Track>,
    /// Suspension.
    pub suspension: Suspension,
    /// The threat of the latest sweep that was not impaired.
    pub current_threat: Option<ThreatKind>,
    /// Consecutive sweeps (not impaired) that showed a threat of any kind,
    /// up to now; reset by a clear sweep and by an early lift
    /// (`docs/RULES.md#suspension-persists`).
    #[serde(default)]
    pub threat_sweeps: u32,
}

/// What a transition did; each is recorded as one event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "kebab-case")]
pub enum Effect {
    /// The sweep was ignored: vantage point impaired.
    SweepIgnored,
    /// A technical complaint lodged by the guard.
    ComplaintOpened {
        /// Family.
        family: Family,
        /// Evidence.
        evidence: Vec<String>,
    },
    /// New evidence on an open complaint.
    EvidenceAppended {
        /// Family.
        family: Family,
        /// When the complaint was lodged.
        opened: Timestamp,
        /// Evidence.
        evidence: Vec<String>,
    },
    /// The findings cleared: the complaint is closed.
    ComplaintClosed {
        /// Family.
        family: Family,
        /// When the complaint was lodged.
        opened: Timestamp,
    },
    /// A suspension justified and proposed to an operator.
    SuspensionProposed {
        /// Threat.
        kind: ThreatKind,
        /// Measure.
        measure: Measure,
        /// Evidence.
        evidence: String,
    },
    /// A suspension imposed.
    SuspensionImposed {
        /// Threat.
        kind: ThreatKind,
        /// Measure.
        measure: Measure,
        /// By the guard itself (otherwise confirmed or imposed by an operator).
        by_guard: bool,
        /// Evidence.
        evidence: String,
    },
    /// A sweep re-assessed an active suspension.
    SuspensionReassessed {
        /// Whether the threat is still present.
        threat_present: bool,
        /// Consecutive sweeps without it.
        clear_sweeps: u32,
        /// Evidence.
        evidence: String,
    },
    /// The threat changed kind: the measure in force switched to the least
    /// one for the threat seen now.
    SuspensionSwitched {
        /// The measure before.
        from: Measure,
        /// The threat now.
        kind: ThreatKind,
        /// The measure now.
        measure: Measure,
        /// Evidence.
        evidence: String,
    },
    /// The suspension was lifted; the approved delegation is restored.
    SuspensionLifted {
        /// The measure lifted.
        measure: Measure,
        /// Why.
        reason: String,
    },
    /// A proposal lapsed because the threat cleared.
    ProposalWithdrawn {
        /// The measure that had been proposed.
        measure: Measure,
    },
}

impl Effect {
    /// The event kind recorded for this effect.
    pub fn kind(&self) -> &'static str {
        match self {
            Effect::SweepIgnored => "sweep.ignored",
            Effect::ComplaintOpened { .. } => "complaint.opened",
            Effect::EvidenceAppended { .. } => "complaint.evidence",
            Effect::ComplaintClosed { .. } => "complaint.closed",
            Effect::SuspensionProposed { .. } => "suspension.proposed",
            Effect::SuspensionImposed { .. } => "suspension.imposed",
            Effect::SuspensionReassessed { .. } => "suspension.reassessed",
            Effect::SuspensionSwitched { .. } => "suspension.switched",
            Effect::SuspensionLifted { .. } => "suspension.lifted",
            Effect::ProposalWithdrawn { .. } => "suspension.withdrawn",
        }
    }

    /// The rules applied.
    pub fn section(&self) -> &'static str {
        match self {
            Effect::SweepIgnored => section::VANTAGE,
            Effect::ComplaintOpened { .. }
            | Effect::EvidenceAppended { .. }
            | Effect::ComplaintClosed { .. } => section::TECHNICAL,
            Effect::SuspensionProposed { .. }
            | Effect::SuspensionImposed { .. }
            | Effect::SuspensionSwitched { .. } => section::SUSPENSION,
            Effect::SuspensionReassessed { .. }
            | Effect::SuspensionLifted { .. }
            | Effect::ProposalWithdrawn { .. } => section::SUSPENSION_LIFT,
        }
    }
}

impl TldTechnical {
    /// The measure in force, if any.
    pub fn active_measure(&self) -> Option<Measure> {
        match &self.suspension {
            Suspension::Active { measure, .. } => Some(*measure),
            _ => None,
        }
    }

    /// Applies one sweep.
    pub fn sweep(&self, facts: &SweepFacts, cfg: &PolicyConfig) -> (TldTechnical, Vec<Effect>) {
        if facts.impaired {
            return (self.clone(), vec![Effect::SweepIgnored]);
        }
        let k = cfg.persist_sweeps.max(1);
        let r = cfg.clear_sweeps.max(1);
        let mut next = self.clone();
        let mut effects = Vec::new();
        next.current_threat = facts.threat;
        // Consecutive sweeps with the same threat: another kind starts the
        // count anew (docs/RULES.md#suspension-persists).
        next.threat_sweeps = match facts.threat {
            Some(t) if self.current_threat == Some(t) => self.threat_sweeps.saturating_add(1),
            Some(_) => 1,
            None => 0,
        };

        let families: BTreeSet<Family> = self
            .tracks
            .keys()
            .chain(facts.findings.keys())
            .copied()
            .collect();
        for family in families {
            let evidence = facts.findings.get(&family).filter(|e| !e.is_empty());
            match (self.tracks.get(&family), evidence) {
                (None, Some(ev)) | (Some(Track::Pending { .. }), Some(ev)) => {
                    let (sweeps, since) = match self.tracks.get(&family) {
                        Some(Track::Pending { sweeps, since }) => (sweeps + 1, *since),
                        _ => (1, facts.at),
                    };
                    if sweeps >= k {
                        next.tracks.insert(
                            family,
                            Track::Open {
                                opened: facts.at,
                                sweeps,
                            },
                        );
                        effects.push(Effect::ComplaintOpened {
                            family,
                            evidence: ev.clone(),
                        });
                    } else {
                        next.tracks.insert(family, Track::Pending { sweeps, since });
                    }
                }
                (Some(Track::Open { opened, sweeps }), Some(ev)) => {
                    next.tracks.insert(
                        family,
                        Track::Open {
                            opened: *opened,
                            sweeps: sweeps + 1,
                        },
                    );
                    effects.push(Effect::EvidenceAppended {
                        family,
                        opened: *opened,
                        evidence: ev.clone(),
                    });
                }
                (Some(Track::Open { opened, .. }), None) => {
                    next.tracks.remove(&family);
                    effects.push(Effect::ComplaintClosed {
                        family,
                        opened: *opened,
                    });
                }
                (Some(Track::Pending { .. }), None) | (None, None) => {
                    next.tracks.remove(&family);
                }
            }
        }

        let evidence = facts.threat_detail.clone();
        next.suspension = match (&self.suspension, facts.threat) {
            (Suspension::None, Some(kind)) | (Suspension::Pending { .. }, Some(kind)) => {
                let (sweeps, since) = match &self.suspension {
                    Suspension::Pending {
                        sweeps,
                        since,
                        kind: was,
                    } if *was == kind => (sweeps + 1, *since),
                    _ => (1, facts.at),
                };
                if sweeps >= k {
                    let measure = Measure::for_threat(kind);
                    if cfg.auto_suspend {
                        effects.push(Effect::SuspensionImposed {
                            kind,
                            measure,
                            by_guard: true,
                            evidence,
                        });
                        Suspension::Active {
                            kind,
                            measure,
                            since: facts.at,
                            clear_sweeps: 0,
                        }
                    } else {
                        effects.push(Effect::SuspensionProposed {
                            kind,
                            measure,
                            evidence,
                        });
                        Suspension::Proposed {
                            kind,
                            measure,
                            since: facts.at,
                            clear_sweeps: 0,
                        }
                    }
                } else {
                    Suspension::Pending {
                        kind,
                        sweeps,
                        since,
                    }
                }
            }
            (Suspension::Pending { .. }, None) | (Suspension::None, None) => Suspension::None,
            (Suspension::Proposed { since, .. }, Some(now)) => Suspension::Proposed {
                // The least measure for the threat seen now
                // (`docs/RULES.md#suspension-least-current`).
                kind: now,
                measure: Measure::for_threat(now),
                since: *since,
                clear_sweeps: 0,
            },
            (
                Suspension::Proposed {
                    kind,
                    measure,
                    since,
                    clear_sweeps,
                },
                None,
            ) => {
                if clear_sweeps + 1 >= r {
                    effects.push(Effect::ProposalWithdrawn { measure: *measure });
                    Suspension::None
                } else {
                    Suspension::Proposed {
                        kind: *kind,
                        measure: *measure,
                        since: *since,
                        clear_sweeps: clear_sweeps + 1,
                    }
                }
            }
            (
                Suspension::Active {
                    kind,
                    measure,
                    since,
                    ..
                },
                Some(now),
            ) => {
                let least = Measure::for_threat(now);
                if least != *measure || now != *kind {
                    // The threat changed kind: the measure switches at once
                    // to the least one for the threat seen now
                    // (`docs/RULES.md#suspension-least-current`).
                    effects.push(Effect::SuspensionSwitched {
                        from: *measure,
                        kind: now,
                        measure: least,
                        evidence,
                    });
                } else {
                    effects.push(Effect::SuspensionReassessed {
                        threat_present: true,
                        clear_sweeps: 0,
                        evidence,
                    });
                }
                Suspension::Active {
                    kind: now,
                    measure: least,
                    since: *since,
                    clear_sweeps: 0,
                }
            }
            (
                Suspension::Active {
                    kind,
                    measure,
                    since,
                    clear_sweeps,
                },
                None,
            ) => {
                let clear = clear_sweeps + 1;
                effects.push(Effect::SuspensionReassessed {
                    threat_present: false,
                    clear_sweeps: clear,
                    evidence: "no threat in this sweep".into(),
                });
                if clear >= r {
                    effects.push(Effect::SuspensionLifted {
                        measure: *measure,
                        reason: format!("{clear} consecutive sweeps without the threat"),
                    });
                    Suspension::None
                } else {
                    Suspension::Active {
                        kind: *kind,
                        measure: *measure,
                        since: *since,
                        clear_sweeps: clear,
                    }
                }
            }
        };
        (next, effects)
    }

    /// An operator confirms a proposed suspension; refused unless the
    /// latest sweep still shows the threat.
    pub fn confirm(
        &self,
        at: Timestamp,
        cfg: &PolicyConfig,
    ) -> Result<(TldTechnical, Effect), Refusal> {
        let Suspension::Proposed { .. } = &self.suspension else {
            return Err(Refusal::new(
                "no suspension is proposed for this TLD",
                section::SUSPENSION,
            ));
        };
        let kind = self.require_persisting_threat("confirm", cfg)?;
        let measure = Measure::for_threat(kind);
        let mut next = self.clone();
        next.suspension = Suspension::Active {
            kind,
            measure,
            since: at,
            clear_sweeps: 0,
        };
        Ok((
            next,
            Effect::SuspensionImposed {
                kind,
                measure,
                by_guard: false,
                evidence: "confirmed by an operator".into(),
            },
        ))
    }

    /// An operator imposes a suspension directly; refused without a current
    /// threat, with a measure other than the least one, or when one is
    /// already in force (that would be an extension).
    pub fn impose(
        &self,
        measure: Measure,
        at: Timestamp,
        cfg: &PolicyConfig,
    ) -> Result<(TldTechnical, Effect), Refusal> {
        if let Suspension::Active { .. } = self.suspension {
            return Err(Refusal::new(
                "a suspension is already in force; it continues only while the threat lasts and cannot be extended",
                section::NEEDS_THREAT,
            ));
        }
        let kind = self.require_persisting_threat("impose", cfg)?;
        let least = Measure::for_threat(kind);
        if measure != least {
            return Err(Refusal::new(
                format!(
                    "the measure for {kind:?} is {least:?}, the least that removes the threat; {measure:?} is not allowed"
                ),
                section::SUSPENSION,
            ));
        }
        let mut next = self.clone();
        next.suspension = Suspension::Active {
            kind,
            measure,
            since: at,
            clear_sweeps: 0,
        };
        Ok((
            next,
            Effect::SuspensionImposed {
                kind,
                measure,
                by_guard: false,
                evidence: "imposed by an operator".into(),
            },
        ))
    }

    /// An operator lifts a suspension early.
    pub fn lift(&self, reason: &str) -> Result<(TldTechnical, Effect), Refusal> {
        let Suspension::Active { measure, .. } = &self.suspension else {
            return Err(Refusal::new(
                "no suspension is in force for this TLD",
                section::SUSPENSION_LIFT,
            ));
        };
        let mut next = self.clone();
        next.suspension = Suspension::None;
        // A new suspension needs K new threat sweeps
        // (`docs/RULES.md#suspension-persists`).
        next.threat_sweeps = 0;
        Ok((
            next,
            Effect::SuspensionLifted {
                measure: *measure,
                reason: format!("lifted early by an operator: {reason}"),
            },
        ))
    }

    fn require_threat(&self, what: &str) -> Result<ThreatKind, Refusal> {
        self.current_threat.ok_or_else(|| {
            Refusal::new(
                format!("cannot {what} a suspension: the latest sweep shows no threat to the stability of the DNS"),
                section::NEEDS_THREAT,
            )
        })
    }

    /// The current threat, when it has persisted for K sweeps up to now
    /// and a technical complaint about the ccTLD is open
    /// (`docs/RULES.md#suspension-persists`).
    fn require_persisting_threat(
        &self,
        what: &str,
        cfg: &PolicyConfig,
    ) -> Result<ThreatKind, Refusal> {
        let kind = self.require_threat(what)?;
        let k = cfg.persist_sweeps.max(1);
        if self.threat_sweeps < k {
            return Err(Refusal::new(
                format!(
                    "cannot {what} a suspension: the threat has persisted for {} of the {k} consecutive sweeps required (counted anew after an early lift)",
                    self.threat_sweeps
                ),
                section::PERSISTS,
            ));
        }
        // The complaint of the threat's own family: an outage is a
        // reachability complaint, a bogus DNSSEC chain a DNSSEC one.
        let family = match kind {
            ThreatKind::TotalOutage => Family::Reachability,
            ThreatKind::DnssecBogus => Family::Dnssec,
        };
        if !matches!(self.tracks.get(&family), Some(Track::Open { .. })) {
            return Err(Refusal::new(
                format!(
                    "cannot {what} a suspension: no technical complaint about this ccTLD's {family:?} is open"
                ),
                section::PERSISTS,
            ));
        }
        Ok(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg(auto: bool) -> PolicyConfig {
        PolicyConfig {
            persist_sweeps: 3,
            clear_sweeps: 3,
            auto_suspend: auto,
            ..PolicyConfig::default()
        }
    }

    fn facts(i: u32, threat: Option<ThreatKind>, finding: bool, impaired: bool) -> SweepFacts {
        let mut f = SweepFacts {
            at: crate::time::Timestamp::from_second(1_795_600_800 + 60 * i64::from(i)),
            impaired,
            threat,
            threat_detail: threat.map(|t| format!("{t:?}")).unwrap_or_default(),
            ..Default::default()
        };
        if finding || threat.is_some() {
            let family = if threat == Some(ThreatKind::DnssecBogus) {
                Family::Dnssec
            } else {
                Family::Reachability
            };
            f.findings.insert(family, vec!["ERROR: a finding".into()]);
        }
        f
    }

    fn run(
        state: &TldTechnical,
        seq: &[(Option<ThreatKind>, bool, bool)],
        c: &PolicyConfig,
    ) -> (TldTechnical, Vec<Vec<Effect>>) {
        let mut s = state.clone();
        let mut all = Vec::new();
        for (i, (t, f, imp)) in seq.iter().enumerate() {
            let (n, e) = s.sweep(&facts(i as u32, *t, *f, *imp), c);
            s = n;
            all.push(e);
        }
        (s, all)
    }

    const OUT: Option<ThreatKind> = Some(ThreatKind::TotalOutage);

    #[test]
    fn complaint_opens_after_k_sweeps_collects_evidence_and_closes() {
        let s = TldTechnical::default();
        let (s, e) = run(&s, &[(None, true, false), (None, true, false)], &cfg(true));
        assert!(
            e.iter()
                .flatten()
                .all(|e| !matches!(e, Effect::ComplaintOpened { .. }))
        );
        let (s, e) = run(&s, &[(None, true, false)], &cfg(true));
        assert!(matches!(
            e[0][0],
            Effect::ComplaintOpened {
                family: Family::Reachability,
                ..
            }
        ));
        let (s, e) = run(&s, &[(None, true, false)], &cfg(true));
        assert!(matches!(e[0][0], Effect::EvidenceAppended { .. }));
        let (s, e) = run(&s, &[(None, false, false)], &cfg(true));
        assert!(matches!(e[0][0], Effect::ComplaintClosed { .. }));
        assert!(s.tracks.is_empty());
        // A gap resets the count.
        let (_, e) = run(
            &s,
            &[
                (None, true, false),
                (None, false, false),
                (None, true, false),
                (None, true, false),
            ],
            &cfg(true),
        );
        assert!(
            e.iter()
                .flatten()
                .all(|e| !matches!(e, Effect::ComplaintOpened { .. }))
        );
    }

    #[test]
    fn threat_justifies_suspension_after_k_and_lifts_after_r() {
        let (s, e) = run(
            &TldTechnical::default(),
            &[(OUT, true, false); 3],
            &cfg(true),
        );
        assert!(e[2].iter().any(|e| matches!(
            e,
            Effect::SuspensionImposed {
                measure: Measure::HoldDelegation,
                by_guard: true,
                ..
            }
        )));
        assert_eq!(s.active_measure(), Some(Measure::HoldDelegation));
        let (s, e) = run(&s, &[(None, false, false); 2], &cfg(true));
        assert_eq!(s.active_measure(), Some(Measure::HoldDelegation));
        assert!(
            e.iter()
                .flatten()
                .all(|e| !matches!(e, Effect::SuspensionLifted { .. }))
        );
        let (s, e) = run(&s, &[(None, false, false)], &cfg(true));
        assert!(
            e[0].iter()
                .any(|e| matches!(e, Effect::SuspensionLifted { .. }))
        );
        assert_eq!(s.suspension, Suspension::None);
    }

    #[test]
    fn bogus_dnssec_withholds_ds() {
        let (s, _) = run(
            &TldTechnical::default(),
            &[(Some(ThreatKind::DnssecBogus), false, false); 3],
            &cfg(true),
        );
        assert_eq!(s.active_measure(), Some(Measure::WithholdDs));
    }

    #[test]
    fn impaired_sweeps_change_nothing() {
        let (s, e) = run(
            &TldTechnical::default(),
            &[(OUT, true, true); 5],
            &cfg(true),
        );
        assert_eq!(s, TldTechnical::default());
        assert!(e.iter().flatten().all(|e| *e == Effect::SweepIgnored));
    }

    #[test]
    fn proposals_need_confirmation_with_a_current_threat() {
        let (s, e) = run(
            &TldTechnical::default(),
            &[(OUT, true, false); 3],
            &cfg(false),
        );
        assert!(matches!(
            e[2].last(),
            Some(Effect::SuspensionProposed { .. })
        ));
        assert_eq!(s.active_measure(), None);
        // Threat gone: confirmation refused, citing §4.3.
        let (cleared, _) = run(&s, &[(None, false, false)], &cfg(false));
        let err = cleared
            .confirm(crate::time::Timestamp::from_second(0), &cfg(false))
            .unwrap_err();
        assert!(err.section.contains("§4.3"), "{err}");
        // Threat present: confirmed.
        let (active, eff) = s
            .confirm(crate::time::Timestamp::from_second(0), &cfg(false))
            .unwrap();
        assert_eq!(active.active_measure(), Some(Measure::HoldDelegation));
        assert!(matches!(
            eff,
            Effect::SuspensionImposed {
                by_guard: false,
                ..
            }
        ));
        // A proposal lapses after R clear sweeps.
        let (lapsed, e) = run(&s, &[(None, false, false); 3], &cfg(false));
        assert_eq!(lapsed.suspension, Suspension::None);
        assert!(matches!(
            e[2].last(),
            Some(Effect::ProposalWithdrawn { .. })
        ));
    }

    #[test]
    fn operator_impositions_are_refused_without_threat_or_with_a_larger_measure() {
        let t0 = crate::time::Timestamp::from_second(0);
        let c = cfg(false);
        let s = TldTechnical::default();
        assert!(
            s.impose(Measure::HoldDelegation, t0, &c)
                .unwrap_err()
                .section
                .contains("§4.3")
        );
        let bogus = (Some(ThreatKind::DnssecBogus), false, false);
        // One threat sweep is not a threat that persists: refused.
        let (one, _) = run(&s, &[bogus], &c);
        let err = one.impose(Measure::WithholdDs, t0, &c).unwrap_err();
        assert!(err.section.contains("#suspension-persists"), "{err}");
        let (s, _) = run(&s, &[bogus; 3], &c);
        let err = s.impose(Measure::HoldDelegation, t0, &c).unwrap_err();
        assert!(err.reason.contains("least"), "{err}");
        let (active, _) = s.impose(Measure::WithholdDs, t0, &c).unwrap();
        assert!(
            active
                .impose(Measure::WithholdDs, t0, &c)
                .unwrap_err()
                .reason
                .contains("cannot be extended")
        );
        let (lifted, e) = active.lift("cured").unwrap();
        assert_eq!(lifted.suspension, Suspension::None);
        assert!(matches!(e, Effect::SuspensionLifted { .. }));
        assert!(lifted.lift("again").is_err());
        // Re-imposing right after an early lift needs K new threat sweeps.
        let err = lifted.impose(Measure::WithholdDs, t0, &c).unwrap_err();
        assert!(err.section.contains("#suspension-persists"), "{err}");
        let (again, _) = run(&lifted, &[bogus; 2], &c);
        assert!(again.impose(Measure::WithholdDs, t0, &c).is_err());
        let (again, _) = run(&again, &[bogus], &c);
        assert!(again.impose(Measure::WithholdDs, t0, &c).is_ok());
    }

    #[test]
    fn a_threat_without_an_open_complaint_justifies_no_imposition() {
        let t0 = crate::time::Timestamp::from_second(0);
        let c = cfg(false);
        let mut s = TldTechnical::default();
        // Threat sweeps whose findings the complaint track never saw.
        for i in 0..3 {
            let mut f = facts(i, Some(ThreatKind::DnssecBogus), false, false);
            f.findings.clear();
            s = s.sweep(&f, &c).0;
        }
        let err = s.impose(Measure::WithholdDs, t0, &c).unwrap_err();
        assert!(err.reason.contains("no technical complaint"), "{err}");
    }

    #[test]
    fn a_mix_of_threats_is_no_persisting_threat() {
        let t0 = crate::time::Timestamp::from_second(0);
        let c = cfg(false);
        let bogus = (Some(ThreatKind::DnssecBogus), true, false);
        let (s, _) = run(
            &TldTechnical::default(),
            &[(OUT, true, false), bogus, (OUT, true, false)],
            &c,
        );
        let e = s.impose(Measure::HoldDelegation, t0, &c).unwrap_err();
        assert!(e.reason.contains("persisted for 1 of the 3"), "{e}");
        // An open complaint of another family does not count: three
        // outage sweeps opened a reachability complaint, not a DNSSEC one.
        let (s, _) = run(&TldTechnical::default(), &[(OUT, true, false); 3], &c);
        let (s, _) = run(&s, &[bogus; 3], &c);
        assert!(
            s.impose(Measure::WithholdDs, t0, &c).is_ok(),
            "three bogus sweeps open the DNSSEC complaint"
        );
        let mut only_reach = TldTechnical::default();
        for i in 0..3 {
            let mut f = facts(i, Some(ThreatKind::DnssecBogus), false, false);
            f.findings.clear();
            f.findings
                .insert(Family::Reachability, vec!["ERROR: x".into()]);
            only_reach = only_reach.sweep(&f, &c).0;
        }
        let e = only_reach.impose(Measure::WithholdDs, t0, &c).unwrap_err();
        assert!(e.reason.contains("Dnssec"), "{e}");
    }

    #[test]
    fn the_measure_follows_the_current_threat_at_once() {
        let (s, _) = run(
            &TldTechnical::default(),
            &[(OUT, true, false); 3],
            &cfg(true),
        );
        assert_eq!(s.active_measure(), Some(Measure::HoldDelegation));
        let (s, e) = run(
            &s,
            &[(Some(ThreatKind::DnssecBogus), true, false)],
            &cfg(true),
        );
        assert_eq!(s.active_measure(), Some(Measure::WithholdDs));
        assert!(e[0].iter().any(|e| matches!(
            e,
            Effect::SuspensionSwitched {
                from: Measure::HoldDelegation,
                measure: Measure::WithholdDs,
                ..
            }
        )));
        // R clear sweeps means R sweeps with no threat of any kind.
        let (s, _) = run(
            &s,
            &[
                (None, false, false),
                (None, false, false),
                (OUT, true, false),
            ],
            &cfg(true),
        );
        assert_eq!(s.active_measure(), Some(Measure::HoldDelegation));
        // A proposal follows the current threat too.
        let (p, _) = run(
            &TldTechnical::default(),
            &[(OUT, true, false); 3],
            &cfg(false),
        );
        let (p, _) = run(
            &p,
            &[(Some(ThreatKind::DnssecBogus), true, false)],
            &cfg(false),
        );
        assert!(matches!(
            p.suspension,
            Suspension::Proposed {
                measure: Measure::WithholdDs,
                ..
            }
        ));
    }

    #[test]
    fn families_of_checks() {
        assert_eq!(
            crate::checks::CheckId::ReachTcp.family(),
            Family::Reachability
        );
        assert_eq!(
            crate::checks::CheckId::DsMatchesDnskey.family(),
            Family::Dnssec
        );
        assert_eq!(
            crate::checks::CheckId::DnskeySigned.family(),
            Family::Dnssec
        );
        assert_eq!(
            crate::checks::CheckId::GlueMatch.family(),
            Family::Consistency
        );
        assert_eq!(crate::checks::CheckId::Edns.family(), Family::Service);
        assert_eq!(crate::checks::CheckId::NsCount.family(), Family::Delegation);
        for c in crate::checks::CATALOGUE {
            let _ = c.id.family();
        }
    }

    #[derive(Clone, Debug)]
    enum Step {
        Sweep(Option<ThreatKind>, bool, bool),
        Confirm,
        Impose(Measure),
        Lift,
    }

    fn step() -> impl Strategy<Value = Step> {
        let threat = prop_oneof![
            Just(None),
            Just(Some(ThreatKind::TotalOutage)),
            Just(Some(ThreatKind::DnssecBogus))
        ];
        prop_oneof![
            6 => (threat, any::<bool>(), prop::bool::weighted(0.15)).prop_map(|(t, f, i)| Step::Sweep(t, f, i)),
            1 => Just(Step::Confirm),
            1 => prop_oneof![Just(Measure::WithholdDs), Just(Measure::HoldDelegation)].prop_map(Step::Impose),
            1 => Just(Step::Lift),
        ]
    }

    proptest! {
        /// Never a suspension without a threat; never one that outlives its
        /// threat by more than R (unimpaired) sweeps; never a measure other
        /// than the least for the threat.
        #[test]
        fn suspensions_follow_threats(steps in prop::collection::vec(step(), 0..80), auto in any::<bool>()) {
            let c = cfg(auto);
            let mut s = TldTechnical::default();
            let mut clear_since_threat = 0u32;
            for (i, st) in steps.iter().enumerate() {
                let was_active = s.active_measure().is_some();
                let result = match st {
                    Step::Sweep(t, f, imp) => {
                        let (n, _) = s.sweep(&facts(i as u32, *t, *f, *imp), &c);
                        if !imp {
                            if t.is_some() { clear_since_threat = 0 } else { clear_since_threat += 1 }
                        }
                        Some((n, *t, *imp))
                    }
                    Step::Confirm => s.confirm(crate::time::Timestamp::from_second(0), &c).ok().map(|(n, _)| (n, s.current_threat, false)),
                    Step::Impose(m) => s.impose(*m, crate::time::Timestamp::from_second(0), &c).ok().map(|(n, _)| (n, s.current_threat, false)),
                    Step::Lift => s.lift("op").ok().map(|(n, _)| (n, s.current_threat, false)),
                };
                if let Some((n, threat, impaired)) = result {
                    // A suspension comes into force only with a current threat.
                    if !was_active && n.active_measure().is_some() {
                        prop_assert!(n.current_threat.is_some() && !impaired);
                        // ... persisting for K sweeps up to now.
                        prop_assert!(n.threat_sweeps >= c.persist_sweeps);
                        prop_assert!(threat.is_some() || matches!(st, Step::Confirm | Step::Impose(_)));
                    }
                    if let Suspension::Active { kind, measure, .. } = &n.suspension {
                        prop_assert_eq!(*measure, Measure::for_threat(*kind));
                        prop_assert!(clear_since_threat < c.clear_sweeps);
                    }
                    s = n;
                }
            }
        }
    }
}
