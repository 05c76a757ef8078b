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
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
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

/// The API address of the daemon serving `store`, when one runs.
pub fn running(store: &Path) -> Option<String> {
    let mut file = File::open(marker(store)).ok()?;
    if lock(&file, false) {
        // Nobody holds it: no daemon (the lock is released on close).
        return None;
    }
    let mut url = String::new();
    file.read_to_string(&mut url).ok()?;
    let url = url.trim().to_string();
    (!url.is_empty()).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_marker_names_the_daemon_and_a_released_one_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("r.sqlite");
        assert_eq!(running(&store), None);
        let p = Presence::announce(&store, "http://127.0.0.1:1").unwrap();
        assert_eq!(running(&store).as_deref(), Some("http://127.0.0.1:1"));
        drop(p);
        assert_eq!(running(&store), None, "a stale marker is not a daemon");
    }
}
