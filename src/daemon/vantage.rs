//! `rootguard vantage`: a probe-only process on another network
//! (`docs/RULES.md#quorum`). Every sweep interval it learns the approved
//! delegations from the daemon (`GET /api/v1/delegations`, a request
//! signed with its registered key), probes them with the same checks as
//! the daemon's sweep (its `[probe]` settings, e.g. its own `source`
//! address), and sends the signed observations to the daemon
//! (`POST /api/v1/observations`). It holds no record; a failure of one
//! round is logged and the next round runs as planned.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::app::sweep::probe_delegations;
use crate::checks::Profile;
use crate::config::Config;
use crate::ledger::observation::{DELEGATIONS_REQUEST, sign_observations, sign_request};
use crate::policy::quorum::TldSeen;
use crate::store::checkpoint::SigningKey;
use crate::time::Timestamp;
use crate::zone::Delegation;

/// Why a vantage cannot run, or one round failed.
#[derive(Debug, thiserror::Error)]
pub enum VantageError {
    /// The configuration lacks what a vantage needs.
    #[error("vantage configuration: {0}")]
    Config(String),
    /// The key cannot be used.
    #[error(transparent)]
    Key(#[from] crate::store::checkpoint::CheckpointError),
    /// The profile cannot be read.
    #[error(transparent)]
    Profile(#[from] crate::checks::profile::ProfileError),
    /// The daemon could not be reached or refused.
    #[error("the daemon at {url}: {message}")]
    Daemon {
        /// The URL asked.
        url: String,
        /// What happened.
        message: String,
    },
}

impl VantageError {
    /// The exit status: 3 for configuration, 4 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            VantageError::Config(_) | VantageError::Profile(_) => 3,
            VantageError::Key(_) | VantageError::Daemon { .. } => 4,
        }
    }
}

/// A vantage: its key, the daemon, the probe settings.
pub struct Vantage {
    config: Config,
    key: SigningKey,
    profile: Profile,
    /// The daemons it reports to (several instances of one shared
    /// record; only the leader accepts observations).
    daemons: Vec<String>,
    /// The one that answered last.
    current: std::sync::atomic::AtomicUsize,
    client: reqwest::Client,
}

/// What one round did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Round {
    /// When it swept.
    pub at: Timestamp,
    /// ccTLDs probed.
    pub tlds: usize,
    /// The daemon's answer.
    pub answer: serde_json::Value,
}

impl Vantage {
    /// A vantage from the configuration: `vantage.daemon` (one URL, or
    /// several separated by commas: the instances of one shared record)
    /// and `vantage.key` are required.
    pub fn new(config: Config) -> Result<Vantage, VantageError> {
        let list = config.vantage.daemon.clone().ok_or_else(|| {
            VantageError::Config("vantage.daemon (the daemon's URL) is not set".into())
        })?;
        let daemons: Vec<String> = list
            .split(',')
            .map(|d| d.trim().trim_end_matches('/').to_string())
            .filter(|d| !d.is_empty())
            .collect();
        if daemons.is_empty() {
            return Err(VantageError::Config("vantage.daemon names no URL".into()));
        }
        for daemon in &daemons {
            if !(daemon.starts_with("http://") || daemon.starts_with("https://")) {
                return Err(VantageError::Config(format!(
                    "vantage.daemon = {daemon:?} is not an http:// or https:// URL"
                )));
            }
        }
        let key_file = config.vantage.key.clone().ok_or_else(|| {
            VantageError::Config(
                "vantage.key (the vantage's key, `rootguard key new --identity NAME`) is not set"
                    .into(),
            )
        })?;
        config.probe.check_source().map_err(VantageError::Config)?;
        let key = SigningKey::load(&key_file)?;
        let profile = match &config.profile {
            Some(p) => Profile::from_file(p)?,
            None => Profile::default(),
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| VantageError::Config(format!("HTTP client: {e}")))?;
        Ok(Vantage {
            config,
            key,
            profile,
            daemons,
            current: std::sync::atomic::AtomicUsize::new(0),
            client,
        })
    }

    /// The daemon that answered last.
    fn daemon(&self) -> &str {
        let i = self.current.load(std::sync::atomic::Ordering::Relaxed);
        &self.daemons[i % self.daemons.len()]
    }

    /// Moves on to the next daemon (the last one was unreachable, or a
    /// follower of the shared record).
    fn next_daemon(&self) {
        self.current
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether to try another daemon after this failure: unreachable, or
    /// a follower that sends writers to the leader (503).
    fn try_another(e: &VantageError) -> bool {
        matches!(e, VantageError::Daemon { message, .. }
            if message.starts_with("503") || message.starts_with("unreachable"))
    }

    /// One round, moving on to the next daemon of the list while one is
    /// unreachable or follows (`docs/RULES.md#replication`).
    pub async fn round(&self) -> Result<Round, VantageError> {
        let mut last = None;
        for _ in 0..self.daemons.len() {
            match self.round_once().await {
                Err(e) if Self::try_another(&e) && self.daemons.len() > 1 => {
                    tracing::warn!("{e}: trying the next daemon");
                    self.next_daemon();
                    last = Some(e);
                }
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| self.failed("", "no daemon answered")))
    }

    /// The vantage's name (its key's, its registered identity's).
    pub fn name(&self) -> &str {
        &self.key.name
    }

    fn failed(&self, path: &str, message: impl std::fmt::Display) -> VantageError {
        VantageError::Daemon {
            url: format!("{}{path}", self.daemon()),
            message: message.to_string(),
        }
    }

    async fn text(&self, response: reqwest::Response, path: &str) -> Result<String, VantageError> {
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| self.failed(path, format!("unreachable: {e}")))?;
        if !status.is_success() {
            return Err(self.failed(path, format!("{status}: {}", body.trim())));
        }
        Ok(body)
    }

    /// One round with the current daemon: learn, probe, send.
    async fn round_once(&self) -> Result<Round, VantageError> {
        // The record the daemon keeps: its guard key's name and hash.
        let path = "/api/v1/audit/key";
        let r = self
            .client
            .get(format!("{}{path}", self.daemon()))
            .send()
            .await
            .map_err(|e| self.failed(path, format!("unreachable: {e}")))?;
        let key = self.text(r, path).await?;
        let record: String = key
            .trim()
            .splitn(3, '+')
            .take(2)
            .collect::<Vec<_>>()
            .join("+");
        if record.is_empty() {
            return Err(self.failed(path, "the daemon has no guard key yet"));
        }
        let at = Timestamp::now();
        let path = "/api/v1/delegations";
        let signature = sign_request(&self.key, &record, at, DELEGATIONS_REQUEST)?;
        let r = self
            .client
            .get(format!("{}{path}", self.daemon()))
            .header("Rootguard-Signature", signature)
            .send()
            .await
            .map_err(|e| self.failed(path, format!("unreachable: {e}")))?;
        let body = self.text(r, path).await?;
        #[derive(serde::Deserialize)]
        struct Approved {
            delegations: Vec<Delegation>,
        }
        let approved: Approved = serde_json::from_str(&body)
            .map_err(|e| self.failed(path, format!("not delegations: {e}")))?;
        let watched = &self.config.sweep.tlds;
        let delegations: Vec<Delegation> = approved
            .delegations
            .into_iter()
            .filter(|d| watched.is_empty() || watched.contains(&d.tld))
            .collect();
        let reports =
            probe_delegations(&delegations, self.config.probe.clone(), &self.profile, at).await;
        let tlds: BTreeMap<String, TldSeen> = reports
            .iter()
            .map(|r| (r.tld.clone(), TldSeen::of(r, at)))
            .collect();
        let count = tlds.len();
        let envelope = sign_observations(&self.key, &record, at, &tlds)?;
        let path = "/api/v1/observations";
        let r = self
            .client
            .post(format!("{}{path}", self.daemon()))
            .header("content-type", "application/json")
            .body(envelope)
            .send()
            .await
            .map_err(|e| self.failed(path, format!("unreachable: {e}")))?;
        let body = self.text(r, path).await?;
        let answer = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
        Ok(Round {
            at,
            tlds: count,
            answer,
        })
    }

    /// Runs a round every sweep interval until `shutdown` completes.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let interval = Duration::from_secs(self.config.sweep.interval_secs.max(1));
        eprintln!(
            "rootguard: vantage {} reporting to {} every {} s",
            self.name(),
            self.daemons.join(", "),
            interval.as_secs()
        );
        tokio::pin!(shutdown);
        loop {
            let opened = tokio::time::Instant::now();
            tokio::select! {
                _ = &mut shutdown => break,
                r = self.round() => match r {
                    Ok(round) => tracing::info!(
                        "sent observations of {} ccTLDs swept at {}: {}",
                        round.tlds, round.at, round.answer
                    ),
                    Err(e) => tracing::error!("this round failed: {e}"),
                },
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep_until(opened + interval) => {}
            }
        }
        eprintln!("rootguard: vantage {} stopping", self.name());
    }
}
