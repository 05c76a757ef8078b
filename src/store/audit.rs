//! Verifying the journal (`rootguard audit verify`): the hash chain, an
//! outside head hash, and a checkpoint kept elsewhere with every event's
//! seal (`docs/RULES.md#checkpoints`).

use super::checkpoint;
use super::db::{RowExt, Value};

use super::{
    AuditReport, BadEvent, Event, GENESIS, MemoryHashes, NewEvent, Store, StoreError, event_hash,
};

/// The head `note` commits to when `vkey` or one of `others` (the
/// record's other guard keys, before or after a rotation) signed it.
fn verify_any(note: &str, vkey: &str, others: &[String]) -> Option<checkpoint::SignedHead> {
    std::iter::once(vkey)
        .chain(others.iter().map(String::as_str))
        .find_map(|k| checkpoint::verify(note, k).ok())
}

impl Store {
    /// Checks the whole chain: contiguous sequence numbers, each event's
    /// link to its predecessor, each event's own hash.
    pub fn verify(&self) -> Result<AuditReport, StoreError> {
        let mut expected_seq = 1;
        let mut prev = GENESIS.to_string();
        let mut count = 0;
        // In chunks by position (bounded memory).
        let mut after = i64::MIN;
        loop {
            let rows = self
                .db
                .query(
                    "SELECT seq, at, actor, role, kind, subject, section, payload, prev_hash, hash FROM events WHERE seq > ?1 ORDER BY seq LIMIT 20000",
                    &[Value::Int(after)],
                )
                .map_err(self.err("reading the journal"))?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let seq = r.int(0).map_err(self.err("reading the journal"))?;
                after = seq;
                let f: Vec<String> = (1..10)
                    .map(|i| r.text(i))
                    .collect::<Result<_, _>>()
                    .map_err(self.err("reading the journal"))?;
                let bad = |reason: String| AuditReport {
                    events: count,
                    first_bad: Some(BadEvent { seq, reason }),
                    head: prev.clone(),
                };
                if seq != expected_seq {
                    let reason = if seq > expected_seq {
                        format!("event {expected_seq} is missing (deleted?): found {seq} next")
                    } else {
                        format!("event {seq} is out of order: expected {expected_seq}")
                    };
                    return Ok(bad(reason));
                }
                if f[7] != prev {
                    return Ok(bad(format!(
                        "its previous-hash {} does not match event {}'s hash {prev} (reordered or a predecessor edited)",
                        f[7],
                        seq - 1
                    )));
                }
                let payload: serde_json::Value = match serde_json::from_str(&f[6]) {
                    Ok(v) => v,
                    Err(e) => return Ok(bad(format!("payload is not valid JSON: {e}"))),
                };
                let e = NewEvent {
                    at: f[0].clone(),
                    actor: f[1].clone(),
                    role: f[2].clone(),
                    kind: f[3].clone(),
                    subject: f[4].clone(),
                    section: f[5].clone(),
                    payload,
                };
                let computed = event_hash(seq, &e, &prev);
                if computed != f[8] {
                    return Ok(bad(format!(
                        "content does not match its hash (edited): stored {}, computed {computed}",
                        f[8]
                    )));
                }
                prev = f[8].clone();
                expected_seq += 1;
                count += 1;
            }
        }
        Ok(AuditReport {
            events: count,
            first_bad: None,
            head: prev,
        })
    }

    /// Like [`Store::verify`], and also checks that the chain still holds
    /// an event whose hash is `expected_head` (kept from an earlier
    /// verification): events removed from the end of the journal leave a
    /// valid but shorter chain, which only such an outside anchor reveals.
    pub fn verify_with_head(&self, expected_head: Option<&str>) -> Result<AuditReport, StoreError> {
        let mut report = self.verify()?;
        if let (None, Some(head)) = (&report.first_bad, expected_head) {
            let head = head.to_ascii_lowercase();
            let found = self
                .db
                .query_opt(
                    "SELECT seq FROM events WHERE hash = ?1",
                    &[Value::Text(head.clone())],
                )
                .map_err(self.err("reading the journal"))?;
            if found.is_none() {
                report.first_bad = Some(BadEvent {
                    seq: report.events + 1,
                    reason: format!(
                        "the expected head {head} is not in the chain: events were removed from the end (the chain now ends at event {})",
                        report.events
                    ),
                });
            }
        }
        Ok(report)
    }

    /// Verifies the journal against a checkpoint kept outside the store
    /// (`docs/RULES.md#checkpoints`): the checkpoint is signed by the
    /// guard's key `vkey`; the journal, re-hashed from its stored bytes
    /// (the stored tree is not trusted), still has the tree the checkpoint
    /// commits to as its prefix; the stored tree and every stored
    /// checkpoint agree with it; and every chunk of events (in order) is
    /// accepted by `accept`
    /// (the guard's seal: `ledger::sealed_by`).
    pub fn verify_checkpoint(
        &self,
        note: &str,
        vkey: &str,
        others: &[String],
        mut accept: impl FnMut(&[Event]) -> Result<(), (i64, String)>,
    ) -> Result<AuditReport, StoreError> {
        let mut report = self.verify()?;
        if report.first_bad.is_some() {
            return Ok(report);
        }
        let fail = |report: &mut AuditReport, seq: i64, reason: String| {
            report.first_bad = Some(BadEvent { seq, reason });
        };
        let head = match checkpoint::verify(note, vkey) {
            Ok(h) => h,
            Err(e) => {
                fail(&mut report, 0, format!("the checkpoint given: {e}"));
                return Ok(report);
            }
        };
        // The tree from the journal's stored bytes alone.
        let mut tree = MemoryHashes(Vec::new());
        for (seq, leaf) in self.leaves()? {
            tree.push(&leaf).map_err(|e| self.tree_error(e))?;
            debug_assert_eq!(tree.records(), seq as u64);
        }
        let size = tree.records();
        if size < head.size {
            fail(
                &mut report,
                size as i64 + 1,
                format!(
                    "the checkpoint commits to {} events and the journal has {size}: events were removed from the end",
                    head.size
                ),
            );
            return Ok(report);
        }
        let root = |n: u64| tlog_tiles::tree_hash(n, &tree).map(|h| h.0);
        if root(head.size).map_err(|e| self.tree_error(e))? != head.root {
            // Narrow down with the store's own checkpoints that still
            // verify and match.
            let mut good = 0;
            for c in self.checkpoints()? {
                if let Some(h) = verify_any(&c.note, vkey, others)
                    && h.size <= head.size
                    && root(h.size).ok() == Some(h.root)
                {
                    good = good.max(h.size);
                }
            }
            fail(
                &mut report,
                good as i64 + 1,
                format!(
                    "the journal's first {} events do not hash to the checkpoint's root: the journal was rewritten at or after event {} (and up to event {})",
                    head.size,
                    good + 1,
                    head.size
                ),
            );
            return Ok(report);
        }
        let stored = self.stored_hashes()?;
        if stored.len() != tree.0.len() || stored.iter().zip(&tree.0).any(|(a, b)| *a != b.0) {
            fail(
                &mut report,
                0,
                "the stored Merkle tree does not match the journal: the tree table was edited"
                    .into(),
            );
            return Ok(report);
        }
        let mut latest_signed = head.size;
        for c in self.checkpoints()? {
            match verify_any(&c.note, vkey, others).ok_or_else(|| {
                checkpoint::verify(&c.note, vkey)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            }) {
                Ok(h)
                    if h.size == c.size && h.size <= size && root(h.size).ok() == Some(h.root) =>
                {
                    latest_signed = latest_signed.max(h.size);
                }
                Ok(_) => {
                    fail(
                        &mut report,
                        c.size as i64,
                        format!(
                            "the kept checkpoint of size {} does not match the journal",
                            c.size
                        ),
                    );
                    return Ok(report);
                }
                Err(e) => {
                    fail(
                        &mut report,
                        c.size as i64,
                        format!(
                            "the kept checkpoint of size {} is not the guard's: {e}",
                            c.size
                        ),
                    );
                    return Ok(report);
                }
            }
        }
        // Every event must be the guard's: sealed with its key (an event
        // appended by someone who can write the store but does not hold
        // the key is not, wherever it sits, even under a checkpoint the
        // guard signed later).
        // Read in chunks (bounded memory); `accept` may check a chunk in
        // parallel and names the first event it refuses.
        let _ = latest_signed;
        let mut after = 0i64;
        loop {
            let chunk = self.query_events(
                "SELECT seq, at, actor, role, kind, subject, section, payload, prev_hash, hash FROM events WHERE seq > ?1 ORDER BY seq LIMIT 20000",
                &[Value::Int(after)],
            )?;
            let Some(last) = chunk.last() else {
                break;
            };
            after = last.seq;
            if let Err((seq, reason)) = accept(&chunk) {
                let kind = chunk
                    .iter()
                    .find(|e| e.seq == seq)
                    .map(|e| e.event.kind.clone())
                    .unwrap_or_default();
                fail(&mut report, seq, format!("event {seq} ({kind}): {reason}"));
                return Ok(report);
            }
        }
        Ok(report)
    }
}
