//! A simulated record (`rootguard lab simulate`, `lab` feature): DAYS
//! days of 60 s sweeps over the ccTLDs of a root zone, recorded through
//! the real recording code (`Ledger::record_sweep`, the guard's
//! checkpoints) on a record created as a simulation
//! (`docs/RULES.md#identities`): the only kind of record whose clock is
//! set, and the only place where observations are synthesised instead of
//! probed. Changes come at a realistic rate: degradations and outages that
//! open and close complaints, outages long enough to impose and lift
//! suspensions, and about 640 delegation changes in 33 months (key
//! rollovers and renumbered name servers, each through the gate).
//!
//! Used by the record benchmark (BENCHMARKS.md) and by the restart test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::app::{AppError, CHECKPOINT_ORIGIN, sign_checkpoint};
use crate::checks::{Family, ThreatKind};
use crate::ledger::identity::Registration;
use crate::ledger::{Action, Kind, Ledger, SNAPSHOT_EVERY, Settings, changes_state};
use crate::policy::Role;
use crate::policy::gate::{ChangeRequest, Confirmations, Precheck};
use crate::policy::technical::SweepFacts;
use crate::store::checkpoint::SigningKey;
use crate::time::Timestamp;
use crate::zone::{Registry, Zone, ZoneIndex};

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// The store exists: a simulation is always a new record.
    #[error("{0}: exists; a simulated record is always a new file (docs/RULES.md#identities)")]
    Exists(PathBuf),
    /// The application failed.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<crate::ledger::LedgerError> for SimulateError {
    fn from(e: crate::ledger::LedgerError) -> Self {
        SimulateError::App(e.into())
    }
}

impl From<crate::store::StoreError> for SimulateError {
    fn from(e: crate::store::StoreError) -> Self {
        SimulateError::App(e.into())
    }
}

/// What a simulation recorded.
#[derive(Clone, Debug, Serialize)]
pub struct SimulateReport {
    /// Days simulated.
    pub days: i64,
    /// Sweeps recorded.
    pub sweeps: i64,
    /// ccTLDs swept.
    pub tlds: usize,
    /// Journal events.
    pub events: u64,
    /// Gate decisions recorded.
    pub gate_decisions: u64,
    /// Suspensions imposed.
    pub suspensions: u64,
    /// Wall time of the simulation, in seconds.
    pub elapsed_secs: f64,
    /// Store size after a WAL checkpoint, in bytes.
    pub bytes: u64,
    /// The guard's key file the record was sealed with.
    pub guard_key: PathBuf,
    /// Time to record one sweep, in ms: median, p99, max.
    pub record_ms: [f64; 3],
    /// Store growth of a sampled steady sweep, in bytes: median.
    pub steady_growth_median: u64,
    /// Time of the last simulated sweep.
    pub last_at: Timestamp,
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn chance(&mut self, per_million: u64) -> bool {
        self.next() % 1_000_000 < per_million
    }
}

#[derive(Clone, Copy, Default)]
struct Condition {
    degraded_until: i64,
    outage_until: i64,
}

/// Delegation changes per million sweeps: about 640 changes to the 309
/// ccTLDs in 33 months (1,445,400 minutes).
const CHANGES_PER_MILLION: u64 = 443;

/// Whether host `h` is under `tld` (only such hosts have glue in a
/// change request).
fn in_domain(h: &str, tld: &str) -> bool {
    h.trim_end_matches('.')
        .to_ascii_lowercase()
        .ends_with(&format!(".{tld}"))
}

/// A technical change for `a`: a key rollover (a new DS digest) when it is
/// signed, else a renumbered name server.
fn change_for(a: &crate::policy::registry::Approved, rng: &mut Rng) -> Option<ChangeRequest> {
    let mut request = ChangeRequest {
        tld: crate::zone::Tld::parse(&a.tld).ok()?,
        submitted_by: "operator".into(),
        on_behalf_of: a.manager.clone(),
        manager: None,
        ns: None,
        glue: None,
        ds: None,
        admin_contact: None,
        tech_contact: None,
        confirmations: Confirmations::default(),
    };
    if let Some(first) = a.ds.first() {
        let mut ds = a.ds.clone();
        let digest: String = (0..first.digest.len())
            .map(|_| char::from(b"0123456789ABCDEF"[(rng.next() % 16) as usize]))
            .collect();
        ds[0].digest = digest;
        ds[0].key_tag = (rng.next() % 65536) as u16;
        request.ds = Some(ds);
    } else if let Some((host, addrs)) = a
        .glue
        .iter()
        .find(|(h, v)| !v.is_empty() && in_domain(h, &a.tld))
    {
        let mut glue: BTreeMap<crate::zone::host::HostName, Vec<std::net::IpAddr>> =
            BTreeMap::new();
        for (h, v) in a.glue.iter().filter(|(h, _)| in_domain(h, &a.tld)) {
            glue.insert(crate::zone::host::HostName::parse(h).ok()?, v.clone());
        }
        let renumbered: Vec<std::net::IpAddr> = addrs
            .iter()
            .map(|ip| match ip {
                std::net::IpAddr::V4(v4) => {
                    let o = v4.octets();
                    std::net::IpAddr::from([o[0], o[1], o[2], o[3].wrapping_add(1)])
                }
                other => *other,
            })
            .collect();
        glue.insert(crate::zone::host::HostName::parse(host).ok()?, renumbered);
        request.glue = Some(glue);
    } else {
        return None;
    }
    Some(request)
}

/// Records `days` days of sweeps over the ccTLDs of `zone` (with the
/// registry `registry`) into the new record `store`, whose guard key
/// (`STORE.key`) and operator key (`STORE.operator.key`) it creates.
/// `progress` is called after every simulated day.
pub fn simulate(
    store: &Path,
    zone: &Path,
    registry: Option<&Path>,
    days: i64,
    mut progress: impl FnMut(i64),
) -> Result<SimulateReport, SimulateError> {
    if store.exists() {
        return Err(SimulateError::Exists(store.to_path_buf()));
    }
    // Keys beside a SQLite file; for a PostgreSQL record, in a temporary
    // directory of this process.
    let keys = if crate::store::is_postgres(store) {
        let d = std::env::temp_dir().join(format!("rootguard-simulate-{}", std::process::id()));
        std::fs::create_dir_all(&d).map_err(|source| AppError::Io {
            file: d.clone(),
            source,
        })?;
        d.join("record")
    } else {
        store.to_path_buf()
    };
    let beside = |suffix: &str| {
        let mut p = keys.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    let zone = Zone::from_file(zone).map_err(AppError::from)?;
    let registry = registry
        .map(Registry::from_file)
        .transpose()
        .map_err(AppError::from)?;
    let index = ZoneIndex::build(&zone, registry.as_ref());
    let approved = crate::policy::registry::seed(&index, registry.as_ref());
    let tlds: Vec<String> = approved.iter().map(|a| a.tld.clone()).collect();
    let guard = SigningKey::create(&beside(".key"), CHECKPOINT_ORIGIN).map_err(AppError::from)?;
    let operator =
        SigningKey::create(&beside(".operator.key"), "operator").map_err(AppError::from)?;
    let registration = |id: &str, kind, key: &str| Registration {
        id: id.into(),
        kind,
        tlds: Vec::new(),
        person: id.into(),
        key: Some(key.to_string()),
        token_sha256: None,
        body: None,
        of: None,
    };
    let mut ledger = Ledger::open_sealed(store, Some(&beside(".key")))?;
    let t0 = Timestamp::parse("2026-01-01T00:00:00Z").map_err(|e| {
        AppError::from(crate::ledger::LedgerError::Replay {
            seq: 0,
            kind: "simulation".into(),
            reason: e.to_string(),
        })
    })?;
    ledger.submit(
        "operator",
        Role::Operator,
        t0,
        Action::Import {
            delegations: approved,
            policy: Settings::default().policy,
            appeal_window_days: 30,
            authenticity: None,
            identities: vec![
                registration(CHECKPOINT_ORIGIN, Kind::Guard, &guard.verifier_key),
                registration("operator", Kind::Operator, &operator.verifier_key),
            ],
            simulation: true,
        },
    )?;
    sign_checkpoint(&ledger, &guard, true, t0)?;
    let sweeps = days * 24 * 60;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut state: BTreeMap<String, Condition> = BTreeMap::new();
    let mut record_ms: Vec<f64> = Vec::with_capacity(sweeps as usize);
    let mut steady_growth: Vec<u64> = Vec::new();
    let size = |l: &Ledger, p: &Path| {
        if crate::store::is_postgres(p) {
            l.store().bytes().unwrap_or(0)
        } else {
            std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
        }
    };
    let wal = beside("-wal");
    let (mut gate_decisions, mut suspensions) = (0u64, 0u64);
    let started = Instant::now();
    let mut at = t0;
    for i in 0..sweeps {
        at = t0.plus_secs(60 * (i + 1));
        let now = at.as_second();
        // About one degradation a day and one outage a month per hundred
        // ccTLDs, lasting an hour and half an hour.
        for t in &tlds {
            let c = state.entry(t.clone()).or_default();
            if now > c.degraded_until && rng.chance(7) {
                c.degraded_until = now + 3600;
            }
            if now > c.outage_until && rng.chance(1) {
                c.outage_until = now + 1800;
            }
        }
        let observations: Vec<(String, SweepFacts)> = tlds
            .iter()
            .map(|t| {
                let c = state[t];
                let mut f = SweepFacts {
                    at,
                    ..SweepFacts::default()
                };
                if now <= c.degraded_until {
                    f.findings.insert(
                        Family::Service,
                        vec![format!("WARNING EDNS ns1.{t}.: no OPT record")],
                    );
                }
                if now <= c.outage_until {
                    f.findings.insert(
                        Family::Reachability,
                        vec![format!("ERROR REACH-UDP ns1.{t}.: timeout")],
                    );
                    f.threat = Some(ThreatKind::TotalOutage);
                    f.threat_detail = "no name server answers".into();
                }
                (t.clone(), f)
            })
            .collect();
        let before = size(&ledger, store) + size(&ledger, &wal);
        let timer = Instant::now();
        let recorded = ledger.record_sweep(at, false, observations, None)?;
        ledger.snapshot_if_due(SNAPSHOT_EVERY)?;
        let changed = recorded.iter().any(|r| changes_state(&r.event));
        suspensions += recorded
            .iter()
            .filter(|r| r.result.to_string().contains("suspension-imposed"))
            .count() as u64;
        sign_checkpoint(&ledger, &guard, changed, at)?;
        record_ms.push(timer.elapsed().as_secs_f64() * 1000.0);
        if recorded.len() == 1 && i % 97 == 0 {
            steady_growth.push((size(&ledger, store) + size(&ledger, &wal)).saturating_sub(before));
        }
        // A delegation change now and then, through the gate, with the
        // guard's (here synthesised) passing pre-check.
        if rng.chance(CHANGES_PER_MILLION) {
            let pick = (rng.next() % tlds.len().max(1) as u64) as usize;
            let a = ledger.world().approved.get(&tlds[pick]).cloned();
            if let Some(request) = a.as_ref().and_then(|a| change_for(a, &mut rng)) {
                // The incumbent's contacts confirm it, each as its own
                // identity (registered the first time).
                let tld = request.tld.to_string();
                for (kind, id) in [
                    (Kind::AdminContact, format!("admin-{tld}")),
                    (Kind::TechContact, format!("tech-{tld}")),
                ] {
                    if !ledger.world().identities.contains_key(&id) {
                        let token = crate::ledger::command::sha256_hex(id.as_bytes());
                        let _ = ledger.submit(
                            "operator",
                            Role::Operator,
                            at,
                            Action::IdentityRegister {
                                registration: Registration {
                                    id: id.clone(),
                                    kind,
                                    tlds: vec![request.tld.clone()],
                                    person: format!("{kind} of .{tld}"),
                                    key: None,
                                    token_sha256: Some(token),
                                    body: None,
                                    of: None,
                                },
                            },
                        );
                    }
                    let _ = ledger.submit(
                        &id,
                        Role::Manager,
                        at,
                        Action::ChangeConfirm {
                            request: Box::new(request.clone()),
                        },
                    );
                }
                let action = Action::Gate {
                    request: Box::new(request),
                    precheck: Some(Precheck {
                        threat: None,
                        summary: "simulated: no threat".into(),
                    }),
                };
                if ledger
                    .submit("operator", Role::Operator, at.plus_secs(1), action)
                    .is_ok()
                {
                    gate_decisions += 1;
                    sign_checkpoint(&ledger, &guard, true, at.plus_secs(1))?;
                }
            }
        }
        if (i + 1) % (24 * 60) == 0 {
            progress((i + 1) / (24 * 60));
        }
    }
    let elapsed_secs = started.elapsed().as_secs_f64();
    let events = ledger.store().size()?;
    ledger.store().truncate_wal()?;
    let bytes = size(&ledger, store);
    drop(ledger);
    record_ms.sort_by(f64::total_cmp);
    let q = |x: f64| {
        record_ms
            .get(((record_ms.len().max(1) - 1) as f64 * x) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    steady_growth.sort_unstable();
    Ok(SimulateReport {
        days,
        sweeps,
        tlds: tlds.len(),
        events,
        gate_decisions,
        suspensions,
        elapsed_secs,
        bytes,
        guard_key: beside(".key"),
        record_ms: [q(0.5), q(0.99), q(1.0)],
        steady_growth_median: steady_growth
            .get(steady_growth.len() / 2)
            .copied()
            .unwrap_or(0),
        last_at: at,
    })
}
