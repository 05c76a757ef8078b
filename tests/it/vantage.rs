//! Several vantage points over real sockets, decided by the quorum rule
//! (`docs/RULES.md#quorum`). First four probers in process, each bound to
//! its own source address, against a lab whose servers drop queries from
//! some sources (`drop_from`), decided by `policy::quorum::decide`. Then
//! the real thing: `rootguard serve` (its own probe from 127.0.0.2) and
//! two `rootguard vantage` processes (127.0.0.3, 127.0.0.4), registered
//! with their own keys, against a lab whose faults the test changes while
//! they run: (1) silent for one vantage only: findings for it, no threat,
//! no complaint, no suspension; (2) silent for all: threat, complaint,
//! suspension, lifted when the servers return; (3) one vantage cut off
//! from everything: impaired, nothing changes; (4) a vantage killed with
//! SIGKILL mid-sweep: the other two go on deciding.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::*;
use rootguard::checks::ThreatKind;
use rootguard::checks::report::CheckOptions;
use rootguard::policy::quorum::{Observation, WindowDecision, decide, majority};

/// Each vantage's observations of `tlds` in the lab `dir`.
async fn observe(
    dir: &std::path::Path,
    tlds: &[String],
    sources: &[&str],
) -> BTreeMap<String, BTreeMap<String, Observation>> {
    let mut views = BTreeMap::new();
    for source in sources {
        let mut probe = test_probe();
        probe.source = Some(source.parse().unwrap());
        let opts = CheckOptions {
            tlds: tlds.to_vec(),
            probe,
            ..Default::default()
        };
        let report = rootguard::lab::check_in_lab(dir, opts).await.unwrap();
        let seen: BTreeMap<String, Observation> = report
            .tlds
            .iter()
            .filter_map(|t| Some((t.tld.clone(), Observation::of(t)?)))
            .collect();
        views.insert(source.to_string(), seen);
    }
    views
}

async fn three_vantages_decide_by_quorum() {
    // 20 ccTLDs: .onepath is silent for vantage 127.0.0.2 only, .allquiet
    // for everyone; 127.0.0.5 is cut off from every server.
    let mut root = RootZone::new();
    let mut names: Vec<String> = vec!["onepath".into(), "allquiet".into()];
    names.extend((0..18).map(|i| format!("ok{i}")));
    let mut lab = String::new();
    for (i, n) in names.iter().enumerate() {
        let a = format!("127.70.{}.1", i + 1);
        let b = format!("127.71.{}.1", i + 1);
        root = root.tld(n, &[("ns1", &a), ("ns2", &b)]);
        for host in ["ns1", "ns2"] {
            let drop: &[&str] = match n.as_str() {
                "onepath" => &["127.0.0.2", "127.0.0.5"],
                _ => &["127.0.0.5"],
            };
            lab.push_str(&format!(
                "[server.\"{host}.{n}.\"]\ndrop_from = {drop:?}\nsilent = {}\n",
                n == "allquiet"
            ));
        }
    }
    let profile = "name = \"vantage lab\"\ndisable = [\"ADDRESS-SCOPE\"]\n";
    let (dir, _port) = lab_dir(&root, &lab, Some(profile));
    let views = observe(
        dir.path(),
        &names,
        &["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"],
    )
    .await;
    let sees = |v: &str, t: &str| views[v][t].threat;
    assert_eq!(sees("127.0.0.2", "onepath"), Some(ThreatKind::TotalOutage));
    assert_eq!(sees("127.0.0.3", "onepath"), None);
    assert_eq!(sees("127.0.0.5", "ok3"), Some(ThreatKind::TotalOutage));

    // (1) and (2): three healthy vantages, quorum a majority (2).
    let three: BTreeMap<_, _> = views
        .iter()
        .filter(|(v, _)| *v != "127.0.0.5")
        .map(|(v, m)| (v.clone(), m.clone()))
        .collect();
    let quorum = majority(3);
    let WindowDecision::Decided { tlds, impaired } = decide(&three, quorum, &BTreeSet::new())
    else {
        panic!("three healthy vantages decide")
    };
    assert_eq!(
        tlds["onepath"].threat, None,
        "no suspension on one network's word"
    );
    assert!(
        tlds["onepath"].families.is_empty(),
        "no finding counts either"
    );
    assert_eq!(tlds["allquiet"].threat, Some(ThreatKind::TotalOutage));
    assert!(impaired.is_empty());

    // (3): one vantage cut off from everything is impaired; nothing
    // changes for any ccTLD.
    let cut: BTreeMap<_, _> = views
        .iter()
        .filter(|(v, _)| *v != "127.0.0.2")
        .map(|(v, m)| (v.clone(), m.clone()))
        .collect();
    let WindowDecision::Decided { tlds, impaired } = decide(&cut, quorum, &BTreeSet::new()) else {
        panic!("decided")
    };
    assert_eq!(impaired, BTreeSet::from(["127.0.0.5".to_string()]));
    assert!(
        names
            .iter()
            .filter(|n| *n != "allquiet")
            .all(|n| tlds[n.as_str()].threat.is_none())
    );

    // (4): a vantage gone (killed): the other two still make the quorum;
    // with one left, nothing is decided.
    let two: BTreeMap<_, _> = three
        .iter()
        .filter(|(v, _)| *v != "127.0.0.4")
        .map(|(v, m)| (v.clone(), m.clone()))
        .collect();
    assert!(matches!(
        decide(&two, quorum, &BTreeSet::new()),
        WindowDecision::Decided { .. }
    ));
    let one: BTreeMap<_, _> = two
        .iter()
        .filter(|(v, _)| *v == "127.0.0.3")
        .map(|(v, m)| (v.clone(), m.clone()))
        .collect();
    assert!(matches!(
        decide(&one, quorum, &BTreeSet::new()),
        WindowDecision::Undecided { .. }
    ));
}

const OP: &str = "vantage-test-operator-token";

async fn get_json(base: &str, path: &str) -> serde_json::Value {
    let r = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(OP)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {body}");
    serde_json::from_str(&body).unwrap()
}

async fn get_text(base: &str, path: &str) -> String {
    reqwest::get(format!("{base}{path}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn wait_for(what: &str, secs: u64, mut f: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("timed out after {secs} s waiting for {what}");
}

/// The logs of the vantages in `dir`, for a failure's message.
fn vantage_logs(dir: &std::path::Path) -> String {
    ["vb", "vc", "daemon"]
        .iter()
        .map(|v| {
            let log = std::fs::read_to_string(dir.join(format!("{v}.log"))).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            format!("{v}: {}", tail.join(" | "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The technical state of `tld`: its suspension state (or "none") and
/// whether its reachability complaint is open.
async fn state(base: &str, tld: &str) -> (String, bool, serde_json::Value) {
    let v = get_json(base, &format!("/api/v1/tlds/{tld}")).await;
    let t = &v["technical"];
    let suspension = t["suspension"]["state"]
        .as_str()
        .unwrap_or("none")
        .to_string();
    let open = t["tracks"]["reachability"]["state"] == "open";
    (suspension, open, v["vantages"].clone())
}

/// The latest window: per vantage {at, counted, impaired, ...}.
async fn window(base: &str) -> serde_json::Value {
    get_json(base, "/api/v1/vantages").await
}

/// Waits for `n` more windows with reports of every vantage in `reporting`.
async fn windows_with(base: &str, dir: &std::path::Path, reporting: &[&str], n: usize) {
    let mut seen = 0;
    let mut polls = 0u32;
    let mut last = serde_json::Value::Null;
    wait_for(&format!("{n} windows with {reporting:?}"), 60, async || {
        let w = window(base).await["latest_window"].clone();
        if w != last && reporting.iter().all(|v| !w[*v]["at"].is_null()) {
            seen += 1;
        }
        polls += 1;
        if w != last || polls.is_multiple_of(40) {
            eprintln!("window: {w}\n{}", vantage_logs(dir));
        }
        last = w;
        seen >= n
    })
    .await;
}

/// A `rootguard vantage` child process, killed when dropped.
pub(crate) struct VantageProcess(std::process::Child);

impl Drop for VantageProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn start_vantage(config: &std::path::Path) -> VantageProcess {
    let log = std::fs::File::create(config.with_extension("log")).unwrap();
    VantageProcess(
        std::process::Command::new(env!("CARGO_BIN_EXE_rootguard"))
            .args(["vantage", "--config"])
            .arg(config)
            .env_remove("ROOTGUARD_STORE")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

async fn three_vantage_processes_and_the_daemon_decide_by_quorum() {
    use rootguard::lab::{Faults, Lab, load_dir};
    // Two name servers each.
    // Twelve: one ccTLD of twelve is within the tenth a vantage may differ on.
    let names = [
        "xo", "xq", "xa", "xb", "xc", "xd", "xe", "xf", "xg", "xh", "xi", "xj",
    ];
    let mut root = RootZone::new();
    for (i, n) in names.iter().enumerate() {
        root = root.tld(
            n,
            &[
                ("ns1", &format!("127.72.{}.1", i + 1)),
                ("ns2", &format!("127.73.{}.1", i + 1)),
            ],
        );
    }
    // (1) .xo's servers lose the queries of vantage b (127.0.0.3).
    let lab_toml = "[server.\"ns1.xo.\"]\ndrop_from = [\"127.0.0.3\"]\n[server.\"ns2.xo.\"]\ndrop_from = [\"127.0.0.3\"]\n";
    let (dir, port) = lab_dir(&root, lab_toml, None);
    let (spec, zone) = load_dir(dir.path()).unwrap();
    let lab = Lab::start(spec, &zone).await.unwrap();
    let d = dir.path();
    std::fs::write(d.join("profile.toml"), "disable = [\"ADDRESS-SCOPE\"]\n").unwrap();
    let probe = |source: &str| {
        format!(
            "[probe]\nport = {port}\nsource = \"{source}\"\nudp_timeout_ms = 400\nudp_retries = 1\ntcp_timeout_ms = 500\n[sweep]\ninterval_secs = 2\n"
        )
    };
    let config = d.join("rootguard.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{store}\"\nprofile = \"{profile}\"\n[zone]\nfile = \"{zone}\"\n{probe}[policy]\npersist_sweeps = 2\nclear_sweeps = 2\nauto_suspend = true\n[http]\nlisten = \"127.0.0.1:0\"\n[[http.tokens]]\nname = \"op\"\nsha256 = \"{op}\"\nrole = \"operator\"\n",
            store = d.join("record.sqlite").display(),
            profile = d.join("profile.toml").display(),
            zone = d.join("root.zone").display(),
            probe = probe("127.0.0.2"),
            op = rootguard::http::auth::token_hash(OP),
        ),
    )
    .unwrap();
    let daemon = start_daemon_logged(&config, Some(&d.join("daemon.log")));
    let base = daemon.base.clone();

    // Two vantages, registered by the operator with their own keys.
    let client = reqwest::Client::new();
    let mut vantages = Vec::new();
    for (name, source) in [("vb", "127.0.0.3"), ("vc", "127.0.0.4")] {
        let (key, public) = crate::support::key(d, name);
        let r = client
            .post(format!("{base}/api/v1/actions"))
            .bearer_auth(OP)
            .body(
                serde_json::json!({"action": "identity-register", "id": name, "kind": "vantage",
                       "person": format!("vantage {name}"), "key": public})
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
        let file = d.join(format!("{name}.toml"));
        std::fs::write(
            &file,
            format!(
                "profile = \"{profile}\"\n{probe}[vantage]\ndaemon = \"{base}\"\nkey = \"{key}\"\n",
                profile = d.join("profile.toml").display(),
                probe = probe(source),
                key = key.display(),
            ),
        )
        .unwrap();
        vantages.push(file);
    }
    let _vb = start_vantage(&vantages[0]);
    let vc = start_vantage(&vantages[1]);
    let mut vb = Some(_vb);
    let w = window(&base).await;
    assert_eq!(w["quorum"], 2, "a majority of three: {w}");

    // (1) Silent for vb only: vb reports it, the quorum does not.
    windows_with(&base, d, &["rootguard", "vb", "vc"], 3).await;
    let (suspension, open, seen) = state(&base, "xo").await;
    assert_eq!(suspension, "none", "no suspension on one network's word");
    assert!(!open, "no complaint on one network's word");
    assert_eq!(seen["vb"]["threat"], "total-outage", "{seen}");
    assert!(!seen["vb"]["findings"]["reachability"].is_null(), "{seen}");
    assert!(seen["vc"]["threat"].is_null(), "{seen}");
    assert!(seen["rootguard"]["threat"].is_null(), "{seen}");
    let w = window(&base).await;
    for v in ["rootguard", "vb", "vc"] {
        assert_eq!(w["latest_window"][v]["impaired"], false, "{w}");
    }
    let metrics = get_text(&base, "/metrics").await;
    assert!(
        metrics.contains("rootguard_nameserver_up{address=\"127.72.1.1\",host=\"ns1.xo.\",tld=\"xo\",transport=\"udp\",vantage=\"vb\"} 0"),
        "per-vantage name server metrics"
    );
    assert!(metrics.contains("rootguard_nameserver_up{address=\"127.72.1.1\",host=\"ns1.xo.\",tld=\"xo\",transport=\"udp\",vantage=\"vc\"} 1"));

    // (2) Silent for all: threat, complaint, suspension; lifted when the
    // servers return.
    let silent = Faults {
        silent: true,
        ..Faults::default()
    };
    lab.set_faults("ns1.xq.", silent.clone());
    lab.set_faults("ns2.xq.", silent.clone());
    wait_for("xq suspended", 60, async || {
        state(&base, "xq").await.0 == "active"
    })
    .await;
    assert!(state(&base, "xq").await.1, "complaint open");
    lab.set_faults("ns1.xq.", Faults::default());
    lab.set_faults("ns2.xq.", Faults::default());
    wait_for("xq lifted", 60, async || {
        state(&base, "xq").await.0 == "none"
    })
    .await;

    // (3) vc cut off from everything: impaired, nothing changes.
    let events_before = get_json(&base, "/api/v1/suspensions").await;
    let cut = |extra: &[&str]| Faults {
        drop_from: std::iter::once("127.0.0.4")
            .chain(extra.iter().copied())
            .map(|a| a.parse().unwrap())
            .collect(),
        ..Faults::default()
    };
    for n in names {
        let extra: &[&str] = if n == "xo" { &["127.0.0.3"] } else { &[] };
        lab.set_faults(&format!("ns1.{n}."), cut(extra));
        lab.set_faults(&format!("ns2.{n}."), cut(extra));
    }
    wait_for("vc impaired", 60, async || {
        window(&base).await["latest_window"]["vc"]["impaired"] == true
    })
    .await;
    windows_with(&base, d, &["rootguard", "vb", "vc"], 3).await;
    for n in names {
        let (suspension, open, _) = state(&base, n).await;
        assert_eq!(suspension, "none", ".{n}: nothing changes");
        assert!(!open, ".{n}: no complaint");
    }
    assert_eq!(get_json(&base, "/api/v1/suspensions").await, events_before);
    let w = window(&base).await;
    assert!(
        w["quorum_lost_since"].is_null(),
        "the other two decide: {w}"
    );
    let metrics = get_text(&base, "/metrics").await;
    assert!(
        metrics.contains("rootguard_vantage_impaired{vantage=\"vc\"} 1"),
        "{metrics}"
    );
    let page = get_text(&base, "/").await;
    assert!(page.contains("vantage vc impaired"), "page banner");
    // It agrees again once its paths return.
    for n in names {
        let f = if n == "xo" {
            cut(&["127.0.0.3"])
        } else {
            Faults::default()
        };
        let f = Faults {
            drop_from: f
                .drop_from
                .into_iter()
                .filter(|a| a.to_string() != "127.0.0.4")
                .collect(),
            ..f
        };
        lab.set_faults(&format!("ns1.{n}."), f.clone());
        lab.set_faults(&format!("ns2.{n}."), f);
    }
    wait_for("vc healthy again", 60, async || {
        window(&base).await["latest_window"]["vc"]["impaired"] == false
    })
    .await;

    // (4) vb killed with SIGKILL mid-sweep: the guard and vc go on, and
    // a threat they both see is still acted on.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    if let Some(mut p) = vb.take() {
        p.0.kill().unwrap();
        p.0.wait().unwrap();
        std::mem::forget(p);
    }
    lab.set_faults("ns1.xq.", silent.clone());
    lab.set_faults("ns2.xq.", silent);
    wait_for("xq suspended by two of three", 60, async || {
        state(&base, "xq").await.0 == "active"
    })
    .await;
    let w = window(&base).await;
    assert!(
        w["latest_window"]["vb"]["at"].is_null(),
        "vb is silent: {w}"
    );
    assert!(w["quorum_lost_since"].is_null(), "{w}");
    drop(vc);
    drop(daemon);
    lab.shutdown().await;
}

/// POSTs `body` to `/api/v1/observations`: the status.
async fn post_observations(base: &str, body: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/observations"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Anyone may POST observations, each up to 8 MiB, before any signature
/// is checked: uploads in progress are bounded, so a flood of slow 8 MiB
/// bodies (1024 connections would hold 8 GiB) is refused before its
/// bodies are buffered.
async fn a_flood_of_observation_uploads_is_refused_before_it_is_buffered() {
    use std::io::Write;
    let root = RootZone::new().tld("xa", &[("ns1", "127.74.1.1"), ("ns2", "127.75.1.1")]);
    let (dir, port) = lab_dir(&root, "", None);
    let d = dir.path();
    std::fs::write(d.join("profile.toml"), "disable = [\"ADDRESS-SCOPE\"]\n").unwrap();
    let config = d.join("rootguard.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{store}\"\nprofile = \"{profile}\"\n[zone]\nfile = \"{zone}\"\n[probe]\nport = {port}\nudp_timeout_ms = 300\nudp_retries = 1\ntcp_timeout_ms = 400\n[http]\nlisten = \"127.0.0.1:0\"\n[[http.tokens]]\nname = \"op\"\nsha256 = \"{op}\"\nrole = \"operator\"\n",
            store = d.join("record.sqlite").display(),
            profile = d.join("profile.toml").display(),
            zone = d.join("root.zone").display(),
            op = rootguard::http::auth::token_hash(OP),
        ),
    )
    .unwrap();
    let daemon = start_daemon(&config);
    let base = daemon.base.clone();
    let addr = base.trim_start_matches("http://").to_string();
    assert_ne!(post_observations(&base, "{}").await, 503);
    // Slow uploads of 8 MB each, a few bytes sent, held open.
    let mut held = Vec::new();
    for _ in 0..rootguard::app::window::MAX_UPLOADS {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "POST /api/v1/observations HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 8000000\r\n\r\n{{\"note\": \""
        )
        .unwrap();
        s.write_all(&[b'x'; 4096]).unwrap();
        held.push(s);
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        post_observations(&base, "{}").await,
        503,
        "one more upload is refused before its body is read"
    );
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200,
        "the rest of the API answers"
    );
    drop(held);
    wait_for("upload slots freed", 10, async || {
        post_observations(&base, "{}").await != 503
    })
    .await;
    drop(daemon);
}

/// A vantage that cannot work refuses to start, naming the setting: no
/// daemon, no key, a source address that is not this machine's.
fn a_vantage_without_what_it_needs_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = crate::support::key(dir.path(), "vb");
    let run = |toml: String| {
        let file = dir.path().join("v.toml");
        std::fs::write(&file, toml).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rootguard"))
            .args(["vantage", "--once", "--config"])
            .arg(&file)
            .env_remove("ROOTGUARD_STORE")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let key = key.display();
    let (code, err) = run(format!("[vantage]\nkey = \"{key}\"\n"));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("vantage.daemon"), "{err}");
    let (code, err) = run("[vantage]\ndaemon = \"http://127.0.0.1:9\"\n".into());
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("vantage.key"), "{err}");
    let (code, err) = run(format!(
        "[vantage]\ndaemon = \"ftp://127.0.0.1:9\"\nkey = \"{key}\"\n"
    ));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("not an http"), "{err}");
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: the bind
    // fails before anything is sent.
    let (code, err) = run(format!(
        "[vantage]\ndaemon = \"http://127.0.0.1:9\"\nkey = \"{key}\"\n[probe]\nsource = \"192.0.2.1\"\n"
    ));
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("probe.source = 192.0.2.1"), "{err}");
    // The daemon unreachable: a failure of this machine's round, exit 4.
    let (code, err) = run(format!(
        "[vantage]\ndaemon = \"http://127.0.0.1:9\"\nkey = \"{key}\"\n"
    ));
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("127.0.0.1:9/api/v1/audit/key"), "{err}");
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::sync(
            "vantage::a_vantage_without_what_it_needs_refuses_to_start",
            a_vantage_without_what_it_needs_refuses_to_start,
        ),
        crate::support::asynch(
            "vantage::three_vantages_decide_by_quorum",
            three_vantages_decide_by_quorum,
        ),
        crate::support::asynch(
            "vantage::three_vantage_processes_and_the_daemon_decide_by_quorum",
            three_vantage_processes_and_the_daemon_decide_by_quorum,
        ),
        crate::support::asynch(
            "vantage::a_flood_of_observation_uploads_is_refused_before_it_is_buffered",
            a_flood_of_observation_uploads_is_refused_before_it_is_buffered,
        ),
    ]
}
