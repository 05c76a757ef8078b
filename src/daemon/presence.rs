//! Whether a daemon serves a record (`docs/RULES.md#identities`): the
//! daemon keeps an exclusive lock on `STORE.daemon`, a file holding its
//! API's address, for as long as it runs. A command-line writer that finds
//! the lock held sends its signed command to that daemon, so that every
//! write goes through the one process that holds the guard's key; when no
//! daemon holds it, the command line opens the record itself.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The daemon's presence, held while it runs.
#[derive(Debug)]
pub struct Presence {
    _file: File,
    /// The marker file.
    pub path: PathBuf,
}

/// The marker file of the record at `store`.
pub fn marker(store: &Path) -> PathBuf {
    let mut p = store.as_os_str().to_owned();
    p.push(".daemon");
    PathBuf::from(p)
}

fn lock(file: &File, exclusive: bool) -> bool {
    let op = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    // SAFETY: flock on a descriptor this process owns.
    unsafe { libc::flock(file.as_raw_fd(), op | libc::LOCK_NB) == 0 }
}

impl Presence {
    /// Announces the daemon serving `store` at `url`; refuses when
    /// another daemon already serves it.
    pub fn announce(store: &Path, url: &str) -> std::io::Result<Presence> {
        let path = marker(store);
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .mode(0o600)
            .open(&path)?;
        if !lock(&file, true) {
            return Err(std::io::Error::other(format!(
                "another daemon serves this record ({} is locked)",
                path.display()
            )));
        }
        file.set_len(0)?;
        file.write_all(format!("{url}\n").as_bytes())?;
        file.sync_all()?;
        Ok(Presence { _file: file, path })
    }
}

/// The API address of the daemon serving `store`, when one runs. A
/// marker that this user does not own, that others may write, or that
/// names anything but a loopback HTTP address is refused: signed commands
/// are never sent to whoever planted a file.
pub fn running(store: &Path) -> Result<Option<String>, String> {
    use std::os::unix::fs::MetadataExt;
    if crate::store::is_postgres(store) {
        return leader(store);
    }
    let path = marker(store);
    let Ok(mut file) = File::open(&path) else {
        return Ok(None);
    };
    if lock(&file, false) {
        // Nobody holds it: no daemon (the lock is released on close).
        return Ok(None);
    }
    let meta = file
        .metadata()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    if meta.uid() != uid || meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is held by a process but is not this user's own file of mode 0600: refusing to send commands to it",
            path.display()
        ));
    }
    let mut url = String::new();
    file.read_to_string(&mut url)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let url = url.trim().to_string();
    let loopback = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .and_then(|host| host.parse::<std::net::SocketAddr>().ok())
        .is_some_and(|a| a.ip().is_loopback());
    if !loopback {
        return Err(format!(
            "{} names {url:?}, not a loopback HTTP address: refusing to send commands to it",
            path.display()
        ));
    }
    Ok(Some(url))
}

/// The API of the leader of a shared record, while its lease runs
/// (`docs/RULES.md#replication`): only an `http://` or `https://` URL.
fn leader(store: &Path) -> Result<Option<String>, String> {
    let s = crate::store::Store::open(store).map_err(|e| e.to_string())?;
    let Some(l) = s.leadership().map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    if !l.live || l.url.is_empty() {
        return Ok(None);
    }
    let host = l
        .url
        .strip_prefix("http://")
        .or_else(|| l.url.strip_prefix("https://"))
        .and_then(|rest| rest.split('/').next())
        .filter(|h| !h.is_empty() && !h.contains(['@', ' ']));
    if host.is_none() {
        return Err(format!(
            "the leader row of {} names {:?}, not an HTTP address: refusing to send commands to it",
            s.name().display(),
            l.url
        ));
    }
    Ok(Some(l.url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_marker_names_the_daemon_and_a_released_one_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("r.sqlite");
        assert_eq!(running(&store), Ok(None));
        let p = Presence::announce(&store, "http://127.0.0.1:1").unwrap();
        assert_eq!(running(&store), Ok(Some("http://127.0.0.1:1".to_string())));
        drop(p);
        assert_eq!(running(&store), Ok(None), "a stale marker is not a daemon");
        // A marker naming another host is refused.
        let p = Presence::announce(&store, "http://192.0.2.1:80").unwrap();
        assert!(running(&store).is_err());
        drop(p);
    }
}
