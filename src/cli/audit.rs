//! `rootguard audit`: the journal's hash chain, its Merkle tree and the
//! guard's signed checkpoints (`docs/RULES.md#checkpoints`).

use std::path::PathBuf;

use clap::Subcommand;

use super::output::{emit, print_json};
use super::{CliError, Context};
use crate::store::Store;
use crate::store::checkpoint::SigningKey;

/// `rootguard audit` subcommands.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain (exit 1 naming the first bad event); with
    /// --checkpoint, also that the journal is a consistent extension of a
    /// checkpoint kept elsewhere.
    Verify {
        /// A head hash recorded earlier (e.g. from a previous verify or
        /// export): the chain must still contain it, which detects events
        /// removed from the end.
        #[arg(long)]
        expect_head: Option<String>,
        /// A signed checkpoint kept outside the store (`audit checkpoint`
        /// or GET /api/v1/audit/checkpoint).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The guard's verifier key (`audit key`); default: read from the
        /// guard's key file.
        #[arg(long)]
        verifier_key: Option<String>,
        /// The guard's key file (default: the store's path with `.key`).
        #[arg(long = "guard-key", id = "guard_key")]
        key: Option<PathBuf>,
    },
    /// Write the journal as JSON lines to stdout.
    Export,
    /// Print the latest signed checkpoint (exit 1 when none was signed).
    Checkpoint,
    /// Print the inclusion proof of event SEQ in the latest checkpoint.
    Prove {
        /// The event's sequence number.
        seq: i64,
    },
    /// After restoring a backup (or moving a record with its key): adopt
    /// the record's latest checkpoint signed by the guard as the last
    /// signed head kept beside the key, so that the guard signs again.
    /// Events published after that checkpoint and not in the restored
    /// record are lost; holders of later checkpoints will see the rewrite.
    AcceptRestore {
        /// The guard's key file (default: the store's path with `.key`).
        #[arg(long = "guard-key", id = "guard_key")]
        key: Option<PathBuf>,
    },
    /// Print the guard's verifier key (public).
    Key {
        /// The guard's key file (default: the store's path with `.key`).
        #[arg(long = "guard-key", id = "guard_key")]
        key: Option<PathBuf>,
    },
}

fn key_file(ctx: &Context, key: Option<PathBuf>) -> PathBuf {
    key.unwrap_or_else(|| {
        let mut p = ctx.store().into_os_string();
        p.push(".key");
        PathBuf::from(p)
    })
}

impl AuditCommand {
    /// Runs the subcommand.
    pub fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let store = Store::open(&ctx.store())?;
        match self {
            AuditCommand::Verify {
                expect_head,
                checkpoint: None,
                ..
            } => {
                let r = store.verify_with_head(expect_head.as_deref())?;
                print_json(&r)?;
                Ok(if r.first_bad.is_none() { 0 } else { 1 })
            }
            AuditCommand::Verify {
                expect_head,
                checkpoint: Some(file),
                verifier_key,
                key,
            } => {
                let note = std::fs::read_to_string(&file).map_err(|source| CliError::Io {
                    what: "reading the checkpoint",
                    source: std::io::Error::new(
                        source.kind(),
                        format!("{}: {source}", file.display()),
                    ),
                })?;
                let vkey = match verifier_key {
                    Some(v) => v,
                    None => {
                        SigningKey::load(&key_file(ctx, key))
                            .map_err(crate::app::AppError::from)?
                            .verifier_key
                    }
                };
                let mut facts_seen = false;
                let mut r = store.verify_checkpoint(&note, &vkey, |chunk| {
                    crate::ledger::accept_chunk(chunk, &vkey, &mut facts_seen)
                })?;
                if r.first_bad.is_none() && expect_head.is_some() {
                    r = store.verify_with_head(expect_head.as_deref())?;
                }
                print_json(&r)?;
                Ok(if r.first_bad.is_none() { 0 } else { 1 })
            }
            AuditCommand::Export => {
                let mut out = std::io::stdout().lock();
                store.export(&mut out)?;
                Ok(0)
            }
            AuditCommand::Checkpoint => match store.latest_checkpoint()? {
                Some(c) => {
                    emit(&c.note)?;
                    Ok(0)
                }
                None => {
                    eprintln!("rootguard: no checkpoint has been signed yet");
                    Ok(1)
                }
            },
            AuditCommand::Prove { seq } => {
                print_json(&crate::app::inclusion_proof(&store, seq)?)?;
                Ok(0)
            }
            AuditCommand::AcceptRestore { key } => {
                let k =
                    SigningKey::load(&key_file(ctx, key)).map_err(crate::app::AppError::from)?;
                let previous = k.last_head().ok().flatten();
                let Some(c) = store.latest_checkpoint()? else {
                    eprintln!("rootguard: the record holds no checkpoint to adopt");
                    return Ok(1);
                };
                let head = crate::store::checkpoint::verify(&c.note, &k.verifier_key)
                    .map_err(crate::app::AppError::from)?;
                if store.root(head.size)? != head.root {
                    eprintln!(
                        "rootguard: the record's latest checkpoint does not match its journal"
                    );
                    return Ok(1);
                }
                k.keep_head(&c.note).map_err(crate::app::AppError::from)?;
                eprintln!(
                    "rootguard: WARNING: the guard now extends checkpoint {} of this record; events signed after it elsewhere are not in it",
                    head.size
                );
                print_json(&serde_json::json!({
                    "adopted": head.size,
                    "previous": previous.map(|p| p.size),
                }))?;
                Ok(0)
            }
            AuditCommand::Key { key } => {
                let k =
                    SigningKey::load(&key_file(ctx, key)).map_err(crate::app::AppError::from)?;
                emit(&format!("{}\n", k.verifier_key))?;
                Ok(0)
            }
        }
    }
}
