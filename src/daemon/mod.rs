//! `rootguard serve`: wiring, scheduling and shutdown around the [`App`].
//! Every interval the daemon re-reads the root zone when it changed
//! (refusing, with an alarm, one whose signatures or ZONEMD do not verify
//! when so configured, and keeping the last good one), computes drift
//! against the record, runs the application's sweep, and publishes the
//! effective delegations. SIGTERM or SIGINT abandon a sweep in progress
//! (nothing of it is recorded), stop the HTTP server and exit; a restart
//! resumes from the record.

#[cfg(feature = "lab")]
pub mod demo;
pub mod lease;
pub mod presence;
pub mod vantage;
pub mod zone_source;

use std::sync::Arc;
use std::time::Duration;

use crate::app::{App, AppError, SweepStatus, When};
use crate::config::Config;
use crate::policy::registry::Drift;
use zone_source::ZoneSource;

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The application failed (record, seeding, profile).
    #[error(transparent)]
    App(#[from] AppError),
    /// The HTTP listener could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: std::net::SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("the HTTP server failed: {0}")]
    Server(std::io::Error),
    /// The daemon could not announce itself beside the record (another
    /// daemon serves it).
    #[error("{0}")]
    Presence(std::io::Error),
}

impl DaemonError {
    /// The exit status: 4 for a failure of this machine (a port in use),
    /// otherwise the application error's.
    pub fn exit_code(&self) -> u8 {
        match self {
            DaemonError::App(e) => e.exit_code(),
            DaemonError::Listen { .. } | DaemonError::Server(_) | DaemonError::Presence(_) => 4,
        }
    }
}

/// Runs the daemon until `shutdown` completes.
pub async fn run(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    run_with(config, shutdown, |_| {}).await
}

/// Runs the daemon until `shutdown` completes, handing the application to
/// `on_ready` once the HTTP server listens (the demo's scenario uses it).
pub async fn run_with(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(Arc<App>),
) -> Result<(), DaemonError> {
    config.probe.check_source().map_err(|message| {
        DaemonError::App(AppError::Config(crate::config::ConfigError::Invalid {
            origin: "probe.source".into(),
            message,
        }))
    })?;
    let app = App::open(config)?;
    let shared = crate::store::is_postgres(&app.config.store);
    if !shared {
        app.seed_if_empty().await?;
        app.metrics.leader.set(1);
        app.metrics.term.set(crate::store::SQLITE_TERM as i64);
    }
    let expected = app.expected_vantages().len();
    match app.config.quorum.quorum {
        q if q > expected => tracing::error!(
            "quorum.quorum = {q} exceeds the {expected} vantages (the guard and the registered ones): no window can decide until more are registered (docs/RULES.md#quorum)"
        ),
        q if q > 0 && q < crate::policy::quorum::majority(expected) => tracing::warn!(
            "quorum.quorum = {q} is less than a majority of the {expected} vantages: a minority of networks decides (docs/RULES.md#quorum)"
        ),
        _ => {}
    }
    let listen = app.config.http.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| DaemonError::Listen {
            address: listen,
            source,
        })?;
    let address = listener
        .local_addr()
        .map_err(|source| DaemonError::Listen {
            address: listen,
            source,
        })?;
    eprintln!("rootguard: listening on http://{address}");
    // Writers on the command line send their signed commands here.
    let reach = if address.ip().is_unspecified() {
        std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), address.port())
    } else {
        address
    };
    // On a shared record the leader row says who leads; on a file, the
    // presence marker beside it.
    let _presence = if shared {
        None
    } else {
        Some(
            presence::Presence::announce(&app.config.store, &format!("http://{reach}"))
                .map_err(DaemonError::Presence)?,
        )
    };
    let lease = if shared {
        let advertise = app
            .config
            .http
            .advertise
            .clone()
            .unwrap_or_else(|| format!("http://{reach}"));
        Some(lease::elect(&app, &advertise).await?)
    } else {
        None
    };
    on_ready(app.clone());
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let router = crate::http::router(app.clone());
    let http_stop = stop_rx.clone();
    let (max_connections, header_timeout) = (
        app.config.http.max_connections,
        Duration::from_secs(app.config.http.header_read_timeout_secs.max(1)),
    );
    let server = tokio::spawn(crate::http::serve::serve(
        listener,
        router,
        max_connections,
        header_timeout,
        http_stop,
    ));
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });

    let mut source = ZoneSource::new(&app.config.zone);
    let interval = Duration::from_secs(app.config.sweep.interval_secs.max(1));
    loop {
        if !app.leading() {
            // A follower serves the shared record, watches the published
            // root zone for its readers (drift, alarms) once an interval,
            // and waits for the lease.
            let opened = tokio::time::Instant::now();
            tokio::select! {
                _ = stop_rx.wait_for(|s| *s) => break,
                _ = follow_cycle(&app, &mut source) => {}
            }
            while !app.leading() && opened.elapsed() < interval {
                tokio::select! {
                    _ = stop_rx.wait_for(|s| *s) => break,
                    _ = tokio::time::sleep(lease::tick(interval)) => {}
                }
            }
            if *stop_rx.borrow() {
                break;
            }
            continue;
        }
        // One window per interval on the daemon's clock
        // (docs/RULES.md#quorum).
        let opened = tokio::time::Instant::now();
        tokio::select! {
            _ = stop_rx.wait_for(|s| *s) => break,
            _ = cycle(&app, &mut source, opened + interval) => {}
        }
        tokio::select! {
            _ = stop_rx.wait_for(|s| *s) => break,
            _ = tokio::time::sleep_until(opened + interval) => {}
        }
    }
    eprintln!("rootguard: shutting down");
    if let Some(l) = lease {
        l.release().await;
    }
    match server.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(DaemonError::Server(e)),
        Err(e) => Err(DaemonError::App(AppError::from(e))),
    }
}

/// The ccTLD a drift entry is about.
fn drift_tld(d: &Drift) -> &str {
    match d {
        Drift::Changed { change } => &change.tld,
        Drift::Missing { tld } | Drift::PublishedWhileHeld { tld } | Drift::NotApproved { tld } => {
            tld
        }
    }
}

/// Waits until every expected vantage has reported in the open window, or
/// `deadline`.
async fn window_complete(app: &Arc<App>, deadline: tokio::time::Instant) {
    loop {
        let arrived = app.windows.arrived.notified();
        tokio::pin!(arrived);
        arrived.as_mut().enable();
        if app.windows.complete(&app.expected_vantages()) {
            return;
        }
        tokio::select! {
            _ = &mut arrived => {}
            _ = tokio::time::sleep_until(deadline) => return,
        }
    }
}

/// The guard's own probe, then the window: closed once every vantage
/// reported or at `deadline`, decided by the quorum rule and recorded.
async fn sweep_window(
    app: &Arc<App>,
    deadline: tokio::time::Instant,
) -> Result<crate::app::sweep::SweepSummary, AppError> {
    let started = std::time::Instant::now();
    let own = app.probe_own(When::Now).await?;
    window_complete(app, deadline).await;
    app.close_window(When::Now, own, started).await
}

/// The published root zone and its drift from the approved record, with
/// their metrics.
async fn watch_zone(
    app: &Arc<App>,
    source: &mut ZoneSource,
    at: crate::time::Timestamp,
) -> (
    Option<crate::app::status::ZoneStatus>,
    Option<String>,
    Vec<Drift>,
) {
    let (zone_status, alarm) = source.refresh(at).await;
    if alarm.is_some() {
        app.metrics.zone_rejected.inc();
    }
    if let Some(z) = &zone_status {
        app.metrics.zone_serial.set(i64::from(z.serial));
    }
    let drift = source.index().map(|i| app.drift(i)).unwrap_or_default();
    app.metrics.drift.reset();
    for tld in app.world().approved.keys() {
        app.metrics.drift.with_label_values(&[tld]).set(0);
    }
    for d in &drift {
        app.metrics.drift.with_label_values(&[drift_tld(d)]).inc();
    }
    if !drift.is_empty() {
        tracing::warn!(
            count = drift.len(),
            "unauthorised delegation changes in the published root zone (docs/RULES.md#drift)"
        );
    }
    (zone_status, alarm, drift)
}

/// A follower's cycle (`docs/RULES.md#replication`): the zone and drift
/// its readers see; no sweep, no decision.
async fn follow_cycle(app: &Arc<App>, source: &mut ZoneSource) {
    let at = crate::time::Timestamp::now();
    let (zone_status, alarm, drift) = watch_zone(app, source, at).await;
    app.metrics.observe_world(&app.world());
    app.set_status(|s| {
        if zone_status.is_some() {
            s.zone = zone_status;
        }
        s.drift = drift;
        s.alarms = alarm.into_iter().collect();
    });
}

/// One scheduling cycle: zone, drift, sweep window, record, metrics,
/// publication.
async fn cycle(app: &Arc<App>, source: &mut ZoneSource, deadline: tokio::time::Instant) {
    let at = crate::time::Timestamp::now();
    let (zone_status, alarm, drift) = watch_zone(app, source, at).await;

    // The sweep: the application's one pipeline.
    let mut alarms: Vec<String> = alarm.into_iter().collect();
    let (impaired, reports) = match sweep_window(app, deadline).await {
        Ok(s) => {
            for (v, state) in &s.window.vantages {
                if state.impaired {
                    alarms.push(format!("vantage {v} impaired (docs/RULES.md#quorum)"));
                }
            }
            (s.impaired, s.reports)
        }
        Err(e) => {
            tracing::error!("the sweep failed: {e}");
            alarms.push(format!("the sweep failed: {e}"));
            (false, Vec::new())
        }
    };
    if impaired {
        alarms.push(
            "no quorum of healthy vantages: the window changed nothing (docs/RULES.md#quorum)"
                .into(),
        );
    }
    let world = app.world();
    let review: Vec<String> = world
        .technical
        .keys()
        .filter(|t| world.review_due(t, at.max(world.last_at)))
        .map(|t| format!(".{t}"))
        .collect();
    if !review.is_empty() {
        alarms.push(format!(
            "the quorum has been lost for {} s or more: the suspensions of {} need an operator to uphold or lift them (docs/RULES.md#quorum-review)",
            world.settings.policy.quorum_review_secs,
            review.join(", ")
        ));
    }
    app.metrics.suspension_review_due.set(review.len() as i64);
    // At least one checkpoint every ten minutes while the record grows.
    if let Err(e) = app.checkpoint(false).await {
        tracing::error!("signing a checkpoint failed: {e}");
        alarms.push(format!("signing a checkpoint failed: {e}"));
    }
    if let Some(path) = &app.config.effective_zone {
        let tmp = path.with_extension("tmp");
        let text = app.effective_zone();
        let path = path.clone();
        let written = tokio::task::spawn_blocking(move || {
            std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path))
        })
        .await;
        let failure = match written {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let (Some(e), Some(path)) = (failure, &app.config.effective_zone) {
            alarms.push(format!(
                "cannot publish the effective zone to {}: {e}",
                path.display()
            ));
        }
    }
    app.set_status(|s| {
        s.last_sweep = Some(SweepStatus {
            at,
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
