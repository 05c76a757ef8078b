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

mod audit;
pub mod checkpoint;
pub mod cluster;
pub mod db;
pub mod lease;
pub mod pg;

use db::{Db, RowExt, Value};
pub use db::{Engine, SqlError};

use std::io::Write;
use std::path::{Path, PathBuf};

use tlog_tiles::{Hash, HashReader};

use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("{file}: {context}: {source}")]
    Db {
        /// The store (a file, or a URL without its password).
        file: PathBuf,
        /// What rootguard was doing.
        context: &'static str,
        /// The database's error.
        source: SqlError,
    },
    /// This process does not lead the shared record: it may read, and
    /// sends writers to the leader (`docs/RULES.md#replication`).
    #[error("{}", not_leader(file, leader, *term))]
    NotLeader {
        /// The store.
        file: PathBuf,
        /// The leader's API (empty when none leads now).
        leader: String,
        /// The current term.
        term: u64,
    },
    /// Another instance was elected since this one took the lease: what it
    /// decided is not recorded (`docs/RULES.md#replication`).
    #[error(
        "this instance led the shared record in term {mine}; its lease ran out or another instance was elected (the record is in term {current}): this write is refused (a stale leader never writes; docs/RULES.md#replication)"
    )]
    StaleTerm {
        /// The store.
        file: PathBuf,
        /// The term this process was elected in.
        mine: u64,
        /// The record's current term.
        current: u64,
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
    /// The file is in an older format: `rootguard migrate` converts it.
    #[error(
        "{file}: the record is in format version {found}; this rootguard writes version {known}: run `rootguard migrate` (it keeps a copy of the old file) before using it"
    )]
    NeedsMigration {
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
    /// The Merkle tree cannot be computed.
    #[error("{file}: the Merkle tree: {reason}")]
    Tree {
        /// The store file.
        file: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Writing an export failed.
    #[error("writing the export: {0}")]
    Export(#[from] std::io::Error),
}

/// The refusal of a follower, without the store's name (it is answered
/// over HTTP to anyone).
fn not_leader(_file: &Path, leader: &str, term: u64) -> String {
    if leader.is_empty() {
        format!(
            "this instance does not lead the shared record (term {term}) and no leader announces an API: a follower only reads; another instance takes over within two sweep intervals (docs/RULES.md#replication)"
        )
    } else {
        format!(
            "this instance does not lead the shared record: the leader (term {term}) is at {leader}; send writes there (docs/RULES.md#replication)"
        )
    }
}

/// The term of every event of a SQLite record: one process writes it, no
/// election ever happens.
pub const SQLITE_TERM: u64 = 1;

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
    // 2: the Merkle tree over the journal (RFC 9162 stored hashes, indexed
    // as in Crosby and Wallach) and the guard's signed checkpoints.
    "CREATE TABLE tree (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL);
    CREATE TRIGGER tree_no_update BEFORE UPDATE ON tree
        BEGIN SELECT RAISE(ABORT, 'the tree is append-only'); END;
    CREATE TRIGGER tree_no_delete BEFORE DELETE ON tree
        BEGIN SELECT RAISE(ABORT, 'the tree is append-only'); END;
    CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, at TEXT NOT NULL, note TEXT NOT NULL);
    CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
        BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
    CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
        BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;",
    // 3: snapshots of the state derived from the journal, so that a
    // restart applies only the events after the latest one.
    "CREATE TABLE snapshots (seq INTEGER PRIMARY KEY, root BLOB NOT NULL, state TEXT NOT NULL);",
    // 4: events are facts: each event's payload holds the writer's term
    // and what it changed; the journals of versions 1 to 3 stored
    // commands, which `rootguard migrate` turns into one recorded state.
    // Snapshots carry the guard's signature over their state (a note).
    "ALTER TABLE snapshots ADD COLUMN note TEXT NOT NULL DEFAULT '';
    CREATE INDEX events_refused ON events(actor, at) WHERE kind = 'refused';",
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

/// The leaf data of an event in the Merkle tree: its stored fields, each
/// length-prefixed, exactly as stored (the payload as its stored text).
#[allow(clippy::too_many_arguments)]
pub fn leaf_data(
    seq: i64,
    at: &str,
    actor: &str,
    role: &str,
    kind: &str,
    subject: &str,
    section: &str,
    payload: &str,
    prev_hash: &str,
) -> Vec<u8> {
    let fields: [&[u8]; 9] = [
        &seq.to_be_bytes(),
        at.as_bytes(),
        actor.as_bytes(),
        role.as_bytes(),
        kind.as_bytes(),
        subject.as_bytes(),
        section.as_bytes(),
        payload.as_bytes(),
        prev_hash.as_bytes(),
    ];
    let mut out = Vec::new();
    for f in fields {
        out.extend_from_slice(&(f.len() as u64).to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// Reads stored tree hashes from the database.
struct SqlHashes<'a>(&'a Db);

impl HashReader for SqlHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        let bad = |e: SqlError| tlog_tiles::Error::InvalidInput(e.to_string());
        let mut found = std::collections::HashMap::with_capacity(indexes.len());
        if self.0.engine() == Engine::Postgres && indexes.len() > 1 {
            // One round trip for the whole list (integers only).
            let list = indexes
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            for r in self
                .0
                .query(
                    &format!("SELECT idx, hash FROM tree WHERE idx IN ({list})"),
                    &[],
                )
                .map_err(bad)?
            {
                found.insert(r.int(0).map_err(bad)? as u64, r.blob(1).map_err(bad)?);
            }
        } else {
            for &i in indexes {
                let idx = i64::try_from(i)
                    .map_err(|_| tlog_tiles::Error::InvalidInput("index too large".into()))?;
                if let Some(r) = self
                    .0
                    .query_opt("SELECT hash FROM tree WHERE idx = ?1", &[Value::Int(idx)])
                    .map_err(bad)?
                {
                    found.insert(i, r.blob(0).map_err(bad)?);
                }
            }
        }
        indexes
            .iter()
            .map(|i| {
                let bytes = found.get(i).ok_or_else(|| {
                    tlog_tiles::Error::InvalidInput(format!("tree hash {i}: missing"))
                })?;
                let array: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| tlog_tiles::Error::MalformedHash)?;
                Ok(Hash(array))
            })
            .collect()
    }
}

/// Stored hashes kept in memory (for recomputing the tree from the
/// journal alone).
pub struct MemoryHashes(pub Vec<Hash>);

impl HashReader for MemoryHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.0.get(i).copied())
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl MemoryHashes {
    /// Appends the leaf `data` as the next record.
    pub fn push(&mut self, data: &[u8]) -> Result<(), tlog_tiles::Error> {
        let n = self.records();
        let new = tlog_tiles::stored_hashes(n, data, self)?;
        self.0.extend(new);
        Ok(())
    }

    /// Records in the tree.
    pub fn records(&self) -> u64 {
        // The largest n with stored_hash_count(n) <= len.
        let len = self.0.len() as u64;
        let (mut lo, mut hi) = (0u64, len + 1);
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            if tlog_tiles::stored_hash_count(mid) <= len {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

/// What [`Store::migrate`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Migrated {
    /// The format version found.
    pub from: i64,
    /// The format version written.
    pub to: i64,
    /// The copy of the old file.
    pub kept: PathBuf,
    /// The old journal's head hash.
    pub head: String,
    /// Events in the journal.
    pub events: i64,
}

/// A checkpoint kept in the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredCheckpoint {
    /// Entries it commits to.
    pub size: u64,
    /// When it was signed (RFC 3339).
    pub at: String,
    /// The signed note.
    pub note: String,
}

/// The ten event columns, in the order [`event_of`] reads them.
const EVENT_COLUMNS: &str =
    "seq, at, actor, role, kind, subject, section, payload, prev_hash, hash";

/// An event from a row of [`EVENT_COLUMNS`].
fn event_of(file: &Path, r: &[Value]) -> Result<Event, StoreError> {
    let err = |source| StoreError::Db {
        file: file.to_path_buf(),
        context: "reading the journal",
        source,
    };
    let seq = r.int(0).map_err(err)?;
    let t = |i| r.text(i).map_err(err);
    let payload = serde_json::from_str(&t(7)?).map_err(|e| StoreError::Payload {
        file: file.to_path_buf(),
        seq,
        message: e.to_string(),
    })?;
    Ok(Event {
        seq,
        event: NewEvent {
            at: t(1)?,
            actor: t(2)?,
            role: t(3)?,
            kind: t(4)?,
            subject: t(5)?,
            section: t(6)?,
            payload,
        },
        prev_hash: t(8)?,
        hash: t(9)?,
    })
}

/// Reads events with `sql` (selecting [`EVENT_COLUMNS`]).
fn read_events(
    db: &Db,
    file: &Path,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Event>, StoreError> {
    let rows = db.query(sql, params).map_err(|source| StoreError::Db {
        file: file.to_path_buf(),
        context: "reading the journal",
        source,
    })?;
    rows.iter().map(|r| event_of(file, r)).collect()
}

/// Adds the stored hashes of leaf `seq` (1-based) to the tree table.
fn append_leaf(db: &Db, file: &Path, seq: i64, leaf: &[u8]) -> Result<(), StoreError> {
    let n = (seq - 1) as u64;
    let hashes =
        tlog_tiles::stored_hashes(n, leaf, &SqlHashes(db)).map_err(|e| StoreError::Tree {
            file: file.to_path_buf(),
            reason: format!("event {seq}: {e}"),
        })?;
    let base = tlog_tiles::stored_hash_index(0, n);
    for (i, h) in hashes.iter().enumerate() {
        db.execute(
            "INSERT INTO tree (idx, hash) VALUES (?1, ?2)",
            &[
                Value::Int((base + i as u64) as i64),
                Value::Blob(h.0.to_vec()),
            ],
        )
        .map_err(|source| StoreError::Db {
            file: file.to_path_buf(),
            context: "appending to the Merkle tree",
            source,
        })?;
    }
    Ok(())
}

/// A snapshot of the derived state as stored.
#[derive(Clone, Debug)]
pub struct StoredSnapshot {
    /// The last event it reflects.
    pub seq: i64,
    /// The tree root at that event.
    pub root: [u8; 32],
    /// The state (JSON).
    pub state: String,
    /// The guard's signed note over the three.
    pub note: String,
}

/// Seals each event as it is appended: given the hash of the event
/// without its seal, returns the seal (the guard's signature over it) that
/// the payload then carries as `seal` (`docs/RULES.md#checkpoints`).
pub type Sealer = Box<dyn Fn(&str) -> Result<String, String> + Send>;

/// The hash of `e` as it was before its seal was added, and the seal.
pub fn unsealed(seq: i64, e: &NewEvent, prev_hash: &str) -> (String, Option<String>) {
    let seal = e
        .payload
        .get("seal")
        .and_then(|s| s.as_str())
        .map(str::to_string);
    let mut bare = e.clone();
    if let Some(map) = bare.payload.as_object_mut() {
        map.remove("seal");
    }
    (event_hash(seq, &bare, prev_hash), seal)
}

/// Where a record lives: a SQLite file, or a PostgreSQL database named by
/// a `postgres://` (or `postgresql://`) URL in the `store` setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    File(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl Location {
    /// The location the `store` setting names.
    pub fn of(store: &Path) -> Location {
        match store.to_str() {
            Some(s) if s.starts_with("postgres://") || s.starts_with("postgresql://") => {
                Location::Postgres(s.to_string())
            }
            _ => Location::File(store.to_path_buf()),
        }
    }

    /// The location for messages: a URL without its password.
    pub fn display(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::Postgres(url) => redact(url),
        }
    }
}

/// Whether the `store` setting names a PostgreSQL database.
pub fn is_postgres(store: &Path) -> bool {
    matches!(Location::of(store), Location::Postgres(_))
}

/// `url` without a password (in its user information or its query).
pub fn redact(url: &str) -> String {
    // Named from what the client itself parses (user, hosts, ports,
    // database), never by cutting the text: nothing else of the URL shows.
    let Ok(c) = url.parse::<::postgres::Config>() else {
        return "postgres://(a URL the PostgreSQL client does not parse)".into();
    };
    let hosts: Vec<String> = c
        .get_hosts()
        .iter()
        .zip(c.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(h, p)| match h {
            ::postgres::config::Host::Tcp(h) => format!("{h}:{p}"),
            ::postgres::config::Host::Unix(d) => format!("{}:{p}", d.display()),
        })
        .collect();
    format!(
        "postgres://{}{}/{}",
        c.get_user().map(|u| format!("{u}@")).unwrap_or_default(),
        hosts.join(","),
        c.get_dbname().unwrap_or_default()
    )
}

/// The `store` setting as shown in messages: a file's path, or a
/// PostgreSQL URL without its password.
pub fn display(store: &Path) -> String {
    Location::of(store).display()
}

/// The lease under which this process writes a shared (PostgreSQL)
/// record: every event it appends carries `term`, and is refused once
/// another instance was elected (`docs/RULES.md#replication`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Writer {
    /// This instance's name in the leader row.
    pub holder: String,
    /// The term it was elected in.
    pub term: u64,
}

/// How long a command-line writer holds the lease of a shared record it
/// took because no daemon led it (renewed by each of its appends, given up
/// when it ends).
pub const COMMAND_LEASE_SECS: u64 = 5;

/// The store.
pub struct Store {
    db: Db,
    file: PathBuf,
    sealer: Option<Sealer>,
    /// The lease this process writes under (PostgreSQL only).
    writer: Option<Writer>,
    /// Whether an append may take a lease that ran out (command-line
    /// writers; a daemon elects through [`lease`] instead).
    auto_lead: bool,
    /// Whether this process took the lease by itself (released on drop).
    auto_led: bool,
    /// The term a SQLite file's events carry: [`SQLITE_TERM`], or the
    /// latest term of a shared record it was copied from (terms never go
    /// back).
    file_term: u64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("file", &self.file).finish()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let (true, Some(w)) = (self.auto_led, &self.writer) {
            let _ = pg::release(&self.db, &w.holder, w.term);
        }
    }
}

impl Store {
    /// Opens (creating if needed) the store: a SQLite file, or a
    /// PostgreSQL database when `path` is a `postgres://` URL. A file in
    /// an older format that holds events is refused with
    /// [`StoreError::NeedsMigration`]: see [`Store::migrate`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, false).map(|(s, _)| s)
    }

    /// Converts a store in an older format to the current one, keeping a
    /// copy of the old file beside it (`FILE.format-vN`). Returns the
    /// store and, when it converted, the version it found, the copy and
    /// the old journal's head hash. (A PostgreSQL record is always in the
    /// current format.)
    pub fn migrate(path: &Path) -> Result<(Store, Option<Migrated>), StoreError> {
        Store::open_with(path, true)
    }

    /// Whether the file at `path` holds a journal in an older format
    /// (which [`Store::open`] refuses and [`Store::migrate`] converts).
    pub fn needs_migration(path: &Path) -> Result<bool, StoreError> {
        if is_postgres(path) || !path.exists() {
            return Ok(false);
        }
        let err = |context: &'static str| {
            move |source: rusqlite::Error| StoreError::Db {
                file: path.to_path_buf(),
                context,
                source: source.into(),
            }
        };
        let conn = Connection::open(path).map_err(err("opening"))?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err("reading the schema version"))?;
        if version == 0 || version >= MIGRATIONS.len() as i64 {
            return Ok(false);
        }
        let events: i64 = conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
            .map_err(err("reading the journal"))?;
        Ok(events > 0)
    }

    fn open_with(path: &Path, migrate: bool) -> Result<(Store, Option<Migrated>), StoreError> {
        match Location::of(path) {
            Location::File(_) => Store::open_sqlite(path, migrate),
            Location::Postgres(url) => Ok((Store::open_postgres(&url)?, None)),
        }
    }

    fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let file = PathBuf::from(redact(url));
        let err = |context: &'static str| {
            let file = file.clone();
            move |source| StoreError::Db {
                file: file.clone(),
                context,
                source,
            }
        };
        let db = Db::Postgres(db::PgConn::connect(url).map_err(err("connecting"))?);
        let version = pg::prepare(&db).map_err(err("creating the schema"))?;
        if version > pg::VERSION {
            return Err(StoreError::TooNew {
                file,
                found: version,
                known: pg::VERSION,
            });
        }
        let store = Store {
            db,
            file,
            sealer: None,
            writer: None,
            auto_lead: true,
            auto_led: false,
            file_term: SQLITE_TERM,
        };
        store.fill_tree()?;
        Ok(store)
    }

    fn open_sqlite(path: &Path, migrate: bool) -> Result<(Store, Option<Migrated>), StoreError> {
        let file = path.to_path_buf();
        let err = |context: &'static str| {
            let file = file.clone();
            move |source: rusqlite::Error| StoreError::Db {
                file: file.clone(),
                context,
                source: source.into(),
            }
        };
        let mut conn = Connection::open(path).map_err(err("opening"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err("setting WAL mode"))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err("setting synchronous=FULL"))?;
        conn.busy_timeout(std::time::Duration::from_secs(60))
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
        let mut migrated = None;
        if version > 0 && version < known {
            let (events, head): (i64, Option<String>) = conn
                .query_row(
                    "SELECT COUNT(*), (SELECT hash FROM events ORDER BY seq DESC LIMIT 1) FROM events",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(err("reading the journal"))?;
            if events > 0 {
                if !migrate {
                    return Err(StoreError::NeedsMigration {
                        file,
                        found: version,
                        known,
                    });
                }
                // A fresh copy, never one that happens to exist already.
                let mut kept = path.as_os_str().to_owned();
                kept.push(format!(".format-v{version}"));
                let mut kept = PathBuf::from(kept);
                let mut n = 1;
                while kept.exists() {
                    let mut k = path.as_os_str().to_owned();
                    k.push(format!(".format-v{version}.{n}"));
                    kept = PathBuf::from(k);
                    n += 1;
                }
                conn.execute("VACUUM INTO ?1", [kept.to_string_lossy()])
                    .map_err(err("keeping a copy of the old record"))?;
                migrated = Some(Migrated {
                    from: version,
                    to: known,
                    kept,
                    head: head.unwrap_or_else(|| GENESIS.to_string()),
                    events,
                });
            }
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
        let store = Store {
            db: Db::Sqlite(conn),
            file,
            sealer: None,
            writer: None,
            auto_lead: false,
            auto_led: false,
            file_term: SQLITE_TERM,
        };
        store.fill_tree()?;
        let mut store = store;
        store.file_term = store.head_term()?.max(SQLITE_TERM);
        Ok((store, migrated))
    }

    fn err(&self, context: &'static str) -> impl Fn(SqlError) -> StoreError + '_ {
        move |source| StoreError::Db {
            file: self.file.clone(),
            context,
            source,
        }
    }

    /// The database engine.
    pub fn engine(&self) -> Engine {
        self.db.engine()
    }

    /// The store's location for messages (a URL without its password).
    pub fn name(&self) -> &Path {
        &self.file
    }

    /// Who leads a shared record (`None` for a SQLite file: its one
    /// process).
    pub fn leadership(&self) -> Result<Option<pg::Leadership>, StoreError> {
        match self.engine() {
            Engine::Sqlite => Ok(None),
            Engine::Postgres => pg::leadership(&self.db)
                .map(Some)
                .map_err(self.err("reading the leader row")),
        }
    }

    /// Writes from now on under `writer` (the daemon's elected lease), or,
    /// with `None`, not at all: a follower only reads. A daemon never
    /// takes a lease by an append (it elects through [`lease`]).
    pub fn set_writer(&mut self, writer: Option<Writer>) {
        self.writer = writer;
        self.auto_lead = false;
        self.auto_led = false;
    }

    /// Whether this process may write: a SQLite file's one process, the
    /// elected leader of a shared record, or a command-line writer.
    pub fn may_write(&self) -> bool {
        self.engine() == Engine::Sqlite || self.writer.is_some() || self.auto_lead
    }

    /// The term this process writes in: the lease's on a shared record;
    /// [`crate::store::SQLITE_TERM`] for a SQLite file.
    pub fn term(&self) -> u64 {
        match (&self.writer, self.engine()) {
            (Some(w), _) => w.term,
            (None, Engine::Sqlite) => self.file_term,
            (None, Engine::Postgres) => 0,
        }
    }

    /// The term of the journal's last event (0 for none).
    fn head_term(&self) -> Result<u64, StoreError> {
        let row = self
            .db
            .query_opt("SELECT payload FROM events ORDER BY seq DESC LIMIT 1", &[])
            .map_err(self.err("reading the chain head"))?;
        Ok(row
            .and_then(|r| r.text(0).ok())
            .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
            .and_then(|v| v["term"].as_u64())
            .unwrap_or(0))
    }

    /// How many refusals of `actor` the journal holds at or after `since`
    /// (`docs/RULES.md#refused-input`).
    pub fn refusals_since(&self, actor: &str, since: &str) -> Result<i64, StoreError> {
        self.db
            .query_opt(
                "SELECT COUNT(*) FROM events WHERE kind = 'refused' AND actor = ?1 AND at >= ?2",
                &[actor.into(), since.into()],
            )
            .and_then(|r| r.map(|r| r.int(0)).unwrap_or(Ok(0)))
            .map_err(self.err("counting refusals"))
    }

    /// The events of the kinds `kinds`, in sequence order.
    pub fn events_of_kinds(&self, kinds: &[&str]) -> Result<Vec<Event>, StoreError> {
        let list = kinds
            .iter()
            .map(|k| format!("'{}'", k.replace('\'', "")))
            .collect::<Vec<_>>()
            .join(",");
        self.query_events(
            &format!("SELECT {EVENT_COLUMNS} FROM events WHERE kind IN ({list}) ORDER BY seq"),
            &[],
        )
    }

    /// The hash of event `seq` ([`GENESIS`] for 0).
    pub fn hash_at(&self, seq: i64) -> Result<String, StoreError> {
        if seq == 0 {
            return Ok(GENESIS.to_string());
        }
        let row = self
            .db
            .query_opt("SELECT hash FROM events WHERE seq = ?1", &[Value::Int(seq)])
            .map_err(self.err("reading an event's hash"))?;
        match row {
            Some(r) => r.text(0).map_err(self.err("reading an event's hash")),
            None => Err(StoreError::Tree {
                file: self.file.clone(),
                reason: format!("event {seq} is not in the journal"),
            }),
        }
    }

    /// Moves the write-ahead log into the main file and empties it (for
    /// measuring the file's size; nothing to do on PostgreSQL).
    pub fn truncate_wal(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite(c) => c
                .pragma_update(None, "wal_checkpoint", "TRUNCATE")
                .map_err(|e| self.err("checkpointing the write-ahead log")(e.into())),
            Db::Postgres(_) => Ok(()),
        }
    }

    /// The record's size on disk, in bytes: the SQLite file (without its
    /// write-ahead log), or the PostgreSQL database.
    pub fn bytes(&self) -> Result<u64, StoreError> {
        match &self.db {
            Db::Sqlite(_) => Ok(std::fs::metadata(&self.file).map(|m| m.len()).unwrap_or(0)),
            Db::Postgres(_) => self
                .db
                .query_opt("SELECT pg_database_size(current_database())", &[])
                .and_then(|r| r.map(|r| r.int(0)).unwrap_or(Ok(0)))
                .map(|n| n as u64)
                .map_err(self.err("measuring the database")),
        }
    }

    /// Seals every event appended from now on with `sealer`.
    pub fn set_sealer(&mut self, sealer: Sealer) {
        self.sealer = Some(sealer);
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
        let appended = self.append_batch_after(seen, |fresh| decide(fresh).map(|e| vec![e]))?;
        Ok(appended.map(|mut v| v.remove(0)))
    }

    /// On a shared record, checks under the leader row's lock that this
    /// process leads in its term; returns the term its events carry.
    fn check_term(&self) -> Result<Option<u64>, StoreError> {
        if self.engine() != Engine::Postgres {
            return Ok(None);
        }
        let row = self
            .db
            .query_opt(
                "SELECT term, holder, url, (expires > now())::int FROM leader WHERE id = 1 FOR UPDATE",
                &[],
            )
            .map_err(self.err("locking the leader row"))?;
        let Some(row) = row else {
            return Err(StoreError::NotLeader {
                file: self.file.clone(),
                leader: String::new(),
                term: 0,
            });
        };
        let r = |e| self.err("reading the leader row")(e);
        let (term, holder, url, live) = (
            row.int(0).map_err(r)? as u64,
            row.text(1).map_err(r)?,
            row.text(2).map_err(r)?,
            row.int(3).map_err(r)? == 1,
        );
        match &self.writer {
            // Only while the lease runs: a leader frozen past it, even one
            // nobody replaced yet, no longer decides.
            Some(w) if w.holder == holder && w.term == term && live => Ok(Some(term)),
            Some(w) => Err(StoreError::StaleTerm {
                file: self.file.clone(),
                mine: w.term,
                current: term,
            }),
            None => Err(StoreError::NotLeader {
                file: self.file.clone(),
                leader: url,
                term,
            }),
        }
    }

    /// Like [`Store::append_after`] for several events, appended in one
    /// transaction (all or none). `decide` must return at least one event.
    pub fn append_batch_after<E>(
        &mut self,
        seen: i64,
        decide: impl FnOnce(Vec<Event>) -> Result<Vec<NewEvent>, E>,
    ) -> Result<Result<Vec<Event>, E>, StoreError> {
        if self.auto_lead
            && (self.writer.is_none() || self.auto_led)
            && self.engine() == Engine::Postgres
        {
            // A command-line writer takes a lease that ran out, on its own
            // (committed before the append, which a refusal rolls back).
            let holder = format!("command:{}:{}", hostname(), std::process::id());
            if let Some(term) = pg::acquire_for_command(&self.db, &holder, COMMAND_LEASE_SECS)
                .map_err(self.err("taking the lease"))?
            {
                self.writer = Some(Writer { holder, term });
                self.auto_led = true;
            }
        }
        let begin = match self.engine() {
            Engine::Sqlite => "BEGIN IMMEDIATE",
            Engine::Postgres => "BEGIN",
        };
        self.db
            .batch(begin)
            .map_err(self.err("starting an append"))?;
        // A panic while deciding must not leave the transaction open (its
        // connection would refuse every later statement).
        let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.append_in_transaction(seen, decide)
        })) {
            Ok(o) => o,
            Err(panic) => {
                let _ = self.db.batch("ROLLBACK");
                std::panic::resume_unwind(panic)
            }
        };
        let end = match &outcome {
            Ok(Ok(_)) => "COMMIT",
            _ => "ROLLBACK",
        };
        if let Err(e) = self.db.batch(end) {
            let _ = self.db.batch("ROLLBACK");
            if end == "COMMIT" {
                return Err(self.err("committing an event")(e));
            }
        }
        outcome
    }

    fn append_in_transaction<E>(
        &mut self,
        seen: i64,
        decide: impl FnOnce(Vec<Event>) -> Result<Vec<NewEvent>, E>,
    ) -> Result<Result<Vec<Event>, E>, StoreError> {
        let term = match self.engine() {
            Engine::Postgres => self.check_term()?,
            // A copy of a shared record continues in its latest term.
            Engine::Sqlite => (self.file_term > SQLITE_TERM).then_some(self.file_term),
        };
        let fresh = if seen == i64::MAX {
            Vec::new()
        } else {
            read_events(
                &self.db,
                &self.file,
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq"),
                &[Value::Int(seen)],
            )?
        };
        let events = match decide(fresh) {
            Ok(e) => e,
            Err(e) => return Ok(Err(e)),
        };
        let last = self
            .db
            .query_opt(
                "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
                &[],
            )
            .map_err(self.err("reading the chain head"))?;
        let (mut seq, mut prev_hash) = match last {
            Some(r) => (
                r.int(0).map_err(self.err("reading the chain head"))?,
                r.text(1).map_err(self.err("reading the chain head"))?,
            ),
            None => (0, GENESIS.to_string()),
        };
        let mut out = Vec::with_capacity(events.len());
        for mut event in events {
            seq += 1;
            // A shared record's events carry the writer's term (fencing).
            if let (Some(t), Some(map)) = (term, event.payload.as_object_mut())
                && map.contains_key("term")
            {
                map.insert("term".into(), serde_json::Value::from(t));
            }
            if let Some(seal) = &self.sealer {
                let bare = event_hash(seq, &event, &prev_hash);
                let sealed = seal(&bare).map_err(|reason| StoreError::Tree {
                    file: self.file.clone(),
                    reason: format!("sealing event {seq}: {reason}"),
                })?;
                if let Some(map) = event.payload.as_object_mut() {
                    map.insert("seal".into(), serde_json::Value::String(sealed));
                }
            }
            let hash = event_hash(seq, &event, &prev_hash);
            let payload = event.payload.to_string();
            self.db
                .execute(
                    "INSERT INTO events (seq, at, actor, role, kind, subject, section, payload, prev_hash, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    &[
                        Value::Int(seq),
                        (&event.at).into(),
                        (&event.actor).into(),
                        (&event.role).into(),
                        (&event.kind).into(),
                        (&event.subject).into(),
                        (&event.section).into(),
                        payload.clone().into(),
                        (&prev_hash).into(),
                        (&hash).into(),
                    ],
                )
                .map_err(self.err("appending an event"))?;
            let leaf = leaf_data(
                seq,
                &event.at,
                &event.actor,
                &event.role,
                &event.kind,
                &event.subject,
                &event.section,
                &payload,
                &prev_hash,
            );
            append_leaf(&self.db, &self.file, seq, &leaf)?;
            out.push(Event {
                seq,
                event,
                prev_hash: prev_hash.clone(),
                hash: hash.clone(),
            });
            prev_hash = hash;
        }
        Ok(Ok(out))
    }

    /// Builds the Merkle tree of a journal written before it had one
    /// (schema version 1), in one transaction.
    fn fill_tree(&self) -> Result<(), StoreError> {
        // One statement: one snapshot of both tables, while another
        // instance may be appending.
        let counts = self
            .db
            .query_opt(
                "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM tree)",
                &[],
            )
            .map_err(self.err("counting the journal"))?;
        let (events, stored) = match counts {
            Some(r) => (
                r.int(0).map_err(self.err("counting the journal"))?,
                r.int(1).map_err(self.err("counting the journal"))?,
            ),
            None => (0, 0),
        };
        if stored as u64 == tlog_tiles::stored_hash_count(events as u64) {
            return Ok(());
        }
        if stored != 0 {
            return Err(StoreError::Tree {
                file: self.file.clone(),
                reason: format!(
                    "{stored} stored hashes for {events} events: the tree table was edited"
                ),
            });
        }
        let leaves = self.leaves()?;
        let begin = match self.engine() {
            Engine::Sqlite => "BEGIN IMMEDIATE",
            Engine::Postgres => "BEGIN",
        };
        self.db
            .batch(begin)
            .map_err(self.err("building the Merkle tree"))?;
        let built = leaves
            .iter()
            .try_for_each(|(seq, leaf)| append_leaf(&self.db, &self.file, *seq, leaf));
        let end = if built.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self
            .db
            .batch(end)
            .map_err(self.err("building the Merkle tree"));
        built.and(ended)
    }

    /// Every event's leaf data, in sequence order, from the stored bytes.
    pub fn leaves(&self) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT seq, at, actor, role, kind, subject, section, payload, prev_hash FROM events ORDER BY seq",
                &[],
            )
            .map_err(self.err("reading the journal"))?;
        rows.iter()
            .map(|r| {
                let s = |i| r.text(i);
                let seq = r.int(0)?;
                Ok((
                    seq,
                    leaf_data(
                        seq,
                        &s(1)?,
                        &s(2)?,
                        &s(3)?,
                        &s(4)?,
                        &s(5)?,
                        &s(6)?,
                        &s(7)?,
                        &s(8)?,
                    ),
                ))
            })
            .collect::<Result<_, SqlError>>()
            .map_err(self.err("reading the journal"))
    }

    /// Entries in the log (events in the journal).
    pub fn size(&self) -> Result<u64, StoreError> {
        let n = self
            .db
            .query_opt("SELECT COALESCE(MAX(seq), 0) FROM events", &[])
            .and_then(|r| r.map(|r| r.int(0)).unwrap_or(Ok(0)))
            .map_err(self.err("reading the journal size"))?;
        Ok(n as u64)
    }

    fn tree_error(&self, e: tlog_tiles::Error) -> StoreError {
        StoreError::Tree {
            file: self.file.clone(),
            reason: e.to_string(),
        }
    }

    /// The RFC 9162 root of the first `size` entries, from the stored tree.
    pub fn root(&self, size: u64) -> Result<[u8; 32], StoreError> {
        tlog_tiles::tree_hash(size, &SqlHashes(&self.db))
            .map(|h| h.0)
            .map_err(|e| self.tree_error(e))
    }

    /// The inclusion proof of event `seq` in the tree of `size` entries,
    /// and the event's leaf hash.
    pub fn inclusion_proof(
        &self,
        seq: i64,
        size: u64,
    ) -> Result<([u8; 32], Vec<[u8; 32]>), StoreError> {
        let n = (seq - 1) as u64;
        let proof = tlog_tiles::prove_record(size, n, &SqlHashes(&self.db))
            .map_err(|e| self.tree_error(e))?;
        let leaf = SqlHashes(&self.db)
            .read_hashes(&[tlog_tiles::stored_hash_index(0, n)])
            .map_err(|e| self.tree_error(e))?;
        Ok((leaf[0].0, proof.iter().map(|h| h.0).collect()))
    }

    /// Every stored hash, as the tree table holds it.
    pub fn stored_hashes(&self) -> Result<Vec<[u8; 32]>, StoreError> {
        let rows = self
            .db
            .query("SELECT hash FROM tree ORDER BY idx", &[])
            .map_err(self.err("reading the tree"))?;
        rows.iter()
            .map(|r| Ok(r.blob(0)?.try_into().unwrap_or([0; 32])))
            .collect::<Result<_, SqlError>>()
            .map_err(self.err("reading the tree"))
    }

    /// Keeps a signed checkpoint.
    /// On a shared record, only the leader in its term keeps one (a
    /// deposed leader's is refused, `docs/RULES.md#replication`).
    pub fn add_checkpoint(&self, size: u64, at: &str, note: &str) -> Result<(), StoreError> {
        let insert = || {
            self.db
                .execute(
                    "INSERT INTO checkpoints (size, at, note) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    &[Value::Int(size as i64), at.into(), note.into()],
                )
                .map_err(self.err("keeping a checkpoint"))
        };
        if self.engine() == Engine::Sqlite {
            insert()?;
            return Ok(());
        }
        self.db
            .batch("BEGIN")
            .map_err(self.err("keeping a checkpoint"))?;
        let kept = self.check_term().and_then(|_| insert());
        let end = if kept.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.db.batch(end).map_err(self.err("keeping a checkpoint"));
        kept.and(ended).map(|_| ())
    }

    fn checkpoint_rows(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let rows = self
            .db
            .query(sql, params)
            .map_err(self.err("reading checkpoints"))?;
        rows.iter()
            .map(|r| {
                Ok(StoredCheckpoint {
                    size: r.int(0)? as u64,
                    at: r.text(1)?,
                    note: r.text(2)?,
                })
            })
            .collect::<Result<_, SqlError>>()
            .map_err(self.err("reading checkpoints"))
    }

    /// Every kept checkpoint, by size.
    pub fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.checkpoint_rows("SELECT size, at, note FROM checkpoints ORDER BY size", &[])
    }

    /// The latest `n` checkpoints of at most `size` entries, newest first.
    pub fn recent_checkpoints(
        &self,
        size: u64,
        n: u32,
    ) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.checkpoint_rows(
            &format!(
                "SELECT size, at, note FROM checkpoints WHERE size <= ?1 ORDER BY size DESC LIMIT {n}"
            ),
            &[Value::Int(size as i64)],
        )
    }

    /// The latest kept checkpoint.
    pub fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        Ok(self
            .checkpoint_rows(
                "SELECT size, at, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                &[],
            )?
            .pop())
    }

    /// Keeps a snapshot of the state derived from the first `seq` events
    /// (with the tree root at `seq`), and drops all but the newest two.
    pub fn save_snapshot(&self, seq: i64, state: &str, note: &str) -> Result<(), StoreError> {
        let root = self.root(seq as u64)?;
        self.db
            .transaction(|db| {
                db.execute(
                    "INSERT INTO snapshots (seq, root, state, note) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (seq) DO UPDATE SET root = excluded.root, state = excluded.state, note = excluded.note",
                    &[Value::Int(seq), Value::Blob(root.to_vec()), state.into(), note.into()],
                )?;
                db.execute(
                    "DELETE FROM snapshots WHERE seq < (SELECT MIN(seq) FROM (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT 2) AS newest)",
                    &[],
                )?;
                Ok(())
            })
            .map_err(self.err("keeping a snapshot"))
    }

    /// The snapshots whose tree root still matches the tree, newest first:
    /// sequence number, root, state and the guard's signed note over them.
    pub fn snapshots(&self) -> Result<Vec<StoredSnapshot>, StoreError> {
        let size = self.size()?;
        let rows = self
            .db
            .query(
                "SELECT seq, root, state, note FROM snapshots ORDER BY seq DESC",
                &[],
            )
            .map_err(self.err("reading snapshots"))?;
        let mut out = Vec::new();
        for r in rows {
            let read = |r: &[Value]| -> Result<_, SqlError> {
                Ok((r.int(0)?, r.blob(1)?, r.text(2)?, r.text(3)?))
            };
            let (seq, root, state, note) = read(&r).map_err(self.err("reading snapshots"))?;
            if seq >= 0
                && seq as u64 <= size
                && root.len() == 32
                && self.root(seq as u64)?.as_slice() == root.as_slice()
            {
                let mut rt = [0u8; 32];
                rt.copy_from_slice(&root);
                out.push(StoredSnapshot {
                    seq,
                    root: rt,
                    state,
                    note,
                });
            } else {
                tracing::warn!(seq, "a snapshot does not match the journal; it is ignored");
            }
        }
        Ok(out)
    }

    /// Event `seq`, if the journal holds it.
    pub fn event(&self, seq: i64) -> Result<Option<Event>, StoreError> {
        Ok(self
            .query_events(
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq = ?1"),
                &[Value::Int(seq)],
            )?
            .pop())
    }

    /// The events after `seq`, in sequence order.
    pub fn events_after(&self, seq: i64) -> Result<Vec<Event>, StoreError> {
        self.query_events(
            &format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq"),
            &[Value::Int(seq)],
        )
    }

    /// A consistent copy of the whole store, taken while others may write:
    /// `rootguard backup`. A SQLite file is copied with `VACUUM INTO`; a
    /// PostgreSQL record is copied, in one repeatable-read transaction,
    /// into a new SQLite file (the same events, tree, checkpoints and
    /// snapshots, which every rootguard command reads).
    pub fn backup(&self, to: &Path) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite(c) => {
                c.execute("VACUUM INTO ?1", [to.to_string_lossy()])
                    .map_err(|e| self.err("copying the store")(e.into()))?;
                Ok(())
            }
            Db::Postgres(_) => self.copy_into_sqlite(to),
        }
    }

    fn copy_into_sqlite(&self, to: &Path) -> Result<(), StoreError> {
        if to.exists() {
            return Err(StoreError::Export(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} exists: a backup never overwrites a file", to.display()),
            )));
        }
        let target = Store::open(to)?;
        let copy = |sql: &str, insert: &str| -> Result<(), StoreError> {
            let rows = self
                .db
                .query(sql, &[])
                .map_err(self.err("copying the store"))?;
            target
                .db
                .transaction(|db| {
                    for r in &rows {
                        db.execute(insert, r)?;
                    }
                    Ok(())
                })
                .map_err(target.err("writing the copy"))
        };
        // The copy writes the SQLite file between reads: the session may
        // sit idle in this (read-only) transaction.
        self.db
            .batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL idle_in_transaction_session_timeout = 0")
            .map_err(self.err("copying the store"))?;
        let copied = (|| {
            copy(
                &format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq"),
                "INSERT INTO events (seq, at, actor, role, kind, subject, section, payload, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            copy(
                "SELECT idx, hash FROM tree ORDER BY idx",
                "INSERT INTO tree (idx, hash) VALUES (?1, ?2)",
            )?;
            copy(
                "SELECT size, at, note FROM checkpoints ORDER BY size",
                "INSERT INTO checkpoints (size, at, note) VALUES (?1, ?2, ?3)",
            )?;
            copy(
                "SELECT seq, root, state, note FROM snapshots ORDER BY seq",
                "INSERT INTO snapshots (seq, root, state, note) VALUES (?1, ?2, ?3, ?4)",
            )
        })();
        let _ = self.db.batch("COMMIT");
        copied
    }

    /// Runs raw SQL, for unit tests of other layers (tampering).
    #[cfg(test)]
    pub(crate) fn execute_for_tests(&self, sql: &str) -> Result<(), SqlError> {
        self.db.batch(sql)
    }

    /// The first integer `sql` selects, for unit tests.
    #[cfg(test)]
    pub(crate) fn int_for_tests(&self, sql: &str) -> i64 {
        self.db
            .query_opt(sql, &[])
            .unwrap()
            .unwrap()
            .int(0)
            .unwrap()
    }

    /// Every event in sequence order.
    pub fn events(&self) -> Result<Vec<Event>, StoreError> {
        self.query_events(
            &format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY seq"),
            &[],
        )
    }

    /// The events concerning `subject`, in sequence order.
    pub fn events_for(&self, subject: &str) -> Result<Vec<Event>, StoreError> {
        self.query_events(
            &format!("SELECT {EVENT_COLUMNS} FROM events WHERE subject = ?1 ORDER BY seq"),
            &[subject.into()],
        )
    }

    fn query_events(&self, sql: &str, params: &[Value]) -> Result<Vec<Event>, StoreError> {
        read_events(&self.db, &self.file, sql, params)
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

/// This machine's name, for the leader row.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
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
            payload: serde_json::json!({"term": SQLITE_TERM, "n": kind.len()}),
        }
    }

    /// A fresh store on each engine: a SQLite file in `dir`, and a
    /// database on the throwaway PostgreSQL cluster when installed.
    fn engines(dir: &Path) -> Vec<PathBuf> {
        cluster::engines(dir, "s.sqlite")
    }

    /// SQL that lets the test edit the journal behind rootguard's back.
    fn untriggered(s: &Store) -> &'static str {
        match s.engine() {
            Engine::Sqlite => "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;",
            Engine::Postgres => "ALTER TABLE events DISABLE TRIGGER USER;",
        }
    }

    #[test]
    fn appends_chain_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        for path in engines(dir.path()) {
            let mut s = Store::open(&path).unwrap();
            let a = s.append(ev("a")).unwrap();
            let b = s.append(ev("bb")).unwrap();
            assert_eq!((a.seq, b.seq), (1, 2));
            assert_eq!(a.prev_hash, GENESIS);
            assert_eq!(b.prev_hash, a.hash);
            drop(s);
            let mut s = Store::open(&path).unwrap();
            assert_eq!(s.events().unwrap().len(), 2);
            assert_eq!(s.events_for("tld:xa").unwrap().len(), 2);
            let r = s.verify().unwrap();
            assert_eq!(r.events, 2);
            assert!(r.first_bad.is_none());
            let mut out = Vec::new();
            assert_eq!(s.export(&mut out).unwrap(), 2);
            assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
            // The tree, checkpoints and snapshots.
            assert_eq!(s.size().unwrap(), 2);
            let root = s.root(2).unwrap();
            let (leaf, proof) = s.inclusion_proof(1, 2).unwrap();
            assert_eq!(proof.len(), 1);
            assert_ne!(leaf, root);
            if s.engine() == Engine::Postgres {
                // Only a writer in the current term keeps checkpoints.
                let e = s
                    .add_checkpoint(2, "2026-11-23T10:00:00Z", "note")
                    .unwrap_err();
                assert!(matches!(e, StoreError::NotLeader { .. }), "{e}");
                let term = pg::acquire(&s.db, "t", "", 60).unwrap().unwrap();
                s.set_writer(Some(Writer {
                    holder: "t".into(),
                    term,
                }));
            }
            s.add_checkpoint(2, "2026-11-23T10:00:00Z", "note").unwrap();
            s.add_checkpoint(2, "2026-11-23T10:00:01Z", "again")
                .unwrap();
            assert_eq!(s.checkpoints().unwrap().len(), 1);
            assert_eq!(s.latest_checkpoint().unwrap().unwrap().note, "note");
            for seq in [1, 2, 2] {
                s.save_snapshot(seq, "{}", "n").unwrap();
            }
            let snaps = s.snapshots().unwrap();
            assert_eq!(snaps.iter().map(|x| x.seq).collect::<Vec<_>>(), vec![2, 1]);
            assert_eq!(snaps[0].root, root);
            // A backup is a SQLite file with the same journal.
            let copy = dir.path().join(format!("copy-{:?}.sqlite", s.engine()));
            s.backup(&copy).unwrap();
            let c = Store::open(&copy).unwrap();
            assert_eq!(c.events().unwrap(), s.events().unwrap());
            assert_eq!(c.root(2).unwrap(), root);
            assert_eq!(c.checkpoints().unwrap(), s.checkpoints().unwrap());
        }
    }

    #[test]
    fn updates_and_deletes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for path in engines(dir.path()) {
            let mut s = Store::open(&path).unwrap();
            s.append(ev("a")).unwrap();
            s.add_checkpoint(1, "2026-11-23T10:00:00Z", "note").unwrap();
            for sql in [
                "UPDATE events SET actor = 'x'",
                "DELETE FROM events",
                "UPDATE tree SET hash = hash",
                "DELETE FROM checkpoints",
            ] {
                let e = s.execute_for_tests(sql).unwrap_err();
                assert!(e.to_string().contains("append-only"), "{sql}: {e}");
            }
            if s.engine() == Engine::Postgres {
                let e = s.execute_for_tests("TRUNCATE events CASCADE").unwrap_err();
                assert!(e.to_string().contains("append-only"), "{e}");
            }
            assert!(s.verify().unwrap().first_bad.is_none());
        }
    }

    #[test]
    fn the_database_itself_refuses_an_event_that_is_not_the_next_link() {
        let dir = tempfile::tempdir().unwrap();
        let Some(url) = engines(dir.path()).into_iter().nth(1) else {
            return;
        };
        let mut s = Store::open(&url).unwrap();
        let a = s.append(ev("a")).unwrap();
        let insert = |seq: i64, e: &NewEvent, prev: &str, hash: &str| {
            s.execute_for_tests(&format!(
                "INSERT INTO events VALUES ({seq}, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{prev}', '{hash}')",
                e.at, e.actor, e.role, e.kind, e.subject, e.section, e.payload
            ))
            .map_err(|e| e.to_string())
        };
        let b = ev("b");
        let good = event_hash(2, &b, &a.hash);
        assert!(
            insert(5, &b, &a.hash, &good)
                .unwrap_err()
                .contains("not the next one")
        );
        assert!(
            insert(2, &b, GENESIS, &good)
                .unwrap_err()
                .contains("does not link")
        );
        let edited = NewEvent {
            actor: "mallory".into(),
            ..b.clone()
        };
        assert!(
            insert(2, &edited, &a.hash, &good)
                .unwrap_err()
                .contains("does not hash")
        );
        // A well-formed link of another term is refused too.
        let stale = NewEvent {
            payload: serde_json::json!({"term": 7}),
            ..b.clone()
        };
        let hash = event_hash(2, &stale, &a.hash);
        let e = insert(2, &stale, &a.hash, &hash).unwrap_err();
        assert!(e.contains("stale writer"), "{e}");
        // The same event in the leader's term is the next link.
        insert(2, &b, &a.hash, &good).unwrap();
        assert!(s.verify().unwrap().first_bad.is_none());
    }

    #[test]
    fn a_stale_leader_is_refused_and_a_follower_only_reads() {
        let dir = tempfile::tempdir().unwrap();
        let Some(url) = engines(dir.path()).into_iter().nth(1) else {
            return;
        };
        let mut one = lease::Lease::connect(&url, "one", "http://127.0.0.1:1", 60)
            .unwrap()
            .unwrap();
        let lease::Standing::Elected(w1) = one.tick().unwrap() else {
            panic!("the first instance is elected");
        };
        let mut a = Store::open(&url).unwrap();
        a.set_writer(Some(w1.clone()));
        let e = a.append(ev("a")).unwrap();
        assert_eq!(e.event.payload["term"], w1.term);
        // Another instance neither leads nor writes while the lease runs.
        let mut two = lease::Lease::connect(&url, "two", "http://127.0.0.1:2", 60)
            .unwrap()
            .unwrap();
        assert!(
            matches!(two.tick().unwrap(), lease::Standing::Following(l) if l.holder == "one" && l.live)
        );
        let mut b = Store::open(&url).unwrap();
        b.set_writer(None);
        let err = b.append(ev("b")).unwrap_err();
        assert!(
            matches!(&err, StoreError::NotLeader { leader, .. } if leader == "http://127.0.0.1:1"),
            "{err}"
        );
        assert_eq!(b.events().unwrap().len(), 1, "a follower reads");
        // The lease is given up: the other is elected in a new term, and
        // the old leader's next write is refused.
        assert!(matches!(one.tick().unwrap(), lease::Standing::Leading(_)));
        one.release().unwrap();
        let lease::Standing::Elected(w2) = two.tick().unwrap() else {
            panic!("the second instance is elected");
        };
        assert_eq!(w2.term, w1.term + 1);
        let err = a.append(ev("stale")).unwrap_err();
        assert!(
            matches!(err, StoreError::StaleTerm { mine, current, .. } if mine == w1.term && current == w2.term),
            "{err}"
        );
        b.set_writer(Some(w2.clone()));
        assert_eq!(b.append(ev("b")).unwrap().event.payload["term"], w2.term);
        let mut deposed = lease::Lease::connect(&url, "one", "", 60).unwrap().unwrap();
        assert!(matches!(
            deposed.tick().unwrap(),
            lease::Standing::Following(_)
        ));
        assert!(a.verify().unwrap().first_bad.is_none());
        assert_eq!(a.events().unwrap().len(), 2);
    }

    #[test]
    fn a_lost_connection_is_opened_again_but_never_inside_a_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let Some(url) = engines(dir.path()).into_iter().nth(1) else {
            return;
        };
        let mut s = Store::open(&url).unwrap();
        let other = Store::open(&url).unwrap();
        let kill = |s: &Store| {
            let pid = s.int_for_tests("SELECT pg_backend_pid()");
            other.int_for_tests(&format!("SELECT pg_terminate_backend({pid})::int"));
        };
        s.append(ev("a")).unwrap();
        // The server closes the session (a restart, a cut): the next
        // query may fail, the one after runs on a new connection.
        kill(&s);
        let mut appended = s.append(ev("b"));
        if appended.is_err() {
            appended = s.append(ev("b"));
        }
        assert_eq!(appended.unwrap().seq, 2);
        // Inside a transaction the loss is the transaction's: its COMMIT
        // fails, nothing of it is written, and the next write works.
        s.execute_for_tests("BEGIN").unwrap();
        s.execute_for_tests(
            "INSERT INTO snapshots (seq, root, state, note) VALUES (99, '\\x00', 'lost', '')",
        )
        .unwrap();
        kill(&s);
        let _ = s.execute_for_tests("SELECT 1");
        assert!(
            s.execute_for_tests("COMMIT").is_err(),
            "a lost transaction never commits"
        );
        assert_eq!(
            other.int_for_tests("SELECT COUNT(*) FROM snapshots WHERE seq = 99"),
            0
        );
        let mut appended = s.append(ev("c"));
        if appended.is_err() {
            appended = s.append(ev("c"));
        }
        assert_eq!(appended.unwrap().seq, 3);
        assert!(s.verify().unwrap().first_bad.is_none());
    }

    #[test]
    fn a_leader_frozen_inside_a_transaction_does_not_block_the_election() {
        let dir = tempfile::tempdir().unwrap();
        let Some(url) = engines(dir.path()).into_iter().nth(1) else {
            return;
        };
        let mut one = lease::Lease::connect(&url, "one", "", 1).unwrap().unwrap();
        let lease::Standing::Elected(w1) = one.tick().unwrap() else {
            panic!("elected");
        };
        let mut a = Store::open(&url).unwrap();
        a.set_writer(Some(w1.clone()));
        a.append(ev("a")).unwrap();
        // Frozen in the middle of an append, holding the leader row.
        a.execute_for_tests("BEGIN; SELECT term FROM leader WHERE id = 1 FOR UPDATE")
            .unwrap();
        let mut two = lease::Lease::connect(&url, "two", "", 1).unwrap().unwrap();
        let started = std::time::Instant::now();
        let w2 = loop {
            match two.tick() {
                Ok(lease::Standing::Elected(w)) => break w,
                _ => std::thread::sleep(std::time::Duration::from_millis(100)),
            }
            assert!(started.elapsed().as_secs() < 10, "the election is blocked");
        };
        assert!(
            started.elapsed().as_millis()
                < u128::from(1000 + db::IDLE_IN_TRANSACTION_MS + db::LOCK_TIMEOUT_MS + 500),
            "elected after {:?}",
            started.elapsed()
        );
        // The frozen transaction is gone; its leader's next write is stale.
        assert!(a.execute_for_tests("COMMIT").is_err());
        let mut e = a.append(ev("late"));
        if matches!(e, Err(StoreError::Db { .. })) {
            e = a.append(ev("late"));
        }
        assert!(
            matches!(e, Err(StoreError::StaleTerm { current, .. }) if current == w2.term),
            "{e:?}"
        );
        assert_eq!(a.events().unwrap().len(), 1);
    }

    #[test]
    fn a_sqlite_copy_of_a_shared_record_continues_in_its_term() {
        let dir = tempfile::tempdir().unwrap();
        let Some(url) = engines(dir.path()).into_iter().nth(1) else {
            return;
        };
        let mut s = Store::open(&url).unwrap();
        s.append(ev("a")).unwrap();
        let first = s.writer.clone().unwrap();
        pg::release(&s.db, &first.holder, first.term).unwrap();
        let term = pg::acquire(&s.db, "later", "", 60).unwrap().unwrap();
        s.set_writer(Some(Writer {
            holder: "later".into(),
            term,
        }));
        s.append(ev("b")).unwrap();
        let copy = dir.path().join("copy.sqlite");
        s.backup(&copy).unwrap();
        let mut c = Store::open(&copy).unwrap();
        let e = c.append(ev("after the restore")).unwrap();
        assert_eq!(e.event.payload["term"], term, "terms never go back");
        assert!(c.verify().unwrap().first_bad.is_none());
    }

    fn tampered(sql: &str) -> Vec<AuditReport> {
        let dir = tempfile::tempdir().unwrap();
        engines(dir.path())
            .into_iter()
            .map(|path| {
                let mut s = Store::open(&path).unwrap();
                for k in ["a", "b", "c", "d"] {
                    s.append(ev(k)).unwrap();
                }
                s.execute_for_tests(&format!("{} {sql}", untriggered(&s)))
                    .unwrap();
                s.verify().unwrap()
            })
            .collect()
    }

    #[test]
    fn edits_deletions_and_reorderings_are_detected() {
        for r in tampered("UPDATE events SET actor = 'mallory' WHERE seq = 3;") {
            assert_eq!(r.first_bad.as_ref().unwrap().seq, 3);
            assert!(r.first_bad.unwrap().reason.contains("edited"));
        }
        for r in tampered("DELETE FROM events WHERE seq = 2;") {
            assert_eq!(r.first_bad.as_ref().unwrap().seq, 3);
            assert!(r.first_bad.unwrap().reason.contains("event 2 is missing"));
        }
        for r in tampered(
            "UPDATE events SET seq = 10 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = 10;",
        ) {
            assert_eq!(r.first_bad.unwrap().seq, 2);
        }
        // Deleting the last event leaves a valid, shorter chain...
        for r in tampered("DELETE FROM events WHERE seq = 4;") {
            assert!(r.first_bad.is_none());
            assert_eq!(r.events, 3);
        }
    }

    #[test]
    fn a_kept_head_reveals_removal_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        for path in engines(dir.path()) {
            let mut s = Store::open(&path).unwrap();
            for k in ["a", "b", "c"] {
                s.append(ev(k)).unwrap();
            }
            let head = s.verify().unwrap().head;
            assert!(s.verify_with_head(Some(&head)).unwrap().first_bad.is_none());
            s.execute_for_tests(&format!(
                "{} DELETE FROM events WHERE seq = 3;",
                untriggered(&s)
            ))
            .unwrap();
            let r = s.verify_with_head(Some(&head)).unwrap();
            assert!(r.first_bad.unwrap().reason.contains("removed from the end"));
        }
    }

    #[test]
    fn a_password_never_shows_in_messages() {
        assert_eq!(
            redact("postgres://rg:s3cret@db.example:5432/rootguard?sslmode=disable&password=x"),
            "postgres://rg@db.example:5432/rootguard"
        );
        assert_eq!(
            redact("postgresql://db/rg?password=x"),
            "postgres://db:5432/rg"
        );
        // Passwords the client accepts however they are written.
        for url in [
            "postgres://rg:pa/ss@h/d",
            "postgres://rg:pa?ss@h/d",
            "postgres://rg@h/d?passw%6Frd=pa%2Fss",
            "postgres://rg@h/d?%70assword=pa%2Fss",
        ] {
            let shown = redact(url);
            assert!(!shown.contains("pa"), "{url}: {shown}");
        }
        assert!(is_postgres(Path::new("postgres://h/d")));
        assert!(!is_postgres(Path::new("rootguard.sqlite")));
    }
}
