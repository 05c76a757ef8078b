//! Fuzzing on the stable toolchain (`cargo fuzz` needs nightly, which this
//! project's machines cannot install): a mutation fuzzer over seed inputs,
//! one target per parser of hostile input, each run for a time budget.
//!
//! - `zone`: the root zone reader (`Zone::from_bytes_within`) and index.
//! - `reply`: a DNS reply from a hostile server, parsed (`parse_reply`) and
//!   evaluated through every check (`evaluate`) as every server's answer.
//! - `request`: the change-request parser and validator (`validate`).
//! - `config`: the configuration and profile parsers.
//!
//! Each input is a seed mutated by bit flips, byte insertions, deletions,
//! duplications and splices; a panic fails the run and leaves the input in
//! `target/fuzz-crashes/`. Run: `cargo test --test fuzz -- SECONDS [TARGET]`
//! (`FUZZ_SECONDS` too; default 5 seconds per target; CI runs 60).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use rootguard::checks::{Profile, evaluate};
use rootguard::policy::gate::{ChangeRequest, validate};
use rootguard::probe::delegation::{AddressProbe, DelegationProbe};
use rootguard::probe::{Exchange, Outcome, Transport, parse_reply};
use rootguard::time::Timestamp;
use rootguard::zone::{Zone, ZoneIndex, ZoneLimits};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(8) {
        let len = data.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                data.insert(i, rng.next() as u8);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(16).min(len - i);
                data.drain(i..i + n);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(64).min(len - i);
                let chunk: Vec<u8> = data[i..i + n].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, chunk);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let at = rng.below(data.len() + 1);
                    data.splice(at..at, other[i..].iter().take(128).copied());
                }
            }
            5 => {
                let interesting: &[&[u8]] = &[
                    b"\n",
                    b" ",
                    b"\\",
                    b"\"",
                    b"(",
                    b")",
                    b";",
                    b"$INCLUDE ",
                    b"\xff",
                    b"\x00",
                    b"\xc0\x0c",
                    b"xn--",
                    b"..",
                    b"*",
                    b"65535",
                    b"4294967295",
                ];
                let s = interesting[rng.below(interesting.len())];
                let at = rng.below(data.len() + 1);
                data.splice(at..at, s.iter().copied());
            }
            _ if len > 1 => {
                let i = rng.below(len);
                data.truncate(i.max(1));
            }
            _ => {}
        }
    }
    data.truncate(1 << 16);
    data
}

fn zone_target(data: &[u8]) {
    let limits = ZoneLimits {
        max_bytes: 1 << 20,
        max_records: 20_000,
    };
    if let Ok(zone) = Zone::from_bytes_within(data, Path::new("fuzz.zone"), &limits) {
        let index = ZoneIndex::build(&zone, None);
        let _ = rootguard::zone::verify::verify_zone(
            &zone,
            &rootguard::zone::verify::TrustAnchor::default(),
            1_800_000_000,
        );
        for d in index.delegations.values() {
            let mut out = String::new();
            let _ = rootguard::zone::render::delegation(&mut out, d);
        }
    }
}

fn reply_target(data: &[u8]) {
    let outcome = parse_reply(data);
    let server: std::net::SocketAddr = "127.0.0.1:53".parse().unwrap();
    let exchange = |qtype| Exchange {
        server,
        qname: "xa.".into(),
        qtype,
        transport: Transport::Udp,
        rtt_ms: 1.0,
        retried_over_tcp: false,
        outcome: outcome.clone(),
    };
    use hickory_proto::rr::RecordType;
    let delegation = rootguard::zone::Delegation {
        tld: "xa".into(),
        kind: rootguard::zone::TldKind::CountryCode,
        ns: vec!["ns1.xa.".into(), "ns2.xa.".into()],
        glue: [("ns1.xa.".to_string(), vec![server.ip()])].into(),
        ds: vec![rootguard::zone::DsRecord {
            key_tag: 1,
            algorithm: 13,
            digest_type: 2,
            digest: "AB".repeat(32),
        }],
    };
    let probe = DelegationProbe {
        delegation,
        unresolved: vec![],
        servers: vec![AddressProbe {
            host: "ns1.xa.".into(),
            address: server.ip(),
            from_glue: true,
            soa_udp: exchange(RecordType::SOA),
            soa_tcp: exchange(RecordType::SOA),
            ns: exchange(RecordType::NS),
            dnskey: Some(exchange(RecordType::DNSKEY)),
            host_addresses: vec![exchange(RecordType::A)],
            recursion: exchange(RecordType::SOA),
        }],
        elapsed_ms: 1.0,
    };
    let report = evaluate(
        &probe,
        &Profile::default(),
        Timestamp::from_second(1_800_000_000),
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.message.chars().count() < 600),
        "a finding message is not bounded"
    );
    let _ = matches!(outcome, Outcome::Reply(_));
}

fn request_target(data: &[u8]) {
    if let Ok(req) = serde_json::from_slice::<ChangeRequest>(data)
        && let Ok(valid) = validate(&req, None)
    {
        for n in valid.ns.iter().flatten() {
            assert!(
                n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            );
        }
    }
}

fn config_target(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let dir = std::env::temp_dir().join(format!("rootguard-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("c.toml");
        if std::fs::write(&file, text).is_ok() {
            let _ = rootguard::config::Config::load(Some(&file), std::iter::empty(), &[]);
        }
        let _ = Profile::from_toml(text, Path::new("p.toml"));
    }
}

fn seeds(name: &str) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read(root.join(p)).unwrap_or_default();
    match name {
        "zone" => vec![
            read("zones/lab/root.zone"),
            read("tests/data/small-root.zone"),
            read("tests/data/bad-glue.zone"),
        ],
        "reply" => {
            // Replies of the lab's signed and unsigned zones.
            let rt = tokio::runtime::Runtime::new().unwrap();
            let lab = root.join("zones/lab");
            let wires: Vec<Vec<u8>> = rt.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                for f in ["root.zone", "profile.toml", "registry.json"] {
                    let _ = std::fs::copy(lab.join(f), dir.path().join(f));
                }
                let spec = std::fs::read_to_string(lab.join("lab.toml"))
                    .unwrap()
                    .replace("port = 5300", "port = 5391");
                std::fs::write(dir.path().join("lab.toml"), spec).unwrap();
                let (spec, zone) = rootguard::lab::load_dir(dir.path()).unwrap();
                let lab = rootguard::lab::Lab::start(spec, &zone).await.unwrap();
                let mut out = Vec::new();
                let target = |name: &str| {
                    let text = std::fs::read_to_string(dir.path().join("root.zone")).unwrap();
                    text.lines()
                        .find(|l| l.starts_with(name) && l.contains(" A "))
                        .and_then(|l| l.split_whitespace().last().map(str::to_string))
                        .unwrap_or_else(|| "127.0.0.1".into())
                };
                for (qname, qtype) in [
                    ("xh.", hickory_proto::rr::RecordType::DNSKEY),
                    ("xh.", hickory_proto::rr::RecordType::SOA),
                    ("xa.", hickory_proto::rr::RecordType::NS),
                ] {
                    let mut msg = hickory_proto::op::Message::query();
                    msg.add_query(hickory_proto::op::Query::query(
                        qname.parse().unwrap(),
                        qtype,
                    ));
                    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                    let wire = msg.to_vec().unwrap();
                    let host = if qname == "xh." { "ns1.xh." } else { "ns1.xa." };
                    sock.send_to(&wire, format!("{}:5391", target(host))).await.ok();
                    let mut buf = vec![0u8; 4096];
                    if let Ok(Ok((n, _))) = tokio::time::timeout(
                        Duration::from_millis(500),
                        sock.recv_from(&mut buf),
                    )
                    .await
                    {
                        out.push(buf[..n].to_vec());
                    }
                }
                lab.shutdown().await;
                out
            });
            assert!(wires.len() >= 3, "the lab answered {} of 3 seed queries", wires.len());
            let mut s = wires;
            s.push(vec![0; 12]);
            s
        }
        "request" => vec![
            read("tests/data/request-redelegate-xa.json"),
            read("tests/data/request-unknown-tld.json"),
            br#"{"tld":"xa","submitted_by":"x","on_behalf_of":"y","ns":["ns1.xa.","ns2.xa"],"glue":{"ns1.xa.":["127.0.0.1"]},"ds":[{"key_tag":1,"algorithm":13,"digest_type":2,"digest":"ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB"}],"confirmations":{"admin_contact":true,"tech_contact":true}}"#.to_vec(),
        ],
        _ => vec![
            read("tests/data/bad-profile.toml"),
            read("zones/lab/profile.toml"),
            b"store = \"x.sqlite\"\n[zone]\nfile = \"r.zone\"\nrequire_authentic = true\n[sweep]\ninterval_secs = 60\ncanaries = [\"xa\"]\n[http]\nlisten = \"127.0.0.1:0\"\n[[http.tokens]]\nname = \"a\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\nrole = \"operator\"\n".to_vec(),
        ],
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let seconds: u64 = args
        .first()
        .and_then(|s| s.parse().ok())
        .or_else(|| std::env::var("FUZZ_SECONDS").ok()?.parse().ok())
        .unwrap_or(5);
    let only = args.get(1).cloned();
    type Target = (&'static str, fn(&[u8]));
    let targets: [Target; 4] = [
        ("zone", zone_target),
        ("reply", reply_target),
        ("request", request_target),
        ("config", config_target),
    ];
    std::panic::set_hook(Box::new(|_| {}));
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64 | 1)
                .unwrap_or(0x9E37_79B9_7F4A_7C15)
        });
    let mut failed = 0;
    let mut passed = 0;
    for (name, target) in targets {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let seeds = seeds(name);
        let mut rng = Rng(seed);
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut runs = 0u64;
        let mut slowest = Duration::ZERO;
        let mut crash = None;
        while Instant::now() < deadline {
            let input = mutate(&mut rng, &seeds);
            let started = Instant::now();
            let r = catch_unwind(AssertUnwindSafe(|| target(&input)));
            slowest = slowest.max(started.elapsed());
            runs += 1;
            if r.is_err() {
                crash = Some(input);
                break;
            }
        }
        match crash {
            Some(input) => {
                let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
                let _ = std::fs::create_dir_all(&dir);
                let file = dir.join(format!("{name}-{seed}"));
                let _ = std::fs::write(&file, &input);
                println!(
                    "fuzz {name}: CRASH after {runs} runs (seed {seed}); input in {}",
                    file.display()
                );
                failed += 1;
            }
            None => {
                println!(
                    "fuzz {name}: {runs} runs in {seconds} s, 0 crashes, slowest input {:.1} ms (seed {seed})",
                    slowest.as_secs_f64() * 1000.0
                );
                passed += 1;
            }
        }
    }
    println!("fuzz: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
