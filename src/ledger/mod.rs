//! The governance ledger: the policy state of every ccTLD, complaint, case
//! and change request, derived from the journal in `store`, and the one
//! way to change it: submit an [`Action`] with a [`Credential`]; the
//! policy machines accept it (and the journal records the resulting
//! event) or refuse it.
//!
//! Events are facts (`docs/RULES.md#events-are-facts`): a command is
//! decided once, and its event stores what changed ([`Change`]) with the
//! inputs it was decided on and the writer's term. Replay writes the
//! changes back; it never decides again, so a rule change never rewrites
//! history and every journal this format wrote opens.
//!
//! Refused input (`docs/RULES.md#refused-input`): when an authenticated
//! identity's action names a known ccTLD and is refused, a refusal event
//! holding the input's size and SHA-256 (never the input) is recorded,
//! at most [`REFUSALS_PER_HOUR`] per identity; unauthenticated input is
//! never written.

mod action;
mod change;
pub mod command;
pub mod identity;
mod legacy;
pub mod observation;
mod seal;
mod world;

pub use action::{Action, JsonArgError, json_arg};
pub use change::Change;
pub use identity::{Identity, Kind};
use seal::{Admitted, admit, check_head, load_key, sealer, snapshot_signed, snapshot_text};
pub use seal::{accept_chunk, acceptable, guard_keys, sealed_by};
pub use world::{Settings, World, same_observation, steady_digest, steady_effect};

use crate::time::Timestamp;
use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};

use crate::policy::Refusal;
pub use crate::policy::Role;
use crate::policy::gate::RequestKind;
use crate::policy::technical::SweepFacts;
use crate::store::checkpoint::SigningKey;
use crate::store::{Event, NewEvent, Store, StoreError};

/// The writer's term: 1 for the single writer; the leader election of
/// several vantage points increments it. Every event carries it.
pub const TERM: u64 = 1;

/// Refusal events recorded per identity and hour at most.
pub const REFUSALS_PER_HOUR: usize = 60;

/// Why an action was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The rules refuse it.
    #[error("{0}")]
    Refused(Refusal),
    /// The input is not valid (bad input, never recorded).
    #[error(transparent)]
    Invalid(#[from] crate::policy::gate::InvalidRequest),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The guard's key cannot be used.
    #[error(transparent)]
    Key(#[from] crate::store::checkpoint::CheckpointError),
    /// The journal cannot be read: an event that is not of this format,
    /// or tampered with.
    #[error("journal event {seq} ({kind}) does not replay: {reason}")]
    Replay {
        /// Event.
        seq: i64,
        /// Kind.
        kind: String,
        /// Why.
        reason: String,
    },
}

/// Who submits an action: where its actor and role come from
/// (`docs/RULES.md#identities`).
#[derive(Clone, Debug)]
pub enum Credential {
    /// The guard itself: its own sweeps and the record's own events.
    Guard,
    /// A registered identity, authenticated by a verified signed command
    /// (`command`: its digest) or by its bearer token.
    Identity {
        /// The identity's name.
        id: String,
        /// The digest of its signed command, when it signed one.
        command: Option<(String, Timestamp)>,
        /// Size of the input in bytes.
        input_size: usize,
        /// SHA-256 (hex) of the input.
        input_sha256: String,
    },
}

/// The journal event recording `action`, its `result` and `change`.
fn new_event(
    actor: &str,
    role: Role,
    at: Timestamp,
    action: &Action,
    result: &Value,
    change: &Change,
) -> NewEvent {
    let section = match (action, result.get("decision")) {
        (Action::Gate { .. }, Some(d)) => {
            let kind: Option<RequestKind> = d
                .get("kind")
                .and_then(|k| serde_json::from_value(k.clone()).ok());
            match kind {
                Some(RequestKind::TechnicalChange) => crate::policy::gate::section::TECHNICAL,
                Some(RequestKind::Redelegation) => crate::policy::gate::section::REDELEGATION,
                _ => crate::policy::gate::section::OTHER,
            }
        }
        _ => action.section(),
    };
    let mut payload = json!({"term": TERM, "action": action, "result": result});
    if *change != Change::default() {
        payload["change"] = serde_json::to_value(change).unwrap_or(Value::Null);
    }
    NewEvent {
        at: at.to_string(),
        actor: actor.to_string(),
        role: role.to_string(),
        kind: action.kind(),
        subject: action.subject(),
        section: section.to_string(),
        payload,
    }
}

/// The term of the writer of `e` (0: written before terms).
pub fn term(e: &Event) -> u64 {
    e.event.payload["term"].as_u64().unwrap_or(0)
}

/// Whether a journal event changes the state of the record: anything but
/// a sweep whose only effects are evidence, re-assessment or an ignored
/// sweep. Steady sweeps do not force a checkpoint
/// (`docs/RULES.md#checkpoints`).
pub fn changes_state(e: &Event) -> bool {
    if e.event.kind == "sweep-round" {
        return false;
    }
    if e.event.kind != "sweep" {
        return true;
    }
    e.event.payload["result"]["effects"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|fx| {
            !matches!(
                fx["effect"].as_str(),
                Some("evidence-appended" | "suspension-reassessed" | "sweep-ignored")
            )
        })
}

/// What a submission recorded.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Recorded {
    /// The journal event.
    pub event: Event,
    /// The result.
    pub result: Value,
}

/// The journal plus the state derived from it.
pub struct Ledger {
    store: Store,
    world: World,
    /// The last journal event applied to `world`.
    seen: i64,
    /// The event of the latest snapshot kept.
    snapshot: i64,
    /// The guard's key: signs snapshots, and only snapshots it signed
    /// are loaded (`docs/RULES.md#checkpoints`).
    key: Option<std::sync::Arc<SigningKey>>,
    /// What replay verified so far (the chain's head, the format).
    admitted: Admitted,
}

/// Applies one journal event to `world` as the fact it records: its
/// change is written back; nothing is decided again. A steady sweep round
/// advances the counters of the ccTLDs it counts (their observation seen
/// once more at the round's time) after checking its digest.
fn replay(world: &mut World, e: &Event) -> Result<(), LedgerError> {
    let fail = |reason: String| LedgerError::Replay {
        seq: e.seq,
        kind: e.event.kind.clone(),
        reason,
    };
    let at = Timestamp::parse(&e.event.at).map_err(|r| fail(r.to_string()))?;
    if e.event.payload.get("term").is_none() {
        // An event of the format before events were facts: superseded by
        // the state `rootguard migrate` recorded after it.
        return Ok(());
    }
    if e.event.kind == "refused" {
        world.last_at = world.last_at.max(at);
        return Ok(());
    }
    let action: Action = serde_json::from_value(
        e.event
            .payload
            .get("action")
            .cloned()
            .unwrap_or(Value::Null),
    )
    .map_err(|err| fail(err.to_string()))?;
    // The stored kind and subject must be the action's own: a disguised
    // event (a state change stored as a steady `sweep-round`) is refused.
    if action.kind() != e.event.kind || action.subject() != e.event.subject {
        return Err(fail(format!(
            "its kind {:?} and subject {:?} are not those of its action ({:?}, {:?})",
            e.event.kind,
            e.event.subject,
            action.kind(),
            action.subject()
        )));
    }
    if let Action::SweepRound { .. } = &action {
        let (next, _) = world
            .apply(&e.event.actor, Role::Guard, &action, at)
            .map_err(|r| fail(r.to_string()))?;
        *world = next;
        return Ok(());
    }
    let change: Change = match e.event.payload.get("change") {
        Some(c) => {
            serde_json::from_value(c.clone()).map_err(|err| fail(format!("its change: {err}")))?
        }
        None => Change::default(),
    };
    change.apply_to(world);
    world.last_at = world.last_at.max(at);
    world.note_decision(e.seq, &action, &e.event.payload["result"]);
    Ok(())
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("store", &self.store)
            .finish()
    }
}

/// Events between snapshots of the derived state.
pub const SNAPSHOT_EVERY: i64 = 1000;

/// Who acts, once the credential is checked against the record.
struct Acting {
    actor: String,
    role: Role,
    /// The identity, when one acts (not the guard, not a trusted caller).
    identity: Option<Identity>,
}

/// Resolves a credential against `world` (under the write lock).
fn resolve(world: &World, cred: &Credential) -> Result<Acting, Refusal> {
    match cred {
        Credential::Guard => Ok(Acting {
            actor: "rootguard".into(),
            role: Role::Guard,
            identity: None,
        }),
        Credential::Identity { id, command, .. } => {
            let Some(i) = world.identities.get(id) else {
                return Err(Refusal::new(
                    format!("{id:?} is not a registered identity"),
                    identity::SECTION,
                ));
            };
            if !i.active() {
                return Err(Refusal::new(
                    format!("the identity {id:?} is revoked"),
                    identity::SECTION,
                ));
            }
            if let Some((digest, _)) = command
                && world.commands.contains_key(digest)
            {
                return Err(Refusal::new(
                    "this signed command was already accepted: a command counts once",
                    identity::SECTION,
                ));
            }
            Ok(Acting {
                actor: id.clone(),
                role: i.role(),
                identity: Some(i.clone()),
            })
        }
    }
}

impl Ledger {
    /// Opens the store: loads the latest snapshot of the derived state that
    /// matches the journal, and applies the events after it.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        Ledger::open_sealed(path, None)
    }

    /// Opens the store with the guard's key file `key` (when it exists):
    /// loads the latest snapshot the guard signed, and applies the events
    /// after it; snapshots are signed with it. Without the key, no
    /// snapshot is trusted: the whole journal is applied.
    pub fn open_sealed(path: &Path, key: Option<&Path>) -> Result<Ledger, LedgerError> {
        let store = Store::open(path)?;
        let key = load_key(key)?;
        Ledger::from_store(store, key)
    }

    /// Uses the guard's key file `key` from now on (after the first
    /// seeding created it).
    pub fn use_key(&mut self, key: &Path) -> Result<(), LedgerError> {
        self.key = load_key(Some(key))?;
        if let Some(k) = &self.key {
            self.store.set_sealer(sealer(k.clone()));
        }
        Ok(())
    }

    fn from_store(
        mut store: Store,
        key: Option<std::sync::Arc<SigningKey>>,
    ) -> Result<Ledger, LedgerError> {
        let vkey = key.as_ref().map(|k| k.verifier_key.clone());
        if let Some(k) = &key {
            store.set_sealer(sealer(k.clone()));
        }
        check_head(&store, key.as_deref())?;
        let mut start = (World::default(), 0);
        for s in store.snapshots()? {
            if !vkey.as_deref().is_some_and(|v| snapshot_signed(&s, v)) {
                tracing::warn!(
                    seq = s.seq,
                    "a snapshot is not signed by the guard's key; it is not used"
                );
                continue;
            }
            match serde_json::from_str::<World>(&s.state) {
                Ok(w) => {
                    start = (w, s.seq);
                    break;
                }
                Err(e) => tracing::warn!(seq = s.seq, "a snapshot does not parse ({e})"),
            }
        }
        let (mut world, mut seen) = start;
        let snapshot = seen;
        let mut admitted = Admitted {
            last_hash: store.hash_at(seen)?,
            facts_seen: snapshot > 0,
            last_term: 0,
        };
        for e in store.events_after(seen)? {
            admit(&world, &mut admitted, &e, vkey.as_deref())?;
            replay(&mut world, &e)?;
            seen = e.seq;
        }
        // The key file must be the record's guard key (after a rotation,
        // the new one).
        if let (Some(file), Some(recorded)) = (vkey.as_deref(), world.guard_key())
            && file != recorded
        {
            return Err(LedgerError::Replay {
                seq: seen,
                kind: "guard key".into(),
                reason: format!(
                    "the guard's key file holds {file}, the record's guard key is {recorded}: restore the record's key (after an interrupted rotation, the new key is KEY.next)"
                ),
            });
        }
        Ok(Ledger {
            store,
            world,
            seen,
            snapshot,
            key,
            admitted,
        })
    }

    /// Converts a record in an older format (`rootguard migrate`): keeps
    /// a copy of the old file, derives the state its journal held (with
    /// the rules of that format, once), and records that state and the
    /// old journal's head hash in the log. The old events stay in the
    /// journal (it is append-only); replay starts from the recorded state.
    /// Records of those formats had no identities: `identities` (the
    /// first operator and the guard) are registered with the state.
    pub fn migrate(
        path: &Path,
        identities: &[identity::Registration],
        key: Option<&Path>,
    ) -> Result<(Ledger, Option<crate::store::Migrated>), LedgerError> {
        if Store::needs_migration(path)? && !identities.iter().any(|r| r.kind == Kind::Operator) {
            return Err(LedgerError::Refused(Refusal::new(
                "a record of an older format has no identities: give the first operator (--operator and --operator-key)",
                identity::SECTION,
            )));
        }
        let (mut store, migrated) = Store::migrate(path)?;
        let key = load_key(key)?;
        if let Some(k) = &key {
            store.set_sealer(sealer(k.clone()));
        }
        let Some(m) = migrated else {
            return Ok((Ledger::from_store(store, key)?, None));
        };
        let mut state = legacy::derive(&store)?;
        // The record's clock is the system clock: old events dated after it
        // (older formats let any caller set the time) are flagged in the
        // migration event and the clock is brought back to now, or every
        // real-time writer would be locked out (docs/RULES.md#migration).
        let at = Timestamp::now();
        let future = (state.last_at > at).then_some(state.last_at);
        if let Some(t) = future {
            tracing::warn!(
                "the old record's latest event is dated {t}, after the system clock ({at}): its clock was set by hand; the migrated record's clock is the system clock"
            );
            state.last_at = at;
        }
        for r in identities {
            if r.kind != Kind::Guard {
                identity::check_registration(&state.identities, &state.approved, r, None)
                    .map_err(LedgerError::Refused)?;
            }
            state.identities.insert(
                r.id.clone(),
                Identity {
                    registration: r.clone(),
                    attested_by: "rootguard migrate".into(),
                    registered: at,
                    revoked: None,
                },
            );
        }
        let mut ledger = Ledger {
            store,
            world: state.clone(),
            seen: m.events,
            snapshot: 0,
            key,
            admitted: Admitted {
                last_hash: m.head.clone(),
                facts_seen: false,
                last_term: 0,
            },
        };
        let action = Action::RecordMigrated {
            from: m.from,
            to: m.to,
            head: m.head.clone(),
            kept: m.kept.display().to_string(),
        };
        let change = Change {
            reset: Some(Box::new(state)),
            ..Change::default()
        };
        let mut result = json!({"migrated": {"from": m.from, "to": m.to, "head": m.head}});
        if let Some(t) = future {
            result["clock"] = json!({"latest_old_event": t, "set_back_to": at});
        }
        let event = new_event("rootguard", Role::Guard, at, &action, &result, &change);
        let appended = ledger.store.append(event)?;
        ledger.world.last_at = at;
        ledger.seen = appended.seq;
        ledger.admitted = Admitted {
            last_hash: appended.hash.clone(),
            facts_seen: true,
            last_term: 0,
        };
        ledger.snapshot_if_due(1)?;
        Ok((ledger, Some(m)))
    }

    /// Keeps a snapshot of the derived state when `every` events (the
    /// daemon uses [`SNAPSHOT_EVERY`]) were applied since the last one.
    pub fn snapshot_if_due(&mut self, every: i64) -> Result<(), LedgerError> {
        let Some(key) = &self.key else {
            return Ok(());
        };
        if !self.store.may_write() {
            // A follower leaves snapshots to the leader.
            return Ok(());
        }
        if self.seen - self.snapshot < every.max(1) {
            return Ok(());
        }
        let fail = |reason: String| LedgerError::Replay {
            seq: self.seen,
            kind: "snapshot".into(),
            reason,
        };
        let state = serde_json::to_string(&self.world).map_err(|e| fail(e.to_string()))?;
        let root = self.store.root(self.seen as u64)?;
        let note = key.sign_text(&snapshot_text(self.seen, &root, &state))?;
        self.store.save_snapshot(self.seen, &state, &note)?;
        self.snapshot = self.seen;
        Ok(())
    }

    /// Rotates the guard's key (`rootguard audit rotate-key`): records the
    /// new verifier key in an event sealed with the current key, then
    /// seals with the key in `next` (which the caller moves into the key
    /// file's place) and keeps a snapshot signed by it.
    pub fn rotate_key(&mut self, next: &Path, at: Timestamp) -> Result<Recorded, LedgerError> {
        let new = SigningKey::load(next)?;
        let recorded = self.submit(
            "rootguard",
            Role::Guard,
            at,
            Action::GuardKeyRotated {
                key: new.verifier_key.clone(),
            },
        )?;
        let new = std::sync::Arc::new(new);
        self.store.set_sealer(sealer(new.clone()));
        self.key = Some(new);
        self.snapshot_if_due(1)?;
        Ok(recorded)
    }

    /// Applies the events other writers appended since the last one
    /// applied (a follower of a shared record keeps up with its leader);
    /// returns how many.
    pub fn catch_up(&mut self) -> Result<usize, LedgerError> {
        let vkey = self.key.as_ref().map(|k| k.verifier_key.clone());
        let fresh = self.store.events_after(self.seen)?;
        for e in &fresh {
            admit(&self.world, &mut self.admitted, e, vkey.as_deref())?;
            replay(&mut self.world, e)?;
            self.seen = e.seq;
        }
        Ok(fresh.len())
    }

    /// Writes a shared record from now on under `writer` (elected), or
    /// not at all (`None`: a follower; `docs/RULES.md#replication`).
    pub fn set_writer(&mut self, writer: Option<crate::store::Writer>) {
        self.store.set_writer(writer);
    }

    /// The last journal event applied to the state.
    pub fn head(&self) -> i64 {
        self.seen
    }

    /// The current state.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The journal.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Applies and records an action by an actor the caller vouches for:
    /// the guard's own events, the import, tests and the simulation
    /// generator. Input from users goes through [`Ledger::submit_as`].
    pub fn submit(
        &mut self,
        actor: &str,
        role: Role,
        at: Timestamp,
        action: Action,
    ) -> Result<Recorded, LedgerError> {
        let acting = Acting {
            actor: actor.to_string(),
            role,
            identity: None,
        };
        self.record(Err(acting), at, action)
    }

    /// Applies and records an action submitted with `cred`: the actor and
    /// role are the credential's identity's (`docs/RULES.md#identities`);
    /// an identity that acts for named ccTLDs acts for those only.
    pub fn submit_as(
        &mut self,
        cred: &Credential,
        at: Timestamp,
        action: Action,
    ) -> Result<Recorded, LedgerError> {
        self.record(Ok(cred), at, action)
    }

    fn record(
        &mut self,
        who: Result<&Credential, Acting>,
        at: Timestamp,
        action: Action,
    ) -> Result<Recorded, LedgerError> {
        // Change requests are validated as DNS data before anything is
        // decided (docs/RULES.md#change-request-data).
        let action = match action {
            Action::Gate { request, precheck } => {
                let approved = self.world.approved.get(request.tld.as_str());
                Action::Gate {
                    request: Box::new(crate::policy::gate::validate(&request, approved)?),
                    precheck,
                }
            }
            Action::ChangeConfirm { request } => {
                let approved = self.world.approved.get(request.tld.as_str());
                Action::ChangeConfirm {
                    request: Box::new(crate::policy::gate::validate(&request, approved)?),
                }
            }
            other => other,
        };
        check_head(&self.store, self.key.as_deref())?;
        let Ledger {
            store,
            world,
            seen,
            key,
            admitted,
            ..
        } = self;
        let mut applied: Option<(World, Value)> = None;
        let mut authenticated: Option<String> = None;
        let vkey = key.as_ref().map(|k| k.verifier_key.clone());
        let appended = store.append_after(*seen, |fresh| {
            for e in &fresh {
                admit(world, admitted, e, vkey.as_deref())?;
                replay(world, e)?;
                *seen = e.seq;
            }
            // Judged again against the state other writers left.
            if let Action::Gate { request, .. } = &action {
                crate::policy::gate::validate(request, world.approved.get(request.tld.as_str()))?;
            }
            let acting = match &who {
                Ok(cred) => resolve(world, cred).map_err(LedgerError::Refused)?,
                Err(a) => Acting {
                    actor: a.actor.clone(),
                    role: a.role,
                    identity: None,
                },
            };
            if let Some(i) = &acting.identity {
                authenticated = Some(i.registration.id.clone());
                if let Some(tld) = action.tld_in(world)
                    && !i.acts_for(&tld)
                {
                    return Err(LedgerError::Refused(Refusal::new(
                        format!(
                            "{:?} is a {} for {}, not for .{tld}",
                            i.registration.id,
                            i.registration.kind,
                            i.registration
                                .tlds
                                .iter()
                                .map(|t| format!(".{t}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        identity::SECTION,
                    )));
                }
            }
            let (mut next, result) = world
                .apply(&acting.actor, acting.role, &action, at)
                .map_err(LedgerError::Refused)?;
            if let Ok(Credential::Identity {
                command: Some((digest, issued)),
                ..
            }) = &who
            {
                next.commands
                    .retain(|_, t| at.secs_since(*t) <= command::COMMAND_FRESH_SECS);
                next.commands.insert(digest.clone(), *issued);
            }
            let change = Change::between(world, &next);
            let event = new_event(&acting.actor, acting.role, at, &action, &result, &change);
            applied = Some((next, result));
            Ok::<NewEvent, LedgerError>(event)
        })?;
        match appended {
            Ok(event) => {
                let (next, result) = applied.unwrap_or_default();
                *world = next;
                world.note_decision(event.seq, &action, &result);
                *seen = event.seq;
                admitted.last_hash = event.hash.clone();
                admitted.facts_seen = true;
                admitted.last_term = admitted.last_term.max(term(&event));
                Ok(Recorded { event, result })
            }
            Err(LedgerError::Refused(refusal)) => {
                // The one rule for refused input (docs/RULES.md#refused-input).
                if let (
                    Some(id),
                    Ok(Credential::Identity {
                        input_size,
                        input_sha256,
                        ..
                    }),
                ) = (authenticated, &who)
                    && action.tld_in(world).is_some()
                {
                    // Counted from the journal: the limit holds across
                    // processes and restarts.
                    let since = Timestamp::from_second(at.as_second() - 3600).to_string();
                    if (store.refusals_since(&id, &since)? as usize) < REFUSALS_PER_HOUR {
                        let role = world
                            .identities
                            .get(&id)
                            .map(Identity::role)
                            .unwrap_or(Role::Public);
                        let record = NewEvent {
                            at: at.max(world.last_at).to_string(),
                            actor: id,
                            role: role.to_string(),
                            kind: "refused".into(),
                            subject: action.subject(),
                            section: refusal.section.clone(),
                            payload: json!({
                                "term": TERM,
                                "refused": action.kind(),
                                "input": {"size": input_size, "sha256": input_sha256},
                                "refusal": refusal,
                            }),
                        };
                        let appended = store.append_after(*seen, |fresh| {
                            for e in &fresh {
                                admit(world, admitted, e, vkey.as_deref())?;
                                replay(world, e)?;
                                *seen = e.seq;
                            }
                            Ok::<NewEvent, LedgerError>(record)
                        })?;
                        let appended = appended?;
                        *seen = appended.seq;
                        admitted.last_term = admitted.last_term.max(term(&appended));
                        admitted.last_hash = appended.hash;
                        admitted.facts_seen = true;
                    }
                }
                Err(LedgerError::Refused(refusal))
            }
            Err(other) => Err(other),
        }
    }

    /// Records one sweep of the guard in one transaction
    /// (`docs/RULES.md#technical-complaint`): each ccTLD whose observation
    /// changed, or whose state changes by more than a counter, gets its own
    /// event; all the others are one compact round entry (their count and
    /// a digest of their unchanged observations). A steady sweep over
    /// hundreds of ccTLDs thus adds one small entry. An impaired sweep
    /// records only its round, which changes nothing.
    pub fn record_sweep(
        &mut self,
        at: Timestamp,
        impaired: bool,
        observations: Vec<(String, SweepFacts)>,
        window: Option<crate::policy::quorum::WindowRecord>,
    ) -> Result<Vec<Recorded>, LedgerError> {
        check_head(&self.store, self.key.as_deref())?;
        let Ledger {
            store,
            world,
            seen,
            key,
            admitted,
            ..
        } = self;
        let vkey = key.as_ref().map(|k| k.verifier_key.clone());
        let mut applied: Option<(World, Vec<(Action, Value)>)> = None;
        let appended = store.append_batch_after(*seen, |fresh| {
            for e in &fresh {
                admit(world, admitted, e, vkey.as_deref())?;
                replay(world, e)?;
                *seen = e.seq;
            }
            let mut w = world.clone();
            let mut done: Vec<(Action, Value)> = Vec::new();
            let mut events: Vec<NewEvent> = Vec::new();
            let guard = Role::Guard;
            let mut apply = |w: &mut World, action: Action| -> Result<(), LedgerError> {
                let (next, result) = w
                    .apply("rootguard", guard, &action, at)
                    .map_err(LedgerError::Refused)?;
                // A round's change is its counters (replay advances them);
                // every other event stores what it changed.
                let change = if matches!(action, Action::SweepRound { .. }) {
                    Change::default()
                } else {
                    Change::between(w, &next)
                };
                events.push(new_event("rootguard", guard, at, &action, &result, &change));
                *w = next;
                done.push((action, result));
                Ok(())
            };
            let round = if impaired {
                Action::SweepRound {
                    steady: 0,
                    digest: String::new(),
                    dropped: Vec::new(),
                    impaired: true,
                    window: window.clone(),
                }
            } else {
                let swept: std::collections::BTreeSet<&str> =
                    observations.iter().map(|(t, _)| t.as_str()).collect();
                let dropped: Vec<String> = w
                    .observed
                    .keys()
                    .filter(|t| !swept.contains(t.as_str()))
                    .cloned()
                    .collect();
                let mut steady: Vec<(&str, &SweepFacts)> = Vec::new();
                for (tld, facts) in &observations {
                    if !w.approved.contains_key(tld) {
                        continue;
                    }
                    let same = w
                        .observed
                        .get(tld)
                        .is_some_and(|f| same_observation(f, facts));
                    let quiet = same && {
                        let state = w.technical.get(tld).cloned().unwrap_or_default();
                        let (_, effects) = state.sweep(facts, &w.settings.policy);
                        effects.iter().all(steady_effect)
                    };
                    if quiet {
                        steady.push((tld, facts));
                    } else {
                        apply(
                            &mut w,
                            Action::Sweep {
                                tld: tld.clone(),
                                facts: facts.clone(),
                            },
                        )?;
                    }
                }
                Action::SweepRound {
                    steady: steady.len() as u32,
                    digest: steady_digest(steady.into_iter()),
                    dropped,
                    impaired: false,
                    window: window.clone(),
                }
            };
            apply(&mut w, round)?;
            applied = Some((w, done));
            Ok::<Vec<NewEvent>, LedgerError>(events)
        })?;
        let events = appended?;
        let (next, done) = applied.unwrap_or_default();
        *world = next;
        if let Some(last) = events.last() {
            *seen = last.seq;
            admitted.last_hash = last.hash.clone();
            admitted.facts_seen = true;
            admitted.last_term = admitted.last_term.max(term(last));
        }
        Ok(events
            .into_iter()
            .zip(done)
            .map(|(event, (_, result))| Recorded { event, result })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    /// The first operator ("op") and its key, for an import.
    pub(crate) fn ops() -> Vec<identity::Registration> {
        let (_, vkey) = signed_note::generate_key(&mut rand_core::OsRng, "op");
        let mut v = vec![identity::Registration {
            id: "op".into(),
            kind: Kind::Operator,
            tlds: Vec::new(),
            person: "Operator One".into(),
            key: Some(vkey),
            token_sha256: None,
            body: None,
            of: None,
        }];
        // The manager of .xa, who answers its complaint.
        v.push(identity::Registration {
            id: "old".into(),
            kind: Kind::Manager,
            tlds: vec![crate::zone::Tld::parse("xa").unwrap()],
            person: "Old NIC's manager".into(),
            key: None,
            token_sha256: Some(command::sha256_hex(b"old")),
            body: None,
            of: None,
        });
        // The mediator of its complaint.
        v.push(identity::Registration {
            id: "med".into(),
            kind: Kind::Mediator,
            tlds: Vec::new(),
            person: "A Mediator".into(),
            key: None,
            token_sha256: Some(command::sha256_hex(b"med")),
            body: None,
            of: None,
        });
        // The bodies that appoint the panel's seats.
        for (id, body, of) in [
            (
                "lic",
                identity::Body::LocalInternetCommunity,
                Some("Examplia"),
            ),
            ("gov", identity::Body::Government, Some("Examplia")),
            ("ccnso", identity::Body::CctldConstituency, None),
            ("board", identity::Body::Board, None),
            ("gov-other", identity::Body::Government, Some("Otherland")),
        ] {
            v.push(identity::Registration {
                id: id.into(),
                kind: Kind::AppointingBody,
                tlds: Vec::new(),
                person: format!("{id} (body)"),
                key: None,
                token_sha256: Some(command::sha256_hex(id.as_bytes())),
                body: Some(body),
                of: of.map(str::to_string),
            });
        }
        // The panel members the script appoints (p0..p6).
        for i in 0..7 {
            v.push(identity::Registration {
                id: format!("p{i}"),
                kind: Kind::PanelMember,
                tlds: Vec::new(),
                person: format!("Panel member {i}"),
                key: None,
                token_sha256: Some(command::sha256_hex(format!("p{i}").as_bytes())),
                body: None,
                of: None,
            });
        }
        v
    }

    use super::*;
    use crate::policy::PolicyConfig;
    use crate::policy::case::{Application, EntryPath, Member, Outcome, Party, Seat};
    use crate::policy::case::{ProposedDelegation, Stage};
    use crate::policy::complaint::Category;
    use crate::policy::gate::ChangeRequest;
    use crate::policy::gate::Confirmations;
    use crate::policy::technical::SweepFacts;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const DAY: i64 = 86_400;

    use crate::policy::gate::tests::approved;

    fn member(id: &str, gov: Option<&str>, ttp: bool) -> Member {
        Member {
            id: id.into(),
            name: id.into(),
            appointed_by: "x".into(),
            government_of: gov.map(str::to_string),
            declares_no_involvement: ttp,
        }
    }

    fn gate(to: &str) -> Action {
        Action::Gate {
            request: Box::new(ChangeRequest {
                tld: crate::zone::Tld::parse("xa").unwrap(),
                submitted_by: "x".into(),
                on_behalf_of: to.into(),
                manager: Some(to.into()),
                ns: Some(vec![crate::zone::host::HostName::parse("ns1.xa").unwrap()]),
                glue: None,
                ds: None,
                admin_contact: Some(crate::policy::registry::ContactRecord {
                    name: "admin".into(),
                    organisation: to.into(),
                    country: "Examplia".into(),
                }),
                tech_contact: Some(crate::policy::registry::ContactRecord {
                    name: "tech".into(),
                    organisation: to.into(),
                    country: "Examplia".into(),
                }),
                confirmations: Confirmations::default(),
            }),
            precheck: Some(crate::policy::gate::Precheck {
                threat: None,
                summary: "verdict pass".into(),
            }),
        }
    }

    type Step = (&'static str, Role, Action);

    /// Every step of the ordinary path, in order, each one day apart.
    fn script() -> Vec<Step> {
        use Action::*;
        let op = |a: Action| ("op", Role::Operator, a);
        let redelegate = Outcome::Redelegate {
            to: "New NIC".into(),
        };
        let mut s: Vec<Step> = vec![
            (
                "citizen",
                Role::Public,
                ComplaintLodge {
                    tld: crate::zone::Tld::parse("xa").unwrap(),
                    category: Category::NonTechnical,
                    text: "t".into(),
                },
            ),
            op(ComplaintAssess {
                id: 1,
                serious: true,
                reason: "r".into(),
            }),
            op(ComplaintInform {
                id: 1,
                notice: "n".into(),
            }),
            op(ComplaintCureInstruction {
                id: 1,
                course: "c".into(),
                deadline: crate::time::Timestamp::parse("2026-01-03T00:00:00Z").unwrap(),
            }),
            (
                "old",
                Role::Manager,
                ComplaintNoMerit {
                    id: 1,
                    answer: "no".into(),
                },
            ),
            op(ComplaintFailureNotice {
                id: 1,
                notice: "n".into(),
            }),
            op(MediationOpen { id: 1 }),
            (
                "med",
                Role::Public,
                MediationSession {
                    id: 1,
                    record: "r".into(),
                    good_faith: true,
                    incumbent_position: "we disagree".into(),
                    complainant_position: "we are refused".into(),
                },
            ),
            op(MediationFail { id: 1 }),
            op(CaseOpen {
                tld: crate::zone::Tld::parse("xa").unwrap(),
                path: EntryPath::Proceedings { complaint: 1 },
            }),
        ];
        for (i, seat) in crate::policy::case::SEATS.iter().enumerate() {
            let gov = (*seat == Seat::Government).then_some("Examplia");
            let ttp = *seat == Seat::TrustedThirdParty;
            let mut m = member(&format!("p{i}"), gov, ttp);
            m.appointed_by = match seat {
                Seat::LocalInternetCommunity => "lic",
                Seat::Government => "gov",
                Seat::CctldConstituency => "ccnso",
                Seat::Manager => "old",
                _ => "op",
            }
            .into();
            s.push(op(CaseAppoint {
                id: 1,
                seat: *seat,
                member: m,
            }));
        }
        s.push(op(CasePriorRecord {
            id: 1,
            document: "d".into(),
        }));
        s.push(op(CaseEvidence {
            id: 1,
            party: Party::Incumbent,
            summary: "e".into(),
        }));
        s.push(op(CaseEvidence {
            id: 1,
            party: Party::Complainant,
            summary: "e".into(),
        }));
        for q in ["a", "b", "c", "d"] {
            s.push(op(CasePrinciple {
                id: 1,
                question: q.into(),
                answer: "no".into(),
            }));
        }
        for c in ["a", "b", "c", "d", "e", "e.1", "e.2", "e.3", "e.4"] {
            s.push(op(CaseCriterion {
                id: 1,
                criterion: c.into(),
                note: "n".into(),
            }));
        }
        for p in ["p0", "p1", "p2", "p3", "p4"] {
            s.push((
                p,
                Role::PanelMember,
                CaseVote {
                    id: 1,
                    outcome: redelegate.clone(),
                },
            ));
        }
        s.push(op(CaseDecide {
            id: 1,
            outcome: redelegate,
        }));
        s.push(op(CaseFinalize { id: 1 }));
        s.push(op(CaseApply {
            id: 1,
            application: Application {
                applicant: "New NIC".into(),
                admin_contact_country: "Examplia".into(),
                admin_contact: Some(crate::policy::registry::ContactRecord {
                    name: "admin".into(),
                    organisation: "New NIC".into(),
                    country: "Examplia".into(),
                }),
                tech_contact: Some(crate::policy::registry::ContactRecord {
                    name: "tech".into(),
                    organisation: "New NIC".into(),
                    country: "Examplia".into(),
                }),
                proposed: Some(ProposedDelegation {
                    ns: vec!["ns1.xa.".into()],
                    glue: BTreeMap::new(),
                    ds: vec![],
                }),
                technically_qualified: true,
                precheck: None,
                financial_backing: true,
                capacity: true,
            },
        }));
        s.push(op(CaseComment { id: 1, days: 30 }));
        s.push(op(CaseSelect {
            id: 1,
            applicant: "New NIC".into(),
        }));
        s.push(("new", Role::Manager, gate("New NIC")));
        s
    }

    fn seeded() -> World {
        let (w, _) = World::default()
            .apply(
                "op",
                Role::Operator,
                &Action::Import {
                    identities: ops(),
                    simulation: true,
                    delegations: vec![approved()],
                    policy: PolicyConfig::default(),
                    appeal_window_days: 30,
                    authenticity: None,
                },
                crate::time::Timestamp::from_second(0),
            )
            .unwrap();
        w
    }

    /// Runs steps; the clock jumps 40 days before the finalisation and the
    /// selection so that windows can pass. Returns the world and whether
    /// each gate was allowed.
    fn run(steps: &[Step]) -> (World, Vec<(String, bool)>, Vec<String>) {
        let mut w = seeded();
        let mut at = 0;
        let mut gates = Vec::new();
        let mut violations = Vec::new();
        for (actor, role, action) in steps {
            at += if matches!(
                action,
                Action::CaseFinalize { .. } | Action::CaseSelect { .. }
            ) {
                40 * DAY
            } else {
                DAY
            };
            if let Ok((next, result)) = w.apply(
                actor,
                *role,
                action,
                crate::time::Timestamp::from_second(at),
            ) {
                w = next;
                if let Action::Gate { request, .. } = action {
                    let allowed = result["decision"]["allowed"].as_bool().unwrap_or(false);
                    let to = request.manager.clone().unwrap_or_default();
                    if allowed
                        && !w
                            .cases
                            .values()
                            .any(|c| c.tld == "xa" && c.completed() == Some(Some(to.as_str())))
                    {
                        violations.push(format!(
                            "gate allowed {to} without a completed case selecting it"
                        ));
                    }
                    gates.push((to, allowed));
                }
                violations.extend(invariants(&w));
            }
        }
        (w, gates, violations)
    }

    /// What must hold of every completed redelegation.
    fn invariants(w: &World) -> Vec<String> {
        let mut v = Vec::new();
        for c in w.cases.values() {
            let Some(Some(manager)) = c.completed() else {
                continue;
            };
            let mut need = |ok: bool, what: &str| {
                if !ok {
                    v.push(format!(
                        "case {} completed for {manager} without {what}",
                        c.id
                    ));
                }
            };
            if let EntryPath::Proceedings { complaint } = &c.path {
                need(
                    w.complaints
                        .get(complaint)
                        .is_some_and(|x| x.mediation_failed()),
                    "failed mediation",
                );
                need(c.panel.len() == 7, "a full panel");
                need(c.prior_record.is_some(), "the prior record");
                need(c.evidence_from.len() == 2, "evidence from both sides");
                need(c.principles.len() == 4, "§6.2 answers");
                need(c.criteria.len() == 9, "§6.3.2 criteria");
                let fin = c.final_outcome.clone();
                need(
                    fin.as_ref().is_some_and(|o| o.redelegates()),
                    "a redelegating final decision",
                );
                need(
                    c.votes
                        .values()
                        .filter(|o| Some(*o) == fin.as_ref())
                        .count()
                        >= 5,
                    "5 of 7 votes",
                );
            }
            need(c.comment_closes.is_some(), "public comment");
            need(
                c.disqualifications(manager).is_empty(),
                "a qualified applicant",
            );
        }
        v
    }

    #[test]
    fn without_a_quorum_nothing_changes_and_a_suspension_needs_an_operator_in_time() {
        use crate::checks::{Family, ThreatKind};
        use crate::policy::quorum::{VantageWindow, WindowRecord};
        use crate::policy::technical::SweepFacts;
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("r.sqlite")).unwrap();
        l.submit(
            "op",
            Role::Operator,
            Timestamp::from_second(1),
            Action::Import {
                identities: ops(),
                simulation: true,
                delegations: vec![approved()],
                policy: PolicyConfig::default(),
                appeal_window_days: 30,
                authenticity: None,
            },
        )
        .unwrap();
        let window = |decided: bool| WindowRecord {
            quorum: 2,
            decided,
            vantages: [("rootguard", true), ("vb", decided), ("vc", false)]
                .into_iter()
                .map(|(v, reported)| {
                    (
                        v.to_string(),
                        VantageWindow {
                            at: reported.then(|| Timestamp::from_second(100)),
                            counted: decided && reported,
                            ..Default::default()
                        },
                    )
                })
                .collect(),
        };
        let mut down = SweepFacts {
            threat: Some(ThreatKind::TotalOutage),
            threat_detail: "[rootguard] silent; [vb] silent".into(),
            ..Default::default()
        };
        down.findings
            .insert(Family::Reachability, vec!["[rootguard] timeout".into()]);
        // K = 3 decided windows with the threat: suspended.
        for i in 0..3 {
            l.record_sweep(
                Timestamp::from_second(100 + 60 * i),
                false,
                vec![("xa".into(), down.clone())],
                Some(window(true)),
            )
            .unwrap();
        }
        assert!(l.world().technical["xa"].active_measure().is_some());
        let uphold = |l: &mut Ledger, at: i64| {
            l.submit(
                "op",
                Role::Operator,
                Timestamp::from_second(at),
                Action::SuspensionUphold {
                    tld: crate::zone::Tld::parse("xa").unwrap(),
                    reason: "the servers are still silent from our own network".into(),
                },
            )
        };
        let e = uphold(&mut l, 300).unwrap_err();
        assert!(e.to_string().contains("needs no review"), "{e}");
        // The quorum is lost: windows change nothing, for as long as it lasts.
        let lost_at = 400;
        for i in 0..30 {
            l.record_sweep(
                Timestamp::from_second(lost_at + 60 * i),
                true,
                Vec::new(),
                Some(window(false)),
            )
            .unwrap();
        }
        let w = l.world().clone();
        assert_eq!(w.quorum_lost_since, Some(Timestamp::from_second(lost_at)));
        assert!(
            w.technical["xa"].active_measure().is_some(),
            "not lifted without a quorum"
        );
        assert!(!w.review_due("xa", Timestamp::from_second(lost_at + 1799)));
        assert!(w.review_due("xa", Timestamp::from_second(lost_at + 1800)));
        let e = uphold(&mut l, lost_at + 1799).unwrap_err();
        assert!(e.to_string().contains("less than 1800 s"), "{e}");
        // A manager may not; an operator may, once due.
        let e = l
            .submit(
                "m",
                Role::Manager,
                Timestamp::from_second(lost_at + 2400),
                Action::SuspensionUphold {
                    tld: crate::zone::Tld::parse("xa").unwrap(),
                    reason: "mine".into(),
                },
            )
            .unwrap_err();
        assert!(e.to_string().contains("may not take"), "{e}");
        uphold(&mut l, lost_at + 2400).unwrap();
        assert!(
            !l.world()
                .review_due("xa", Timestamp::from_second(lost_at + 2401))
        );
        // A decided window ends the review and forgets the upholding.
        l.record_sweep(
            Timestamp::from_second(lost_at + 2460),
            false,
            vec![("xa".into(), down)],
            Some(window(true)),
        )
        .unwrap();
        assert_eq!(l.world().quorum_lost_since, None);
        assert!(l.world().upheld.is_empty());
        // The windows decide, but .xa is observed by fewer than the
        // quorum (a vantage leaves it out): not judged, nothing changes,
        // and after the same time its suspension needs an operator.
        let unjudged = SweepFacts {
            impaired: true,
            ..Default::default()
        };
        let from = lost_at + 2520;
        for i in 0..31 {
            l.record_sweep(
                Timestamp::from_second(from + 60 * i),
                false,
                vec![("xa".into(), unjudged.clone())],
                Some(window(true)),
            )
            .unwrap();
        }
        let w = l.world();
        assert_eq!(w.quorum_lost_since, None);
        assert!(
            w.technical["xa"].active_measure().is_some(),
            "not lifted unjudged"
        );
        assert_eq!(
            w.unjudged_since_for("xa"),
            Some(Timestamp::from_second(from))
        );
        assert!(w.review_due("xa", Timestamp::from_second(from + 1800)));
        // Replay gives the same state.
        let again = Ledger::open(&dir.path().join("r.sqlite")).unwrap();
        assert_eq!(again.world(), l.world());
    }

    #[test]
    fn roles_times_and_references_are_checked() {
        let w = seeded();
        let lodge = Action::ComplaintLodge {
            tld: crate::zone::Tld::parse("xa").unwrap(),
            category: Category::NonTechnical,
            text: "t".into(),
        };
        let (w, _) = w
            .apply(
                "citizen",
                Role::Public,
                &lodge,
                crate::time::Timestamp::from_second(10),
            )
            .unwrap();
        let assess = Action::ComplaintAssess {
            id: 1,
            serious: true,
            reason: "r".into(),
        };
        assert!(
            w.apply(
                "citizen",
                Role::Public,
                &assess,
                crate::time::Timestamp::from_second(11)
            )
            .unwrap_err()
            .reason
            .contains("public role")
        );
        assert!(
            w.apply(
                "op",
                Role::Operator,
                &assess,
                crate::time::Timestamp::from_second(5)
            )
            .unwrap_err()
            .reason
            .contains("backwards")
        );
        let other = Action::ComplaintAssess {
            id: 9,
            serious: true,
            reason: "r".into(),
        };
        assert!(
            w.apply(
                "op",
                Role::Operator,
                &other,
                crate::time::Timestamp::from_second(11)
            )
            .unwrap_err()
            .reason
            .contains("no complaint 9")
        );
        let unknown = Action::ComplaintLodge {
            tld: crate::zone::Tld::parse("zz").unwrap(),
            category: Category::Technical,
            text: "t".into(),
        };
        assert!(
            w.apply(
                "op",
                Role::Operator,
                &unknown,
                crate::time::Timestamp::from_second(11)
            )
            .unwrap_err()
            .reason
            .contains("zz is not a ccTLD")
        );
        let vote = Action::CaseVote {
            id: 1,
            outcome: Outcome::Retain,
        };
        assert!(
            w.apply(
                "p1",
                Role::Operator,
                &vote,
                crate::time::Timestamp::from_second(11)
            )
            .is_err(),
            "operators do not vote"
        );
        let import = Action::Import {
            identities: ops(),
            simulation: true,
            delegations: vec![],
            policy: PolicyConfig::default(),
            appeal_window_days: 30,
            authenticity: None,
        };
        assert!(
            w.apply(
                "op",
                Role::Operator,
                &import,
                crate::time::Timestamp::from_second(11)
            )
            .unwrap_err()
            .reason
            .contains("already seeded")
        );
        // Proceedings need the complaint of the same TLD, and one open case at a time.
        let case = Action::CaseOpen {
            tld: crate::zone::Tld::parse("xa").unwrap(),
            path: EntryPath::Relinquishment {
                consent: "letter".into(),
            },
        };
        // A relinquishment is the incumbent's own consent, never an operator's.
        assert!(
            w.apply(
                "op",
                Role::Operator,
                &case,
                crate::time::Timestamp::from_second(12)
            )
            .unwrap_err()
            .reason
            .contains("incumbent manager's own signed consent")
        );
        let (w2, _) = w
            .apply(
                "old",
                Role::Manager,
                &case,
                crate::time::Timestamp::from_second(12),
            )
            .unwrap();
        assert!(
            w2.apply(
                "old",
                Role::Manager,
                &case,
                crate::time::Timestamp::from_second(13)
            )
            .unwrap_err()
            .reason
            .contains("still open")
        );
    }

    #[test]
    fn steady_sweeps_are_counted_not_copied_and_replay_the_same() {
        use crate::checks::{Family, ThreatKind};
        use crate::policy::technical::SweepFacts;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sqlite");
        let mut l = Ledger::open(&path).unwrap();
        let mut b = approved();
        b.tld = "xb".into();
        l.submit(
            "op",
            Role::Operator,
            Timestamp::from_second(1),
            Action::Import {
                identities: ops(),
                simulation: true,
                delegations: vec![approved(), b],
                policy: PolicyConfig::default(),
                appeal_window_days: 30,
                authenticity: None,
            },
        )
        .unwrap();
        let facts = |tld: &str, finding: bool, threat: bool| {
            let mut f = SweepFacts::default();
            if finding {
                f.findings
                    .insert(Family::Service, vec![format!("EDNS {tld}: no OPT")]);
            }
            if threat {
                f.threat = Some(ThreatKind::TotalOutage);
                f.threat_detail = "silent".into();
            }
            (tld.to_string(), f)
        };
        let sweep = |l: &mut Ledger, i: i64, xa_threat: bool| {
            let obs = vec![facts("xa", true, xa_threat), facts("xb", false, false)];
            l.record_sweep(Timestamp::from_second(100 + 60 * i), false, obs, None)
                .unwrap()
        };
        // First sweep: both ccTLDs are new observations.
        let r = sweep(&mut l, 0, false);
        assert_eq!(
            r.iter()
                .map(|r| r.event.event.kind.as_str())
                .collect::<Vec<_>>(),
            ["sweep", "sweep", "sweep-round"]
        );
        // Second: nothing changed, but xa's finding persists (2 of K = 3):
        // one compact entry.
        let r = sweep(&mut l, 1, false);
        assert_eq!(r.len(), 1, "{r:?}");
        let bytes = r[0].event.event.payload.to_string().len();
        assert!(bytes < 300, "a steady round holds {bytes} bytes of payload");
        // Third: the finding reaches K: xa's complaint opens in its own event.
        let r = sweep(&mut l, 2, false);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(
            r[0].event
                .event
                .payload
                .to_string()
                .contains("complaint-opened")
        );
        assert_eq!(l.world().technical["xa"].tracks.len(), 1);
        // Steady again, then a threat (a change), then steady rounds.
        for i in 3..6 {
            sweep(&mut l, i, false);
        }
        sweep(&mut l, 6, true);
        for i in 7..12 {
            sweep(&mut l, i, true);
        }
        let live = l.world().clone();
        assert!(live.technical["xa"].active_measure().is_some(), "{live:?}");
        drop(l);
        let reopened = Ledger::open(&path).unwrap();
        assert_eq!(reopened.world(), &live, "replay equals the live state");
        // An impaired sweep changes nothing.
        let mut l = reopened;
        let before = l.world().technical.clone();
        let r = l
            .record_sweep(
                Timestamp::from_second(2000),
                true,
                vec![facts("xa", false, false), facts("xb", false, false)],
                None,
            )
            .unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(l.world().technical, before);
    }

    #[test]
    fn a_restart_loads_the_snapshot_and_applies_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("r.key");
        SigningKey::create(&key, "rootguard").unwrap();
        for path in crate::store::cluster::engines(dir.path(), "r.sqlite") {
            restart_loads_the_snapshot(&path, &key);
        }
    }

    fn restart_loads_the_snapshot(path: &Path, key: &Path) {
        let (path, key) = (path.to_path_buf(), key.to_path_buf());
        let mut l = Ledger::open_sealed(&path, Some(&key)).unwrap();
        l.submit(
            "op",
            Role::Operator,
            Timestamp::from_second(1),
            Action::Import {
                identities: ops(),
                simulation: true,
                delegations: vec![approved()],
                policy: PolicyConfig::default(),
                appeal_window_days: 30,
                authenticity: None,
            },
        )
        .unwrap();
        for i in 0..12 {
            l.submit(
                "citizen",
                Role::Public,
                Timestamp::from_second(10 + i),
                Action::ComplaintLodge {
                    tld: crate::zone::Tld::parse("xa").unwrap(),
                    category: Category::NonTechnical,
                    text: format!("complaint {i}"),
                },
            )
            .unwrap();
            l.snapshot_if_due(5).unwrap();
        }
        let live = l.world().clone();
        drop(l);
        let reopened = Ledger::open_sealed(&path, Some(&key)).unwrap();
        assert_eq!(reopened.snapshot, 10, "the latest snapshot was loaded");
        assert_eq!(reopened.world(), &live);
        // Without the guard's key no snapshot is trusted: the journal is
        // applied from the start, to the same state.
        let unsealed = Ledger::open(&path).unwrap();
        assert_eq!((unsealed.snapshot, unsealed.world()), (0, &live));
        // A snapshot whose state was edited (its root still matching) is
        // not signed for that state: it is not used.
        {
            let store = Store::open(&path).unwrap();
            let mut edited = live.clone();
            edited.approved.get_mut("xa").unwrap().manager = "Evil Corp".into();
            let forged = serde_json::to_string(&edited).unwrap();
            let snapshots = store.snapshots().unwrap();
            store
                .save_snapshot(snapshots[0].seq, &forged, &snapshots[0].note)
                .unwrap();
        }
        let reopened = Ledger::open_sealed(&path, Some(&key)).unwrap();
        assert_eq!(reopened.world(), &live, "the forged snapshot was used");
        assert_eq!(reopened.snapshot, 5, "the older signed snapshot was used");
        // Full replay agrees.
        let store = Store::open(&path).unwrap();
        let mut full = World::default();
        for e in store.events().unwrap() {
            replay(&mut full, &e).unwrap();
        }
        assert_eq!(full, live);
        // Only two snapshots are kept.
        assert_eq!(store.snapshots().unwrap().len(), 2);
    }

    #[test]
    fn an_event_of_an_older_term_after_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let Some(url) = crate::store::cluster::engines(dir.path(), "r.sqlite")
            .into_iter()
            .nth(1)
        else {
            return;
        };
        let lodge = |text: &str| Action::ComplaintLodge {
            tld: crate::zone::Tld::parse("xa").unwrap(),
            category: Category::NonTechnical,
            text: text.into(),
        };
        let mut a = Ledger::open(&url).unwrap();
        let import = Action::Import {
            identities: ops(),
            simulation: true,
            delegations: vec![approved()],
            policy: PolicyConfig::default(),
            appeal_window_days: 30,
            authenticity: None,
        };
        a.submit("op", Role::Operator, Timestamp::from_second(1), import)
            .unwrap();
        drop(a);
        // A second term writes; then someone with the database's password
        // sets the leader row's term back and writes in the old term.
        let mut b = Ledger::open(&url).unwrap();
        b.submit("x", Role::Public, Timestamp::from_second(2), lodge("new"))
            .unwrap();
        drop(b);
        let c = Store::open(&url).unwrap();
        c.execute_for_tests("UPDATE leader SET term = 1, expires = '-infinity'")
            .unwrap();
        drop(c);
        // A writer of term 1, the row saying so.
        let mut d = Ledger::open(&url).unwrap();
        let e = Store::open(&url).unwrap();
        e.execute_for_tests(
            "UPDATE leader SET term = 1, holder = 'old', expires = now() + interval '1 minute'",
        )
        .unwrap();
        d.store.set_writer(Some(crate::store::Writer {
            holder: "old".into(),
            term: 1,
        }));
        d.submit("x", Role::Public, Timestamp::from_second(3), lodge("old"))
            .unwrap();
        let Err(err) = Ledger::open(&url) else {
            panic!("an older term after a newer one is admitted");
        };
        let err = err.to_string();
        assert!(err.contains("is older than the term"), "{err}");
    }

    #[test]
    fn two_writers_on_one_record_decide_on_the_same_state() {
        let dir = tempfile::tempdir().unwrap();
        for path in crate::store::cluster::engines(dir.path(), "r.sqlite") {
            two_writers_decide_on_the_same_state(&path);
        }
    }

    fn two_writers_decide_on_the_same_state(path: &Path) {
        let path = path.to_path_buf();
        let mut a = Ledger::open(&path).unwrap();
        let import = Action::Import {
            identities: ops(),
            simulation: true,
            delegations: vec![approved()],
            policy: PolicyConfig::default(),
            appeal_window_days: 30,
            authenticity: None,
        };
        a.submit(
            "op",
            Role::Operator,
            crate::time::Timestamp::from_second(1),
            import,
        )
        .unwrap();
        let mut b = Ledger::open(&path).unwrap();
        let lodge = Action::ComplaintLodge {
            tld: crate::zone::Tld::parse("xa").unwrap(),
            category: Category::NonTechnical,
            text: "t".into(),
        };
        assert_eq!(
            a.submit(
                "x",
                Role::Public,
                crate::time::Timestamp::from_second(2),
                lodge.clone()
            )
            .unwrap()
            .result["complaint"],
            1
        );
        // b opened before a's complaint; it catches up under the write lock.
        assert_eq!(
            b.submit(
                "y",
                Role::Public,
                crate::time::Timestamp::from_second(3),
                lodge
            )
            .unwrap()
            .result["complaint"],
            2
        );
        let assess = Action::ComplaintAssess {
            id: 1,
            serious: true,
            reason: "r".into(),
        };
        b.submit(
            "op",
            Role::Operator,
            crate::time::Timestamp::from_second(4),
            assess.clone(),
        )
        .unwrap();
        // a has not seen the assessment: it is refused on the fresh state, not the stale one.
        let err = a
            .submit(
                "op",
                Role::Operator,
                crate::time::Timestamp::from_second(5),
                assess,
            )
            .unwrap_err();
        assert!(err.to_string().contains("Assessed"), "{err}");
        assert_eq!(a.world(), Ledger::open(&path).unwrap().world());
        assert!(a.store().verify().unwrap().first_bad.is_none());
    }

    #[test]
    fn the_full_script_completes_and_the_gate_allows_only_then() {
        let (w, gates, violations) = run(&script());
        assert!(violations.is_empty(), "{violations:?}");
        assert!(matches!(w.cases[&1].stage, Stage::Completed { .. }));
        assert_eq!(gates, vec![("New NIC".to_string(), true)]);
        assert_eq!(w.approved["xa"].manager, "New NIC");
    }

    /// A sequence of commands applied live: the script's steps (some
    /// left out), sweeps with random findings and threats, an identity
    /// registered and revoked; refused steps are simply refused.
    fn live(path: &Path, key: &Path, keep: &[bool], sweeps: &[(u8, bool, bool)]) -> World {
        use crate::checks::{Family, ThreatKind};
        let mut l = Ledger::open_sealed(path, Some(key)).unwrap();
        let mut b = approved();
        b.tld = "xb".into();
        l.submit(
            "op",
            Role::Operator,
            Timestamp::from_second(1),
            Action::Import {
                identities: ops(),
                simulation: true,
                delegations: vec![approved(), b],
                policy: PolicyConfig::default(),
                appeal_window_days: 30,
                authenticity: None,
            },
        )
        .unwrap();
        let mut at = 10;
        let mut sweeps = sweeps.iter();
        for (i, (actor, role, action)) in script().into_iter().enumerate() {
            at += if matches!(
                action,
                Action::CaseFinalize { .. } | Action::CaseSelect { .. }
            ) {
                40 * DAY
            } else {
                DAY
            };
            if !keep.get(i).copied().unwrap_or(true) {
                continue;
            }
            let _ = l.submit(actor, role, Timestamp::from_second(at), action);
            if let Some((what, xa_finding, xb_threat)) = sweeps.next() {
                let mut fa = SweepFacts::default();
                if *xa_finding {
                    fa.findings
                        .insert(Family::Service, vec!["EDNS xa: no OPT".into()]);
                }
                let mut fb = SweepFacts::default();
                if *xb_threat {
                    fb.threat = Some(ThreatKind::TotalOutage);
                    fb.threat_detail = "silent".into();
                }
                let obs = match what % 3 {
                    0 => vec![("xa".to_string(), fa), ("xb".to_string(), fb)],
                    1 => vec![("xb".to_string(), fb)],
                    _ => vec![("xa".to_string(), fa)],
                };
                at += 60;
                let _ = l.record_sweep(Timestamp::from_second(at), what % 7 == 6, obs, None);
            }
            if i == 5 {
                let (_, vkey) = signed_note::generate_key(&mut rand_core::OsRng, "m1");
                let reg = identity::Registration {
                    id: "m1".into(),
                    kind: Kind::Manager,
                    tlds: vec![crate::zone::Tld::parse("xa").unwrap()],
                    person: "M One".into(),
                    key: Some(vkey),
                    token_sha256: None,
                    body: None,
                    of: None,
                };
                at += 1;
                let _ = l.submit(
                    "op",
                    Role::Operator,
                    Timestamp::from_second(at),
                    Action::IdentityRegister { registration: reg },
                );
            }
            if i == 20 {
                at += 1;
                let _ = l.submit(
                    "op",
                    Role::Operator,
                    Timestamp::from_second(at),
                    Action::IdentityRevoke {
                        id: "m1".into(),
                        reason: "lost key".into(),
                    },
                );
            }
        }
        l.world().clone()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Applying the events of any accepted command sequence live and
        /// replaying the journal (from nothing, and from a snapshot) give
        /// identical state (docs/RULES.md#events-are-facts).
        #[test]
        fn live_and_replay_agree(
            keep in prop::collection::vec(prop::bool::weighted(0.85), 48),
            sweeps in prop::collection::vec((0u8..21, prop::bool::ANY, prop::bool::ANY), 0..48),
            snapshot_at in 0i64..40,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.sqlite");
            let key_file = dir.path().join("guard.key");
            let key = SigningKey::create(&key_file, "rootguard").unwrap();
            let world = live(&path, &key_file, &keep, &sweeps);
            let replayed = Ledger::open(&path).unwrap();
            prop_assert_eq!(replayed.world(), &world);
            // From a snapshot taken part way, then the tail.
            let store = Store::open(&path).unwrap();
            let events = store.events().unwrap();
            drop(store);
            let cut = (snapshot_at as usize).min(events.len());
            let mut partial = World::default();
            for e in &events[..cut] {
                replay(&mut partial, e).unwrap();
            }
            let store = Store::open(&path).unwrap();
            if cut > 0 {
                let seq = events[cut - 1].seq;
                let state = serde_json::to_string(&partial).unwrap();
                let root = store.root(seq as u64).unwrap();
                let note = key.sign_text(&snapshot_text(seq, &root, &state)).unwrap();
                store.save_snapshot(seq, &state, &note).unwrap();
            }
            drop(store);
            let from_snapshot = Ledger::open_sealed(&path, Some(&key_file)).unwrap();
            prop_assert_eq!(from_snapshot.snapshot, if cut > 0 { events[cut - 1].seq } else { 0 });
            prop_assert_eq!(from_snapshot.world(), &world);
        }
    }

    /// Replay applies what was recorded, never the rules of today: an
    /// event whose recorded change differs from what the rules would
    /// decide replays as recorded.
    #[test]
    fn replay_applies_the_recorded_change_and_never_decides_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sqlite");
        let mut l = Ledger::open(&path).unwrap();
        l.submit(
            "op",
            Role::Operator,
            Timestamp::from_second(1),
            Action::Import {
                identities: ops(),
                simulation: true,
                delegations: vec![approved()],
                policy: PolicyConfig::default(),
                appeal_window_days: 30,
                authenticity: None,
            },
        )
        .unwrap();
        let r = l
            .submit(
                "citizen",
                Role::Public,
                Timestamp::from_second(2),
                Action::ComplaintLodge {
                    tld: crate::zone::Tld::parse("xa").unwrap(),
                    category: Category::NonTechnical,
                    text: "t".into(),
                },
            )
            .unwrap();
        assert_eq!(term(&r.event), TERM);
        let change = r.event.event.payload["change"].clone();
        assert!(change["complaints"]["1"].is_object(), "{change}");
        // A journal whose complaint event records a change the rules of
        // this build would not make (another text) replays as recorded.
        let mut forged = r.event.event.clone();
        forged.payload["change"]["complaints"]["1"]["text"] = "as recorded".into();
        let mut w = World::default();
        for e in l.store().events().unwrap().iter().take(1) {
            replay(&mut w, e).unwrap();
        }
        let e = Event {
            seq: 2,
            event: forged,
            prev_hash: String::new(),
            hash: String::new(),
        };
        replay(&mut w, &e).unwrap();
        assert_eq!(w.complaints[&1].text, "as recorded");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Random omissions, swaps and premature gate requests never yield
        /// a completed redelegation without each required step, nor an
        /// allowed manager change without a completed case selecting it.
        #[test]
        fn no_shortcut_to_redelegation(
            keep in prop::collection::vec(prop::bool::weighted(0.93), 48),
            swaps in prop::collection::vec((0usize..48, 0usize..48), 0..4),
            gates in prop::collection::vec((0usize..48, prop::bool::ANY), 0..4),
        ) {
            let mut steps = script();
            let n = steps.len();
            for (a, b) in swaps {
                steps.swap(a % n, b % n);
            }
            let mut kept: Vec<Step> = steps.into_iter().zip(keep.iter().chain(std::iter::repeat(&true))).filter(|(_, k)| **k).map(|(s, _)| s).collect();
            for (pos, other) in gates {
                let to = if other { "Other NIC" } else { "New NIC" };
                let p = pos.min(kept.len());
                kept.insert(p, ("x", Role::Manager, gate(to)));
            }
            let (_, gates, violations) = run(&kept);
            prop_assert!(violations.is_empty(), "{:?}", violations);
            prop_assert!(gates.iter().all(|(to, allowed)| !allowed || to == "New NIC"));
        }
    }

    /// The actors of the governance property test: each registered
    /// identity with the role its kind gives, and two strangers.
    fn actors() -> Vec<(&'static str, Role)> {
        vec![
            ("op", Role::Operator),
            ("old", Role::Manager),
            ("med", Role::Public),
            ("p0", Role::PanelMember),
            ("p3", Role::PanelMember),
            ("citizen", Role::Public),
            ("stranger", Role::Public),
            ("x", Role::Manager),
        ]
    }

    /// A step of the governance property test: a script step (its actor
    /// possibly replaced), a sweep of .xa, an operator's suspension, a
    /// cure instruction with a random deadline, a foreign government's
    /// appointee, a gate request.
    #[derive(Clone, Debug)]
    enum Move {
        Script(usize, Option<usize>),
        Sweep(Option<crate::checks::ThreatKind>, bool),
        Impose(bool),
        Confirm,
        Lift,
        Cure(i64),
        Foreign(usize),
        Gate(bool),
    }

    fn a_move() -> impl Strategy<Value = Move> {
        use crate::checks::ThreatKind;
        let threat = prop_oneof![
            Just(None),
            Just(Some(ThreatKind::TotalOutage)),
            Just(Some(ThreatKind::DnssecBogus))
        ];
        prop_oneof![
            12 => (0usize..64, prop::option::weighted(0.25, 0usize..8)).prop_map(|(i, a)| Move::Script(i, a)),
            4 => (threat, prop::bool::ANY).prop_map(|(t, f)| Move::Sweep(t, f)),
            1 => prop::bool::ANY.prop_map(Move::Impose),
            1 => Just(Move::Confirm),
            1 => Just(Move::Lift),
            1 => (-40i64..60).prop_map(Move::Cure),
            1 => (0usize..7).prop_map(Move::Foreign),
            1 => prop::bool::ANY.prop_map(Move::Gate),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Random sequences of commands by random identities (the right
        /// ones and wrong ones) never produce an allowed redelegation
        /// without a completed, unused case whose incumbent is the current
        /// manager; a government seat filled by another territory's
        /// government; a failure-to-cure notice before a future deadline
        /// without a refusal; a suspension without a current threat
        /// persisting K sweeps (docs/RULES.md#gate-bound, #territories,
        /// #failure-to-cure, #suspension-persists).
        #[test]
        fn no_shortcut_by_anyone(moves in prop::collection::vec(a_move(), 0..160)) {
            use crate::policy::technical::{Measure, Suspension};
            let script = script();
            let actors = actors();
            let mut w = seeded();
            let mut at = 0i64;
            let mut sweep_n = 0u32;
            for m in &moves {
                at += DAY;
                let (actor, role, action): (&str, Role, Action) = match m {
                    Move::Script(i, who) => {
                        let (a, r, act) = script[i % script.len()].clone();
                        match who {
                            Some(k) => (actors[*k].0, actors[*k].1, act),
                            None => (a, r, act),
                        }
                    }
                    Move::Sweep(t, finding) => {
                        sweep_n += 1;
                        let mut f = SweepFacts {
                            at: crate::time::Timestamp::from_second(at),
                            threat: *t,
                            threat_detail: t.map(|t| format!("{t:?}")).unwrap_or_default(),
                            ..Default::default()
                        };
                        if *finding || t.is_some() {
                            f.findings.insert(crate::checks::Family::Reachability, vec!["ERROR REACH-UDP: timeout".into()]);
                        }
                        ("rootguard", Role::Guard, Action::Sweep { tld: "xa".into(), facts: f })
                    }
                    Move::Impose(hold) => ("op", Role::Operator, Action::SuspensionImpose {
                        tld: crate::zone::Tld::parse("xa").unwrap(),
                        measure: if *hold { Measure::HoldDelegation } else { Measure::WithholdDs },
                    }),
                    Move::Confirm => ("op", Role::Operator, Action::SuspensionConfirm { tld: crate::zone::Tld::parse("xa").unwrap() }),
                    Move::Lift => ("op", Role::Operator, Action::SuspensionLift { tld: crate::zone::Tld::parse("xa").unwrap(), reason: "early".into() }),
                    Move::Cure(days) => ("op", Role::Operator, Action::ComplaintCureInstruction {
                        id: 1,
                        course: "c".into(),
                        deadline: crate::time::Timestamp::from_second(at + days * DAY),
                    }),
                    Move::Foreign(seat) => {
                        let seat = crate::policy::case::SEATS[*seat];
                        let mut m = member("p6", Some("Otherland"), seat == Seat::TrustedThirdParty);
                        m.appointed_by = "gov-other".into();
                        ("op", Role::Operator, Action::CaseAppoint { id: 1, seat, member: m })
                    }
                    Move::Gate(other) => ("x", Role::Manager, gate(if *other { "Other NIC" } else { "New NIC" })),
                };
                let before = w.clone();
                let Ok((next, result)) = w.apply(actor, role, &action, crate::time::Timestamp::from_second(at)) else {
                    continue;
                };
                // Redelegations only through a completed, unused case about
                // the current manager.
                if let Action::Gate { request, .. } = &action
                    && result["decision"]["allowed"].as_bool() == Some(true)
                    && next.approved["xa"].manager != before.approved["xa"].manager
                {
                    let to = request.manager.clone().unwrap_or_default();
                    prop_assert!(before.cases.values().any(|c| c.completed() == Some(Some(to.as_str()))
                        && !c.implemented && c.incumbent == before.approved["xa"].manager),
                        "allowed {} without a completed unused case", to);
                }
                // The government seat only by the territory's own government.
                for c in next.cases.values() {
                    if let Some(g) = c.panel.get(&Seat::Government) {
                        prop_assert_eq!(g.government_of.as_deref(), Some("Examplia"));
                    }
                    for m in c.panel.values() {
                        prop_assert!(m.government_of.as_deref().is_none_or(|g| g == "Examplia"));
                    }
                }
                // No failure-to-cure notice before a future deadline
                // without the manager's refusal.
                for (id, c) in &next.complaints {
                    if c.stage == crate::policy::complaint::Stage::FailureToCureNoticed
                        && let Some(prev) = before.complaints.get(id)
                        && let crate::policy::complaint::Stage::CureInstructed { deadline, no_merit, .. } = &prev.stage
                    {
                        prop_assert!(no_merit.is_some() || at > deadline.as_second(), "notice before {deadline}");
                    }
                }
                // No suspension without a current threat persisting K sweeps.
                if let Some(t) = next.technical.get("xa")
                    && matches!(t.suspension, Suspension::Active { .. })
                    && !before.technical.get("xa").is_some_and(|b| matches!(b.suspension, Suspension::Active { .. }))
                {
                    prop_assert!(t.current_threat.is_some() && t.threat_sweeps >= next.settings.policy.persist_sweeps,
                        "suspension after {} threat sweeps", t.threat_sweeps);
                }
                w = next;
            }
            let _ = sweep_n;
        }
    }
}
