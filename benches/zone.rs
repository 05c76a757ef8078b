//! Zone benchmarks on the real root zone files in `../shared/rootzone/`:
//! parse, parse + index, verify all signatures, diff. Skipped (with a
//! message) when that folder is absent. Side-by-side comparisons with
//! nsd-checkzone and ldns-verify-zone: `benches/compare.sh`.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use rootguard::zone::verify::{TrustAnchor, verify_zone};
use rootguard::zone::{Zone, ZoneIndex, diff};

fn shared(name: &str) -> Option<Vec<u8>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/rootzone")
        .join(name);
    match std::fs::read(&p) {
        Ok(d) => Some(d),
        Err(_) => {
            eprintln!("SKIPPED: {} is absent", p.display());
            None
        }
    }
}

fn zone_benches(c: &mut Criterion) {
    let Some(signed) = shared("root-2018013000-signed.zone") else {
        return;
    };
    let path = Path::new("root-2018013000-signed.zone");
    let mut g = c.benchmark_group("root-2018013000-signed");
    g.sample_size(20);
    g.bench_function("parse", |b| {
        b.iter(|| Zone::from_bytes(&signed, path).unwrap())
    });
    g.bench_function("parse+index", |b| {
        b.iter(|| ZoneIndex::build(&Zone::from_bytes(&signed, path).unwrap(), None))
    });
    let zone = Zone::from_bytes(&signed, path).unwrap();
    let at = 1_517_356_800;
    let anchor = TrustAnchor::builtin(at);
    g.bench_function("index", |b| b.iter(|| ZoneIndex::build(&zone, None)));
    g.bench_function("verify", |b| b.iter(|| verify_zone(&zone, &anchor, at)));
    g.bench_function("parse+verify", |b| {
        b.iter(|| verify_zone(&Zone::from_bytes(&signed, path).unwrap(), &anchor, at))
    });
    g.finish();

    let (Some(old), Some(new)) = (
        shared("root-2025082202.zone"),
        shared("root-2026082201.zone"),
    ) else {
        return;
    };
    let old = ZoneIndex::build(&Zone::from_bytes(&old, Path::new("old")).unwrap(), None);
    let new = ZoneIndex::build(&Zone::from_bytes(&new, Path::new("new")).unwrap(), None);
    c.bench_function("diff 2025082202 -> 2026082201", |b| {
        b.iter(|| diff::diff(&old, &new))
    });
}

criterion_group!(benches, zone_benches);
criterion_main!(benches);
