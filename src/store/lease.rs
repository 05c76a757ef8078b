//! The lease that elects one leader among several `rootguard serve`
//! instances on one PostgreSQL record (`docs/RULES.md#replication`). It
//! has a connection of its own, so that renewing it never waits behind a
//! sweep's transaction.
//!
//! ```text
//!            tick: lease ran out, take it (term + 1)
//!   Follower ─────────────────────────────────────────▶ Leader(term)
//!      ▲                                                   │ tick: renew
//!      │      tick: renewal refused (another term), or     │ (holder and
//!      └────────── release on shutdown ◀───────────────────┘  term mine)
//! ```

use std::path::{Path, PathBuf};

use super::db::{Db, PgConn};
use super::pg::{self, Leadership};
use super::{Location, StoreError, Writer};

/// What a tick of the lease found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// This instance was elected in a new term.
    Elected(Writer),
    /// This instance leads and renewed its lease.
    Leading(Writer),
    /// This instance led, and another was elected: it must stop writing.
    Deposed {
        /// The term it led in.
        term: u64,
    },
    /// Another instance leads (or the lease has not run out yet).
    Following(Leadership),
}

/// This instance's lease on a shared record.
pub struct Lease {
    db: Db,
    file: PathBuf,
    holder: String,
    url: String,
    secs: u64,
    term: Option<u64>,
    /// Whether a tick takes a lease that ran out.
    stand: bool,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("holder", &self.holder)
            .field("term", &self.term)
            .finish()
    }
}

impl Lease {
    /// Connects for the record at `store` (`None` for a SQLite file, which
    /// one process leads); `holder` names this instance, `url` is its API
    /// (where followers send writers) and the lease runs `secs` seconds
    /// after each renewal.
    pub fn connect(
        store: &Path,
        holder: &str,
        url: &str,
        secs: u64,
    ) -> Result<Option<Lease>, StoreError> {
        let Location::Postgres(u) = Location::of(store) else {
            return Ok(None);
        };
        let file = PathBuf::from(super::redact(&u));
        let db = Db::Postgres(PgConn::connect(&u).map_err(|source| StoreError::Db {
            file: file.clone(),
            context: "connecting for the lease",
            source,
        })?);
        pg::prepare(&db).map_err(|source| StoreError::Db {
            file: file.clone(),
            context: "creating the schema",
            source,
        })?;
        Ok(Some(Lease {
            db,
            file,
            holder: holder.to_string(),
            url: url.to_string(),
            secs: secs.max(1),
            term: None,
            stand: true,
        }))
    }

    fn err(&self, context: &'static str) -> impl Fn(super::SqlError) -> StoreError + '_ {
        move |source| StoreError::Db {
            file: self.file.clone(),
            context,
            source,
        }
    }

    /// The writer this instance is while it leads.
    pub fn writer(&self) -> Option<Writer> {
        self.term.map(|term| Writer {
            holder: self.holder.clone(),
            term,
        })
    }

    /// Renews the lease when leading, takes it when it ran out.
    pub fn tick(&mut self) -> Result<Standing, StoreError> {
        if let Some(term) = self.term {
            let renewed = pg::renew(&self.db, &self.holder, term, self.secs)
                .map_err(self.err("renewing the lease"))?;
            if renewed {
                return Ok(Standing::Leading(Writer {
                    holder: self.holder.clone(),
                    term,
                }));
            }
            self.term = None;
            return Ok(Standing::Deposed { term });
        }
        let taken = if self.stand {
            pg::acquire(&self.db, &self.holder, &self.url, self.secs)
                .map_err(self.err("taking the lease"))?
        } else {
            None
        };
        match taken {
            Some(term) => {
                self.term = Some(term);
                Ok(Standing::Elected(Writer {
                    holder: self.holder.clone(),
                    term,
                }))
            }
            None => Ok(Standing::Following(
                pg::leadership(&self.db).map_err(self.err("reading the leader row"))?,
            )),
        }
    }

    /// Whether this instance stands for election (an instance that could
    /// not lead stays out for a while, rather than taking the lease at
    /// every tick).
    pub fn stand(&mut self, stand: bool) {
        self.stand = stand;
    }

    /// Forgets the lease without telling the database (which cannot be
    /// reached): this instance no longer counts itself the leader; the
    /// lease runs out by itself.
    pub fn forget(&mut self) -> Option<u64> {
        self.term.take()
    }

    /// Gives the lease up (on shutdown), so that another instance takes
    /// over at once.
    pub fn release(&mut self) -> Result<(), StoreError> {
        if let Some(term) = self.term.take() {
            pg::release(&self.db, &self.holder, term).map_err(self.err("releasing the lease"))?;
        }
        Ok(())
    }
}
