//! The SQL connection under the record: one small interface (queries with
//! positional parameters, rows of plain values) over the two engines the
//! record runs on, SQLite (one file, one process: the default) and
//! PostgreSQL (shared by several `rootguard serve` instances). The rest of
//! the store writes its SQL once, with `?1`-style parameters; for
//! PostgreSQL they become `$1`.
//!
//! A PostgreSQL connection lives on a thread of its own (the `postgres`
//! client runs its own small runtime, which must never be started from a
//! tokio worker): calls hand it the query and wait for the rows.

use std::sync::mpsc;

/// The database engine of a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// One SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// A value in a row or a parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Blob(v)
    }
}

/// One row.
pub type Row = Vec<Value>;

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// SQLite reported an error.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL reported an error.
    #[error("{}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    /// A column does not hold the type the record stores there.
    #[error("column {column}: {reason}")]
    Column {
        /// The column (0-based).
        column: usize,
        /// What it holds instead.
        reason: String,
    },
    /// The connection's thread is gone.
    #[error("the PostgreSQL connection's thread stopped")]
    Gone,
    /// The database cannot hold the record as it is set up.
    #[error("{0}")]
    Unsuitable(String),
    /// The database cannot be reached now.
    #[error("PostgreSQL is unreachable: {0}")]
    Unreachable(String),
}

/// The server's own message for a database error (the client's display
/// says only "db error").
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

impl SqlError {
    /// The server's message, for refusals raised by the database's own
    /// triggers.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// Typed access to a row's columns.
pub trait RowExt {
    /// An integer column.
    fn int(&self, i: usize) -> Result<i64, SqlError>;
    /// A text column.
    fn text(&self, i: usize) -> Result<String, SqlError>;
    /// A text column that may be NULL.
    fn text_opt(&self, i: usize) -> Result<Option<String>, SqlError>;
    /// A bytes column.
    fn blob(&self, i: usize) -> Result<Vec<u8>, SqlError>;
}

fn wrong(column: usize, found: &Value, wanted: &str) -> SqlError {
    let kind = match found {
        Value::Null => "NULL",
        Value::Int(_) => "an integer",
        Value::Text(_) => "text",
        Value::Blob(_) => "bytes",
    };
    SqlError::Column {
        column,
        reason: format!("{kind} where {wanted} is stored"),
    }
}

impl RowExt for [Value] {
    fn int(&self, i: usize) -> Result<i64, SqlError> {
        match self.get(i) {
            Some(Value::Int(v)) => Ok(*v),
            Some(other) => Err(wrong(i, other, "an integer")),
            None => Err(wrong(i, &Value::Null, "an integer")),
        }
    }

    fn text(&self, i: usize) -> Result<String, SqlError> {
        match self.get(i) {
            Some(Value::Text(v)) => Ok(v.clone()),
            Some(other) => Err(wrong(i, other, "text")),
            None => Err(wrong(i, &Value::Null, "text")),
        }
    }

    fn text_opt(&self, i: usize) -> Result<Option<String>, SqlError> {
        match self.get(i) {
            Some(Value::Null) | None => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    fn blob(&self, i: usize) -> Result<Vec<u8>, SqlError> {
        match self.get(i) {
            Some(Value::Blob(v)) => Ok(v.clone()),
            Some(other) => Err(wrong(i, other, "bytes")),
            None => Err(wrong(i, &Value::Null, "bytes")),
        }
    }
}

type Job = Box<dyn FnOnce(&mut postgres::Client) + Send>;

/// A PostgreSQL client on its own thread. A connection the server closed
/// (a restart, a network cut) is opened again before the next query, but
/// never inside a transaction: a transaction whose connection was lost
/// fails (its COMMIT is never sent to a new session, where it would
/// "succeed" with nothing to commit).
pub struct PgConn {
    jobs: mpsc::Sender<Job>,
    /// Whether a transaction is open on the connection.
    in_transaction: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Why the last reconnection failed.
    down: std::sync::Arc<std::sync::Mutex<String>>,
}

impl PgConn {
    /// Connects to `url` (a `postgres://` URL).
    pub fn connect(url: &str) -> Result<PgConn, SqlError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready_tx, ready) = mpsc::channel();
        let url = url.to_string();
        let in_transaction = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let down = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (tx_flag, down_msg) = (in_transaction.clone(), down.clone());
        std::thread::Builder::new()
            .name("rootguard-postgres".into())
            .spawn(move || {
                let mut client = match open(&url) {
                    Ok(c) => {
                        let _ = ready_tx.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Ok(job) = queue.recv() {
                    if client.is_closed() {
                        if tx_flag.load(std::sync::atomic::Ordering::SeqCst) {
                            // The transaction is lost with its session: the
                            // job is dropped, its caller sees an error.
                            *down_msg.lock().unwrap_or_else(|p| p.into_inner()) =
                                "the connection was lost inside a transaction, which is rolled back".into();
                            continue;
                        }
                        match open(&url) {
                            Ok(c) => client = c,
                            Err(e) => {
                                *down_msg.lock().unwrap_or_else(|p| p.into_inner()) =
                                    format!("reconnecting: {e}");
                                continue;
                            }
                        }
                    }
                    job(&mut client);
                }
            })
            .map_err(|_| SqlError::Gone)?;
        ready.recv().map_err(|_| SqlError::Gone)??;
        Ok(PgConn {
            jobs,
            in_transaction,
            down,
        })
    }

    /// Runs `f` with the client on the connection's thread.
    pub fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> R + Send + 'static,
    ) -> Result<R, SqlError> {
        let (tx, rx) = mpsc::channel();
        self.jobs
            .send(Box::new(move |c| {
                let _ = tx.send(f(c));
            }))
            .map_err(|_| SqlError::Gone)?;
        rx.recv().map_err(|_| {
            SqlError::Unreachable(self.down.lock().map(|m| m.clone()).unwrap_or_default())
        })
    }

    /// Notes the transaction state a statement leaves.
    fn note(&self, sql: &str) {
        let word: String = sql
            .trim_start()
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        let flag = &self.in_transaction;
        if word.eq_ignore_ascii_case("BEGIN") {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        } else if word.eq_ignore_ascii_case("COMMIT") || word.eq_ignore_ascii_case("ROLLBACK") {
            flag.store(false, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// How long a session may sit idle inside a transaction before the server
/// ends it (and its locks): a leader frozen mid-append never blocks the
/// election for longer (`docs/RULES.md#replication`).
pub const IDLE_IN_TRANSACTION_MS: u64 = 1500;

/// How long a statement waits for a lock (the leader row) before failing.
pub const LOCK_TIMEOUT_MS: u64 = 2000;

/// Opens a connection to `url` with the record's session settings: TCP
/// keepalives and a user timeout (a cut network is noticed in seconds, not
/// hours), a connect timeout, and the idle-in-transaction and lock
/// timeouts above.
fn open(url: &str) -> Result<postgres::Client, SqlError> {
    use std::time::Duration;
    let mut config: postgres::Config = url.parse()?;
    let options = format!(
        "{} -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS} -c lock_timeout={LOCK_TIMEOUT_MS}",
        config.get_options().unwrap_or_default()
    );
    config
        .options(options.trim())
        .connect_timeout(Duration::from_secs(10))
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(5))
        .keepalives_interval(Duration::from_secs(2))
        .tcp_user_timeout(Duration::from_secs(15));
    Ok(config.connect(postgres::NoTls)?)
}

/// `?N` parameters as PostgreSQL's `$N`.
pub fn dollar_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

fn pg_row(row: &postgres::Row) -> Result<Row, SqlError> {
    use postgres::types::Type;
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let t = col.type_();
        let v = if *t == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *t == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *t == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *t == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?
                .map(|v| Value::Int(v.into()))
        } else if *t == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob)
        } else {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(out)
}

fn pg_params(params: &[Value]) -> Vec<Box<dyn postgres::types::ToSql + Sync + Send>> {
    params
        .iter()
        .map(|p| -> Box<dyn postgres::types::ToSql + Sync + Send> {
            match p {
                Value::Null => Box::new(None::<String>),
                Value::Int(v) => Box::new(*v),
                Value::Text(v) => Box::new(v.clone()),
                Value::Blob(v) => Box::new(v.clone()),
            }
        })
        .collect()
}

fn sqlite_value(v: rusqlite::types::ValueRef<'_>, column: usize) -> Result<Value, SqlError> {
    use rusqlite::types::ValueRef;
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(r) => Value::Text(r.to_string()),
        ValueRef::Text(t) => {
            Value::Text(String::from_utf8(t.to_vec()).map_err(|e| SqlError::Column {
                column,
                reason: format!("text that is not UTF-8: {e}"),
            })?)
        }
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    })
}

fn sqlite_param(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::Null => rusqlite::types::Value::Null,
        Value::Int(i) => rusqlite::types::Value::Integer(*i),
        Value::Text(t) => rusqlite::types::Value::Text(t.clone()),
        Value::Blob(b) => rusqlite::types::Value::Blob(b.clone()),
    }
}

/// A connection to the record's database.
pub enum Db {
    /// SQLite.
    Sqlite(rusqlite::Connection),
    /// PostgreSQL.
    Postgres(PgConn),
}

impl Db {
    /// The engine.
    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// The rows `sql` selects.
    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, SqlError> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let n = stmt.column_count();
                let params: Vec<rusqlite::types::Value> = params.iter().map(sqlite_param).collect();
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut row = Vec::with_capacity(n);
                    for i in 0..n {
                        row.push(sqlite_value(r.get_ref(i)?, i)?);
                    }
                    out.push(row);
                }
                Ok(out)
            }
            Db::Postgres(c) => {
                let sql = dollar_params(sql);
                let params = pg_params(params);
                c.call(move |client| {
                    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                        .iter()
                        .map(|p| p.as_ref() as &(dyn postgres::types::ToSql + Sync))
                        .collect();
                    let rows = client.query(sql.as_str(), &refs)?;
                    rows.iter().map(pg_row).collect::<Result<Vec<_>, _>>()
                })?
            }
        }
    }

    /// The first row `sql` selects, if any.
    pub fn query_opt(&self, sql: &str, params: &[Value]) -> Result<Option<Row>, SqlError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs one statement; returns the rows it changed.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, SqlError> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let params: Vec<rusqlite::types::Value> = params.iter().map(sqlite_param).collect();
                Ok(stmt.execute(rusqlite::params_from_iter(params))? as u64)
            }
            Db::Postgres(c) => {
                let sql = dollar_params(sql);
                let params = pg_params(params);
                c.call(move |client| {
                    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                        .iter()
                        .map(|p| p.as_ref() as &(dyn postgres::types::ToSql + Sync))
                        .collect();
                    client.execute(sql.as_str(), &refs)
                })?
                .map_err(SqlError::from)
            }
        }
    }

    /// Runs several statements without parameters.
    pub fn batch(&self, sql: &str) -> Result<(), SqlError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres(c) => {
                // The state changes once the statement ran: a COMMIT
                // whose session was lost fails (it is never sent to a new
                // one) and still ends the transaction, which the server
                // rolled back.
                let begin = sql.trim_start().to_ascii_uppercase().starts_with("BEGIN");
                // (`BEGIN;` and `BEGIN ISOLATION ...` alike.)
                let owned = sql.to_string();
                let r = c
                    .call(move |client| client.batch_execute(&owned))
                    .and_then(|r| r.map_err(SqlError::from));
                if !begin || r.is_ok() {
                    c.note(sql);
                }
                r
            }
        }
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled
    /// back otherwise. SQLite takes the write lock at once (`BEGIN
    /// IMMEDIATE`); PostgreSQL transactions serialise on the leader row.
    pub fn transaction<T, E: From<SqlError>>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, E>,
    ) -> Result<T, E> {
        let begin = match self.engine() {
            Engine::Sqlite => "BEGIN IMMEDIATE",
            Engine::Postgres => "BEGIN",
        };
        self.batch(begin)?;
        match f(self) {
            Ok(v) => {
                if let Err(e) = self.batch("COMMIT") {
                    let _ = self.batch("ROLLBACK");
                    return Err(e.into());
                }
                Ok(v)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_dollar_parameters() {
        assert_eq!(
            dollar_params("SELECT a FROM t WHERE x = ?1 AND y > ?12 AND z = '?'"),
            "SELECT a FROM t WHERE x = $1 AND y > $12 AND z = '?'"
        );
    }

    #[test]
    fn rows_of_the_wrong_type_are_errors_not_panics() {
        let db = Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        let rows = db.query("SELECT 1, 'a', x'00', NULL", &[]).unwrap();
        let r = &rows[0];
        assert_eq!(r.int(0).unwrap(), 1);
        assert_eq!(r.text(1).unwrap(), "a");
        assert_eq!(r.blob(2).unwrap(), vec![0]);
        assert_eq!(r.text_opt(3).unwrap(), None);
        assert!(r.int(1).unwrap_err().to_string().contains("text where"));
        assert!(r.text(9).is_err());
    }
}
