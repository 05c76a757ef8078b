//! Interoperability with NLnet Labs' tools from Debian: zones signed by
//! `ldns-signzone` (with ZONEMD) verify, `ldns-verify-zone` agrees on the
//! real 2018 root zone, and a real NSD serving signed TLDs is judged `ok`
//! (healthy) and `threat` (DS mismatch). `tests/run` installs the tools;
//! without them these tests skip, saying so, except in CI where they fail.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::*;
use rootguard::checks::report::{CheckOptions, check};
use rootguard::checks::{ThreatKind, Verdict};
use rootguard::zone::verify::{AuthStatus, TrustAnchor, ZonemdOutcome, verify_zone};
use rootguard::zone::{Zone, ZoneIndex};

fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} || test -x /usr/sbin/{tool}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        crate::support::skip(format!(
            "{tool} is not installed (bash tests/run installs it)"
        ));
    }
    found
}

fn run(dir: &Path, cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Generates an Ed25519 key for `zone` with ldns-keygen; returns its base name.
fn keygen(dir: &Path, zone: &str) -> String {
    run(dir, "ldns-keygen", &["-a", "ED25519", "-k", zone])
}

fn now() -> u32 {
    jiff::Timestamp::now().as_second() as u32
}

// Within 68 years of now: RRSIG times use serial number arithmetic (RFC 4034 §3.1.5).
const SIGN_WINDOW: [&str; 4] = ["-i", "20250101000000", "-e", "20351231000000"];

fn ldns_signed_root_with_zonemd_verifies_and_tampering_is_caught() {
    if !have("ldns-signzone") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("root.zone"),
        ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 2026112301 1800 900 604800 86400
. 518400 IN NS a.root-servers.net.
a.root-servers.net. 518400 IN A 198.41.0.4
xy. 172800 IN NS ns1.xy.
xy. 86400 IN DS 12345 15 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns1.xy. 172800 IN A 192.0.2.1
",
    )
    .unwrap();
    let key = keygen(d, ".");
    let mut args = vec!["-z", "1:1"];
    args.extend(SIGN_WINDOW);
    args.extend(["root.zone", key.as_str()]);
    run(d, "ldns-signzone", &args);
    let anchor = TrustAnchor::from_file(&d.join(format!("{key}.ds"))).unwrap();
    let signed = std::fs::read_to_string(d.join("root.zone.signed")).unwrap();
    let zone = Zone::from_bytes(signed.as_bytes(), Path::new("root.zone.signed")).unwrap();
    let auth = verify_zone(&zone, &anchor, now());
    assert_eq!(auth.status, AuthStatus::Verified, "{:?}", auth.failures);
    assert_eq!(
        auth.zonemd.outcome,
        ZonemdOutcome::Verified,
        "{}",
        auth.zonemd.detail
    );

    // One flipped hex digit in the DS: its signature fails.
    let tampered = signed.replace(
        "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
        "1123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
    );
    let tampered = tampered.replace(
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    );
    assert_ne!(tampered, signed);
    let zone = Zone::from_bytes(tampered.as_bytes(), Path::new("tampered")).unwrap();
    let auth = verify_zone(&zone, &anchor, now());
    assert_eq!(auth.status, AuthStatus::Failed);
    assert!(
        auth.failures.iter().any(|f| f.rtype == "DS"),
        "{:?}",
        auth.failures
    );

    // Another anchor does not verify the zone.
    let other = keygen(d, ".");
    let anchor2 = TrustAnchor::from_file(&d.join(format!("{other}.ds"))).unwrap();
    let zone = Zone::from_bytes(signed.as_bytes(), Path::new("root.zone.signed")).unwrap();
    let auth = verify_zone(&zone, &anchor2, now());
    assert!(!auth.dnskey_trusted);
    assert_eq!(auth.status, AuthStatus::Failed);
}

fn unsigned_zonemd_digest_mismatch_is_reported() {
    if !have("ldns-signzone") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("root.zone"),
        ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 7 1800 900 604800 86400
. 518400 IN NS a.root-servers.net.
xy. 172800 IN NS ns1.xy.
ns1.xy. 172800 IN A 192.0.2.1
",
    )
    .unwrap();
    run(d, "ldns-signzone", &["-Z", "-z", "1:1", "root.zone"]);
    let text = std::fs::read_to_string(d.join("root.zone.signed")).unwrap();
    let zone = Zone::from_bytes(text.as_bytes(), Path::new("zonemd-only")).unwrap();
    let auth = verify_zone(&zone, &TrustAnchor::builtin(now()), now());
    assert_eq!(auth.status, AuthStatus::Unsigned);
    assert_eq!(
        auth.zonemd.outcome,
        ZonemdOutcome::Verified,
        "{}",
        auth.zonemd.detail
    );
    let changed = text.replace("192.0.2.1", "192.0.2.2");
    let zone = Zone::from_bytes(changed.as_bytes(), Path::new("zonemd-changed")).unwrap();
    let auth = verify_zone(&zone, &TrustAnchor::builtin(now()), now());
    assert_eq!(
        auth.zonemd.outcome,
        ZonemdOutcome::Mismatch,
        "{}",
        auth.zonemd.detail
    );
}

fn ldns_verify_zone_agrees_on_the_2018_root_zone() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/rootzone/root-2018013000-signed.zone");
    if !path.exists() {
        crate::support::real_data();
        crate::support::skip(format!("{} is absent", path.display()));
    }
    if !have("ldns-verify-zone") {
        return;
    }
    let out = Command::new("ldns-verify-zone")
        .args(["-t", "20180131000000"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ldns-verify-zone: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let zone = Zone::from_file(&path).unwrap();
    let at = 1_517_356_800;
    let auth = verify_zone(&zone, &TrustAnchor::builtin(at), at);
    assert_eq!(auth.status, AuthStatus::Verified);
}

/// A real NSD, stopped when dropped.
struct Nsd(Child);

/// Writes `nsd.conf` in `dir` (listening on `addresses` at `port`, with
/// the `zone:` clauses given) and starts NSD in the foreground; returns once
/// it accepts TCP connections.
async fn start_nsd(dir: &Path, addresses: &[&str], port: u16, zones: &str) -> Nsd {
    let p = dir.display();
    let listen: String = addresses
        .iter()
        .map(|a| format!("  ip-address: {a}\n"))
        .collect();
    std::fs::write(
        dir.join("nsd.conf"),
        format!(
            "server:\n{listen}  port: {port}\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"{p}\"\n  pidfile: \"{p}/nsd.pid\"\n  xfrdfile: \"{p}/xfrd.state\"\n  zonelistfile: \"{p}/zone.list\"\n  database: \"\"\n  logfile: \"{p}/nsd.log\"\n  server-count: 1\n  verbosity: 1\nremote-control:\n  control-enable: no\n{zones}"
        ),
    )
    .unwrap();
    let child = Command::new(if Path::new("/usr/sbin/nsd").exists() {
        "/usr/sbin/nsd"
    } else {
        "nsd"
    })
    .args(["-d", "-c"])
    .arg(dir.join("nsd.conf"))
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("start nsd");
    let nsd = Nsd(child);
    for _ in 0..100 {
        if addresses
            .iter()
            .all(|a| std::net::TcpStream::connect((*a, port)).is_ok())
        {
            return nsd;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(dir.join("nsd.log")).unwrap_or_default();
    panic!("nsd did not start: {log}");
}

impl Drop for Nsd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn nsd_serving_signed_tlds_healthy_is_ok_and_ds_mismatch_is_threat() {
    if !have("nsd") || !have("ldns-signzone") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = unique_port();
    let (a1, a2) = ("127.0.44.1", "127.0.45.1");
    let mut root = String::from(
        ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 2026112301 1800 900 604800 86400\n",
    );
    let mut zones_conf = String::new();
    for tld in ["xy", "xz"] {
        std::fs::write(
            d.join(format!("{tld}.zone")),
            format!(
                "{tld}. 3600 IN SOA ns1.{tld}. hostmaster.{tld}. 1 7200 900 1209600 300
{tld}. 3600 IN NS ns1.{tld}.
{tld}. 3600 IN NS ns2.{tld}.
ns1.{tld}. 3600 IN A {a1}
ns2.{tld}. 3600 IN A {a2}
"
            ),
        )
        .unwrap();
        let key = keygen(d, tld);
        let mut args: Vec<&str> = SIGN_WINDOW.to_vec();
        let zone_file = format!("{tld}.zone");
        args.extend([zone_file.as_str(), key.as_str()]);
        run(d, "ldns-signzone", &args);
        // xy's DS names its key; xz's DS names a key the zone does not have.
        let ds_key = if tld == "xy" { key } else { keygen(d, tld) };
        let ds = std::fs::read_to_string(d.join(format!("{ds_key}.ds"))).unwrap();
        root.push_str(&format!(
            "{tld}. 172800 IN NS ns1.{tld}.\n{tld}. 172800 IN NS ns2.{tld}.\nns1.{tld}. 172800 IN A {a1}\nns2.{tld}. 172800 IN A {a2}\n{}\n",
            ds.trim()
        ));
        zones_conf.push_str(&format!(
            "zone:\n  name: \"{tld}.\"\n  zonefile: \"{tld}.zone.signed\"\n"
        ));
    }
    std::fs::write(d.join("root.zone"), &root).unwrap();
    let _nsd = start_nsd(d, &[a1, a2], port, &zones_conf).await;
    std::fs::write(d.join("profile.toml"), "disable = [\"ADDRESS-SCOPE\"]\n").unwrap();
    let opts = CheckOptions {
        tlds: vec!["xy".into(), "xz".into()],
        root_zone: Some(d.join("root.zone")),
        profile: Some(d.join("profile.toml")),
        probe: test_probe(),
        port: Some(port),
        ..Default::default()
    };
    let report = check(&opts).await.unwrap();
    let xy = tld(&report, "xy");
    assert_clean(xy);
    assert_eq!(xy.verdict, Verdict::Ok);
    let xz = tld(&report, "xz");
    assert_eq!(xz.verdict, Verdict::Threat, "{:#?}", xz);
    assert_eq!(xz.threats[0].kind, ThreatKind::DnssecBogus);
    assert_fails(xz, "DS-MATCHES-DNSKEY", "no DS matches");
    // The index sees what the file says.
    let idx = ZoneIndex::build(&Zone::from_file(&d.join("root.zone")).unwrap(), None);
    assert_eq!(idx.get("xz").unwrap().ds.len(), 1);
}

async fn the_daemon_transfers_a_signed_root_zone_from_nsd_and_verifies_it() {
    if !have("nsd") || !have("ldns-signzone") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = unique_port();
    let addr = "127.0.46.1";
    std::fs::write(
        d.join("root.zone"),
        ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 2026112301 1800 900 604800 86400
. 518400 IN NS a.root-servers.net.
a.root-servers.net. 518400 IN A 198.41.0.4
xy. 172800 IN NS ns1.xy.
ns1.xy. 172800 IN A 192.0.2.1
",
    )
    .unwrap();
    let key = keygen(d, ".");
    let mut args = vec!["-z", "1:1"];
    args.extend(SIGN_WINDOW);
    args.extend(["root.zone", key.as_str()]);
    run(d, "ldns-signzone", &args);
    let _nsd = start_nsd(d, &[addr], port, "zone:\n  name: \".\"\n  zonefile: \"root.zone.signed\"\n  provide-xfr: 127.0.0.0/8 NOKEY\n").await;
    let server: std::net::SocketAddr = format!("{addr}:{port}").parse().unwrap();
    let zone = rootguard::probe::xfr::axfr_root(server, Duration::from_secs(5), Default::default())
        .await
        .unwrap();
    assert_eq!(zone.serial, 2026112301);
    let anchor = TrustAnchor::from_file(&d.join(format!("{key}.ds"))).unwrap();
    let auth = verify_zone(&zone, &anchor, now());
    assert_eq!(auth.status, AuthStatus::Verified, "{:?}", auth.failures);
    assert_eq!(
        auth.zonemd.outcome,
        ZonemdOutcome::Verified,
        "{}",
        auth.zonemd.detail
    );

    // A copy with ZONEMD stripped and one glue address changed still has
    // valid signatures (glue is not signed, RFC 4035 §2.2), but is not
    // authentic: without a verified ZONEMD nothing vouches for NS and glue
    // (docs/RULES.md#authentic-root-zone).
    let anchor_file = d.join(format!("{key}.ds"));
    assert!(
        rootguard::zone::authentic::authenticate(
            &zone,
            Some(&anchor_file),
            true,
            rootguard::time::Timestamp::from_second(now() as i64)
        )
        .is_ok()
    );
    let mut stripped = zone.clone();
    stripped.records.retain(|rr| {
        let covers_zonemd = matches!(rr.data(), domain::rdata::ZoneRecordData::Rrsig(s) if s.type_covered() == domain::base::iana::Rtype::ZONEMD);
        rr.rtype() != domain::base::iana::Rtype::ZONEMD && !covers_zonemd
    });
    assert!(stripped.records.len() < zone.records.len());
    let e = rootguard::zone::authentic::authenticate(
        &stripped,
        Some(&anchor_file),
        true,
        rootguard::time::Timestamp::from_second(now() as i64),
    )
    .unwrap_err();
    assert!(e.to_string().contains("ZONEMD Absent"), "{e}");

    // The daemon's source: transferred, verified, adopted once per serial.
    let mut source =
        rootguard::daemon::zone_source::ZoneSource::new(&rootguard::config::ZoneConfig {
            axfr: Some(server),
            trust_anchor: Some(d.join(format!("{key}.ds"))),
            require_authentic: true,
            ..Default::default()
        });
    let (status, alarm) = source
        .refresh(rootguard::time::Timestamp::from_second(now() as i64))
        .await;
    assert!(alarm.is_none(), "{alarm:?}");
    assert_eq!(status.unwrap().serial, 2026112301);
    let (again, _) = source
        .refresh(rootguard::time::Timestamp::from_second(now() as i64))
        .await;
    assert!(again.is_none(), "same serial: no second transfer");
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::sync(
            "interop::ldns_signed_root_with_zonemd_verifies_and_tampering_is_caught",
            ldns_signed_root_with_zonemd_verifies_and_tampering_is_caught,
        ),
        crate::support::sync(
            "interop::unsigned_zonemd_digest_mismatch_is_reported",
            unsigned_zonemd_digest_mismatch_is_reported,
        ),
        crate::support::sync(
            "interop::ldns_verify_zone_agrees_on_the_2018_root_zone",
            ldns_verify_zone_agrees_on_the_2018_root_zone,
        ),
        crate::support::asynch(
            "interop::nsd_serving_signed_tlds_healthy_is_ok_and_ds_mismatch_is_threat",
            nsd_serving_signed_tlds_healthy_is_ok_and_ds_mismatch_is_threat,
        ),
        crate::support::asynch(
            "interop::the_daemon_transfers_a_signed_root_zone_from_nsd_and_verifies_it",
            the_daemon_transfers_a_signed_root_zone_from_nsd_and_verifies_it,
        ),
    ]
}
