//! The record over simulated time: DAYS days of 60 s sweeps over the
//! ccTLDs of a root zone (root-2026082201 from the optional real data when
//! present, else the demo lab), recorded through the real recording code
//! (`Ledger::record_sweep`) with synthesised observations and a realistic
//! rate of change (outages and degradations that open and close complaints,
//! a few threats that impose and lift suspensions). Reports the store's
//! size, its growth per steady sweep, the time to record a sweep, the time
//! to open the record again (restart) and to verify the chain.
//!
//! `cargo bench --bench record -- DAYS [STORE]` (default 1 day, a
//! temporary store). Observations are synthesised here only: the product
//! records the guard's own probes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rootguard::checks::{Family, ThreatKind};
use rootguard::ledger::{Action, Kind, Ledger, SNAPSHOT_EVERY, Settings};
use rootguard::policy::Role;
use rootguard::policy::technical::SweepFacts;
use rootguard::time::Timestamp;
use rootguard::zone::{Registry, Zone, ZoneIndex};

fn delegations() -> Vec<rootguard::policy::registry::Approved> {
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
    let zone = Zone::from_file(&zone).expect("root zone");
    let registry = registry.map(|r| Registry::from_file(&r).expect("registry"));
    let index = ZoneIndex::build(&zone, registry.as_ref());
    rootguard::policy::registry::seed(&index, registry.as_ref())
}

/// A small deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, per_million: u64) -> bool {
        self.next() % 1_000_000 < per_million
    }
}

#[derive(Clone, Copy, Default)]
struct Condition {
    degraded_until: i64,
    outage_until: i64,
}

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
    let approved = delegations();
    let tlds: Vec<String> = approved.iter().map(|a| a.tld.clone()).collect();
    let mut ledger = Ledger::open(&store).expect("store");
    let t0 = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
    // A simulation (docs/RULES.md#identities): the only kind of record
    // whose clock is set, and the only place observations are synthesised.
    // The guard's key is created beside the store, as at a first seeding.
    let mut key_file = store.clone().into_os_string();
    key_file.push(".key");
    let guard = rootguard::store::checkpoint::SigningKey::create(Path::new(&key_file), "rootguard")
        .expect("guard key");
    let operator = rootguard::store::checkpoint::SigningKey::create(
        &dir.path().join("operator.key"),
        "operator",
    )
    .expect("operator key");
    let registration = |id: &str, kind, key: &str| rootguard::ledger::identity::Registration {
        id: id.into(),
        kind,
        tlds: Vec::new(),
        person: id.into(),
        key: Some(key.to_string()),
        token_sha256: None,
    };
    ledger
        .submit(
            "operator",
            Role::Operator,
            t0,
            Action::Import {
                delegations: approved,
                policy: Settings::default().policy,
                appeal_window_days: 30,
                authenticity: None,
                identities: vec![
                    registration("rootguard", Kind::Guard, &guard.verifier_key),
                    registration("operator", Kind::Operator, &operator.verifier_key),
                ],
                simulation: true,
            },
        )
        .expect("import");
    let sweeps = days * 24 * 60;
    let mut rng = Rng(0x9E3779B97F4A7C15);
    let mut state: BTreeMap<String, Condition> = BTreeMap::new();
    let mut record_ms: Vec<f64> = Vec::new();
    let mut steady_growth: Vec<u64> = Vec::new();
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = {
        let mut w = store.clone().into_os_string();
        w.push("-wal");
        PathBuf::from(w)
    };
    let started = Instant::now();
    for i in 0..sweeps {
        let at = t0.plus_secs(60 * (i + 1));
        let now = at.as_second();
        // Changes: about one degradation a day and one outage a month per
        // hundred ccTLDs, lasting an hour and half an hour.
        for t in &tlds {
            let c = state.entry(t.clone()).or_default();
            if now > c.degraded_until && rng.chance(7) {
                c.degraded_until = now + 3600;
            }
            if now > c.outage_until && rng.chance(1) {
                c.outage_until = now + 1800;
            }
        }
        let observations: Vec<(String, SweepFacts)> = tlds
            .iter()
            .map(|t| {
                let c = state[t];
                let mut f = SweepFacts {
                    at,
                    ..SweepFacts::default()
                };
                if now <= c.degraded_until {
                    f.findings.insert(
                        Family::Service,
                        vec![format!("WARNING EDNS ns1.{t}.: no OPT record")],
                    );
                }
                if now <= c.outage_until {
                    f.findings.insert(
                        Family::Reachability,
                        vec![format!("ERROR REACH-UDP ns1.{t}.: timeout")],
                    );
                    f.threat = Some(ThreatKind::TotalOutage);
                    f.threat_detail = "no name server answers".into();
                }
                (t.clone(), f)
            })
            .collect();
        let before = size(&store) + size(&wal);
        let t = Instant::now();
        let recorded = ledger
            .record_sweep(at, false, observations)
            .expect("record a sweep");
        ledger.snapshot_if_due(SNAPSHOT_EVERY).expect("snapshot");
        record_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if recorded.len() == 1 && i % 97 == 0 {
            steady_growth.push((size(&store) + size(&wal)).saturating_sub(before));
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    drop(ledger);
    // Checkpoint the WAL into the main file before measuring.
    {
        let c = rusqlite::Connection::open(&store).unwrap();
        c.pragma_update(None, "wal_checkpoint", "TRUNCATE").ok();
    }
    let bytes = size(&store);
    let events = rootguard::store::Store::open(&store)
        .unwrap()
        .size()
        .unwrap();
    record_ms.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| record_ms[((record_ms.len() - 1) as f64 * q) as usize];
    let t = Instant::now();
    let reopened = Ledger::open(&store).expect("reopen");
    let restart = t.elapsed().as_secs_f64();
    drop(reopened);
    let t = Instant::now();
    let report = rootguard::store::Store::open(&store)
        .unwrap()
        .verify()
        .unwrap();
    let verify = t.elapsed().as_secs_f64();
    steady_growth.sort();
    println!(
        "{days} day(s): {sweeps} sweeps over {} ccTLDs in {elapsed:.1} s; {events} events; store {:.1} MB ({:.0} bytes per sweep)",
        tlds.len(),
        bytes as f64 / 1e6,
        bytes as f64 / sweeps as f64
    );
    println!(
        "recording a sweep: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        p(0.5),
        p(0.99),
        p(1.0)
    );
    if !steady_growth.is_empty() {
        println!(
            "growth of store+WAL for a steady sweep (sampled {}): median {} bytes",
            steady_growth.len(),
            steady_growth[steady_growth.len() / 2]
        );
    }
    println!(
        "restart (open, latest snapshot + tail): {:.3} s; verify the chain: {verify:.2} s ({} events, first bad {:?})",
        restart, report.events, report.first_bad
    );
}
