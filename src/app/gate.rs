//! The gate with its pre-check (`docs/RULES.md#gate-technical`,
//! `#gate-redelegation`, `#gate-other`): a change request is validated as
//! DNS data (`#change-request-data`), the delegation it proposes is probed
//! by the guard itself (`#observations`), and the rules decide; the
//! decision is recorded. The same pre-check establishes an applicant's
//! technical qualification (`#implementation`).

use std::path::Path;
use std::sync::Arc;

use super::{App, AppError, When};
use crate::checks::Profile;
use crate::checks::report::{RootZoneInfo, run_checks};
use crate::ledger::{Action, Credential, Recorded};
use crate::policy::gate::{ChangeRequest, GateDecision, Precheck, validate};
use crate::probe::resolve::HostResolver;
use crate::probe::{ProbeConfig, Prober};
use crate::time::Timestamp;
use crate::zone::Delegation;

/// Probes one delegation and evaluates it: the threat, if any, and a
/// one-line summary.
pub async fn precheck(
    delegation: Delegation,
    probe: ProbeConfig,
    profile: &Profile,
    at: Timestamp,
) -> Option<Precheck> {
    let resolver = HostResolver::new(probe.resolver);
    let prober = Prober::new(probe);
    let report = run_checks(
        &prober,
        &resolver,
        std::slice::from_ref(&delegation),
        profile,
        at,
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

/// Reads a change request file (JSON, `docs/change-request.schema.json`).
pub fn read_request(path: &Path) -> Result<ChangeRequest, AppError> {
    let text = std::fs::read_to_string(path).map_err(|source| AppError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| AppError::Request {
        file: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

impl App {
    /// Validates `request`, pre-checks the delegation it proposes (when it
    /// changes NS, glue or DS), lets the gate decide and records the
    /// decision. Probing holds no lock.
    pub async fn gate(
        self: &Arc<Self>,
        cred: Credential,
        when: When,
        request: ChangeRequest,
    ) -> Result<(Recorded, GateDecision), AppError> {
        self.check_clock(when)?;
        if request.confirmations.admin_contact || request.confirmations.tech_contact {
            return Err(AppError::Confirmations);
        }
        let approved = self.world().approved.get(request.tld.as_str()).cloned();
        let request = validate(&request, approved.as_ref())?;
        let approved = self.world().approved.get(request.tld.as_str()).cloned();
        let precheck = match &approved {
            // A redelegation is pre-checked too, whether or not it
            // changes NS, glue or DS (docs/RULES.md#gate-bound).
            Some(a) if request.changes_delegation(a) || request.changes_manager(a) => {
                precheck(
                    request.applied_to(a).delegation(),
                    self.config.probe.clone(),
                    &self.profile,
                    when.probe_time(),
                )
                .await
            }
            _ => None,
        };
        let recorded = self
            .submit_as(
                cred,
                when,
                Action::Gate {
                    request: Box::new(request),
                    precheck,
                },
            )
            .await?;
        let decision: GateDecision = serde_json::from_value(recorded.result["decision"].clone())
            .map_err(|e| crate::ledger::LedgerError::Replay {
                seq: recorded.event.seq,
                kind: "gate".into(),
                reason: e.to_string(),
            })?;
        let outcome = if decision.allowed {
            "allowed"
        } else {
            "blocked"
        };
        let kind = serde_json::to_value(decision.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "other".into());
        self.metrics
            .gate_decisions
            .with_label_values(&[outcome, &kind])
            .inc();
        Ok((recorded, decision))
    }

    /// Records an action given as input (`act`, `batch`): refused when it
    /// carries what only the guard observes (`docs/RULES.md#observations`);
    /// a change request goes through the gate with the guard's own
    /// pre-check; an application gets the guard's pre-check of its
    /// proposed delegation. The one application path for input.
    pub async fn submit_input(
        self: &Arc<Self>,
        cred: Credential,
        when: When,
        action: Action,
    ) -> Result<Recorded, AppError> {
        self.check_clock(when)?;
        if let Some(what) = action.carried_observation() {
            return Err(AppError::Observation { what });
        }
        if let Action::Gate { request, .. } | Action::ChangeConfirm { request } = &action
            && (request.confirmations.admin_contact || request.confirmations.tech_contact)
        {
            return Err(AppError::Confirmations);
        }
        if let Action::CaseApply { application, .. } = &action
            && let Some(p) = &application.proposed
        {
            for (i, n) in p.ns.iter().chain(p.glue.keys()).enumerate() {
                crate::zone::host::host_name(n).map_err(|source| {
                    crate::policy::gate::InvalidRequest::Data {
                        field: format!("application.proposed[{i}]"),
                        source,
                    }
                })?;
            }
        }
        match action {
            Action::Gate { request, .. } => Ok(self.gate(cred, when, *request).await?.0),
            other => {
                let action = self.prepare(other, when).await;
                self.submit_as(cred, when, action).await
            }
        }
    }

    /// Records a signed command (`rootguard act --key`, or sent to the
    /// daemon's `POST /api/v1/commands`): its signature is verified with
    /// the key the record holds for the identity it names before anything
    /// is decided (`docs/RULES.md#identities`); the actor and role are that
    /// identity's.
    pub async fn submit_signed(
        self: &Arc<Self>,
        note: &str,
        when: When,
    ) -> Result<Recorded, AppError> {
        self.check_clock(when)?;
        let world = self.world();
        let at = when.record_time(world.last_at);
        let command = crate::ledger::command::open_command(note, &world, at)
            .map_err(|r| AppError::Ledger(crate::ledger::LedgerError::Refused(r)))?;
        let cred = Credential::Identity {
            id: command.identity,
            command: Some((command.digest, command.issued_at)),
            input_size: note.len(),
            input_sha256: crate::ledger::command::sha256_hex(note.as_bytes()),
        };
        self.submit_input(cred, when, command.action).await
    }

    /// Records an action with a credential, then signs a checkpoint.
    async fn submit_as(
        self: &Arc<Self>,
        cred: Credential,
        when: When,
        action: Action,
    ) -> Result<Recorded, AppError> {
        self.guard_key()?;
        let recorded = self
            .blocking(move |ledger, _| {
                let at = when.record_time(ledger.world().last_at);
                Ok(ledger.submit_as(&cred, at, action)?)
            })
            .await;
        // A recorded refusal is covered by a checkpoint too.
        self.checkpoint_committed(true).await;
        recorded
    }

    /// Fills in what the guard itself must establish before an action is
    /// recorded: an applicant's technical qualification is the pre-check
    /// of its proposed delegation (`docs/RULES.md#implementation`), never
    /// the applicant's word.
    pub async fn prepare(self: &Arc<Self>, action: Action, when: When) -> Action {
        match action {
            Action::CaseApply {
                id,
                mut application,
            } => {
                application.technically_qualified = false;
                application.precheck = None;
                let case_tld = self.world().cases.get(&id).map(|c| c.tld.clone());
                if let (Some(tld), Some(p)) = (case_tld, application.proposed.clone()) {
                    let delegation = Delegation {
                        kind: crate::zone::TldKind::classify(&tld, None),
                        tld,
                        ns: p.ns.iter().map(|n| crate::zone::fqdn(n)).collect(),
                        glue: p
                            .glue
                            .iter()
                            .map(|(h, a)| (crate::zone::fqdn(h), a.clone()))
                            .collect(),
                        ds: p.ds.clone(),
                    };
                    if let Some(check) = precheck(
                        delegation,
                        self.config.probe.clone(),
                        &self.profile,
                        when.probe_time(),
                    )
                    .await
                    {
                        application.technically_qualified = check.threat.is_none();
                        application.precheck = Some(check.summary);
                    }
                }
                Action::CaseApply { id, application }
            }
            other => other,
        }
    }
}
