//! `rootguard serve`, the real binary on port 0, against a lab served by
//! this test (whose faults the test changes while the daemon runs): a full
//! cycle through the API (threat -> complaint -> suspension -> recovery ->
//! lift; blocked and allowed change requests), the role matrix, bad
//! requests, drift after an unapproved edit of the watched zone file, and a
//! clean shutdown and restart with nothing lost.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use rootguard::http::auth::token_hash;
use rootguard::lab::{Faults, Lab, LabKey, load_dir};
use serde_json::{Value, json};

fn start(config: &std::path::Path) -> Daemon {
    start_daemon(config)
}

async fn get(base: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn post(base: &str, path: &str, token: Option<&str>, body: String) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn wait_for(what: &str, secs: u64, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn suspension(base: &str, tld: &str) -> Option<Value> {
    let (_, body) = get(base, "/api/v1/suspensions", None).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|s| s["tld"] == tld)
        .map(|s| s["suspension"].clone())
}

const OP: &str = "op-secret";
const XH: &str = "xh-manager-secret";
const XA: &str = "xa-manager-secret";
const PANEL: &str = "panel-secret";
const XH_ADMIN: &str = "xh-admin-secret";
const XH_TECH: &str = "xh-tech-secret";

async fn daemon_full_cycle_roles_drift_and_restart() {
    // `promtool check metrics` judges the real scrape below.
    crate::support::need_tool("promtool");
    let mut root = RootZone::new();
    for (i, t) in ["xa", "xb", "xg", "xh"].iter().enumerate() {
        let i = i as u8 + 1;
        root = root.tld(
            t,
            &[
                ("ns1", &format!("127.80.{i}.1")),
                ("ns2", &format!("127.81.{i}.1")),
            ],
        );
    }
    root = root.lab_ds("xh");
    let lab_toml = "[server.\"ns1.xg.\"]\nsilent = true\n[server.\"ns2.xg.\"]\nsilent = true\n[tld.xh]\nkey_generation = 2\n";
    let (dir, port) = lab_dir(&root, lab_toml, None);
    let (spec, zone) = load_dir(dir.path()).unwrap();
    let lab = Lab::start(spec, &zone).await.unwrap();
    let d = dir.path();
    std::fs::write(d.join("profile.toml"), "disable = [\"ADDRESS-SCOPE\"]\n").unwrap();
    let config = d.join("rootguard.toml");
    std::fs::write(
        &config,
        format!(
            r#"store = "{store}"
profile = "{profile}"
effective_zone = "{eff}"
[zone]
file = "{zone}"
[sweep]
interval_secs = 1
[probe]
port = {port}
udp_timeout_ms = 400
udp_retries = 1
tcp_timeout_ms = 500
[policy]
persist_sweeps = 2
clear_sweeps = 2
auto_suspend = true
[http]
listen = "127.0.0.1:0"
[[http.tokens]]
name = "operator-1"
sha256 = "{op}"
role = "operator"
[[http.tokens]]
name = "xh-manager"
sha256 = "{xh}"
role = "manager"
tlds = ["xh"]
[[http.tokens]]
name = "xh-admin"
sha256 = "{xh_admin}"
role = "manager"
kind = "admin-contact"
tlds = ["xh"]
[[http.tokens]]
name = "xh-tech"
sha256 = "{xh_tech}"
role = "manager"
kind = "tech-contact"
tlds = ["xh"]
[[http.tokens]]
name = "xa-manager"
sha256 = "{xa}"
role = "manager"
tlds = ["xa"]
[[http.tokens]]
name = "panelist"
sha256 = "{panel}"
role = "panel-member"
case = 1
"#,
            store = d.join("record.sqlite").display(),
            profile = d.join("profile.toml").display(),
            eff = d.join("effective.zone").display(),
            zone = d.join("root.zone").display(),
            op = token_hash(OP),
            xh = token_hash(XH),
            xa = token_hash(XA),
            panel = token_hash(PANEL),
            xh_admin = token_hash(XH_ADMIN),
            xh_tech = token_hash(XH_TECH),
        ),
    )
    .unwrap();
    let daemon = start(&config);
    let base = daemon.base.clone();

    // Threat -> complaint -> suspension.
    wait_for("xg held", 30, async || {
        suspension(&base, "xg")
            .await
            .is_some_and(|s| s["state"] == "active")
    })
    .await;
    let (_, body) = get(&base, "/api/v1/tlds/xg", Some(OP)).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["technical"]["suspension"]["measure"], "hold-delegation");
    assert!(
        v["technical"]["tracks"]["reachability"]["state"] == "open",
        "{v}"
    );
    let (_, eff) = get(&base, "/api/v1/effective-zone", None).await;
    assert!(eff.contains("; xg. held by a suspension"), "{eff}");
    assert!(!eff.contains("xg. 172800 IN NS"));
    wait_for("xh DS withheld", 30, async || {
        suspension(&base, "xh")
            .await
            .is_some_and(|s| s["measure"] == "withhold-ds")
    })
    .await;

    // Recovery -> lifted by itself.
    lab.set_faults("ns1.xg.", Faults::default());
    lab.set_faults("ns2.xg.", Faults::default());
    wait_for("xg lifted", 30, async || {
        suspension(&base, "xg").await.is_none()
    })
    .await;
    let (_, eff) = get(&base, "/api/v1/effective-zone", None).await;
    assert!(eff.contains("xg. 172800 IN NS ns1.xg."), "{eff}");

    // Change requests: the xh manager fixes its DS (technical change).
    let manager = {
        let (_, body) = get(&base, "/api/v1/tlds/xh", None).await;
        serde_json::from_str::<Value>(&body).unwrap()["delegation"]["manager"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let request = |ds: String| {
        json!({"tld": "xh", "submitted_by": "xh-manager", "on_behalf_of": manager, "ds": [serde_json::from_str::<Value>(&ds).unwrap()]})
        .to_string()
    };
    let ds_json = |g: u32| serde_json::to_string(&LabKey::derive("xh", g).ds()).unwrap();
    // Booleans in the request are not the contacts' confirmation.
    let mut claimed: Value = serde_json::from_str(&request(ds_json(2))).unwrap();
    claimed["confirmations"] = json!({"admin_contact": true, "tech_contact": true});
    let (status, v) = post(
        &base,
        "/api/v1/change-requests",
        Some(XH),
        claimed.to_string(),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("change-confirm"),
        "{v}"
    );
    // The contacts confirm, each with its own token; the manager cannot.
    let confirm = async |token: &str, body: &str| {
        let action = json!({"action": "change-confirm", "request": serde_json::from_str::<Value>(body).unwrap()});
        post(&base, "/api/v1/actions", Some(token), action.to_string()).await
    };
    let (status, v) = confirm(XH, &request(ds_json(2))).await;
    assert_eq!(status, 403, "the manager is not a contact: {v}");
    for token in [XH_ADMIN, XH_TECH] {
        let (status, v) = confirm(token, &request(ds_json(7))).await;
        assert_eq!(status, 200, "{v}");
        let (status, v) = confirm(token, &request(ds_json(2))).await;
        assert_eq!(status, 200, "{v}");
    }
    let (status, v) = post(
        &base,
        "/api/v1/change-requests",
        Some(XH),
        request(ds_json(7)),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["decision"]["allowed"], false,
        "a DS matching no key is blocked: {v}"
    );
    let (status, v) = post(
        &base,
        "/api/v1/change-requests",
        Some(XH),
        request(ds_json(2)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["decision"]["allowed"], true, "{v}");
    assert_eq!(v["decision"]["kind"], "technical-change");
    wait_for("xh restored", 30, async || {
        suspension(&base, "xh").await.is_none()
    })
    .await;
    // A manager change is a redelegation: blocked without a completed case.
    let redelegate =
        json!({"tld": "xh", "submitted_by": "x", "on_behalf_of": "New", "manager": "New"})
            .to_string();
    let (_, v) = post(&base, "/api/v1/change-requests", Some(OP), redelegate).await;
    assert_eq!(v["decision"]["allowed"], false);
    assert_eq!(v["decision"]["kind"], "redelegation");

    // Bad requests: clear 4xx, never 500.
    let (status, v) = post(
        &base,
        "/api/v1/change-requests",
        Some(OP),
        "{\"tld\": ".into(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("not a valid change request"),
        "{v}"
    );
    let (status, _) = post(
        &base,
        "/api/v1/change-requests",
        Some(OP),
        json!({"tld": "zz", "submitted_by": "a", "on_behalf_of": "b", "ns": ["a.zz."]}).to_string(),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = post(
        &base,
        "/api/v1/change-requests",
        Some(XA),
        request(ds_json(2)),
    )
    .await;
    assert_eq!(status, 403, "the xa manager cannot act on xh");
    let (status, _) = post(&base, "/api/v1/change-requests", None, request(ds_json(2))).await;
    assert_eq!(status, 401);
    let (status, _) = post(
        &base,
        "/api/v1/change-requests",
        Some(PANEL),
        request(ds_json(2)),
    )
    .await;
    assert_eq!(status, 403, "panel members do not submit change requests");
    let (status, _) = post(
        &base,
        "/api/v1/change-requests",
        Some(OP),
        "x".repeat(100_000),
    )
    .await;
    assert_eq!(status, 413, "body limit");

    // The role matrix: every endpoint x every role.
    let roles: [(&str, Option<&str>); 4] = [
        ("public", None),
        ("operator", Some(OP)),
        ("manager", Some(XA)),
        ("panel", Some(PANEL)),
    ];
    let matrix: &[(&str, [u16; 4])] = &[
        ("/healthz", [200, 200, 200, 200]),
        ("/metrics", [200, 200, 200, 200]),
        ("/api/v1/status", [200, 200, 200, 200]),
        ("/api/v1/tlds", [200, 200, 200, 200]),
        ("/api/v1/tlds/xa", [200, 200, 200, 200]),
        ("/api/v1/tlds/zz", [404, 404, 404, 404]),
        ("/api/v1/complaints", [401, 200, 200, 403]),
        ("/api/v1/suspensions", [200, 200, 200, 200]),
        // Public: only the tribunal records made public (none here).
        ("/api/v1/cases", [200, 200, 200, 200]),
        ("/api/v1/change-requests", [401, 200, 200, 403]),
        ("/api/v1/drift", [200, 200, 200, 200]),
        ("/api/v1/effective-zone", [200, 200, 200, 200]),
        ("/api/v1/audit/export", [401, 200, 403, 403]),
        ("/api/v1/nothing-here", [404, 404, 404, 404]),
    ];
    for (path, expected) in matrix {
        for ((role, token), want) in roles.iter().zip(expected) {
            let (status, body) = get(&base, path, *token).await;
            assert_eq!(status, *want, "{role} GET {path}: {body}");
        }
    }
    let (status, _) = get(&base, "/api/v1/tlds", Some("not-a-token")).await;
    assert_eq!(status, 401);
    let (_, body) = get(&base, "/api/v1/cases", None).await;
    assert_eq!(body, "[]", "the public reads no private case record");
    // The xa manager sees its own complaints only; decisions of its own TLD only.
    let (_, body) = get(&base, "/api/v1/change-requests", Some(XA)).await;
    assert_eq!(body, "[]");

    // Responses conform to the OpenAPI document generated from the code.
    let (status, doc) = get(&base, "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut checked = 0;
    for (path, concrete) in [
        ("/api/v1/status", "/api/v1/status"),
        ("/api/v1/tlds", "/api/v1/tlds"),
        ("/api/v1/tlds/{tld}", "/api/v1/tlds/xg"),
        ("/api/v1/complaints", "/api/v1/complaints"),
        ("/api/v1/suspensions", "/api/v1/suspensions"),
        ("/api/v1/cases", "/api/v1/cases"),
        ("/api/v1/change-requests", "/api/v1/change-requests"),
        ("/api/v1/drift", "/api/v1/drift"),
    ] {
        let schema =
            doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
                .clone();
        assert!(schema.is_object(), "no 200 schema for {path}");
        let mut root = schema;
        root["components"] = doc["components"].clone();
        let validator = jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{path}: {e}"));
        let (_, body) = get(&base, concrete, Some(OP)).await;
        let instance: Value = serde_json::from_str(&body).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{concrete} does not match its schema: {errors:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, 8);
    // The check can fail: a summary with a numeric label does not conform.
    let mut tlds_schema = doc["paths"]["/api/v1/tlds"]["get"]["responses"]["200"]["content"]["application/json"]["schema"].clone();
    tlds_schema["components"] = doc["components"].clone();
    assert!(!jsonschema::is_valid(
        &tlds_schema,
        &json!([{"tld": 5, "findings": 0, "open_complaints": 0, "drift": 0}])
    ));
    // A refusal's body matches the error schema.
    let err_schema = doc["components"]["schemas"]["ErrorBody"].clone();
    let (_, v) = post(&base, "/api/v1/change-requests", Some(OP), "{".into()).await;
    assert!(jsonschema::is_valid(&err_schema, &v), "{v}");

    // Metrics from a real scrape.
    let (_, metrics) = get(&base, "/metrics", None).await;
    for name in [
        "rootguard_build_info",
        "rootguard_tld_status",
        "rootguard_sweeps_total",
        "rootguard_nameserver_rtt_seconds_bucket",
        "rootguard_suspensions_active",
        "rootguard_complaints_open",
        "rootguard_vantage_impaired",
        "rootguard_zone_serial",
        "rootguard_drift",
    ] {
        assert!(metrics.contains(name), "{name} missing");
    }

    // promtool accepts the real scrape.
    if Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        use std::io::Write;
        let mut child = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(metrics.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool check metrics: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        panic!("promtool stopped answering");
    }

    // Drift: an unapproved edit of the watched zone file.
    let text = std::fs::read_to_string(d.join("root.zone")).unwrap();
    std::fs::write(
        d.join("root.zone"),
        text.replace("127.80.1.1", "127.99.1.1"),
    )
    .unwrap();
    wait_for("drift", 30, async || {
        get(&base, "/api/v1/drift", None)
            .await
            .1
            .contains("127.99.1.1")
    })
    .await;
    let (_, metrics) = get(&base, "/metrics", None).await;
    assert!(
        metrics.contains("rootguard_drift{tld=\"xa\"} 1"),
        "{}",
        metrics
            .lines()
            .filter(|l| l.contains("drift"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // Clean shutdown on SIGTERM, then a restart with nothing lost.
    let (_, export) = get(&base, "/api/v1/audit/export", Some(OP)).await;
    let mut daemon = daemon;
    let pid = daemon.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = daemon.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no clean exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    let restarted = start(&config);
    let (_, export2) = get(&restarted.base, "/api/v1/audit/export", Some(OP)).await;
    assert!(
        export2.starts_with(export.trim_end()),
        "events lost across the restart"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .args([
            "--store",
            d.join("record.sqlite").to_str().unwrap(),
            "audit",
            "verify",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    drop(restarted);
    lab.shutdown().await;
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![crate::support::asynch(
        "serve::daemon_full_cycle_roles_drift_and_restart",
        daemon_full_cycle_roles_drift_and_restart,
    )]
}
