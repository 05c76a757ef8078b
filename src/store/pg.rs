//! The record's schema on PostgreSQL, and the leader row several
//! `rootguard serve` instances elect their one writer with
//! (`docs/RULES.md#replication`).
//!
//! The database enforces the record's rules itself, whoever connects:
//! triggers refuse UPDATE, DELETE and TRUNCATE on the journal, the Merkle
//! tree and the checkpoints; an event is inserted only as the next link of
//! the hash chain (its sequence number, its previous hash and its own
//! SHA-256, recomputed in SQL exactly as [`super::event_hash`] does) and
//! only with the term of the current leader.
//!
//! ```text
//!   leader row:  term | holder | url | expires
//!
//!   follower ──(expires < now(): term+1, holder = me)──▶ leader
//!   leader   ──(renew: holder = me AND term = mine)────▶ leader
//!   leader   ──(renew finds another term, or stops)────▶ follower
//! ```

use super::db::{Db, RowExt, SqlError, Value};

/// The schema version this rootguard writes on PostgreSQL (the same
/// record format as SQLite's latest migration).
pub const VERSION: i64 = super::MIGRATIONS.len() as i64;

/// The whole schema, created in one transaction on an empty database.
pub const SCHEMA: &str = r#"
CREATE TABLE rootguard_schema (version BIGINT NOT NULL);
CREATE TABLE events (
    seq BIGINT PRIMARY KEY,
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
CREATE INDEX events_refused ON events(actor, at) WHERE kind = 'refused';
CREATE TABLE tree (idx BIGINT PRIMARY KEY, hash BYTEA NOT NULL);
CREATE TABLE checkpoints (size BIGINT PRIMARY KEY, at TEXT NOT NULL, note TEXT NOT NULL);
CREATE TABLE snapshots (seq BIGINT PRIMARY KEY, root BYTEA NOT NULL, state TEXT NOT NULL, note TEXT NOT NULL DEFAULT '');
CREATE TABLE leader (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    term BIGINT NOT NULL,
    holder TEXT NOT NULL,
    url TEXT NOT NULL,
    expires TIMESTAMPTZ NOT NULL
);
INSERT INTO leader VALUES (1, 0, '', '', '-infinity');

CREATE FUNCTION rootguard_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the record is append-only: % on % is refused (docs/RULES.md#replication)', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION rootguard_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION rootguard_append_only();
CREATE TRIGGER tree_append_only BEFORE UPDATE OR DELETE ON tree
    FOR EACH ROW EXECUTE FUNCTION rootguard_append_only();
CREATE TRIGGER tree_no_truncate BEFORE TRUNCATE ON tree
    FOR EACH STATEMENT EXECUTE FUNCTION rootguard_append_only();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION rootguard_append_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION rootguard_append_only();
CREATE TRIGGER leader_no_delete BEFORE DELETE OR TRUNCATE ON leader
    FOR EACH STATEMENT EXECUTE FUNCTION rootguard_append_only();

CREATE FUNCTION rootguard_field(b BYTEA) RETURNS BYTEA LANGUAGE sql IMMUTABLE AS $$
    SELECT int8send(octet_length(b)::bigint) || b
$$;
CREATE FUNCTION rootguard_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq BIGINT;
    last_hash TEXT;
    leader_term BIGINT;
    computed TEXT;
BEGIN
    SELECT seq, hash INTO last_seq, last_hash FROM events ORDER BY seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    IF NEW.seq <> last_seq + 1 THEN
        RAISE EXCEPTION 'the hash chain: event % is not the next one (the journal ends at %)', NEW.seq, last_seq;
    END IF;
    IF NEW.prev_hash <> last_hash THEN
        RAISE EXCEPTION 'the hash chain: event % does not link to event %', NEW.seq, last_seq;
    END IF;
    computed := encode(sha256(
        rootguard_field(int8send(NEW.seq))
        || rootguard_field(convert_to(NEW.at, 'UTF8'))
        || rootguard_field(convert_to(NEW.actor, 'UTF8'))
        || rootguard_field(convert_to(NEW.role, 'UTF8'))
        || rootguard_field(convert_to(NEW.kind, 'UTF8'))
        || rootguard_field(convert_to(NEW.subject, 'UTF8'))
        || rootguard_field(convert_to(NEW.section, 'UTF8'))
        || rootguard_field(convert_to(NEW.payload, 'UTF8'))
        || rootguard_field(convert_to(NEW.prev_hash, 'UTF8'))), 'hex');
    IF computed <> NEW.hash THEN
        RAISE EXCEPTION 'the hash chain: event % does not hash to its stored hash', NEW.seq;
    END IF;
    SELECT term INTO leader_term FROM leader WHERE id = 1;
    IF (NEW.payload::jsonb ->> 'term') IS DISTINCT FROM leader_term::text THEN
        RAISE EXCEPTION 'event % is of term %, the leader''s term is %: a stale writer is refused (docs/RULES.md#replication)',
            NEW.seq, NEW.payload::jsonb ->> 'term', leader_term;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER events_chain BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION rootguard_chain();

CREATE FUNCTION rootguard_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.size < 1 OR NEW.size > (SELECT COALESCE(MAX(seq), 0) FROM events) THEN
        RAISE EXCEPTION 'a checkpoint of % events: the journal holds %', NEW.size, (SELECT COALESCE(MAX(seq), 0) FROM events);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER checkpoints_within_the_journal BEFORE INSERT ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION rootguard_checkpoint();
"#;

/// Creates the schema on an empty database, or reads its version. Two
/// instances starting at once serialise on an advisory lock.
pub fn prepare(db: &Db) -> Result<i64, SqlError> {
    // The journal's text is UTF-8, hashed as such in SQL too.
    let encoding = db
        .query_opt("SELECT current_setting('server_encoding')", &[])?
        .map(|r| r.text(0))
        .transpose()?
        .unwrap_or_default();
    if encoding != "UTF8" {
        return Err(SqlError::Unsuitable(format!(
            "the database's encoding is {encoding}: the record needs UTF8 (createdb -E UTF8 -T template0)"
        )));
    }
    db.transaction(|db| {
        db.batch("SELECT pg_advisory_xact_lock(7403174)")?;
        let exists = db
            .query_opt("SELECT to_regclass('rootguard_schema')::text", &[])?
            .and_then(|r| r.text_opt(0).ok().flatten())
            .is_some();
        if !exists {
            db.batch(SCHEMA)?;
            db.execute(
                "INSERT INTO rootguard_schema (version) VALUES (?1)",
                &[Value::Int(VERSION)],
            )?;
            return Ok(VERSION);
        }
        let row = db.query_opt("SELECT MAX(version) FROM rootguard_schema", &[])?;
        Ok(row.map(|r| r.int(0).unwrap_or(0)).unwrap_or(0))
    })
}

/// Who leads the record now.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Leadership {
    /// The current term (0 before the first election).
    pub term: u64,
    /// The holder of the lease (an instance's name).
    pub holder: String,
    /// The leader's API, for writers sent elsewhere.
    pub url: String,
    /// Whether the lease is still running.
    pub live: bool,
}

/// The leader row.
pub fn leadership(db: &Db) -> Result<Leadership, SqlError> {
    let row = db
        .query_opt(
            "SELECT term, holder, url, (expires > now())::int FROM leader WHERE id = 1",
            &[],
        )?
        .ok_or(SqlError::Column {
            column: 0,
            reason: "the leader row is missing".into(),
        })?;
    Ok(Leadership {
        term: row.int(0)? as u64,
        holder: row.text(1)?,
        url: row.text(2)?,
        live: row.int(3)? == 1,
    })
}

/// Takes the lease for `holder` when it has run out: a new term. `None`
/// when another instance holds a running lease.
pub fn acquire(db: &Db, holder: &str, url: &str, lease_secs: u64) -> Result<Option<u64>, SqlError> {
    let row = db.query_opt(
        "UPDATE leader SET term = term + 1, holder = ?1, url = ?2, expires = now() + ?3::bigint * interval '1 second'
         WHERE id = 1 AND expires < now() RETURNING term",
        &[holder.into(), url.into(), Value::Int(lease_secs as i64)],
    )?;
    row.map(|r| r.int(0).map(|t| t as u64)).transpose()
}

/// Takes the lease for a command-line writer `holder` when it ran out, or
/// joins the term `holder` already holds (two stores of one process).
pub fn acquire_for_command(
    db: &Db,
    holder: &str,
    lease_secs: u64,
) -> Result<Option<u64>, SqlError> {
    let row = db.query_opt(
        "UPDATE leader SET term = CASE WHEN holder = ?1 AND expires > now() THEN term ELSE term + 1 END,
             holder = ?1, url = '', expires = now() + ?2::bigint * interval '1 second'
         WHERE id = 1 AND (expires < now() OR holder = ?1) RETURNING term",
        &[holder.into(), Value::Int(lease_secs as i64)],
    )?;
    row.map(|r| r.int(0).map(|t| t as u64)).transpose()
}

/// Extends the lease of `holder` in `term`; false when it was lost (another
/// instance was elected).
pub fn renew(db: &Db, holder: &str, term: u64, lease_secs: u64) -> Result<bool, SqlError> {
    Ok(db.execute(
        "UPDATE leader SET expires = now() + ?3::bigint * interval '1 second'
         WHERE id = 1 AND holder = ?1 AND term = ?2",
        &[
            holder.into(),
            Value::Int(term as i64),
            Value::Int(lease_secs as i64),
        ],
    )? == 1)
}

/// Gives the lease up at once, so that another instance need not wait
/// for it to run out.
pub fn release(db: &Db, holder: &str, term: u64) -> Result<(), SqlError> {
    db.execute(
        "UPDATE leader SET expires = '-infinity' WHERE id = 1 AND holder = ?1 AND term = ?2",
        &[holder.into(), Value::Int(term as i64)],
    )?;
    Ok(())
}
