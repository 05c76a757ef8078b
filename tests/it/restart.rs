//! A restart does not replay history (docs/RULES.md#events-are-facts): a
//! simulated week of 60 s sweeps over the 309 ccTLDs of root-2026082201
//! (a lab derived from it, so that nothing but loopback is named; skipped
//! when the real data is absent) is recorded by
//! `rootguard lab simulate`; `rootguard serve` on it answers `/healthz`
//! promptly and serves the same `/api/v1/tlds` before and after a restart.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

fn rg(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .args(args)
        .env_remove("ROOTGUARD_STORE")
        .output()
        .unwrap()
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn tlds(base: &str) -> serde_json::Value {
    let r = reqwest::get(format!("{base}/api/v1/tlds")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.unwrap()
}

/// Starts the daemon on `config`; returns it and how long `/healthz` took
/// to answer after the process started.
async fn serve(config: &Path) -> (Daemon, Duration) {
    let started = Instant::now();
    let daemon = start_daemon(config);
    loop {
        if let Ok(r) = reqwest::get(format!("{}/healthz", daemon.base)).await
            && r.status().is_success()
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no /healthz");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (daemon, started.elapsed())
}

async fn a_week_of_sweeps_restarts_without_replaying_history() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shared = real_data();
    let real = shared.join("root-2026082201.zone");
    let (zone, registry) = {
        ok(rg(&[
            "lab",
            "derive",
            real.to_str().unwrap(),
            "--registry",
            shared.join("tld-managers.json").to_str().unwrap(),
            "--out",
            d.join("lab").to_str().unwrap(),
        ]));
        (
            d.join("lab/root.zone"),
            Some(shared.join("tld-managers.json")),
        )
    };
    let store = d.join("week.sqlite");
    let mut args = vec![
        "lab",
        "simulate",
        "--days",
        "7",
        "--root-zone",
        zone.to_str().unwrap(),
    ];
    let registry = registry.map(|r| r.display().to_string());
    if let Some(r) = &registry {
        args.extend(["--registry", r.as_str()]);
    }
    args.push(store.to_str().unwrap());
    let report: serde_json::Value = serde_json::from_str(&ok(rg(&args))).unwrap();
    assert_eq!(report["tlds"], 309, "{report}");
    assert_eq!(report["sweeps"], 7 * 24 * 60, "{report}");
    // The daemon watches nothing here (no name server runs): it serves
    // the record.
    let config = d.join("rootguard.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{}\"\n[sweep]\ninterval_secs = 3600\ntlds = [\"zz\"]\n[http]\nlisten = \"127.0.0.1:0\"\n",
            store.display()
        ),
    )
    .unwrap();
    let (daemon, first) = serve(&config).await;
    let before = tlds(&daemon.base).await;
    assert_eq!(before.as_array().map(Vec::len), Some(309));
    drop(daemon);
    let (daemon, second) = serve(&config).await;
    let after = tlds(&daemon.base).await;
    assert_eq!(before, after, "the same state after a restart");
    // A debug build here; BENCHMARKS.md measures the release build (2 s).
    assert!(
        second < Duration::from_secs(10),
        "/healthz after {second:?} (first start {first:?})"
    );
    // Pages and the API say it is a simulation.
    let page = reqwest::get(format!("{}/", daemon.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("simulation"), "the overview does not say so");
    let metrics = reqwest::get(format!("{}/metrics", daemon.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("rootguard_record_info{simulation=\"true\"} 1"),
        "the metrics do not say so"
    );
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![asynch(
        "restart::a_week_of_sweeps_restarts_without_replaying_history",
        a_week_of_sweeps_restarts_without_replaying_history,
    )]
}
