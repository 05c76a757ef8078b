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

/// A hostile zone (docs/RULES.md#validation-limits): 8,000 RRSIGs over the
/// DNSKEY RRset by an anchored key, and 300 duplicates of that key. Without
/// limits this took 11.8 s; with them, the work is bounded.
fn hostile_bench(c: &mut Criterion) {
    use domain::rdata::ZoneRecordData;
    let key = "AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=";
    let mut text = String::from(
        ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400\n",
    );
    for _ in 0..301 {
        text.push_str(&format!(". 86400 IN DNSKEY 257 3 8 {key}\n"));
    }
    let base = Zone::from_bytes(text.as_bytes(), Path::new("hostile")).unwrap();
    let dnskey = base
        .records
        .iter()
        .find_map(|rr| match rr.data() {
            ZoneRecordData::Dnskey(k) => Some(k.clone()),
            _ => None,
        })
        .unwrap();
    let tag = dnskey.key_tag();
    let junk = "A".repeat(340);
    for i in 0..8_000 {
        let tail = ["AAA", "AAB", "AAC", "AAD"][i % 4];
        text.push_str(&format!(
            ". 86400 IN RRSIG DNSKEY 8 0 86400 20300101000000 20200101000000 {tag} . {junk}{tail}=\n"
        ));
    }
    eprintln!("hostile zone: {} bytes", text.len());
    let zone = Zone::from_bytes(text.as_bytes(), Path::new("hostile")).unwrap();
    let anchor = TrustAnchor {
        keys: vec![dnskey],
        ..Default::default()
    };
    let mut g = c.benchmark_group("hostile");
    g.sample_size(10);
    g.bench_function("verify 8000 RRSIGs over one RRset", |b| {
        b.iter(|| verify_zone(&zone, &anchor, 1_800_000_000))
    });
    g.finish();
}

criterion_group!(benches, zone_benches, hostile_bench);
criterion_main!(benches);
