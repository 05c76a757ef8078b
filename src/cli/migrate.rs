//! `rootguard migrate`: converts a record written in an older format,
//! keeping a copy of the old file and recording its head hash in the log.

use clap::Args;

use super::output::print_json;
use super::{CliError, Context};
use crate::ledger::Ledger;
use crate::ledger::identity::{Kind, Registration};
use crate::store::checkpoint::SigningKey;

/// Arguments of `rootguard migrate`.
#[derive(Args)]
pub struct MigrateArgs {
    /// The first operator's identity name: records of the formats before
    /// identities have none (docs/RULES.md#identities).
    #[arg(long)]
    operator: Option<String>,
    /// The first operator's verifier key, or its `.pub` file.
    #[arg(long)]
    operator_key: Option<String>,
    #[command(flatten)]
    config: super::ConfigArgs,
}

impl MigrateArgs {
    /// Converts the record named by `--store`.
    pub async fn run(self, ctx: &Context) -> Result<u8, CliError> {
        let config = self.config.load(Some(&ctx.store()))?;
        let mut identities = Vec::new();
        if let (Some(id), Some(key)) = (&self.operator, &self.operator_key) {
            identities.push(Registration {
                id: id.clone(),
                kind: Kind::Operator,
                tlds: Vec::new(),
                person: id.clone(),
                key: Some(super::key::verifier_key("--operator-key", key)?),
                token_sha256: None,
                body: None,
                of: None,
            });
        }
        if crate::store::Store::needs_migration(&ctx.store())? {
            // The guard's key signs the migrated record: the one kept
            // beside the record, created only for a record never signed.
            let file = config.guard_key_path();
            let key = if file.exists() {
                SigningKey::load(&file)
            } else {
                SigningKey::create(&file, crate::app::CHECKPOINT_ORIGIN)
            }
            .map_err(crate::app::AppError::from)?;
            identities.push(Registration {
                id: crate::app::CHECKPOINT_ORIGIN.into(),
                kind: Kind::Guard,
                tlds: Vec::new(),
                person: "rootguard (the guard itself)".into(),
                key: Some(key.verifier_key.clone()),
                token_sha256: None,
                body: None,
                of: None,
            });
        }
        let (ledger, migrated) =
            Ledger::migrate(&ctx.store(), &identities, Some(&config.guard_key_path()))
                .map_err(crate::app::AppError::from)?;
        drop(ledger);
        if migrated.is_some() {
            // Records of the older formats kept no signed head beside the
            // key: the latest checkpoint this key signed in the record is
            // adopted once, here (or, when it signed none, that is noted).
            let key =
                SigningKey::load(&config.guard_key_path()).map_err(crate::app::AppError::from)?;
            if key.last_head().is_err() {
                let latest = crate::store::Store::open(&ctx.store())?.latest_checkpoint()?;
                match latest {
                    Some(c)
                        if crate::store::checkpoint::verify(&c.note, &key.verifier_key).is_ok() =>
                    {
                        key.keep_head(&c.note).map_err(crate::app::AppError::from)?
                    }
                    _ => key
                        .mark_nothing_signed()
                        .map_err(crate::app::AppError::from)?,
                }
            }
        }
        // The migration is signed like every change of state.
        let app = crate::app::App::open(config.clone())?;
        if migrated.is_some() {
            app.checkpoint(true).await?;
        }
        drop(app);
        let ledger = Ledger::open_sealed(&ctx.store(), Some(&config.guard_key_path()))
            .map_err(crate::app::AppError::from)?;
        let report = ledger.store().verify()?;
        print_json(&serde_json::json!({
            "migrated": migrated,
            "events": report.events,
            "first_bad": report.first_bad,
        }))?;
        Ok(if report.first_bad.is_none() { 0 } else { 1 })
    }
}
