//! Helpers shared by the integration tests: lab directories written to a
//! temporary folder, on a port no other test uses.

#![allow(dead_code)]

use std::fmt::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU16, Ordering};

use rootguard::checks::report::{CheckOptions, CheckReport};
use rootguard::checks::{Finding, TldReport};
use rootguard::lab::LabKey;
use rootguard::probe::ProbeConfig;

/// A port for one lab: distinct per test binary (by process id) and per
/// call, in 20000-59999.
pub fn unique_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20000 + (std::process::id() % 400) as u16 * 100;
    base + NEXT.fetch_add(1, Ordering::SeqCst) % 100
}

/// Builds a lab root zone.
#[derive(Default)]
pub struct RootZone {
    text: String,
}

impl RootZone {
    pub fn new() -> RootZone {
        RootZone {
            text: ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 2026112301 1800 900 604800 86400\n"
                .into(),
        }
    }

    /// Delegates `tld` to `hosts` (name without the TLD suffix, address;
    /// an empty address means no glue).
    pub fn tld(mut self, tld: &str, hosts: &[(&str, &str)]) -> RootZone {
        for (h, _) in hosts {
            let host = if h.ends_with('.') {
                h.to_string()
            } else {
                format!("{h}.{tld}.")
            };
            let _ = writeln!(self.text, "{tld}. 172800 IN NS {host}");
        }
        for (h, a) in hosts {
            if a.is_empty() {
                continue;
            }
            let host = if h.ends_with('.') {
                h.to_string()
            } else {
                format!("{h}.{tld}.")
            };
            let t = if a.contains(':') { "AAAA" } else { "A" };
            let _ = writeln!(self.text, "{host} 172800 IN {t} {a}");
        }
        self
    }

    /// Adds the DS of the lab key (generation 1) of `tld`.
    pub fn lab_ds(mut self, tld: &str) -> RootZone {
        let _ = writeln!(
            self.text,
            "{tld}. 86400 IN DS {}",
            LabKey::derive(tld, 1).ds()
        );
        self
    }

    /// Adds a raw line.
    pub fn line(mut self, line: &str) -> RootZone {
        self.text.push_str(line);
        self.text.push('\n');
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Writes a lab directory and returns it with its port.
pub fn lab_dir(
    root: &RootZone,
    lab_toml: &str,
    profile_toml: Option<&str>,
) -> (tempfile::TempDir, u16) {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = unique_port();
    std::fs::write(dir.path().join("root.zone"), root.text()).unwrap();
    std::fs::write(
        dir.path().join("lab.toml"),
        format!("port = {port}\nresolver = \"127.0.0.53\"\n{lab_toml}"),
    )
    .unwrap();
    if let Some(p) = profile_toml {
        std::fs::write(dir.path().join("profile.toml"), p).unwrap();
    }
    (dir, port)
}

/// Short timeouts for tests.
pub fn test_probe() -> ProbeConfig {
    ProbeConfig {
        udp_timeout_ms: 1000,
        udp_retries: 1,
        tcp_timeout_ms: 1200,
        ..ProbeConfig::default()
    }
}

/// Serves the lab in `dir` and checks `tlds`.
pub async fn check_lab(dir: &Path, tlds: &[&str]) -> CheckReport {
    let opts = CheckOptions {
        tlds: tlds.iter().map(|s| s.to_string()).collect(),
        probe: test_probe(),
        ..Default::default()
    };
    rootguard::lab::check_in_lab(dir, opts)
        .await
        .unwrap_or_else(|e| panic!("check failed: {e}"))
}

pub fn tld<'a>(report: &'a CheckReport, name: &str) -> &'a TldReport {
    report
        .tlds
        .iter()
        .find(|t| t.tld == name)
        .unwrap_or_else(|| panic!("{name} not in report"))
}

pub fn findings<'a>(t: &'a TldReport, check: &str) -> Vec<&'a Finding> {
    t.findings
        .iter()
        .filter(|f| f.check.as_str() == check)
        .collect()
}

/// Asserts that `check` failed for `t`, with a message containing `text`.
pub fn assert_fails(t: &TldReport, check: &str, text: &str) {
    let f = findings(t, check);
    assert!(
        f.iter().any(|f| f.message.contains(text)),
        "{}: expected {check} failing with {text:?}, got {:#?}",
        t.tld,
        t.findings
    );
}

/// Asserts that `t` has no finding at all.
pub fn assert_clean(t: &TldReport) {
    assert!(
        t.findings.is_empty(),
        "{}: expected no finding, got {:#?}",
        t.tld,
        t.findings
    );
    assert!(t.threats.is_empty(), "{}: {:#?}", t.tld, t.threats);
}

/// A `rootguard serve` child process, killed when dropped.
pub struct Daemon {
    pub child: std::process::Child,
    pub base: String,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `rootguard serve --config CONFIG` and waits for its address.
pub fn start_daemon(config: &Path) -> Daemon {
    start_daemon_logged(config, None)
}

/// Starts `rootguard serve --config CONFIG`, its standard error copied to
/// `log` when given, and waits for its address.
pub fn start_daemon_logged(config: &Path, log: Option<&Path>) -> Daemon {
    start_daemon_with(config, log, "error")
}

/// Like [`start_daemon_logged`], logging at `level` (`ROOTGUARD_LOG`).
pub fn start_daemon_with(config: &Path, log: Option<&Path>, level: &str) -> Daemon {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .args(["serve", "--config"])
        .arg(config)
        .env_remove("ROOTGUARD_STORE")
        .env("ROOTGUARD_LOG", level)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("rootguard: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string();
    let mut log = log.map(|l| std::fs::File::create(l).unwrap());
    std::thread::spawn(move || {
        for line in lines {
            if let (Some(f), Ok(line)) = (log.as_mut(), line) {
                use std::io::Write;
                let _ = writeln!(f, "{line}");
            }
        }
    });
    Daemon { child, base }
}

/// A test that cannot run here: a tool or the optional real data is
/// missing. Reported as ignored with its reason, never as passed.
pub struct Skip(pub String);

/// Skips the running test with `reason`, or fails it when `CI` is set:
/// in CI every tool is installed by `tests/run` and the real data is
/// beside the repository.
pub fn skip(reason: impl Into<String>) -> ! {
    let reason = reason.into();
    if std::env::var_os("CI").is_some() {
        panic!("{reason}: required in CI (tests/run installs the tools; ../shared holds the data)");
    }
    std::panic::panic_any(Skip(reason))
}

/// The path of an external tool, or a skip naming it.
pub fn need_tool(tool: &'static str) -> &'static str {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        skip(format!(
            "{tool} is not installed (bash tests/run installs it)"
        ));
    }
    tool
}

/// A throwaway PostgreSQL cluster in `dir`, or a skip when PostgreSQL is
/// not installed (CI installs it).
pub fn postgres(dir: &Path) -> rootguard::store::cluster::Cluster {
    if rootguard::store::cluster::binaries().is_none() {
        skip("PostgreSQL is not installed (bash .ci/run installs it: apt-get install postgresql)");
    }
    rootguard::store::cluster::Cluster::start(dir).unwrap_or_else(|e| panic!("{e}"))
}

/// The optional real-data folder `../shared/rootzone`, or a skip.
pub fn real_data() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/rootzone");
    if !dir.is_dir() {
        skip(format!(
            "{} is absent (the optional real data is not beside the repository)",
            dir.display()
        ));
    }
    dir
}

fn run(test: impl FnOnce()) -> Result<libtest_mimic::Completion, libtest_mimic::Failed> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(test)) {
        Ok(()) => Ok(libtest_mimic::Completion::Completed),
        Err(payload) => match payload.downcast::<Skip>() {
            Ok(skip) => Ok(libtest_mimic::Completion::ignored_with(skip.0)),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "the test panicked".into());
                Err(message.into())
            }
        },
    }
}

/// A synchronous test.
pub fn sync(name: &str, test: fn()) -> libtest_mimic::Trial {
    libtest_mimic::Trial::ignorable_test(name, move || run(test))
}

/// An asynchronous test, on its own multi-threaded runtime (two workers).
pub fn asynch<F>(name: &str, test: fn() -> F) -> libtest_mimic::Trial
where
    F: std::future::Future<Output = ()> + 'static,
{
    libtest_mimic::Trial::ignorable_test(name, move || {
        run(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a test runtime")
                .block_on(test())
        })
    })
}

/// Installs a panic hook that stays quiet for skips.
pub fn quiet_skips() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<Skip>().is_none() {
            default(info);
        }
    }));
}

/// The first operator of a record seeded in process ("op", a fresh key).
pub fn operator() -> rootguard::ledger::identity::Registration {
    let dir = tempfile::tempdir().unwrap();
    let key =
        rootguard::store::checkpoint::SigningKey::create(&dir.path().join("op.key"), "op").unwrap();
    rootguard::ledger::identity::Registration {
        id: "op".into(),
        kind: rootguard::ledger::Kind::Operator,
        tlds: Vec::new(),
        person: "Operator One".into(),
        key: Some(key.verifier_key.clone()),
        token_sha256: None,
        body: None,
        of: None,
    }
}

/// Settings of a simulation (the only record whose clock tests may set).
pub fn simulation() -> rootguard::ledger::Settings {
    rootguard::ledger::Settings {
        simulation: true,
        ..Default::default()
    }
}

/// Registers identity `id` of `kind` for `tlds` in process (as operator
/// "op") and returns the credential it acts with.
pub async fn register(
    app: &std::sync::Arc<rootguard::app::App>,
    when: rootguard::app::When,
    id: &str,
    kind: rootguard::ledger::Kind,
    tlds: &[&str],
) -> rootguard::ledger::Credential {
    let registration = rootguard::ledger::identity::Registration {
        id: id.into(),
        kind,
        tlds: tlds
            .iter()
            .map(|t| rootguard::zone::Tld::parse(t).unwrap())
            .collect(),
        person: format!("{id} (person)"),
        key: None,
        token_sha256: Some(rootguard::ledger::command::sha256_hex(id.as_bytes())),
        body: None,
        of: None,
    };
    app.submit(
        "op",
        rootguard::policy::Role::Operator,
        when,
        rootguard::ledger::Action::IdentityRegister { registration },
    )
    .await
    .unwrap();
    rootguard::ledger::Credential::Identity {
        id: id.into(),
        command: None,
        input_size: 0,
        input_sha256: String::new(),
    }
}

/// A key for identity `id` in `dir` (through the binary): the key file
/// and its verifier key.
pub fn key(dir: &Path, id: &str) -> (std::path::PathBuf, String) {
    let file = dir.join(format!("{id}.key"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .args(["key", "new", "--identity", id, "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        file,
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

/// The arguments that make `import` register a first operator "op" whose
/// key is created in `dir` (`dir/op.key`).
pub fn operator_args(dir: &Path) -> Vec<String> {
    let (_, vkey) = key(dir, "op");
    vec![
        "--operator".into(),
        "op".into(),
        "--operator-key".into(),
        vkey,
    ]
}

/// An operator token (`op-token`) in configuration form, so that a
/// daemon's first start registers a first operator.
pub const OPERATOR_TOKEN: &str = "[[http.tokens]]\nname = \"op\"\nsha256 = \"3f1e8f6d2a2d07b5c3f0c7d4ec1c2b0f6c4b2e7a1d0e3c5b7a9f1e2d3c4b5a69\"\nrole = \"operator\"\n";
