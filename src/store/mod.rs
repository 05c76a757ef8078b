//! The durable, append-only, tamper-evident record: one SQLite file (WAL,
//! `synchronous=FULL`) holding the journal of every state change. This is
//! the only module that touches SQL.
//!
//! Each event records who (actor and role), when, what (kind, subject,
//! JSON payload), the section of the rules applied, and the SHA-256 of the
//! previous event: a hash chain. Triggers refuse UPDATE and DELETE on the
//! journal; [`Store::verify`] detects any edit, deletion or reordering done
//! to the file behind rootguard's back and names the first bad event.
//! An event is acknowledged only once its transaction has committed, so an
//! acknowledged event survives `kill -9` and power loss.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("{file}: {context}: {source}")]
    Sqlite {
        /// The store file.
        file: PathBuf,
        /// What rootguard was doing.
        context: &'static str,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The file was written by a newer rootguard.
    #[error(
        "{file}: schema version {found} is newer than this rootguard knows ({known}); upgrade rootguard"
    )]
    TooNew {
        /// The store file.
        file: PathBuf,
        /// Version found.
        found: i64,
        /// Latest version known.
        known: i64,
    },
    /// A stored payload is not valid JSON.
    #[error("{file}: event {seq}: payload is not valid JSON: {message}")]
    Payload {
        /// The store file.
        file: PathBuf,
        /// Event sequence number.
        seq: i64,
        /// The JSON error.
        message: String,
    },
    /// Writing an export failed.
    #[error("writing the export: {0}")]
    Export(#[from] std::io::Error),
}

/// The schema migrations, in order; version N is the N-th entry.
const MIGRATIONS: &[&str] = &[
    // 1: the journal, append-only.
    "CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        section TEXT NOT NULL,
        payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX events_subject ON events(subject);
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;",
];

/// The hash that precedes the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to append.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// When (RFC 3339).
    pub at: String,
    /// Who: a user, or `rootguard` for the guard itself.
    pub actor: String,
    /// The actor's role (operator, manager, panel-member, public, guard).
    pub role: String,
    /// What happened, e.g. `complaint.lodged`.
    pub kind: String,
    /// What it concerns, e.g. `tld:xa` or `complaint:7`.
    pub subject: String,
    /// The rules applied, e.g. `docs/RULES.md#suspension; BP §4.3`.
    pub section: String,
    /// Details.
    pub payload: serde_json::Value,
}

/// An event as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Sequence number, 1, 2, 3, ... without gaps.
    pub seq: i64,
    /// The event.
    #[serde(flatten)]
    pub event: NewEvent,
    /// SHA-256 of the previous event (hex), [`GENESIS`] for the first.
    pub prev_hash: String,
    /// SHA-256 of this event (hex).
    pub hash: String,
}

/// The outcome of `rootguard audit verify`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditReport {
    /// Events read.
    pub events: i64,
    /// The first bad event and why, if any.
    pub first_bad: Option<BadEvent>,
    /// Hash of the last good event.
    pub head: String,
}

/// The first event that breaks the chain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BadEvent {
    /// Its sequence number (or the position where one is missing).
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

/// The hash of an event: SHA-256 over its fields, each length-prefixed.
pub fn event_hash(seq: i64, e: &NewEvent, prev_hash: &str) -> String {
    let payload = e.payload.to_string();
    let fields: [&[u8]; 9] = [
        &seq.to_be_bytes(),
        e.at.as_bytes(),
        e.actor.as_bytes(),
        e.role.as_bytes(),
        e.kind.as_bytes(),
        e.subject.as_bytes(),
        e.section.as_bytes(),
        payload.as_bytes(),
        prev_hash.as_bytes(),
    ];
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for f in fields {
        ctx.update(&(f.len() as u64).to_be_bytes());
        ctx.update(f);
    }
    hex::encode(ctx.finish())
}

/// Reads events with `sql` (selecting the ten event columns in order).
fn read_events<P: rusqlite::Params>(
    conn: &Connection,
    file: &Path,
    sql: &str,
    p: P,
) -> Result<Vec<Event>, StoreError> {
    let err = |source| StoreError::Sqlite {
        file: file.to_path_buf(),
        context: "reading the journal",
        source,
    };
    let mut stmt = conn.prepare(sql).map_err(err)?;
    let rows = stmt
        .query_map(p, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, String>(9)?,
            ))
        })
        .map_err(err)?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, actor, role, kind, subject, section, payload, prev_hash, hash) =
            row.map_err(err)?;
        let payload = serde_json::from_str(&payload).map_err(|e| StoreError::Payload {
            file: file.to_path_buf(),
            seq,
            message: e.to_string(),
        })?;
        out.push(Event {
            seq,
            event: NewEvent {
                at,
                actor,
                role,
                kind,
                subject,
                section,
                payload,
            },
            prev_hash,
            hash,
        });
    }
    Ok(out)
}

/// The store.
pub struct Store {
    conn: Connection,
    file: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("file", &self.file).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store file and applies migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let file = path.to_path_buf();
        let err = |context: &'static str| {
            let file = file.clone();
            move |source| StoreError::Sqlite {
                file: file.clone(),
                context,
                source,
            }
        };
        let mut conn = Connection::open(path).map_err(err("opening"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err("setting WAL mode"))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err("setting synchronous=FULL"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err("setting the busy timeout"))?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err("reading the schema version"))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                file,
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Exclusive)
                .map_err(err("starting a migration"))?;
            tx.execute_batch(sql).map_err(err("migrating the schema"))?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(err("recording the schema version"))?;
            tx.commit().map_err(err("committing a migration"))?;
        }
        Ok(Store { conn, file })
    }

    fn err(&self, context: &'static str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            file: self.file.clone(),
            context,
            source,
        }
    }

    /// Appends an event; returns it once durably committed.
    pub fn append(&mut self, event: NewEvent) -> Result<Event, StoreError> {
        let appended: Result<Event, std::convert::Infallible> =
            self.append_after(i64::MAX, |_| Ok(event))?;
        Ok(appended.unwrap_or_else(|never| match never {}))
    }

    /// Appends one event decided under the write lock: `decide` receives
    /// the events appended after `seen` (by this or another process) and
    /// returns the event to append, or an error, in which case nothing is
    /// written. This is how several writers on one file stay consistent.
    pub fn append_after<E>(
        &mut self,
        seen: i64,
        decide: impl FnOnce(Vec<Event>) -> Result<NewEvent, E>,
    ) -> Result<Result<Event, E>, StoreError> {
        let file = self.file.clone();
        let err = |context: &'static str| {
            let file = file.clone();
            move |source| StoreError::Sqlite {
                file: file.clone(),
                context,
                source,
            }
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("starting an append"))?;
        let fresh = if seen == i64::MAX {
            Vec::new()
        } else {
            read_events(
                &tx,
                &self.file,
                "SELECT seq, at, actor, role, kind, subject, section, payload, prev_hash, hash FROM events WHERE seq > ?1 ORDER BY seq",
                [seen],
            )?
        };
        let event = match decide(fresh) {
            Ok(e) => e,
            Err(e) => return Ok(Err(e)),
        };
        let last: Option<(i64, String)> = tx
            .query_row(
                "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(err("reading the chain head"))?;
        let (seq, prev_hash) = match last {
            Some((s, h)) => (s + 1, h),
            None => (1, GENESIS.to_string()),
        };
        let hash = event_hash(seq, &event, &prev_hash);
        tx.execute(
            "INSERT INTO events (seq, at, actor, role, kind, subject, section, payload, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                seq,
                event.at,
                event.actor,
                event.role,
                event.kind,
                event.subject,
                event.section,
                event.payload.to_string(),
                prev_hash,
                hash
            ],
        )
        .map_err(err("appending an event"))?;
        tx.commit().map_err(err("committing an event"))?;
        Ok(Ok(Event {
            seq,
            event,
            prev_hash,
            hash,
        }))
    }

    /// Every event in sequence order.
    pub fn events(&self) -> Result<Vec<Event>, StoreError> {
        self.query_events("SELECT seq, at, actor, role, kind, subject, section, payload, prev_hash, hash FROM events ORDER BY seq", [])
    }

    /// The events concerning `subject`, in sequence order.
    pub fn events_for(&self, subject: &str) -> Result<Vec<Event>, StoreError> {
        self.query_events(
            "SELECT seq, at, actor, role, kind, subject, section, payload, prev_hash, hash FROM events WHERE subject = ?1 ORDER BY seq",
            [subject],
        )
    }

    fn query_events<P: rusqlite::Params>(&self, sql: &str, p: P) -> Result<Vec<Event>, StoreError> {
        read_events(&self.conn, &self.file, sql, p)
    }

    /// Checks the whole chain: contiguous sequence numbers, each event's
    /// link to its predecessor, each event's own hash.
    pub fn verify(&self) -> Result<AuditReport, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, at, actor, role, kind, subject, section, payload, prev_hash, hash FROM events ORDER BY rowid")
            .map_err(self.err("reading the journal"))?;
        let mut rows = stmt.query([]).map_err(self.err("reading the journal"))?;
        let mut expected_seq = 1;
        let mut prev = GENESIS.to_string();
        let mut count = 0;
        while let Some(r) = rows.next().map_err(self.err("reading the journal"))? {
            let seq: i64 = r.get(0).map_err(self.err("reading the journal"))?;
            let get = |i| r.get::<_, String>(i);
            let fields: Result<Vec<String>, _> = (1..10).map(get).collect();
            let f = fields.map_err(self.err("reading the journal"))?;
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
            let found: Option<i64> = self
                .conn
                .query_row("SELECT seq FROM events WHERE hash = ?1", [&head], |r| {
                    r.get(0)
                })
                .optional()
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

    /// Writes the journal as JSON lines, one event a line.
    pub fn export(&self, out: &mut impl Write) -> Result<i64, StoreError> {
        let events = self.events()?;
        for e in &events {
            serde_json::to_writer(&mut *out, e).map_err(std::io::Error::other)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        Ok(events.len() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str) -> NewEvent {
        NewEvent {
            at: "2026-11-23T10:00:00Z".into(),
            actor: "op1".into(),
            role: "operator".into(),
            kind: kind.into(),
            subject: "tld:xa".into(),
            section: "BP §4.1".into(),
            payload: serde_json::json!({"n": kind.len()}),
        }
    }

    #[test]
    fn appends_chain_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let mut s = Store::open(&path).unwrap();
        let a = s.append(ev("a")).unwrap();
        let b = s.append(ev("bb")).unwrap();
        assert_eq!((a.seq, b.seq), (1, 2));
        assert_eq!(a.prev_hash, GENESIS);
        assert_eq!(b.prev_hash, a.hash);
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.events().unwrap().len(), 2);
        assert_eq!(s.events_for("tld:xa").unwrap().len(), 2);
        let r = s.verify().unwrap();
        assert_eq!(r.events, 2);
        assert!(r.first_bad.is_none());
        let mut out = Vec::new();
        assert_eq!(s.export(&mut out).unwrap(), 2);
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }

    #[test]
    fn updates_and_deletes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.sqlite")).unwrap();
        s.append(ev("a")).unwrap();
        let e = s
            .conn
            .execute("UPDATE events SET actor = 'x'", [])
            .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        let e = s.conn.execute("DELETE FROM events", []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
    }

    fn tampered(sql: &str) -> AuditReport {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let mut s = Store::open(&path).unwrap();
        for k in ["a", "b", "c", "d"] {
            s.append(ev(k)).unwrap();
        }
        s.conn
            .execute_batch(&format!(
                "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; {sql}"
            ))
            .unwrap();
        s.verify().unwrap()
    }

    #[test]
    fn edits_deletions_and_reorderings_are_detected() {
        let r = tampered("UPDATE events SET actor = 'mallory' WHERE seq = 3;");
        assert_eq!(r.first_bad.as_ref().unwrap().seq, 3);
        assert!(r.first_bad.unwrap().reason.contains("edited"));
        let r = tampered("DELETE FROM events WHERE seq = 2;");
        assert_eq!(r.first_bad.as_ref().unwrap().seq, 3);
        assert!(r.first_bad.unwrap().reason.contains("event 2 is missing"));
        let r = tampered(
            "UPDATE events SET seq = 10 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = 10;",
        );
        let bad = r.first_bad.unwrap();
        assert_eq!(bad.seq, 2);
        // Deleting the last event leaves a valid, shorter chain...
        let r = tampered("DELETE FROM events WHERE seq = 4;");
        assert!(r.first_bad.is_none());
        assert_eq!(r.events, 3);
    }

    #[test]
    fn a_kept_head_reveals_removal_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.sqlite")).unwrap();
        for k in ["a", "b", "c"] {
            s.append(ev(k)).unwrap();
        }
        let head = s.verify().unwrap().head;
        assert!(s.verify_with_head(Some(&head)).unwrap().first_bad.is_none());
        s.conn
            .execute_batch("DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 3;")
            .unwrap();
        let r = s.verify_with_head(Some(&head)).unwrap();
        assert!(r.first_bad.unwrap().reason.contains("removed from the end"));
    }
}
