//! The Grafana dashboards and Prometheus rules reference only metrics the
//! daemon exports, and promtool accepts the rules, the scrape config and a
//! real scrape. `tests/run` installs promtool (Debian's `prometheus`);
//! without it the promtool checks skip, saying so, except in CI.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use rootguard::checks::report::RootZoneInfo;
use rootguard::metrics::Metrics;

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards")
}

/// Metric families the daemon exports, with histogram series suffixes.
fn exported() -> BTreeSet<String> {
    let m = Metrics::new();
    // Touch every labelled family so that it is rendered.
    m.observe_world(&Default::default());
    m.gate_decisions
        .with_label_values(&["allowed", "technical-change"])
        .inc();
    m.drift.with_label_values(&["xa"]).set(0);
    let report = rootguard::checks::TldReport {
        tld: "xa".into(),
        kind: rootguard::zone::TldKind::CountryCode,
        verdict: rootguard::checks::Verdict::Ok,
        threats: vec![],
        findings: vec![rootguard::checks::Finding {
            check: rootguard::checks::CheckId::Edns,
            severity: rootguard::checks::Severity::Warning,
            server: None,
            message: "m".into(),
            fix: "f",
            zonemaster: None,
        }],
        servers: vec![rootguard::checks::ServerStatus {
            host: "ns1.xa.".into(),
            address: "127.0.0.1".parse().unwrap(),
            from_glue: true,
            udp: "NOERROR AA".into(),
            udp_noerror: true,
            udp_rtt_ms: 1.0,
            tcp: "NOERROR AA".into(),
            tcp_noerror: true,
            tcp_rtt_ms: 2.0,
            authoritative: true,
            serial: Some(1),
        }],
        probe_ms: 1.0,
        local_error: None,
    };
    let _ = RootZoneInfo {
        source: String::new(),
        serial: 0,
    };
    let at = rootguard::time::Timestamp::from_second(1);
    let window = std::collections::BTreeMap::from([(
        "rootguard".to_string(),
        rootguard::policy::quorum::VantageReport {
            at,
            tlds: std::collections::BTreeMap::from([(
                "xa".to_string(),
                rootguard::policy::quorum::TldSeen::of(&report, at),
            )]),
        },
    )]);
    m.observe_sweep(&[report], false, 0.1, at);
    m.observe_window(&window, &rootguard::policy::quorum::WindowRecord::default());
    let mut names = BTreeSet::new();
    for line in m.render().lines().filter(|l| l.starts_with("# TYPE")) {
        let mut parts = line.split_whitespace().skip(2);
        let (name, kind) = (parts.next().unwrap().to_string(), parts.next().unwrap());
        if kind == "histogram" {
            for s in ["_bucket", "_sum", "_count"] {
                names.insert(format!("{name}{s}"));
            }
        }
        names.insert(name);
    }
    names
}

fn referenced(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find("rootguard_") {
        let start = i + pos;
        let mut end = start;
        while end < bytes.len()
            && (bytes[end].is_ascii_lowercase()
                || bytes[end].is_ascii_digit()
                || bytes[end] == b'_')
        {
            end += 1;
        }
        out.insert(text[start..end].to_string());
        i = end;
    }
    out
}

fn dashboards_and_rules_use_only_exported_metrics() {
    let exported = exported();
    for f in [
        "rootguard-overview.json",
        "rootguard-tld.json",
        "alerts.yml",
    ] {
        let text = std::fs::read_to_string(dir().join(f)).unwrap();
        if f.ends_with(".json") {
            let v: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(
                v["panels"].as_array().is_some_and(|p| !p.is_empty()),
                "{f} has no panels"
            );
        }
        let used = referenced(&text);
        assert!(!used.is_empty(), "{f} references no metric");
        for name in used {
            assert!(
                exported.contains(&name),
                "{f} references {name}, which rootguard does not export"
            );
        }
    }
}

fn promtool() -> Option<&'static str> {
    let ok = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        crate::support::skip("promtool is not installed (bash tests/run installs it)");
    }
    Some("promtool")
}

fn promtool_accepts_rules_config_and_a_scrape() {
    let Some(promtool) = promtool() else { return };
    for args in [
        vec!["check", "rules", "alerts.yml"],
        vec!["check", "config", "prometheus.yml"],
    ] {
        let out = Command::new(promtool)
            .args(&args)
            .current_dir(dir())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let m = Metrics::new();
    m.observe_world(&Default::default());
    let mut child = Command::new(promtool)
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
        .write_all(m.render().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::sync(
            "dashboards::dashboards_and_rules_use_only_exported_metrics",
            dashboards_and_rules_use_only_exported_metrics,
        ),
        crate::support::sync(
            "dashboards::promtool_accepts_rules_config_and_a_scrape",
            promtool_accepts_rules_config_and_a_scrape,
        ),
    ]
}
