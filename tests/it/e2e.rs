//! Runs the end-to-end shell scripts in `tests/e2e/` against the real binary.

use std::process::Command;

fn redelegation_end_to_end_script() {
    run_script(None);
}

/// The same script with the record on a throwaway PostgreSQL cluster.
fn redelegation_end_to_end_script_on_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = crate::support::postgres(dir.path());
    let url = cluster.database("e2e").unwrap();
    run_script(Some(&url));
}

fn run_script(store: Option<&str>) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/redelegation.sh");
    let mut command = Command::new("bash");
    command
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_rootguard"))
        .env_remove("ROOTGUARD_STORE");
    if let Some(url) = store {
        command.env("E2E_STORE", url);
    }
    let out = command.output().expect("run bash");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("OK: 99 events, chain verified"), "{text}");
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::sync(
            "e2e::redelegation_end_to_end_script",
            redelegation_end_to_end_script,
        ),
        crate::support::sync(
            "e2e::redelegation_end_to_end_script_on_postgresql",
            redelegation_end_to_end_script_on_postgresql,
        ),
    ]
}
