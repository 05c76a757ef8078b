//! The real `rootguard` binary: outputs, JSON schema, exit statuses and
//! clear errors for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rootguard"))
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run rootguard")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn demo_lab_check_json_has_the_documented_schema_and_exit_status() {
    // A copy of zones/lab on a port of its own.
    let dir = tempfile::tempdir().unwrap();
    let port = crate::support::unique_port();
    for f in ["root.zone", "profile.toml"] {
        std::fs::copy(repo("zones/lab").join(f), dir.path().join(f)).unwrap();
    }
    let spec = std::fs::read_to_string(repo("zones/lab/lab.toml")).unwrap();
    std::fs::write(
        dir.path().join("lab.toml"),
        spec.replace("port = 5300", &format!("port = {port}")),
    )
    .unwrap();
    let lab = dir.path().to_str().unwrap();
    let out = run(&[
        "check",
        "--lab",
        lab,
        "--all-cctlds",
        "--json",
        "--udp-timeout-ms",
        "800",
        "--tcp-timeout-ms",
        "1000",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["schema"], "rootguard.check/1");
    assert_eq!(v["verdict"], "threat");
    assert_eq!(v["counts"]["threat"], 2);
    let tlds = v["tlds"].as_array().unwrap();
    assert_eq!(tlds.len(), 11);
    let by = |name: &str| tlds.iter().find(|t| t["tld"] == name).unwrap().clone();
    assert_eq!(by("xa")["verdict"], "ok");
    assert_eq!(by("xg")["threats"][0]["kind"], "total-outage");
    assert_eq!(by("xh")["threats"][0]["kind"], "dnssec-bogus");
    let f = &by("xe")["findings"][0];
    for key in ["check", "severity", "server", "message", "fix"] {
        assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
    }
    let s = &by("xa")["servers"][0];
    for key in [
        "host",
        "address",
        "udp",
        "udp_rtt_ms",
        "tcp",
        "tcp_rtt_ms",
        "authoritative",
        "serial",
    ] {
        assert!(s.get(key).is_some(), "server lacks {key}: {s}");
    }

    // Only healthy TLDs: exit 0, and the table names them.
    let out = run(&["check", "--lab", lab, "xa", "xb"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("2 TLDs: 2 ok, 0 degraded, 0 threat"),
        "{}",
        stdout(&out)
    );
    // A degraded one: exit 1.
    let out = run(&["check", "--lab", lab, "xd"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("SOA-SERIAL-CONSISTENT"));
}

fn bad_input_exits_3_naming_the_input_and_the_rule() {
    let zone = repo("tests/data/small-root.zone");
    let zone = zone.to_str().unwrap();
    let bad_glue = repo("tests/data/bad-glue.zone");
    let bad_profile = repo("tests/data/bad-profile.toml");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["check", "zz", "--root-zone", zone],
            "zz: not delegated in root zone",
        ),
        (
            vec!["check", "xa", "--root-zone", "/nonexistent/root.zone"],
            "/nonexistent/root.zone: cannot read zone file",
        ),
        (vec!["check", "--root-zone", zone], "no TLD to check"),
        (vec!["check", "xa"], "no root zone"),
        (
            vec!["zone", "summary", bad_glue.to_str().unwrap()],
            "bad-glue.zone:3: expected IPv4 address (RFC 1035",
        ),
        (
            vec!["zone", "summary", zone, "--at", "yesterday"],
            "not an RFC 3339 time",
        ),
        (
            vec![
                "check",
                "xa",
                "--root-zone",
                zone,
                "--profile",
                bad_profile.to_str().unwrap(),
            ],
            "unknown check ID \"NO-SUCH-CHECK\"",
        ),
        (vec!["check", "--no-such-flag"], "unexpected argument"),
    ];
    for (args, want) in cases {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(want),
            "{args:?}: expected {want:?} in {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("panicked"), "{args:?}");
    }
}

fn zone_summary_and_diff() {
    let out = run(&[
        "zone",
        "summary",
        repo("tests/data/small-root.zone").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["serial"], 2026010100);
    assert_eq!(v["tlds"], 3);
    assert_eq!(v["cctlds"], 2);
    assert_eq!(v["cctlds_with_ds"], 1);
    assert_eq!(v["authenticity"]["status"], "unsigned");

    let out = run(&[
        "zone",
        "diff",
        repo("tests/data/small-root.zone").to_str().unwrap(),
        repo("tests/data/small-root-next.zone").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["tlds_added"], serde_json::json!(["xc"]));
    assert_eq!(v["tlds_removed"], serde_json::json!(["xb"]));
    let xa = &v["changed"][0];
    assert_eq!(xa["ns_added"], serde_json::json!(["ns3.xa."]));
    assert_eq!(xa["ns_removed"], serde_json::json!(["ns2.xa."]));
    assert_eq!(
        xa["glue_removed"]["ns1.xa."],
        serde_json::json!(["192.0.2.1"])
    );
    assert_eq!(xa["ds_added"][0]["key_tag"], 54321);
}

fn real_zone_pair_diff_and_2018_summary() {
    let shared = crate::support::real_data();
    let out = run(&[
        "zone",
        "diff",
        shared.join("root-2025082202.zone").to_str().unwrap(),
        shared.join("root-2026082201.zone").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["old_serial"], 2025082202);
    assert_eq!(v["new_serial"], 2026082201);
    assert!(
        v["tlds_added"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "web")
    );
    assert!(
        v["tlds_removed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "goo")
    );
    assert!(v["changed"].as_array().unwrap().len() > 100);

    let out = run(&[
        "zone",
        "summary",
        shared.join("root-2018013000-signed.zone").to_str().unwrap(),
        "--at",
        "2018-01-31T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("authenticity:    verified"), "{text}");
    assert!(text.contains("2945 of 2945 verify"), "{text}");
}

fn import_once_and_drift() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("r.sqlite");
    let store = store.to_str().unwrap();
    let zone = repo("tests/data/small-root.zone");
    let next = repo("tests/data/small-root-next.zone");
    let (zone, next) = (zone.to_str().unwrap(), next.to_str().unwrap());
    let op = crate::support::operator_args(dir.path());
    let op: Vec<&str> = op.iter().map(String::as_str).collect();
    let unverified = run(&[&["--store", store, "import", "--root-zone", zone], &op[..]].concat());
    assert_eq!(unverified.status.code(), Some(3), "{}", stderr(&unverified));
    assert!(
        stderr(&unverified).contains("docs/RULES.md#authentic-root-zone"),
        "{}",
        stderr(&unverified)
    );
    let out = run(&[
        &[
            "--store",
            store,
            "import",
            "--no-verify",
            "--root-zone",
            zone,
        ],
        &op[..],
    ]
    .concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let again = run(&[
        &[
            "--store",
            store,
            "import",
            "--no-verify",
            "--root-zone",
            zone,
        ],
        &op[..],
    ]
    .concat());
    assert_eq!(again.status.code(), Some(3));
    assert!(
        stderr(&again).contains("already seeded"),
        "{}",
        stderr(&again)
    );

    let same = run(&["--store", store, "drift", "--root-zone", zone]);
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
    assert_eq!(stdout(&same).trim(), "[]");
    let d = run(&["--store", store, "drift", "--root-zone", next]);
    assert_eq!(d.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&d)).unwrap();
    let kinds: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["drift"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["changed", "missing", "not-approved"], "{v}");
    assert_eq!(v[0]["change"]["ns_added"], serde_json::json!(["ns3.xa."]));
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::sync(
            "cli::demo_lab_check_json_has_the_documented_schema_and_exit_status",
            demo_lab_check_json_has_the_documented_schema_and_exit_status,
        ),
        crate::support::sync(
            "cli::bad_input_exits_3_naming_the_input_and_the_rule",
            bad_input_exits_3_naming_the_input_and_the_rule,
        ),
        crate::support::sync("cli::zone_summary_and_diff", zone_summary_and_diff),
        crate::support::sync(
            "cli::real_zone_pair_diff_and_2018_summary",
            real_zone_pair_diff_and_2018_summary,
        ),
        crate::support::sync("cli::import_once_and_drift", import_once_and_drift),
    ]
}
