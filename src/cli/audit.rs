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
    /// Rotate the guard's key: a new key; an event recording it, sealed
    /// and checkpointed with the old key; from then on the new key seals
    /// and signs. The old key file is kept as KEY.retired-UNIXTIME. Stop
    /// the daemon first.
    RotateKey {
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
                // The record's guard keys (rotations included); the
                // checkpoint's key must be one of them.
                let chain =
                    crate::ledger::guard_keys(&store).map_err(crate::app::AppError::from)?;
                let others: Vec<String> = chain.iter().map(|(_, k)| k.clone()).collect();
                if !chain.is_empty() && !others.contains(&vkey) {
                    eprintln!(
                        "rootguard: {vkey} is not a guard key of this record (its keys: {})",
                        others.join(", ")
                    );
                    return Ok(1);
                }
                let (mut facts_seen, mut last_term) = (false, 0);
                let mut r = store.verify_checkpoint(&note, &vkey, &others, |chunk| {
                    crate::ledger::accept_chunk(chunk, &chain, &mut facts_seen, &mut last_term)
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
                let key = crate::ledger::guard_keys(&store)
                    .map_err(crate::app::AppError::from)?
                    .pop()
                    .map(|(_, k)| k);
                print_json(&crate::app::inclusion_proof(&store, key.as_deref(), seq)?)?;
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
            AuditCommand::RotateKey { key } => {
                let file = key_file(ctx, key);
                if let Ok(Some(url)) = crate::daemon::presence::running(&ctx.store()) {
                    return Err(CliError::Remote {
                        url,
                        status: 409,
                        message: "stop the daemon before rotating the guard's key".into(),
                    });
                }
                let beside = |suffix: &str| {
                    let mut p = file.clone().into_os_string();
                    p.push(suffix);
                    PathBuf::from(p)
                };
                let old = SigningKey::load(&file).map_err(crate::app::AppError::from)?;
                let next = beside(".next");
                let new =
                    SigningKey::create(&next, &old.name).map_err(crate::app::AppError::from)?;
                drop(store);
                let mut ledger = crate::ledger::Ledger::open_sealed(&ctx.store(), Some(&file))
                    .map_err(crate::app::AppError::from)?;
                let at = crate::time::Timestamp::now().max(ledger.world().last_at);
                let r = ledger
                    .rotate_key(&next, at)
                    .map_err(crate::app::AppError::from)?;
                // The rotation is committed to by the old key's checkpoint.
                crate::app::sign_checkpoint(&ledger, &old, true, at)?;
                drop(ledger);
                let retired = beside(&format!(".retired-{}", at.as_second()));
                let rename = |from: &PathBuf, to: &PathBuf| {
                    std::fs::rename(from, to).map_err(|source| CliError::Io {
                        what: "moving the guard's key files",
                        source,
                    })
                };
                rename(&file, &retired)?;
                rename(
                    &old.head_file(),
                    &PathBuf::from(format!("{}.head", retired.display())),
                )?;
                rename(&next, &file)?;
                rename(&new.head_file(), &beside(".head"))?;
                print_json(&serde_json::json!({
                    "event": r.event.seq,
                    "old": old.verifier_key,
                    "new": new.verifier_key,
                    "retired": retired,
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
