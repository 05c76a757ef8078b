//! Attack tests for the live holes of the security review: zone injection
//! through a change request (docs/RULES.md#change-request-data), a first
//! start that would seed the record from an unverified zone
//! (docs/RULES.md#authentic-root-zone) and reflected markup in pages
//! (docs/RULES.md#pages). Each drives the real binary or its HTTP API.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;
use rootguard::http::auth::token_hash;
use rootguard::lab::{Lab, load_dir};
use rootguard::zone::{Delegation, Zone, ZoneIndex};
use serde_json::{Value, json};

const XA: &str = "xa-manager-secret-token";
const OP: &str = "operator-secret-token";
const XA_ADMIN: &str = "xa-admin-secret-token";
const XA_TECH: &str = "xa-tech-secret-token";

async fn get(base: &str, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn post(base: &str, token: &str, body: String) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/change-requests"))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The delegations of an effective zone, read back by the zone library.
fn delegations(effective: &str) -> std::collections::BTreeMap<String, Delegation> {
    let text = format!(
        ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400\n{effective}"
    );
    let zone = Zone::from_bytes(text.as_bytes(), Path::new("effective.zone"))
        .unwrap_or_else(|e| panic!("the effective zone does not parse: {e}\n{effective}"));
    ZoneIndex::build(&zone, None).delegations
}

fn config(d: &Path, port: u16, extra: &str) -> std::path::PathBuf {
    std::fs::write(d.join("profile.toml"), "disable = [\"ADDRESS-SCOPE\"]\n").unwrap();
    let config = d.join("rootguard.toml");
    std::fs::write(
        &config,
        format!(
            r#"store = "{store}"
profile = "{profile}"
[zone]
file = "{zone}"
{extra}
[sweep]
interval_secs = 1
[probe]
port = {port}
udp_timeout_ms = 300
udp_retries = 1
tcp_timeout_ms = 400
[http]
listen = "127.0.0.1:0"
[[http.tokens]]
name = "operator-1"
sha256 = "{op}"
role = "operator"
[[http.tokens]]
name = "xa-manager"
sha256 = "{xa}"
role = "manager"
tlds = ["xa"]
[[http.tokens]]
name = "xa-admin"
sha256 = "{xa_admin}"
role = "manager"
kind = "admin-contact"
tlds = ["xa"]
[[http.tokens]]
name = "xa-tech"
sha256 = "{xa_tech}"
role = "manager"
kind = "tech-contact"
tlds = ["xa"]
"#,
            store = d.join("record.sqlite").display(),
            profile = d.join("profile.toml").display(),
            zone = d.join("root.zone").display(),
            op = token_hash(OP),
            xa = token_hash(XA),
            xa_admin = token_hash(XA_ADMIN),
            xa_tech = token_hash(XA_TECH),
        ),
    )
    .unwrap();
    config
}

async fn change_requests_cannot_inject_records_for_other_cctlds() {
    let root = RootZone::new()
        .tld("xa", &[("ns1", "127.70.1.1"), ("ns2", "127.71.1.1")])
        .tld("xb", &[("ns1", "127.70.2.1"), ("ns2", "127.71.2.1")])
        .tld("xc", &[("ns1", "127.70.3.1"), ("ns2", "127.71.3.1")]);
    let (dir, port) = lab_dir(&root, "", None);
    let (spec, zone) = load_dir(dir.path()).unwrap();
    let lab = Lab::start(spec, &zone).await.unwrap();
    let daemon = start_daemon(&config(dir.path(), port, ""));
    let base = daemon.base.clone();
    let (_, before) = get(&base, "/api/v1/effective-zone").await;
    let before_d = delegations(&before);
    assert_eq!(before_d.len(), 3, "{before}");
    let (_, body) = get(&base, "/api/v1/tlds/xa").await;
    let manager = serde_json::from_str::<Value>(&body).unwrap()["delegation"]["manager"]
        .as_str()
        .unwrap()
        .to_string();
    let request = |fields: Value| {
        let mut v = json!({"tld": "xa", "submitted_by": "xa-manager", "on_behalf_of": manager});
        for (k, x) in fields.as_object().unwrap() {
            v[k] = x.clone();
        }
        v.to_string()
    };
    let digest = "AB".repeat(32);
    let hostile = [
        json!({"ns": ["ns1.xa.", "ns2.xa.\nxb. 172800 IN NS ns.attacker.example."]}),
        json!({"ns": ["ns1.xa.", "ns2.xa. xb."]}),
        json!({"ns": ["ns1.xa.", "ns2\\010.xa."]}),
        json!({"ns": ["ns1.xa.", "ns2.xa.;"]}),
        json!({"ns": []}),
        json!({"ns": ["ns1.xa.", "ns2.xa."],
               "glue": {"ns1.xa.\nxc. 172800 IN NS hijack.example.": ["127.70.1.1"]}}),
        // Glue for another ccTLD's host, even one in the NS set.
        json!({"ns": ["ns1.xa.", "ns1.xb."], "glue": {"ns1.xa.": ["127.70.1.1"], "ns1.xb.": ["192.0.2.66"]}}),
        // Glue for a host outside the NS set.
        json!({"glue": {"ns1.xa.": ["127.70.1.1"], "ns2.xa.": ["127.71.1.1"], "ns9.xa.": ["192.0.2.9"]}}),
        // An in-domain host without glue.
        json!({"ns": ["ns1.xa.", "ns3.xa."], "glue": {"ns1.xa.": ["127.70.1.1"]}}),
        json!({"ds": [{"key_tag": 1, "algorithm": 13, "digest_type": 2, "digest": "00"}]}),
        json!({"ds": [{"key_tag": 1, "algorithm": 13, "digest_type": 2,
                        "digest": format!("{digest}\nxb. 86400 IN DS 1 13 2 {digest}")}]}),
        json!({"ds": [{"key_tag": 1, "algorithm": 13, "digest_type": 4, "digest": digest}]}),
        json!({"tld": "xa\nxb"}),
        json!({"manager": "New\nxb. 1 IN NS x."}),
    ];
    for fields in hostile {
        let body = request(fields.clone());
        let (status, v) = post(&base, XA, body.clone()).await;
        assert_eq!(status, 400, "{fields}: {v}");
        let message = v["error"].as_str().unwrap_or_default();
        assert!(
            message.contains("docs/RULES.md#change-request-data") && !message.contains('\n'),
            "{fields}: {v}"
        );
        // The operator is held to the same rule.
        let (status, _) = post(&base, OP, body).await;
        assert_eq!(status, 400, "operator: {fields}");
        let (_, eff) = get(&base, "/api/v1/effective-zone").await;
        assert_eq!(eff, before, "{fields} changed the effective zone");
    }
    let (_, decisions) = reqwest::Client::new()
        .get(format!("{base}/api/v1/change-requests"))
        .bearer_auth(OP)
        .send()
        .await
        .map(|r| (0, r))
        .unwrap();
    let decisions: Value = decisions.json().await.unwrap();
    assert_eq!(
        decisions,
        json!([]),
        "bad input is never recorded as a decision"
    );

    // A valid technical change, spelt in upper case without final dots,
    // confirmed by .xa's contacts (spelt otherwise: the same request), is
    // allowed; only .xa changes in the effective zone, read back as records.
    for (token, spelling) in [
        (
            XA_ADMIN,
            json!({"ns": ["ns1.xa.", "ns2.xa.", "ns3.xa."],
                          "glue": {"ns1.xa.": ["127.70.1.1"], "ns2.xa.": ["127.71.1.1"], "ns3.xa.": ["127.72.1.1"]}}),
        ),
        (
            XA_TECH,
            json!({"ns": ["NS1.XA", "ns2.xa.", "ns3.xa"],
                         "glue": {"ns1.xa": ["127.70.1.1"], "NS2.xa.": ["127.71.1.1"], "ns3.xa.": ["127.72.1.1"]}}),
        ),
    ] {
        let body: Value = serde_json::from_str(&request(spelling)).unwrap();
        let r = reqwest::Client::new()
            .post(format!("{base}/api/v1/actions"))
            .bearer_auth(token)
            .body(json!({"action": "change-confirm", "request": body}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    }
    let (status, v) = post(
        &base,
        XA,
        request(json!({"ns": ["NS1.XA", "ns2.xa.", "ns3.xa"],
                       "glue": {"ns1.xa": ["127.70.1.1"], "NS2.xa.": ["127.71.1.1"], "ns3.xa.": ["127.72.1.1"]}})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["decision"]["allowed"], true, "{v}");
    let (_, after) = get(&base, "/api/v1/effective-zone").await;
    let after_d = delegations(&after);
    assert_eq!(
        after_d.keys().collect::<Vec<_>>(),
        before_d.keys().collect::<Vec<_>>()
    );
    for (tld, d) in &after_d {
        if tld == "xa" {
            assert_eq!(d.ns, vec!["ns1.xa.", "ns2.xa.", "ns3.xa."], "{after}");
            assert_eq!(
                d.glue_of("ns3.xa."),
                ["127.72.1.1".parse::<std::net::IpAddr>().unwrap()]
            );
        } else {
            assert_eq!(Some(d), before_d.get(tld), "{tld} changed:\n{after}");
        }
    }
    drop(daemon);
    lab.shutdown().await;
}

fn cli_gate_refuses_invalid_dns_data_with_exit_3_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = RootZone::new()
        .tld("xa", &[("ns1", "127.70.1.1"), ("ns2", "127.71.1.1")])
        .tld("xb", &[("ns1", "127.70.2.1"), ("ns2", "127.71.2.1")]);
    std::fs::write(d.join("root.zone"), root.text()).unwrap();
    let store = d.join("r.sqlite");
    let op = crate::support::operator_args(d);
    let rg = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rootguard"))
            .arg("--store")
            .arg(&store)
            .args(args)
            .env("ROOTGUARD_KEY", d.join("op.key"))
            .output()
            .unwrap()
    };
    let zone = d.join("root.zone");
    let mut import = vec![
        "import",
        "--no-verify",
        "--root-zone",
        zone.to_str().unwrap(),
    ];
    import.extend(op.iter().map(String::as_str));
    let out = rg(&import);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manager = {
        let out = rg(&["show", "tld", "xa"]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["approved"]["manager"].as_str().unwrap_or("").to_string()
    };
    let req = d.join("req.json");
    std::fs::write(
        &req,
        json!({"tld": "xa", "submitted_by": "x", "on_behalf_of": manager,
               "ns": ["ns1.xa.", "ns2.xa.\nxb. 172800 IN NS ns.attacker.example."]})
        .to_string(),
    )
    .unwrap();
    let out = rg(&["gate", req.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("not a valid host name") && err.contains("docs/RULES.md#change-request-data"),
        "{err}"
    );
    let out = rg(&["show", "decisions"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, json!({}), "{v}");
}

fn first_start_refuses_to_seed_from_an_unverified_zone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // An unsigned zone: not authentic.
    let root = RootZone::new().tld("xa", &[("ns1", "127.70.1.1"), ("ns2", "127.71.1.1")]);
    std::fs::write(d.join("root.zone"), root.text()).unwrap();
    let config = config(d, unique_port(), "require_authentic = true");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("ROOTGUARD_STORE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the daemon seeded from an unverified zone and kept running");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(!status.success(), "{err}");
    assert!(
        err.contains("not authentic") && err.contains("docs/RULES.md#authentic-root-zone"),
        "{err}"
    );
    // Nothing was seeded: the record holds no event.
    let out = Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .arg("--store")
        .arg(d.join("record.sqlite"))
        .args(["audit", "export"])
        .output()
        .unwrap();
    assert!(
        out.stdout.is_empty(),
        "events were recorded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

async fn pages_escape_what_the_request_path_holds_and_forbid_scripts() {
    let root = RootZone::new().tld("xa", &[("ns1", "127.70.9.1"), ("ns2", "127.71.9.1")]);
    let (dir, port) = lab_dir(&root, "", None);
    let daemon = start_daemon(&config(dir.path(), port, ""));
    let base = daemon.base.clone();
    for path in [
        "/tld/%3Cimg%20src=x%20onerror=alert(1)%3E",
        "/tld/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/tld/%22%3E%3Csvg%20onload=alert(1)%3E",
    ] {
        let r = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "{path}");
        let csp = r
            .headers()
            .get("content-security-policy")
            .map(|h| h.to_str().unwrap().to_string())
            .unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("script-src"),
            "{path}: {csp}"
        );
        let body = r.text().await.unwrap();
        for raw in ["<img", "<script", "<svg"] {
            assert!(!body.contains(raw), "{path}: unescaped {raw}: {body}");
        }
        assert!(
            body.contains("&#60;") || body.contains("&lt;"),
            "{path}: {body}"
        );
    }
    for page in ["/", "/tld/xa", "/api/v1/tlds", "/healthz"] {
        let r = reqwest::get(format!("{base}{page}")).await.unwrap();
        assert!(
            r.headers().contains_key("content-security-policy"),
            "{page} has no Content-Security-Policy"
        );
    }
}

fn a_record_seeded_without_verification_is_refused_when_authenticity_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = RootZone::new().tld("xa", &[("ns1", "127.70.1.1"), ("ns2", "127.71.1.1")]);
    std::fs::write(d.join("root.zone"), root.text()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .arg("--store")
        .arg(d.join("record.sqlite"))
        .args(["import", "--no-verify", "--root-zone"])
        .arg(d.join("root.zone"))
        .args(crate::support::operator_args(d))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = config(d, unique_port(), "require_authentic = true");
    let out = Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("ROOTGUARD_STORE")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("was not verified") && err.contains("docs/RULES.md#authentic-root-zone"),
        "{err}"
    );
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::asynch(
            "security::change_requests_cannot_inject_records_for_other_cctlds",
            change_requests_cannot_inject_records_for_other_cctlds,
        ),
        crate::support::sync(
            "security::cli_gate_refuses_invalid_dns_data_with_exit_3_and_records_nothing",
            cli_gate_refuses_invalid_dns_data_with_exit_3_and_records_nothing,
        ),
        crate::support::sync(
            "security::first_start_refuses_to_seed_from_an_unverified_zone",
            first_start_refuses_to_seed_from_an_unverified_zone,
        ),
        crate::support::asynch(
            "security::pages_escape_what_the_request_path_holds_and_forbid_scripts",
            pages_escape_what_the_request_path_holds_and_forbid_scripts,
        ),
        crate::support::asynch(
            "security::tokens_paths_and_complainants",
            tokens_paths_and_complainants,
        ),
        crate::support::asynch(
            "security::a_connection_flood_cannot_suspend_a_healthy_cctld",
            a_connection_flood_cannot_suspend_a_healthy_cctld,
        ),
        crate::support::asynch(
            "security::a_hostile_name_server_cannot_burn_the_guards_cpu",
            a_hostile_name_server_cannot_burn_the_guards_cpu,
        ),
        crate::support::sync(
            "security::input_cannot_carry_what_only_the_guard_observes",
            input_cannot_carry_what_only_the_guard_observes,
        ),
        crate::support::sync(
            "security::a_record_seeded_without_verification_is_refused_when_authenticity_is_required",
            a_record_seeded_without_verification_is_refused_when_authenticity_is_required,
        ),
    ]
}

/// Only the guard observes (docs/RULES.md#observations): `batch` and `act`
/// lines carrying sweep observations, a change request's pre-check or an
/// applicant's technical qualification are refused with exit 3, and
/// nothing is recorded.
fn input_cannot_carry_what_only_the_guard_observes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = RootZone::new().tld("xa", &[("ns1", "127.70.1.1"), ("ns2", "127.71.1.1")]);
    std::fs::write(d.join("root.zone"), root.text()).unwrap();
    let store = d.join("r.sqlite");
    let rg = |args: &[&str], stdin: Option<&str>| {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_rootguard"))
            .arg("--store")
            .arg(&store)
            .args(args)
            .env("ROOTGUARD_KEY", d.join("op.key"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
        drop(input);
        child.wait_with_output().unwrap()
    };
    let root_zone = d.join("root.zone");
    let op = crate::support::operator_args(d);
    let mut import = vec![
        "import",
        "--no-verify",
        "--root-zone",
        root_zone.to_str().unwrap(),
    ];
    import.extend(op.iter().map(String::as_str));
    let out = rg(&import, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = || {
        let out = rg(&["audit", "export"], None);
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    assert_eq!(events(), 1);
    let manager = {
        let out = rg(&["show", "tld", "xa"], None);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["approved"]["manager"].as_str().unwrap_or("").to_string()
    };
    let lines = [
        json!({"action": "sweep", "tld": "xa", "facts": {"at": "2026-11-25T10:00:00Z", "impaired": false,
               "findings": {}, "threat": "total-outage", "threat_detail": "forged"}}),
        json!({"action": "gate", "request": {"tld": "xa", "submitted_by": "x", "on_behalf_of": manager,
               "ds": [{"key_tag": 1, "algorithm": 13, "digest_type": 2, "digest": "AB".repeat(32)}]},
               "precheck": {"threat": null, "summary": "forged"}}),
    ];
    for line in &lines {
        let out = rg(&["batch"], Some(&format!("{line}\n")));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{line}: {err}");
        assert!(err.contains("docs/RULES.md#observations"), "{line}: {err}");
    }
    let out = rg(
        &[
            "act",
            "case-apply",
            "--id",
            "1",
            "--application",
            r#"{"applicant":"A","admin_contact_country":"X","technically_qualified":true,"financial_backing":true,"capacity":true}"#,
        ],
        None,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("docs/RULES.md#observations"), "{err}");
    assert_eq!(events(), 1, "a refused observation was recorded");
}

/// A hostile name server (KeyTrap, docs/RULES.md#validation-limits): 900
/// junk signatures over its DNSKEY RRset, served before the real one. The
/// check does bounded work, reports the limit, and treats the ccTLD as not
/// validly signed, so a change request pointing at such servers is blocked.
async fn a_hostile_name_server_cannot_burn_the_guards_cpu() {
    let root = RootZone::new()
        .tld("xk", &[("ns1", "127.74.1.1"), ("ns2", "127.75.1.1")])
        .lab_ds("xk");
    let (dir, _port) = lab_dir(
        &root,
        "[tld.xk]\njunk_dnskey_signatures = 900\n",
        Some("disable = [\"ADDRESS-SCOPE\"]\n"),
    );
    let started = Instant::now();
    let report = check_lab(dir.path(), &["xk"]).await;
    let elapsed = started.elapsed();
    let t = tld(&report, "xk");
    assert!(
        t.findings
            .iter()
            .any(|f| f.message.contains("docs/RULES.md#validation-limits")),
        "{:#?}",
        t.findings
    );
    assert_eq!(t.verdict, rootguard::checks::Verdict::Threat, "{t:#?}");
    // Not a timed assertion of speed, only a bound far above the work the
    // limits allow (without them the check took tens of seconds).
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

/// A flood of idle connections (docs/RULES.md#local-failures) against a
/// daemon whose descriptor limit is low: the connection cap and the
/// header-read timeout keep descriptors for the probes, so no healthy
/// ccTLD gets a complaint or a suspension, and the API answers again once
/// the idle connections time out.
async fn a_connection_flood_cannot_suspend_a_healthy_cctld() {
    use std::io::BufRead;
    let root = RootZone::new()
        .tld("xa", &[("ns1", "127.76.1.1"), ("ns2", "127.77.1.1")])
        .tld("xb", &[("ns1", "127.76.2.1"), ("ns2", "127.77.2.1")])
        .lab_ds("xa");
    let (dir, port) = lab_dir(&root, "", None);
    let (spec, zone) = load_dir(dir.path()).unwrap();
    let lab = Lab::start(spec, &zone).await.unwrap();
    let config = config(dir.path(), port, "");
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "[[http.tokens]]",
        "max_connections = 64\nheader_read_timeout_secs = 1\n[[http.tokens]]",
        1,
    );
    let text = text.replace(
        "[probe]",
        "[policy]\npersist_sweeps = 2\nclear_sweeps = 2\nauto_suspend = true\n[probe]",
    );
    std::fs::write(&config, text).unwrap();
    // A low descriptor limit, as an attacker would make it feel.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 256 && exec {} serve --config {}",
            env!("CARGO_BIN_EXE_rootguard"),
            config.display()
        ))
        .env_remove("ROOTGUARD_STORE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("rootguard: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string();
    std::thread::spawn(move || for _ in lines {});
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().unwrap();
    // Hold 600 idle connections open for the length of several sweeps,
    // reopening those the daemon closes.
    let flood = tokio::spawn(async move {
        let deadline = Instant::now() + Duration::from_secs(6);
        let mut held = Vec::new();
        while Instant::now() < deadline {
            while held.len() < 600 {
                match tokio::net::TcpStream::connect(addr).await {
                    Ok(s) => held.push(s),
                    Err(_) => break,
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            held.retain(|s: &tokio::net::TcpStream| s.peer_addr().is_ok());
            held.truncate(500);
        }
    });
    flood.await.unwrap();
    // The API answers again, and nothing happened to the healthy ccTLDs.
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        if let Ok(r) = reqwest::get(format!("{base}/api/v1/suspensions")).await {
            break r.text().await.unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the API does not answer after the flood"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(body.trim(), "[]", "a suspension after the flood: {body}");
    for t in ["xa", "xb"] {
        let (_, body) = get(&base, &format!("/api/v1/tlds/{t}")).await;
        let v: Value = serde_json::from_str(&body).unwrap();
        let tracks = &v["technical"]["tracks"];
        assert!(
            tracks.is_null() || tracks.as_object().is_some_and(|m| m.is_empty()),
            "{t}: complaint tracks after the flood: {v}"
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    lab.shutdown().await;
}

/// Smaller holes (security issue, finding 8): an unknown token is refused
/// on every route; the Bearer scheme is case-insensitive; the public status
/// shows no file path; a manager does not learn who complained; token
/// hashes in the configuration are checked.
async fn tokens_paths_and_complainants() {
    let root = RootZone::new().tld("xa", &[("ns1", "127.78.1.1"), ("ns2", "127.79.1.1")]);
    let (dir, port) = lab_dir(&root, "", None);
    let config = config(dir.path(), port, "");
    let daemon = start_daemon(&config);
    let base = daemon.base.clone();
    let client = reqwest::Client::new();
    for path in [
        "/",
        "/metrics",
        "/api/v1/effective-zone",
        "/tld/xa",
        "/healthz",
    ] {
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth("not-a-token-anyone-holds")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{path}");
    }
    let r = client
        .get(format!("{base}/api/v1/complaints"))
        .header("authorization", format!("bEaReR {OP}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "the scheme is case-insensitive");
    let (_, status) = get(&base, "/api/v1/status").await;
    assert!(
        !status.contains(&dir.path().display().to_string()),
        "the public status shows a path: {status}"
    );
    // A complaint lodged by someone; the manager sees it without the name.
    // The operator registers her (through the API, with its token); she
    // signs on the command line, which sends her command to the daemon.
    // The API refuses input carrying what only the guard observes (400),
    // and records nothing.
    for action in [
        json!({"action": "sweep", "tld": "xa", "facts": {"at": "2026-11-25T10:00:00Z", "impaired": false,
               "findings": {}, "threat": "total-outage", "threat_detail": "forged"}}),
        json!({"action": "gate", "request": {"tld": "xa", "submitted_by": "x", "on_behalf_of": "x"},
               "precheck": {"threat": null, "summary": "forged"}}),
        json!({"action": "guard-key-rotated", "key": "rootguard+00000000+AQ"}),
    ] {
        let r = client
            .post(format!("{base}/api/v1/actions"))
            .bearer_auth(OP)
            .body(action.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{action}");
    }
    let (alice_key, alice_public) = crate::support::key(dir.path(), "alice-the-complainant");
    let r = client
        .post(format!("{base}/api/v1/actions"))
        .bearer_auth(OP)
        .body(
            json!({"action": "identity-register", "id": "alice-the-complainant",
                   "kind": "complainant", "person": "Alice", "key": alice_public})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    let out = Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .arg("--store")
        .arg(dir.path().join("record.sqlite"))
        .arg("--key")
        .arg(&alice_key)
        .args([
            "act",
            "complaint-lodge",
            "--tld",
            "xa",
            "--category",
            "non-technical",
            "--text",
            "x",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let complaints = |token: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            client
                .get(format!("{base}/api/v1/complaints"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    // The daemon reads the record written beside it on its next write; a
    // change request (blocked) makes it catch up.
    let (_, _) = post(
        &base,
        OP,
        json!({"tld": "xa", "submitted_by": "op", "on_behalf_of": "nobody", "manager": "Someone"})
            .to_string(),
    )
    .await;
    let as_manager = complaints(XA).await;
    assert!(
        as_manager.contains("\"text\"") && !as_manager.contains("alice-the-complainant"),
        "{as_manager}"
    );
    assert!(complaints(OP).await.contains("alice-the-complainant"));
    drop(daemon);
    // A token hash that is not a SHA-256 is refused at load.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[http.tokens]]\nname = \"x\"\nsha256 = \"secret\"\nrole = \"operator\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .args(["config", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 hexadecimal"));
}
