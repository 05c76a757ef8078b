//! Leading a shared record (`docs/RULES.md#replication`): several
//! `rootguard serve` instances on one PostgreSQL database elect one leader
//! through the store's lease; it sweeps and decides, the others serve the
//! API and pages from the shared record and catch up with it. The lease
//! runs one sweep interval after each renewal and is renewed four times
//! an interval, so that when the leader stops (or loses the database) the
//! others take over within two intervals; the term the store stamps on
//! every event fences off a leader that was deposed while it paused.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::app::{App, AppError};
use crate::store::lease::{Lease, Standing};

/// How often the lease is renewed (or tried): a quarter of the interval.
pub fn tick(interval: Duration) -> Duration {
    (interval / 4).max(Duration::from_millis(250))
}

/// The running election; released on shutdown.
#[derive(Debug)]
pub struct Election {
    lease: Arc<Mutex<Lease>>,
    task: tokio::task::JoinHandle<()>,
}

impl Election {
    /// Stops renewing and gives the lease up, so that another instance
    /// takes over at once.
    pub async fn release(self) {
        self.task.abort();
        let lease = self.lease.clone();
        let released = tokio::task::spawn_blocking(move || {
            let mut l = lease.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = l.release() {
                tracing::warn!("giving up the lease: {e}");
            }
        });
        // Shutdown never waits on a stalled database: the lease then runs
        // out by itself.
        let _ = tokio::time::timeout(Duration::from_secs(3), released).await;
    }
}

async fn step(lease: &Arc<Mutex<Lease>>) -> Result<Standing, AppError> {
    let lease = lease.clone();
    tokio::task::spawn_blocking(move || {
        let mut l = lease.lock().unwrap_or_else(|p| p.into_inner());
        l.tick()
    })
    .await?
    .map_err(AppError::from)
}

/// Acts on what a tick of the lease found.
async fn follow(
    app: &Arc<App>,
    lease: &Arc<Mutex<Lease>>,
    standing: Standing,
) -> Result<(), AppError> {
    match standing {
        Standing::Elected(w) => {
            let term = w.term;
            if let Err(e) = app.lead(Some(w)).await {
                // Elected but unable to lead: the lease goes back at once;
                // with another guard key than the record's, it stays out
                // of the elections for four intervals (a passing database
                // error is retried at the next tick).
                let wrong_key = matches!(&e, AppError::Config(crate::config::ConfigError::Invalid { origin, .. }) if origin == "guard_key")
                    || matches!(&e, AppError::NoGuardKey(_));
                let l = lease.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    let mut l = l.lock().unwrap_or_else(|p| p.into_inner());
                    l.stand(!wrong_key);
                    l.release()
                })
                .await;
                let (l, app2) = (lease.clone(), app.clone());
                tokio::spawn(async move {
                    if !wrong_key {
                        return;
                    }
                    let interval = app2.config.sweep.interval_secs.max(1);
                    tokio::time::sleep(Duration::from_secs(4 * interval)).await;
                    let _ = tokio::task::spawn_blocking(move || {
                        l.lock().unwrap_or_else(|p| p.into_inner()).stand(true)
                    })
                    .await;
                });
                let _ = app.lead(None).await;
                app.metrics.leader.set(0);
                return Err(e);
            }
            eprintln!("rootguard: elected leader of the record in term {term}");
            tracing::warn!(term, "elected leader of the shared record");
            app.metrics.term.set(term as i64);
            app.metrics.leader.set(1);
            app.seed_if_empty().await?;
        }
        Standing::Leading(_) => {}
        Standing::Deposed { term } => {
            tracing::error!(
                term,
                "another instance was elected: this one stops sweeping and follows (docs/RULES.md#replication)"
            );
            app.metrics.leader.set(0);
            app.lead(None).await?;
        }
        Standing::Following(l) => {
            app.metrics.leader.set(0);
            app.metrics.term.set(l.term as i64);
            if !app.leading() {
                app.catch_up().await?;
            }
        }
    }
    Ok(())
}

/// Joins the election for the record of `app`, announcing `url` as this
/// instance's API: takes the lease at once when it is free (and seeds an
/// empty record), follows otherwise, and keeps renewing or trying in the
/// background.
pub async fn elect(app: &Arc<App>, url: &str) -> Result<Election, AppError> {
    let interval = Duration::from_secs(app.config.sweep.interval_secs.max(1));
    let holder = format!(
        "{}:{}:{}",
        crate::store::hostname(),
        std::process::id(),
        url.rsplit(':').next().unwrap_or_default()
    );
    let (store, url_owned, secs) = (
        app.config.store.clone(),
        url.to_string(),
        interval.as_secs().max(1),
    );
    let lease =
        tokio::task::spawn_blocking(move || Lease::connect(&store, &holder, &url_owned, secs))
            .await??
            .ok_or_else(|| {
                AppError::Config(crate::config::ConfigError::Invalid {
                    origin: "store".into(),
                    message: "an election needs a shared (postgres://) record".into(),
                })
            })?;
    let lease = Arc::new(Mutex::new(lease));
    // Nothing is written before the election says who writes.
    app.lead(None).await?;
    // Only an instance holding the guard key stands for election.
    app.guard_key()?;
    let first = step(&lease).await?;
    if let Err(e) = follow(app, &lease, first).await {
        tracing::error!("the lease: {e}");
    }
    let (app2, lease2) = (app.clone(), lease.clone());
    let task = tokio::spawn(async move {
        let every = tick(interval);
        let mut last_ok = std::time::Instant::now();
        // What a tick found is acted on in a task of its own, so that the
        // renewals never wait for the record (a catch-up under a flood of
        // readers, a stalled store connection).
        let busy = Arc::new(std::sync::atomic::AtomicBool::new(false));
        loop {
            tokio::time::sleep(every).await;
            match tokio::time::timeout(interval / 2, step(&lease2)).await {
                Ok(Ok(standing)) => {
                    last_ok = std::time::Instant::now();
                    if !busy.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        let (app3, lease3, busy3) = (app2.clone(), lease2.clone(), busy.clone());
                        tokio::spawn(async move {
                            if let Err(e) = follow(&app3, &lease3, standing).await {
                                tracing::error!("the lease: {e}");
                            }
                            busy3.store(false, std::sync::atomic::Ordering::SeqCst);
                        });
                    } else if let Standing::Deposed { .. } = standing {
                        app2.metrics.leader.set(0);
                        let app3 = app2.clone();
                        tokio::spawn(async move { app3.lead(None).await });
                    }
                }
                Ok(Err(e)) => tracing::error!("the lease: {e}"),
                Err(_) => tracing::error!(
                    "the lease: the database did not answer within half an interval"
                ),
            }
            // A leader that could not renew for a whole interval, or whose
            // record has not answered for one and a half (a stalled store
            // connection), is no longer the leader: it stops sweeping at
            // once and gives the lease up when it can.
            let stalled = app2.store_silent_for() > interval + interval / 2;
            if app2.leading() && (last_ok.elapsed() >= interval || stalled) {
                tracing::error!(
                    stalled,
                    "this instance stops leading: its lease or its record did not answer for an interval (docs/RULES.md#replication)"
                );
                app2.metrics.leader.set(0);
                let (app3, lease3) = (app2.clone(), lease2.clone());
                tokio::spawn(async move {
                    let _ = tokio::task::spawn_blocking(move || {
                        let mut l = lease3.lock().unwrap_or_else(|p| p.into_inner());
                        if l.release().is_err() {
                            l.forget();
                        }
                    })
                    .await;
                    let _ = app3.lead(None).await;
                });
                app2.stop_leading();
            }
        }
    });
    Ok(Election { lease, task })
}
