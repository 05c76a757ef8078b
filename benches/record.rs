//! The record over simulated time: DAYS days of 60 s sweeps over the
//! ccTLDs of root-2026082201 (from the optional real data, else the demo
//! lab), recorded by `rootguard::lab::simulate` through the real recording
//! code on a record created as a simulation. Reports the store's size, its
//! growth per steady sweep, the time to record a sweep, the time to open
//! the record again (restart) and to verify the chain.
//!
//! `cargo bench --bench record -- DAYS [STORE]` (default 1 day, a
//! temporary store; STORE may be a `postgres://` URL of an empty
//! database).

use std::path::{Path, PathBuf};
use std::time::Instant;

use rootguard::ledger::Ledger;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let days: i64 = args.first().and_then(|d| d.parse().ok()).unwrap_or(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let store: PathBuf = args
        .get(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("record.sqlite"));
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/rootzone");
    let (zone, registry) = if shared.join("root-2026082201.zone").exists() {
        (
            shared.join("root-2026082201.zone"),
            Some(shared.join("tld-managers.json")),
        )
    } else {
        eprintln!("../shared/rootzone is absent: using the demo lab's ccTLDs");
        (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("zones/lab/root.zone"),
            None,
        )
    };
    let r = rootguard::lab::simulate::simulate(&store, &zone, registry.as_deref(), days, |d| {
        if d % 30 == 0 {
            eprintln!("day {d}");
        }
    })
    .expect("simulate");
    println!(
        "{days} day(s): {} sweeps over {} ccTLDs in {:.1} s; {} events ({} gate decisions, {} suspensions imposed); store {:.1} MB ({:.0} bytes per sweep)",
        r.sweeps,
        r.tlds,
        r.elapsed_secs,
        r.events,
        r.gate_decisions,
        r.suspensions,
        r.bytes as f64 / 1e6,
        r.bytes as f64 / r.sweeps as f64
    );
    println!(
        "recording a sweep (with its checkpoint): median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        r.record_ms[0], r.record_ms[1], r.record_ms[2]
    );
    println!(
        "growth of store+WAL for a steady sweep: median {} bytes",
        r.steady_growth_median
    );
    let t = Instant::now();
    let reopened = Ledger::open_sealed(&store, Some(&r.guard_key)).expect("reopen");
    let restart = t.elapsed().as_secs_f64();
    drop(reopened);
    let t = Instant::now();
    let report = rootguard::store::Store::open(&store)
        .unwrap()
        .verify()
        .unwrap();
    println!(
        "restart (open, latest snapshot + tail): {restart:.3} s; verify the chain: {:.2} s ({} events, first bad {:?})",
        t.elapsed().as_secs_f64(),
        report.events,
        report.first_bad
    );
}
