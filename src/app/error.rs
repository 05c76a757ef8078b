//! The application's one error type and the exit status each error means:
//! 3 for bad input (a file, a request, an argument, a refusal by the
//! rules), 4 for a failure of this machine (the store, a socket, a port in
//! use, a task that died). The binary calls [`AppError::exit_code`]; HTTP
//! converts at its one edge.

use std::path::PathBuf;

use crate::ledger::LedgerError;
use crate::policy::gate::InvalidRequest;

/// Why an application operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The record refused (the rules) or failed (the store).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A change request is not valid input.
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
    /// A zone file could not be read.
    #[error(transparent)]
    Zone(#[from] crate::zone::ZoneError),
    /// A registry file could not be read.
    #[error(transparent)]
    Registry(#[from] crate::zone::registry::RegistryError),
    /// The profile could not be read.
    #[error(transparent)]
    Profile(#[from] crate::checks::profile::ProfileError),
    /// The configuration is not usable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Input carries what only the guard observes
    /// (`docs/RULES.md#observations`).
    #[error(
        "{what} come only from rootguard's own probes at the moment of the decision; input carrying them is refused (docs/RULES.md#observations)"
    )]
    Observation {
        /// What the input carried.
        what: &'static str,
    },
    /// Input carries the incumbent's confirmations as booleans
    /// (`docs/RULES.md#identities`).
    #[error(
        "the incumbent's confirmations come from its registered administrative and technical contacts, each confirming the request with its own credential (`rootguard act change-confirm`); a request carrying them is refused (docs/RULES.md#identities)"
    )]
    Confirmations,
    /// A change request file is not valid JSON of the request format.
    #[error(
        "{file}:{line}:{column}: not a valid change request (see docs/change-request.schema.json, docs/RULES.md#change-request-data): {message}"
    )]
    Request {
        /// The file.
        file: PathBuf,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The record is empty and nothing is configured to seed it.
    #[error(
        "the record {0} is not seeded and no zone.file is configured: run `rootguard import` or set zone.file"
    )]
    NotSeeded(String),
    /// `zone.require_authentic` is set and the zone that would seed the
    /// record does not verify (docs/RULES.md#authentic-root-zone).
    #[error("the record is not seeded: {0}")]
    UnverifiedSeed(String),
    /// The guard's key or a checkpoint cannot be used.
    #[error(transparent)]
    Checkpoint(#[from] crate::store::checkpoint::CheckpointError),
    /// The record's clock is the system clock; only a simulation's may be
    /// set (`docs/RULES.md#identities`).
    #[error(
        "the record {0} keeps the system clock: --now is for a record created as a simulation (`rootguard import --simulation`) (docs/RULES.md#identities)"
    )]
    Clock(String),
    /// The guard's key file is missing: only the first seeding and
    /// `rootguard key new` create keys.
    #[error(
        "{0}: the guard's key file is missing; it is created once, when the record is first seeded, and never again silently: restore it from your backup (docs/RULES.md#checkpoints)"
    )]
    NoGuardKey(PathBuf),
    /// The store's tree is not a consistent extension of the last
    /// checkpoint the guard signed: the guard refuses to sign it.
    #[error(
        "the record's tree is not a consistent extension of the last checkpoint this guard signed ({0}): the journal was rewritten or cut; nothing is signed (docs/RULES.md#checkpoints)"
    )]
    Rewritten(String),
    /// No inclusion proof can be given.
    #[error("{0}")]
    NoProof(String),
    /// Blocking work on a worker thread died.
    #[error("a worker thread failed: {0}")]
    Worker(String),
}

impl AppError {
    /// The exit status this error means: 3 bad input, 4 a failure of this
    /// machine.
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Ledger(LedgerError::Store(crate::store::StoreError::NeedsMigration {
                ..
            })) => 3,
            AppError::Ledger(
                LedgerError::Store(_) | LedgerError::Replay { .. } | LedgerError::Key(_),
            )
            | AppError::Worker(_)
            | AppError::NoGuardKey(_)
            | AppError::Rewritten(_) => 4,
            _ => 3,
        }
    }

    /// Whether the rules refused (as opposed to bad data or a failure).
    pub fn is_refusal(&self) -> bool {
        matches!(self, AppError::Ledger(LedgerError::Refused(_)))
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> AppError {
        AppError::Ledger(LedgerError::Store(e))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> AppError {
        AppError::Worker(e.to_string())
    }
}
