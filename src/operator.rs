//! The operator's commands that need the outside world: seeding the
//! approved record from files, running a health sweep into the ledger,
//! pre-checking and deciding change requests, and drift. Each is a thin
//! layer: files, `probe` and `checks` for the facts, `ledger` for the rules
//! and the record.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::checks::report::{RootZoneInfo, run_checks};
use crate::checks::{Profile, ThreatKind, TldReport};
use crate::ledger::{Action, Ledger, LedgerError, Recorded, Role, Settings};
use crate::policy::gate::{ChangeRequest, GateDecision, Precheck};
use crate::policy::registry::{Drift, drift, seed};
use crate::policy::technical::SweepFacts;
use crate::probe::resolve::HostResolver;
use crate::probe::{ProbeConfig, Prober};
use crate::zone::{Registry, Zone, ZoneIndex};

/// Why an operator command failed.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// The ledger refused or failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A zone file could not be read.
    #[error(transparent)]
    Zone(#[from] crate::zone::ZoneError),
    /// A registry file could not be read.
    #[error(transparent)]
    Registry(#[from] crate::zone::registry::RegistryError),
    /// A change request file is not valid.
    #[error(
        "{file}:{line}:{column}: not a valid change request (see docs/change-request.schema.json): {message}"
    )]
    Request {
        /// The file.
        file: PathBuf,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A change request is not valid input.
    #[error(transparent)]
    Invalid(#[from] crate::policy::gate::InvalidRequest),
    /// A file could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl OperatorError {
    /// Whether the error is the rules refusing (exit status 1 for the gate
    /// is a decision, not an error; a refusal is bad input: 3).
    pub fn is_refusal(&self) -> bool {
        matches!(self, OperatorError::Ledger(LedgerError::Refused(_)))
    }
}

/// Seeds the approved record from a root zone and a registry file.
pub fn import(
    ledger: &mut Ledger,
    root_zone: &Path,
    registry: Option<&Path>,
    settings: Settings,
    actor: &str,
    at: i64,
) -> Result<Recorded, OperatorError> {
    let zone = Zone::from_file(root_zone)?;
    import_zone(ledger, &zone, registry, settings, actor, at)
}

/// Seeds the approved record from an already read (and, where required,
/// verified) root zone and a registry file.
pub fn import_zone(
    ledger: &mut Ledger,
    zone: &Zone,
    registry: Option<&Path>,
    settings: Settings,
    actor: &str,
    at: i64,
) -> Result<Recorded, OperatorError> {
    let registry = registry.map(Registry::from_file).transpose()?;
    let index = ZoneIndex::build(zone, registry.as_ref());
    let delegations = seed(&index, registry.as_ref());
    Ok(ledger.submit(
        actor,
        Role::Operator,
        at,
        Action::Import {
            delegations,
            policy: settings.policy,
            appeal_window_days: settings.appeal_window_days,
        },
    )?)
}

/// What a sweep did.
#[derive(Clone, Debug, Serialize)]
pub struct SweepSummary {
    /// Whether the vantage point was judged impaired (POLICY.md point 6).
    pub impaired: bool,
    /// Per-TLD verdicts.
    pub reports: Vec<TldReport>,
    /// The recorded events.
    pub recorded: Vec<Recorded>,
}

/// The vantage point is impaired when at least four TLDs were swept and
/// more than half of them are in total outage at once.
pub fn impaired(reports: &[TldReport]) -> bool {
    let outages = reports
        .iter()
        .filter(|r| r.threats.iter().any(|t| t.kind == ThreatKind::TotalOutage))
        .count();
    reports.len() >= 4 && outages * 2 > reports.len()
}

/// Probes delegations and evaluates them (no record is touched).
pub async fn probe_delegations(
    delegations: &[crate::zone::Delegation],
    probe: ProbeConfig,
    profile: &Profile,
    at: i64,
) -> Vec<TldReport> {
    let resolver = HostResolver::new(probe.resolver);
    let prober = Prober::new(probe);
    run_checks(
        &prober,
        &resolver,
        delegations,
        profile,
        at as u32,
        RootZoneInfo {
            source: "approved delegation record".into(),
            serial: 0,
        },
    )
    .await
    .tlds
}

/// Whether the vantage point is impaired: the general rule of [`impaired`],
/// or every configured canary TLD in total outage at once.
pub fn impaired_with_canaries(reports: &[TldReport], canaries: &[String]) -> bool {
    let canary_down = !canaries.is_empty()
        && canaries.iter().all(|c| {
            reports
                .iter()
                .find(|r| r.tld == *c)
                .is_some_and(|r| r.threats.iter().any(|t| t.kind == ThreatKind::TotalOutage))
        });
    canary_down || impaired(reports)
}

/// Records a sweep's results, one event per TLD.
pub fn record_sweep(
    ledger: &mut Ledger,
    reports: &[TldReport],
    impaired: bool,
    at: i64,
) -> Result<Vec<Recorded>, OperatorError> {
    let when = crate::policy::rfc3339(at);
    let mut recorded = Vec::new();
    for r in reports {
        let facts = SweepFacts::from_report(r, &when, impaired);
        recorded.push(ledger.submit(
            "rootguard",
            Role::Guard,
            at,
            Action::Sweep {
                tld: r.tld.clone(),
                facts,
            },
        )?);
    }
    Ok(recorded)
}

/// Probes every approved ccTLD (as approved: a suspension's withholding is
/// not what is judged) and records the sweep.
pub async fn sweep(
    ledger: &mut Ledger,
    probe: ProbeConfig,
    profile: &Profile,
    at: i64,
) -> Result<SweepSummary, OperatorError> {
    let delegations: Vec<_> = ledger
        .world()
        .approved
        .values()
        .map(|a| a.delegation())
        .collect();
    let reports = probe_delegations(&delegations, probe, profile, at).await;
    let impaired = impaired(&reports);
    let recorded = record_sweep(ledger, &reports, impaired, at)?;
    Ok(SweepSummary {
        impaired,
        reports,
        recorded,
    })
}

/// Probes one delegation and evaluates it: the threat, if any, and a
/// one-line summary.
pub async fn precheck(
    delegation: crate::zone::Delegation,
    probe: ProbeConfig,
    profile: &Profile,
    at: i64,
) -> Option<Precheck> {
    let resolver = HostResolver::new(probe.resolver);
    let prober = Prober::new(probe);
    let report = run_checks(
        &prober,
        &resolver,
        std::slice::from_ref(&delegation),
        profile,
        at as u32,
        RootZoneInfo {
            source: "proposed delegation".into(),
            serial: 0,
        },
    )
    .await;
    report.tlds.first().map(|t| Precheck {
        threat: t.threats.first().map(|x| x.kind),
        summary: format!(
            "verdict {}, {} finding(s){}",
            t.verdict,
            t.findings.len(),
            t.threats
                .first()
                .map(|x| format!("; {}", x.detail))
                .unwrap_or_default()
        ),
    })
}

/// Fills in what the guard itself must establish before an action is
/// recorded: an applicant's technical qualification is the pre-check of
/// its proposed delegation (BP §7), never the applicant's word.
pub async fn prepare(
    ledger: &Ledger,
    action: Action,
    probe: ProbeConfig,
    profile: &Profile,
    at: i64,
) -> Action {
    match action {
        Action::CaseApply {
            id,
            mut application,
        } => {
            application.technically_qualified = false;
            application.precheck = None;
            if let (Some(case), Some(p)) =
                (ledger.world().cases.get(&id), application.proposed.clone())
            {
                let delegation = crate::zone::Delegation {
                    tld: case.tld.clone(),
                    kind: crate::zone::TldKind::classify(&case.tld, None),
                    ns: p.ns.iter().map(|n| crate::zone::fqdn(n)).collect(),
                    glue: p
                        .glue
                        .iter()
                        .map(|(h, a)| (crate::zone::fqdn(h), a.clone()))
                        .collect(),
                    ds: p.ds.clone(),
                };
                if let Some(check) = precheck(delegation, probe, profile, at).await {
                    application.technically_qualified = check.threat.is_none();
                    application.precheck = Some(check.summary);
                }
            }
            Action::CaseApply { id, application }
        }
        other => other,
    }
}

/// Reads a change request file.
pub fn read_request(path: &Path) -> Result<ChangeRequest, OperatorError> {
    let text = std::fs::read_to_string(path).map_err(|source| OperatorError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| OperatorError::Request {
        file: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// Pre-checks the proposed delegation of `request` (when it changes NS,
/// glue or DS), then lets the gate decide and records the decision.
pub async fn gate(
    ledger: &mut Ledger,
    request: ChangeRequest,
    probe: ProbeConfig,
    profile: &Profile,
    actor: &str,
    role: Role,
    at: i64,
) -> Result<(Recorded, GateDecision), OperatorError> {
    let approved = ledger.world().approved.get(&request.tld).cloned();
    let request = crate::policy::gate::validate(&request, approved.as_ref())?;
    let approved = ledger.world().approved.get(&request.tld).cloned();
    let precheck = match approved {
        Some(a) if request.changes_delegation(&a) => {
            precheck(request.applied_to(&a).delegation(), probe, profile, at).await
        }
        _ => None,
    };
    let recorded = ledger.submit(
        actor,
        role,
        at,
        Action::Gate {
            request: Box::new(request),
            precheck,
        },
    )?;
    let decision: GateDecision = serde_json::from_value(recorded.result["decision"].clone())
        .map_err(|e| LedgerError::Replay {
            seq: recorded.event.seq,
            kind: "gate".into(),
            reason: e.to_string(),
        })?;
    Ok((recorded, decision))
}

/// Unauthorised differences between a published root zone and the record.
pub fn zone_drift(
    ledger: &Ledger,
    root_zone: &Path,
    registry: Option<&Path>,
) -> Result<Vec<Drift>, OperatorError> {
    let zone = Zone::from_file(root_zone)?;
    let registry = registry.map(Registry::from_file).transpose()?;
    let index = ZoneIndex::build(&zone, registry.as_ref());
    let w = ledger.world();
    Ok(drift(&w.approved, &w.measures(), &index))
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
        assert!(impaired(&most));
        let few = [
            report("a", true),
            report("b", false),
            report("c", false),
            report("d", false),
        ];
        assert!(!impaired(&few));
        assert!(!impaired(&most[..2]), "too few TLDs to judge");
        let canaries = vec!["b".to_string(), "c".to_string()];
        let both_down = [
            report("a", false),
            report("b", true),
            report("c", true),
            report("d", false),
            report("e", false),
        ];
        assert!(impaired_with_canaries(&both_down, &canaries));
        assert!(!impaired_with_canaries(&few, &canaries));
    }
}
