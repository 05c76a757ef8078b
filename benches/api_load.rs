//! A small HTTP load tool for the API and pages: CLIENTS concurrent
//! clients (each its own connection, one request at a time) request PATHS
//! in turn for SECONDS seconds against a running `rootguard serve`, and the
//! latency of every request is reported per path (p50, p99, max) with the
//! error count. Loopback only.
//!
//! `cargo bench --bench api_load -- BASE_URL CLIENTS SECONDS PATH...`,
//! e.g. `cargo bench --bench api_load -- http://127.0.0.1:8080 100 60
//! /api/v1/tlds /tld/de`. Without arguments it prints this usage and exits.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [base, clients, seconds, paths @ ..] = args.as_slice() else {
        eprintln!("usage: api_load BASE_URL CLIENTS SECONDS PATH... (nothing to do)");
        return;
    };
    assert!(
        base.starts_with("http://127.") || base.starts_with("http://[::1]"),
        "loopback only"
    );
    let clients: usize = clients.parse().expect("CLIENTS");
    let seconds: u64 = seconds.parse().expect("SECONDS");
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let base = base.clone();
        let paths = paths.to_vec();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .no_proxy()
                .build()
                .unwrap();
            let mut seen: BTreeMap<String, (Vec<f64>, u64)> = BTreeMap::new();
            let mut i = c;
            while Instant::now() < until {
                let path = &paths[i % paths.len()];
                i += 1;
                let t = Instant::now();
                let ok = match client.get(format!("{base}{path}")).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                let e = seen.entry(path.clone()).or_default();
                e.0.push(t.elapsed().as_secs_f64() * 1000.0);
                if !ok {
                    e.1 += 1;
                }
            }
            seen
        }));
    }
    let mut all: BTreeMap<String, (Vec<f64>, u64)> = BTreeMap::new();
    for t in tasks {
        for (path, (mut l, e)) in t.await.unwrap() {
            let a = all.entry(path).or_default();
            a.0.append(&mut l);
            a.1 += e;
        }
    }
    println!("{clients} clients for {seconds} s against {base}:");
    for (path, (mut l, errors)) in all {
        l.sort_by(f64::total_cmp);
        let q = |x: f64| l[((l.len() - 1) as f64 * x) as usize];
        println!(
            "  GET {path}: {} requests ({:.0}/s), {errors} errors; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            l.len(),
            l.len() as f64 / seconds as f64,
            q(0.5),
            q(0.99),
            q(1.0)
        );
    }
}
