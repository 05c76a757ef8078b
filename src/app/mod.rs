//! The application: one [`App`] service holding the configuration, the
//! check profile, the record, the metrics and the daemon's status, with
//! the operations both the command line and the HTTP API call: seeding the
//! record, the sweep pipeline (one impairment rule), the gate with its
//! pre-check, drift, the effective zone, and reading the record.
//!
//! Blocking work (SQLite transactions with fsync, zone parsing and
//! signature verification) runs on tokio's blocking threads through
//! [`App::blocking`], never on the async workers; no lock is held across an
//! `.await`.

mod error;
pub mod gate;
pub mod seed;
pub mod status;
pub mod sweep;

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

pub use error::AppError;
pub use status::{Status, SweepStatus, ZoneStatus};

use crate::checks::Profile;
use crate::config::Config;
use crate::ledger::{Action, Ledger, Recorded, World};
use crate::metrics::Metrics;
use crate::policy::Role;
use crate::policy::registry::{Drift, drift};
use crate::store::Event;
use crate::time::Timestamp;
use crate::zone::ZoneIndex;

/// When an action happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Now, by the system clock; recorded no earlier than the last event
    /// (another writer may have recorded one while this action was being
    /// prepared, and the record never runs backwards).
    Now,
    /// At this time: the injectable clock of scripts and tests (`--now`).
    At(Timestamp),
}

impl When {
    /// The time at which probes are evaluated.
    pub fn probe_time(self) -> Timestamp {
        match self {
            When::Now => Timestamp::now(),
            When::At(t) => t,
        }
    }

    /// The time at which the action is recorded, given the last event's.
    pub fn record_time(self, last_at: Timestamp) -> Timestamp {
        match self {
            When::Now => Timestamp::now().max(last_at),
            When::At(t) => t,
        }
    }
}

/// The application service shared by the scheduler, the HTTP handlers and
/// the command line.
pub struct App {
    /// The configuration (immutable).
    pub config: Config,
    /// The check profile.
    pub profile: Profile,
    ledger: Mutex<Ledger>,
    /// Metrics.
    pub metrics: Metrics,
    status: RwLock<Status>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("config", &self.config).finish()
    }
}

impl App {
    /// Opens the record named by `config.store` and loads the profile.
    pub fn open(config: Config) -> Result<Arc<App>, AppError> {
        let ledger = Ledger::open(&config.store)?;
        let profile = match &config.profile {
            Some(p) => Profile::from_file(p)?,
            None => Profile::default(),
        };
        let metrics = Metrics::new();
        metrics.observe_world(ledger.world());
        Ok(Arc::new(App {
            config,
            profile,
            ledger: Mutex::new(ledger),
            metrics,
            status: RwLock::new(Status::default()),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Ledger> {
        match self.ledger.lock() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        }
    }

    /// Runs `f` with the record on a blocking thread.
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Ledger, &App) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let app = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut ledger = app.lock();
            let r = f(&mut ledger, &app);
            app.metrics.observe_world(ledger.world());
            r
        })
        .await?
    }

    /// A copy of the current policy state.
    pub fn world(&self) -> World {
        self.lock().world().clone()
    }

    /// A copy of the daemon's status.
    pub fn status(&self) -> Status {
        self.status
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Changes the daemon's status.
    pub fn set_status(&self, f: impl FnOnce(&mut Status)) {
        match self.status.write() {
            Ok(mut s) => f(&mut s),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// Records one action by `actor` in `role` `when`.
    pub async fn submit(
        self: &Arc<Self>,
        actor: &str,
        role: Role,
        when: When,
        action: Action,
    ) -> Result<Recorded, AppError> {
        let actor = actor.to_string();
        self.blocking(move |ledger, _| {
            let at = when.record_time(ledger.world().last_at);
            Ok(ledger.submit(&actor, role, at, action)?)
        })
        .await
    }

    /// The journal events about `subject` (e.g. `tld:xa`).
    pub async fn events_for(self: &Arc<Self>, subject: &str) -> Result<Vec<Event>, AppError> {
        let subject = subject.to_string();
        self.blocking(move |ledger, _| Ok(ledger.store().events_for(&subject)?))
            .await
    }

    /// The journal as JSON lines.
    pub async fn export(self: &Arc<Self>) -> Result<Vec<u8>, AppError> {
        self.blocking(|ledger, _| {
            let mut out = Vec::new();
            ledger.store().export(&mut out)?;
            Ok(out)
        })
        .await
    }

    /// Unauthorised differences between a published root zone and the
    /// record (`docs/RULES.md#drift`).
    pub fn drift(&self, index: &ZoneIndex) -> Vec<Drift> {
        let w = self.world();
        drift(&w.approved, &w.measures(), index)
    }

    /// The effective delegations as zone file text: the approved
    /// delegations less what suspensions withhold
    /// (`docs/RULES.md#suspension-not-redelegation`), written from typed
    /// records (`docs/RULES.md#change-request-data`).
    pub fn effective_zone(&self) -> String {
        effective_zone(&self.world())
    }
}

/// The effective delegations of `world` as zone file text.
pub fn effective_zone(world: &World) -> String {
    use std::fmt::Write as _;
    let measures = world.measures();
    let mut text = String::from(
        "; effective ccTLD delegations published by rootguard: approved, less what suspensions withhold\n",
    );
    for (tld, a) in &world.approved {
        let m = measures.get(tld).copied();
        // Comments name the TLD only in its validated form.
        let label = crate::zone::Tld::parse(tld)
            .map(|t| format!("{t}."))
            .unwrap_or_else(|_| "a ccTLD whose label is not valid".into());
        let Some(d) = a.effective(m) else {
            let _ = writeln!(text, "; {label} held by a suspension (hold-delegation)");
            continue;
        };
        if m.is_some() {
            let _ = writeln!(text, "; {label} DS withheld by a suspension");
        }
        if let Err(e) = crate::zone::render::delegation(&mut text, &d) {
            tracing::error!(error = %e, "the approved delegation of {label} is not valid DNS data; omitted from the effective zone");
            let _ = writeln!(
                text,
                "; {label} omitted: its approved data is not valid DNS data ({})",
                crate::zone::host::RULE
            );
        }
    }
    text
}
