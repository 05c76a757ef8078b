//! `rootguard serve`: wiring, scheduling and shutdown. Every interval the
//! daemon re-reads the root zone when it changed (refusing, with an alarm,
//! one whose signatures or ZONEMD do not verify when so configured, and
//! keeping the last good one), computes drift against the record, sweeps
//! every watched ccTLD, feeds the findings to the rules, updates the
//! metrics and publishes the effective delegations. SIGTERM or SIGINT
//! abandon a sweep in progress (nothing of it is recorded), stop the HTTP
//! server and exit; a restart resumes from the record.

pub mod demo;
pub mod zone_source;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::checks::{Profile, TldReport};
use crate::config::Config;
use crate::ledger::{Ledger, LedgerError, World};
use crate::metrics::Metrics;
use crate::operator;
use crate::policy::registry::Drift;
use zone_source::ZoneSource;

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The record could not be opened or written.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// An operator step failed.
    #[error(transparent)]
    Operator(#[from] operator::OperatorError),
    /// The profile is not valid.
    #[error(transparent)]
    Profile(#[from] crate::checks::profile::ProfileError),
    /// The HTTP listener could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: std::net::SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The record is empty and no root zone file is configured to seed it.
    #[error(
        "the record {0} is not seeded and no zone.file is configured: run `rootguard import` or set zone.file"
    )]
    NotSeeded(String),
    /// `zone.require_authentic` is set and the zone that would seed the
    /// record does not verify (docs/RULES.md#authentic-root-zone).
    #[error("the record is not seeded: {0}")]
    UnverifiedSeed(String),
}

/// The latest sweep.
#[derive(Clone, Debug, Serialize)]
pub struct SweepStatus {
    /// When (RFC 3339).
    pub at: String,
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
    pub zone: Option<zone_source::ZoneStatus>,
    /// Drift of the published zone against the record.
    pub drift: Vec<Drift>,
    /// Current alarms.
    pub alarms: Vec<String>,
}

/// State shared by the scheduler and the HTTP handlers. Locks are held
/// briefly and never across an `.await`.
pub struct Shared {
    /// The configuration.
    pub config: Config,
    /// The check profile.
    pub profile: Profile,
    /// The record.
    pub ledger: Mutex<Ledger>,
    /// Metrics.
    pub metrics: Metrics,
    /// Status.
    pub status: RwLock<Status>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .finish()
    }
}

impl Shared {
    /// A copy of the current policy state.
    pub fn world(&self) -> World {
        self.ledger
            .lock()
            .map(|l| l.world().clone())
            .unwrap_or_else(|p| p.into_inner().world().clone())
    }

    /// A copy of the status.
    pub fn status(&self) -> Status {
        self.status
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    fn set_status(&self, f: impl FnOnce(&mut Status)) {
        match self.status.write() {
            Ok(mut s) => f(&mut s),
            Err(p) => f(&mut p.into_inner()),
        }
    }
}

/// The effective delegations as zone file text (POLICY.md technical point
/// 5: the approved delegation, less what suspensions withhold).
pub fn effective_zone(world: &World) -> String {
    let measures = world.measures();
    let mut text = String::from(
        "; effective ccTLD delegations published by rootguard: approved, less what suspensions withhold\n",
    );
    for (tld, a) in &world.approved {
        let m = measures.get(tld).copied();
        let Some(d) = a.effective(m) else {
            let _ = writeln!(text, "; {tld}. held by a suspension (hold-delegation)");
            continue;
        };
        if m.is_some() {
            let _ = writeln!(text, "; {tld}. DS withheld by a suspension");
        }
        // Typed records written by the zone library
        // (docs/RULES.md#change-request-data).
        if let Err(e) = crate::zone::render::delegation(&mut text, &d) {
            tracing::error!(error = %e, "an approved delegation is not valid DNS data; omitted from the effective zone");
            let _ = writeln!(text, "; a delegation was omitted: its approved data is not valid DNS data");
        }
    }
    text
}

/// Pre-checks and decides a change request, as the HTTP API and the demo
/// do: the probing holds no lock; the decision is recorded under it.
pub async fn gate_request(
    shared: &Shared,
    actor: &str,
    role: crate::ledger::Role,
    request: crate::policy::gate::ChangeRequest,
) -> Result<crate::ledger::Recorded, operator::OperatorError> {
    let at = jiff::Timestamp::now().as_second();
    let approved = shared.world().approved.get(&request.tld).cloned();
    let request = crate::policy::gate::validate(&request, approved.as_ref())?;
    let approved = shared.world().approved.get(&request.tld).cloned();
    let precheck = match &approved {
        Some(a) if request.changes_delegation(a) => {
            operator::precheck(
                request.applied_to(a).delegation(),
                shared.config.probe.clone(),
                &shared.profile,
                at,
            )
            .await
        }
        _ => None,
    };
    let recorded = {
        let mut ledger = match shared.ledger.lock() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        };
        // Sweeps may have been recorded while the pre-check was probing.
        let recorded_at = jiff::Timestamp::now()
            .as_second()
            .max(ledger.world().last_at);
        let r = ledger.submit(
            actor,
            role,
            recorded_at,
            crate::ledger::Action::Gate {
                request: Box::new(request),
                precheck,
            },
        );
        shared.metrics.observe_world(ledger.world());
        r
    }?;
    let decision = &recorded.result["decision"];
    let outcome = if decision["allowed"].as_bool() == Some(true) {
        "allowed"
    } else {
        "blocked"
    };
    shared
        .metrics
        .gate_decisions
        .with_label_values(&[outcome, decision["kind"].as_str().unwrap_or("other")])
        .inc();
    Ok(recorded)
}

/// Runs the daemon until `shutdown` completes.
pub async fn run(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    run_with(config, shutdown, |_| {}).await
}

/// Runs the daemon until `shutdown` completes, handing the shared state to
/// `on_ready` once the HTTP server listens (the demo's scenario uses it).
pub async fn run_with(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(Arc<Shared>),
) -> Result<(), DaemonError> {
    let mut ledger = Ledger::open(&config.store)?;
    let now = || jiff::Timestamp::now().as_second();
    if !ledger.world().seeded {
        let Some(file) = &config.zone.file else {
            return Err(DaemonError::NotSeeded(config.store.display().to_string()));
        };
        let settings = crate::ledger::Settings {
            policy: config.policy.clone(),
            appeal_window_days: config.appeal_window_days,
        };
        // The seed is verified like every later zone
        // (docs/RULES.md#authentic-root-zone).
        let zone = crate::zone::Zone::from_file(file).map_err(operator::OperatorError::from)?;
        ZoneSource::new(&config.zone)
            .authenticate(&zone, now())
            .map_err(DaemonError::UnverifiedSeed)?;
        operator::import_zone(
            &mut ledger,
            &zone,
            config.zone.registry.as_deref(),
            settings,
            "rootguard (first start)",
            now(),
        )?;
        tracing::warn!(store = %config.store.display(), "record seeded from {}", file.display());
    }
    let profile = match &config.profile {
        Some(p) => Profile::from_file(p)?,
        None => Profile::default(),
    };
    let metrics = Metrics::new();
    metrics.observe_world(ledger.world());
    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .map_err(|source| DaemonError::Listen {
            address: config.http.listen,
            source,
        })?;
    let address = listener
        .local_addr()
        .map_err(|source| DaemonError::Listen {
            address: config.http.listen,
            source,
        })?;
    let shared = Arc::new(Shared {
        config: config.clone(),
        profile,
        ledger: Mutex::new(ledger),
        metrics,
        status: RwLock::new(Status::default()),
    });
    eprintln!("rootguard: listening on http://{address}");
    on_ready(shared.clone());
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let app = crate::http::router(shared.clone());
    let mut http_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_stop.wait_for(|s| *s).await;
            })
            .await
    });
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });

    let mut source = ZoneSource::new(&config.zone);
    let interval = Duration::from_secs(config.sweep.interval_secs.max(1));
    loop {
        tokio::select! {
            _ = stop_rx.wait_for(|s| *s) => break,
            _ = cycle(&shared, &mut source) => {}
        }
        tokio::select! {
            _ = stop_rx.wait_for(|s| *s) => break,
            _ = tokio::time::sleep(interval) => {}
        }
    }
    eprintln!("rootguard: shutting down");
    let _ = server.await;
    Ok(())
}

/// One scheduling cycle: zone, drift, sweep, record, metrics, publication.
async fn cycle(shared: &Arc<Shared>, source: &mut ZoneSource) {
    let started = Instant::now();
    let at = jiff::Timestamp::now().as_second();
    // The root zone and drift.
    let (zone_status, alarm) = source.refresh(at).await;
    if alarm.is_some() {
        shared.metrics.zone_rejected.inc();
    }
    if let Some(z) = &zone_status {
        shared.metrics.zone_serial.set(i64::from(z.serial));
    }
    let world = shared.world();
    let drift = source.drift(&world);
    shared.metrics.drift.reset();
    for tld in world.approved.keys() {
        shared.metrics.drift.with_label_values(&[tld]).set(0);
    }
    for d in &drift {
        let tld = match d {
            Drift::Changed { change } => &change.tld,
            Drift::Missing { tld }
            | Drift::PublishedWhileHeld { tld }
            | Drift::NotApproved { tld } => tld,
        };
        shared.metrics.drift.with_label_values(&[tld]).inc();
    }
    if !drift.is_empty() {
        tracing::warn!(
            count = drift.len(),
            "unauthorised delegation changes in the published root zone"
        );
    }

    // The sweep: probe without holding any lock.
    let watched = &shared.config.sweep.tlds;
    let delegations: Vec<_> = world
        .approved
        .values()
        .filter(|a| watched.is_empty() || watched.contains(&a.tld))
        .map(|a| a.delegation())
        .collect();
    let reports = operator::probe_delegations(
        &delegations,
        shared.config.probe.clone(),
        &shared.profile,
        at,
    )
    .await;
    let impaired = operator::impaired_with_canaries(&reports, &shared.config.sweep.canaries);
    if impaired {
        tracing::error!(
            "VANTAGE POINT IMPAIRED: most monitored TLDs or the canaries fail at once; no complaint or suspension until it recovers"
        );
    }
    // Record: a short critical section with no await inside.
    let recorded = {
        let mut ledger = match shared.ledger.lock() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        };
        // Recorded at the time of recording: other actions (a change
        // request) may have been recorded while the sweep was probing.
        let recorded_at = jiff::Timestamp::now()
            .as_second()
            .max(ledger.world().last_at);
        let r = operator::record_sweep(&mut ledger, &reports, impaired, recorded_at);
        shared.metrics.observe_world(ledger.world());
        r
    };
    let mut alarms: Vec<String> = alarm.into_iter().collect();
    if let Err(e) = &recorded {
        tracing::error!("recording the sweep failed: {e}");
        alarms.push(format!("recording the sweep failed: {e}"));
    }
    if impaired {
        alarms.push("vantage point impaired".into());
    }
    shared
        .metrics
        .observe_sweep(&reports, impaired, started.elapsed().as_secs_f64(), at);
    let world = shared.world();
    if let Some(path) = &shared.config.effective_zone {
        let tmp = path.with_extension("tmp");
        let text = effective_zone(&world);
        if let Err(e) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path)) {
            alarms.push(format!(
                "cannot publish the effective zone to {}: {e}",
                path.display()
            ));
        }
    }
    shared.set_status(|s| {
        s.last_sweep = Some(SweepStatus {
            at: crate::policy::rfc3339(at),
            impaired,
            reports,
        });
        if zone_status.is_some() {
            s.zone = zone_status;
        }
        s.drift = drift;
        s.alarms = alarms;
    });
}
