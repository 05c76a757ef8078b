//! Signed checkpoints of the record (`docs/RULES.md#checkpoints`): the
//! journal is a Merkle tree log (RFC 9162 hashing; one leaf per event, the
//! leaf data being the event's stored bytes), and the guard signs its tree
//! head as a C2SP `tlog-checkpoint` in the C2SP signed-note format with its
//! own Ed25519 key, kept in a file of its own (mode 0600), never in the
//! store. Whoever keeps a published checkpoint detects a rewritten journal
//! (even with every hash recomputed: the old root commits to the old
//! entries) and a cut tail, and can check that an event is included.

use std::path::{Path, PathBuf};

use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};
use tlog_tiles::{Checkpoint as TreeHead, Hash};

/// Why a key or a checkpoint cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The key file cannot be read or written.
    #[error("{file}: guard key: {reason}")]
    Key {
        /// The key file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint is not a well-formed signed note or tree head.
    #[error("not a valid checkpoint: {0}")]
    Malformed(String),
    /// The checkpoint's signature does not verify with the guard's key.
    #[error("the checkpoint is not signed by the guard's key {key_name}: {reason}")]
    Signature {
        /// The key name.
        key_name: String,
        /// What the verifier said.
        reason: String,
    },
}

/// A signing key: a C2SP signed-note Ed25519 private key and its verifier
/// key, one per line, in a file of mode 0600. The guard signs checkpoints
/// with its own; every identity signs its commands with its own
/// (`rootguard key new`).
pub struct SigningKey {
    signer: StandardSigner,
    /// The verifier key (public), e.g. `rootguard+1a2b3c4d+AQ...`.
    pub verifier_key: String,
    /// The key name, which is also the checkpoints' origin line.
    pub name: String,
    /// The key file.
    file: PathBuf,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("verifier_key", &self.verifier_key)
            .finish()
    }
}

impl SigningKey {
    /// Creates a new key named `name` at `file` (mode 0600); refuses to
    /// overwrite an existing file. Only `rootguard key new` and the first
    /// seeding of a record create keys: a missing key is otherwise an
    /// error, never silently replaced.
    pub fn create(file: &Path, name: &str) -> Result<SigningKey, CheckpointError> {
        let bad = |reason: String| CheckpointError::Key {
            file: file.to_path_buf(),
            reason,
        };
        if !signed_note::is_key_name_valid(name) {
            return Err(bad(format!("{name:?} is not a valid key name")));
        }
        let (skey, vkey) = signed_note::generate_key(&mut rand_core::OsRng, name);
        write_private(file, format!("{skey}\n{vkey}\n").as_bytes())
            .map_err(|e| bad(format!("cannot create: {e}")))?;
        let key = SigningKey::load(file)?;
        key.mark_nothing_signed()?;
        Ok(key)
    }

    /// Keeps, beside the key, the signed statement that it has signed no
    /// checkpoint yet (a new key; a migrated record without checkpoints).
    pub fn mark_nothing_signed(&self) -> Result<(), CheckpointError> {
        self.keep_head(&self.sign_text(NOTHING_SIGNED)?)
    }

    /// Reads the key at `file`; refuses a file others may read.
    pub fn load(file: &Path) -> Result<SigningKey, CheckpointError> {
        let bad = |reason: String| CheckpointError::Key {
            file: file.to_path_buf(),
            reason,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file)
                .map_err(|e| bad(format!("cannot read: {e}")))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(bad(format!(
                    "mode {:o} lets others read the private key; chmod 600 it",
                    mode & 0o777
                )));
            }
        }
        let text = std::fs::read_to_string(file).map_err(|e| bad(format!("cannot read: {e}")))?;
        let mut lines = text.lines();
        let (Some(skey), Some(vkey)) = (lines.next(), lines.next()) else {
            return Err(bad(
                "expected a private key line and a verifier key line".into()
            ));
        };
        let signer = StandardSigner::new(skey.trim()).map_err(|e| bad(e.to_string()))?;
        StandardVerifier::new(vkey.trim()).map_err(|e| bad(e.to_string()))?;
        let name = vkey.split('+').next().unwrap_or_default().to_string();
        Ok(SigningKey {
            signer,
            verifier_key: vkey.trim().to_string(),
            name,
            file: file.to_path_buf(),
        })
    }

    /// The file beside the key that keeps the last checkpoint it signed.
    pub fn head_file(&self) -> PathBuf {
        let mut f = self.file.as_os_str().to_owned();
        f.push(".head");
        PathBuf::from(f)
    }

    /// The last checkpoint this key signed, as kept beside it; `None`
    /// when it has signed none yet. A missing file is an error: the guard
    /// never signs blind.
    pub fn last_head(&self) -> Result<Option<SignedHead>, CheckpointError> {
        let file = self.head_file();
        let note = std::fs::read_to_string(&file).map_err(|e| CheckpointError::Key {
            file: file.clone(),
            reason: format!(
                "the last checkpoint this key signed cannot be read ({e}); the guard signs nothing until it is restored or an operator runs `rootguard audit accept-restore`"
            ),
        })?;
        if let Ok(n) = Note::from_bytes(note.as_bytes())
            && n.text() == NOTHING_SIGNED.as_bytes()
            && n.verify(&VerifierList::new(vec![Box::new(
                StandardVerifier::new(&self.verifier_key)
                    .map_err(|e| CheckpointError::Malformed(e.to_string()))?,
            )]))
            .is_ok()
        {
            return Ok(None);
        }
        verify(&note, &self.verifier_key).map(Some)
    }

    /// Keeps `note` as the last checkpoint signed (written to a new file,
    /// synced, then renamed over the old one).
    pub fn keep_head(&self, note: &str) -> Result<(), CheckpointError> {
        use std::io::Write;
        let file = self.head_file();
        let mut tmp = file.as_os_str().to_owned();
        tmp.push(".new");
        let tmp = PathBuf::from(tmp);
        let bad = |e: std::io::Error| CheckpointError::Key {
            file: file.clone(),
            reason: format!("cannot keep the last signed checkpoint: {e}"),
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp).map_err(bad)?;
        f.write_all(note.as_bytes()).map_err(bad)?;
        f.sync_all().map_err(bad)?;
        std::fs::rename(&tmp, &file).map_err(bad)
    }

    /// Signs `text` (which must end with a newline) as a signed note.
    pub fn sign_text(&self, text: &str) -> Result<String, CheckpointError> {
        let mut note = Note::new(text.as_bytes(), &[])
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        String::from_utf8(note.to_bytes()).map_err(|e| CheckpointError::Malformed(e.to_string()))
    }

    /// The seal of a journal event whose unsealed hash is `hash`: the
    /// base64 of this key's signed-note signature over it.
    pub fn seal(&self, hash: &str) -> Result<String, CheckpointError> {
        let note = self.sign_text(&seal_text(hash))?;
        note.lines()
            .rev()
            .find_map(|l| l.strip_prefix("\u{2014} "))
            .and_then(|l| l.split_once(' '))
            .map(|(_, sig)| sig.to_string())
            .ok_or_else(|| CheckpointError::Malformed("no signature line".into()))
    }

    /// Signs the tree head of a log of `size` entries with root `root`.
    pub fn sign(&self, size: u64, root: [u8; 32]) -> Result<String, CheckpointError> {
        self.sign_head(size, root, "")
    }

    /// Signs the tree head of a log of `size` entries with root `root`,
    /// written in the leader's `term` (an extension line `term N`,
    /// `docs/RULES.md#replication`).
    pub fn sign_in_term(
        &self,
        size: u64,
        root: [u8; 32],
        term: u64,
    ) -> Result<String, CheckpointError> {
        self.sign_head(size, root, &format!("{TERM_LINE}{term}\n"))
    }

    fn sign_head(
        &self,
        size: u64,
        root: [u8; 32],
        extension: &str,
    ) -> Result<String, CheckpointError> {
        let head = TreeHead::new(&self.name, size, Hash(root), extension)
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        let mut note = Note::new(&head.to_bytes(), &[])
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        String::from_utf8(note.to_bytes()).map_err(|e| CheckpointError::Malformed(e.to_string()))
    }
}

fn write_private(file: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(file)?;
    f.write_all(data)?;
    f.sync_all()
}

/// The text of the statement that a key has signed no checkpoint yet.
const NOTHING_SIGNED: &str = "rootguard-head/v1\nnothing signed yet\n";

fn seal_text(hash: &str) -> String {
    format!("rootguard-event/v1\n{hash}\n")
}

/// Whether `seal` is the signature of the key `vkey` over the journal
/// event whose unsealed hash is `hash`.
pub fn seal_verifies(vkey: &str, hash: &str, seal: &str) -> bool {
    let Ok(verifier) = StandardVerifier::new(vkey) else {
        return false;
    };
    let name = signed_note::Verifier::name(&verifier).to_string();
    if seal.contains(['\n', ' ']) {
        return false;
    }
    let text = format!("{}\n\u{2014} {name} {seal}\n", seal_text(hash));
    let Ok(note) = Note::from_bytes(text.as_bytes()) else {
        return false;
    };
    note.verify(&VerifierList::new(vec![Box::new(verifier)]))
        .is_ok()
}

/// The extension line of a checkpoint that names the leader's term.
pub const TERM_LINE: &str = "term ";

/// A verified checkpoint: the tree size and root it commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHead {
    /// The origin line (the guard's key name).
    pub origin: String,
    /// Entries in the log.
    pub size: u64,
    /// The RFC 9162 root hash.
    pub root: [u8; 32],
    /// The leader's term it names (none before terms were named).
    pub term: Option<u64>,
}

/// Verifies a checkpoint's signature with the verifier key `vkey` and
/// returns the tree head it commits to.
pub fn verify(note: &str, vkey: &str) -> Result<SignedHead, CheckpointError> {
    let verifier = StandardVerifier::new(vkey).map_err(|e| CheckpointError::Signature {
        key_name: vkey.split('+').next().unwrap_or_default().to_string(),
        reason: format!("the verifier key is not valid: {e}"),
    })?;
    let key_name = signed_note::Verifier::name(&verifier).to_string();
    let note =
        Note::from_bytes(note.as_bytes()).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    let list = VerifierList::new(vec![Box::new(verifier)]);
    note.verify(&list).map_err(|e| CheckpointError::Signature {
        key_name: key_name.clone(),
        reason: e.to_string(),
    })?;
    let head =
        TreeHead::from_bytes(note.text()).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    if head.origin() != key_name {
        return Err(CheckpointError::Signature {
            key_name,
            reason: format!("the origin {:?} is not the key's name", head.origin()),
        });
    }
    Ok(SignedHead {
        origin: head.origin().to_string(),
        size: head.size(),
        root: head.hash().0,
        term: head
            .extension()
            .lines()
            .find_map(|l| l.strip_prefix(TERM_LINE))
            .and_then(|t| t.parse().ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_refuse_forgeries() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("guard.key");
        let key = SigningKey::create(&file, "rootguard").unwrap();
        assert!(
            SigningKey::create(&file, "rootguard").is_err(),
            "never overwritten"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let note = key.sign(7, [9; 32]).unwrap();
        assert_eq!(verify(&note, &key.verifier_key).unwrap().term, None);
        let termed = key.sign_in_term(7, [9; 32], 3).unwrap();
        assert!(termed.contains("\nterm 3\n"), "{termed}");
        let head = verify(&termed, &key.verifier_key).unwrap();
        assert_eq!((head.size, head.term), (7, Some(3)));
        assert!(verify(&termed.replacen("term 3", "term 4", 1), &key.verifier_key).is_err());
        let head = verify(&note, &key.verifier_key).unwrap();
        assert_eq!((head.size, head.root), (7, [9; 32]));
        // Another key, an edited size, an edited root: refused.
        let other = SigningKey::create(&dir.path().join("other.key"), "rootguard").unwrap();
        assert!(verify(&note, &other.verifier_key).is_err());
        assert!(verify(&note.replacen("\n7\n", "\n8\n", 1), &key.verifier_key).is_err());
        let forged = other.sign(7, [9; 32]).unwrap();
        assert!(verify(&forged, &key.verifier_key).is_err());
        // A key file others can read is refused.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(SigningKey::load(&file).is_err());
        }
    }
}
