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
pub mod window;

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
use crate::store::checkpoint::SigningKey;
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
    /// The state as of the last write, for readers: they never wait for
    /// the record's lock nor copy the state.
    snapshot: RwLock<Arc<World>>,
    /// Metrics.
    pub metrics: Metrics,
    status: RwLock<Arc<Status>>,
    /// Bumped whenever the state or the status readers see changes.
    version: std::sync::atomic::AtomicU64,
    /// Responses built from one version, shared by every reader of it.
    cache: Mutex<std::collections::HashMap<String, (u64, bytes::Bytes)>>,
    key: std::sync::OnceLock<SigningKey>,
    requests: Mutex<std::collections::HashMap<String, std::collections::VecDeque<Timestamp>>>,
    /// The open sweep window (`docs/RULES.md#quorum`).
    pub windows: window::Windows,
    /// Whether this instance leads the record (always, on SQLite;
    /// `docs/RULES.md#replication`).
    leading: std::sync::atomic::AtomicBool,
    /// When the record last answered a blocking call (milliseconds since
    /// `started`).
    answered: std::sync::atomic::AtomicU64,
    /// Blocking calls running, and since when one has been.
    in_flight: std::sync::atomic::AtomicU64,
    busy_since: std::sync::atomic::AtomicU64,
    started: std::time::Instant,
}

/// The longest time between checkpoints while the record grows
/// (`docs/RULES.md#checkpoints`).
pub const CHECKPOINT_INTERVAL_SECS: i64 = 600;

/// The origin line and key name of the guard's checkpoints.
pub const CHECKPOINT_ORIGIN: &str = "rootguard";

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("config", &self.config).finish()
    }
}

impl App {
    /// Opens the record named by `config.store` and loads the profile.
    pub fn open(mut config: Config) -> Result<Arc<App>, AppError> {
        // Watched ccTLDs and canaries in their one form (`XA.` is `xa`).
        for (key, list) in [
            ("sweep.tlds", &mut config.sweep.tlds),
            ("sweep.canaries", &mut config.sweep.canaries),
        ] {
            for t in list.iter_mut() {
                *t = crate::zone::Tld::parse(t)
                    .map_err(|e| crate::config::ConfigError::Invalid {
                        origin: key.to_string(),
                        message: e.to_string(),
                    })?
                    .into_string();
            }
        }
        if crate::store::is_postgres(&config.store) && config.guard_key.is_none() {
            return Err(AppError::Config(crate::config::ConfigError::Invalid {
                origin: "guard_key".into(),
                message: format!(
                    "the record is a PostgreSQL database ({}): give the guard's key file (guard_key), installed on every instance (docs/RULES.md#replication)",
                    crate::store::display(&config.store)
                ),
            }));
        }
        let ledger = Ledger::open_sealed(&config.store, Some(&config.guard_key_path()))?;
        for c in &config.sweep.canaries {
            if ledger.world().seeded && !ledger.world().approved.contains_key(c) {
                tracing::warn!(
                    "canary .{c} is not in the approved record: it can never show the vantage point impaired"
                );
            }
        }
        let profile = match &config.profile {
            Some(p) => Profile::from_file(p)?,
            None => Profile::default(),
        };
        let key = std::sync::OnceLock::new();
        let key_file = config.guard_key_path();
        if key_file.exists() {
            // A reader that may not read the guard's key (another user)
            // still reads the record; writing needs the key.
            match SigningKey::load(&key_file) {
                Ok(k) => {
                    let _ = key.set(k);
                }
                Err(e) => tracing::warn!("{e}: this process cannot write the record"),
            }
        }
        let metrics = Metrics::new();
        metrics.observe_world(ledger.world());
        let windows =
            window::Windows::resume(&ledger.world().vantages, &ledger.world().vantage_last_at);
        Ok(Arc::new(App {
            windows,
            config,
            profile,
            snapshot: RwLock::new(Arc::new(ledger.world().clone())),
            ledger: Mutex::new(ledger),
            metrics,
            status: RwLock::new(Arc::new(Status::default())),
            version: std::sync::atomic::AtomicU64::new(0),
            cache: Mutex::new(std::collections::HashMap::new()),
            key,
            requests: Mutex::new(std::collections::HashMap::new()),
            leading: std::sync::atomic::AtomicBool::new(true),
            answered: std::sync::atomic::AtomicU64::new(0),
            in_flight: std::sync::atomic::AtomicU64::new(0),
            busy_since: std::sync::atomic::AtomicU64::new(0),
            started: std::time::Instant::now(),
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
            use std::sync::atomic::Ordering::SeqCst;
            let now = || app.started.elapsed().as_millis() as u64;
            if app.in_flight.fetch_add(1, SeqCst) == 0 {
                app.busy_since.store(now(), SeqCst);
            }
            let mut ledger = app.lock();
            let before = ledger.head();
            let r = f(&mut ledger, &app);
            app.answered.store(now(), SeqCst);
            app.in_flight.fetch_sub(1, SeqCst);
            if ledger.head() == before {
                // A read: nothing changed for readers.
                return r;
            }
            if let Err(e) = ledger.snapshot_if_due(crate::ledger::SNAPSHOT_EVERY) {
                tracing::error!("keeping a snapshot of the record failed: {e}");
            }
            app.metrics.observe_world(ledger.world());
            let fresh = Arc::new(ledger.world().clone());
            match app.snapshot.write() {
                Ok(mut s) => *s = fresh,
                Err(p) => *p.into_inner() = fresh,
            }
            app.version
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            r
        })
        .await?
    }

    /// How long since the record last answered a call (a stalled store
    /// connection shows here).
    pub fn store_silent_for(&self) -> std::time::Duration {
        use std::sync::atomic::Ordering::SeqCst;
        if self.in_flight.load(SeqCst) == 0 {
            return std::time::Duration::ZERO;
        }
        let last = self.answered.load(SeqCst).max(self.busy_since.load(SeqCst));
        self.started
            .elapsed()
            .saturating_sub(std::time::Duration::from_millis(last))
    }

    /// Stops sweeping and deciding at once (the writer is taken back by
    /// [`App::lead`] when the record answers).
    pub fn stop_leading(&self) {
        self.leading
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether this instance leads sweeps and decisions.
    pub fn leading(&self) -> bool {
        self.leading.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Leads the shared record as `writer` from now on, or follows it
    /// (`None`): catches up with what the last leader recorded first, and
    /// a new leader's windows continue from the record's last one
    /// (`docs/RULES.md#replication`).
    pub async fn lead(
        self: &Arc<Self>,
        writer: Option<crate::store::Writer>,
    ) -> Result<(), AppError> {
        let Some(writer) = writer else {
            self.leading
                .store(false, std::sync::atomic::Ordering::SeqCst);
            return self
                .blocking(|ledger, _| {
                    ledger.set_writer(None);
                    ledger.catch_up()?;
                    Ok(())
                })
                .await;
        };
        // Only an instance holding the record's guard key may lead: what
        // it seals and signs must verify with the record's key.
        self.catch_up().await?;
        let key = self.guard_key()?.verifier_key.clone();
        if let Some(recorded) = self.world().guard_key()
            && recorded != key
        {
            return Err(AppError::Config(crate::config::ConfigError::Invalid {
                origin: "guard_key".into(),
                message: format!(
                    "{} holds {key}, the record's guard key is {recorded}: this instance cannot lead the shared record (install the record's key; docs/RULES.md#replication)",
                    self.config.guard_key_path().display()
                ),
            }));
        }
        self.blocking(move |ledger, _| {
            ledger.set_writer(Some(writer));
            ledger.catch_up()?;
            Ok(())
        })
        .await?;
        let world = self.world();
        self.windows.reset(&world.vantages, &world.vantage_last_at);
        self.leading
            .store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// A follower's refusal of what only the leader takes (observations):
    /// [`crate::store::StoreError::NotLeader`], naming the leader.
    pub async fn refuse_if_following(self: &Arc<Self>) -> Result<(), AppError> {
        if self.leading() {
            return Ok(());
        }
        self.blocking(|ledger, _| {
            let store = ledger.store();
            let l = store.leadership()?.unwrap_or_default();
            Err(crate::store::StoreError::NotLeader {
                file: store.name().to_path_buf(),
                leader: if l.live { l.url } else { String::new() },
                term: l.term,
            }
            .into())
        })
        .await
    }

    /// Applies what the leader recorded since (a follower's readers see
    /// the shared record).
    pub async fn catch_up(self: &Arc<Self>) -> Result<usize, AppError> {
        self.blocking(|ledger, _| Ok(ledger.catch_up()?)).await
    }

    /// Whether `identity` may submit another change request now: at most
    /// `http.change_requests_per_hour` in any hour
    /// (`docs/RULES.md#local-failures`). Counts the request when allowed.
    pub fn allow_change_request(&self, identity: &str) -> bool {
        let limit = self.config.http.change_requests_per_hour as usize;
        let now = Timestamp::now();
        let mut map = match self.requests.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        let times = map.entry(identity.to_string()).or_default();
        while times.front().is_some_and(|t| now.secs_since(*t) >= 3600) {
            times.pop_front();
        }
        if times.len() >= limit {
            return false;
        }
        times.push_back(now);
        true
    }

    /// The policy state as of the last write (shared, not copied).
    pub fn world(&self) -> Arc<World> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The daemon's status (shared, not copied).
    pub fn status(&self) -> Arc<Status> {
        self.status
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Changes the daemon's status.
    pub fn set_status(&self, f: impl FnOnce(&mut Status)) {
        match self.status.write() {
            Ok(mut s) => f(Arc::make_mut(&mut s)),
            Err(p) => f(Arc::make_mut(&mut p.into_inner())),
        }
        self.version
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// The version of the state and status readers see.
    pub fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The response `key` built from the current version, if any.
    pub fn cache_get(&self, key: &str) -> Option<bytes::Bytes> {
        let version = self.version();
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, b)| b.clone())
    }

    /// Keeps the response `key` built from `version` (one entry per route
    /// and ccTLD; bounded).
    pub fn cache_put(&self, key: &str, version: u64, body: bytes::Bytes) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 4096 {
            cache.clear();
        }
        cache.insert(key.to_string(), (version, body));
    }

    /// The response `key` as built by `build` from the current state and
    /// status, built once per version and then shared by every reader
    /// (readers never copy the world).
    pub fn cached(&self, key: &str, build: impl FnOnce() -> bytes::Bytes) -> bytes::Bytes {
        if let Some(b) = self.cache_get(key) {
            return b;
        }
        let version = self.version();
        let built = build();
        self.cache_put(key, version, built.clone());
        built
    }

    /// The guard's signing key; an error when its file is missing.
    pub fn guard_key(&self) -> Result<&SigningKey, AppError> {
        self.key
            .get()
            .ok_or_else(|| AppError::NoGuardKey(self.config.guard_key_path()))
    }

    /// The guard's signing key, created when the record is seeded for the
    /// first time (the only time it is created with the record).
    pub(crate) fn create_guard_key(&self) -> Result<&SigningKey, AppError> {
        if let Some(k) = self.key.get() {
            return Ok(k);
        }
        let key = SigningKey::create(&self.config.guard_key_path(), CHECKPOINT_ORIGIN)?;
        Ok(self.key.get_or_init(|| key))
    }

    /// Refuses a set clock unless the record is a simulation
    /// (`docs/RULES.md#identities`).
    pub fn check_clock(&self, when: When) -> Result<(), AppError> {
        if matches!(when, When::At(_)) && !self.world().settings.simulation {
            return Err(AppError::Clock(crate::store::display(&self.config.store)));
        }
        Ok(())
    }

    /// Records one action by an actor the caller vouches for (the guard's
    /// own actions, tests and the simulation generator); input from users
    /// goes through [`App::submit_input`] with a credential.
    pub async fn submit(
        self: &Arc<Self>,
        actor: &str,
        role: Role,
        when: When,
        action: Action,
    ) -> Result<Recorded, AppError> {
        let actor = actor.to_string();
        let recorded = self
            .blocking(move |ledger, _| {
                let at = when.record_time(ledger.world().last_at);
                Ok(ledger.submit(&actor, role, at, action)?)
            })
            .await?;
        self.checkpoint_committed(true).await;
        Ok(recorded)
    }

    /// Signs a checkpoint of the record when it grew and `changed` is set
    /// (an event that changes state was recorded) or the latest is older
    /// than [`CHECKPOINT_INTERVAL_SECS`] (`docs/RULES.md#checkpoints`).
    pub async fn checkpoint(self: &Arc<Self>, changed: bool) -> Result<(), AppError> {
        self.blocking(move |ledger, app| {
            sign_checkpoint(ledger, app.guard_key()?, changed, Timestamp::now())
        })
        .await
    }

    /// Signs a checkpoint after a write that committed: a failure is
    /// logged and shown as an alarm, never answered as the write's failure
    /// (a client would retry what is already recorded).
    pub async fn checkpoint_committed(self: &Arc<Self>, changed: bool) {
        if let Err(e) = self.checkpoint(changed).await {
            tracing::error!("the write is recorded, but signing a checkpoint failed: {e}");
            self.set_status(|s| {
                s.alarms.push(format!(
                    "signing a checkpoint failed (the write is recorded): {e}"
                ))
            });
        }
    }

    /// The latest signed checkpoint, if any.
    pub async fn latest_checkpoint(
        self: &Arc<Self>,
    ) -> Result<Option<crate::store::StoredCheckpoint>, AppError> {
        // The latest the guard signed over what the journal holds: a row
        // planted in the table is never served (docs/RULES.md#checkpoints).
        self.blocking(|ledger, _| signed_checkpoint(ledger.store(), ledger.world().guard_key()))
            .await
    }

    /// An inclusion proof of event `seq` in the latest signed checkpoint.
    pub async fn proof(self: &Arc<Self>, seq: i64) -> Result<InclusionProof, AppError> {
        self.blocking(move |ledger, _| {
            inclusion_proof(ledger.store(), ledger.world().guard_key(), seq)
        })
        .await
    }

    /// The guard's verifier key (public), when its key is present.
    pub fn verifier_key(&self) -> Option<&str> {
        self.key.get().map(|k| k.verifier_key.as_str())
    }

    /// The journal events about `subject` (e.g. `tld:xa`).
    pub async fn events_for(self: &Arc<Self>, subject: &str) -> Result<Vec<Event>, AppError> {
        let subject = subject.to_string();
        // Only events this process verified and applied: a row appended
        // behind its back is not history until it passes replay.
        self.blocking(move |ledger, _| {
            let head = ledger.head();
            let mut events = ledger.store().events_for(&subject)?;
            events.retain(|e| e.seq <= head);
            Ok(events)
        })
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

/// Signs a checkpoint of the events `ledger` admitted with the guard's `key` at `now` when it
/// grew and `changed` is set or the latest is older than
/// [`CHECKPOINT_INTERVAL_SECS`] (`docs/RULES.md#checkpoints`); never a tree
/// that does not extend the last one this key signed (kept beside it).
pub fn sign_checkpoint(
    ledger: &crate::ledger::Ledger,
    key: &SigningKey,
    changed: bool,
    now: Timestamp,
) -> Result<(), AppError> {
    let store = ledger.store();
    // Only what the ledger admitted (linked and sealed): events another
    // hand appended to the table are never signed over.
    let store_size = store.size()?;
    let size = store_size.min(ledger.head().max(0) as u64);
    // The latest checkpoint this key signed over what the journal holds
    // (a planted row, e.g. of a size beyond the journal, is not one).
    let latest = store
        .recent_checkpoints(store_size, 64)?
        .into_iter()
        .find(|c| {
            c.size <= store_size
                && crate::store::checkpoint::verify(&c.note, &key.verifier_key)
                    .is_ok_and(|h| h.size == c.size)
        });
    let due = match &latest {
        None => true,
        Some(c) if c.size >= size => false,
        Some(c) => {
            changed
                || Timestamp::parse(&c.at)
                    .map(|t| now.secs_since(t) >= CHECKPOINT_INTERVAL_SECS)
                    .unwrap_or(true)
        }
    };
    if !due || size == 0 {
        return Ok(());
    }
    match key.last_head()? {
        Some(last) => {
            let root = (last.size <= size)
                .then(|| store.root(last.size))
                .transpose()?;
            if root != Some(last.root) {
                return Err(AppError::Rewritten(format!(
                    "{} events signed, the store holds {size}",
                    last.size
                )));
            }
        }
        // This key signed before, but what it signed last is gone: never
        // sign blind.
        // An instance of a shared record that has not signed yet on this
        // machine starts from the latest checkpoint the record holds, once
        // the stored tree still has that checkpoint's root
        // (docs/RULES.md#replication).
        None if store.engine() == crate::store::Engine::Postgres
            && latest.as_ref().is_some_and(|c| {
                crate::store::checkpoint::verify(&c.note, &key.verifier_key)
                    .is_ok_and(|h| h.size <= size && store.root(h.size).ok() == Some(h.root))
            }) =>
        {
            tracing::warn!(
                "{} is missing: this instance starts from the shared record's latest checkpoint",
                key.head_file().display()
            );
        }
        None if latest.as_ref().is_some_and(|c| {
            crate::store::checkpoint::verify(&c.note, &key.verifier_key).is_ok()
        }) =>
        {
            return Err(AppError::Rewritten(format!(
                "{} is missing while the record holds checkpoints signed by this key",
                key.head_file().display()
            )));
        }
        None => {}
    }
    let note = key.sign_in_term(size, store.root(size)?, store.term())?;
    store.add_checkpoint(size, &now.to_string(), &note)?;
    key.keep_head(&note)?;
    Ok(())
}

/// The latest checkpoint signed by the record's guard key (the last key
/// of its chain) over what the journal holds: a row planted in the table
/// is never one (`docs/RULES.md#checkpoints`).
pub fn signed_checkpoint(
    store: &crate::store::Store,
    key: Option<&str>,
) -> Result<Option<crate::store::StoredCheckpoint>, AppError> {
    let size = store.size()?;
    let Some(key) = key else {
        return Ok(None);
    };
    Ok(store
        .recent_checkpoints(size, 256)?
        .into_iter()
        .find(|c| crate::store::checkpoint::verify(&c.note, key).is_ok_and(|h| h.size == c.size)))
}

/// An inclusion proof (RFC 9162 §2.1.3) of one event in a signed
/// checkpoint: hashes only, never an event's content.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InclusionProof {
    /// The event.
    pub seq: i64,
    /// Its leaf index (seq - 1).
    pub index: u64,
    /// The tree size of the checkpoint.
    pub tree_size: u64,
    /// The event's leaf hash (base64).
    pub leaf_hash: String,
    /// The audit path (base64 hashes).
    pub proof: Vec<String>,
    /// The signed checkpoint the proof leads to.
    pub checkpoint: String,
}

/// The inclusion proof of event `seq` in the latest checkpoint of `store`.
pub fn inclusion_proof(
    store: &crate::store::Store,
    key: Option<&str>,
    seq: i64,
) -> Result<InclusionProof, AppError> {
    let b64 = |h: &[u8; 32]| tlog_tiles::Hash(*h).to_string();
    let Some(c) = signed_checkpoint(store, key)? else {
        return Err(AppError::NoProof(format!(
            "event {seq}: no checkpoint has been signed yet"
        )));
    };
    if seq < 1 || seq as u64 > c.size {
        return Err(AppError::NoProof(format!(
            "event {seq} is not covered by the latest checkpoint ({} events)",
            c.size
        )));
    }
    let (leaf, proof) = store.inclusion_proof(seq, c.size)?;
    Ok(InclusionProof {
        seq,
        index: (seq - 1) as u64,
        tree_size: c.size,
        leaf_hash: b64(&leaf),
        proof: proof.iter().map(b64).collect(),
        checkpoint: c.note,
    })
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
