//! Runs the end-to-end shell scripts in `tests/e2e/` against the real binary.

use std::process::Command;

fn redelegation_end_to_end_script() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/redelegation.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_rootguard"))
        .output()
        .expect("run bash");
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
    vec![crate::support::sync(
        "e2e::redelegation_end_to_end_script",
        redelegation_end_to_end_script,
    )]
}
