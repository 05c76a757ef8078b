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
        let _ = tokio::task::spawn_blocking(move || {
            let mut l = lease.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = l.release() {
                tracing::warn!("giving up the lease: {e}");
            }
        })
        .await;
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
                // Elected but unable to lead (another guard key, the
                // database gone): the lease goes back at once.
                // It stays out of the elections for four intervals.
                let l = lease.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    let mut l = l.lock().unwrap_or_else(|p| p.into_inner());
                    l.stand(false);
                    l.release()
                })
                .await;
                let (l, app2) = (lease.clone(), app.clone());
                tokio::spawn(async move {
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
        loop {
            tokio::time::sleep(every).await;
            let outcome = match step(&lease2).await {
                Ok(s) => {
                    last_ok = std::time::Instant::now();
                    follow(&app2, &lease2, s).await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = outcome {
                tracing::error!("the lease: {e}");
                // A leader that cannot renew for as long as its lease
                // runs is no longer the leader: it stops sweeping, and
                // the database will refuse what it would still write.
                if app2.leading() && last_ok.elapsed() >= interval {
                    let forgotten = {
                        let l = lease2.clone();
                        tokio::task::spawn_blocking(move || {
                            l.lock().unwrap_or_else(|p| p.into_inner()).forget()
                        })
                        .await
                        .ok()
                        .flatten()
                    };
                    tracing::error!(
                        term = forgotten,
                        "the lease could not be renewed for a whole interval: this instance stops leading (docs/RULES.md#replication)"
                    );
                    app2.metrics.leader.set(0);
                    if let Err(e) = app2.lead(None).await {
                        tracing::error!("stepping down: {e}");
                    }
                }
            }
        }
    });
    Ok(Election { lease, task })
}
