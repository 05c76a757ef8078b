//! `rootguard key new`: an identity's signing key (`docs/RULES.md#identities`).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::CliError;
use super::output::emit;
use crate::store::checkpoint::SigningKey;

/// `rootguard key ...`.
#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create a key: FILE (the private key, mode 0600, never overwritten)
    /// and FILE.pub (the verifier key an operator registers); prints the
    /// verifier key.
    New(NewArgs),
}

/// Arguments of `rootguard key new`.
#[derive(Args)]
pub struct NewArgs {
    /// The identity's name (the key carries it).
    #[arg(long)]
    identity: String,
    /// The private key file to create.
    #[arg(long)]
    out: PathBuf,
}

impl KeyCommand {
    /// Runs the command.
    pub fn run(self) -> Result<u8, CliError> {
        match self {
            KeyCommand::New(a) => {
                if !crate::ledger::identity::valid_name(&a.identity) {
                    return Err(CliError::Argument {
                        argument: "--identity",
                        value: a.identity,
                        reason: "1 to 64 letters, digits, '-', '_' or '.'".into(),
                    });
                }
                let key =
                    SigningKey::create(&a.out, &a.identity).map_err(crate::app::AppError::from)?;
                let mut public = a.out.as_os_str().to_owned();
                public.push(".pub");
                std::fs::write(&public, format!("{}\n", key.verifier_key)).map_err(|source| {
                    CliError::Io {
                        what: "writing the verifier key",
                        source,
                    }
                })?;
                emit(&format!("{}\n", key.verifier_key))?;
                Ok(0)
            }
        }
    }
}

/// A verifier key given as the key itself or as a file holding it (a
/// `.pub` file, or the last line of a key file).
pub fn verifier_key(argument: &'static str, value: &str) -> Result<String, CliError> {
    if signed_note::StandardVerifier::new(value.trim()).is_ok() {
        return Ok(value.trim().to_string());
    }
    let text = std::fs::read_to_string(value).map_err(|e| CliError::Argument {
        argument,
        value: value.to_string(),
        reason: format!("neither a verifier key nor a readable file: {e}"),
    })?;
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| signed_note::StandardVerifier::new(l).is_ok())
        .map(str::to_string)
        .ok_or_else(|| CliError::Argument {
            argument,
            value: value.to_string(),
            reason: "the file holds no verifier key (NAME+HASH+BASE64)".into(),
        })
}
