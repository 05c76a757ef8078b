//! The guard's seals (`docs/RULES.md#checkpoints`): every event it
//! records carries its signature bound to the event's place in the chain,
//! and every snapshot of the state its signature over that state. What
//! someone without the key wrote is never applied nor trusted.

use std::path::Path;
use std::sync::Arc;

use super::{LedgerError, command};
use crate::store::checkpoint::SigningKey;
use crate::store::{Event, StoredSnapshot};

/// Whether event `e` carries the seal of the guard's key `vkey`: every
/// event of this format written by a holder of the key does; one appended
/// by anybody else (who can write the store file but not read the key)
/// does not (`docs/RULES.md#checkpoints`). Events of the formats before
/// events were facts are covered by the migration instead.
pub fn sealed_by(e: &Event, vkey: &str) -> bool {
    if e.event.payload.get("term").is_none() {
        return true;
    }
    let (hash, seal) = crate::store::unsealed(e.seq, &e.event, &e.prev_hash);
    seal.is_some_and(|s| crate::store::checkpoint::seal_verifies(vkey, &hash, &s))
}

/// Whether `e`, read in journal order, is the guard's: sealed by `vkey`,
/// or of an older format only before any event of this one
/// (`facts_seen` tracks that). Says why not.
pub fn acceptable(e: &Event, vkey: &str, facts_seen: &mut bool) -> Result<(), String> {
    let fact = e.event.payload.get("term").is_some();
    if !fact && *facts_seen {
        return Err(
            "an event of an older format after events of this one: not written by rootguard".into(),
        );
    }
    *facts_seen |= fact;
    if sealed_by(e, vkey) {
        Ok(())
    } else {
        Err("not sealed by the guard's key: appended without the guard's key".into())
    }
}

/// The guard's keys of a record and the first event each seals: the key
/// the import (or a migration) registered, then each rotation's new key
/// from the event after the rotation (the rotation itself is sealed by the
/// old key).
pub fn guard_keys(store: &crate::store::Store) -> Result<Vec<(i64, String)>, LedgerError> {
    let mut chain = Vec::new();
    for e in store.events_of_kinds(&["import", "record-migrated", "guard-key-rotated"])? {
        if e.event.kind == "guard-key-rotated" {
            if let Some(k) = e.event.payload["action"]["key"].as_str() {
                chain.push((e.seq + 1, k.to_string()));
            }
        } else if chain.is_empty()
            && let Some(k) = expected_key(&super::World::default(), &e, None)
        {
            // Only the first import or migration anchors the chain: a later
            // one naming another key is sealed by the key then in force, or
            // it is not the guard's (a forged "migration" cannot bring its
            // own key).
            chain.push((e.seq, k));
        }
    }
    Ok(chain)
}

/// The key of `chain` in force at event `seq`.
fn key_at(chain: &[(i64, String)], seq: i64) -> Option<&str> {
    chain
        .iter()
        .rev()
        .find(|(from, _)| *from <= seq)
        .map(|(_, k)| k.as_str())
}

/// Checks a chunk of consecutive events: the order of formats in
/// sequence, each event's seal by the guard key in force (`chain`, from
/// [`guard_keys`]) in parallel on every core. Returns the first event
/// refused and why.
pub fn accept_chunk(
    chunk: &[Event],
    chain: &[(i64, String)],
    facts_seen: &mut bool,
    last_term: &mut u64,
) -> Result<(), (i64, String)> {
    use rayon::prelude::*;
    for e in chunk {
        let fact = e.event.payload.get("term").is_some();
        if !fact && *facts_seen {
            return Err((
                e.seq,
                "an event of an older format after events of this one: not written by rootguard"
                    .into(),
            ));
        }
        let term = super::term(e);
        if fact && term < *last_term {
            return Err((
                e.seq,
                format!(
                    "its term {term} is older than the term {last_term} of an event before it: a deposed leader's event (docs/RULES.md#replication)"
                ),
            ));
        }
        *last_term = (*last_term).max(term);
        *facts_seen |= fact;
    }
    let bad = |e: &&Event| {
        e.event.payload.get("term").is_some()
            && !key_at(chain, e.seq).is_some_and(|k| sealed_by(e, k))
    };
    match chunk.par_iter().find_first(bad) {
        Some(e) => Err((
            e.seq,
            "not sealed by the guard's key: appended without the guard's key".into(),
        )),
        None => Ok(()),
    }
}

/// The key that must have sealed `e`, given the state before it: the
/// guard key the state records; before there is one, the guard key the
/// event itself registers (the import, a migration), which the key file
/// then anchors; otherwise the key file's (`file`).
pub(super) fn expected_key(world: &super::World, e: &Event, file: Option<&str>) -> Option<String> {
    if let Some(k) = world.guard_key() {
        return Some(k.to_string());
    }
    let change = &e.event.payload["change"];
    for identities in [&change["identities"], &change["reset"]["identities"]] {
        if let Some(map) = identities.as_object() {
            for i in map.values() {
                if i["kind"] == "guard"
                    && let Some(k) = i["key"].as_str()
                {
                    return Some(k.to_string());
                }
            }
        }
    }
    file.map(str::to_string)
}

/// What the reader has verified so far: the hash of the last event
/// admitted, and whether events of this format were seen.
#[derive(Clone, Debug)]
pub(super) struct Admitted {
    /// Hash of the last event admitted.
    pub last_hash: String,
    /// Whether an event of this format was admitted.
    pub facts_seen: bool,
    /// The term of the last event admitted (terms never go back:
    /// `docs/RULES.md#replication`).
    pub last_term: u64,
}

/// Admits the next journal event before it is applied: it links to the
/// last one admitted (its `prev_hash`, its own hash recomputed), it is
/// sealed by the guard key in force (`expected_key`; the key file, when
/// read, only anchors the first), and no older-format event follows this
/// format's. Refuses anything else: the record is not the guard's.
pub(super) fn admit(
    world: &super::World,
    seen: &mut Admitted,
    e: &Event,
    file: Option<&str>,
) -> Result<(), LedgerError> {
    let fail = |reason: String| LedgerError::Replay {
        seq: e.seq,
        kind: e.event.kind.clone(),
        reason,
    };
    if e.prev_hash != seen.last_hash
        || crate::store::event_hash(e.seq, &e.event, &e.prev_hash) != e.hash
    {
        return Err(fail(
            "it does not link to the event before it: the journal was edited or spliced (docs/RULES.md#append-only)".into(),
        ));
    }
    let fact = e.event.payload.get("term").is_some();
    if !fact && seen.facts_seen {
        return Err(fail(
            "an event of an older format after events of this one: not written by rootguard".into(),
        ));
    }
    check_seal(e, expected_key(world, e, file).as_deref())?;
    let term = super::term(e);
    if fact && term < seen.last_term {
        return Err(fail(format!(
            "its term {term} is older than the term {} of an event before it: a deposed leader's event (docs/RULES.md#replication)",
            seen.last_term
        )));
    }
    seen.facts_seen |= fact;
    seen.last_term = seen.last_term.max(term);
    seen.last_hash = e.hash.clone();
    Ok(())
}

/// Refuses a journal that does not extend the last checkpoint the guard's
/// key signed (kept beside the key): a cut or rolled-back journal is
/// neither read nor written (`docs/RULES.md#checkpoints`).
pub(super) fn check_head(
    store: &crate::store::Store,
    key: Option<&SigningKey>,
) -> Result<(), LedgerError> {
    let Some(key) = key else {
        return Ok(());
    };
    let Some(head) = key.last_head()? else {
        return Ok(());
    };
    let size = store.size()?;
    let root = (head.size <= size)
        .then(|| store.root(head.size))
        .transpose()?;
    if root != Some(head.root) {
        return Err(LedgerError::Replay {
            seq: size as i64,
            kind: "journal".into(),
            reason: format!(
                "the journal ({size} events) does not extend the last checkpoint the guard signed ({} events): it was cut or rewritten; nothing is read or written (docs/RULES.md#checkpoints)",
                head.size
            ),
        });
    }
    Ok(())
}

/// Refuses an event not sealed by the guard's key `vkey`.
pub(super) fn check_seal(e: &Event, vkey: Option<&str>) -> Result<(), LedgerError> {
    match vkey {
        Some(v) if !sealed_by(e, v) => Err(LedgerError::Replay {
            seq: e.seq,
            kind: e.event.kind.clone(),
            reason: "it is not sealed by the guard's key: it was written by someone who can write the store but does not hold the key (docs/RULES.md#checkpoints)".into(),
        }),
        _ => Ok(()),
    }
}

/// The text the guard signs for a snapshot: the event it reflects, the
/// tree root there and the SHA-256 of the state.
pub(super) fn snapshot_text(seq: i64, root: &[u8; 32], state: &str) -> String {
    format!(
        "rootguard-snapshot/v1\n{seq}\n{}\n{}\n",
        hex::encode(root),
        command::sha256_hex(state.as_bytes())
    )
}

/// Whether `note` is the guard's (`vkey`) signature over the snapshot.
pub(super) fn snapshot_signed(s: &StoredSnapshot, vkey: &str) -> bool {
    let Ok(verifier) = signed_note::StandardVerifier::new(vkey) else {
        return false;
    };
    let Ok(note) = signed_note::Note::from_bytes(s.note.as_bytes()) else {
        return false;
    };
    let list = signed_note::VerifierList::new(vec![Box::new(verifier)]);
    note.verify(&list).is_ok() && note.text() == snapshot_text(s.seq, &s.root, &s.state).as_bytes()
}

/// The guard's key at `file`, when the file exists.
pub(super) fn load_key(file: Option<&Path>) -> Result<Option<Arc<SigningKey>>, LedgerError> {
    match file {
        Some(f) if f.exists() => match SigningKey::load(f) {
            Ok(k) => Ok(Some(std::sync::Arc::new(k))),
            Err(e) => {
                tracing::warn!(
                    "{e}: snapshots are not trusted; the journal is applied from the start"
                );
                Ok(None)
            }
        },
        _ => Ok(None),
    }
}

/// The store's sealer with the guard's key.
pub(super) fn sealer(key: Arc<SigningKey>) -> crate::store::Sealer {
    Box::new(move |hash: &str| key.seal(hash).map_err(|e| e.to_string()))
}
