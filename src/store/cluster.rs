//! A throwaway PostgreSQL cluster for tests and the demo lab: `initdb` in
//! a directory of the caller's, `postgres` listening on a loopback port
//! only, trust authentication for the one local user `rootguard`, stopped
//! when dropped. PostgreSQL refuses to run as root: run as root, the
//! cluster's processes run as `nobody`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The unprivileged user (and group) the cluster runs as under root.
const NOBODY: u32 = 65534;

/// A running throwaway cluster.
#[derive(Debug)]
pub struct Cluster {
    child: Child,
    /// The loopback port it listens on.
    pub port: u16,
    /// Its directory (data, socket, log).
    pub dir: PathBuf,
}

/// The directory of Debian's PostgreSQL programs (`initdb`, `postgres`):
/// `ROOTGUARD_PG_BIN`, or the newest `/usr/lib/postgresql/N/bin`.
pub fn binaries() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ROOTGUARD_PG_BIN") {
        let dir = PathBuf::from(dir);
        return dir.join("initdb").exists().then_some(dir);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("postgres").exists()).then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

fn command(program: PathBuf) -> Command {
    let mut c = Command::new(program);
    if is_root() {
        use std::os::unix::process::CommandExt;
        // std drops the supplementary groups when root sets a uid.
        c.uid(NOBODY).gid(NOBODY);
    }
    c.env_remove("PGDATA").env("LC_ALL", "C");
    c
}

fn chown(path: &Path) -> Result<(), String> {
    if is_root() {
        std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

impl Cluster {
    /// Creates and starts a cluster in `dir` (which must exist and be
    /// empty of a previous cluster).
    pub fn start(dir: &Path) -> Result<Cluster, String> {
        Cluster::start_with(dir, false)
    }

    /// Like [`Cluster::start`]; with `die_with_thread`, the server is
    /// killed when the calling thread ends (a cluster kept for a whole
    /// test process, which never drops it, is started from a thread that
    /// lives as long as the process).
    fn start_with(dir: &Path, die_with_thread: bool) -> Result<Cluster, String> {
        let bin =
            binaries().ok_or("PostgreSQL is not installed (Debian: apt-get install postgresql)")?;
        chown(dir)?;
        let data = dir.join("data");
        let sock = dir.join("sock");
        for d in [&data, &sock] {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            chown(d)?;
        }
        let out = command(bin.join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args(["-U", "rootguard", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("a free loopback port: {e}"))?
            .port();
        let log = std::fs::File::create(dir.join("postgres.log")).map_err(|e| e.to_string())?;
        let mut server = command(bin.join("postgres"));
        if die_with_thread {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl is async-signal-safe; it runs after the uid
            // change, which would clear it.
            unsafe {
                server.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
        }
        let child = server
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", sock.display()))
            .args(["-c", "fsync=off", "-c", "max_connections=60"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("postgres: {e}"))?;
        let mut cluster = Cluster {
            child,
            port,
            dir: dir.to_path_buf(),
        };
        let started = Instant::now();
        loop {
            if super::db::PgConn::connect(&cluster.url("postgres")).is_ok() {
                return Ok(cluster);
            }
            if let Ok(Some(status)) = cluster.child.try_wait() {
                let log = std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default();
                return Err(format!("postgres exited ({status}): {log}"));
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err("postgres did not accept connections within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The URL of database `name` on this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://rootguard@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates database `name` and returns its URL.
    pub fn database(&self, name: &str) -> Result<String, String> {
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "{name:?}: a database name of letters, digits and _"
            ));
        }
        let db = super::db::Db::Postgres(
            super::db::PgConn::connect(&self.url("postgres")).map_err(|e| e.to_string())?,
        );
        db.batch(&format!("CREATE DATABASE {name}"))
            .map_err(|e| e.to_string())?;
        Ok(self.url(name))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SIGQUIT: PostgreSQL's immediate shutdown (a throwaway cluster).
        // SAFETY: signalling the child this value owns.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGQUIT);
        }
        let _ = self.child.wait();
    }
}

/// A fresh database on the test process's one throwaway cluster (started
/// on first use), or `None` when PostgreSQL is not installed: the tests
/// that use it then run on SQLite only, and say so.
#[cfg(test)]
pub(crate) fn test_database() -> Option<String> {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Mutex, OnceLock};
    static CLUSTER: OnceLock<Option<(u16, Mutex<()>)>> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let cluster = CLUSTER.get_or_init(|| {
        if binaries().is_none() {
            assert!(
                std::env::var_os("CI").is_none(),
                "PostgreSQL is required in CI (bash tests/run installs it)"
            );
            return None;
        }
        // The clusters of earlier test processes that are gone.
        for e in std::fs::read_dir(std::env::temp_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = e.file_name().to_string_lossy().to_string();
            if let Some(pid) = name
                .strip_prefix("rootguard-unit-pg-")
                .and_then(|p| p.parse::<i32>().ok())
            {
                // SAFETY: signal 0 only checks that the process exists.
                if unsafe { libc::kill(pid, 0) } != 0 {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = std::env::temp_dir().join(format!("rootguard-unit-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).ok()?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let started = Cluster::start_with(&dir, true);
            let port = started.as_ref().map(|c| c.port).map_err(|e| e.clone());
            let _ = tx.send(port);
            // Keeps the server (and its parent thread) for the process.
            let _keep = started;
            loop {
                std::thread::park();
            }
        });
        match rx.recv().ok()? {
            Ok(port) => Some((port, Mutex::new(()))),
            Err(e) => panic!("the throwaway PostgreSQL cluster: {e}"),
        }
    });
    let Some((port, lock)) = cluster else {
        eprintln!("skipped on PostgreSQL: it is not installed (apt-get install postgresql)");
        return None;
    };
    let name = format!("unit{}", NEXT.fetch_add(1, Ordering::SeqCst));
    let _one_at_a_time = lock.lock().unwrap_or_else(|e| e.into_inner());
    let admin = super::db::Db::Postgres(
        super::db::PgConn::connect(&format!("postgres://rootguard@127.0.0.1:{port}/postgres"))
            .expect("connecting to the test cluster"),
    );
    admin
        .batch(&format!("CREATE DATABASE {name}"))
        .expect("creating a test database");
    Some(format!("postgres://rootguard@127.0.0.1:{port}/{name}"))
}

/// A fresh record on each engine, for tests: a SQLite file `name` in
/// `dir`, and a database on the throwaway cluster when installed.
#[cfg(test)]
pub(crate) fn engines(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut v = vec![dir.join(name)];
    v.extend(test_database().map(PathBuf::from));
    v
}
